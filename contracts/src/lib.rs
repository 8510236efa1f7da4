//! Huxin's business rules, one module per domain. Pure and deterministic: a contract reads and
//! writes the ledger only through [`KvState`], and gets the block's height and time in
//! [`TxContext`]. No I/O, clocks, randomness or hash-map iteration decide anything here.
//!
//! Errors: every refusal is a [`Rejection`] with a stable [`RejectCode`] and a message naming what
//! was expected and what came; it is recorded in the transaction's receipt. A storage fault (a
//! failed read, a stored record that does not decode) is a [`StateError`], never a rejection: every
//! read is fallible all the way up, and a block whose execution meets one is not voted for.
//!
//! Adding a domain: add its `Action` variants in `huxin_types::tx`, a module here with an
//! `apply` function, a row in [`permission::allowed_roles`], and a dispatch arm in [`apply`].

pub mod audit;
pub mod blacklist;
pub mod credit;
pub mod deal;
pub mod evaluation;
pub mod governance;
pub mod guarantee;
pub mod identity;
pub mod keys;
pub mod paged;
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
    /// The value under `key`, `None` if absent; `Err` only when storage fails to answer.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    fn delete(&mut self, key: Vec<u8>);
}

/// A storage fault met while reading the ledger. Not a transaction's fault, so never a receipt:
/// block execution that meets one fails (the block is not voted for, or the node stops), and an
/// API answer that meets one is a 500.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("state read failed: {0}")]
    Read(String),
    #[error("stored {what} record does not decode: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

/// Why a contract did not apply an action: the action is refused (a receipt), or the state could
/// not be read (no receipt: see [`StateError`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error(transparent)]
    State(#[from] StateError),
}

impl Error {
    /// The rejection, when the action was refused (`None` for a state fault).
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Error::Rejected(r) => Some(r),
            Error::State(_) => None,
        }
    }
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

impl TxContext {
    /// The chain's suite, whose hash the contracts' ids and the expert draw use: the signer's
    /// (admission refuses a signer of any other).
    pub fn suite(&self) -> huxin_types::crypto::Suite {
        self.signer.suite()
    }
}

/// Execute one admitted transaction's action. On `Err`, the caller discards every write.
pub fn apply(ctx: &TxContext, state: &mut dyn KvState, action: &Action) -> Result<(), Error> {
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
        Action::EnrolExpert(e) => evaluation::enrol(ctx, state, e),
        Action::OpenEvaluation(o) => evaluation::open(ctx, state, o),
        Action::CommitDraw(c) => evaluation::commit(ctx, state, c),
        Action::RevealDraw(r) => evaluation::reveal(ctx, state, r),
        Action::RevealSeats(r) => evaluation::reveal_seats(ctx, state, r),
        Action::ReplaceExpert(r) => evaluation::replace(ctx, state, r),
        Action::AnchorEvaluation(a) => evaluation::anchor_document(ctx, state, a),
    }
}

/// Read and decode the `what` record under `key` (`None` if absent). Only this crate writes these
/// keys, so one that does not decode means a damaged store: a [`StateError::Corrupt`], not a panic.
pub(crate) fn read<T: serde::de::DeserializeOwned>(
    state: &dyn KvState,
    key: &[u8],
    what: &'static str,
) -> Result<Option<T>, StateError> {
    let Some(bytes) = state.get(key)? else { return Ok(None) };
    huxin_types::codec::decode_stored(&bytes, usize::MAX)
        .map(Some)
        .map_err(|e| StateError::Corrupt { what, detail: e.to_string() })
}

/// [`read`], with the type's default for an absent key (an empty list, nonce 0).
pub(crate) fn read_or_default<T: serde::de::DeserializeOwned + Default>(
    state: &dyn KvState,
    key: &[u8],
    what: &'static str,
) -> Result<T, StateError> {
    Ok(read(state, key, what)?.unwrap_or_default())
}

pub(crate) fn rejection(code: RejectCode, reason: impl Into<String>) -> Error {
    Error::Rejected(Rejection::new(code, reason))
}

#[cfg(test)]
mod tests;
