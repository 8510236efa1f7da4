// Verify a Huxin credential with Digital Bazaar's W3C VC libraries, independently of Huxin's own
// code: the eddsa-jcs-2022 Data Integrity proof, the issuer's did:key, and each Bitstring Status
// List entry (the list fetched from the node and itself verified, issued by the same issuer).
// Usage: node verify.mjs CREDENTIAL.json — prints one JSON line {verified, statuses, valid, error}:
// `verified` is the library's verdict on the proof and the status lists' own proofs, `statuses`
// each entry's purpose and bit, and `valid` whether the credential holds: verified, no bit on.
import {readFile} from "node:fs/promises";
import * as vc from "@digitalbazaar/vc";
import {DataIntegrityProof} from "@digitalbazaar/data-integrity";
import {createVerifyCryptosuite} from "@digitalbazaar/eddsa-jcs-2022-cryptosuite";
import * as DidKey from "@digitalbazaar/did-method-key";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import {CachedResolver} from "@digitalbazaar/did-io";
import {securityLoader} from "@digitalbazaar/security-document-loader";
import {checkStatus} from "@digitalbazaar/vc-bitstring-status-list";

// did:key resolves to Multikey verification methods, which eddsa-jcs-2022 verifies with.
const didKey = DidKey.driver();
didKey.use({multibaseMultikeyHeader: "z6Mk", fromMultibase: Ed25519Multikey.from});
const resolver = new CachedResolver();
resolver.use(didKey);
const loader = securityLoader();
loader.setDidResolver(resolver);
// Status lists come from the node that issued the credential.
const fetched = async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return {contextUrl: null, documentUrl: url, document: await response.json()};
};
const built = loader.build();
const documentLoader = async (url) => (url.startsWith("http://127.0.0.1") || url.startsWith("http://localhost") ? fetched(url) : built(url));

const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});
const credential = JSON.parse(await readFile(process.argv[2], "utf8"));
try {
  const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});
  const statuses = (result.statusResult?.results ?? (result.statusResult ? [result.statusResult] : [])).map((s) => ({
    purpose: s.credentialStatus?.statusPurpose,
    on: s.status,
    verified: s.verified,
  }));
  const error = result.error ? String(result.error.errors?.map((e) => e.message).join("; ") || result.error.message || result.error) : null;
  const valid = result.verified && statuses.every((s) => s.on === false);
  console.log(JSON.stringify({verified: result.verified, statuses, valid, error}));
} catch (e) {
  console.log(JSON.stringify({verified: false, statuses: [], valid: false, error: String(e.message || e)}));
}
