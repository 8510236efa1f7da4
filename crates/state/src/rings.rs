//! Collusion-ring analysis (围标串标、陪标、轮流坐庄): a deterministic reading of bids, award
//! notices and bid-bond premiums across tender sections and regions that finds
//!
//! - **bidding rings**: groups of bidders who keep bidding in the same sections — two bidders are
//!   linked when they bid together in at least `min_shared_sections` sections *and* in at least
//!   `min_together_permille` of the sections the less active one bid in; a ring is a connected
//!   group of at least `min_members` linked bidders;
//! - **win rotation** inside a ring: at least `min_rotating_winners` different members won
//!   sections the ring bid in together (轮流坐庄);
//! - **shared premium payers**: one payer paid the bid-bond premiums of at least
//!   `min_payer_applicants` applicants other than itself;
//! - **identical bid documents**: one document hash anchored as the bid of different bidders.
//!
//! The thresholds are governed ([`RingParams`]). The analysis takes its facts as sorted values
//! and uses only integers and ordered maps, so every node that reads the same ledger at the same
//! height finds the same findings in the same order. Its size is bounded: sections with more than
//! [`RING_SECTION_BIDDERS_MAX`] bidders are not paired (they are counted), and more than
//! [`RING_PAIRS_MAX`] bidder pairs is an error, not a slow answer.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use huxin_types::governance::RingParams;
use huxin_types::tx::TenderRef;
use huxin_types::{Hash32, Height, TimestampMs, TxHash, Uscc};

/// Sections with more bidders than this are left out of the pairing (each would add
/// n·(n−1)/2 pairs); the report counts them.
pub const RING_SECTION_BIDDERS_MAX: usize = 64;
/// Most distinct bidder pairs one analysis holds.
pub const RING_PAIRS_MAX: usize = 1_000_000;
/// Most pieces of evidence listed per finding (the finding says how many there were).
pub const FINDING_EVIDENCE_MAX: usize = 100;

/// One bid anchored on the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bid {
    pub bidder: Uscc,
    pub document_hash: Hash32,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
}

/// What the ledger says of one tender section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SectionFacts {
    pub bids: Vec<Bid>,
    /// The parties of its award notices (中标通知).
    pub winners: BTreeSet<Uscc>,
    /// (premium payer, applicant) of its bid bonds.
    pub bond_payers: BTreeSet<(Uscc, Uscc)>,
}

/// The facts of every section read, by section.
pub type Facts = BTreeMap<TenderRef, SectionFacts>;

/// A section as evidence of a ring: which of the ring's members bid there, who won.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SectionEvidence {
    pub tender: TenderRef,
    /// The ring's members among the section's bidders.
    pub bidders: Vec<Uscc>,
    /// The section's winners (any bidder), empty before the award notice.
    pub winners: Vec<Uscc>,
    /// The first of those members' bids.
    pub first_bid_height: Height,
    pub first_bid_time: TimestampMs,
    /// Those members' bid documents.
    pub bid_documents: Vec<Hash32>,
}

/// One finding, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// Bidders who keep bidding in the same sections (陪标、围标).
    BiddingRing {
        members: Vec<Uscc>,
        /// Sections where at least two members bid, by first bid.
        sections: Vec<SectionEvidence>,
        sections_total: usize,
    },
    /// Different members of a ring won the sections it bid in (轮流坐庄).
    WinRotation {
        members: Vec<Uscc>,
        /// The members who won, in order.
        winners: Vec<Uscc>,
        /// The ring's sections a member won, by first bid.
        wins: Vec<SectionEvidence>,
        wins_total: usize,
    },
    /// One payer paid the bid-bond premiums of several other applicants.
    SharedPremiumPayer {
        payer: Uscc,
        applicants: Vec<Uscc>,
        /// The sections of those bonds.
        sections: Vec<TenderRef>,
        sections_total: usize,
    },
    /// One bid document anchored as different bidders' bids.
    IdenticalBidDocuments { document_hash: Hash32, bidders: Vec<Uscc>, bids: Vec<BidEvidence> },
}

impl Finding {
    /// The finding's kind, as `?kind=` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::BiddingRing { .. } => "bidding_ring",
            Finding::WinRotation { .. } => "win_rotation",
            Finding::SharedPremiumPayer { .. } => "shared_premium_payer",
            Finding::IdenticalBidDocuments { .. } => "identical_bid_documents",
        }
    }

    /// The subjects it names.
    pub fn subjects(&self) -> &[Uscc] {
        match self {
            Finding::BiddingRing { members, .. } | Finding::WinRotation { members, .. } => members,
            Finding::SharedPremiumPayer { applicants, .. } => applicants,
            Finding::IdenticalBidDocuments { bidders, .. } => bidders,
        }
    }
}

/// Every finding kind.
pub const FINDING_KINDS: &[&str] = &["bidding_ring", "win_rotation", "shared_premium_payer", "identical_bid_documents"];

/// A bid as evidence of an identical document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidEvidence {
    pub tender: TenderRef,
    pub bidder: Uscc,
    pub height: Height,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
}

/// What an analysis read and found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Analysis {
    pub sections: usize,
    pub bids: usize,
    /// Sections left out of the pairing for having more than [`RING_SECTION_BIDDERS_MAX`] bidders.
    pub sections_too_large: usize,
    pub findings: Vec<Finding>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnalysisError {
    #[error("the sections read hold more than {RING_PAIRS_MAX} bidder pairs; analyse a shorter height range")]
    TooManyPairs,
}

/// Read the facts of the sections whose bids or award notices were anchored at heights
/// `from..=to`: `entries` are [`crate::index::ANCHORS_BY_PARTY`] entries (key `name ‖ party
/// USCC ‖ height ‖ tx hash`, value the document hash), `state` the ledger at the analysed
/// height. Entries of other heights are skipped; one that does not parse, or whose anchor is not
/// in the state, is left out.
pub fn gather(
    state: &dyn huxin_contracts::KvState,
    entries: &[(Vec<u8>, Vec<u8>)],
    from: u64,
    to: u64,
) -> Result<Facts, huxin_contracts::StateError> {
    use huxin_contracts::deal::section::{bond_pairs, section};
    use huxin_contracts::deal::{anchors_of, AnchorRecord};
    use huxin_types::tx::DealStage;
    let mut facts = Facts::new();
    let mut anchors: BTreeMap<Hash32, Vec<AnchorRecord>> = BTreeMap::new();
    let prefix = crate::index::ANCHORS_BY_PARTY.len();
    for (key, value) in entries {
        let Some(rest) = key.get(prefix..).filter(|r| r.len() == 18 + 8 + 32) else { continue };
        let Some(party) = std::str::from_utf8(&rest[..18]).ok().and_then(|p| p.parse::<Uscc>().ok()) else { continue };
        let height = u64::from_be_bytes(rest[18..26].try_into().unwrap_or_default());
        let Ok(document) = <[u8; 32]>::try_from(value.as_slice()).map(Hash32) else { continue };
        if height < from || height > to {
            continue;
        }
        let tx_hash = TxHash(rest[26..].try_into().unwrap_or_default());
        let all = match anchors.entry(document) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(anchors_of(state, &document)?),
        };
        let Some(anchor) = all.iter().find(|a| a.tx_hash == tx_hash) else { continue };
        match anchor.stage {
            DealStage::Bid => facts.entry(anchor.tender.clone()).or_default().bids.push(Bid {
                bidder: party,
                document_hash: document,
                height: anchor.height,
                time: anchor.time,
                tx_hash,
            }),
            DealStage::AwardNotice => {
                facts.entry(anchor.tender.clone()).or_default().winners.insert(party);
            }
            _ => {}
        }
    }
    for (tender, f) in facts.iter_mut() {
        if let Some(record) = section(state, tender)? {
            f.bond_payers = bond_pairs(state, &record)?.into_iter().collect();
        }
        f.bids.sort_by_key(|b| (b.height, b.tx_hash));
    }
    Ok(facts)
}

/// Find the rings in `facts` (see the module docs).
pub fn analyse(facts: &Facts, params: &RingParams) -> Result<Analysis, AnalysisError> {
    let bidders_of = |f: &SectionFacts| -> BTreeSet<Uscc> { f.bids.iter().map(|b| b.bidder.clone()).collect() };
    // How many sections each bidder bid in, and each pair together.
    let mut activity: BTreeMap<Uscc, u64> = BTreeMap::new();
    let mut together: BTreeMap<(Uscc, Uscc), u64> = BTreeMap::new();
    let mut sections_too_large = 0;
    for f in facts.values() {
        let bidders: Vec<Uscc> = bidders_of(f).into_iter().collect();
        for b in &bidders {
            *activity.entry(b.clone()).or_default() += 1;
        }
        if bidders.len() > RING_SECTION_BIDDERS_MAX {
            sections_too_large += 1;
            continue;
        }
        for (i, a) in bidders.iter().enumerate() {
            for b in &bidders[i + 1..] {
                *together.entry((a.clone(), b.clone())).or_default() += 1;
                if together.len() > RING_PAIRS_MAX {
                    return Err(AnalysisError::TooManyPairs);
                }
            }
        }
    }
    // Linked pairs, then rings as connected groups of linked bidders.
    let mut groups = Groups::default();
    for ((a, b), shared) in &together {
        let fewer = activity.get(a).copied().unwrap_or(0).min(activity.get(b).copied().unwrap_or(0)).max(1);
        if *shared >= u64::from(params.min_shared_sections)
            && shared * 1000 >= u64::from(params.min_together_permille) * fewer
        {
            groups.join(a, b);
        }
    }
    let mut findings = Vec::new();
    for members in groups.all().into_iter().filter(|m| m.len() >= params.min_members as usize) {
        findings.extend(ring_findings(facts, &members, params));
    }
    findings.extend(shared_payers(facts, params));
    findings.extend(identical_documents(facts));
    Ok(Analysis {
        sections: facts.len(),
        bids: facts.values().map(|f| f.bids.len()).sum(),
        sections_too_large,
        findings,
    })
}

/// The bidding ring of `members` and, if its wins rotate, the rotation.
fn ring_findings(facts: &Facts, members: &BTreeSet<Uscc>, params: &RingParams) -> Vec<Finding> {
    let mut sections: Vec<SectionEvidence> = facts
        .iter()
        .filter_map(|(tender, f)| {
            let ring_bids: Vec<&Bid> = f.bids.iter().filter(|b| members.contains(&b.bidder)).collect();
            let bidders: BTreeSet<Uscc> = ring_bids.iter().map(|b| b.bidder.clone()).collect();
            let first = ring_bids.iter().min_by_key(|b| (b.height, b.tx_hash))?;
            (bidders.len() >= 2).then(|| SectionEvidence {
                tender: tender.clone(),
                bidders: bidders.into_iter().collect(),
                winners: f.winners.iter().cloned().collect(),
                first_bid_height: first.height,
                first_bid_time: first.time,
                bid_documents: ring_bids.iter().map(|b| b.document_hash).collect::<BTreeSet<_>>().into_iter().collect(),
            })
        })
        .collect();
    sections.sort_by(|a, b| (a.first_bid_height, &a.tender).cmp(&(b.first_bid_height, &b.tender)));
    let wins: Vec<SectionEvidence> =
        sections.iter().filter(|s| s.winners.iter().any(|w| members.contains(w))).cloned().collect();
    let winners: BTreeSet<Uscc> =
        wins.iter().flat_map(|s| s.winners.iter()).filter(|w| members.contains(*w)).cloned().collect();
    let members: Vec<Uscc> = members.iter().cloned().collect();
    let mut out = vec![Finding::BiddingRing {
        members: members.clone(),
        sections_total: sections.len(),
        sections: sections.into_iter().take(FINDING_EVIDENCE_MAX).collect(),
    }];
    if winners.len() >= params.min_rotating_winners as usize {
        out.push(Finding::WinRotation {
            members,
            winners: winners.into_iter().collect(),
            wins_total: wins.len(),
            wins: wins.into_iter().take(FINDING_EVIDENCE_MAX).collect(),
        });
    }
    out
}

fn shared_payers(facts: &Facts, params: &RingParams) -> Vec<Finding> {
    let mut by_payer: BTreeMap<&Uscc, (BTreeSet<&Uscc>, BTreeSet<&TenderRef>)> = BTreeMap::new();
    for (tender, f) in facts {
        for (payer, applicant) in f.bond_payers.iter().filter(|(p, a)| p != a) {
            let entry = by_payer.entry(payer).or_default();
            entry.0.insert(applicant);
            entry.1.insert(tender);
        }
    }
    by_payer
        .into_iter()
        .filter(|(_, (applicants, _))| applicants.len() >= params.min_payer_applicants as usize)
        .map(|(payer, (applicants, sections))| Finding::SharedPremiumPayer {
            payer: payer.clone(),
            applicants: applicants.into_iter().cloned().collect(),
            sections_total: sections.len(),
            sections: sections.into_iter().take(FINDING_EVIDENCE_MAX).cloned().collect(),
        })
        .collect()
}

fn identical_documents(facts: &Facts) -> Vec<Finding> {
    let mut by_document: BTreeMap<Hash32, Vec<BidEvidence>> = BTreeMap::new();
    for (tender, f) in facts {
        for b in &f.bids {
            by_document.entry(b.document_hash).or_default().push(BidEvidence {
                tender: tender.clone(),
                bidder: b.bidder.clone(),
                height: b.height,
                time: b.time,
                tx_hash: b.tx_hash,
            });
        }
    }
    by_document
        .into_iter()
        .filter_map(|(document_hash, mut bids)| {
            let bidders: BTreeSet<Uscc> = bids.iter().map(|b| b.bidder.clone()).collect();
            (bidders.len() >= 2).then(|| {
                bids.sort_by_key(|b| (b.height, b.tx_hash));
                bids.truncate(FINDING_EVIDENCE_MAX);
                Finding::IdenticalBidDocuments { document_hash, bidders: bidders.into_iter().collect(), bids }
            })
        })
        .collect()
}

/// Connected groups (union–find over names, in name order).
#[derive(Default)]
struct Groups {
    parent: BTreeMap<Uscc, Uscc>,
}

impl Groups {
    fn root(&mut self, x: &Uscc) -> Uscc {
        let mut r = x.clone();
        while let Some(p) = self.parent.get(&r).filter(|p| **p != r) {
            r = p.clone();
        }
        // Path compression keeps later lookups short.
        let mut y = x.clone();
        while let Some(p) = self.parent.get(&y).cloned().filter(|p| *p != r) {
            self.parent.insert(y, r.clone());
            y = p;
        }
        r
    }

    fn join(&mut self, a: &Uscc, b: &Uscc) {
        for x in [a, b] {
            self.parent.entry(x.clone()).or_insert_with(|| x.clone());
        }
        let (ra, rb) = (self.root(a), self.root(b));
        // The smaller name is the root: the result does not depend on the order of joins.
        match ra.cmp(&rb) {
            std::cmp::Ordering::Less => self.parent.insert(rb, ra),
            std::cmp::Ordering::Greater => self.parent.insert(ra, rb),
            std::cmp::Ordering::Equal => None,
        };
    }

    /// Every group, each sorted, ordered by its first member.
    fn all(mut self) -> Vec<BTreeSet<Uscc>> {
        let names: Vec<Uscc> = self.parent.keys().cloned().collect();
        let mut groups: BTreeMap<Uscc, BTreeSet<Uscc>> = BTreeMap::new();
        for n in names {
            let r = self.root(&n);
            groups.entry(r).or_default().insert(n);
        }
        groups.into_values().collect()
    }
}

#[cfg(test)]
mod tests;
