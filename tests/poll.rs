//! The feed poller against a scripted upstream server on 127.0.0.1: the
//! exact requests it sends (validators, User-Agent, nothing before a
//! Retry-After), how it survives misbehaving servers, and what it stores.
//! Fixtures are in tests/fixtures/upstream/. Nothing leaves loopback.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use topicfeed::classify::LiveTopics;
use topicfeed::pipeline::Ingester;
use topicfeed::sources::{
    FetchOptions, OutboundPolicy, PollOptions, PollOutcome, Poller, SourceConfig, SourceReport,
};
use topicfeed::store::{Query, Store};

use crate::support::server::{Server, serve_command};
use crate::support::upstream::{Reply, Upstream, ok, status, with_headers};

// ---------------------------------------------------------------- helpers

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/upstream")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(crate) struct Setup {
    _dir: tempfile::TempDir,
    pub data: PathBuf,
    pub store: Arc<dyn Store>,
    pub poller: Arc<Poller>,
}

pub(crate) fn test_options() -> PollOptions {
    PollOptions {
        fetch: FetchOptions {
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            max_body: 256 * 1024,
            // Never send loopback traffic through a proxy from the environment.
            env_proxy: false,
            // The article pages these tests serve are on loopback too.
            outbound: OutboundPolicy {
                allow: vec!["127.0.0.0/8".parse().unwrap()],
            },
            ..FetchOptions::default()
        },
        ..PollOptions::default()
    }
}

pub(crate) fn setup_with(opts: PollOptions) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store: Arc<dyn Store> = Arc::from(crate::support::backend::open_store(&data));
    let feeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
    let topics = Arc::new(LiveTopics::load(&feeds).unwrap());
    let sink = Arc::new(Ingester::new(store.clone(), topics));
    let poller = Arc::new(Poller::new(sink, &data, opts).unwrap());
    Setup {
        _dir: dir,
        data,
        store,
        poller,
    }
}

pub(crate) fn setup() -> Setup {
    setup_with(test_options())
}

pub(crate) fn source(name: &str, url: String) -> SourceConfig {
    SourceConfig {
        name: name.into(),
        url,
        every: Duration::from_secs(900),
        full_text: false,
    }
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-01-10T12:00:00Z")
        .unwrap()
        .into()
}

fn secs(s: i64) -> chrono::Duration {
    chrono::Duration::seconds(s)
}

/// Every stored story (the tests store far fewer than a page's worth).
fn all_stories(store: &dyn Store) -> Vec<topicfeed::store::Story> {
    store
        .query(&Query {
            limit: 1000,
            ..Query::default()
        })
        .unwrap()
        .stories
}

/// Every stored story's article, by title.
fn stored(store: &dyn Store) -> HashMap<String, topicfeed::model::Article> {
    all_stories(store)
        .into_iter()
        .map(|s| (s.article.title.clone(), s.article))
        .collect()
}

fn fetched(r: &SourceReport) -> usize {
    match &r.outcome {
        PollOutcome::Fetched { entries, .. } => *entries,
        other => panic!("{}: expected a fetch, got {other:?}: {r}", r.name),
    }
}

fn failure(r: &SourceReport) -> String {
    match &r.outcome {
        PollOutcome::Failed { error, .. } => error.clone(),
        other => panic!("{}: expected a failure, got {other:?}: {r}", r.name),
    }
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feed_format_is_parsed_and_stored() {
    let up = Upstream::start(|req, _| match req.path.as_str() {
        "/rss2" => ok(fixture("rss2.xml"), "application/rss+xml"),
        "/rss1" => ok(fixture("rss1.rdf"), "application/rdf+xml"),
        "/atom" => ok(fixture("atom.xml"), "application/atom+xml"),
        "/json" => ok(fixture("feed.json"), "application/feed+json"),
        _ => status(404, &[]),
    })
    .await;
    let s = setup();
    let sources = [
        source("rss2", up.url("/rss2")),
        source("rss1", up.url("/rss1")),
        source("atom", up.url("/atom")),
        source("json", up.url("/json")),
    ];
    let reports = s.poller.poll_round(&sources, t0(), true).await;
    let entries: Vec<usize> = reports.iter().map(fetched).collect();
    assert_eq!(entries, [2, 1, 1, 2]);
    for r in &reports {
        assert!(r.counts.failed.is_empty(), "{r}");
        assert_eq!(r.counts.new, fetched(r), "{r}");
    }
    assert_eq!(
        reports[0].to_string(),
        "rss2: HTTP 200, read 2, stored 2 (new 2, updated 0, unchanged 0, duplicate 0), skipped 0"
    );

    let all = stored(s.store.as_ref());
    assert_eq!(all.len(), 6, "{:?}", all.keys());
    let ferry = &all["Ferry operator adds a winter crossing"];
    assert_eq!(ferry.site.as_deref(), Some("Harbour Gazette"));
    // Canonical link: tracking parameters gone. The id derives from the
    // item's guid, scoped to the feed it came from.
    assert_eq!(
        ferry.url.as_deref(),
        Some("https://harbour.example/news/ferry-winter-crossing")
    );
    {
        use topicfeed::ingest::identity::{guid_key, item_id, link_key};
        let scope = link_key(&up.url("/rss2")).unwrap();
        assert_eq!(Some(ferry.id.clone()), item_id(guid_key("hg-1001", &scope)));
    }
    assert_eq!(ferry.authors, ["Mara Quist"]);
    assert_eq!(
        ferry.published.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-03-04T06:15:00+00:00")
    );
    assert_eq!(
        ferry.summary,
        "A third daily crossing will run from November."
    );
    assert_eq!(ferry.blocks.len(), 2);
    assert_eq!(ferry.language.as_deref(), Some("en"));

    let frost = &all["Late frost damages orchard blossom"];
    assert_eq!(frost.site.as_deref(), Some("Valley Courier"));
    assert_eq!(
        frost.published.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-04-12T04:30:00+00:00")
    );
    assert_eq!(frost.authors, ["Ilse Brandt"]);

    let wind = &all["Wind farm consultation opens"];
    assert_eq!(wind.site.as_deref(), Some("Ridge & Plain Observer"));
    assert_eq!(
        wind.published.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-05-02T08:00:00+00:00")
    );
    assert_eq!(
        wind.updated.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-05-02T10:30:00+00:00")
    );

    let levee = &all["Levee repairs finish ahead of the rains"];
    assert_eq!(levee.site.as_deref(), Some("Delta Daily"));
    assert_eq!(levee.authors, ["June Okafor"]);
    assert_eq!(
        levee.published.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-06-11T13:00:00+00:00")
    );
    // A bad date is no date, not an error and not 1970.
    let market = &all["Market hall reopens"];
    assert_eq!(market.published, None);
    assert_eq!(market.blocks.len(), 2, "{:?}", market.blocks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_get_sends_stored_validators() {
    let up = Upstream::start(|req, _| {
        let etag = "\"rss-v1\"";
        let lm = "Mon, 04 Mar 2024 08:00:00 GMT";
        if req.header("if-none-match") == Some(etag) {
            return status(304, &[("ETag", etag)]);
        }
        with_headers(
            ok(fixture("rss2.xml"), "application/rss+xml"),
            &[("ETag", etag), ("Last-Modified", lm)],
        )
    })
    .await;
    let s = setup();
    let src = source("gazette", up.url("/feed"));
    let first = s.poller.poll_source(&src, t0(), false).await;
    assert_eq!(first.counts.new, 2, "{first}");
    // Not due yet: no request at all.
    let early = s.poller.poll_source(&src, t0() + secs(60), false).await;
    assert_eq!(early.outcome, PollOutcome::NotDue);
    assert_eq!(up.request_count(), 1);
    // Due (the feed's <ttl> of 20 minutes beats `every` of 15).
    assert_eq!(first.next_poll, Some(t0() + secs(20 * 60)));
    let second = s
        .poller
        .poll_source(&src, t0() + secs(20 * 60), false)
        .await;
    assert_eq!(second.outcome, PollOutcome::NotModified, "{second}");
    assert_eq!(second.to_string(), "gazette: HTTP 304 not modified");

    let reqs = up.requests("/feed");
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("if-none-match"), None);
    assert_eq!(reqs[0].header("if-modified-since"), None);
    assert_eq!(reqs[1].header("if-none-match"), Some("\"rss-v1\""));
    assert_eq!(
        reqs[1].header("if-modified-since"),
        Some("Mon, 04 Mar 2024 08:00:00 GMT")
    );
    for r in &reqs {
        let ua = r.header("user-agent").unwrap_or_default();
        assert!(ua.starts_with("topicfeed/"), "{ua}");
        assert!(
            r.header("accept")
                .unwrap_or_default()
                .contains("application/rss+xml")
        );
        let ae = r.header("accept-encoding").unwrap_or_default();
        assert!(ae.contains("gzip") && ae.contains("br"), "{ae}");
    }
    // The validators survive a restart: a new poller on the same data dir.
    let state = std::fs::read_to_string(s.data.join("sources-state.json")).unwrap();
    assert!(
        state.contains("rss-v1") && state.contains("Mon, 04 Mar 2024 08:00:00 GMT"),
        "{state}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_modified_alone_is_sent_back() {
    let up = Upstream::start(|req, _| {
        let lm = "Tue, 05 Mar 2024 10:00:00 GMT";
        if req.header("if-modified-since") == Some(lm) {
            return status(304, &[]);
        }
        with_headers(
            ok(fixture("atom.xml"), "application/atom+xml"),
            &[("Last-Modified", lm)],
        )
    })
    .await;
    let s = setup();
    let src = source("ridge", up.url("/atom"));
    s.poller.poll_source(&src, t0(), true).await;
    let second = s.poller.poll_source(&src, t0() + secs(1), true).await;
    assert_eq!(second.outcome, PollOutcome::NotModified);
    let reqs = up.requests("/atom");
    assert_eq!(reqs[1].header("if-none-match"), None);
    assert_eq!(
        reqs[1].header("if-modified-since"),
        Some("Tue, 05 Mar 2024 10:00:00 GMT")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_control_max_age_lengthens_the_interval() {
    let up = Upstream::start(|_, _| {
        with_headers(
            ok(fixture("atom.xml"), "application/atom+xml"),
            &[("Cache-Control", "public, max-age=3600")],
        )
    })
    .await;
    let s = setup();
    let r = s
        .poller
        .poll_source(&source("ridge", up.url("/a")), t0(), false)
        .await;
    assert_eq!(r.next_poll, Some(t0() + secs(3600)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_before_retry_after() {
    let up = Upstream::start(|req, nth| match (req.path.as_str(), nth) {
        ("/busy", 0) => status(429, &[("Retry-After", "120")]),
        ("/down", 0) => status(503, &[("Retry-After", "Fri, 10 Jan 2025 13:00:00 GMT")]),
        _ => ok(fixture("rss2.xml"), "application/rss+xml"),
    })
    .await;
    let s = setup();
    let busy = source("busy", up.url("/busy"));
    let down = source("down", up.url("/down"));
    let r = s.poller.poll_source(&busy, t0(), true).await;
    assert_eq!(failure(&r), "HTTP 429 Too Many Requests");
    assert_eq!(r.next_poll.map(|t| t >= t0() + secs(120)), Some(true));
    // Even a forced poll (`topicfeed poll`) waits for Retry-After.
    let r = s.poller.poll_source(&busy, t0() + secs(119), true).await;
    assert_eq!(
        r.outcome,
        PollOutcome::Deferred {
            until: t0() + secs(120)
        },
        "{r}"
    );
    assert_eq!(up.requests("/busy").len(), 1);
    let r = s.poller.poll_source(&busy, t0() + secs(120), true).await;
    assert_eq!(fetched(&r), 2);
    assert_eq!(up.requests("/busy").len(), 2);

    let r = s.poller.poll_source(&down, t0(), true).await;
    assert_eq!(failure(&r), "HTTP 503 Service Unavailable");
    let r = s.poller.poll_source(&down, t0() + secs(3599), true).await;
    assert!(matches!(r.outcome, PollOutcome::Deferred { .. }), "{r}");
    assert_eq!(up.requests("/down").len(), 1);
    let r = s.poller.poll_source(&down, t0() + secs(3600), true).await;
    assert!(matches!(r.outcome, PollOutcome::Fetched { .. }), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_source_turns_unhealthy_alone_and_backs_off() {
    let up = Upstream::start(|req, _| match req.path.as_str() {
        "/broken" => status(500, &[]),
        _ => ok(fixture("rss1.rdf"), "application/rdf+xml"),
    })
    .await;
    let s = setup();
    let sources = [
        source("broken", up.url("/broken")),
        source("fine", up.url("/fine")),
    ];
    s.poller.configure(&sources);
    let mut now = t0();
    let mut last = Vec::new();
    for round in 1..=3 {
        last = s.poller.poll_round(&sources, now, true).await;
        assert_eq!(failure(&last[0]), "HTTP 500 Internal Server Error");
        assert!(matches!(last[1].outcome, PollOutcome::Fetched { .. }));
        // Backoff: every (15 min) doubled per failure, ±25 % jitter.
        let wait = (last[0].next_poll.unwrap() - now).num_seconds();
        let base = 900 * (1 << (round - 1));
        assert!(
            wait >= base * 3 / 4 && wait <= base * 5 / 4,
            "round {round}: {wait}"
        );
        now += secs(1);
    }
    assert!(!last[0].healthy && last[1].healthy);
    assert!(
        last[0]
            .to_string()
            .ends_with("FAILED: HTTP 500 Internal Server Error (unhealthy)"),
        "{}",
        last[0]
    );
    let health = s.poller.health().snapshot();
    assert_eq!(health.len(), 2);
    let (broken, fine) = (&health[0], &health[1]);
    assert_eq!((broken.name.as_str(), broken.healthy), ("broken", false));
    assert_eq!(broken.consecutive_failures, 3);
    assert_eq!(
        broken.last_error.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
    assert_eq!(broken.last_success, None);
    assert_eq!(broken.polls_failed, 3);
    assert!(fine.healthy && fine.last_success.is_some() && fine.next_poll.is_some());
    assert_eq!(fine.articles_new, 1);
    // Scheduled (not forced) polls respect the backoff.
    let r = s.poller.poll_source(&sources[0], now, false).await;
    assert_eq!(r.outcome, PollOutcome::NotDue);
    assert_eq!(up.requests("/broken").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_followed_loops_and_chains_refused() {
    let up = Upstream::start(|req, _| match req.path.as_str() {
        "/old" => status(301, &[("Location", "/new")]),
        "/new" => ok(fixture("atom.xml"), "application/atom+xml"),
        "/temp" => status(302, &[("Location", "/new")]),
        "/loop-a" => status(302, &[("Location", "/loop-b")]),
        "/loop-b" => status(307, &[("Location", "/loop-a")]),
        p if p.starts_with("/hop/") => {
            let n: u32 = p[5..].parse().unwrap();
            status(302, &[("Location", &format!("/hop/{}", n + 1))])
        }
        _ => status(404, &[]),
    })
    .await;
    let s = setup();
    let moved = source("moved", up.url("/old"));
    let r = s.poller.poll_source(&moved, t0(), true).await;
    assert_eq!(fetched(&r), 1);
    // A permanent move is remembered: the next poll goes straight there.
    s.poller.poll_source(&moved, t0() + secs(1), true).await;
    assert_eq!(up.requests("/old").len(), 1);
    assert_eq!(up.requests("/new").len(), 2);
    // A temporary one is not.
    let temp = source("temp", up.url("/temp"));
    s.poller.poll_source(&temp, t0(), true).await;
    s.poller.poll_source(&temp, t0() + secs(1), true).await;
    assert_eq!(up.requests("/temp").len(), 2);

    let r = s
        .poller
        .poll_source(&source("loop", up.url("/loop-a")), t0(), true)
        .await;
    let e = failure(&r);
    assert!(
        e.contains("redirect loop") && e.ends_with("/loop-a)"),
        "{e}"
    );
    assert_eq!(up.requests("/loop-a").len(), 1);

    let r = s
        .poller
        .poll_source(&source("chain", up.url("/hop/0")), t0(), true)
        .await;
    assert!(failure(&r).contains("more than 5 redirects"), "{r}");
    // The first request and five followed hops; the sixth is not requested.
    let hops = up.requests_where(|r| r.path.starts_with("/hop/"));
    assert_eq!(hops, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_server_times_out_and_endless_body_is_cut() {
    let up = Upstream::start(|req, _| match req.path.as_str() {
        "/slow" => Reply::Slow(
            Duration::from_secs(5),
            Box::new(ok(fixture("rss2.xml"), "application/rss+xml")),
        ),
        "/endless" => Reply::Endless,
        "/huge" => ok(vec![b' '; 300 * 1024], "application/rss+xml"),
        _ => status(404, &[]),
    })
    .await;
    let s = setup();
    let started = std::time::Instant::now();
    let reports = s
        .poller
        .poll_round(
            &[
                source("slow", up.url("/slow")),
                source("endless", up.url("/endless")),
                source("huge", up.url("/huge")),
            ],
            t0(),
            true,
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        failure(&reports[0]).contains("timed out after 1 s"),
        "{}",
        reports[0]
    );
    assert!(
        failure(&reports[1]).contains("larger than the 262144-byte limit"),
        "{}",
        reports[1]
    );
    assert!(
        failure(&reports[2]).contains("larger than"),
        "{}",
        reports[2]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_and_brotli_bodies_are_decoded() {
    use std::io::Write;
    let up = Upstream::start(|req, _| {
        let body = fixture("rss2.xml");
        let ae = req.header("accept-encoding").unwrap_or_default().to_owned();
        match req.path.as_str() {
            "/gz" if ae.contains("gzip") => {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(&body).unwrap();
                with_headers(
                    ok(enc.finish().unwrap(), "application/rss+xml"),
                    &[("Content-Encoding", "gzip")],
                )
            }
            "/br" if ae.contains("br") => {
                let mut out = Vec::new();
                {
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                    w.write_all(&body).unwrap();
                }
                with_headers(
                    ok(out, "application/rss+xml"),
                    &[("Content-Encoding", "br")],
                )
            }
            _ => status(406, &[]),
        }
    })
    .await;
    let s = setup();
    let reports = s
        .poller
        .poll_round(
            &[source("gz", up.url("/gz")), source("br", up.url("/br"))],
            t0(),
            true,
        )
        .await;
    assert_eq!(fetched(&reports[0]), 2, "{}", reports[0]);
    assert_eq!(fetched(&reports[1]), 2, "{}", reports[1]);
    // The same document at two URLs is two feeds: the item with an opaque
    // guid is one item per feed, and the second feed's copy of it, word for
    // word the same, merges as a duplicate.
    assert_eq!(reports[0].counts.new + reports[1].counts.new, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_feeds_recovered_or_rejected() {
    let up = Upstream::start(|req, _| match req.path.as_str() {
        "/latin" => ok(fixture("malformed-1252-amp.xml"), "text/xml"),
        "/broken" => ok(fixture("broken.xml"), "application/rss+xml"),
        "/html" => ok(
            "<!DOCTYPE html><html><body><p>Not a feed</p></body></html>",
            "text/html",
        ),
        _ => status(404, &[]),
    })
    .await;
    let s = setup();
    let reports = s
        .poller
        .poll_round(
            &[
                source("latin", up.url("/latin")),
                source("broken", up.url("/broken")),
                source("html", up.url("/html")),
            ],
            t0(),
            true,
        )
        .await;
    assert_eq!(fetched(&reports[0]), 1, "{}", reports[0]);
    assert_eq!(reports[0].counts.new, 1);
    let e = failure(&reports[1]);
    assert!(e.contains("malformed feed"), "{e}");
    assert!(failure(&reports[2]).contains("malformed feed"));
    let all = stored(s.store.as_ref());
    let a = &all["Fish & chips shop wins café award"];
    assert_eq!(a.site.as_deref(), Some("Café & Bistro Weekly"));
    assert_eq!(
        a.url.as_deref(),
        Some("https://bistro.example/news/fish-chips-award?a=1&b=2")
    );
    assert_eq!(a.published, None);
    assert!(
        a.content_text().contains("naïve little shop"),
        "{}",
        a.content_text()
    );
    assert!(
        a.content_text().contains("R&D-tested"),
        "{}",
        a.content_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_links_resolved_and_html_sanitized() {
    let up = Upstream::start(|_, _| ok(fixture("relative.xml"), "application/rss+xml")).await;
    let s = setup();
    let r = s
        .poller
        .poll_source(&source("relative", up.url("/feeds/rel.xml")), t0(), true)
        .await;
    assert_eq!(r.counts.new, 1, "{r}");
    let all = stored(s.store.as_ref());
    let a = &all["Bridge reopens after inspection"];
    assert_eq!(
        a.url.as_deref(),
        Some(up.url("/news/bridge-reopens").as_str())
    );
    assert_eq!(a.site.as_deref(), Some("Relative Times"));
    let html = &a.content_html;
    for bad in ["<script", "tracker", "<style", "onclick", "javascript:"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    assert!(
        html.contains(&format!("src=\"{}\"", up.url("/images/bridge.jpg"))),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"{}\"", up.url("/news/bridge-closed"))),
        "{html}"
    );
    assert!(
        a.content_text().contains("weight limits"),
        "{}",
        a.content_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_feed_is_new_updated_unchanged() {
    let up = Upstream::start(|_, nth| match nth {
        0 => ok(fixture("changing-v1.xml"), "application/rss+xml"),
        _ => ok(fixture("changing-v2.xml"), "application/rss+xml"),
    })
    .await;
    let s = setup();
    let src = source("townhall", up.url("/notes.xml"));
    let r1 = s.poller.poll_source(&src, t0(), true).await;
    assert_eq!((r1.counts.new, r1.counts.updated), (2, 0), "{r1}");
    let r2 = s.poller.poll_source(&src, t0() + secs(1), true).await;
    assert_eq!(
        (r2.counts.new, r2.counts.updated, r2.counts.unchanged),
        (1, 1, 1),
        "{r2}"
    );
    let all = stored(s.store.as_ref());
    assert!(
        all["Council delays vote on parking fees"]
            .content_text()
            .contains("December")
    );
    assert_eq!(all.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_text_fetched_once_for_summary_only_entries() {
    let up = Upstream::start(|req, _| match req.path.as_str() {
        "/brief.xml" => ok(fixture("summary-only.xml"), "application/rss+xml"),
        "/article/comet" => ok(fixture("article-page.html"), "text/html; charset=utf-8"),
        _ => status(404, &[]),
    })
    .await;
    let s = setup();
    let src = SourceConfig {
        full_text: true,
        ..source("brief", up.url("/brief.xml"))
    };
    let r = s.poller.poll_source(&src, t0(), true).await;
    assert_eq!(r.counts.new, 1, "{r}");
    assert!(
        matches!(r.outcome, PollOutcome::Fetched { full_text: 1, .. }),
        "{r}"
    );
    let page_req = &up.requests("/article/comet")[0];
    assert!(
        page_req
            .header("user-agent")
            .unwrap_or_default()
            .starts_with("topicfeed/")
    );
    assert!(
        page_req
            .header("accept")
            .unwrap_or_default()
            .starts_with("text/html")
    );

    let all = stored(s.store.as_ref());
    let a = &all["Observatory finds a new comet"];
    let text = a.content_text();
    assert!(
        text.contains("Cassiopeia") && text.contains("survey camera"),
        "{text}"
    );
    assert!(
        !text.contains("trackPageView") && !text.contains("Copyright"),
        "{text}"
    );
    assert_eq!(
        a.summary,
        "Astronomers spotted a faint comet. Read more on our site."
    );
    assert_eq!(a.url.as_deref(), Some(up.url("/article/comet").as_str()));
    assert_eq!(a.authors, ["Pia Lund"]);

    // Polled again: the stored full text is kept and the page not refetched.
    let r = s.poller.poll_source(&src, t0() + secs(1), true).await;
    assert_eq!(r.counts.unchanged, 1, "{r}");
    assert_eq!(up.requests("/article/comet").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_two_requests_per_host() {
    let up = Upstream::start(|_, _| {
        Reply::Slow(
            Duration::from_millis(200),
            Box::new(ok(fixture("rss1.rdf"), "application/rdf+xml")),
        )
    })
    .await;
    let s = setup();
    let sources: Vec<SourceConfig> = (0..5)
        .map(|i| source(&format!("s{i}"), up.url(&format!("/f{i}"))))
        .collect();
    let reports = s.poller.poll_round(&sources, t0(), true).await;
    assert!(
        reports
            .iter()
            .all(|r| matches!(r.outcome, PollOutcome::Fetched { .. }))
    );
    assert_eq!(up.max_in_flight(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_command_tries_every_source_and_fails_if_one_did() {
    let up = Upstream::start(|req, _| match req.path.as_str() {
        "/good" => ok(fixture("rss2.xml"), "application/rss+xml"),
        _ => status(500, &[]),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds");
    std::fs::create_dir_all(&feeds).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(repo.join("feeds/world.toml"), feeds.join("world.toml")).unwrap();
    std::fs::write(
        feeds.join("sources.toml"),
        format!(
            "[[source]]\nname = \"bad\"\nurl = \"{}\"\n\n[[source]]\nname = \"good\"\nurl = \"{}\"\nevery = \"1h\"\n",
            up.url("/bad"),
            up.url("/good")
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let run = move |extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_topicfeed"));
        cmd.arg("poll")
            .arg("--data")
            .arg(&data)
            .args(crate::support::backend::database_args(&data))
            .arg("--feeds")
            .arg(&feeds)
            .args(extra);
        crate::support::server::without_proxies(&mut cmd);
        cmd.output().unwrap()
    };
    let out = tokio::task::spawn_blocking(move || {
        let all = run(&[]);
        let good = run(&["--source", "good"]);
        (all, good)
    })
    .await
    .unwrap();
    let (all, good) = out;
    let stdout = String::from_utf8_lossy(&all.stdout);
    assert!(!all.status.success());
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0], "bad: FAILED: HTTP 500 Internal Server Error");
    assert_eq!(
        lines[1],
        "good: HTTP 200, read 2, stored 2 (new 2, updated 0, unchanged 0, duplicate 0), skipped 0"
    );
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&good.stdout).trim(),
        "good: HTTP 200, read 2, stored 2 (new 0, updated 0, unchanged 2, duplicate 0), skipped 0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_polls_sources_and_watches_inboxes() {
    let up = Upstream::start(|_, _| ok(fixture("atom.xml"), "application/atom+xml")).await;
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds");
    let inbox = dir.path().join("drop");
    std::fs::create_dir_all(&feeds).unwrap();
    // Made here, not left to the server: the test writes into it as soon as
    // the server listens, which can be before the watcher has started.
    std::fs::create_dir_all(&inbox).unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(repo.join("feeds/world.toml"), feeds.join("world.toml")).unwrap();
    std::fs::write(
        feeds.join("sources.toml"),
        format!(
            "[[source]]\nname = \"ridge\"\nurl = \"{}\"\nevery = \"1h\"\n\n[[inbox]]\npath = \"drop\"\n",
            up.url("/atom.xml")
        ),
    )
    .unwrap();
    let mut cmd = serve_command();
    cmd.arg("--no-samples")
        .arg("--data")
        .arg(dir.path().join("data"))
        .args(crate::support::backend::database_args(
            &dir.path().join("data"),
        ))
        .arg("--feeds")
        .arg(&feeds);
    let server = tokio::task::spawn_blocking(move || Server::spawn(cmd))
        .await
        .unwrap();
    let base = server.base.clone();
    std::fs::write(
        inbox.join("note.md"),
        "---\ntitle: Ferry timetable changes for winter\n---\n\nThe winter timetable starts on the first Sunday of November, with two crossings a day.\n",
    )
    .unwrap();
    topicfeed::sources::fetch::install_crypto_provider();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut body = String::new();
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        body = match client.get(format!("{base}/feeds/all.json")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if body.contains("Wind farm consultation opens") && body.contains("Ferry timetable changes")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(server);
    assert!(body.contains("Wind farm consultation opens"), "{body}");
    assert!(
        body.contains("Ferry timetable changes for winter"),
        "{body}"
    );
    assert!(inbox.join("done/note.md").exists());
    let reqs = up.requests("/atom.xml");
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs[0]
            .header("user-agent")
            .unwrap_or_default()
            .starts_with("topicfeed/")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_feed_keeps_complete_items_and_is_reported_damaged() {
    let up =
        Upstream::start(|_, _| ok(fixture("../feeds/zoo/truncated.xml"), "application/rss+xml"))
            .await;
    let s = setup();
    let r = s
        .poller
        .poll_source(&source("cut", up.url("/cut.xml")), t0(), true)
        .await;
    assert_eq!(r.counts.new, 2, "{r}");
    let line = r.to_string();
    assert!(line.contains("read by the salvage reader"), "{line}");
    assert!(line.contains("damaged document"), "{line}");
    let all = stored(s.store.as_ref());
    assert!(all.contains_key("Complete one") && all.contains_key("Complete two"));
}

// ---------------------------------------------------------------- item identity

/// One RSS item: a guid when `guid` is not empty.
fn item(guid: &str, title: &str, link: &str, text: &str) -> String {
    let guid = if guid.is_empty() {
        String::new()
    } else {
        format!(r#"<guid isPermaLink="false">{guid}</guid>"#)
    };
    format!(
        "<item>{guid}<title>{title}</title><link>{link}</link><description>{text}</description></item>"
    )
}

fn rss(site: &str, items: &[String]) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>{site}</title>
<link>https://quay.example/</link>{}</channel></rss>"#,
        items.concat()
    )
    .into_bytes()
}

/// Every stored article id, the stories' own and the merged copies'.
fn article_ids(store: &dyn Store) -> std::collections::BTreeSet<String> {
    all_stories(store)
        .iter()
        .flat_map(|s| s.sources.iter().map(|r| r.article_id.clone()))
        .collect()
}

const FERRY: &str = "Ferry fares on the island route will rise by a tenth from May, the operator said on Monday, \
    citing the price of fuel and the cost of the new winter timetable.";
const FERRY_EDITED: &str = "Ferry fares on the island route will rise by a tenth from June, not May as first \
    announced, the operator said on Monday, citing the price of fuel.";
const LIGHTS: &str = "The quay lights that failed in the storm last month work again after the council \
    replaced the cables under the harbour wall, engineers said.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_keeps_its_id_across_polls_link_changes_edits_and_absence() {
    // Round by round, what the feed serves.
    let up = Upstream::start(|_, n| {
        let ferry = match n {
            0 | 1 => item(
                "post-17",
                "Ferry fares rise",
                "http://quay.example/ferry",
                FERRY,
            ),
            // Moved to https with tracking added.
            2 => item(
                "post-17",
                "Ferry fares rise",
                "https://quay.example/ferry?utm_source=rss",
                FERRY,
            ),
            // Edited: new title and text.
            _ => item(
                "post-17",
                "Ferry fares rise in June",
                "https://quay.example/ferry",
                FERRY_EDITED,
            ),
        };
        let lights = match n {
            0 | 1 => item(
                "",
                "Quay lights fixed",
                "http://quay.example/lights/",
                LIGHTS,
            ),
            _ => item(
                "",
                "Quay lights fixed",
                "https://quay.example/lights?fbclid=x#comments",
                LIGHTS,
            ),
        };
        let items = match n {
            // The ferry item has left the feed...
            4 => vec![lights],
            // ...and comes back.
            _ => vec![ferry, lights],
        };
        ok(rss("Quay Post", &items), "application/rss+xml")
    })
    .await;
    let s = setup();
    let src = source("quay", up.url("/feed"));
    let mut ids = None;
    let mut counts = Vec::new();
    for round in 0..6 {
        let r = s
            .poller
            .poll_source(&src, t0() + secs(3600 * round), true)
            .await;
        assert!(r.counts.failed.is_empty(), "{r}");
        let c = &r.counts;
        counts.push((c.new, c.updated, c.unchanged));
        let now = article_ids(s.store.as_ref());
        assert_eq!(now.len(), 2, "round {round}: {now:?}");
        assert_eq!(
            *ids.get_or_insert_with(|| now.clone()),
            now,
            "round {round}"
        );
    }
    assert_eq!(
        counts,
        [
            (2, 0, 0), // first poll
            (0, 0, 2), // same feed again
            (0, 2, 0), // https links: the stored links change, the ids do not
            (0, 1, 1), // the ferry item edited
            (0, 0, 1), // the ferry item gone
            (0, 0, 2), // and back: not new
        ]
    );
    let all = stored(s.store.as_ref());
    assert_eq!(
        all["Ferry fares rise in June"].url.as_deref(),
        Some("https://quay.example/ferry")
    );
    assert_eq!(all.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_feeds_numbering_their_guids_alike_stay_distinct() {
    let up = Upstream::start(|req, _| {
        let (site, a, b) = match req.path.as_str() {
            "/north" => ("North Post", FERRY, LIGHTS),
            _ => (
                "South Post",
                "The south pier reopens to anglers on Saturday after repairs to the decking \
                 that took most of the winter, the harbour board said.",
                "A new bakery opens on the market square next week in the building the \
                 old post office left empty two years ago, its owners said.",
            ),
        };
        // Same guids, no links: only the feed tells the items apart.
        let items = [
            format!("<item><guid>1</guid><title>{site} first</title><description>{a}</description></item>"),
            format!("<item><guid>2</guid><title>{site} second</title><description>{b}</description></item>"),
        ];
        ok(rss(site, &items), "application/rss+xml")
    })
    .await;
    let s = setup();
    let sources = [
        source("north", up.url("/north")),
        source("south", up.url("/south")),
    ];
    let reports = s.poller.poll_round(&sources, t0(), true).await;
    for r in &reports {
        assert_eq!(r.counts.new, 2, "{r}");
    }
    assert_eq!(article_ids(s.store.as_ref()).len(), 4);
    // Polled again, every item is known.
    let reports = s.poller.poll_round(&sources, t0() + secs(3600), true).await;
    for r in &reports {
        assert_eq!(r.counts.unchanged, 2, "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_merged_into_another_sites_story_keeps_its_id() {
    let up = Upstream::start(|req, n| {
        let doc = match req.path.as_str() {
            "/wire" => rss(
                "Wire",
                &[item(
                    "w-1",
                    "Ferry fares rise",
                    "https://wire.example/ferry",
                    FERRY,
                )],
            ),
            _ => {
                // The paper's copy; later its link moves to https.
                let link = if n == 0 {
                    "http://paper.example/ferry"
                } else {
                    "https://paper.example/ferry/"
                };
                rss(
                    "Paper",
                    &[item("p-9", "Fares to rise on the ferry", link, FERRY)],
                )
            }
        };
        ok(doc, "application/rss+xml")
    })
    .await;
    let s = setup();
    let wire = source("wire", up.url("/wire"));
    let paper = source("paper", up.url("/paper"));
    // The wire's story is first and wins the dedup.
    let r = s.poller.poll_source(&wire, t0(), true).await;
    assert_eq!(r.counts.new, 1, "{r}");
    let r = s.poller.poll_source(&paper, t0() + secs(60), true).await;
    assert_eq!(r.counts.duplicate, 1, "{r}");
    let ids = article_ids(s.store.as_ref());
    assert_eq!(ids.len(), 2, "{ids:?}");
    for round in 1..3 {
        let now = t0() + secs(3600 * round);
        for src in [&paper, &wire] {
            let r = s.poller.poll_source(src, now, true).await;
            assert_eq!(r.counts.new, 0, "round {round}: {r}");
        }
        assert_eq!(article_ids(s.store.as_ref()), ids, "round {round}");
    }
    // The paper's copy is still found under its own id, in the wire's story.
    let page = s.store.query(&Query::default()).unwrap();
    assert_eq!(page.stories.len(), 1);
    let story = &page.stories[0];
    let paper_id = &story.sources[1].article_id;
    assert_eq!(
        s.store.get(paper_id).unwrap().map(|s| s.article.id),
        Some(story.article.id.clone())
    );
}

/// A feed on loopback (the operator's own URL: trusted) whose items link to
/// loopback pages: with full text on and no `[outbound]` allowance, none
/// of them is fetched, whatever its spelling, and a redirect of the feed
/// to another origin is refused too; a redirect within the origin is fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_inside_feeds_never_reach_private_addresses() {
    let port = std::sync::Arc::new(std::sync::OnceLock::<u16>::new());
    let p = port.clone();
    let up = Upstream::start(move |req, _| {
        let port = p.get().copied().unwrap_or(0);
        match req.path.as_str() {
            "/feed.xml" => {
                let item = |t: &str, link: String| {
                    format!("<item><title>{t}</title><link>{link}</link><description>Only a short summary of {t}.</description></item>")
                };
                let body = format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Inside</title>{}{}{}{}</channel></rss>",
                    item("Same origin page", format!("http://127.0.0.1:{port}/secret")),
                    item("Name for loopback", format!("http://localhost:{port}/secret")),
                    item("Mapped address", format!("http://[::ffff:127.0.0.1]:{port}/secret")),
                    item("Metadata address", "http://169.254.169.254/latest/meta-data/".into()),
                );
                ok(body, "application/rss+xml")
            }
            "/moved-away" => status(302, &[("Location", &format!("http://localhost:{port}/feed.xml"))]),
            "/moved-here" => status(302, &[("Location", "/feed.xml")]),
            "/secret" => ok("<html><body><p>internal admin page</p></body></html>", "text/html"),
            _ => status(404, &[]),
        }
    })
    .await;
    let _ = port.set(up.url("").rsplit(':').next().unwrap().parse().unwrap());
    let opts = PollOptions {
        fetch: FetchOptions {
            outbound: OutboundPolicy::default(),
            ..test_options().fetch
        },
        ..test_options()
    };
    let s = setup_with(opts);
    let src = SourceConfig {
        full_text: true,
        ..source("inside", up.url("/feed.xml"))
    };
    let r = s.poller.poll_source(&src, t0(), true).await;
    assert_eq!(r.counts.new, 4, "{r}");
    assert!(
        up.requests("/secret").is_empty(),
        "an internal page was fetched"
    );
    for a in stored(s.store.as_ref()).values() {
        assert!(!a.content_text().contains("internal admin"), "{}", a.title);
    }

    let away = s
        .poller
        .poll_source(&source("away", up.url("/moved-away")), t0(), true)
        .await;
    let why = failure(&away);
    assert!(why.contains("not a public address"), "{why}");
    let here = s
        .poller
        .poll_source(&source("here", up.url("/moved-here")), t0(), true)
        .await;
    assert!(!here.failed(), "{here}");
}

/// Every format gets its validators sent back, JSON Feed and Atom included,
/// and a weak ETag or Last-Modified alone are enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_get_for_every_format() {
    let up = Upstream::start(|req, _| {
        let (body, ct, validator): (Vec<u8>, &str, (&str, &str)) = match req.path.as_str() {
            "/feed.json" => (
                fixture("feed.json"),
                "application/feed+json",
                ("ETag", "W/\"j1\""),
            ),
            "/atom" => (
                fixture("atom.xml"),
                "application/atom+xml",
                ("ETag", "\"a1\""),
            ),
            _ => (
                fixture("rss1.rdf"),
                "application/rdf+xml",
                ("Last-Modified", "Mon, 04 Mar 2024 08:00:00 GMT"),
            ),
        };
        let fresh = match validator.0 {
            "ETag" => req.header("if-none-match") == Some(validator.1),
            _ => req.header("if-modified-since") == Some(validator.1),
        };
        if fresh {
            return status(304, &[validator]);
        }
        with_headers(ok(body, ct), &[validator])
    })
    .await;
    let s = setup();
    let sources = [
        source("json", up.url("/feed.json")),
        source("atom", up.url("/atom")),
        source("rdf", up.url("/rdf")),
    ];
    s.poller.configure(&sources);
    for r in s.poller.poll_round(&sources, t0(), true).await {
        assert!(fetched(&r) > 0, "{r}");
    }
    for r in s.poller.poll_round(&sources, t0() + secs(3600), true).await {
        assert_eq!(r.outcome, PollOutcome::NotModified, "{r}");
    }
}
