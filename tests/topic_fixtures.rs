//! The shipped taxonomy in feeds/ against the articles in
//! tests/fixtures/topics/: every topic has articles it must take and near
//! misses it must leave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use topicfeed::classify::Classifier;
use topicfeed::ingest::{self, Input};

use crate::support::root;

fn classifier() -> Classifier {
    Classifier::load(&root().join("feeds"))
        .unwrap_or_else(|e| panic!("feeds/ does not load: {e:?}"))
}

fn topics_of(c: &Classifier, path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("read fixture");
    let article =
        ingest::normalize(Input::new(&bytes)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    c.classify(&article).slugs()
}

#[test]
fn every_shipped_topic_takes_its_articles_and_leaves_near_misses() {
    let c = classifier();
    let required = [
        "world",
        "politics",
        "us",
        "europe",
        "middle-east",
        "russia",
        "technology",
        "business",
        "science",
        "health",
        "climate",
        "sports",
        "culture",
    ];
    for slug in required {
        assert!(
            c.topic(slug).is_some(),
            "the default taxonomy lacks `{slug}`"
        );
    }
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let dir = root().join("tests/fixtures/topics");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let Some((slug, kind)) = name.split_once('.') else {
            continue;
        };
        let expect_in = if kind.starts_with("match-") {
            true
        } else if kind.starts_with("nomatch-") {
            false
        } else {
            continue;
        };
        let got = topics_of(&c, &path);
        let entry = counts.entry(slug.to_owned()).or_default();
        if expect_in {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
        if got.iter().any(|t| t == slug) != expect_in {
            failures.push(format!(
                "{name}: expected {}in `{slug}`, got {got:?}",
                if expect_in { "" } else { "not " }
            ));
        }
    }
    for t in c.topics() {
        let (yes, no) = counts.get(&t.slug).copied().unwrap_or_default();
        if yes < 2 || no < 2 {
            failures.push(format!(
                "`{}` has {yes} must-match and {no} must-not-match fixtures; needs 2 of each",
                t.slug
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_design_story_lands_where_the_design_says() {
    let c = classifier();
    let dir = root().join("tests/fixtures/topics");
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("leak-story.expected.json")).expect("expected"),
    )
    .expect("json");
    let got = topics_of(&c, &dir.join("leak-story.txt"));
    for slug in expected["in"].as_array().expect("in") {
        assert!(
            got.iter().any(|t| t == slug.as_str().unwrap_or_default()),
            "missing {slug}: {got:?}"
        );
    }
    for slug in expected["not_in"].as_array().expect("not_in") {
        assert!(
            !got.iter().any(|t| t == slug.as_str().unwrap_or_default()),
            "unexpected {slug}: {got:?}"
        );
    }
}

#[test]
fn tags_name_the_people_and_places_not_weekdays() {
    let bytes = std::fs::read(root().join("tests/fixtures/topics/leak-story.txt")).expect("read");
    let mut article = ingest::normalize(Input::new(&bytes)).expect("article");
    classifier().apply(&mut article);
    let first: Vec<&str> = article.tags.iter().take(6).map(String::as_str).collect();
    for name in ["Trump", "Israel", "Russia"] {
        assert!(
            first.iter().any(|t| t.contains(name)),
            "{name} not among the first tags: {:?}",
            article.tags
        );
    }
    for junk in ["Wednesday", "Tuesday", "The", "Monday"] {
        assert!(
            !article.tags.iter().any(|t| t == junk),
            "junk tag {junk}: {:?}",
            article.tags
        );
    }
}
