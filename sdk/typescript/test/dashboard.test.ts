// The dashboard's copy of the SDK (crates/api/assets/huxin-sdk.js, which the node serves to its
// supervisor workbench) is this SDK as it is now: `npm run dashboard` writes it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

// @ts-expect-error: a plain ES module without types (it writes the asset)
import { ASSET, bundle } from "../../scripts/dashboard.mjs";

test("the dashboard's bundle of the SDK is current (npm run build && npm run dashboard)", async () => {
  assert.ok((await bundle()) === readFileSync(ASSET, "utf8"), "crates/api/assets/huxin-sdk.js is stale: run npm run dashboard");
});
