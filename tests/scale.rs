//! Several `serve` processes on one PostgreSQL store, as behind a load
//! balancer: identical bytes and validators for every variant, each
//! other's writes seen within 2 s, exactly one instance polling, and
//! another taking over when it dies.
//!
//! These always run on PostgreSQL (see `support::backend`): without a
//! test database they fail.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::backend::{database, database_for};
use crate::support::server::{Server, get, post, serve_command};
use crate::support::upstream::{Upstream, ok};

const TOKEN: &str = "scale-t0ken";
const BASE: &str = "https://feeds.example.org";

/// `serve` on the shared store `url`, with its own data directory `data`.
fn instance(url: &str, data: &Path, feeds: Option<&Path>, extra: &[&str]) -> Server {
    let mut cmd: Command = serve_command();
    cmd.current_dir(crate::support::root())
        .args(["--api-token", TOKEN, "--base-url", BASE, "--data"])
        .arg(data)
        .args(["--database", url])
        .args(extra);
    if let Some(feeds) = feeds {
        cmd.arg("--feeds").arg(feeds);
    } else {
        cmd.arg("--no-sources");
    }
    Server::spawn(cmd)
}

fn markdown(title: &str) -> String {
    format!(
        "---\ntitle: {title}\nsite: Quayside Courier\n---\n\n\
         {title}. The harbour board met on Tuesday after a long debate about the winter \
         crossings, the pier repairs and the fares for residents.\n"
    )
}

/// Waits until `url` mentions `needle`; returns how long that took.
fn seen_within(url: &str, needle: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if get(url, &[]).text().contains(needle) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn two_instances_serve_identical_feeds_and_see_each_others_writes() {
    let shared = tempfile::tempdir().unwrap();
    let url = database_for(shared.path());
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = instance(&url, da.path(), None, &[]);
    let b = instance(&url, db.path(), None, &["--no-samples"]);
    let variants = [
        "/feeds/all.atom",
        "/feeds/all.rss",
        "/feeds/all.json",
        "/feeds/world.atom",
        "/feeds/science.rss?limit=5",
        "/feeds/all.json?any=science,technology",
        "/feeds/all.atom?q=election",
        "/feeds.opml",
        "/",
    ];
    for coding in ["identity", "gzip"] {
        for v in variants {
            let h = [("Accept-Encoding", coding)];
            let (x, y) = (get(&a.url(v), &h), get(&b.url(v), &h));
            assert_eq!((x.status, y.status), (200, 200), "{v}");
            assert!(x.header("etag").is_some(), "{v}: no ETag");
            assert_eq!(x.header("etag"), y.header("etag"), "{v} ({coding})");
            assert_eq!(x.header("last-modified"), y.header("last-modified"), "{v}");
            assert!(x.body == y.body, "{v} ({coding}): bytes differ");
        }
    }

    // A write through either instance reaches the other's feeds in 2 s.
    let auth = format!("Bearer {TOKEN}");
    for (from, to, title) in [
        (&a, &b, "Harbour board agrees winter ferry timetable"),
        (&b, &a, "Pier repairs start before the winter storms"),
    ] {
        let r = post(
            &from.url("/api/articles"),
            &[("Content-Type", "text/markdown"), ("Authorization", &auth)],
            markdown(title).as_bytes(),
        );
        assert!(
            r.status == 200 || r.status == 201,
            "{} {}",
            r.status,
            r.text()
        );
        let took = seen_within(&to.url("/feeds/all.json"), title, Duration::from_secs(2));
        assert!(
            took.is_some(),
            "{title}: not on the other instance within 2 s"
        );
    }
    let (x, y) = (
        get(&a.url("/feeds/all.atom"), &[]),
        get(&b.url("/feeds/all.atom"), &[]),
    );
    assert_eq!(x.header("etag"), y.header("etag"));
    assert!(x.body == y.body);
}

/// The feeds directory of one instance: the shipped topics, and one source.
fn feeds_with_source(dir: &Path, feed_url: &str) -> std::path::PathBuf {
    let feeds = dir.join("feeds");
    std::fs::create_dir_all(&feeds).unwrap();
    let repo = crate::support::root();
    std::fs::copy(repo.join("feeds/world.toml"), feeds.join("world.toml")).unwrap();
    std::fs::write(
        feeds.join("sources.toml"),
        format!("[[source]]\nname = \"up\"\nurl = \"{feed_url}\"\nevery = \"1h\"\n"),
    )
    .unwrap();
    feeds
}

fn rss(title: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Up</title><link>https://up.example/</link>
<item><title>{title}</title><link>https://up.example/{}</link><guid>{title}</guid>
<description>{title}: the council voted on the budget for the new library, the harbour wall and the school roof after a long night.</description></item>
</channel></rss>"#,
        title.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_instance_polls_and_another_takes_over_when_it_dies() {
    let up = Upstream::start(|req, _| {
        // Each instance is configured with its own path: the path tells who polled.
        let title = if req.path.contains("/a.xml") {
            "Polled by the first instance"
        } else {
            "Polled by the second instance"
        };
        ok(rss(title), "application/rss+xml")
    })
    .await;
    let _ = database();
    let shared = tempfile::tempdir().unwrap();
    let url = database_for(shared.path());
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (fa, fb) = (
        feeds_with_source(da.path(), &up.url("/a.xml")),
        feeds_with_source(db.path(), &up.url("/b.xml")),
    );
    let (u, pa, pb) = (url.clone(), da.path().join("data"), db.path().join("data"));
    let mut a =
        tokio::task::spawn_blocking(move || instance(&u, &pa, Some(&fa), &["--no-samples"]))
            .await
            .unwrap();
    let b = tokio::task::spawn_blocking(move || instance(&url, &pb, Some(&fb), &["--no-samples"]))
        .await
        .unwrap();
    // The first instance leads: it polls; the second does not.
    let b_feed = b.url("/feeds/all.json");
    let seen = tokio::task::spawn_blocking(move || {
        seen_within(
            &b_feed,
            "Polled by the first instance",
            Duration::from_secs(10),
        )
    })
    .await
    .unwrap();
    assert!(
        seen.is_some(),
        "the leader's poll is not served by the other instance"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(up.requests("/a.xml").len(), 1);
    assert_eq!(up.requests("/b.xml").len(), 0, "two instances polled");

    // The leader dies without a word; the other takes over.
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let b_feed = b.url("/feeds/all.json");
    let seen = tokio::task::spawn_blocking(move || {
        seen_within(
            &b_feed,
            "Polled by the second instance",
            Duration::from_secs(10),
        )
    })
    .await
    .unwrap();
    assert!(
        seen.is_some(),
        "no instance took the lead over; its log:\n{}",
        b.stderr()
    );
    assert_eq!(up.requests("/b.xml").len(), 1);
    assert_eq!(up.requests("/a.xml").len(), 1);
}

/// Instances started at once on a new store: one creates and migrates it,
/// the others wait and find it ready; none fails.
#[test]
fn instances_starting_together_on_a_new_store_all_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_for(dir.path());
    let opened: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || topicfeed::store::PostgresStore::open(&url).map(|_| ()))
        })
        .collect();
    for o in opened {
        o.join().unwrap().unwrap();
    }
    let store = topicfeed::store::PostgresStore::open(&url).unwrap();
    use topicfeed::store::Store;
    assert_eq!(store.story_count().unwrap(), 0);
}
