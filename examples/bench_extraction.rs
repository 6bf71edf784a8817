//! Article-body extraction from HTML pages: quality against a ground truth,
//! and speed, on a benchmark laid out as the ScrapingHub
//! article-extraction-benchmark is (`DIR/ground-truth.json`, a map of key →
//! `{"articleBody", "url"}`, and `DIR/html/KEY.html.gz` or `KEY.html`;
//! an entry may name its page elsewhere with `"page": "relative/path"`).
//!
//! Scored the way that benchmark's `evaluate.py` scores: each body is cut
//! into `\w+` tokens, then into 4-token shingles; per page, true positives,
//! false positives and false negatives are shingle counts normalized to sum
//! to 1, so a long page weighs no more than a short one; precision and
//! recall are the means over pages, F1 comes from those means. `--dump FILE`
//! writes the predictions in the benchmark's `output/NAME.json` form, so its
//! own `evaluate.py` can score them too.
//!
//! cargo run --release --example bench_extraction -- DIR [--rounds N] [--dump FILE]
//!
//! `examples/extraction-smoke/` is a four-page set in that layout to try it
//! on: three of this repo's demo pages and one page of the markup that
//! glued or leaked text before (a `<br>` dateline, a stock table, a
//! WordPress caption, a gallery, a screen-reader-only span). It checks the
//! harness and catches regressions; it is far too small, and too close to
//! the code it tests, to stand for extraction quality on real pages.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use regex::Regex;
use serde::Deserialize;
use topicfeed::ingest::{self, Format, Input};

#[derive(Deserialize)]
struct Truth {
    #[serde(rename = "articleBody", default)]
    body: String,
    url: Option<String>,
    /// Where the page is, relative to the ground truth, when it is not
    /// `html/KEY.html`: the smoke set points at the repo's own demo pages
    /// rather than keeping copies of them.
    page: Option<PathBuf>,
}

struct Page {
    key: String,
    html: Vec<u8>,
    url: Option<String>,
    truth: String,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut rounds = 1usize;
    let mut dump = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--dump" => dump = args.next().map(PathBuf::from),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir
        .ok_or_else(|| anyhow::anyhow!("usage: bench_extraction DIR [--rounds N] [--dump FILE]"))?;
    let pages = load(&dir)?;
    let bytes: usize = pages.iter().map(|p| p.html.len()).sum();
    println!(
        "{} pages, {:.1} MB of HTML",
        pages.len(),
        bytes as f64 / 1e6
    );

    let mut best = f64::MAX;
    let mut predicted = Vec::new();
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        predicted = pages.iter().map(extract).collect();
        best = best.min(start.elapsed().as_secs_f64());
    }
    let failed = predicted.iter().filter(|p| p.is_none()).count();
    let scores: Vec<[f64; 3]> = pages
        .iter()
        .zip(&predicted)
        .map(|(page, pred)| shingle_match(&page.truth, pred.as_deref().unwrap_or("")))
        .collect();
    let (precision, recall) = means(&scores);
    let f1 = 2.0 * precision * recall / (precision + recall);
    println!("no article: {failed} of {} pages", pages.len());
    println!("precision={precision:.3}  recall={recall:.3}  F1={f1:.3}");
    println!(
        "time: {:.2} ms for all pages (best of {rounds} rounds, one thread), {:.0} pages/s, {:.2} MB/s",
        best * 1e3,
        pages.len() as f64 / best,
        bytes as f64 / 1e6 / best
    );
    if let Some(path) = dump {
        write_predictions(&path, &pages, &predicted)?;
        println!("predictions written to {}", path.display());
    }
    Ok(())
}

/// The predictions as the benchmark's `output/NAME.json`.
fn write_predictions(
    path: &Path,
    pages: &[Page],
    predicted: &[Option<String>],
) -> anyhow::Result<()> {
    let out: serde_json::Map<String, serde_json::Value> = pages
        .iter()
        .zip(predicted)
        .map(|(page, pred)| {
            let body = pred.clone().unwrap_or_default();
            (page.key.clone(), serde_json::json!({ "articleBody": body }))
        })
        .collect();
    std::fs::write(path, serde_json::to_string_pretty(&out)?)?;
    Ok(())
}

fn load(dir: &Path) -> anyhow::Result<Vec<Page>> {
    let truth: HashMap<String, Truth> =
        serde_json::from_slice(&std::fs::read(dir.join("ground-truth.json"))?)?;
    let mut pages = Vec::with_capacity(truth.len());
    for (key, t) in truth {
        let html = match &t.page {
            Some(page) => std::fs::read(dir.join(page))?,
            None => read_page(&dir.join("html"), &key)?,
        };
        pages.push(Page {
            key,
            html,
            url: t.url,
            truth: t.body,
        });
    }
    pages.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(pages)
}

fn read_page(dir: &Path, key: &str) -> anyhow::Result<Vec<u8>> {
    let gz = dir.join(format!("{key}.html.gz"));
    if gz.exists() {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&gz)?).read_to_end(&mut out)?;
        return Ok(out);
    }
    Ok(std::fs::read(dir.join(format!("{key}.html")))?)
}

/// The article body as the service stores it: its blocks, one paragraph
/// apart. `None` when no article was found.
fn extract(page: &Page) -> Option<String> {
    let input = Input::new(&page.html)
        .with_hint(Some(Format::Html))
        .with_url(page.url.as_deref());
    ingest::normalize(input).ok().map(|a| a.content_text())
}

/// `string_shingle_matching` of evaluate.py: normalized (tp, fp, fn).
/// Tokens are Rust's Unicode `\w+`, which also counts combining marks as
/// word characters where Python's does not: a hair's difference on
/// non-Latin scripts.
fn shingle_match(truth: &str, pred: &str) -> [f64; 3] {
    let t = shingles(truth);
    let p = shingles(pred);
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for key in t.keys().chain(p.keys().filter(|k| !t.contains_key(*k))) {
        let tc = *t.get(key).unwrap_or(&0) as f64;
        let pc = *p.get(key).unwrap_or(&0) as f64;
        tp += tc.min(pc);
        fp += (pc - tc).max(0.0);
        fn_ += (tc - pc).max(0.0);
    }
    let sum = tp + fp + fn_;
    if sum > 0.0 {
        [tp / sum, fp / sum, fn_ / sum]
    } else {
        [0.0; 3]
    }
}

fn shingles(text: &str) -> HashMap<Vec<&str>, usize> {
    static TOKEN: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"\w+").expect("token pattern"));
    let tokens: Vec<&str> = TOKEN.find_iter(text).map(|m| m.as_str()).collect();
    let mut out = HashMap::new();
    let n = 4;
    for i in 0..tokens.len().saturating_sub(n - 1).max(1) {
        let shingle = tokens[i.min(tokens.len())..(i + n).min(tokens.len())].to_vec();
        if !shingle.is_empty() {
            *out.entry(shingle).or_insert(0) += 1;
        }
    }
    out
}

/// Mean precision and recall over pages, as evaluate.py takes them.
fn means(scores: &[[f64; 3]]) -> (f64, f64) {
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let precision = scores
        .iter()
        .filter(|[tp, fp, _]| tp + fp > 0.0)
        .map(|&[tp, fp, fn_]| ratio(tp, fp, fp, fn_))
        .collect();
    let recall = scores
        .iter()
        .filter(|[tp, _, fn_]| tp + fn_ > 0.0)
        .map(|&[tp, fp, fn_]| ratio(tp, fn_, fp, fn_))
        .collect();
    (mean(precision), mean(recall))
}

/// `tp / (tp + miss)`, with evaluate.py's cases: a perfect page is 1, a
/// page with nothing right is 0.
fn ratio(tp: f64, miss: f64, fp: f64, fn_: f64) -> f64 {
    if fp == 0.0 && fn_ == 0.0 {
        1.0
    } else if tp == 0.0 && miss == 0.0 {
        0.0
    } else {
        tp / (tp + miss)
    }
}
