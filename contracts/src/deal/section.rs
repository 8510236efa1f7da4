//! How a tender section is stored: a small record of what the rules read with the newest part of
//! its timeline, older timeline entries in pages of [`SECTION_PAGE_ENTRIES`], and bid bond pairs
//! one per key.
//!
//! Until protocol version 2 a section was one record holding its whole timeline and every bid
//! bond pair (`keys::tender`). Every anchor rewrote it, and the ledger keeps each version of a
//! value, so a section of n anchors stored about n²/2 timeline entries, and its k-th anchor
//! encoded and hashed k of them: the 256th bid of a section wrote 16 509 bytes. Now the record
//! holds at most [`SECTION_PAGE_ENTRIES`] entries (its `tail`); when the tail is full it is
//! written once as a page (`keys::section_page`) and the record starts a new one. So an anchor
//! writes a bounded number of bytes however long its section, and a section of a few anchors
//! is still one key, as before. A bid bond writes its one pair (`keys::bond_pair`) and its
//! payer's applicants (`keys::bond_payer`).
//!
//! A section written in the old form still reads (as the same [`TenderRecord`]); the first write
//! to it moves it to the new keys and deletes the old record, so a chain continued from a halt
//! height under protocol version 2 keeps every section (see `deploy/README.md`, Upgrades).

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::tx::{DealStage, TenderRef};
use huxin_types::{Height, RegionCode, TimestampMs, Uscc};

use super::{TenderRecord, TimelineEntry, SECTION_ANCHORS_MAX, SECTION_PAYERS_MAX};
use crate::{keys, read, read_or_default, KvState, StateError};

/// Timeline entries a section's record holds before they are written as a page: an anchor
/// rewrites at most this many entries, and a section of this many anchors or fewer is one key.
pub const SECTION_PAGE_ENTRIES: usize = 8;

// Page and pair numbers are zero-padded to four digits, so their keys sort in order.
const _: () = assert!(SECTION_ANCHORS_MAX / SECTION_PAGE_ENTRIES < 10_000 && SECTION_PAYERS_MAX <= 10_000);

/// A tender section as stored (`keys::section`): what its rules read and its newest timeline
/// entries. Its size is bounded by the stages, the regions and [`SECTION_PAGE_ENTRIES`], not by
/// the length of its timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionRecord {
    pub tender: TenderRef,
    /// The furthest ordered stage anchored so far.
    pub last_stage: Option<DealStage>,
    /// When the first candidate publicity was anchored.
    pub candidate_publicity_at: Option<TimestampMs>,
    /// The estimated price the announcement stated (caps bid bonds).
    pub estimated_price_fen: Option<u64>,
    /// Height and time of the archive anchor; nothing is accepted after it.
    pub archived: Option<(Height, TimestampMs)>,
    /// Every stage anchored so far, sorted, each once.
    pub stages: Vec<DealStage>,
    /// Bids anchored, per anchoring region, sorted by region.
    pub region_bids: Vec<(RegionCode, u32)>,
    /// The timeline's full pages: `keys::section_page(tender, 0..pages)`, each of
    /// [`SECTION_PAGE_ENTRIES`] entries.
    pub pages: u32,
    /// The timeline's entries after its pages, at most [`SECTION_PAGE_ENTRIES`].
    pub tail: Vec<TimelineEntry>,
    /// (premium payer, applicant) pairs of the section's bid bonds: `keys::bond_pair(tender,
    /// 0..bond_pairs)`, in the order issued.
    pub bond_pairs: u32,
}

impl SectionRecord {
    pub fn new(tender: TenderRef) -> Self {
        SectionRecord {
            tender,
            last_stage: None,
            candidate_publicity_at: None,
            estimated_price_fen: None,
            archived: None,
            stages: Vec::new(),
            region_bids: Vec::new(),
            pages: 0,
            tail: Vec::new(),
            bond_pairs: 0,
        }
    }

    /// Entries in the timeline.
    pub fn anchors(&self) -> usize {
        self.pages as usize * SECTION_PAGE_ENTRIES + self.tail.len()
    }

    /// Whether a `stage` document was anchored.
    pub fn has_stage(&self, stage: DealStage) -> bool {
        self.stages.binary_search(&stage).is_ok()
    }

    /// Bids anchored in all, and by `region`'s centres.
    pub fn bids(&self, region: RegionCode) -> (u32, u32) {
        let all = self.region_bids.iter().map(|(_, n)| n).sum();
        let own = self.region_bids.iter().find(|(r, _)| *r == region).map_or(0, |(_, n)| *n);
        (all, own)
    }

    /// The record an old-form section's rules read.
    fn of_legacy(legacy: &TenderRecord) -> Self {
        let mut record = SectionRecord::new(legacy.tender.clone());
        record.last_stage = legacy.last_stage;
        record.candidate_publicity_at = legacy.candidate_publicity_at;
        record.estimated_price_fen = legacy.estimated_price_fen;
        record.archived = legacy.archived;
        for entry in &legacy.timeline {
            record.count(entry);
        }
        let full = legacy.timeline.len() / SECTION_PAGE_ENTRIES;
        record.pages = len_u32(full);
        record.tail = legacy.timeline[full * SECTION_PAGE_ENTRIES..].to_vec();
        record.bond_pairs = len_u32(legacy.bid_bond_payers.len());
        record
    }

    /// Count `entry` in the stages and bids (not in `last_stage`: the rules set it).
    fn count(&mut self, entry: &TimelineEntry) {
        if let Err(at) = self.stages.binary_search(&entry.stage) {
            self.stages.insert(at, entry.stage);
        }
        if entry.stage == DealStage::Bid {
            match self.region_bids.binary_search_by_key(&entry.anchored_by_region, |(r, _)| *r) {
                Ok(at) => self.region_bids[at].1 += 1,
                Err(at) => self.region_bids.insert(at, (entry.anchored_by_region, 1)),
            }
        }
    }
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn legacy(state: &dyn KvState, tender: &TenderRef) -> Result<Option<TenderRecord>, StateError> {
    read(state, &keys::tender(tender), "tender (protocol 1)")
}

/// The section's record, `None` if nothing was recorded for it (an old-form section reads as
/// the record its rules would read).
pub fn section(state: &dyn KvState, tender: &TenderRef) -> Result<Option<SectionRecord>, StateError> {
    if let Some(record) = read(state, &keys::section(tender), "section")? {
        return Ok(Some(record));
    }
    Ok(legacy(state, tender)?.as_ref().map(SectionRecord::of_legacy))
}

/// The section's record for a transaction about to change it: a new one if nothing was recorded;
/// an old-form section is first moved to the new keys (its entries, pairs and record written, the
/// old record deleted).
pub fn section_to_change(state: &mut dyn KvState, tender: &TenderRef) -> Result<SectionRecord, StateError> {
    if let Some(record) = read(state, &keys::section(tender), "section")? {
        return Ok(record);
    }
    let Some(old) = legacy(state, tender)? else { return Ok(SectionRecord::new(tender.clone())) };
    let mut record = SectionRecord::of_legacy(&old);
    for (n, page) in old.timeline.chunks_exact(SECTION_PAGE_ENTRIES).enumerate() {
        state.put(keys::section_page(tender, len_u32(n)), codec::encode(&page));
    }
    // The old record's pairs are distinct and at most `SECTION_PAYERS_MAX`: each is recorded.
    record.bond_pairs = 0;
    for (payer, applicant) in &old.bid_bond_payers {
        add_bond_pair(state, &mut record, payer, applicant)?;
    }
    state.delete(keys::tender(tender));
    put_section(state, &record);
    Ok(record)
}

pub fn put_section(state: &mut dyn KvState, record: &SectionRecord) {
    state.put(keys::section(&record.tender), codec::encode(record));
}

/// Append `entry` to the section's timeline (the caller checked [`SECTION_ANCHORS_MAX`]) and
/// count it, writing a full tail as a page first; the caller then writes the record.
pub fn push_entry(state: &mut dyn KvState, record: &mut SectionRecord, entry: TimelineEntry) {
    if record.tail.len() >= SECTION_PAGE_ENTRIES {
        let page = std::mem::take(&mut record.tail);
        state.put(keys::section_page(&record.tender, record.pages), codec::encode(&page));
        record.pages += 1;
    }
    record.count(&entry);
    record.tail.push(entry);
}

/// The applicants whose bid bonds in the section `payer` paid for, sorted.
pub fn applicants_paid_by(state: &dyn KvState, tender: &TenderRef, payer: &Uscc) -> Result<Vec<Uscc>, StateError> {
    read_or_default(state, &keys::bond_payer(tender, payer), "bond payer")
}

/// Record that `payer` paid `applicant`'s bid bond, unless recorded already or the section holds
/// [`SECTION_PAYERS_MAX`] pairs; the caller then writes the record. Whether it was recorded.
pub fn add_bond_pair(
    state: &mut dyn KvState,
    record: &mut SectionRecord,
    payer: &Uscc,
    applicant: &Uscc,
) -> Result<bool, StateError> {
    let mut applicants = applicants_paid_by(state, &record.tender, payer)?;
    let Err(at) = applicants.binary_search(applicant) else { return Ok(false) };
    if record.bond_pairs as usize >= SECTION_PAYERS_MAX {
        return Ok(false);
    }
    applicants.insert(at, applicant.clone());
    state.put(keys::bond_payer(&record.tender, payer), codec::encode(&applicants));
    state.put(keys::bond_pair(&record.tender, record.bond_pairs), codec::encode(&(payer, applicant)));
    record.bond_pairs += 1;
    Ok(true)
}

/// The section as served: its record with its whole timeline (its pages, then its tail) and
/// its bid bond pairs (sorted). `None` if nothing was recorded for it.
pub fn tender(state: &dyn KvState, tender: &TenderRef) -> Result<Option<TenderRecord>, StateError> {
    let Some(record) = read::<SectionRecord>(state, &keys::section(tender), "section")? else {
        return legacy(state, tender);
    };
    let mut timeline = Vec::with_capacity(record.anchors());
    for n in 0..record.pages {
        let page: Vec<TimelineEntry> = read(state, &keys::section_page(tender, n), "timeline page")?
            .ok_or_else(|| missing("timeline page", tender, n))?;
        if page.len() != SECTION_PAGE_ENTRIES {
            return Err(StateError::Corrupt {
                what: "timeline page",
                detail: format!(
                    "page {n} of section {tender} holds {} entries, not {SECTION_PAGE_ENTRIES}",
                    page.len()
                ),
            });
        }
        timeline.extend(page);
    }
    let bid_bond_payers = bond_pairs(state, &record)?;
    timeline.extend(record.tail);
    Ok(Some(TenderRecord {
        tender: record.tender,
        last_stage: record.last_stage,
        candidate_publicity_at: record.candidate_publicity_at,
        estimated_price_fen: record.estimated_price_fen,
        archived: record.archived,
        timeline,
        bid_bond_payers,
    }))
}

/// The section's (premium payer, applicant) pairs, sorted.
pub fn bond_pairs(state: &dyn KvState, record: &SectionRecord) -> Result<Vec<(Uscc, Uscc)>, StateError> {
    let mut pairs = Vec::with_capacity(record.bond_pairs as usize);
    for n in 0..record.bond_pairs {
        let pair = read(state, &keys::bond_pair(&record.tender, n), "bond pair")?;
        pairs.push(pair.ok_or_else(|| missing("bond pair", &record.tender, n))?);
    }
    pairs.sort();
    Ok(pairs)
}

fn missing(what: &'static str, tender: &TenderRef, n: u32) -> StateError {
    StateError::Corrupt { what, detail: format!("section {tender} counts {what} {n}, which is not stored") }
}
