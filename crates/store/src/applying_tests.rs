//! A block's state applied in the background (`record_decided`, `apply_decided`): what readers
//! see while the write is in flight, what the next block executes on, and crashes in between.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use huxin_state::{validate_block, Parent, ValidateOptions};
use huxin_types::{Block, Height};

use crate::tests::{genesis, huxin_contracts_nonce_key, next_block};
use crate::{Store, StoreError, TxLocation};

fn hold(store: &Store, held: bool) {
    *store.applying.held.lock().unwrap() = held;
    store.applying.released.notify_all();
}

/// What a reader sees of the store at `height`: the latest height, the signer's nonce at every
/// version, the state roots of the height and its parent, the block's receipts and where its
/// transactions are.
#[derive(Debug, PartialEq)]
struct Seen {
    latest: Option<Height>,
    nonces: Vec<Option<Vec<u8>>>,
    roots: Vec<huxin_types::Hash32>,
    receipts: usize,
    locations: Vec<Option<TxLocation>>,
    nonce_now: Option<Vec<u8>>,
}

fn seen(store: &Store, block: &Block) -> Seen {
    use jmt::storage::TreeReader;
    let height = block.header.height;
    let key = huxin_state::key_hash(Default::default(), &huxin_contracts_nonce_key());
    Seen {
        latest: store.latest_height().unwrap(),
        nonces: (0..=height.0 + 1).map(|v| store.get_value_option(v, key).unwrap()).collect(),
        roots: [height.0 - 1, height.0].iter().map(|v| huxin_state::root_hash(store, *v).unwrap()).collect(),
        receipts: store.receipts(height).unwrap().map_or(0, |r| r.len()),
        locations: block.txs.iter().map(|t| store.tx_location(&t.hash()).unwrap()).collect(),
        nonce_now: store.state_value(&huxin_contracts_nonce_key()).unwrap(),
    }
}

#[test]
fn a_block_in_flight_reads_and_executes_on_as_one_written_in_place() {
    let g = genesis();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // `in_place` persists each block in one write; `pipelined` records it, then applies it in the
    // background, held back while this test reads and builds the next block on it.
    let in_place = Store::open(dir_a.path(), false).unwrap();
    in_place.init_genesis(&g).unwrap();
    let pipelined = Arc::new(Store::open(dir_b.path(), false).unwrap());
    pipelined.init_genesis(&g).unwrap();

    let (mut block, mut executed) = next_block(&pipelined, &g, 4);
    for _ in 0..6 {
        let height = block.header.height;
        in_place.persist_block(&block, b"certificate", &executed).unwrap();
        pipelined.record_decided(&block, b"certificate").unwrap();
        hold(&pipelined, true);
        pipelined.apply_decided(&block, &executed).unwrap();

        assert!(pipelined.applying.overlay().is_some(), "the write of {height} is held in flight");
        assert_eq!(pipelined.latest_height().unwrap(), Some(height));
        assert_eq!(seen(&pipelined, &block), seen(&in_place, &block), "at {height}, in flight");
        // The next block, executed on the state in flight, is the one built on the written state.
        let (next, next_executed) = next_block(&pipelined, &g, 4);
        let (reference, _) = next_block(&in_place, &g, 4);
        assert_eq!(next.hash(), reference.hash(), "block {} built on {height} in flight", next.header.height);
        assert!(pipelined.applying.overlay().is_some(), "still in flight");

        hold(&pipelined, false);
        pipelined.wait_applied().unwrap();
        assert!(pipelined.applying.overlay().is_none());
        assert_eq!(seen(&pipelined, &block), seen(&in_place, &block), "at {height}, landed");
        assert_eq!(pipelined.check_committed().unwrap(), Some(height));
        assert_eq!(
            pipelined.index_scan(b"", None, 10_000).unwrap(),
            in_place.index_scan(b"", None, 10_000).unwrap(),
            "the indexes at {height}"
        );
        (block, executed) = (next, next_executed);
    }
}

#[test]
fn a_block_is_applied_only_once_recorded_and_in_order() {
    let g = genesis();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path(), false).unwrap());
    store.init_genesis(&g).unwrap();
    let (block, executed) = next_block(&store, &g, 2);
    assert!(matches!(store.apply_decided(&block, &executed), Err(StoreError::NotRecorded(Height(1)))));
    assert_eq!(store.latest_height().unwrap(), Some(Height(0)), "nothing applied");
    store.record_decided(&block, b"certificate").unwrap();
    assert_eq!(store.decided_ahead().unwrap().map(|b| b.hash()), Some(block.hash()));
    store.apply_decided(&block, &executed).unwrap();
    assert!(matches!(
        store.record_decided(&block, b"certificate"),
        Err(StoreError::OutOfOrder { expected: Height(2), got: Height(1) })
    ));
    assert!(store.decided_ahead().unwrap().is_none());
}

/// Execute and apply the block a crash left recorded but not applied, as a node does at start.
fn apply_decided_ahead(store: &Arc<Store>) {
    let Some(block) = store.decided_ahead().unwrap() else { return };
    let latest = store.latest_height().unwrap().unwrap();
    let g = genesis();
    let parent =
        if latest.0 == 0 { Parent::genesis(&g) } else { Parent::of(&store.header(latest).unwrap().unwrap(), g.suite) };
    let options = ValidateOptions { now: None, time_drift_ms_max: 0, signatures_verified: false, signature_threads: 1 };
    let executed = validate_block(store.as_ref(), &parent, &block, options, &|_| false).unwrap();
    store.apply_decided(&block, &executed).unwrap();
    store.wait_applied().unwrap();
}

/// Child side of the crash test: decide blocks forever as a node does (record, then apply in the
/// background while the next is built), printing each height once it is recorded. With
/// `HUXIN_HOLD_AT`, the write of that height is held back (and says so) until the kill.
#[test]
#[ignore = "run by a_crash_between_record_and_apply_loses_no_decided_block"]
fn pipelined_writer_child() {
    let Ok(dir) = std::env::var("HUXIN_CRASH_DIR") else { return };
    let g = genesis();
    let store = Arc::new(Store::open(Path::new(&dir), true).unwrap());
    store.init_genesis(&g).unwrap();
    apply_decided_ahead(&store);
    let hold_at: Option<u64> = std::env::var("HUXIN_HOLD_AT").ok().and_then(|h| h.parse().ok());
    loop {
        let (block, executed) = next_block(&store, &g, 50);
        store.record_decided(&block, b"certificate").unwrap();
        println!("decided {}", block.header.height);
        let held = hold_at == Some(block.header.height.0);
        hold(&store, held);
        store.apply_decided(&block, &executed).unwrap();
        if held {
            println!("held {}", block.header.height);
        }
    }
}

#[test]
fn a_crash_between_record_and_apply_loses_no_decided_block() {
    let seed: u64 = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    for round in 0..4u64 {
        let target = 3 + (seed.wrapping_mul(round + 1) % 7) + round * 10;
        // Odd rounds kill with the target's write held in flight: the block must be recovered.
        let held = round % 2 == 1;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "applying_tests::pipelined_writer_child", "--nocapture", "--test-threads=1"])
            .env("HUXIN_CRASH_DIR", dir.path())
            .env("HUXIN_HOLD_AT", if held { target.to_string() } else { String::new() })
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut last_decided = 0;
        while let Some(Ok(line)) = lines.next() {
            if line.starts_with("held ") {
                break;
            }
            if let Some(h) = line.strip_prefix("decided ") {
                last_decided = h.trim().parse().unwrap();
                if last_decided >= target && !held {
                    // Right after a record (its apply in flight), or a little later.
                    std::thread::sleep(Duration::from_micros(seed.wrapping_mul(round + 7) % 2000));
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let store = Arc::new(Store::open(dir.path(), false).unwrap());
        let latest = store.latest_height().unwrap().unwrap();
        assert_eq!(store.check_committed().unwrap(), Some(latest), "the applied blocks are whole");
        let ahead = store.decided_ahead().unwrap();
        if held {
            assert_eq!(ahead.as_ref().map(|b| b.header.height), Some(Height(target)), "the held block is recorded");
        }
        let decided = latest.0 + u64::from(ahead.is_some());
        assert!(decided >= last_decided, "{last_decided} was recorded as decided, the store has {decided}");
        assert!(store.block(Height(decided + 1)).unwrap().is_none(), "at most one block ahead of the state");
        apply_decided_ahead(&store);
        assert_eq!(store.check_committed().unwrap(), Some(Height(decided)));
        let mut parent = Parent::genesis(&genesis());
        for h in 1..=decided {
            let block = store.block(Height(h)).unwrap().unwrap();
            assert_eq!(block.header.parent_hash, parent.hash, "height {h} links to its parent");
            assert_eq!(store.receipts(Height(h)).unwrap().unwrap().len(), block.txs.len());
            assert_eq!(huxin_state::root_hash(store.as_ref(), h).unwrap(), block.header.state_root);
            parent = Parent::of(&block.header, parent.suite);
        }
    }
}
