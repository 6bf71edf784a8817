//! Entries, whichever reader found them, → drafts.
//!
//! Both readers (feed-rs and the salvage reader) fill the same small model
//! ([`RawFeed`]), so what makes a draft out of an entry is decided once.

use chrono::{DateTime, Datelike, Utc};
use feed_rs::model::{self, FeedType};

use super::super::boilerplate::Boilerplate;
use super::super::clean::{clean_line, truncate_words};
use super::super::lines::{lines, parse_body};
use super::super::{Draft, html, lang};
use crate::model::{Block, BlockKind};

/// An inline HTML tag, as found in RSS titles: `<b>`, `</em>`, `<span class="x">`.
static INLINE_TAG: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)</?(?:a|abbr|b|big|br|cite|code|em|font|i|mark|q|s|small|span|strong|sub|sup|time|u)(?:\s[^<>]*)?/?>",
    )
    .expect("INLINE_TAG is a valid pattern")
});

/// How long a title made from the body (for title-less RSS items) may be.
const DERIVED_TITLE_CHARS: usize = 90;

/// A text construct: HTML when `html`, else plain text.
#[derive(Debug, Clone, Default)]
pub(super) struct RawText {
    pub text: String,
    pub html: bool,
}

#[derive(Debug, Clone, Default)]
pub(super) struct RawLink {
    pub href: String,
    pub rel: Option<String>,
    pub media_type: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct RawEntry {
    /// RSS `guid`, Atom `id`, JSON Feed `id`.
    pub id: String,
    /// Whether `id` may be taken for the entry's page (RSS `isPermaLink`).
    pub id_is_link: bool,
    pub title: Option<RawText>,
    /// Already resolved against any `xml:base` in scope.
    pub links: Vec<RawLink>,
    pub summary: Option<RawText>,
    pub content: Option<RawText>,
    pub authors: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub language: Option<String>,
    /// The `xml:base` in scope, for the body's relative URLs.
    pub base: Option<String>,
    /// Media files and pictures of the entry: a podcast episode's only
    /// link may be its audio file, and readers show its picture.
    pub media: Vec<RawMedia>,
}

/// An entry's media file or picture, as the feed stated it.
#[derive(Debug, Clone, Default)]
pub(super) struct RawMedia {
    pub url: String,
    pub mime: Option<String>,
    pub length: Option<u64>,
    /// Media RSS `medium="image"`, a thumbnail, a JSON Feed `image`: a
    /// picture whatever its type says.
    pub picture: bool,
    /// A preview of the item rather than one of its own files.
    pub thumbnail: bool,
}

/// A media type as feeds publish it (`type/subtype`, lower case, no
/// parameters), if `raw` is one: an upstream's type is written into
/// every format served, so anything else is dropped.
fn media_type(raw: &str) -> Option<String> {
    let essence = raw.split(';').next()?.trim().to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let (kind, sub) = essence.split_once('/')?;
    (token(kind) && token(sub)).then_some(essence)
}

impl RawMedia {
    pub(super) fn file(url: String, mime: Option<String>, length: Option<u64>) -> RawMedia {
        RawMedia {
            url,
            mime: mime.and_then(|m| media_type(&m)),
            length,
            ..RawMedia::default()
        }
    }

    pub(super) fn thumbnail(url: String) -> RawMedia {
        RawMedia::picture(url, true)
    }

    /// A picture whatever its type says; a `thumbnail` previews the item.
    pub(super) fn picture(url: String, thumbnail: bool) -> RawMedia {
        RawMedia {
            url,
            picture: true,
            thumbnail,
            ..RawMedia::default()
        }
    }

    fn is_image(&self) -> bool {
        self.picture || crate::model::looks_like_image(self.mime.as_deref(), &self.url)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct RawFeed {
    pub kind: &'static str,
    pub title: Option<RawText>,
    /// RSS channel `<link>`, Atom alternate link.
    pub site_link: Option<String>,
    pub language: Option<String>,
    pub ttl: Option<u32>,
    /// Atom's feed-level authors: every entry without its own has them.
    pub authors: Vec<String>,
    pub entries: Vec<RawEntry>,
}

fn raw_text(t: &model::Text) -> RawText {
    RawText {
        text: t.content.clone(),
        html: matches!(t.content_type.subty().as_str(), "html" | "xhtml"),
    }
}

/// feed-rs's model → ours.
pub(super) fn from_feed_rs(feed: model::Feed) -> RawFeed {
    let kind = match feed.feed_type {
        FeedType::Atom => "Atom",
        FeedType::JSON => "JSON Feed",
        FeedType::RSS0 => "RSS 0.9x",
        FeedType::RSS1 => "RSS 1.0",
        FeedType::RSS2 => "RSS 2.0",
    };
    let site_link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .map(|l| l.href.clone());
    let entries = feed
        .entries
        .into_iter()
        .map(|e| {
            // RSS <enclosure> and Media RSS content come as media objects.
            let mut media: Vec<RawMedia> = e
                .media
                .iter()
                .flat_map(|m| m.content.iter())
                .filter_map(|c| {
                    let url = c.url.as_ref()?.to_string();
                    let mime = c.content_type.as_ref().map(ToString::to_string);
                    Some(RawMedia::file(url, mime, c.size))
                })
                .collect();
            // Atom's rel="enclosure"; JSON Feed attachments come from
            // feed-rs as rel-less links with a media type other than a page.
            media.extend(
                e.links
                    .iter()
                    .filter(|l| match l.rel.as_deref() {
                        Some(rel) => rel == "enclosure",
                        None => l
                            .media_type
                            .as_deref()
                            .is_some_and(|t| !t.is_empty() && !t.contains("html")),
                    })
                    .map(|l| RawMedia::file(l.href.clone(), l.media_type.clone(), l.length)),
            );
            media.extend(
                e.media
                    .iter()
                    .flat_map(|m| &m.thumbnails)
                    .map(|t| RawMedia::thumbnail(t.image.uri.clone())),
            );
            let id = e.id.trim().to_owned();
            // Podcast and Media RSS items may carry their text, title and
            // people only in `itunes:*` / `media:*` (feed-rs files them as
            // media objects): readers show those when nothing else is there.
            let media_text = |f: fn(&model::MediaObject) -> Option<&model::Text>| {
                e.media.iter().find_map(f).map(raw_text)
            };
            let mut authors: Vec<String> =
                e.authors.iter().filter_map(|p| p.name.clone()).collect();
            if authors.is_empty() {
                authors = e
                    .media
                    .iter()
                    .flat_map(|m| &m.credits)
                    .map(|c| c.entity.clone())
                    .collect();
            }
            RawEntry {
                id_is_link: id.starts_with("http://") || id.starts_with("https://"),
                id,
                title: e
                    .title
                    .as_ref()
                    .map(raw_text)
                    .or_else(|| media_text(|m| m.title.as_ref())),
                links: e
                    .links
                    .iter()
                    .map(|l| RawLink {
                        href: l.href.clone(),
                        rel: l.rel.clone(),
                        media_type: l.media_type.clone(),
                    })
                    .collect(),
                summary: e
                    .summary
                    .as_ref()
                    .map(raw_text)
                    .or_else(|| media_text(|m| m.description.as_ref())),
                content: e.content.as_ref().and_then(|c| {
                    Some(RawText {
                        text: c.body.clone()?,
                        html: matches!(c.content_type.subty().as_str(), "html" | "xhtml"),
                    })
                }),
                authors,
                published: e.published,
                updated: e.updated,
                language: e.language,
                base: e.base,
                media,
            }
        })
        .collect();
    RawFeed {
        kind,
        title: feed.title.as_ref().map(raw_text),
        site_link,
        language: feed.language,
        ttl: feed.ttl,
        authors: feed.authors.iter().filter_map(|p| p.name.clone()).collect(),
        entries,
    }
}

/// The drafts, and for each entry that gave none the reason.
pub(super) fn drafts(
    feed: RawFeed,
    url: Option<&str>,
    rules: &Boilerplate,
) -> (Option<String>, Vec<Draft>, Vec<(usize, &'static str)>) {
    let title = feed.title.as_ref().map(text_of).filter(|t| !t.is_empty());
    let feed_url = url.and_then(|u| url::Url::parse(u).ok());
    // The channel link names the site the items were written for; the
    // fetch URL may be a proxy or a feed host elsewhere.
    let site_link = feed.site_link.as_deref().and_then(|l| match &feed_url {
        Some(f) => f.join(l.trim()).ok(),
        None => url::Url::parse(l.trim()).ok(),
    });
    // Guids are unique within a feed only: the feed names their scope. The
    // URL it was fetched from is the most stable name (the poller puts the
    // configured URL in its place); a file read alone has only its channel
    // link or title.
    let guid_scope = feed_url
        .as_ref()
        .or(site_link.as_ref())
        .and_then(|u| super::super::identity::link_key(u.as_str()))
        .or_else(|| title.clone());
    let base = site_link.or(feed_url);
    let language = feed.language.as_deref().and_then(lang::normalize_tag);
    // A guid repeated in one document does not tell its entries apart
    // (feeds that give every item the same guid exist): those entries are
    // known by their links instead.
    let mut guid_uses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for e in &feed.entries {
        if !e.id.is_empty() {
            *guid_uses.entry(e.id.as_str()).or_default() += 1;
        }
    }
    let unique: Vec<bool> = feed
        .entries
        .iter()
        .map(|e| guid_uses.get(e.id.as_str()) == Some(&1))
        .collect();
    let mut drafts = Vec::new();
    let mut skipped = Vec::new();
    let rss = feed.kind.starts_with("RSS");
    for (i, (mut entry, unique)) in feed.entries.into_iter().zip(unique).enumerate() {
        let guid = unique.then(|| entry.id.clone());
        // RSS titles are plain text by the spec, but publishers put inline
        // markup in them (often in CDATA) and readers render it: the words
        // are the title, not the tags. Atom says which its titles are.
        if let Some(t) = entry.title.as_mut() {
            t.html |= rss && INLINE_TAG.is_match(&t.text);
        }
        // RFC 4287 4.2.1: an entry without an author has the feed's.
        if entry.authors.iter().all(|a| a.trim().is_empty()) {
            entry.authors.clone_from(&feed.authors);
        }
        match entry_draft(
            entry,
            base.as_ref(),
            title.as_deref(),
            language.as_deref(),
            rules,
        ) {
            Ok(mut d) => {
                if guid.is_some() {
                    d.guid = guid;
                    d.guid_scope = guid_scope.clone();
                }
                drafts.push(d)
            }
            Err(reason) => skipped.push((i + 1, reason)),
        }
    }
    (title, drafts, skipped)
}

fn entry_draft(
    entry: RawEntry,
    feed_base: Option<&url::Url>,
    site: Option<&str>,
    feed_language: Option<&str>,
    rules: &Boilerplate,
) -> Result<Draft, &'static str> {
    // xml:base in scope wins over the channel link and the feed URL.
    let base = match entry.base.as_deref() {
        Some(b) => match feed_base {
            Some(fb) => fb.join(b).ok(),
            None => url::Url::parse(b).ok(),
        },
        None => None,
    }
    .or_else(|| feed_base.cloned());
    let link = entry_link(&entry, base.as_ref());
    let (image, enclosures) = entry_media(&entry.media, base.as_ref());
    // Relative links in the body resolve against the entry's own page when
    // there is one: that is where they were written.
    let body_base = link
        .as_deref()
        .and_then(|l| url::Url::parse(l).ok())
        .filter(|_| entry.base.is_none())
        .or_else(|| base.clone());
    let body_base_str = body_base.as_ref().map(url::Url::as_str);

    let summary_text = entry
        .summary
        .as_ref()
        .map(text_of)
        .filter(|s| !s.is_empty());
    let content = entry.content.as_ref().filter(|c| !c.text.trim().is_empty());
    let (blocks, html) = match (content, &entry.summary) {
        (Some(c), _) => body_of(&c.text, c.html, body_base_str, rules),
        (_, Some(s)) if !s.text.trim().is_empty() => body_of(&s.text, s.html, body_base_str, rules),
        _ => (Vec::new(), None),
    };
    // The summary is the body when there is no separate content: let
    // assemble derive it, instead of repeating the body.
    let summary = if content.is_some() {
        summary_text
    } else {
        None
    };

    let mut title = entry.title.as_ref().map(text_of).unwrap_or_default();
    if title.is_empty() {
        // Title-less RSS items are allowed; readers show the opening words.
        let Some(first) = blocks.first() else {
            return Err("no title and no text");
        };
        title = truncate_words(&first.text, DERIVED_TITLE_CHARS);
    }
    let published = entry.published.and_then(plausible);
    let updated = entry.updated.and_then(plausible);
    Ok(Draft {
        title,
        site: site.map(str::to_owned),
        url: link,
        authors: authors(&entry.authors),
        published: published.or(updated),
        updated: updated.filter(|u| published.is_some_and(|p| *u > p)),
        language: entry
            .language
            .as_deref()
            .and_then(lang::normalize_tag)
            .or_else(|| feed_language.map(str::to_owned)),
        summary,
        blocks,
        html,
        feed_entry: true,
        image,
        enclosures,
        ..Draft::default()
    })
}

/// The entry's web page: the first alternate (or untyped) link, else a
/// GUID that is a URL, else (podcasts) the enclosure, absolute against `base`.
fn entry_link(entry: &RawEntry, base: Option<&url::Url>) -> Option<String> {
    let resolve = |href: &str| crate::model::absolute_http(href, base);
    entry
        .links
        .iter()
        .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .filter(|l| {
            l.media_type
                .as_deref()
                .is_none_or(|t| t.contains("html") || t.is_empty())
        })
        .find_map(|l| resolve(&l.href))
        .or_else(|| entry.id_is_link.then(|| resolve(&entry.id)).flatten())
        .or_else(|| {
            entry
                .media
                .iter()
                .filter(|m| !m.thumbnail)
                .find_map(|m| resolve(&m.url))
        })
}

/// The entry's picture (its first image file, else its first thumbnail)
/// and its other media files, republished as stated. URLs are resolved
/// against `base` here; the page URL is not the base for feed media.
fn entry_media(
    media: &[RawMedia],
    base: Option<&url::Url>,
) -> (Option<crate::model::Image>, Vec<crate::model::Enclosure>) {
    let resolve = |href: &str| crate::model::absolute_http(href, base);
    let picture = media
        .iter()
        .filter(|m| m.is_image() && !m.thumbnail)
        .chain(media.iter().filter(|m| m.thumbnail))
        .find_map(|m| {
            Some(crate::model::Image {
                mime: m.mime.clone().filter(|t| t.starts_with("image/")),
                ..crate::model::Image::new(resolve(&m.url)?)
            })
        });
    let mut files: Vec<crate::model::Enclosure> = Vec::new();
    for m in media.iter().filter(|m| !m.is_image()) {
        let Some(url) = resolve(&m.url) else { continue };
        // feed-rs reports an RSS enclosure that is also Media RSS content
        // twice; a file is republished once.
        if files.iter().any(|f| f.url == url) {
            continue;
        }
        files.push(crate::model::Enclosure {
            url,
            mime: m
                .mime
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            length: m.length.unwrap_or(0),
        });
    }
    (picture, files)
}

/// Blocks and sanitized HTML from an entry body.
fn body_of(
    body: &str,
    is_html: bool,
    base: Option<&str>,
    rules: &Boilerplate,
) -> (Vec<Block>, Option<String>) {
    // "text/html" bodies that hold no markup are plain text with paragraph
    // breaks, which the HTML walker would run together.
    if is_html && body.contains('<') {
        let extracted = html::parse_fragment(body, base, rules);
        (extracted.blocks, Some(extracted.html))
    } else {
        let text = if is_html {
            super::super::clean::decode_entities(body).into_owned()
        } else {
            body.to_owned()
        };
        let parsed = parse_body(lines(&text), rules);
        let blocks = if parsed.blocks.is_empty() {
            let line = clean_line(&text);
            if line.is_empty() {
                Vec::new()
            } else {
                vec![Block::new(BlockKind::Paragraph, line)]
            }
        } else {
            parsed.blocks
        };
        (blocks, None)
    }
}

/// A feed text construct as one clean line: markup removed when it is HTML.
fn text_of(t: &RawText) -> String {
    // Built once: its tables cost as much as cleaning a title.
    static PLAIN: std::sync::LazyLock<ammonia::Builder<'static>> = std::sync::LazyLock::new(|| {
        let mut b = ammonia::Builder::empty();
        b.clean_content_tags(["script", "style"].into_iter().collect());
        b
    });
    if t.html && t.text.contains('<') {
        let plain = PLAIN
            .clean(&crate::ingest::nesting::flatten_html(&t.text))
            .to_string();
        clean_line(&plain)
    } else {
        clean_line(&t.text)
    }
}

/// Author names: "jane@example.org (Jane Doe)" → "Jane Doe"; bare e-mail
/// addresses are not names and are dropped.
fn authors(people: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in people {
        let raw = clean_line(raw);
        let name = match (raw.find('('), raw.rfind(')')) {
            (Some(open), Some(close)) if open < close && raw[..open].contains('@') => {
                raw[open + 1..close].trim().to_owned()
            }
            // feed-rs has already split off the address: "(Jane Doe)".
            _ => raw
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .map_or(raw.clone(), |r| r.trim().to_owned()),
        };
        if !name.is_empty() && !name.contains('@') && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Dates before 1990 in a news feed are defaults or typos (often the 1970
/// epoch), never facts: drop them rather than publish them.
fn plausible(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let t = DateTime::from_timestamp(t.timestamp(), 0)?;
    (t.year() >= 1990).then_some(t)
}
