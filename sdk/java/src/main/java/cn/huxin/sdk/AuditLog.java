package cn.huxin.sdk;

import static cn.huxin.sdk.Codec.f;
import static cn.huxin.sdk.Codec.struct;
import static cn.huxin.sdk.Codec.u;

import cn.huxin.sdk.model.Supervision.AuditAnchor;
import cn.huxin.sdk.model.Supervision.AuditEntry;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A node's audit log of supervisor reads (查询留痕), checked here as {@code huxin audit check}
 * checks it (crates/types/src/audit.rs): the sequence, the hash chain, every entry's hash and
 * every supervisor's signature for the node that kept the log, then the ledger's anchors. Either
 * suite: an entry hashes with SHA-256 or SM3 and verifies with ed25519 or SM2 by its reader's key.
 */
public final class AuditLog {
    private AuditLog() {}

    private static final Codec.Schema ENTRY = struct(
            f("seq", u(64)), f("time", u(64)), f("supervisor_key", Schemas.PUBLIC_KEY), f("member", Schemas.MEMBER_ID),
            f("method", Codec.STRING), f("target", Codec.STRING), f("status", u(16)), f("result_count", u(64)),
            f("signed_time", u(64)), f("signature", Schemas.SIGNATURE), f("prev_hash", Schemas.HASH));

    /** The verdict: intact (and the last anchored entry, 0 for none), or the first problem found. */
    public record Verdict(boolean ok, long anchoredUpTo, String problem) {
        static Verdict broken(String problem) {
            return new Verdict(false, 0, problem);
        }
    }

    /** An entry's hash, hex, in its reader's suite: of {@code huxin/v1/audit} and every field but {@code hash}. */
    public static String entryHash(AuditEntry e) {
        ObjectNode fields = JsonNodeFactory.instance.objectNode()
                .put("seq", e.seq()).put("time", e.time()).put("supervisor_key", e.supervisorKey())
                .put("member", e.member()).put("method", e.method()).put("target", e.target())
                .put("status", e.status()).put("result_count", e.resultCount()).put("signed_time", e.signedTime())
                .put("signature", e.signature()).put("prev_hash", e.prevHash());
        return Signing.hashTagged(e.supervisorKey(), "huxin/v1/audit", Codec.encode(ENTRY, fields));
    }

    /** Whether the entry's reader signed its request for this node (chain id and node key). */
    public static boolean signedFor(AuditEntry e, String chainId, String nodeKey) {
        int at = e.target().indexOf('?');
        String path = at < 0 ? e.target() : e.target().substring(0, at);
        String query = at < 0 ? "" : e.target().substring(at + 1);
        byte[] message = Signing.queryMessage(chainId, nodeKey, e.method(), path, query, e.signedTime())
                .getBytes(StandardCharsets.UTF_8);
        return Signing.verify(e.supervisorKey(), Signing.signingInput("huxin/v1/query", message), e.signature());
    }

    /** Check a log from its first entry, then each anchor of it on the ledger. */
    public static Verdict check(List<AuditEntry> entries, List<AuditAnchor> anchors, String chainId, String nodeKey) {
        String previous = "0".repeat(64);
        for (int i = 0; i < entries.size(); i++) {
            AuditEntry e = entries.get(i);
            if (e.seq() != i + 1) return Verdict.broken("entry " + (i + 1) + " is missing (found " + e.seq() + ")");
            if (!e.prevHash().equals(previous))
                return Verdict.broken("entry " + e.seq() + " does not chain to entry " + (e.seq() - 1));
            String hash;
            try {
                hash = entryHash(e);
            } catch (EncodeException err) {
                return Verdict.broken("entry " + e.seq() + " is malformed: " + err.getMessage());
            }
            if (!hash.equals(e.hash())) return Verdict.broken("entry " + e.seq() + " was edited");
            if (!signedFor(e, chainId, nodeKey))
                return Verdict.broken("entry " + e.seq() + " carries no valid signature for this node: made up");
            previous = e.hash();
        }
        long anchoredUpTo = 0;
        for (AuditAnchor a : anchors) {
            if (a.seq() < 1 || a.seq() > entries.size())
                return Verdict.broken("the ledger anchors entry " + a.seq() + ", which the log lacks");
            if (!entries.get((int) (a.seq() - 1)).hash().equals(a.head()))
                return Verdict.broken("entry " + a.seq() + " differs from its anchor at height " + a.height());
            anchoredUpTo = Math.max(anchoredUpTo, a.seq());
        }
        return new Verdict(true, anchoredUpTo, null);
    }
}
