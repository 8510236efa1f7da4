package cn.huxin.sdk.model;

import cn.huxin.sdk.Schemas;
import cn.huxin.sdk.model.Subjects.SubjectId;
import cn.huxin.sdk.model.Tagged.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.List;

/** The chain itself: node status, blocks, transactions and their outcomes, signers, events, statistics. */
public final class Chain {
    private Chain() {}

    /** A validator the node saw sign two different votes or proposals at one height. */
    public record EquivocationView(@Required String validator, @Required long height, @Required long votes, @Required long proposals) {}

    /** The node's view of the chain. */
    public record StatusView(
            @Required String chainId,
            @Required String moniker,
            @Required String nodeKey,
            @Required long latestHeight,
            String latestBlockHash,
            Long latestBlockTimeMs,
            String stateRoot,
            String genesisHash,
            @Required long round,
            @Required long peers,
            Long consensusPeers,
            @Required long mempoolTxs,
            @Required long mempoolBytes,
            Long protocolVersion,
            String softwareVersion,
            Suite suite,
            List<EquivocationView> equivocations) {}

    /** The signature and hash algorithms a chain uses, fixed at genesis. */
    public enum Suite {
        ED25519_SHA256("ed25519-sha256"),
        SM2_SM3("sm2-sm3");

        private final String wire;

        Suite(String wire) {
            this.wire = wire;
        }

        @com.fasterxml.jackson.annotation.JsonValue
        @Override
        public String toString() {
            return wire;
        }
    }

    /**
     * A transaction's action as the node shows it: its kind (the variant's name), its content, and
     * the whole JSON. Decoding checks it against the SDK's own layout of every kind
     * ({@link Schemas#ACTION}), so an action this SDK could not re-encode is refused, naming the field.
     */
    @JsonDeserialize(using = Action.Decoder.class)
    public record Action(String kind, JsonNode content, JsonNode json) {
        static final class Decoder extends Encoded<Action> {
            Decoder() {
                super(Action.class, Schemas.ACTION, Action::new);
            }
        }
    }

    /** When a transaction stops being includable. */
    @JsonDeserialize(using = Expiry.Decoder.class)
    public sealed interface Expiry {
        /** Includable in blocks up to and including this height. */
        record Height(long height) implements Expiry {}

        /** Includable in blocks whose time is at or before this instant (ms). */
        record Time(long time) implements Expiry {}

        final class Decoder extends Tagged<Expiry> {
            public Decoder() {
                super(Expiry.class);
                variant("height", Height.class, Shape.NEWTYPE);
                variant("time", Time.class, Shape.NEWTYPE);
            }
        }
    }

    public record TxBody(
            @Required String chainId,
            @Required String signer,
            @Required long nonce,
            @Required Expiry expiry,
            @Required Action action) {}

    public record SignedTx(@Required TxBody body, @Required String signature) {}

    /** Why the ledger refused a transaction: a stable code and a reason for people. */
    public enum RejectCode {
        UNKNOWN_SIGNER, SIGNER_INACTIVE, NOT_PERMITTED, BAD_NONCE, EXPIRED, INVALID_FIELD, CONFLICT, NOT_FOUND,
        WRONG_CHAIN, BAD_SIGNATURE, MALFORMED, INVALID_TRANSITION, RULE_VIOLATED
    }

    public record Rejection(@Required RejectCode code, @Required String reason) {}

    /** What happened to a finalised transaction. */
    @JsonDeserialize(using = Outcome.Decoder.class)
    public sealed interface Outcome {
        record Applied() implements Outcome {}

        record Rejected(Rejection rejection) implements Outcome {}

        final class Decoder extends Tagged<Outcome> {
            public Decoder() {
                super(Outcome.class);
                variant("applied", Applied.class, Shape.UNIT);
                variant("rejected", Rejected.class, Shape.NEWTYPE);
            }
        }
    }

    /** A transaction this node does not show in full (its content is withheld from public reads). */
    public record WithheldTx(@Required String signer, @Required long nonce, @Required String kind) {}

    /** A transaction of a block: the transaction (or what may be shown of it) and its outcome. */
    public record TxView(@Required String hash, SignedTx tx, WithheldTx withheld, Outcome outcome) {}

    /** A transaction's status: {@code pending}, {@code finalised} (see outcome) or {@code dropped} (see reason). */
    public record TxStatusView(
            @Required String txHash,
            @Required String status,
            Long height,
            String blockHash,
            Long index,
            SignedTx tx,
            WithheldTx withheld,
            Outcome outcome,
            Rejection reason) {
        public boolean applied() {
            return outcome instanceof Outcome.Applied;
        }
    }

    public record BlockHeader(
            @Required String chainId,
            @Required long height,
            @Required long time,
            @Required String parentHash,
            @Required String proposer,
            @Required long txCount,
            @Required String txsRoot,
            @Required String stateRoot,
            @Required String receiptsRoot) {}

    /** A block with one page of its transactions ({@code tx_offset}, then {@code txs}). */
    public record BlockView(
            @Required String hash,
            @Required BlockHeader header,
            @Required long txCount,
            @Required long txOffset,
            @Required List<TxView> txs) {}

    /** A key's account: its member and nonces. */
    public record SignerView(
            @Required String publicKey,
            @Required String memberId,
            @Required String memberName,
            @Required Subjects.Role role,
            @Required String region,
            @Required String memberStatus,
            @Required long lastNonce,
            @Required long nextNonce) {}

    /** Where a signer's transaction landed. */
    public record SignerTx(@Required String txHash, @Required long height, @Required long index) {}

    public record SubmitResponse(@Required String txHash, @Required String status) {}

    /** A batch item's result: its hash and {@code pending}, or the error that refused it. */
    public record BatchItem(String txHash, String status, JsonNode error) {}

    public record BatchResponse(@Required List<BatchItem> results) {}

    /** A prepared transaction: the payload to check, sign and submit. */
    public record PrepareResponse(
            @Required String chainId,
            @Required long nonce,
            @Required Expiry expiry,
            @Required String payload,
            @Required String signBytes,
            @Required String txHash) {}

    public record StatsRow(@Required String metric, @Required String region, @Required String month, @Required long count) {}

    public record StatsView(@Required long height, @Required List<StatsRow> rows) {}

    /** One applied transaction on the event stream. */
    public record Event(
            @Required long height,
            @Required long index,
            @Required long time,
            @Required String txHash,
            @Required String kind,
            @Required List<Integer> regions,
            @Required boolean national,
            @Required List<SubjectId> subjects,
            Action action) {}
}
