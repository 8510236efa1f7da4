package cn.huxin.sdk.model;

import cn.huxin.sdk.model.Deals.TenderRef;
import cn.huxin.sdk.model.Subjects.Role;
import cn.huxin.sdk.model.Subjects.SubjectId;
import java.util.List;

/** Credit records: what a centre recorded, their publication and repair, and a subject's history. */
public final class Credit {
    private Credit() {}

    public enum CreditKind {
        ADMINISTRATIVE_PENALTY, DISHONEST_CONDUCT, COMMENDATION, PROJECT_EVALUATION, CONTRACT_PERFORMANCE
    }

    public enum Severity { MINOR, GENERAL, SERIOUS }

    /** Where a record stands in its publication period (at the answer's time). */
    public enum Publication { PENDING, ACTIVE, EXPIRED, REPAIRED, REVOKED }

    /** The record as the recording transaction states it. */
    public record RecordCredit(
            @Required SubjectId subject,
            @Required CreditKind kind,
            @Required String decisionNo,
            @Required String authority,
            @Required String authorityUscc,
            @Required String facts,
            @Required String legalBasis,
            @Required String penaltyType,
            @Required String penaltyContent,
            @Required long amountFen,
            @Required long decisionDate,
            @Required String evidenceHash,
            @Required Severity severity,
            @Required long publicationStart,
            @Required long publicationEnd,
            Integer score,
            TenderRef tender) {}

    /** A repair or revocation of a record. */
    public record Mark(
            @Required String by,
            @Required String reason,
            String evidenceHash,
            @Required String txHash,
            @Required long height,
            @Required long time) {}

    /** A credit record with its publication state (the document's CreditRecord and Publication, flattened). */
    public record CreditItem(
            @Required String id,
            @Required RecordCredit record,
            @Required String recordedBy,
            @Required Role recordedByRole,
            @Required int region,
            @Required String txHash,
            @Required long height,
            @Required long time,
            Mark repaired,
            Mark revoked,
            @Required Publication publication) {}

    /** A subject's public credit history. */
    public record CreditHistoryView(
            @Required SubjectId subject,
            @Required long height,
            @Required long time,
            @Required List<CreditItem> records) {}

    /** A subject's whole credit history for a supervisor, withheld records included ({@code hidden} counts them). */
    public record FullCreditView(
            @Required SubjectId subject,
            @Required long height,
            @Required long time,
            @Required List<CreditItem> records,
            @Required long hidden) {}
}
