// SM2 and SM3 with sm-crypto (JuneAndGreen/sm-crypto, its own big-integer arithmetic), independently
// of Huxin's Rust code. Usage: node interop.mjs CASES.json — prints one JSON line.
// CASES: {verify: [{public_key, message, signature}], sign: [{secret, message}], sm3: [message]},
// every value hex; public keys are SEC1 compressed (33 bytes), signatures r ‖ s (64 bytes).
// Output: {verified: [bool], signed: [{public_key, signature}], sm3: [hex]}.
// Signatures are over Z ‖ message with the default identifier 1234567812345678 (hash: true).
import {readFile} from "node:fs/promises";
import smCrypto from "sm-crypto";

const {sm2, sm3} = smCrypto;
const bytes = (hex) => Array.from(Buffer.from(hex, "hex"));
const cases = JSON.parse(await readFile(process.argv[2], "utf8"));

const verified = cases.verify.map(({public_key, message, signature}) =>
  sm2.doVerifySignature(bytes(message), signature, public_key, {hash: true, der: false}));
const signed = cases.sign.map(({secret, message}) => {
  const publicKey = sm2.getPublicKeyFromPrivateKey(secret);
  const signature = sm2.doSignature(bytes(message), secret, {hash: true, der: false, publicKey});
  return {public_key: sm2.compressPublicKeyHex(publicKey), signature};
});
const hashes = cases.sm3.map((message) => sm3(bytes(message)));
console.log(JSON.stringify({verified, signed, sm3: hashes}));
