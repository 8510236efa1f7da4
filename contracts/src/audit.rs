//! Audit-log anchors (查询留痕): a member's node records the running hash of its audit log of
//! supervisor queries, so a later edit or deletion of the log is detectable
//! (`huxin_types::audit::check_log`).
//!
//! Rules:
//! - trading centres and supervisors (members that run nodes) anchor their own node's log;
//! - `seq` strictly increases per member (`rule_violated` otherwise), so an anchor is never
//!   replaced or rewound.
//!
//! Writes: `audit_anchor/{member}/{seq}` for every anchor and `audit_anchor_latest/{member}`.

use serde::{Deserialize, Serialize};

use huxin_types::audit::AnchorAuditLog;
use huxin_types::codec;
use huxin_types::{Hash32, Height, MemberId, RejectCode, TimestampMs};

use crate::{keys, read, rejection, Error, KvState, StateError, TxContext};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditAnchor {
    pub member: MemberId,
    pub seq: u64,
    pub head: Hash32,
    pub height: Height,
    pub time: TimestampMs,
}

/// The member's latest anchor.
pub fn latest(state: &dyn KvState, member: &MemberId) -> Result<Option<AuditAnchor>, StateError> {
    read(state, &keys::audit_anchor_latest(member), "audit anchor")
}

pub fn anchor(ctx: &TxContext, state: &mut dyn KvState, a: &AnchorAuditLog) -> Result<(), Error> {
    let member = ctx.member.id;
    if let Some(last) = latest(state, &member)? {
        if a.seq <= last.seq {
            return Err(rejection(
                RejectCode::RuleViolated,
                format!("audit log already anchored up to entry {}; seq {} does not advance it", last.seq, a.seq),
            ));
        }
    }
    let record = AuditAnchor { member, seq: a.seq, head: a.head, height: ctx.height, time: ctx.time };
    let bytes = codec::encode(&record);
    state.put(keys::audit_anchor(&member, a.seq), bytes.clone());
    state.put(keys::audit_anchor_latest(&member), bytes);
    Ok(())
}
