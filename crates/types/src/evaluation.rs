//! Remote cross-region evaluation (远程异地评标) with a verifiable expert draw: the payloads.
//! The rules are `huxin_contracts::evaluation`'s.
//!
//! The tender region's centre (the host) opens a session naming the tender, the guest venues
//! (other regions' centres), the seats per specialty and the avoidance rules (回避), with the
//! hash of a secret of its own (the chain's suite's hash: SHA-256 or SM3, as every hash here). Each guest commits to a secret of its own; once every venue
//! has committed, each reveals; the last reveal draws the experts from the pool as it was when
//! the session opened, with a seed made of every venue's secret. No single centre knows or
//! chooses the seed: the secrets are fixed (committed) before any is shown. After the bid
//! opening the host reveals a second secret that places the experts at the venues (三盲); a
//! drawn expert who refuses or is absent is replaced by a recorded redraw; each venue anchors its
//! scoring sheets and the host the report, which closes the session.

use serde::{Deserialize, Serialize};

use crate::crypto::Suite;
use crate::id::{Hash32, RegionCode, Uscc};
use crate::identity::text;
use crate::tx::TenderRef;

/// Most specialties one expert is enrolled for.
pub const EXPERT_SPECIALTIES_MAX: usize = 8;
/// Most specialties one session seats.
pub const SESSION_SPECIALTIES_MAX: usize = 8;
/// Most seats of one specialty in a session.
pub const SEATS_PER_SPECIALTY_MAX: u32 = 50;
/// Most guest venues of a session.
pub const SESSION_GUESTS_MAX: usize = 8;
/// Most organisations a session's avoidance list names.
pub const AVOID_EMPLOYERS_MAX: usize = 1024;
/// Longest specialty name, in bytes.
pub const SPECIALTY_BYTES_MAX: usize = 64;

fn specialty(name: &str, value: &str) -> Result<(), String> {
    text(name, value, true)?;
    if value.len() > SPECIALTY_BYTES_MAX {
        return Err(format!("{name} is {} bytes; at most {SPECIALTY_BYTES_MAX}", value.len()));
    }
    Ok(())
}

/// The expert's home centre puts an attested expert in the evaluation pool (专家库), with the
/// specialties it evaluates and its employer (avoidance). Enrolling again replaces both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnrolExpert {
    /// The expert's salted ID hash, as attested (`expert:<hash>`).
    pub expert: Hash32,
    /// Sorted, distinct.
    pub specialties: Vec<String>,
    pub employer: Uscc,
}

impl EnrolExpert {
    pub fn check_fields(&self) -> Result<(), String> {
        if self.specialties.is_empty() || self.specialties.len() > EXPERT_SPECIALTIES_MAX {
            return Err(format!("an expert is enrolled for 1 to {EXPERT_SPECIALTIES_MAX} specialties"));
        }
        for (i, s) in self.specialties.iter().enumerate() {
            specialty(&format!("specialties[{i}]"), s)?;
        }
        if !self.specialties.windows(2).all(|w| w[0] < w[1]) {
            return Err("specialties must be sorted and distinct".into());
        }
        Ok(())
    }
}

/// How many experts of one specialty a session seats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Seats {
    pub specialty: String,
    pub count: u32,
}

/// The tender region's centre opens an evaluation session; its id is this transaction's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenEvaluation {
    pub tender: TenderRef,
    /// The guest venues: other regions, sorted and distinct, each with an active trading centre.
    pub guests: Vec<RegionCode>,
    /// Distinct specialties, in the order the draw fills them.
    pub seats: Vec<Seats>,
    /// Draw no expert whose home region is the tender's (异地评标).
    pub avoid_tender_region: bool,
    /// Draw no expert employed by these organisations: the bidders, the purchaser, the agent.
    /// Sorted and distinct.
    pub avoid_employers: Vec<Uscc>,
    /// The hash of the host's 32-byte draw secret (in the chain's suite: SHA-256 or SM3).
    pub commitment: Hash32,
    /// The hash of the host's 32-byte seat secret (in the chain's suite), which places the drawn experts at the venues
    /// and is revealed only after the bid opening (三盲).
    pub seat_commitment: Hash32,
}

impl OpenEvaluation {
    pub fn check_fields(&self) -> Result<(), String> {
        self.tender.check_fields()?;
        if self.guests.is_empty() || self.guests.len() > SESSION_GUESTS_MAX {
            return Err(format!("a session has 1 to {SESSION_GUESTS_MAX} guest venues"));
        }
        if !self.guests.windows(2).all(|w| w[0] < w[1]) {
            return Err("guests must be sorted and distinct".into());
        }
        if self.guests.contains(&self.tender.region) {
            return Err("the tender's region is the host, not a guest".into());
        }
        if self.seats.is_empty() || self.seats.len() > SESSION_SPECIALTIES_MAX {
            return Err(format!("a session seats 1 to {SESSION_SPECIALTIES_MAX} specialties"));
        }
        for (i, s) in self.seats.iter().enumerate() {
            specialty(&format!("seats[{i}].specialty"), &s.specialty)?;
            if s.count == 0 || s.count > SEATS_PER_SPECIALTY_MAX {
                return Err(format!("seats[{i}].count is 1 to {SEATS_PER_SPECIALTY_MAX}, got {}", s.count));
            }
            if self.seats[..i].iter().any(|o| o.specialty == s.specialty) {
                return Err(format!("seats[{i}]: specialty {:?} is named twice", s.specialty));
            }
        }
        if self.avoid_employers.len() > AVOID_EMPLOYERS_MAX {
            return Err(format!("at most {AVOID_EMPLOYERS_MAX} organisations to avoid"));
        }
        if !self.avoid_employers.windows(2).all(|w| w[0] < w[1]) {
            return Err("avoid_employers must be sorted and distinct".into());
        }
        Ok(())
    }
}

/// A guest venue's centre commits to its draw secret (its hash, in the chain's suite).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommitDraw {
    pub session: Hash32,
    pub commitment: Hash32,
}

/// A venue's centre reveals its draw secret, once every venue has committed. The last reveal
/// draws the experts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevealDraw {
    pub session: Hash32,
    pub secret: Hash32,
}

/// After the bid opening (the section's opening record is anchored), the host reveals its seat
/// secret: the drawn experts are placed at the venues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevealSeats {
    pub session: Hash32,
    pub secret: Hash32,
}

/// Why a drawn expert is replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceReason {
    /// The expert declined (拒绝参加).
    Refused,
    /// The expert did not come (缺席).
    Absent,
    /// A conflict of interest came to light (回避).
    Conflict,
}

/// The host replaces a drawn expert who refused, was absent or has a conflict: another is drawn
/// from the same pool, recorded with the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplaceExpert {
    pub session: Hash32,
    pub expert: Hash32,
    pub reason: ReplaceReason,
    pub note: String,
}

impl ReplaceExpert {
    pub fn check_fields(&self) -> Result<(), String> {
        text("note", &self.note, false)
    }
}

/// What a venue anchors for a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationDocument {
    /// A venue's scoring sheets (评分表).
    ScoringSheet,
    /// The evaluation report (评标报告), by the host, once every venue has anchored its sheets.
    Report,
}

/// A venue's centre anchors a document of the session (its SHA-256).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnchorEvaluation {
    pub session: Hash32,
    pub kind: EvaluationDocument,
    pub document_hash: Hash32,
}

/// Where each drawn expert sits: the experts ordered by `H(seat secret ‖ seed ‖ expert)`, dealt to
/// the venues in turn (host first). `H` is the hash of the chain's `suite`, here and below.
pub fn seat(
    suite: Suite,
    seat_secret: &Hash32,
    seed: &Hash32,
    experts: &[Hash32],
    venues: &[RegionCode],
) -> Vec<(Hash32, RegionCode)> {
    if venues.is_empty() {
        return Vec::new();
    }
    let mut keyed: Vec<(Hash32, Hash32)> = experts
        .iter()
        .map(|e| {
            let mut bytes = seat_secret.0.to_vec();
            bytes.extend_from_slice(&seed.0);
            bytes.extend_from_slice(&e.0);
            (suite.hash(&bytes), *e)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().enumerate().map(|(i, (_, e))| (e, venues[i % venues.len()])).collect()
}

/// The replacement draw's `n`-th pick among `candidates` (sorted): the
/// `H(seed ‖ "replace" ‖ n)`-th, as a big-endian u64, modulo their number.
pub fn replacement(suite: Suite, seed: &Hash32, n: u32, candidates: &[Hash32]) -> Option<Hash32> {
    if candidates.is_empty() {
        return None;
    }
    let mut bytes = seed.0.to_vec();
    bytes.extend_from_slice(b"replace");
    bytes.extend_from_slice(&n.to_be_bytes());
    let r = suite.hash(&bytes);
    let value = u64::from_be_bytes(r.0[..8].try_into().unwrap_or_default());
    candidates.get((value % candidates.len() as u64) as usize).copied()
}

/// The commitment to a draw secret: its hash.
pub fn commitment_of(suite: Suite, secret: &Hash32) -> Hash32 {
    suite.hash(&secret.0)
}

/// The draw's seed: the hash of `huxin/v1/draw`, the session and every venue's secret in venue
/// order (the host, then the guests in order).
pub fn draw_seed(suite: Suite, session: &Hash32, secrets: &[Hash32]) -> Hash32 {
    let mut bytes = b"huxin/v1/draw".to_vec();
    bytes.extend_from_slice(&session.0);
    for s in secrets {
        bytes.extend_from_slice(&s.0);
    }
    suite.hash(&bytes)
}

/// The draw itself, from the seed and the pool each specialty had when the session opened (the
/// eligible experts, sorted): for each specialty in seat order, `count` picks, each the
/// `H(seed ‖ specialty ‖ n)`-th (as a big-endian u64, modulo what is left) of the
/// candidates not yet drawn in this session. Fewer candidates than seats leaves seats empty.
pub fn draw(suite: Suite, seed: &Hash32, seats: &[Seats], pools: &[Vec<Hash32>]) -> Vec<(String, Hash32)> {
    let mut drawn: Vec<(String, Hash32)> = Vec::new();
    for (seat, pool) in seats.iter().zip(pools) {
        let mut candidates: Vec<Hash32> =
            pool.iter().filter(|e| !drawn.iter().any(|(_, d)| d == *e)).copied().collect();
        for n in 0..seat.count {
            if candidates.is_empty() {
                break;
            }
            let mut bytes = seed.0.to_vec();
            bytes.extend_from_slice(seat.specialty.as_bytes());
            bytes.extend_from_slice(&n.to_be_bytes());
            let r = suite.hash(&bytes);
            let value = u64::from_be_bytes(r.0[..8].try_into().unwrap_or_default());
            let pick = candidates.remove((value % candidates.len() as u64) as usize);
            drawn.push((seat.specialty.clone(), pick));
        }
    }
    drawn
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> Hash32 {
        Hash32([n; 32])
    }

    /// The same seed and pools draw the same experts; another seed draws others; nobody twice;
    /// a short pool leaves seats empty rather than drawing twice.
    #[test]
    fn the_draw_is_a_function_of_its_seed_and_pools() {
        let seats = vec![Seats { specialty: "土建".into(), count: 2 }, Seats { specialty: "造价".into(), count: 2 }];
        let pools = vec![(1..=9).map(h).collect::<Vec<_>>(), vec![h(1), h(2), h(10)]];
        let seed = draw_seed(Suite::Ed25519Sha256, &h(0), &[h(20), h(21)]);
        let once = draw(Suite::Ed25519Sha256, &seed, &seats, &pools);
        assert_eq!(once, draw(Suite::Ed25519Sha256, &seed, &seats, &pools));
        assert_eq!(once.len(), 4);
        let mut experts: Vec<Hash32> = once.iter().map(|(_, e)| *e).collect();
        experts.sort();
        experts.dedup();
        assert_eq!(experts.len(), 4, "no expert twice: {once:?}");
        let others = (22..40)
            .map(|s| {
                draw(Suite::Ed25519Sha256, &draw_seed(Suite::Ed25519Sha256, &h(0), &[h(20), h(s)]), &seats, &pools)
            })
            .filter(|d| *d != once);
        assert!(others.count() > 10, "one secret changes the draw");
        let short =
            draw(Suite::Ed25519Sha256, &seed, &[Seats { specialty: "造价".into(), count: 5 }], &[vec![h(1), h(2)]]);
        assert_eq!(short.len(), 2);
    }

    #[test]
    fn a_session_is_bounded_and_consistent() {
        let tender = TenderRef {
            region: RegionCode::new(330200).expect("a region"),
            project_code: "P".into(),
            section_code: "01".into(),
        };
        let open = OpenEvaluation {
            tender: tender.clone(),
            guests: vec![RegionCode::new(330100).expect("a region")],
            seats: vec![Seats { specialty: "土建".into(), count: 3 }],
            avoid_tender_region: true,
            avoid_employers: vec![],
            commitment: commitment_of(Suite::Ed25519Sha256, &h(1)),
            seat_commitment: commitment_of(Suite::Ed25519Sha256, &h(2)),
        };
        assert_eq!(open.check_fields(), Ok(()));
        let host_as_guest = OpenEvaluation { guests: vec![tender.region], ..open.clone() };
        assert!(host_as_guest.check_fields().is_err());
        let twice = OpenEvaluation { seats: vec![open.seats[0].clone(), open.seats[0].clone()], ..open.clone() };
        assert!(twice.check_fields().unwrap_err().contains("named twice"));
        let none = OpenEvaluation { seats: vec![Seats { specialty: "土建".into(), count: 0 }], ..open };
        assert!(none.check_fields().is_err());
        let unsorted = EnrolExpert {
            expert: h(1),
            specialties: vec!["造价".into(), "土建".into()],
            employer: Uscc::with_check("91330100MA0000001").expect("a code"),
        };
        assert!(unsorted.check_fields().is_err());
    }
}
