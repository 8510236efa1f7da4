// The SDK against a running devnet: HUXIN_APIS (the nodes' API addresses, comma-separated) and
// HUXIN_KEYS_DIR (the devnet's member keys). tests/sdks.rs starts the devnet and runs
// these; without the variables they are skipped (and that test fails on a skip).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { ApiError, EncodeError, HuxinClient, publicKey } from "../src/index.js";

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
  for await (const item of second.pages(`/v1/signers/${hangzhou}/txs`, 1)) seen.push((item as { tx_hash: string }).tx_hash);
  assert.equal(new Set(seen).size, (await second.nextNonce(hangzhou)) - 1);
  assert.ok(seen.length >= 2, String(seen));

  const history = (await second.fullCreditHistory(key("supervisor"), supplier)) as { records: unknown[]; hidden: number };
  assert.deepEqual([history.records, history.hidden], [[], 0]);
  await assert.rejects(second.get(`/v1/supervisor/subjects/${supplier}/credit`), (e: unknown) => e instanceof ApiError && e.status === 401);

  const stream = second.events("kinds=attest_subject&from_height=1");
  const a = (await stream.next()).value!;
  await stream.return(undefined);
  assert.equal(a.kind, "attest_subject");
  const resumed = second.events("kinds=attest_subject", a.id);
  const b = (await resumed.next()).value!;
  await resumed.return(undefined);
  const position = (id: string) => id.split(":").map(Number);
  assert.ok(position(b.id)[0] > position(a.id)[0] || (position(b.id)[0] === position(a.id)[0] && position(b.id)[1] > position(a.id)[1]), `${a.id} then ${b.id}`);
});

test("a node's refusals are typed errors with the stable code", { skip: !live }, async () => {
  const client = new HuxinClient(apis[0]);
  await assert.rejects(client.guarantee("NO/SUCH"), (e: unknown) => e instanceof ApiError && e.code === "not_found" && e.status === 404);
  // A key that has sent nothing expects nonce 1; nonce 0 never comes, and a stranger's key signs nothing.
  assert.equal(await client.nextNonce(publicKey(key("bank"))), 1);
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
