package cn.huxin.sdk.model;

import cn.huxin.sdk.model.Chain.BlockHeader;
import java.util.List;

/**
 * What a proven answer carries: Merkle proofs of the state entries it read, the block that
 * certifies the state root, and the validator-set changes that link that block to a set the
 * caller trusts. {@code huxin verify} checks them; this SDK reads them.
 */
public final class Proofs {
    private Proofs() {}

    /** A validator's commit signature (its 20-byte address). */
    public record CommitSignature(@Required String validatorAddress, @Required String signature) {}

    /** A block header with the commit signatures that finalised it. */
    public record CertifiedHeader(@Required BlockHeader header, @Required long round, @Required List<CommitSignature> signatures) {}

    /** A state key, its value (null: proven absent) and its Merkle proof, hex. */
    public record ProvenEntry(@Required String key, String value, @Required String proof) {}

    /** A validator-set change on the way from a trusted set to the proof's block. */
    public record ValidatorChange(@Required CertifiedHeader block, @Required ProvenEntry nextValidators) {}

    public record StateProof(
            @Required CertifiedHeader block,
            BlockHeader parent,
            @Required List<ProvenEntry> entries,
            @Required List<ProvenEntry> parentValidators,
            @Required List<ValidatorChange> validatorChanges) {}

    /** An answer with its proof ({@code proof} is null unless asked for with {@code ?prove=true}). */
    public record Proven<T>(T view, StateProof proof) {}

    /** One page of a list; {@code nextCursor} is null on the last. */
    public record Page<T>(@Required long height, @Required long time, @Required List<T> items, String nextCursor) {}
}
