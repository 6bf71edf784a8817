//! Held-out scrapes: written after the rules, imitating sites no fixture in
//! tests/fixtures/scrapes/ imitates. Checked on what a reader sees: title,
//! site, authors, dates, language, body sentences kept, junk gone.

use serde::Deserialize;
use topicfeed::ingest::{self, Input};
use topicfeed::model::ArticleJson;

use crate::support::fixtures;

#[derive(Deserialize)]
struct Expected {
    #[serde(flatten)]
    meta: fixtures::Meta,
    must_contain: Vec<String>,
    absent: Vec<String>,
}

/// Each round of held-out scrapes is written by someone who has not seen
/// the rules (round 1: 01–08, round 2: 09–16, round 3: 17–22); when one fails, the rule it exposes is fixed in the tables
/// and the scrape stays here as a regression test, and a new round is
/// written to check that the fix generalizes. One convention is the
/// project's, not a finding: the title keeps the casing of the page-title
/// line when the repeated headline differs only in case (18 was written
/// expecting the repeat's casing, as fixture 15 of the scrapes expects the
/// title line's).
#[test]
fn held_out_scrapes_come_out_clean() {
    let paths = fixtures::txt_files("tests/fixtures/holdout");
    assert!(!paths.is_empty());
    let mut report = Vec::new();
    for path in &paths {
        let exp: Expected = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("expected.json")).expect("expected"),
        )
        .expect("expected json");
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let article = match ingest::normalize(Input::new(&std::fs::read(path).expect("read"))) {
            Ok(a) => a,
            Err(e) => {
                report.push(format!("{name}: no article: {e}"));
                continue;
            }
        };
        let j = ArticleJson::from(&article);
        let mut errs = fixtures::meta_errors(&j, &exp.meta);
        for s in &exp.must_contain {
            if !j.content_text.contains(s.as_str()) {
                errs.push(format!("lost body text: {s:?}"));
            }
        }
        let all = format!("{} {} {}", j.title, j.summary, j.content_text);
        for junk in &exp.absent {
            if all.contains(junk.as_str()) {
                errs.push(format!("junk survived: {junk:?}"));
            }
        }
        if !errs.is_empty() {
            report.push(format!("{name}:\n    {}", errs.join("\n    ")));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} held-out scrapes differ:\n{}",
        report.len(),
        paths.len(),
        report.join("\n")
    );
}
