package cn.huxin.sdk;

/** The node refused the request: the HTTP status and the node's stable error code. */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;

    public ApiException(int status, String code, String message) {
        super(code + ": " + message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    /** The stable code, e.g. {@code not_found}, {@code bad_nonce}, {@code mempool_full}. */
    public String code() {
        return code;
    }
}
