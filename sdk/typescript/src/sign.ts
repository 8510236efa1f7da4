// Hashes and signatures as the Rust core makes them (sdk/vectors/ENCODING.md), in either suite:
// ed25519 (a secret key is 64 hex digits) or SM2 with the default user id (`sm2:` and 64 hex
// digits, as in a Huxin key file; public keys are compressed points, 66 hex digits).

import * as ed from "@noble/ed25519";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { sm2, sm3 } from "sm-crypto-v2";

import { bytesToHex, encode, EncodeError, hexToBytes } from "./codec.js";
import { TxBody } from "./schema.js";

ed.hashes.sha512 = sha512;

const utf8 = (text: string) => new TextEncoder().encode(text);

/** What a key signs for a domain: the tag, a zero byte, the message. */
export function signingInput(tag: string, message: Uint8Array): Uint8Array {
  const t = utf8(tag);
  const out = new Uint8Array(t.length + 1 + message.length);
  out.set(t, 0);
  out.set(message, t.length + 1);
  return out;
}

/** A secret key of either suite, from its key-file form. */
type Secret = { suite: "ed25519"; bytes: Uint8Array } | { suite: "sm2"; hex: string; publicKey: string };

const SM2_PREFIX = "sm2:";

function secret(secretKeyHex: string): Secret {
  const sm2Hex = secretKeyHex.startsWith(SM2_PREFIX) ? secretKeyHex.slice(SM2_PREFIX.length) : undefined;
  const hex = sm2Hex ?? secretKeyHex;
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new EncodeError("secret_key", "expected 32 bytes as lowercase hex, for SM2 after sm2:");
  }
  if (sm2Hex === undefined) return { suite: "ed25519", bytes: hexToBytes(hex, "secret_key") };
  const n = BigInt(`0x${hex}`);
  // A scalar in [1, n − 2] of the SM2 curve's order n, as the Rust core requires.
  if (n < 1n || n > 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54121n) {
    throw new EncodeError("secret_key", "an SM2 secret key must be a scalar in [1, n − 2]");
  }
  const uncompressed = sm2.getPublicKeyFromPrivateKey(hex);
  return { suite: "sm2", hex, publicKey: uncompressed };
}

function publicOf(key: Secret): string {
  return key.suite === "ed25519" ? bytesToHex(ed.getPublicKey(key.bytes)) : sm2.compressPublicKeyHex(key.publicKey);
}

/** Sign `message` for the domain `tag`: ed25519, or SM2 over Z ‖ input (default user id), r ‖ s. */
function signIn(key: Secret, tag: string, message: Uint8Array): string {
  const input = signingInput(tag, message);
  if (key.suite === "ed25519") return bytesToHex(ed.sign(input, key.bytes));
  return sm2.doSignature(input, key.hex, { hash: true, der: false, publicKey: key.publicKey });
}

/**
 * Whether `signatureHex` is `publicKeyHex`'s signature of `message` for the domain `tag`, in the
 * key's suite (its length says which: 64 hex digits ed25519, 66 SM2). False for anything
 * malformed, never an exception.
 */
export function verifySignature(publicKeyHex: string, tag: string, message: Uint8Array, signatureHex: string): boolean {
  if (!/^[0-9a-f]{128}$/.test(signatureHex)) return false;
  const input = signingInput(tag, message);
  try {
    if (/^[0-9a-f]{64}$/.test(publicKeyHex)) {
      // RFC 8032's strict branch, as the core's `verify_strict` (no ZIP-215 leniency).
      return ed.verify(hexToBytes(signatureHex), input, hexToBytes(publicKeyHex), { zip215: false });
    }
    if (/^0[23][0-9a-f]{64}$/.test(publicKeyHex)) {
      return sm2.doVerifySignature(input, signatureHex, publicKeyHex, { hash: true, der: false });
    }
  } catch {
    // An off-curve point or a scalar out of range: not a signature.
  }
  return false;
}

/**
 * The hash, in the suite of the key `suiteKeyHex` (SHA-256 for ed25519, SM3 for SM2), of the
 * domain tag followed directly by `bytes`: how the core hashes what a key's suite decides.
 */
export function hashTagged(suiteKeyHex: string, tag: string, bytes: Uint8Array): string {
  const t = utf8(tag);
  const input = new Uint8Array(t.length + bytes.length);
  input.set(t, 0);
  input.set(bytes, t.length);
  return suiteKeyHex.length === 66 ? sm3(input) : bytesToHex(sha256(input));
}

/** The public key of a secret key (ed25519: 64 hex digits; SM2: 66, a compressed point). */
export function publicKey(secretKeyHex: string): string {
  return publicOf(secret(secretKeyHex));
}

/** A transaction body in its JSON form (chain_id, signer, nonce, expiry, action). */
export type TxBodyJson = {
  chain_id: string;
  signer: string;
  nonce: number | bigint;
  expiry: { height: number | bigint } | { time: number | bigint };
  action: Record<string, unknown> | string;
};

export function bodyBytes(body: TxBodyJson): Uint8Array {
  return encode(TxBody, body);
}

/**
 * The hash of `huxin/v1/txhash` and the body's bytes, hex, in the signer's suite: SHA-256 for an
 * ed25519 signer (64 hex digits), SM3 for an SM2 one (66).
 */
export function txHash(body: TxBodyJson): string {
  return hashTagged(body.signer, "huxin/v1/txhash", bodyBytes(body));
}

/** A signed transaction: what `POST /v1/txs` takes, and its hash. */
export type SignedSubmission = { payload: string; public_key: string; signature: string; tx_hash: string };

/** Sign `body` with the signer's secret key, which must be the body's signer. */
export function signTx(body: TxBodyJson, secretKeyHex: string): SignedSubmission {
  const key = secret(secretKeyHex);
  const signer = publicOf(key);
  if (signer !== body.signer) throw new EncodeError("signer", `the body's signer is ${body.signer}, the key's ${signer}`);
  const bytes = bodyBytes(body);
  const signature = signIn(key, "huxin/v1/tx", bytes);
  return { payload: bytesToHex(bytes), public_key: signer, signature, tx_hash: txHash(body) };
}

/** The text a supervisor signs for a query to one node. */
export function queryMessage(
  chainId: string,
  nodeKey: string,
  method: string,
  path: string,
  query: string,
  timeMs: number,
): string {
  return [chainId, nodeKey, method, path, query, String(timeMs)].join("\n");
}

/** The three headers of a signed query. */
export function signQuery(
  secretKeyHex: string,
  audience: { chainId: string; nodeKey: string },
  method: string,
  path: string,
  query: string,
  timeMs: number,
): Record<string, string> {
  const key = secret(secretKeyHex);
  const message = utf8(queryMessage(audience.chainId, audience.nodeKey, method, path, query, timeMs));
  return {
    "x-huxin-key": publicOf(key),
    "x-huxin-signature": signIn(key, "huxin/v1/query", message),
    "x-huxin-time": String(timeMs),
  };
}
