//! Duplicate detection on labelled article pairs: precision and recall of
//! the store's copy test, per kind of pair.
//!
//! cargo run --release --example dedup_pairs -- [DIR]
//!
//! DIR (default `tests/fixtures/dedup-pairs`) holds `NNN.json` files, each
//! `{"label": "duplicate"|"distinct", "kind": …, "a": ARTICLE, "b":
//! ARTICLE}` with ARTICLE `{"site", "url", "title", "published",
//! "content"}`. Each pair goes into a fresh store: `a` first, then `b`; the
//! pair counts as merged when `b` is stored as `a`'s story (a duplicate of
//! it, or an update of the same id).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Utc;
use topicfeed::ingest::{self, Format, Input};
use topicfeed::store::{Outcome, SqliteStore, Store};

#[derive(Default)]
struct Tally {
    tp: u32,
    fp: u32,
    tn: u32,
    fn_: u32,
}

fn article(v: &serde_json::Value) -> Result<topicfeed::model::Article, String> {
    let doc = serde_json::json!({
        "title": v["title"],
        "url": v["url"],
        "site_name": v["site"],
        "published": v["published"],
        "content": v["content"],
    });
    ingest::normalize(Input::new(doc.to_string().as_bytes()).with_hint(Some(Format::Json)))
        .map_err(|e| e.to_string())
}

fn main() -> Result<(), String> {
    let dir = std::env::args().nth(1).map_or_else(
        || PathBuf::from("tests/fixtures/dedup-pairs"),
        PathBuf::from,
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut kinds: BTreeMap<String, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let pair: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let duplicate = pair["label"] == "duplicate";
        let kind = pair["kind"].as_str().unwrap_or("?").to_owned();
        let (a, b) = (article(&pair["a"])?, article(&pair["b"])?);
        let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let store = SqliteStore::open(tmp.path()).map_err(|e| e.to_string())?;
        let now = Utc::now();
        store.upsert(&a, now).map_err(|e| e.to_string())?;
        // Same id (an update at the same URL or guid) or a copy of `a`:
        // either way the reader sees one story.
        let merged = matches!(
            store.upsert(&b, now).map_err(|e| e.to_string())?,
            Outcome::Duplicate { .. } | Outcome::Updated | Outcome::Unchanged
        );
        if merged != duplicate {
            println!(
                "{}: {kind}, labelled {}, {}",
                path.display(),
                pair["label"],
                if merged { "merged" } else { "kept apart" }
            );
        }
        for t in [kinds.entry(kind).or_default(), &mut all] {
            match (duplicate, merged) {
                (true, true) => t.tp += 1,
                (false, true) => t.fp += 1,
                (false, false) => t.tn += 1,
                (true, false) => t.fn_ += 1,
            }
        }
    }
    println!("kind                  pairs  merged right  kept apart right");
    for (kind, t) in &kinds {
        println!(
            "{kind:<22}{:>5}  {:>12}  {:>16}",
            t.tp + t.fp + t.tn + t.fn_,
            format!("{}/{}", t.tp, t.tp + t.fn_),
            format!("{}/{}", t.tn, t.tn + t.fp)
        );
    }
    let precision = f64::from(all.tp) / f64::from((all.tp + all.fp).max(1));
    let recall = f64::from(all.tp) / f64::from((all.tp + all.fn_).max(1));
    println!(
        "{} pairs: precision {precision:.2}, recall {recall:.2} (tp {}, fp {}, tn {}, fn {})",
        files.len(),
        all.tp,
        all.fp,
        all.tn,
        all.fn_
    );
    Ok(())
}
