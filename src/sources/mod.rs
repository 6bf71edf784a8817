//! Sources: where raw bytes come from, the IO edge left of ingest.
//!
//! Configured in `feeds/sources.toml` ([`config`]): upstream feeds polled
//! over HTTP ([`poll`], politely: conditional GET, cache hints, Retry-After,
//! backoff, per-host limits — see [`fetch`] and [`schedule`]) and inbox
//! folders watched for dropped files ([`inbox`]). Each yields a
//! [`RawDocument`] or a file's bytes and hands it to a [`Sink`] — the
//! pipeline, which alone reads, classifies and stores. Nothing here builds
//! articles or ids.
//!
//! Per-source poll state (validators, schedule, failures) survives restarts
//! in a small JSON file in the data directory ([`state`]); the same state,
//! plus counters, is readable live as [`SourceHealth`] through a
//! [`HealthBoard`].

pub mod config;
pub mod fetch;
pub mod inbox;
pub mod outbound;
pub mod poll;
pub mod schedule;
pub mod state;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::Summary;

pub use config::{InboxConfig, SourceConfig, SourcesConfig};
pub use fetch::{FetchOptions, Fetched, Fetcher};
pub use outbound::OutboundPolicy;
pub use poll::{PollOptions, PollOutcome, Poller, SourceReport};
pub use state::{HealthBoard, SourceHealth};

/// Bytes from a source, before ingest.
#[derive(Debug, Clone)]
pub struct RawDocument {
    /// Which source: a `[[source]]` name or an inbox file path.
    pub origin: String,
    /// Where the bytes were finally fetched from (after redirects), if fetched.
    pub url: Option<String>,
    pub fetched_at: DateTime<Utc>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    pub body: bytes::Bytes,
}

impl RawDocument {
    /// The `charset` parameter of the content type, a decoding hint.
    pub fn charset(&self) -> Option<&str> {
        crate::model::content_type_charset(self.content_type.as_deref()?)
    }
}

/// What the poller learns from a feed document once it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedFacts {
    /// "RSS 2.0", "Atom", "JSON Feed", ...
    pub kind: &'static str,
    /// Entries in the document, usable or not.
    pub entries: usize,
    /// RSS `<ttl>`: minutes the publisher asks readers to cache the feed.
    pub ttl_minutes: Option<u32>,
    /// Which reader read the document.
    pub reader: crate::ingest::feed::FeedReader,
    /// The document was damaged (cut off, malformed past some point): only
    /// the entries before the damage were read.
    pub damaged: bool,
}

/// What became of one fetched feed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedReport {
    pub summary: Summary,
    pub facts: FeedFacts,
    /// Pages fetched for full text.
    pub full_text: usize,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where sources hand what they fetched or found. The pipeline implements
/// it; sources only fetch, schedule and watch.
pub trait Sink: Send + Sync {
    /// A feed fetched for `src`: every entry read, classified and stored.
    /// With `src.full_text`, thin entries' pages come through `pages`.
    /// Err when the document is not a readable feed at all.
    fn feed(
        &self,
        src: SourceConfig,
        doc: RawDocument,
        pages: Arc<Fetcher>,
    ) -> BoxFuture<'static, Result<FeedReport, String>>;

    /// A file dropped in an inbox: an article or a whole feed.
    /// Synchronous (it stores): call it off the async threads.
    fn file(&self, path: &Path, bytes: &[u8]) -> Summary;
}

/// Everything that can go wrong getting documents from a source. Messages
/// name the file or URL, so one log line says what failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("{url}: timed out after {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: response larger than the {limit}-byte limit")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: redirect loop (back to {to})")]
    RedirectLoop { url: String, to: String },
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects { url: String, limit: usize },
    #[error("{url}: malformed feed: {reason}")]
    Malformed { url: String, reason: String },
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_from_content_type() {
        let doc = RawDocument {
            origin: "x".into(),
            url: None,
            fetched_at: Utc::now(),
            content_type: Some("application/rss+xml; Charset=\"ISO-8859-1\"".into()),
            body: bytes::Bytes::new(),
        };
        assert_eq!(doc.charset(), Some("ISO-8859-1"));
    }
}
