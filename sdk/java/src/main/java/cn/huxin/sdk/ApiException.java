package cn.huxin.sdk;

import java.time.Duration;
import java.util.Optional;

/** The node refused the request: the HTTP status, the node's stable error code, and when to retry. */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final Duration retryAfter;

    public ApiException(int status, String code, String message, Duration retryAfter) {
        super(code + ": " + message);
        this.status = status;
        this.code = code;
        this.retryAfter = retryAfter;
    }

    public int status() {
        return status;
    }

    /** The stable code, e.g. {@code not_found}, {@code bad_nonce}, {@code mempool_full}. */
    public String code() {
        return code;
    }

    /** The node's Retry-After (with {@code mempool_full}, {@code unavailable}, {@code too_many_streams}). */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
