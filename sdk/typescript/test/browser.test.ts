// The SDK in a browser: bundled for the web with esbuild and run in headless Chromium (Debian's
// `chromium`, which .ci/run installs; HUXIN_CHROMIUM names another binary). There it signs every
// golden vector and checks a node's answer against the OpenAPI document, as it does in Node.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const sdk = fileURLToPath(new URL("../../", import.meta.url));
const vectors = (name: string) => JSON.parse(readFileSync(`${sdk}../vectors/${name}`, "utf8"));

test("the SDK bundles for browsers and signs every vector there as in Node", async (t) => {
  const bundle = await build({
    entryPoints: [`${sdk}dist/src/index.js`],
    bundle: true,
    format: "iife",
    globalName: "Huxin",
    platform: "browser",
    write: false,
  });
  const txs = vectors("transactions.json");
  const dir = mkdtempSync(join(tmpdir(), "huxin-browser-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "sdk.js"), bundle.outputFiles[0].contents);
  writeFileSync(join(dir, "vectors.js"), `const txs = ${JSON.stringify(txs)};`);
  writeFileSync(
    join(dir, "page.html"),
    `<!doctype html><meta charset="utf-8"><pre id="out"></pre>
<script src="sdk.js"></script><script src="vectors.js"></script><script>
  const signed = txs.map((v) => { const s = Huxin.signTx(v.body, v.secret_key); return [s.signature, s.tx_hash]; });
  let refused = "accepted";
  try { Huxin.checked({ subject: { organisation: "bad" }, height: 1, time: 1, records: [] }, "CreditHistoryView"); }
  catch (e) { refused = e.name + " " + e.field; }
  document.getElementById("out").textContent = JSON.stringify({ signed, refused, client: typeof Huxin.HuxinClient });
</script>`,
  );
  const chromium = process.env.HUXIN_CHROMIUM ?? "chromium";
  const dom = execFileSync(
    chromium,
    ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--dump-dom", `file://${join(dir, "page.html")}`],
    { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "ignore"] },
  );
  const out = /<pre id="out">(.*?)<\/pre>/s.exec(dom)?.[1];
  assert.ok(out, `no result in the page:\n${dom.slice(0, 2000)}`);
  const result = JSON.parse(out.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
  assert.deepEqual(
    result.signed,
    txs.map((v: { signature: string; tx_hash: string }) => [v.signature, v.tx_hash]),
  );
  assert.equal(result.refused, "AnswerError subject.organisation");
  assert.equal(result.client, "function");
});
