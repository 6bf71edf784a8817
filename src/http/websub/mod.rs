//! A WebSub hub (W3C WebSub Recommendation), built in: subscribers get a
//! feed's new content pushed when its items change, instead of polling.
//!
//! Every feed names the hub (`rel="hub"` beside `rel="self"`, in the
//! document and in a `Link` header). A subscriber `POST`s `/websub` with
//! `hub.mode`, `hub.callback`, `hub.topic` (a feed URL exactly as its self
//! link gives it), and optionally `hub.lease_seconds` and `hub.secret`.
//! This module checks the request and answers 202; `deliver` then verifies
//! the subscriber's intent at its callback, keeps the subscription in the
//! store (so it survives a restart, on either backend), and pushes each
//! change of the topic's items to it.
//!
//! What is pushed is the whole feed document, as a poll would fetch it
//! (a "fat ping" of the new feed content): the subscriber reads it with the
//! parser it polls with, keeps the items it has not seen by their ids, and
//! needs no per-subscriber state here.

mod deliver;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use url::form_urlencoded;

pub use deliver::{Hub, Jobs, run};

use super::error::HttpError;
use super::query::{self, FeedRequest};
use super::response::Resp;
use super::{AppState, base_url};

/// How the hub works (`serve --websub-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// Off: feeds name no hub and `/websub` is 404.
    pub enabled: bool,
    /// Callbacks on loopback and private networks are allowed (tests, a
    /// reader on the same host); off, they are refused like any fetch of a
    /// stranger's URL (`sources::outbound`).
    pub allow_private: bool,
    /// The ranges `sources.toml`'s `[outbound] allow` opens to every fetch
    /// of a stranger's URL, callbacks included.
    pub outbound_allow: Vec<ipnet::IpNet>,
    /// A lease asked without `hub.lease_seconds`, and the longest granted.
    pub default_lease: Duration,
    pub max_lease: Duration,
    /// Subscriptions in all, and per callback host and port.
    pub max_subscriptions: usize,
    pub max_per_callback: usize,
}

impl HubConfig {
    pub const DEFAULT: HubConfig = HubConfig {
        enabled: true,
        allow_private: false,
        outbound_allow: Vec::new(),
        default_lease: Duration::from_secs(10 * 24 * 3600),
        max_lease: Duration::from_secs(30 * 24 * 3600),
        max_subscriptions: 10_000,
        max_per_callback: 100,
    };
}

/// Hub requests (subscribe or unsubscribe) one client may send a minute;
/// more get 429. An aggregator subscribing to every topic at once stays
/// well inside it.
pub const REQUESTS_PER_MINUTE: u32 = 60;

/// The shortest lease granted: a subscriber asking for less would spend
/// its time renewing.
const MIN_LEASE: Duration = Duration::from_secs(3600);
/// The spec's bound on `hub.secret`.
const MAX_SECRET_BYTES: usize = 200;
const MAX_CALLBACK_BYTES: usize = 2048;
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// Subscribe or unsubscribe: what the subscriber asked for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub subscribe: bool,
    pub callback: String,
    pub topic: String,
    pub lease: Duration,
    pub secret: Option<String>,
}

/// `POST /websub`.
pub(super) async fn request(
    req: Request<Incoming>,
    peer: std::net::SocketAddr,
    state: &AppState,
) -> Result<Resp, HttpError> {
    let Some(hub) = state.websub.as_ref() else {
        return Err(HttpError::NotFound("this server runs no WebSub hub".into()));
    };
    let form_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.trim_start()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(HttpError::UnsupportedMedia(
            "a WebSub request is a form: Content-Type: application/x-www-form-urlencoded".into(),
        ));
    }
    // Each request may have the hub fetch a stranger's URL (its
    // verification): no client gets to make it fetch at the rate it sends.
    let client = super::key_client(state, peer, req.headers());
    if let Err(after) = state.hub_limiter.check(
        client.ip,
        "websub",
        Duration::from_secs(60),
        std::time::Instant::now(),
    ) {
        state.metrics.rate_limited.inc();
        return Err(HttpError::HubRequests(after));
    }
    let base = base_url(state, req.headers());
    let body = super::api::read_body(req, MAX_REQUEST_BYTES, state.config.idle_timeout).await?;
    let intent = parse(&body, &base, state, client)?;
    hub.submit(intent)?;
    let mut r = http::Response::new(Full::new(Bytes::from_static(
        b"202 Accepted\nthe hub will verify this request at hub.callback (a GET with hub.challenge)\n",
    )));
    *r.status_mut() = StatusCode::ACCEPTED;
    Ok(r)
}

/// The form's fields, each checked; an error names the field and why.
fn parse(
    body: &[u8],
    base: &str,
    state: &AppState,
    client: super::private::Client<'_>,
) -> Result<Intent, HttpError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        if fields.iter().any(|(name, _)| *name == k) {
            return Err(bad(&k, "given more than once"));
        }
        fields.push((k.into_owned(), v.into_owned()));
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let subscribe = match field("hub.mode") {
        Some("subscribe") => true,
        Some("unsubscribe") => false,
        Some("publish") => {
            return Err(bad(
                "hub.mode",
                "this hub pushes this server's own feeds when they change: nothing to publish",
            ));
        }
        Some(other) => {
            return Err(bad(
                "hub.mode",
                &format!("`{other}`; use subscribe or unsubscribe"),
            ));
        }
        None => return Err(bad("hub.mode", "missing; use subscribe or unsubscribe")),
    };
    let callback = field("hub.callback").ok_or_else(|| bad("hub.callback", "missing"))?;
    let callback = check_callback(callback, &state.config.websub)?;
    let topic = field("hub.topic").ok_or_else(|| bad("hub.topic", "missing"))?;
    check_topic(topic, base, state, client)?;
    let lease = match field("hub.lease_seconds") {
        None => state.config.websub.default_lease,
        Some(s) => {
            let secs: u64 = s
                .parse()
                .map_err(|_| bad("hub.lease_seconds", "not a whole number of seconds"))?;
            Duration::from_secs(secs).clamp(MIN_LEASE, state.config.websub.max_lease)
        }
    };
    let secret = field("hub.secret").map(str::to_owned);
    if secret.as_ref().is_some_and(|s| s.len() > MAX_SECRET_BYTES) {
        return Err(bad("hub.secret", "longer than 200 bytes"));
    }
    Ok(Intent {
        subscribe,
        callback,
        topic: topic.to_owned(),
        lease,
        secret,
    })
}

fn bad(field: &str, why: &str) -> HttpError {
    HttpError::BadRequest(format!("`{field}`: {why}"))
}

/// An absolute http(s) URL the outbound policy lets the hub reach.
fn check_callback(callback: &str, hub: &HubConfig) -> Result<String, HttpError> {
    if callback.len() > MAX_CALLBACK_BYTES {
        return Err(bad("hub.callback", "longer than 2048 bytes"));
    }
    let url = url::Url::parse(callback)
        .map_err(|e| bad("hub.callback", &format!("not an absolute URL ({e})")))?;
    if !crate::model::is_http(&url) {
        return Err(bad("hub.callback", "not an http(s) URL"));
    }
    deliver::callback_policy(hub)
        .check_url(&url)
        .map_err(|why| {
            bad(
                "hub.callback",
                &format!(
                    "{why} (the operator may allow it: serve --websub-allow-private, or its range in sources.toml [outbound] allow)"
                ),
            )
        })?;
    Ok(url.to_string())
}

/// A feed of this server under the base this request came by, exactly as
/// its self link names it: a subscriber gets pushes for the document it
/// would poll.
fn check_topic(
    topic: &str,
    base: &str,
    state: &AppState,
    client: super::private::Client<'_>,
) -> Result<(), HttpError> {
    if topic_base(topic) != Some(base) {
        return Err(bad(
            "hub.topic",
            &format!("not a feed of this server (its feeds are under {base}/feeds/)"),
        ));
    }
    let feed = feed_of(topic, state)?;
    if feed.format.is_none() {
        return Err(bad(
            "hub.topic",
            "a web page, not a feed: use its .rss, .atom or .json URL",
        ));
    }
    if feed.canonical != topic {
        return Err(bad(
            "hub.topic",
            &format!(
                "not in canonical form; subscribe to {} (the feed's self link)",
                feed.canonical
            ),
        ));
    }
    match key_opens(&feed, state, Some(client)) {
        Ok(_) => Ok(()),
        Err(e @ HttpError::KeyLockout(_)) => Err(e),
        Err(_) => Err(HttpError::Forbidden(
            "`hub.topic`: a private feed; subscribe with its URL including ?key=".into(),
        )),
    }
}

/// Whether the key in a topic URL (if any) opens its feed now, under the
/// topic set the URL was worked out with. Only the URL counts, not a
/// request's Basic auth: the hub asks again before each push, when there
/// is no request (`client: None`); a subscriber's wrong key is counted
/// against its address like any other.
pub(super) fn key_opens(
    feed: &TopicFeed<'_>,
    state: &AppState,
    client: Option<super::private::Client<'_>>,
) -> Result<super::private::Access, HttpError> {
    super::private::feed(
        state.config.read_key.as_ref(),
        &feed.topics,
        &feed.request,
        &HeaderMap::new(),
        client,
    )
}

/// `{base}` of a `{base}/feeds/…` URL.
pub(super) fn topic_base(topic: &str) -> Option<&str> {
    topic.find("/feeds/").map(|i| &topic[..i])
}

/// A feed URL of this server, parsed.
pub(super) struct TopicFeed<'t> {
    pub(super) base: &'t str,
    pub(super) request: FeedRequest,
    /// `None` for the web page (`/feeds/x`), which is no feed.
    pub(super) format: Option<crate::render::Format>,
    /// The URL as the feed's self link spells it.
    pub(super) canonical: String,
    /// The topic set it was worked out with: what it hides, and the cache
    /// key its render is kept under, come from this one set.
    pub(super) topics: std::sync::Arc<crate::classify::Classifier>,
}

/// Parses `topic` as one of this server's feed URLs, the way a request
/// for it is parsed (`feeds::feed`).
pub(super) fn feed_of<'t>(topic: &'t str, state: &AppState) -> Result<TopicFeed<'t>, HttpError> {
    let not_ours = || bad("hub.topic", "not a feed URL of this server");
    let base = topic_base(topic).ok_or_else(not_ours)?;
    let rest = &topic[base.len() + "/feeds/".len()..];
    let (name, q) = rest
        .split_once('?')
        .map_or((rest, None), |(p, q)| (p, Some(q)));
    let (slug, format) = super::feeds::split_name(name)
        .map_err(|_| bad("hub.topic", "not a feed format: use .rss, .atom or .json"))?;
    let topics = state.topics.get();
    if slug != "all" && topics.topic(slug).is_none() {
        return Err(bad(
            "hub.topic",
            &format!("no topic `{slug}` on this server"),
        ));
    }
    let known = |t: &str| topics.topic(t).is_some();
    let mut request = query::parse(
        slug,
        format.unwrap_or(crate::render::Format::Atom),
        q,
        &known,
    )
    .map_err(|e| bad("hub.topic", &e.to_string()))?;
    request.hide_unnamed(topics.private_slugs());
    let canonical = format!(
        "{base}{}",
        request.location(format, request.query.cursor.as_deref())
    );
    Ok(TopicFeed {
        base,
        request,
        format,
        canonical,
        topics,
    })
}
