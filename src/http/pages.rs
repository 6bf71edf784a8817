//! Everything served besides feeds and the ingest API: the index page,
//! the OPML list of feeds, article pages, and the operator's `healthz` and
//! `metrics`.
//!
//! Pages for people are cacheable with an ETag like feeds, but have no
//! conditional-GET path of their own: they are cheap to build and rarely
//! polled.

use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;

use super::error::HttpError;
use super::response::{Resp, html, page, text};
use super::{AppState, base_url, blocking};
use crate::render;
use crate::store::StoreError;

/// `GET /`: every topic with its story count, and the upstream sources' health.
pub(super) async fn index(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
) -> Result<Resp, HttpError> {
    let base = base_url(state, req.headers());
    let store = state.store.clone();
    let (stats, total) =
        blocking(move || Ok::<_, StoreError>((store.topic_stats()?, store.story_count()?)))
            .await??;
    let topics = state.topics.get();
    let rows = topic_rows(&topics, &stats);
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

/// `GET /feeds.opml`: every topic feed, for a reader to subscribe at once.
/// Dated by the store's last change, not by this process's start: every
/// instance on one store serves the same bytes (and the export too).
pub(super) async fn opml(
    req: &Request<Incoming>,
    state: &Arc<AppState>,
) -> Result<Resp, HttpError> {
    let base = base_url(state, req.headers());
    let store = state.store.clone();
    let stats = blocking(move || store.topic_stats()).await??;
    let created = last_change(&stats).unwrap_or(state.started);
    let body = opml_body(&state.topics.get(), &base, created);
    Ok(page(body, "text/x-opml; charset=utf-8", 3600))
}

/// When a story of any topic last changed.
pub fn last_change(stats: &[crate::store::TopicStats]) -> Option<chrono::DateTime<chrono::Utc>> {
    stats.iter().filter_map(|t| t.last_changed).max()
}

/// The index page's row for each public topic, with its count and last
/// change. A private topic (one with a read key) is not listed anywhere a
/// request without its key can read.
pub(crate) fn topic_rows<'a>(
    topics: &'a crate::classify::Classifier,
    stats: &[crate::store::TopicStats],
) -> Vec<render::html::TopicRow<'a>> {
    topics
        .public_topics()
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
        .collect()
}

/// The OPML list of every public topic feed under `base`.
pub(crate) fn opml_body(
    topics: &crate::classify::Classifier,
    base: &str,
    created: chrono::DateTime<chrono::Utc>,
) -> Vec<u8> {
    let outlines: Vec<render::opml::Outline<'_>> = topics
        .public_topics()
        .map(|t| render::opml::Outline {
            title: &t.title,
            description: &t.description,
            xml_url: format!("{base}/feeds/{}.rss", t.slug),
            html_url: format!("{base}/feeds/{}", t.slug),
        })
        .collect();
    render::opml::render("topicfeed topics", created, &outlines)
}

/// `GET /articles/{id}`: one story as a page.
pub(super) async fn article(
    id: &str,
    req: &Request<Incoming>,
    peer: std::net::SocketAddr,
    state: &Arc<AppState>,
) -> Result<Resp, HttpError> {
    let store = state.store.clone();
    let key = id.to_owned();
    let missing = || HttpError::NotFound(format!("no article with id {id}"));
    let story = blocking(move || store.get(&key))
        .await??
        .ok_or_else(missing)?;
    // A story only in private topics is in no feed a reader without their
    // key can read; to such a reader its page does not exist either.
    let topics = state.topics.get();
    let access = super::private::story(
        state.config.read_key.as_ref(),
        &topics,
        &story.article.topics,
        req.headers(),
        req.uri().query(),
        super::key_client(state, peer, req.headers()),
    )
    .ok_or_else(missing)?;
    let mut resp = html(render::html::article_page(&story), 3600);
    // No shared cache may hand a private story's page to someone else.
    super::private::mark(&mut resp, access);
    Ok(resp)
}

/// One of topicfeed's own pictures (feed icon, favicon, logo): fixed
/// bytes, cacheable for a week.
pub(super) fn picture(png: &'static [u8]) -> Resp {
    super::response::page(png.to_vec(), "image/png", 7 * 24 * 3600)
}

pub(super) fn healthz() -> Resp {
    text(StatusCode::OK, "ok\n")
}

pub(super) fn metrics(state: &AppState) -> Resp {
    // The poller keeps source health on its own board; it is copied into
    // the gauges only when someone scrapes them.
    state.metrics.record_sources(&state.sources.snapshot());
    state
        .metrics
        .record_cache(state.cache.weight(), state.cache.entries());
    let mut r = Response::new(Full::new(Bytes::from(state.metrics.encode())));
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}
