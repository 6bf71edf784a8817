//! Store benchmark: query latency on a large store.
//!
//! Fills a store with `--n` generated stories (default 1,000,000) through
//! the real upsert path, in transactions of 10,000, then times feed pages:
//! first pages and deep pages (following cursors) for a topic, topic
//! expressions, a source, keywords, and single stories.
//!
//! ```sh
//! cargo run --release --example bench_store -- --n 1000000 --dir /tmp/tf-bench
//! # the same on PostgreSQL:
//! cargo run --release --example bench_store -- --n 1000000 --database postgres://…
//! ```
//!
//! A store already holding `--n` stories in `--dir` is reused, so the query
//! timings can be re-run without the fill.
//!
//! Stories are built from the sentences of `examples/articles/` (real
//! words for the search index), 8 to a story with a unique number in each,
//! 1–3 of the 13 topics with a skewed spread (like real feeds), one of 50
//! sites, and publication times spread over two years (~1,400 a day).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use topicfeed::ingest::identity::{article_id, fingerprint};
use topicfeed::ingest::{Input, blocks_html, normalize};
use topicfeed::model::{Article, Block, BlockKind};
use topicfeed::store::{Query, Store};

/// Topics with weights: how often each is drawn.
const TOPICS: &[(&str, u32)] = &[
    ("world", 30),
    ("politics", 20),
    ("europe", 12),
    ("business", 10),
    ("us", 8),
    ("sports", 8),
    ("technology", 6),
    ("science", 5),
    ("health", 5),
    ("climate", 4),
    ("culture", 4),
    ("middle-east", 3),
    ("russia", 2),
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn sentences() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/articles");
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/articles")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let Ok(a) = normalize(Input::file(&bytes, &p)) else {
            continue;
        };
        for b in a.blocks.iter().filter(|b| b.kind == BlockKind::Paragraph) {
            out.extend(
                b.text
                    .split(". ")
                    .filter(|s| s.len() > 40)
                    .map(|s| s.trim_end_matches('.').to_owned()),
            );
        }
    }
    out
}

fn pick_topics(rng: &mut Rng) -> Vec<String> {
    let total: u32 = TOPICS.iter().map(|t| t.1).sum();
    let n = 1 + rng.below(3);
    let mut out: Vec<String> = Vec::new();
    for _ in 0..n {
        let mut x = (rng.next() % u64::from(total)) as u32;
        for (slug, w) in TOPICS {
            if x < *w {
                if !out.iter().any(|s| s == slug) {
                    out.push((*slug).to_owned());
                }
                break;
            }
            x -= w;
        }
    }
    out.sort();
    out
}

fn story(i: u64, rng: &mut Rng, pool: &[String], start: DateTime<Utc>) -> Article {
    let mut paragraphs = Vec::new();
    for p in 0..4 {
        let mut text = String::new();
        for s in 0..2 {
            let sentence = &pool[rng.below(pool.len())];
            text.push_str(sentence);
            // A number unique to this story in every sentence: no two
            // stories are copies of each other.
            text.push_str(&format!(", report {i}-{p}{s}. "));
        }
        paragraphs.push(text.trim_end().to_owned());
    }
    let title_words: Vec<&str> = pool[rng.below(pool.len())]
        .split_whitespace()
        .take(9)
        .collect();
    let title = format!("{} ({i})", title_words.join(" "));
    let body = paragraphs.join("\n\n");
    let blocks: Vec<Block> = paragraphs
        .iter()
        .map(|p| Block::new(BlockKind::Paragraph, p.as_str()))
        .collect();
    let published = start + chrono::Duration::seconds((rng.next() % (2 * 365 * 86_400)) as i64);
    Article {
        id: article_id(None, &title, &body),
        title,
        site: Some(format!("Site {}", rng.below(50))),
        url: None,
        authors: vec!["Staff".into()],
        published: Some(published),
        updated: None,
        language: Some("en".into()),
        summary: paragraphs[0].chars().take(300).collect(),
        content_html: blocks_html(&blocks),
        topics: pick_topics(rng),
        tags: vec![],
        fingerprint: fingerprint(&body),
        blocks,
        notes: Vec::new(),
        image: None,
        enclosures: Vec::new(),
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn fill(store: &dyn Store, n: u64) {
    let have = store.story_count().expect("count");
    if have >= n {
        println!("store holds {have} stories: reusing it");
        return;
    }
    let pool = sentences();
    let start = Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let mut rng = Rng(0x5EED_1234_ABCD_0001 ^ have);
    let began = Instant::now();
    let mut new = 0usize;
    let chunk = 10_000u64;
    let mut i = have;
    while i < n {
        let batch: Vec<Article> = (i..(i + chunk).min(n))
            .map(|k| story(k, &mut rng, &pool, start))
            .collect();
        let outcomes = store.upsert_batch(&batch, now).expect("upsert");
        new += outcomes
            .iter()
            .filter(|o| matches!(o, topicfeed::store::Outcome::New))
            .count();
        i += batch.len() as u64;
        if i.is_multiple_of(100_000) || i == n {
            let secs = began.elapsed().as_secs_f64();
            println!(
                "  {i} stored, {new} new, {:.0} stories/s",
                (i - have) as f64 / secs
            );
        }
    }
    println!(
        "filled {} stories in {:.1} s",
        n - have,
        began.elapsed().as_secs_f64()
    );
}

/// `p50 | p95 | max` in milliseconds, as table cells.
fn stats(mut times: Vec<Duration>) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    format!(
        "{:>7.2} | {:>7.2} | {:>7.2}",
        ms(pct(0.5)),
        ms(pct(0.95)),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    )
}

/// Times `runs` first pages, or one walk of `runs` pages deep when `deep`.
fn bench(store: &dyn Store, name: &str, q: &Query, runs: usize, deep: bool) {
    let mut times = Vec::with_capacity(runs);
    let mut q = q.clone();
    let mut items = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let page = store.query(&q).expect("query");
        times.push(t.elapsed());
        items = page.stories.len();
        if deep {
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
    }
    println!("| {name:<48} | {items:>5} | {} |", stats(times));
}

fn main() {
    let n: u64 = arg("--n").and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = arg("--dir").map_or_else(
        || std::env::temp_dir().join("topicfeed-bench-store"),
        PathBuf::from,
    );
    let database = arg("--database");
    let t = Instant::now();
    let store = topicfeed::store::open(&dir, database.as_deref()).expect("open store");
    let store = store.as_ref();
    println!(
        "opened {} in {:.1} ms",
        database
            .as_deref()
            .map_or_else(|| dir.display().to_string(), |_| "the database".into()),
        t.elapsed().as_secs_f64() * 1000.0
    );
    fill(store, n);
    let size = std::fs::metadata(dir.join(topicfeed::store::sqlite::DB_FILE))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "{} stories, {:.1} GB on disk (SQLite file)\n",
        store.story_count().expect("count"),
        size as f64 / 1e9
    );

    let topic = |any: &[&str]| Query {
        any: any.iter().map(|s| s.to_string()).collect(),
        ..Query::default()
    };
    // Warm the page cache as a running server would be.
    for _ in 0..20 {
        store.query(&topic(&["politics"])).expect("warm-up");
    }
    println!(
        "| {:<48} | items |  p50 ms |  p95 ms |  max ms |",
        "query (50 per page)"
    );
    println!("|{}|-------|---------|---------|---------|", "-".repeat(50));
    bench(
        store,
        "topic `politics`, first page",
        &topic(&["politics"]),
        200,
        false,
    );
    bench(
        store,
        "topic `politics`, 200 pages deep",
        &topic(&["politics"]),
        200,
        true,
    );
    bench(
        store,
        "topic `russia` (2%), first page",
        &topic(&["russia"]),
        200,
        false,
    );
    bench(
        store,
        "all stories, first page",
        &Query::default(),
        200,
        false,
    );
    bench(
        store,
        "all stories, 200 pages deep",
        &Query::default(),
        200,
        true,
    );
    bench(
        store,
        "any `europe`,`russia`, all `politics`, not `sports`",
        &Query {
            all: vec!["politics".into()],
            not: vec!["sports".into()],
            ..topic(&["europe", "russia"])
        },
        200,
        false,
    );
    bench(
        store,
        "source `site 7` (2%), first page",
        &Query {
            source: Some("site 7".into()),
            ..Query::default()
        },
        200,
        false,
    );
    bench(
        store,
        "since (last 30 days), topic `politics`",
        &Query {
            since: Some(Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()),
            ..topic(&["politics"])
        },
        200,
        false,
    );
    bench(
        store,
        "keywords `report 123456` (1 match)",
        &Query {
            q: Some("report 123456".into()),
            ..Query::default()
        },
        50,
        false,
    );
    bench(
        store,
        "keywords `Kamo'oalewa` (53,000 matches)",
        &Query {
            q: Some("Kamo'oalewa".into()),
            ..Query::default()
        },
        20,
        false,
    );
    let page = store.query(&topic(&["politics"])).expect("query");
    let ids: Vec<String> = page.stories.iter().map(|s| s.article.id.clone()).collect();
    let mut times = Vec::new();
    for _ in 0..10 {
        for id in &ids {
            let t = Instant::now();
            store.get(id).expect("get");
            times.push(t.elapsed());
        }
    }
    println!(
        "| {:<48} | {:>5} | {} |",
        "get one story by id",
        1,
        stats(times)
    );
    println!();
    // Readers in parallel: each thread walks its own topic's first pages.
    for threads in [1, 2, 4] {
        let pages = 400;
        let t = Instant::now();
        std::thread::scope(|scope| {
            for k in 0..threads {
                let store = &store;
                scope.spawn(move || {
                    let q = topic(&[TOPICS[k % TOPICS.len()].0]);
                    for _ in 0..pages / threads {
                        store.query(&q).expect("query");
                    }
                });
            }
        });
        println!(
            "{threads} reader thread(s): {:.0} pages/s",
            pages as f64 / t.elapsed().as_secs_f64()
        );
    }
}
