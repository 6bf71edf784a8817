//! A stored story as store hands it out and render turns it into an entry:
//! the first-seen article plus every site that ran it.

use chrono::{DateTime, Utc};

use super::Article;

/// One site that ran a story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub site: Option<String>,
    pub url: Option<String>,
    /// The id that site's copy was ingested under.
    pub article_id: String,
}

/// A stored story: the first-seen article and every site that ran it.
#[derive(Debug, Clone, PartialEq)]
pub struct Story {
    /// The first-seen copy; `topics` is the union over all sources.
    pub article: Article,
    /// The story's own source first, then merged copies in the order seen.
    pub sources: Vec<SourceRef>,
    pub first_seen: DateTime<Utc>,
    /// Last time this story's stored content, topics or sources changed.
    pub changed: DateTime<Utc>,
}
