//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! types' `ToSchema` derives; served at `/openapi.json`, with Swagger UI (assets built into the
//! binary by `swagger-ui-dist`) at `/docs/`.

use utoipa::OpenApi;

use crate::error::ERROR_CODES;
use crate::{blocks, credential, evaluation, events, granted, query, rings, stats, status, supervisor, txs};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Huxin (互信) API",
        description = "The query and transaction API of a Huxin node: the ledger public-resource trading centres share. \
            Every error answer is `{\"error\": {\"code\", \"message\"}}`; the codes are listed below."
    ),
    paths(
        status::status,
        txs::prepare,
        txs::submit,
        txs::submit_batch,
        txs::tx_status,
        blocks::block,
        blocks::latest_block,
        txs::signer,
        status::metrics,
        query::signer_txs,
        query::credit_list,
        query::guarantee_list,
        query::blacklist_list,
        query::members,
        query::subject_search,
        query::subject_deals,
        query::subject,
        query::eligibility,
        query::credit_history,
        query::guarantee,
        query::document,
        query::tender,
        query::proposal,
        query::params,
        query::validators,
        events::events,
        stats::stats,
        supervisor::anchors,
        supervisor::credit_history,
        supervisor::audit_log,
        supervisor::credit_list,
        granted::credit_history,
        granted::guarantees,
        granted::deals,
        rings::report,
        rings::events::events,
        credential::credential,
        credential::revocation,
        credential::recognitions,
        evaluation::session,
    ),
    components(schemas(crate::error::ErrorBody, huxin_types::RejectCode))
)]
struct ApiDoc;

/// The operations that share [`crate::query::ListQuery`] (and [`crate::query::AtQuery`]): the
/// query parameters each handler reads (the others are left out of its documentation), those it
/// requires, and the values an enum-like one takes.
struct SharedParams {
    path: &'static str,
    reads: &'static [&'static str],
    required: &'static [&'static str],
    values: &'static [(&'static str, &'static [&'static str])],
}

const CREDIT_KINDS: &[&str] =
    &["administrative_penalty", "dishonest_conduct", "commendation", "project_evaluation", "contract_performance"];
const SEVERITIES: &[&str] = &["minor", "general", "serious"];
const GUARANTEE_STATES: &[&str] =
    &["issued", "verified", "claimed", "paid", "released", "cancelled", "replaced", "expired"];
const CREDIT_LIST: &[&str] = &["cursor", "limit", "region", "kind", "severity", "from", "to", "time"];
const PAGE: &[&str] = &["cursor", "limit"];
const POINT: &[&str] = &["time", "proof"];

const SHARED_PARAMS: &[SharedParams] = &[
    SharedParams {
        path: "/v1/credit",
        reads: CREDIT_LIST,
        required: &[],
        values: &[("kind", CREDIT_KINDS), ("severity", SEVERITIES)],
    },
    SharedParams {
        path: "/v1/supervisor/credit",
        reads: &["cursor", "limit", "region", "kind", "severity", "from", "to", "time", "status"],
        required: &[],
        values: &[
            ("kind", CREDIT_KINDS),
            ("severity", SEVERITIES),
            ("status", &["pending", "active", "expired", "repaired", "revoked"]),
        ],
    },
    SharedParams {
        path: "/v1/guarantees",
        reads: &["cursor", "limit", "provider", "tender", "applicant", "status", "time"],
        required: &[],
        values: &[("status", GUARANTEE_STATES)],
    },
    SharedParams { path: "/v1/blacklist", reads: &["cursor", "limit", "region", "time"], required: &[], values: &[] },
    SharedParams { path: "/v1/signers/{key}/txs", reads: PAGE, required: &[], values: &[] },
    SharedParams { path: "/v1/subjects", reads: &["cursor", "limit", "name"], required: &["name"], values: &[] },
    SharedParams { path: "/v1/subjects/{subject}/deals", reads: PAGE, required: &[], values: &[] },
    SharedParams { path: "/v1/granted/subjects/{subject}/deals", reads: PAGE, required: &[], values: &[] },
    SharedParams {
        path: "/v1/granted/subjects/{subject}/guarantees",
        reads: &["cursor", "limit", "status", "time"],
        required: &[],
        values: &[("status", GUARANTEE_STATES)],
    },
    SharedParams { path: "/v1/audit/anchors/{member}", reads: PAGE, required: &[], values: &[] },
    SharedParams { path: "/v1/subjects/{subject}", reads: POINT, required: &[], values: &[] },
    SharedParams { path: "/v1/subjects/{subject}/credit", reads: POINT, required: &[], values: &[] },
    SharedParams {
        path: "/v1/subjects/{subject}/eligibility",
        reads: &["time", "proof", "region"],
        required: &["region"],
        values: &[],
    },
    SharedParams { path: "/v1/guarantees/{number}", reads: POINT, required: &[], values: &[] },
    SharedParams { path: "/v1/documents/{hash}", reads: POINT, required: &[], values: &[] },
    SharedParams { path: "/v1/tenders/{region}/{project}/{section}", reads: POINT, required: &[], values: &[] },
];

/// The shapes of the shared query parameters, as the server checks them.
fn shared_param_schema(name: &str) -> Option<serde_json::Value> {
    use huxin_types::id::REGION_PATTERN;
    use serde_json::json;
    Some(match name {
        "region" => json!({"type": "string", "pattern": format!("^{REGION_PATTERN}$")}),
        "provider" => json!({"type": "string", "pattern": "^[0-9a-f]{40}$"}),
        "applicant" => json!({"type": "string", "pattern": huxin_types::id::USCC_PATTERN, "format": "uscc"}),
        "tender" => {
            json!({"type": "string", "pattern": format!("^{REGION_PATTERN}/[^/\\s]{{1,64}}/[^/\\s]{{1,64}}$")})
        }
        "cursor" => json!({"type": "string", "pattern": "^([0-9a-f]{2})+$"}),
        "name" => json!({"type": "string", "minLength": 1, "maxLength": crate::query::SUBJECT_NAME_QUERY_CHARS_MAX}),
        _ => return None,
    })
}

/// Write what the server checks into the shared parameters of each operation (see
/// [`SHARED_PARAMS`]).
fn constrain_shared_params(doc: &mut serde_json::Value) {
    for op in SHARED_PARAMS {
        let Some(get) = doc["paths"][op.path].get_mut("get") else { continue };
        let Some(params) = get.get_mut("parameters").and_then(|p| p.as_array_mut()) else { continue };
        params.retain(|p| p["in"] != "query" || op.reads.contains(&p["name"].as_str().unwrap_or_default()));
        for p in params.iter_mut().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            if let Some(schema) = shared_param_schema(&name) {
                p["schema"] = schema;
            }
            if let Some((_, values)) = op.values.iter().find(|(n, _)| *n == name) {
                p["schema"] = serde_json::json!({"type": "string", "enum": values});
            }
            if op.required.contains(&name.as_str()) {
                p["required"] = serde_json::Value::Bool(true);
            }
        }
    }
}

/// The public credit reads, whose `time` may not pass the latest block's (see
/// [`crate::query::public_time`]): the document says so in words and, for tools, in the
/// parameter's `x-huxin-at-most` extension.
const NO_LOOK_AHEAD: &[&str] = &["/v1/credit", "/v1/subjects/{subject}", "/v1/subjects/{subject}/credit"];

fn mark_no_look_ahead(doc: &mut serde_json::Value) {
    for path in NO_LOOK_AHEAD {
        let Some(params) = doc["paths"][*path]["get"]["parameters"].as_array_mut() else { continue };
        if let Some(time) = params.iter_mut().find(|p| p["name"] == "time") {
            time["description"] = "Evaluate at this time (ms since the epoch), at most the latest block's time: the public \
                credit view does not look ahead (a later time is refused with `bad_query`); default: the latest block's time."
                .into();
            time["x-huxin-at-most"] = "latest_block_time_ms".into();
        }
    }
}

/// Write the exact shape of `/v1/events`' comma-separated filters into its parameters.
fn constrain_event_filters(doc: &mut serde_json::Value) {
    let Some(params) = doc["paths"]["/v1/events"]["get"]["parameters"].as_array_mut() else { return };
    for (name, schema) in events::list_schemas() {
        if let Some(p) = params.iter_mut().find(|p| p["name"] == name) {
            p["schema"] = schema;
        }
    }
}

/// Describe each server-sent event of the event streams as it goes on the wire (OpenAPI 3.1: the
/// `schema` of `text/event-stream` is one event): its `id`, its `event` name and its `data`, one
/// JSON value of the stream's schema. `/v1/events`: id `height:index` (the `Last-Event-ID` to
/// resume after), name the transaction kind, data an `Event`; `/v1/supervisor/rings/events`: id
/// `height:n`, name the finding's kind, data a `RingEvent`.
fn describe_event_streams(doc: &mut serde_json::Value) {
    let streams: [(&str, &str, &[&str], &str, &str); 2] = [
        (
            "/paths/~1v1~1events/get/responses/200/content/text~1event-stream",
            "`height:index` of the transaction; send it as `Last-Event-ID` to resume after it.",
            &huxin_types::Action::KINDS,
            "The transaction kind.",
            "Event",
        ),
        (
            "/paths/~1v1~1supervisor~1rings~1events/get/responses/200/content/text~1event-stream",
            "`height:n`: the height analysed and the finding's place in that analysis.",
            huxin_state::rings::FINDING_KINDS,
            "The finding's kind.",
            "RingEvent",
        ),
    ];
    for (pointer, id, names, name_description, data) in streams {
        // (A pointer, not indexing: indexing a missing path would write nulls into the document.)
        let Some(content) = doc.pointer_mut(pointer) else { continue };
        content["schema"] = serde_json::json!({
            "type": "object",
            "required": ["id", "event", "data"],
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9]{1,20}:[0-9]{1,10}$", "description": id},
                "event": {"type": "string", "enum": names, "description": name_description},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"$ref": format!("#/components/schemas/{data}")},
                    "description": format!("One JSON `{data}` on one line.")
                }
            }
        });
    }
}

/// Give every unsigned integer (utoipa's unsigned formats, which it spells `u-int64`: written
/// here as the registry's `uint64`) the range its Rust type accepts. (`format` alone bounds
/// nothing in JSON Schema, and tools read `int64` as signed.)
fn bound_unsigned_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let format = map.get("format").and_then(|f| f.as_str()).map(|f| f.replace("u-int", "uint"));
            let max = match format.as_deref() {
                Some("uint8") => Some(u64::from(u8::MAX)),
                Some("uint16") => Some(u64::from(u16::MAX)),
                Some("uint32") => Some(u64::from(u32::MAX)),
                Some("uint64") => Some(u64::MAX),
                _ => None,
            };
            if let (Some(max), Some(format)) = (max, format) {
                map.insert("format".into(), format.into());
                let declared = map.get("maximum").and_then(|m| m.as_u64());
                map.insert("maximum".into(), declared.map_or(max, |d| d.min(max)).into());
                map.entry("minimum").or_insert(0.into());
            }
            map.values_mut().for_each(bound_unsigned_integers);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(bound_unsigned_integers),
        _ => {}
    }
}

/// The document, with the error codes written into its description and the shared query
/// parameters constrained per operation.
pub fn document() -> serde_json::Value {
    let mut doc = ApiDoc::openapi();
    let mut text = doc.info.description.take().unwrap_or_default();
    text.push_str("\n\n| code | meaning |\n| --- | --- |\n");
    for (code, meaning) in ERROR_CODES {
        text.push_str(&format!("| `{code}` | {meaning} |\n"));
    }
    text.push_str("\nTransaction rejection codes (status 422, and in receipts): see the `RejectCode` schema.");
    doc.info.description = Some(text);
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    constrain_shared_params(&mut doc);
    constrain_event_filters(&mut doc);
    describe_event_streams(&mut doc);
    mark_no_look_ahead(&mut doc);
    bound_unsigned_integers(&mut doc);
    doc
}

pub async fn json() -> axum::Json<serde_json::Value> {
    axum::Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves (but the dashboard's own files) is in the document.
    #[test]
    fn every_route_is_documented() {
        let doc = document();
        let source = include_str!("routes.rs");
        let mut routes = 0;
        for line in source.lines().filter(|l| l.trim_start().starts_with(".route(\"")) {
            let path = line.split('"').nth(1).expect("a quoted path");
            if path == "/" || path.starts_with("/assets/") || path == "/openapi.json" {
                continue;
            }
            routes += 1;
            assert!(doc["paths"].get(path).is_some(), "{path} is served but not in the OpenAPI document");
        }
        assert!(routes >= 30, "found only {routes} routes");
    }

    /// No two operations share an operation id (generated clients name their methods by it).
    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut seen = std::collections::BTreeMap::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                let id = op["operationId"].as_str().unwrap_or_default().to_owned();
                assert!(!id.is_empty(), "{method} {path} has no operation id");
                if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                    panic!("operation id {id} names both {other} and {method} {path}");
                }
            }
        }
        assert!(seen.len() >= 31, "{seen:?}");
    }

    /// Each list operation documents the query parameters its handler reads, with the server's
    /// bounds (one list, to stay in step with the handlers: see SHARED_PARAMS).
    #[test]
    fn shared_parameters_are_the_ones_each_handler_reads() {
        let doc = document();
        let names = |path: &str| -> Vec<String> {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(names("/v1/signers/{key}/txs"), ["cursor", "limit"]);
        assert!(!names("/v1/credit").contains(&"status".to_owned()), "/v1/credit refuses status");
        let limit = param(&doc, "/v1/credit", "limit")["schema"].clone();
        assert_eq!(
            (limit["minimum"].as_u64(), limit["maximum"].as_u64()),
            (Some(1), Some(crate::PAGE_ITEMS_MAX as u64))
        );
        let name = param(&doc, "/v1/subjects", "name");
        assert_eq!(name["required"], true);
        assert_eq!(name["schema"]["maxLength"].as_u64(), Some(crate::query::SUBJECT_NAME_QUERY_CHARS_MAX as u64));
        for op in SHARED_PARAMS {
            assert!(doc["paths"][op.path]["get"].is_object(), "{} is not an operation", op.path);
        }
    }

    fn param(doc: &serde_json::Value, path: &str, name: &str) -> serde_json::Value {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{path} has no parameter {name}"))
    }

    /// Unsigned integers have their type's range: before, a u64 read as signed `int64`, so the
    /// document refused heights and times the server accepts.
    #[test]
    fn unsigned_integers_have_their_types_range() {
        let doc = document();
        let from_height = param(&doc, "/v1/events", "from_height")["schema"].clone();
        assert_eq!((from_height["minimum"].as_u64(), from_height["maximum"].as_u64()), (Some(0), Some(u64::MAX)));
        assert_eq!(from_height["format"], "uint64");
        let offset = param(&doc, "/v1/blocks/{height}", "tx_offset")["schema"].clone();
        assert_eq!(offset["maximum"].as_u64(), Some(u64::from(u32::MAX)));
        let limit = param(&doc, "/v1/blocks/{height}", "tx_limit")["schema"].clone();
        assert_eq!(limit["maximum"].as_u64(), Some(crate::PAGE_ITEMS_MAX as u64), "a declared bound stays");
    }

    /// Each SSE event is described as sent (before, `schema` was the bare `Event`, which is only
    /// the `data` line: schemathesis found every event violating it).
    #[test]
    fn the_event_stream_describes_each_event_as_sent() {
        let doc = document();
        let schema = &doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"];
        assert_eq!(schema["required"], serde_json::json!(["id", "event", "data"]));
        assert_eq!(schema["properties"]["data"]["contentSchema"]["$ref"], "#/components/schemas/Event");
        let kinds = schema["properties"]["event"]["enum"].as_array().map_or(0, Vec::len);
        assert_eq!(kinds, huxin_types::Action::KINDS.len());
        let id = regex::Regex::new(schema["properties"]["id"]["pattern"].as_str().unwrap_or_default()).unwrap();
        assert!(id.is_match("12:0") && !id.is_match("12") && !id.is_match("a:b"));
    }

    #[test]
    fn the_public_credit_reads_say_they_do_not_look_ahead() {
        let doc = document();
        for path in NO_LOOK_AHEAD {
            assert_eq!(param(&doc, path, "time")["x-huxin-at-most"], "latest_block_time_ms", "{path}");
        }
        assert!(param(&doc, "/v1/documents/{hash}", "time").get("x-huxin-at-most").is_none());
        let kinds = param(&doc, "/v1/events", "kinds")["schema"]["pattern"].as_str().unwrap_or_default().to_owned();
        assert!(kinds.contains("anchor_document|"), "{kinds}");
    }

    /// Every error code the handlers use is listed in the document.
    #[test]
    fn every_error_code_is_documented() {
        let doc = document();
        let description = doc["info"]["description"].as_str().unwrap_or_default().to_owned();
        let sources = [
            include_str!("routes.rs"),
            include_str!("query/mod.rs"),
            include_str!("query/subjects.rs"),
            include_str!("query/credit_list.rs"),
            include_str!("query/ledger.rs"),
            include_str!("query/paging.rs"),
            include_str!("query/proof.rs"),
            include_str!("events/mod.rs"),
            include_str!("events/filter.rs"),
            include_str!("stats.rs"),
            include_str!("supervisor.rs"),
            include_str!("signed.rs"),
            include_str!("granted.rs"),
            include_str!("credential.rs"),
            include_str!("evaluation.rs"),
            include_str!("rings/mod.rs"),
            include_str!("rings/events.rs"),
            include_str!("error.rs"),
        ];
        let mut found = 0;
        for source in sources {
            // The codes given to bad_request; the rest are checked through ERROR_CODES below.
            for (i, _) in source.match_indices("bad_request(\"") {
                let code = source[i + 13..].split('"').next().expect("a literal");
                found += 1;
                assert!(description.contains(&format!("`{code}`")), "error code {code} is not documented");
            }
        }
        for (code, _) in ERROR_CODES {
            assert!(description.contains(&format!("`{code}`")));
        }
        assert!(found > 10, "found only {found} uses of bad_request");
    }
}
