//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! types' `ToSchema` derives; served at `/openapi.json`, with Swagger UI (assets built into the
//! binary by `swagger-ui-dist`) at `/docs/`.

use utoipa::OpenApi;

use crate::error::ERROR_CODES;
use crate::{blocks, events, query, stats, status, supervisor, txs};

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
        values: &[(
            "status",
            &["issued", "verified", "claimed", "paid", "released", "cancelled", "replaced", "expired"],
        )],
    },
    SharedParams { path: "/v1/blacklist", reads: &["cursor", "limit", "region", "time"], required: &[], values: &[] },
    SharedParams { path: "/v1/signers/{key}/txs", reads: PAGE, required: &[], values: &[] },
    SharedParams { path: "/v1/subjects", reads: &["cursor", "limit", "name"], required: &["name"], values: &[] },
    SharedParams { path: "/v1/subjects/{subject}/deals", reads: PAGE, required: &[], values: &[] },
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
    use serde_json::json;
    Some(match name {
        "region" => json!({"type": "string", "pattern": "^(1[1-9]|[2-7][0-9]|8[0-2])[0-9]{4}$"}),
        "provider" => json!({"type": "string", "pattern": "^[0-9a-f]{40}$"}),
        "applicant" => json!({"type": "string", "pattern": "^[0-9A-HJ-NP-RTUWXY]{18}$"}),
        "tender" => {
            json!({"type": "string", "pattern": "^(1[1-9]|[2-7][0-9]|8[0-2])[0-9]{4}/[^/\\s]{1,64}/[^/\\s]{1,64}$"})
        }
        "cursor" => json!({"type": "string", "pattern": "^([0-9a-f]{2})+$"}),
        "name" => json!({"type": "string", "pattern": "\\S", "maxLength": 64}),
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
        let limit = doc["paths"]["/v1/credit"]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
            .map(|p| p["schema"].clone())
            .unwrap_or_default();
        assert_eq!(
            (limit["minimum"].as_u64(), limit["maximum"].as_u64()),
            (Some(1), Some(crate::PAGE_ITEMS_MAX as u64))
        );
        let name = doc["paths"]["/v1/subjects"]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "name"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(name["required"], true);
        for op in SHARED_PARAMS {
            assert!(doc["paths"][op.path]["get"].is_object(), "{} is not an operation", op.path);
        }
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
            include_str!("events.rs"),
            include_str!("stats.rs"),
            include_str!("supervisor.rs"),
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
