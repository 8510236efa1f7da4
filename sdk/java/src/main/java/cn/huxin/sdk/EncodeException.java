package cn.huxin.sdk;

/** Bad input refused locally, before anything is sent: which field and what is wrong. */
public final class EncodeException extends IllegalArgumentException {
    private final String field;

    public EncodeException(String field, String reason) {
        super((field.isEmpty() ? "value" : field) + ": " + reason);
        this.field = field;
    }

    /** The field's path, e.g. {@code action.issue_guarantee.amount_fen}. */
    public String field() {
        return field;
    }
}
