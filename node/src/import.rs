//! `huxin import`: load historical credit records, blacklist entries or attestations from a CSV
//! or JSON file.
//!
//! 1. Every row is parsed and checked first; each bad row is reported with its line (CSV) or item
//!    number (JSON) and the reason, and then nothing is submitted.
//! 2. Rows go in batches (signed locally, `POST /v1/txs/batch`), each batch waited for until
//!    finalised, with a progress bar.
//! 3. Progress is kept in a state file beside the input (`<file>.import-state`): rows done, and
//!    the batch in flight, signed, with its expiry. An interrupted import resumes where it
//!    stopped: it first submits the batch that was in flight again, unchanged (same bytes, so
//!    nothing applies twice), and waits for it to land or expire. (Interrupted between saving
//!    the batch and submitting it, an import would otherwise wait out the batch's whole expiry,
//!    [`EXPIRY_HEIGHTS`] blocks, for transactions no node ever saw.)
//! 4. No row is imported twice: the ledger refuses a second credit record with the same authority
//!    and decision number, and a second blacklist entry with the same decision, as `conflict`
//!    (counted as "already on the ledger"); an attestation whose subject is already attested is
//!    skipped before submission.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use eyre::{eyre, WrapErr};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use huxin_client::Client;
use huxin_types::credit::RecordCredit;
use huxin_types::identity::{AttestSubject, ListOnBlacklist, SubjectId};
use huxin_types::{codec, Action, Outcome, RejectCode, SecretKey, SignedTx, TxHash};

/// Largest input file read.
pub const IMPORT_FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;
/// Most rows in one input file.
pub const IMPORT_ROWS_MAX: usize = 1_000_000;
/// Most transactions per batch (the node's batch limit).
pub const IMPORT_BATCH_MAX: usize = 1000;
/// Heights an import transaction stays valid.
const EXPIRY_HEIGHTS: u64 = 100;
/// How long a batch the node sheds (a full mempool) is resubmitted before the import stops:
/// well inside the transactions' expiry.
const SHED_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);
/// How many times a batch's dropped transactions are submitted again (unchanged) before the
/// import stops: a full mempool may evict a transaction that waited behind one it shed.
const RESUBMIT_ROUNDS_MAX: usize = 3;

/// What became of a submitted transaction.
#[derive(Clone, Debug)]
enum Resolution {
    /// Finalised, with its outcome.
    Finalised(Option<Outcome>),
    /// The node dropped it (with the reason it gives).
    Dropped(String),
    /// The chain passed its expiry with no trace of it.
    Expired,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Kind {
    Credit,
    Blacklist,
    Attestation,
}

#[derive(Args)]
pub struct ImportArgs {
    #[arg(long, default_value = "http://127.0.0.1:26600")]
    api: String,
    /// The signing member's key file (a supervisor's for penalties and blacklists, a trading
    /// centre's for attestations and its own records).
    #[arg(long)]
    key: PathBuf,
    /// What the file holds.
    #[arg(long, value_enum)]
    kind: Kind,
    /// A `.csv` (header row of field names) or `.json` (an array of objects) file.
    #[arg(long)]
    file: PathBuf,
    /// Rows per batch.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Only check the rows; submit nothing.
    #[arg(long)]
    check_only: bool,
}

/// Progress kept beside the input so an interrupted import resumes.
#[derive(Serialize, Deserialize, Default, Debug)]
struct ImportState {
    /// SHA-256 of the input file: a changed file does not resume an old import.
    file_sha256: String,
    /// Rows finished (imported, already on the ledger, or rejected).
    done: usize,
    /// The batch submitted but not yet seen finalised.
    in_flight: Option<InFlight>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct InFlight {
    hashes: Vec<TxHash>,
    expiry_height: u64,
    /// The batch's transactions, canonically encoded, in hex, in the order of `hashes`. Empty in a
    /// state file written before they were kept: such a batch is only waited for.
    #[serde(default)]
    txs: Vec<String>,
}

impl InFlight {
    fn new(txs: &[SignedTx], expiry_height: u64) -> Self {
        InFlight {
            hashes: txs.iter().map(|t| t.hash()).collect(),
            expiry_height,
            txs: txs.iter().map(|t| hex::encode(t.encode())).collect(),
        }
    }

    /// The batch's transactions as signed, each checked against its hash; none if the state file
    /// kept only the hashes.
    fn signed(&self, state_file: &Path) -> eyre::Result<Vec<SignedTx>> {
        if self.txs.is_empty() {
            return Ok(Vec::new());
        }
        if self.txs.len() != self.hashes.len() {
            return Err(eyre!(
                "{} lists {} transactions in flight and {} hashes; delete it to start over",
                state_file.display(),
                self.txs.len(),
                self.hashes.len()
            ));
        }
        let mut txs = Vec::with_capacity(self.txs.len());
        for (n, (text, hash)) in self.txs.iter().zip(&self.hashes).enumerate() {
            let tx = hex::decode(text)
                .map_err(|e| e.to_string())
                .and_then(|bytes| SignedTx::decode(&bytes).map_err(|e| e.to_string()))
                .map_err(|e| eyre!("{}: transaction {n} in flight does not decode: {e}", state_file.display()))?;
            if tx.hash() != *hash {
                return Err(eyre!(
                    "{}: transaction {n} in flight is not the one its hash {hash} names; delete the file to start over",
                    state_file.display()
                ));
            }
            txs.push(tx);
        }
        Ok(txs)
    }
}

fn state_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".import-state");
    PathBuf::from(name)
}

fn save_state(path: &Path, state: &ImportState) -> eyre::Result<()> {
    let tmp = path.with_extension("import-state.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(state)?)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path).wrap_err("saving the import state")
}

/// A time cell: Unix ms, or a date `YYYY-MM-DD` (midnight, China Standard Time).
fn time_cell(cell: &str) -> Result<Value, String> {
    if cell.is_empty() {
        return Ok(Value::Null);
    }
    if let Ok(ms) = cell.parse::<u64>() {
        return Ok(json!(ms));
    }
    let parts: Vec<&str> = cell.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return Err(format!("{cell:?} is neither ms nor YYYY-MM-DD")) };
    let (y, m, d): (i64, i64, i64) = match (y.parse(), m.parse(), d.parse()) {
        (Ok(y), Ok(m), Ok(d)) if (1..=12).contains(&m) && (1..=31).contains(&d) && (1970..=9999).contains(&y) => {
            (y, m, d)
        }
        _ => return Err(format!("{cell:?} is not a date YYYY-MM-DD")),
    };
    // Days from civil (H. Hinnant), then midnight in UTC+8.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(json!(days * 86_400_000 - 8 * 3_600_000))
}

/// One CSV cell as the JSON the action's field expects.
fn csv_cell(kind: Kind, column: &str, cell: &str) -> Result<Value, String> {
    let cell = cell.trim();
    Ok(match (kind, column) {
        (_, "subject") => {
            let s: SubjectId = cell.parse().map_err(|e| format!("subject {cell:?}: {e}"))?;
            serde_json::to_value(s).map_err(|e| e.to_string())?
        }
        (Kind::Credit, "amount_fen") => {
            json!(cell.parse::<u64>().map_err(|_| format!("amount_fen {cell:?} is not fen"))?)
        }
        (Kind::Credit, "score") if cell.is_empty() => Value::Null,
        (Kind::Credit, "score") => json!(cell.parse::<u32>().map_err(|_| format!("score {cell:?} is not a number"))?),
        (Kind::Credit, "decision_date" | "publication_start" | "publication_end")
        | (Kind::Blacklist, "start" | "end")
        | (Kind::Attestation, "valid_until") => time_cell(cell)?,
        (Kind::Credit, "tender") => {
            if cell.is_empty() {
                Value::Null
            } else {
                let parts: Vec<&str> = cell.splitn(3, '/').collect();
                let [region, project, section] = parts.as_slice() else {
                    return Err(format!("tender {cell:?} is region/project/section"));
                };
                let region: u32 = region.parse().map_err(|_| format!("tender region {region:?}"))?;
                json!({"region": region, "project_code": project, "section_code": section})
            }
        }
        (Kind::Blacklist, "scope") => match cell {
            "national" => json!("national"),
            regions => {
                let codes: Result<Vec<u32>, _> = regions.split(';').map(|r| r.trim().parse::<u32>()).collect();
                json!({"regions": codes.map_err(|_| format!("scope {cell:?} is national or codes separated by ;"))?})
            }
        },
        (Kind::Attestation, "qualifications") if cell.is_empty() => json!([]),
        (Kind::Attestation, "bound_key") if cell.is_empty() => Value::Null,
        _ => json!(cell),
    })
}

/// The rows of the file as (line or item number, JSON object).
fn read_rows(kind: Kind, path: &Path) -> eyre::Result<Vec<(usize, Result<Value, String>)>> {
    let len = std::fs::metadata(path).wrap_err_with(|| format!("reading {}", path.display()))?.len();
    if len > IMPORT_FILE_BYTES_MAX {
        return Err(eyre!("{} is {len} bytes; at most {IMPORT_FILE_BYTES_MAX}", path.display()));
    }
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut rows = Vec::new();
    if is_json {
        let text = std::fs::read_to_string(path)?;
        let items: Vec<Value> =
            serde_json::from_str(&text).map_err(|e| eyre!("{} is not a JSON array: {e}", path.display()))?;
        for (i, item) in items.into_iter().enumerate() {
            rows.push((i + 1, Ok(item)));
        }
    } else {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_path(path)?;
        let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_owned()).collect();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    rows.push((line, Err(format!("not a CSV row: {e}"))));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line() as usize);
            let mut object = Map::new();
            let mut error = None;
            for (column, cell) in headers.iter().zip(record.iter()) {
                match csv_cell(kind, column, cell) {
                    Ok(v) => {
                        object.insert(column.clone(), v);
                    }
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
            rows.push((line, error.map_or(Ok(Value::Object(object)), Err)));
        }
    }
    if rows.len() > IMPORT_ROWS_MAX {
        return Err(eyre!("{} rows; at most {IMPORT_ROWS_MAX} per file", rows.len()));
    }
    Ok(rows)
}

/// Parse and check one row into its action.
fn row_action(kind: Kind, row: Value) -> Result<Action, String> {
    let action = match kind {
        Kind::Credit => Action::RecordCredit(serde_json::from_value::<RecordCredit>(row).map_err(|e| e.to_string())?),
        Kind::Blacklist => {
            Action::ListOnBlacklist(serde_json::from_value::<ListOnBlacklist>(row).map_err(|e| e.to_string())?)
        }
        Kind::Attestation => {
            Action::AttestSubject(serde_json::from_value::<AttestSubject>(row).map_err(|e| e.to_string())?)
        }
    };
    action.check_fields()?;
    Ok(action)
}

fn subject_of(action: &Action) -> Option<&SubjectId> {
    match action {
        Action::AttestSubject(a) => Some(&a.subject),
        _ => None,
    }
}

/// Wait until every hash is finalised or dropped, or the chain passed their expiry.
async fn wait_resolved(client: &Client, hashes: &[TxHash], expiry_height: u64) -> eyre::Result<Vec<Resolution>> {
    let mut outcomes = vec![Resolution::Expired; hashes.len()];
    let mut open: Vec<usize> = (0..hashes.len()).collect();
    while !open.is_empty() {
        let height = client.status().await?.latest_height;
        let mut still = Vec::new();
        for i in open {
            match client.tx(&hashes[i]).await {
                Ok(s) if s.status == "finalised" => outcomes[i] = Resolution::Finalised(s.outcome),
                Ok(s) if s.status == "dropped" => {
                    outcomes[i] = Resolution::Dropped(s.reason.map(|r| r.to_string()).unwrap_or_default())
                }
                Ok(_) => still.push(i),
                Err(huxin_client::ClientError::Api { status: 404, .. }) if height > expiry_height => {}
                Err(huxin_client::ClientError::Api { status: 404, .. }) => still.push(i),
                Err(e) => return Err(e.into()),
            }
        }
        open = still;
        if !open.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(outcomes)
}

pub async fn run(args: ImportArgs) -> eyre::Result<()> {
    if args.batch == 0 || args.batch > IMPORT_BATCH_MAX {
        return Err(eyre!("--batch is 1 to {IMPORT_BATCH_MAX}"));
    }
    let bytes = std::fs::read(&args.file).wrap_err_with(|| format!("reading {}", args.file.display()))?;
    let file_sha256 = codec::sha256(&bytes).to_string();
    drop(bytes);

    // 1. Check every row.
    let mut actions = Vec::new();
    let mut bad = Vec::new();
    for (line, row) in read_rows(args.kind, &args.file)? {
        match row.and_then(|r| row_action(args.kind, r)) {
            Ok(a) => actions.push((line, a)),
            Err(reason) => bad.push((line, reason)),
        }
    }
    let what = if args.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) { "item" } else { "line" };
    for (line, reason) in &bad {
        eprintln!("{}: {what} {line}: {reason}", args.file.display());
    }
    if !bad.is_empty() {
        return Err(eyre!("{} bad row(s) of {}; nothing was imported", bad.len(), bad.len() + actions.len()));
    }
    println!("{} rows checked", actions.len());
    if args.check_only {
        return Ok(());
    }

    // 2. Resume or start.
    let key_text = std::fs::read_to_string(&args.key).wrap_err_with(|| format!("reading {}", args.key.display()))?;
    let key = SecretKey::from_hex(key_text.trim()).map_err(|e| eyre!("{}: {e}", args.key.display()))?;
    let client = Client::new(&args.api);
    let state_file = state_path(&args.file);
    let mut state = match std::fs::read(&state_file) {
        Ok(b) => {
            let s: ImportState = serde_json::from_slice(&b).wrap_err("the import state file is unreadable")?;
            if s.file_sha256 != file_sha256 {
                return Err(eyre!(
                    "{} changed since the import recorded in {}; delete that file to start over",
                    args.file.display(),
                    state_file.display()
                ));
            }
            s
        }
        Err(_) => ImportState { file_sha256, ..Default::default() },
    };
    if let Some(in_flight) = state.in_flight.take() {
        let txs = in_flight.signed(&state_file)?;
        if txs.is_empty() {
            println!("resuming after row {}: waiting for the batch that was in flight", state.done);
        } else {
            println!(
                "resuming after row {}: submitting the batch that was in flight again ({} transactions)",
                state.done,
                txs.len()
            );
            // Refusals do not matter here (already finalised, already pending, or a nonce spent
            // since): what the ledger holds decides, and the rows after `done` are redone.
            client.submit_batch_patiently(&txs, SHED_PATIENCE).await?;
        }
        wait_resolved(&client, &in_flight.hashes, in_flight.expiry_height).await?;
        save_state(&state_file, &state)?;
    }

    let status = client.status().await?;
    let bar = ProgressBar::new(actions.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {elapsed_precise}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(state.done as u64);
    let mut tally: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut rejected = Vec::new();
    while state.done < actions.len() {
        let end = (state.done + args.batch).min(actions.len());
        let mut txs = Vec::new();
        let mut lines = Vec::new();
        let mut nonce = client.signer(&key.public_key()).await?.next_nonce;
        let height = client.status().await?.latest_height;
        let expiry_height = height + EXPIRY_HEIGHTS;
        for (line, action) in &actions[state.done..end] {
            if let Some(subject) = subject_of(action) {
                let profile = client.subject(&subject.key()).await?;
                if profile.attestation.is_some() {
                    *tally.entry("already on the ledger").or_default() += 1;
                    continue;
                }
            }
            let expiry = huxin_client::expiry_after(height, EXPIRY_HEIGHTS);
            txs.push(huxin_client::sign_tx(&key, &status.chain_id, nonce, expiry, action.clone()));
            lines.push(*line);
            nonce += 1;
        }
        let in_flight = InFlight::new(&txs, expiry_height);
        let hashes = in_flight.hashes.clone();
        state.in_flight = Some(in_flight);
        save_state(&state_file, &state)?;
        if !txs.is_empty() {
            // What the node sheds under load is resubmitted unchanged after its Retry-After.
            for (i, result) in client.submit_batch_patiently(&txs, SHED_PATIENCE).await?.into_iter().enumerate() {
                if let Err((code, message)) = result {
                    return Err(eyre!("{what} {}: the node refused it ({code}): {message}", lines[i]));
                }
            }
        }
        let mut outcomes = wait_resolved(&client, &hashes, expiry_height).await?;
        // A full mempool may evict a transaction that follows one it shed (a nonce gap): submit
        // what was dropped again, unchanged (same bytes, so nothing can apply twice).
        for _ in 0..RESUBMIT_ROUNDS_MAX {
            let dropped: Vec<usize> =
                (0..outcomes.len()).filter(|&i| matches!(outcomes[i], Resolution::Dropped(_))).collect();
            if dropped.is_empty() {
                break;
            }
            let again: Vec<SignedTx> = dropped.iter().map(|&i| txs[i].clone()).collect();
            client.submit_batch_patiently(&again, SHED_PATIENCE).await?;
            let again_hashes: Vec<TxHash> = dropped.iter().map(|&i| hashes[i]).collect();
            for (&i, resolution) in dropped.iter().zip(wait_resolved(&client, &again_hashes, expiry_height).await?) {
                outcomes[i] = resolution;
            }
        }
        for ((line, hash), outcome) in lines.iter().zip(&hashes).zip(outcomes) {
            let outcome = match outcome {
                Resolution::Finalised(outcome) => outcome,
                Resolution::Dropped(reason) => {
                    return Err(eyre!("{what} {line} was dropped by the node ({reason}); run the import again"))
                }
                Resolution::Expired => {
                    return Err(eyre!("{what} {line} expired without being included; run the import again"))
                }
            };
            match outcome {
                Some(Outcome::Applied) => *tally.entry("imported").or_default() += 1,
                Some(Outcome::Rejected(r)) if r.code == RejectCode::Conflict => {
                    *tally.entry("already on the ledger").or_default() += 1
                }
                Some(_) => {
                    *tally.entry("rejected").or_default() += 1;
                    // The public status withholds a credit action's reason; the signer reads it.
                    let whole = client.tx_signed(&key, hash).await?;
                    let reason = match whole.outcome {
                        Some(Outcome::Rejected(r)) => r.reason,
                        _ => String::new(),
                    };
                    rejected.push((*line, reason));
                }
                None => return Err(eyre!("{what} {line} was finalised without an outcome")),
            }
        }
        state.done = end;
        state.in_flight = None;
        save_state(&state_file, &state)?;
        bar.set_position(end as u64);
        bar.set_message(format!("{tally:?}"));
    }
    bar.finish();
    for (line, reason) in &rejected {
        eprintln!("{}: {what} {line}: rejected by the ledger: {reason}", args.file.display());
    }
    let count = |k: &str| tally.get(k).copied().unwrap_or(0);
    println!(
        "done: {} imported, {} already on the ledger, {} rejected (progress in {})",
        count("imported"),
        count("already on the ledger"),
        count("rejected"),
        state_file.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_midnight_in_china_standard_time() {
        // 2026-11-01T00:00+08:00 = 2026-10-31T16:00Z.
        assert_eq!(time_cell("2026-11-01"), Ok(json!(1_793_462_400_000u64)));
        assert_eq!(time_cell("2024-02-29"), Ok(json!(1_709_136_000_000u64)));
        assert_eq!(time_cell("1793462400000"), Ok(json!(1_793_462_400_000u64)));
        assert_eq!(time_cell(""), Ok(Value::Null));
        assert!(time_cell("2026-13-01").is_err());
        assert!(time_cell("yesterday").is_err());
    }

    fn batch() -> Vec<SignedTx> {
        let key = SecretKey::from_bytes([7; 32]);
        let chain = huxin_types::ChainId::new("huxin-devnet").unwrap();
        let action = Action::AnchorDocument(huxin_types::tx::AnchorDocument {
            tender: huxin_types::tx::TenderRef {
                region: huxin_types::RegionCode::new(330200).unwrap(),
                project_code: "NB-2019-001".into(),
                section_code: "01".into(),
            },
            stage: huxin_types::tx::DealStage::Announcement,
            document_hash: huxin_types::Hash32::of_document(b"announcement"),
            title: "announcement".into(),
            deal_code: String::new(),
            platform_code: String::new(),
            parties: Vec::new(),
            experts: Vec::new(),
            estimated_price_fen: None,
        });
        (0..3)
            .map(|nonce| {
                huxin_client::sign_tx(&key, &chain, nonce, huxin_client::expiry_after(10, 100), action.clone())
            })
            .collect()
    }

    #[test]
    fn a_batch_in_flight_is_kept_signed_and_read_back_checked() {
        let path = Path::new("credit.csv.import-state");
        let txs = batch();
        let kept = InFlight::new(&txs, 110);
        let read: InFlight = serde_json::from_slice(&serde_json::to_vec(&kept).unwrap()).unwrap();
        assert_eq!(read, kept);
        assert_eq!(read.signed(path).unwrap(), txs);

        // A state file from before the transactions were kept: the batch is only waited for.
        let hashes: Vec<String> = txs.iter().map(|t| t.hash().to_string()).collect();
        let old: InFlight = serde_json::from_value(json!({"hashes": hashes, "expiry_height": 110})).unwrap();
        assert_eq!(old.signed(path).unwrap(), Vec::<SignedTx>::new());

        // Altered, truncated or miscounted: refused, naming the file.
        let mut swapped = InFlight::new(&txs, 110);
        swapped.txs.swap(0, 1);
        let error = swapped.signed(path).unwrap_err().to_string();
        assert!(error.contains("transaction 0 in flight is not the one its hash"), "{error}");
        let mut cut = InFlight::new(&txs, 110);
        cut.txs[2].truncate(20);
        let error = cut.signed(path).unwrap_err().to_string();
        assert!(error.contains("credit.csv.import-state: transaction 2 in flight does not decode"), "{error}");
        let mut short = InFlight::new(&txs, 110);
        short.txs.pop();
        assert!(short.signed(path).unwrap_err().to_string().contains("2 transactions in flight and 3 hashes"));
    }

    #[test]
    fn csv_cells_become_the_fields_actions_expect() {
        assert_eq!(csv_cell(Kind::Blacklist, "scope", "national"), Ok(json!("national")));
        assert_eq!(csv_cell(Kind::Blacklist, "scope", "330100;330200"), Ok(json!({"regions": [330100, 330200]})));
        assert!(csv_cell(Kind::Blacklist, "scope", "somewhere").is_err());
        assert_eq!(
            csv_cell(Kind::Credit, "tender", "330200/NB-1/01"),
            Ok(json!({"region": 330200, "project_code": "NB-1", "section_code": "01"}))
        );
        assert_eq!(csv_cell(Kind::Credit, "score", ""), Ok(Value::Null));
        assert!(csv_cell(Kind::Credit, "amount_fen", "12.5").is_err());
        assert!(csv_cell(Kind::Credit, "subject", "91330100MA0000001X").is_err());
    }
}
