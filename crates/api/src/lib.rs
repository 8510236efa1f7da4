//! The HTTP API (axum, JSON): status, the prepare → sign → submit flow for transactions,
//! transaction and block lookups, signer info, and Prometheus metrics.
//!
//! Every error is JSON `{"error": {"code": "...", "message": "..."}}` with a stable code and a
//! message naming what was expected and what came. Request bodies are capped at
//! [`BODY_BYTES_MAX`]; lists are capped at [`PAGE_ITEMS_MAX`] items per page.
//!
//! The API reads the store directly and reaches the rest of the node through [`NodeApi`].

mod blocks;
pub mod credential;
mod dashboard;
mod error;
pub mod evaluation;
pub mod events;
pub mod granted;
pub mod openapi;
pub mod public;
pub mod query;
pub mod rings;
mod routes;
pub mod signed;
pub mod stats;
mod status;
pub mod supervisor;
mod txs;

use std::net::SocketAddr;
use std::sync::Arc;

use huxin_store::Store;
use huxin_types::{ChainId, PublicKey, Rejection, SignedTx, TxHash};

pub use error::ApiError;
pub use huxin_state::answers::{
    BlockView, EquivocationView, PrepareResponse, SignerView, StatusView, SubmitResponse, TxStatusView, TxView,
    WithheldTx,
};
pub use routes::router;
pub use txs::{PrepareRequest, SubmitRequest};

/// Largest request body accepted.
pub const BODY_BYTES_MAX: usize = 64 * 1024;
/// Largest batch submission body.
pub const BATCH_BODY_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Most transactions in one batch submission.
pub const BATCH_TXS_MAX: usize = 1000;
/// Most items in one page of a list.
pub const PAGE_ITEMS_MAX: usize = 1000;
/// Items in a page when the client does not say.
pub const PAGE_ITEMS_DEFAULT: usize = 100;

/// Why the node refused a submitted transaction.
#[derive(Debug, Clone)]
pub enum SubmitRefusal {
    /// Admission rules refused it (signature, chain, signer, nonce, expiry, fields).
    Rejected(Rejection),
    /// Already pending.
    Duplicate(TxHash),
    /// Another pending transaction holds its nonce.
    NonceTaken(String),
    /// The mempool is full; retry later.
    Full(String),
    /// The node cannot take transactions now.
    Unavailable(String),
    /// The node's state could not be read to admit it (a 500: nothing was decided about it).
    Storage(String),
}

/// Live facts only the running node knows.
#[derive(Debug, Clone, Default)]
pub struct LiveStatus {
    pub moniker: String,
    /// The ledger protocol the node speaks (the build's [`huxin_types::PROTOCOL_VERSION`]).
    pub protocol_version: u32,
    pub round: i64,
    pub peers: i64,
    pub mempool_txs: usize,
    pub mempool_bytes: usize,
    /// Peers connected on the consensus network.
    pub consensus_peers: i64,
    /// Validators this node saw sign conflicting messages, oldest first.
    pub equivocations: Vec<EquivocationView>,
}

/// What the API needs from the node besides the store.
pub trait NodeApi: Send + Sync + 'static {
    fn submit(&self, tx: SignedTx) -> Result<TxHash, SubmitRefusal>;
    fn is_pending(&self, hash: &TxHash) -> bool;
    /// Why a transaction that was pending was dropped without being included, if it was.
    fn dropped(&self, hash: &TxHash) -> Option<Rejection>;
    fn live(&self) -> LiveStatus;
    fn metrics_text(&self) -> String;
}

#[derive(Clone)]
pub struct ApiState {
    pub node: Arc<dyn NodeApi>,
    pub store: Arc<Store>,
    pub chain_id: ChainId,
    /// The latest finalised height, updated as blocks are persisted (wakes event streams).
    pub heights: tokio::sync::watch::Receiver<u64>,
    /// Permits for concurrent event streams.
    pub events_clients: Arc<tokio::sync::Semaphore>,
    /// The audit log of signed reads (supervisors' and grantees').
    pub audit: Arc<signed::AuditLog>,
    /// Per-client limits of event streams.
    pub event_limits: events::EventLimits,
    /// Open event streams per client address.
    pub events_by_address: events::StreamsByAddress,
    /// This node's ed25519 node key (its libp2p identity): signed supervisor queries name it (and
    /// the chain).
    pub node_key: PublicKey,
    /// When this API started, Unix ms: signed queries from before it are refused (the replay
    /// cache starts empty).
    pub started_ms: u64,
    /// What this node signs credentials with, if it signs any (see [`credential`]).
    pub issuer: Option<Arc<credential::Issuer>>,
}

impl ApiState {
    pub fn new(
        node: Arc<dyn NodeApi>,
        store: Arc<Store>,
        chain_id: ChainId,
        heights: tokio::sync::watch::Receiver<u64>,
        audit: Arc<signed::AuditLog>,
        node_key: PublicKey,
    ) -> Self {
        let started_ms =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let events_clients = Arc::new(tokio::sync::Semaphore::new(events::EVENTS_CLIENTS_MAX));
        ApiState {
            node,
            store,
            chain_id,
            heights,
            events_clients,
            audit,
            event_limits: Default::default(),
            events_by_address: Default::default(),
            node_key,
            started_ms,
            issuer: None,
        }
    }

    /// Sign credentials for `issuer`'s member.
    pub fn with_issuer(mut self, issuer: credential::Issuer) -> Self {
        self.issuer = Some(Arc::new(issuer));
        self
    }

    pub fn with_event_limits(mut self, limits: events::EventLimits) -> Self {
        self.event_limits = limits;
        self
    }
}

/// Serve the API on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, state: ApiState) -> std::io::Result<()> {
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>()).await
}
