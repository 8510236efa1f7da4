//! What the public API shows of a transaction.
//!
//! Credit actions (`record_credit`, `repair_credit`, `revoke_credit`) carry what only the public
//! credit view may show, and only while a record is published: the facts of a penalty not yet
//! published, or of one repaired since. So blocks, transaction lookups and events show a public
//! reader such a transaction's kind, signer, nonce, hash and outcome code, never its action or a
//! rejection's reason. The public credit history (`/v1/subjects/{s}/credit`) shows published
//! records; the transaction's own signer and supervisors read the rest with a signed request
//! (`GET /v1/txs/{hash}`, audited for supervisors).

pub use huxin_state::answers::WithheldTx;
use huxin_types::{Action, Outcome, Rejection, SignedTx};

/// What stands in for a withheld rejection reason.
pub const WITHHELD_REASON: &str =
    "withheld from the public view (a credit action, an expert's enrolment or an evaluation session's opening): the signer or a supervisor reads it with a signed request";

/// True for the actions whose content the public view withholds: credit actions; an expert's
/// enrolment (its employer); and the opening of an evaluation session, whose avoidance list names
/// the bidders (with the employers, the session's pool would name them too).
pub fn is_withheld(action: &Action) -> bool {
    matches!(
        action,
        Action::RecordCredit(_)
            | Action::RepairCredit(_)
            | Action::RevokeCredit(_)
            | Action::EnrolExpert(_)
            | Action::OpenEvaluation(_)
    )
}

/// A transaction as the public sees it: the whole signed transaction, or, when withheld, only
/// its [`WithheldTx`] summary.
pub fn public_tx(tx: &SignedTx) -> (Option<SignedTx>, Option<WithheldTx>) {
    if is_withheld(&tx.body.action) {
        let summary =
            WithheldTx { kind: tx.body.action.kind().to_owned(), signer: tx.body.signer, nonce: tx.body.nonce };
        (None, Some(summary))
    } else {
        (Some(tx.clone()), None)
    }
}

/// A transaction's outcome as the public sees it: a withheld one's rejection keeps its code and
/// loses its reason (which may quote the action).
pub fn public_outcome(tx: &SignedTx, outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Rejected(r) if is_withheld(&tx.body.action) => {
            Outcome::Rejected(Rejection { code: r.code, reason: WITHHELD_REASON.to_owned() })
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use huxin_types::credit::RevokeCredit;
    use huxin_types::tx::Expiry;
    use huxin_types::{ChainId, Hash32, Height, RejectCode, SecretKey, TxBody};

    fn tx(action: Action) -> SignedTx {
        let key = SecretKey::from_bytes([7; 32]);
        let body = TxBody {
            chain_id: ChainId::new("huxin-test").unwrap(),
            signer: key.public_key(),
            nonce: 3,
            expiry: Expiry::Height(Height(10)),
            action,
        };
        body.sign(&key)
    }

    #[test]
    fn credit_actions_are_withheld_with_their_reasons() {
        let revoke =
            tx(Action::RevokeCredit(RevokeCredit { record_id: Hash32([1; 32]), reason: "复议撤销".into() }));
        let (full, withheld) = public_tx(&revoke);
        assert!(full.is_none());
        let withheld = withheld.unwrap();
        assert_eq!((withheld.kind.as_str(), withheld.nonce), ("revoke_credit", 3));
        let rejected = Outcome::Rejected(Rejection::new(RejectCode::NotFound, "no credit record 0101…"));
        match public_outcome(&revoke, rejected) {
            Outcome::Rejected(r) => assert_eq!((r.code, r.reason.as_str()), (RejectCode::NotFound, WITHHELD_REASON)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_actions_are_shown_whole() {
        let vote = tx(Action::Vote(huxin_types::governance::Vote { proposal: Hash32([2; 32]), approve: true }));
        assert_eq!(public_tx(&vote), (Some(vote.clone()), None));
        let rejected = Outcome::Rejected(Rejection::new(RejectCode::NotFound, "no proposal"));
        assert_eq!(public_outcome(&vote, rejected.clone()), rejected);
    }
}
