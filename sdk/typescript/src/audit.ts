// A node's audit log of supervisor reads (查询留痕), checked here as `huxin audit check` checks it
// (crates/types/src/audit.rs): the sequence, the hash chain, every entry's hash and every
// supervisor's signature for the node that kept the log, then the ledger's anchors.

import type { components } from "./api.js";
import { encode } from "./codec.js";
import { Hash32, MemberId, PublicKey, Signature } from "./schema.js";
import { hashTagged, queryMessage, verifySignature } from "./sign.js";

export type AuditEntry = components["schemas"]["AuditEntry"];
/** An anchor of the log on the ledger: the hash the log had after entry `seq`. */
export type AuditAnchor = Pick<components["schemas"]["AuditAnchor"], "seq" | "head"> & { height?: number };
/** The node that kept the log: the chain and its node key, as `GET /v1/status` names them. */
export type Audience = { chainId: string; nodeKey: string };

const ENTRY = {
  struct: [
    ["seq", "u64"],
    ["time", "u64"],
    ["supervisor_key", PublicKey],
    ["member", MemberId],
    ["method", "string"],
    ["target", "string"],
    ["status", "u16"],
    ["result_count", "u64"],
    ["signed_time", "u64"],
    ["signature", Signature],
    ["prev_hash", Hash32],
  ],
} as const;

/** An entry's hash, in the supervisor key's suite: of `huxin/v1/audit` and every field but `hash`. */
export function auditEntryHash(entry: AuditEntry): string {
  const { hash: _, ...fields } = entry;
  return hashTagged(entry.supervisor_key, "huxin/v1/audit", encode(ENTRY, fields));
}

/** Whether the entry's supervisor signed its request for this node. */
export function auditEntrySigned(entry: AuditEntry, audience: Audience): boolean {
  const at = entry.target.indexOf("?");
  const [path, query] = at < 0 ? [entry.target, ""] : [entry.target.slice(0, at), entry.target.slice(at + 1)];
  const message = queryMessage(audience.chainId, audience.nodeKey, entry.method, path, query, entry.signed_time);
  return verifySignature(entry.supervisor_key, "huxin/v1/query", new TextEncoder().encode(message), entry.signature);
}

export type AuditVerdict = { ok: true; anchoredUpTo: number } | { ok: false; problem: string };

/**
 * Check a log from its first entry: each entry follows the one before and chains to it, its hash
 * is its contents', and its supervisor signed it for this node; then each anchor names an entry
 * of the log with the anchored hash. `anchoredUpTo` is the last anchored entry (0 for none).
 */
export function checkAuditLog(entries: AuditEntry[], anchors: AuditAnchor[], audience: Audience): AuditVerdict {
  let previous = "0".repeat(64);
  for (const [i, e] of entries.entries()) {
    if (e.seq !== i + 1) return { ok: false, problem: `entry ${i + 1} is missing (found ${e.seq})` };
    if (e.prev_hash !== previous) return { ok: false, problem: `entry ${e.seq} does not chain to entry ${e.seq - 1}` };
    let hash: string;
    try {
      hash = auditEntryHash(e);
    } catch (err) {
      return { ok: false, problem: `entry ${e.seq} is malformed: ${(err as Error).message}` };
    }
    if (hash !== e.hash) return { ok: false, problem: `entry ${e.seq} was edited` };
    if (!auditEntrySigned(e, audience)) {
      return { ok: false, problem: `entry ${e.seq} carries no valid signature for this node: made up` };
    }
    previous = e.hash;
  }
  let anchoredUpTo = 0;
  for (const a of anchors) {
    const entry = entries[a.seq - 1];
    if (entry === undefined) return { ok: false, problem: `the ledger anchors entry ${a.seq}, which the log lacks` };
    if (entry.hash !== a.head) {
      const where = a.height === undefined ? "" : ` at height ${a.height}`;
      return { ok: false, problem: `entry ${a.seq} differs from its anchor${where}` };
    }
    anchoredUpTo = Math.max(anchoredUpTo, a.seq);
  }
  return { ok: true, anchoredUpTo };
}
