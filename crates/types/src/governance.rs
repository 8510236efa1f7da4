//! Governance payloads: proposals the trading centres vote on (membership, keys, the validator
//! set, rule parameters) and the rule parameters themselves.

use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::genesis::Role;
use crate::id::{Hash32, MemberId, RegionCode, Uscc};
use crate::identity::text;
use crate::limits::MEMBER_KEYS_MAX;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The shortest and longest publication of a negative credit record of one severity, in days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Window {
    pub min_days: u32,
    pub max_days: u32,
}

impl Window {
    pub fn min_ms(&self) -> u64 {
        u64::from(self.min_days) * DAY_MS
    }
    pub fn max_ms(&self) -> u64 {
        u64::from(self.max_days) * DAY_MS
    }
}

/// How the credit score is computed (all integers; see `huxin_contracts::credit::score`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoreParams {
    /// Score of a subject with no active records.
    pub base: u32,
    /// Deducted per active negative record, by severity.
    pub minor_points: u32,
    pub general_points: u32,
    pub serious_points: u32,
    /// Added per active commendation, up to `commendation_cap` in all.
    pub commendation_points: u32,
    pub commendation_cap: u32,
    /// Active evaluation and performance scores move the total by
    /// (average − `evaluation_pivot`) / `evaluation_divisor`, rounded down.
    pub evaluation_pivot: u32,
    pub evaluation_divisor: u32,
}

/// Thresholds of the collusion-ring analysis (围标串标、陪标、轮流坐庄; see
/// `huxin_state::rings`), changed only by governance (`set_ring_params`). Kept apart from
/// [`Params`] so that blocks holding `set_params` proposals decode as they always did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RingParams {
    /// Two bidders are linked when they bid in at least this many of the same sections…
    pub min_shared_sections: u32,
    /// …and those are at least this many thousandths of the sections the less active of the two
    /// bid in (bidders who meet now and then in a busy market are not a ring).
    pub min_together_permille: u32,
    /// A bidding ring is a group of at least this many bidders, each linked to another.
    pub min_members: u32,
    /// Wins rotate when at least this many different members of a ring won sections it bid in.
    pub min_rotating_winners: u32,
    /// A premium payer is shared when it paid the bid bonds of at least this many applicants
    /// other than itself.
    pub min_payer_applicants: u32,
}

impl Default for RingParams {
    fn default() -> Self {
        RingParams {
            min_shared_sections: 3,
            min_together_permille: 400,
            min_members: 3,
            min_rotating_winners: 2,
            min_payer_applicants: 2,
        }
    }
}

/// Largest value each ring threshold may take.
pub const RING_THRESHOLD_MAX: u32 = 1000;

impl RingParams {
    pub fn check(&self) -> Result<(), String> {
        for (name, value) in [
            ("min_shared_sections", self.min_shared_sections),
            ("min_members", self.min_members),
            ("min_rotating_winners", self.min_rotating_winners),
            ("min_payer_applicants", self.min_payer_applicants),
        ] {
            if !(2..=RING_THRESHOLD_MAX).contains(&value) {
                return Err(format!("{name} must be 2 to {RING_THRESHOLD_MAX}, got {value}"));
            }
        }
        if !(1..=1000).contains(&self.min_together_permille) {
            return Err(format!("min_together_permille must be 1 to 1000, got {}", self.min_together_permille));
        }
        Ok(())
    }
}

/// Rule parameters, changed only by governance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Params {
    /// Publication windows of negative credit records by severity.
    pub minor_window: Window,
    pub general_window: Window,
    pub serious_window: Window,
    /// Longest publication of a non-negative record (commendation, evaluation, performance).
    pub other_window_max_days: u32,
    pub score: ScoreParams,
    /// Candidate publicity (中标候选人公示) lasts at least this many days before the award notice.
    pub candidate_publicity_days: u32,
    /// A bid bond is at most this many thousandths of the section's estimated price (art. 26: 2%).
    pub bid_bond_max_permille: u32,
    /// A governance proposal expires this many days after it is made.
    pub proposal_ttl_days: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            minor_window: Window { min_days: 0, max_days: 90 },
            general_window: Window { min_days: 90, max_days: 365 },
            serious_window: Window { min_days: 365, max_days: 1095 },
            other_window_max_days: 1095,
            score: ScoreParams {
                base: 80,
                minor_points: 2,
                general_points: 10,
                serious_points: 30,
                commendation_points: 3,
                commendation_cap: 10,
                evaluation_pivot: 60,
                evaluation_divisor: 4,
            },
            candidate_publicity_days: 3,
            bid_bond_max_permille: 20,
            proposal_ttl_days: 7,
        }
    }
}

impl Params {
    pub fn check(&self) -> Result<(), String> {
        for (name, w) in
            [("minor", self.minor_window), ("general", self.general_window), ("serious", self.serious_window)]
        {
            if w.max_days == 0 || w.min_days > w.max_days || w.max_days > 3650 {
                return Err(format!(
                    "{name} window {}..{} days: need min ≤ max, 0 < max ≤ 3650",
                    w.min_days, w.max_days
                ));
            }
        }
        if self.other_window_max_days == 0 || self.other_window_max_days > 3650 {
            return Err("other_window_max_days must be 1 to 3650".into());
        }
        if self.score.base > 100 || self.score.evaluation_divisor == 0 || self.score.evaluation_pivot > 100 {
            return Err("score: base ≤ 100, evaluation_pivot ≤ 100 and evaluation_divisor > 0 are required".into());
        }
        if self.score.commendation_cap > 100 || self.score.serious_points > 100 {
            return Err("score points and caps must be at most 100".into());
        }
        if self.candidate_publicity_days > 60 {
            return Err("candidate_publicity_days must be at most 60".into());
        }
        if self.bid_bond_max_permille == 0 || self.bid_bond_max_permille > 1000 {
            return Err("bid_bond_max_permille must be 1 to 1000".into());
        }
        if self.proposal_ttl_days == 0 || self.proposal_ttl_days > 90 {
            return Err("proposal_ttl_days must be 1 to 90".into());
        }
        Ok(())
    }

    pub fn proposal_ttl_ms(&self) -> u64 {
        u64::from(self.proposal_ttl_days) * DAY_MS
    }

    pub fn candidate_publicity_ms(&self) -> u64 {
        u64::from(self.candidate_publicity_days) * DAY_MS
    }
}

/// A new member, as a proposal adds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewMember {
    pub name: String,
    pub role: Role,
    pub region: RegionCode,
    pub uscc: Uscc,
    pub keys: Vec<PublicKey>,
}

/// What a governance proposal does when it passes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalAction {
    AddMember(NewMember),
    /// The member's keys sign nothing from the next block on, until reinstated.
    SuspendMember {
        member: MemberId,
    },
    ReinstateMember {
        member: MemberId,
    },
    /// Final: the member never signs again.
    RemoveMember {
        member: MemberId,
    },
    /// Replace one of a member's keys (the old key signs nothing afterwards).
    RotateKey {
        member: MemberId,
        old: PublicKey,
        new: PublicKey,
    },
    /// Add a city's validator, or change its power. Takes effect two heights after execution.
    SetValidator {
        member: MemberId,
        public_key: PublicKey,
        power: u64,
    },
    /// Remove a validator. Takes effect two heights after execution.
    RemoveValidator {
        public_key: PublicKey,
    },
    SetParams(Params),
    /// Set the collusion-ring analysis' thresholds (added after `set_params`: the variant index is
    /// part of the encoding).
    SetRingParams(RingParams),
    /// Add a validator whose consensus key is not ed25519 (an SM2 chain's), or change its power,
    /// with its ed25519 node key (its libp2p identity). Takes effect two heights after execution.
    SetValidatorWithNodeKey {
        member: MemberId,
        public_key: PublicKey,
        node_key: PublicKey,
        power: u64,
    },
}

impl ProposalAction {
    pub fn check_fields(&self) -> Result<(), String> {
        match self {
            ProposalAction::AddMember(m) => {
                text("name", &m.name, true)?;
                if m.keys.is_empty() || m.keys.len() > MEMBER_KEYS_MAX {
                    return Err(format!("a member holds 1 to {MEMBER_KEYS_MAX} keys, got {}", m.keys.len()));
                }
                Ok(())
            }
            ProposalAction::RotateKey { old, new, .. } if old == new => Err("the new key equals the old one".into()),
            ProposalAction::SetValidator { power, .. } | ProposalAction::SetValidatorWithNodeKey { power, .. }
                if *power == 0 || *power > 1_000_000 =>
            {
                Err(format!("validator power must be 1 to 1000000, got {power}"))
            }
            ProposalAction::SetParams(p) => p.check(),
            ProposalAction::SetRingParams(p) => p.check(),
            _ => Ok(()),
        }
    }
}

/// Propose a governance change; the proposal's id is the proposing transaction's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Propose {
    pub action: ProposalAction,
    /// Why (shown to voters).
    pub reason: String,
}

impl Propose {
    pub fn check_fields(&self) -> Result<(), String> {
        text("reason", &self.reason, true)?;
        self.action.check_fields()
    }
}

/// A trading centre votes on an open proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Vote {
    pub proposal: Hash32,
    pub approve: bool,
}
