//! Hostile values through every way in and every way out: article links,
//! links and images inside bodies, and summaries in `javascript:`, `data:`,
//! `vbscript:`, `mailto:` and script shapes, sent as JSON, Markdown, HTML,
//! plain text, RSS, Atom and JSON Feed to the real server; then every
//! output format and page is read back (XML with roxmltree, HTML with a DOM
//! reader, JSON with serde_json) and every URL in it must be http(s), with
//! no script anywhere a reader would run it.

use serde_json::Value;

use crate::support::server::{Got, Server, get, post};

const TOKEN: &str = "hostile-t0ken";

/// (content type, body): each carries its own marker word in its title so
/// that every one can be found again in the outputs.
fn inputs() -> Vec<(&'static str, String)> {
    let body = |marker: &str, topic: &str| {
        format!(
            "{marker} reports that the {topic} board approved a new plan on Monday after a long \
             meeting about the {topic}. Officials said the {topic} changes start in June."
        )
    };
    let alphajson = body("Alphajson", "harbour");
    let bravomd = body("Bravomd", "library");
    let charliehtml = body("Charliehtml", "railway");
    let deltarss = body("Deltarss", "orchard");
    let echoatom = body("Echoatom", "museum");
    let foxtrotjson = body("Foxtrotjson", "brewery");
    let golftext = body("Golftext", "tramway");
    let out = vec![
        (
            "application/json",
            serde_json::json!({
                "title": "Alphajson ferry timetable approved",
                "url": "javascript:alert(document.domain)//",
                "html": format!("<p>{alphajson}</p><p><a href=\"javascript:alert(1)\">more</a> <a href=\"JaVaScRiPt:alert(2)\">x</a> \
                         <img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\"> <a href=\"mailto:a@b.example\">mail</a> \
                         <a href=\"vbscript:msgbox(1)\">vb</a> <a href=\"https://ok.example/fine\">fine</a></p><script>alert(3)</script>"),
                "summary": "<script>alert('summary')</script> A summary.",
            })
            .to_string(),
        ),
        (
            "text/markdown",
            format!(
                "---\ntitle: Bravomd ferry timetable approved\nurl: \"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"\n---\n\n{bravomd}\n\n[click](javascript:alert(1)) ![img](data:image/png;base64,AAAA) <a href=\"javascript:alert(4)\">raw</a>\n"
            ),
        ),
        (
            "text/html",
            format!(
                "<html><head><title>Charliehtml ferry timetable approved</title><link rel=\"canonical\" href=\"javascript:alert(1)\">\
                 <meta property=\"og:url\" content=\"javascript:alert(2)\"></head><body><article><h1>Charliehtml ferry timetable approved</h1>\
                 <p>{charliehtml}</p><p>Read <a href=\"javascript:alert(5)\" onclick=\"alert(6)\">this</a> and \
                 <img src=\"x\" onerror=\"alert(7)\"> <iframe src=\"javascript:alert(8)\"></iframe> <svg onload=\"alert(9)\"></svg>.</p>\
                 </article></body></html>"
            ),
        ),
        (
            "application/rss+xml",
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Deltarss</title><link>javascript:alert(1)</link>\
                 <item><title>Deltarss ferry timetable approved</title><link>javascript:alert(10)</link><guid isPermaLink=\"false\">d1</guid>\
                 <description><![CDATA[<p>{deltarss}</p><p><a href=\"javascript:alert(11)\">x</a> <img src=\"data:image/gif;base64,R0lGOD\"></p>]]></description>\
                 <enclosure url=\"javascript:alert(12)\" type=\"audio/mpeg\" length=\"1\"/></item></channel></rss>"
            ),
        ),
        (
            "application/atom+xml",
            format!(
                "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"javascript:alert(13)\"><title>Echoatom</title><id>urn:e</id><updated>2024-01-01T00:00:00Z</updated>\
                 <entry><title>Echoatom ferry timetable approved</title><id>urn:e:1</id><updated>2024-01-01T00:00:00Z</updated>\
                 <link href=\"vbscript:msgbox(1)\"/><content type=\"html\">&lt;p&gt;{echoatom}&lt;/p&gt;&lt;a href=\"rel/path\"&gt;rel&lt;/a&gt;&lt;img src=\"data:x\"&gt;</content></entry></feed>"
            ),
        ),
        (
            "application/feed+json",
            serde_json::json!({
                "version": "https://jsonfeed.org/version/1.1",
                "title": "Foxtrotjson",
                "home_page_url": "javascript:alert(14)",
                "items": [{
                    "id": "f1",
                    "url": "data:text/html,<script>alert(15)</script>",
                    "title": "Foxtrotjson ferry timetable approved",
                    "content_html": format!("<p>{foxtrotjson}</p><a href=\"javascript:alert(16)\">x</a>"),
                    "summary": "<img src=x onerror=alert(17)>",
                }]
            })
            .to_string(),
        ),
        (
            "text/plain",
            format!("Golftext ferry timetable approved\n\n<script>alert(18)</script> {golftext}\n\njavascript:alert(19)\n"),
        ),
    ];
    out
}

const MARKERS: &[&str] = &[
    "Alphajson",
    "Bravomd",
    "Charliehtml",
    "Deltarss",
    "Echoatom",
    "Foxtrotjson",
    "Golftext",
];

/// Every URL-valued attribute and link of an HTML fragment or page.
fn html_urls(html: &str) -> Vec<String> {
    let doc = dom_query::Document::from(html);
    let mut out = Vec::new();
    for attr in [
        "href",
        "src",
        "action",
        "srcset",
        "poster",
        "cite",
        "formaction",
    ] {
        for node in doc.select(&format!("[{attr}]")).nodes() {
            if let Some(v) = node.attr(attr) {
                out.push(v.to_string());
            }
        }
    }
    out
}

fn scripts_in_html(html: &str) -> Vec<String> {
    let doc = dom_query::Document::from(html);
    let mut bad: Vec<String> = doc
        .select("script, iframe, object, embed")
        .nodes()
        .iter()
        .map(|n| n.node_name().unwrap_or_default().to_string())
        .collect();
    for node in doc.select("*").nodes() {
        for a in node.attrs() {
            if a.name.local.starts_with("on") {
                bad.push(format!("{} attribute", a.name.local));
            }
        }
    }
    bad
}

/// A URL a page links to: absolute http(s), or a path on this server.
fn safe_url(u: &str, base: &str) -> bool {
    let u = u.trim();
    u.starts_with('/') && !u.starts_with("//")
        || u.starts_with(base)
        || topicfeed::model::is_http_url(u)
}

fn check_xml(name: &str, got: &Got, base: &str, problems: &mut Vec<String>) {
    let text = got.text();
    let doc = match roxmltree::Document::parse(&text) {
        Ok(d) => d,
        Err(e) => return problems.push(format!("{name}: not XML: {e}")),
    };
    for node in doc.descendants().filter(|n| n.is_element()) {
        let local = node.tag_name().name();
        for attr in ["href", "url", "domain"] {
            if let Some(v) = node.attribute(attr)
                && attr != "domain"
                && !safe_url(v, base)
            {
                problems.push(format!("{name}: <{local} {attr}=\"{v}\">"));
            }
        }
        let body = node.text().unwrap_or_default();
        match local {
            "link" | "guid" | "comments" if !body.trim().is_empty() => {
                let permalink = node.attribute("isPermaLink") != Some("false");
                if (local != "guid" || permalink) && !safe_url(body, base) {
                    problems.push(format!("{name}: <{local}>{body}</{local}>"));
                }
            }
            // Atom text constructs without type="html"/"xhtml" are text:
            // "<script>" in them is shown, not run.
            "content" | "summary" if !matches!(node.attribute("type"), Some("html" | "xhtml")) => {}
            // Elements readers render as HTML.
            "description" | "encoded" | "content" | "summary" => {
                for u in html_urls(body) {
                    if !safe_url(&u, base) {
                        problems.push(format!("{name}: <{local}> links {u}"));
                    }
                }
                for s in scripts_in_html(body) {
                    problems.push(format!("{name}: <{local}> has {s}"));
                }
            }
            _ => {}
        }
    }
}

fn check_json_feed(got: &Got, base: &str, problems: &mut Vec<String>) {
    let feed: Value = serde_json::from_slice(&got.body).unwrap_or_default();
    for item in feed["items"].as_array().into_iter().flatten() {
        for key in ["url", "external_url", "image"] {
            if let Some(u) = item[key].as_str()
                && !safe_url(u, base)
            {
                problems.push(format!("json: item {key} {u}"));
            }
        }
        let html = item["content_html"].as_str().unwrap_or_default();
        for u in html_urls(html) {
            if !safe_url(&u, base) {
                problems.push(format!("json: content_html links {u}"));
            }
        }
        for s in scripts_in_html(html) {
            problems.push(format!("json: content_html has {s}"));
        }
    }
}

fn check_page(name: &str, got: &Got, base: &str, problems: &mut Vec<String>) {
    let html = got.text();
    for u in html_urls(&html) {
        if !safe_url(&u, base) {
            problems.push(format!("{name}: links {u}"));
        }
    }
    for s in scripts_in_html(&html) {
        problems.push(format!("{name}: has {s}"));
    }
    let csp = got.header("content-security-policy").unwrap_or_default();
    if !csp.contains("default-src 'none'") || csp.contains("script-src") {
        problems.push(format!("{name}: CSP {csp:?}"));
    }
    if got.header("x-content-type-options").as_deref() != Some("nosniff") {
        problems.push(format!("{name}: no X-Content-Type-Options: nosniff"));
    }
    if got.header("referrer-policy").is_none() {
        problems.push(format!("{name}: no Referrer-Policy"));
    }
}

#[test]
fn hostile_urls_and_markup_never_reach_any_output() {
    let s = Server::start(&["--no-samples", "--api-token", TOKEN]);
    let auth = format!("Bearer {TOKEN}");
    let mut notes = Vec::new();
    for (ct, body) in inputs() {
        let r = post(
            &s.url("/api/articles"),
            &[("Content-Type", ct), ("Authorization", &auth)],
            body.as_bytes(),
        );
        assert!(
            r.status == 200 || r.status == 201,
            "{ct}: {} {}",
            r.status,
            r.text()
        );
        notes.push(r.text());
    }
    // The JSON and Markdown article links were dropped, and the sender told.
    for marker in ["Alphajson", "Bravomd"] {
        let resp = notes.iter().find(|n| n.contains(marker)).unwrap();
        assert!(resp.contains("dropped the link"), "{resp}");
    }

    let base = s.url("");
    let mut problems = Vec::new();
    let rss = get(&s.url("/feeds/all.rss"), &[]);
    let atom = get(&s.url("/feeds/all.atom"), &[]);
    let json = get(&s.url("/feeds/all.json"), &[]);
    for (name, got) in [("rss", &rss), ("atom", &atom), ("json", &json)] {
        assert_eq!(got.status, 200, "{name}");
        for m in MARKERS {
            assert!(got.text().contains(m), "{name} lacks {m}");
        }
    }
    check_xml("rss", &rss, &base, &mut problems);
    check_xml("atom", &atom, &base, &mut problems);
    check_json_feed(&json, &base, &mut problems);
    check_page("index", &get(&s.url("/"), &[]), &base, &mut problems);
    check_page(
        "topic page",
        &get(&s.url("/feeds/all"), &[("Accept", "text/html")]),
        &base,
        &mut problems,
    );
    let ids: Vec<String> = serde_json::from_slice::<Value>(&json.body).unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str()?.rsplit(':').next().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), MARKERS.len());
    for id in ids {
        let page = get(
            &s.url(&format!("/articles/{id}")),
            &[("Accept", "text/html")],
        );
        check_page(&format!("article {id}"), &page, &base, &mut problems);
    }
    // The plain-text summary of an RSS <description> is escaped text.
    assert!(!rss.text().contains("<script"), "raw <script in RSS");
    assert!(problems.is_empty(), "{problems:#?}");
}

/// One raw HTTP/1.1 request with this Host; the status and body.
fn with_host(s: &Server, path: &str, host: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(s.addr()).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

#[test]
fn links_follow_only_allowed_hosts() {
    let s = Server::start(&["--allow-host", "feeds.example"]);
    let port = s.addr().rsplit(':').next().unwrap().to_owned();
    let (status, body) = with_host(&s, "/feeds/all.atom", "evil.example");
    assert_eq!(status, 421, "{body}");
    assert!(
        body.contains("--base-url") && body.contains("evil.example"),
        "{body}"
    );
    // Another port on localhost would put that port in every link.
    assert_eq!(with_host(&s, "/", "localhost:1").0, 421);
    for ok in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "feeds.example".to_owned(),
        "FEEDS.example:443".to_owned(),
    ] {
        let (status, body) = with_host(&s, "/feeds/all.atom", &ok);
        assert_eq!(status, 200, "{ok}: {body}");
        let host = ok.to_ascii_lowercase();
        assert!(
            body.contains(&format!("http://{host}/feeds/all")),
            "{ok}: self link"
        );
    }

    // With a base URL, links never follow Host, so any Host is answered.
    let s = Server::start(&["--base-url", "https://news.example"]);
    let (status, body) = with_host(&s, "/feeds/all.atom", "evil.example");
    assert_eq!(status, 200);
    assert!(!body.contains("evil.example"));
    assert!(body.contains("https://news.example/feeds/all"));
}

/// The low-severity refusals of the hostile-input review, each with the
/// status and body a client can act on.
#[test]
fn odd_requests_get_clear_answers_and_odd_articles_are_kept() {
    use std::io::Write;
    let s = Server::start(&["--no-samples", "--api-token", TOKEN]);
    let ingest = |headers: &[(&str, &str)], body: &[u8]| {
        let mut h = vec![("Authorization", "bearer hostile-t0ken")];
        h.extend_from_slice(headers);
        post(&s.url("/api/articles"), &h, body)
    };
    // A NUL in a search is a 400 naming `q`, not a 500.
    let r = get(&s.url("/feeds/all.atom?q=a%00b"), &[]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("`q`"), "{}", r.text());

    // Lower-case "bearer" is the same scheme (and was used above).
    let text = "Harbour dredging starts\n\nThe dredger arrives on Monday and works through the winter months, the port said.\n";
    let r = ingest(&[("Content-Type", "text/plain")], text.as_bytes());
    assert_eq!(r.status, 201, "{}", r.text());

    // Content-Encoding is honoured, and a label that does not fit is refused.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"Ferry fares frozen\n\nThe island ferry keeps its fares for another year, the operator said on Tuesday.\n")
        .unwrap();
    let gz = gz.finish().unwrap();
    let r = ingest(
        &[("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
        &gz,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = ingest(
        &[("Content-Type", "text/plain"), ("Content-Encoding", "br")],
        text.as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = ingest(
        &[
            ("Content-Type", "text/plain"),
            ("Content-Encoding", "compress"),
        ],
        text.as_bytes(),
    );
    assert_eq!(r.status, 415, "{}", r.text());
    // A bomb: 64 KiB on the wire, 64 MiB inflated; the limit is 2 MiB.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    bomb.write_all(&vec![b'a'; 64 << 20]).unwrap();
    let r = ingest(
        &[("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
        &bomb.finish().unwrap(),
    );
    assert_eq!(r.status, 413, "{}", r.text());

    // Odd fields cost the field, not the article, and the sender is told.
    let r = ingest(
        &[("Content-Type", "application/json")],
        br#"{"title": 2049, "published": "9999-12-31T00:00:00Z", "content": "A year-numbered headline about the lighthouse keepers' union vote."}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(
        r.text().contains("\"title\":\"2049\"") && r.text().contains("published"),
        "{}",
        r.text()
    );
    let r = ingest(
        &[("Content-Type", "text/markdown")],
        b"---\ntitle: Pier lights repaired\ndate: 0000-00-00\n---\n\nThe pier lights work again after the storm, the council said.\n",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.text().contains("`date`"), "{}", r.text());
    let r = ingest(
        &[("Content-Type", "text/plain")],
        b"Quay bollards painted\n\nVolunteers painted\0 the quay bollards\0 on Saturday morning before the regatta.\n",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let feed = get(&s.url("/feeds/all.json"), &[]).text();
    assert!(!feed.contains("9999"), "the future date was kept");
    assert!(
        feed.contains("Volunteers painted the quay bollards"),
        "{feed}"
    );
}

/// A tmpfs of `size`, unmounted on drop. Needs root (as CI runs).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "this test mounts a small tmpfs and needs root"
        );
        SmallDisk { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// A server whose SQLite store is in `data` (a small disk: these tests are
/// about the embedded store's file; PostgreSQL's disk is the server's).
fn serve_on(data: &std::path::Path) -> Server {
    let mut cmd = crate::support::server::serve_command();
    cmd.current_dir(crate::support::root())
        .args([
            "--no-samples",
            "--no-sources",
            "--api-token",
            TOKEN,
            "--data",
        ])
        .arg(data);
    Server::spawn(cmd)
}

/// Posts article `i`, `words` distinct words long (no article is a copy of another).
fn ingest_filler(s: &Server, i: usize, words: usize) -> Got {
    let body: String = (0..words)
        .map(|w| format!("w{}x{} ", i, w * 7 + i))
        .collect();
    let text = format!("Disk filler number {i}\n\n{body}.\n");
    post(
        &s.url("/api/articles"),
        &[
            ("Content-Type", "text/plain"),
            ("Authorization", &format!("Bearer {TOKEN}")),
        ],
        text.as_bytes(),
    )
}

/// How many stories the `all` feed serves; asserts that it is served.
fn served_count(s: &Server) -> usize {
    let feed = get(&s.url("/feeds/all.json?limit=500"), &[]);
    assert_eq!(feed.status, 200, "reads go on: {}", feed.text());
    let v: Value = serde_json::from_slice(&feed.body).unwrap();
    v["items"].as_array().map_or(0, Vec::len)
}

/// Fills what is left of the disk into `path`.
fn fill_disk(path: &std::path::Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    while f.write_all(&[7u8; 4096]).is_ok() {}
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_a_507_and_reads_go_on() {
    let disk = SmallDisk::mount("3m");
    let data = disk.dir.path().join("data");
    // Room that the test gives back later, as an operator freeing space does.
    let ballast = disk.dir.path().join("ballast");
    std::fs::write(&ballast, vec![7u8; 512 * 1024]).unwrap();
    let s = serve_on(&data);
    let mut stored = 0;
    let mut last = None;
    for i in 0..200 {
        let r = ingest_filler(&s, i, 40_000);
        if r.status == 201 {
            stored += 1;
            continue;
        }
        last = Some(r);
        break;
    }
    let r = last.expect("the disk never filled");
    assert_eq!(r.status, 507, "{}", r.text());
    assert!(r.text().contains("disk is full"), "{}", r.text());
    assert!(stored > 0, "nothing fit at all");
    assert_eq!(served_count(&s), stored);

    // A restart on the still-full disk (the WAL still holds the recent
    // commits): everything acknowledged is served; writes get the same 507.
    assert!(s.terminate().success());
    let s = serve_on(&data);
    assert_eq!(served_count(&s), stored, "{}", s.stderr());
    let r = ingest_filler(&s, 1000, 40_000);
    assert_eq!(r.status, 507, "{}", r.text());
    assert!(r.text().contains("disk is full"), "{}", r.text());

    // Space returns: the next write goes through without a restart.
    std::fs::remove_file(&ballast).unwrap();
    let r = ingest_filler(&s, 1001, 40_000);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(served_count(&s), stored + 1);
}

#[cfg(target_os = "linux")]
#[test]
fn a_start_on_a_full_disk_serves_read_only_until_space_returns() {
    let disk = SmallDisk::mount("3m");
    let data = disk.dir.path().join("data");
    let s = serve_on(&data);
    for i in 0..3 {
        let r = ingest_filler(&s, i, 200);
        assert_eq!(r.status, 201, "{}", r.text());
    }
    // A clean shutdown checkpoints the WAL and removes it and SQLite's
    // shared-memory file; then something else fills the disk.
    assert!(s.terminate().success());
    assert!(
        !data.join("topicfeed.db-wal").exists(),
        "WAL left after a clean shutdown"
    );
    let ballast = disk.dir.path().join("ballast");
    fill_disk(&ballast);

    // SQLite cannot create its shared-memory file: the store opens
    // read-only, says so, and serves.
    let s = serve_on(&data);
    assert_eq!(served_count(&s), 3, "{}", s.stderr());
    assert!(s.stderr().contains("read-only"), "{}", s.stderr());
    let r = ingest_filler(&s, 3, 200);
    assert_eq!(r.status, 507, "{}", r.text());
    assert!(r.text().contains("disk is full"), "{}", r.text());

    std::fs::remove_file(&ballast).unwrap();
    let r = ingest_filler(&s, 4, 200);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(served_count(&s), 4);
}
