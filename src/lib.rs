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
//! - [`pipeline`] wires ingest → classify → store; [`serve`] and [`cli`]
//!   are the binary's edges.

pub mod classify;
pub mod cli;
pub mod config;
pub mod http;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod serve;
pub mod sources;
pub mod store;
pub mod watch;
