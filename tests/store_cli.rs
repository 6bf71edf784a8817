//! `topicfeed ingest` as users run it: the summary line, idempotent
//! re-runs, failures listed with file and reason, the exit code, and the
//! data directory from `--data` or `TOPICFEED_DATA`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::root;

fn ingest(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_topicfeed"))
        .arg("ingest")
        .args(args)
        .current_dir(root())
        .env("TOPICFEED_DATA", data)
        .env_remove("TOPICFEED_FEEDS")
        .output()
        .expect("run topicfeed")
}

/// `new N, updated N, unchanged N, duplicate N, failed N` → the five numbers.
fn counts(o: &Output) -> [usize; 5] {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out.lines().last().unwrap_or_default().to_owned();
    let words: Vec<&str> = line.split(", ").collect();
    let labels = ["new", "updated", "unchanged", "duplicate", "failed"];
    assert_eq!(words.len(), 5, "{line}");
    let mut n = [0; 5];
    for (i, (w, label)) in words.iter().zip(labels).enumerate() {
        let (l, v) = w.split_once(' ').unwrap();
        assert_eq!(l, label, "{line}");
        n[i] = v.parse().unwrap();
    }
    n
}

#[test]
fn ingest_is_idempotent_and_merges_copies() {
    let dir = tempfile::tempdir().unwrap();
    let files = std::fs::read_dir(root().join("examples/articles"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "README.md")
        .count();
    let first = ingest(dir.path(), &["examples/articles"]);
    assert!(first.status.success(), "{first:?}");
    let [new, updated, unchanged, duplicate, failed] = counts(&first);
    // 010/011 and 018/019 are the same stories from two sites.
    assert!(duplicate >= 2, "{first:?}");
    assert_eq!(
        (new + duplicate, updated, unchanged, failed),
        (files, 0, 0, 0)
    );
    assert!(dir.path().join("topicfeed.db").is_file());

    let again = ingest(dir.path(), &["examples/articles"]);
    assert!(again.status.success());
    assert_eq!(counts(&again), [0, 0, files, 0, 0]);
}

#[test]
fn failures_are_listed_and_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(inbox.join("sub")).unwrap();
    std::fs::write(inbox.join("binary.txt"), b"\x00\x01\x02\x03").unwrap();
    std::fs::write(inbox.join(".hidden.txt"), b"\x00").unwrap();
    std::fs::copy(
        root().join("examples/articles/001-eu-grid-pact.txt"),
        inbox.join("sub/good.txt"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = ingest(
        &data,
        &[
            inbox.to_str().unwrap(),
            "no/such/file.txt",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert_eq!(counts(&out), [1, 0, 0, 0, 2]);
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    // Sorted by path, one `FILE: reason` line each.
    assert!(
        lines[0].ends_with("inbox/binary.txt: not text: the input holds binary data"),
        "{err}"
    );
    assert!(
        lines[1].starts_with("no/such/file.txt: cannot read"),
        "{err}"
    );
}

#[test]
fn ingest_takes_feed_files_as_the_inbox_does() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("wire.atom");
    std::fs::write(
        &feed,
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harbour Wire</title><id>urn:x:wire</id>
<updated>2026-11-02T08:00:00Z</updated>
<entry><title>Ferry timetable changes for winter</title><id>urn:x:1</id>
<link href="https://example.org/ferry"/><updated>2026-11-02T08:00:00Z</updated>
<summary>The island ferry will run four times a day from December, the operator said on Monday.</summary></entry>
<entry><title>Harbour wall repairs begin</title><id>urn:x:2</id>
<link href="https://example.org/wall"/><updated>2026-11-01T08:00:00Z</updated>
<summary>Work on the storm-damaged harbour wall started on Sunday and should last six weeks.</summary></entry>
</feed>"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = ingest(&data, &[feed.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(counts(&out), [2, 0, 0, 0, 0]);
    // A second run finds the same entries.
    assert_eq!(
        counts(&ingest(&data, &[feed.to_str().unwrap()])),
        [0, 0, 2, 0, 0]
    );
}
