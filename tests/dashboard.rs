//! The dashboard in headless Chromium (Debian's `chromium`, which `.ci/run` installs), driven over
//! the DevTools protocol like a person would use it: search a subject by name, read its page in
//! Chinese and in English, verify a guarantee, drop a file to verify a document, look at the
//! network. Set `HUXIN_CHROMIUM` to use another browser binary.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use huxin_types::credit::{RecordCredit, Severity};
use huxin_types::guarantee::{GuaranteeKind, IssueGuarantee};
use huxin_types::identity::{AttestSubject, BlacklistScope, ListOnBlacklist, SubjectId, SubjectKind};
use huxin_types::tx::{DealStage, TenderRef};
use huxin_types::{Action, Hash32, RegionCode, TimestampMs, Uscc};

use support::{deal_anchor, penalty, Net};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One headless Chromium with one page, spoken to over the DevTools protocol.
struct Browser {
    child: Child,
    socket: Socket,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    async fn launch() -> Browser {
        let exe = std::env::var("HUXIN_CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(&exe)
            .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
            .args(["--remote-debugging-port=0", "--window-size=1280,900"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {exe} ({e}): install Debian's chromium (apt-get install chromium)")
            });
        // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…".
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("DevTools listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        // Generous: on a loaded 2-core machine Chromium can take tens of seconds to start.
        let browser_url = rx.recv_timeout(Duration::from_secs(90)).expect("chromium printed no DevTools address");
        let port = browser_url.trim_start_matches("ws://127.0.0.1:").split('/').next().unwrap().to_owned();
        let targets: Value =
            reqwest::get(format!("http://127.0.0.1:{port}/json/list")).await.unwrap().json().await.unwrap();
        let page = targets.as_array().unwrap().iter().find(|t| t["type"] == "page").expect("a page target");
        let (socket, _) =
            tokio_tungstenite::connect_async(page["webSocketDebuggerUrl"].as_str().unwrap()).await.unwrap();
        let mut browser = Browser { child, socket, next_id: 0, _profile: profile };
        browser.call("Page.enable", json!({})).await;
        browser.call("Runtime.enable", json!({})).await;
        browser
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let text = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket.send(Message::Text(text)).await.unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer"))
                .expect("socket open")
                .unwrap();
            let Message::Text(text) = message else { continue };
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["id"] == id {
                assert!(value.get("error").is_none(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    /// Evaluate JavaScript in the page (promises awaited) and return its value.
    async fn eval(&mut self, expression: &str) -> Value {
        let r = self
            .call("Runtime.evaluate", json!({"expression": expression, "awaitPromise": true, "returnByValue": true}))
            .await;
        assert!(r.get("exceptionDetails").is_none(), "{expression}: {r}");
        r["result"]["value"].clone()
    }

    /// Wait until `expression` is truthy.
    async fn wait_for(&mut self, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // The page may be between renders: an exception counts as "not yet".
            let value = self
                .eval(&format!("(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()"))
                .await;
            if value == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                let body = self.eval("document.body.innerText").await;
                panic!("timed out waiting for {expression}; the page shows:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Go to `url` and wait until the dashboard has rendered route `route` (any page: "").
    async fn open(&mut self, url: &str, route: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        if route.is_empty() {
            self.wait_for("document.readyState === 'complete'").await;
        } else {
            self.wait_for(&format!("document.body && document.body.dataset.ready === {}", json!(route))).await;
        }
    }

    async fn text(&mut self, selector: &str) -> String {
        let expr = format!("document.querySelector({}).innerText", json!(selector));
        self.wait_for(&format!("document.querySelector({})", json!(selector))).await;
        self.eval(&expr).await.as_str().unwrap_or_default().to_owned()
    }
}

async fn send(net: &Net, who: &str, action: Action) {
    let client = net.client(0);
    let kind = action.kind();
    let hash = client.prepare_sign_submit(&net.member_key(who), &action).await.unwrap();
    let status = client.wait_finalised(&hash, Duration::from_secs(60)).await.unwrap();
    net.sync_to(status.height.unwrap_or(0)).await;
    assert_eq!(status.outcome, Some(huxin_types::Outcome::Applied), "{kind}: {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_uses_the_dashboard() {
    let net = Net::start_all(4).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let day = 86_400_000;
    let a = Uscc::with_check("91330100MA0000007").unwrap();
    let name = "浙江示范建设工程有限公司";
    send(
        &net,
        "hangzhou",
        Action::AttestSubject(AttestSubject {
            subject: SubjectId::Organisation(a.clone()),
            kind: SubjectKind::Supplier,
            name: name.into(),
            qualifications: vec![],
            bound_key: None,
            bound_key_proof: None,
            valid_until: None,
        }),
    )
    .await;
    send(&net, "ningbo", Action::RecogniseAttestation { subject: SubjectId::Organisation(a.clone()) }).await;
    let tender = TenderRef {
        region: RegionCode::new(330200).unwrap(),
        project_code: "NB-2026-009".into(),
        section_code: "01".into(),
    };
    send(
        &net,
        "ningbo",
        deal_anchor(&tender, DealStage::Announcement, Hash32::of_document(b"notice"), vec![], Some(5_000_000)),
    )
    .await;
    send(
        &net,
        "bank",
        Action::IssueGuarantee(IssueGuarantee {
            number: "BOC-2026-0901".into(),
            kind: GuaranteeKind::BidBond,
            applicant: a.clone(),
            beneficiary: Uscc::with_check("12330200MB0000002").unwrap(),
            premium_payer: a.clone(),
            tender: tender.clone(),
            amount_fen: 50_000,
            valid_from: TimestampMs(now - day),
            valid_until: TimestampMs(now + 90 * day),
            document_hash: Hash32::of_document(b"guarantee letter"),
            replaces: None,
        }),
    )
    .await;
    let bid = "投标文件：浙江示范建设工程有限公司".repeat(20);
    let bid_path = net.dir.path().join("bid.txt");
    std::fs::write(&bid_path, &bid).unwrap();
    send(
        &net,
        "hangzhou",
        deal_anchor(&tender, DealStage::Bid, Hash32::of_document(bid.as_bytes()), vec![a.clone()], None),
    )
    .await;
    send(
        &net,
        "supervisor",
        Action::RecordCredit(RecordCredit {
            severity: Severity::Serious,
            publication_end: TimestampMs(now + 400 * day),
            ..penalty(&a, "浙发改罚〔2026〕31号")
        }),
    )
    .await;
    send(
        &net,
        "supervisor",
        Action::ListOnBlacklist(ListOnBlacklist {
            subject: SubjectId::Organisation(a.clone()),
            scope: BlacklistScope::National,
            reason: "串通投标，情节严重".into(),
            legal_basis: "《招标投标法》第五十三条".into(),
            decision_no: "浙发改黑〔2026〕9号".into(),
            start: TimestampMs(now),
            end: None,
        }),
    )
    .await;

    // A penalty published only next month: hidden from the public, marked for supervisors.
    send(
        &net,
        "supervisor",
        Action::RecordCredit(RecordCredit {
            publication_start: TimestampMs(now + 30 * day),
            publication_end: TimestampMs(now + 200 * day),
            ..penalty(&a, "浙发改罚〔2026〕32号")
        }),
    )
    .await;

    let base = net.api(1);
    let mut b = Browser::launch().await;

    // Search by the start of the name, then open the subject.
    b.open(&format!("{base}/"), "#/").await;
    assert_eq!(b.text("header .brand").await, "互信 · 公共资源交易信用链");
    b.eval("document.getElementById('search-input').value = '浙江示范'").await;
    b.eval("document.getElementById('search-button').click()").await;
    b.wait_for("document.querySelector('#search-results a')").await;
    assert_eq!(b.text("#search-results a").await, name);
    b.eval("document.querySelector('#search-results a').click()").await;
    b.wait_for(&format!("document.body.dataset.ready === {}", json!(format!("#/subject/{a}")))).await;

    // The subject's page, in Chinese: identity, eligibility everywhere barred, the penalty on the
    // chart, the blacklist entry, the guarantee and the bid.
    assert_eq!(b.text("#subject-name").await, name);
    let eligibility = b.text("#eligibility").await;
    assert!(eligibility.contains("宁波") && eligibility.contains("不可参与"), "{eligibility}");
    assert_eq!(b.eval("document.querySelectorAll('#eligibility .ok').length").await, json!(0), "{eligibility}");
    assert_eq!(b.eval("document.querySelectorAll('#eligibility .bad').length").await, json!(4), "{eligibility}");
    assert_eq!(b.eval("document.querySelectorAll('#credit-chart circle').length").await, json!(1));
    assert_eq!(b.text("#credit-score").await, "50");
    assert!(b.text("#blacklist").await.contains("浙发改黑〔2026〕9号"));
    let page = b.text("#app").await;
    assert!(
        page.contains("BOC-2026-0901") && page.contains(&Hash32::of_document(bid.as_bytes()).to_string()),
        "{page}"
    );

    // The English switch relabels the page and is remembered.
    b.eval("document.getElementById('lang-toggle').click()").await;
    b.wait_for("document.querySelector('#eligibility').innerText.includes('Not eligible')").await;
    assert_eq!(b.text("#lang-toggle").await, "中文");
    b.open(&format!("{base}/#/network"), "#/network").await;
    assert!(b.text("main").await.contains("Validators"));
    assert!(b.text("#net-height").await.parse::<u64>().unwrap() > 0);
    assert_eq!(b.eval("document.querySelectorAll('#net-validators tr').length").await, json!(5), "header + 4");
    b.eval("document.getElementById('lang-toggle').click()").await;
    b.wait_for("document.querySelector('main').innerText.includes('验证节点')").await;

    // Guarantee verification: the real one, and one that does not exist.
    b.open(&format!("{base}/#/guarantee/BOC-2026-0901"), "#/guarantee/BOC-2026-0901").await;
    assert_eq!(b.text("#guarantee-state").await, "已出函");
    assert_eq!(b.eval("document.querySelector('#guarantee-state').dataset.state").await, json!("issued"));
    assert!(b.text("#guarantee-result").await.contains("真实有效"));
    b.open(&format!("{base}/#/guarantee/FAKE-0001"), "#/guarantee/FAKE-0001").await;
    assert!(b.text("#guarantee-result").await.contains("链上没有该记录"));

    // The API's OpenAPI document and its interactive page (served by the node, no CDN).
    let doc: Value = reqwest::get(format!("{base}/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    assert!(doc["paths"]["/v1/subjects/{subject}/credit"]["get"].is_object());
    assert!(doc["components"]["schemas"]["CreditHistoryView"].is_object());
    b.open(&format!("{base}/docs"), "").await;
    b.wait_for("document.querySelectorAll('.opblock').length >= 30").await;
    assert!(b.text(".swagger-ui").await.contains("/v1/subjects/{subject}/eligibility"));

    the_workbench(&net, &mut b, &base, &a).await;

    // Document verification: the browser hashes the chosen file; the anchored bid is found, an
    // altered copy is not.
    let altered_path = net.dir.path().join("bid-altered.txt");
    std::fs::write(&altered_path, format!("{bid} ")).unwrap();
    b.open(&format!("{base}/#/document"), "#/document").await;
    for (path, found) in [(&bid_path, true), (&altered_path, false)] {
        b.eval("document.getElementById('doc-result').innerHTML = ''").await;
        let document = b.call("DOM.getDocument", json!({})).await;
        let node =
            b.call("DOM.querySelector", json!({"nodeId": document["root"]["nodeId"], "selector": "#doc-file"})).await;
        b.call("DOM.setFileInputFiles", json!({"nodeId": node["nodeId"], "files": [path.display().to_string()]})).await;
        b.wait_for("document.querySelector('#doc-verdict')").await;
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(b.text("#doc-hash").await, Hash32::of_document(&bytes).to_string());
        let verdict = b.text("#doc-verdict").await;
        assert_eq!(verdict.contains("真实有效"), found, "{verdict}");
    }
}

/// The supervisor's workbench: monthly statistics with a chart and CSV; then a supervisor's key
/// loaded into the page signs its reads there — the full credit history with the hidden record
/// marked, the ring report, and this node's audit log, checked in the browser (and the check
/// catches an edited or a made-up entry).
async fn the_workbench(net: &Net, b: &mut Browser, base: &str, a: &Uscc) {
    b.open(&format!("{base}/#/stats"), "#/stats").await;
    b.wait_for("document.querySelectorAll('#stats-chart rect.stat-bar').length > 0").await;
    let table = b.text("#stats-table").await;
    assert!(table.contains("存证·投标文件") && table.contains("保函·已出函"), "{table}");
    let csv_href = b.eval("document.getElementById('stats-csv').getAttribute('href')").await;
    let csv = reqwest::get(format!("{base}{}", csv_href.as_str().unwrap())).await.unwrap().text().await.unwrap();
    assert!(csv.starts_with("month,region,metric,count") && csv.contains("anchors.bid"), "{csv}");
    b.eval("document.getElementById('stats-region').value = '330200'").await;
    b.eval("document.getElementById('stats-metric').value = 'anchors.'").await;
    b.eval("document.querySelector('#stats-form button').click()").await;
    b.wait_for("document.body.dataset.ready === '#/stats?region=330200&metric=anchors.'").await;
    if let Ok(dir) = std::env::var("HUXIN_SCREENSHOTS") {
        let shot = b.call("Page.captureScreenshot", json!({"format": "png"})).await;
        std::fs::write(format!("{dir}/stats.png.b64"), shot["data"].as_str().unwrap()).unwrap();
    }
    let filtered = b.text("#stats-table").await;
    assert!(filtered.contains("宁波") && !filtered.contains("保函"), "{filtered}");

    b.open(&format!("{base}/#/supervisor"), "#/supervisor").await;
    let key = std::fs::read_to_string(net.dir.path().join("keys").join("supervisor.key")).unwrap();
    b.eval(&format!("document.getElementById('sv-key').value = {}", json!(key.trim()))).await;
    b.eval("document.getElementById('sv-load').click()").await;
    b.wait_for("document.querySelector('#sv-who')").await;
    assert!(b.text("#sv-who").await.contains("(监管机构)"));
    b.eval(&format!("document.getElementById('sv-subject').value = {}", json!(a.to_string()))).await;
    b.eval("document.getElementById('sv-credit-read').click()").await;
    b.wait_for("document.querySelector('#sv-hidden')").await;
    assert_eq!(b.text("#sv-hidden").await, "1");
    assert_eq!(b.text(".hidden-record[data-publication=pending]").await, "待公示");
    b.wait_for("document.querySelector('#sv-no-findings')").await;
    b.wait_for("document.querySelector('#sv-audit-ok, #sv-audit-bad')").await;
    if let Ok(dir) = std::env::var("HUXIN_SCREENSHOTS") {
        let shot = b.call("Page.captureScreenshot", json!({"format": "png", "captureBeyondViewport": true})).await;
        std::fs::write(format!("{dir}/supervisor.png.b64"), shot["data"].as_str().unwrap()).unwrap();
    }
    let verdict = b.text("#sv-audit-verdict").await;
    assert!(verdict.contains("留痕完整"), "{verdict}");

    // The page's check, given an edited entry and an entry made up and re-hashed.
    let checks = b
        .eval(
            "(async () => {
                const status = audienceOf(await api('/v1/status'));
                const page = await signedApi('/v1/supervisor/audit?limit=1000');
                const good = HuxinSdk.checkAuditLog(page.entries, [], status);
                const edited = structuredClone(page.entries);
                edited[0].result_count += 1;
                const madeUp = structuredClone(page.entries);
                const last = madeUp[madeUp.length - 1];
                last.target = '/v1/supervisor/subjects/91330100MA0000099X/credit';
                last.hash = HuxinSdk.auditEntryHash(last);
                return [good.ok, HuxinSdk.checkAuditLog(edited, [], status).problem,
                    HuxinSdk.checkAuditLog(madeUp, [], status).problem, page.entries[0].supervisor_key];
            })()",
        )
        .await;
    assert_eq!(checks[0], json!(true), "{checks}");
    assert!(checks[1].as_str().unwrap().contains("edited"), "{checks}");
    assert!(checks[2].as_str().unwrap().contains("made up"), "{checks}");
    // The key that signed is of the chain's suite (SM2 keys are 33 bytes, ed25519 ones 32).
    let key_hex = checks[3].as_str().unwrap().len();
    assert_eq!(key_hex, if net.genesis().suite == huxin_types::crypto::Suite::Sm2Sm3 { 66 } else { 64 }, "{checks}");

    // The workbench in English.
    b.eval("document.getElementById('lang-toggle').click()").await;
    b.wait_for("document.querySelector('#sv-audit-ok') && document.querySelector('main').innerText.includes('intact')")
        .await;
    b.eval("document.getElementById('lang-toggle').click()").await;
    b.wait_for(
        "document.querySelector('#sv-audit-ok') && document.querySelector('main').innerText.includes('留痕完整')",
    )
    .await;
}
