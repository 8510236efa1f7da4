//! W3C Verifiable Credentials 2.0, the pieces Huxin needs, pure: the JSON Canonicalization
//! Scheme (RFC 8785) over the values credentials hold, `did:key` identifiers of Ed25519 and SM2
//! keys, Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (W3C vc-di-eddsa §3.3), and
//! Bitstring Status Lists (W3C vc-bitstring-status-list).
//!
//! A proof signs `SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(credential without proof))`
//! with the issuer's key; the configuration is the proof without `proofValue`, carrying the
//! credential's `@context`. [`sign`] makes one and [`verify`] checks one, with the reason when
//! it fails. Independent libraries check what [`sign`] makes (`tests/credentials.rs`).
//!
//! A chain of the `sm2-sm3` suite signs with SM2, and no W3C cryptosuite covers SM2: its
//! credentials carry [`CRYPTOSUITE_SM2`], Huxin's own, which is `eddsa-jcs-2022` with SM3 for
//! SHA-256 and SM2 (default user id, `r ‖ s`) for Ed25519, the issuer a `did:key` of multicodec
//! `sm2-pub`. Only Huxin checks those (`huxin credential verify`).

use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::crypto::{PublicKey, SecretKey, Signature};

pub const CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// Huxin's SM2 cryptosuite for chains of the `sm2-sm3` suite (see the module's documentation).
pub const CRYPTOSUITE_SM2: &str = "huxin-sm2-jcs-2026";

/// The cryptosuite a key signs with.
fn cryptosuite_of(key: &PublicKey) -> &'static str {
    match key {
        PublicKey::Ed25519(_) => CRYPTOSUITE,
        PublicKey::Sm2(_) => CRYPTOSUITE_SM2,
    }
}
/// Bits in a status list: the specification's minimum (16 KiB), which gives herd privacy.
pub const STATUS_LIST_BITS: usize = 131_072;
/// Largest credential or status list [`verify`] and [`status_bit`] read, in bytes.
pub const CREDENTIAL_BYTES_MAX: usize = 1 << 20;
/// The multicodec prefix of an Ed25519 public key (`ed25519-pub`, varint 0xed).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec `sm2-pub` (0x1206) as an unsigned varint.
const SM2_PUB: [u8; 2] = [0x86, 0x24];

/// Why a credential, a DID or a status list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VcError {
    #[error("{0} is not an integer: credentials here hold no fractional numbers")]
    NotAnInteger(String),
    #[error("{0} is not a did:key of an Ed25519 or SM2 key")]
    BadDid(String),
    #[error("the credential has no {0}")]
    Missing(&'static str),
    #[error("the proof's {field} is {found:?}; expected {expected:?}")]
    WrongProof { field: &'static str, found: String, expected: String },
    #[error("the proof's verification method {method} is not the issuer {issuer}'s key")]
    NotTheIssuer { method: String, issuer: String },
    #[error("proofValue is not a base58btc multibase Ed25519 signature")]
    BadProofValue,
    #[error("the signature does not verify: the credential was altered or not signed by {0}")]
    BadSignature(String),
    #[error("the status list is not a gzip'd bitstring in base64url multibase: {0}")]
    BadStatusList(String),
    #[error("status index {index} is past the list's {bits} bits")]
    IndexOutOfRange { index: usize, bits: usize },
}

/// The JSON Canonicalization Scheme (RFC 8785) of `value`: object members sorted by their names'
/// UTF-16 code units, no whitespace, strings escaped as ECMAScript's `JSON.stringify` does.
/// Numbers must be integers (the ECMAScript form of a fractional number is not reproduced here).
pub fn canonical(value: &Value) -> Result<String, VcError> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String) -> Result<(), VcError> {
    match value {
        Value::Null | Value::Bool(_) | Value::String(_) => out.push_str(&value.to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => out.push_str(&n.to_string()),
        Value::Number(n) => return Err(VcError::NotAnInteger(n.to_string())),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(name.clone()).to_string());
                out.push(':');
                write_canonical(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// The `did:key` of a public key: `did:key:z` and the base58btc of its multicodec and its bytes
/// (`0xed 0x01 ‖ key` for Ed25519; `sm2-pub`, `0x86 0x24 ‖ compressed point`, for SM2).
pub fn did_key(key: &PublicKey) -> String {
    let mut bytes = match key {
        PublicKey::Ed25519(_) => ED25519_PUB.to_vec(),
        PublicKey::Sm2(_) => SM2_PUB.to_vec(),
    };
    bytes.extend_from_slice(key.as_bytes());
    format!("did:key:z{}", bs58::encode(bytes).into_string())
}

/// The key's verification method: its `did:key`, `#`, and the same multibase value.
pub fn verification_method(key: &PublicKey) -> String {
    let did = did_key(key);
    let fragment = did.trim_start_matches("did:key:").to_owned();
    format!("{did}#{fragment}")
}

/// The key a `did:key` (or one of its verification methods) names.
pub fn key_of_did(did: &str) -> Result<PublicKey, VcError> {
    let bad = || VcError::BadDid(did.chars().take(120).collect());
    let id = did.split('#').next().unwrap_or_default();
    let encoded = id.strip_prefix("did:key:z").ok_or_else(bad)?;
    let bytes = bs58::decode(encoded).into_vec().map_err(|_| bad())?;
    match bytes.split_at_checked(2) {
        Some((prefix, key)) if (prefix == ED25519_PUB && key.len() == 32) || (prefix == SM2_PUB && key.len() == 33) => {
            PublicKey::from_slice(key).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// A time as an XML Schema `dateTimeStamp` in UTC, to the second (`2026-12-04T08:00:00Z`).
pub fn iso_time(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let (year, month, day) = crate::id::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// `H(JCS(proof configuration)) ‖ H(JCS(document))`: H is SHA-256 for an Ed25519 key, SM3 for
/// an SM2 key.
fn hash_data(document: &Value, proof_config: &Value, key: &PublicKey) -> Result<[u8; 64], VcError> {
    let hash = |text: String| match key {
        PublicKey::Ed25519(_) => sha256(&text),
        PublicKey::Sm2(_) => crate::crypto::sm3(text.as_bytes()).0,
    };
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&hash(canonical(proof_config)?));
    out[32..].copy_from_slice(&hash(canonical(document)?));
    Ok(out)
}

/// Sign `document` (a credential without a proof) as its issuer: the credential with an
/// `eddsa-jcs-2022` proof made at `created` (an XML Schema dateTime, `2026-12-04T08:00:00Z`).
pub fn sign(document: &Value, key: &SecretKey, created: &str) -> Result<Value, VcError> {
    let mut proof = json!({
        "type": "DataIntegrityProof",
        "cryptosuite": cryptosuite_of(&key.public_key()),
        "created": created,
        "verificationMethod": verification_method(&key.public_key()),
        "proofPurpose": "assertionMethod",
    });
    if let Some(context) = document.get("@context") {
        proof["@context"] = context.clone();
    }
    let data = hash_data(document, &proof, &key.public_key())?;
    let signature = match key {
        SecretKey::Ed25519(k) => k.sign_data_integrity(&data),
        SecretKey::Sm2(k) => k.sign_data_integrity(&data),
    };
    proof["proofValue"] = Value::String(format!("z{}", bs58::encode(signature.0).into_string()));
    let mut secured = document.clone();
    secured["proof"] = proof;
    Ok(secured)
}

/// The issuer's id: `issuer` as a string, or its `id`.
pub fn issuer_of(credential: &Value) -> Option<&str> {
    let issuer = credential.get("issuer")?;
    issuer.as_str().or_else(|| issuer.get("id").and_then(Value::as_str))
}

/// Check a secured credential's `eddsa-jcs-2022` proof: made by its issuer's `did:key`, for
/// assertion, over exactly these contents. The issuer's key, or why not.
pub fn verify(credential: &Value) -> Result<PublicKey, VcError> {
    let object = credential.as_object().ok_or(VcError::Missing("JSON object"))?;
    let proof = object.get("proof").and_then(Value::as_object).ok_or(VcError::Missing("proof"))?;
    let method =
        proof.get("verificationMethod").and_then(Value::as_str).ok_or(VcError::Missing("verificationMethod"))?;
    let key = key_of_did(method)?;
    for (field, expected) in
        [("type", "DataIntegrityProof"), ("cryptosuite", cryptosuite_of(&key)), ("proofPurpose", "assertionMethod")]
    {
        let found = proof.get(field).and_then(Value::as_str).unwrap_or_default();
        if found != expected {
            return Err(VcError::WrongProof { field, found: found.into(), expected: expected.into() });
        }
    }
    let issuer = issuer_of(credential).ok_or(VcError::Missing("issuer"))?;
    if method.split('#').next() != Some(issuer) {
        return Err(VcError::NotTheIssuer { method: method.into(), issuer: issuer.into() });
    }
    let value = proof.get("proofValue").and_then(Value::as_str).ok_or(VcError::Missing("proofValue"))?;
    let bytes = value.strip_prefix('z').and_then(|v| bs58::decode(v).into_vec().ok()).ok_or(VcError::BadProofValue)?;
    let signature = Signature(bytes.try_into().map_err(|_| VcError::BadProofValue)?);
    let mut config: Map<String, Value> = proof.clone();
    config.remove("proofValue");
    let mut document: Map<String, Value> = object.clone();
    document.remove("proof");
    if let Some(context) = config.get("@context") {
        // The document's contexts must begin with the proof's, in order (vc-di-eddsa §3.3.2).
        let prefix = context.as_array().cloned().unwrap_or_else(|| vec![context.clone()]);
        let ours = document.get("@context").and_then(Value::as_array).cloned().unwrap_or_default();
        if !ours.starts_with(&prefix) {
            return Err(VcError::WrongProof {
                field: "@context",
                found: context.to_string(),
                expected: Value::Array(ours).to_string(),
            });
        }
        document.insert("@context".into(), context.clone());
    }
    let data = hash_data(&Value::Object(document), &Value::Object(config), &key)?;
    let verified = match &key {
        PublicKey::Ed25519(k) => k.verify_data_integrity(&data, &signature),
        PublicKey::Sm2(k) => k.verify_data_integrity(&data, &signature),
    };
    verified.map_err(|_| VcError::BadSignature(issuer.into()))?;
    Ok(key)
}

/// A status list with the bits at `set` on: the GZIP of the bitstring (bit 0 is the most
/// significant bit of the first byte), base64url without padding, multibase `u`.
pub fn encode_status_list(set: &[usize]) -> String {
    use std::io::Write;
    let mut bits = vec![0u8; STATUS_LIST_BITS / 8];
    for &i in set.iter().filter(|i| **i < STATUS_LIST_BITS) {
        bits[i / 8] |= 0x80 >> (i % 8);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(&bits);
    let zipped = gz.finish().unwrap_or_default();
    format!("u{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zipped))
}

/// Bit `index` of an encoded status list.
pub fn status_bit(encoded: &str, index: usize) -> Result<bool, VcError> {
    use std::io::Read;
    let bad = |e: &dyn std::fmt::Display| VcError::BadStatusList(e.to_string());
    let text = encoded.strip_prefix('u').ok_or_else(|| bad(&"no multibase prefix u"))?;
    let zipped = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).map_err(|e| bad(&e))?;
    let mut bits = Vec::new();
    // Bounded: a list larger than CREDENTIAL_BYTES_MAX once unzipped is refused.
    flate2::read::GzDecoder::new(zipped.as_slice())
        .take(CREDENTIAL_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bits)
        .map_err(|e| bad(&e))?;
    if bits.len() > CREDENTIAL_BYTES_MAX {
        return Err(bad(&"larger than 1 MiB unzipped"));
    }
    let byte = bits.get(index / 8).ok_or(VcError::IndexOutOfRange { index, bits: bits.len() * 8 })?;
    Ok(byte & (0x80 >> (index % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8785's own examples (§3.2.2 and §3.2.3): member order by UTF-16 code units, and the
    /// escapes of `JSON.stringify`.
    #[test]
    fn canonical_json_follows_rfc_8785() {
        let value: Value = serde_json::from_str(
            r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
                "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#,
        )
        .expect("json");
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canonical(&value).expect("integers only"), expected);
        let strings = json!({"string": "\u{20ac}$\u{f}\nA'B\"\\\\\"/", "literals": [null, true, false], "numbers": [0, -1, 333333333]});
        assert_eq!(
            canonical(&strings).expect("integers only"),
            r#"{"literals":[null,true,false],"numbers":[0,-1,333333333],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        assert!(matches!(canonical(&json!({"x": 1.5})), Err(VcError::NotAnInteger(_))));
    }

    /// The did:key of the W3C did:key test key (its multibase value starts with z6Mk).
    #[test]
    fn did_key_round_trips_and_refuses_other_keys() {
        let key = SecretKey::from_bytes([7; 32]).public_key();
        let did = did_key(&key);
        assert!(did.starts_with("did:key:z6Mk"), "{did}");
        assert_eq!(key_of_did(&did), Ok(key));
        assert_eq!(key_of_did(&verification_method(&key)), Ok(key));
        assert!(key_of_did("did:web:example.com").is_err());
        assert!(key_of_did("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme").is_err(), "secp256k1");
    }

    fn credential() -> Value {
        json!({
            "@context": [CONTEXT_V2],
            "type": ["VerifiableCredential"],
            "issuer": did_key(&SecretKey::from_bytes([7; 32]).public_key()),
            "validFrom": "2026-12-04T00:00:00Z",
            "credentialSubject": {"id": "urn:uscc:91330100MA0000001F", "name": "浙江示范建设工程有限公司"},
        })
    }

    #[test]
    fn a_signed_credential_verifies_and_any_change_is_caught() {
        let key = SecretKey::from_bytes([7; 32]);
        let signed = sign(&credential(), &key, "2026-12-04T08:00:00Z").expect("signs");
        assert_eq!(verify(&signed), Ok(key.public_key()));
        assert_eq!(signed["proof"]["@context"], json!([CONTEXT_V2]));

        let mut renamed = signed.clone();
        renamed["credentialSubject"]["name"] = json!("另一家公司");
        assert!(matches!(verify(&renamed), Err(VcError::BadSignature(_))));
        let mut later = signed.clone();
        later["proof"]["created"] = json!("2027-01-01T00:00:00Z");
        assert!(matches!(verify(&later), Err(VcError::BadSignature(_))));
        let mut other_issuer = signed.clone();
        other_issuer["issuer"] = json!(did_key(&SecretKey::from_bytes([8; 32]).public_key()));
        assert!(matches!(verify(&other_issuer), Err(VcError::NotTheIssuer { .. })));
        let mut rdfc = signed.clone();
        rdfc["proof"]["cryptosuite"] = json!("eddsa-rdfc-2022");
        assert!(matches!(verify(&rdfc), Err(VcError::WrongProof { field: "cryptosuite", .. })));
        let mut unsigned = signed;
        unsigned.as_object_mut().expect("object").remove("proof");
        assert_eq!(verify(&unsigned), Err(VcError::Missing("proof")));
    }

    /// An SM2 chain's credential: Huxin's SM2 cryptosuite, an `sm2-pub` did:key issuer; it
    /// verifies, a change is caught, and neither suite's name passes for the other's.
    #[test]
    fn an_sm2_credential_verifies_under_its_own_cryptosuite() {
        let key = SecretKey::derive_in(crate::crypto::Suite::Sm2Sm3, [7; 32]);
        let did = did_key(&key.public_key());
        assert_eq!(key_of_did(&did), Ok(key.public_key()));
        let mut document = credential();
        document["issuer"] = json!(did);
        let signed = sign(&document, &key, "2026-12-04T08:00:00Z").expect("signs");
        assert_eq!(signed["proof"]["cryptosuite"], json!(CRYPTOSUITE_SM2));
        assert_eq!(verify(&signed), Ok(key.public_key()));
        let mut renamed = signed.clone();
        renamed["credentialSubject"]["name"] = json!("另一家公司");
        assert!(matches!(verify(&renamed), Err(VcError::BadSignature(_))));
        let mut claimed = signed;
        claimed["proof"]["cryptosuite"] = json!(CRYPTOSUITE);
        assert!(matches!(verify(&claimed), Err(VcError::WrongProof { field: "cryptosuite", .. })));
        let ed = sign(&credential(), &SecretKey::from_bytes([7; 32]), "2026-12-04T08:00:00Z").expect("signs");
        let mut claimed = ed;
        claimed["proof"]["cryptosuite"] = json!(CRYPTOSUITE_SM2);
        assert!(matches!(verify(&claimed), Err(VcError::WrongProof { field: "cryptosuite", .. })));
    }

    #[test]
    fn times_are_xml_schema_date_times() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_time(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso_time(1_796_370_597_415), "2026-12-04T07:49:57Z");
    }

    #[test]
    fn a_status_list_keeps_its_bits() {
        let encoded = encode_status_list(&[0, 9, STATUS_LIST_BITS - 1]);
        assert!(encoded.starts_with('u') && encoded.len() < 200, "{} bytes", encoded.len());
        for (i, on) in [(0, true), (1, false), (9, true), (STATUS_LIST_BITS - 1, true), (STATUS_LIST_BITS - 2, false)] {
            assert_eq!(status_bit(&encoded, i), Ok(on), "bit {i}");
        }
        assert!(matches!(status_bit(&encoded, STATUS_LIST_BITS), Err(VcError::IndexOutOfRange { .. })));
        assert!(matches!(status_bit("unot-gzip", 0), Err(VcError::BadStatusList(_))));
        assert!(matches!(status_bit("zabc", 0), Err(VcError::BadStatusList(_))));
    }
}
