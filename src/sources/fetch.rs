//! The polite HTTP client shared by feed polls and full-text page fetches.
//!
//! One `reqwest` client (rustls with the `ring` provider, gzip and brotli)
//! with a User-Agent naming topicfeed, connect and total timeouts, and no
//! automatic retries. Redirects are followed here, not by reqwest, so that
//! every hop counts against the per-host connection limit, a loop is named
//! as one, and a permanent move is reported to the caller. Bodies are read
//! chunk by chunk and abandoned as soon as they pass the size limit, which
//! applies after decompression (a small gzip bomb is still too large).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{RawDocument, SourceError};

/// What feeds are asked for with.
const FEED_ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
     application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5";
const PAGE_ACCEPT: &str = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5";

/// The client's limits.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// For the whole exchange, body included.
    pub timeout: Duration,
    pub max_redirects: usize,
    /// Largest body accepted, after decompression.
    pub max_body: usize,
    /// Most requests in flight to one host (and port) at a time.
    pub per_host: usize,
    /// Use `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` from the environment.
    pub env_proxy: bool,
    /// Where URLs the operator did not write may lead.
    pub outbound: super::OutboundPolicy,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            user_agent: default_user_agent(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_redirects: 5,
            max_body: 10 * 1024 * 1024,
            per_host: 2,
            env_proxy: true,
            outbound: super::OutboundPolicy::default(),
        }
    }
}

/// `topicfeed/0.1.0 (feed aggregator)`: names the software, so that a
/// publisher who sees it in their logs knows what polls them.
pub fn default_user_agent() -> String {
    format!(
        "topicfeed/{} (feed aggregator; polls politely)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Installs the `ring` crypto provider for rustls, once per process. The
/// default (aws-lc) is not built: it is slow to compile and needs cmake.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means another provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Validators from the last successful fetch.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditional<'a> {
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
}

/// The response headers the poller schedules by, and where we ended up.
#[derive(Debug, Clone, Default)]
pub struct ResponseMeta {
    pub status: u16,
    pub final_url: String,
    /// Set when every redirect hop was permanent (301/308): the new address.
    pub moved_permanently: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
    pub date: Option<String>,
    pub retry_after: Option<String>,
}

/// A completed exchange. Statuses other than 2xx and 304 are not errors
/// here: the caller needs their headers (Retry-After) to schedule.
#[derive(Debug)]
pub enum Fetched {
    Body(RawDocument, ResponseMeta),
    NotModified(ResponseMeta),
    Status(ResponseMeta),
}

/// The shared client. Cheap to share behind an `Arc`.
pub struct Fetcher {
    /// For the operator's feed URLs and their own origin's redirects.
    client: reqwest::Client,
    /// For everything else: connects only where the outbound policy allows.
    /// Built on first use: loading the system's root certificates is most
    /// of a client's cost, and a poll of plain feeds never needs this one.
    guarded: std::sync::OnceLock<reqwest::Client>,
    opts: FetchOptions,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

fn client_builder(opts: &FetchOptions) -> reqwest::ClientBuilder {
    let b = reqwest::Client::builder()
        .user_agent(opts.user_agent.clone())
        .connect_timeout(opts.connect_timeout)
        .timeout(opts.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .gzip(true)
        .brotli(true);
    if opts.env_proxy { b } else { b.no_proxy() }
}

fn build_client(b: reqwest::ClientBuilder) -> Result<reqwest::Client, SourceError> {
    b.build()
        .map_err(|e| SourceError::Internal(format!("cannot build the HTTP client: {e}")))
}

/// A client for URLs a stranger named (links in documents, WebSub
/// callbacks): `opts.outbound` decides where it may connect, after DNS;
/// no redirects are followed.
pub fn guarded_client(opts: &FetchOptions) -> Result<reqwest::Client, SourceError> {
    install_crypto_provider();
    build_client(client_builder(opts).dns_resolver(opts.outbound.resolver()))
}

impl Fetcher {
    pub fn new(opts: FetchOptions) -> Result<Fetcher, SourceError> {
        install_crypto_provider();
        let client = build_client(client_builder(&opts))?;
        Ok(Fetcher {
            client,
            guarded: std::sync::OnceLock::new(),
            opts,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// The client for URLs the operator did not name.
    fn guarded(&self) -> Result<&reqwest::Client, SourceError> {
        if let Some(client) = self.guarded.get() {
            return Ok(client);
        }
        let built = guarded_client(&self.opts)?;
        // Two first uses at once build two; either will do.
        Ok(self.guarded.get_or_init(|| built))
    }

    /// Waits for a connection slot for `url`'s host.
    async fn permit(&self, url: &reqwest::Url) -> Result<OwnedSemaphorePermit, SourceError> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let sem = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(self.opts.per_host.max(1))))
                .clone()
        };
        sem.acquire_owned()
            .await
            .map_err(|_| SourceError::Internal("host limiter closed".into()))
    }

    /// Fetches a feed, conditionally when validators are given.
    pub async fn fetch_feed(
        &self,
        origin: &str,
        url: &str,
        cond: Conditional<'_>,
    ) -> Result<Fetched, SourceError> {
        self.fetch(origin, url, cond, FEED_ACCEPT, true).await
    }

    /// Fetches an article page (for full text).
    pub async fn fetch_page(&self, origin: &str, url: &str) -> Result<Fetched, SourceError> {
        self.fetch(origin, url, Conditional::default(), PAGE_ACCEPT, false)
            .await
    }

    async fn fetch(
        &self,
        origin: &str,
        url: &str,
        cond: Conditional<'_>,
        accept: &'static str,
        trusted: bool,
    ) -> Result<Fetched, SourceError> {
        let start = url;
        let mut current = reqwest::Url::parse(url).map_err(|e| SourceError::Fetch {
            url: url.to_owned(),
            reason: format!("bad URL: {e}"),
        })?;
        // The operator's URL is trusted, and so are redirects within its
        // origin; a hop anywhere else was named by the server, not by them.
        let trusted_origin = trusted.then(|| current.origin());
        let mut seen = HashSet::from([current.to_string()]);
        let mut all_permanent = true;
        let mut hops = 0usize;
        loop {
            let client = if trusted_origin.as_ref() == Some(&current.origin()) {
                &self.client
            } else {
                self.opts
                    .outbound
                    .check_url(&current)
                    .map_err(|why| SourceError::Fetch {
                        url: start.to_owned(),
                        reason: format!("refused {current}: {why}"),
                    })?;
                self.guarded()?
            };
            let _permit = self.permit(&current).await?;
            let mut req = client.get(current.clone()).header(header::ACCEPT, accept);
            if let Some(etag) = cond.etag.and_then(|v| HeaderValue::from_str(v).ok()) {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = cond
                .last_modified
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                req = req.header(header::IF_MODIFIED_SINCE, lm);
            }
            let mut resp = req.send().await.map_err(|e| self.error(start, &e))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let Some(location) = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                else {
                    return Err(SourceError::Fetch {
                        url: start.to_owned(),
                        reason: format!("HTTP {} without a Location", status.as_u16()),
                    });
                };
                let next = current.join(location).map_err(|e| SourceError::Fetch {
                    url: start.to_owned(),
                    reason: format!("bad redirect Location `{location}`: {e}"),
                })?;
                if !seen.insert(next.to_string()) {
                    return Err(SourceError::RedirectLoop {
                        url: start.to_owned(),
                        to: next.to_string(),
                    });
                }
                hops += 1;
                if hops > self.opts.max_redirects {
                    return Err(SourceError::TooManyRedirects {
                        url: start.to_owned(),
                        limit: self.opts.max_redirects,
                    });
                }
                all_permanent &= matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                );
                current = next;
                continue;
            }
            let meta = ResponseMeta {
                status: status.as_u16(),
                final_url: current.to_string(),
                moved_permanently: (hops > 0 && all_permanent).then(|| current.to_string()),
                etag: header_str(resp.headers(), header::ETAG),
                last_modified: header_str(resp.headers(), header::LAST_MODIFIED),
                cache_control: header_str(resp.headers(), header::CACHE_CONTROL),
                expires: header_str(resp.headers(), header::EXPIRES),
                date: header_str(resp.headers(), header::DATE),
                retry_after: header_str(resp.headers(), header::RETRY_AFTER),
            };
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified(meta));
            }
            if !status.is_success() {
                return Ok(Fetched::Status(meta));
            }
            let limit = self.opts.max_body;
            let too_large = || SourceError::TooLarge {
                url: start.to_owned(),
                limit,
            };
            // Content-Length is of the encoded body; checked again while reading.
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Err(too_large());
            }
            let content_type = header_str(resp.headers(), header::CONTENT_TYPE);
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| self.error(start, &e))? {
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            let doc = RawDocument {
                origin: origin.to_owned(),
                url: Some(current.to_string()),
                fetched_at: Utc::now(),
                content_type,
                body: body.into(),
            };
            return Ok(Fetched::Body(doc, meta));
        }
    }

    fn error(&self, url: &str, e: &reqwest::Error) -> SourceError {
        if e.is_timeout() {
            return SourceError::Timeout {
                url: url.to_owned(),
                secs: self.opts.timeout.as_secs(),
            };
        }
        // reqwest's Display is terse ("error sending request"); the chain says why.
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            source = s.source();
        }
        SourceError::Fetch {
            url: url.to_owned(),
            reason,
        }
    }
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}
