//! Successful responses that every handler builds the same way: plain
//! text, and cacheable pages whose ETag comes from their bytes.
//!
//! Error responses are not here: they are built in one place only,
//! [`super::error::HttpError::into_response`].

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, HeaderMap, LOCATION,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::render::Rendered;

pub type Resp = Response<Full<Bytes>>;

pub(super) fn text(status: StatusCode, body: &'static str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

pub(super) fn html(body: Vec<u8>, cache_seconds: u32) -> Resp {
    page(body, "text/html; charset=utf-8", cache_seconds)
}

/// A page for people (or OPML for their readers): cacheable, with an ETag.
pub(super) fn page(body: Vec<u8>, content_type: &'static str, cache_seconds: u32) -> Resp {
    // Through `Rendered` so that pages get their ETag the way feeds do.
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

/// `301 Moved Permanently` to `location`, the canonical URL of what was
/// asked for. Cacheable for a day: the mapping never changes.
pub(super) fn moved(location: &str) -> Resp {
    let Ok(value) = HeaderValue::from_str(location) else {
        // Built from parsed, re-encoded parts, so this does not happen; if
        // it did, serving nothing is better than a broken header.
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot build the canonical URL\n",
        );
    };
    let mut r = Response::new(Full::new(Bytes::from(format!(
        "301 Moved Permanently\nThe canonical URL of this feed is {location}\n"
    ))));
    *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
    let h = r.headers_mut();
    h.insert(LOCATION, value);
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    r
}

/// No script runs on any page topicfeed serves: the pages have none, and
/// article HTML (sanitized at ingest) gets none through. Styles are the
/// pages' one inline `<style>`; images may come from article sites. Sent on
/// every response (`routes` adds them where a handler did not): a feed
/// opened in a browser is a page too.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src http: https:; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A 304 with `headers` (see `cache::not_modified_headers`).
pub fn not_modified(headers: HeaderMap) -> Resp {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NOT_MODIFIED;
    *r.headers_mut() = headers;
    r
}

pub(super) fn security_headers(h: &mut HeaderMap) {
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Readers following an article link tell its site nothing about which
    // topicfeed page or filter they came from.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}
