//! Normalize throughput on one core: MB/s and articles/s over a generated
//! corpus of plain-text scrapes.
//!
//! cargo run --release --example bench_normalize -- [ARTICLES] [ROUNDS]

#[path = "common/corpus.rs"]
mod corpus;

use std::path::Path;
use std::time::Instant;

use topicfeed::ingest::{self, Input};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let seeds = corpus::seeds(Path::new(env!("CARGO_MANIFEST_DIR")));
    let docs = corpus::generate(&seeds, n, 42);
    let bytes: usize = docs.iter().map(String::len).sum();
    println!(
        "corpus: {} scrapes from {} seeds, {:.1} MB, mean {:.0} bytes",
        docs.len(),
        seeds.len(),
        bytes as f64 / 1e6,
        bytes as f64 / docs.len() as f64
    );
    // Warm the lazily compiled rules outside the timing.
    let _ = ingest::normalize(Input::new(docs[0].as_bytes()));
    let mut best = f64::MAX;
    for round in 1..=rounds {
        let start = Instant::now();
        let mut ok = 0usize;
        for d in &docs {
            if ingest::normalize(Input::new(d.as_bytes())).is_ok() {
                ok += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        best = best.min(secs);
        println!(
            "round {round}: {ok}/{} normalized in {secs:.3} s = {:.1} MB/s, {:.0} articles/s",
            docs.len(),
            bytes as f64 / 1e6 / secs,
            docs.len() as f64 / secs
        );
    }
    println!(
        "best: {:.1} MB/s, {:.0} articles/s (one thread)",
        bytes as f64 / 1e6 / best,
        docs.len() as f64 / best
    );
}
