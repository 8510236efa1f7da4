//! Identity attestations and mutual recognition (身份互认, "一地入驻，全省共用").
//!
//! Rules:
//! - a trading centre attests a subject in its own region (the subject's *home* region); while that
//!   attestation is active, only the home centre may update it (each update bumps its version and
//!   keeps its recognitions); another region's centre is refused and told to recognise it instead;
//! - the home centre or any supervisor may revoke an active attestation, with a reason; a revoked
//!   attestation stays on the ledger, and the subject may then be attested afresh by any centre;
//! - a centre of another region may recognise an active attestation once, and withdraw that
//!   recognition; the home region never needs to;
//! - each region has a recognition policy: `automatic` (the default: every member centre's active
//!   attestation counts there) or `explicit` (only the ones it recognised count);
//! - organisations are identified by USCC; pilot-era codes only as an explicitly marked legacy
//!   code, flagged in every record; experts only by a salted hash, never an ID number;
//! - an attestation with `valid_until` lapses at that time.

use serde::{Deserialize, Serialize};

use huxin_types::codec;
use huxin_types::genesis::Role;
use huxin_types::identity::{
    AttestSubject, GrantScope, Qualification, RecognitionPolicy, RevokeAttestation, SignedStatement, Statement,
    SubjectId, SubjectKind,
};
use huxin_types::{Hash32, Height, MemberId, PublicKey, RegionCode, RejectCode, TimestampMs};

use crate::{keys, read, read_or_default, rejection, Error, KvState, StateError, TxContext};

/// Most regions that may recognise one attestation.
pub const RECOGNITIONS_MAX: usize = 512;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttestationStatus {
    Active,
    Revoked { by: MemberId, reason: String, time: TimestampMs, height: Height },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recognition {
    pub region: RegionCode,
    pub by: MemberId,
    pub time: TimestampMs,
    pub height: Height,
}

/// An attestation as stored and served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttestationRecord {
    pub subject: SubjectId,
    /// True for pilot-era codes without a GB 32100-2015 check character.
    pub legacy_code: bool,
    pub kind: SubjectKind,
    pub name: String,
    pub qualifications: Vec<Qualification>,
    pub bound_key: Option<PublicKey>,
    pub valid_until: Option<TimestampMs>,
    pub home_region: RegionCode,
    pub attested_by: MemberId,
    pub version: u32,
    pub first_attested: TimestampMs,
    pub updated: TimestampMs,
    pub updated_height: Height,
    pub status: AttestationStatus,
    /// Sorted by region.
    pub recognitions: Vec<Recognition>,
}

pub fn attestation(state: &dyn KvState, subject: &SubjectId) -> Result<Option<AttestationRecord>, StateError> {
    read(state, &keys::attestation(subject), "attestation")
}

pub fn policy(state: &dyn KvState, region: RegionCode) -> Result<RecognitionPolicy, StateError> {
    Ok(read(state, &keys::recognition_policy(region), "recognition policy")?.unwrap_or(RecognitionPolicy::Automatic))
}

fn save(state: &mut dyn KvState, record: &AttestationRecord) {
    state.put(keys::attestation(&record.subject), codec::encode(record));
}

fn active(state: &dyn KvState, subject: &SubjectId) -> Result<AttestationRecord, Error> {
    let record = attestation(state, subject)?
        .ok_or_else(|| rejection(RejectCode::NotFound, format!("subject {subject} has no attestation")))?;
    if let AttestationStatus::Revoked { time, height, .. } = &record.status {
        return Err(rejection(
            RejectCode::Conflict,
            format!("the attestation of {subject} was revoked at height {height} ({} ms)", time.0),
        ));
    }
    Ok(record)
}

pub fn attest(ctx: &TxContext, state: &mut dyn KvState, a: &AttestSubject) -> Result<(), Error> {
    a.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    if let Some(until) = a.valid_until {
        if until <= ctx.time {
            return Err(rejection(
                RejectCode::InvalidField,
                format!("valid_until {} ms is not after the block time {} ms", until.0, ctx.time.0),
            ));
        }
    }
    if let Some(key) = &a.bound_key {
        crate::registry::expect_suite(state, key, "bound_key")?;
        let message = huxin_types::identity::key_binding_message(&ctx.chain_id, &a.subject, key);
        let proof = a.bound_key_proof.as_ref().ok_or_else(|| {
            rejection(
                RejectCode::InvalidField,
                format!("binding key {key} to {} needs bound_key_proof, the key's signature of the binding", a.subject),
            )
        })?;
        key.verify(huxin_types::crypto::Domain::SubjectStatement, &message, proof).map_err(|e| {
            rejection(
                RejectCode::BadSignature,
                format!("bound_key_proof does not verify with key {key} for {} on this chain: {e}", a.subject),
            )
        })?;
    }
    let region = ctx.member.region;
    let existing = attestation(state, &a.subject)?;
    let (version, first_attested, recognitions) = match existing {
        Some(r) if r.status == AttestationStatus::Active && r.home_region != region => {
            return Err(rejection(
                RejectCode::Conflict,
                format!(
                    "{} is attested by region {} (its home); only that centre may update it; region {region} may recognise it instead",
                    a.subject, r.home_region
                ),
            ));
        }
        Some(r) if r.status == AttestationStatus::Active => (r.version + 1, r.first_attested, r.recognitions),
        Some(r) => (r.version + 1, ctx.time, Vec::new()),
        None => (1, ctx.time, Vec::new()),
    };
    save(
        state,
        &AttestationRecord {
            subject: a.subject.clone(),
            legacy_code: a.subject.is_legacy(),
            kind: a.kind,
            name: a.name.clone(),
            qualifications: a.qualifications.clone(),
            bound_key: a.bound_key,
            valid_until: a.valid_until,
            home_region: region,
            attested_by: ctx.member.id,
            version,
            first_attested,
            updated: ctx.time,
            updated_height: ctx.height,
            status: AttestationStatus::Active,
            recognitions,
        },
    );
    Ok(())
}

pub fn revoke(ctx: &TxContext, state: &mut dyn KvState, r: &RevokeAttestation) -> Result<(), Error> {
    r.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let mut record = active(state, &r.subject)?;
    if ctx.member.role == Role::TradingCentre && ctx.member.region != record.home_region {
        return Err(rejection(
            RejectCode::NotPermitted,
            format!(
                "only the home centre (region {}) or a supervisor may revoke the attestation of {}; the signer is region {}",
                record.home_region, r.subject, ctx.member.region
            ),
        ));
    }
    record.status =
        AttestationStatus::Revoked { by: ctx.member.id, reason: r.reason.clone(), time: ctx.time, height: ctx.height };
    record.updated = ctx.time;
    record.updated_height = ctx.height;
    save(state, &record);
    Ok(())
}

pub fn recognise(ctx: &TxContext, state: &mut dyn KvState, subject: &SubjectId) -> Result<(), Error> {
    let mut record = active(state, subject)?;
    let region = ctx.member.region;
    if region == record.home_region {
        return Err(rejection(
            RejectCode::Conflict,
            format!("region {region} is the home of {subject}'s attestation; it needs no recognition"),
        ));
    }
    match record.recognitions.binary_search_by_key(&region, |r| r.region) {
        Ok(i) => Err(rejection(
            RejectCode::Conflict,
            format!("region {region} already recognised {subject} at height {}", record.recognitions[i].height),
        )),
        Err(_) if record.recognitions.len() >= RECOGNITIONS_MAX => Err(rejection(
            RejectCode::Conflict,
            format!("{subject} already has {RECOGNITIONS_MAX} recognitions, the most allowed"),
        )),
        Err(i) => {
            record
                .recognitions
                .insert(i, Recognition { region, by: ctx.member.id, time: ctx.time, height: ctx.height });
            save(state, &record);
            Ok(())
        }
    }
}

pub fn withdraw(ctx: &TxContext, state: &mut dyn KvState, subject: &SubjectId) -> Result<(), Error> {
    let mut record = attestation(state, subject)?
        .ok_or_else(|| rejection(RejectCode::NotFound, format!("subject {subject} has no attestation")))?;
    let region = ctx.member.region;
    match record.recognitions.binary_search_by_key(&region, |r| r.region) {
        Ok(i) => {
            record.recognitions.remove(i);
            save(state, &record);
            Ok(())
        }
        Err(_) => Err(rejection(RejectCode::NotFound, format!("region {region} has not recognised {subject}"))),
    }
}

pub fn set_policy(ctx: &TxContext, state: &mut dyn KvState, policy: RecognitionPolicy) -> Result<(), Error> {
    state.put(keys::recognition_policy(ctx.member.region), codec::encode(&policy));
    Ok(())
}

/// Every reason `subject` is not recognised in `region` at `time` (empty when it is).
pub fn recognition_refusals(
    state: &dyn KvState,
    subject: &SubjectId,
    region: RegionCode,
    time: TimestampMs,
) -> Result<Vec<String>, StateError> {
    let Some(record) = attestation(state, subject)? else {
        return Ok(vec![format!("{subject} has no attestation in any region")]);
    };
    let mut reasons = Vec::new();
    if let AttestationStatus::Revoked { reason, height, .. } = &record.status {
        reasons.push(format!("its attestation was revoked at height {height}: {reason}"));
    }
    if let Some(until) = record.valid_until {
        if until < time {
            reasons.push(format!("its attestation lapsed at {} ms", until.0));
        }
    }
    let recognised = region == record.home_region
        || policy(state, region)? == RecognitionPolicy::Automatic
        || record.recognitions.iter().any(|r| r.region == region);
    if !recognised {
        reasons.push(format!(
            "region {region} recognises only attestations it has recognised explicitly, and has not recognised this one (home region {})",
            record.home_region
        ));
    }
    Ok(reasons)
}

/// Most access grants one subject keeps (one per grantee and scope).
pub const SUBJECT_GRANTS_MAX: usize = 256;
/// How far a statement's `signed_at` may lie from the block time, either way.
pub const STATEMENT_WINDOW_MS: u64 = 24 * 60 * 60 * 1000;

/// An access grant in force until `expires_at` (数据授权).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantRecord {
    pub grantee: MemberId,
    pub scope: GrantScope,
    pub expires_at: TimestampMs,
    pub height: Height,
    pub statement: Hash32,
}

/// A subject's confirmation of a document (数据确认).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfirmationRecord {
    pub document_hash: Hash32,
    pub signed_at: TimestampMs,
    pub height: Height,
    pub relayed_by: MemberId,
    pub statement: Hash32,
}

pub fn grants(state: &dyn KvState, subject: &SubjectId) -> Result<Vec<GrantRecord>, StateError> {
    read_or_default(state, &keys::grants(subject), "grants")
}

/// Whether `member` may read `scope` of the subject's data at `time` by the subject's grant.
pub fn is_granted(
    state: &dyn KvState,
    subject: &SubjectId,
    member: &MemberId,
    scope: GrantScope,
    time: TimestampMs,
) -> Result<bool, StateError> {
    Ok(grant_in_force(&grants(state, subject)?, member, scope, time).is_some())
}

/// The grant among `grants` that lets `member` read `scope` at `time`: one to that member, for
/// that scope or `all`, expiring after `time`.
pub fn grant_in_force<'a>(
    grants: &'a [GrantRecord],
    member: &MemberId,
    scope: GrantScope,
    time: TimestampMs,
) -> Option<&'a GrantRecord> {
    grants
        .iter()
        .find(|g| g.grantee == *member && (g.scope == scope || g.scope == GrantScope::All) && time < g.expires_at)
}

pub fn confirmation(
    state: &dyn KvState,
    subject: &SubjectId,
    document: &Hash32,
) -> Result<Option<ConfirmationRecord>, StateError> {
    read(state, &keys::confirmation(subject, document), "confirmation")
}

/// Record a statement the subject signed with its bound key. Rules: the subject's attestation is
/// active and binds a key; the signature verifies with that key; `signed_at` is within
/// [`STATEMENT_WINDOW_MS`] of the block time; each statement is recorded once; a grant names an
/// existing member and expires after the block time.
pub fn statement(ctx: &TxContext, state: &mut dyn KvState, s: &SignedStatement) -> Result<(), Error> {
    s.check_fields().map_err(|reason| rejection(RejectCode::InvalidField, reason))?;
    let subject = &s.statement.subject;
    let record = attestation(state, subject)?
        .ok_or_else(|| rejection(RejectCode::NotFound, format!("{subject} is not attested")))?;
    if !matches!(record.status, AttestationStatus::Active) {
        return Err(rejection(RejectCode::RuleViolated, format!("{subject}'s attestation is revoked")));
    }
    let key = record.bound_key.ok_or_else(|| {
        rejection(
            RejectCode::RuleViolated,
            format!("{subject}'s attestation binds no key; its home centre binds one first"),
        )
    })?;
    s.verify(&key).map_err(|e| {
        rejection(
            RejectCode::BadSignature,
            format!("statement signature does not verify with {subject}'s bound key {key}: {e}"),
        )
    })?;
    if s.statement.signed_at.0.abs_diff(ctx.time.0) > STATEMENT_WINDOW_MS {
        return Err(rejection(
            RejectCode::RuleViolated,
            format!(
                "statement signed at {} ms; it must be within {STATEMENT_WINDOW_MS} ms of the block time {} ms",
                s.statement.signed_at.0, ctx.time.0
            ),
        ));
    }
    if s.statement.chain_id != ctx.chain_id {
        return Err(rejection(
            RejectCode::WrongChain,
            format!(
                "statement is for chain {:?}; this network is {:?}",
                s.statement.chain_id.as_str(),
                ctx.chain_id.as_str()
            ),
        ));
    }
    let hash = s.hash(ctx.suite());
    if state.get(&keys::statement(&hash))?.is_some() {
        return Err(rejection(RejectCode::Conflict, format!("statement {hash} is already recorded")));
    }
    match &s.statement.statement {
        Statement::Confirm { document_hash } => {
            let record = ConfirmationRecord {
                document_hash: *document_hash,
                signed_at: s.statement.signed_at,
                height: ctx.height,
                relayed_by: ctx.member.id,
                statement: hash,
            };
            state.put(keys::confirmation(subject, document_hash), codec::encode(&record));
        }
        Statement::Grant { grantee, scope, expires_at } => {
            if crate::registry::member(state, grantee)?.is_none() {
                return Err(rejection(RejectCode::NotFound, format!("grantee {grantee} is not a member")));
            }
            if *expires_at <= ctx.time {
                return Err(rejection(
                    RejectCode::RuleViolated,
                    format!("grant expires at {} ms, not after the block time {} ms", expires_at.0, ctx.time.0),
                ));
            }
            let mut list = grants(state, subject)?;
            list.retain(|g| !(g.grantee == *grantee && g.scope == *scope));
            if list.len() >= SUBJECT_GRANTS_MAX {
                return Err(rejection(
                    RejectCode::Conflict,
                    format!("{subject} already has {SUBJECT_GRANTS_MAX} grants"),
                ));
            }
            list.push(GrantRecord {
                grantee: *grantee,
                scope: *scope,
                expires_at: *expires_at,
                height: ctx.height,
                statement: hash,
            });
            state.put(keys::grants(subject), codec::encode(&list));
        }
        Statement::RevokeGrant { grantee } => {
            let mut list = grants(state, subject)?;
            let before = list.len();
            list.retain(|g| g.grantee != *grantee);
            if list.len() == before {
                return Err(rejection(RejectCode::NotFound, format!("{subject} has no grant to {grantee}")));
            }
            state.put(keys::grants(subject), codec::encode(&list));
        }
    }
    state.put(keys::statement(&hash), codec::encode(&ctx.height));
    Ok(())
}
