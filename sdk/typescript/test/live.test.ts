// The SDK against a running devnet: HUXIN_APIS (the nodes' API addresses, comma-separated) and
// HUXIN_KEYS_DIR (the devnet's member keys). tests/sdks.rs starts the devnet and runs
// these; without the variables they are skipped (and that test fails on a skip).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { ApiError, BATCH_TXS_MAX, EncodeError, HuxinClient, publicKey } from "../src/index.js";

const apis = (process.env.HUXIN_APIS ?? "").split(",").filter((a) => a !== "");
const keysDir = process.env.HUXIN_KEYS_DIR;
const live = apis.length >= 2 && keysDir !== undefined;
const key = (name: string) => readFileSync(join(keysDir ?? "", `${name}.key`), "utf8").trim();

const supplier = "91330100MB0500000B";
const attest = {
  attest_subject: {
    subject: { organisation: supplier },
    kind: "supplier",
    name: "TypeScript 供应商",
    qualifications: [],
    bound_key: null,
    valid_until: null,
  },
};

test("a transaction signed here is finalised and every node answers the same", { skip: !live }, async () => {
  const [first, second] = apis.map((a) => new HuxinClient(a));
  const hash = await first.send(key("hangzhou"), attest);
  const done = await first.waitFinalised(hash);
  assert.equal(done.status, "finalised");
  assert.deepEqual(done.outcome, "applied");
  const seen = await second.waitFinalised(hash);
  assert.equal(seen.height, done.height);
  const subject = await second.subject(supplier);
  assert.equal(subject.attestation?.name ?? JSON.stringify(subject), "TypeScript 供应商");
  const eligible = await second.eligibility(supplier, 330200);
  assert.deepEqual([eligible.eligible, eligible.reasons], [true, []]);
  assert.deepEqual((await second.creditHistory(supplier)).records, []);
});

test("paging, signed supervisor reads and the event stream", { skip: !live }, async () => {
  const [first, second] = apis.map((a) => new HuxinClient(a));
  // A second supplier, so that Hangzhou's transactions fill more than one page of one.
  const other = "91330100MB0500001E";
  const done = await first.waitFinalised(
    await first.send(key("hangzhou"), { attest_subject: { ...attest.attest_subject, subject: { organisation: other } } }),
  );
  assert.deepEqual(done.outcome, "applied");
  const hangzhou = publicKey(key("hangzhou"));
  await second.waitFinalised(done.tx_hash);
  const seen: string[] = [];
  for await (const item of second.pages(`/v1/signers/${hangzhou}/txs`, "Page_SignerTx", 1)) seen.push(item.tx_hash);
  assert.equal(new Set(seen).size, (await second.nextNonce(hangzhou)) - 1);
  assert.ok(seen.length >= 2, String(seen));

  const history = await second.fullCreditHistory(key("supervisor"), supplier);
  assert.deepEqual([history.records, history.hidden], [[], 0]);
  await assert.rejects(second.get(`/v1/supervisor/subjects/${supplier}/credit`), (e: unknown) => e instanceof ApiError && e.status === 401);

  const position = (id: string) => id.split(":").map(Number);
  const stream = second.events("kinds=attest_subject&from_height=1");
  const a = (await stream.next()).value!;
  await stream.return(undefined);
  assert.equal(a.kind, "attest_subject");
  assert.equal(a.data.height, position(a.id)[0]);
  assert.ok(a.data.action !== null && a.data.action !== undefined && "attest_subject" in a.data.action, JSON.stringify(a.data));
  const resumed = second.events("kinds=attest_subject", a.id);
  const b = (await resumed.next()).value!;
  await resumed.return(undefined);
  assert.ok(position(b.id)[0] > position(a.id)[0] || (position(b.id)[0] === position(a.id)[0] && position(b.id)[1] > position(a.id)[1]), `${a.id} then ${b.id}`);
});

async function all<T>(items: AsyncGenerator<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}

test("every read endpoint answers its type, checked against the OpenAPI document", { skip: !live }, async () => {
  const [first, node] = apis.map((a) => new HuxinClient(a));
  const other = "91330100MB0500006X";
  const now = (await first.status()).latest_block_time_ms!;
  const day = 86_400_000;
  const doc = "cd".repeat(32);
  const tender = { region: 330100, project_code: "TS-1", section_code: "01" };
  const hangzhou = key("hangzhou");
  const sent = [
    await first.send(hangzhou, { attest_subject: { ...attest.attest_subject, subject: { organisation: other }, name: "TypeScript 全读供应商" } }),
    await first.send(hangzhou, {
      anchor_document: { tender, stage: "announcement", document_hash: doc, title: "公告", parties: [other], estimated_price_fen: 1_000_000 },
    }),
    await first.send(hangzhou, {
      record_credit: {
        subject: { organisation: other }, kind: "commendation", decision_no: "杭交易表〔ts〕1号", authority: "杭州市公共资源交易中心",
        authority_uscc: "12330100MB0000001N", facts: "诚信履约", legal_basis: "", penalty_type: "", penalty_content: "", amount_fen: 0,
        decision_date: now - day, evidence_hash: doc, severity: "minor", publication_start: now - day, publication_end: now + 30 * day,
        score: null, tender: null,
      },
    }),
    await first.send(hangzhou, { propose: { action: { set_params: await node.params() }, reason: "TypeScript SDK: the same parameters again" } }),
  ];
  for (const hash of sent) assert.deepEqual((await first.waitFinalised(hash)).outcome, "applied", hash);
  const number = "TS/1";
  const issued = await first.send(key("bank"), {
    issue_guarantee: {
      number, kind: "bid_bond", applicant: other, beneficiary: "12330200MB0000002Y", premium_payer: other, tender, amount_fen: 20_000,
      valid_from: now - day, valid_until: now + 90 * day, document_hash: doc, replaces: null,
    },
  });
  const done = await first.waitFinalised(issued);
  assert.deepEqual(done.outcome, "applied");
  await node.waitFinalised(issued);

  // The chain.
  const block = await node.block(done.height!);
  assert.ok(block.txs.some((t) => t.hash === issued && t.outcome === "applied"));
  assert.ok((await node.latestBlock()).header.height >= done.height!);
  const status = await node.tx(issued);
  assert.ok(status.tx !== null && status.tx !== undefined && "issue_guarantee" in status.tx.body.action);
  const bank = await node.signer(publicKey(key("bank")));
  assert.equal(bank.role, "guarantee_provider");
  assert.ok((await all(node.signerTxs(bank.public_key))).some((t) => t.tx_hash === issued));
  assert.ok((await node.stats()).rows.some((r) => r.count > 0));
  assert.ok((await node.statsCsv()).trim().split("\n").length >= 2);
  assert.match(await node.metrics(), /huxin_/);

  // The federation.
  assert.ok((await node.members()).some((m) => m.id === bank.member_id && m.status === "active"));
  assert.equal((await node.validators()).current.length, 4);
  assert.equal((await node.params()).score.base, 80);
  const proposal = await node.proposal(sent[3]);
  assert.equal(proposal.status, "open");
  assert.ok("set_params" in proposal.proposal.action);

  // Subjects, credit, guarantees, deals.
  const subject = await node.subject(other, { proof: true });
  assert.equal(subject.attestation?.name, "TypeScript 全读供应商");
  assert.ok((subject.proof?.entries.length ?? 0) >= 1 && (subject.proof?.block.signatures.length ?? 0) >= 3);
  assert.equal((await node.eligibility(other, 330100)).eligible, true);
  assert.ok((await all(node.searchSubjects("TypeScript 全读"))).some((m) => "organisation" in m.subject && m.subject.organisation === other));
  assert.equal((await all(node.subjectDeals(other)))[0].document_hash, doc);
  await all(node.blacklist({ region: 330100 }));
  const record = (await node.creditHistory(other)).records[0];
  assert.deepEqual([record.record.kind, record.publication], ["commendation", "active"]);
  assert.ok((await all(node.credit({ region: 330100, kind: "commendation" }))).some((c) => c.id === record.id));
  const guarantee = await node.guarantee(number);
  assert.deepEqual([guarantee.guarantee.kind, guarantee.current_state], ["bid_bond", "issued"]);
  assert.equal((await all(node.guarantees({ applicant: other })))[0].guarantee.number, number);
  assert.equal((await node.document(doc)).anchors[0].stage, "announcement");
  assert.deepEqual((await node.tender(330100, "TS-1", "01", { proof: true })).tender.bid_bond_payers, [[other, other]]);

  // Supervision: signed reads, logged and anchored.
  const supervisor = key("supervisor");
  assert.ok((await all(node.supervisorCredit(supervisor, { region: 330100 }))).some((c) => c.id === record.id));
  assert.equal((await node.fullCreditHistory(supervisor, other)).records.length, 1);
  // A platform without the subject's grant is told which one it lacks.
  const noGrant = (e: unknown) => e instanceof ApiError && e.status === 403 && e.code === "grant_missing" && e.message.includes("scope");
  await assert.rejects(node.grantedCreditHistory(key("ningbo"), other), noGrant);
  await assert.rejects(all(node.grantedGuarantees(key("ningbo"), other, { status: "issued" })), noGrant);
  await assert.rejects(all(node.grantedDeals(key("ningbo"), other)), noGrant);
  const rings = await node.ringReport(supervisor, { limit: 5 });
  assert.ok(rings.findings.length <= 5 && rings.findings_total >= rings.findings.length && rings.params.min_members >= 2);
  const log = await node.auditLog(supervisor);
  assert.ok(log.entries.length >= 2);
  assert.equal(log.head_seq, log.entries[log.entries.length - 1].seq);
  const member = log.anchor_member;
  assert.ok(typeof member === "string", "the devnet's centres anchor their audit logs");
  let anchors: Awaited<ReturnType<typeof all<{ member: string }>>> = [];
  for (let i = 0; i < 100 && anchors.length === 0; i++) {
    anchors = await all(node.auditAnchors(member));
    if (anchors.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(anchors.length > 0 && anchors.every((a) => a.member === member), JSON.stringify(anchors));
});

test("a supervisor's ring stream announces one bid document anchored as two bidders' bids", { skip: !live }, async () => {
  const node = new HuxinClient(apis[0]);
  const hangzhou = key("hangzhou");
  const tender = { region: 330100, project_code: "TS-RING", section_code: "01" };
  const same = "5a".repeat(32);
  const bidders = ["91330100MB05000071", "91330100MB05000084"];
  const anchors = [
    { anchor_document: { tender, stage: "announcement" as const, document_hash: "5b".repeat(32), title: "公告" } },
    ...bidders.map((b) => ({ anchor_document: { tender, stage: "bid" as const, document_hash: same, title: "投标文件", parties: [b] } })),
  ];
  for (const action of anchors) assert.deepEqual((await node.waitFinalised(await node.send(hangzhou, action))).outcome, "applied");

  const stream = node.ringEvents(key("supervisor"), { kind: "identical_bid_documents", subject: bidders[0] });
  const first = (await stream.next()).value!;
  await stream.return(undefined);
  assert.equal(first.kind, "identical_bid_documents");
  assert.equal(first.id.split(":")[0], String(first.data.height));
  const finding = first.data.finding;
  assert.ok(finding !== null && finding !== undefined && "identical_bid_documents" in finding, JSON.stringify(finding));
  assert.equal(first.data.key, `identical_bid_documents:${same}`);
  assert.equal(finding.identical_bid_documents.document_hash, same);
  assert.deepEqual(finding.identical_bid_documents.bidders, bidders);
  // A centre's key is not a supervisor's: refused before any event.
  const refused = node.ringEvents(hangzhou);
  await assert.rejects(refused.next(), (e: unknown) => e instanceof ApiError && e.status === 403 && e.code === "forbidden");
});

test("a batch is signed at consecutive nonces and each item answered", { skip: !live }, async () => {
  const node = new HuxinClient(apis[0]);
  const anchors = [0, 1, 2].map((i) => ({
    anchor_document: {
      tender: { region: 330300, project_code: "TS-BATCH", section_code: `0${i}` },
      stage: "announcement" as const,
      document_hash: `0${i}` + "ab".repeat(31),
      title: "批量",
    },
  }));
  const batch = await node.sendBatch(key("wenzhou"), anchors);
  assert.equal(batch.results.length, 3);
  const nonces: number[] = [];
  for (const r of batch.results) {
    assert.equal(r.code, undefined, JSON.stringify(r));
    const done = await node.waitFinalised(r.tx_hash);
    assert.deepEqual(done.outcome, "applied");
    nonces.push(done.tx!.body.nonce);
  }
  assert.deepEqual(nonces, [nonces[0], nonces[0] + 1, nonces[0] + 2]);
  // Over the node's limit, or a bad item, is refused here, naming it.
  const tooMany = Array.from({ length: BATCH_TXS_MAX + 1 }, () => anchors[0]);
  await assert.rejects(node.sendBatch(key("wenzhou"), tooMany), (e: unknown) => e instanceof EncodeError && e.field === "actions");
  const bad = { attest_subject: { ...attest.attest_subject, bound_key: "abcd" } };
  await assert.rejects(
    node.sendBatch(key("wenzhou"), [anchors[0], bad]),
    (e: unknown) => e instanceof EncodeError && e.field === "actions[1].attest_subject.bound_key",
  );
});

test("a node's refusals are typed errors with the stable code", { skip: !live }, async () => {
  const client = new HuxinClient(apis[0]);
  await assert.rejects(client.guarantee("NO/SUCH"), (e: unknown) => e instanceof ApiError && e.code === "not_found" && e.status === 404);
  // A key that has sent nothing expects nonce 1; nonce 0 never comes, and a stranger's key signs nothing.
  assert.ok((await client.nextNonce(publicKey(key("bank")))) >= 1);
  const revoke = { revoke_credit: { record_id: "00".repeat(32), reason: "x" } };
  for (const [signer, nonce] of [[key("supervisor"), 0], ["07".repeat(32), undefined]] as const) {
    await assert.rejects(client.send(signer, revoke, nonce), (e: unknown) => {
      assert.ok(e instanceof ApiError && e.status >= 400 && e.status < 500, String(e));
      return true;
    });
  }
});

test("bad input is refused before anything is sent", { skip: !live }, async () => {
  const client = new HuxinClient("http://127.0.0.1:9");
  // Nothing listens on port 9: an attempt to send would fail otherwise.
  await assert.rejects(client.send("zz", attest), (e: unknown) => e instanceof EncodeError && e.field === "secret_key");
  const bad = { attest_subject: { ...attest.attest_subject, bound_key: "abcd" } };
  await assert.rejects(client.send(key("hangzhou"), bad), (e: unknown) => e instanceof EncodeError && e.field === "attest_subject.bound_key");
});
