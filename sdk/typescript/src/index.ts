export { encode, EncodeError, bytesToHex, hexToBytes } from "./codec.js";
export type { Schema } from "./codec.js";
export * as schema from "./schema.js";
export { bodyBytes, publicKey, queryMessage, signingInput, signQuery, signTx, txHash } from "./sign.js";
export type { SignedSubmission, TxBodyJson } from "./sign.js";
export { AnswerError, ApiError, BATCH_TXS_MAX, EXPIRY_HEIGHTS, HuxinClient, PAGE_LIMIT, query, TimeoutError } from "./client.js";
export type { BatchAnswer, BatchResult, Filters, Read, Schemas, TxStatus } from "./client.js";
export { checked } from "./answers.js";
export type { components, paths } from "./api.js";
