//! The monitoring configuration in deploy/monitoring/ works against real nodes: a real
//! Prometheus server (Debian's `prometheus`, installed by .ci/run) scrapes a four-city devnet with
//! that scrape configuration and rule file; every target is up, every alert rule loads and
//! evaluates, every metric a rule or a dashboard panel names has data, and every dashboard query
//! returns series.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::Net;

const PROMETHEUS: &str = "/usr/bin/prometheus";

/// How long a rule that must stay quiet on a healthy devnet may still be pending from its start.
const QUIET_WITHIN_SECS: u64 = 30;

fn monitoring_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/monitoring").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn query(api: &str, expr: &str) -> serde_json::Value {
    let url = format!("{api}/api/v1/query");
    let answer: serde_json::Value =
        reqwest::Client::new().get(url).query(&[("query", expr)]).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["status"], "success", "query {expr:?}: {answer}");
    answer
}

/// The metric names (`huxin_…`) an expression reads.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("huxin_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_every_node_and_every_rule_and_panel_has_data() {
    assert!(
        Path::new(PROMETHEUS).exists(),
        "{PROMETHEUS} is missing: install Debian's prometheus package (.ci/run does)"
    );
    let net = Net::start_all(4).await;
    // Some traffic, so rates and histograms have samples.
    for seed in 0..3 {
        net.send(seed as usize, "hangzhou", support::anchor_action(300 + seed)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let mut config = monitoring_file("prometheus.yml").replace("5s", "1s");
    for i in 0..4 {
        config = config
            .replace(&format!("127.0.0.1:{}", 26600 + i * 10), &format!("127.0.0.1:{}", net.base_port + i as u16 * 10));
    }
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let rules = monitoring_file("alerts.yml");
    std::fs::write(dir.path().join("alerts.yml"), &rules).unwrap();
    let port = support::free_base_port(1);
    let api = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _prometheus = Prometheus(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let prometheus_log = || std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();

    // Every target up.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let targets: Option<serde_json::Value> = match reqwest::get(format!("{api}/api/v1/targets")).await {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        let up = targets
            .as_ref()
            .and_then(|t| t["data"]["activeTargets"].as_array())
            .map(|ts| ts.iter().filter(|t| t["health"] == "up").count())
            .unwrap_or(0);
        if up == 4 {
            break;
        }
        assert!(Instant::now() < deadline, "{up} of 4 targets up: {targets:?}\n{}", prometheus_log());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Enough scrapes for rate() and increase() (two samples in their windows).
    tokio::time::sleep(Duration::from_secs(5)).await;

    // Every rule of alerts.yml loaded and evaluated without error.
    let wanted: Vec<String> =
        rules.lines().filter_map(|l| l.trim().strip_prefix("- alert: ").map(str::to_owned)).collect();
    assert!(wanted.len() >= 8, "alerts.yml has {} rules", wanted.len());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer: serde_json::Value =
            reqwest::get(format!("{api}/api/v1/rules")).await.unwrap().json().await.unwrap();
        let loaded: Vec<(String, String)> = answer["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .map(|r| (r["name"].as_str().unwrap_or("").to_owned(), r["health"].as_str().unwrap_or("").to_owned()))
            .collect();
        let healthy = wanted.iter().all(|w| loaded.iter().any(|(n, h)| n == w && h == "ok"));
        if healthy {
            break;
        }
        assert!(Instant::now() < deadline, "rules not all loaded and healthy: {loaded:?}\n{}", prometheus_log());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Every metric an alert names has a series for every node.
    let mut exprs: Vec<String> =
        rules.lines().filter_map(|l| l.trim().strip_prefix("expr: ").map(str::to_owned)).collect();
    assert_eq!(exprs.len(), wanted.len(), "one expr per rule");
    let dashboard: serde_json::Value = serde_json::from_str(&monitoring_file("grafana-dashboard.json")).unwrap();
    let panels: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    assert!(panels.len() >= 10, "the dashboard has {} queries", panels.len());
    exprs.extend(panels.iter().cloned());
    for name in exprs.iter().flat_map(|e| metric_names(e)) {
        let answer = query(&api, &name).await;
        let series = answer["data"]["result"].as_array().map_or(0, Vec::len);
        assert!(series >= 4, "metric {name}: {series} series, one per node expected");
    }
    // Every dashboard query returns series.
    for expr in &panels {
        let answer = query(&api, expr).await;
        let series = answer["data"]["result"].as_array().map_or(0, Vec::len);
        assert!(series >= 1, "dashboard query {expr:?} returned nothing: {answer}");
    }
    // The rules that must not fire on a healthy network do not. A node's peer gauge is refreshed
    // every `PEER_REFRESH_MS` and a peer counts once the engine has its validator proof, so a rule
    // may be pending for an evaluation or two while the devnet settles (a slow CI machine once
    // caught HuxinPeersBelowQuorum pending at 12 s); a rule that holds on a healthy network stays.
    let quiet = ["HuxinNodeDown", "HuxinPeersBelowQuorum", "HuxinEquivocationSeen", "HuxinMempoolNearFull"];
    let deadline = Instant::now() + Duration::from_secs(QUIET_WITHIN_SECS);
    loop {
        let mut active = Vec::new();
        for name in quiet {
            let answer = query(&api, &format!("ALERTS{{alertname=\"{name}\"}}")).await;
            if answer["data"]["result"].as_array().is_some_and(|r| !r.is_empty()) {
                active.push(answer);
            }
        }
        if active.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let peers = query(&api, "huxin_consensus_validator_peers").await;
            panic!("alerts active on a healthy network after {QUIET_WITHIN_SECS} s: {active:?}\npeer gauges: {peers}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
