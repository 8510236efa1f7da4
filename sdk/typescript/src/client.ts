// A client of one node's API: the body encoded and signed here (never a node's prepared payload
// signed unchecked), submitted, and waited for; node answers checked field by field.

import type { components } from "./api.js";
import { encode } from "./codec.js";
import { Action } from "./schema.js";
import { publicKey, signQuery, signTx, type TxBodyJson } from "./sign.js";

/** The node refused the request: the HTTP status and the node's stable error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "ApiError";
  }
}

/** A node's answer did not have the shape this SDK expects: which field. */
export class AnswerError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`the node's answer: ${field}: ${reason}`);
    this.name = "AnswerError";
  }
}

/** A wait ran out. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

export type TxStatus = {
  tx_hash: string;
  status: "pending" | "finalised" | "dropped";
  height: number | null;
  /** `"applied"` or `{ rejected: { code, reason } }` once finalised. */
  outcome: unknown;
};

/** Heights a transaction this client sends stays includable (the ledger allows up to 100 000). */
export const EXPIRY_HEIGHTS = 100;

function field<T>(answer: unknown, name: string, check: (v: unknown) => v is T, what: string): T {
  const v = typeof answer === "object" && answer !== null ? (answer as Record<string, unknown>)[name] : undefined;
  if (!check(v)) throw new AnswerError(name, `expected ${what}, got ${JSON.stringify(v)}`);
  return v;
}
const isString = (v: unknown): v is string => typeof v === "string";
const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isObject = (v: unknown): v is object => typeof v === "object" && v !== null && !Array.isArray(v);

/** The node's answer types, generated from its OpenAPI document (src/api.ts). */
export type Schemas = components["schemas"];
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

export class HuxinClient {
  readonly base: string;

  constructor(
    base: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.base = base.replace(/\/+$/, "");
  }

  private async request(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    const response = await fetch(this.base + path, {
      method,
      headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AnswerError("body", `not JSON (HTTP ${response.status}): ${text.slice(0, 200)}`);
    }
    if (!response.ok) {
      const error = field(json, "error", (v): v is object => typeof v === "object" && v !== null, "an error object");
      throw new ApiError(response.status, field(error, "code", isString, "a code"), field(error, "message", isString, "a message"));
    }
    return json;
  }

  /** GET any read endpoint as JSON. */
  get(path: string): Promise<unknown> {
    return this.request("GET", path);
  }

  async status(): Promise<{ chain_id: string; latest_height: number; node_key: string }> {
    const s = await this.get("/v1/status");
    return {
      chain_id: field(s, "chain_id", isString, "a chain id"),
      latest_height: field(s, "latest_height", isCount, "a height"),
      node_key: field(s, "node_key", isString, "a key"),
    };
  }

  /** The next nonce the ledger expects from `key` (pending transactions not counted). */
  async nextNonce(key: string): Promise<number> {
    return field(await this.get(`/v1/signers/${encodeURIComponent(key)}`), "next_nonce", isCount, "a nonce");
  }

  async tx(hash: string): Promise<TxStatus> {
    const t = await this.get(`/v1/txs/${encodeURIComponent(hash)}`);
    const status = field(t, "status", (v): v is TxStatus["status"] => v === "pending" || v === "finalised" || v === "dropped", "a status");
    const height = (t as Record<string, unknown>).height;
    return {
      tx_hash: field(t, "tx_hash", isString, "a hash"),
      status,
      height: isCount(height) ? height : null,
      outcome: (t as Record<string, unknown>).outcome ?? null,
    };
  }

  /**
   * Encode and sign `action` with `secretKey` here, and submit it: the chain id from the node,
   * the next nonce unless given, an expiry `EXPIRY_HEIGHTS` past the latest height.
   */
  async send(secretKey: string, action: TxBodyJson["action"], nonce?: number): Promise<string> {
    // Bad input is refused here, before anything is sent.
    const signer = publicKey(secretKey);
    encode(Action, action);
    const status = await this.status();
    const body: TxBodyJson = {
      chain_id: status.chain_id,
      signer,
      nonce: nonce ?? (await this.nextNonce(signer)),
      expiry: { height: status.latest_height + EXPIRY_HEIGHTS },
      action,
    };
    const signed = signTx(body, secretKey);
    const answer = await this.request("POST", "/v1/txs", {
      payload: signed.payload,
      public_key: signed.public_key,
      signature: signed.signature,
    });
    const hash = field(answer, "tx_hash", isString, "a hash");
    if (hash !== signed.tx_hash) throw new AnswerError("tx_hash", `the node says ${hash}, the body hashes to ${signed.tx_hash}`);
    return hash;
  }

  /** May the subject trade in `region` (at the latest block's time)? With every reason it may not. */
  async eligibility(subject: string, region: number): Promise<Schemas["EligibilityView"]> {
    const a = await this.get(`/v1/subjects/${encodeURIComponent(subject)}/eligibility?region=${region}`);
    field(a, "eligible", isBool, "true or false");
    field(a, "reasons", Array.isArray, "a list of reasons");
    return a as Schemas["EligibilityView"];
  }

  /** A subject's profile: attestation, blacklist entries, credit score, grants. */
  async subject(subject: string): Promise<Schemas["SubjectView"]> {
    const a = await this.get(`/v1/subjects/${encodeURIComponent(subject)}`);
    field(a, "blacklist", Array.isArray, "a list of entries");
    field(a, "score", isObject, "a score");
    return a as Schemas["SubjectView"];
  }

  /** A subject's public credit history across all regions. */
  async creditHistory(subject: string): Promise<Schemas["CreditHistoryView"]> {
    const a = await this.get(`/v1/subjects/${encodeURIComponent(subject)}/credit`);
    field(a, "records", Array.isArray, "a list of records");
    return a as Schemas["CreditHistoryView"];
  }

  /** An e-guarantee by its number (which may hold `/`), with its state in force now. */
  async guarantee(number: string): Promise<Schemas["GuaranteeView"]> {
    const a = await this.get(`/v1/guarantees/${encodeURIComponent(number)}`);
    field(a, "current_state", isString, "a state");
    field(a, "guarantee", isObject, "the guarantee");
    return a as Schemas["GuaranteeView"];
  }

  /** Every anchor of a document by its SHA-256 (hex). */
  async document(hash: string): Promise<Schemas["DocumentView"]> {
    const a = await this.get(`/v1/documents/${encodeURIComponent(hash)}`);
    field(a, "anchors", Array.isArray, "a list of anchors");
    return a as Schemas["DocumentView"];
  }

  /**
   * Every item of a listing (`/v1/credit`, `/v1/signers/{key}/txs`, …), a page at a time: follows
   * `next_cursor` until the last page. `path` may carry filters; `limit` is the page size.
   */
  async *pages(path: string, limit = 100): AsyncGenerator<unknown> {
    const sep = path.includes("?") ? "&" : "?";
    let cursor: string | null = null;
    do {
      const page = await this.get(`${path}${sep}limit=${limit}${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`);
      const items = field(page, "items", Array.isArray, "a list of items");
      yield* items;
      const next = (page as Record<string, unknown>).next_cursor;
      if (next !== null && next !== undefined && typeof next !== "string") throw new AnswerError("next_cursor", "expected a cursor or null");
      cursor = next ?? null;
    } while (cursor !== null);
  }

  /**
   * A signed GET (supervisor access, logged in the node's audit log): signed for this node (its
   * chain id and node key) at the current time. `pathAndQuery` as sent, percent-encoded.
   */
  async signedGet(secretKey: string, pathAndQuery: string): Promise<unknown> {
    const [path, query = ""] = pathAndQuery.split(/\?(.*)/s, 2);
    const status = await this.status();
    const headers = signQuery(secretKey, { chainId: status.chain_id, nodeKey: status.node_key }, "GET", path, query, Date.now());
    return this.request("GET", pathAndQuery, undefined, headers);
  }

  /** A subject's whole credit history, withheld records included: a signed supervisor query. */
  fullCreditHistory(secretKey: string, subject: string): Promise<unknown> {
    return this.signedGet(secretKey, `/v1/supervisor/subjects/${encodeURIComponent(subject)}/credit`);
  }

  /**
   * The event stream (`/v1/events?…`, server-sent events): one event per applied transaction,
   * replayed from `from_height` in `query` or after `lastEventId` (`height:index`), then live.
   * Stop by breaking out of the loop or aborting `signal`.
   */
  async *events(query: string, lastEventId?: string, signal?: AbortSignal): AsyncGenerator<{ id: string; kind: string; data: unknown }> {
    const response = await fetch(`${this.base}/v1/events${query ? `?${query}` : ""}`, {
      headers: lastEventId === undefined ? {} : { "last-event-id": lastEventId },
      signal,
    });
    if (!response.ok || response.body === null) {
      const answer = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
      throw new ApiError(response.status, answer.error?.code ?? "unknown", answer.error?.message ?? "no event stream");
    }
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
            yield { id, kind: event.kind ?? "message", data };
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
