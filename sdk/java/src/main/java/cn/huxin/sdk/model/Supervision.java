package cn.huxin.sdk.model;

import java.util.List;

/** Supervisors' access: the node's audit log of signed queries, and its anchors on the ledger. */
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
}
