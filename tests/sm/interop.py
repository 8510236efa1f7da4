"""SM2 and SM3 with gmssl (pure Python, its own arithmetic), independently of Huxin's Rust code.

Usage: python interop.py CASES.json -- prints one JSON line. The same cases and answer as
interop.mjs, but gmssl verifies with the uncompressed key (`public_key_uncompressed`, 04 || x || y)
and reports the compressed form of the keys it derives. Signatures are over Z || message with the
default identifier 1234567812345678.
"""

import json
import sys

from gmssl import func, sm2, sm3


def compressed(uncompressed_xy: str) -> str:
    x, y = uncompressed_xy[:64], uncompressed_xy[64:]
    return ("02" if int(y, 16) % 2 == 0 else "03") + x


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    verified = []
    for case in cases["verify"]:
        key = sm2.CryptSM2(private_key=None, public_key=case["public_key_uncompressed"][2:])
        verified.append(bool(key.verify_with_sm3(case["signature"], bytes.fromhex(case["message"]))))
    signed = []
    for case in cases["sign"]:
        public = sm2.CryptSM2(private_key=None, public_key="")._kg(int(case["secret"], 16), sm2.default_ecc_table["g"])
        key = sm2.CryptSM2(private_key=case["secret"], public_key=public)
        signature = key.sign_with_sm3(bytes.fromhex(case["message"]))
        signed.append({"public_key": compressed(public), "signature": signature})
    hashes = [sm3.sm3_hash(func.bytes_to_list(bytes.fromhex(m))) for m in cases["sm3"]]
    print(json.dumps({"verified": verified, "signed": signed, "sm3": hashes}))


if __name__ == "__main__":
    main()
