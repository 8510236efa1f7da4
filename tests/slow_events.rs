//! A slow event-stream client: one that stops reading is dropped once its buffer stays full past
//! the limit, while a client that reads gets every event and the node keeps finalising.

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use huxin_types::{Action, RegionCode, Uscc};
use serde_json::json;

use support::{Net, Stream};

/// An anchor of about 3 KB as an event: 64 parties and a long title.
fn big_anchor(seed: u64, region: RegionCode) -> Action {
    use huxin_types::tx::{AnchorDocument, DealStage, TenderRef};
    Action::AnchorDocument(AnchorDocument {
        tender: TenderRef { region, project_code: format!("SLOW-{seed}"), section_code: "01".into() },
        stage: DealStage::OpeningRecord,
        document_hash: huxin_types::Hash32::of_document(&seed.to_be_bytes()),
        title: "开标记录表".repeat(17),
        deal_code: String::new(),
        platform_code: String::new(),
        parties: (0..64).map(|i| Uscc::with_check(&format!("91330100MA{:07}", seed * 64 + i)).unwrap()).collect(),
        experts: vec![],
        estimated_price_fen: None,
    })
}

/// A client that stops reading is dropped once its buffer stays full past the limit; a client
/// that reads gets every event meanwhile, and the node keeps finalising.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_dropped_and_never_slows_the_node() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Enough to overflow what the kernel buffers on loopback (up to 4 MiB of send buffer).
    const ANCHORS: u64 = 2000;

    let mut net = Net::create(4);
    // Node 0 buffers 64 events per client and drops a client that leaves them unread for 2 s.
    let config = net.home(0).join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("events_buffer = 1024") && text.contains("events_slow_client_ms = 5000"), "{text}");
    let text = text
        .replace("events_buffer = 1024", "events_buffer = 64")
        .replace("events_slow_client_ms = 5000", "events_slow_client_ms = 2000");
    std::fs::write(&config, text).unwrap();
    for i in 0..4 {
        net.start(i);
    }
    net.wait_height(0, 1, Duration::from_secs(60)).await;
    let api = net.api(0);
    let addr = api.trim_start_matches("http://").to_owned();

    // The slow client: a small receive buffer, a request, and then no reading.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = socket.connect(addr.parse().unwrap()).await.unwrap();
    let request = format!("GET /v1/events?kinds=anchor_document HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    slow.write_all(request.as_bytes()).await.unwrap();
    // The reading client, reading all along.
    let mut reader = Stream::open(&format!("{api}/v1/events?kinds=anchor_document"), None).await;
    let expected = (ANCHORS / net.bench_keys().len() as u64) * net.bench_keys().len() as u64;
    let reading = tokio::spawn(async move {
        let mut n = 0;
        while n < expected && reader.next(Duration::from_secs(60)).await.is_some() {
            n += 1;
        }
        n
    });

    let keys = net.bench_keys();
    let client = net.client(0);
    let status = client.status().await.unwrap();
    let mut hashes = Vec::new();
    for (k, key) in keys.iter().enumerate() {
        let per_key = ANCHORS / keys.len() as u64;
        let signer = client.get_json(&format!("/v1/signers/{}", key.public_key())).await.unwrap();
        let nonce = signer["next_nonce"].as_u64().unwrap();
        let region: RegionCode = signer["region"].as_str().unwrap().parse().unwrap();
        let txs: Vec<_> = (0..per_key)
            .map(|i| {
                let action = big_anchor(k as u64 * 1000 + i, region);
                huxin_client::sign_tx(key, &status.chain_id, nonce + i, support::far_expiry(), action)
            })
            .collect();
        for result in client.submit_batch(&txs).await.unwrap() {
            hashes.push(result.unwrap());
        }
    }
    let total = hashes.len();
    for hash in &hashes {
        let s = client.wait_finalised(hash, Duration::from_secs(120)).await.unwrap();
        assert_eq!(s.outcome, Some(huxin_types::Outcome::Applied), "{s:?}");
    }

    // The reading client got every event.
    assert_eq!(total as u64, expected);
    assert_eq!(reading.await.unwrap(), expected, "the reading client missed events");

    // The slow client was dropped: what it can still read ends, short of every event.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut received)).await;
    let text = String::from_utf8_lossy(&received);
    let metrics = reqwest::get(format!("{api}/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        read.is_ok(),
        "the slow client's stream was never closed: {} bytes, {} events read; {}",
        received.len(),
        text.matches("event: anchor_document").count(),
        metrics.lines().filter(|l| l.contains("dropped")).collect::<Vec<_>>().join("\n")
    );
    let events = text.matches("event: anchor_document").count();
    assert!(events < total, "the slow client got all {events} events: it was not dropped");
    let metrics = reqwest::get(format!("{api}/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("huxin_event_clients_dropped_total 1"),
        "{}",
        metrics.lines().filter(|l| l.contains("dropped")).collect::<Vec<_>>().join("\n")
    );

    // The node went on finalising.
    let h = net.height(0).await.unwrap();
    net.wait_height(0, h + 2, Duration::from_secs(30)).await;
}

/// One client address cannot take every event stream: it gets at most
/// `events_streams_per_address` (16 by default) and then a typed 503, and a closed stream gives
/// its place back. Its streams replay from height 1 with a filter that matches nothing (reads on
/// the blocking pool), and the node keeps finalising meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_a_bounded_share_of_event_streams() {
    let net = Net::start_all(1).await;
    let api = net.api(0);
    let url = format!("{api}/v1/events?kinds=propose&from_height=1");
    let mut open = Vec::new();
    for _ in 0..huxin_api::events::EVENTS_PER_ADDRESS_MAX {
        open.push(Stream::open(&url, None).await);
    }
    let refused = reqwest::get(&url).await.unwrap();
    assert_eq!(refused.status(), 503);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], json!("too_many_streams"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("to one address"), "{body}");

    let height = net.height(0).await.unwrap();
    net.wait_height(0, height + 3, Duration::from_secs(30)).await;

    drop(open.pop());
    // The server sees the closed connection at the latest at its next keep-alive (15 s).
    let mut reopened = None;
    for _ in 0..250 {
        let response = reqwest::get(&url).await.unwrap();
        if response.status() == 200 {
            reopened = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed stream's place was not given back");
}
