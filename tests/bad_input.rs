//! Bad input from clients and peers gets a clear, typed refusal, and the network keeps working:
//! malformed bytes, oversized bodies and payloads, bad signatures, wrong chain id, unknown
//! signers, replayed nonces, expired transactions, and a non-member peer connecting to gossip.

mod support;

use std::time::Duration;

use futures::StreamExt;
use huxin_types::tx::Expiry;
use huxin_types::{ChainId, Height, SecretKey};
use libp2p::swarm::{dummy, SwarmEvent};
use serde_json::{json, Value};
use support::{anchor_tx, far_expiry, Net};

async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let value = resp.json::<Value>().await.expect("every answer is JSON");
    (status, value)
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

fn submission(tx: &huxin_types::SignedTx) -> String {
    json!({ "payload": hex::encode(tx.body.encode()), "public_key": tx.body.signer, "signature": tx.signature })
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_typed_errors() {
    let net = Net::start_all(4).await;
    let api = net.api(0);
    let txs_url = format!("{api}/v1/txs");
    let key = net.member_key("hangzhou");

    // Malformed: not JSON, not hex, hex but not a transaction, trailing bytes.
    let (s, v) = post(&txs_url, "{not json").await;
    assert_eq!((s, code(&v)), (400, "bad_json"), "{v}");
    let (s, v) = post(
        &txs_url,
        json!({"payload": "zz", "public_key": key.public_key(), "signature": "00".repeat(64)}).to_string(),
    )
    .await;
    assert_eq!((s, code(&v)), (400, "malformed"), "{v}");
    let (s, v) = post(
        &txs_url,
        json!({"payload": "deadbeef", "public_key": key.public_key(), "signature": "00".repeat(64)}).to_string(),
    )
    .await;
    assert_eq!((s, code(&v)), (400, "malformed"), "{v}");
    let good = anchor_tx(&net.chain_id, &key, 1, far_expiry(), 1);
    let mut trailing = good.body.encode();
    trailing.push(0);
    let body = json!({"payload": hex::encode(&trailing), "public_key": key.public_key(), "signature": good.signature})
        .to_string();
    let (s, v) = post(&txs_url, body).await;
    assert_eq!((s, code(&v)), (400, "malformed"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("trailing"), "{v}");

    // Oversized: request body over the limit; payload over the transaction limit.
    let (s, v) = post(&txs_url, "x".repeat(huxin_api::BODY_BYTES_MAX + 1)).await;
    assert_eq!((s, code(&v)), (413, "body_too_large"), "{v}");
    let big = json!({"payload": "00".repeat(huxin_types::limits::TX_BYTES_MAX + 1), "public_key": key.public_key(), "signature": "00".repeat(64)});
    let (s, v) = post(&txs_url, big.to_string()).await;
    assert_eq!((s, code(&v)), (413, "tx_too_large"), "{v}");

    // Bad signature.
    let mut forged = good.clone();
    forged.signature.0[0] ^= 1;
    let (s, v) = post(&txs_url, submission(&forged)).await;
    assert_eq!((s, code(&v)), (422, "bad_signature"), "{v}");

    // Wrong chain id.
    let other = anchor_tx(&ChainId::new("another-chain").unwrap(), &key, 1, far_expiry(), 2);
    let (s, v) = post(&txs_url, submission(&other)).await;
    assert_eq!((s, code(&v)), (422, "wrong_chain"), "{v}");

    // Unknown signer.
    let stranger = net.key_from(0x5a);
    let (s, v) = post(&txs_url, submission(&anchor_tx(&net.chain_id, &stranger, 1, far_expiry(), 3))).await;
    assert_eq!((s, code(&v)), (422, "unknown_signer"), "{v}");

    // Expired.
    let latest = net.height(0).await.unwrap();
    let expired = anchor_tx(&net.chain_id, &key, 1, Expiry::Height(Height(latest.saturating_sub(1))), 4);
    let (s, v) = post(&txs_url, submission(&expired)).await;
    assert_eq!((s, code(&v)), (422, "expired"), "{v}");

    // A good transaction is finalised; replaying it, or reusing its nonce, is refused.
    let (s, v) = post(&txs_url, submission(&good)).await;
    assert_eq!(s, 202, "{v}");
    let status = net.client(0).wait_finalised(&good.hash(), Duration::from_secs(30)).await.unwrap();
    assert_eq!(status.status, "finalised");
    let (s, v) = post(&txs_url, submission(&good)).await;
    assert_eq!((s, code(&v)), (422, "bad_nonce"), "{v}");
    let reuse = anchor_tx(&net.chain_id, &key, 1, far_expiry(), 5);
    let (s, v) = post(&format!("{}/v1/txs", net.api(2)), submission(&reuse)).await;
    assert_eq!((s, code(&v)), (422, "bad_nonce"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("already used"), "{v}");

    // Lookups with bad paths and unknown things are typed too.
    let r = reqwest::get(format!("{api}/v1/txs/nothex")).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = reqwest::get(format!("{api}/v1/txs/{}", "ab".repeat(32))).await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "not_found");
    let r = reqwest::get(format!("{api}/v1/blocks/1?tx_limit=100000")).await.unwrap();
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "page_too_large");
    let r = reqwest::get(format!("{api}/v1/nowhere")).await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = reqwest::get(format!("{api}/v1/txs")).await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(code(&r.json::<Value>().await.unwrap()), "method_not_allowed");

    // Read endpoints: every kind of bad query gets its status and stable code.
    let api = net.api(2);
    let cases: &[(&str, u16, &str)] = &[
        ("/v1/subjects/91330100MA0000001X", 400, "bad_path"),
        ("/v1/subjects/91330100MA0000001F?proof=maybe", 400, "bad_query"),
        ("/v1/subjects/91330100MA0000001F?time=soon", 400, "bad_query"),
        ("/v1/subjects/91330100MA0000001F/eligibility", 400, "bad_query"),
        ("/v1/subjects/91330100MA0000001F/eligibility?region=999", 400, "bad_path"),
        ("/v1/subjects/legacy:/deals", 400, "bad_path"),
        ("/v1/subjects", 400, "bad_query"),
        ("/v1/subjects?name=", 400, "bad_query"),
        ("/v1/documents/abcd", 400, "bad_path"),
        ("/v1/guarantees/NO-SUCH", 404, "not_found"),
        ("/v1/guarantees?applicant=123", 400, "bad_path"),
        ("/v1/guarantees?provider=00&tender=330100/a/b", 400, "bad_query"),
        ("/v1/tenders/330100/NO/01", 404, "not_found"),
        ("/v1/proposals/zz", 400, "bad_path"),
        ("/v1/credit?limit=0", 400, "bad_query"),
        ("/v1/credit?limit=1001", 400, "page_too_large"),
        ("/v1/credit?severity=apocalyptic", 400, "bad_query"),
        ("/v1/blacklist?cursor=00", 400, "bad_query"),
        ("/v1/stats?from=202613", 400, "bad_query"),
        ("/v1/stats?format=xml", 400, "bad_query"),
        ("/v1/stats?region=nowhere", 400, "bad_path"),
        ("/v1/audit/anchors/zz", 400, "bad_path"),
        ("/v1/supervisor/audit", 401, "unauthorized"),
        ("/v1/supervisor/subjects/91330100MA0000001F/credit", 401, "unauthorized"),
        ("/v1/events?regions=1", 400, "bad_path"),
        ("/v1/no-such-endpoint", 404, "not_found"),
    ];
    for (path, status, expected) in cases {
        let r = reqwest::get(format!("{api}{path}")).await.unwrap();
        let got = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!((got, code(&body)), (*status, *expected), "{path}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap_or_default().is_empty(), "{path}: a reason");
    }
    // The public credit view never looks ahead of the latest block (it would show records not
    // yet published): a later time is refused on every public credit answer.
    let ahead =
        huxin_client::Client::new(&api).block(net.height(2).await.unwrap()).await.unwrap().header.time.0 + 86_400_000;
    for path in [
        format!("/v1/subjects/91330100MA0000001F?time={ahead}"),
        format!("/v1/subjects/91330100MA0000001F/credit?time={ahead}"),
        format!("/v1/credit?time={ahead}"),
    ] {
        let r = reqwest::get(format!("{api}{path}")).await.unwrap();
        let got = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!((got, code(&body)), (400, "bad_query"), "{path}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("does not look ahead"), "{path}: {body}");
    }
    let r =
        reqwest::Client::new().get(format!("{api}/v1/events")).header("Last-Event-ID", "later").send().await.unwrap();
    assert_eq!((r.status().as_u16(), code(&r.json::<Value>().await.unwrap())), (400, "bad_header"));

    // A peer whose key is not a member's cannot join transaction gossip.
    let node_key = SecretKey::from_hex(std::fs::read_to_string(net.home(0).join("node_key")).unwrap().trim()).unwrap();
    let node_peer = huxin_consensus::gossip::peer_id_of(&node_key.public_key().ed25519().unwrap().0).unwrap();
    let mut intruder = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(libp2p::tcp::Config::default(), libp2p::noise::Config::new, libp2p::yamux::Config::default)
        .unwrap()
        .with_behaviour(|_| dummy::Behaviour)
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    let addr: libp2p::Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", net.gossip_port(0)).parse().unwrap();
    intruder.dial(addr).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, intruder.next()).await {
        if let SwarmEvent::ConnectionEstablished { .. } | SwarmEvent::ConnectionClosed { .. } = event {
            println!("intruder: {event:?}");
        }
    }
    assert!(!intruder.is_connected(&node_peer), "a non-member must not stay connected");
    assert_eq!(net.client(0).status().await.unwrap().peers, 3, "the node counts only its three validator peers");

    // And the network still works.
    let next = anchor_tx(&net.chain_id, &key, 2, far_expiry(), 6);
    net.client(1).submit(&next).await.unwrap();
    let status = net.client(3).wait_finalised(&next.hash(), Duration::from_secs(30)).await.unwrap();
    assert_eq!(status.status, "finalised");
}
