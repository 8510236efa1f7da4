//! Secondary indexes for list queries, derived from a decided block and its state writes. The
//! store writes them in the same atomic batch as the block, so a restarted or caught-up node
//! serves the same lists as every other node.
//!
//! Every index key is `name ‖ fixed-width big-endian fields`, so a prefix scan returns entries in
//! a stable order (oldest first) and the last key seen is a cursor. Values are what a list needs
//! to find the full record in state.
//!
//! | index | key after the name | value |
//! | --- | --- | --- |
//! | [`TXS_BY_SIGNER`] | signer (32) ‖ height (8) ‖ index in block (4) | tx hash |
//! | [`CREDIT_ALL`] | decision date (8) ‖ record id (32) | — |
//! | [`CREDIT_BY_REGION`] | region (4) ‖ decision date (8) ‖ record id (32) | — |
//! | [`GUARANTEES_BY_PROVIDER`] | member id (20) ‖ height (8) ‖ number | — |
//! | [`GUARANTEES_BY_TENDER`] | tender id (32) ‖ height (8) ‖ number | — |
//! | [`BLACKLIST_ALL`] | start (8) ‖ height (8) ‖ SHA-256 of decision number (32) ‖ subject key | decision number |
//! | [`GUARANTEES_BY_APPLICANT`] | applicant USCC (18) ‖ height (8) ‖ number | — |
//! | [`ANCHORS_BY_PARTY`] | party USCC (18) ‖ height (8) ‖ tx hash (32) | document hash (32) |
//! | [`SUBJECTS_BY_NAME`] | name ‖ 0 ‖ subject key | — (written when an attestation is first made or renamed) |
//! | [`AUDIT_ANCHORS`] | member id (20) ‖ seq (8) | anchored head (32) |
//! | [`VALIDATOR_CHANGES`] | height (8) of a block that scheduled a validator set | the proof of `validators_next` after it (empty in stores written before proofs were kept here) |

use std::collections::BTreeMap;

use crate::StateReader;
use huxin_contracts::blacklist::BlacklistEntry;
use huxin_contracts::credit::CreditRecord;
use huxin_contracts::deal::AnchorRecord;
use huxin_contracts::guarantee::GuaranteeRecord;
use huxin_contracts::identity::AttestationRecord;
use huxin_contracts::keys;
use huxin_types::{codec, Block};

use crate::proof::{self, ProvenEntry};
use crate::Executed;

pub const TXS_BY_SIGNER: &[u8] = b"txs_by_signer/";
pub const CREDIT_ALL: &[u8] = b"credit_all/";
pub const CREDIT_BY_REGION: &[u8] = b"credit_by_region/";
pub const GUARANTEES_BY_PROVIDER: &[u8] = b"guarantees_by_provider/";
pub const GUARANTEES_BY_TENDER: &[u8] = b"guarantees_by_tender/";
pub const BLACKLIST_ALL: &[u8] = b"blacklist_all/";
pub const AUDIT_ANCHORS: &[u8] = b"audit_anchors/";
pub const GUARANTEES_BY_APPLICANT: &[u8] = b"guarantees_by_applicant/";
pub const ANCHORS_BY_PARTY: &[u8] = b"anchors_by_party/";
pub const SUBJECTS_BY_NAME: &[u8] = b"subjects_by_name/";
/// Blocks that wrote `validators_next`: the steps of a proof's validator chain.
pub const VALIDATOR_CHANGES: &[u8] = b"validator_changes/";

/// Index entries: (key, value).
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// `name ‖ parts…`
pub fn key(name: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut key = name.to_vec();
    for p in parts {
        key.extend_from_slice(p);
    }
    key
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    codec::decode_stored(bytes, usize::MAX).ok()
}

/// [`entries`], with each validator change's proof as its entry's value: the proof of
/// `validators_next` in the state the block leaves, made from its tree batch over `reader` before
/// it is persisted. Answers' proofs walk these steps; kept here, they outlive the Merkle nodes the
/// store prunes.
pub fn entries_proven<R: StateReader>(reader: &R, block: &Block, executed: &Executed) -> Result<Entries, String> {
    let mut out = entries(block, &executed.writes);
    for (k, v) in &mut out {
        if k.starts_with(VALIDATOR_CHANGES) {
            *v = codec::encode(&proof::prove_pending(reader, executed, &keys::validators_next())?);
        }
    }
    Ok(out)
}

/// The proof to keep in the [`VALIDATOR_CHANGES`] entry of the change at `height`, made from
/// the tree at that version (for entries written before proofs were kept, while that tree is
/// still whole).
pub fn prove_validator_change<R: StateReader>(reader: &R, height: u64) -> Result<Vec<u8>, String> {
    Ok(codec::encode(&proof::prove_entry(reader, height, &keys::validators_next())?))
}

/// The proof kept in a [`VALIDATOR_CHANGES`] entry; `None` for an entry written before proofs
/// were kept (the caller proves it from the tree).
pub fn validator_change_proof(value: &[u8]) -> Option<Result<ProvenEntry, codec::DecodeError>> {
    (!value.is_empty()).then(|| codec::decode_stored(value, VALIDATOR_CHANGE_PROOF_BYTES_MAX))
}

/// Largest kept validator-change proof decoded (a Merkle path of 64 siblings in hex is under 5 KB,
/// the validator set it proves under 1 MB).
const VALIDATOR_CHANGE_PROOF_BYTES_MAX: usize = 2 * 1024 * 1024;

/// The index entries a decided block adds (never removes: every list is append-only; status
/// filters read the current record).
pub fn entries(block: &Block, writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>) -> Entries {
    let height = block.header.height;
    let h = height.0.to_be_bytes();
    let mut out = Vec::new();
    for (i, tx) in block.txs.iter().enumerate() {
        let k = key(TXS_BY_SIGNER, &[tx.body.signer.as_bytes(), &h, &(i as u32).to_be_bytes()]);
        out.push((k, tx.hash().0.to_vec()));
    }
    if writes.contains_key(&keys::validators_next()) {
        out.push((key(VALIDATOR_CHANGES, &[&h]), Vec::new()));
    }
    for (k, value) in writes {
        let Some(value) = value else { continue };
        if k.starts_with(b"credit/") {
            if let Some(r) = decode::<CreditRecord>(value).filter(|r| r.height == height) {
                let date = r.record.decision_date.0.to_be_bytes();
                out.push((key(CREDIT_ALL, &[&date, &r.id.0]), Vec::new()));
                out.push((key(CREDIT_BY_REGION, &[&r.region.get().to_be_bytes(), &date, &r.id.0]), Vec::new()));
            }
        } else if k.starts_with(b"guarantee/") {
            if let Some(g) = decode::<GuaranteeRecord>(value).filter(|g| g.history[0].height == height) {
                let number = g.guarantee.number.as_bytes();
                out.push((key(GUARANTEES_BY_PROVIDER, &[&g.provider.0, &h, number]), Vec::new()));
                let tender = keys::tender_id(&g.guarantee.tender);
                out.push((key(GUARANTEES_BY_TENDER, &[&tender.0, &h, number]), Vec::new()));
                let applicant = g.guarantee.applicant.as_str().as_bytes();
                out.push((key(GUARANTEES_BY_APPLICANT, &[applicant, &h, number]), Vec::new()));
            }
        } else if k.starts_with(b"document/") {
            for a in decode::<Vec<AnchorRecord>>(value).unwrap_or_default().iter().filter(|a| a.height == height) {
                for party in &a.parties {
                    let k = key(ANCHORS_BY_PARTY, &[party.as_str().as_bytes(), &h, &a.tx_hash.0]);
                    out.push((k, a.document_hash.0.to_vec()));
                }
            }
        } else if k.starts_with(b"attestation/") {
            // Indexed under every name it has carried; a search re-checks the current name.
            if let Some(a) = decode::<AttestationRecord>(value).filter(|a| a.updated_height == height) {
                out.push((key(SUBJECTS_BY_NAME, &[a.name.as_bytes(), &[0], a.subject.key().as_bytes()]), Vec::new()));
            }
        } else if k.starts_with(b"audit_anchor/") {
            if let Some(a) = decode::<huxin_contracts::audit::AuditAnchor>(value) {
                out.push((key(AUDIT_ANCHORS, &[&a.member.0, &a.seq.to_be_bytes()]), a.head.0.to_vec()));
            }
        } else if k.starts_with(b"blacklist/") {
            for e in decode::<Vec<BlacklistEntry>>(value).unwrap_or_default().iter().filter(|e| e.height == height) {
                let decision = codec::sha256(e.decision_no.as_bytes());
                let k = key(BLACKLIST_ALL, &[&e.start.0.to_be_bytes(), &h, &decision.0, e.subject.key().as_bytes()]);
                out.push((k, e.decision_no.as_bytes().to_vec()));
            }
        }
    }
    out.sort();
    out
}
