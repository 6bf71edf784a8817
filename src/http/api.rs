//! `POST /api/articles`: the ingest API, for pushing an article instead
//! of waiting for a poll.
//!
//! It writes to the store, so it is off unless a bearer token is
//! configured, compares that token in constant time, and reads no more
//! body than the configured limit before giving up.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use subtle::ConstantTimeEq;

use super::error::HttpError;
use super::response::Resp;
use super::{AppState, blocking};
use crate::ingest::{Format, Input};
use crate::model::{Article, Outcome};
use crate::pipeline::{self, PipelineError};

/// `POST /api/articles`: one article (JSON, a raw scrape, an HTML page, a
/// Markdown document) or a whole feed (RSS, Atom, JSON Feed), whose
/// entries are all stored. The `Content-Type` is a format hint and its
/// `charset` is honoured; the content decides where it is unambiguous.
pub(super) async fn ingest(
    req: Request<Incoming>,
    state: &Arc<AppState>,
) -> Result<Resp, HttpError> {
    authorize(&req, state)?;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mime = content_type.split(';').next().unwrap_or("").trim();
    let hint = Format::from_content_type(mime);
    if hint.is_none() && !mime.is_empty() {
        return Err(HttpError::UnsupportedMedia(format!(
            "Content-Type `{mime}` is not an article or feed format; send application/json, text/plain, text/html, text/markdown, or an RSS/Atom/JSON feed type"
        )));
    }
    let encoding = req
        .headers()
        .get(CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    let max = state.config.max_body_bytes;
    let body = read_body(req, max, state.config.idle_timeout).await?;
    let body = match encoding.as_deref() {
        None | Some("" | "identity") => body,
        Some(coding) => {
            let coding = coding.to_owned();
            blocking(move || decode_body(&coding, &body, max)).await??
        }
    };
    let store = state.store.clone();
    let classifier = state.topics.get();
    let ingested = blocking(move || {
        let charset = crate::model::content_type_charset(&content_type);
        let input = Input::new(&body).with_hint(hint).with_charset(charset);
        pipeline::ingest(
            store.as_ref(),
            &classifier,
            input,
            "request body",
            Utc::now(),
        )
    })
    .await?;
    let ingested = match ingested {
        Ok(i) => i,
        Err(PipelineError::Ingest(e)) => {
            count(state, "failed");
            return Err(HttpError::BadRequest(format!("not an article: {e}")));
        }
        Err(PipelineError::Store(e)) => return Err(e.into()),
    };
    if ingested.stored.is_empty() {
        count(state, "failed");
        let first = ingested.summary.failed.first();
        return Err(match first {
            Some(f) if f.disk_full() => HttpError::InsufficientStorage(f.reason.clone()),
            Some(f) if f.is_store() => HttpError::Internal(f.reason.clone()),
            Some(f) => HttpError::BadRequest(format!("nothing stored: {}", f.reason)),
            None => HttpError::BadRequest("nothing stored: the feed has no entries".into()),
        });
    }
    for (_, outcome) in &ingested.stored {
        count(state, outcome.as_str());
    }
    Ok(response(&ingested))
}

fn count(state: &AppState, outcome: &str) {
    state
        .metrics
        .ingested
        .get_or_create(&super::metrics::OutcomeLabels {
            outcome: outcome.to_owned(),
        })
        .inc();
}

/// One article: its id, story, outcome, title and topics (201 when new).
/// A feed: the summary line's counts, the failures, and that per article.
fn response(ingested: &pipeline::Ingested) -> Resp {
    let article_json = |(a, o): &(Article, Outcome)| {
        let story_id = match o {
            Outcome::Duplicate { story_id } => story_id.clone(),
            _ => a.id.clone(),
        };
        let mut json = serde_json::json!({
            "id": a.id,
            "story_id": story_id,
            "outcome": o.as_str(),
            "title": a.title,
            "topics": a.topics,
        });
        if !a.notes.is_empty() {
            json["notes"] = serde_json::json!(a.notes);
        }
        json
    };
    let body = match (&ingested.feed, ingested.stored.as_slice()) {
        (None, [one]) => article_json(one),
        _ => {
            let s = &ingested.summary;
            let failed: Vec<_> = s
                .failed
                .iter()
                .map(|f| serde_json::json!({"entry": f.subject, "reason": f.reason}))
                .collect();
            serde_json::json!({
                "feed": ingested.feed.map(|f| f.kind),
                "new": s.new,
                "updated": s.updated,
                "unchanged": s.unchanged,
                "duplicate": s.duplicate,
                "failed": failed,
                "articles": ingested.stored.iter().map(article_json).collect::<Vec<_>>(),
            })
        }
    };
    let status = if ingested.summary.new > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Lets the request through only with the configured bearer token; with
/// none configured, the API is off.
fn authorize(req: &Request<Incoming>, state: &AppState) -> Result<(), HttpError> {
    let Some(token) = state.config.api_token.as_deref() else {
        return Err(HttpError::Forbidden(
            "the ingest API is off: start the server with --api-token (or TOPICFEED_API_TOKEN) to enable it".into(),
        ));
    };
    let given = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // RFC 9110 11.1: the scheme name is case-insensitive.
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim());
    // Constant time: the comparison must not tell how much of a guess was right.
    if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return Err(HttpError::Unauthorized);
    }
    Ok(())
}

/// A `Content-Encoding`d body, decoded to at most `max` bytes: the limit
/// holds for what the body expands to, so a small bomb is refused as
/// too large, not inflated.
fn decode_body(coding: &str, body: &[u8], max: usize) -> Result<Bytes, HttpError> {
    use std::io::Read;
    let reader: Box<dyn Read + '_> = match coding {
        "gzip" | "x-gzip" => Box::new(flate2::read::GzDecoder::new(body)),
        "deflate" => Box::new(flate2::read::ZlibDecoder::new(body)),
        "br" => Box::new(brotli::Decompressor::new(body, 4096)),
        "zstd" => Box::new(
            zstd::stream::read::Decoder::new(body)
                .map_err(|e| HttpError::BadRequest(format!("Content-Encoding zstd: {e}")))?,
        ),
        other => {
            return Err(HttpError::UnsupportedMedia(format!(
                "Content-Encoding `{other}` is not supported; send the body as is, or gzip, deflate, br or zstd"
            )));
        }
    };
    let mut out = Vec::new();
    // One byte past the limit tells "too large" from "exactly the limit".
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            HttpError::BadRequest(format!(
                "the body is not valid {coding} (Content-Encoding): {e}"
            ))
        })?;
    if out.len() > max {
        return Err(HttpError::TooLarge(max));
    }
    Ok(Bytes::from(out))
}

/// The request body, at most `max` bytes. A declared length over the limit
/// is refused before reading; an undeclared one is cut off at the limit.
/// `limit` bounds the whole read (not each chunk): a body that has not
/// arrived by then is a 408, and its connection's slot is not held for it.
pub(super) async fn read_body(
    req: Request<Incoming>,
    max: usize,
    limit: std::time::Duration,
) -> Result<Bytes, HttpError> {
    if let Some(len) = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > max
    {
        return Err(HttpError::TooLarge(max));
    }
    let collected = tokio::time::timeout(limit, Limited::new(req.into_body(), max).collect())
        .await
        .map_err(|_| HttpError::RequestTimeout(limit))?;
    Ok(collected
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                HttpError::TooLarge(max)
            } else {
                HttpError::BadRequest(format!("could not read the request body: {e}"))
            }
        })?
        .to_bytes())
}
