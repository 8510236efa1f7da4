//! Audit-log anchors: per member, strictly advancing.

use huxin_types::audit::AnchorAuditLog;

use super::*;
use crate::audit;

#[test]
fn anchors_advance_per_member_and_never_rewind() {
    let (mut state, k) = regions();
    let (hangzhou, ningbo, bank) = (&k[0], &k[1], &k[4]);
    let a = |seq: u64, head: u8| Action::AnchorAuditLog(AnchorAuditLog { seq, head: Hash32([head; 32]) });
    run_at(&mut state, hangzhou, 1_000, a(3, 1)).unwrap();
    run_at(&mut state, hangzhou, 2_000, a(7, 2)).unwrap();
    rejected(run_at(&mut state, hangzhou, 3_000, a(7, 9)), RejectCode::RuleViolated, "up to entry 7");
    rejected(run_at(&mut state, hangzhou, 3_000, a(5, 9)), RejectCode::RuleViolated, "does not advance");
    // Another member's log is its own.
    run_at(&mut state, ningbo, 3_000, a(1, 4)).unwrap();
    rejected(run_at(&mut state, bank, 3_000, a(1, 5)), RejectCode::NotPermitted, "may not send");
    assert!(a(0, 5).check_fields().unwrap_err().contains("seq starts at 1"));

    let member = registry::signer_member(&state, &hangzhou.public_key()).unwrap().id;
    let latest = audit::latest(&state, &member).unwrap().unwrap();
    assert_eq!((latest.seq, latest.head), (7, Hash32([2; 32])));
    let first: audit::AuditAnchor =
        codec::decode_stored(&state.get(&keys::audit_anchor(&member, 3)).unwrap().unwrap(), usize::MAX).unwrap();
    assert_eq!((first.seq, first.head, first.time), (3, Hash32([1; 32]), TimestampMs(1_000)));
}
