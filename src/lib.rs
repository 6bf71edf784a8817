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
//! - [`ingest`]: raw bytes (plain-text scrape, HTML, JSON, Markdown) →
//!   one normalized [`model::Article`]. Pure: no IO, no clock.

pub mod classify;
pub mod cli;
pub mod http;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod serve;
pub mod store;
