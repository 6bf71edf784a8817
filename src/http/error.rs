//! What a request can fail with, and the one place a failure becomes a
//! response.
//!
//! Handlers return `Err(HttpError)` and never build error responses
//! themselves, so every error has the same shape: its status, a plain-text
//! body that says what was wrong and what to do about it, `no-store`, and
//! the header its status calls for (`Allow`, `WWW-Authenticate`,
//! `Retry-After`).

use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

use super::query::QueryError;
use super::response::Resp;
use crate::store::StoreError;

/// Everything a request can fail with, and its status.
#[derive(Debug)]
pub enum HttpError {
    NotFound(String),
    BadRequest(String),
    MethodNotAllowed(&'static str),
    Unauthorized,
    /// 401 for a private feed or page: no read key, or a wrong one.
    NeedsReadKey(String),
    Forbidden(String),
    TooLarge(usize),
    UnsupportedMedia(String),
    TooManyRequests(Duration),
    /// 408: the request body had not all arrived after this long.
    RequestTimeout(Duration),
    /// 429: too many wrong read keys from this address (`keyguard`).
    KeyLockout(Duration),
    /// 429: too many WebSub hub requests from this address.
    HubRequests(Duration),
    /// 421: a `Host` this server does not answer for (links would follow it).
    Misdirected(String),
    /// 507: the store's disk is full; the write can be sent again later.
    InsufficientStorage(String),
    /// 503: busy for now; the request can be sent again shortly.
    Unavailable(String),
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
            full @ StoreError::Full { .. } => HttpError::InsufficientStorage(full.to_string()),
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
            HttpError::Unauthorized | HttpError::NeedsReadKey(_) => StatusCode::UNAUTHORIZED,
            HttpError::Forbidden(_) => StatusCode::FORBIDDEN,
            HttpError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HttpError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            HttpError::TooManyRequests(_)
            | HttpError::KeyLockout(_)
            | HttpError::HubRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
            HttpError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            HttpError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The one place an error becomes a response: a status and a body
    /// that says what was wrong and what to do.
    pub fn into_response(self) -> Resp {
        let status = self.status();
        let body = match &self {
            HttpError::NotFound(m)
            | HttpError::BadRequest(m)
            | HttpError::Forbidden(m)
            | HttpError::NeedsReadKey(m)
            | HttpError::Misdirected(m)
            | HttpError::InsufficientStorage(m)
            | HttpError::Unavailable(m)
            | HttpError::UnsupportedMedia(m) => m.clone(),
            HttpError::MethodNotAllowed(allow) => {
                format!("method not allowed here; allowed: {allow}")
            }
            HttpError::Unauthorized => {
                "missing or wrong bearer token: send `Authorization: Bearer <token>`".into()
            }
            HttpError::TooLarge(max) => format!("request body larger than {max} bytes"),
            HttpError::RequestTimeout(stall) => format!(
                "the request body was not complete after {} s (serve --idle-timeout)",
                stall.as_secs()
            ),
            HttpError::KeyLockout(after) => format!(
                "too many wrong read keys from your address; keys are not checked for it for another {} s",
                after.as_secs().max(1)
            ),
            HttpError::HubRequests(after) => format!(
                "too many WebSub requests from your address (at most {} a minute); try again in {} s",
                crate::http::websub::REQUESTS_PER_MINUTE,
                after.as_secs().max(1)
            ),
            HttpError::TooManyRequests(after) => format!(
                "this feed was polled too often from your address; try again in {} s (its Cache-Control max-age says how often to poll)",
                after.as_secs()
            ),
            // The client gets no details (they may name files or SQL); the
            // operator gets them in the log.
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
                h.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            // Readers and browsers ask their user for Basic credentials.
            HttpError::NeedsReadKey(_) => {
                h.insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"topicfeed\", charset=\"UTF-8\""),
                );
            }
            HttpError::Unavailable(_) => {
                h.insert(RETRY_AFTER, HeaderValue::from_static("5"));
            }
            HttpError::TooManyRequests(after)
            | HttpError::KeyLockout(after)
            | HttpError::HubRequests(after) => {
                if let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string()) {
                    h.insert(RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        resp
    }
}
