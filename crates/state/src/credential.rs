//! A subject's attestation as a W3C Verifiable Credential 2.0 (身份互认 beyond the ledger), and
//! the Bitstring Status Lists that publish its revocation and the withdrawal of its
//! recognitions. Everything here is read from ledger state: the same state gives the same
//! credential, byte for byte (its proof's `created` is the attestation's own update time, and
//! Ed25519 signatures are deterministic). The proof itself is `huxin_types::vc`'s.
//!
//! Each credential carries two status entries, each with its own list (bit 0):
//! - `revocation`, at `…/status/{subject}/revocation`: on once the attestation is revoked;
//! - `suspension`, at `…/status/{subject}/recognitions/{regions}` (the regions the credential
//!   names): on while any of those regions has withdrawn its recognition (off again if it
//!   recognises anew).

use serde_json::{json, Value};

use huxin_contracts::identity::{AttestationRecord, AttestationStatus};
use huxin_types::identity::SubjectId;
use huxin_types::vc::{self, iso_time, CONTEXT_V2};
use huxin_types::{ChainId, PublicKey, RegionCode};

/// The credential's type besides `VerifiableCredential`.
pub const CREDENTIAL_TYPE: &str = "HuxinAttestationCredential";

/// How a subject appears as a credential subject's `id`.
pub fn subject_urn(subject: &SubjectId) -> String {
    match subject {
        SubjectId::Organisation(u) => format!("urn:uscc:{u}"),
        SubjectId::LegacyOrganisation(code) => format!("urn:huxin:legacy:{code}"),
        SubjectId::Expert(hash) => format!("urn:huxin:expert:{hash}"),
    }
}

/// The path segment of a subject (as the API's paths take it).
pub fn subject_segment(subject: &SubjectId) -> String {
    match subject {
        SubjectId::Organisation(u) => u.to_string(),
        SubjectId::LegacyOrganisation(code) => format!("legacy:{code}"),
        SubjectId::Expert(hash) => format!("expert:{hash}"),
    }
}

/// The regions recognising the attestation, as the credential lists them (sorted).
pub fn recognised_regions(record: &AttestationRecord) -> Vec<RegionCode> {
    record.recognitions.iter().map(|r| r.region).collect()
}

/// The recognition status list's path part for `regions` (`none` for no region).
pub fn regions_segment(regions: &[RegionCode]) -> String {
    match regions.is_empty() {
        true => "none".into(),
        false => regions.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(","),
    }
}

/// The unsigned credential of `record`, issued by `issuer` (the attesting member's key), with
/// status lists under `base_url` (the issuing node's public API address).
pub fn unsigned(record: &AttestationRecord, issuer: &PublicKey, chain_id: &ChainId, base_url: &str) -> Value {
    let segment = subject_segment(&record.subject);
    let regions = recognised_regions(record);
    let status = |purpose: &str, path: String| {
        let list = format!("{base_url}/v1/credentials/status/{segment}/{path}");
        json!({
            "id": format!("{list}#0"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": "0",
            "statusListCredential": list,
        })
    };
    let qualifications: Vec<Value> = record
        .qualifications
        .iter()
        .map(|q| {
            json!({
                "kind": q.kind,
                "certificateNo": q.certificate_no,
                "issuer": q.issuer,
                "validFrom": iso_time(q.valid_from.0),
                "validUntil": iso_time(q.valid_until.0),
                "documentSha256": q.document_hash.to_string(),
            })
        })
        .collect();
    let mut credential = json!({
        "@context": [CONTEXT_V2],
        "id": format!("{base_url}/v1/subjects/{segment}/credential#v{}", record.version),
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": vc::did_key(issuer),
        "validFrom": iso_time(record.updated.0),
        "credentialSubject": {
            "id": subject_urn(&record.subject),
            "name": record.name,
            "kind": serde_json::to_value(record.kind).unwrap_or(Value::Null),
            "homeRegion": record.home_region.get(),
            "recognisedIn": regions.iter().map(|r| r.get()).collect::<Vec<_>>(),
            "qualifications": qualifications,
            "attestation": {
                "chainId": chain_id.as_str(),
                "attestedBy": record.attested_by.to_string(),
                "version": record.version,
                "firstAttested": iso_time(record.first_attested.0),
                "height": record.updated_height.0,
            },
        },
        "credentialStatus": [
            status("revocation", "revocation".into()),
            status("suspension", format!("recognitions/{}", regions_segment(&regions))),
        ],
    });
    if let Some(until) = record.valid_until {
        credential["validUntil"] = Value::String(iso_time(until.0));
    }
    credential
}

/// Whether the revocation bit is on: the attestation is revoked.
pub fn revoked(record: &AttestationRecord) -> bool {
    matches!(record.status, AttestationStatus::Revoked { .. })
}

/// Whether the recognition bit is on for a credential naming `regions`: one of them no longer
/// recognises the attestation.
pub fn recognition_withdrawn(record: &AttestationRecord, regions: &[RegionCode]) -> bool {
    let now = recognised_regions(record);
    regions.iter().any(|r| !now.contains(r))
}

/// The unsigned status list credential at `url` for `purpose`, its bit 0 `on`, as of `time_ms`.
pub fn status_list(url: &str, purpose: &str, on: bool, issuer: &PublicKey, time_ms: u64) -> Value {
    json!({
        "@context": [CONTEXT_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": vc::did_key(issuer),
        "validFrom": iso_time(time_ms),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": vc::encode_status_list(if on { &[0] } else { &[] }),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use huxin_contracts::identity::Recognition;
    use huxin_types::identity::SubjectKind;
    use huxin_types::{Height, MemberId, SecretKey, TimestampMs, Uscc};

    fn record() -> AttestationRecord {
        let region = |c| RegionCode::new(c).expect("a region");
        AttestationRecord {
            subject: SubjectId::Organisation(Uscc::with_check("91330100MA0000001").expect("a code")),
            legacy_code: false,
            kind: SubjectKind::Supplier,
            name: "浙江示范建设工程有限公司".into(),
            qualifications: vec![],
            bound_key: None,
            valid_until: None,
            home_region: region(330100),
            attested_by: MemberId([1; 20]),
            version: 2,
            first_attested: TimestampMs(1_796_000_000_000),
            updated: TimestampMs(1_796_370_597_415),
            updated_height: Height(41),
            status: AttestationStatus::Active,
            recognitions: [330200, 330300]
                .into_iter()
                .map(|c| Recognition {
                    region: region(c),
                    by: MemberId([2; 20]),
                    time: TimestampMs(0),
                    height: Height(1),
                })
                .collect(),
        }
    }

    /// The same record gives the same signed credential; it verifies; its status entries point
    /// at the lists for its subject and for the regions it names.
    #[test]
    fn a_credential_is_deterministic_and_verifies() {
        let key = SecretKey::from_bytes([3; 32]);
        let chain = ChainId::new("huxin-devnet").expect("a chain id");
        let doc = unsigned(&record(), &key.public_key(), &chain, "http://127.0.0.1:26600");
        let created = iso_time(record().updated.0);
        let once = vc::sign(&doc, &key, &created).expect("signs");
        assert_eq!(once, vc::sign(&doc, &key, &created).expect("signs"));
        assert_eq!(vc::verify(&once), Ok(key.public_key()));
        assert_eq!(once["credentialSubject"]["id"], "urn:uscc:91330100MA0000001F");
        assert_eq!(once["credentialSubject"]["recognisedIn"], json!([330200, 330300]));
        assert_eq!(
            once["credentialStatus"][1]["statusListCredential"],
            "http://127.0.0.1:26600/v1/credentials/status/91330100MA0000001F/recognitions/330200,330300"
        );
    }

    #[test]
    fn the_status_bits_follow_the_ledger() {
        let mut r = record();
        let named = recognised_regions(&r);
        assert!(!revoked(&r) && !recognition_withdrawn(&r, &named));
        r.recognitions.retain(|x| x.region.get() != 330300);
        assert!(recognition_withdrawn(&r, &named), "330300 withdrew");
        assert!(!recognition_withdrawn(&r, &recognised_regions(&r)), "a credential issued after it is fine");
        r.status = AttestationStatus::Revoked {
            by: MemberId([1; 20]),
            reason: "注销".into(),
            time: TimestampMs(0),
            height: Height(9),
        };
        assert!(revoked(&r));
        let list = status_list("http://x/l", "revocation", true, &SecretKey::from_bytes([3; 32]).public_key(), 0);
        let encoded = list["credentialSubject"]["encodedList"].as_str().expect("a string");
        assert_eq!(vc::status_bit(encoded, 0), Ok(true));
    }
}
