package cn.huxin.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The SDK against a running devnet: HUXIN_APIS (the nodes' API addresses, comma-separated) and
 * HUXIN_KEYS_DIR (its member keys). tests/sdks.rs starts the devnet and runs these; without
 * the variables they are skipped (and that test fails on a skip).
 */
class LiveTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SUPPLIER = "91330100MB0500000B";

    private static List<String> apis() {
        String apis = System.getenv("HUXIN_APIS");
        List<String> list = apis == null ? List.of() : Arrays.stream(apis.split(",")).filter(a -> !a.isEmpty()).toList();
        assumeTrue(list.size() >= 2 && System.getenv("HUXIN_KEYS_DIR") != null, "no devnet given");
        return list;
    }

    private static String key(String name) throws IOException {
        return Files.readString(Path.of(System.getenv("HUXIN_KEYS_DIR"), name + ".key")).trim();
    }

    private static JsonNode attest() throws IOException {
        return JSON.readTree("{\"attest_subject\": {\"subject\": {\"organisation\": \"" + SUPPLIER + "\"},"
                + " \"kind\": \"supplier\", \"name\": \"Java 供应商\", \"qualifications\": [],"
                + " \"bound_key\": null, \"valid_until\": null}}");
    }

    @Test
    void aTransactionSignedHereIsFinalisedAndEveryNodeAnswersTheSame() throws IOException {
        List<String> apis = apis();
        HuxinClient first = new HuxinClient(apis.get(0));
        HuxinClient second = new HuxinClient(apis.get(1));
        String hash = first.send(key("hangzhou"), attest());
        HuxinClient.TxStatus done = first.waitFinalised(hash, Duration.ofSeconds(60));
        assertEquals("finalised", done.status());
        assertTrue(done.applied(), String.valueOf(done.outcome()));
        assertEquals(done.height(), second.waitFinalised(hash, Duration.ofSeconds(60)).height());
        Views.Subject subject = second.subject(SUPPLIER);
        assertEquals("Java 供应商", subject.attestation().name());
        assertEquals(330100, subject.attestation().homeRegion());
        Views.Eligibility eligible = second.eligibility(SUPPLIER, 330200);
        assertTrue(eligible.eligible(), eligible.reasons().toString());
        assertEquals(0, second.creditHistory(SUPPLIER).records().size());
    }

    @Test
    void pagingSignedSupervisorReadsAndTheEventStream() throws IOException {
        List<String> apis = apis();
        HuxinClient first = new HuxinClient(apis.get(0));
        HuxinClient second = new HuxinClient(apis.get(1));
        // Another supplier, so that Hangzhou's transactions fill more than one page of one.
        JsonNode other = attest();
        ((com.fasterxml.jackson.databind.node.ObjectNode) other.get("attest_subject").get("subject"))
                .put("organisation", "91330100MB0500002H");
        String hash = first.send(key("hangzhou"), other);
        assertTrue(first.waitFinalised(hash, Duration.ofSeconds(60)).applied());
        second.waitFinalised(hash, Duration.ofSeconds(60));
        String hangzhou = Signing.publicKey(key("hangzhou"));
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (JsonNode item : second.pages("/v1/signers/" + hangzhou + "/txs", 1)) seen.add(item.get("tx_hash").asText());
        assertEquals(second.nextNonce(hangzhou) - 1, seen.size());
        assertTrue(seen.size() >= 2, seen.toString());

        JsonNode history = second.fullCreditHistory(key("supervisor"), SUPPLIER);
        assertEquals(0, history.get("records").size());
        assertEquals(0, history.get("hidden").asInt());
        ApiException unsigned = assertThrows(ApiException.class, () -> second.get("/v1/supervisor/subjects/" + SUPPLIER + "/credit"));
        assertEquals(401, unsigned.status());

        HuxinClient.Event a;
        try (var events = second.events("kinds=attest_subject&from_height=1", null)) {
            a = events.findFirst().orElseThrow();
        }
        assertEquals("attest_subject", a.kind());
        HuxinClient.Event b;
        try (var events = second.events("kinds=attest_subject", a.id())) {
            b = events.findFirst().orElseThrow();
        }
        long[] pa = Arrays.stream(a.id().split(":")).mapToLong(Long::parseLong).toArray();
        long[] pb = Arrays.stream(b.id().split(":")).mapToLong(Long::parseLong).toArray();
        assertTrue(pb[0] > pa[0] || (pb[0] == pa[0] && pb[1] > pa[1]), a.id() + " then " + b.id());
    }

    @Test
    void aNodesRefusalsAreTypedWithTheStableCode() throws IOException {
        HuxinClient client = new HuxinClient(apis().get(0));
        ApiException missing = assertThrows(ApiException.class, () -> client.guarantee("NO/SUCH"));
        assertEquals("not_found", missing.code());
        assertEquals(404, missing.status());
        assertEquals(1, client.nextNonce(Signing.publicKey(key("bank"))));
        JsonNode revoke = JSON.readTree("{\"revoke_credit\": {\"record_id\": \"" + "00".repeat(32) + "\", \"reason\": \"x\"}}");
        ApiException stale = assertThrows(ApiException.class, () -> client.send(key("supervisor"), revoke, 0L));
        assertTrue(stale.status() >= 400 && stale.status() < 500, stale.getMessage());
    }

    @Test
    void badInputIsRefusedBeforeAnythingIsSent() throws IOException {
        apis();
        // Nothing listens on port 9: an attempt to send would fail otherwise.
        HuxinClient client = new HuxinClient("http://127.0.0.1:9");
        assertEquals("secret_key", assertThrows(EncodeException.class, () -> client.send("zz", attest())).field());
        JsonNode bad = attest();
        ((com.fasterxml.jackson.databind.node.ObjectNode) bad.get("attest_subject")).put("bound_key", "abcd");
        assertEquals("attest_subject.bound_key",
                assertThrows(EncodeException.class, () -> client.send(key("hangzhou"), bad)).field());
    }
}
