//! The types two or more stages share, below all of them: an [`Article`]
//! and its body [`Block`]s, the [`Story`] a store keeps of it, fingerprint
//! distance, and the XML character filter.
//!
//! Ingest produces an article, classify fills `topics` and `tags`, store
//! keeps it as a story, render turns stories into feed entries. Nothing in
//! here does IO, and nothing here imports a stage.

mod media;
mod read_key;
mod story;
mod summary;
pub mod xml;

pub use media::{Enclosure, Image, looks_like_image};
pub use read_key::ReadKey;
pub use story::{SourceRef, Story};
pub use summary::{Cause, DISK_FULL, Failure, Outcome, Summary};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of unit of the body a [`Block`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// The editor's one-line summary under the headline.
    Standfirst,
    Paragraph,
    Subheading,
    Quote,
    ListItem,
}

/// One unit of an article body, as plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub kind: BlockKind,
    pub text: String,
}

impl Block {
    pub fn new(kind: BlockKind, text: impl Into<String>) -> Self {
        Block {
            kind,
            text: text.into(),
        }
    }
}

/// A normalized article, whatever it was ingested from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Stable id: from a feed entry's guid (scoped to its feed), else from
    /// the link key (`ingest::identity::link_key`), else from title + body.
    /// Rows stored under an earlier scheme keep their ids (see the store).
    pub id: String,
    pub title: String,
    pub site: Option<String>,
    pub url: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// ISO 639-1 code, when it could be detected.
    pub language: Option<String>,
    /// About 300 characters of plain text, cut on a word boundary.
    pub summary: String,
    pub blocks: Vec<Block>,
    /// Sanitized HTML of the body.
    pub content_html: String,
    pub topics: Vec<String>,
    pub tags: Vec<String>,
    /// SimHash of the body's word shingles, for near-duplicate detection.
    pub fingerprint: u64,
    /// The lead image, from the page's or entry's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Media files of an upstream item (a podcast episode's audio).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enclosures: Vec<Enclosure>,
    /// What ingest dropped on the way in (a link in another scheme than
    /// http(s)…): reported to whoever sent the article, never stored.
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl Article {
    /// The body as plain text: one paragraph per block, separated by a blank line.
    pub fn content_text(&self) -> String {
        blocks_text(&self.blocks)
    }
}

/// Blocks as plain text: one paragraph per block, separated by a blank
/// line. A list directly under its lead-in paragraph belongs to it, one
/// bulleted item per line, as a reader counts paragraphs.
pub fn blocks_text(blocks: &[Block]) -> String {
    let mut out = String::with_capacity(blocks.iter().map(|b| b.text.len() + 2).sum());
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            let in_list = block.kind == BlockKind::ListItem
                && matches!(
                    blocks[i - 1].kind,
                    BlockKind::Paragraph | BlockKind::ListItem
                );
            out.push_str(if in_list { "\n" } else { "\n\n" });
        }
        if block.kind == BlockKind::ListItem {
            out.push_str("• ");
        }
        out.push_str(&block.text);
    }
    out
}

/// The public JSON shape of a normalized article (`topicfeed normalize`).
///
/// Field names are an interface other tools depend on: do not rename them.
#[derive(Debug, Serialize, Deserialize)]
pub struct ArticleJson {
    pub id: String,
    pub title: String,
    pub site: Option<String>,
    pub url: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    pub language: Option<String>,
    pub summary: String,
    pub content_text: String,
    pub content_html: String,
    pub topics: Vec<String>,
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enclosures: Vec<Enclosure>,
}

/// `href` made absolute against `base` (or taken as absolute without
/// one), if it is then an http(s) URL: what a document's links, pictures
/// and files become before anything keeps them.
pub fn absolute_http(href: &str, base: Option<&url::Url>) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = match base {
        Some(b) => b.join(href).ok()?,
        None => url::Url::parse(href).ok()?,
    };
    is_http(&url).then(|| url.to_string())
}

/// Whether `link` is an absolute http(s) URL: the only kind that leaves
/// topicfeed. Ingest drops the others; output checks again, because stored
/// rows may predate that rule.
pub fn is_http_url(link: &str) -> bool {
    url::Url::parse(link).is_ok_and(|u| is_http(&u))
}

/// Whether `url` is http(s) with a host: the one test of that rule, for
/// links published, URLs fetched and URLs configured alike.
pub fn is_http(url: &url::Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host_str().is_some()
}

/// Number of differing bits between two SimHash fingerprints
/// ([`Article::fingerprint`]): ingest computes them, store compares them.
pub fn fingerprint_distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The `charset` parameter of a `Content-Type` value, if any: what the
/// transport says about a document's encoding, for ingest to honour.
pub fn content_type_charset(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

/// RFC 3339 in UTC with a `Z`, the one way dates leave the model as text.
/// Whole seconds unless the time has a fraction: change times are kept to
/// the microsecond so that stories stored together stay distinct.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

impl From<&Article> for ArticleJson {
    fn from(a: &Article) -> Self {
        ArticleJson {
            id: a.id.clone(),
            title: a.title.clone(),
            site: a.site.clone(),
            url: a.url.clone(),
            authors: a.authors.clone(),
            published: a.published.as_ref().map(rfc3339),
            updated: a.updated.as_ref().map(rfc3339),
            language: a.language.clone(),
            summary: a.summary.clone(),
            content_text: a.content_text(),
            content_html: a.content_html.clone(),
            topics: a.topics.clone(),
            tags: a.tags.clone(),
            image: a.image.clone(),
            enclosures: a.enclosures.clone(),
        }
    }
}
