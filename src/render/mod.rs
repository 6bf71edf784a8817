//! Render: a feed's stories → bytes, with the validators HTTP needs.
//!
//! Pure and deterministic: the same stories and [`FeedInfo`] always give
//! the same bytes, so the strong ETag can be a hash of the body and a
//! repeat poll can be answered with 304. No clock reads: every date in the
//! output comes from the stories (or `info.updated` for an empty feed).
//! One module per format, dispatched by [`Format`].

pub mod atom;
pub mod content;
pub mod html;
pub mod identity;
pub mod json;
pub mod opml;
pub mod provenance;
pub mod rss;

use chrono::{DateTime, Utc};

use crate::model::Story;
use crate::model::xml::strip_invalid_chars;

/// The feed formats served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub fn from_ext(ext: &str) -> Option<Format> {
        match ext {
            "rss" | "xml" => Some(Format::Rss),
            "atom" => Some(Format::Atom),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];
}

/// What a feed says about itself.
#[derive(Debug, Clone)]
pub struct FeedInfo {
    pub title: String,
    pub description: String,
    /// Stable id: the feed's URL without paging parameters.
    pub id: String,
    /// Absolute URL of exactly this document (format, query, page).
    pub self_url: String,
    /// Absolute URL of the human-readable page for this feed.
    pub home_url: String,
    /// RFC 5005 paging: the first page, and the next (older) page if any.
    pub first_url: Option<String>,
    pub next_url: Option<String>,
    /// The newer page before this one, when this is not the first.
    pub previous_url: Option<String>,
    /// How long, in minutes, a reader may cache this feed.
    pub ttl_minutes: u32,
    /// `updated` of an empty feed: when the server's topic set was loaded.
    pub updated: DateTime<Utc>,
    /// Absolute base URL of the server, for item links of articles
    /// without a URL of their own (`{base}/articles/{id}`).
    pub base_url: String,
    /// The feed's pictures, absolute: see [`identity`].
    pub images: identity::Images,
    /// The WebSub hub that pushes this feed's changes (`rel="hub"`), when
    /// the server runs one.
    pub hub_url: Option<String>,
    /// Topics not named as items' categories: private ones this request
    /// did not ask for (and so showed no key for).
    pub hidden_topics: Vec<String>,
    /// The read key given in the feed's URL (`?key=`), if any: links to
    /// this server's article pages carry it too, since a private story's
    /// page is not found without it. The reader holds it already.
    pub read_key: Option<String>,
}

/// The article's lead image, if it may be shown: stored rows are checked
/// again, as every link that leaves topicfeed is.
pub(crate) fn lead_image(a: &crate::model::Article) -> Option<&crate::model::Image> {
    a.image
        .as_ref()
        .filter(|i| crate::model::is_http_url(&i.url))
}

/// The article's media files that may be published: stored rows are
/// checked again, as the lead image is.
pub(crate) fn enclosures(
    a: &crate::model::Article,
) -> impl Iterator<Item = &crate::model::Enclosure> {
    a.enclosures
        .iter()
        .filter(|f| crate::model::is_http_url(&f.url))
}

/// An item's HTML as a feed carries it: the lead image first when the body
/// shows none, the "also reported by" line last; HTML4-only elements for
/// RSS and Atom (`content::for_feeds`), the stored HTML5 for JSON Feed.
pub(crate) fn item_html<'a>(
    a: &'a crate::model::Article,
    credits: &[provenance::Credit<'_>],
    html4: bool,
) -> std::borrow::Cow<'a, str> {
    let body = if html4 {
        content::for_feeds(&a.content_html)
    } else {
        std::borrow::Cow::Borrowed(a.content_html.as_str())
    };
    provenance::with_credits(content::with_lead_image(body, lead_image(a)), credits)
}

impl FeedInfo {
    /// The topics of `a` this feed may name.
    pub fn shown_topics<'a>(
        &'a self,
        a: &'a crate::model::Article,
    ) -> impl Iterator<Item = &'a String> {
        a.topics.iter().filter(|t| !self.hidden_topics.contains(t))
    }
}

/// A rendered document and its validators.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// Strong entity tag (quoted), derived from the exact bytes.
    pub etag: String,
    /// The newest item's change time; `None` for an empty feed.
    pub last_modified: Option<DateTime<Utc>>,
}

impl Rendered {
    pub fn new(
        body: Vec<u8>,
        content_type: &'static str,
        last_modified: Option<DateTime<Utc>>,
    ) -> Rendered {
        let hash = blake3::hash(&body);
        Rendered {
            etag: format!("\"{}\"", &hash.to_hex()[..24]),
            body,
            content_type,
            last_modified,
        }
    }
}

/// Renders `stories` as `format`.
pub fn render(format: Format, info: &FeedInfo, stories: &[Story]) -> Rendered {
    let last_modified = stories.iter().map(item_updated).max();
    let body = match format {
        Format::Rss => rss::render(info, stories),
        Format::Atom => atom::render(info, stories),
        Format::Json => json::render(info, stories),
    };
    Rendered::new(body, format.content_type(), last_modified)
}

/// Text safe for XML 1.0, whatever was stored (old rows predate cleaning).
pub(crate) fn xml_text(s: &str) -> String {
    strip_invalid_chars(s).into_owned()
}

/// The link of an item: its own URL, else its page on this server (with
/// the feed's read key, when it was asked for with one).
pub(crate) fn item_link(info: &FeedInfo, story: &Story) -> String {
    own_link(story).map(str::to_owned).unwrap_or_else(|| {
        let page = format!(
            "{}/articles/{}",
            info.base_url.trim_end_matches('/'),
            story.article.id
        );
        match &info.read_key {
            Some(key) => format!(
                "{page}?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("key", key)
                    .finish()
            ),
            None => page,
        }
    })
}

/// The article's own link when it is http(s); never another scheme, even
/// from a row stored before ingest refused them.
pub(crate) fn own_link(story: &Story) -> Option<&str> {
    story
        .article
        .url
        .as_deref()
        .filter(|u| crate::model::is_http_url(u))
}

/// Stable item id: the article id as a URN (never changes with the host).
pub(crate) fn item_id(story: &Story) -> String {
    format!("urn:topicfeed:article:{}", story.article.id)
}

/// When the item was published: the stated date, else when first seen.
pub(crate) fn item_published(story: &Story) -> DateTime<Utc> {
    story.article.published.unwrap_or(story.first_seen)
}

/// When the item last changed, never before it was published.
pub(crate) fn item_updated(story: &Story) -> DateTime<Utc> {
    let stated = story.article.updated.unwrap_or(story.changed);
    stated.max(story.changed).max(item_published(story))
}

/// The feed's own `updated`: its newest item, else `info.updated`.
pub(crate) fn feed_updated(info: &FeedInfo, stories: &[Story]) -> DateTime<Utc> {
    stories
        .iter()
        .map(item_updated)
        .max()
        .unwrap_or(info.updated)
}

pub(crate) const GENERATOR: &str = concat!("topicfeed ", env!("CARGO_PKG_VERSION"));
