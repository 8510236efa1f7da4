package cn.huxin.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import cn.huxin.sdk.HuxinClient.Read;
import cn.huxin.sdk.model.Chain;
import cn.huxin.sdk.model.Credit;
import cn.huxin.sdk.model.Deals;
import cn.huxin.sdk.model.Governance;
import cn.huxin.sdk.model.Guarantees;
import cn.huxin.sdk.model.Proofs.Proven;
import cn.huxin.sdk.model.Subjects;
import cn.huxin.sdk.model.Supervision;
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
        Chain.TxStatusView done = first.waitFinalised(hash, Duration.ofSeconds(60));
        assertEquals("finalised", done.status());
        assertTrue(done.applied(), String.valueOf(done.outcome()));
        assertEquals(done.height(), second.waitFinalised(hash, Duration.ofSeconds(60)).height());
        Subjects.SubjectView subject = second.subject(SUPPLIER);
        assertEquals("Java 供应商", subject.attestation().name());
        assertEquals(330100, subject.attestation().homeRegion());
        Subjects.EligibilityView eligible = second.eligibility(SUPPLIER, 330200);
        assertTrue(eligible.eligible(), eligible.reasons().toString());
        assertEquals(0, second.creditHistory(SUPPLIER).records().size());
    }

    @Test
    void pagingSignedSupervisorReadsAndTheEventStream() throws IOException {
        List<String> apis = apis();
        HuxinClient first = new HuxinClient(apis.get(0));
        HuxinClient second = new HuxinClient(apis.get(1));
        // Two more suppliers, so that Hangzhou's transactions fill more than one page of one.
        String hash = null;
        for (String uscc : List.of("91330100MB0500002H", "91330100MB05000084")) {
            JsonNode other = attest();
            ((com.fasterxml.jackson.databind.node.ObjectNode) other.get("attest_subject").get("subject")).put("organisation", uscc);
            hash = first.send(key("hangzhou"), other);
        }
        assertTrue(first.waitFinalised(hash, Duration.ofSeconds(60)).applied());
        second.waitFinalised(hash, Duration.ofSeconds(60));
        String hangzhou = Signing.publicKey(key("hangzhou"));
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Chain.SignerTx item : second.pages("/v1/signers/" + hangzhou + "/txs", Chain.SignerTx.class, 1)) seen.add(item.txHash());
        assertEquals(second.nextNonce(hangzhou) - 1, seen.size());
        assertTrue(seen.size() >= 2, seen.toString());

        Credit.FullCreditView history = second.fullCreditHistory(key("supervisor"), SUPPLIER);
        assertEquals(0, history.records().size());
        assertEquals(0, history.hidden());
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
        assertEquals(pa[0], a.data().height());
        assertEquals("attest_subject", a.data().action().kind());
        assertTrue(a.data().subjects().get(0) instanceof Subjects.SubjectId.Organisation, a.data().toString());
    }

    private static JsonNode action(String json) throws IOException {
        return JSON.readTree(json);
    }

    private static <T> List<T> all(Iterable<T> items) {
        List<T> list = new java.util.ArrayList<>();
        items.forEach(list::add);
        return list;
    }

    /** Every read endpoint, each answer decoded into its typed model, over a ledger with one of each record. */
    @Test
    void everyReadEndpointAnswersItsTypedModel() throws IOException, InterruptedException {
        List<String> apis = apis();
        HuxinClient first = new HuxinClient(apis.get(0));
        HuxinClient node = new HuxinClient(apis.get(1));
        String supplier = "91330100MB0500004P";
        long now = first.status().latestBlockTimeMs();
        long day = 86_400_000L;
        String doc = "ab".repeat(32);
        String hangzhou = key("hangzhou");
        List<String> hashes = new java.util.ArrayList<>();
        hashes.add(first.send(hangzhou, action("{\"attest_subject\": {\"subject\": {\"organisation\": \"" + supplier + "\"},"
                + " \"kind\": \"supplier\", \"name\": \"Java 全读供应商\", \"qualifications\": [], \"bound_key\": null, \"valid_until\": null}}")));
        hashes.add(first.send(hangzhou, action("{\"anchor_document\": {\"tender\": {\"region\": 330100, \"project_code\": \"JAVA-1\","
                + " \"section_code\": \"01\"}, \"stage\": \"announcement\", \"document_hash\": \"" + doc + "\", \"title\": \"公告\","
                + " \"parties\": [\"" + supplier + "\"], \"estimated_price_fen\": 1000000}}")));
        hashes.add(first.send(hangzhou, action("{\"record_credit\": {\"subject\": {\"organisation\": \"" + supplier + "\"},"
                + " \"kind\": \"commendation\", \"decision_no\": \"杭交易表〔java〕1号\", \"authority\": \"杭州市公共资源交易中心\","
                + " \"authority_uscc\": \"12330100MB0000001N\", \"facts\": \"诚信履约\", \"legal_basis\": \"\", \"penalty_type\": \"\","
                + " \"penalty_content\": \"\", \"amount_fen\": 0, \"decision_date\": " + (now - day) + ", \"evidence_hash\": \"" + doc + "\","
                + " \"severity\": \"minor\", \"publication_start\": " + (now - day) + ", \"publication_end\": " + (now + 30 * day) + ","
                + " \"score\": null, \"tender\": null}}")));
        JsonNode params = node.get("/v1/params");
        String proposal = first.send(hangzhou, action("{\"propose\": {\"action\": {\"set_params\": " + params + "},"
                + " \"reason\": \"Java SDK: the same parameters again\"}}"));
        hashes.add(proposal);
        for (String hash : hashes) assertTrue(first.waitFinalised(hash, Duration.ofSeconds(60)).applied(), hash);
        // Guarantee numbers may hold '/': the path segment is percent-encoded.
        String number = "JAVA/1";
        String issued = first.send(key("bank"), action("{\"issue_guarantee\": {\"number\": \"" + number + "\", \"kind\": \"bid_bond\","
                + " \"applicant\": \"" + supplier + "\", \"beneficiary\": \"12330200MB0000002Y\", \"premium_payer\": \"" + supplier + "\","
                + " \"tender\": {\"region\": 330100, \"project_code\": \"JAVA-1\", \"section_code\": \"01\"}, \"amount_fen\": 20000,"
                + " \"valid_from\": " + (now - day) + ", \"valid_until\": " + (now + 90 * day) + ", \"document_hash\": \"" + doc + "\", \"replaces\": null}}"));
        Chain.TxStatusView done = first.waitFinalised(issued, Duration.ofSeconds(60));
        assertTrue(done.applied(), String.valueOf(done.outcome()));
        node.waitFinalised(issued, Duration.ofSeconds(60));

        // The chain.
        Chain.StatusView status = node.status();
        assertTrue(status.latestHeight() >= done.height(), status.toString());
        Chain.BlockView block = node.block(done.height());
        assertEquals(done.height().longValue(), block.header().height());
        Chain.TxView tx = block.txs().stream().filter(t -> t.hash().equals(issued)).findFirst().orElseThrow();
        assertEquals("issue_guarantee", tx.tx().body().action().kind());
        assertTrue(tx.outcome() instanceof Chain.Outcome.Applied);
        assertTrue(node.latestBlock().header().height() >= done.height());
        Chain.TxStatusView status2 = node.tx(issued);
        assertEquals(Chain.Expiry.Height.class, status2.tx().body().expiry().getClass());
        Chain.SignerView bank = node.signer(Signing.publicKey(key("bank")));
        assertEquals(Subjects.Role.GUARANTEE_PROVIDER, bank.role());
        assertTrue(all(node.signerTxs(bank.publicKey())).stream().anyMatch(t -> t.txHash().equals(issued)));
        assertTrue(node.stats("").rows().stream().anyMatch(r -> r.count() > 0));
        assertTrue(node.statsCsv("").lines().count() >= 2);
        assertTrue(node.metrics().contains("huxin_"));

        // The federation.
        List<Governance.MemberRecord> members = node.members();
        assertTrue(members.stream().anyMatch(m -> m.id().equals(bank.memberId()) && m.status() == Governance.MemberStatus.ACTIVE));
        assertEquals(4, node.validators().current().size());
        assertEquals(80, node.params().score().base());
        Governance.ProposalRecord open = node.proposal(proposal);
        assertEquals(new Governance.ProposalStatus.Open(), open.status());
        assertEquals("set_params", open.proposal().action().kind());

        // Subjects, credit, guarantees, deals.
        Subjects.SubjectView subject = node.subject(supplier);
        assertEquals("Java 全读供应商", subject.attestation().name());
        assertEquals(new Subjects.AttestationStatus.Active(), subject.attestation().status());
        Proven<Subjects.SubjectView> proven = node.subject(supplier, Read.LATEST.proven());
        assertTrue(proven.proof().entries().size() >= 1);
        assertTrue(proven.proof().block().signatures().size() >= 3);
        assertTrue(node.eligibility(supplier, 330100, Read.LATEST.proven()).view().eligible());
        assertTrue(all(node.searchSubjects("Java 全读")).stream().anyMatch(m -> m.subject().equals(new Subjects.SubjectId.Organisation(supplier))));
        assertEquals(doc, all(node.subjectDeals(supplier)).get(0).documentHash());
        all(node.blacklist(HuxinClient.query("region", 330100)));
        Credit.CreditItem record = node.creditHistory(supplier).records().get(0);
        assertEquals(Credit.CreditKind.COMMENDATION, record.record().kind());
        assertEquals(Credit.Publication.ACTIVE, record.publication());
        assertTrue(all(node.credit(HuxinClient.query("region", 330100, "kind", "commendation"))).stream().anyMatch(c -> c.id().equals(record.id())));
        Guarantees.GuaranteeView guarantee = node.guarantee(number);
        assertEquals(Guarantees.GuaranteeKind.BID_BOND, guarantee.guarantee().kind());
        assertEquals(Guarantees.GuaranteeState.ISSUED, guarantee.currentState());
        assertEquals(number, all(node.guarantees(HuxinClient.query("applicant", supplier))).get(0).guarantee().number());
        Deals.DocumentView document = node.document(doc, Read.LATEST).view();
        assertEquals(Deals.DealStage.ANNOUNCEMENT, document.anchors().get(0).stage());
        Deals.TenderView tender = node.tender(330100, "JAVA-1", "01", Read.LATEST.proven()).view();
        assertEquals(List.of(new Deals.PayerApplicant(supplier, supplier)), tender.tender().bidBondPayers());

        // Supervision: signed reads, logged and anchored.
        String supervisor = key("supervisor");
        assertTrue(all(node.supervisorCredit(supervisor, HuxinClient.query("region", 330100))).stream().anyMatch(c -> c.id().equals(record.id())));
        assertEquals(1, node.fullCreditHistory(supervisor, supplier).records().size());
        // A platform without the subject's grant is told which one it lacks.
        for (org.junit.jupiter.api.function.Executable read : List.<org.junit.jupiter.api.function.Executable>of(
                () -> node.grantedCreditHistory(key("ningbo"), supplier),
                () -> all(node.grantedGuarantees(key("ningbo"), supplier, HuxinClient.query("status", "issued"))),
                () -> all(node.grantedDeals(key("ningbo"), supplier)))) {
            ApiException refused = assertThrows(ApiException.class, read);
            assertEquals(List.of(403, "grant_missing"), List.of(refused.status(), refused.code()), refused.getMessage());
        }
        Supervision.RingReport rings = node.ringReport(supervisor, "limit=5");
        assertTrue(rings.findings().size() <= 5 && rings.findingsTotal() >= rings.findings().size() && rings.params().minMembers() >= 2);
        Supervision.AuditPage log = node.auditLog(supervisor, null, 100);
        assertTrue(log.entries().size() >= 2, log.toString());
        assertEquals(log.headSeq(), log.entries().get(log.entries().size() - 1).seq());
        assertNotNull(log.anchorMember(), "the devnet's centres anchor their audit logs");
        List<Supervision.AuditAnchor> anchors = List.of();
        for (int i = 0; i < 100 && anchors.isEmpty(); i++) {
            anchors = all(node.auditAnchors(log.anchorMember()));
            if (anchors.isEmpty()) Thread.sleep(200);
        }
        assertTrue(!anchors.isEmpty() && anchors.stream().allMatch(a -> a.member().equals(log.anchorMember())), anchors.toString());
    }

    @Test
    void aSupervisorsRingStreamAnnouncesOneBidDocumentAnchoredAsTwoBiddersBids() throws IOException {
        HuxinClient node = new HuxinClient(apis().get(0));
        String hangzhou = key("hangzhou");
        String tender = "{\"region\": 330100, \"project_code\": \"JAVA-RING\", \"section_code\": \"01\"}";
        String same = "6a".repeat(32);
        List<String> bidders = List.of("91330100MB05000097", "91330100MB0500010C");
        List<JsonNode> anchors = new java.util.ArrayList<>();
        anchors.add(action("{\"anchor_document\": {\"tender\": " + tender + ", \"stage\": \"announcement\","
                + " \"document_hash\": \"" + "6b".repeat(32) + "\", \"title\": \"公告\"}}"));
        for (String bidder : bidders) {
            anchors.add(action("{\"anchor_document\": {\"tender\": " + tender + ", \"stage\": \"bid\", \"document_hash\": \""
                    + same + "\", \"title\": \"投标文件\", \"parties\": [\"" + bidder + "\"]}}"));
        }
        for (JsonNode a : anchors) {
            assertTrue(node.waitFinalised(node.send(hangzhou, a), Duration.ofSeconds(60)).applied(), a.toString());
        }

        HuxinClient.RingAlert first;
        try (var alerts = node.ringEvents(key("supervisor"), "kind=identical_bid_documents&subject=" + bidders.get(0))) {
            first = alerts.findFirst().orElseThrow();
        }
        assertEquals("identical_bid_documents", first.kind());
        assertEquals(String.valueOf(first.data().height()), first.id().split(":")[0]);
        var finding = assertInstanceOf(Supervision.Finding.IdenticalBidDocuments.class, first.data().finding());
        assertEquals(same, finding.documentHash());
        assertEquals("identical_bid_documents:" + same, first.data().key());
        assertEquals(bidders, finding.bidders());
        // A centre's key is not a supervisor's: refused before any event.
        ApiException refused = assertThrows(ApiException.class, () -> node.ringEvents(hangzhou, ""));
        assertEquals(403, refused.status());
        assertEquals("forbidden", refused.code());
    }

    @Test
    void aBatchIsSignedAtConsecutiveNoncesAndEachItemAnswered() throws IOException {
        List<String> apis = apis();
        HuxinClient node = new HuxinClient(apis.get(0));
        List<JsonNode> anchors = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            anchors.add(action("{\"anchor_document\": {\"tender\": {\"region\": 330200, \"project_code\": \"JAVA-BATCH\","
                    + " \"section_code\": \"0" + i + "\"}, \"stage\": \"announcement\", \"document_hash\": \"" + "0" + i + "ef".repeat(31) + "\","
                    + " \"title\": \"批量\"}}"));
        }
        HuxinClient.Batch batch = node.sendBatch(key("ningbo"), anchors);
        assertEquals(3, batch.results().size());
        for (HuxinClient.BatchResult r : batch.results()) {
            assertTrue(r.pending(), r.toString());
            assertTrue(node.waitFinalised(r.txHash(), Duration.ofSeconds(60)).applied(), r.toString());
        }
        long[] nonces = batch.results().stream()
                .mapToLong(r -> node.tx(r.txHash()).tx().body().nonce()).toArray();
        assertEquals(nonces[0] + 1, nonces[1]);
        assertEquals(nonces[1] + 1, nonces[2]);
        // A batch over the node's limit is refused here, as is a bad item, naming it.
        List<JsonNode> tooMany = java.util.Collections.nCopies(HuxinClient.BATCH_TXS_MAX + 1, anchors.get(0));
        assertEquals("actions", assertThrows(EncodeException.class, () -> node.sendBatch(key("ningbo"), tooMany)).field());
        JsonNode bad = attest();
        ((com.fasterxml.jackson.databind.node.ObjectNode) bad.get("attest_subject")).put("bound_key", "abcd");
        assertEquals("actions[1].attest_subject.bound_key",
                assertThrows(EncodeException.class, () -> node.sendBatch(key("ningbo"), List.of(anchors.get(0), bad))).field());
    }

    @Test
    void aNodesRefusalsAreTypedWithTheStableCode() throws IOException {
        HuxinClient client = new HuxinClient(apis().get(0));
        ApiException missing = assertThrows(ApiException.class, () -> client.guarantee("NO/SUCH"));
        assertEquals("not_found", missing.code());
        assertEquals(404, missing.status());
        assertEquals(Signing.publicKey(key("bank")), client.signer(Signing.publicKey(key("bank"))).publicKey());
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
