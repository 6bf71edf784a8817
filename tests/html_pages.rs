//! Whole HTML pages through `ingest::normalize`, as every way in reads
//! them: the pages of `examples/extraction-smoke/` against their ground
//! truth, and what a reader must (not) find in the one built of the markup
//! that used to glue or leak text.

use std::collections::HashMap;

use serde::Deserialize;
use topicfeed::ingest::{self, Format, Input};
use topicfeed::model::Article;

use crate::support;

#[derive(Deserialize)]
struct Truth {
    #[serde(rename = "articleBody")]
    body: String,
    url: String,
    /// The page's path from the ground truth, when not `html/KEY.html`.
    page: Option<String>,
}

fn smoke_dir() -> std::path::PathBuf {
    support::root().join("examples/extraction-smoke")
}

fn truth() -> HashMap<String, Truth> {
    let text = std::fs::read_to_string(smoke_dir().join("ground-truth.json")).expect("truth");
    serde_json::from_str(&text).expect("ground-truth.json")
}

fn page_path(key: &str, t: &Truth) -> std::path::PathBuf {
    match &t.page {
        Some(page) => smoke_dir().join(page),
        None => smoke_dir().join("html").join(format!("{key}.html")),
    }
}

fn normalize(key: &str, t: &Truth) -> Article {
    let url = t.url.as_str();
    let bytes = std::fs::read(page_path(key, t)).expect("page");
    let input = Input::new(&bytes)
        .with_hint(Some(Format::Html))
        .with_url(Some(url));
    ingest::normalize(input).unwrap_or_else(|e| panic!("{key}: {e}"))
}

#[test]
fn smoke_pages_give_exactly_their_ground_truth_body() {
    let mut differ = Vec::new();
    for (key, t) in truth() {
        let got = normalize(&key, &t).content_text();
        if got != t.body {
            differ.push(format!("{key}:\n  got  {got:?}\n  want {:?}", t.body));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn a_page_of_breaks_tables_captions_and_hidden_text_reads_as_a_browser_shows_it() {
    let truth = truth();
    let a = normalize("markets", &truth["markets"]);
    let text = a.content_text();
    assert!(text.contains("MO Aug. 30"), "{text}");
    assert!(!text.contains("MOAug"), "{text}");
    assert!(text.contains("PM Philip Morris 88.02 -1.15"), "{text}");
    // Neither the text nor the HTML a feed reader shows may leak these.
    let html = html_escape::decode_html_entities(&a.content_html).into_owned();
    assert!(
        html.contains("/img/altria.jpg"),
        "the captioned image stays: {html}"
    );
    for shown in [&text, &html] {
        assert!(!shown.contains("opens in a new tab"), "{shown}");
        assert!(!shown.contains("Premium"), "hidden pop-up: {shown}");
        assert!(!shown.contains("Richmond, Virginia"), "caption: {shown}");
        assert!(
            shown.matches("Traders on the floor").count() <= 1,
            "gallery caption: {shown}"
        );
    }
}
