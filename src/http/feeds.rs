//! Feed serving: `/feeds/{topic}[.rss|.atom|.json]` for feed readers, and
//! the same stories as a web page for people.
//!
//! Readers poll, so a repeat poll must cost almost nothing: rendered feeds
//! are cached and re-rendered only when their item set changed, a reader
//! whose copy is current gets a 304, and a reader polling far more often
//! than the feed's own max-age is told to come back later. The max-age
//! itself follows how often the feed's stories change.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_LENGTH, HOST, USER_AGENT, VARY};
use http::{HeaderMap, HeaderValue, Method, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;

use super::cache::{self, Entry};
use super::conditional::{self, Coding};
use super::error::HttpError;
use super::private::Access;
use super::query::{self, FeedRequest};
use super::resolved;
use super::response::{Resp, html};
use super::{AppState, base_url, blocking};
use crate::classify::Classifier;
use crate::render::{self, FeedInfo, Format};
use crate::store::{Page, Story};

/// `GET /feeds/{name}`: the feed, or its web page for a browser.
pub(super) async fn feed(
    req: &Request<Incoming>,
    name: &str,
    peer: SocketAddr,
    state: &Arc<AppState>,
) -> Result<Resp, HttpError> {
    let (slug, format) = split_name(name)?;
    let browser = format.is_none() || wants_html(req.headers());
    let pq = req.uri().path_and_query().map_or("", |pq| pq.as_str());
    let host = req.headers().get(HOST).map_or(&[][..], |h| h.as_bytes());
    if !browser && let Some(r) = resolved::get(pq, host, state.topics.generation()) {
        // A public feed at its canonical URL, seen before on this worker
        // under the topic set in force.
        return serve_feed(req, peer, state, &r).await;
    }
    let topics = state.topics.get();
    if slug != "all" && topics.topic(slug).is_none() {
        return Err(unknown_topic(slug, &topics));
    }
    let known = |t: &str| topics.topic(t).is_some();
    let mut fr = query::parse(
        slug,
        format.unwrap_or(Format::Atom),
        req.uri().query(),
        &known,
    )?;
    fr.hide_unnamed(topics.private_slugs());
    let access = super::private::feed(
        state.config.read_key.as_ref(),
        &topics,
        &fr,
        req.headers(),
        Some(super::key_client(state, peer, req.headers())),
    )?;
    if access == Access::Public {
        // A key a public feed does not need is not its URL's: the request
        // is sent to the URL without it, and no copy is cached per key.
        fr.key = None;
    }
    let base = base_url(state, req.headers());
    let location = fr.location(format, fr.query.cursor.as_deref());
    if pq != location {
        // One URL per variant: the self link then equals the document's
        // location, and shared caches hold one copy, not one per spelling.
        let mut moved = super::response::moved(&format!("{base}{location}"));
        super::private::mark(&mut moved, access);
        return Ok(moved);
    }
    let key = cache_key(&base, &fr, format, &location, &topics);
    // One series per canonical topic feed: filter variants are as many as
    // clients care to invent, and each would be a series kept forever.
    let series = (fr.canonical.is_empty() && access == Access::Public)
        .then(|| fr.path_and_query(fr.format, None));
    let r = resolved::Resolved::new(fr, base, key, series, pq, host, topics.generation());
    let resp = if browser {
        poll_checks(req, peer, state, &r)?;
        browser_view(state, &r.fr, &r.base, &topics).await
    } else {
        serve_feed(req, peer, state, &r).await
    };
    // A private feed's key is checked on every request: never remembered.
    if !browser && access == Access::Public {
        resolved::put(r);
    }
    let mut resp = resp?;
    super::private::mark(&mut resp, access);
    Ok(resp)
}

/// The poll limit, and the subscriber count a reader's User-Agent reports.
fn poll_checks(
    req: &Request<Incoming>,
    peer: SocketAddr,
    state: &AppState,
    r: &resolved::Resolved,
) -> Result<(), HttpError> {
    limit_polls(state, peer, req.headers(), r)?;
    if let Some(series) = &r.series
        && let Some(ua) = req.headers().get(USER_AGENT).and_then(|u| u.to_str().ok())
    {
        state.metrics.record_subscribers(series, ua);
    }
    Ok(())
}

/// A feed worked out (`r`): the poll checks, then the cached feed.
async fn serve_feed(
    req: &Request<Incoming>,
    peer: SocketAddr,
    state: &Arc<AppState>,
    r: &resolved::Resolved,
) -> Result<Resp, HttpError> {
    poll_checks(req, peer, state, r)?;
    let generation = state.store.generation();
    let coding = conditional::negotiate(req.headers());
    if let Some(headers) = r.not_modified(generation, req.headers(), coding) {
        // The reader's copy is the version this worker last served, and
        // the store has not changed since: no need to look in the cache.
        state.metrics.cache_hits.inc();
        state.metrics.record_feed(true);
        return Ok(super::response::not_modified(headers));
    }
    let entry = load_feed(state, &r.fr, &r.key, &r.base).await?;
    r.remember(generation, &entry);
    feed_response(req, state, entry, coding, r, generation).await
}

/// `us.rss` → (`us`, RSS); no extension is the web page (`None`).
pub(super) fn split_name(name: &str) -> Result<(&str, Option<Format>), HttpError> {
    let (slug, ext) = name.rsplit_once('.').unwrap_or((name, "html"));
    let format = match ext {
        "html" => None,
        other => Some(Format::from_ext(other).ok_or_else(|| {
            HttpError::NotFound(format!("no feed format `.{other}`; use .rss, .atom or .json (or no extension for a web page)"))
        })?),
    };
    Ok((slug, format))
}

fn unknown_topic(slug: &str, topics: &Classifier) -> HttpError {
    let list: Vec<String> = std::iter::once("all".to_owned())
        .chain(topics.public_topics().map(|t| t.slug.clone()))
        .collect();
    HttpError::NotFound(format!(
        "no topic `{slug}`. Topics: {}.\nFeeds are at /feeds/<topic>.rss, .atom or .json",
        list.join(", ")
    ))
}

/// True when the client lists HTML before any feed type: a browser.
fn wants_html(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(ACCEPT).and_then(|a| a.to_str().ok()) else {
        return false;
    };
    let first_html = accept.find("text/html");
    let first_feed = ["xml", "rss", "atom", "json"]
        .iter()
        .filter_map(|t| accept.find(t))
        .min();
    match (first_html, first_feed) {
        (Some(h), Some(f)) => h < f,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The poll limit of this client for `r`'s topic (see `ratelimit`),
/// against the variant's own max-age (the floor until it has been
/// rendered once), as this worker last served it or else as cached.
fn limit_polls(
    state: &AppState,
    peer: SocketAddr,
    headers: &http::HeaderMap,
    r: &resolved::Resolved,
) -> Result<(), HttpError> {
    if state.config.poll_burst == 0 {
        return Ok(());
    }
    let client = super::ratelimit::client_ip(peer.ip(), headers, &state.config.trusted_proxies);
    if state.limiter.exempts(client) {
        return Ok(());
    }
    let ttl_hint = r
        .ttl_minutes()
        .or_else(|| state.cache.get(&r.key, 0).map(|(e, _)| e.ttl_minutes))
        .unwrap_or(state.config.ttl_floor_minutes);
    if let Err(after) = state.limiter.check(
        client,
        &r.fr.topic,
        Duration::from_secs(u64::from(ttl_hint) * 60),
        Instant::now(),
    ) {
        state.metrics.rate_limited.inc();
        return Err(HttpError::TooManyRequests(after));
    }
    Ok(())
}

/// A person reading the feed: one query, rendered as a page. Not in the
/// feed cache and without the `previous` walk: the feed bytes for readers
/// are not needed, and the page only links to older stories.
async fn browser_view(
    state: &Arc<AppState>,
    fr: &FeedRequest,
    base: &str,
    topics: &Classifier,
) -> Result<Resp, HttpError> {
    let query = fr.query.clone();
    let store = state.store.clone();
    let page = blocking(move || store.query(&query)).await??;
    let feed_url = format!("{base}{}", fr.path_and_query(Format::Atom, None));
    let info = feed_info(state, fr, base, page.next_cursor.as_deref(), None, topics);
    let ttl = feed_ttl(state, &page.stories);
    let mut r = html(
        render::html::feed_page(&info, &feed_url, &page.stories),
        ttl * 60,
    );
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    Ok(r)
}

/// The cached feed for `key`, re-checked against the store when it has
/// changed since, re-rendered only if its item set changed.
async fn load_feed(
    state: &Arc<AppState>,
    fr: &FeedRequest,
    key: &str,
    base: &str,
) -> Result<Arc<Entry>, HttpError> {
    let generation = state.store.generation();
    let cached = state.cache.get(key, generation);
    if let Some((entry, true)) = &cached {
        state.metrics.cache_hits.inc();
        return Ok(entry.clone());
    }
    let store = state.store.clone();
    let query = fr.query.clone();
    let page = blocking(move || store.query(&query)).await??;
    let signature = cache::signature(&page.stories, page.next_cursor.as_deref());
    if let Some((entry, false)) = cached
        && entry.signature == signature
    {
        state.metrics.cache_hits.inc();
        state.cache.put(key.to_owned(), generation, entry.clone());
        return Ok(entry);
    }
    state.metrics.cache_misses.inc();
    let entry = render_feed(state, fr, base, page, signature).await?;
    state.cache.put(key.to_owned(), generation, entry.clone());
    Ok(entry)
}

/// Renders `page` as a cache entry, with its `previous` link and TTL.
async fn render_feed(
    state: &Arc<AppState>,
    fr: &FeedRequest,
    base: &str,
    page: Page,
    signature: u64,
) -> Result<Arc<Entry>, HttpError> {
    // Only here, when the page is rendered anew: walking for the previous
    // page costs several queries.
    let (store, query) = (state.store.clone(), fr.query.clone());
    let previous = blocking(move || store.previous_cursor(&query)).await??;
    let topics = state.topics.get();
    let mut info = feed_info(
        state,
        fr,
        base,
        page.next_cursor.as_deref(),
        previous.as_ref().map(|p| p.as_deref()),
        &topics,
    );
    let ttl = feed_ttl(state, &page.stories);
    info.ttl_minutes = ttl;
    let format = fr.format;
    blocking(move || {
        let rendered = render::render(format, &info, &page.stories);
        let entry = Entry::new(rendered, signature, ttl);
        Arc::new(match &info.hub_url {
            Some(hub) => entry.with_links(hub, &info.self_url),
            None => entry,
        })
    })
    .await
}

/// The cached feed as a response: 304 when the client's copy is current,
/// else the body in the negotiated coding; validators and max-age either
/// way, so a 304 refreshes the client's copy.
async fn feed_response(
    req: &Request<Incoming>,
    state: &AppState,
    entry: Arc<Entry>,
    coding: Coding,
    r: &resolved::Resolved,
    generation: u64,
) -> Result<Resp, HttpError> {
    let rendered = &entry.rendered;
    let is_current =
        conditional::not_modified(req.headers(), &rendered.etag, rendered.last_modified);
    state.metrics.record_feed(is_current);
    if is_current {
        return Ok(super::response::not_modified(
            entry.not_modified_headers(coding).clone(),
        ));
    }
    let body = feed_body(&entry, coding).await?;
    let len = body.len();
    let headers = r.ok_headers(generation, &entry, coding);
    let mut resp = Response::new(Full::new(body));
    *resp.headers_mut() = headers;
    if req.method() == Method::HEAD {
        // hyper sends no body for HEAD but would then count it as empty.
        resp.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    Ok(resp)
}

/// The feed in `coding`; compressing a new version is blocking work.
async fn feed_body(entry: &Arc<Entry>, coding: Coding) -> Result<Bytes, HttpError> {
    match entry.ready_body(coding) {
        Some(body) => Ok(body),
        None => {
            blocking({
                let entry = entry.clone();
                move || entry.body(coding)
            })
            .await
        }
    }
}

/// The feed-level metadata of `fr`'s feed as this server describes it.
fn feed_info(
    state: &AppState,
    fr: &FeedRequest,
    base: &str,
    next: Option<&str>,
    previous: Option<Option<&str>>,
    topics: &Classifier,
) -> FeedInfo {
    let mut info = describe(
        fr,
        base,
        next,
        previous,
        topics,
        state.config.ttl_floor_minutes,
        state.started,
    );
    if state.websub.is_some() {
        info.hub_url = Some(format!("{base}/websub"));
    }
    info
}

/// The feed a WebSub topic URL names, as polls of it get it (through the
/// same cache).
pub(super) async fn for_topic(state: &Arc<AppState>, topic: &str) -> Result<Arc<Entry>, HttpError> {
    let feed = super::websub::feed_of(topic, state)?;
    let fr = &feed.request;
    let location = fr.location(feed.format, fr.query.cursor.as_deref());
    let key = cache_key(feed.base, fr, feed.format, &location, &feed.topics);
    load_feed(state, fr, &key, feed.base).await
}

/// The render cache's key for `fr` at `location` under `base`, rendered
/// with the topic set `topics` (a reload changes titles and what is
/// private). A feed's canonical location is its key's path already; only
/// the web page (no format) is keyed by its Atom variant.
fn cache_key(
    base: &str,
    fr: &FeedRequest,
    format: Option<Format>,
    location: &str,
    topics: &Classifier,
) -> String {
    let set = topics.generation();
    match format {
        Some(_) => format!("{set}|{base}|{}|{location}", fr.format.ext()),
        None => format!("{set}|{base}|{}", fr.cache_key()),
    }
}

/// The feed-level metadata of `fr`'s feed: title, links for paging (RFC
/// 5005) and the web page, all absolute under `base`; `updated` is what
/// an empty feed says. Shared with the static export, so that both give
/// the same bytes for the same variant.
pub(crate) fn describe(
    fr: &FeedRequest,
    base: &str,
    next: Option<&str>,
    previous: Option<Option<&str>>,
    topics: &Classifier,
    ttl_minutes: u32,
    updated: chrono::DateTime<chrono::Utc>,
) -> FeedInfo {
    let topic = topics.topic(&fr.topic);
    let (title, description) = match topic {
        Some(t) => (t.title.clone(), t.description.clone()),
        None => (
            "All stories".to_owned(),
            "Every story from every source".to_owned(),
        ),
    };
    let images = render::identity::Images::new(
        base,
        topic.and_then(|t| t.icon.as_deref()),
        topic.and_then(|t| t.logo.as_deref()),
    );
    let filtered = !fr.canonical.is_empty();
    FeedInfo {
        title: if filtered {
            format!("topicfeed: {title} ({})", fr.canonical)
        } else {
            format!("topicfeed: {title}")
        },
        description,
        id: format!("{base}{}", fr.path_and_query(fr.format, None)),
        // The feed's own pages carry its read key, if it was asked with
        // one; the web page, another document, does not.
        self_url: format!(
            "{base}{}",
            fr.location(fr.format, fr.query.cursor.as_deref())
        ),
        home_url: format!("{base}{}", fr.path_and_query(None, None)),
        first_url: Some(format!("{base}{}", fr.location(fr.format, None))),
        next_url: next.map(|c| format!("{base}{}", fr.location(fr.format, Some(c)))),
        previous_url: previous.map(|c| format!("{base}{}", fr.location(fr.format, c))),
        ttl_minutes,
        updated,
        base_url: base.to_owned(),
        images,
        hub_url: None,
        // A private topic is named only in a feed that asked for it, which
        // showed its key to get here: the ones it did not name are those
        // whose stories `hide_unnamed` left out.
        hidden_topics: fr.query.hidden.clone(),
        // Safe to write into the document: a feed asked for with a key is
        // cached under a URL that holds that key, and the web page is not
        // cached at all.
        read_key: fr.key.clone(),
    }
}

/// The TTL of a feed of `stories`, within the configured bounds.
fn feed_ttl(state: &AppState, stories: &[Story]) -> u32 {
    ttl_minutes(
        stories,
        state.config.ttl_floor_minutes,
        state.config.ttl_ceiling_minutes,
    )
}

/// How often this feed's stories change, as a TTL in minutes: the median
/// gap between its newest stories, within the configured bounds.
pub(crate) fn ttl_minutes(stories: &[Story], floor: u32, ceiling: u32) -> u32 {
    let mut times: Vec<i64> = stories
        .iter()
        .take(20)
        .map(|s| render::item_updated(s).timestamp())
        .collect();
    times.sort_unstable();
    let mut gaps: Vec<i64> = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|g| *g > 0)
        .collect();
    gaps.sort_unstable();
    let minutes = gaps.get(gaps.len() / 2).map_or(ceiling as i64, |g| g / 60);
    (minutes.clamp(floor as i64, ceiling.max(floor) as i64)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_html() {
        let mut h = HeaderMap::new();
        h.insert(
            ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        assert!(wants_html(&h));
        h.insert(
            ACCEPT,
            HeaderValue::from_static("application/rss+xml, application/xml;q=0.9, text/html;q=0.1"),
        );
        assert!(!wants_html(&h));
        assert!(!wants_html(&HeaderMap::new()));
    }
}
