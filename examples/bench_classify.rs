//! Classification throughput on one core (the ingest path,
//! `Classifier::topics_for`), with the shipped 13-topic taxonomy and with
//! 1,000 generated topics, over articles of at least 3 KB.
//!
//! cargo run --release --example bench_classify -- [ARTICLES] [TOPICS]

#[path = "common/corpus.rs"]
mod corpus;

use std::path::Path;
use std::time::Instant;

use topicfeed::classify::{Classifier, Topic, config::parse_topic};
use topicfeed::ingest::{self, Input};
use topicfeed::model::Article;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let generated: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));

    // ~3 KB articles: generated scrapes, normalized once up front.
    let docs = corpus::generate(&corpus::seeds(root), n, 7);
    let articles: Vec<Article> = docs
        .iter()
        .filter_map(|d| ingest::normalize(Input::new(d.as_bytes())).ok())
        .collect();
    // Bodies of neighbouring articles joined until each is at least 3 KB,
    let texts: Vec<(String, String)> = articles
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut body = a.content_text();
            let mut j = i + 1;
            while body.len() < 3_000 {
                body.push_str("\n\n");
                body.push_str(&articles[j % articles.len()].content_text());
                j += 1;
            }
            // ...and cut back to about 3 KB, on a character boundary.
            let mut cut = 3_000;
            while !body.is_char_boundary(cut) {
                cut += 1;
            }
            body.truncate(cut);
            (a.title.clone(), body)
        })
        .collect();
    let bytes: usize = texts.iter().map(|(t, b)| t.len() + b.len()).sum();
    println!(
        "{} articles, mean {:.0} bytes of title+body",
        texts.len(),
        bytes as f64 / texts.len() as f64
    );

    let shipped = Classifier::load(&root.join("feeds")).expect("feeds/ loads");
    let many = Classifier::new(generate_topics(shipped.topics(), generated));

    let a = run("13 shipped topics", &shipped, &texts);
    let b = run(&format!("{generated} topics"), &many, &texts);
    println!("ratio {generated}-topic / 13-topic time: {:.2}x", a / b);
}

/// Topics built from the shipped terms plus generated words, so they hit
/// real articles about as often as real topics do.
fn generate_topics(shipped: &[Topic], count: usize) -> Vec<Topic> {
    let mut pool: Vec<String> = shipped.iter().flat_map(|t| t.any.iter().cloned()).collect();
    pool.sort();
    pool.dedup();
    let mut rng = corpus::Rng::new(99);
    (0..count)
        .map(|i| {
            // A few shared real terms and a long tail of terms of its own
            // (invented words that never occur), like a real taxonomy.
            let mut terms: Vec<String> = (0..8)
                .map(|_| pool[rng.below(pool.len())].clone())
                .collect();
            terms.extend((0..22).map(|j| format!("zq{i}x{j}")));
            let toml = format!(
                "title = \"Generated {i}\"\nany = {:?}\nmin_hits = {}\n",
                terms,
                1 + rng.below(3)
            );
            parse_topic(Path::new(&format!("feeds/gen-{i}.toml")), &toml).expect("generated topic")
        })
        .collect()
}

/// Best of three passes; returns articles/s.
fn run(label: &str, c: &Classifier, texts: &[(String, String)]) -> f64 {
    let mut best = f64::MAX;
    let mut matched = 0usize;
    for _ in 0..3 {
        let start = Instant::now();
        matched = 0;
        for (title, body) in texts {
            matched += c.topics_for(title, body, None, None).len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let rate = texts.len() as f64 / best;
    println!(
        "{label}: {:.0} articles/s ({:.1} µs/article, {:.2} topics/article)",
        rate,
        best * 1e6 / texts.len() as f64,
        matched as f64 / texts.len() as f64
    );
    rate
}
