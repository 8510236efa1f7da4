package cn.huxin.sdk.model;

import cn.huxin.sdk.model.Tagged.Shape;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.List;

/** Market entities: identity, attestation and recognition, blacklists, scores, grants, eligibility. */
public final class Subjects {
    private Subjects() {}

    /** A market entity on the ledger. */
    @JsonDeserialize(using = SubjectId.Decoder.class)
    public sealed interface SubjectId {
        /** An organisation by its Unified Social Credit Code. */
        record Organisation(String uscc) implements SubjectId {}

        /** An organisation by a pilot-era code that predates GB 32100-2015 (flagged wherever it shows). */
        record LegacyOrganisation(String code) implements SubjectId {}

        /** An evaluation expert by the hash of their identity. */
        record Expert(String hash) implements SubjectId {}

        final class Decoder extends Tagged<SubjectId> {
            public Decoder() {
                super(SubjectId.class);
                variant("organisation", Organisation.class, Shape.NEWTYPE);
                variant("legacy_organisation", LegacyOrganisation.class, Shape.NEWTYPE);
                variant("expert", Expert.class, Shape.NEWTYPE);
            }
        }
    }

    public enum SubjectKind { SUPPLIER, AGENT, PURCHASER, EXPERT }

    /** A member's role in the federation. */
    public enum Role { TRADING_CENTRE, GUARANTEE_PROVIDER, SUPERVISOR }

    public record Qualification(
            @Required String kind,
            @Required String certificateNo,
            @Required String issuer,
            @Required long validFrom,
            @Required long validUntil,
            @Required String documentHash) {}

    /** Another region's centre recognising the attestation. */
    public record Recognition(@Required int region, @Required String by, @Required long height, @Required long time) {}

    /** Whether an attestation is in force. */
    @JsonDeserialize(using = AttestationStatus.Decoder.class)
    public sealed interface AttestationStatus {
        record Active() implements AttestationStatus {}

        @JsonDeserialize
        record Revoked(@Required String by, @Required String reason, @Required long time, @Required long height)
                implements AttestationStatus {}

        final class Decoder extends Tagged<AttestationStatus> {
            public Decoder() {
                super(AttestationStatus.class);
                variant("active", Active.class, Shape.UNIT);
                variant("revoked", Revoked.class, Shape.STRUCT);
            }
        }
    }

    /** The attestation of a subject by its home centre, with the regions recognising it. */
    public record AttestationRecord(
            @Required SubjectId subject,
            @Required SubjectKind kind,
            @Required String name,
            @Required List<Qualification> qualifications,
            String boundKey,
            Long validUntil,
            @Required int homeRegion,
            @Required String attestedBy,
            @Required long version,
            @Required long firstAttested,
            @Required long updated,
            @Required long updatedHeight,
            @Required AttestationStatus status,
            @Required List<Recognition> recognitions,
            @Required boolean legacyCode) {}

    /** Where a blacklist entry bars a subject. */
    @JsonDeserialize(using = BlacklistScope.Decoder.class)
    public sealed interface BlacklistScope {
        record National() implements BlacklistScope {}

        record Regions(List<Integer> regions) implements BlacklistScope {}

        final class Decoder extends Tagged<BlacklistScope> {
            public Decoder() {
                super(BlacklistScope.class);
                variant("national", National.class, Shape.UNIT);
                variant("regions", Regions.class, Shape.NEWTYPE);
            }
        }
    }

    public record Lifted(@Required String by, @Required String reason, @Required long time, @Required long height) {}

    public record BlacklistEntry(
            @Required SubjectId subject,
            @Required BlacklistScope scope,
            @Required String reason,
            @Required String legalBasis,
            @Required String decisionNo,
            @Required long start,
            Long end,
            @Required String listedBy,
            @Required Role listedByRole,
            @Required String txHash,
            @Required long height,
            @Required long time,
            Lifted lifted) {}

    public record ScoreItem(@Required String what, @Required long points, String recordId) {}

    /** The credit score and what made it. */
    public record Score(@Required long score, @Required List<ScoreItem> items) {}

    public enum GrantScope { PROFILE, CREDIT_HISTORY, GUARANTEES, DEALS, ALL }

    /** A subject's grant of reuse of its records to a member. */
    public record GrantRecord(
            @Required String grantee,
            @Required GrantScope scope,
            @Required long expiresAt,
            @Required String statement,
            @Required long height) {}

    /** A subject's profile: attestation (null when none), blacklist entries, score, grants. */
    public record SubjectView(
            @Required SubjectId subject,
            @Required long height,
            @Required long time,
            AttestationRecord attestation,
            @Required List<BlacklistEntry> blacklist,
            @Required Score score,
            @Required long activeCreditRecords,
            @Required List<GrantRecord> grants) {}

    /** May a subject trade in a region (at a time), with every reason it may not. */
    public record EligibilityView(
            @Required SubjectId subject,
            @Required int region,
            @Required long height,
            @Required long time,
            @Required boolean eligible,
            @Required List<String> reasons) {}

    /** One result of a subject search. */
    public record SubjectMatch(
            @Required SubjectId subject,
            @Required String name,
            @Required SubjectKind kind,
            @Required int homeRegion,
            @Required boolean revoked) {}
}
