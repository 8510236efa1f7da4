//! Huxin's business rules, one module per domain. Pure and deterministic: a contract reads and
//! writes the ledger only through [`KvState`], and gets the block's height and time in
//! [`TxContext`]. No I/O, clocks, randomness or hash-map iteration decide anything here.
//!
//! Errors: every refusal is a [`Rejection`] with a stable [`RejectCode`] and a message naming what
//! was expected and what came; it is recorded in the transaction's receipt.
//!
//! Adding a domain: add its `Action` variants in `huxin_types::tx`, a module here with an
//! `apply` function, a row in [`permission::allowed_roles`], and a dispatch arm in [`apply`].

pub mod audit;
pub mod blacklist;
pub mod credit;
pub mod deal;
pub mod governance;
pub mod guarantee;
pub mod identity;
pub mod keys;
pub mod params;
pub mod permission;
pub mod registry;
pub mod risk;

use huxin_types::crypto::PublicKey;
use huxin_types::{Action, ChainId, Height, RejectCode, Rejection, TimestampMs, TxHash};

pub use registry::{MemberRecord, MemberStatus};

/// The ledger as a contract sees it: an ordered key-value map. The state machine implements it
/// over the Merkle state with a per-transaction overlay, so a rejected transaction's writes are
/// discarded.
pub trait KvState {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    fn delete(&mut self, key: Vec<u8>);
}

/// Everything a contract may know about the transaction it executes.
#[derive(Clone, Debug)]
pub struct TxContext {
    /// The network's chain id (statements a subject signs are bound to it).
    pub chain_id: ChainId,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
    pub signer: PublicKey,
    pub member: MemberRecord,
}

/// Execute one admitted transaction's action. On `Err`, the caller discards every write.
pub fn apply(ctx: &TxContext, state: &mut dyn KvState, action: &Action) -> Result<(), Rejection> {
    permission::check(ctx.member.role, action)?;
    match action {
        Action::AnchorDocument(anchor) => deal::anchor(ctx, state, anchor),
        Action::AttestSubject(a) => identity::attest(ctx, state, a),
        Action::RevokeAttestation(r) => identity::revoke(ctx, state, r),
        Action::RecogniseAttestation { subject } => identity::recognise(ctx, state, subject),
        Action::WithdrawRecognition { subject } => identity::withdraw(ctx, state, subject),
        Action::SetRecognitionPolicy { policy } => identity::set_policy(ctx, state, *policy),
        Action::ListOnBlacklist(l) => blacklist::list(ctx, state, l),
        Action::LiftBlacklist(l) => blacklist::lift(ctx, state, l),
        Action::RecordCredit(r) => credit::record_credit(ctx, state, r),
        Action::RepairCredit(r) => credit::repair(ctx, state, r),
        Action::RevokeCredit(r) => credit::revoke(ctx, state, r),
        Action::IssueGuarantee(g) => guarantee::issue(ctx, state, g),
        Action::VerifyGuarantee(n) => guarantee::verify(ctx, state, n),
        Action::ClaimGuarantee(c) => guarantee::claim(ctx, state, c),
        Action::PayGuarantee(p) => guarantee::pay(ctx, state, p),
        Action::ReleaseGuarantee(n) => guarantee::release(ctx, state, n),
        Action::CancelGuarantee(n) => guarantee::cancel(ctx, state, n),
        Action::Propose(p) => governance::propose(ctx, state, p),
        Action::Vote(v) => governance::vote(ctx, state, v),
        Action::SubjectStatement(s) => identity::statement(ctx, state, s),
        Action::AnchorAuditLog(a) => audit::anchor(ctx, state, a),
    }
}

/// Decode a stored record; a record that fails to decode is a broken invariant (only this crate
/// writes these keys, in canonical form).
pub(crate) fn decode_record<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> T {
    match huxin_types::codec::decode_stored(bytes, usize::MAX) {
        Ok(value) => value,
        Err(e) => panic!("stored {what} record does not decode: {e}"),
    }
}

pub(crate) fn rejection(code: RejectCode, reason: impl Into<String>) -> Rejection {
    Rejection::new(code, reason)
}

#[cfg(test)]
mod tests;
