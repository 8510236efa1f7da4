package cn.huxin.sdk.model;

import cn.huxin.sdk.model.Deals.TenderRef;
import cn.huxin.sdk.model.Tagged.Shape;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.List;

/**
 * Supervisors' access: the node's audit log of signed queries, its anchors on the ledger, and the
 * collusion-ring report.
 */
public final class Supervision {
    private Supervision() {}

    /** One signed supervisor query, chained to the one before it. */
    public record AuditEntry(
            @Required long seq,
            @Required long time,
            @Required String supervisorKey,
            @Required String member,
            @Required String method,
            @Required String target,
            @Required long signedTime,
            @Required String signature,
            @Required int status,
            @Required long resultCount,
            @Required String prevHash,
            @Required String hash) {}

    /** A page of the audit log, with its head (and the member anchoring it on the ledger). */
    public record AuditPage(
            @Required List<AuditEntry> entries,
            @Required long headSeq,
            @Required String headHash,
            String anchorMember,
            Long nextAfter) {}

    /** An audit-log head a member anchored on the ledger. */
    public record AuditAnchor(@Required String member, @Required long seq, @Required String head, @Required long height, @Required long time) {}

    /** A section as evidence of a ring: the ring's members who bid there, and who won. */
    public record SectionEvidence(
            @Required TenderRef tender,
            @Required List<String> bidders,
            @Required List<String> winners,
            @Required long firstBidHeight,
            @Required long firstBidTime,
            @Required List<String> bidDocuments) {}

    /** A bid carrying a document another bidder's bid carries too. */
    public record BidEvidence(
            @Required TenderRef tender, @Required String bidder, @Required long height, @Required long time,
            @Required String txHash) {}

    /** One finding of the collusion-ring analysis, with its evidence. */
    @JsonDeserialize(using = Finding.Decoder.class)
    public sealed interface Finding {
        /** Bidders who keep bidding in the same sections (陪标、围标). */
        @JsonDeserialize
        record BiddingRing(@Required List<String> members, @Required List<SectionEvidence> sections, @Required long sectionsTotal)
                implements Finding {}

        /** Different members of a ring won the sections it bid in (轮流坐庄). */
        @JsonDeserialize
        record WinRotation(
                @Required List<String> members, @Required List<String> winners, @Required List<SectionEvidence> wins,
                @Required long winsTotal) implements Finding {}

        /** One payer paid the bid-bond premiums of several other applicants. */
        @JsonDeserialize
        record SharedPremiumPayer(
                @Required String payer, @Required List<String> applicants, @Required List<TenderRef> sections,
                @Required long sectionsTotal) implements Finding {}

        /** One bid document anchored as different bidders' bids. */
        @JsonDeserialize
        record IdenticalBidDocuments(@Required String documentHash, @Required List<String> bidders, @Required List<BidEvidence> bids)
                implements Finding {}

        final class Decoder extends Tagged<Finding> {
            public Decoder() {
                super(Finding.class);
                variant("bidding_ring", BiddingRing.class, Shape.STRUCT);
                variant("win_rotation", WinRotation.class, Shape.STRUCT);
                variant("shared_premium_payer", SharedPremiumPayer.class, Shape.STRUCT);
                variant("identical_bid_documents", IdenticalBidDocuments.class, Shape.STRUCT);
            }
        }
    }

    /** A page of the collusion-ring report, read at {@code height}. */
    public record RingReport(
            @Required long height,
            @Required long fromHeight,
            @Required long toHeight,
            @Required Governance.RingParams params,
            @Required long sections,
            @Required long bids,
            @Required long sectionsTooLarge,
            @Required long findingsTotal,
            @Required List<Finding> findings,
            String nextCursor) {}

    /**
     * One event of the ring event stream: a finding new or changed at {@code height}, or, with
     * {@code finding} null, one sent earlier under {@code key} that no longer stands.
     */
    public record RingEvent(@Required long height, @Required String key, Finding finding) {}
}
