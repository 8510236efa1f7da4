//! Which roles may send which transaction kinds. Deny by default: a kind not listed for the
//! signer's role is refused with a reason naming the role.

use huxin_types::genesis::Role;
use huxin_types::{Action, RejectCode, Rejection};

/// The roles allowed to send `action`.
pub fn allowed_roles(action: &Action) -> &'static [Role] {
    match action {
        Action::AnchorDocument(_) => &[Role::TradingCentre],
        Action::AttestSubject(_) => &[Role::TradingCentre],
        Action::RevokeAttestation(_) => &[Role::TradingCentre, Role::Supervisor],
        Action::RecogniseAttestation { .. } => &[Role::TradingCentre],
        Action::WithdrawRecognition { .. } => &[Role::TradingCentre],
        Action::SetRecognitionPolicy { .. } => &[Role::TradingCentre],
        Action::ListOnBlacklist(_) => &[Role::Supervisor, Role::TradingCentre],
        Action::LiftBlacklist(_) => &[Role::Supervisor, Role::TradingCentre],
        Action::RecordCredit(_) => &[Role::Supervisor, Role::TradingCentre],
        Action::RepairCredit(_) => &[Role::Supervisor, Role::TradingCentre],
        Action::RevokeCredit(_) => &[Role::Supervisor, Role::TradingCentre],
        Action::IssueGuarantee(_) => &[Role::GuaranteeProvider],
        Action::VerifyGuarantee(_) => &[Role::TradingCentre],
        Action::ClaimGuarantee(_) => &[Role::TradingCentre],
        Action::PayGuarantee(_) => &[Role::GuaranteeProvider],
        Action::ReleaseGuarantee(_) => &[Role::GuaranteeProvider, Role::TradingCentre],
        Action::CancelGuarantee(_) => &[Role::GuaranteeProvider],
        Action::Propose(_) => &[Role::TradingCentre, Role::Supervisor],
        Action::Vote(_) => &[Role::TradingCentre],
        Action::SubjectStatement(_) => &[Role::TradingCentre, Role::GuaranteeProvider, Role::Supervisor],
        Action::AnchorAuditLog(_) => &[Role::TradingCentre, Role::Supervisor],
        Action::EnrolExpert(_) => &[Role::TradingCentre],
        Action::OpenEvaluation(_) => &[Role::TradingCentre],
        Action::CommitDraw(_) => &[Role::TradingCentre],
        Action::RevealDraw(_) => &[Role::TradingCentre],
        Action::RevealSeats(_) => &[Role::TradingCentre],
        Action::ReplaceExpert(_) => &[Role::TradingCentre],
        Action::AnchorEvaluation(_) => &[Role::TradingCentre],
    }
}

pub fn check(role: Role, action: &Action) -> Result<(), Rejection> {
    let allowed = allowed_roles(action);
    if allowed.contains(&role) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
    Err(Rejection::new(
        RejectCode::NotPermitted,
        format!("a {} may not send {}; allowed: {}", role.as_str(), action.kind(), names.join(", ")),
    ))
}
