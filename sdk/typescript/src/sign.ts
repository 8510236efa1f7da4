// Hashes and ed25519 signatures as the Rust core makes them (sdk/vectors/ENCODING.md).

import * as ed from "@noble/ed25519";
import { sha256, sha512 } from "@noble/hashes/sha2.js";

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

function secret(secretKeyHex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(secretKeyHex)) throw new EncodeError("secret_key", "expected 32 bytes as lowercase hex");
  return hexToBytes(secretKeyHex, "secret_key");
}

export function publicKey(secretKeyHex: string): string {
  return bytesToHex(ed.getPublicKey(secret(secretKeyHex)));
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

/** SHA-256 of `huxin/v1/txhash` and the body's bytes, hex. */
export function txHash(body: TxBodyJson): string {
  const bytes = bodyBytes(body);
  const tag = utf8("huxin/v1/txhash");
  const input = new Uint8Array(tag.length + bytes.length);
  input.set(tag, 0);
  input.set(bytes, tag.length);
  return bytesToHex(sha256(input));
}

/** A signed transaction: what `POST /v1/txs` takes, and its hash. */
export type SignedSubmission = { payload: string; public_key: string; signature: string; tx_hash: string };

/** Sign `body` with the signer's secret key, which must be the body's signer. */
export function signTx(body: TxBodyJson, secretKeyHex: string): SignedSubmission {
  const key = secret(secretKeyHex);
  const signer = bytesToHex(ed.getPublicKey(key));
  if (signer !== body.signer) throw new EncodeError("signer", `the body's signer is ${body.signer}, the key's ${signer}`);
  const bytes = bodyBytes(body);
  const signature = bytesToHex(ed.sign(signingInput("huxin/v1/tx", bytes), key));
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
    "x-huxin-key": bytesToHex(ed.getPublicKey(key)),
    "x-huxin-signature": bytesToHex(ed.sign(signingInput("huxin/v1/query", message), key)),
    "x-huxin-time": String(timeMs),
  };
}
