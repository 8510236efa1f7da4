//! E-guarantee payloads (电子保函): issued by banks, insurers and guarantee companies in place of
//! cash deposits, verified and claimed by trading centres.

use serde::{Deserialize, Serialize};

use crate::id::{Hash32, TimestampMs, Uscc};
use crate::identity::text;
use crate::tx::TenderRef;

/// Longest guarantee number.
pub const GUARANTEE_NUMBER_BYTES_MAX: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuaranteeKind {
    /// 投标保函
    BidBond,
    /// 履约保函
    Performance,
    /// 预付款保函
    AdvancePayment,
    /// 支付保函
    Payment,
}

/// A guarantee provider issues a guarantee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssueGuarantee {
    /// Unique guarantee number (保函编号).
    pub number: String,
    pub kind: GuaranteeKind,
    /// The bidder or contractor (申请人).
    pub applicant: Uscc,
    /// The tenderer (受益人).
    pub beneficiary: Uscc,
    /// Who paid the premium (保费支付方); competing bidders with one payer raise a risk warning.
    pub premium_payer: Uscc,
    pub tender: TenderRef,
    pub amount_fen: u64,
    pub valid_from: TimestampMs,
    pub valid_until: TimestampMs,
    /// SHA-256 of the guarantee document.
    pub document_hash: Hash32,
    /// The earlier guarantee this one replaces (bid opening postponed, 开标延期).
    pub replaces: Option<String>,
}

pub fn check_number(number: &str) -> Result<(), String> {
    if number.is_empty() || number.len() > GUARANTEE_NUMBER_BYTES_MAX {
        return Err(format!("guarantee number must be 1 to {GUARANTEE_NUMBER_BYTES_MAX} bytes, got {}", number.len()));
    }
    if !number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'/') {
        return Err(format!("guarantee number {number:?} may hold only 0-9, A-Z, a-z, '-', '_' and '/'"));
    }
    Ok(())
}

impl IssueGuarantee {
    pub fn check_fields(&self) -> Result<(), String> {
        check_number(&self.number)?;
        self.tender.check_fields()?;
        if let Some(earlier) = &self.replaces {
            check_number(earlier)?;
            if *earlier == self.number {
                return Err("a guarantee cannot replace itself".into());
            }
        }
        if self.amount_fen == 0 {
            return Err("amount_fen must be positive".into());
        }
        if self.valid_until <= self.valid_from {
            return Err(format!(
                "valid_until {} ms is not after valid_from {} ms",
                self.valid_until.0, self.valid_from.0
            ));
        }
        if self.applicant == self.beneficiary {
            return Err("applicant and beneficiary must differ".into());
        }
        Ok(())
    }
}

/// A trading centre claims on a guarantee for the beneficiary (索赔).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimGuarantee {
    pub number: String,
    pub reason: String,
    pub evidence_hash: Hash32,
    pub amount_fen: u64,
}

impl ClaimGuarantee {
    pub fn check_fields(&self) -> Result<(), String> {
        check_number(&self.number)?;
        text("reason", &self.reason, true)?;
        if self.amount_fen == 0 {
            return Err("amount_fen must be positive".into());
        }
        Ok(())
    }
}

/// The provider pays a claim (赔付).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PayGuarantee {
    pub number: String,
    pub amount_fen: u64,
    /// SHA-256 of the payment voucher.
    pub evidence_hash: Hash32,
}

impl PayGuarantee {
    pub fn check_fields(&self) -> Result<(), String> {
        check_number(&self.number)?;
        if self.amount_fen == 0 {
            return Err("amount_fen must be positive".into());
        }
        Ok(())
    }
}

/// Verify, release or cancel a guarantee: the number and a reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GuaranteeNote {
    pub number: String,
    pub reason: String,
}

impl GuaranteeNote {
    pub fn check_fields(&self) -> Result<(), String> {
        check_number(&self.number)?;
        text("reason", &self.reason, false)
    }
}
