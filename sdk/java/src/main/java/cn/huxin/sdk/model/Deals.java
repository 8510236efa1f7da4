package cn.huxin.sdk.model;

import cn.huxin.sdk.model.Tagged.Shape;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.List;

/** Deals: tenders (项目/标段), the documents anchored at each stage, and collusion warnings. */
public final class Deals {
    private Deals() {}

    /** A tender section: region, project code, section code. */
    public record TenderRef(@Required int region, @Required String projectCode, @Required String sectionCode) {}

    public enum DealStage {
        ANNOUNCEMENT, TENDER_DOCUMENT, CLARIFICATION, BID, OPENING_RECORD, EVALUATION_REPORT,
        CANDIDATE_PUBLICITY, AWARD_NOTICE, CONTRACT, COMPLAINT, EXCEPTION, ARCHIVE
    }

    /** A document hash anchored on the ledger, with who anchored it and when. */
    public record AnchorRecord(
            @Required TenderRef tender,
            @Required DealStage stage,
            @Required String documentHash,
            @Required String title,
            @Required String dealCode,
            @Required String platformCode,
            @Required List<String> parties,
            @Required List<String> experts,
            @Required String anchoredBy,
            @Required int anchoredByRegion,
            @Required String txHash,
            @Required long height,
            @Required long time) {}

    /** Every anchor of a document hash. */
    public record DocumentView(@Required String documentHash, @Required long height, @Required List<AnchorRecord> anchors) {}

    public record TimelineEntry(
            @Required DealStage stage,
            @Required String documentHash,
            @Required int anchoredByRegion,
            @Required List<String> parties,
            @Required long height,
            @Required long time) {}

    /** A bid bond's premium payer and applicant (a JSON pair). */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"payer", "applicant"})
    public record PayerApplicant(String payer, String applicant) {}

    /** Height and time (a JSON pair). */
    @JsonFormat(shape = JsonFormat.Shape.ARRAY)
    @JsonPropertyOrder({"height", "time"})
    public record At(long height, long time) {}

    /** A tender section's timeline. */
    public record TenderRecord(
            @Required TenderRef tender,
            @Required List<TimelineEntry> timeline,
            DealStage lastStage,
            Long candidatePublicityAt,
            At archived,
            Long estimatedPriceFen,
            @Required List<PayerApplicant> bidBondPayers) {}

    /** What a collusion warning found. */
    @JsonDeserialize(using = RiskKind.Decoder.class)
    public sealed interface RiskKind {
        /** Bidders whose bids are the same document. */
        @JsonDeserialize
        record IdenticalBidDocument(@Required String documentHash, @Required List<String> bidders) implements RiskKind {}

        /** Bidders whose bid bonds one payer paid for. */
        @JsonDeserialize
        record SameGuaranteePayer(@Required String payer, @Required List<String> applicants) implements RiskKind {}

        final class Decoder extends Tagged<RiskKind> {
            public Decoder() {
                super(RiskKind.class);
                variant("identical_bid_document", IdenticalBidDocument.class, Shape.STRUCT);
                variant("same_guarantee_payer", SameGuaranteePayer.class, Shape.STRUCT);
            }
        }
    }

    public record RiskWarning(
            @Required TenderRef tender,
            @Required RiskKind kind,
            @Required String txHash,
            @Required long height,
            @Required long time) {}

    public record SectionWarnings(@Required long raised, @Required List<RiskWarning> warnings) {}

    /** A tender section: timeline and warnings. */
    public record TenderView(@Required long height, @Required TenderRecord tender, @Required SectionWarnings risk) {}

    // ---- remote cross-region evaluation (远程异地评标) ----

    /** How many experts of one specialty a session seats. */
    public record Seats(@Required String specialty, @Required long count) {}

    /** One venue's part in the draw: its commitment, then its revealed secret. */
    public record Venue(@Required long region, @Required String centre, String commitment, String secret) {}

    /** A drawn seat: the specialty and the expert's salted hash. */
    public record DrawnSeat(@Required String specialty, @Required String expert) {}

    @JsonDeserialize(using = SessionStatus.Decoder.class)
    public sealed interface SessionStatus {
        record Open() implements SessionStatus {}

        @JsonDeserialize
        record Drawn(@Required long height, @Required long time) implements SessionStatus {}

        @JsonDeserialize
        record Closed(@Required long height, @Required long time) implements SessionStatus {}

        final class Decoder extends Tagged<SessionStatus> {
            public Decoder() {
                super(SessionStatus.class);
                variant("open", Open.class, Shape.UNIT);
                variant("drawn", Drawn.class, Shape.STRUCT);
                variant("closed", Closed.class, Shape.STRUCT);
            }
        }
    }

    public enum ReplaceReason { REFUSED, ABSENT, CONFLICT }

    public enum EvaluationDocument { SCORING_SHEET, REPORT }

    /** A drawn expert replaced, and by whom (null: nobody was left in the pool). */
    public record Replacement(
            @Required String expert, @Required String specialty, @Required ReplaceReason reason, @Required String note,
            String replacedBy, @Required long height) {}

    /** Where an expert sits. */
    public record SeatAt(@Required String expert, @Required long region) {}

    /** A document a venue anchored for the session. */
    public record SessionDocument(
            @Required long region, @Required EvaluationDocument kind, @Required String documentHash, @Required long height,
            @Required long time) {}

    /** An evaluation session: venues, seats, avoidance, status, seed and draw. */
    public record EvaluationSession(
            @Required String id,
            @Required TenderRef tender,
            @Required List<Venue> venues,
            @Required List<Seats> seats,
            @Required boolean avoidTenderRegion,
            @Required List<String> avoidEmployers,
            @Required long openedHeight,
            @Required long openedTime,
            @Required SessionStatus status,
            String seed,
            @Required List<DrawnSeat> drawn,
            @Required List<Seats> unfilled,
            @Required String seatCommitment,
            String seatSecret,
            @Required long replacedBeforeSeating,
            @Required List<SeatAt> seating,
            @Required List<Replacement> replacements,
            @Required List<SessionDocument> documents) {}

    /** A session as the public sees it, with the pools its draw was made from. */
    public record EvaluationView(
            @Required long height,
            @Required EvaluationSession session,
            @Required long avoidedEmployers,
            @Required List<List<String>> pools) {}
}
