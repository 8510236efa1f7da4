//! Governance: two thirds of active trading centres, expiry, execute once, membership, keys,
//! validator schedule and parameters.

use huxin_types::governance::{NewMember, Params, ProposalAction, Propose, Vote};

use super::*;
use crate::governance::{self as contract, ProposalStatus};

fn propose(action: ProposalAction) -> Action {
    Action::Propose(Propose { action, reason: "理事会决议".into() })
}

fn vote(proposal: TxHash, approve: bool) -> Action {
    Action::Vote(Vote { proposal: Hash32(proposal.0), approve })
}

fn status(state: &Memory, id: TxHash) -> ProposalStatus {
    contract::proposal(state, &Hash32(id.0)).unwrap().unwrap().status
}

fn id_of(key: &SecretKey) -> MemberId {
    MemberId::from_key(&key.public_key())
}

#[test]
fn two_thirds_of_active_centres_pass_a_proposal_once() {
    assert_eq!([1, 2, 3, 4, 5, 6, 7].map(contract::threshold), [1, 2, 2, 3, 4, 4, 5]);
    let (mut state, k) = regions();
    let (hangzhou, ningbo, wenzhou, supervisor) = (&k[0], &k[1], &k[2], &k[3]);
    let newcomer = SecretKey::from_bytes([99; 32]);
    let add = propose(ProposalAction::AddMember(NewMember {
        name: "绍兴市公共资源交易中心".into(),
        role: Role::TradingCentre,
        region: region(330600),
        uscc: uscc("12330600MB0000001"),
        keys: vec![newcomer.public_key()],
    }));
    let id = run_at(&mut state, hangzhou, 0, add).unwrap();
    assert_eq!(status(&state, id), ProposalStatus::Open);
    assert_eq!(registry::signer_member(&state, &newcomer.public_key()).rejected().code, RejectCode::UnknownSigner);
    rejected(run_at(&mut state, hangzhou, 1, vote(id, true)), RejectCode::Conflict, "already voted");
    rejected(run_at(&mut state, supervisor, 1, vote(id, true)), RejectCode::NotPermitted, "supervisor");
    run_at(&mut state, ningbo, 2, vote(id, true)).unwrap();
    assert!(matches!(status(&state, id), ProposalStatus::Executed { .. }));
    assert_eq!(registry::signer_member(&state, &newcomer.public_key()).unwrap().region, region(330600));
    rejected(run_at(&mut state, wenzhou, 3, vote(id, true)), RejectCode::InvalidTransition, "only while it is open");

    // Now four centres: three yes votes are needed; two no votes reject.
    let suspend = propose(ProposalAction::SuspendMember { member: id_of(wenzhou) });
    let id = run_at(&mut state, supervisor, 10, suspend).unwrap();
    run_at(&mut state, hangzhou, 11, vote(id, false)).unwrap();
    assert_eq!(status(&state, id), ProposalStatus::Open);
    run_at(&mut state, &newcomer, 12, vote(id, false)).unwrap();
    assert!(matches!(status(&state, id), ProposalStatus::Rejected { .. }));

    // Expiry after 7 days.
    let suspend = propose(ProposalAction::SuspendMember { member: id_of(wenzhou) });
    let id = run_at(&mut state, supervisor, 20, suspend.clone()).unwrap();
    rejected(run_at(&mut state, hangzhou, 20 + 7 * DAY, vote(id, true)), RejectCode::InvalidTransition, "expired");

    // Two proposals for the same suspension: the second to pass fails and changes nothing.
    let first = run_at(&mut state, hangzhou, 30, suspend.clone()).unwrap();
    let second = run_at(&mut state, ningbo, 31, suspend).unwrap();
    for voter in [ningbo, &newcomer] {
        run_at(&mut state, voter, 32, vote(first, true)).unwrap();
    }
    assert!(matches!(status(&state, first), ProposalStatus::Executed { .. }));
    let r = registry::signer_member(&state, &wenzhou.public_key()).rejected();
    assert_eq!(r.code, RejectCode::SignerInactive);
    // Wenzhou is no longer active: three active centres, two yes votes pass.
    run_at(&mut state, hangzhou, 33, vote(second, true)).unwrap();
    assert!(
        matches!(status(&state, second), ProposalStatus::Failed { ref reason, .. } if reason.contains("only an active member")),
        "{:?}",
        status(&state, second)
    );
    // Reinstate, then remove for good.
    let id =
        run_at(&mut state, hangzhou, 40, propose(ProposalAction::ReinstateMember { member: id_of(wenzhou) })).unwrap();
    run_at(&mut state, ningbo, 41, vote(id, true)).unwrap();
    assert!(registry::signer_member(&state, &wenzhou.public_key()).is_ok());
    let id =
        run_at(&mut state, hangzhou, 50, propose(ProposalAction::RemoveMember { member: id_of(wenzhou) })).unwrap();
    for voter in [ningbo, &newcomer] {
        run_at(&mut state, voter, 51, vote(id, true)).unwrap();
    }
    assert!(registry::signer_member(&state, &wenzhou.public_key()).rejected().reason.contains("Removed"));
    rejected(
        run_at(&mut state, hangzhou, 60, propose(ProposalAction::ReinstateMember { member: id_of(wenzhou) })),
        RejectCode::RuleViolated,
        "only a suspended member",
    );
}

#[test]
fn keys_rotate_and_the_old_key_signs_nothing() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, bank) = (&k[0], &k[1], &k[4]);
    let new = SecretKey::from_bytes([123; 32]);
    let rotate = |old: &SecretKey, new: &SecretKey| {
        propose(ProposalAction::RotateKey { member: id_of(bank), old: old.public_key(), new: new.public_key() })
    };
    rejected(run_at(&mut state, hangzhou, 0, rotate(ningbo, &new)), RejectCode::RuleViolated, "is not one of member");
    rejected(run_at(&mut state, hangzhou, 0, rotate(bank, hangzhou)), RejectCode::RuleViolated, "already registered");
    let id = run_at(&mut state, hangzhou, 0, rotate(bank, &new)).unwrap();
    run_at(&mut state, ningbo, 1, vote(id, true)).unwrap();
    let r = registry::signer_member(&state, &bank.public_key()).rejected();
    assert!(r.reason.contains("rotated out"), "{}", r.reason);
    assert_eq!(registry::signer_member(&state, &new.public_key()).unwrap().id, id_of(bank));
}

#[test]
fn validator_changes_take_effect_two_heights_later() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, wenzhou) = (&k[0], &k[1], &k[2]);
    let validator_key = SecretKey::from_bytes([55; 32]).public_key();
    let add = propose(ProposalAction::SetValidator { member: id_of(ningbo), public_key: validator_key, power: 1 });
    // run_at puts time t in height t/1000 + 5: the vote below executes at height 5.
    let id = run_at(&mut state, hangzhou, 0, add).unwrap();
    run_at(&mut state, wenzhou, 0, vote(id, true)).unwrap();
    let keys_at = |state: &Memory, h| -> Vec<_> {
        registry::validators_at(state, Height(h)).unwrap().iter().map(|v| v.public_key).collect()
    };
    assert_eq!(keys_at(&state, 6), vec![hangzhou.public_key()]);
    assert_eq!(keys_at(&state, 7), vec![hangzhou.public_key(), validator_key]);

    // A second change at height 6 builds on the scheduled set.
    let remove = propose(ProposalAction::RemoveValidator { public_key: hangzhou.public_key() });
    let id = run_at(&mut state, ningbo, 1000, remove).unwrap();
    run_at(&mut state, wenzhou, 1000, vote(id, true)).unwrap();
    assert_eq!(keys_at(&state, 7), vec![hangzhou.public_key(), validator_key]);
    assert_eq!(keys_at(&state, 8), vec![validator_key]);
    let last = propose(ProposalAction::RemoveValidator { public_key: validator_key });
    rejected(run_at(&mut state, ningbo, 5000, last), RejectCode::RuleViolated, "last validator");
    let bank = propose(ProposalAction::SetValidator { member: id_of(&k[4]), public_key: validator_key, power: 1 });
    rejected(run_at(&mut state, ningbo, 5000, bank), RejectCode::RuleViolated, "not an active trading centre");
}

#[test]
fn parameters_change_only_through_a_passed_proposal() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo) = (&k[0], &k[1]);
    let mut params = Params::default();
    params.general_window.min_days = 400;
    rejected(
        run_at(&mut state, hangzhou, 0, propose(ProposalAction::SetParams(params))),
        RejectCode::InvalidField,
        "general window",
    );
    let params = Params { candidate_publicity_days: 5, ..Params::default() };
    let id = run_at(&mut state, hangzhou, 0, propose(ProposalAction::SetParams(params))).unwrap();
    assert_eq!(crate::params::current(&state).unwrap().candidate_publicity_days, 3);
    run_at(&mut state, ningbo, 1, vote(id, true)).unwrap();
    assert_eq!(crate::params::current(&state).unwrap(), params);
}

/// Regression: a suspended or removed member's validators kept voting (and stayed on both
/// allow-lists); they now leave with the member, two heights later.
#[test]
fn a_suspended_members_validators_leave_with_it() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, wenzhou) = (&k[0], &k[1], &k[2]);
    let ningbo_validator = SecretKey::from_bytes([56; 32]).public_key();
    let add = propose(ProposalAction::SetValidator { member: id_of(ningbo), public_key: ningbo_validator, power: 1 });
    let id = run_at(&mut state, hangzhou, 0, add).unwrap();
    run_at(&mut state, wenzhou, 0, vote(id, true)).unwrap();
    let keys_at = |state: &Memory, h| -> Vec<_> {
        registry::validators_at(state, Height(h)).unwrap().iter().map(|v| v.public_key).collect()
    };
    assert_eq!(keys_at(&state, 7), vec![hangzhou.public_key(), ningbo_validator]);

    // Suspending Ningbo (decided at height 7) takes its validator out from height 9.
    let suspend = propose(ProposalAction::SuspendMember { member: id_of(ningbo) });
    let id = run_at(&mut state, hangzhou, 2000, suspend).unwrap();
    run_at(&mut state, wenzhou, 2000, vote(id, true)).unwrap();
    assert_eq!(keys_at(&state, 8), vec![hangzhou.public_key(), ningbo_validator]);
    assert_eq!(keys_at(&state, 9), vec![hangzhou.public_key()]);

    // The member running every validator cannot be suspended: the chain would halt.
    let halt = propose(ProposalAction::SuspendMember { member: id_of(hangzhou) });
    rejected(run_at(&mut state, wenzhou, 5000, halt), RejectCode::RuleViolated, "halt the chain");
}

/// On an ed25519 chain, a proposal cannot add a member or rotate in a key of the SM2 suite, nor
/// make an SM2 key a validator (consensus keys are ed25519 on every chain for now), and an
/// attestation cannot bind one; on an SM2 chain, an ed25519 member key is refused likewise.
#[test]
fn keys_of_another_suite_are_refused_where_they_enter_the_ledger() {
    use huxin_types::crypto::Suite;
    let (mut state, k) = regions();
    let hangzhou = &k[0];
    let sm2 = SecretKey::derive_in(Suite::Sm2Sm3, [42; 32]).public_key();
    let add = |key| {
        propose(ProposalAction::AddMember(NewMember {
            name: "绍兴市公共资源交易中心".into(),
            role: Role::TradingCentre,
            region: region(330600),
            uscc: uscc("12330600MB0000001"),
            keys: vec![key],
        }))
    };
    rejected(
        run_at(&mut state, hangzhou, 0, add(sm2)),
        RejectCode::InvalidField,
        "this chain's suite is ed25519-sha256",
    );
    let rotate = propose(ProposalAction::RotateKey { member: id_of(hangzhou), old: hangzhou.public_key(), new: sm2 });
    rejected(run_at(&mut state, hangzhou, 1, rotate), RejectCode::InvalidField, "sm2-sm3 key");
    let validator = propose(ProposalAction::SetValidator { member: id_of(hangzhou), public_key: sm2, power: 1 });
    rejected(
        run_at(&mut state, hangzhou, 2, validator),
        RejectCode::InvalidField,
        "this chain's suite is ed25519-sha256",
    );
    let bound = AttestSubject { bound_key: Some(sm2), ..attestation(org("91330100MA0000001")) };
    rejected(run_at(&mut state, hangzhou, 3, Action::AttestSubject(bound)), RejectCode::InvalidField, "bound_key");

    // An SM2 chain: the same checks, the other way round.
    state.put(crate::keys::suite(), codec::encode(&Suite::Sm2Sm3));
    let ed = SecretKey::from_bytes([43; 32]).public_key();
    rejected(run_at(&mut state, hangzhou, 4, add(ed)), RejectCode::InvalidField, "this chain's suite is sm2-sm3");
    assert!(run_at(&mut state, hangzhou, 5, add(sm2)).is_ok(), "an SM2 key is proposed on an SM2 chain");
    let validator = propose(ProposalAction::SetValidator { member: id_of(hangzhou), public_key: sm2, power: 1 });
    rejected(run_at(&mut state, hangzhou, 6, validator), RejectCode::InvalidField, "set_validator_with_node_key");
    let with_node = |public_key, node_key| {
        propose(ProposalAction::SetValidatorWithNodeKey { member: id_of(hangzhou), public_key, node_key, power: 1 })
    };
    rejected(run_at(&mut state, hangzhou, 7, with_node(sm2, sm2)), RejectCode::InvalidField, "is ed25519");
    rejected(
        run_at(&mut state, hangzhou, 8, with_node(ed, ed)),
        RejectCode::InvalidField,
        "this chain's suite is sm2-sm3",
    );
    assert!(run_at(&mut state, hangzhou, 9, with_node(sm2, ed)).is_ok(), "an SM2 validator with its node key");
}
