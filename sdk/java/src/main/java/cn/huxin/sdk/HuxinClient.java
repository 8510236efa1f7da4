package cn.huxin.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A client of one node's API: the body encoded and signed here (never a node's prepared payload
 * signed unchecked), submitted and waited for; the node's answers checked field by field.
 */
public final class HuxinClient {
    /** Heights a transaction this client sends stays includable (the ledger allows up to 100 000). */
    public static final long EXPIRY_HEIGHTS = 100;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final Duration timeout;
    private final HttpClient http;

    public HuxinClient(String base) {
        this(base, Duration.ofSeconds(10));
    }

    public HuxinClient(String base, Duration timeout) {
        this.base = base.replaceAll("/+$", "");
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** The status of a transaction: pending, finalised (height, outcome) or dropped. */
    public record TxStatus(String txHash, String status, Long height, JsonNode outcome) {
        public boolean applied() {
            return outcome != null && outcome.isTextual() && outcome.asText().equals("applied");
        }
    }

    public record Status(String chainId, long latestHeight, String nodeKey) {}

    private JsonNode request(HttpRequest.Builder builder) {
        HttpResponse<String> response;
        try {
            response = http.send(builder.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        JsonNode json;
        try {
            json = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AnswerException("body", "not JSON (HTTP " + response.statusCode() + ")");
        }
        if (response.statusCode() >= 400) {
            JsonNode error = json.path("error");
            throw new ApiException(response.statusCode(), text(error, "code"), text(error, "message"));
        }
        return json;
    }

    private static String text(JsonNode answer, String field) {
        JsonNode v = answer.get(field);
        if (v == null || !v.isTextual()) throw new AnswerException(field, "expected a string, got " + v);
        return v.asText();
    }

    private static long count(JsonNode answer, String field) {
        JsonNode v = answer.get(field);
        if (v == null || !v.canConvertToExactIntegral() || v.asLong() < 0)
            throw new AnswerException(field, "expected a count, got " + v);
        return v.asLong();
    }

    /** GET any read endpoint as JSON. */
    public JsonNode get(String path) {
        return request(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }


    /** {@code answer} as a {@code type}: a missing or mistyped field is an {@link AnswerException} naming it. */
    private static <T> T as(JsonNode answer, Class<T> type) {
        try {
            return JSON.treeToValue(answer, type);
        } catch (com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
            String field = e.getPath().stream()
                    .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(java.util.stream.Collectors.joining("."));
            String message = e.getOriginalMessage();
            // A missing required field has no path; its name is quoted in the message.
            java.util.regex.Matcher quoted = java.util.regex.Pattern.compile("'([^']+)'").matcher(message);
            if (field.isEmpty() && quoted.find()) field = quoted.group(1);
            throw new AnswerException(field.isEmpty() ? type.getSimpleName() : field, message);
        } catch (IOException e) {
            throw new AnswerException(type.getSimpleName(), e.getMessage());
        }
    }

    /** May the subject trade in {@code region} (at the latest block's time)? With every reason it may not. */
    public Views.Eligibility eligibility(String subject, int region) {
        return as(get("/v1/subjects/" + segment(subject) + "/eligibility?region=" + region), Views.Eligibility.class);
    }

    /** A subject's profile: attestation, blacklist entries, credit score. */
    public Views.Subject subject(String subject) {
        return as(get("/v1/subjects/" + segment(subject)), Views.Subject.class);
    }

    /** A subject's public credit history across all regions. */
    public Views.CreditHistory creditHistory(String subject) {
        return as(get("/v1/subjects/" + segment(subject) + "/credit"), Views.CreditHistory.class);
    }

    /** An e-guarantee by its number (which may hold {@code /}). */
    public Views.Guarantee guarantee(String number) {
        return as(get("/v1/guarantees/" + segment(number)), Views.Guarantee.class);
    }

    /** Decode any answer as {@code type} (for tests and callers with their own records). */
    public static <T> T decode(JsonNode answer, Class<T> type) {
        return as(answer, type);
    }

    /** {@code value} as one URL path segment. */
    public static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    public Status status() {
        JsonNode s = get("/v1/status");
        return new Status(text(s, "chain_id"), count(s, "latest_height"), text(s, "node_key"));
    }

    /** The next nonce the ledger expects from {@code key} (pending transactions not counted). */
    public long nextNonce(String key) {
        return count(get("/v1/signers/" + segment(key)), "next_nonce");
    }

    public TxStatus tx(String hash) {
        JsonNode t = get("/v1/txs/" + segment(hash));
        String status = text(t, "status");
        if (!status.equals("pending") && !status.equals("finalised") && !status.equals("dropped"))
            throw new AnswerException("status", "unknown status " + status);
        JsonNode height = t.get("height");
        return new TxStatus(text(t, "tx_hash"), status, height != null && height.canConvertToLong() ? height.asLong() : null, t.get("outcome"));
    }

    /**
     * Encode and sign {@code action} (its JSON) with {@code secretKeyHex} here, and submit it: the
     * chain id from the node, the next nonce unless given, an expiry {@link #EXPIRY_HEIGHTS} past
     * the latest height. Bad input is refused before anything is sent.
     */
    public String send(String secretKeyHex, JsonNode action, Long nonce) {
        String signer = Signing.publicKey(secretKeyHex);
        Codec.encode(Schemas.ACTION, action);
        Status status = status();
        ObjectNode body = JSON.createObjectNode();
        body.put("chain_id", status.chainId());
        body.put("signer", signer);
        body.put("nonce", nonce != null ? nonce : nextNonce(signer));
        body.putObject("expiry").put("height", status.latestHeight() + EXPIRY_HEIGHTS);
        body.set("action", action);
        Signing.Signed signed = Signing.signTx(body, secretKeyHex);
        ObjectNode submission = JSON.createObjectNode()
                .put("payload", signed.payload())
                .put("public_key", signed.publicKey())
                .put("signature", signed.signature());
        JsonNode answer = request(HttpRequest.newBuilder(URI.create(base + "/v1/txs"))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(submission.toString())));
        String hash = text(answer, "tx_hash");
        if (!hash.equals(signed.txHash()))
            throw new AnswerException("tx_hash", "the node says " + hash + ", the body hashes to " + signed.txHash());
        return hash;
    }

    public String send(String secretKeyHex, JsonNode action) {
        return send(secretKeyHex, action, null);
    }

    /**
     * Every item of a listing ({@code /v1/credit}, {@code /v1/signers/{key}/txs}, ...), a page of
     * {@code limit} at a time, following {@code next_cursor} until the last page.
     */
    public Iterable<JsonNode> pages(String path, int limit) {
        String sep = path.contains("?") ? "&" : "?";
        return () -> new java.util.Iterator<>() {
            private java.util.Iterator<JsonNode> page = java.util.Collections.emptyIterator();
            private String cursor = null;
            private boolean last = false;

            public boolean hasNext() {
                while (!page.hasNext() && !last) {
                    JsonNode answer = get(path + sep + "limit=" + limit + (cursor == null ? "" : "&cursor=" + segment(cursor)));
                    JsonNode items = answer.get("items");
                    if (items == null || !items.isArray()) throw new AnswerException("items", "expected a list of items");
                    page = items.elements();
                    JsonNode next = answer.get("next_cursor");
                    if (next != null && !next.isNull() && !next.isTextual())
                        throw new AnswerException("next_cursor", "expected a cursor or null");
                    cursor = next == null || next.isNull() ? null : next.asText();
                    last = cursor == null;
                }
                return page.hasNext();
            }

            public JsonNode next() {
                if (!hasNext()) throw new java.util.NoSuchElementException();
                return page.next();
            }
        };
    }

    /**
     * A signed GET (supervisor access, logged in the node's audit log), signed for this node (its
     * chain id and node key) at the current time; {@code pathAndQuery} as sent, percent-encoded.
     */
    public JsonNode signedGet(String secretKeyHex, String pathAndQuery) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? "" : pathAndQuery.substring(q + 1);
        Status status = status();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).GET();
        Signing.signQuery(secretKeyHex, status.chainId(), status.nodeKey(), "GET", path, query, System.currentTimeMillis())
                .forEach(request::header);
        return request(request);
    }

    /** A subject's whole credit history, withheld records included: a signed supervisor query. */
    public JsonNode fullCreditHistory(String secretKeyHex, String subject) {
        return signedGet(secretKeyHex, "/v1/supervisor/subjects/" + segment(subject) + "/credit");
    }

    /** One server-sent event: its id ({@code height:index}), kind and data. */
    public record Event(String id, String kind, JsonNode data) {}

    /**
     * The event stream ({@code /v1/events?query}): one event per applied transaction, replayed
     * from {@code from_height} in the query or after {@code lastEventId}, then live. Close the
     * returned stream to stop.
     */
    public java.util.stream.Stream<Event> events(String query, String lastEventId) {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(base + "/v1/events" + (query.isEmpty() ? "" : "?" + query))).GET();
        if (lastEventId != null) request.header("last-event-id", lastEventId);
        HttpResponse<java.util.stream.Stream<String>> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofLines());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        if (response.statusCode() >= 400) {
            String body = response.body().collect(java.util.stream.Collectors.joining("\n"));
            JsonNode error;
            try {
                error = JSON.readTree(body).path("error");
            } catch (IOException e) {
                throw new AnswerException("body", "not JSON (HTTP " + response.statusCode() + ")");
            }
            throw new ApiException(response.statusCode(), text(error, "code"), text(error, "message"));
        }
        java.util.Iterator<String> lines = response.body().iterator();
        java.util.Iterator<Event> events = new java.util.Iterator<>() {
            private Event ready;

            public boolean hasNext() {
                String id = null, kind = "message";
                StringBuilder data = null;
                while (ready == null && lines.hasNext()) {
                    String line = lines.next();
                    if (line.isEmpty()) {
                        if (data != null) {
                            try {
                                ready = new Event(id, kind, JSON.readTree(data.toString()));
                            } catch (IOException e) {
                                throw new AnswerException("data", "event " + id + " is not JSON");
                            }
                        }
                        id = null;
                        kind = "message";
                        data = null;
                    } else if (line.startsWith("id:")) id = line.substring(3).trim();
                    else if (line.startsWith("event:")) kind = line.substring(6).trim();
                    else if (line.startsWith("data:")) {
                        String chunk = line.substring(5).replaceFirst("^ ", "");
                        data = data == null ? new StringBuilder(chunk) : data.append('\n').append(chunk);
                    }
                }
                return ready != null;
            }

            public Event next() {
                if (!hasNext()) throw new java.util.NoSuchElementException();
                Event e = ready;
                ready = null;
                return e;
            }
        };
        return java.util.stream.StreamSupport.stream(
                        java.util.Spliterators.spliteratorUnknownSize(events, java.util.Spliterator.ORDERED), false)
                .onClose(response.body()::close);
    }

    /** Poll until {@code hash} is finalised or dropped. */
    public TxStatus waitFinalised(String hash, Duration within) {
        long until = System.nanoTime() + within.toNanos();
        while (true) {
            try {
                TxStatus t = tx(hash);
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
}
