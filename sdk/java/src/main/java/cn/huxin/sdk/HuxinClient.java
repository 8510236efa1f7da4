package cn.huxin.sdk;

import cn.huxin.sdk.model.Chain;
import cn.huxin.sdk.model.Credit;
import cn.huxin.sdk.model.Deals;
import cn.huxin.sdk.model.Governance;
import cn.huxin.sdk.model.Guarantees;
import cn.huxin.sdk.model.Proofs.Page;
import cn.huxin.sdk.model.Proofs.Proven;
import cn.huxin.sdk.model.Proofs.StateProof;
import cn.huxin.sdk.model.Subjects;
import cn.huxin.sdk.model.Supervision;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A client of one node's API. Transactions are encoded and signed here (never a node's prepared
 * payload signed unchecked), submitted and waited for. Every read endpoint answers a typed model
 * ({@code cn.huxin.sdk.model}); an answer that does not have the documented shape is an
 * {@link AnswerException} naming the field, a refusal an {@link ApiException} with the stable code.
 */
public final class HuxinClient {
    /** Heights a transaction this client sends stays includable (the ledger allows up to 100 000). */
    public static final long EXPIRY_HEIGHTS = 100;

    /** Items per page the listing iterators ask for (the node's cap is 1 000). */
    public static final int PAGE_LIMIT = 100;

    private final String base;
    private final Duration timeout;
    private final HttpClient http;
    /** The last nonce this client sent per signer, so that several sends in a row need no waiting. */
    private final java.util.concurrent.ConcurrentHashMap<String, Long> sentNonces = new java.util.concurrent.ConcurrentHashMap<>();

    public HuxinClient(String base) {
        this(base, Duration.ofSeconds(10));
    }

    public HuxinClient(String base, Duration timeout) {
        this.base = base.replaceAll("/+$", "");
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    // ---- reading answers ----------------------------------------------------------------------

    /** How a proven read is asked: at the latest block or at a past time, with or without a proof. */
    public record Read(Long time, boolean proof) {
        public static final Read LATEST = new Read(null, false);

        public static Read at(long timeMs) {
            return new Read(timeMs, false);
        }

        public Read proven() {
            return new Read(time, true);
        }

        String query() {
            return HuxinClient.query("time", time, "proof", proof ? "true" : null);
        }
    }

    /**
     * A query string of {@code name, value} pairs, percent-encoded; null values are left out
     * ({@code query("region", 330100, "kind", null)} is {@code "region=330100"}).
     */
    public static String query(Object... pairs) {
        if (pairs.length % 2 != 0) throw new IllegalArgumentException("query takes name, value pairs");
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < pairs.length; i += 2)
            if (pairs[i + 1] != null) parts.add(segment(pairs[i].toString()) + "=" + segment(pairs[i + 1].toString()));
        return String.join("&", parts);
    }

    /** {@code value} as one URL path segment (guarantee numbers may hold {@code /}). */
    public static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String withQuery(String path, String query) {
        return query == null || query.isEmpty() ? path : path + (path.contains("?") ? "&" : "?") + query;
    }

    private HttpResponse<String> exchange(HttpRequest.Builder builder) {
        try {
            return http.send(builder.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The node's refusal as an {@link ApiException}, from its error body and Retry-After. */
    private static ApiException refusal(int status, String body, java.net.http.HttpHeaders headers) {
        JsonNode error;
        try {
            error = Answers.JSON.readTree(body).path("error");
        } catch (IOException e) {
            throw new AnswerException("body", "not JSON (HTTP " + status + ")");
        }
        return new ApiException(status, text(error, "code"), text(error, "message"), retryAfter(headers));
    }

    /** The answer's Retry-After in seconds, if it has one. */
    private static Duration retryAfter(java.net.http.HttpHeaders headers) {
        return headers.firstValue("retry-after")
                .filter(v -> v.matches("[0-9]{1,6}"))
                .map(v -> Duration.ofSeconds(Long.parseLong(v)))
                .orElse(null);
    }

    private JsonNode request(HttpRequest.Builder builder) {
        return json(exchange(builder));
    }

    /** The answer's JSON; a refusal is an {@link ApiException}. */
    private static JsonNode json(HttpResponse<String> response) {
        if (response.statusCode() >= 400) throw refusal(response.statusCode(), response.body(), response.headers());
        try {
            return Answers.JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AnswerException("body", "not JSON (HTTP " + response.statusCode() + ")");
        }
    }

    private static String text(JsonNode answer, String field) {
        JsonNode v = answer.get(field);
        if (v == null || !v.isTextual()) throw new AnswerException(field, "expected a string, got " + v);
        return v.asText();
    }

    /** GET any read endpoint as JSON. */
    public JsonNode get(String pathAndQuery) {
        return request(HttpRequest.newBuilder(URI.create(base + pathAndQuery)).GET());
    }

    /** GET an endpoint that answers text ({@code /metrics}, {@code /v1/stats?format=csv}). */
    public String getText(String pathAndQuery) {
        HttpResponse<String> response = exchange(HttpRequest.newBuilder(URI.create(base + pathAndQuery)).GET());
        if (response.statusCode() >= 400) throw refusal(response.statusCode(), response.body(), response.headers());
        return response.body();
    }

    /** Decode any answer as {@code type} (for callers with their own records). */
    public static <T> T decode(JsonNode answer, Class<T> type) {
        return Answers.as(answer, type);
    }

    private <T> T get(String pathAndQuery, Class<T> type) {
        return Answers.as(get(pathAndQuery), type);
    }

    /** A proven answer: the view (read from the whole answer) and its proof, if asked for. */
    private <T> Proven<T> proven(String path, Read read, Class<T> type) {
        JsonNode answer = get(withQuery(path, read.query()));
        JsonNode proof = answer.get("proof");
        StateProof decoded = proof == null || proof.isNull() ? null : Answers.as(proof, StateProof.class);
        if (read.proof() && decoded == null) throw new AnswerException("proof", "asked for, not sent");
        return new Proven<>(Answers.as(answer, type), decoded);
    }

    // ---- the chain ----------------------------------------------------------------------------

    public Chain.StatusView status() {
        return get("/v1/status", Chain.StatusView.class);
    }

    /** The latest block, with the first page of its transactions. */
    public Chain.BlockView latestBlock() {
        return get("/v1/blocks/latest", Chain.BlockView.class);
    }

    /** A block, with up to {@code txLimit} of its transactions from {@code txOffset}. */
    public Chain.BlockView block(long height, int txOffset, int txLimit) {
        return get("/v1/blocks/" + height + "?" + query("tx_offset", txOffset, "tx_limit", txLimit), Chain.BlockView.class);
    }

    public Chain.BlockView block(long height) {
        return get("/v1/blocks/" + height, Chain.BlockView.class);
    }

    /** A transaction's status: pending, finalised (height, outcome) or dropped (reason). */
    public Chain.TxStatusView tx(String hash) {
        return get("/v1/txs/" + segment(hash), Chain.TxStatusView.class);
    }

    /** A signing key's member and nonces. */
    public Chain.SignerView signer(String key) {
        return get("/v1/signers/" + segment(key), Chain.SignerView.class);
    }

    /** The next nonce the ledger expects from {@code key} (pending transactions not counted). */
    public long nextNonce(String key) {
        return signer(key).nextNonce();
    }

    /** Where every transaction {@code key} signed landed, in order. */
    public Iterable<Chain.SignerTx> signerTxs(String key) {
        return pages("/v1/signers/" + segment(key) + "/txs", Chain.SignerTx.class, PAGE_LIMIT);
    }

    /** Monthly counters ({@code filters}: from, to, region, metric; see {@link #query}). */
    public Chain.StatsView stats(String filters) {
        return get(withQuery("/v1/stats", filters), Chain.StatsView.class);
    }

    /** The same counters as CSV, for a spreadsheet. */
    public String statsCsv(String filters) {
        return getText(withQuery("/v1/stats", withQuery("format=csv", filters)));
    }

    /** The node's Prometheus metrics (text exposition format). */
    public String metrics() {
        return getText("/metrics");
    }

    // ---- the federation -----------------------------------------------------------------------

    public List<Governance.MemberRecord> members() {
        return Answers.as(get("/v1/members"),
                Answers.JSON.getTypeFactory().constructCollectionType(List.class, Governance.MemberRecord.class));
    }

    public Governance.ValidatorsView validators() {
        return get("/v1/validators", Governance.ValidatorsView.class);
    }

    public Governance.Params params() {
        return get("/v1/params", Governance.Params.class);
    }

    /** A governance proposal by its id (the proposing transaction's hash). */
    public Governance.ProposalRecord proposal(String id) {
        return get("/v1/proposals/" + segment(id), Governance.ProposalRecord.class);
    }

    // ---- subjects -----------------------------------------------------------------------------

    /** A subject's profile: attestation, blacklist entries, credit score, grants. */
    public Subjects.SubjectView subject(String subject) {
        return subject(subject, Read.LATEST).view();
    }

    public Proven<Subjects.SubjectView> subject(String subject, Read read) {
        return proven("/v1/subjects/" + segment(subject), read, Subjects.SubjectView.class);
    }

    /** May the subject trade in {@code region} (at the latest block's time)? With every reason it may not. */
    public Subjects.EligibilityView eligibility(String subject, int region) {
        return eligibility(subject, region, Read.LATEST).view();
    }

    public Proven<Subjects.EligibilityView> eligibility(String subject, int region, Read read) {
        return proven("/v1/subjects/" + segment(subject) + "/eligibility?region=" + region, read,
                Subjects.EligibilityView.class);
    }

    /** Subjects whose name contains {@code name}. */
    public Iterable<Subjects.SubjectMatch> searchSubjects(String name) {
        return pages("/v1/subjects?" + query("name", name), Subjects.SubjectMatch.class, PAGE_LIMIT);
    }

    /** The documents anchored naming the subject as a party. */
    public Iterable<Deals.AnchorRecord> subjectDeals(String subject) {
        return pages("/v1/subjects/" + segment(subject) + "/deals", Deals.AnchorRecord.class, PAGE_LIMIT);
    }

    /** Blacklist entries in force ({@code filters}: region, time). */
    public Iterable<Subjects.BlacklistEntry> blacklist(String filters) {
        return pages(withQuery("/v1/blacklist", filters), Subjects.BlacklistEntry.class, PAGE_LIMIT);
    }

    /**
     * A subject's attestation as a W3C Verifiable Credential (VC 2.0, eddsa-jcs-2022 proof by the
     * attesting centre's did:key), as JSON: ask the attesting centre's node (others answer 409 not_issuer).
     */
    public JsonNode credential(String subject) {
        return get("/v1/subjects/" + segment(subject) + "/credential");
    }

    /** An evaluation session and the pools its expert draw was made from. */
    public Deals.EvaluationView evaluation(String id) {
        return Answers.as(get("/v1/evaluations/" + segment(id)), Deals.EvaluationView.class);
    }

    // ---- credit -------------------------------------------------------------------------------

    /** A subject's public credit history across all regions. */
    public Credit.CreditHistoryView creditHistory(String subject) {
        return creditHistory(subject, Read.LATEST).view();
    }

    public Proven<Credit.CreditHistoryView> creditHistory(String subject, Read read) {
        return proven("/v1/subjects/" + segment(subject) + "/credit", read, Credit.CreditHistoryView.class);
    }

    /** Published credit records ({@code filters}: region, kind, severity, from, to, time). */
    public Iterable<Credit.CreditItem> credit(String filters) {
        return pages(withQuery("/v1/credit", filters), Credit.CreditItem.class, PAGE_LIMIT);
    }

    // ---- guarantees and deals -----------------------------------------------------------------

    /** An e-guarantee by its number (which may hold {@code /}). */
    public Guarantees.GuaranteeView guarantee(String number) {
        return guarantee(number, Read.LATEST).view();
    }

    public Proven<Guarantees.GuaranteeView> guarantee(String number, Read read) {
        return proven("/v1/guarantees/" + segment(number), read, Guarantees.GuaranteeView.class);
    }

    /** Guarantees by one filter: provider, tender, applicant or status (see {@link #query}). */
    public Iterable<Guarantees.GuaranteeView> guarantees(String filter) {
        return pages(withQuery("/v1/guarantees", filter), Guarantees.GuaranteeView.class, PAGE_LIMIT);
    }

    /** Every anchor of a document hash: is this document the one on the ledger, and where? */
    public Proven<Deals.DocumentView> document(String hash, Read read) {
        return proven("/v1/documents/" + segment(hash), read, Deals.DocumentView.class);
    }

    /** A tender section's timeline and collusion warnings. */
    public Proven<Deals.TenderView> tender(int region, String project, String section, Read read) {
        return proven("/v1/tenders/" + region + "/" + segment(project) + "/" + segment(section), read, Deals.TenderView.class);
    }

    /** The audit-log heads {@code member} anchored on the ledger. */
    public Iterable<Supervision.AuditAnchor> auditAnchors(String member) {
        return pages("/v1/audit/anchors/" + segment(member), Supervision.AuditAnchor.class, PAGE_LIMIT);
    }

    // ---- paging -------------------------------------------------------------------------------

    /**
     * Every item of a listing, {@code limit} at a time, following {@code next_cursor} until the
     * last page; each page is fetched when the one before is used up.
     */
    public <T> Iterable<T> pages(String path, Class<T> item, int limit) {
        return pages(path, item, limit, this::get);
    }

    private static <T> Iterable<T> pages(String path, Class<T> item, int limit, Function<String, JsonNode> fetch) {
        JavaType pageType = Answers.JSON.getTypeFactory().constructParametricType(Page.class, item);
        return () -> new Iterator<>() {
            private Iterator<T> page = Collections.emptyIterator();
            private String cursor = null;
            private boolean last = false;

            public boolean hasNext() {
                while (!page.hasNext() && !last) {
                    Page<T> answer = Answers.as(fetch.apply(withQuery(path, query("limit", limit, "cursor", cursor))), pageType);
                    page = answer.items().iterator();
                    cursor = answer.nextCursor();
                    last = cursor == null;
                }
                return page.hasNext();
            }

            public T next() {
                if (!hasNext()) throw new NoSuchElementException();
                return page.next();
            }
        };
    }

    // ---- supervisors' signed reads ------------------------------------------------------------

    /**
     * A signed GET (supervisor access, logged in the node's audit log), signed for this node (its
     * chain id and node key) at the current time; {@code pathAndQuery} as sent, percent-encoded.
     */
    public JsonNode signedGet(String secretKeyHex, String pathAndQuery) {
        return request(signedRequest(secretKeyHex, pathAndQuery));
    }

    /** A GET of {@code pathAndQuery} signed for this node, now. */
    private HttpRequest.Builder signedRequest(String secretKeyHex, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? "" : pathAndQuery.substring(q + 1);
        Chain.StatusView status = status();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).GET();
        Signing.signQuery(secretKeyHex, status.chainId(), status.nodeKey(), "GET", path, query, System.currentTimeMillis())
                .forEach(request::header);
        return request;
    }

    /** A subject's whole credit history, withheld records included. */
    public Credit.FullCreditView fullCreditHistory(String secretKeyHex, String subject) {
        return Answers.as(signedGet(secretKeyHex, "/v1/supervisor/subjects/" + segment(subject) + "/credit"),
                Credit.FullCreditView.class);
    }

    /** Every credit record, withheld ones included ({@code filters} as {@link #credit}, plus status). */
    public Iterable<Credit.CreditItem> supervisorCredit(String secretKeyHex, String filters) {
        return pages(withQuery("/v1/supervisor/credit", filters), Credit.CreditItem.class, PAGE_LIMIT,
                pathAndQuery -> signedGet(secretKeyHex, pathAndQuery));
    }

    /** This node's audit log of supervisor queries, {@code limit} entries after {@code after} (null: from the start). */
    public Supervision.AuditPage auditLog(String secretKeyHex, Long after, int limit) {
        return Answers.as(signedGet(secretKeyHex, "/v1/supervisor/audit?" + query("after", after, "limit", limit)),
                Supervision.AuditPage.class);
    }

    /**
     * The collusion-ring report, one page: {@code query} is the query string (from_height,
     * to_height, kind, subject, limit, cursor), empty for the defaults.
     */
    public Supervision.RingReport ringReport(String secretKeyHex, String query) {
        String path = query.isEmpty() ? "/v1/supervisor/rings" : "/v1/supervisor/rings?" + query;
        return Answers.as(signedGet(secretKeyHex, path), Supervision.RingReport.class);
    }

    // ---- reads by a subject's grant (数据授权), signed and audited ------------------------------

    /** A subject's whole credit history, read by its {@code credit_history} grant to this key's member (403 grant_missing without one). */
    public Credit.FullCreditView grantedCreditHistory(String secretKeyHex, String subject) {
        return Answers.as(signedGet(secretKeyHex, "/v1/granted/subjects/" + segment(subject) + "/credit"),
                Credit.FullCreditView.class);
    }

    /** The guarantees a subject (a USCC) applied for, read by its {@code guarantees} grant ({@code filters}: status, time). */
    public Iterable<Guarantees.GuaranteeView> grantedGuarantees(String secretKeyHex, String subject, String filters) {
        return pages(withQuery("/v1/granted/subjects/" + segment(subject) + "/guarantees", filters),
                Guarantees.GuaranteeView.class, PAGE_LIMIT, pathAndQuery -> signedGet(secretKeyHex, pathAndQuery));
    }

    /** The deal documents naming a subject (a USCC), read by its {@code deals} grant. */
    public Iterable<Deals.AnchorRecord> grantedDeals(String secretKeyHex, String subject) {
        return pages("/v1/granted/subjects/" + segment(subject) + "/deals", Deals.AnchorRecord.class, PAGE_LIMIT,
                pathAndQuery -> signedGet(secretKeyHex, pathAndQuery));
    }

    // ---- transactions -------------------------------------------------------------------------

    /**
     * Encode and sign {@code action} (its JSON) with {@code secretKeyHex} here, and submit it: the
     * chain id from the node, the next nonce unless given (the ledger's, or one past the last this
     * client sent for the signer if that is later: pending transactions are not on the ledger yet),
     * an expiry {@link #EXPIRY_HEIGHTS} past the latest height. Bad input is refused before
     * anything is sent.
     */
    public String send(String secretKeyHex, JsonNode action, Long nonce) {
        String signer = Signing.publicKey(secretKeyHex);
        Codec.encode(Schemas.ACTION, action);
        Chain.StatusView status = status();
        long next = nonce != null ? nonce : nextNonceToSend(signer);
        Signing.Signed signed = sign(secretKeyHex, status, next, action);
        Chain.SubmitResponse answer = Answers.as(request(postOf("/v1/txs", submission(signed))), Chain.SubmitResponse.class);
        if (!answer.txHash().equals(signed.txHash()))
            throw new AnswerException("tx_hash", "the node says " + answer.txHash() + ", the body hashes to " + signed.txHash());
        sentNonces.merge(signer, next, Math::max);
        return answer.txHash();
    }

    /** The ledger's next nonce for {@code signer}, or one past the last this client sent if later. */
    private long nextNonceToSend(String signer) {
        return Math.max(nextNonce(signer), sentNonces.getOrDefault(signer, -1L) + 1);
    }

    /** {@code action} signed at {@code nonce} for the node's chain, expiring {@link #EXPIRY_HEIGHTS} on. */
    private static Signing.Signed sign(String secretKeyHex, Chain.StatusView status, long nonce, JsonNode action) {
        ObjectNode body = Answers.JSON.createObjectNode();
        body.put("chain_id", status.chainId());
        body.put("signer", Signing.publicKey(secretKeyHex));
        body.put("nonce", nonce);
        body.putObject("expiry").put("height", status.latestHeight() + EXPIRY_HEIGHTS);
        body.set("action", action);
        return Signing.signTx(body, secretKeyHex);
    }

    private static ObjectNode submission(Signing.Signed signed) {
        return Answers.JSON.createObjectNode()
                .put("payload", signed.payload())
                .put("public_key", signed.publicKey())
                .put("signature", signed.signature());
    }

    private HttpRequest.Builder postOf(String path, JsonNode body) {
        return HttpRequest.newBuilder(URI.create(base + path))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    }

    /** Most transactions one batch carries (the node's limit). */
    public static final int BATCH_TXS_MAX = 1000;

    /** A batch item's result: its hash, and the node's refusal of it (both null: it is pending). */
    public record BatchResult(String txHash, String code, String message) {
        public boolean pending() {
            return code == null;
        }
    }

    /** A batch's results, in order, and the node's Retry-After when it shed some (else null). */
    public record Batch(List<BatchResult> results, Duration retryAfter) {}

    /**
     * Encode and sign {@code actions} with one key at consecutive nonces, and submit them in one
     * request: one result per action, in order. The node admits each on its own; items it shed
     * ({@code mempool_full}, {@code unavailable}) can be sent again after the batch's Retry-After.
     * Bad input, or more than {@link #BATCH_TXS_MAX} actions, is refused before anything is sent.
     */
    public Batch sendBatch(String secretKeyHex, List<JsonNode> actions) {
        if (actions.size() > BATCH_TXS_MAX)
            throw new EncodeException("actions", actions.size() + " in one batch; at most " + BATCH_TXS_MAX);
        String signer = Signing.publicKey(secretKeyHex);
        for (int i = 0; i < actions.size(); i++) {
            try {
                Codec.encode(Schemas.ACTION, actions.get(i));
            } catch (EncodeException e) {
                throw new EncodeException("actions[" + i + "]" + (e.field().isEmpty() ? "" : "." + e.field()), e.getMessage());
            }
        }
        Chain.StatusView status = status();
        long first = nextNonceToSend(signer);
        List<Signing.Signed> signed = new ArrayList<>();
        ObjectNode batch = Answers.JSON.createObjectNode();
        var txs = batch.putArray("txs");
        for (int i = 0; i < actions.size(); i++) {
            signed.add(sign(secretKeyHex, status, first + i, actions.get(i)));
            txs.add(submission(signed.get(i)));
        }
        HttpResponse<String> response = exchange(postOf("/v1/txs/batch", batch));
        Chain.BatchResponse answer = Answers.as(json(response), Chain.BatchResponse.class);
        if (answer.results().size() != actions.size())
            throw new AnswerException("results", answer.results().size() + " results for " + actions.size() + " transactions");
        List<BatchResult> results = new ArrayList<>();
        for (int i = 0; i < actions.size(); i++) {
            Chain.BatchItem item = answer.results().get(i);
            String hash = signed.get(i).txHash();
            if (item.error() != null && !item.error().isNull()) {
                results.add(new BatchResult(hash, text(item.error(), "code"), text(item.error(), "message")));
                continue;
            }
            if (!hash.equals(item.txHash()))
                throw new AnswerException("results[" + i + "].tx_hash", "the node says " + item.txHash() + ", the body hashes to " + hash);
            sentNonces.merge(signer, first + i, Math::max);
            results.add(new BatchResult(hash, null, null));
        }
        return new Batch(results, retryAfter(response.headers()));
    }

    public String send(String secretKeyHex, JsonNode action) {
        return send(secretKeyHex, action, null);
    }

    /** Poll until {@code hash} is finalised or dropped. */
    public Chain.TxStatusView waitFinalised(String hash, Duration within) {
        long until = System.nanoTime() + within.toNanos();
        while (true) {
            try {
                Chain.TxStatusView t = tx(hash);
                if (!t.status().equals("pending")) return t;
            } catch (ApiException e) {
                if (!e.code().equals("not_found")) throw e;
            }
            if (System.nanoTime() > until) throw new IllegalStateException(hash + " not finalised within " + within);
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    // ---- the event stream ---------------------------------------------------------------------

    /** One server-sent event: its id ({@code height:index}), kind and data. */
    public record Event(String id, String kind, Chain.Event data) {}

    /** One collusion-ring event: its id ({@code height:n}), kind (the finding's) and data. */
    public record RingAlert(String id, String kind, Supervision.RingEvent data) {}

    /**
     * The event stream ({@code /v1/events?query}): one event per applied transaction, replayed
     * from {@code from_height} in the query or after {@code lastEventId}, then live. Close the
     * returned stream to stop.
     */
    public Stream<Event> events(String query, String lastEventId) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(withQuery(base + "/v1/events", query))).GET();
        if (lastEventId != null) request.header("last-event-id", lastEventId);
        return serverEvents(request, (id, kind, data) -> new Event(id, kind, Answers.as(data, Chain.Event.class)));
    }

    /**
     * Collusion-ring findings as they appear ({@code /v1/supervisor/rings/events}, signed and
     * audited like the report): every finding in force on connect, then each new or grown one as
     * blocks are added, and each one sent that no longer stands (its key, a null finding);
     * {@code query} filters (from_height, kind, subject), empty for none. Close the returned
     * stream to stop.
     */
    public Stream<RingAlert> ringEvents(String secretKeyHex, String query) {
        HttpRequest.Builder request = signedRequest(secretKeyHex, withQuery("/v1/supervisor/rings/events", query));
        return serverEvents(request, (id, kind, data) -> new RingAlert(id, kind, Answers.as(data, Supervision.RingEvent.class)));
    }

    private <E> Stream<E> serverEvents(HttpRequest.Builder request, EventStream.Decoder<E> decoder) {
        HttpResponse<Stream<String>> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofLines());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        if (response.statusCode() >= 400) {
            String body = response.body().collect(Collectors.joining("\n"));
            throw refusal(response.statusCode(), body, response.headers());
        }
        Iterator<E> events = new EventStream<>(response.body().iterator(), decoder);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(events, Spliterator.ORDERED), false)
                .onClose(response.body()::close);
    }
}
