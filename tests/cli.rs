//! The `topicfeed` binary as users run it: normalize, classify, topics, check.

use std::process::{Command, Output};

use crate::support::root;

fn topicfeed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_topicfeed"))
        .args(args)
        .current_dir(root())
        .env_remove("TOPICFEED_FEEDS")
        .output()
        .expect("run topicfeed")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const FIELDS: [&str; 13] = [
    "id",
    "title",
    "site",
    "url",
    "authors",
    "published",
    "updated",
    "language",
    "summary",
    "content_text",
    "content_html",
    "topics",
    "tags",
];

#[test]
fn normalize_prints_one_json_object_per_file_with_the_public_fields() {
    let o = topicfeed(&[
        "normalize",
        "tests/fixtures/quality/001.txt",
        "tests/fixtures/quality/012.txt",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let obj = v.as_object().expect("object");
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        let mut want = FIELDS.to_vec();
        want.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, want);
        let text = obj["content_text"].as_str().expect("content_text");
        assert!(
            text.contains("\n\n"),
            "paragraphs separated by a blank line"
        );
        assert!(
            !obj["topics"].as_array().expect("topics").is_empty(),
            "classified with feeds/"
        );
        assert!(!obj["tags"].as_array().expect("tags").is_empty());
    }
}

#[test]
fn normalize_reports_each_bad_file_and_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = dir.path().join("photo.jpg");
    std::fs::write(&binary, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00").expect("write");
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, b"\n\n  \n").expect("write");
    let missing = dir.path().join("missing.txt");
    let good = root().join("tests/fixtures/quality/005.txt");
    let args: Vec<String> = vec![
        "normalize".into(),
        binary.display().to_string(),
        good.display().to_string(),
        empty.display().to_string(),
        missing.display().to_string(),
    ];
    let o = topicfeed(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!o.status.success());
    assert_eq!(
        stdout(&o).lines().count(),
        1,
        "the good file is still printed"
    );
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].starts_with(&binary.display().to_string()) && lines[0].contains("binary"),
        "{err}"
    );
    assert!(
        lines[1].starts_with(&empty.display().to_string()) && lines[1].contains("empty"),
        "{err}"
    );
    assert!(
        lines[2].starts_with(&missing.display().to_string()) && lines[2].contains("cannot read"),
        "{err}"
    );
}

#[test]
fn normalize_text_format_is_readable() {
    let o = topicfeed(&[
        "normalize",
        "--format",
        "text",
        "tests/fixtures/quality/001.txt",
    ]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("title:") && out.contains("[Paragraph]"),
        "{out}"
    );
}

#[test]
fn classify_explains_matches_and_near_misses() {
    let o = topicfeed(&[
        "classify",
        "tests/fixtures/topics/leak-story.txt",
        "tests/fixtures/topics/sports.nomatch-1.txt",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("+ middle-east (score"), "{out}");
    assert!(out.contains("\"Israel\" (title ×1"), "{out}");
    assert!(out.contains("near miss"), "{out}");
}

#[test]
fn topics_lists_the_taxonomy() {
    let o = topicfeed(&["topics"]);
    assert!(o.status.success());
    let out = stdout(&o);
    for slug in ["middle-east", "technology", "culture"] {
        assert!(out.lines().any(|l| l.starts_with(slug)), "{out}");
    }
}

#[test]
fn check_passes_the_shipped_feeds_and_names_file_line_field_on_errors() {
    let o = topicfeed(&["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("13 topics OK"), "{}", stdout(&o));

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("good.toml"),
        "title = \"Good\"\nany = [\"port\"]\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("typo.toml"),
        "title = \"T\"\nany = [\"a\"]\nnoen = [\"b\"]\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("empty.toml"), "title = \"E\"\nany = []\n").expect("write");
    std::fs::write(
        dir.path().join("Bad Slug.toml"),
        "title = \"B\"\nany = [\"x\"]\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("broken.toml"),
        "title = \"B\"\nany = [\"x\"\n",
    )
    .expect("write");
    let o = topicfeed(&["check", "--feeds", &dir.path().display().to_string()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("typo.toml:3") && err.contains("noen"), "{err}");
    assert!(
        err.contains("empty.toml:2") && err.contains("empty rule set"),
        "{err}"
    );
    assert!(
        err.contains("Bad Slug.toml") && err.contains("slug"),
        "{err}"
    );
    assert!(err.contains("broken.toml:"), "{err}");
    assert!(err.contains("4 error(s)"), "{err}");
}

/// The ready line the server tests rely on is part of `serve --help`.
#[test]
fn serve_help_documents_the_ready_line() {
    let o = topicfeed(&["serve", "--help"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let help = stdout(&o);
    assert!(
        help.contains("exactly one line on standard output, `listening on http://ADDR/`"),
        "{help}"
    );
}

/// A database that cannot be used is named (without its password) with
/// the reason the driver gave, on one line; nothing hangs or panics.
#[test]
fn an_unusable_database_is_a_clear_error() {
    for (url, reason) in [
        // Port 1 on loopback: nothing listens.
        (
            "postgres://reader:s3cret@127.0.0.1:1/news",
            "Connection refused",
        ),
        (
            "mysql://reader@host/news",
            "not a PostgreSQL connection string",
        ),
    ] {
        let out = topicfeed(&["sites", "--database", url]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{url}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(reason), "{url}: {err}");
        assert!(!err.contains("s3cret"), "the password leaked: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
