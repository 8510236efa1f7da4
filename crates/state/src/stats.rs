//! Monthly statistics per region (seed: the monthly transaction analysis reports): counters the
//! store keeps beside the indexes, updated from each decided block in the block's own batch, so
//! every node that has the same blocks has the same counters.
//!
//! Counter key: [`STATS`] ‖ month (4, BE, `YYYYMM` in China Standard Time) ‖ region (4, BE; 0 =
//! national) ‖ metric name. Value: the count (8, BE). Only applied transactions count.
//!
//! | metric | counted when | region |
//! | --- | --- | --- |
//! | `anchors.<stage>` | a deal document is anchored | the tender's |
//! | `guarantees.issued` / `.claimed` / `.paid` | an e-guarantee is issued, claimed, paid | the tender's |
//! | `penalties.<severity>` | an administrative penalty is recorded | the recording member's |
//! | `blacklist.entries` | an entity is blacklisted | each listed region, or national |

use std::collections::BTreeMap;

use huxin_contracts::credit::CreditRecord;
use huxin_contracts::guarantee::GuaranteeRecord;
use huxin_contracts::keys;
use huxin_types::credit::{credit_record_id, CreditKind};
use huxin_types::identity::BlacklistScope;
use huxin_types::{codec, Action, Block, Outcome, Receipt, TimestampMs};

pub const STATS: &[u8] = b"stats/";
/// The region code counters use for national scope.
pub const NATIONAL: u32 = 0;

const MS_PER_DAY: i64 = 86_400_000;
/// China Standard Time is UTC+8 all year.
const CST_OFFSET_MS: i64 = 8 * 3_600_000;

/// The calendar month (`YYYYMM`) of `time` in China Standard Time.
pub fn month_of(time: TimestampMs) -> u32 {
    let days = (time.0 as i64 + CST_OFFSET_MS).div_euclid(MS_PER_DAY);
    let (year, month, _) = huxin_types::id::civil_from_days(days);
    (year * 100 + month) as u32
}

/// The counter key of `metric` in `region` and `month`.
pub fn key(month: u32, region: u32, metric: &str) -> Vec<u8> {
    [STATS, &month.to_be_bytes(), &region.to_be_bytes(), metric.as_bytes()].concat()
}

/// Split a counter key into month, region and metric.
pub fn parse_key(key: &[u8]) -> Option<(u32, u32, &str)> {
    let rest = key.strip_prefix(STATS)?;
    let month = u32::from_be_bytes(rest.get(0..4)?.try_into().ok()?);
    let region = u32::from_be_bytes(rest.get(4..8)?.try_into().ok()?);
    Some((month, region, std::str::from_utf8(rest.get(8..)?).ok()?))
}

fn snake<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "other".into())
}

/// How much each counter grows with this block.
pub fn increments(
    block: &Block,
    receipts: &[Receipt],
    writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> BTreeMap<Vec<u8>, u64> {
    let month = month_of(block.header.time);
    let mut out = BTreeMap::new();
    let mut count = |region: u32, metric: String| *out.entry(key(month, region, &metric)).or_insert(0) += 1;
    let written = |k: Vec<u8>| writes.get(&k).and_then(|v| v.as_deref());
    let guarantee_region = |number: &str| {
        written(keys::guarantee(number))
            .and_then(|v| codec::decode_stored::<GuaranteeRecord>(v, usize::MAX).ok())
            .map(|g| g.guarantee.tender.region.get())
    };
    for (tx, receipt) in block.txs.iter().zip(receipts) {
        if receipt.outcome != Outcome::Applied {
            continue;
        }
        match &tx.body.action {
            Action::AnchorDocument(a) => count(a.tender.region.get(), format!("anchors.{}", snake(&a.stage))),
            Action::IssueGuarantee(g) => count(g.tender.region.get(), "guarantees.issued".into()),
            Action::ClaimGuarantee(c) => {
                if let Some(region) = guarantee_region(&c.number) {
                    count(region, "guarantees.claimed".into())
                }
            }
            Action::PayGuarantee(p) => {
                if let Some(region) = guarantee_region(&p.number) {
                    count(region, "guarantees.paid".into())
                }
            }
            Action::RecordCredit(r) if r.kind == CreditKind::AdministrativePenalty => {
                let id = credit_record_id(tx.body.signer.suite(), &r.authority_uscc, &r.decision_no);
                if let Some(record) = written(keys::credit_record(&id))
                    .and_then(|v| codec::decode_stored::<CreditRecord>(v, usize::MAX).ok())
                {
                    count(record.region.get(), format!("penalties.{}", snake(&r.severity)))
                }
            }
            Action::ListOnBlacklist(l) => match &l.scope {
                BlacklistScope::National => count(NATIONAL, "blacklist.entries".into()),
                BlacklistScope::Regions(regions) => {
                    for r in regions {
                        count(r.get(), "blacklist.entries".into())
                    }
                }
            },
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_follow_china_standard_time() {
        // 2026-01-31T16:00:00Z is 2026-02-01 00:00 in Beijing.
        assert_eq!(month_of(TimestampMs(1_769_875_200_000)), 202602);
        assert_eq!(month_of(TimestampMs(1_769_875_199_999)), 202601);
        assert_eq!(month_of(TimestampMs(0)), 197001);
        // 2024-02-29T12:00:00Z, a leap day.
        assert_eq!(month_of(TimestampMs(1_709_208_000_000)), 202402);
        // 2026-12-31T16:00:00Z is New Year 2027 in Beijing.
        assert_eq!(month_of(TimestampMs(1_798_732_800_000)), 202701);
    }

    #[test]
    fn keys_round_trip() {
        let k = key(202611, 330100, "anchors.bid");
        assert_eq!(parse_key(&k), Some((202611, 330100, "anchors.bid")));
        assert_eq!(parse_key(b"other/"), None);
    }
}
