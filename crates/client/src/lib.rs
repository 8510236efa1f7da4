//! Rust client for a Huxin node's HTTP API: status, signer lookup, the prepare → sign → submit
//! flow (or local signing), transaction and block lookups.
//!
//! Errors: [`ClientError`] — transport failures, or the node's JSON error with its stable code.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use huxin_contracts::blacklist::BlacklistEntry;
use huxin_contracts::deal::AnchorRecord;
use huxin_contracts::governance::ProposalRecord;
use huxin_contracts::registry::MemberRecord;
pub use huxin_state::answers::{
    AuditPage, BlockView, EquivocationView, EvaluationView, Event, FullCreditView, Page, PrepareResponse, RingReport,
    SignerTx, SignerView, StatsRow, StatsView, StatusView, SubjectMatch, SubmitResponse, TxStatusView, TxView,
    ValidatorsView, WithheldTx,
};
pub use huxin_state::proof::{ProofError, StateProof, Verified};
use huxin_state::queries::segment;
pub use huxin_state::queries::{
    verify_answer, CreditHistoryView, CreditItem, DocumentView, EligibilityView, GuaranteeView, ProvableQuery,
    SubjectView, TenderView, VerifiedAnswer,
};
use huxin_types::audit::{self, AuditEntry};
use huxin_types::crypto::{Domain, SecretKey};
use huxin_types::genesis::Genesis;
use huxin_types::governance::Params;
use huxin_types::tx::Expiry;
use huxin_types::{Action, ChainId, Height, SignedTx, TxBody, TxHash};
use huxin_types::{Hash32, MemberId, TimestampMs};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("request to {url} failed: {source}")]
    Transport { url: String, source: reqwest::Error },
    #[error("node answered {status} {code}: {message}")]
    Api { status: u16, code: String, message: String },
    #[error("node's answer is not the expected JSON: {0}")]
    Decode(String),
    #[error("the node's answer does not prove out: {0}")]
    Proof(#[from] ProofError),
    #[error("the node's audit log does not check out: {0}")]
    Audit(#[from] audit::AuditLogError),
}

/// A checked audit log.
#[derive(Debug)]
pub struct AuditCheck {
    /// The member that anchors the log.
    pub member: MemberId,
    pub entries: Vec<AuditEntry>,
    pub anchors_matched: usize,
    /// The highest anchored seq; entries after it are chained but not yet anchored.
    pub last_anchored: u64,
}

impl ClientError {
    /// The node's stable error code, if the node answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}
#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// Whether a refusal code means the node shed the request (retry it unchanged later) rather
/// than refused it.
pub fn is_shed(code: &str) -> bool {
    matches!(code, "mempool_full" | "unavailable" | "too_many_streams")
}

/// A response's `Retry-After` (in seconds, as the node sends it).
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    /// Without a whole-request timeout, for event streams.
    http_stream: reqwest::Client,
}

/// Filters and paging of the list endpoints; unset fields are left out.
#[derive(Serialize, Default, Debug, Clone)]
pub struct ListFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A filter as a query string (the signed bytes of a supervisor query include it verbatim).
/// `path` with `filter`'s fields as its query string (none: `path` alone).
fn with_query(path: &str, filter: &ListFilter) -> Result<String, ClientError> {
    let query = serde_urlencoded_query(filter)?;
    Ok(if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") })
}

fn serde_urlencoded_query(filter: &ListFilter) -> Result<String, ClientError> {
    let value = serde_json::to_value(filter).map_err(|e| ClientError::Decode(e.to_string()))?;
    let mut url = reqwest::Url::parse("http://query/").map_err(|e| ClientError::Decode(e.to_string()))?;
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in value.as_object().into_iter().flatten() {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            pairs.append_pair(k, &text);
        }
    }
    Ok(url.query().unwrap_or_default().to_owned())
}

/// Filters of `GET /v1/stats`.
#[derive(Serialize, Default, Debug, Clone)]
pub struct StatsFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
}

/// An open `GET /v1/events` stream.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// The next event, `None` when the stream ends.
    pub async fn next(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                    return serde_json::from_str(data.trim_start())
                        .map(Some)
                        .map_err(|e| ClientError::Decode(e.to_string()));
                }
                continue; // a keep-alive comment
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(None) => return Ok(None),
                Err(source) => return Err(ClientError::Transport { url: "/v1/events".into(), source }),
            }
        }
    }
}

impl Client {
    /// A client for the node at `base` (e.g. `http://127.0.0.1:26657`).
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(64)
            .build()
            .unwrap_or_default();
        let http_stream = reqwest::Client::builder().build().unwrap_or_default();
        Self { base: base.trim_end_matches('/').to_owned(), http, http_stream }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn answer<T: DeserializeOwned>(
        &self,
        url: String,
        response: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, ClientError> {
        let response = response.map_err(|source| ClientError::Transport { url: url.clone(), source })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|source| ClientError::Transport { url, source })?;
        if status.is_success() {
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
        } else {
            match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => {
                    Err(ClientError::Api { status: status.as_u16(), code: e.error.code, message: e.error.message })
                }
                Err(_) => Err(ClientError::Api {
                    status: status.as_u16(),
                    code: "unknown".into(),
                    message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                }),
            }
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let response = self.http.get(&url).send().await;
        self.answer(url, response).await
    }

    /// Who this node's signed queries are for: its chain and its consensus key (from its
    /// status).
    pub async fn query_audience(&self) -> Result<audit::QueryAudience, ClientError> {
        let status = self.status().await?;
        Ok(audit::QueryAudience { chain_id: status.chain_id, node_key: status.node_key })
    }

    /// GET `path_and_query` signed with a supervisor's member key (audited on the node).
    pub async fn signed_get<T: DeserializeOwned>(
        &self,
        key: &SecretKey,
        path_and_query: &str,
    ) -> Result<T, ClientError> {
        self.signed_get_to(key, &self.query_audience().await?, path_and_query).await
    }

    /// GET `path_and_query` signed for `audience` (this node's, fetched once by the caller).
    async fn signed_get_to<T: DeserializeOwned>(
        &self,
        key: &SecretKey,
        audience: &audit::QueryAudience,
        path_and_query: &str,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path_and_query}", self.base);
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let mut request = self.http.get(&url);
        for (name, value) in audit::sign_query(key, audience, "GET", path, query, TimestampMs(now)) {
            request = request.header(name, value);
        }
        let response = request.send().await;
        self.answer(url, response).await
    }

    /// A node's whole audit log (signed requests, a page at a time) and the member that anchors it.
    pub async fn audit_log(&self, key: &SecretKey) -> Result<(Option<MemberId>, Vec<AuditEntry>), ClientError> {
        self.audit_log_to(key, &self.query_audience().await?).await
    }

    async fn audit_log_to(
        &self,
        key: &SecretKey,
        audience: &audit::QueryAudience,
    ) -> Result<(Option<MemberId>, Vec<AuditEntry>), ClientError> {
        #[derive(Deserialize)]
        struct Page {
            anchor_member: Option<MemberId>,
            entries: Vec<AuditEntry>,
            next_after: Option<u64>,
        }
        let mut entries = Vec::new();
        let mut after = 0;
        loop {
            let page: Page = self.signed_get_to(key, audience, &format!("/v1/supervisor/audit?after={after}")).await?;
            entries.extend(page.entries);
            match page.next_after {
                Some(next) if next > after => after = next,
                _ => return Ok((page.anchor_member, entries)),
            }
        }
    }

    /// Every audit-log anchor a member put on the ledger: (seq, head), oldest first.
    pub async fn audit_anchors(&self, member: &MemberId) -> Result<Vec<(u64, Hash32)>, ClientError> {
        #[derive(Deserialize)]
        struct Anchor {
            seq: u64,
            head: Hash32,
        }
        #[derive(Deserialize)]
        struct Page {
            items: Vec<Anchor>,
            next_cursor: Option<String>,
        }
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/v1/audit/anchors/{member}?limit=1000&cursor={c}"),
                None => format!("/v1/audit/anchors/{member}?limit=1000"),
            };
            let page: Page = self.get(&path).await?;
            out.extend(page.items.into_iter().map(|a| (a.seq, a.head)));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Fetch a node's audit log and check it: gapless, chained, unedited, and matching every
    /// anchor its member put on the ledger. Gives the log and the number of anchors matched.
    pub async fn check_audit_log(&self, key: &SecretKey) -> Result<AuditCheck, ClientError> {
        let audience = self.query_audience().await?;
        let (member, entries) = self.audit_log_to(key, &audience).await?;
        let member = member.ok_or_else(|| ClientError::Decode("this node does not anchor its audit log".into()))?;
        let anchors = self.audit_anchors(&member).await?;
        let matched = audit::check_log(&entries, &anchors, &audience)?;
        Ok(AuditCheck { member, last_anchored: anchors.last().map_or(0, |a| a.0), anchors_matched: matched, entries })
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let response = self.http.post(&url).json(body).send().await;
        self.answer(url, response).await
    }

    async fn post_tx(&self, body: &serde_json::Value) -> Result<TxHash, ClientError> {
        let answer: serde_json::Value = self.post("/v1/txs", body).await?;
        answer
            .get("tx_hash")
            .and_then(|h| h.as_str())
            .and_then(|h| h.parse().ok())
            .ok_or_else(|| ClientError::Decode("no tx_hash in the answer".into()))
    }

    /// GET any read endpoint as JSON (e.g. `/v1/subjects/{uscc}/eligibility?region=330200`).
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        self.get(path).await
    }

    /// Ask `query` with `proof=true` and check the answer against `genesis`: the commit
    /// certificate, the validator chain from genesis, every Merkle proof, and that recomputing
    /// the answer from the proven state gives exactly the answer. A failed check is
    /// [`ClientError::Proof`].
    pub async fn proven(&self, query: &ProvableQuery, genesis: &Genesis) -> Result<VerifiedAnswer, ClientError> {
        let path = query.path();
        let sep = if path.contains('?') { '&' } else { '?' };
        let answer: serde_json::Value = self.get(&format!("{path}{sep}proof=true")).await?;
        Ok(verify_answer(query, &answer, genesis)?)
    }

    /// GET `path` with query parameters `q`, decoded as `T`.
    async fn get_query<T: DeserializeOwned, Q: Serialize + ?Sized>(&self, path: &str, q: &Q) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let response = self.http.get(&url).query(q).send().await;
        self.answer(url, response).await
    }

    /// Every member: trading centres, guarantee providers, supervisors.
    pub async fn members(&self) -> Result<Vec<MemberRecord>, ClientError> {
        self.get("/v1/members").await
    }

    /// Attested subjects whose name starts with `filter.name`.
    pub async fn subject_search(&self, filter: &ListFilter) -> Result<Page<SubjectMatch>, ClientError> {
        self.get_query("/v1/subjects", filter).await
    }

    /// Deal documents naming a USCC as a party.
    pub async fn subject_deals(&self, uscc: &str, filter: &ListFilter) -> Result<Page<AnchorRecord>, ClientError> {
        self.get_query(&format!("/v1/subjects/{}/deals", segment(uscc)), filter).await
    }

    /// Published credit records by region, kind, severity and decision dates.
    pub async fn credit_list(&self, filter: &ListFilter) -> Result<Page<CreditItem>, ClientError> {
        self.get_query("/v1/credit", filter).await
    }

    /// E-guarantees of a provider, a section or an applicant (exactly one of them in `filter`).
    pub async fn guarantee_list(&self, filter: &ListFilter) -> Result<Page<GuaranteeView>, ClientError> {
        self.get_query("/v1/guarantees", filter).await
    }

    /// Blacklist entries in force at `filter.time`, optionally covering `filter.region`.
    pub async fn blacklist_list(&self, filter: &ListFilter) -> Result<Page<BlacklistEntry>, ClientError> {
        self.get_query("/v1/blacklist", filter).await
    }

    /// Transactions a key signed, oldest first.
    pub async fn signer_txs(
        &self,
        key: &huxin_types::PublicKey,
        filter: &ListFilter,
    ) -> Result<Page<SignerTx>, ClientError> {
        self.get_query(&format!("/v1/signers/{key}/txs"), filter).await
    }

    pub async fn proposal(&self, id: &Hash32) -> Result<ProposalRecord, ClientError> {
        self.get(&format!("/v1/proposals/{id}")).await
    }

    pub async fn params(&self) -> Result<Params, ClientError> {
        self.get("/v1/params").await
    }

    pub async fn validators(&self) -> Result<ValidatorsView, ClientError> {
        self.get("/v1/validators").await
    }

    /// Monthly statistics; `filter` takes `from`, `to` (YYYYMM), `region` and `metric`.
    pub async fn stats(&self, filter: &StatsFilter) -> Result<StatsView, ClientError> {
        self.get_query("/v1/stats", filter).await
    }

    /// The same statistics as CSV text.
    pub async fn stats_csv(&self, filter: &StatsFilter) -> Result<String, ClientError> {
        let url = format!("{}/v1/stats", self.base);
        let response = self.http.get(&url).query(filter).query(&[("format", "csv")]).send().await;
        let response = response.map_err(|source| ClientError::Transport { url: url.clone(), source })?;
        if !response.status().is_success() {
            return self.answer(url, Ok(response)).await;
        }
        response.text().await.map_err(|source| ClientError::Transport { url, source })
    }

    /// A subject's full credit history, hidden records included: a signed supervisor query,
    /// logged in the node's audit log.
    pub async fn full_credit_history(&self, key: &SecretKey, subject: &str) -> Result<FullCreditView, ClientError> {
        self.signed_get(key, &format!("/v1/supervisor/subjects/{}/credit", segment(subject))).await
    }

    /// Credit records in any publication status (`filter.status`: pending, active, expired,
    /// repaired, revoked): a signed supervisor query, logged in the node's audit log.
    pub async fn supervisor_credit_list(
        &self,
        key: &SecretKey,
        filter: &ListFilter,
    ) -> Result<Page<CreditItem>, ClientError> {
        self.signed_get(key, &with_query("/v1/supervisor/credit", filter)?).await
    }

    /// The collusion-ring report (signed supervisor query, audited); `query` is the query string
    /// without `?` (from_height, to_height, kind, subject, limit, cursor), empty for the defaults.
    pub async fn ring_report(&self, key: &SecretKey, query: &str) -> Result<RingReport, ClientError> {
        let path =
            if query.is_empty() { "/v1/supervisor/rings".to_owned() } else { format!("/v1/supervisor/rings?{query}") };
        self.signed_get(key, &path).await
    }

    /// A subject's whole credit history, hidden records marked, read by the subject's
    /// `credit_history` grant to `key`'s member: a signed query, logged in the node's audit log
    /// (`403 grant_missing` without a grant in force).
    pub async fn granted_credit_history(&self, key: &SecretKey, subject: &str) -> Result<FullCreditView, ClientError> {
        self.signed_get(key, &format!("/v1/granted/subjects/{}/credit", segment(subject))).await
    }

    /// The guarantees a subject (a USCC) applied for, read by its `guarantees` grant (signed,
    /// audited); `filter` takes cursor, limit, status and time.
    pub async fn granted_guarantees(
        &self,
        key: &SecretKey,
        subject: &str,
        filter: &ListFilter,
    ) -> Result<Page<GuaranteeView>, ClientError> {
        self.signed_get(key, &with_query(&format!("/v1/granted/subjects/{}/guarantees", segment(subject)), filter)?)
            .await
    }

    /// The deal documents naming a subject (a USCC), read by its `deals` grant (signed, audited);
    /// `filter` takes cursor and limit.
    pub async fn granted_deals(
        &self,
        key: &SecretKey,
        subject: &str,
        filter: &ListFilter,
    ) -> Result<Page<AnchorRecord>, ClientError> {
        self.signed_get(key, &with_query(&format!("/v1/granted/subjects/{}/deals", segment(subject)), filter)?).await
    }

    /// An evaluation session and what its draw depends on (public).
    pub async fn evaluation(&self, id: &Hash32) -> Result<EvaluationView, ClientError> {
        self.get(&format!("/v1/evaluations/{id}")).await
    }

    /// The node's Prometheus metrics text.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let url = format!("{}/metrics", self.base);
        let response =
            self.http.get(&url).send().await.map_err(|source| ClientError::Transport { url: url.clone(), source })?;
        response.text().await.map_err(|source| ClientError::Transport { url, source })
    }

    /// The node's OpenAPI document.
    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.get("/openapi.json").await
    }

    /// Subscribe to `GET /v1/events` (`query`: e.g. `kinds=list_on_blacklist&regions=330200&from_height=1`).
    /// Events arrive in order; the stream ends if the node drops the client (resume with
    /// `from_height` or the last event's id).
    pub async fn events(&self, query: &str) -> Result<EventStream, ClientError> {
        let url = format!("{}/v1/events?{query}", self.base);
        let response = self
            .http_stream
            .get(&url)
            .send()
            .await
            .map_err(|source| ClientError::Transport { url: url.clone(), source })?;
        if !response.status().is_success() {
            // A refusal: the node's JSON error.
            return match self.answer::<serde_json::Value>(url, Ok(response)).await {
                Err(e) => Err(e),
                Ok(_) => Err(ClientError::Decode("an error status with a success body".into())),
            };
        }
        Ok(EventStream { response, buffer: String::new() })
    }

    /// A subject's profile: attestation, blacklist entries, credit score, grants.
    pub async fn subject(&self, subject: &str) -> Result<SubjectView, ClientError> {
        self.get(&format!("/v1/subjects/{}", segment(subject))).await
    }

    /// May the subject trade in `region` (at the latest block's time)?
    pub async fn eligibility(&self, subject: &str, region: u32) -> Result<EligibilityView, ClientError> {
        self.get(&format!("/v1/subjects/{}/eligibility?region={region}", segment(subject))).await
    }

    /// A subject's credit history across all regions.
    pub async fn credit_history(&self, subject: &str) -> Result<CreditHistoryView, ClientError> {
        self.get(&format!("/v1/subjects/{}/credit", segment(subject))).await
    }

    pub async fn guarantee(&self, number: &str) -> Result<GuaranteeView, ClientError> {
        self.get(&format!("/v1/guarantees/{}", segment(number))).await
    }

    pub async fn document(&self, hash: &huxin_types::Hash32) -> Result<DocumentView, ClientError> {
        self.get(&format!("/v1/documents/{hash}")).await
    }

    pub async fn tender(&self, tender: &huxin_types::tx::TenderRef) -> Result<TenderView, ClientError> {
        let (project, section) = (segment(&tender.project_code), segment(&tender.section_code));
        self.get(&format!("/v1/tenders/{}/{project}/{section}", tender.region)).await
    }

    pub async fn status(&self) -> Result<StatusView, ClientError> {
        self.get("/v1/status").await
    }

    pub async fn signer(&self, key: &huxin_types::PublicKey) -> Result<SignerView, ClientError> {
        self.get(&format!("/v1/signers/{key}")).await
    }

    pub async fn tx(&self, hash: &TxHash) -> Result<TxStatusView, ClientError> {
        self.get(&format!("/v1/txs/{hash}")).await
    }

    /// A transaction's status read whole, signed with its signer's key (or a supervisor's,
    /// audited): the public status withholds a credit action and its rejection's reason.
    pub async fn tx_signed(&self, key: &SecretKey, hash: &TxHash) -> Result<TxStatusView, ClientError> {
        self.signed_get(key, &format!("/v1/txs/{hash}")).await
    }

    pub async fn block(&self, height: u64) -> Result<BlockView, ClientError> {
        self.get(&format!("/v1/blocks/{height}?tx_limit=0")).await
    }

    pub async fn latest_block(&self) -> Result<BlockView, ClientError> {
        self.get("/v1/blocks/latest?tx_limit=0").await
    }

    /// Ask the node for the canonical bytes of an action (nonce and expiry filled in by default).
    pub async fn prepare(
        &self,
        key: &SecretKey,
        action: &Action,
        nonce: Option<u64>,
    ) -> Result<PrepareResponse, ClientError> {
        let body = serde_json::json!({ "signer": key.public_key(), "nonce": nonce, "action": action });
        self.post("/v1/txs/prepare", &body).await
    }

    /// Prepare on the node, sign locally, submit: the flow any language can follow.
    pub async fn prepare_sign_submit(&self, key: &SecretKey, action: &Action) -> Result<TxHash, ClientError> {
        let prepared = self.prepare(key, action, None).await?;
        let payload = hex::decode(&prepared.payload).map_err(|e| ClientError::Decode(e.to_string()))?;
        let signature = key.sign(Domain::Tx, &payload);
        let body =
            serde_json::json!({ "payload": prepared.payload, "public_key": key.public_key(), "signature": signature });
        self.post_tx(&body).await
    }

    /// Submit a transaction signed locally.
    pub async fn submit(&self, tx: &SignedTx) -> Result<TxHash, ClientError> {
        let body = serde_json::json!({
            "payload": hex::encode(tx.body.encode()),
            "public_key": tx.body.signer,
            "signature": tx.signature,
        });
        self.post_tx(&body).await
    }

    /// Submit up to 1000 signed transactions in one request; one result per transaction, in
    /// order: its hash, or the node's refusal (code, message).
    pub async fn submit_batch(&self, txs: &[SignedTx]) -> Result<Vec<Result<TxHash, (String, String)>>, ClientError> {
        Ok(self.post_batch(txs).await?.0)
    }

    /// Submit signed transactions (up to 1000), resubmitting unchanged — same bytes, same nonces —
    /// whatever the node sheds (`mempool_full`, `unavailable`) after the `Retry-After` it gives,
    /// for up to `patience`; what it still sheds then keeps its refusal. One result per
    /// transaction, in order.
    pub async fn submit_batch_patiently(
        &self,
        txs: &[SignedTx],
        patience: Duration,
    ) -> Result<Vec<Result<TxHash, (String, String)>>, ClientError> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut results: Vec<Result<TxHash, (String, String)>> = vec![Err(("unsent".into(), String::new())); txs.len()];
        let mut waiting: Vec<usize> = (0..txs.len()).collect();
        loop {
            let batch: Vec<SignedTx> = waiting.iter().map(|&i| txs[i].clone()).collect();
            let (answers, retry_after) = self.post_batch(&batch).await?;
            let mut shed = Vec::new();
            for (&i, answer) in waiting.iter().zip(answers) {
                if matches!(&answer, Err((code, _)) if is_shed(code)) {
                    shed.push(i);
                }
                results[i] = answer;
            }
            let wait = retry_after.unwrap_or(Duration::from_secs(1));
            if shed.is_empty() || tokio::time::Instant::now() + wait > deadline {
                return Ok(results);
            }
            tokio::time::sleep(wait).await;
            waiting = shed;
        }
    }

    /// POST a batch: the per-transaction results and the node's `Retry-After`, if it gave one.
    async fn post_batch(
        &self,
        txs: &[SignedTx],
    ) -> Result<(Vec<Result<TxHash, (String, String)>>, Option<Duration>), ClientError> {
        #[derive(Deserialize)]
        struct Item {
            tx_hash: Option<TxHash>,
            error: Option<ErrorDetail>,
        }
        #[derive(Deserialize)]
        struct Results {
            results: Vec<Item>,
        }
        let body = serde_json::json!({ "txs": txs.iter().map(|tx| serde_json::json!({
            "payload": hex::encode(tx.body.encode()),
            "public_key": tx.body.signer,
            "signature": tx.signature,
        })).collect::<Vec<_>>() });
        let url = format!("{}/v1/txs/batch", self.base);
        let response = self.http.post(&url).json(&body).send().await;
        let retry_after = response.as_ref().ok().and_then(retry_after);
        let results: Results = self.answer(url, response).await?;
        if results.results.len() != txs.len() {
            return Err(ClientError::Decode(format!(
                "{} results for {} transactions",
                results.results.len(),
                txs.len()
            )));
        }
        let results = results
            .results
            .into_iter()
            .map(|i| match (i.tx_hash, i.error) {
                (Some(h), None) => Ok(h),
                (_, Some(e)) => Err((e.code, e.message)),
                (None, None) => Err(("unknown".into(), "no hash and no error".into())),
            })
            .collect();
        Ok((results, retry_after))
    }

    /// Poll until the transaction is finalised (or dropped), up to `timeout`.
    pub async fn wait_finalised(&self, hash: &TxHash, timeout: Duration) -> Result<TxStatusView, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.tx(hash).await {
                Ok(status) if status.status == "finalised" || status.status == "dropped" => return Ok(status),
                Ok(_) => {}
                Err(ClientError::Api { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClientError::Api {
                    status: 408,
                    code: "timeout".into(),
                    message: format!("transaction {hash} not finalised within {timeout:?}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Build and sign a transaction locally.
pub fn sign_tx(key: &SecretKey, chain_id: &ChainId, nonce: u64, expiry: Expiry, action: Action) -> SignedTx {
    TxBody { chain_id: chain_id.clone(), signer: key.public_key(), nonce, expiry, action }.sign(key)
}

/// An expiry `heights` past `latest`.
pub fn expiry_after(latest: u64, heights: u64) -> Expiry {
    Expiry::Height(Height(latest + heights))
}
