//! `huxin load`: a read-load generator. Keeps `connections` requests in flight against one URL
//! (keep-alive connections) and reports, over a window after a warm-up: requests per second and
//! latency percentiles (request sent → whole body read). Non-2xx answers count as errors.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

#[derive(clap::Args)]
pub struct LoadArgs {
    /// The URL to GET, e.g. http://127.0.0.1:26600/v1/subjects/91330100MA0000001F/credit
    #[arg(long)]
    url: String,
    /// Requests in flight at once (one connection each).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured window, seconds (after the warm-up).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Warm-up, seconds, not measured.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
}

/// Most concurrent connections a run opens.
const CONNECTIONS_MAX: usize = 4096;

pub async fn run(args: LoadArgs) -> eyre::Result<()> {
    if args.connections == 0 || args.connections > CONNECTIONS_MAX {
        return Err(eyre::eyre!("--connections is 1 to {CONNECTIONS_MAX}"));
    }
    let http =
        reqwest::Client::builder().pool_max_idle_per_host(args.connections).timeout(Duration::from_secs(10)).build()?;
    // One probe: the URL must answer 2xx before we measure it.
    let probe = http.get(&args.url).send().await?;
    if !probe.status().is_success() {
        return Err(eyre::eyre!("{} answered {}: {}", args.url, probe.status(), probe.text().await?));
    }
    let body_bytes = probe.bytes().await?.len();
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..args.connections {
        let (http, url, measuring, stop) = (http.clone(), args.url.clone(), measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let ok = match http.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        let _ = histogram.record(started.elapsed().as_micros().max(1) as u64);
                    } else {
                        errors += 1;
                    }
                }
            }
            (histogram, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut errors = 0;
    for task in tasks {
        let (h, e) = task.await?;
        all.add(h)?;
        errors += e;
    }
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "{} requests in {elapsed:.1} s = {:.0} req/s ({errors} errors; {body_bytes}-byte answers; {} connections)",
        all.len(),
        all.len() as f64 / elapsed,
        args.connections
    );
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(all.value_at_quantile(0.50)),
        ms(all.value_at_quantile(0.90)),
        ms(all.value_at_quantile(0.99)),
        ms(all.max())
    );
    Ok(())
}
