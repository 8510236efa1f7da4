//! Subject key binding: confirmations and access grants signed by the subject's own key.

use huxin_types::identity::{GrantScope, Statement, SubjectStatement};

use super::*;
use crate::identity::{self as contract};

#[test]
fn a_bound_key_signs_confirmations_and_grants() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, bank) = (&k[0], &k[1], &k[4]);
    let subject = org("91330100MA0000001");
    let subject_key = SecretKey::from_bytes([200; 32]);
    let bank_id = MemberId::from_key(&bank.public_key());
    let grant = |signed_at: u64| SubjectStatement {
        chain_id: ChainId::new("t").unwrap(),
        subject: subject.clone(),
        statement: Statement::Grant {
            grantee: bank_id,
            scope: GrantScope::CreditHistory,
            expires_at: TimestampMs(30 * DAY),
        },
        signed_at: TimestampMs(signed_at),
    };

    run_at(&mut state, hangzhou, 0, Action::AttestSubject(attestation(subject.clone()))).unwrap();
    rejected(
        run_at(&mut state, bank, 0, Action::SubjectStatement(grant(0).sign(&subject_key))),
        RejectCode::RuleViolated,
        "binds no key",
    );
    let mut bound = attestation(subject.clone());
    bound.bound_key = Some(subject_key.public_key());
    // Regression: a bound key needs the key's own proof of possession, for this chain.
    rejected(
        run_at(&mut state, hangzhou, 0, Action::AttestSubject(bound.clone())),
        RejectCode::InvalidField,
        "bound_key_proof",
    );
    let other_chain = ChainId::new("other").unwrap();
    bound.bound_key_proof = Some(huxin_types::identity::prove_key_binding(&other_chain, &subject, &subject_key));
    rejected(
        run_at(&mut state, hangzhou, 0, Action::AttestSubject(bound.clone())),
        RejectCode::BadSignature,
        "bound_key_proof",
    );
    bound.bound_key_proof =
        Some(huxin_types::identity::prove_key_binding(&ChainId::new("t").unwrap(), &subject, ningbo));
    rejected(
        run_at(&mut state, hangzhou, 0, Action::AttestSubject(bound.clone())),
        RejectCode::BadSignature,
        "bound_key_proof",
    );
    bound.bound_key_proof =
        Some(huxin_types::identity::prove_key_binding(&ChainId::new("t").unwrap(), &subject, &subject_key));
    run_at(&mut state, hangzhou, 0, Action::AttestSubject(bound)).unwrap();

    // Regression: a statement signed for another chain is refused here.
    let elsewhere = SubjectStatement { chain_id: other_chain, ..grant(0) };
    rejected(
        run_at(&mut state, bank, 0, Action::SubjectStatement(elsewhere.sign(&subject_key))),
        RejectCode::WrongChain,
        "statement is for chain",
    );

    rejected(
        run_at(&mut state, bank, 0, Action::SubjectStatement(grant(0).sign(ningbo))),
        RejectCode::BadSignature,
        "bound key",
    );
    rejected(
        run_at(&mut state, bank, 2 * DAY, Action::SubjectStatement(grant(0).sign(&subject_key))),
        RejectCode::RuleViolated,
        "within",
    );
    let signed = grant(DAY).sign(&subject_key);
    run_at(&mut state, bank, DAY, Action::SubjectStatement(signed.clone())).unwrap();
    rejected(
        run_at(&mut state, ningbo, DAY, Action::SubjectStatement(signed)),
        RejectCode::Conflict,
        "already recorded",
    );
    assert!(contract::is_granted(&state, &subject, &bank_id, GrantScope::CreditHistory, TimestampMs(2 * DAY)).unwrap());
    assert!(!contract::is_granted(&state, &subject, &bank_id, GrantScope::Guarantees, TimestampMs(2 * DAY)).unwrap());
    assert!(
        !contract::is_granted(&state, &subject, &bank_id, GrantScope::CreditHistory, TimestampMs(30 * DAY)).unwrap()
    );

    let revoke = SubjectStatement {
        chain_id: ChainId::new("t").unwrap(),
        subject: subject.clone(),
        statement: Statement::RevokeGrant { grantee: bank_id },
        signed_at: TimestampMs(DAY + 1),
    };
    run_at(&mut state, ningbo, DAY, Action::SubjectStatement(revoke.clone().sign(&subject_key))).unwrap();
    assert!(!contract::is_granted(&state, &subject, &bank_id, GrantScope::CreditHistory, TimestampMs(2 * DAY)).unwrap());
    let again = SubjectStatement { signed_at: TimestampMs(DAY + 2), ..revoke };
    rejected(
        run_at(&mut state, ningbo, DAY, Action::SubjectStatement(again.sign(&subject_key))),
        RejectCode::NotFound,
        "no grant",
    );

    let confirm = SubjectStatement {
        chain_id: ChainId::new("t").unwrap(),
        subject: subject.clone(),
        statement: Statement::Confirm { document_hash: Hash32([4; 32]) },
        signed_at: TimestampMs(DAY),
    };
    run_at(&mut state, ningbo, DAY, Action::SubjectStatement(confirm.sign(&subject_key))).unwrap();
    assert_eq!(
        contract::confirmation(&state, &subject, &Hash32([4; 32])).unwrap().unwrap().signed_at,
        TimestampMs(DAY)
    );
}

/// A grant counts for its member, for its scope (or all), until it expires: the rule the API's
/// granted reads apply (`grant_in_force`, which `is_granted` states as a yes or no).
#[test]
fn a_grant_is_in_force_for_its_member_and_scope_until_it_expires() {
    use crate::identity::{grant_in_force, GrantRecord};
    let grant = |grantee: u8, scope, expires_at| GrantRecord {
        grantee: MemberId([grantee; 20]),
        scope,
        expires_at: TimestampMs(expires_at),
        height: Height(1),
        statement: Hash32::ZERO,
    };
    let grants = [grant(1, GrantScope::CreditHistory, 100), grant(2, GrantScope::All, 50)];
    let (one, two, three) = (MemberId([1; 20]), MemberId([2; 20]), MemberId([3; 20]));
    let in_force = |member, scope, time| grant_in_force(&grants, member, scope, TimestampMs(time)).is_some();
    assert!(in_force(&one, GrantScope::CreditHistory, 99));
    assert!(!in_force(&one, GrantScope::CreditHistory, 100), "expired at its expiry");
    assert!(!in_force(&one, GrantScope::Guarantees, 1), "another scope");
    assert!(in_force(&two, GrantScope::Deals, 49), "all covers deals");
    assert!(!in_force(&two, GrantScope::Deals, 50));
    assert!(!in_force(&three, GrantScope::CreditHistory, 1), "no grant to that member");
}
