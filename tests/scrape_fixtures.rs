//! Every scrape in tests/fixtures/scrapes/ against its hand-written
//! expected.json, field by field. All mismatches of all fixtures are
//! reported together, so one run shows the whole picture.

use std::path::Path;

use serde::Deserialize;
use topicfeed::ingest::{self, Input};
use topicfeed::model::{ArticleJson, BlockKind};

use crate::support::fixtures;

#[derive(Deserialize)]
struct Expected {
    #[serde(flatten)]
    meta: fixtures::Meta,
    blocks: Vec<ExpectedBlock>,
    absent: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedBlock {
    kind: BlockKind,
    text: String,
}

fn check(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("read fixture");
    let exp_path = path.with_extension("expected.json");
    let exp: Expected =
        serde_json::from_str(&std::fs::read_to_string(&exp_path).expect("read expected"))
            .unwrap_or_else(|e| panic!("{}: {e}", exp_path.display()));
    let article = match ingest::normalize(Input::new(&bytes)) {
        Ok(a) => a,
        Err(e) => return vec![format!("no article: {e}")],
    };
    let json = ArticleJson::from(&article);
    let mut errs = fixtures::meta_errors(&json, &exp.meta);
    let got: Vec<(BlockKind, &str)> = article
        .blocks
        .iter()
        .map(|b| (b.kind, b.text.as_str()))
        .collect();
    let want: Vec<(BlockKind, &str)> = exp
        .blocks
        .iter()
        .map(|b| (b.kind, b.text.as_str()))
        .collect();
    if got != want {
        let n = got.len().max(want.len());
        for i in 0..n {
            if got.get(i) != want.get(i) {
                errs.push(format!(
                    "block {i}:\n      got  {:?}\n      want {:?}",
                    got.get(i),
                    want.get(i)
                ));
                break;
            }
        }
        if got.len() != want.len() {
            errs.push(format!(
                "block count: got {}, want {}",
                got.len(),
                want.len()
            ));
        }
    }
    // content_html escapes `&` as `&amp;`: compare its text, not its markup.
    let html_text = html_escape::decode_html_entities(&json.content_html);
    let everything = format!(
        "{} {} {} {}",
        json.title, json.summary, json.content_text, html_text
    );
    for junk in &exp.absent {
        if everything.to_lowercase().contains(&junk.to_lowercase()) {
            errs.push(format!("junk survived: {junk:?}"));
        }
    }
    errs
}

#[test]
fn scrape_fixtures_match_expected_json() {
    let paths = fixtures::txt_files("tests/fixtures/scrapes");
    assert!(
        paths.len() >= 30,
        "expected at least 30 fixtures, found {}",
        paths.len()
    );
    let mut report = Vec::new();
    for p in &paths {
        let errs = check(p);
        if !errs.is_empty() {
            report.push(format!(
                "{}:\n    {}",
                p.file_name().unwrap_or_default().to_string_lossy(),
                errs.join("\n    ")
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} fixtures differ:\n{}",
        report.len(),
        paths.len(),
        report.join("\n")
    );
}
