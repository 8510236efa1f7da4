//! Proofs a reader can check without trusting the node that answers.
//!
//! A proven answer carries a [`StateProof`]:
//! - `entries`: every state key the answer was computed from, with its value (or its absence)
//!   and a Jellyfish Merkle proof against the state root of one finalised block;
//! - `block`: that block's header and its commit certificate (precommit signatures of more than
//!   two thirds of the voting power in force at that height);
//! - `validator_changes`: every block before it that scheduled a new validator set, each
//!   certified by the set in force at its own height, with a proof of the set it scheduled;
//! - `parent` and `parent_validators`: the previous header (its hash is the block's parent hash)
//!   and a proof of the validator set stored there, which must be the set the chain of changes
//!   arrives at: a node that leaves a change out is caught.
//!
//! [`verify`] walks that chain from the genesis validator set and returns the proven entries as
//! a read-only [`Verified`] state. The reader then recomputes the answer from it with the same
//! pure query functions the node uses ([`crate::queries`]) and compares: a changed value, a
//! dropped record or a key the proof does not cover all fail ([`crate::queries::verify_answer`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use borsh::BorshDeserialize;
use serde::{Deserialize, Serialize};

use huxin_contracts::registry::{self, NextValidators, ValidatorRecord};
use huxin_contracts::{keys, KvState, StateError};
use huxin_types::block::{precommit_message, validator_address};
use huxin_types::crypto::{Domain, Signature, Suite};
use huxin_types::genesis::Genesis;
use huxin_types::{codec, BlockHash, BlockHeader, ChainId, Hash32, Height, TimestampMs};

use crate::{Executed, Pending, StateReader};

/// Most validator-set changes one proof walks (from genesis). Past this a reader needs a
/// trusted checkpoint, which is not built yet.
pub const VALIDATOR_CHANGES_MAX: usize = 1024;
/// Most state entries one proof carries.
pub const PROOF_ENTRIES_MAX: usize = 4096;

/// One state key with its value (or absence) and its Merkle proof.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct ProvenEntry {
    /// The state key, hex.
    pub key: String,
    /// The stored value, hex; absent when the key holds nothing.
    pub value: Option<String>,
    /// The Jellyfish Merkle proof (`SparseMerkleProof` in the chain's hash, borsh, hex).
    pub proof: String,
}

/// One precommit signature of a commit certificate.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct CommitSignature {
    /// The validator's address (hex, 20 bytes): see [`validator_address`].
    pub validator_address: String,
    pub signature: Signature,
}

/// A finalised header with the precommit signatures that decided it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct CertifiedHeader {
    pub header: BlockHeader,
    /// The consensus round in which the block was decided.
    pub round: u32,
    pub signatures: Vec<CommitSignature>,
}

/// A block that scheduled a new validator set, and the set it scheduled.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct ValidatorChange {
    pub block: CertifiedHeader,
    /// `validators_next` in the state after that block.
    pub next_validators: ProvenEntry,
}

/// Everything a reader needs, besides the genesis file, to check an answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct StateProof {
    pub block: CertifiedHeader,
    pub entries: Vec<ProvenEntry>,
    /// The header before `block` (absent for height 1, whose set is the genesis set).
    pub parent: Option<BlockHeader>,
    /// `validators` and `validators_next` in the state after `parent`.
    pub parent_validators: Vec<ProvenEntry>,
    /// Every block below `block` that scheduled a validator set, oldest first.
    pub validator_changes: Vec<ValidatorChange>,
}

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("malformed proof: {0}")]
    Malformed(String),
    #[error("block {height} is for chain {got}; the genesis file is for {expected}")]
    WrongChain { height: Height, expected: ChainId, got: ChainId },
    #[error("commit certificate of block {height}: {reason}")]
    BadCertificate { height: Height, reason: String },
    #[error("state entry {key}: {reason}")]
    BadEntry { key: String, reason: String },
    #[error("validator chain: {0}")]
    BadValidatorChain(String),
    #[error("the answer depends on state key {0}, which the proof does not cover")]
    NotCovered(String),
    #[error("the answer differs from what the proven state gives: {0}")]
    AnswerMismatch(String),
}

/// A stored commit certificate, read without Malachite. Mirrors the borsh form of Malachite's
/// `CommitCertificate` for Huxin's context (`huxin-consensus` tests that the two agree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCertificate {
    pub height: u64,
    pub round: u32,
    pub block_hash: [u8; 32],
    pub signatures: Vec<([u8; 20], [u8; 64])>,
}

#[derive(BorshDeserialize)]
enum RoundRepr {
    Nil,
    Some(u32),
}

#[derive(BorshDeserialize)]
struct CertificateRepr {
    height: u64,
    round: RoundRepr,
    value_id: [u8; 32],
    signatures: Vec<([u8; 20], [u8; 64])>,
}

impl StoredCertificate {
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let repr: CertificateRepr =
            borsh::from_slice(bytes).map_err(|e| format!("certificate does not decode: {e}"))?;
        let round = match repr.round {
            RoundRepr::Some(r) => r,
            RoundRepr::Nil => return Err("certificate has a nil round".into()),
        };
        Ok(StoredCertificate { height: repr.height, round, block_hash: repr.value_id, signatures: repr.signatures })
    }

    pub fn certify(self, header: BlockHeader) -> CertifiedHeader {
        CertifiedHeader {
            header,
            round: self.round,
            signatures: self
                .signatures
                .into_iter()
                .map(|(address, signature)| CommitSignature {
                    validator_address: hex::encode(address),
                    signature: Signature(signature),
                })
                .collect(),
        }
    }
}

/// Prove `key` in the state a block leaves, before the block is persisted: from its tree batch
/// over `reader` (the store as of the parent).
pub fn prove_pending<R: StateReader>(reader: &R, executed: &Executed, key: &[u8]) -> Result<ProvenEntry, String> {
    prove_entry(&Pending::new(reader, executed), executed.header.height.0, key)
}

/// Prove `key` at `version` (a block height) from the node's tree.
pub fn prove_entry<R: StateReader>(reader: &R, version: u64, key: &[u8]) -> Result<ProvenEntry, String> {
    let (value, proof) = crate::tree::get_with_proof(reader, key, version).map_err(|e| e.to_string())?;
    Ok(ProvenEntry { key: hex::encode(key), value: value.map(hex::encode), proof: hex::encode(proof) })
}

impl ProvenEntry {
    /// Check the entry against `root`, in a chain of `suite`; give its key and value.
    fn check(&self, suite: Suite, root: &Hash32) -> Result<(Vec<u8>, Option<Vec<u8>>), ProofError> {
        let bad = |reason: String| ProofError::BadEntry { key: self.key.clone(), reason };
        let key = hex::decode(&self.key).map_err(|e| bad(format!("key is not hex: {e}")))?;
        let value = match &self.value {
            Some(v) => Some(hex::decode(v).map_err(|e| bad(format!("value is not hex: {e}")))?),
            None => None,
        };
        let proof_bytes = hex::decode(&self.proof).map_err(|e| bad(format!("proof is not hex: {e}")))?;
        crate::tree::verify_proof(suite, &proof_bytes, root, &key, value.as_deref()).map_err(|e| {
            bad(match &value {
                Some(_) => format!("the value is not in the state of root {root}: {e}"),
                None => format!("absence is not proven against root {root}: {e}"),
            })
        })?;
        Ok((key, value))
    }
}

/// A validator set in force from an activation height on.
type Schedule = Vec<(Height, Vec<ValidatorRecord>)>;

fn set_at(schedule: &Schedule, height: Height) -> &[ValidatorRecord] {
    schedule.iter().rev().find(|(from, _)| *from <= height).map_or(&[], |(_, set)| set.as_slice())
}

/// The validator set genesis writes.
pub fn genesis_validators(genesis: &Genesis) -> Vec<ValidatorRecord> {
    registry::genesis_writes(genesis)
        .into_iter()
        .find(|(k, _)| *k == keys::validators())
        .and_then(|(_, v)| codec::decode_stored(&v, usize::MAX).ok())
        .unwrap_or_default()
}

/// Check that more than two thirds of `set`'s voting power precommitted `certified.header`.
/// Gives the signed and total power.
pub fn verify_commit(
    chain_id: &ChainId,
    certified: &CertifiedHeader,
    set: &[ValidatorRecord],
) -> Result<(u64, u64), ProofError> {
    let header = &certified.header;
    let bad = |reason: String| ProofError::BadCertificate { height: header.height, reason };
    if header.chain_id != *chain_id {
        return Err(ProofError::WrongChain {
            height: header.height,
            expected: chain_id.clone(),
            got: header.chain_id.clone(),
        });
    }
    let hash: BlockHash = header.hash();
    let total: u64 = set.iter().map(|v| v.power).sum();
    let mut signed = 0u64;
    let mut seen = BTreeSet::new();
    for s in &certified.signatures {
        let address: [u8; 20] = hex::decode(&s.validator_address)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad(format!("validator address {} is not 20 bytes of hex", s.validator_address)))?;
        let validator = set
            .iter()
            .find(|v| validator_address(&v.public_key) == address)
            .ok_or_else(|| bad(format!("{} is not a validator at this height", s.validator_address)))?;
        if !seen.insert(address) {
            return Err(bad(format!("{} signed twice", s.validator_address)));
        }
        let message = precommit_message(chain_id, header.height, certified.round, &hash, &address);
        validator
            .public_key
            .verify(Domain::Vote, &message, &s.signature)
            .map_err(|_| bad(format!("the signature of {} does not verify for block {hash}", s.validator_address)))?;
        signed = signed.saturating_add(validator.power);
    }
    if signed.saturating_mul(3) <= total.saturating_mul(2) {
        return Err(bad(format!("signed power {signed} of {total} is not more than two thirds")));
    }
    Ok((signed, total))
}

/// What a checked proof establishes.
#[derive(Debug)]
pub struct Verified {
    pub chain_id: ChainId,
    pub height: Height,
    pub time: TimestampMs,
    pub block_hash: BlockHash,
    pub state_root: Hash32,
    /// Voting power that signed the block, and the total in force.
    pub signed_power: u64,
    pub total_power: u64,
    /// Validator-set changes walked from genesis.
    pub validator_changes: usize,
    entries: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Keys read that the proof does not cover.
    uncovered: RefCell<BTreeSet<Vec<u8>>>,
}

impl Verified {
    /// The first key read through [`KvState`] that the proof did not cover.
    pub fn uncovered(&self) -> Option<Vec<u8>> {
        self.uncovered.borrow().iter().next().cloned()
    }
}

/// A read-only state of the proven entries, for recomputing an answer. A read of a key the proof
/// does not cover fails, and is remembered ([`Verified::uncovered`]).
impl KvState for Verified {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.entries.get(key) {
            Some(value) => Ok(value.clone()),
            None => {
                self.uncovered.borrow_mut().insert(key.to_vec());
                Err(StateError::Read(format!("key {} is not covered by the proof", hex::encode(key))))
            }
        }
    }
    fn put(&mut self, key: Vec<u8>, _value: Vec<u8>) {
        self.uncovered.borrow_mut().insert(key);
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.uncovered.borrow_mut().insert(key);
    }
}

/// Check `proof` from the genesis validator set up to its block, and its entries against that
/// block's state root.
pub fn verify(proof: &StateProof, genesis: &Genesis) -> Result<Verified, ProofError> {
    let chain_id = &genesis.chain_id;
    let target = proof.block.header.height;
    if target.0 == 0 {
        return Err(ProofError::Malformed("height 0 is genesis; proofs start at block 1".into()));
    }
    if proof.validator_changes.len() > VALIDATOR_CHANGES_MAX {
        return Err(ProofError::Malformed(format!(
            "{} validator changes; at most {VALIDATOR_CHANGES_MAX} are walked",
            proof.validator_changes.len()
        )));
    }
    if proof.entries.len() > PROOF_ENTRIES_MAX {
        return Err(ProofError::Malformed(format!("{} entries; at most {PROOF_ENTRIES_MAX}", proof.entries.len())));
    }
    let chain_err = ProofError::BadValidatorChain;
    let mut schedule: Schedule = vec![(Height(1), genesis_validators(genesis))];
    let mut last = Height(0);
    for change in &proof.validator_changes {
        let header = &change.block.header;
        if header.height <= last || header.height >= target {
            return Err(chain_err(format!(
                "change at height {} is out of order (after {last}, before {target} required)",
                header.height
            )));
        }
        last = header.height;
        verify_commit(chain_id, &change.block, set_at(&schedule, header.height))?;
        let (key, value) = change.next_validators.check(genesis.suite, &header.state_root)?;
        if key != keys::validators_next() {
            return Err(chain_err(format!(
                "change at height {} proves key {}, not validators_next",
                header.height, change.next_validators.key
            )));
        }
        let next: NextValidators = value
            .and_then(|v| codec::decode_stored(&v, usize::MAX).ok())
            .ok_or_else(|| chain_err(format!("no scheduled validator set after height {}", header.height)))?;
        if next.activation <= header.height {
            return Err(chain_err(format!("set scheduled at {} activates at {}", header.height, next.activation)));
        }
        schedule.retain(|(from, _)| *from < next.activation);
        schedule.push((next.activation, next.validators));
    }
    let set = set_at(&schedule, target).to_vec();
    let (signed_power, total_power) = verify_commit(chain_id, &proof.block, &set)?;

    // The set the chain arrives at must be the one the ledger itself had in force.
    if target.0 >= 2 {
        let parent = proof.parent.as_ref().ok_or_else(|| chain_err("the parent header is missing".into()))?;
        if parent.hash() != proof.block.header.parent_hash || parent.height.0 + 1 != target.0 {
            return Err(chain_err(format!("the parent header is not the parent of block {target}")));
        }
        let mut stored = BTreeMap::new();
        for entry in &proof.parent_validators {
            let (key, value) = entry.check(genesis.suite, &parent.state_root)?;
            stored.insert(key, value);
        }
        let read = |key: Vec<u8>| {
            stored.get(&key).cloned().ok_or_else(|| chain_err("the parent's validator entries are missing".into()))
        };
        let current: Vec<ValidatorRecord> =
            read(keys::validators())?.and_then(|v| codec::decode_stored(&v, usize::MAX).ok()).unwrap_or_default();
        let next: Option<NextValidators> =
            read(keys::validators_next())?.and_then(|v| codec::decode_stored(&v, usize::MAX).ok());
        if registry::select_validators(current, next, target) != set {
            return Err(chain_err(format!(
                "the set derived from {} changes is not the set the ledger had in force at {target}: a change is missing",
                proof.validator_changes.len()
            )));
        }
    }

    let mut entries = BTreeMap::new();
    for entry in &proof.entries {
        let (key, value) = entry.check(genesis.suite, &proof.block.header.state_root)?;
        entries.insert(key, value);
    }
    Ok(Verified {
        chain_id: chain_id.clone(),
        height: target,
        time: proof.block.header.time,
        block_hash: proof.block.header.hash(),
        state_root: proof.block.header.state_root,
        signed_power,
        total_power,
        validator_changes: proof.validator_changes.len(),
        entries,
        uncovered: RefCell::new(BTreeSet::new()),
    })
}
