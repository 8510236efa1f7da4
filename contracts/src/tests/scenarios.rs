//! Golden scenarios: JSON files under `contracts/scenarios/`, each a list of members and a
//! sequence of steps. A step is a transaction (signer, block time, action, expected receipt) or
//! a check of what the ledger then says (eligibility, score, guarantee state, risk warnings,
//! proposal status). Every file is run from a fresh genesis; every expectation must hold.
//!
//! Placeholders in actions and checks: `$member:<name>` (a member's id), `$tx:<step>` (the hash
//! of an earlier step's transaction, e.g. a proposal id), `$credit:<authority uscc>:<decision>`
//! (a credit record id).

use huxin_types::crypto::Suite;
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

use huxin_types::credit::credit_record_id;

use super::{genesis_state, Memory};
use crate::StateError;
use crate::{apply, blacklist, credit, governance, guarantee, registry, risk, KvState, TxContext};
use huxin_types::genesis::{Genesis, GenesisMember, GenesisValidator, Role};
use huxin_types::identity::SubjectId;
use huxin_types::tx::TenderRef;
use huxin_types::{codec, Action, ChainId, Height, MemberId, RegionCode, SecretKey, TimestampMs, TxHash, Uscc};

#[derive(Deserialize)]
struct Scenario {
    description: String,
    members: Vec<Member>,
    steps: Vec<Value>,
}

#[derive(Deserialize)]
struct Member {
    name: String,
    role: Role,
    region: RegionCode,
    uscc: Uscc,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TxStep {
    #[serde(default)]
    note: Option<String>,
    signer: String,
    time_ms: u64,
    action: Value,
    expect: Value,
}

#[derive(Deserialize)]
#[serde(tag = "check", rename_all = "snake_case", deny_unknown_fields)]
enum Check {
    Eligibility {
        subject: SubjectId,
        region: RegionCode,
        time_ms: u64,
        eligible: bool,
        reason_contains: Option<String>,
    },
    Score {
        subject: SubjectId,
        time_ms: u64,
        score: u32,
    },
    GuaranteeState {
        number: String,
        time_ms: u64,
        state: String,
    },
    RiskWarnings {
        tender: TenderRef,
        raised: u64,
    },
    ProposalStatus {
        proposal: String,
        status: String,
    },
}

/// A member's key, derived from its name so scenario files need no keys.
fn key_of(name: &str) -> SecretKey {
    SecretKey::from_bytes(codec::sha256(format!("scenario member {name}").as_bytes()).0)
}

struct Runner {
    state: Memory,
    tx_hashes: BTreeMap<usize, TxHash>,
}

impl Runner {
    fn new(scenario: &Scenario) -> Runner {
        let members: Vec<GenesisMember> = scenario
            .members
            .iter()
            .map(|m| GenesisMember {
                name: m.name.clone(),
                role: m.role,
                region: m.region,
                uscc: m.uscc.clone(),
                keys: vec![key_of(&m.name).public_key()],
            })
            .collect();
        let first_centre = members.iter().find(|m| m.role == Role::TradingCentre).expect("a trading centre");
        let genesis = Genesis {
            chain_id: ChainId::new("scenario").unwrap(),
            genesis_time: TimestampMs(0),
            validators: vec![GenesisValidator {
                member: first_centre.name.clone(),
                public_key: first_centre.keys[0],
                power: 1,
                node_key: None,
            }],
            members,
            suite: Default::default(),
        };
        Runner { state: genesis_state(&genesis), tx_hashes: BTreeMap::new() }
    }

    /// Replace `$member:`, `$tx:` and `$credit:` placeholders in every string of `value`.
    fn resolve(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Some(name) = s.strip_prefix("$member:") {
                    *s = MemberId::from_key(&key_of(name).public_key()).to_string();
                } else if let Some(step) = s.strip_prefix("$tx:") {
                    let step: usize = step.parse().expect("$tx:<step index>");
                    *s = self
                        .tx_hashes
                        .get(&step)
                        .unwrap_or_else(|| panic!("step {step} is not a transaction"))
                        .to_hex();
                } else if let Some(rest) = s.strip_prefix("$credit:") {
                    let (authority, decision) = rest.split_once(':').expect("$credit:<uscc>:<decision>");
                    *s = credit_record_id(Suite::Ed25519Sha256, &Uscc::parse(authority).unwrap(), decision).to_hex();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.resolve(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.resolve(v)),
            _ => {}
        }
    }

    fn transaction(&mut self, file: &str, index: usize, mut step: TxStep) {
        let at = format!("{file} step {index} ({})", step.note.as_deref().unwrap_or(&step.signer));
        self.resolve(&mut step.action);
        let action: Action =
            serde_json::from_value(step.action).unwrap_or_else(|e| panic!("{at}: action does not parse: {e}"));
        let key = key_of(&step.signer).public_key();
        let tx_hash = TxHash(Suite::Ed25519Sha256.hash_tagged(b"scenario", &codec::encode(&(file, index as u64))).0);
        self.tx_hashes.insert(index, tx_hash);
        let outcome = registry::signer_member(&self.state, &key).and_then(|member| {
            let ctx = TxContext {
                chain_id: ChainId::new("scenario").expect("a valid chain id"),
                height: Height(index as u64 + 1),
                time: TimestampMs(step.time_ms),
                tx_hash,
                signer: key,
                member,
            };
            let mut overlay = Overlay { base: &self.state, writes: BTreeMap::new() };
            apply(&ctx, &mut overlay, &action)?;
            let writes = overlay.writes;
            for (k, v) in writes {
                match v {
                    Some(v) => self.state.put(k, v),
                    None => self.state.delete(k),
                }
            }
            Ok(())
        });
        match (&step.expect, outcome) {
            (Value::String(s), Ok(())) if s == "applied" => {}
            (Value::Object(e), Err(crate::Error::Rejected(r))) => {
                assert_eq!(e["rejected"], r.code.as_str(), "{at}: rejected with {:?}: {}", r.code, r.reason);
                let needle = e["reason_contains"].as_str().unwrap_or("");
                assert!(r.reason.contains(needle), "{at}: reason {:?} should contain {needle:?}", r.reason);
            }
            (expected, Ok(())) => panic!("{at}: expected {expected}, but it was applied"),
            (expected, Err(r)) => panic!("{at}: expected {expected}, but it was rejected: {r}"),
        }
    }

    fn check(&self, file: &str, index: usize, mut value: Value) {
        self.resolve(&mut value);
        let at = format!("{file} step {index}");
        let check: Check = serde_json::from_value(value).unwrap_or_else(|e| panic!("{at}: check does not parse: {e}"));
        let state = &self.state;
        match check {
            Check::Eligibility { subject, region, time_ms, eligible, reason_contains } => {
                let e = blacklist::eligibility(state, &subject, region, TimestampMs(time_ms)).unwrap();
                assert_eq!(e.eligible, eligible, "{at}: {e:?}");
                if let Some(needle) = reason_contains {
                    assert!(e.reasons.iter().any(|r| r.contains(&needle)), "{at}: {:?} lacks {needle:?}", e.reasons);
                }
            }
            Check::Score { subject, time_ms, score } => {
                let s = credit::score(state, &subject, TimestampMs(time_ms)).unwrap();
                assert_eq!(s.score, score, "{at}: {s:?}");
            }
            Check::GuaranteeState { number, time_ms, state: expected } => {
                let g = guarantee::guarantee(state, &number)
                    .unwrap()
                    .unwrap_or_else(|| panic!("{at}: no guarantee {number}"));
                assert_eq!(g.state_at(TimestampMs(time_ms)).as_str(), expected, "{at}");
            }
            Check::RiskWarnings { tender, raised } => {
                assert_eq!(risk::warnings(state, &tender).unwrap().raised, raised, "{at}");
            }
            Check::ProposalStatus { proposal, status } => {
                let id = proposal.parse().unwrap();
                let p =
                    governance::proposal(state, &id).unwrap().unwrap_or_else(|| panic!("{at}: no proposal {proposal}"));
                let name = serde_json::to_value(&p.status).unwrap();
                let name = name.as_str().map(str::to_owned).or_else(|| name.as_object()?.keys().next().cloned());
                assert_eq!(name.as_deref(), Some(status.as_str()), "{at}: {:?}", p.status);
            }
        }
    }
}

/// A transaction's writes over the state, discarded if the transaction is rejected.
struct Overlay<'a> {
    base: &'a Memory,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl KvState for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.writes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }
}

#[test]
fn golden_scenarios() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 4, "scenario files in {}", dir.display());
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let scenario: Scenario = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
        println!("{file}: {}", scenario.description);
        let mut runner = Runner::new(&scenario);
        for (index, step) in scenario.steps.iter().cloned().enumerate() {
            if step.get("check").is_some() {
                runner.check(&file, index, step);
            } else {
                let step: TxStep =
                    serde_json::from_value(step).unwrap_or_else(|e| panic!("{file} step {index} does not parse: {e}"));
                runner.transaction(&file, index, step);
            }
        }
    }
}
