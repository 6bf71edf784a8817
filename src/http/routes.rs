//! The route table: which handler answers which method and path, in one
//! `match`, so the whole URL space can be read in one place.
//!
//! Every request, whatever its outcome, is counted in the metrics and
//! logged once here; handlers do neither.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::header::CONTENT_SECURITY_POLICY;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;

use super::AppState;
use super::error::HttpError;
use super::response::Resp;
use super::{api, feeds, pages};

/// Routes a request; never fails (errors are responses).
pub async fn handle(req: Request<Incoming>, peer: SocketAddr, state: &Arc<AppState>) -> Resp {
    let started = Instant::now();
    let method = req.method().clone();
    // Kept for the access line after `req` is handed on; a clone of the
    // URI shares its bytes instead of copying the path.
    let uri = req.uri().clone();
    let path = uri.path();
    let mut parts = [""; MAX_SEGMENTS];
    let segments = split_path(path, &mut parts);
    let read = matches!(method, Method::GET | Method::HEAD);
    let (route, result) = match (segments, read) {
        _ if let Err(e) = super::check_host(&state.config, req.headers()) => ("other", Err(e)),
        ([""], true) => (
            "index",
            keyed(&req, peer, state, pages::index(&req, state)).await,
        ),
        (["feeds.opml"], true) => (
            "opml",
            keyed(&req, peer, state, pages::opml(&req, state)).await,
        ),
        (["feeds", name], true) => ("feed", feeds::feed(&req, name, peer, state).await),
        (["articles", id], true) => (
            "article",
            keyed(&req, peer, state, pages::article(id, &req, peer, state)).await,
        ),
        (["healthz"], true) => ("healthz", Ok(pages::healthz())),
        ([name], true) if let Some(png) = crate::render::identity::picture(name) => {
            ("picture", Ok(pages::picture(png)))
        }
        (["metrics"], true) => ("metrics", Ok(pages::metrics(state))),
        (["websub"], _) if method == Method::POST => {
            ("websub", super::websub::request(req, peer, state).await)
        }
        (["websub"], _) => ("websub", Err(HttpError::MethodNotAllowed("POST"))),
        (["api", "articles"], _) if method == Method::POST => {
            ("ingest", api::ingest(req, state).await)
        }
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
    let mut resp = result.unwrap_or_else(HttpError::into_response);
    // Cached feeds carry them in their prebuilt headers already, and a
    // 304 repeats only the validators and caching headers.
    if resp.status() != StatusCode::NOT_MODIFIED
        && !resp.headers().contains_key(CONTENT_SECURITY_POLICY)
    {
        super::response::security_headers(resp.headers_mut());
    }
    let status = resp.status().as_u16();
    state.metrics.count_request(route, status);
    if state.config.access_log {
        crate::logging::access(&crate::logging::Access {
            client: peer.ip(),
            method: method.as_str(),
            path,
            status,
            elapsed_us: started.elapsed().as_micros() as u64,
        });
    }
    resp
}

/// The longest path the table routes has two segments; one more slot
/// tells a longer path apart from them.
const MAX_SEGMENTS: usize = 3;

/// `/feeds/all.atom` → `["feeds", "all.atom"]`, in `parts`, without
/// allocating; a path of more segments than the table knows gives a
/// slice no route matches.
fn split_path<'a, 'p>(path: &'p str, parts: &'a mut [&'p str; MAX_SEGMENTS]) -> &'a [&'p str] {
    let mut n = 0;
    for segment in path.trim_start_matches('/').split('/') {
        if n == MAX_SEGMENTS {
            return &parts[..0];
        }
        parts[n] = segment;
        n += 1;
    }
    &parts[..n]
}

/// A page behind the server's global read key, if it has one (feeds
/// check their own keys: `feeds::feed`).
async fn keyed(
    req: &Request<Incoming>,
    peer: SocketAddr,
    state: &AppState,
    page: impl Future<Output = Result<Resp, HttpError>>,
) -> Result<Resp, HttpError> {
    let access = super::private::page(
        state.config.read_key.as_ref(),
        req.headers(),
        req.uri().query(),
        super::key_client(state, peer, req.headers()),
    )?;
    let mut resp = page.await?;
    super::private::mark(&mut resp, access);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_the_tables_segments() {
        let mut parts = [""; MAX_SEGMENTS];
        assert_eq!(split_path("/", &mut parts), [""]);
        assert_eq!(
            split_path("/feeds/all.atom", &mut parts),
            ["feeds", "all.atom"]
        );
        assert_eq!(
            split_path("/api/articles/", &mut parts),
            ["api", "articles", ""]
        );
        // Four segments match no route (an empty slice matches none).
        assert!(split_path("/feeds/a/b/c", &mut parts).is_empty());
        assert_eq!(split_path("/feeds//x", &mut parts), ["feeds", "", "x"]);
    }
}
