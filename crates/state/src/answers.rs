//! The shapes of the API's answers that are not point queries (those are in
//! [`crate::queries`]): the chain's (status, blocks, transactions, signers), the lists', the
//! statistics' and the supervisors'. One definition serves the node (`huxin-api` serves them),
//! the Rust client (it decodes them), the OpenAPI document and so the SDKs.

use serde::{Deserialize, Serialize};

use huxin_contracts::registry::{NextValidators, ValidatorRecord};
use huxin_types::audit::AuditEntry;
use huxin_types::crypto::{PublicKey, Suite};
use huxin_types::genesis::Role;
use huxin_types::identity::SubjectId;
use huxin_types::tx::Expiry;
use huxin_types::{
    Action, BlockHash, BlockHeader, ChainId, Hash32, Height, MemberId, Outcome, RegionCode, Rejection, SignedTx,
    TimestampMs, TxHash,
};

use crate::queries::CreditItem;

// ---- The chain ----

/// A node's view of the chain (`GET /v1/status`).
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct StatusView {
    pub chain_id: ChainId,
    pub genesis_hash: Option<BlockHash>,
    pub moniker: String,
    /// The node software's version (the `huxin` release).
    #[serde(default)]
    pub software_version: String,
    /// The ledger protocol it speaks ([`huxin_types::PROTOCOL_VERSION`]): nodes of different
    /// protocol versions refuse each other.
    #[serde(default)]
    pub protocol_version: u32,
    /// The chain's suite: its signatures and hashes (`ed25519-sha256` or `sm2-sm3`).
    #[serde(default)]
    pub suite: Suite,
    /// This node's key: its ed25519 node key (its libp2p identity; on an ed25519 chain also its
    /// consensus key, on an SM2 chain not). A signed supervisor query names it, with the chain id.
    pub node_key: PublicKey,
    pub latest_height: u64,
    pub latest_block_hash: Option<BlockHash>,
    pub latest_block_time_ms: Option<u64>,
    pub state_root: Option<Hash32>,
    pub round: i64,
    /// Connected transaction-gossip peers.
    pub peers: i64,
    /// Connected consensus peers (validators that passed the validator-proof handshake, or are
    /// still passing it).
    #[serde(default)]
    pub consensus_peers: i64,
    pub mempool_txs: usize,
    pub mempool_bytes: usize,
    /// Equivocation evidence seen since the node started (at most 256, oldest first).
    #[serde(default)]
    pub equivocations: Vec<EquivocationView>,
}

/// Equivocation evidence the consensus engine collected: a validator signed conflicting
/// proposals or votes at one height.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct EquivocationView {
    pub height: u64,
    /// The validator's consensus address (20 bytes, hex).
    pub validator: String,
    /// Pairs of conflicting proposals.
    pub proposals: usize,
    /// Pairs of conflicting votes.
    pub votes: usize,
}

/// A transaction of a block and its outcome, as the public sees it.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct TxView {
    pub hash: TxHash,
    /// The signed transaction; absent when the public view withholds it (see `withheld`).
    pub tx: Option<SignedTx>,
    /// A credit action's kind, signer and nonce, in place of the transaction (the public view
    /// withholds credit actions).
    pub withheld: Option<WithheldTx>,
    pub outcome: Option<Outcome>,
}

/// A block with one page of its transactions (`tx_offset`, then `txs`).
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct BlockView {
    pub hash: BlockHash,
    pub header: BlockHeader,
    pub tx_count: usize,
    pub tx_offset: usize,
    pub txs: Vec<TxView>,
}

/// What a public reader sees of a withheld transaction.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct WithheldTx {
    /// The transaction kind, e.g. `record_credit`.
    pub kind: String,
    pub signer: PublicKey,
    pub nonce: u64,
}

/// A prepared transaction (`POST /v1/txs/prepare`): the payload to check, sign and submit.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct PrepareResponse {
    pub chain_id: ChainId,
    pub tx_hash: TxHash,
    pub nonce: u64,
    pub expiry: Expiry,
    /// Canonical body bytes (hex): submit these as `payload`.
    pub payload: String,
    /// The exact bytes to sign with ed25519 (hex): the domain tag `huxin/v1/tx`, a zero byte,
    /// then the payload.
    pub sign_bytes: String,
}

/// A submitted transaction's hash and `pending`.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct SubmitResponse {
    pub tx_hash: TxHash,
    pub status: String,
}

/// A transaction's status (`GET /v1/txs/{hash}`).
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct TxStatusView {
    pub tx_hash: TxHash,
    /// `pending`, `finalised` (see `outcome`) or `dropped` (see `reason`).
    pub status: String,
    pub height: Option<u64>,
    pub index: Option<u32>,
    pub block_hash: Option<BlockHash>,
    pub outcome: Option<Outcome>,
    pub reason: Option<Rejection>,
    /// The signed transaction; absent when the public view withholds it (see `withheld`).
    pub tx: Option<SignedTx>,
    /// A credit action's kind, signer and nonce, in place of the transaction (the public view
    /// withholds credit actions); a request signed by its signer or a supervisor reads it whole.
    pub withheld: Option<WithheldTx>,
}

/// A signing key's member and nonces (`GET /v1/signers/{key}`).
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct SignerView {
    pub public_key: PublicKey,
    pub member_id: MemberId,
    pub member_name: String,
    pub role: Role,
    pub region: String,
    pub member_status: String,
    pub last_nonce: u64,
    pub next_nonce: u64,
}

// ---- Lists, statistics and supervisors ----

/// The validator set in force and any scheduled change.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct ValidatorsView {
    pub height: Height,
    /// The set in force for the next block (`height + 1`).
    pub current: Vec<ValidatorRecord>,
    /// The last scheduled change, in force from its activation height (already in force when
    /// that is at most `height + 1`).
    pub next: Option<NextValidators>,
}

/// One page of a list. `next_cursor` is absent when the list is complete.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct Page<T> {
    pub height: Height,
    pub time: TimestampMs,
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A transaction a key signed, where it is.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct SignerTx {
    pub tx_hash: TxHash,
    pub height: Height,
    pub index: u32,
}

/// A subject found by name.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct SubjectMatch {
    pub subject: SubjectId,
    pub name: String,
    pub kind: huxin_types::identity::SubjectKind,
    pub home_region: RegionCode,
    pub revoked: bool,
}

/// One statistics counter.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
pub struct StatsRow {
    /// `YYYY-MM`, China Standard Time.
    pub month: String,
    /// A 6-digit region code, or `national`.
    pub region: String,
    pub metric: String,
    pub count: u64,
}

/// Monthly statistics rows, month, region and metric order.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct StatsView {
    pub height: Height,
    pub rows: Vec<StatsRow>,
}

/// A subject's full credit history for supervisors: every record, hidden ones marked.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct FullCreditView {
    pub subject: SubjectId,
    pub height: Height,
    pub time: TimestampMs,
    /// Records a public view does not show (repaired, revoked, expired, not yet published).
    pub hidden: usize,
    pub records: Vec<CreditItem>,
}

/// A page of a node's audit log.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct AuditPage {
    /// The member whose key anchors this node's log on the ledger.
    pub anchor_member: Option<MemberId>,
    /// The log's last seq and hash when this page was read.
    pub head_seq: u64,
    pub head_hash: Hash32,
    pub entries: Vec<AuditEntry>,
    /// Ask again with `after=` this to continue; absent at the end.
    pub next_after: Option<u64>,
}

/// One applied transaction as a server-sent event (`GET /v1/events`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, utoipa::ToSchema)]
pub struct Event {
    pub height: Height,
    pub index: u32,
    pub time: TimestampMs,
    pub tx_hash: TxHash,
    /// The transaction kind, e.g. `list_on_blacklist`.
    pub kind: String,
    /// Regions the event concerns (the signer's, the tender's, the blacklist scope's).
    pub regions: Vec<RegionCode>,
    /// True for a national blacklist entry: it concerns every region.
    pub national: bool,
    /// Subjects the event concerns (none for a credit action: the public view withholds it).
    pub subjects: Vec<SubjectId>,
    /// The action; absent for a credit action, which the public view withholds (its kind and
    /// hash are still here; supervisors read it on `/v1/txs/{hash}`, signed).
    pub action: Option<Action>,
}

/// A page of the collusion-ring analysis (`GET /v1/supervisor/rings`).
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct RingReport {
    /// The height the ledger was read at (a cursor keeps it for the next pages).
    pub height: Height,
    /// The heights whose bids and award notices were read, inclusive.
    pub from_height: u64,
    pub to_height: u64,
    /// The governed thresholds in force at `height`.
    pub params: huxin_types::governance::RingParams,
    /// Sections read, bids read, and sections left out of the pairing for their size.
    pub sections: usize,
    pub bids: usize,
    pub sections_too_large: usize,
    /// Findings that match the request's filters, over all pages.
    pub findings_total: usize,
    pub findings: Vec<crate::rings::Finding>,
    pub next_cursor: Option<String>,
}

/// One event of `GET /v1/supervisor/rings/events`: a finding new or changed at `height`, or one
/// that no longer stands there (`finding` null: a threshold was raised, or the evidence changed
/// so that the finding is now another one).
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct RingEvent {
    pub height: Height,
    /// What identifies the finding across analyses: its kind, then the first member, the payer
    /// or the document (`bidding_ring:91330100MA…`).
    pub key: String,
    /// The finding as it stands at `height`; null once it no longer does.
    pub finding: Option<crate::rings::Finding>,
}

/// An evaluation session as the public sees it (`GET /v1/evaluations/{id}`): everything the
/// draw depends on, so anyone can recompute it (`huxin evaluation verify`), but not the
/// avoidance list, which names the bidders: it is emptied and counted.
#[derive(Serialize, Deserialize, Debug, Clone, utoipa::ToSchema)]
pub struct EvaluationView {
    pub height: Height,
    pub session: huxin_contracts::evaluation::EvaluationSession,
    /// How many organisations the session avoids (the list itself is withheld).
    pub avoided_employers: usize,
    /// The eligible experts of each specialty, in seat order, fixed when the session opened.
    pub pools: Vec<Vec<huxin_types::Hash32>>,
}
