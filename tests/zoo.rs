//! The feed zoo: every upstream document in tests/fixtures/feeds/zoo/ (the
//! shapes feed readers meet in the wild, most written blind, see
//! BENCHMARKS.md) is served from loopback, polled twice, and read back
//! through the JSON Feed the real `topicfeed serve` binary serves. Each item
//! of `NAME.expected.json` is checked field by field: title, the source's
//! own absolute link, date (or none where the source gives garbage),
//! author, text that must survive and markup that must not.
//!
//! `cargo test --release --test integration zoo -- --nocapture` prints the
//! per-document table used in BENCHMARKS.md.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::poll::{setup, source};
use crate::support::server::{Server, get, serve_command};
use crate::support::upstream::{Upstream, ok};

/// Share of expected items that must come back right in every field.
const FLOOR: f64 = 0.99;

#[derive(Deserialize)]
struct Expected {
    content_type: String,
    #[serde(default)]
    shape: String,
    items: Vec<ExpectedItem>,
}

#[derive(Deserialize)]
struct ExpectedItem {
    /// None: any non-empty title.
    title: Option<String>,
    /// `{origin}` stands for the loopback upstream's `http://127.0.0.1:PORT`.
    link: String,
    /// None: the source gives no usable date.
    date: Option<String>,
    author: Option<String>,
    #[serde(default)]
    contains: Vec<String>,
    #[serde(default)]
    absent: Vec<String>,
}

struct Doc {
    file: String,
    body: Vec<u8>,
    expected: Expected,
}

fn zoo_dir() -> PathBuf {
    crate::support::root().join("tests/fixtures/feeds/zoo")
}

/// Every document with a sibling `STEM.expected.json`, by file name.
fn load() -> Vec<Doc> {
    let mut docs = Vec::new();
    let entries = std::fs::read_dir(zoo_dir()).unwrap();
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".expected.json"))
        .collect();
    names.sort();
    for file in names {
        let stem = file.rsplit_once('.').map_or(file.as_str(), |(s, _)| s);
        let exp_path = zoo_dir().join(format!("{stem}.expected.json"));
        let Ok(text) = std::fs::read_to_string(&exp_path) else {
            panic!("{file} has no {}", exp_path.display());
        };
        let expected: Expected =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", exp_path.display()));
        let body = std::fs::read(zoo_dir().join(&file)).unwrap();
        docs.push(Doc {
            file,
            body,
            expected,
        });
    }
    docs
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The visible text of served HTML, parsed by a DOM (not the renderer).
fn visible_text(html: &str) -> String {
    squash(&dom_query::Document::fragment(html).root().text())
}

fn same_instant(expected: &str, served: &str) -> bool {
    let parse = |s: &str| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc));
    matches!((parse(expected), parse(served)), (Ok(a), Ok(b)) if a == b)
}

/// What is wrong with one served item, empty when nothing is.
fn check_item(exp: &ExpectedItem, got: &Value, polled_at: DateTime<Utc>) -> Vec<String> {
    let mut wrong = Vec::new();
    let s = |k: &str| got.get(k).and_then(Value::as_str).unwrap_or_default();
    match &exp.title {
        Some(t) if squash(t) != squash(s("title")) => {
            wrong.push(format!("title {:?}, expected {t:?}", s("title")))
        }
        None if s("title").trim().is_empty() => wrong.push("empty title".into()),
        _ => {}
    }
    let served_date = s("date_published");
    match &exp.date {
        Some(d) if !same_instant(d, served_date) => {
            wrong.push(format!("date {served_date}, expected {d}"))
        }
        // No date upstream: the item is dated when topicfeed first saw it,
        // never with something guessed from the garbage.
        None => {
            let seen = DateTime::parse_from_rfc3339(served_date).map(|d| d.with_timezone(&Utc));
            if !seen.is_ok_and(|d| d >= polled_at - chrono::Duration::seconds(2)) {
                wrong.push(format!("date {served_date}, expected none (first seen)"));
            }
        }
        _ => {}
    }
    let authors: Vec<&str> = got
        .get("authors")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    match &exp.author {
        Some(a) if !authors.iter().any(|n| squash(n) == squash(a)) => {
            wrong.push(format!("authors {authors:?}, expected {a:?}"))
        }
        _ => {}
    }
    let html = s("content_html");
    let text = visible_text(html);
    for phrase in &exp.contains {
        if !text.contains(&squash(phrase)) {
            wrong.push(format!("content lacks {phrase:?}"));
        }
    }
    // Title and summary are plain text in JSON Feed: a literal "<script>"
    // there is text. The HTML is where markup would run.
    let served_raw = html.to_lowercase();
    for bad in &exp.absent {
        if served_raw.contains(&bad.to_lowercase()) {
            wrong.push(format!("UNSAFE: served {bad:?}"));
        }
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_zoo_feed_is_read_and_its_items_served_right() {
    let docs = load();
    assert!(docs.len() >= 60, "the zoo has {} documents", docs.len());
    let routes: BTreeMap<String, (Vec<u8>, String)> = docs
        .iter()
        .map(|d| {
            let route = format!("/zoo/{}", d.file);
            (route, (d.body.clone(), d.expected.content_type.clone()))
        })
        .collect();
    let up = Upstream::start(move |req, _| match routes.get(&req.path) {
        Some((body, ct)) => ok(body.clone(), ct),
        None => crate::support::upstream::status(404, &[]),
    })
    .await;
    let origin = up.url("");
    let t = setup();
    let sources: Vec<_> = docs
        .iter()
        .map(|d| source(&d.file, up.url(&format!("/zoo/{}", d.file))))
        .collect();
    t.poller.configure(&sources);
    let polled_at = Utc::now();
    let first = t.poller.poll_round(&sources, polled_at, true).await;
    let second = t.poller.poll_round(&sources, Utc::now(), true).await;
    let mut problems: Vec<String> = Vec::new();
    for r in first.iter().chain(&second) {
        if r.failed() {
            problems.push(format!("not read: {r}"));
        }
    }

    let data = t.data.clone();
    let feeds = crate::support::root().join("feeds");
    let mut cmd = serve_command();
    cmd.args(["--no-samples", "--no-sources", "--data"])
        .arg(&data)
        .args(crate::support::backend::database_args(&data))
        .arg("--feeds")
        .arg(&feeds);
    let server = tokio::task::spawn_blocking(move || Server::spawn(cmd))
        .await
        .unwrap();
    let url = server.url("/feeds/all.json?limit=500");
    let got = tokio::task::spawn_blocking(move || get(&url, &[]))
        .await
        .unwrap();
    assert_eq!(got.status, 200, "{}", got.text());
    let feed: Value = serde_json::from_slice(&got.body).unwrap();
    let served = feed["items"].as_array().cloned().unwrap_or_default();
    let by_url: BTreeMap<&str, &Value> = served
        .iter()
        .filter_map(|i| Some((i["url"].as_str()?, i)))
        .collect();
    for u in by_url.keys() {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            problems.push(format!("UNSAFE: served link {u:?}"));
        }
    }

    let (mut total, mut right) = (0usize, 0usize);
    let mut table = String::new();
    for (doc, report) in docs.iter().zip(&first) {
        let (mut n, mut ok_items) = (0, 0);
        for exp in &doc.expected.items {
            n += 1;
            let link = exp.link.replace("{origin}", &origin);
            let wrong = match by_url.get(link.as_str()) {
                Some(item) => check_item(exp, item, polled_at),
                None => vec![match exp.title.as_deref().and_then(|t| {
                    served
                        .iter()
                        .find(|i| i["title"].as_str().is_some_and(|s| squash(s) == squash(t)))
                }) {
                    Some(i) => format!("served with link {} instead of {link}", i["url"]),
                    None => format!("no item served with link {link}"),
                }],
            };
            if wrong.is_empty() {
                ok_items += 1;
            } else {
                problems.push(format!("{}: {}: {}", doc.file, link, wrong.join("; ")));
            }
        }
        total += n;
        right += ok_items;
        table.push_str(&format!(
            "{:<40} {ok_items:>2}/{n:<2} {}\n    {}\n",
            doc.file,
            doc.expected.shape,
            report.to_string().replace('\n', "\n    ")
        ));
    }
    let share = right as f64 / total.max(1) as f64;
    println!(
        "{table}\nzoo: {} documents, {right}/{total} items right ({share:.3})",
        docs.len()
    );
    for p in &problems {
        println!("  {p}");
    }
    let unsafe_or_unread: Vec<_> = problems
        .iter()
        .filter(|p| p.contains("UNSAFE") || p.starts_with("not read"))
        .collect();
    assert!(unsafe_or_unread.is_empty(), "{unsafe_or_unread:#?}");
    assert!(
        share >= FLOOR,
        "{right}/{total} zoo items right ({share:.3} < {FLOOR}):\n{}",
        problems.join("\n")
    );
}

#[test]
fn zoo_expectations_name_absolute_links() {
    for doc in load() {
        for item in &doc.expected.items {
            let link = item.link.replace("{origin}", "http://127.0.0.1:1");
            assert!(
                url::Url::parse(&link).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                "{}: {link}",
                doc.file
            );
        }
    }
}
