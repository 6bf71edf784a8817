//! Ingest benchmark: files → normalize → classify → store, end to end.
//!
//! Writes `--n` generated scrapes (default 4,000; see
//! `tests/support/corpus.rs`: real scrapes with their body sentences
//! recombined, so every one is a distinct story) to a temporary directory,
//! then ingests them into a fresh store exactly as `topicfeed ingest` does
//! (`pipeline::ingest_files`: worker threads + one batching writer, fsync
//! per commit), and again (all unchanged). Also times the stages alone.
//!
//! ```sh
//! cargo run --release --example bench_ingest -- --n 4000
//! ```

#[path = "../tests/support/corpus.rs"]
mod corpus;

use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;
use topicfeed::classify::Classifier;
use topicfeed::ingest::{Format, Input};
use topicfeed::pipeline::{self, BatchOptions};
use topicfeed::store::{SqliteStore, Store};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let n: usize = arg("--n").and_then(|s| s.parse().ok()).unwrap_or(4000);
    let workers: usize = arg("--workers").and_then(|s| s.parse().ok()).unwrap_or(0);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("topicfeed-bench-ingest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let corpus = corpus::Corpus::load(&root);
    let files = corpus.write(&tmp.join("corpus"), 0, n);
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{n} generated scrapes, {:.1} KB on average, {} cores",
        bytes as f64 / n as f64 / 1000.0,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    // Written-back and read once, so the timed passes neither wait for the
    // corpus's own writeback nor read it from disk.
    let _ = std::process::Command::new("sync").status();
    for f in &files {
        let _ = std::fs::read(f);
    }
    let classifier = Classifier::load(&root.join("feeds")).expect("feeds");
    let opts = BatchOptions {
        workers,
        ..BatchOptions::default()
    };

    // Three fresh stores (the machine is shared: report the spread), then
    // the last one again, where every article is unchanged.
    let mut rates = Vec::new();
    let mut store = None;
    for round in 1..=3 {
        let s = SqliteStore::open(&tmp.join(format!("data-{round}"))).expect("store");
        let t = Instant::now();
        let summary = pipeline::ingest_files(&s, &classifier, &files, &opts, |_| {});
        let secs = t.elapsed().as_secs_f64();
        println!(
            "end to end, fresh store {round}: {summary} in {secs:.2} s = {:.0} articles/s",
            n as f64 / secs
        );
        assert!(summary.failed.is_empty(), "{:?}", summary.failed);
        rates.push(n as f64 / secs);
        store = Some(s);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "end to end, fresh: median {:.0}, best {:.0} articles/s",
        rates[1], rates[2]
    );
    let store = store.expect("a store");
    let t = Instant::now();
    let summary = pipeline::ingest_files(&store, &classifier, &files, &opts, |_| {});
    let secs = t.elapsed().as_secs_f64();
    println!(
        "end to end, again: {summary} in {secs:.2} s = {:.0} articles/s",
        n as f64 / secs
    );

    // The stages alone, single-threaded, for where the time goes.
    let texts: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    let t = Instant::now();
    let articles: Vec<_> = texts
        .iter()
        .flat_map(|b| {
            let input = Input::new(b).with_hint(Some(Format::Text));
            pipeline::prepare(&classifier, &pipeline::SiteBoilerplate::off(), input)
                .expect("prepare")
                .articles
        })
        .collect();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "normalize + classify, 1 thread: {:.0} articles/s",
        n as f64 / secs
    );
    let fresh = SqliteStore::open(&tmp.join("data2")).expect("store");
    let t = Instant::now();
    for chunk in articles.chunks(256) {
        fresh.upsert_batch(chunk, Utc::now()).expect("upsert");
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "store alone, batches of 256: {:.0} articles/s",
        n as f64 / secs
    );
    let t = Instant::now();
    for a in articles.iter().take(200) {
        let mut b = a.clone();
        b.id.push('x');
        b.fingerprint = !b.fingerprint;
        fresh.upsert(&b, Utc::now()).expect("upsert");
    }
    println!(
        "store alone, one transaction each: {:.0} articles/s",
        200.0 / t.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
