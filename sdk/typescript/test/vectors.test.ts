// The SDK against the Rust core's golden vectors (sdk/vectors): every transaction kind's bytes,
// signature and hash, and the signed queries.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { sm2 } from "sm-crypto-v2";

import {
  AnswerError, auditEntryHash, bodyBytes, bytesToHex, checkAuditLog, checked, encode, EncodeError, publicKey, schema, signingInput,
  signQuery, signTx, txHash, verifySignature, type AuditAnchor, type AuditEntry, type TxBodyJson,
} from "../src/index.js";
// @ts-expect-error: a plain ES module without types (it writes src/openapi.ts)
import { document } from "../../scripts/document.mjs";

const vectors = (name: string) =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../../../vectors/${name}`, import.meta.url)), "utf8"));

test("every transaction vector: body bytes, signature, hash and signed bytes", () => {
  const txs = vectors("transactions.json");
  assert.equal(txs.length >= 21, true);
  for (const v of txs) {
    const body = v.body as TxBodyJson;
    assert.equal(bytesToHex(bodyBytes(body)), v.body_hex, v.name);
    const signed = signTx(body, v.secret_key);
    assert.equal(signed.signature, v.signature, v.name);
    assert.equal(signed.tx_hash, v.tx_hash, v.name);
    assert.equal(txHash(body), v.tx_hash, v.name);
    assert.equal(`${v.body_hex}40${v.signature}`, v.signed_tx_hex, v.name);
  }
});

test("every signed query vector: headers", () => {
  for (const v of vectors("queries.json")) {
    const headers = signQuery(v.secret_key, { chainId: v.chain_id, nodeKey: v.node_key }, v.method, v.path, v.query, v.time);
    assert.deepEqual(headers, v.headers, v.name);
  }
});

test("SM2 vectors: the same key, bytes and hash; Huxin's signatures verify here and ours verify too", () => {
  const v = vectors("sm2.json");
  assert.equal(publicKey(v.secret_key), v.public_key);
  const verifies = (input: Uint8Array, signature: string) =>
    sm2.doVerifySignature(input, signature, v.public_key, { hash: true, der: false });
  const tamper = (signature: string) => `${signature.slice(0, -2)}${signature.endsWith("00") ? "01" : "00"}`;
  for (const t of v.transactions) {
    const signed = signTx(t.body as TxBodyJson, v.secret_key);
    assert.equal(signed.payload, t.body_hex, t.name);
    assert.equal(signed.public_key, v.public_key, t.name);
    assert.equal(signed.tx_hash, t.tx_hash, t.name);
    const input = signingInput("huxin/v1/tx", bodyBytes(t.body as TxBodyJson));
    assert.equal(bytesToHex(input), t.sign_input_hex, t.name);
    assert.ok(verifies(input, t.signature), `${t.name}: Huxin's signature`);
    assert.ok(verifies(input, signed.signature), `${t.name}: ours`);
    assert.ok(!verifies(input, tamper(signed.signature)), `${t.name}: a changed signature`);
  }
  for (const q of v.queries) {
    const headers = signQuery(v.secret_key, { chainId: q.chain_id, nodeKey: q.node_key }, q.method, q.path, q.query, q.time);
    assert.equal(headers["x-huxin-key"], v.public_key);
    const input = signingInput("huxin/v1/query", new TextEncoder().encode(q.message));
    assert.ok(verifies(input, q.headers["x-huxin-signature"]), "Huxin's query signature");
    assert.ok(verifies(input, headers["x-huxin-signature"]), "ours");
  }
  assert.throws(() => publicKey(`sm2:${"00".repeat(32)}`), EncodeError);
  assert.throws(() => publicKey(`sm2:${"ff".repeat(32)}`), EncodeError);
  assert.throws(() => publicKey("sm2:12"), EncodeError);
});

test("audit log vectors in both suites: every hash and signature checks, and edits are caught", () => {
  const logs = vectors("audit.json");
  assert.deepEqual(Object.keys(logs).sort(), ["ed25519", "sm2"]);
  for (const [suite, log] of Object.entries(logs) as Array<[string, { chain_id: string; node_key: string; entries: AuditEntry[] }]>) {
    const audience = { chainId: log.chain_id, nodeKey: log.node_key };
    const entries = log.entries;
    assert.equal(entries.length, 2, suite);
    for (const e of entries) assert.equal(auditEntryHash(e), e.hash, `${suite} entry ${e.seq}`);
    const anchors = [{ seq: 2, head: entries[1].hash, height: 9 }];
    assert.deepEqual(checkAuditLog(entries, anchors, audience), { ok: true, anchoredUpTo: 2 }, suite);
    const problem = (log: AuditEntry[], anchored: AuditAnchor[] = anchors, who = audience) => {
      const verdict = checkAuditLog(log, anchored, who);
      return verdict.ok ? "intact" : verdict.problem;
    };
    const edited = structuredClone(entries);
    edited[0].result_count += 1;
    assert.equal(problem(edited), "entry 1 was edited", suite);
    // Made up by whoever runs the node: another target, re-hashed and re-chained.
    const madeUp = structuredClone(entries);
    madeUp[1].target = "/v1/supervisor/subjects/91330100MA0000099X/credit";
    madeUp[1].hash = auditEntryHash(madeUp[1]);
    assert.match(problem(madeUp, []), /entry 2 carries no valid signature for this node: made up/, suite);
    assert.match(problem(madeUp), /entry 2 was edited|made up/, suite);
    assert.equal(problem([entries[1]]), "entry 1 is missing (found 2)", suite);
    assert.equal(problem(entries, [{ seq: 2, head: entries[0].hash, height: 9 }]), "entry 2 differs from its anchor at height 9", suite);
    assert.equal(problem(entries, [{ seq: 3, head: entries[1].hash }]), "the ledger anchors entry 3, which the log lacks", suite);
    // Signed for another node: it does not check for this one.
    assert.match(problem(entries, [], { ...audience, nodeKey: "07".repeat(32) }), /made up/, suite);
    const malformed = structuredClone(entries);
    malformed[0].member = "ab";
    assert.match(problem(malformed), /entry 1 is malformed: member/, suite);
  }
});

test("verifySignature: either suite, and false for anything malformed", () => {
  const v = vectors("sm2.json");
  const q = v.queries[0];
  const message = new TextEncoder().encode(q.message);
  const signature = q.headers["x-huxin-signature"];
  assert.ok(verifySignature(v.public_key, "huxin/v1/query", message, signature));
  assert.ok(!verifySignature(v.public_key, "huxin/v1/tx", message, signature));
  const [ed] = vectors("queries.json");
  const edMessage = new TextEncoder().encode(ed.message);
  assert.ok(verifySignature(ed.headers["x-huxin-key"], "huxin/v1/query", edMessage, ed.headers["x-huxin-signature"]));
  const other = new TextEncoder().encode(`${ed.message}0`);
  assert.ok(!verifySignature(ed.headers["x-huxin-key"], "huxin/v1/query", other, ed.headers["x-huxin-signature"]));
  assert.ok(!verifySignature(v.public_key, "huxin/v1/query", other, signature));
  for (const [key, sig] of [["ab", signature], [`04${"11".repeat(32)}`, signature], [`02${"ff".repeat(32)}`, signature], [v.public_key, "zz"], [v.public_key, "00".repeat(64)]]) {
    assert.equal(verifySignature(key, "huxin/v1/query", message, sig), false, `${key} ${sig}`);
  }
});

test("bad input is refused locally with the field named", () => {
  const [first] = vectors("transactions.json");
  const refused = (body: unknown, field: string) => {
    assert.throws(() => bodyBytes(body as TxBodyJson), (e: unknown) => e instanceof EncodeError && e.field === field);
  };
  refused({ ...first.body, signer: "ab" }, "signer");
  refused({ ...first.body, nonce: -1 }, "nonce");
  refused({ ...first.body, nonce: 2 ** 64 }, "nonce");
  refused({ ...first.body, action: { no_such_kind: {} } }, "action");
  const attest = first.body.action.attest_subject;
  refused({ ...first.body, action: { attest_subject: { ...attest, extra: 1 } } }, "action.attest_subject");
  refused({ ...first.body, action: { attest_subject: { ...attest, name: undefined } } }, "action.attest_subject.name");
  assert.throws(() => signTx(first.body, "00".repeat(31)), EncodeError);
  assert.throws(() => signTx(first.body, "02".repeat(32)), /signer/);
});

test("varints and defaulted fields follow the core", () => {
  assert.equal(bytesToHex(encode("u64", 250)), "fa");
  assert.equal(bytesToHex(encode("u64", 251)), "fbfb00");
  assert.equal(bytesToHex(encode("u64", 70_000)), "fc70110100");
  assert.equal(bytesToHex(encode("u64", 2n ** 40n)), "fd0000000000010000");
  const anchor = vectors("transactions.json").find((v: { name: string }) => v.name === "anchor_document");
  const bare = { ...anchor.body.action.anchor_document };
  assert.deepEqual([bare.deal_code, bare.platform_code, bare.parties, bare.experts], ["", "", [], []]);
  for (const k of ["deal_code", "platform_code", "parties", "experts"]) delete bare[k];
  assert.equal(bytesToHex(encode(schema.Action, { anchor_document: bare })), anchor.body_hex.slice(-bytesToHex(encode(schema.Action, anchor.body.action)).length));
});

test("the answer types are generated from the current OpenAPI document (npm run generate)", () => {
  const sdk = fileURLToPath(new URL("../../", import.meta.url));
  const generated = execFileSync(`${sdk}node_modules/.bin/openapi-typescript`, ["../vectors/openapi.json"], {
    cwd: sdk,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  assert.ok(generated === readFileSync(`${sdk}src/api.ts`, "utf8"), "src/api.ts is stale: run npm run generate");
  assert.ok(document() === readFileSync(`${sdk}src/openapi.ts`, "utf8"), "src/openapi.ts is stale: run npm run generate");
});

test("an answer that is not what the document says is an AnswerError naming the field", () => {
  const item = {
    subject: { organisation: "91330100MB0500000B" }, height: 3, time: 1, records: [], added_later: 1,
  };
  assert.deepEqual(checked(item, "CreditHistoryView").records, []);
  const refused = (answer: unknown, name: "CreditHistoryView" | "Outcome" | "ProposalStatus", field: string) =>
    assert.throws(() => checked(answer, name), (e: unknown) => e instanceof AnswerError && e.field === field, JSON.stringify(answer));
  refused({ ...item, records: undefined }, "CreditHistoryView", "records");
  refused({ ...item, height: "three" }, "CreditHistoryView", "height");
  refused({ ...item, records: [5] }, "CreditHistoryView", "records[0]");
  refused({ ...item, subject: { organisation: "bad" } }, "CreditHistoryView", "subject.organisation");
  assert.equal(checked("applied", "Outcome"), "applied");
  refused({ rejected: { code: "no_such_code", reason: "" } }, "Outcome", "rejected.code");
  refused({ failed: { height: 7 } }, "ProposalStatus", "failed.reason");
});
