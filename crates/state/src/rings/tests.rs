//! The analysis on a generated history: 400 honest sections across four regions, each with three
//! to six bidders drawn from 120 honest firms, and three planted rings that bid together in their
//! own sections (their members also bid in one honest section in ten), and a niche of four honest
//! firms that are the only bidders of five specialised sections (a ring on bids alone). The test prints precision
//! and recall of ring membership and asserts them; and each finding kind is checked on its own.

use super::*;
use huxin_types::RegionCode;

/// A small deterministic generator (xorshift64*): the history is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn firm(n: usize) -> Uscc {
    Uscc::with_check(&format!("91330100MA{n:07}")).expect("a valid code")
}

struct History {
    facts: Facts,
    height: u64,
}

impl History {
    fn section(&mut self, region: u32, code: &str) -> TenderRef {
        let tender = TenderRef {
            region: RegionCode::new(region).expect("a region"),
            project_code: code.into(),
            section_code: "01".into(),
        };
        self.facts.insert(tender.clone(), SectionFacts::default());
        tender
    }

    fn bid(&mut self, tender: &TenderRef, bidder: &Uscc, document: Hash32) {
        self.height += 1;
        let bid = Bid {
            bidder: bidder.clone(),
            document_hash: document,
            height: Height(self.height),
            time: TimestampMs(self.height * 1000),
            tx_hash: TxHash(Hash32::of_document(&self.height.to_be_bytes()).0),
        };
        self.facts.get_mut(tender).expect("a section").bids.push(bid);
    }

    fn own_bid(&mut self, tender: &TenderRef, bidder: &Uscc) {
        let document = Hash32::of_document(format!("{tender} {bidder}").as_bytes());
        self.bid(tender, bidder, document);
        // Honest bidders pay their own bond's premium.
        self.facts.get_mut(tender).expect("a section").bond_payers.insert((bidder.clone(), bidder.clone()));
    }

    fn award(&mut self, tender: &TenderRef, winner: &Uscc) {
        self.facts.get_mut(tender).expect("a section").winners.insert(winner.clone());
    }
}

const REGIONS: [u32; 4] = [330100, 330200, 330300, 440300];

/// Three rings: 4 members rotating wins with a common premium payer, 3 members where one always
/// wins (陪标) with a shared bid document, 5 members rotating wins.
fn generated() -> (History, Vec<Vec<Uscc>>, Uscc) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut h = History { facts: Facts::new(), height: 0 };
    let honest: Vec<Uscc> = (0..120).map(firm).collect();
    let rings: Vec<Vec<Uscc>> =
        vec![(1000..1004).map(firm).collect(), (2000..2003).map(firm).collect(), (3000..3005).map(firm).collect()];
    let payer = firm(9000);
    // Honest sections; ring members turn up in a few of them too.
    for i in 0..400 {
        let tender = h.section(REGIONS[i % 4], &format!("H-{i}"));
        let mut bidders = BTreeSet::new();
        while bidders.len() < 3 + rng.below(4) {
            bidders.insert(honest[rng.below(honest.len())].clone());
        }
        if rng.below(10) == 0 {
            let ring = &rings[rng.below(rings.len())];
            bidders.insert(ring[rng.below(ring.len())].clone());
        }
        let bidders: Vec<Uscc> = bidders.into_iter().collect();
        for b in &bidders {
            h.own_bid(&tender, b);
        }
        let winner = bidders[rng.below(bidders.len())].clone();
        h.award(&tender, &winner);
    }
    // A specialised niche: four honest firms, the only ones qualified for five sections, win at
    // random. On bids alone this looks like a ring; it counts against precision.
    let niche: Vec<Uscc> = (5000..5004).map(firm).collect();
    for j in 0..5 {
        let tender = h.section(REGIONS[j % 4], &format!("N-{j}"));
        for b in &niche {
            h.own_bid(&tender, b);
        }
        let winner = niche[rng.below(niche.len())].clone();
        h.award(&tender, &winner);
    }
    // A payer of a single other firm's bond is no finding.
    h.facts.values_mut().next().expect("a section").bond_payers.insert((honest[5].clone(), honest[6].clone()));
    // The rings' own sections: all members or all but one, with an honest bidder or two.
    for (r, ring) in rings.iter().enumerate() {
        for j in 0..8 {
            let tender = h.section(REGIONS[(r + j) % 4], &format!("R{r}-{j}"));
            let winner = match r {
                1 => 0,
                _ => (j + 1) % ring.len(),
            };
            // All members bid, or all but one who is not the winner.
            let absent = match rng.below(2) {
                0 => Some((winner + 1 + rng.below(ring.len() - 1)) % ring.len()),
                _ => None,
            };
            for (m, member) in ring.iter().enumerate().filter(|(m, _)| Some(*m) != absent) {
                let shared = r == 1 && j == 3 && m < 2;
                let document = match shared {
                    true => Hash32::of_document(b"one bid written for two firms"),
                    false => Hash32::of_document(format!("{tender} {member}").as_bytes()),
                };
                h.bid(&tender, member, document);
                let premium_payer = if r == 0 {
                    &ring[0]
                } else if r == 2 && j < 3 {
                    &payer
                } else {
                    member
                };
                h.facts
                    .get_mut(&tender)
                    .expect("a section")
                    .bond_payers
                    .insert((premium_payer.clone(), member.clone()));
            }
            for _ in 0..rng.below(3) {
                let noise = honest[rng.below(honest.len())].clone();
                h.own_bid(&tender, &noise);
            }
            h.award(&tender, &ring[winner].clone());
        }
    }
    (h, rings, payer)
}

fn rings_found(findings: &[Finding]) -> Vec<Vec<Uscc>> {
    findings
        .iter()
        .filter_map(|f| match f {
            Finding::BiddingRing { members, .. } => Some(members.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn planted_rings_are_found_among_honest_noise() {
    let (history, planted, payer) = generated();
    let analysis = analyse(&history.facts, &RingParams::default()).expect("within bounds");
    let found: BTreeSet<Uscc> = rings_found(&analysis.findings).into_iter().flatten().collect();
    let truth: BTreeSet<Uscc> = planted.iter().flatten().cloned().collect();
    let hits = found.intersection(&truth).count();
    let precision = if found.is_empty() { 0.0 } else { hits as f64 / found.len() as f64 };
    let recall = hits as f64 / truth.len() as f64;
    println!(
        "ring membership on {} sections, {} bids: {} firms flagged, {} planted, precision {precision:.3}, recall {recall:.3}",
        analysis.sections,
        analysis.bids,
        found.len(),
        truth.len()
    );
    assert!(precision >= 0.7 && recall >= 0.9, "precision {precision}, recall {recall}: {found:?}");
    // Each planted ring is one finding, exactly.
    for ring in &planted {
        assert!(rings_found(&analysis.findings).contains(ring), "{ring:?} not found whole");
    }
    // Rotation in the first and third rings (and the niche), not in the second (one member always
    // wins).
    let rotating: Vec<Vec<Uscc>> = analysis
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::WinRotation { members, winners, .. } => {
                assert!(winners.len() >= 2 && winners.iter().all(|w| members.contains(w)));
                Some(members.clone())
            }
            _ => None,
        })
        .collect();
    assert!(rotating.contains(&planted[0]) && rotating.contains(&planted[2]), "{rotating:?}");
    assert!(!rotating.contains(&planted[1]), "{rotating:?}");
    // The first ring's leader and the outside payer pay others' premiums; the honest payer of one
    // other firm's bond is below the threshold.
    let payers: Vec<(Uscc, usize)> = analysis
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::SharedPremiumPayer { payer, applicants, .. } => Some((payer.clone(), applicants.len())),
            _ => None,
        })
        .collect();
    assert_eq!(payers, vec![(planted[0][0].clone(), 3), (payer, 5)]);
    // The second ring's shared bid document.
    let identical: Vec<&Finding> =
        analysis.findings.iter().filter(|f| matches!(f, Finding::IdenticalBidDocuments { .. })).collect();
    assert_eq!(identical.len(), 1);
    assert_eq!(identical[0].subjects(), &planted[1][..2]);
}

#[test]
fn the_evidence_names_sections_documents_and_dates() {
    let (history, planted, _) = generated();
    let analysis = analyse(&history.facts, &RingParams::default()).expect("within bounds");
    let Some(Finding::BiddingRing { sections, sections_total, .. }) =
        analysis.findings.iter().find(|f| f.subjects() == &planted[2][..])
    else {
        panic!("the third ring was not found");
    };
    assert_eq!(*sections_total, sections.len());
    assert!(sections.len() >= 8, "{sections:?}");
    assert!(sections.windows(2).all(|w| w[0].first_bid_height <= w[1].first_bid_height), "by first bid");
    for s in sections {
        assert!(s.bidders.len() >= 2 && s.bidders.iter().all(|b| planted[2].contains(b)));
        assert_eq!(s.bid_documents.len(), s.bidders.len(), "one document per member's bid");
        assert_eq!(s.first_bid_time.0, s.first_bid_height.0 * 1000);
    }
}

/// Same facts, same findings, whatever order the facts were gathered in; and the thresholds are
/// what decides: raising the shared-section count past the rings' eight sections finds none.
#[test]
fn findings_depend_on_the_facts_and_the_thresholds_only() {
    let (history, _, _) = generated();
    let params = RingParams::default();
    let once = analyse(&history.facts, &params).expect("within bounds");
    let mut shuffled = history.facts.clone();
    for f in shuffled.values_mut() {
        f.bids.reverse();
    }
    let again = analyse(&shuffled, &params).expect("within bounds");
    assert_eq!(rings_found(&once.findings), rings_found(&again.findings));
    let strict = RingParams { min_shared_sections: 9, ..params };
    assert!(rings_found(&analyse(&history.facts, &strict).expect("within bounds").findings).is_empty());
}

#[test]
fn a_crowded_section_is_counted_not_paired() {
    let mut h = History { facts: Facts::new(), height: 0 };
    let tender = h.section(330100, "BIG");
    for i in 0..=RING_SECTION_BIDDERS_MAX {
        h.own_bid(&tender, &firm(i));
    }
    let analysis = analyse(&h.facts, &RingParams::default()).expect("within bounds");
    assert_eq!((analysis.sections_too_large, analysis.bids), (1, RING_SECTION_BIDDERS_MAX + 1));
}
