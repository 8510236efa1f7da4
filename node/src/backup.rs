//! Backup and restore of a node's store.
//!
//! `huxin backup --home H --out DIR` asks the running node, over its admin socket
//! ([`crate::admin`]), for an online checkpoint of its RocksDB store ([`huxin_store::Store::checkpoint`]):
//! whole blocks up to a finalised height, nothing of the next. When no node runs in the home, the
//! command opens the store itself. `DIR/backup.json` ([`BackupManifest`]) names the chain, the
//! genesis, the height, its block hash and state root, and every file with its size and SHA-256,
//! under one checksum.
//!
//! `huxin restore --backup DIR --home H` checks all of that against the files and against the
//! home's own genesis before it copies anything, and refuses a home that already has a store or a
//! consensus WAL: restore into a fresh home (`huxin init`), then start the node, which catches up
//! from the backup's height.

use std::io::Read;
use std::path::{Path, PathBuf};

use eyre::{eyre, WrapErr};
use serde::{Deserialize, Serialize};

use crate::admin::{self, AdminReply, AdminRequest};

use huxin_store::Store;
use huxin_types::genesis::Genesis;
use huxin_types::{codec, BlockHash, ChainId, Hash32, Height};

/// The manifest inside a backup directory.
pub const BACKUP_MANIFEST: &str = "backup.json";
/// The store inside a backup directory.
pub const BACKUP_DB: &str = "db";
/// Largest backup manifest read.
pub const BACKUP_MANIFEST_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Most files a backup may list.
pub const BACKUP_FILES_MAX: usize = 100_000;
/// The manifest format this build writes and reads.
pub const BACKUP_FORMAT: u32 = 1;

/// One file of the backed-up store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupFile {
    /// The file's name inside `db/` (RocksDB's checkpoint is one flat directory).
    pub name: String,
    pub bytes: u64,
    pub sha256: Hash32,
}

/// What a backup holds, and the checksum that ties it together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupManifest {
    pub format: u32,
    pub chain_id: ChainId,
    pub genesis_hash: BlockHash,
    /// The last finalised height the backup holds whole.
    pub height: u64,
    pub block_hash: Option<BlockHash>,
    pub state_root: Option<Hash32>,
    pub software_version: String,
    pub files: Vec<BackupFile>,
    /// SHA-256 (whatever the chain's suite: a file checksum, not a ledger hash) of
    /// `huxin/v1/backup` ‖ every field above in canonical bytes
    /// ([`BackupManifest::compute_checksum`]).
    pub checksum: Hash32,
}

impl BackupManifest {
    pub fn compute_checksum(&self) -> Hash32 {
        let unsigned = BackupManifest { checksum: Hash32::ZERO, ..self.clone() };
        codec::sha256(&[b"huxin/v1/backup".as_slice(), &codec::encode(&unsigned)].concat())
    }
}

fn sha256_file(path: &Path) -> eyre::Result<(u64, Hash32)> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).wrap_err_with(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((bytes, Hash32(hasher.finalize().into())))
}

/// The names of the files in a store directory, sorted: only plain files with UTF-8 names, at
/// most [`BACKUP_FILES_MAX`].
fn file_names(db: &Path) -> eyre::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(db).wrap_err_with(|| format!("reading {}", db.display()))? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            return Err(eyre!("{} is not a plain file; a store backup holds only files", entry.path().display()));
        }
        let name = entry.file_name().into_string().map_err(|n| eyre!("file name {n:?} is not UTF-8"))?;
        names.push(name);
        if names.len() > BACKUP_FILES_MAX {
            return Err(eyre!("{} holds more than {BACKUP_FILES_MAX} files", db.display()));
        }
    }
    names.sort();
    Ok(names)
}

/// The files of a store directory, sorted by name, each with its size and hash.
fn list_files(db: &Path) -> eyre::Result<Vec<BackupFile>> {
    file_names(db)?
        .into_iter()
        .map(|name| {
            let (bytes, sha256) = sha256_file(&db.join(&name))?;
            Ok(BackupFile { name, bytes, sha256 })
        })
        .collect()
}

/// Write a backup of `store` into `out` (refused if it exists). On any failure nothing is left
/// in `out`.
pub fn write_backup(store: &Store, genesis: &Genesis, out: &Path) -> eyre::Result<BackupManifest> {
    if out.exists() {
        return Err(eyre!("{} already exists; a backup is written into a new directory", out.display()));
    }
    std::fs::create_dir_all(out).wrap_err_with(|| format!("creating {}", out.display()))?;
    let written = (|| -> eyre::Result<BackupManifest> {
        let db = out.join(BACKUP_DB);
        store.checkpoint(&db).wrap_err("taking the store checkpoint")?;
        let copy = Store::open_read_only(&db).wrap_err("reading the checkpoint back")?;
        let genesis_hash = copy.genesis_hash()?.ok_or_else(|| eyre!("the store holds no genesis yet"))?;
        if genesis_hash != genesis.hash() {
            return Err(eyre!("the store belongs to genesis {genesis_hash}, not this home's {}", genesis.hash()));
        }
        let height = copy.latest_height()?.unwrap_or_default();
        let header = if height.0 > 0 { copy.header(height)? } else { None };
        drop(copy);
        let mut manifest = BackupManifest {
            format: BACKUP_FORMAT,
            chain_id: genesis.chain_id.clone(),
            genesis_hash,
            height: height.0,
            block_hash: header.as_ref().map(|h| h.hash()),
            state_root: header.as_ref().map(|h| h.state_root),
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
            files: list_files(&db)?,
            checksum: Hash32::ZERO,
        };
        manifest.checksum = manifest.compute_checksum();
        std::fs::write(out.join(BACKUP_MANIFEST), serde_json::to_string_pretty(&manifest)? + "\n")?;
        Ok(manifest)
    })();
    if written.is_err() {
        let _ = std::fs::remove_dir_all(out);
    }
    written
}

/// Read a backup's manifest and check it against its files: the checksum, every listed file
/// present with its size and hash, and no file it does not list.
pub fn check_backup(dir: &Path) -> eyre::Result<BackupManifest> {
    let path = dir.join(BACKUP_MANIFEST);
    let len = std::fs::metadata(&path)
        .wrap_err_with(|| format!("{} is not a backup (no {BACKUP_MANIFEST})", dir.display()))?
        .len();
    if len > BACKUP_MANIFEST_BYTES_MAX {
        return Err(eyre!("{} is {len} bytes; at most {BACKUP_MANIFEST_BYTES_MAX} are read", path.display()));
    }
    let manifest: BackupManifest = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .map_err(|e| eyre!("{} is not a backup manifest: {e}", path.display()))?;
    if manifest.format != BACKUP_FORMAT {
        return Err(eyre!("backup format {} is not the {BACKUP_FORMAT} this release reads", manifest.format));
    }
    if manifest.compute_checksum() != manifest.checksum {
        return Err(eyre!("{}: the checksum does not match the manifest (edited or damaged)", path.display()));
    }
    if manifest.files.len() > BACKUP_FILES_MAX {
        return Err(eyre!("the backup lists {} files; at most {BACKUP_FILES_MAX}", manifest.files.len()));
    }
    let db = dir.join(BACKUP_DB);
    for file in &manifest.files {
        if file.name.is_empty() || file.name.contains('/') || file.name.contains('\\') || file.name.starts_with('.') {
            return Err(eyre!("the backup names a file {:?} outside its store", file.name));
        }
        let path = db.join(&file.name);
        if !path.is_file() {
            return Err(eyre!("partial backup: {} is missing", path.display()));
        }
        let (bytes, sha256) = sha256_file(&path)?;
        if bytes != file.bytes || sha256 != file.sha256 {
            return Err(eyre!("{}: checksum mismatch ({bytes} bytes); the backup is damaged", path.display()));
        }
    }
    let present = file_names(&db)?;
    if let Some(extra) = present.iter().find(|n| !manifest.files.iter().any(|f| &f.name == *n)) {
        return Err(eyre!("{} holds {extra:?}, which the manifest does not list", db.display()));
    }
    Ok(manifest)
}

fn is_nonempty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).map(|mut d| d.next().is_some()).unwrap_or(false)
}

/// Restore a checked backup into `home`, which must hold a genesis of the same chain and no
/// store or WAL yet. Nothing is changed when it refuses.
pub fn restore(backup: &Path, home: &Path) -> eyre::Result<BackupManifest> {
    let manifest = check_backup(backup)?;
    let genesis = crate::start::load_genesis(&home.join("genesis.json"))
        .wrap_err_with(|| format!("{} is not a node home (write one with huxin init)", home.display()))?;
    if genesis.chain_id != manifest.chain_id {
        return Err(eyre!("the backup is of chain {}, this home's is {}", manifest.chain_id, genesis.chain_id));
    }
    if genesis.hash() != manifest.genesis_hash {
        return Err(eyre!(
            "the backup is of genesis {}, this home's genesis is {}: a different network",
            manifest.genesis_hash,
            genesis.hash()
        ));
    }
    for (what, dir) in [("a store", "db"), ("a consensus WAL", "wal")] {
        if is_nonempty_dir(&home.join(dir)) {
            return Err(eyre!(
                "{} already holds {what} ({dir}/); restore into a fresh home (huxin init), never over a node's data",
                home.display()
            ));
        }
    }
    let staging = home.join("db.restoring");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let copied = (|| -> eyre::Result<()> {
        std::fs::create_dir_all(&staging)?;
        for file in &manifest.files {
            std::fs::copy(backup.join(BACKUP_DB).join(&file.name), staging.join(&file.name))
                .wrap_err_with(|| format!("copying {}", file.name))?;
        }
        let copy = Store::open_read_only(&staging).wrap_err("opening the restored store")?;
        let height = copy.latest_height()?.unwrap_or_default();
        if height != Height(manifest.height) {
            return Err(eyre!("the restored store is at height {height}, the manifest says {}", manifest.height));
        }
        drop(copy);
        let db = home.join("db");
        if db.exists() {
            std::fs::remove_dir(&db)?;
        }
        std::fs::rename(&staging, &db)?;
        Ok(())
    })();
    if copied.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    copied.map(|()| manifest)
}

/// `huxin backup`.
#[derive(clap::Args)]
pub struct BackupArgs {
    /// The node's home. A running node is asked over its admin socket; a stopped one's store is
    /// opened directly.
    #[arg(long)]
    pub home: PathBuf,
    /// A new directory for the backup.
    #[arg(long)]
    pub out: PathBuf,
}

/// `huxin restore`.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A directory written by `huxin backup`.
    #[arg(long)]
    pub backup: PathBuf,
    /// A fresh node home (from `huxin init`) of the same network.
    #[arg(long)]
    pub home: PathBuf,
}

pub async fn backup_command(args: BackupArgs) -> eyre::Result<()> {
    if args.out.exists() {
        return Err(eyre!("{} already exists; a backup is written into a new directory", args.out.display()));
    }
    let parent = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent = parent.canonicalize().wrap_err_with(|| format!("{} does not exist", parent.display()))?;
    let name = args.out.file_name().ok_or_else(|| eyre!("{} names no directory", args.out.display()))?;
    let out = parent.join(name);
    let manifest = match admin::request(&args.home, &AdminRequest::Backup { out: out.clone() }).await? {
        Some(AdminReply::Backup(manifest)) => manifest,
        Some(AdminReply::Refused(why)) => return Err(eyre!("the node refused the backup: {why}")),
        Some(other) => return Err(eyre!("the node answered {other:?} to a backup request")),
        None => {
            // No node runs here: open the store directly (RocksDB's lock refuses if one does).
            let genesis = crate::start::load_genesis(&args.home.join("genesis.json"))?;
            let db = args.home.join("db");
            if !db.is_dir() {
                return Err(eyre!("{} has no store (db/) and no node runs there", args.home.display()));
            }
            let store = Store::open(&db, true).wrap_err_with(|| {
                format!("no node answers in {} and its store cannot be opened", args.home.display())
            })?;
            write_backup(&store, &genesis, &out)?
        }
    };
    let total: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "backup of {} at height {} (block {}) in {}: {} files, {total} bytes, checksum {}",
        manifest.chain_id,
        manifest.height,
        manifest.block_hash.map_or("-".into(), |h| h.to_string()),
        out.display(),
        manifest.files.len(),
        manifest.checksum
    );
    Ok(())
}

pub fn restore_command(args: RestoreArgs) -> eyre::Result<()> {
    let manifest = restore(&args.backup, &args.home)?;
    println!(
        "restored {} at height {} into {}; start the node and it catches up from there",
        manifest.chain_id,
        manifest.height,
        args.home.join("db").display()
    );
    Ok(())
}
