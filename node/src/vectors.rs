//! `huxin vectors --out sdk/vectors`: the golden vectors every SDK checks itself against, made
//! by the Rust core. One transaction of every kind (the chaos story's first cycle, with fixed
//! keys and time, and an audit-log anchor): its JSON as the API takes it, its canonical body
//! bytes, the bytes an ed25519 key signs, the signature, the transaction hash and the signed
//! transaction's bytes; signed supervisor queries: the message and its headers; and the API's
//! OpenAPI document, which the SDKs' types are generated from. The
//! encoding is specified in `sdk/vectors/ENCODING.md`. A test requires the committed files to
//! equal what this module makes, so a format change cannot go unnoticed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use eyre::WrapErr;
use serde::Serialize;

use huxin_types::audit::{
    check_log, log_of_signed_reads, query_message, sign_query, AnchorAuditLog, AuditEntry, QueryAudience,
};
use huxin_types::crypto::{signing_input, Domain};
use huxin_types::governance::{Params, ProposalAction, Propose};
use huxin_types::identity::{GrantScope, Statement, SubjectId, SubjectStatement};
use huxin_types::tx::Expiry;
use huxin_types::{Action, ChainId, Hash32, Height, MemberId, RegionCode, SecretKey, TimestampMs};

use crate::chaos::story::{self, Act, Actor, Cast, Who};

#[derive(clap::Args)]
pub struct VectorsArgs {
    /// Directory to write transactions.json, queries.json and openapi.json into.
    #[arg(long, default_value = "sdk/vectors")]
    out: PathBuf,
}

/// The vectors' chain and time (2026-01-01T00:00:00Z).
const CHAIN: &str = "huxin-vectors";
const TIME: TimestampMs = TimestampMs(1_767_225_600_000);

/// One transaction vector.
#[derive(Serialize)]
pub struct TxVector {
    pub name: String,
    /// The signer's ed25519 secret key (seed), hex.
    pub secret_key: String,
    /// The body as JSON (as the API shows it in blocks and transaction statuses).
    pub body: serde_json::Value,
    /// The canonical encoding of the body.
    pub body_hex: String,
    /// What the key signs: the domain tag `huxin/v1/tx`, a zero byte, the body's bytes.
    pub sign_input_hex: String,
    pub signature: String,
    /// SHA-256 of `huxin/v1/txhash` followed by the body's bytes.
    pub tx_hash: String,
    /// The canonical encoding of the signed transaction (body, then signature).
    pub signed_tx_hex: String,
}

impl TxVector {
    fn of(name: String, secret_key: String, signed: &huxin_types::SignedTx) -> eyre::Result<Self> {
        let body = &signed.body;
        Ok(TxVector {
            name,
            secret_key,
            body: serde_json::to_value(body)?,
            body_hex: hex::encode(body.encode()),
            sign_input_hex: hex::encode(signing_input(Domain::Tx, &body.encode())),
            signature: signed.signature.to_hex(),
            tx_hash: signed.hash().to_hex(),
            signed_tx_hex: hex::encode(signed.encode()),
        })
    }
}

/// One signed-query vector.
#[derive(Serialize)]
pub struct QueryVector {
    pub name: String,
    pub secret_key: String,
    pub chain_id: String,
    /// The node the query is meant for (its node key).
    pub node_key: String,
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub time: u64,
    /// What the key signs, as text (before the domain tag `huxin/v1/query` and a zero byte).
    pub message: String,
    pub sign_input_hex: String,
    /// The three request headers.
    pub headers: BTreeMap<String, String>,
}

fn key(n: u8) -> SecretKey {
    SecretKey::from_bytes([n; 32])
}

/// The cast with fixed keys: four centres (Hangzhou, Ningbo, Wenzhou, Jiaxing), a bank, a
/// supervisor, with the devnet's USCCs.
fn cast() -> eyre::Result<Cast> {
    let actor = |n: u8, prefix: &str, region: u32, serial: u32| -> eyre::Result<Actor> {
        Ok(Actor { key: key(n), uscc: crate::devnet::uscc(prefix, region, serial)?, region: RegionCode::new(region)? })
    };
    Ok(Cast {
        chain_id: ChainId::new(CHAIN)?,
        suite: huxin_types::crypto::Suite::Ed25519Sha256,
        centres: vec![
            actor(1, "12", 330100, 1)?,
            actor(2, "12", 330200, 2)?,
            actor(3, "12", 330300, 3)?,
            actor(4, "12", 330400, 4)?,
        ],
        bank: actor(5, "91", 330100, 900_001)?,
        supervisor: actor(6, "11", 330000, 900_002)?,
    })
}

/// Every transaction vector, in order: the story's first cycle (each signer's nonces counting
/// from 1; the votes on its proposal), then an audit-log anchor whose expiry is a time.
pub fn transactions() -> eyre::Result<Vec<TxVector>> {
    let cast = cast()?;
    let mut signer = story::Signer::default();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    let steps = story::cycle(&cast, 0, TIME, &Params::default())?.into_iter().flatten();
    let audit = story::Step {
        who: Who::Centre(0),
        act: Act::Do(Action::AnchorAuditLog(AnchorAuditLog { seq: 3, head: Hash32::of_document(b"audit log") })),
    };
    // Two actions that name a member (a 20-byte id): a proposal to suspend the bank, and the
    // supplier's grant of its credit history to the supervisor.
    let suspend = story::Step {
        who: Who::Centre(0),
        act: Act::Do(Action::Propose(Propose {
            action: ProposalAction::SuspendMember { member: MemberId::from_key(&cast.bank.key.public_key()) },
            reason: "保函逾期未赔付".into(),
        })),
    };
    let (subject, subject_key) = story::supplier(0)?;
    let grant = story::Step {
        who: Who::Centre(0),
        act: Act::Do(Action::SubjectStatement(
            SubjectStatement {
                chain_id: cast.chain_id.clone(),
                subject: SubjectId::Organisation(subject),
                statement: Statement::Grant {
                    grantee: MemberId::from_key(&cast.supervisor.key.public_key()),
                    scope: GrantScope::CreditHistory,
                    expires_at: TimestampMs(TIME.0 + 30 * 86_400_000),
                },
                signed_at: TIME,
            }
            .sign(&subject_key),
        )),
    };
    for (i, step) in steps.chain([audit, suspend, grant]).enumerate() {
        let secret_key = hex::encode(cast.actor(step.who).key.to_bytes());
        let signed = signer.sign(&cast, step, |action| match action {
            Action::AnchorAuditLog(_) => Expiry::Time(TimestampMs(TIME.0 + 3_600_000)),
            _ => Expiry::Height(Height(1_000 + i as u64)),
        });
        let kind = signed.body.action.kind();
        let seen = counts.entry(kind).or_insert(0);
        *seen += 1;
        let name = if *seen == 1 { kind.to_owned() } else { format!("{kind}_{seen}") };
        out.push(TxVector::of(name, secret_key, &signed)?);
    }
    Ok(out)
}

/// Signed supervisor queries: a path alone, and a path with a query string.
pub fn queries() -> eyre::Result<Vec<QueryVector>> {
    let cast = cast()?;
    let audience = QueryAudience { chain_id: cast.chain_id.clone(), node_key: key(9).public_key() };
    let subject = story::supplier(0)?.0;
    let requests = [
        ("full_credit_history", format!("/v1/supervisor/subjects/{subject}/credit"), String::new()),
        ("credit_list", "/v1/supervisor/credit".to_owned(), "status=repaired&limit=10".to_owned()),
    ];
    let mut out = Vec::new();
    for (name, path, query) in requests {
        let supervisor = &cast.supervisor.key;
        let message = query_message(&audience, "GET", &path, &query, TIME);
        out.push(QueryVector {
            name: name.into(),
            secret_key: hex::encode(supervisor.to_bytes()),
            chain_id: audience.chain_id.to_string(),
            node_key: audience.node_key.to_string(),
            method: "GET".into(),
            time: TIME.0,
            sign_input_hex: hex::encode(signing_input(Domain::Query, &message)),
            message: String::from_utf8(message)?,
            headers: sign_query(supervisor, &audience, "GET", &path, &query, TIME).into_iter().collect(),
            path,
            query,
        });
    }
    Ok(out)
}

/// Vectors of a chain of the national suite (`sm2-sm3`): transactions and a query signed with
/// an SM2 key (its `sm2:` key-file form and its compressed public key). Huxin's SM2 signatures are
/// deterministic, an SDK's need not be: an SDK checks that it makes the same bytes to sign and the
/// same public key, that Huxin's signature verifies, and that its own does.
#[derive(Serialize)]
pub struct Sm2Vectors {
    pub secret_key: String,
    pub public_key: String,
    pub transactions: Vec<TxVector>,
    pub queries: Vec<QueryVector>,
}

pub fn sm2() -> eyre::Result<Sm2Vectors> {
    let key = SecretKey::derive_in(huxin_types::crypto::Suite::Sm2Sm3, [0x5a; 32]);
    let resign = |v: TxVector| -> eyre::Result<TxVector> {
        let mut body: huxin_types::TxBody = serde_json::from_value(v.body)?;
        body.signer = key.public_key();
        TxVector::of(v.name, key.to_hex(), &body.sign(&key))
    };
    let transactions = transactions()?.into_iter().take(3).map(resign).collect::<eyre::Result<Vec<_>>>()?;
    let queries = queries()?
        .into_iter()
        .take(1)
        .map(|q| {
            let audience = QueryAudience { chain_id: ChainId::new(&q.chain_id)?, node_key: q.node_key.parse()? };
            let headers =
                sign_query(&key, &audience, &q.method, &q.path, &q.query, TimestampMs(q.time)).into_iter().collect();
            Ok(QueryVector { secret_key: key.to_hex(), headers, ..q })
        })
        .collect::<eyre::Result<Vec<_>>>()?;
    Ok(Sm2Vectors { secret_key: key.to_hex(), public_key: key.public_key().to_string(), transactions, queries })
}

/// A node's audit log (查询留痕) of two entries, kept in one suite: the audience it was kept for
/// and the entries as `GET /v1/supervisor/audit` serves them. An SDK recomputes each entry's hash
/// (SHA-256 or SM3, by the supervisor key's suite) and verifies each supervisor signature.
#[derive(Serialize)]
pub struct AuditVector {
    pub chain_id: String,
    /// The node that kept the log (its node key, as `/v1/status` names it).
    pub node_key: String,
    pub entries: Vec<AuditEntry>,
}

/// The log in each suite: `ed25519` (the vectors' supervisor) and `sm2` (the SM2 vectors' key).
pub fn audit() -> eyre::Result<BTreeMap<&'static str, AuditVector>> {
    let cast = cast()?;
    let audience = QueryAudience { chain_id: cast.chain_id.clone(), node_key: key(9).public_key() };
    let sm2 = SecretKey::derive_in(huxin_types::crypto::Suite::Sm2Sm3, [0x5a; 32]);
    let targets: Vec<String> = queries()?
        .into_iter()
        .map(|q| if q.query.is_empty() { q.path } else { format!("{}?{}", q.path, q.query) })
        .collect();
    let reads: Vec<_> = (1u64..)
        .zip(&targets)
        .map(|(seq, target)| {
            (target.as_str(), TimestampMs(TIME.0 + seq * 1_000 - 10), TimestampMs(TIME.0 + seq * 1_000))
        })
        .collect();
    let mut out = BTreeMap::new();
    for (name, supervisor) in [("ed25519", &cast.supervisor.key), ("sm2", &sm2)] {
        let entries = log_of_signed_reads(&audience, supervisor, &reads);
        check_log(&entries, &[], &audience)?;
        let vector =
            AuditVector { chain_id: audience.chain_id.to_string(), node_key: audience.node_key.to_string(), entries };
        out.insert(name, vector);
    }
    Ok(out)
}

/// The files, as written: the two sets of vectors and the API's OpenAPI document (the SDKs'
/// types are generated from it).
pub fn files() -> eyre::Result<[(&'static str, String); 5]> {
    let pretty = |v: serde_json::Value| -> eyre::Result<String> { Ok(serde_json::to_string_pretty(&v)? + "\n") };
    Ok([
        ("transactions.json", pretty(serde_json::to_value(transactions()?)?)?),
        ("queries.json", pretty(serde_json::to_value(queries()?)?)?),
        ("sm2.json", pretty(serde_json::to_value(sm2()?)?)?),
        ("audit.json", pretty(serde_json::to_value(audit()?)?)?),
        ("openapi.json", pretty(serde_json::to_value(huxin_api::openapi::document())?)?),
    ])
}

pub fn run(args: VectorsArgs) -> eyre::Result<()> {
    std::fs::create_dir_all(&args.out).wrap_err_with(|| format!("creating {}", args.out.display()))?;
    for (name, text) in files()? {
        let path = args.out.join(name);
        std::fs::write(&path, text).wrap_err_with(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed vectors are what the core makes now. If this fails, the canonical encoding,
    /// a hash or a signature changed: every SDK and every existing chain depends on them. Only
    /// for a deliberate format change: `cargo run --bin huxin -- vectors` and commit the files.
    #[test]
    fn the_committed_vectors_are_what_the_core_makes() {
        let committed = [
            ("transactions.json", include_str!("../../sdk/vectors/transactions.json")),
            ("queries.json", include_str!("../../sdk/vectors/queries.json")),
            ("sm2.json", include_str!("../../sdk/vectors/sm2.json")),
            ("audit.json", include_str!("../../sdk/vectors/audit.json")),
            ("openapi.json", include_str!("../../sdk/vectors/openapi.json")),
        ];
        for ((name, made), (_, file)) in files().unwrap().iter().zip(committed) {
            assert!(made == file, "sdk/vectors/{name} differs from what the core makes now");
        }
    }

    /// Every kind has a vector, each verifies, and decoding its bytes gives its JSON back.
    #[test]
    fn every_kind_has_a_vector_that_verifies_and_decodes_to_its_json() {
        let vectors = transactions().unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for v in &vectors {
            let tx = huxin_types::SignedTx::decode(&hex::decode(&v.signed_tx_hex).unwrap()).unwrap();
            tx.verify_signature().unwrap();
            assert_eq!(serde_json::to_value(&tx.body).unwrap(), v.body, "{}", v.name);
            assert_eq!(tx.hash().to_hex(), v.tx_hash);
            tx.body.action.check_fields().unwrap_or_else(|e| panic!("{}: {e}", v.name));
            seen.insert(tx.body.action.kind());
        }
        assert_eq!(seen, Action::KINDS.into_iter().collect());
    }

    /// The SM2 vectors verify, with an SM2 key, and decode to their JSON.
    #[test]
    fn the_sm2_vectors_verify_with_their_sm2_key() {
        let vectors = sm2().unwrap();
        assert!(vectors.secret_key.starts_with("sm2:") && vectors.public_key.len() == 66);
        for v in &vectors.transactions {
            let tx = huxin_types::SignedTx::decode(&hex::decode(&v.signed_tx_hex).unwrap()).unwrap();
            tx.verify_signature().unwrap();
            assert_eq!(tx.body.signer.to_string(), vectors.public_key);
            assert_eq!(serde_json::to_value(&tx.body).unwrap(), v.body, "{}", v.name);
        }
        assert_eq!(vectors.queries[0].headers["x-huxin-key"], vectors.public_key);
    }
}
