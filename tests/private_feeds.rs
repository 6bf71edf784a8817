//! Private feeds (`key = "…"` in a topic file, `serve --read-key`) as a
//! feed reader meets them: the real binary, a real HTTP client, feeds
//! parsed back with `feed-rs`.

use std::path::Path;

use base64::Engine;

use crate::support::server::{Server, get, get_once, serve_command};

pub(crate) const TOPIC_KEY: &str = "quay-7f3k-22";
const GLOBAL_KEY: &str = "harbour-master-9";

/// The shipped topics plus `board`, a private copy of `climate`.
pub(crate) fn feeds_with_private_topic(dir: &Path) {
    for entry in std::fs::read_dir(crate::support::root().join("feeds")).expect("feeds") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml")
            && path.file_name().is_some_and(|n| n != "sources.toml")
        {
            std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let climate = std::fs::read_to_string(dir.join("climate.toml")).expect("climate.toml");
    let board = climate.replacen("title = \"Climate\"", "title = \"Board\"", 1);
    std::fs::write(
        dir.join("board.toml"),
        format!("key = \"{TOPIC_KEY}\"\n{board}"),
    )
    .expect("board.toml");
}

fn basic(credentials: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

/// A server on `feeds` (see [`feeds_with_private_topic`]) with no sources,
/// logging at INFO (access-log lines included), to see that keys stay out.
pub(crate) fn serve_private(feeds: &Path, data: &Path, extra: &[&str]) -> Server {
    let mut cmd = serve_command();
    cmd.env("TOPICFEED_LOG", "info")
        .current_dir(crate::support::root())
        .arg("--data")
        .arg(data)
        .args(crate::support::backend::database_args(data))
        .arg("--no-sources")
        .arg("--feeds")
        .arg(feeds)
        .args(extra);
    Server::spawn(cmd)
}

/// A server from [`serve_private`] on the shipped topics, `board`, and the
/// `extra` topic files (name, text); its directories live as long as it.
pub(crate) struct PrivateServer {
    server: Server,
    pub feeds: tempfile::TempDir,
    _data: tempfile::TempDir,
}

impl std::ops::Deref for PrivateServer {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

pub(crate) fn private_server(extra: &[(&str, &str)], args: &[&str]) -> PrivateServer {
    let feeds = tempfile::tempdir().expect("tempdir");
    feeds_with_private_topic(feeds.path());
    for (name, text) in extra {
        std::fs::write(feeds.path().join(name), text).expect("topic file");
    }
    let data = tempfile::tempdir().expect("tempdir");
    let server = serve_private(feeds.path(), data.path(), args);
    PrivateServer {
        server,
        feeds,
        _data: data,
    }
}

/// The story only the `vault` topic (`any = ["zorblax"]`) holds: title, URL.
const ZORBLAX: (&str, &str) = (
    "Zorblax ledger moves to the night vault",
    "https://private.example/zorblax-ledger",
);

/// Posts a story about `word` through the ingest API (`token`).
fn post_story(s: &Server, token: &str, title: &str, url: &str, word: &str) {
    post_story_at(s, token, title, Some(url), word);
}

/// [`post_story`], with or without a URL of its own.
fn post_story_at(s: &Server, token: &str, title: &str, url: Option<&str>, word: &str) {
    let mut body = serde_json::json!({
        "title": title,
        "html": format!("<p>The {word} committee met on Monday and agreed the plan after a \
                 long debate about the {word}. Work starts in June, officials said.</p>"),
    });
    if let Some(url) = url {
        body["url"] = url.into();
    }
    let r = crate::support::server::post(
        &s.url("/api/articles"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &format!("Bearer {token}")),
        ],
        body.to_string().as_bytes(),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.text());
}

fn links(body: &[u8]) -> (Vec<String>, usize) {
    let feed = feed_rs::parser::parse(body).expect("a feed that parses");
    (
        feed.links.iter().map(|l| l.href.clone()).collect(),
        feed.entries.len(),
    )
}

#[test]
fn a_topic_key_guards_its_feeds_and_nothing_else() {
    let s = private_server(&[], &[]);

    // No key, a wrong key: 401 asking for Basic credentials, saying how.
    let none = get(&s.url("/feeds/board.atom"), &[]);
    assert_eq!(none.status, 401, "{}", none.text());
    assert!(
        none.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic"))
    );
    assert!(none.text().contains("?key="), "{}", none.text());
    let wrong = get(&s.url("/feeds/board.atom?key=quay-0000-00"), &[]);
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("wrong read key"), "{}", wrong.text());
    let wrong_basic = get(
        &s.url("/feeds/board.rss"),
        &[("authorization", &basic("me:nope-nope-nope"))],
    );
    assert_eq!(wrong_basic.status, 401);
    // A filter that asks for the private topic's stories is locked too.
    assert_eq!(
        get(&s.url("/feeds/all.atom?any=board,science"), &[]).status,
        401
    );
    assert_eq!(
        get(&s.url("/feeds/science.atom?all=board"), &[]).status,
        401
    );
    // So is one that leaves it out: the difference would list its stories.
    assert_eq!(get(&s.url("/feeds/all.atom?not=board"), &[]).status, 401);

    // The key in the URL: served, private to the reader, and the feed's own
    // links (self, paging) carry the key while the web page's does not.
    let url = s.url(&format!("/feeds/board.atom?key={TOPIC_KEY}"));
    let ok = get(&url, &[]);
    assert_eq!(ok.status, 200, "{}", ok.text());
    let cc = ok.header("cache-control").unwrap_or_default();
    assert!(
        cc.starts_with("private") && cc.contains("max-age=") && !cc.contains("public"),
        "{cc}"
    );
    let (hrefs, entries) = links(&ok.body);
    assert!(entries > 0, "the private topic has the climate stories");
    assert!(
        hrefs.iter().any(|h| h == &url),
        "self link is the document's location: {hrefs:?}"
    );
    assert!(
        hrefs
            .iter()
            .any(|h| h.ends_with("/feeds/board") && !h.contains("key")),
        "the web page link has no key: {hrefs:?}"
    );
    // A reader's conditional poll gets its 304, still private.
    let etag = ok.header("etag").expect("etag");
    let again = get(&url, &[("if-none-match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(
        again
            .header("cache-control")
            .is_some_and(|v| v.starts_with("private"))
    );
    // Basic auth (key as password, or as user name): served, no key in links.
    for credentials in [format!("reader:{TOPIC_KEY}"), format!("{TOPIC_KEY}:")] {
        let r = get(
            &s.url("/feeds/board.rss"),
            &[("authorization", &basic(&credentials))],
        );
        assert_eq!(r.status, 200, "{credentials}: {}", r.text());
        assert!(
            !r.text().contains(TOPIC_KEY),
            "no key in a feed asked for by Basic auth"
        );
        links(&r.body);
    }
    let filtered = get(
        &s.url(&format!(
            "/feeds/all.atom?any=board,science&key={TOPIC_KEY}"
        )),
        &[],
    );
    assert_eq!(filtered.status, 200, "{}", filtered.text());
    // A key given out of canonical order is moved, not dropped.
    let moved = get_once(
        &s.url(&format!(
            "/feeds/all.atom?key={TOPIC_KEY}&any=science,board"
        )),
        &[],
    );
    assert_eq!(moved.status, 301);
    assert!(
        moved
            .header("location")
            .is_some_and(|l| l.ends_with(&format!("?any=board,science&key={TOPIC_KEY}"))),
        "{:?}",
        moved.header("location")
    );

    // Public feeds stay public, and nothing public lists the private topic.
    // A key a public feed does not need is sent away: one URL per feed.
    let stray = get_once(&s.url("/feeds/climate.atom?key=anything-at-all"), &[]);
    assert_eq!(stray.status, 301);
    assert!(
        stray
            .header("location")
            .is_some_and(|l| l.ends_with("/feeds/climate.atom")),
        "{:?}",
        stray.header("location")
    );
    let public = get(&s.url("/feeds/climate.atom"), &[]);
    assert_eq!(public.status, 200);
    assert!(
        public
            .header("cache-control")
            .is_some_and(|v| v.starts_with("public"))
    );
    // Public feeds name no private topic among their stories' categories.
    for page in [
        "/",
        "/feeds.opml",
        "/feeds/nosuch.atom",
        "/feeds/all.json",
        "/feeds/all.rss",
        "/feeds/climate.atom",
        "/metrics",
    ] {
        let body = get(&s.url(page), &[]).text();
        // The slug as a name (a category, a tag, a link, a list entry), not
        // the word inside article text.
        let named = ["\"board\"", ">board<", "/feeds/board", " board,"]
            .iter()
            .find(|n| body.contains(*n));
        assert!(
            named.is_none(),
            "{page} names the private topic ({named:?}):\n{body}"
        );
    }
    // The stories the private topic holds still carry it where it was asked
    // for with its key.
    let own = get(&s.url(&format!("/feeds/board.json?key={TOPIC_KEY}")), &[]).text();
    assert!(own.contains("\"board\""), "{own}");

    logged_without_key(&s, "/feeds/board.atom", TOPIC_KEY);
}

/// The access log has requests for `path`, and never `key`.
fn logged_without_key(s: &Server, path: &str, key: &str) {
    std::thread::sleep(std::time::Duration::from_millis(400));
    let log = s.stderr();
    assert!(log.contains(path), "access log lines expected:\n{log}");
    assert!(!log.contains(key), "the key reached the log:\n{log}");
}

#[test]
fn a_global_key_makes_the_whole_server_private() {
    let mut cmd = serve_command();
    let data = tempfile::tempdir().expect("tempdir");
    // From the environment, as the help advises (a command line is public).
    cmd.env("TOPICFEED_READ_KEY", GLOBAL_KEY)
        .current_dir(crate::support::root())
        .arg("--data")
        .arg(data.path())
        .args(crate::support::backend::database_args(data.path()))
        .arg("--no-sources");
    let s = Server::spawn(cmd);
    for path in [
        "/",
        "/feeds.opml",
        "/feeds/all.atom",
        "/feeds/science.rss",
        "/feeds/world",
    ] {
        let r = get(&s.url(path), &[]);
        assert_eq!(r.status, 401, "{path}: {}", r.text());
    }
    // The operator's probes and the feed pictures stay open.
    assert_eq!(get(&s.url("/healthz"), &[]).status, 200);
    let feed = get(&s.url(&format!("/feeds/all.json?key={GLOBAL_KEY}")), &[]);
    assert_eq!(feed.status, 200, "{}", feed.text());
    let (_, entries) = links(&feed.body);
    assert!(entries > 0);
    let index = get(
        &s.url("/"),
        &[("authorization", &basic(&format!("me:{GLOBAL_KEY}")))],
    );
    assert_eq!(index.status, 200);
    assert!(
        index
            .header("cache-control")
            .is_some_and(|v| v.starts_with("private"))
    );
    // A story's own page is behind the key too; the feed's link to it
    // carries the key the feed was asked for with.
    let json: serde_json::Value = serde_json::from_slice(&feed.body).expect("json feed");
    let item_url = json["items"][0]["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let linked = item_url
        .find("/articles/")
        .map(|i| item_url[i..].to_owned())
        .unwrap_or_else(|| panic!("items link their page on this server: {item_url}"));
    let (path, query) = linked.split_once('?').unwrap_or((&linked, ""));
    assert_eq!(query, format!("key={GLOBAL_KEY}"));
    assert_eq!(get(&s.url(path), &[]).status, 401);
    assert_eq!(get(&s.url(&linked), &[]).status, 200);
}

#[test]
fn a_bad_key_is_refused_at_start_naming_where_it_was_written() {
    let feeds = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        feeds.path().join("board.toml"),
        "title = \"Board\"\nany = [\"minutes\"]\nkey = \"short\"\n",
    )
    .expect("write");
    // What a command that must fail printed on stderr.
    let refusal = |cmd: &mut std::process::Command| {
        let out = cmd.output().expect("run");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = refusal(
        std::process::Command::new(env!("CARGO_BIN_EXE_topicfeed"))
            .args(["check", "--feeds"])
            .arg(feeds.path()),
    );
    assert!(
        err.contains("board.toml:3") && err.contains("field `key`"),
        "{err}"
    );
    let err =
        refusal(serve_command().args(["--no-sources", "--no-samples", "--read-key", "short"]));
    assert!(
        err.contains("--read-key") && err.contains("at least 8"),
        "{err}"
    );
    assert!(
        !err.contains("short"),
        "the refused key is not echoed: {err}"
    );
}

const VAULT_KEY: &str = "vault-door-4411";
const TOKEN: &str = "ingest-t0ken-private";

/// A server with a private topic `vault` (stories about "zorblax", key
/// [`VAULT_KEY`]) and the ingest API open to [`TOKEN`].
fn vault_server() -> PrivateServer {
    let vault = format!("key = \"{VAULT_KEY}\"\ntitle = \"Vault\"\nany = [\"zorblax\"]\n");
    private_server(&[("vault.toml", &vault)], &["--api-token", TOKEN])
}

/// A story that only a private topic holds: no public feed, filter, search
/// or page shows it; its topic's key opens its feed and its page.
#[test]
fn a_story_only_in_private_topics_stays_behind_their_key() {
    let s = vault_server();
    post_story(&s, TOKEN, ZORBLAX.0, ZORBLAX.1, "zorblax");
    post_story(
        &s,
        TOKEN,
        "Quarry lake reopens for swimmers",
        "https://public.example/quarry-lake",
        "quarry",
    );
    let has = |path: &str, what: &str| {
        let r = get(&s.url(path), &[]);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.text().contains(what)
    };
    // Public: the other story is there, the private one nowhere.
    for path in [
        "/feeds/all.atom",
        "/feeds/all.rss",
        "/feeds/all.json",
        "/feeds/all.atom?q=committee",
        "/feeds/all.json?q=zorblax",
        "/feeds/all",
    ] {
        assert!(!has(path, "Zorblax"), "{path} shows the private story");
    }
    assert!(has("/feeds/all.atom", "Quarry lake"));
    assert!(has("/feeds/all.atom?q=committee", "Quarry lake"));
    // With the key, the private topic's feed has it.
    let vault = get(&s.url(&format!("/feeds/vault.json?key={VAULT_KEY}")), &[]);
    assert_eq!(vault.status, 200, "{}", vault.text());
    let json: serde_json::Value = serde_json::from_slice(&vault.body).expect("json feed");
    let id = json["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(vault.text().contains("Zorblax"), "{}", vault.text());
    // Its page: not there without the key (as if it did not exist), there
    // with it.
    let page = format!("/articles/{}", id.rsplit(':').next().unwrap_or_default());
    let hidden = get(&s.url(&page), &[]);
    assert_eq!(hidden.status, 404, "{page}: {}", hidden.text());
    let shown = get(&s.url(&format!("{page}?key={VAULT_KEY}")), &[]);
    assert_eq!(shown.status, 200, "{page}: {}", shown.text());
    assert!(shown.text().contains("Zorblax"));
    let cc = shown.header("cache-control").unwrap_or_default();
    assert!(cc.starts_with("private"), "no shared cache keeps it: {cc}");
}

/// A story with no URL of its own links to its page here: in a feed asked
/// for with a key, that link carries the key, or the reader following it
/// would find nothing.
#[test]
fn links_to_private_story_pages_carry_the_feeds_key() {
    let s = vault_server();
    post_story_at(
        &s,
        TOKEN,
        "Zorblax minutes kept off the record",
        None,
        "zorblax",
    );
    for format in ["atom", "rss", "json"] {
        let feed = get(
            &s.url(&format!("/feeds/vault.{format}?key={VAULT_KEY}")),
            &[],
        );
        assert_eq!(feed.status, 200, "{}", feed.text());
        let parsed = feed_rs::parser::parse(&feed.body[..]).expect("a feed that parses");
        let entry = parsed
            .entries
            .first()
            .expect("the story is in its topic's feed");
        let link = &entry.links.first().expect("an item link").href;
        assert!(
            link.contains("/articles/") && link.ends_with(&format!("?key={VAULT_KEY}")),
            "{format}: {link}"
        );
        let path = link.split_once("127.0.0.1").map_or("", |(_, p)| p);
        let path = path.split_once('/').map_or("", |(_, p)| p);
        let page = get(&s.url(&format!("/{path}")), &[]);
        assert_eq!(page.status, 200, "{format}: {link}: {}", page.text());
        assert!(page.text().contains("Zorblax minutes"), "{}", page.text());
    }
    // Asked for by Basic auth, the feed holds no key: its reader sends the
    // key the same way.
    let basic = get(
        &s.url("/feeds/vault.atom"),
        &[("authorization", &basic(&format!("reader:{VAULT_KEY}")))],
    );
    assert_eq!(basic.status, 200, "{}", basic.text());
    assert!(!basic.text().contains(VAULT_KEY), "{}", basic.text());
    logged_without_key(&s, "/articles/", VAULT_KEY);
}

/// Guessing a key over HTTP: after ten wrong keys an address gets 429 for
/// any key, the right one included; others are not affected.
#[test]
fn wrong_keys_are_throttled_per_address() {
    let s = private_server(&[], &["--trusted-proxy", "127.0.0.1/32"]);
    let from = |ip: &str, key: &str| {
        get(
            &s.url(&format!("/feeds/board.atom?key={key}")),
            &[("x-forwarded-for", ip)],
        )
    };
    for i in 0..10 {
        let r = from("203.0.113.9", &format!("guess-{i:04}-xx"));
        assert_eq!(r.status, 401, "guess {i}: {}", r.text());
    }
    let locked = from("203.0.113.9", TOPIC_KEY);
    assert_eq!(locked.status, 429, "{}", locked.text());
    assert!(
        locked.text().contains("wrong read keys"),
        "{}",
        locked.text()
    );
    let retry: u64 = locked
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((500..=600).contains(&retry), "{retry}");
    // Another reader, and public feeds for the same address, go on.
    assert_eq!(from("203.0.113.10", TOPIC_KEY).status, 200);
    let public = get(
        &s.url("/feeds/climate.atom"),
        &[("x-forwarded-for", "203.0.113.9")],
    );
    assert_eq!(public.status, 200);
    let metrics = get(&s.url("/metrics"), &[]).text();
    assert!(
        metrics.contains("topicfeed_read_key_refused_total 10"),
        "{metrics}"
    );
}

/// A topic made private while the server runs: nothing rendered or
/// worked out before the reload is served after it.
#[test]
fn a_topic_made_private_at_run_time_takes_its_stories_out_of_public_feeds() {
    const TOKEN: &str = "ingest-t0ken-reload";
    let public = "title = \"Vault\"\nany = [\"zorblax\"]\n";
    let s = private_server(&[("vault.toml", public)], &["--api-token", TOKEN]);
    let vault = s.feeds.path().join("vault.toml");
    post_story(&s, TOKEN, ZORBLAX.0, ZORBLAX.1, "zorblax");
    // Polled twice each: rendered, cached and remembered.
    for _ in 0..2 {
        assert!(
            get(&s.url("/feeds/all.atom"), &[])
                .text()
                .contains("Zorblax")
        );
        assert_eq!(get(&s.url("/feeds/vault.atom"), &[]).status, 200);
    }
    std::fs::write(
        &vault,
        format!("key = \"{TOPIC_KEY}\"\ntitle = \"Vault\"\nany = [\"zorblax\"]\n"),
    )
    .expect("vault.toml");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while get(&s.url("/feeds/vault.atom"), &[]).status != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the topic file was not reloaded"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let all = get(&s.url("/feeds/all.atom"), &[]);
    assert_eq!(all.status, 200);
    assert!(!all.text().contains("Zorblax"), "{}", all.text());
}
