export { encode, EncodeError, bytesToHex, hexToBytes } from "./codec.js";
export type { Schema } from "./codec.js";
export * as schema from "./schema.js";
export { bodyBytes, publicKey, queryMessage, signingInput, signQuery, signTx, txHash } from "./sign.js";
export type { SignedSubmission, TxBodyJson } from "./sign.js";
export { AnswerError, ApiError, EXPIRY_HEIGHTS, HuxinClient, TimeoutError } from "./client.js";
export type { Schemas, TxStatus } from "./client.js";
export type { components, paths } from "./api.js";
