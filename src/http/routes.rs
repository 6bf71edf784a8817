//! The route table, the handlers, and the one place errors become HTTP
//! statuses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::header::{
    ACCEPT, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
    ETAG, HOST, LAST_MODIFIED, RETRY_AFTER, USER_AGENT, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use subtle::ConstantTimeEq;

use super::AppState;
use super::cache::{self, Entry};
use super::conditional;
use super::metrics::RouteLabels;
use super::query::{self, FeedRequest, QueryError};
use crate::classify::Classifier;
use crate::ingest::Input;
use crate::render::{self, FeedInfo, Format, Rendered};
use crate::store::{StoreError, Story};

pub type Resp = Response<Full<Bytes>>;

/// Everything a request can fail with, and its status.
#[derive(Debug)]
pub enum HttpError {
    NotFound(String),
    BadRequest(String),
    MethodNotAllowed(&'static str),
    Unauthorized,
    Forbidden(String),
    TooLarge(usize),
    UnsupportedMedia(String),
    TooManyRequests(Duration),
    Internal(String),
}

impl From<QueryError> for HttpError {
    fn from(e: QueryError) -> Self {
        HttpError::BadRequest(e.to_string())
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::BadCursor(why) => {
                HttpError::BadRequest(format!("parameter `cursor`: {why}"))
            }
            StoreError::BadQuery(why) => HttpError::BadRequest(why),
            other => HttpError::Internal(other.to_string()),
        }
    }
}

impl HttpError {
    fn status(&self) -> StatusCode {
        match self {
            HttpError::NotFound(_) => StatusCode::NOT_FOUND,
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            HttpError::Unauthorized => StatusCode::UNAUTHORIZED,
            HttpError::Forbidden(_) => StatusCode::FORBIDDEN,
            HttpError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HttpError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The one place an error becomes a response: a status and a body
    /// that says what was wrong and what to do.
    fn into_response(self) -> Resp {
        let status = self.status();
        let body = match &self {
            HttpError::NotFound(m)
            | HttpError::BadRequest(m)
            | HttpError::Forbidden(m)
            | HttpError::UnsupportedMedia(m) => m.clone(),
            HttpError::MethodNotAllowed(allow) => {
                format!("method not allowed here; allowed: {allow}")
            }
            HttpError::Unauthorized => {
                "missing or wrong bearer token: send `Authorization: Bearer <token>`".into()
            }
            HttpError::TooLarge(max) => format!("request body larger than {max} bytes"),
            HttpError::TooManyRequests(after) => format!(
                "this feed was polled too often from your address; try again in {} s (its Cache-Control max-age says how often to poll)",
                after.as_secs()
            ),
            HttpError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                "internal error; the server log has details".into()
            }
        };
        let mut resp = Response::new(Full::new(Bytes::from(format!(
            "{} {}\n{body}\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ))));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match self {
            HttpError::MethodNotAllowed(allow) => {
                h.insert(ALLOW, HeaderValue::from_static(allow));
            }
            HttpError::Unauthorized => {
                h.insert(
                    http::header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer"),
                );
            }
            HttpError::TooManyRequests(after) => {
                if let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string()) {
                    h.insert(RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        resp
    }
}

/// Routes a request; never fails (errors are responses).
pub async fn handle(req: Request<Incoming>, peer: SocketAddr, state: Arc<AppState>) -> Resp {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let read = matches!(method, Method::GET | Method::HEAD);
    let (route, result) = match (segments.as_slice(), read) {
        ([""], true) => ("index", index(&req, &state).await),
        (["feeds.opml"], true) => ("opml", opml(&req, &state)),
        (["feeds", name], true) => ("feed", feed(&req, name, peer, &state).await),
        (["articles", id], true) => ("article", article(id, &state).await),
        (["healthz"], true) => ("healthz", Ok(text(StatusCode::OK, "ok\n"))),
        (["metrics"], true) => ("metrics", Ok(metrics(&state))),
        (["api", "articles"], _) if method == Method::POST => ("ingest", ingest(req, &state).await),
        (["api", "articles"], _) => ("ingest", Err(HttpError::MethodNotAllowed("POST"))),
        (
            [""] | ["feeds.opml"] | ["feeds", _] | ["articles", _] | ["healthz"] | ["metrics"],
            false,
        ) => ("other", Err(HttpError::MethodNotAllowed("GET, HEAD"))),
        _ => (
            "other",
            Err(HttpError::NotFound(format!(
                "no such page: {path}; start at / for the list of feeds"
            ))),
        ),
    };
    let resp = result.unwrap_or_else(HttpError::into_response);
    state
        .metrics
        .requests
        .get_or_create(&RouteLabels {
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    tracing::info!(%method, %path, status = resp.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    resp
}

fn text(status: StatusCode, body: &'static str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn html(body: Vec<u8>, cache_seconds: u32) -> Resp {
    page(body, "text/html; charset=utf-8", cache_seconds)
}

/// A page for people (or OPML for their readers): cacheable, with an ETag.
fn page(body: Vec<u8>, content_type: &'static str, cache_seconds: u32) -> Resp {
    let rendered = Rendered::new(body, content_type, None);
    let mut r = Response::new(Full::new(Bytes::from(rendered.body)));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={cache_seconds}")) {
        h.insert(CACHE_CONTROL, v);
    }
    if let Ok(v) = HeaderValue::from_str(&rendered.etag) {
        h.insert(ETAG, v);
    }
    r
}

/// The absolute base URL for links: configured, or from `Host`.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(b) = &state.config.base_url {
        return b.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// Runs blocking work (SQLite, rendering, compressing) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HttpError::Internal(format!("worker failed: {e}")))
}

async fn index(req: &Request<Incoming>, state: &Arc<AppState>) -> Result<Resp, HttpError> {
    let base = base_url(state, req.headers());
    let store = state.store.clone();
    let (stats, total) =
        blocking(move || Ok::<_, StoreError>((store.topic_stats()?, store.story_count()?)))
            .await??;
    let topics = state.topics.get();
    let rows: Vec<render::html::TopicRow<'_>> = topics
        .topics()
        .iter()
        .map(|t| {
            let s = stats.iter().find(|s| s.slug == t.slug);
            render::html::TopicRow {
                slug: &t.slug,
                title: &t.title,
                description: &t.description,
                count: s.map_or(0, |s| s.count),
                last_changed: s.and_then(|s| s.last_changed),
            }
        })
        .collect();
    let sources = state.sources.snapshot();
    let source_rows: Vec<render::html::SourceRow<'_>> = sources
        .iter()
        .map(|s| render::html::SourceRow {
            name: &s.name,
            url: &s.url,
            healthy: s.healthy,
            last_error: s.last_error.as_deref(),
            last_success: s.last_success,
            next_poll: s.next_poll,
        })
        .collect();
    Ok(html(
        render::html::index(&base, total, &rows, &source_rows),
        60,
    ))
}

fn opml(req: &Request<Incoming>, state: &Arc<AppState>) -> Result<Resp, HttpError> {
    let base = base_url(state, req.headers());
    let topics = state.topics.get();
    let outlines: Vec<render::opml::Outline<'_>> = topics
        .topics()
        .iter()
        .map(|t| render::opml::Outline {
            title: &t.title,
            description: &t.description,
            xml_url: format!("{base}/feeds/{}.rss", t.slug),
            html_url: format!("{base}/feeds/{}", t.slug),
        })
        .collect();
    let body = render::opml::render("topicfeed topics", state.started, &outlines);
    Ok(page(body, "text/x-opml; charset=utf-8", 3600))
}

async fn article(id: &str, state: &Arc<AppState>) -> Result<Resp, HttpError> {
    let store = state.store.clone();
    let key = id.to_owned();
    match blocking(move || store.get(&key)).await?? {
        Some(story) => Ok(html(render::html::article_page(&story.article), 3600)),
        None => Err(HttpError::NotFound(format!("no article with id {id}"))),
    }
}

fn metrics(state: &AppState) -> Resp {
    state.metrics.record_sources(&state.sources.snapshot());
    let mut r = Response::new(Full::new(Bytes::from(state.metrics.encode())));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

fn unknown_topic(slug: &str, topics: &Classifier) -> HttpError {
    let list: Vec<String> = std::iter::once("all".to_owned())
        .chain(topics.topics().iter().map(|t| t.slug.clone()))
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

/// How often this feed's stories change, as a TTL in minutes: the median
/// gap between its newest stories, within the configured bounds.
fn ttl_minutes(stories: &[Story], floor: u32, ceiling: u32) -> u32 {
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

async fn feed(
    req: &Request<Incoming>,
    name: &str,
    peer: SocketAddr,
    state: &Arc<AppState>,
) -> Result<Resp, HttpError> {
    let topics = state.topics.get();
    let (slug, ext) = name.rsplit_once('.').unwrap_or((name, "html"));
    let format = match ext {
        "html" => None,
        other => Some(Format::from_ext(other).ok_or_else(|| {
            HttpError::NotFound(format!("no feed format `.{other}`; use .rss, .atom or .json (or no extension for a web page)"))
        })?),
    };
    if slug != "all" && topics.topic(slug).is_none() {
        return Err(unknown_topic(slug, &topics));
    }
    let known = |t: &str| topics.topic(t).is_some();
    let browser = format.is_none() || wants_html(req.headers());
    let fr = query::parse(
        slug,
        format.unwrap_or(Format::Atom),
        req.uri().query(),
        &known,
    )?;
    let base = base_url(state, req.headers());
    let key = format!("{base}|{}", fr.cache_key());

    // Polling limit, per client and feed, against the feed's own max-age.
    let ttl_hint = state
        .cache
        .get(&key, 0)
        .map_or(state.config.ttl_floor_minutes, |(e, _)| e.ttl_minutes);
    if state.config.poll_burst > 0
        && let Err(after) = state.limiter.check(
            peer.ip(),
            &key,
            Duration::from_secs(u64::from(ttl_hint) * 60),
            Instant::now(),
        )
    {
        state.metrics.rate_limited.inc();
        return Err(HttpError::TooManyRequests(after));
    }
    if let Some(ua) = req.headers().get(USER_AGENT).and_then(|u| u.to_str().ok()) {
        state
            .metrics
            .record_subscribers(&fr.path_and_query(fr.format, None), ua);
    }

    if browser {
        // A person reading the feed: one query, rendered as a page; the
        // feed bytes for readers are not needed.
        let query = fr.query.clone();
        let store = state.store.clone();
        let page = blocking(move || store.query(&query)).await??;
        let feed_url = format!("{base}{}", fr.path_and_query(Format::Atom, None));
        let info = feed_info(
            state,
            &fr,
            &base,
            page.next_cursor.as_deref(),
            None,
            &topics,
        );
        let ttl = ttl_minutes(
            &page.stories,
            state.config.ttl_floor_minutes,
            state.config.ttl_ceiling_minutes,
        );
        let mut r = html(
            render::html::feed_page(&info, &feed_url, &page.stories),
            ttl * 60,
        );
        r.headers_mut()
            .insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
        return Ok(r);
    }
    let entry = load_feed(state, &fr, &key, &base).await?;
    let rendered = &entry.rendered;
    let not_modified =
        conditional::not_modified(req.headers(), &rendered.etag, rendered.last_modified);
    state.metrics.record_feed(not_modified);
    let coding = conditional::negotiate(req.headers());
    let mut resp = if not_modified {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let body = blocking({
            let entry = entry.clone();
            move || entry.body(coding)
        })
        .await?;
        let mut r = Response::new(Full::new(body));
        let h = r.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(rendered.content_type),
        );
        if let Some(c) = coding.header() {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static(c));
        }
        r
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&conditional::coded_etag(&rendered.etag, coding)) {
        h.insert(ETAG, v);
    }
    if let Some(lm) = rendered.last_modified
        && let Ok(v) = HeaderValue::from_str(&conditional::http_date(lm))
    {
        h.insert(LAST_MODIFIED, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={}", entry.ttl_minutes * 60)) {
        h.insert(CACHE_CONTROL, v);
    }
    h.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    if req.method() == Method::HEAD && !not_modified {
        // hyper sends no body for HEAD but would then count it as empty.
        if let Ok(v) = HeaderValue::from_str(&entry.body(coding).len().to_string()) {
            h.insert(CONTENT_LENGTH, v);
        }
    }
    Ok(resp)
}

fn feed_info(
    state: &AppState,
    fr: &FeedRequest,
    base: &str,
    next: Option<&str>,
    previous: Option<Option<&str>>,
    topics: &Classifier,
) -> FeedInfo {
    let (title, description) = match topics.topic(&fr.topic) {
        Some(t) => (t.title.clone(), t.description.clone()),
        None => (
            "All stories".to_owned(),
            "Every story from every source".to_owned(),
        ),
    };
    let filtered = !fr.canonical.is_empty();
    FeedInfo {
        title: if filtered {
            format!("topicfeed: {title} ({})", fr.canonical)
        } else {
            format!("topicfeed: {title}")
        },
        description,
        id: format!("{base}{}", fr.path_and_query(fr.format, None)),
        self_url: format!(
            "{base}{}",
            fr.path_and_query(fr.format, fr.query.cursor.as_deref())
        ),
        home_url: format!("{base}{}", fr.path_and_query(None, None)),
        first_url: Some(format!("{base}{}", fr.path_and_query(fr.format, None))),
        next_url: next.map(|c| format!("{base}{}", fr.path_and_query(fr.format, Some(c)))),
        previous_url: previous.map(|c| format!("{base}{}", fr.path_and_query(fr.format, c))),
        ttl_minutes: state.config.ttl_floor_minutes,
        updated: state.started,
        base_url: base.to_owned(),
    }
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
    // Only now, when the page is rendered anew: walking for the previous
    // page costs several queries.
    let (store, query) = (state.store.clone(), fr.query.clone());
    let previous = blocking(move || previous_cursor(store.as_ref(), &query)).await??;
    let topics = state.topics.get();
    let mut info = feed_info(
        state,
        fr,
        base,
        page.next_cursor.as_deref(),
        previous.as_ref().map(|p| p.as_deref()),
        &topics,
    );
    let ttl = ttl_minutes(
        &page.stories,
        state.config.ttl_floor_minutes,
        state.config.ttl_ceiling_minutes,
    );
    info.ttl_minutes = ttl;
    let format = fr.format;
    let entry = blocking(move || {
        let rendered = render::render(format, &info, &page.stories);
        Arc::new(Entry::new(rendered, signature, ttl))
    })
    .await?;
    state.cache.put(key.to_owned(), generation, entry.clone());
    Ok(entry)
}

/// How far back a `previous` link is looked for, in pages.
const PREVIOUS_SEARCH_PAGES: usize = 20;

/// The cursor of the page before `query`'s (`Some(None)`: the first page),
/// for the RFC 5005 `previous` link. Cursors only lead forward, so the
/// pages are walked from the first until one leads here; each step is a
/// cheap keyset query, and this runs only when a page is rendered. Deeper
/// than [`PREVIOUS_SEARCH_PAGES`] the link is left out.
fn previous_cursor(
    store: &dyn crate::store::Store,
    query: &crate::store::Query,
) -> Result<Option<Option<String>>, StoreError> {
    let Some(target) = &query.cursor else {
        return Ok(None);
    };
    let mut q = query.clone();
    q.cursor = None;
    for _ in 0..PREVIOUS_SEARCH_PAGES {
        let page = store.query(&q)?;
        match page.next_cursor {
            Some(next) if &next == target => return Ok(Some(q.cursor)),
            Some(next) => q.cursor = Some(next),
            None => break,
        }
    }
    Ok(None)
}

/// `POST /api/articles`: one article as JSON, or a raw scrape, HTML page or
/// Markdown document.
async fn ingest(req: Request<Incoming>, state: &Arc<AppState>) -> Result<Resp, HttpError> {
    let Some(token) = state.config.api_token.clone() else {
        return Err(HttpError::Forbidden(
            "the ingest API is off: start the server with --api-token (or TOPICFEED_API_TOKEN) to enable it".into(),
        ));
    };
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Constant time: the comparison must not tell how much of a guess was right.
    if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return Err(HttpError::Unauthorized);
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let name = match content_type.split(';').next().unwrap_or("").trim() {
        "application/json" => "article.json",
        "text/html" | "application/xhtml+xml" => "article.html",
        "text/markdown" => "article.md",
        "text/plain" | "" => "article.txt",
        other => {
            return Err(HttpError::UnsupportedMedia(format!(
                "Content-Type `{other}` is not an article format; send application/json, text/plain, text/html or text/markdown"
            )));
        }
    };
    let max = state.config.max_body_bytes;
    if let Some(len) = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > max
    {
        return Err(HttpError::TooLarge(max));
    }
    let body = Limited::new(req.into_body(), max)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                HttpError::TooLarge(max)
            } else {
                HttpError::BadRequest(format!("could not read the request body: {e}"))
            }
        })?
        .to_bytes();
    let store = state.store.clone();
    let classifier = state.topics.get();
    let result = blocking(move || {
        crate::pipeline::ingest_bytes(
            store.as_ref(),
            &classifier,
            Input {
                bytes: &body,
                name: Some(name),
                url: None,
            },
            Utc::now(),
        )
    })
    .await?;
    match result {
        Ok((outcome, article)) => {
            state
                .metrics
                .ingested
                .get_or_create(&super::metrics::OutcomeLabels {
                    outcome: outcome.as_str().to_owned(),
                })
                .inc();
            let story_id = match &outcome {
                crate::store::Outcome::Duplicate { story_id } => story_id.clone(),
                _ => article.id.clone(),
            };
            let body = serde_json::json!({
                "id": article.id,
                "story_id": story_id,
                "outcome": outcome.as_str(),
                "title": article.title,
                "topics": article.topics,
            });
            let status = if matches!(outcome, crate::store::Outcome::New) {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
            *r.status_mut() = status;
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Ok(r)
        }
        Err(crate::pipeline::PipelineError::Ingest(e)) => {
            state
                .metrics
                .ingested
                .get_or_create(&super::metrics::OutcomeLabels {
                    outcome: "failed".into(),
                })
                .inc();
            Err(HttpError::BadRequest(format!("not an article: {e}")))
        }
        Err(crate::pipeline::PipelineError::Store(e)) => Err(e.into()),
    }
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
