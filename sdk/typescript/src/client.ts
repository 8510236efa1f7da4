// A client of one node's API: the body encoded and signed here (never a node's prepared payload
// signed unchecked), submitted, and waited for. Every read endpoint answers its type from the
// node's OpenAPI document, checked at run time (src/answers.ts).

import { AnswerError, checked, type Schemas } from "./answers.js";
import { encode, EncodeError } from "./codec.js";
import { Action } from "./schema.js";
import { publicKey, signQuery, signTx, type SignedSubmission, type TxBodyJson } from "./sign.js";

export { AnswerError, type Schemas };

/** The node refused the request: the HTTP status, the node's stable error code, and when to retry. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The node's Retry-After, in milliseconds (with `mempool_full`, `unavailable`, `too_many_streams`). */
    readonly retryAfterMs?: number,
  ) {
    super(`${code}: ${message}`);
    this.name = "ApiError";
  }
}

/** A wait ran out. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/** A transaction's status: pending, finalised (height, outcome) or dropped (reason). */
export type TxStatus = Schemas["TxStatusView"];

/** Heights a transaction this client sends stays includable (the ledger allows up to 100 000). */
export const EXPIRY_HEIGHTS = 100;

/** Most transactions one batch carries (the node's limit). */
export const BATCH_TXS_MAX = 1000;

/** A batch item's result: its hash, and the node's refusal of it (no code: it is pending). */
export type BatchResult = { tx_hash: string; code?: string; message?: string };

/** A batch's results, in order, and the node's Retry-After when it shed some. */
export type BatchAnswer = { results: BatchResult[]; retryAfterMs?: number };

/** Items per page the listing iterators ask for (the node's cap is 1 000). */
export const PAGE_LIMIT = 100;

/** How a proven read is asked: at the latest block or at a past time (ms), with or without a proof. */
export type Read = { time?: number; proof?: boolean };

/** Query parameters; undefined and null values are left out. */
export type Filters = Record<string, string | number | boolean | undefined | null>;

/** A query string of `filters`, percent-encoded, without the `?`. */
export function query(filters: Filters = {}): string {
  return Object.entries(filters)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
}

function withQuery(path: string, filters: Filters = {}): string {
  const q = query(filters);
  return q === "" ? path : `${path}${path.includes("?") ? "&" : "?"}${q}`;
}

const segment = encodeURIComponent;

/** The items of a page schema (`Page_CreditItem` → its item type). */
type PageName = Extract<keyof Schemas, `Page_${string}`>;
type ItemOf<N extends PageName> = Schemas[N] extends { items: (infer T)[] } ? T : never;

function readQuery(read: Read): Filters {
  return { time: read.time, proof: read.proof ? "true" : undefined };
}

export class HuxinClient {
  readonly base: string;
  /** The last nonce this client sent per signer, so that several sends in a row need no waiting. */
  private readonly sentNonces = new Map<string, number>();

  constructor(
    base: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.base = base.replace(/\/+$/, "");
  }

  // ---- requests ----

  /** The answer's text and headers; a refusal is an ApiError. */
  private async exchange(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ text: string; headers: Headers }> {
    const response = await fetch(this.base + path, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw refusal(response, text);
    return { text, headers: response.headers };
  }

  private async request(method: "GET" | "POST", path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    return parseJson((await this.exchange(method, path, body, headers)).text);
  }

  /** GET any read endpoint as JSON (unchecked). */
  get(pathAndQuery: string): Promise<unknown> {
    return this.request("GET", pathAndQuery);
  }

  /** GET an endpoint that answers text (`/metrics`, `/v1/stats?format=csv`). */
  async getText(pathAndQuery: string): Promise<string> {
    return (await this.exchange("GET", pathAndQuery)).text;
  }

  private async read<N extends keyof Schemas & string>(pathAndQuery: string, schema: N): Promise<Schemas[N]> {
    return checked(await this.get(pathAndQuery), schema);
  }

  // ---- the chain ----

  status(): Promise<Schemas["StatusView"]> {
    return this.read("/v1/status", "StatusView");
  }

  /** The latest block, with the first page of its transactions. */
  latestBlock(): Promise<Schemas["BlockView"]> {
    return this.read("/v1/blocks/latest", "BlockView");
  }

  /** A block, with up to `txLimit` of its transactions from `txOffset`. */
  block(height: number, page: { txOffset?: number; txLimit?: number } = {}): Promise<Schemas["BlockView"]> {
    return this.read(withQuery(`/v1/blocks/${height}`, { tx_offset: page.txOffset, tx_limit: page.txLimit }), "BlockView");
  }

  /** A transaction's status: pending, finalised (height, outcome) or dropped (reason). */
  tx(hash: string): Promise<TxStatus> {
    return this.read(`/v1/txs/${segment(hash)}`, "TxStatusView");
  }

  /** A signing key's member and nonces. */
  signer(key: string): Promise<Schemas["SignerView"]> {
    return this.read(`/v1/signers/${segment(key)}`, "SignerView");
  }

  /** The next nonce the ledger expects from `key` (pending transactions not counted). */
  async nextNonce(key: string): Promise<number> {
    return (await this.signer(key)).next_nonce;
  }

  /** Where every transaction `key` signed landed, in order. */
  signerTxs(key: string): AsyncGenerator<ItemOf<"Page_SignerTx">> {
    return this.pages(`/v1/signers/${segment(key)}/txs`, "Page_SignerTx");
  }

  /** Monthly counters (filters: from, to, region, metric). */
  stats(filters: Filters = {}): Promise<Schemas["StatsView"]> {
    return this.read(withQuery("/v1/stats", filters), "StatsView");
  }

  /** The same counters as CSV, for a spreadsheet. */
  statsCsv(filters: Filters = {}): Promise<string> {
    return this.getText(withQuery("/v1/stats", { ...filters, format: "csv" }));
  }

  /** The node's Prometheus metrics (text exposition format). */
  metrics(): Promise<string> {
    return this.getText("/metrics");
  }

  // ---- the federation ----

  async members(): Promise<Schemas["MemberRecord"][]> {
    const answer = await this.get("/v1/members");
    if (!Array.isArray(answer)) throw new AnswerError("body", "expected a list of members");
    return answer.map((m) => checked(m, "MemberRecord"));
  }

  validators(): Promise<Schemas["ValidatorsView"]> {
    return this.read("/v1/validators", "ValidatorsView");
  }

  params(): Promise<Schemas["Params"]> {
    return this.read("/v1/params", "Params");
  }

  /** A governance proposal by its id (the proposing transaction's hash). */
  proposal(id: string): Promise<Schemas["ProposalRecord"]> {
    return this.read(`/v1/proposals/${segment(id)}`, "ProposalRecord");
  }

  // ---- subjects, credit, guarantees, deals (proven reads: `{ proof: true }` adds a StateProof) ----

  /** A subject's profile: attestation, blacklist entries, credit score, grants. */
  subject(subject: string, read: Read = {}): Promise<Schemas["Proven_SubjectView"]> {
    return this.read(withQuery(`/v1/subjects/${segment(subject)}`, readQuery(read)), "Proven_SubjectView");
  }

  /** May the subject trade in `region` (at the latest block's time)? With every reason it may not. */
  eligibility(subject: string, region: number, read: Read = {}): Promise<Schemas["Proven_EligibilityView"]> {
    return this.read(withQuery(`/v1/subjects/${segment(subject)}/eligibility`, { region, ...readQuery(read) }), "Proven_EligibilityView");
  }

  /** Subjects whose name starts with `name`. */
  searchSubjects(name: string): AsyncGenerator<ItemOf<"Page_SubjectMatch">> {
    return this.pages(withQuery("/v1/subjects", { name }), "Page_SubjectMatch");
  }

  /** The documents anchored naming the subject as a party. */
  subjectDeals(subject: string): AsyncGenerator<ItemOf<"Page_AnchorRecord">> {
    return this.pages(`/v1/subjects/${segment(subject)}/deals`, "Page_AnchorRecord");
  }

  /** Blacklist entries in force (filters: region, time). */
  blacklist(filters: Filters = {}): AsyncGenerator<ItemOf<"Page_BlacklistEntry">> {
    return this.pages(withQuery("/v1/blacklist", filters), "Page_BlacklistEntry");
  }

  /** A subject's public credit history across all regions. */
  creditHistory(subject: string, read: Read = {}): Promise<Schemas["Proven_CreditHistoryView"]> {
    return this.read(withQuery(`/v1/subjects/${segment(subject)}/credit`, readQuery(read)), "Proven_CreditHistoryView");
  }

  /**
   * A subject's attestation as a W3C Verifiable Credential (VC 2.0, eddsa-jcs-2022 proof by the
   * attesting centre's did:key): ask the attesting centre's node (others answer 409 not_issuer).
   */
  async credential(subject: string): Promise<Record<string, unknown>> {
    return (await this.get(`/v1/subjects/${segment(subject)}/credential`)) as Record<string, unknown>;
  }

  /** An evaluation session and the pools its expert draw was made from. */
  async evaluation(id: string): Promise<Schemas["EvaluationView"]> {
    return checked(await this.get(`/v1/evaluations/${segment(id)}`), "EvaluationView");
  }

  /** Published credit records (filters: region, kind, severity, from, to, time). */
  credit(filters: Filters = {}): AsyncGenerator<ItemOf<"Page_CreditItem">> {
    return this.pages(withQuery("/v1/credit", filters), "Page_CreditItem");
  }

  /** An e-guarantee by its number (which may hold `/`), with its state in force now. */
  guarantee(number: string, read: Read = {}): Promise<Schemas["Proven_GuaranteeView"]> {
    return this.read(withQuery(`/v1/guarantees/${segment(number)}`, readQuery(read)), "Proven_GuaranteeView");
  }

  /** Guarantees by one filter: provider, tender, applicant or status. */
  guarantees(filter: Filters): AsyncGenerator<ItemOf<"Page_GuaranteeView">> {
    return this.pages(withQuery("/v1/guarantees", filter), "Page_GuaranteeView");
  }

  /** Every anchor of a document by its SHA-256 (hex). */
  document(hash: string, read: Read = {}): Promise<Schemas["Proven_DocumentView"]> {
    return this.read(withQuery(`/v1/documents/${segment(hash)}`, readQuery(read)), "Proven_DocumentView");
  }

  /** A tender section's timeline and collusion warnings. */
  tender(region: number, project: string, section: string, read: Read = {}): Promise<Schemas["Proven_TenderView"]> {
    return this.read(withQuery(`/v1/tenders/${region}/${segment(project)}/${segment(section)}`, readQuery(read)), "Proven_TenderView");
  }

  /** The audit-log heads `member` anchored on the ledger. */
  auditAnchors(member: string): AsyncGenerator<ItemOf<"Page_AuditAnchor">> {
    return this.pages(`/v1/audit/anchors/${segment(member)}`, "Page_AuditAnchor");
  }

  // ---- paging ----

  /**
   * Every item of a listing whose pages are the schema `page`, `limit` at a time, following
   * `next_cursor` until the last page; each page is fetched when the one before is used up.
   */
  async *pages<N extends PageName>(
    path: string,
    page: N,
    limit = PAGE_LIMIT,
    fetchPage: (pathAndQuery: string) => Promise<unknown> = (p) => this.get(p),
  ): AsyncGenerator<ItemOf<N>> {
    let cursor: string | undefined;
    do {
      const answer = checked(await fetchPage(withQuery(path, { limit, cursor })), page) as unknown as { items: ItemOf<N>[]; next_cursor?: string | null };
      yield* answer.items;
      cursor = answer.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  // ---- supervisors' signed reads ----

  /**
   * A signed GET (supervisor access, logged in the node's audit log): signed for this node (its
   * chain id and node key) at the current time. `pathAndQuery` as sent, percent-encoded.
   */
  async signedGet(secretKey: string, pathAndQuery: string): Promise<unknown> {
    return this.request("GET", pathAndQuery, undefined, await this.signedHeaders(secretKey, pathAndQuery));
  }

  /** The headers that sign a GET of `pathAndQuery` for this node, now. */
  private async signedHeaders(secretKey: string, pathAndQuery: string): Promise<Record<string, string>> {
    const [path, q = ""] = pathAndQuery.split(/\?(.*)/s, 2);
    const status = await this.status();
    return signQuery(secretKey, { chainId: status.chain_id, nodeKey: status.node_key }, "GET", path, q, Date.now());
  }

  /** A subject's whole credit history, withheld records included. */
  async fullCreditHistory(secretKey: string, subject: string): Promise<Schemas["FullCreditView"]> {
    return checked(await this.signedGet(secretKey, `/v1/supervisor/subjects/${segment(subject)}/credit`), "FullCreditView");
  }

  /** Every credit record, withheld ones included (filters as `credit`, plus status). */
  supervisorCredit(secretKey: string, filters: Filters = {}): AsyncGenerator<ItemOf<"Page_CreditItem">> {
    return this.pages(withQuery("/v1/supervisor/credit", filters), "Page_CreditItem", PAGE_LIMIT, (p) => this.signedGet(secretKey, p));
  }

  /** This node's audit log of supervisor queries: `limit` entries after `after` (from the start if absent). */
  async auditLog(secretKey: string, after?: number, limit = PAGE_LIMIT): Promise<Schemas["AuditPage"]> {
    return checked(await this.signedGet(secretKey, withQuery("/v1/supervisor/audit", { after, limit })), "AuditPage");
  }

  /** The collusion-ring report, one page (filters: from_height, to_height, kind, subject, limit, cursor). */
  async ringReport(secretKey: string, filters: Filters = {}): Promise<Schemas["RingReport"]> {
    return checked(await this.signedGet(secretKey, withQuery("/v1/supervisor/rings", filters)), "RingReport");
  }

  // ---- reads by a subject's grant (数据授权), signed and audited ----

  /** A subject's whole credit history, read by its `credit_history` grant to this key's member (403 grant_missing without one). */
  async grantedCreditHistory(secretKey: string, subject: string): Promise<Schemas["FullCreditView"]> {
    return checked(await this.signedGet(secretKey, `/v1/granted/subjects/${segment(subject)}/credit`), "FullCreditView");
  }

  /** The guarantees a subject (a USCC) applied for, read by its `guarantees` grant (filters: status, time). */
  grantedGuarantees(secretKey: string, subject: string, filters: Filters = {}): AsyncGenerator<ItemOf<"Page_GuaranteeView">> {
    const path = withQuery(`/v1/granted/subjects/${segment(subject)}/guarantees`, filters);
    return this.pages(path, "Page_GuaranteeView", PAGE_LIMIT, (p) => this.signedGet(secretKey, p));
  }

  /** The deal documents naming a subject (a USCC), read by its `deals` grant. */
  grantedDeals(secretKey: string, subject: string): AsyncGenerator<ItemOf<"Page_AnchorRecord">> {
    const path = `/v1/granted/subjects/${segment(subject)}/deals`;
    return this.pages(path, "Page_AnchorRecord", PAGE_LIMIT, (p) => this.signedGet(secretKey, p));
  }

  // ---- transactions ----

  /**
   * Encode and sign `action` with `secretKey` here, and submit it: the chain id from the node,
   * the next nonce unless given (the ledger's, or one past the last this client sent for the
   * signer if that is later: pending transactions are not on the ledger yet), an expiry
   * `EXPIRY_HEIGHTS` past the latest height.
   */
  async send(secretKey: string, action: TxBodyJson["action"], nonce?: number): Promise<string> {
    // Bad input is refused here, before anything is sent.
    const signer = publicKey(secretKey);
    encode(Action, action);
    const status = await this.status();
    const next = nonce ?? (await this.nextNonceToSend(signer));
    const signed = signAt(secretKey, status, next, action);
    const answer = checked(await this.request("POST", "/v1/txs", submission(signed)), "SubmitResponse");
    if (answer.tx_hash !== signed.tx_hash) throw new AnswerError("tx_hash", `the node says ${answer.tx_hash}, the body hashes to ${signed.tx_hash}`);
    this.sentNonces.set(signer, Math.max(next, this.sentNonces.get(signer) ?? -1));
    return answer.tx_hash;
  }

  /** The ledger's next nonce for `signer`, or one past the last this client sent if later. */
  private async nextNonceToSend(signer: string): Promise<number> {
    return Math.max(await this.nextNonce(signer), (this.sentNonces.get(signer) ?? -1) + 1);
  }

  /**
   * Encode and sign `actions` with one key at consecutive nonces, and submit them in one request:
   * one result per action, in order. The node admits each on its own; items it shed
   * (`mempool_full`, `unavailable`) can be sent again after `retryAfterMs`. Bad input, or more
   * than `BATCH_TXS_MAX` actions, is refused before anything is sent.
   */
  async sendBatch(secretKey: string, actions: TxBodyJson["action"][]): Promise<BatchAnswer> {
    if (actions.length > BATCH_TXS_MAX) throw new EncodeError("actions", `${actions.length} in one batch; at most ${BATCH_TXS_MAX}`);
    const signer = publicKey(secretKey);
    actions.forEach((action, i) => {
      try {
        encode(Action, action);
      } catch (e) {
        if (e instanceof EncodeError) throw new EncodeError(e.field === "" ? `actions[${i}]` : `actions[${i}].${e.field}`, e.reason);
        throw e;
      }
    });
    const status = await this.status();
    const first = await this.nextNonceToSend(signer);
    const signed = actions.map((action, i) => signAt(secretKey, status, first + i, action));
    const answer = await this.exchange("POST", "/v1/txs/batch", { txs: signed.map(submission) });
    const items = checked(parseJson(answer.text), "BatchResponse").results;
    if (items.length !== actions.length) throw new AnswerError("results", `${items.length} results for ${actions.length} transactions`);
    const results = items.map((item, i): BatchResult => {
      const hash = signed[i].tx_hash;
      if (item.error !== undefined && item.error !== null) {
        const error = checked({ error: item.error }, "ErrorBody").error;
        return { tx_hash: hash, code: error.code, message: error.message };
      }
      if (item.tx_hash !== hash) throw new AnswerError(`results[${i}].tx_hash`, `the node says ${item.tx_hash}, the body hashes to ${hash}`);
      this.sentNonces.set(signer, Math.max(first + i, this.sentNonces.get(signer) ?? -1));
      return { tx_hash: hash };
    });
    return { results, retryAfterMs: retryAfterMs(answer.headers) };
  }

  /**
   * The event stream (`/v1/events?…`, server-sent events): one event per applied transaction,
   * replayed from `from_height` in `query` or after `lastEventId` (`height:index`), then live.
   * Stop by breaking out of the loop or aborting `signal`.
   */
  events(query: string, lastEventId?: string, signal?: AbortSignal): AsyncGenerator<{ id: string; kind: string; data: Schemas["Event"] }> {
    const headers: Record<string, string> = lastEventId === undefined ? {} : { "last-event-id": lastEventId };
    return this.serverEvents(`/v1/events${query ? `?${query}` : ""}`, headers, "Event", signal);
  }

  /**
   * Collusion-ring findings as they appear (`/v1/supervisor/rings/events`, signed and audited
   * like the report): every finding in force on connect, then each new or grown one as blocks
   * are added, and each one sent that no longer stands (its `key`, `finding` null) (filters:
   * from_height, kind, subject). Stop by breaking out or aborting `signal`.
   */
  async *ringEvents(
    secretKey: string,
    filters: Filters = {},
    signal?: AbortSignal,
  ): AsyncGenerator<{ id: string; kind: string; data: Schemas["RingEvent"] }> {
    const pathAndQuery = withQuery("/v1/supervisor/rings/events", filters);
    yield* this.serverEvents(pathAndQuery, await this.signedHeaders(secretKey, pathAndQuery), "RingEvent", signal);
  }

  /** A server-sent event stream whose every event's data is one JSON `name`, checked. */
  private async *serverEvents<N extends keyof Schemas & string>(
    pathAndQuery: string,
    headers: Record<string, string>,
    name: N,
    signal?: AbortSignal,
  ): AsyncGenerator<{ id: string; kind: string; data: Schemas[N] }> {
    const response = await fetch(`${this.base}${pathAndQuery}`, { headers, signal });
    if (!response.ok) throw refusal(response, await response.text());
    if (response.body === null) throw new AnswerError("body", "no event stream");
    const decoder = new TextDecoder();
    let buffer = "";
    let event: { id?: string; kind?: string; data: string[] } = { data: [] };
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        if (line === "") {
          if (event.data.length > 0) {
            const id = event.id ?? "";
            let data: unknown;
            try {
              data = JSON.parse(event.data.join("\n"));
            } catch {
              throw new AnswerError("data", `event ${id} is not JSON`);
            }
            yield { id, kind: event.kind ?? "message", data: checked(data, name) };
          }
          event = { data: [] };
        } else if (line.startsWith("id:")) event.id = line.slice(3).trim();
        else if (line.startsWith("event:")) event.kind = line.slice(6).trim();
        else if (line.startsWith("data:")) event.data.push(line.slice(5).replace(/^ /, ""));
      }
    }
  }

  /** Poll until `hash` is finalised or dropped; an error after `timeoutMs`. */
  async waitFinalised(hash: string, timeoutMs = 60_000): Promise<TxStatus> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const t = await this.tx(hash).catch((e) => {
        if (e instanceof ApiError && e.code === "not_found") return undefined;
        throw e;
      });
      if (t !== undefined && t.status !== "pending") return t;
      if (Date.now() > until) throw new TimeoutError(`${hash} not finalised within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** The node's refusal as an ApiError, from its error body and Retry-After. */
function refusal(response: Response, text: string): ApiError {
  let error: unknown;
  try {
    error = (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    return new ApiError(response.status, "unknown", `not JSON (HTTP ${response.status}): ${text.slice(0, 200)}`);
  }
  const e = checked({ error }, "ErrorBody").error;
  return new ApiError(response.status, e.code, e.message, retryAfterMs(response.headers));
}

/** The answer's Retry-After (seconds) in milliseconds, if it has one. */
function retryAfterMs(headers: Headers): number | undefined {
  const retry = headers.get("retry-after");
  return retry !== null && /^[0-9]{1,6}$/.test(retry) ? Number(retry) * 1000 : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AnswerError("body", `not JSON: ${text.slice(0, 200)}`);
  }
}

/** `action` signed at `nonce` for the node's chain, expiring `EXPIRY_HEIGHTS` on. */
function signAt(secretKey: string, status: Schemas["StatusView"], nonce: number, action: TxBodyJson["action"]) {
  const body: TxBodyJson = {
    chain_id: status.chain_id,
    signer: publicKey(secretKey),
    nonce,
    expiry: { height: status.latest_height + EXPIRY_HEIGHTS },
    action,
  };
  return signTx(body, secretKey);
}

function submission(signed: SignedSubmission) {
  return { payload: signed.payload, public_key: signed.public_key, signature: signed.signature };
}
