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

/// The document, with the error codes written into its description.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let mut text = doc.info.description.take().unwrap_or_default();
    text.push_str("\n\n| code | meaning |\n| --- | --- |\n");
    for (code, meaning) in ERROR_CODES {
        text.push_str(&format!("| `{code}` | {meaning} |\n"));
    }
    text.push_str("\nTransaction rejection codes (status 422, and in receipts): see the `RejectCode` schema.");
    doc.info.description = Some(text);
    doc
}

pub async fn json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves (but the dashboard's own files) is in the document.
    #[test]
    fn every_route_is_documented() {
        let doc = serde_json::to_value(document()).expect("serialises");
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
        let doc = serde_json::to_value(document()).expect("serialises");
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

    /// Every error code the handlers use is listed in the document.
    #[test]
    fn every_error_code_is_documented() {
        let doc = document();
        let description = doc.info.description.unwrap_or_default();
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
