//! `POST /api/articles`: the ingest API, for pushing an article instead
//! of waiting for a poll.
//!
//! It writes to the store, so it is off unless a bearer token is
//! configured, compares that token in constant time, and reads no more
//! body than the configured limit before giving up.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use subtle::ConstantTimeEq;

use super::error::HttpError;
use super::response::Resp;
use super::{AppState, blocking};
use crate::ingest::Input;

/// `POST /api/articles`: one article as JSON, or a raw scrape, HTML page or
/// Markdown document.
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
    let body = read_body(req, state.config.max_body_bytes).await?;
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
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Constant time: the comparison must not tell how much of a guess was right.
    if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return Err(HttpError::Unauthorized);
    }
    Ok(())
}

/// The request body, at most `max` bytes. A declared length over the limit
/// is refused before reading; an undeclared one is cut off at the limit.
async fn read_body(req: Request<Incoming>, max: usize) -> Result<Bytes, HttpError> {
    if let Some(len) = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        && len > max
    {
        return Err(HttpError::TooLarge(max));
    }
    Ok(Limited::new(req.into_body(), max)
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
        .to_bytes())
}
