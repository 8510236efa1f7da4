package cn.huxin.sdk.model;

import cn.huxin.sdk.Schemas;
import cn.huxin.sdk.model.Subjects.Role;
import cn.huxin.sdk.model.Tagged.Shape;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.List;

/** The federation: members, validators, governance proposals and the ledger's parameters. */
public final class Governance {
    private Governance() {}

    public enum MemberStatus { ACTIVE, SUSPENDED, REMOVED }

    /** A member of the federation: a trading centre, guarantee provider or supervisor. */
    public record MemberRecord(
            @Required String id,
            @Required String name,
            @Required Role role,
            @Required int region,
            @Required String uscc,
            @Required List<String> keys,
            @Required MemberStatus status) {}

    public record ValidatorRecord(@Required String publicKey, @Required long power, @Required String member) {}

    /** A validator set that takes effect at {@code activation}. */
    public record NextValidators(@Required long activation, @Required List<ValidatorRecord> validators) {}

    public record ValidatorsView(@Required long height, @Required List<ValidatorRecord> current, NextValidators next) {}

    /**
     * A proposal's governance change: its kind and content, checked against the SDK's own layout
     * ({@link Schemas#PROPOSAL_ACTION}) like a transaction's action.
     */
    @JsonDeserialize(using = ProposalAction.Decoder.class)
    public record ProposalAction(String kind, JsonNode content, JsonNode json) {
        static final class Decoder extends Encoded<ProposalAction> {
            Decoder() {
                super(ProposalAction.class, Schemas.PROPOSAL_ACTION, ProposalAction::new);
            }
        }
    }

    public record Propose(@Required ProposalAction action, @Required String reason) {}

    /** Where a proposal stands. */
    @JsonDeserialize(using = ProposalStatus.Decoder.class)
    public sealed interface ProposalStatus {
        record Open() implements ProposalStatus {}

        @JsonDeserialize
        record Executed(@Required long height) implements ProposalStatus {}

        /** Approved, but the change could not be applied. */
        @JsonDeserialize
        record Failed(@Required long height, @Required String reason) implements ProposalStatus {}

        @JsonDeserialize
        record Rejected(@Required long height) implements ProposalStatus {}

        final class Decoder extends Tagged<ProposalStatus> {
            public Decoder() {
                super(ProposalStatus.class);
                variant("open", Open.class, Shape.UNIT);
                variant("executed", Executed.class, Shape.STRUCT);
                variant("failed", Failed.class, Shape.STRUCT);
                variant("rejected", Rejected.class, Shape.STRUCT);
            }
        }
    }

    /** A member's vote on a proposal (a JSON pair: the voter's 20-byte address, approve). */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"voter", "approve"})
    public record Ballot(String voter, boolean approve) {}

    public record ProposalRecord(
            @Required String id,
            @Required String proposer,
            @Required Propose proposal,
            @Required long height,
            @Required long time,
            @Required long expiresAt,
            @Required List<Ballot> votes,
            @Required ProposalStatus status) {}

    /** A publication window of a severity, in days. */
    public record Window(@Required long minDays, @Required long maxDays) {}

    public record ScoreParams(
            @Required long base,
            @Required long minorPoints,
            @Required long generalPoints,
            @Required long seriousPoints,
            @Required long commendationPoints,
            @Required long commendationCap,
            @Required long evaluationPivot,
            @Required long evaluationDivisor) {}

    /** The ledger's rule parameters (changed by governance). */
    public record Params(
            @Required Window minorWindow,
            @Required Window generalWindow,
            @Required Window seriousWindow,
            @Required long otherWindowMaxDays,
            @Required ScoreParams score,
            @Required long candidatePublicityDays,
            @Required long bidBondMaxPermille,
            @Required long proposalTtlDays) {}

    /** The collusion-ring analysis' governed thresholds. */
    public record RingParams(
            @Required long minSharedSections,
            @Required long minTogetherPermille,
            @Required long minMembers,
            @Required long minRotatingWinners,
            @Required long minPayerApplicants) {}
}
