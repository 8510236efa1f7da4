//! The dashboard: one page, its scripts (the public pages; the supervisor's workbench; the
//! TypeScript SDK's signing and audit checking, bundled by `npm run dashboard` in
//! `sdk/typescript`) and style, built into the binary (no external assets).
//! See `crates/api/assets/`.

use axum::http::header;
use axum::response::IntoResponse;

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const WORKBENCH: &str = include_str!("../assets/workbench.js");
const SDK: &str = include_str!("../assets/huxin-sdk.js");
const STYLE: &str = include_str!("../assets/app.css");

pub async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX)
}

pub async fn script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT)
}

pub async fn workbench() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], WORKBENCH)
}

pub async fn sdk() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SDK)
}

pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}
