package cn.huxin.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import cn.huxin.sdk.model.Supervision;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The SDK against the Rust core's golden vectors (sdk/vectors). */
class VectorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode vectors(String name) throws IOException {
        String dir = System.getenv().getOrDefault("HUXIN_VECTORS", "../vectors");
        return JSON.readTree(Path.of(dir, name).toFile());
    }

    @Test
    void everyTransactionVectorBodyBytesSignatureAndHash() throws IOException {
        JsonNode txs = vectors("transactions.json");
        assertTrue(txs.size() >= 21);
        for (JsonNode v : txs) {
            String name = v.get("name").asText();
            JsonNode body = v.get("body");
            assertEquals(v.get("body_hex").asText(), Hex.encode(Signing.bodyBytes(body)), name);
            Signing.Signed signed = Signing.signTx(body, v.get("secret_key").asText());
            assertEquals(v.get("signature").asText(), signed.signature(), name);
            assertEquals(v.get("tx_hash").asText(), signed.txHash(), name);
            assertEquals(v.get("signed_tx_hex").asText(), signed.payload() + "40" + signed.signature(), name);
        }
    }

    @Test
    void auditLogVectorsInBothSuitesCheckAndEditsAreCaught() throws IOException {
        JsonNode logs = vectors("audit.json");
        for (String suite : java.util.List.of("ed25519", "sm2")) {
            JsonNode log = logs.get(suite);
            String chain = log.get("chain_id").asText(), node = log.get("node_key").asText();
            var entries = new java.util.ArrayList<Supervision.AuditEntry>();
            for (JsonNode e : log.get("entries")) entries.add(Answers.as(e, Supervision.AuditEntry.class));
            assertEquals(2, entries.size(), suite);
            for (var e : entries) assertEquals(e.hash(), AuditLog.entryHash(e), suite + " entry " + e.seq());
            var anchors = java.util.List.of(new Supervision.AuditAnchor("00".repeat(20), 2, entries.get(1).hash(), 9, 0));
            assertEquals(new AuditLog.Verdict(true, 2, null), AuditLog.check(entries, anchors, chain, node), suite);

            var first = entries.get(0);
            var edited = new java.util.ArrayList<>(entries);
            edited.set(0, new Supervision.AuditEntry(first.seq(), first.time(), first.supervisorKey(), first.member(),
                    first.method(), first.target(), first.signedTime(), first.signature(), first.status(),
                    first.resultCount() + 1, first.prevHash(), first.hash()));
            assertEquals("entry 1 was edited", AuditLog.check(edited, anchors, chain, node).problem(), suite);
            // Made up by whoever runs the node: another target, re-hashed.
            var made = new Supervision.AuditEntry(first.seq(), first.time(), first.supervisorKey(), first.member(),
                    first.method(), "/v1/supervisor/credit", first.signedTime(), first.signature(), first.status(),
                    first.resultCount(), first.prevHash(), "");
            made = new Supervision.AuditEntry(made.seq(), made.time(), made.supervisorKey(), made.member(), made.method(),
                    made.target(), made.signedTime(), made.signature(), made.status(), made.resultCount(), made.prevHash(),
                    AuditLog.entryHash(made));
            assertEquals("entry 1 carries no valid signature for this node: made up",
                    AuditLog.check(java.util.List.of(made), java.util.List.of(), chain, node).problem(), suite);
            assertEquals("entry 1 carries no valid signature for this node: made up",
                    AuditLog.check(entries, java.util.List.of(), chain, "07".repeat(32)).problem(), suite);
            var wrongAnchor = java.util.List.of(new Supervision.AuditAnchor("00".repeat(20), 2, first.hash(), 9, 0));
            assertEquals("entry 2 differs from its anchor at height 9", AuditLog.check(entries, wrongAnchor, chain, node).problem());
            var missing = java.util.List.of(new Supervision.AuditAnchor("00".repeat(20), 3, first.hash(), 9, 0));
            assertEquals("the ledger anchors entry 3, which the log lacks", AuditLog.check(entries, missing, chain, node).problem());
            assertEquals("entry 1 is missing (found 2)",
                    AuditLog.check(entries.subList(1, 2), java.util.List.of(), chain, node).problem());
        }
        assertTrue(!Signing.verify("ab", new byte[0], "00".repeat(64)));
        assertTrue(!Signing.verify("02" + "ff".repeat(32), new byte[0], "00".repeat(64)));
    }

    @Test
    void everySignedQueryVectorHeaders() throws IOException {
        for (JsonNode v : vectors("queries.json")) {
            Map<String, String> headers = Signing.signQuery(v.get("secret_key").asText(), v.get("chain_id").asText(),
                    v.get("node_key").asText(), v.get("method").asText(), v.get("path").asText(),
                    v.get("query").asText(), v.get("time").asLong());
            Map<String, String> expected = new TreeMap<>();
            v.get("headers").properties().forEach(e -> expected.put(e.getKey(), e.getValue().asText()));
            assertEquals(expected, new TreeMap<>(headers), v.get("name").asText());
        }
    }

    /** SM2: the same key, bytes and hash; Huxin's signatures verify here, and ours verify too. */
    @Test
    void sm2VectorsSameBytesAndSignaturesThatVerifyBothWays() throws IOException {
        JsonNode v = vectors("sm2.json");
        String secret = v.get("secret_key").asText();
        String publicKey = v.get("public_key").asText();
        assertEquals(publicKey, Signing.publicKey(secret));
        for (JsonNode t : v.get("transactions")) {
            String name = t.get("name").asText();
            Signing.Signed signed = Signing.signTx(t.get("body"), secret);
            assertEquals(t.get("body_hex").asText(), signed.payload(), name);
            assertEquals(publicKey, signed.publicKey(), name);
            assertEquals(t.get("tx_hash").asText(), signed.txHash(), name);
            byte[] input = Signing.signingInput("huxin/v1/tx", Hex.decode(signed.payload()));
            assertEquals(t.get("sign_input_hex").asText(), Hex.encode(input), name);
            assertTrue(Signing.sm2Verify(publicKey, input, t.get("signature").asText()), name + ": Huxin's signature");
            assertTrue(Signing.sm2Verify(publicKey, input, signed.signature()), name + ": ours");
            String other = signed.signature().substring(0, 126) + (signed.signature().endsWith("00") ? "01" : "00");
            assertTrue(!Signing.sm2Verify(publicKey, input, other), name + ": a changed signature");
        }
        for (JsonNode q : v.get("queries")) {
            Map<String, String> headers = Signing.signQuery(secret, q.get("chain_id").asText(), q.get("node_key").asText(),
                    q.get("method").asText(), q.get("path").asText(), q.get("query").asText(), q.get("time").asLong());
            assertEquals(publicKey, headers.get("x-huxin-key"));
            byte[] input = Signing.signingInput("huxin/v1/query", q.get("message").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertTrue(Signing.sm2Verify(publicKey, input, q.get("headers").get("x-huxin-signature").asText()));
            assertTrue(Signing.sm2Verify(publicKey, input, headers.get("x-huxin-signature")));
        }
        assertThrows(EncodeException.class, () -> Signing.publicKey("sm2:" + "00".repeat(32)));
        assertThrows(EncodeException.class, () -> Signing.publicKey("sm2:" + "ff".repeat(32)));
        assertThrows(EncodeException.class, () -> Signing.publicKey("sm2:12"));
    }

    private static void refused(JsonNode body, String field) {
        EncodeException e = assertThrows(EncodeException.class, () -> Signing.bodyBytes(body));
        assertEquals(field, e.field(), e.getMessage());
    }

    @Test
    void badInputIsRefusedLocallyWithTheFieldNamed() throws IOException {
        JsonNode first = vectors("transactions.json").get(0).get("body");
        refused(((ObjectNode) first.deepCopy()).put("signer", "ab"), "signer");
        refused(((ObjectNode) first.deepCopy()).put("nonce", -1), "nonce");
        refused(((ObjectNode) first.deepCopy()).put("nonce", new java.math.BigInteger("18446744073709551616")), "nonce");
        ObjectNode unknownKind = first.deepCopy();
        unknownKind.putObject("action").putObject("no_such_kind");
        refused(unknownKind, "action");
        ObjectNode extra = first.deepCopy();
        ((ObjectNode) extra.get("action").get("attest_subject")).put("extra", 1);
        refused(extra, "action.attest_subject");
        ObjectNode missing = first.deepCopy();
        ((ObjectNode) missing.get("action").get("attest_subject")).remove("name");
        refused(missing, "action.attest_subject.name");
        assertThrows(EncodeException.class, () -> Signing.signTx(first, "00".repeat(31)));
        EncodeException e = assertThrows(EncodeException.class, () -> Signing.signTx(first, "02".repeat(32)));
        assertEquals("signer", e.field());
    }

    @Test
    void anAnswerMissingAFieldNamesIt() throws IOException {
        JsonNode answer = JSON.readTree("{\"subject\": {\"organisation\": \"91330100MB0500000B\"}, \"region\": 330200,"
                + " \"height\": 3, \"time\": 1, \"eligible\": true, \"reasons\": [], \"added_later\": 1}");
        assertTrue(HuxinClient.decode(answer, cn.huxin.sdk.model.Subjects.EligibilityView.class).eligible());
        ((ObjectNode) answer).remove("eligible");
        AnswerException e = assertThrows(AnswerException.class, () -> HuxinClient.decode(answer, cn.huxin.sdk.model.Subjects.EligibilityView.class));
        assertEquals("eligible", e.field(), e.getMessage());
        ((ObjectNode) answer).put("eligible", true).put("height", "three");
        assertEquals("height", assertThrows(AnswerException.class, () -> HuxinClient.decode(answer, cn.huxin.sdk.model.Subjects.EligibilityView.class)).field());
    }

    @Test
    void varintsAndDefaultedFieldsFollowTheCore() throws IOException {
        Codec.Schema u64 = Codec.u(64);
        assertEquals("fa", Hex.encode(Codec.encode(u64, JSON.valueToTree(250))));
        assertEquals("fbfb00", Hex.encode(Codec.encode(u64, JSON.valueToTree(251))));
        assertEquals("fc70110100", Hex.encode(Codec.encode(u64, JSON.valueToTree(70_000))));
        assertEquals("fd0000000000010000", Hex.encode(Codec.encode(u64, JSON.valueToTree(1L << 40))));
        for (JsonNode v : vectors("transactions.json")) {
            if (!v.get("name").asText().equals("anchor_document")) continue;
            ObjectNode action = v.get("body").get("action").deepCopy();
            String full = Hex.encode(Codec.encode(Schemas.ACTION, action));
            ObjectNode bare = (ObjectNode) action.get("anchor_document");
            bare.remove(java.util.List.of("deal_code", "platform_code", "parties", "experts"));
            assertEquals(full, Hex.encode(Codec.encode(Schemas.ACTION, action)));
            assertTrue(v.get("body_hex").asText().endsWith(full));
        }
    }
}
