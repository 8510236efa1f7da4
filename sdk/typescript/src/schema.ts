// The layout of every transaction type, mirroring the declarations in crates/types/src (field
// and variant order matter: they are the encoding). Checked against the golden vectors.

import type { Schema } from "./codec.js";

const s = (...fields: Array<readonly [string, Schema]>): Schema => ({ struct: fields });
const e = (...variants: Array<readonly [string, Schema | null]>): Schema => ({ enum: variants });
const opt = (inner: Schema): Schema => ({ option: inner });
const list = (inner: Schema): Schema => ({ list: inner });
const or = (inner: Schema, value: unknown): Schema => ({ defaulted: inner, value });

export const Hash32: Schema = { bytes: 32 };
/** A public key: ed25519 (32 bytes) or SM2 (33, a compressed point); its length says which. */
export const PublicKey: Schema = { bytesOf: [32, 33] };
export const Signature: Schema = { bytes: 64 };
/** A member id: the first 20 bytes of its first key's suite hash of `huxin/v1/member` ‖ the key. */
export const MemberId: Schema = { bytes: 20 };
const Time: Schema = "u64";
const Text: Schema = "string";
const Region: Schema = "u32";
const Uscc: Schema = "string";

export const SubjectId = e(["organisation", Uscc], ["legacy_organisation", Text], ["expert", Hash32]);

export const TenderRef = s(["region", Region], ["project_code", Text], ["section_code", Text]);

const DealStage = e(
  ...(
    [
      "announcement",
      "tender_document",
      "clarification",
      "bid",
      "opening_record",
      "evaluation_report",
      "candidate_publicity",
      "award_notice",
      "contract",
      "complaint",
      "exception",
      "archive",
    ] as const
  ).map((n) => [n, null] as const),
);

const AnchorDocument = s(
  ["tender", TenderRef],
  ["stage", DealStage],
  ["document_hash", Hash32],
  ["title", Text],
  ["deal_code", or(Text, "")],
  ["platform_code", or(Text, "")],
  ["parties", or(list(Uscc), [])],
  ["experts", or(list(Hash32), [])],
  ["estimated_price_fen", opt("u64")],
);

const Qualification = s(
  ["kind", Text],
  ["certificate_no", Text],
  ["issuer", Text],
  ["valid_from", Time],
  ["valid_until", Time],
  ["document_hash", Hash32],
);

const AttestSubject = s(
  ["subject", SubjectId],
  ["kind", e(["supplier", null], ["agent", null], ["purchaser", null], ["expert", null])],
  ["name", Text],
  ["qualifications", list(Qualification)],
  ["bound_key", opt(PublicKey)],
  ["valid_until", opt(Time)],
  ["bound_key_proof", opt(Signature)],
);

const ListOnBlacklist = s(
  ["subject", SubjectId],
  ["scope", e(["national", null], ["regions", list(Region)])],
  ["reason", Text],
  ["legal_basis", Text],
  ["decision_no", Text],
  ["start", Time],
  ["end", opt(Time)],
);

const RecordCredit = s(
  ["subject", SubjectId],
  [
    "kind",
    e(
      ["administrative_penalty", null],
      ["dishonest_conduct", null],
      ["commendation", null],
      ["project_evaluation", null],
      ["contract_performance", null],
    ),
  ],
  ["decision_no", Text],
  ["authority", Text],
  ["authority_uscc", Uscc],
  ["facts", Text],
  ["legal_basis", Text],
  ["penalty_type", Text],
  ["penalty_content", Text],
  ["amount_fen", "u64"],
  ["decision_date", Time],
  ["evidence_hash", Hash32],
  ["severity", e(["minor", null], ["general", null], ["serious", null])],
  ["publication_start", Time],
  ["publication_end", Time],
  ["score", opt("u8")],
  ["tender", opt(TenderRef)],
);

const IssueGuarantee = s(
  ["number", Text],
  ["kind", e(["bid_bond", null], ["performance", null], ["advance_payment", null], ["payment", null])],
  ["applicant", Uscc],
  ["beneficiary", Uscc],
  ["premium_payer", Uscc],
  ["tender", TenderRef],
  ["amount_fen", "u64"],
  ["valid_from", Time],
  ["valid_until", Time],
  ["document_hash", Hash32],
  ["replaces", opt(Text)],
);

const GuaranteeNote = s(["number", Text], ["reason", Text]);

const Window = s(["min_days", "u32"], ["max_days", "u32"]);

export const Params = s(
  ["minor_window", Window],
  ["general_window", Window],
  ["serious_window", Window],
  ["other_window_max_days", "u32"],
  [
    "score",
    s(
      ["base", "u32"],
      ["minor_points", "u32"],
      ["general_points", "u32"],
      ["serious_points", "u32"],
      ["commendation_points", "u32"],
      ["commendation_cap", "u32"],
      ["evaluation_pivot", "u32"],
      ["evaluation_divisor", "u32"],
    ),
  ],
  ["candidate_publicity_days", "u32"],
  ["bid_bond_max_permille", "u32"],
  ["proposal_ttl_days", "u32"],
);

export const RingParams = s(
  ["min_shared_sections", "u32"],
  ["min_together_permille", "u32"],
  ["min_members", "u32"],
  ["min_rotating_winners", "u32"],
  ["min_payer_applicants", "u32"],
);

const Role = e(["trading_centre", null], ["guarantee_provider", null], ["supervisor", null]);

const ProposalAction = e(
  ["add_member", s(["name", Text], ["role", Role], ["region", Region], ["uscc", Uscc], ["keys", list(PublicKey)])],
  ["suspend_member", s(["member", MemberId])],
  ["reinstate_member", s(["member", MemberId])],
  ["remove_member", s(["member", MemberId])],
  ["rotate_key", s(["member", MemberId], ["old", PublicKey], ["new", PublicKey])],
  ["set_validator", s(["member", MemberId], ["public_key", PublicKey], ["power", "u64"])],
  ["remove_validator", s(["public_key", PublicKey])],
  ["set_params", Params],
  ["set_ring_params", RingParams],
  ["set_validator_with_node_key", s(["member", MemberId], ["public_key", PublicKey], ["node_key", PublicKey], ["power", "u64"])],
);

const GrantScope = e(["profile", null], ["credit_history", null], ["guarantees", null], ["deals", null], ["all", null]);

export const SubjectStatement = s(
  ["chain_id", Text],
  ["subject", SubjectId],
  [
    "statement",
    e(
      ["confirm", s(["document_hash", Hash32])],
      ["grant", s(["grantee", MemberId], ["scope", GrantScope], ["expires_at", Time])],
      ["revoke_grant", s(["grantee", MemberId])],
    ),
  ],
  ["signed_at", Time],
);

/** Every transaction kind, in the order of `Action::KINDS` (the variant index). */
export const Action = e(
  ["anchor_document", AnchorDocument],
  ["attest_subject", AttestSubject],
  ["revoke_attestation", s(["subject", SubjectId], ["reason", Text])],
  ["recognise_attestation", s(["subject", SubjectId])],
  ["withdraw_recognition", s(["subject", SubjectId])],
  ["set_recognition_policy", s(["policy", e(["automatic", null], ["explicit", null])])],
  ["list_on_blacklist", ListOnBlacklist],
  ["lift_blacklist", s(["subject", SubjectId], ["decision_no", Text], ["reason", Text])],
  ["record_credit", RecordCredit],
  ["repair_credit", s(["record_id", Hash32], ["reason", Text], ["evidence_hash", Hash32])],
  ["revoke_credit", s(["record_id", Hash32], ["reason", Text])],
  ["issue_guarantee", IssueGuarantee],
  ["verify_guarantee", GuaranteeNote],
  ["claim_guarantee", s(["number", Text], ["reason", Text], ["evidence_hash", Hash32], ["amount_fen", "u64"])],
  ["pay_guarantee", s(["number", Text], ["amount_fen", "u64"], ["evidence_hash", Hash32])],
  ["release_guarantee", GuaranteeNote],
  ["cancel_guarantee", GuaranteeNote],
  ["propose", s(["action", ProposalAction], ["reason", Text])],
  ["vote", s(["proposal", Hash32], ["approve", "bool"])],
  ["subject_statement", s(["statement", SubjectStatement], ["signature", Signature])],
  ["anchor_audit_log", s(["seq", "u64"], ["head", Hash32])],
  ["enrol_expert", s(["expert", Hash32], ["specialties", list(Text)], ["employer", Uscc])],
  [
    "open_evaluation",
    s(
      ["tender", TenderRef],
      ["guests", list(Region)],
      ["seats", list(s(["specialty", Text], ["count", "u32"]))],
      ["avoid_tender_region", "bool"],
      ["avoid_employers", list(Uscc)],
      ["commitment", Hash32],
      ["seat_commitment", Hash32],
    ),
  ],
  ["commit_draw", s(["session", Hash32], ["commitment", Hash32])],
  ["reveal_draw", s(["session", Hash32], ["secret", Hash32])],
  ["reveal_seats", s(["session", Hash32], ["secret", Hash32])],
  [
    "replace_expert",
    s(["session", Hash32], ["expert", Hash32], ["reason", e(["refused", null], ["absent", null], ["conflict", null])], ["note", Text]),
  ],
  [
    "anchor_evaluation",
    s(["session", Hash32], ["kind", e(["scoring_sheet", null], ["report", null])], ["document_hash", Hash32]),
  ],
);

export const Expiry = e(["height", "u64"], ["time", Time]);

export const TxBody = s(
  ["chain_id", Text],
  ["signer", PublicKey],
  ["nonce", "u64"],
  ["expiry", Expiry],
  ["action", Action],
);
