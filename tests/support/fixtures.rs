//! Helpers shared by the fixture tests: listing fixtures and comparing the
//! metadata every expected.json states.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use topicfeed::model::ArticleJson;

/// The `.txt` fixtures in `dir` (relative to the crate), sorted.
pub fn txt_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    v.sort();
    v
}

/// The metadata fields of an expected.json.
#[derive(Deserialize)]
pub struct Meta {
    pub title: String,
    pub site: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub language: String,
}

/// One line per field that differs.
pub fn meta_errors(got: &ArticleJson, want: &Meta) -> Vec<String> {
    let mut errs = Vec::new();
    let mut eq = |field: &str, got: String, want: String| {
        if got != want {
            errs.push(format!("{field}:\n      got  {got}\n      want {want}"));
        }
    };
    eq("title", got.title.clone(), want.title.clone());
    eq(
        "site",
        format!("{:?}", got.site),
        format!("{:?}", want.site),
    );
    eq(
        "authors",
        format!("{:?}", got.authors),
        format!("{:?}", want.authors),
    );
    eq(
        "published",
        format!("{:?}", got.published),
        format!("{:?}", want.published),
    );
    eq(
        "updated",
        format!("{:?}", got.updated),
        format!("{:?}", want.updated),
    );
    eq(
        "language",
        format!("{:?}", got.language),
        format!("{:?}", Some(&want.language)),
    );
    errs
}
