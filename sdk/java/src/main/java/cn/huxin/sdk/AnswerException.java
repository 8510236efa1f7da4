package cn.huxin.sdk;

/** A node's answer did not have the shape this SDK expects: which field. */
public final class AnswerException extends RuntimeException {
    private final String field;

    public AnswerException(String field, String reason) {
        super("the node's answer: " + field + ": " + reason);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
