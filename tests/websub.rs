//! The built-in WebSub hub as a subscriber meets it: the real binary, a
//! real subscriber on loopback (allowed with `--websub-allow-private`)
//! that answers the hub's verification and receives its signed pushes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};

use crate::support::server::{Server, get, post, serve_command};

const TOKEN: &str = "websub-test-token";
const SECRET: &str = "s3cret-of-the-subscriber";

/// What reached the subscriber's callback.
#[derive(Debug)]
enum Call {
    /// The hub's GET, with its query.
    Verify(Vec<(String, String)>),
    /// A push: its headers (lower-cased names) and body.
    Push(Vec<(String, String)>, Vec<u8>, Instant),
    /// A push the subscriber answered with 503.
    Refused(Instant),
}

/// A subscriber: answers every verification by echoing `hub.challenge`,
/// takes every push with 204, and reports each call.
fn subscriber() -> (String, mpsc::Receiver<Call>) {
    failing_subscriber(0)
}

/// A subscriber whose first `failures` pushes get a 503.
fn failing_subscriber(failures: usize) -> (String, mpsc::Receiver<Call>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/callback?reader=7",
        listener.local_addr().expect("addr")
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut failures = failures;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            if let Some(call) = answer(stream, &mut failures)
                && tx.send(call).is_err()
            {
                return;
            }
        }
    });
    (url, rx)
}

fn answer(mut stream: TcpStream, failures: &mut usize) -> Option<Call> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let query: Vec<(String, String)> = url::Url::parse(&format!("http://x{target}"))
        .ok()?
        .query_pairs()
        .into_owned()
        .collect();
    let reply = |status: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let call = if method == "GET" {
        let challenge = query
            .iter()
            .find(|(k, _)| k == "hub.challenge")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        stream
            .write_all(reply("200 OK", &challenge).as_bytes())
            .ok()?;
        Call::Verify(query)
    } else if *failures > 0 {
        *failures -= 1;
        stream
            .write_all(reply("503 Service Unavailable", "").as_bytes())
            .ok()?;
        Call::Refused(Instant::now())
    } else {
        let at = Instant::now();
        stream
            .write_all(reply("204 No Content", "").as_bytes())
            .ok()?;
        Call::Push(headers, body, at)
    };
    Some(call)
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
        .into_bytes()
}

/// Subscribes `callback` to `topic`, without a lease or a secret.
fn subscribe(s: &Server, callback: &str, topic: &str) -> crate::support::server::Got {
    hub_request(
        s,
        &[
            ("hub.mode", "subscribe"),
            ("hub.callback", callback),
            ("hub.topic", topic),
        ],
    )
}

fn hub_request(s: &Server, pairs: &[(&str, &str)]) -> crate::support::server::Got {
    post(
        &s.url("/websub"),
        &[("content-type", "application/x-www-form-urlencoded")],
        &form(pairs),
    )
}

fn ingest(s: &Server, title: &str) -> Instant {
    let article = format!(
        r#"{{"title": "{title}", "url": "https://ledger.example/{}", "content": "Climate scientists said on Monday that carbon emissions from shipping rose again this year, and the port's climate plan was not enough to meet its targets.\n\nThe report urged faster action on clean energy for ships at berth."}}"#,
        title.len()
    );
    let r = post(
        &s.url("/api/articles"),
        &[
            ("content-type", "application/json"),
            ("authorization", &format!("Bearer {TOKEN}")),
        ],
        article.as_bytes(),
    );
    assert!(
        r.status == 200 || r.status == 201,
        "{}: {}",
        r.status,
        r.text()
    );
    Instant::now()
}

fn start(data: &Path) -> Server {
    start_with(data, &[])
}

fn start_with(data: &Path, extra: &[&str]) -> Server {
    let mut cmd = guarded(data);
    cmd.arg("--websub-allow-private").args(extra);
    Server::spawn(cmd)
}

/// The server on `data` as an operator runs it: callbacks on this
/// machine's addresses refused.
fn guarded(data: &Path) -> std::process::Command {
    let mut cmd = serve_command();
    cmd.current_dir(crate::support::root())
        .arg("--data")
        .arg(data)
        .args(crate::support::backend::database_args(data))
        .args(["--no-sources", "--no-samples", "--api-token", TOKEN]);
    cmd
}

/// The next verification the subscriber answered, within 10 s.
fn next_verify(calls: &mpsc::Receiver<Call>) -> Vec<(String, String)> {
    match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Verify(q)) => q,
        other => panic!("expected the hub's verification, got {other:?}"),
    }
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn a_subscriber_is_verified_gets_signed_pushes_and_nothing_after_unsubscribing() {
    let data = tempfile::tempdir().expect("tempdir");
    let s = start(data.path());
    // Discovery: the hub and the self link, in the headers and the feed.
    let feed = get(&s.url("/feeds/climate.atom"), &[]);
    let link = feed.header("link").expect("a Link header");
    let hub = s.url("/websub");
    let topic = s.url("/feeds/climate.atom");
    assert_eq!(
        link,
        format!("<{hub}>; rel=\"hub\", <{topic}>; rel=\"self\"")
    );
    let parsed = feed_rs::parser::parse(&feed.body[..]).expect("atom");
    assert!(
        parsed
            .links
            .iter()
            .any(|l| l.rel.as_deref() == Some("hub") && l.href == hub)
    );

    let (callback, calls) = subscriber();
    let accepted = hub_request(
        &s,
        &[
            ("hub.mode", "subscribe"),
            ("hub.callback", &callback),
            ("hub.topic", &topic),
            ("hub.lease_seconds", "7200"),
            ("hub.secret", SECRET),
        ],
    );
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let q = next_verify(&calls);
    assert_eq!(param(&q, "hub.mode"), Some("subscribe"));
    assert_eq!(param(&q, "hub.topic"), Some(topic.as_str()));
    assert_eq!(param(&q, "hub.lease_seconds"), Some("7200"));
    assert_eq!(
        param(&q, "reader"),
        Some("7"),
        "the callback's own query is kept"
    );
    // The hub stores the subscription once the challenge came back.
    std::thread::sleep(Duration::from_millis(500));

    let sent = ingest(&s, "Shipping emissions rise again, climate report says");
    let (headers, body, at) = match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Push(h, b, at)) => (h, b, at),
        other => panic!("expected a push, got {other:?}"),
    };
    let latency = at.duration_since(sent);
    eprintln!("WebSub push latency (ingest answered → subscriber received): {latency:?}");
    assert!(
        latency < Duration::from_secs(2),
        "pushed {latency:?} after the ingest"
    );
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("link").as_deref(), Some(link.as_str()));
    assert!(header("content-type").is_some_and(|t| t.starts_with("application/atom+xml")));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(&body);
    let expected = mac.finalize().into_bytes();
    let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(header("x-hub-signature"), Some(format!("sha256={hex}")));
    let pushed = feed_rs::parser::parse(&body[..]).expect("the pushed feed parses");
    assert!(
        pushed.entries.iter().any(|e| e
            .title
            .as_ref()
            .is_some_and(|t| t.content.contains("Shipping emissions"))),
        "the new story is in the push"
    );

    // Unsubscribed: verified the same way, and nothing comes after.
    let r = hub_request(
        &s,
        &[
            ("hub.mode", "unsubscribe"),
            ("hub.callback", &callback),
            ("hub.topic", &topic),
        ],
    );
    assert_eq!(r.status, 202);
    assert_eq!(param(&next_verify(&calls), "hub.mode"), Some("unsubscribe"));
    std::thread::sleep(Duration::from_millis(500));
    ingest(&s, "Port electrification plan wins climate award");
    match calls.recv_timeout(Duration::from_secs(3)) {
        Err(mpsc::RecvTimeoutError::Timeout) => {}
        other => panic!("nothing may come after unsubscribing, got {other:?}"),
    }
}

#[test]
fn subscriptions_survive_a_restart() {
    let data = tempfile::tempdir().expect("tempdir");
    let (callback, calls) = subscriber();
    let s = start(data.path());
    let topic = s.url("/feeds/all.json");
    let r = subscribe(&s, &callback, &topic);
    assert_eq!(r.status, 202);
    next_verify(&calls);
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.terminate().success());

    let s = start(data.path());
    // Another port: the topic names the old one, which the store kept.
    let moved = s.url("/feeds/all.json");
    assert_ne!(moved, topic);
    // The restarted hub knows the feed as it was and pushes the change.
    std::thread::sleep(Duration::from_millis(500));
    ingest(&s, "Climate finance talks resume after restart");
    match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Push(h, body, _)) => {
            assert!(
                h.iter()
                    .any(|(k, v)| k == "content-type" && v.starts_with("application/feed+json"))
            );
            assert!(String::from_utf8_lossy(&body).contains("Climate finance talks resume"));
            assert!(
                !h.iter().any(|(k, _)| k == "x-hub-signature"),
                "no secret, no signature"
            );
        }
        other => panic!("expected a push after the restart, got {other:?}"),
    }
}

/// A push cut off by a restart (here: refused once, the server gone
/// before its retry) is sent by the restarted hub, with no new change.
#[test]
fn a_push_a_restart_cut_off_is_sent_after_the_restart() {
    let data = tempfile::tempdir().expect("tempdir");
    let (callback, calls) = failing_subscriber(1);
    let s = start(data.path());
    let topic = s.url("/feeds/climate.json");
    assert_eq!(subscribe(&s, &callback, &topic).status, 202);
    next_verify(&calls);
    std::thread::sleep(Duration::from_millis(500));
    ingest(&s, "Glacier survey finds faster melt than forecast");
    match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Refused(_)) => {}
        other => panic!("expected the first push (refused), got {other:?}"),
    }
    // Gone before the first retry (2 s).
    assert!(s.terminate().success());

    let _s = start(data.path());
    match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Push(_, body, _)) => {
            assert!(String::from_utf8_lossy(&body).contains("Glacier survey"));
        }
        other => panic!("expected the push again after the restart, got {other:?}"),
    }
    // Delivered, and recorded as such: not sent again at every look.
    match calls.recv_timeout(Duration::from_secs(2)) {
        Err(mpsc::RecvTimeoutError::Timeout) => {}
        other => panic!("expected no more pushes, got {other:?}"),
    }
}

#[test]
fn a_stored_callback_the_policy_now_refuses_is_not_pushed() {
    let data = tempfile::tempdir().expect("tempdir");
    let (callback, calls) = subscriber();
    let s = start(data.path());
    let r = subscribe(&s, &callback, &s.url("/feeds/all.json"));
    assert_eq!(r.status, 202);
    next_verify(&calls);
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.terminate().success());
    // Restarted without the operator's leave for private addresses: the
    // loopback callback it kept is dropped, not sent to.
    let s = Server::spawn(guarded(data.path()));
    std::thread::sleep(Duration::from_millis(500));
    ingest(&s, "Climate finance talks resume after restart");
    assert!(
        calls.recv_timeout(Duration::from_secs(3)).is_err(),
        "nothing reaches a loopback callback without --websub-allow-private"
    );
}

#[test]
fn bad_hub_requests_are_refused_naming_the_field() {
    let data = tempfile::tempdir().expect("tempdir");
    let s = start(data.path());
    let (callback, _calls) = subscriber();
    let topic = s.url("/feeds/climate.rss");
    let unsorted = s.url("/feeds/all.rss?any=science,climate");
    let page = s.url("/feeds/climate");
    // The form's fields, the status, and what the answer must say.
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("hub.callback", &callback), ("hub.topic", &topic)],
            400,
            "hub.mode",
        ),
        (
            vec![("hub.mode", "subscribe"), ("hub.topic", &topic)],
            400,
            "hub.callback",
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.callback", "ftp://x.example/cb"),
                ("hub.topic", &topic),
            ],
            400,
            "hub.callback",
        ),
        (
            vec![("hub.mode", "subscribe"), ("hub.callback", &callback)],
            400,
            "hub.topic",
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.callback", &callback),
                ("hub.topic", "https://elsewhere.example/feeds/climate.rss"),
            ],
            400,
            "not a feed of this server",
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.callback", &callback),
                ("hub.topic", &unsorted),
            ],
            400,
            "any=climate,science",
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.callback", &callback),
                ("hub.topic", &page),
            ],
            400,
            "a web page",
        ),
        (
            vec![
                ("hub.mode", "subscribe"),
                ("hub.callback", &callback),
                ("hub.topic", &topic),
                ("hub.lease_seconds", "soon"),
            ],
            400,
            "hub.lease_seconds",
        ),
    ];
    for (pairs, status, says) in cases {
        let r = hub_request(&s, &pairs);
        assert_eq!(r.status, status, "{pairs:?}: {}", r.text());
        assert!(r.text().contains(says), "{pairs:?}: {}", r.text());
    }
    let r = post(
        &s.url("/websub"),
        &[("content-type", "application/json")],
        b"{}",
    );
    assert_eq!(r.status, 415);
    assert_eq!(get(&s.url("/websub"), &[]).status, 405);
}

#[test]
fn loopback_callbacks_need_the_operators_leave() {
    let s = Server::start(&["--no-samples"]);
    let r = hub_request(
        &s,
        &[
            ("hub.mode", "subscribe"),
            ("hub.callback", "http://127.0.0.1:9/cb"),
            ("hub.topic", &s.url("/feeds/all.atom")),
        ],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("--websub-allow-private"), "{}", r.text());
}

/// `[outbound] allow` in `sources.toml` is the operator's word on every
/// fetch of a stranger's URL: a callback in an allowed range is reached
/// without `--websub-allow-private`, even with sources off.
#[test]
fn callbacks_in_a_range_sources_toml_allows_are_reached() {
    let data = tempfile::tempdir().expect("tempdir");
    let feeds = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(crate::support::root().join("feeds")).expect("feeds/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") && !path.ends_with("sources.toml") {
            std::fs::copy(&path, feeds.path().join(path.file_name().expect("name")))
                .expect("copy a topic");
        }
    }
    std::fs::write(
        feeds.path().join("sources.toml"),
        "[outbound]\nallow = [\"127.0.0.1/32\"]\n",
    )
    .expect("sources.toml");
    let mut cmd = guarded(data.path());
    cmd.arg("--feeds").arg(feeds.path());
    let s = Server::spawn(cmd);
    let (callback, calls) = subscriber();
    let accepted = subscribe(&s, &callback, &s.url("/feeds/climate.atom"));
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    next_verify(&calls);
    // Another loopback address is still refused.
    let refused = subscribe(&s, "http://127.0.0.2:9/cb", &s.url("/feeds/climate.atom"));
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.text().contains("[outbound] allow"),
        "{}",
        refused.text()
    );
}

/// Each hub request may make the hub fetch a stranger's URL: one client
/// gets 60 a minute, then 429 with `Retry-After`.
#[test]
fn hub_requests_are_limited_per_client() {
    let data = tempfile::tempdir().expect("tempdir");
    // Loopback is limited only when asked: this client is the test.
    let s = start_with(data.path(), &["--limit-loopback"]);
    let topic = s.url("/feeds/climate.atom");
    for i in 0..60 {
        // Refused for its lease, after the limit was counted.
        let r = hub_request(
            &s,
            &[
                ("hub.mode", "subscribe"),
                ("hub.callback", "http://127.0.0.1:9/cb"),
                ("hub.topic", &topic),
                ("hub.lease_seconds", "forever"),
            ],
        );
        assert_eq!(r.status, 400, "request {i}: {}", r.text());
    }
    let limited = subscribe(&s, "http://127.0.0.1:9/cb", &topic);
    assert_eq!(limited.status, 429, "{}", limited.text());
    assert!(
        limited.text().contains("WebSub requests"),
        "{}",
        limited.text()
    );
    let retry: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Polls are another budget.
    assert_eq!(get(&topic, &[]).status, 200);
}

#[test]
fn a_failed_push_is_retried_and_a_subscription_over_a_cap_is_denied() {
    let data = tempfile::tempdir().expect("tempdir");
    let s = start_with(data.path(), &["--websub-max-per-callback", "1"]);
    let (callback, calls) = failing_subscriber(1);
    let topic = s.url("/feeds/climate.json");
    let r = subscribe(&s, &callback, &topic);
    assert_eq!(r.status, 202);
    next_verify(&calls);
    // The hub stores the subscription once its callback has answered.
    std::thread::sleep(Duration::from_millis(500));
    // A second topic for the same callback is over its cap: denied there.
    let r = hub_request(
        &s,
        &[
            ("hub.mode", "subscribe"),
            ("hub.callback", &callback),
            ("hub.topic", &s.url("/feeds/science.json")),
        ],
    );
    assert_eq!(r.status, 202);
    let q = next_verify(&calls);
    assert_eq!(param(&q, "hub.mode"), Some("denied"), "{q:?}");
    assert!(
        param(&q, "hub.reason").is_some_and(|r| r.contains("callback")),
        "{q:?}"
    );
    std::thread::sleep(Duration::from_millis(500));

    ingest(&s, "Climate adaptation fund doubles after summit");
    let refused = match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Refused(at)) => at,
        other => panic!("expected the first push (refused), got {other:?}"),
    };
    match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Push(_, body, at)) => {
            let wait = at.duration_since(refused);
            assert!(
                wait >= Duration::from_millis(1500),
                "retried after {wait:?}"
            );
            assert!(String::from_utf8_lossy(&body).contains("Climate adaptation fund"));
        }
        other => panic!("expected the retried push, got {other:?}"),
    }
}

#[test]
fn a_private_feed_is_pushed_only_while_its_key_opens_it() {
    use crate::private_feeds::{TOPIC_KEY, private_server};
    let s = private_server(
        &[],
        &[
            "--no-samples",
            "--websub-allow-private",
            "--api-token",
            TOKEN,
        ],
    );
    let (callback, calls) = subscriber();
    // Without the key in the topic: refused, whatever else the request shows.
    let bare = s.url("/feeds/board.atom");
    let r = subscribe(&s, &callback, &bare);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("?key="), "{}", r.text());
    let topic = s.url(&format!("/feeds/board.atom?key={TOPIC_KEY}"));
    assert_eq!(subscribe(&s, &callback, &topic).status, 202);
    next_verify(&calls);
    std::thread::sleep(Duration::from_millis(500));
    ingest(&s, "Harbour board approves climate plan for the quays");
    match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Push(_, body, _)) => {
            assert!(String::from_utf8_lossy(&body).contains("Harbour board approves"))
        }
        other => panic!("expected a push of the private feed, got {other:?}"),
    }
    // The operator changes the key: the old one no longer opens the feed,
    // so the subscription ends (and is told so) instead of pushing on.
    let board = std::fs::read_to_string(s.feeds.path().join("board.toml")).expect("board.toml");
    std::fs::write(
        s.feeds.path().join("board.toml"),
        board.replace(TOPIC_KEY, "a-new-key-for-the-board"),
    )
    .expect("rewrite board.toml");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while get(&s.url(&format!("/feeds/board.atom?key={TOPIC_KEY}")), &[]).status != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the new key was never loaded"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    ingest(&s, "Second climate vote at the harbour board");
    match calls.recv_timeout(Duration::from_secs(10)) {
        Ok(Call::Verify(q)) => {
            assert_eq!(param(&q, "hub.mode"), Some("denied"), "{q:?}");
        }
        other => panic!("expected the end of the subscription, got {other:?}"),
    }
    match calls.recv_timeout(Duration::from_secs(2)) {
        Err(mpsc::RecvTimeoutError::Timeout) => {}
        other => panic!("nothing may be pushed after the key changed, got {other:?}"),
    }
    let log = s.stderr();
    assert!(
        log.contains("WebSub: verified"),
        "hub log lines expected:\n{log}"
    );
    assert!(!log.contains(TOPIC_KEY), "the key reached the log:\n{log}");
}
