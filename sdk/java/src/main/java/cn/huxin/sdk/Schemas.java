package cn.huxin.sdk;

import static cn.huxin.sdk.Codec.BOOL;
import static cn.huxin.sdk.Codec.STRING;
import static cn.huxin.sdk.Codec.bytes;
import static cn.huxin.sdk.Codec.bytesOf;
import static cn.huxin.sdk.Codec.defaulted;
import static cn.huxin.sdk.Codec.enumOf;
import static cn.huxin.sdk.Codec.f;
import static cn.huxin.sdk.Codec.list;
import static cn.huxin.sdk.Codec.option;
import static cn.huxin.sdk.Codec.struct;
import static cn.huxin.sdk.Codec.u;
import static cn.huxin.sdk.Codec.v;

import cn.huxin.sdk.Codec.Schema;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * The layout of every transaction type, mirroring the declarations in crates/types/src (field
 * and variant order are the encoding). Checked against the golden vectors.
 */
public final class Schemas {
    private Schemas() {}

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    public static final Schema HASH = bytes(32);
    /** A public key: ed25519 (32 bytes) or SM2 (33, a compressed point); its length says which. */
    public static final Schema PUBLIC_KEY = bytesOf(32, 33);
    public static final Schema SIGNATURE = bytes(64);
    /** A member id: the first 20 bytes of its first key's suite hash of {@code huxin/v1/member} and the key. */
    public static final Schema MEMBER_ID = bytes(20);
    private static final Schema U8 = u(8);
    private static final Schema U32 = u(32);
    private static final Schema U64 = u(64);
    private static final Schema TIME = U64;
    private static final Schema REGION = U32;

    public static final Schema SUBJECT_ID =
            enumOf(v("organisation", STRING), v("legacy_organisation", STRING), v("expert", HASH));

    public static final Schema TENDER_REF =
            struct(f("region", REGION), f("project_code", STRING), f("section_code", STRING));

    private static final Schema DEAL_STAGE = enumOf(
            v("announcement"), v("tender_document"), v("clarification"), v("bid"), v("opening_record"),
            v("evaluation_report"), v("candidate_publicity"), v("award_notice"), v("contract"), v("complaint"),
            v("exception"), v("archive"));

    private static final Schema ANCHOR_DOCUMENT = struct(
            f("tender", TENDER_REF),
            f("stage", DEAL_STAGE),
            f("document_hash", HASH),
            f("title", STRING),
            f("deal_code", defaulted(STRING, JSON.textNode(""))),
            f("platform_code", defaulted(STRING, JSON.textNode(""))),
            f("parties", defaulted(list(STRING), JSON.arrayNode())),
            f("experts", defaulted(list(HASH), JSON.arrayNode())),
            f("estimated_price_fen", option(U64)));

    private static final Schema QUALIFICATION = struct(
            f("kind", STRING),
            f("certificate_no", STRING),
            f("issuer", STRING),
            f("valid_from", TIME),
            f("valid_until", TIME),
            f("document_hash", HASH));

    private static final Schema ATTEST_SUBJECT = struct(
            f("subject", SUBJECT_ID),
            f("kind", enumOf(v("supplier"), v("agent"), v("purchaser"), v("expert"))),
            f("name", STRING),
            f("qualifications", list(QUALIFICATION)),
            f("bound_key", option(PUBLIC_KEY)),
            f("valid_until", option(TIME)),
            f("bound_key_proof", option(SIGNATURE)));

    private static final Schema LIST_ON_BLACKLIST = struct(
            f("subject", SUBJECT_ID),
            f("scope", enumOf(v("national"), v("regions", list(REGION)))),
            f("reason", STRING),
            f("legal_basis", STRING),
            f("decision_no", STRING),
            f("start", TIME),
            f("end", option(TIME)));

    private static final Schema RECORD_CREDIT = struct(
            f("subject", SUBJECT_ID),
            f("kind", enumOf(
                    v("administrative_penalty"), v("dishonest_conduct"), v("commendation"),
                    v("project_evaluation"), v("contract_performance"))),
            f("decision_no", STRING),
            f("authority", STRING),
            f("authority_uscc", STRING),
            f("facts", STRING),
            f("legal_basis", STRING),
            f("penalty_type", STRING),
            f("penalty_content", STRING),
            f("amount_fen", U64),
            f("decision_date", TIME),
            f("evidence_hash", HASH),
            f("severity", enumOf(v("minor"), v("general"), v("serious"))),
            f("publication_start", TIME),
            f("publication_end", TIME),
            f("score", option(U8)),
            f("tender", option(TENDER_REF)));

    private static final Schema ISSUE_GUARANTEE = struct(
            f("number", STRING),
            f("kind", enumOf(v("bid_bond"), v("performance"), v("advance_payment"), v("payment"))),
            f("applicant", STRING),
            f("beneficiary", STRING),
            f("premium_payer", STRING),
            f("tender", TENDER_REF),
            f("amount_fen", U64),
            f("valid_from", TIME),
            f("valid_until", TIME),
            f("document_hash", HASH),
            f("replaces", option(STRING)));

    private static final Schema GUARANTEE_NOTE = struct(f("number", STRING), f("reason", STRING));

    private static final Schema WINDOW = struct(f("min_days", U32), f("max_days", U32));

    public static final Schema PARAMS = struct(
            f("minor_window", WINDOW),
            f("general_window", WINDOW),
            f("serious_window", WINDOW),
            f("other_window_max_days", U32),
            f("score", struct(
                    f("base", U32), f("minor_points", U32), f("general_points", U32), f("serious_points", U32),
                    f("commendation_points", U32), f("commendation_cap", U32), f("evaluation_pivot", U32),
                    f("evaluation_divisor", U32))),
            f("candidate_publicity_days", U32),
            f("bid_bond_max_permille", U32),
            f("proposal_ttl_days", U32));

    public static final Schema RING_PARAMS = struct(
            f("min_shared_sections", U32), f("min_together_permille", U32), f("min_members", U32), f("min_rotating_winners", U32),
            f("min_payer_applicants", U32));

    private static final Schema ROLE = enumOf(v("trading_centre"), v("guarantee_provider"), v("supervisor"));

    public static final Schema PROPOSAL_ACTION = enumOf(
            v("add_member", struct(
                    f("name", STRING), f("role", ROLE), f("region", REGION), f("uscc", STRING),
                    f("keys", list(PUBLIC_KEY)))),
            v("suspend_member", struct(f("member", MEMBER_ID))),
            v("reinstate_member", struct(f("member", MEMBER_ID))),
            v("remove_member", struct(f("member", MEMBER_ID))),
            v("rotate_key", struct(f("member", MEMBER_ID), f("old", PUBLIC_KEY), f("new", PUBLIC_KEY))),
            v("set_validator", struct(f("member", MEMBER_ID), f("public_key", PUBLIC_KEY), f("power", U64))),
            v("remove_validator", struct(f("public_key", PUBLIC_KEY))),
            v("set_params", PARAMS),
            v("set_ring_params", RING_PARAMS),
            v("set_validator_with_node_key", struct(f("member", MEMBER_ID), f("public_key", PUBLIC_KEY),
                    f("node_key", PUBLIC_KEY), f("power", U64))));

    public static final Schema SUBJECT_STATEMENT = struct(
            f("chain_id", STRING),
            f("subject", SUBJECT_ID),
            f("statement", enumOf(
                    v("confirm", struct(f("document_hash", HASH))),
                    v("grant", struct(
                            f("grantee", MEMBER_ID),
                            f("scope", enumOf(v("profile"), v("credit_history"), v("guarantees"), v("deals"), v("all"))),
                            f("expires_at", TIME))),
                    v("revoke_grant", struct(f("grantee", MEMBER_ID))))),
            f("signed_at", TIME));

    /** Every transaction kind, in the order of {@code Action::KINDS} (the variant index). */
    public static final Schema ACTION = enumOf(
            v("anchor_document", ANCHOR_DOCUMENT),
            v("attest_subject", ATTEST_SUBJECT),
            v("revoke_attestation", struct(f("subject", SUBJECT_ID), f("reason", STRING))),
            v("recognise_attestation", struct(f("subject", SUBJECT_ID))),
            v("withdraw_recognition", struct(f("subject", SUBJECT_ID))),
            v("set_recognition_policy", struct(f("policy", enumOf(v("automatic"), v("explicit"))))),
            v("list_on_blacklist", LIST_ON_BLACKLIST),
            v("lift_blacklist", struct(f("subject", SUBJECT_ID), f("decision_no", STRING), f("reason", STRING))),
            v("record_credit", RECORD_CREDIT),
            v("repair_credit", struct(f("record_id", HASH), f("reason", STRING), f("evidence_hash", HASH))),
            v("revoke_credit", struct(f("record_id", HASH), f("reason", STRING))),
            v("issue_guarantee", ISSUE_GUARANTEE),
            v("verify_guarantee", GUARANTEE_NOTE),
            v("claim_guarantee", struct(
                    f("number", STRING), f("reason", STRING), f("evidence_hash", HASH), f("amount_fen", U64))),
            v("pay_guarantee", struct(f("number", STRING), f("amount_fen", U64), f("evidence_hash", HASH))),
            v("release_guarantee", GUARANTEE_NOTE),
            v("cancel_guarantee", GUARANTEE_NOTE),
            v("propose", struct(f("action", PROPOSAL_ACTION), f("reason", STRING))),
            v("vote", struct(f("proposal", HASH), f("approve", BOOL))),
            v("subject_statement", struct(f("statement", SUBJECT_STATEMENT), f("signature", SIGNATURE))),
            v("anchor_audit_log", struct(f("seq", U64), f("head", HASH))),
            v("enrol_expert", struct(f("expert", HASH), f("specialties", list(STRING)), f("employer", STRING))),
            v("open_evaluation", struct(
                    f("tender", TENDER_REF), f("guests", list(REGION)),
                    f("seats", list(struct(f("specialty", STRING), f("count", U32)))),
                    f("avoid_tender_region", BOOL), f("avoid_employers", list(STRING)), f("commitment", HASH),
                    f("seat_commitment", HASH))),
            v("commit_draw", struct(f("session", HASH), f("commitment", HASH))),
            v("reveal_draw", struct(f("session", HASH), f("secret", HASH))),
            v("reveal_seats", struct(f("session", HASH), f("secret", HASH))),
            v("replace_expert", struct(
                    f("session", HASH), f("expert", HASH),
                    f("reason", enumOf(v("refused"), v("absent"), v("conflict"))), f("note", STRING))),
            v("anchor_evaluation", struct(
                    f("session", HASH), f("kind", enumOf(v("scoring_sheet"), v("report"))), f("document_hash", HASH))));

    public static final Schema EXPIRY = enumOf(v("height", U64), v("time", TIME));

    public static final Schema TX_BODY = struct(
            f("chain_id", STRING),
            f("signer", PUBLIC_KEY),
            f("nonce", U64),
            f("expiry", EXPIRY),
            f("action", ACTION));
}
