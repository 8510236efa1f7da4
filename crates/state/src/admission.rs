//! Whether a transaction may enter a block (or the mempool): the checks every validator repeats.

use huxin_contracts::registry;
use huxin_contracts::{Error, KvState, MemberRecord};
use huxin_types::crypto::Suite;
use huxin_types::limits::{TX_BYTES_MAX, TX_EXPIRY_HORIZON_HEIGHTS, TX_EXPIRY_HORIZON_MS};
use huxin_types::tx::Expiry;
use huxin_types::{ChainId, Height, RejectCode, Rejection, SignedTx, TimestampMs};

/// A transaction that passed admission, with its signer's member record.
#[derive(Clone, Debug)]
pub struct Admitted {
    pub member: MemberRecord,
    /// The signer's last used nonce before this transaction.
    pub last_nonce: u64,
}

/// Checks that need no state and cost no signature verification: size, chain id, nonce, field
/// bounds.
pub fn check_stateless(chain_id: &ChainId, tx: &SignedTx) -> Result<(), Rejection> {
    let size = tx.encoded_len();
    if size > TX_BYTES_MAX {
        return Err(Rejection::new(
            RejectCode::Malformed,
            format!("transaction is {size} bytes; at most {TX_BYTES_MAX} are allowed"),
        ));
    }
    if &tx.body.chain_id != chain_id {
        return Err(Rejection::new(
            RejectCode::WrongChain,
            format!(
                "transaction is for chain {:?}; this network is {:?}",
                tx.body.chain_id.as_str(),
                chain_id.as_str()
            ),
        ));
    }
    if tx.body.nonce == 0 {
        return Err(Rejection::new(RejectCode::BadNonce, "nonces start at 1; got 0"));
    }
    tx.body.action.check_fields().map_err(|reason| Rejection::new(RejectCode::InvalidField, reason))?;
    Ok(())
}

/// The signer's key is of the chain's suite: checked before anything costs a signature
/// verification (an SM2 verification costs about thirteen ed25519 ones).
pub fn check_suite(suite: Suite, tx: &SignedTx) -> Result<(), Rejection> {
    let key = &tx.body.signer;
    if key.suite() != suite {
        return Err(Rejection::new(
            RejectCode::BadSignature,
            format!("the signer's key {key} is an {} key; this chain signs with {suite}", key.suite()),
        ));
    }
    Ok(())
}

/// The transaction's signature, as a `bad_signature` refusal when it does not verify.
fn check_signature(tx: &SignedTx) -> Result<(), Rejection> {
    tx.verify_signature().map_err(|e| Rejection::new(RejectCode::BadSignature, e.to_string()))
}

fn check_expiry(expiry: Expiry, height: Height, time: TimestampMs) -> Result<(), Rejection> {
    if expiry.is_expired(height, time) {
        return Err(Rejection::new(
            RejectCode::Expired,
            match expiry {
                Expiry::Height(h) => format!("transaction expired after height {h}; block height is {height}"),
                Expiry::Time(t) => format!("transaction expired at {} ms; block time is {} ms", t.0, time.0),
            },
        ));
    }
    let too_far = match expiry {
        Expiry::Height(h) => h.0 > height.0.saturating_add(TX_EXPIRY_HORIZON_HEIGHTS),
        Expiry::Time(t) => t.0 > time.0.saturating_add(TX_EXPIRY_HORIZON_MS),
    };
    if too_far {
        return Err(Rejection::new(
            RejectCode::InvalidField,
            format!(
                "expiry {expiry:?} is too far ahead; at most {TX_EXPIRY_HORIZON_HEIGHTS} heights or {TX_EXPIRY_HORIZON_MS} ms past the block"
            ),
        ));
    }
    Ok(())
}

/// Full admission for inclusion in a block at `height`/`time`: stateless checks, expiry, active
/// signer, and exactly the signer's next nonce.
pub fn check_admission(
    state: &dyn KvState,
    chain_id: &ChainId,
    suite: Suite,
    tx: &SignedTx,
    height: Height,
    time: TimestampMs,
    verify_signature: bool,
) -> Result<Admitted, Error> {
    check_stateless(chain_id, tx)?;
    check_suite(suite, tx)?;
    if verify_signature {
        check_signature(tx)?;
    }
    check_expiry(tx.body.expiry, height, time)?;
    let member = registry::signer_member(state, &tx.body.signer)?;
    let last_nonce = registry::last_nonce(state, &tx.body.signer)?;
    registry::expect_next_nonce(&tx.body.signer, last_nonce, tx.body.nonce)?;
    Ok(Admitted { member, last_nonce })
}

/// How far ahead of a signer's last nonce the mempool holds transactions.
pub const MEMPOOL_NONCE_GAP_MAX: u64 = 1024;

/// Admission to the mempool: like [`check_admission`], but a nonce ahead of the next one is
/// accepted (it waits for the gap to fill), while a used nonce is refused.
pub fn check_mempool_admission(
    state: &dyn KvState,
    chain_id: &ChainId,
    suite: Suite,
    tx: &SignedTx,
    next_height: Height,
    now: TimestampMs,
) -> Result<Admitted, Error> {
    // Cheap checks first, the signature last: a stranger's transaction (unknown key, used
    // nonce) costs no signature verification, so unauthenticated batches cannot buy CPU.
    check_stateless(chain_id, tx)?;
    check_suite(suite, tx)?;
    check_expiry(tx.body.expiry, next_height, now)?;
    let member = registry::signer_member(state, &tx.body.signer)?;
    let last_nonce = registry::last_nonce(state, &tx.body.signer)?;
    if tx.body.nonce <= last_nonce {
        return Err(Error::Rejected(Rejection::new(
            RejectCode::BadNonce,
            format!(
                "nonce {} of key {} is already used; the next is {}",
                tx.body.nonce,
                tx.body.signer,
                last_nonce + 1
            ),
        )));
    }
    if tx.body.nonce > last_nonce + MEMPOOL_NONCE_GAP_MAX {
        return Err(Error::Rejected(Rejection::new(
            RejectCode::BadNonce,
            format!(
                "nonce {} of key {} is more than {MEMPOOL_NONCE_GAP_MAX} ahead of the next ({})",
                tx.body.nonce,
                tx.body.signer,
                last_nonce + 1
            ),
        )));
    }
    check_signature(tx)?;
    Ok(Admitted { member, last_nonce })
}
