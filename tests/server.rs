//! The feed server as pollers and people meet it: the real binary on an
//! ephemeral loopback port, a real HTTP client, every route and every
//! header rule. Feeds are parsed back with `feed-rs`.

use std::collections::HashSet;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use crate::support::server::{Server, get, get_once, head, post};

/// The read-only checks share one server with the shipped samples (a
/// static would outlive the test process's drop and leak the child).
#[test]
fn read_only_routes() {
    let s = Server::start(&[]);
    every_topic_feed_in_every_format_is_served_and_parses(&s);
    people_get_html_pages_opml_and_article_pages(&s);
    errors_say_what_is_wrong(&s);
    conditional_get_and_head(&s);
    compression_by_accept_encoding(&s);
    equivalent_queries_share_one_etag_and_filters_narrow(&s);
    non_canonical_feed_urls_redirect_to_the_canonical_one(&s);
    paging_walks_every_story_once(&s);
    metrics_count_requests_304s_and_subscribers(&s);
}

const TOPICS: &[&str] = &[
    "all",
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

/// Elements of HTML 4, the list feed validators check content against.
const HTML4: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "dfn",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "map",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
];

/// The lower-cased names of the start tags in `html`.
fn tag_names(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .filter_map(|t| {
            let name: String = t.chars().take_while(char::is_ascii_alphanumeric).collect();
            (!name.is_empty()).then(|| name.to_ascii_lowercase())
        })
        .collect()
}

fn every_topic_feed_in_every_format_is_served_and_parses(s: &Server) {
    for topic in TOPICS {
        for (ext, ctype) in [
            ("rss", "application/rss+xml; charset=utf-8"),
            ("atom", "application/atom+xml; charset=utf-8"),
            ("json", "application/feed+json; charset=utf-8"),
        ] {
            let url = s.url(&format!("/feeds/{topic}.{ext}"));
            let r = get(&url, &[]);
            assert_eq!(r.status, 200, "{url}: {}", r.text());
            assert_eq!(r.header("content-type").as_deref(), Some(ctype), "{url}");
            assert!(
                r.header("etag").is_some_and(|e| e.starts_with('"')),
                "{url}"
            );
            assert!(
                r.header("cache-control")
                    .is_some_and(|c| c.starts_with("public, max-age=")),
                "{url}"
            );
            let feed = feed_rs::parser::parse(&r.body[..]).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(!feed.entries.is_empty(), "{url} has no entries");
            let ids: HashSet<_> = feed.entries.iter().map(|e| e.id.clone()).collect();
            assert_eq!(ids.len(), feed.entries.len(), "{url}: duplicate ids");
            // Readers (and the W3C validator) take two entries with one
            // `updated` for one entry twice; the samples are all stored in
            // one batch at startup, in the same second.
            let updated: Vec<_> = feed.entries.iter().filter_map(|e| e.updated).collect();
            let distinct: HashSet<_> = updated.iter().collect();
            assert_eq!(distinct.len(), updated.len(), "{url}: shared updated times");
            if ext == "atom" {
                assert_eq!(updated.len(), feed.entries.len(), "{url}");
            }
            if ext != "json" {
                for e in &feed.entries {
                    let html = e.content.as_ref().and_then(|c| c.body.as_deref());
                    for tag in html.map(tag_names).unwrap_or_default() {
                        assert!(HTML4.contains(&tag.as_str()), "{url}: <{tag}> in {}", e.id);
                    }
                }
            }
            for e in &feed.entries {
                assert!(
                    e.title.is_some() && !e.links.is_empty() && e.published.is_some(),
                    "{url}: entry {}",
                    e.id
                );
            }
        }
    }
}

fn people_get_html_pages_opml_and_article_pages(s: &Server) {
    let index = get(&s.url("/"), &[]);
    assert_eq!(index.status, 200);
    assert!(
        index
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    let page = index.text();
    assert!(page.contains(r#"<link rel="alternate" type="application/atom+xml""#));

    // The pictures every feed names are served, and are what they say.
    let atom = get(&s.url("/feeds/world.atom"), &[]);
    let feed = feed_rs::parser::parse(&atom.body[..]).expect("atom");
    for (url, size) in [
        (feed.icon.expect("icon").uri, (512, 512)),
        (feed.logo.expect("logo").uri, (256, 128)),
    ] {
        let png = get(&url, &[]);
        assert_eq!(png.status, 200, "{url}");
        assert_eq!(png.header("content-type").as_deref(), Some("image/png"));
        assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"), "{url}");
        let w = u32::from_be_bytes(png.body[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png.body[20..24].try_into().unwrap());
        assert_eq!((w, h), size, "{url}");
    }
    assert!(page.contains("/feeds/middle-east.rss") && page.contains("Middle East"));

    // The "All stories" row counts every story.
    let all = get(&s.url("/feeds/all.json?limit=500"), &[]);
    let total = serde_json::from_slice::<serde_json::Value>(&all.body).expect("json")["items"]
        .as_array()
        .map_or(0, Vec::len);
    let row = page.split("All stories</a>").nth(1).expect("all row");
    assert!(
        row.contains(&format!("<td>{total}</td>")),
        "index should count {total} stories"
    );

    let browser = get(
        &s.url("/feeds/climate.atom"),
        &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
    );
    assert_eq!(browser.status, 200);
    assert!(
        browser
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(
        browser
            .text()
            .contains("copy this URL into your feed reader"),
        "{}",
        browser.text()
    );
    assert!(browser.header("vary").is_some_and(|v| v.contains("Accept")));

    let opml = get(&s.url("/feeds.opml"), &[]);
    assert_eq!(opml.status, 200);
    assert_eq!(
        opml.header("content-type").as_deref(),
        Some("text/x-opml; charset=utf-8")
    );
    let doc = roxmltree::Document::parse(std::str::from_utf8(&opml.body).expect("utf8"))
        .expect("OPML is XML");
    let outlines = doc
        .descendants()
        .filter(|n| n.has_tag_name("outline"))
        .count();
    assert_eq!(outlines, TOPICS.len() - 1);

    // An article without a URL of its own has a page here.
    let feed = get(&s.url("/feeds/all.json"), &[]);
    let v: serde_json::Value = serde_json::from_slice(&feed.body).expect("json");
    let local = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["url"].as_str())
        .find(|u| u.contains("/articles/"))
        .expect("a local article link");
    let article = get(local, &[]);
    assert_eq!(article.status, 200);
    assert!(article.text().contains("<h1>"));
    assert_eq!(get(&s.url("/articles/nope"), &[]).status, 404);
}

fn errors_say_what_is_wrong(s: &Server) {
    let r = get(&s.url("/feeds/atlantis.rss"), &[]);
    assert_eq!(r.status, 404);
    assert!(
        r.text().contains("middle-east") && r.text().contains("Topics:"),
        "{}",
        r.text()
    );
    let r = get(&s.url("/feeds/us.xlsx"), &[]);
    assert_eq!(r.status, 404);
    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=9999", "limit"),
        ("since=last-tuesday", "since"),
        ("any=atlantis", "any"),
        ("colour=red", "colour"),
        ("cursor=garbage", "cursor"),
    ] {
        let r = get(&s.url(&format!("/feeds/us.rss?{query}")), &[]);
        assert_eq!(r.status, 400, "{query}");
        assert!(r.text().contains(param), "{query}: {}", r.text());
    }
    let r = post(&s.url("/feeds/us.rss"), &[], b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD"));
    assert_eq!(get(&s.url("/nothing/here"), &[]).status, 404);
    assert_eq!(get(&s.url("/healthz"), &[]).status, 200);
}

fn conditional_get_and_head(s: &Server) {
    let url = s.url("/feeds/world.rss");
    let first = get(&url, &[]);
    let etag = first.header("etag").expect("etag");
    let lm = first.header("last-modified").expect("last-modified");
    let r = get(&url, &[("if-none-match", &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag").as_deref(), Some(etag.as_str()));
    assert!(r.header("cache-control").is_some() && r.header("vary").is_some());
    // RFC 9110 §15.4.5: a 304 repeats the validator and caching headers,
    // and no other metadata, which a cache would merge into its copy.
    for name in [
        "last-modified",
        "link",
        "content-type",
        "content-security-policy",
    ] {
        assert!(r.header(name).is_none(), "a 304 sent {name}");
    }
    assert_eq!(
        get(&url, &[("if-none-match", &format!("\"x\", {etag}"))]).status,
        304
    );
    assert_eq!(get(&url, &[("if-none-match", "\"other\"")]).status, 200);
    assert_eq!(get(&url, &[("if-modified-since", &lm)]).status, 304);
    let stale = get(
        &url,
        &[("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")],
    );
    assert_eq!((stale.status, stale.body.len()), (200, first.body.len()));
    // An ETag that does not match wins over a date that does.
    assert_eq!(
        get(
            &url,
            &[("if-none-match", "\"other\""), ("if-modified-since", &lm)]
        )
        .status,
        200
    );

    let h = head(&url, &[]);
    assert_eq!(h.status, 200);
    assert!(h.body.is_empty());
    for name in [
        "content-type",
        "etag",
        "last-modified",
        "cache-control",
        "vary",
    ] {
        assert_eq!(h.header(name), first.header(name), "{name}");
    }
    assert_eq!(
        h.header("content-length"),
        Some(first.body.len().to_string())
    );
}

fn compression_by_accept_encoding(s: &Server) {
    let url = s.url("/feeds/europe.atom");
    let plain = get(&url, &[("accept-encoding", "identity")]);
    assert!(plain.header("content-encoding").is_none());
    let etag = plain.header("etag").expect("etag");

    let gz = get(&url, &[("accept-encoding", "gzip")]);
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut out)
        .expect("gunzip");
    assert_eq!(out, plain.body);
    let gz_etag = gz.header("etag").expect("etag");
    assert_ne!(
        gz_etag, etag,
        "each coding has its own strong ETag (RFC 9110 8.8.3.3)"
    );
    assert_eq!(
        get(
            &url,
            &[("accept-encoding", "gzip"), ("if-none-match", &gz_etag)]
        )
        .status,
        304,
        "a gzip client revalidates with the tag it was given"
    );
    assert!(
        gz.header("vary")
            .is_some_and(|v| v.contains("Accept-Encoding"))
    );
    assert_eq!(
        get(
            &url,
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)]
        )
        .status,
        304
    );

    let br = get(&url, &[("accept-encoding", "gzip, br")]);
    assert_eq!(br.header("content-encoding").as_deref(), Some("br"));
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut out).expect("unbrotli");
    assert_eq!(out, plain.body);

    let zs = get(&url, &[("accept-encoding", "zstd")]);
    assert_eq!(zs.header("content-encoding").as_deref(), Some("zstd"));
    assert_eq!(zstd::decode_all(&zs.body[..]).expect("unzstd"), plain.body);
    assert!(gz.body.len() * 2 < plain.body.len(), "compressed well");
}

fn equivalent_queries_share_one_etag_and_filters_narrow(s: &Server) {
    let a = get(&s.url("/feeds/all.json?any=europe,world&not=sports"), &[]);
    let b = get(
        &s.url("/feeds/all.json?not=SPORTS&any=world&any=Europe,world"),
        &[],
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.header("etag"), b.header("etag"));
    let items = item_tags(&a.body);
    assert!(!items.is_empty());
    for tags in &items {
        assert!(
            tags.iter().any(|t| t == "europe" || t == "world"),
            "{tags:?}"
        );
        assert!(!tags.iter().any(|t| t == "sports"), "{tags:?}");
    }
    let all = get(&s.url("/feeds/all.json?all=europe,climate"), &[]);
    for tags in item_tags(&all.body) {
        assert!(
            tags.iter().any(|t| t == "europe") && tags.iter().any(|t| t == "climate"),
            "{tags:?}"
        );
    }
    let q = get(&s.url("/feeds/all.json?q=glacier"), &[]);
    let v: serde_json::Value = serde_json::from_slice(&q.body).expect("json");
    assert!(
        !v["items"].as_array().expect("items").is_empty(),
        "full-text search finds the glacier story"
    );
    let future = get(&s.url("/feeds/all.json?since=2099-01-01T00:00:00Z"), &[]);
    let v: serde_json::Value = serde_json::from_slice(&future.body).expect("json");
    assert!(v["items"].as_array().expect("items").is_empty());
}

fn non_canonical_feed_urls_redirect_to_the_canonical_one(s: &Server) {
    for (asked, canonical) in [
        (
            "/feeds/all.atom?not=SPORTS&any=world&any=Europe,world",
            "/feeds/all.atom?any=europe,world&not=sports",
        ),
        (
            "/feeds/all.rss?any=science%2Ctechnology",
            "/feeds/all.rss?any=science,technology",
        ),
        (
            "/feeds/world.json?q=Port%20%20Strike",
            "/feeds/world.json?q=port+strike",
        ),
        ("/feeds/world.atom?limit=50", "/feeds/world.atom"),
        (
            "/feeds/all.atom?since=2000-01-01T01%3A00%3A00%2B01%3A00",
            "/feeds/all.atom?since=2000-01-01T00:00:00Z",
        ),
        ("/feeds/world.atom?", "/feeds/world.atom"),
        ("/feeds/world.html", "/feeds/world"),
    ] {
        let r = get_once(&s.url(asked), &[]);
        assert_eq!(r.status, 301, "{asked}: {}", r.text());
        assert_eq!(r.header("location"), Some(s.url(canonical)), "{asked}");
        // The canonical URL is served as is, and its self link is itself.
        let c = get_once(&s.url(canonical), &[("Accept", "*/*")]);
        assert_eq!(c.status, 200, "{canonical}: {}", c.text());
        if canonical.contains(".atom") {
            let doc = String::from_utf8(c.body.clone()).unwrap();
            let xml = roxmltree::Document::parse(&doc).unwrap();
            let self_link = xml
                .descendants()
                .find(|n| n.has_tag_name("link") && n.attribute("rel") == Some("self"))
                .and_then(|n| n.attribute("href"));
            assert_eq!(self_link, Some(s.url(canonical).as_str()), "{canonical}");
        }
    }
}

/// The `tags` (topics first) of every item of a JSON Feed.
fn item_tags(body: &[u8]) -> Vec<Vec<String>> {
    let v: serde_json::Value = serde_json::from_slice(body).expect("json");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            item["tags"]
                .as_array()
                .expect("tags")
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn paging_walks_every_story_once(s: &Server) {
    let everything = get(&s.url("/feeds/all.atom?limit=500"), &[]);
    let total = feed_rs::parser::parse(&everything.body[..])
        .expect("atom")
        .entries
        .len();
    let mut url = s.url("/feeds/all.atom?limit=7");
    let mut seen = HashSet::new();
    let mut pages = 0;
    let mut previous_url: Option<String> = None;
    loop {
        let r = get(&url, &[]);
        assert_eq!(r.status, 200, "{url}");
        let feed = feed_rs::parser::parse(&r.body[..]).expect("atom");
        for e in &feed.entries {
            assert!(seen.insert(e.id.clone()), "{} twice", e.id);
        }
        pages += 1;
        let next = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("next"))
            .map(|l| l.href.clone());
        assert!(feed.links.iter().any(|l| l.rel.as_deref() == Some("first")));
        let previous = feed
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("previous"));
        match &previous_url {
            None => assert!(previous.is_none(), "the first page has no previous"),
            Some(p) => assert_eq!(
                previous.map(|l| l.href.as_str()),
                Some(p.as_str()),
                "previous leads back"
            ),
        }
        previous_url = Some(url.clone());
        match next {
            Some(n) => url = n,
            None => break,
        }
        assert!(pages < 100);
    }
    assert_eq!(seen.len(), total);
    assert!(pages > 1);
}

fn metrics_count_requests_304s_and_subscribers(s: &Server) {
    let url = s.url("/feeds/science.rss");
    let etag = get(&url, &[]).header("etag").expect("etag");
    get(
        &url,
        &[
            ("if-none-match", &etag),
            (
                "user-agent",
                "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers)",
            ),
        ],
    );
    let m = get(&s.url("/metrics"), &[]).text();
    assert!(
        m.contains("topicfeed_http_requests_total{route=\"feed\",status=\"304\"}"),
        "{m}"
    );
    // Counted exactly, whichever connection worker answers each poll.
    let counts = |m: &str| {
        (
            metric(
                m,
                "topicfeed_http_requests_total{route=\"feed\",status=\"304\"}",
            ),
            metric(m, "topicfeed_feed_not_modified_total"),
            metric(m, "topicfeed_feed_requests_total"),
        )
    };
    let before = counts(&m);
    for _ in 0..7 {
        assert_eq!(get(&url, &[("if-none-match", &etag)]).status, 304);
    }
    assert_eq!(get(&url, &[]).status, 200);
    let after = counts(&get(&s.url("/metrics"), &[]).text());
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (7.0, 7.0, 8.0)
    );
    assert!(m.contains("topicfeed_feed_not_modified_ratio"), "{m}");
    assert!(m.contains("topicfeed_feed_cache_hits_total"), "{m}");
    assert!(
        m.contains("topicfeed_feed_subscribers{feed=\"/feeds/science.rss\"} 42"),
        "{m}"
    );
}

#[test]
fn ingest_api_needs_the_token_and_feeds_show_the_new_item() {
    let s = Server::start(&[
        "--no-samples",
        "--api-token",
        "s3cret",
        "--max-body",
        "4096",
    ]);
    let article = br#"{"title": "Glacier retreat speeds up in the Alps", "url": "https://example.org/glacier-2026",
        "content": "Swiss glaciers lost a record share of their ice this summer, climate scientists said on Monday.\n\nThe melt was driven by a long heatwave and little winter snow, and it adds to sea level rise."}"#;
    let url = s.url("/api/articles");
    assert_eq!(
        post(&url, &[("content-type", "application/json")], article).status,
        401
    );
    assert_eq!(
        post(
            &url,
            &[
                ("content-type", "application/json"),
                ("authorization", "Bearer wrong")
            ],
            article
        )
        .status,
        401
    );
    // Small enough to sit in socket buffers: the client sees the 413, not a
    // broken pipe from a server that stopped reading.
    let big = vec![b'a'; 8 * 1024];
    assert_eq!(
        post(
            &url,
            &[
                ("content-type", "text/plain"),
                ("authorization", "Bearer s3cret")
            ],
            &big
        )
        .status,
        413
    );
    assert_eq!(
        post(
            &url,
            &[
                ("content-type", "image/png"),
                ("authorization", "Bearer s3cret")
            ],
            b"x"
        )
        .status,
        415
    );

    let feed_url = s.url("/feeds/climate.json");
    let before = get(&feed_url, &[]);
    let old_etag = before.header("etag").expect("etag");
    // Every connection worker has answered a poll of this version (each
    // request is a new connection, handed to the workers in turn).
    for _ in 0..4 {
        assert_eq!(get(&feed_url, &[("if-none-match", &old_etag)]).status, 304);
    }
    let r = post(
        &url,
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer s3cret"),
        ],
        article,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["outcome"], "new");
    assert!(
        v["topics"]
            .as_array()
            .expect("topics")
            .iter()
            .any(|t| t == "climate"),
        "{v}"
    );

    let after = get(
        &feed_url,
        &[("if-none-match", &before.header("etag").expect("etag"))],
    );
    assert_eq!(after.status, 200, "the new item changes the feed");
    assert!(after.text().contains("https://example.org/glacier-2026"));
    for _ in 0..4 {
        let r = get(&feed_url, &[("if-none-match", &old_etag)]);
        assert_eq!(r.status, 200, "no worker answers for the old version");
        assert_eq!(r.header("etag"), after.header("etag"));
    }
    let again = post(
        &url,
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer s3cret"),
        ],
        article,
    );
    assert_eq!(again.status, 200);
    assert!(again.text().contains("\"unchanged\""));
    let bad = post(
        &url,
        &[
            ("content-type", "application/json"),
            ("authorization", "Bearer s3cret"),
        ],
        b"{\"title\": 5}",
    );
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("title"), "{}", bad.text());
}

#[test]
fn polling_too_fast_gets_429_with_retry_after() {
    let s = Server::start(&["--limit-loopback", "--poll-burst", "2"]);
    let url = s.url("/feeds/us.rss");
    assert_eq!(get(&url, &[]).status, 200);
    assert_eq!(get(&url, &[]).status, 200);
    let r = get(&url, &[]);
    assert_eq!(r.status, 429);
    let after: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!((1..=3600).contains(&after));
    assert_eq!(
        get(&s.url("/feeds/world.rss"), &[]).status,
        200,
        "other feeds are not limited"
    );
    // Another format, limit or search of the same topic buys no more polls.
    for other in [
        "/feeds/us.atom",
        "/feeds/us.rss?limit=7",
        "/feeds/us.json?q=port",
    ] {
        assert_eq!(get(&s.url(other), &[]).status, 429, "{other}");
    }
}

#[test]
fn behind_a_trusted_proxy_the_forwarded_client_is_limited() {
    let s = Server::start(&["--trusted-proxy", "127.0.0.1", "--poll-burst", "1"]);
    let url = s.url("/feeds/us.rss");
    let from = |ip: &str| get(&url, &[("X-Forwarded-For", ip)]).status;
    // Forwarded clients are not loopback, so they are limited.
    assert_eq!(from("203.0.113.9"), 200);
    assert_eq!(from("203.0.113.9"), 429);
    assert_eq!(
        from("198.51.100.1"),
        200,
        "another client has its own budget"
    );
    // A client cannot pick its address by writing one on the left.
    assert_eq!(from("198.51.100.1, 203.0.113.9"), 429);
}

#[test]
fn metrics_stay_small_whatever_the_queries() {
    let s = Server::start(&[]);
    let ua = [(
        "User-Agent",
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers)",
    )];
    for i in 0..300 {
        let r = get(&s.url(&format!("/feeds/us.rss?q=word{i}")), &ua);
        assert_eq!(r.status, 200);
    }
    assert_eq!(get(&s.url("/feeds/us.rss"), &ua).status, 200);
    let m = get(&s.url("/metrics"), &[]).text();
    assert!(!m.contains("word1"), "a filter variant got its own series");
    assert!(
        m.contains("feed=\"/feeds/us.rss\"") && m.contains("42"),
        "the canonical feed's subscribers are kept"
    );
    assert!(m.len() < 64 * 1024, "{} bytes of metrics", m.len());
}

#[test]
fn slow_clients_are_cut_off_and_shutdown_is_graceful() {
    let mut s = Server::start(&["--no-samples", "--header-timeout", "1"]);
    let mut slow = std::net::TcpStream::connect(s.addr()).expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    slow.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "closed by the header timeout"
    );
    // A keep-alive connection idle after its answer: closed by the same
    // timer, which starts when the server waits for the next request.
    let mut idle = std::net::TcpStream::connect(s.addr()).expect("connect");
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr()).as_bytes())
        .expect("write");
    idle.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut first = [0u8; 512];
    let n = idle.read(&mut first).expect("an answer");
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited > Duration::from_millis(500) && waited < Duration::from_secs(4),
        "idle connection closed after {waited:?}"
    );

    let pid = s.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = s.child.try_wait().expect("wait") {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The ready line was the only line on stdout, from start to stop.
    assert_eq!(s.stdout_after_ready(), Vec::<String>::new());
}

#[test]
fn failing_upstream_sources_show_on_the_index_and_in_metrics() {
    let feeds = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(crate::support::root().join("feeds")).expect("feeds") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml")
            && path.file_name().is_some_and(|n| n != "sources.toml")
        {
            std::fs::copy(&path, feeds.path().join(path.file_name().expect("name"))).expect("copy");
        }
    }
    // Nothing listens on port 9 of loopback: every poll fails at once.
    std::fs::write(
        feeds.path().join("sources.toml"),
        "[[source]]\nname = \"Dead Wire\"\nurl = \"http://127.0.0.1:9/feed.xml\"\nevery = \"1s\"\n",
    )
    .expect("write sources");
    let feeds_dir = feeds.path().display().to_string();
    let s = Server::start_with(&["--no-samples", "--feeds", &feeds_dir]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = get(&s.url("/metrics"), &[]).text();
        if m.contains("topicfeed_source_healthy{source=\"Dead Wire\"} 0") {
            assert!(
                m.contains("topicfeed_source_polls{source=\"Dead Wire\",result=\"failed\"}"),
                "{m}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "source never marked unhealthy:\n{m}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let index = get(&s.url("/"), &[]).text();
    assert!(
        index.contains("Dead Wire") && index.contains("failing:"),
        "{index}"
    );
}

/// Reads what the server sends until it closes (or 3 s pass).
fn read_all(mut c: std::net::TcpStream) -> String {
    c.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn idle_connections_give_way_and_one_client_gets_its_share() {
    let s = Server::start(&[
        "--no-samples",
        "--max-connections",
        "4",
        "--max-connections-per-client",
        "2",
    ]);
    let from = |src: &str| {
        let sock = std::net::SocketAddr::new(src.parse().unwrap(), 0);
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.bind(&sock.into()).unwrap();
        let addr: std::net::SocketAddr = s.addr().parse().unwrap();
        socket.connect(&addr.into()).unwrap();
        std::net::TcpStream::from(socket)
    };
    // A third connection from one address gets a quick 503 saying why.
    let _a1 = from("127.0.0.1");
    let _a2 = from("127.0.0.1");
    std::thread::sleep(Duration::from_millis(100));
    let third = read_all(from("127.0.0.1"));
    assert!(third.starts_with("HTTP/1.1 503"), "{third}");
    assert!(
        third.contains("Retry-After") && third.contains("too many connections"),
        "{third}"
    );

    // Silent connections fill the table; a new client is still served at
    // once, because idle connections are closed to make room.
    let b1 = from("127.0.0.2");
    let _b2 = from("127.0.0.2");
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let mut c = from("127.0.0.3");
    write!(
        c,
        "GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        s.addr()
    )
    .expect("write");
    let answer = read_all(c);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "served after {:?}",
        started.elapsed()
    );
    // The oldest idle connection was the one closed.
    assert_eq!(read_all(_a1), "", "the oldest idle connection is closed");
    drop(b1);
}

#[test]
fn ingest_api_takes_a_whole_feed_and_honours_the_charset() {
    let s = Server::start(&["--no-samples", "--api-token", "t0ken"]);
    let url = s.url("/api/articles");
    // ISO-8859-7 bytes for "Αθήνα": Windows-1252 (the fallback) would
    // read them as "Áèþíá", so only an honoured charset gets this right.
    let mut feed =
        b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Lake Wire</title>".to_vec();
    feed.extend_from_slice(b"<item><title>\xc1\xe8\xde\xed\xe1 tram strike ends</title><link>https://example.org/tram</link><description>Tram drivers in \xc1\xe8\xde\xed\xe1 went back to work on Monday after the city and the union agreed a new rota.</description></item>");
    feed.extend_from_slice(b"<item><title>Lakeside kiosk wins heritage award</title><link>https://example.org/cafe</link><description>The lakeside kiosk was given the heritage award for its restored facade, the jury said on Friday.</description></item>");
    feed.extend_from_slice(b"</channel></rss>");
    let r = post(
        &url,
        &[
            ("content-type", "application/rss+xml; charset=iso-8859-7"),
            ("authorization", "Bearer t0ken"),
        ],
        &feed,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["new"], 2, "{v}");
    let titles: Vec<&str> = v["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert!(titles.contains(&"Αθήνα tram strike ends"), "{titles:?}");
    assert!(
        titles.contains(&"Lakeside kiosk wins heritage award"),
        "{titles:?}"
    );
    // Both are served, decoded right.
    let all = get(&s.url("/feeds/all.json"), &[]).text();
    assert!(
        all.contains("Αθήνα tram strike ends") && all.contains("Lakeside kiosk"),
        "{all}"
    );
}

/// The access-log lines (target `topicfeed::access`) the server has written
/// on stderr, waiting up to 2 s for at least `at_least` of them: a
/// background thread writes them.
fn access_lines(s: &Server, at_least: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let lines: Vec<String> = s
            .stderr()
            .lines()
            .filter(|l| l.contains("topicfeed::access"))
            .map(str::to_owned)
            .collect();
        if lines.len() >= at_least || Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A server with the default log filter (the tests' own is `warn`).
fn logging_server(extra: &[&str]) -> (tempfile::TempDir, Server) {
    let data = tempfile::tempdir().unwrap();
    let mut cmd = crate::support::server::serve_command();
    cmd.env_remove("TOPICFEED_LOG")
        .current_dir(crate::support::root())
        .args(["--no-sources", "--no-samples", "--data"])
        .arg(data.path())
        .args(crate::support::backend::database_args(data.path()))
        .args(extra);
    (data, Server::spawn(cmd))
}

#[test]
fn access_logs_are_on_by_default_as_text_or_json_and_can_be_turned_off() {
    let (_d, s) = logging_server(&[]);
    assert_eq!(get(&s.url("/feeds/all.atom"), &[]).status, 200);
    let lines = access_lines(&s, 1);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("path=/feeds/all.atom") && l.contains("status=200")),
        "{lines:?}"
    );

    let (_d, s) = logging_server(&["--log-format", "json"]);
    assert_eq!(get(&s.url("/feeds/nope.atom"), &[]).status, 404);
    let lines = access_lines(&s, 1);
    let logged: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(
        logged
            .iter()
            .any(|v| v["fields"]["path"] == "/feeds/nope.atom"
                && v["fields"]["status"] == 404
                && v["level"] == "INFO"),
        "{lines:?}"
    );
    // Every other line is JSON too.
    for line in s.stderr().lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "{line}"
        );
    }

    let (_d, s) = logging_server(&["--no-access-log"]);
    assert_eq!(get(&s.url("/feeds/all.atom"), &[]).status, 200);
    assert_eq!(get(&s.url("/healthz"), &[]).status, 200);
    std::thread::sleep(Duration::from_millis(300));
    assert!(access_lines(&s, 0).is_empty(), "{}", s.stderr());
}

/// The value of the sample `name` (no labels) in a `/metrics` page.
fn metric(page: &str, name: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_burst_of_variants_stays_within_the_cache_budget_and_popular_feeds_stay_cached() {
    const BUDGET: usize = 2 << 20;
    let s = Server::start(&["--cache-bytes", &BUDGET.to_string()]);
    let popular = [
        "/feeds/all.atom",
        "/feeds/all.rss",
        "/feeds/world.json",
        "/feeds/science.atom",
    ];
    for p in popular {
        assert_eq!(get(&s.url(p), &[]).status, 200);
    }
    let before = rss_kib(s.child.id());
    let hits = |s: &Server| {
        metric(
            &get(&s.url("/metrics"), &[]).text(),
            "topicfeed_feed_cache_hits_total",
        )
    };
    let hits_before = hits(&s);
    // 1,000 filter variants and 500 searches, each asked once, with the
    // popular feeds polled in between: a scan the cache must not let
    // push them out.
    let mut variants: Vec<String> = Vec::new();
    for (i, a) in TOPICS[1..].iter().enumerate() {
        for b in &TOPICS[i + 2..] {
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            for limit in 1..=13 {
                variants.push(format!("/feeds/all.json?any={a},{b}&limit={limit}"));
            }
        }
    }
    variants.truncate(1000);
    variants.extend((0..500).map(|i| format!("/feeds/all.atom?q=harbour+w{i}")));
    let mut popular_polls = 0;
    std::thread::scope(|scope| {
        let chunks: Vec<&[String]> = variants.chunks(variants.len() / 4 + 1).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let s = &s;
                scope.spawn(move || {
                    let mut polls = 0;
                    for (i, v) in chunk.iter().enumerate() {
                        assert_eq!(get(&s.url(v), &[]).status, 200, "{v}");
                        if i % 5 == 0 {
                            let r = get(&s.url(popular[i / 5 % popular.len()]), &[]);
                            assert_eq!(r.status, 200);
                            polls += 1;
                        }
                    }
                    polls
                })
            })
            .collect();
        popular_polls = handles.into_iter().map(|h| h.join().unwrap()).sum();
    });
    let page = get(&s.url("/metrics"), &[]).text();
    let held = metric(&page, "topicfeed_feed_cache_bytes");
    assert!(held <= BUDGET as f64, "cache holds {held} bytes");
    // Every variant was a miss; nearly every popular poll a hit.
    let popular_hits = hits(&s) - hits_before;
    assert!(
        popular_hits >= 0.9 * popular_polls as f64,
        "{popular_hits} hits of {popular_polls} popular polls"
    );
    let grown = rss_kib(s.child.id()).saturating_sub(before);
    assert!(grown < 64 * 1024, "resident memory grew {grown} KiB");
}

/// The header timeout is HTTP/1's: an HTTP/2 connection (prior knowledge)
/// idle past it stays open, for the idle timeout to close.
#[test]
fn an_idle_http2_connection_outlives_the_header_timeout() {
    let s = Server::start(&["--no-samples", "--header-timeout", "1"]);
    let mut h2 = std::net::TcpStream::connect(s.addr()).expect("connect");
    // The client preface, then an empty SETTINGS frame (RFC 9113 §3.4).
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    h2.write_all(&hello).expect("write");
    h2.set_read_timeout(Some(Duration::from_millis(3500)))
        .expect("timeout");
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let ended = loop {
        match h2.read(&mut buf) {
            Ok(0) => break Some(started.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break None;
            }
            Err(e) => panic!("read: {e}"),
        }
    };
    assert_eq!(ended, None, "an idle HTTP/2 connection was closed");
}

/// Quiet connections the header timeout does not cover: one that never says
/// anything, and a request body that stops arriving.
#[test]
fn silent_connections_and_stalled_bodies_are_cut_off() {
    let s = Server::start(&[
        "--no-samples",
        "--api-token",
        "t0ken",
        "--idle-timeout",
        "1",
        "--header-timeout",
        "30",
    ]);
    let mut silent = std::net::TcpStream::connect(s.addr()).expect("connect");
    silent
        .set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = silent.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "a silent connection closed after {waited:?}"
    );

    let mut stalled = std::net::TcpStream::connect(s.addr()).expect("connect");
    stalled
        .set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    stalled
        .write_all(
            format!(
                "POST /api/articles HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer t0ken\r\n\
                 Content-Type: text/plain\r\nContent-Length: 500\r\n\r\nHalf a story",
                s.addr()
            )
            .as_bytes(),
        )
        .expect("write");
    let started = Instant::now();
    let answer = read_all(stalled);
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "a stalled body gets 408: {answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
