//! topicfeed turns messy news articles into clean, topic-filtered feeds.
//!
//! Bytes flow left to right; each stage only knows the [`model`] and the
//! stages to its left:
//!
//! ```text
//! sources ──► ingest ──► classify ──► store ──► render ──► http
//! (bytes)    (Article)   (+topics)    (SQLite)  (bytes+ETag) (hyper)
//! ```
//!
//! - [`sources`]: where bytes come from: upstream feeds polled over HTTP,
//!   inbox folders. IO.
//! - [`ingest`]: raw bytes (plain-text scrape, HTML, JSON, Markdown) →
//!   one normalized [`model::Article`]. Pure: no IO, no clock.
//! - [`classify`]: topics (data in `feeds/`) and tags for an article. Pure.
//! - [`store`]: durable storage behind a narrow trait; SQLite by default.
//! - [`render`]: stories → RSS / Atom / JSON Feed / HTML / OPML bytes. Pure.
//! - [`http`]: the hyper server: routes, conditional GET, cache, metrics.
//! - [`export`]: what `http` serves, written as files for a static host.
//! - [`pipeline`] is the one place ingest → classify → store is composed,
//!   for every way in (files, inbox, poller, HTTP API); [`service`] wires
//!   the running server together from a plain config. The command line
//!   lives in the binary (`src/main.rs`, `src/cli/`), not here.
//! - Below them all: [`model`] (types two stages share), [`config`] (the
//!   one configuration error), [`watch`] (file-change notifications),
//!   [`logging`] (where log lines go).

pub mod classify;
pub mod config;
pub mod export;
pub mod http;
pub mod ingest;
pub mod logging;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod service;
pub mod sources;
pub mod store;
pub mod watch;
