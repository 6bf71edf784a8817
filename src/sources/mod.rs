//! Sources: where raw bytes come from, the IO edge left of ingest.
//!
//! Configured in `feeds/sources.toml` ([`config`]): upstream feeds polled
//! over HTTP ([`poll`], politely: conditional GET, cache hints, Retry-After,
//! backoff, per-host limits — see [`fetch`] and [`schedule`]) and inbox
//! folders watched for dropped files ([`inbox`]). Each yields a
//! [`RawDocument`]; the feed poller and the inbox then hand documents to
//! ingest → classify → store, so like `pipeline` they see several stages.
//!
//! Per-source poll state (validators, schedule, failures) survives restarts
//! in a small JSON file in the data directory ([`state`]); the same state,
//! plus counters, is readable live as [`SourceHealth`] through a
//! [`HealthBoard`].

pub mod config;
pub mod fetch;
pub mod inbox;
pub mod poll;
pub mod schedule;
pub mod state;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

pub use config::{InboxConfig, SourceConfig, SourcesConfig};
pub use fetch::{FetchOptions, Fetcher};
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
        let ct = self.content_type.as_deref()?;
        ct.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| v.trim().trim_matches('"'))
        })
    }
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
