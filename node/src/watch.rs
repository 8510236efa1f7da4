//! `huxin watch`: document integrity watch (防篡改巡检). It re-hashes a platform's archive of deal
//! documents, asks the ledger for each hash's anchors, and reports every file whose hash matches
//! no anchor (altered since it was anchored, or never anchored) and every anchored file that has
//! gone missing, with the anchors it had.
//!
//! Telling "altered" and "missing" apart from "never anchored" needs memory: a state file beside
//! the archive (never inside it) keeps, per path, the hash last found anchored and its anchors.
//! Those entries are the baseline: an altered or deleted file keeps being reported until it is
//! restored (or its state entry removed). The report is JSON, for a platform's alerting; the exit
//! status of a single round is 0 when nothing was found, 1 when something was.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use eyre::{eyre, WrapErr};
use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use huxin_contracts::deal::AnchorRecord;
use huxin_types::tx::DealStage;
use huxin_types::{Hash32, MemberId, TxHash};

/// Most files one archive may hold: a larger one is refused (split it into several watches).
pub const WATCH_FILES_MAX: usize = 1_000_000;
/// Most hash lookups in flight against the node.
pub const WATCH_CONCURRENCY_MAX: usize = 64;
/// Shortest period between rounds.
pub const WATCH_EVERY_MIN_SECS: u64 = 1;
/// The state file's format version.
const STATE_VERSION: u32 = 1;

#[derive(clap::Args)]
pub struct WatchArgs {
    /// The archive: every regular file under it, recursively (symbolic links are not followed).
    #[arg(long)]
    dir: PathBuf,
    /// The node to ask.
    #[arg(long, default_value = "http://127.0.0.1:26600")]
    api: String,
    /// What earlier rounds found anchored (default: `<dir>.huxin-watch.json`, beside the archive).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Write each round's report here as JSON (replaced whole each round); `-` for stdout.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Repeat every this many seconds (default: one round, then exit 0 if clean, 1 if not).
    #[arg(long)]
    every: Option<u64>,
    /// Hash lookups in flight, 1 to 64.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

/// One anchor of a file's hash, as the report and the state file show it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AnchorRef {
    /// `region/project/section`.
    pub tender: String,
    pub stage: DealStage,
    pub height: u64,
    pub tx_hash: TxHash,
    pub anchored_by: MemberId,
}

impl From<&AnchorRecord> for AnchorRef {
    fn from(a: &AnchorRecord) -> Self {
        AnchorRef {
            tender: a.tender.to_string(),
            stage: a.stage,
            height: a.height.0,
            tx_hash: a.tx_hash,
            anchored_by: a.anchored_by,
        }
    }
}

/// A path's last anchored version.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub sha256: Hash32,
    pub anchors: Vec<AnchorRef>,
}

/// What earlier rounds found anchored, by path relative to the archive.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub version: u32,
    pub files: BTreeMap<String, Known>,
}

impl Default for State {
    fn default() -> Self {
        State { version: STATE_VERSION, files: BTreeMap::new() }
    }
}

/// A file whose hash matches no anchor.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Unanchored {
    pub path: String,
    pub sha256: Hash32,
    pub bytes: u64,
    /// The version this path had when it was last found anchored: the file was altered since.
    /// None: no earlier round saw it anchored.
    pub anchored_before: Option<Known>,
}

/// An anchored file no longer in the archive.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub path: String,
    pub sha256: Hash32,
    pub anchors: Vec<AnchorRef>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub path: String,
    pub error: String,
}

/// One round's findings.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub dir: String,
    pub api: String,
    /// The latest height the node had when the round began.
    pub height: u64,
    /// When the round ended (this machine's clock, ms since the epoch; reporting only).
    pub checked_at_ms: u64,
    pub files: usize,
    pub anchored: usize,
    pub unanchored: Vec<Unanchored>,
    pub missing: Vec<Missing>,
    pub unreadable: Vec<Unreadable>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.unanchored.is_empty() && self.missing.is_empty() && self.unreadable.is_empty()
    }
}

/// A file as hashed.
#[derive(Debug, Clone)]
pub struct Hashed {
    pub path: String,
    pub result: Result<(Hash32, u64), String>,
}

/// Set the round's findings from the files hashed, each hash's anchors on the ledger, and the
/// earlier state; and the state the next round starts from. Deterministic: files in path order.
pub fn reconcile(
    hashed: &[Hashed],
    anchors: &BTreeMap<Hash32, Vec<AnchorRef>>,
    previous: &State,
) -> (Vec<Unanchored>, Vec<Missing>, Vec<Unreadable>, usize, State) {
    let mut next = previous.clone();
    next.version = STATE_VERSION;
    let (mut unanchored, mut unreadable, mut anchored) = (Vec::new(), Vec::new(), 0);
    let mut present = BTreeSet::new();
    for file in hashed {
        present.insert(file.path.as_str());
        let (sha256, bytes) = match &file.result {
            Ok(h) => *h,
            Err(error) => {
                unreadable.push(Unreadable { path: file.path.clone(), error: error.clone() });
                continue;
            }
        };
        match anchors.get(&sha256).filter(|a| !a.is_empty()) {
            Some(found) => {
                anchored += 1;
                next.files.insert(file.path.clone(), Known { sha256, anchors: found.clone() });
            }
            None => unanchored.push(Unanchored {
                path: file.path.clone(),
                sha256,
                bytes,
                anchored_before: previous.files.get(&file.path).cloned(),
            }),
        }
    }
    let missing = previous
        .files
        .iter()
        .filter(|(path, _)| !present.contains(path.as_str()))
        .map(|(path, known)| Missing { path: path.clone(), sha256: known.sha256, anchors: known.anchors.clone() })
        .collect();
    (unanchored, missing, unreadable, anchored, next)
}

/// Every regular file under `dir`, as paths relative to it with `/` separators, sorted.
fn list_files(dir: &Path) -> eyre::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).wrap_err_with(|| format!("reading directory {}", d.display()))?;
        for entry in entries {
            let entry = entry.wrap_err_with(|| format!("reading directory {}", d.display()))?;
            let kind = entry.file_type().wrap_err_with(|| format!("reading {}", entry.path().display()))?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                let name = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                out.push((name, path));
                if out.len() > WATCH_FILES_MAX {
                    return Err(eyre!("{} holds more than {WATCH_FILES_MAX} files; watch it in parts", dir.display()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// SHA-256 of a file's bytes (the hash anchors carry) and its length, read in chunks.
fn hash_file(path: &Path) -> Result<(Hash32, u64), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((Hash32(hasher.finalize().into()), bytes))
}

fn progress(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})").map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

fn state_path(args: &WatchArgs) -> PathBuf {
    args.state.clone().unwrap_or_else(|| {
        let mut name = args.dir.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "archive".into());
        name.push(".huxin-watch.json");
        args.dir.parent().unwrap_or(Path::new(".")).join(name)
    })
}

fn read_state(path: &Path) -> eyre::Result<State> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let state: State = serde_json::from_slice(&bytes)
                .wrap_err_with(|| format!("{} is not a huxin watch state file", path.display()))?;
            if state.version != STATE_VERSION {
                return Err(eyre!(
                    "{} is state version {}; this huxin reads {STATE_VERSION}",
                    path.display(),
                    state.version
                ));
            }
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(eyre!("reading {}: {e}", path.display())),
    }
}

/// Write `bytes` to `path` whole or not at all (a temporary file beside it, then a rename).
fn write_atomically(path: &Path, bytes: &[u8]) -> eyre::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).wrap_err_with(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).wrap_err_with(|| format!("replacing {}", path.display()))
}

/// One round: hash, look up, reconcile, save the state.
async fn round(args: &WatchArgs, client: &huxin_client::Client, state_file: &Path) -> eyre::Result<Report> {
    let height = client.status().await.wrap_err_with(|| format!("asking {} for its status", args.api))?.latest_height;
    let previous = read_state(state_file)?;
    let dir = args.dir.clone();
    let hashed = tokio::task::spawn_blocking(move || -> eyre::Result<Vec<Hashed>> {
        let files = list_files(&dir)?;
        let bar = progress(files.len(), "hashing");
        let hashed = files
            .into_iter()
            .map(|(path, full)| {
                let result = hash_file(&full);
                bar.inc(1);
                Hashed { path, result }
            })
            .collect();
        bar.finish_and_clear();
        Ok(hashed)
    })
    .await??;
    let unique: BTreeSet<Hash32> = hashed.iter().filter_map(|h| h.result.as_ref().ok().map(|r| r.0)).collect();
    let bar = progress(unique.len(), "checking");
    let looked_up: Vec<eyre::Result<(Hash32, Vec<AnchorRef>)>> = stream::iter(unique)
        .map(|hash| {
            let bar = &bar;
            async move {
                let view =
                    client.document(&hash).await.wrap_err_with(|| format!("asking {} about {hash}", args.api))?;
                bar.inc(1);
                Ok((hash, view.anchors.iter().map(AnchorRef::from).collect()))
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    bar.finish_and_clear();
    let anchors = looked_up.into_iter().collect::<eyre::Result<BTreeMap<_, _>>>()?;
    let (unanchored, missing, unreadable, anchored, next) = reconcile(&hashed, &anchors, &previous);
    if next != previous {
        write_atomically(state_file, &serde_json::to_vec_pretty(&next)?)?;
    }
    Ok(Report {
        dir: args.dir.display().to_string(),
        api: args.api.clone(),
        height,
        checked_at_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        files: hashed.len(),
        anchored,
        unanchored,
        missing,
        unreadable,
    })
}

fn summary(report: &Report) -> String {
    let mut text = format!(
        "{}: {} file(s), {} anchored, {} matching no anchor, {} missing, {} unreadable (height {})",
        report.dir,
        report.files,
        report.anchored,
        report.unanchored.len(),
        report.missing.len(),
        report.unreadable.len(),
        report.height
    );
    for u in &report.unanchored {
        match &u.anchored_before {
            Some(k) => text.push_str(&format!("\n  ALTERED   {} (now {}, anchored as {})", u.path, u.sha256, k.sha256)),
            None => text.push_str(&format!("\n  UNANCHORED {} ({})", u.path, u.sha256)),
        }
    }
    for m in &report.missing {
        let anchors: Vec<String> =
            m.anchors.iter().map(|a| format!("{} {:?} at {}", a.tender, a.stage, a.height)).collect();
        text.push_str(&format!("\n  MISSING   {} ({}; anchored: {})", m.path, m.sha256, anchors.join(", ")));
    }
    for u in &report.unreadable {
        text.push_str(&format!("\n  UNREADABLE {}: {}", u.path, u.error));
    }
    text
}

pub async fn run(args: WatchArgs) -> eyre::Result<()> {
    if !args.dir.is_dir() {
        return Err(eyre!("--dir {} is not a directory", args.dir.display()));
    }
    if args.concurrency == 0 || args.concurrency > WATCH_CONCURRENCY_MAX {
        return Err(eyre!("--concurrency is 1 to {WATCH_CONCURRENCY_MAX}, not {}", args.concurrency));
    }
    if args.every.is_some_and(|s| s < WATCH_EVERY_MIN_SECS) {
        return Err(eyre!("--every is at least {WATCH_EVERY_MIN_SECS} s"));
    }
    let state_file = state_path(&args);
    if state_file.starts_with(&args.dir) {
        return Err(eyre!("the state file {} must lie outside the archive", state_file.display()));
    }
    let client = huxin_client::Client::new(&args.api);
    loop {
        let report = round(&args, &client, &state_file).await?;
        let json = serde_json::to_string_pretty(&report)?;
        match args.json.as_deref() {
            Some(p) if p == Path::new("-") => println!("{json}"),
            Some(p) => {
                write_atomically(p, json.as_bytes())?;
                eprintln!("{}", summary(&report));
            }
            None => println!("{}", summary(&report)),
        }
        match args.every {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None if report.is_clean() => return Ok(()),
            None => std::process::exit(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(height: u64) -> AnchorRef {
        AnchorRef {
            tender: "330200/NB-1/01".into(),
            stage: DealStage::Bid,
            height,
            tx_hash: TxHash([height as u8; 32]),
            anchored_by: MemberId([1; 20]),
        }
    }

    fn file(path: &str, content: &[u8]) -> Hashed {
        Hashed { path: path.into(), result: Ok((Hash32::of_document(content), content.len() as u64)) }
    }

    /// The first round records what is anchored; the second reports an altered file with the
    /// version anchored before, a deleted one with its anchors, and a new unanchored one.
    #[test]
    fn altered_missing_and_never_anchored_files_are_told_apart() {
        let on_ledger: BTreeMap<Hash32, Vec<AnchorRef>> = [
            (Hash32::of_document(b"bid"), vec![anchor(5)]),
            (Hash32::of_document(b"report"), vec![anchor(6)]),
            (Hash32::of_document(b"contract"), vec![anchor(7), anchor(9)]),
        ]
        .into();
        let first = [file("a/bid.pdf", b"bid"), file("b/report.pdf", b"report"), file("contract.pdf", b"contract")];
        let (unanchored, missing, unreadable, anchored, state) = reconcile(&first, &on_ledger, &State::default());
        assert!(unanchored.is_empty() && missing.is_empty() && unreadable.is_empty());
        assert_eq!((anchored, state.files.len()), (3, 3));

        let second = [
            file("a/bid.pdf", b"bid, edited"),
            file("contract.pdf", b"contract"),
            file("new.txt", b"never anchored"),
            Hashed { path: "locked.pdf".into(), result: Err("permission denied".into()) },
        ];
        let (unanchored, missing, unreadable, anchored, next) = reconcile(&second, &on_ledger, &state);
        assert_eq!(anchored, 1);
        assert_eq!(unanchored.len(), 2);
        assert_eq!(unanchored[0].path, "a/bid.pdf");
        assert_eq!(unanchored[0].anchored_before.as_ref().map(|k| k.sha256), Some(Hash32::of_document(b"bid")));
        assert_eq!((unanchored[1].path.as_str(), unanchored[1].anchored_before.is_none()), ("new.txt", true));
        assert_eq!(missing.len(), 1);
        assert_eq!((missing[0].path.as_str(), missing[0].anchors.clone()), ("b/report.pdf", vec![anchor(6)]));
        assert_eq!(unreadable[0].path, "locked.pdf");
        // The baseline keeps the anchored versions, so the next round reports the same.
        assert_eq!(next, state);
    }

    /// The watch's hash is the one anchors carry: SHA-256 of the file's bytes.
    #[test]
    fn a_file_hashes_as_its_document_hash() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("x.pdf");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(hash_file(&path), Ok((Hash32::of_document(&bytes), bytes.len() as u64)));
    }
}
