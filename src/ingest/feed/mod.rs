//! Upstream feed documents (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed
//! 1.0/1.1) → one [`Draft`] per entry.
//!
//! A feed is not one article, so this is not a `normalize` format: the
//! poller and the inbox call [`parse_feed`] and assemble each draft. The
//! exception is a lone Atom `<entry>` document, which is one article
//! ([`parse_entry_document`]).
//!
//! Pure like the rest of ingest. Feeds in the wild are often broken in ways
//! a feed reader shrugs off, and so do we: a wrong declared encoding is
//! overridden (BOM, then valid UTF-8, then the declaration, then the HTTP
//! charset, then Windows-1252); a BOM or blank lines before the declaration
//! are dropped; bare `&` and HTML-only entities are escaped and the parse
//! retried; JSON fields of the wrong type are coerced; a date that cannot
//! be read costs its entry the date only. feed-rs reads what it can; what
//! it refuses, misses (Atom 0.3, old namespaces) or passes although cut
//! off goes to the salvage reader ([`salvage`]), which keeps every
//! complete item and says what was damaged. Entry HTML goes through the
//! same fragment walker and `ammonia` sanitizer as HTML pages; relative
//! URLs resolve against `xml:base`, then the channel link, then the feed
//! URL.

mod convert;
mod repair;

pub(crate) use repair::root_element;
mod salvage;
#[cfg(test)]
mod tests;

use super::boilerplate::Boilerplate;
use super::clean::strip_invalid_chars;
use super::{Draft, IngestError, lang};

/// Which reader produced a [`FeedDocument`], for the poll report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedReader {
    /// The feed-rs crate, for well-formed documents of the formats it knows.
    FeedRs,
    /// The forgiving quick-xml walk, for what feed-rs refused or misread.
    Salvage,
}

impl FeedReader {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedReader::FeedRs => "feed-rs",
            FeedReader::Salvage => "salvage",
        }
    }
}

/// One parsed upstream feed.
#[derive(Debug, Clone)]
pub struct FeedDocument {
    /// "RSS 2.0", "Atom", "Atom 0.3", "JSON Feed", ...
    pub kind: &'static str,
    /// The feed's own title, cleaned.
    pub title: Option<String>,
    /// RSS `<ttl>`: minutes the publisher asks readers to cache the feed.
    pub ttl_minutes: Option<u32>,
    /// One draft per usable entry, in document order. `site` is the feed
    /// title; `url` the entry's absolute link when it has one.
    pub drafts: Vec<Draft>,
    /// Entries that gave no draft: their 1-based place among all entries,
    /// and the reason (no title and no text).
    pub skipped: Vec<(usize, &'static str)>,
    /// How the document was repaired before it parsed, for the log.
    pub repairs: Vec<&'static str>,
    /// The reader that produced this document.
    pub reader: FeedReader,
    /// Set when the document was damaged (cut off, malformed past some
    /// point) and only the entries before the damage were kept: the source
    /// served a broken document even though entries were read.
    pub damage: Option<String>,
}

/// Parses a feed with the built-in boilerplate rules. `url` is where the
/// feed was fetched from: relative links resolve against it.
pub fn parse_feed(bytes: &[u8], url: Option<&str>) -> Result<FeedDocument, IngestError> {
    parse_feed_with(bytes, url, None, Boilerplate::builtin())
}

/// [`parse_feed`] with an HTTP `charset` hint and explicit rules.
pub fn parse_feed_with(
    bytes: &[u8],
    url: Option<&str>,
    charset: Option<&str>,
    rules: &Boilerplate,
) -> Result<FeedDocument, IngestError> {
    let mut repairs = Vec::new();
    let (text, note) = super::decode::decode_text(bytes, charset);
    repairs.extend(note);
    let mut text = strip_invalid_chars(&text).into_owned();
    if let Some(trimmed) = repair::strip_leading_junk(&text) {
        // A lone BOM is legal; blank text before the declaration is not.
        if text.trim_start_matches('\u{feff}').len() != trimmed.len() {
            repairs.push("dropped blank text before the XML declaration");
        }
        text = trimmed.to_owned();
    }
    if repair::is_json(&text) {
        return parse_json(&text, url, rules, repairs);
    }
    let text = repair::declare_utf8(&text).into_owned();
    // Relative links resolve against the channel link when the document
    // says nothing; a relative xml:base says to start from its own URL.
    let doc_base = url.filter(|_| repair::has_relative_xml_base(&text));
    let parse_raw = |t: &str| parse_raw(t, doc_base);
    let (first, text) = match parse_raw(&text) {
        Ok(feed) => (Ok(feed), text),
        // What a reader would shrug off: retry once with the ampersands and
        // HTML entities made XML.
        Err(e) => match repair::escape_stray_markup(&text) {
            std::borrow::Cow::Borrowed(_) => (Err(e), text),
            std::borrow::Cow::Owned(fixed) => {
                repairs.push("escaped bare `&`, `<` and HTML entities");
                (parse_raw(&fixed).map_err(|_| e), fixed)
            }
        },
    };
    let truncated = repair::is_truncated(&text);
    let cut = || truncated.then(|| "document cut off".to_owned());
    let clean = |feed: &feed_rs::model::Feed| {
        !truncated && (!feed.entries.is_empty() || !repair::has_item_elements(&text))
    };
    // feed-rs when it read the whole document; else whatever complete
    // items the salvage reader kept; else feed-rs's partial reading.
    let (feed, reader, damage) = match first {
        Ok(feed) if clean(&feed) => {
            let mut raw = convert::from_feed_rs(feed);
            media_rss(&text, doc_base, &mut raw);
            (raw, FeedReader::FeedRs, None)
        }
        first => match (salvage::read(&text, doc_base), first) {
            (Some(s), _) if !s.feed.entries.is_empty() => {
                (s.feed, FeedReader::Salvage, s.damage.or_else(cut))
            }
            (_, Ok(feed)) => (convert::from_feed_rs(feed), FeedReader::FeedRs, cut()),
            (_, Err(e)) => return Err(unreadable(e)),
        },
    };
    Ok(document(feed, &text, url, rules, repairs, reader, damage))
}

fn parse_json(
    text: &str,
    url: Option<&str>,
    rules: &Boilerplate,
    mut repairs: Vec<&'static str>,
) -> Result<FeedDocument, IngestError> {
    let feed = match parse_raw(text, None) {
        Ok(feed) => feed,
        Err(e) => {
            let fixed = repair::coerce_json(text).ok_or_else(|| unreadable(e))?;
            repairs.push("coerced JSON Feed fields of the wrong type");
            parse_raw(&fixed, None).map_err(unreadable)?
        }
    };
    let mut raw = convert::from_feed_rs(feed);
    json_item_images(text, &mut raw);
    Ok(document(
        raw,
        text,
        url,
        rules,
        repairs,
        FeedReader::FeedRs,
        None,
    ))
}

/// feed-rs keeps one kind of an item's media: with Media RSS beside an
/// `<enclosure>` it drops the podcast's audio file for the picture, and
/// an item-level `media:thumbnail` not inside `media:content` is lost.
/// Only documents that declare Media RSS pay for a second reading, by the
/// salvage reader, whose entries list the item's own media elements. What
/// it finds is added to what feed-rs found, never put in its place: each
/// reader sees media the other misses (feed-rs reads `media:group` and
/// `media:content` with children; the salvage reader, the enclosure).
fn media_rss(text: &str, doc_base: Option<&str>, raw: &mut convert::RawFeed) {
    if !text.contains("search.yahoo.com/mrss") {
        return;
    }
    let Some(salvaged) = salvage::read(text, doc_base) else {
        return;
    };
    // Paired by position; only when both readers saw the same items.
    if salvaged.feed.entries.len() != raw.entries.len() {
        return;
    }
    for (entry, seen) in raw.entries.iter_mut().zip(salvaged.feed.entries) {
        if entry.id == seen.id || seen.id.is_empty() {
            for m in seen.media {
                if !entry.media.iter().any(|known| known.url == m.url) {
                    entry.media.push(m);
                }
            }
        }
    }
}

/// JSON Feed items' `image` (the item's main picture) and `banner_image`,
/// which feed-rs does not keep, by item id.
fn json_item_images(text: &str, raw: &mut convert::RawFeed) {
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let Some(items) = doc.get("items").and_then(|i| i.as_array()) else {
        return;
    };
    for item in items {
        let id = match item.get("id") {
            Some(serde_json::Value::String(s)) => s.trim().to_owned(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        let Some(entry) = raw.entries.iter_mut().find(|e| e.id == id) else {
            continue;
        };
        for (field, banner) in [("image", false), ("banner_image", true)] {
            if let Some(u) = item.get(field).and_then(|v| v.as_str()) {
                entry
                    .media
                    .push(convert::RawMedia::picture(u.trim().to_owned(), banner));
            }
        }
    }
}

fn document(
    feed: convert::RawFeed,
    text: &str,
    url: Option<&str>,
    rules: &Boilerplate,
    repairs: Vec<&'static str>,
    reader: FeedReader,
    damage: Option<String>,
) -> FeedDocument {
    // feed-rs keeps the RSS 2.0 <ttl> only; RSS 0.91 has one too.
    let ttl_minutes = feed.ttl.or_else(|| rss_ttl(text));
    let kind = feed.kind;
    let (title, mut drafts, skipped) = convert::drafts(feed, url, rules);
    share_language(&mut drafts);
    FeedDocument {
        kind,
        title,
        ttl_minutes,
        drafts,
        skipped,
        repairs,
        reader,
        damage,
    }
}

/// Items spread over the feed that are detected, when it states no
/// language: its first, middle and last.
const LANGUAGE_PROBES: usize = 3;

/// A feed that states no language is nearly always in one all the same.
/// Detection is the costliest step of reading a plain item, so a few items
/// across the feed are detected and, when they agree, every item takes
/// their language; when they differ (a feed in several languages), each
/// item is detected on its own as before.
fn share_language(drafts: &mut [Draft]) {
    let n = drafts.len();
    if n <= LANGUAGE_PROBES || drafts.iter().any(|d| d.language.is_some()) {
        return;
    }
    let probes = [0, n / 2, n - 1];
    let found: Vec<Option<&'static str>> = probes
        .iter()
        .map(|&i| lang::detect(&crate::model::blocks_text(&drafts[i].blocks)))
        .collect();
    if let Some(Some(first)) = found.first()
        && found.iter().all(|f| f == &Some(*first))
    {
        for d in drafts.iter_mut() {
            d.language = Some((*first).to_owned());
        }
    }
}

/// A lone Atom `<entry>` document is one article: its draft. Anything else
/// detected as a feed is [`IngestError::Feed`].
pub fn parse_entry_document(
    text: &str,
    url: Option<&str>,
    rules: &Boilerplate,
) -> Result<Draft, IngestError> {
    if repair::root_element(text) != Some("entry") {
        return Err(IngestError::Feed);
    }
    let doc = parse_feed_with(text.as_bytes(), url, None, rules)?;
    match doc.drafts.into_iter().next() {
        Some(draft) => Ok(draft),
        None => Err(IngestError::NoArticle(
            "an Atom entry with no title or text",
        )),
    }
}

fn unreadable(e: feed_rs::parser::ParseFeedError) -> IngestError {
    IngestError::Field {
        format: "feed",
        field: None,
        reason: format!("not a readable RSS, Atom or JSON feed: {e}"),
    }
}

/// A base URI is given to feed-rs only for a document with a relative
/// xml:base (`base`): otherwise feed-rs would resolve relative links
/// against the feed URL before the channel link could be tried.
fn parse_raw(
    text: &str,
    base: Option<&str>,
) -> Result<feed_rs::model::Feed, feed_rs::parser::ParseFeedError> {
    let text = repair::drop_late_declarations(text);
    feed_rs::parser::Builder::new()
        .base_uri(base)
        .timestamp_parser(super::dates::parse_feed_date)
        // feed-rs makes up an id for a guid-less entry from its link and
        // title (or a random UUID): it would change with every edit, or every
        // poll, so a missing guid stays missing and the link keys the item.
        .id_generator(|_, _, _| String::new())
        .build()
        .parse(text.as_bytes())
}

/// `<ttl>` of the channel, for the feed types feed-rs does not read it from.
fn rss_ttl(text: &str) -> Option<u32> {
    let start = text.find("<ttl>")? + 5;
    let end = text[start..].find("</ttl>")?;
    text[start..start + end].trim().parse().ok()
}
