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
