package cn.huxin.sdk.model;

import cn.huxin.sdk.model.Deals.TenderRef;
import java.util.List;

/** E-guarantees (电子保函): as issued, their life and the state in force. */
public final class Guarantees {
    private Guarantees() {}

    public enum GuaranteeKind { BID_BOND, PERFORMANCE, ADVANCE_PAYMENT, PAYMENT }

    public enum GuaranteeState { ISSUED, VERIFIED, CLAIMED, PAID, RELEASED, CANCELLED, REPLACED, EXPIRED }

    /** The guarantee as its provider issued it. */
    public record IssueGuarantee(
            @Required String number,
            @Required GuaranteeKind kind,
            @Required String applicant,
            @Required String beneficiary,
            @Required String premiumPayer,
            @Required TenderRef tender,
            @Required long amountFen,
            @Required long validFrom,
            @Required long validUntil,
            @Required String documentHash,
            String replaces) {}

    /** One step of a guarantee's life. */
    public record GuaranteeEvent(
            @Required GuaranteeState state,
            @Required String by,
            @Required int region,
            @Required String reason,
            Long amountFen,
            String evidenceHash,
            @Required String txHash,
            @Required long height,
            @Required long time) {}

    /** A guarantee with the state in force at the answer's time (the document's GuaranteeRecord, flattened). */
    public record GuaranteeView(
            @Required IssueGuarantee guarantee,
            @Required String provider,
            @Required GuaranteeState state,
            Long claimedFen,
            String replacedBy,
            @Required List<GuaranteeEvent> history,
            @Required GuaranteeState currentState,
            @Required long height,
            @Required long time) {}
}
