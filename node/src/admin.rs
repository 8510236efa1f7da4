//! A running node's administration socket, and the commands that use it.
//!
//! The node listens on a Unix socket in its home ([`ADMIN_SOCKET`], mode 0600: only the account
//! that runs the node can use it). A request is one JSON line ([`AdminRequest`]), the reply one
//! JSON line ([`AdminReply`]):
//! - `backup`: write an online backup ([`crate::backup`]);
//! - `reload_peers`: read `config.toml`'s peers again and let the networks follow them, so a
//!   joining centre is let in, or a moved one dialled at its new address, without a restart;
//! - `skew_clock`: set the node's clock off by a number of milliseconds, for the fault suite
//!   (`huxin chaos`); only builds with the `byzantine` feature (tests) do it, others refuse.
//!
//! `huxin peers add --home H --peer …` adds a peer (or a follower) to a node's config and reloads
//! it; `huxin peers reload --home H` reloads after a hand edit.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eyre::{eyre, WrapErr};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tracing::{info, warn};

use huxin_consensus::peers::PeerBook;
use huxin_store::Store;
use huxin_types::genesis::Genesis;

use crate::backup::{write_backup, BackupManifest};
use crate::config::NodeConfig;

/// The node's administration socket, in its home.
pub const ADMIN_SOCKET: &str = "admin.sock";
/// Largest request line read from the admin socket.
pub const ADMIN_REQUEST_BYTES_MAX: u64 = 4 * 1024;
/// Largest reply line read back from it.
pub const ADMIN_REPLY_BYTES_MAX: u64 = 16 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AdminRequest {
    /// Write a backup into `out`, an absolute path that does not exist yet.
    Backup { out: PathBuf },
    /// Read the peers of `config.toml` again.
    ReloadPeers,
    /// Set the node's clock `ms` off the system clock (negative: behind; 0: right again).
    SkewClock { ms: i64 },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminReply {
    Backup(BackupManifest),
    /// The peers now configured: validators' and followers'.
    PeersReloaded {
        peers: usize,
        followers: usize,
    },
    /// The node's clock is now this far off the system clock.
    ClockSkewed {
        ms: i64,
    },
    Refused(String),
}

/// What the admin socket serves.
pub struct Admin {
    pub home: PathBuf,
    pub store: Arc<Store>,
    pub genesis: Genesis,
    pub peers: PeerBook,
}

impl Admin {
    async fn answer(self: Arc<Self>, request: AdminRequest, busy: &tokio::sync::Mutex<()>) -> AdminReply {
        match request {
            AdminRequest::Backup { out } if !out.is_absolute() => {
                AdminReply::Refused(format!("{} is not an absolute path", out.display()))
            }
            AdminRequest::Backup { out } => {
                // One backup at a time: a second request waits for the first.
                let _guard = busy.lock().await;
                info!(out = %out.display(), "backup requested");
                let admin = self.clone();
                let task = tokio::task::spawn_blocking(move || write_backup(&admin.store, &admin.genesis, &out));
                match task.await {
                    Ok(Ok(manifest)) => {
                        info!(height = manifest.height, files = manifest.files.len(), "backup written");
                        AdminReply::Backup(manifest)
                    }
                    Ok(Err(e)) => {
                        warn!(error = %format!("{e:#}"), "backup failed");
                        AdminReply::Refused(format!("{e:#}"))
                    }
                    Err(e) => AdminReply::Refused(format!("the backup task failed: {e}")),
                }
            }
            AdminRequest::ReloadPeers => {
                let read = NodeConfig::load(&self.home.join("config.toml")).and_then(|c| c.peer_list());
                match read {
                    Ok(peers) => {
                        let (count, followers) = (peers.consensus.len(), peers.followers.len());
                        self.peers.replace(peers);
                        info!(peers = count, followers, "peers reloaded from config.toml");
                        AdminReply::PeersReloaded { peers: count, followers }
                    }
                    Err(e) => {
                        warn!(error = %format!("{e:#}"), "peer reload refused; the peers stay as they were");
                        AdminReply::Refused(format!("{e:#}"))
                    }
                }
            }
            AdminRequest::SkewClock { ms } => skew_clock(ms),
        }
    }
}

fn skew_clock(ms: i64) -> AdminReply {
    match huxin_consensus::clock::set_skew_ms(ms) {
        Ok(()) => {
            warn!(ms, "clock skewed on request (a test build's fault)");
            AdminReply::ClockSkewed { ms }
        }
        Err(why) => AdminReply::Refused(why.to_string()),
    }
}

/// Serve the admin socket. A stale socket file (a node that was killed) is replaced: the store is
/// already open, so no other node runs in this home.
pub fn serve(admin: Admin) -> eyre::Result<tokio::task::JoinHandle<()>> {
    use std::os::unix::fs::PermissionsExt;
    let path = admin.home.join(ADMIN_SOCKET);
    if path.exists() {
        std::fs::remove_file(&path).wrap_err_with(|| format!("removing the stale {}", path.display()))?;
    }
    let listener = tokio::net::UnixListener::bind(&path)
        .wrap_err_with(|| format!("binding the admin socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let admin = Arc::new(admin);
    let busy = Arc::new(tokio::sync::Mutex::new(()));
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (admin, busy) = (admin.clone(), busy.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                let reply = match BufReader::new(read.take(ADMIN_REQUEST_BYTES_MAX)).read_line(&mut line).await {
                    Err(e) => AdminReply::Refused(format!("reading the request: {e}")),
                    Ok(_) => match serde_json::from_str::<AdminRequest>(&line) {
                        Err(e) => AdminReply::Refused(format!("not an admin request: {e}")),
                        Ok(request) => admin.answer(request, &busy).await,
                    },
                };
                if let Ok(mut text) = serde_json::to_string(&reply) {
                    text.push('\n');
                    let _ = write.write_all(text.as_bytes()).await;
                }
            });
        }
    }))
}

/// Send one request to the node running in `home`; `None` when no node answers there.
pub async fn request(home: &Path, request: &AdminRequest) -> eyre::Result<Option<AdminReply>> {
    let socket = home.join(ADMIN_SOCKET);
    let Ok(mut stream) = tokio::net::UnixStream::connect(&socket).await else { return Ok(None) };
    let mut line = serde_json::to_string(request)?;
    line.push('\n');
    stream.write_all(line.as_bytes()).await.wrap_err_with(|| format!("writing to {}", socket.display()))?;
    let mut reply = String::new();
    BufReader::new(stream.take(ADMIN_REPLY_BYTES_MAX))
        .read_line(&mut reply)
        .await
        .wrap_err_with(|| format!("reading from {}", socket.display()))?;
    serde_json::from_str(&reply).map(Some).map_err(|e| {
        eyre!("the node's reply is not understood ({e}): {:?}", reply.chars().take(200).collect::<String>())
    })
}

/// Ask the node in `home` to reload its peers: what it now has, or `None` if no node runs there.
pub async fn reload_peers(home: &Path) -> eyre::Result<Option<(usize, usize)>> {
    match request(home, &AdminRequest::ReloadPeers).await? {
        None => Ok(None),
        Some(AdminReply::PeersReloaded { peers, followers }) => Ok(Some((peers, followers))),
        Some(AdminReply::Refused(why)) => Err(eyre!("the node in {} refused the reload: {why}", home.display())),
        Some(other) => Err(eyre!("the node answered {other:?} to a reload")),
    }
}

/// `huxin peers`.
#[derive(clap::Subcommand)]
pub enum PeersCommand {
    /// Add a peer to a node's config.toml and let the running node follow it at once.
    Add {
        #[arg(long)]
        home: PathBuf,
        /// NODE_PUBLIC_KEY@HOST:CONSENSUS_PORT:GOSSIP_PORT
        #[arg(long)]
        peer: String,
        /// The peer is a follower (a centre about to join, not yet a validator): let it in
        /// besides the validators.
        #[arg(long)]
        follower: bool,
    },
    /// Make the running node read config.toml's peers again (after editing it by hand).
    Reload {
        #[arg(long)]
        home: PathBuf,
    },
}

/// Add `peer` to the config of the node in `home`, refusing a key it already lists or its own.
pub fn add_peer(home: &Path, peer: crate::config::PeerConfig) -> eyre::Result<()> {
    let path = home.join("config.toml");
    let mut config = NodeConfig::load(&path)?;
    let own = crate::start::load_key(&home.join(crate::home::NODE_KEY))?.public_key();
    if peer.public_key == own {
        return Err(eyre!("{} is this node's own key", peer.public_key));
    }
    if config.peers.iter().any(|p| p.public_key == peer.public_key) {
        return Err(eyre!("{} already lists peer {}", path.display(), peer.public_key));
    }
    config.peers.push(peer);
    // Check the whole list parses before it is written.
    config.peer_list()?;
    config.save(&path)
}

pub async fn peers_command(command: PeersCommand) -> eyre::Result<()> {
    let home = match command {
        PeersCommand::Add { home, peer, follower } => {
            add_peer(&home, crate::home::parse_peer(&peer, follower)?)?;
            println!("added {} to {}", peer, home.join("config.toml").display());
            home
        }
        PeersCommand::Reload { home } => home,
    };
    match reload_peers(&home).await? {
        Some((peers, followers)) => println!("the running node now follows {peers} peers ({followers} followers)"),
        None => println!("no node runs in {}; it reads the peers when it starts", home.display()),
    }
    Ok(())
}
