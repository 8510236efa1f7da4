//! The state key layout. Every key starts with a one-word namespace and a slash; the rest is
//! fixed-width or hex so that keys sort in a meaningful order.

use huxin_types::crypto::PublicKey;
use huxin_types::identity::SubjectId;
use huxin_types::tx::TenderRef;
use huxin_types::{Hash32, MemberId, RegionCode, Uscc};

pub fn member(id: &MemberId) -> Vec<u8> {
    format!("member/{id}").into_bytes()
}

/// Every member id, sorted.
pub fn members() -> Vec<u8> {
    b"members".to_vec()
}

/// Which member a signing key belongs to.
pub fn signer(key: &PublicKey) -> Vec<u8> {
    format!("signer/{key}").into_bytes()
}

/// The last nonce a signing key used.
pub fn nonce(key: &PublicKey) -> Vec<u8> {
    format!("nonce/{key}").into_bytes()
}

/// The chain's suite, when it is not `ed25519-sha256` (absent: `ed25519-sha256`, so chains
/// made before suites existed keep their genesis state).
pub fn suite() -> Vec<u8> {
    b"suite".to_vec()
}

/// The node key (ed25519: the libp2p identity) of a validator whose consensus key is of another
/// suite (SM2); an ed25519 consensus key is its own node key and has no entry.
pub fn validator_node(consensus_key: &PublicKey) -> Vec<u8> {
    format!("validator_node/{consensus_key}").into_bytes()
}

/// The validator set in force.
pub fn validators() -> Vec<u8> {
    b"validators".to_vec()
}

/// Every anchor of one document hash.
pub fn document(hash: &Hash32) -> Vec<u8> {
    format!("document/{hash}").into_bytes()
}

/// A subject's attestation (with its recognitions).
pub fn attestation(subject: &SubjectId) -> Vec<u8> {
    format!("attestation/{}", subject.key()).into_bytes()
}

/// A region's recognition policy.
pub fn recognition_policy(region: RegionCode) -> Vec<u8> {
    format!("recognition_policy/{region}").into_bytes()
}

/// A subject's blacklist entries.
pub fn blacklist(subject: &SubjectId) -> Vec<u8> {
    format!("blacklist/{}", subject.key()).into_bytes()
}

/// The rule parameters in force (absent: `Params::default()`).
pub fn params() -> Vec<u8> {
    b"params".to_vec()
}

pub fn ring_params() -> Vec<u8> {
    b"ring_params".to_vec()
}

/// The validator set scheduled to take over at a later height.
pub fn validators_next() -> Vec<u8> {
    b"validators_next".to_vec()
}

/// A governance proposal by id.
pub fn proposal(id: &Hash32) -> Vec<u8> {
    format!("proposal/{id}").into_bytes()
}

/// One credit record by id.
pub fn credit_record(id: &Hash32) -> Vec<u8> {
    format!("credit/{id}").into_bytes()
}

/// The ids of every credit record about a subject, in the order recorded (the complete list):
/// a [`crate::paged`] list's head, its pages under this key's `/page/n`.
pub fn credit_ids(subject: &SubjectId) -> Vec<u8> {
    format!("credit_ids/{}", subject.key()).into_bytes()
}

/// The publication windows of a subject's records never repaired or revoked, in the order
/// recorded: what a public answer reads (and proves) instead of every record, so a proof never
/// carries a withdrawn or unpublished record's content. A [`crate::paged`] list's head.
pub fn credit_published(subject: &SubjectId) -> Vec<u8> {
    format!("credit_published/{}", subject.key()).into_bytes()
}

/// A record's ordinal on its subject's [`credit_published`] list (to take it off).
pub fn credit_published_at(id: &Hash32) -> Vec<u8> {
    format!("credit_published_at/{id}").into_bytes()
}

/// [`credit_ids`] as protocol version 2 stored it: one list, rewritten by every record. Read,
/// and moved at the subject's next record.
pub fn credit_list(subject: &SubjectId) -> Vec<u8> {
    format!("credit_list/{}", subject.key()).into_bytes()
}

/// [`credit_published`] as protocol version 2 stored it, one list. Read, and moved at the
/// subject's next record, repair or revocation.
pub fn credit_public(subject: &SubjectId) -> Vec<u8> {
    format!("credit_public/{}", subject.key()).into_bytes()
}

/// How many credit records a member has recorded about a subject (its quota, see
/// [`crate::credit::RECORDER_RECORDS_MAX`]).
pub fn credit_count(subject: &SubjectId, member: &MemberId) -> Vec<u8> {
    format!("credit_count/{}/{member}", subject.key()).into_bytes()
}

/// An e-guarantee by number.
pub fn guarantee(number: &str) -> Vec<u8> {
    format!("guarantee/{number}").into_bytes()
}

/// A tender section's key part: the hex SHA-256 of `huxin/v1/tender` ‖ its canonical encoding
/// (codes may hold '/'). A storage address, the same in either suite: the Merkle tree hashes the
/// whole key in the chain's suite.
pub fn tender_id(tender: &TenderRef) -> Hash32 {
    let mut bytes = b"huxin/v1/tender".to_vec();
    bytes.extend(huxin_types::codec::encode(tender));
    huxin_types::codec::sha256(&bytes)
}

/// A tender section as protocol version 1 stored it: one record with its whole timeline and bid
/// bond pairs. Read, and moved to the keys below at the section's next write.
pub fn tender(tender: &TenderRef) -> Vec<u8> {
    format!("tender/{}", tender_id(tender)).into_bytes()
}

/// A tender section's record: stages, publicity, archive, counts and the newest timeline entries
/// (`deal::SectionRecord`).
pub fn section(tender: &TenderRef) -> Vec<u8> {
    format!("section/{}", tender_id(tender)).into_bytes()
}

/// The `n`-th full page (from 0) of a section's timeline (`deal::section::SECTION_PAGE_ENTRIES`
/// entries).
pub fn section_page(tender: &TenderRef, n: u32) -> Vec<u8> {
    format!("section_page/{}/{n:04}", tender_id(tender)).into_bytes()
}

/// The `n`-th (premium payer, applicant) pair of a section's bid bonds.
pub fn bond_pair(tender: &TenderRef, n: u32) -> Vec<u8> {
    format!("bond_pair/{}/{n:04}", tender_id(tender)).into_bytes()
}

/// The applicants whose bid bonds in a section one payer paid for.
pub fn bond_payer(tender: &TenderRef, payer: &Uscc) -> Vec<u8> {
    format!("bond_payer/{}/{payer}", tender_id(tender)).into_bytes()
}

/// The bid bond an applicant holds for a section.
pub fn bid_bond(tender: &TenderRef, applicant: &Uscc) -> Vec<u8> {
    format!("bid_bond/{}/{applicant}", tender_id(tender)).into_bytes()
}

/// The risk warnings raised in a section.
pub fn risk(tender: &TenderRef) -> Vec<u8> {
    format!("risk/{}", tender_id(tender)).into_bytes()
}

/// A recorded subject statement (so it is recorded once).
pub fn statement(hash: &Hash32) -> Vec<u8> {
    format!("statement/{hash}").into_bytes()
}

/// A subject's access grants.
pub fn grants(subject: &SubjectId) -> Vec<u8> {
    format!("grants/{}", subject.key()).into_bytes()
}

/// A subject's confirmation of one document.
pub fn confirmation(subject: &SubjectId, document: &Hash32) -> Vec<u8> {
    format!("confirmation/{}/{document}", subject.key()).into_bytes()
}

/// One anchor of a member's audit log (sequence number zero-padded so keys sort by it).
pub fn audit_anchor(member: &MemberId, seq: u64) -> Vec<u8> {
    format!("audit_anchor/{member}/{seq:020}").into_bytes()
}

/// A member's latest audit-log anchor.
pub fn audit_anchor_latest(member: &MemberId) -> Vec<u8> {
    format!("audit_anchor_latest/{member}").into_bytes()
}
