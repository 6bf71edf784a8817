//! Upstream feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) → one
//! [`Draft`] per entry.
//!
//! A feed is not one article, so this is not a `normalize` format: the
//! poller and the inbox call [`parse_feed`] and assemble each draft. The
//! exception is a lone Atom `<entry>` document, which is one article
//! ([`parse_entry_document`]).
//!
//! Pure like the rest of ingest. Feeds in the wild are often broken in ways
//! a feed reader shrugs off, and so do we: a wrong declared encoding is
//! overridden (BOM, then valid UTF-8, then the declaration, then the HTTP
//! charset, then Windows-1252); bare `&` and HTML-only entities are escaped
//! and the parse retried; unparseable dates become `None`. Entry HTML goes
//! through the same fragment walker and `ammonia` sanitizer as HTML pages,
//! with relative URLs resolved against the entry's `xml:base`, else the feed
//! URL, else the feed's own site link.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, Utc};
use feed_rs::model::{self, FeedType};

use super::boilerplate::Boilerplate;
use super::clean::{clean_line, strip_invalid_chars, truncate_words};
use super::lines::{lines, parse_body};
use super::{Draft, IngestError, html, lang};
use crate::model::{Block, BlockKind};

/// How long a title made from the body (for title-less RSS items) may be.
const DERIVED_TITLE_CHARS: usize = 90;

/// One parsed upstream feed.
#[derive(Debug, Clone)]
pub struct FeedDocument {
    /// "RSS 2.0", "Atom", "JSON Feed", ...
    pub kind: &'static str,
    /// The feed's own title, cleaned.
    pub title: Option<String>,
    /// RSS `<ttl>`: minutes the publisher asks readers to cache the feed.
    pub ttl_minutes: Option<u32>,
    /// One draft per usable entry, in document order. `site` is the feed
    /// title; `url` the entry's absolute link when it has one.
    pub drafts: Vec<Draft>,
    /// Entries that gave no draft, with the reason (no title and no text).
    pub skipped: Vec<String>,
    /// How the document was repaired before it parsed, for the log.
    pub repairs: Vec<&'static str>,
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
    let text = strip_invalid_chars(&text).into_owned();
    let text = if is_json(&text) {
        text
    } else {
        declare_utf8(&text).into_owned()
    };
    let feed = match parse_raw(&text, url) {
        Ok(feed) => feed,
        Err(e) if is_json(&text) => return Err(unreadable(e)),
        // What a reader would shrug off: retry once with the ampersands fixed.
        Err(e) => match escape_bare_ampersands(&text) {
            Cow::Borrowed(_) => return Err(unreadable(e)),
            Cow::Owned(fixed) => {
                let feed = parse_raw(&fixed, url).map_err(|_| unreadable(e))?;
                repairs.push("escaped bare `&` and HTML entities");
                feed
            }
        },
    };
    Ok(convert(feed, &text, url, rules, repairs))
}

/// A lone Atom `<entry>` document is one article: its draft. Anything else
/// detected as a feed is [`IngestError::Feed`].
pub fn parse_entry_document(
    text: &str,
    url: Option<&str>,
    rules: &Boilerplate,
) -> Result<Draft, IngestError> {
    if root_element(text) != Some("entry") {
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

fn parse_raw(
    text: &str,
    url: Option<&str>,
) -> Result<model::Feed, feed_rs::parser::ParseFeedError> {
    feed_rs::parser::Builder::new()
        .base_uri(url)
        .build()
        .parse(text.as_bytes())
}

fn is_json(text: &str) -> bool {
    text.trim_start_matches(['\u{feff}', ' ', '\t', '\n', '\r'])
        .starts_with('{')
}

/// The text is UTF-8 now: make the declaration say so, or the XML reader
/// would decode it a second time.
fn declare_utf8(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\n', '\r']);
    let Some(after) = trimmed.strip_prefix("<?xml") else {
        return Cow::Borrowed(trimmed);
    };
    let Some(end) = after.find("?>") else {
        return Cow::Borrowed(trimmed);
    };
    let decl = &after[..end];
    if !decl.contains("encoding") {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"");
    out.push_str(&after[end..]);
    Cow::Owned(out)
}

// ---------------------------------------------------------------- repair

/// The five entities XML predefines; everything else needs a DTD.
const XML_ENTITIES: &[&str] = &["amp", "lt", "gt", "quot", "apos"];

/// Escapes every `&` that does not start an XML reference, and turns HTML
/// named entities (`&nbsp;`, `&eacute;`), which XML does not know, into
/// numeric references. Borrowed when nothing needed escaping.
fn escape_bare_ampersands(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut last = 0;
    for (i, _) in text.match_indices('&') {
        let rest = &text[i + 1..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let terminated = rest[name_len..].starts_with(';');
        let replacement: Option<String> = if terminated && is_xml_reference(name) {
            None
        } else if terminated && !name.is_empty() {
            let entity = format!("&{name};");
            let decoded = html_escape::decode_html_entities(&entity);
            if decoded != entity {
                let refs: String = decoded
                    .chars()
                    .map(|c| format!("&#{};", c as u32))
                    .collect();
                out.push_str(&text[last..i]);
                out.push_str(&refs);
                last = i + 1 + name_len + 1;
                continue;
            }
            Some("&amp;".into())
        } else {
            Some("&amp;".into())
        };
        if let Some(r) = replacement {
            out.push_str(&text[last..i]);
            out.push_str(&r);
            last = i + 1;
        }
    }
    if last == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

fn is_xml_reference(name: &str) -> bool {
    if let Some(num) = name.strip_prefix('#') {
        return match num.strip_prefix(['x', 'X']) {
            Some(hex) => !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()),
            None => !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()),
        };
    }
    XML_ENTITIES.contains(&name)
}

/// The local name of the document's root element, skipping the prolog,
/// comments and processing instructions.
fn root_element(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches(['\u{feff}', ' ', '\t', '\n', '\r']);
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[r.find("?>")? + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[r.find("-->")? + 3..];
        } else if let Some(r) = rest.strip_prefix("<!") {
            rest = &r[r.find('>')? + 1..];
        } else {
            let r = rest.strip_prefix('<')?;
            let end = r
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(r.len());
            let name = &r[..end];
            return Some(name.rsplit(':').next().unwrap_or(name));
        }
    }
}

// ---------------------------------------------------------------- mapping

fn convert(
    feed: model::Feed,
    text: &str,
    url: Option<&str>,
    rules: &Boilerplate,
    repairs: Vec<&'static str>,
) -> FeedDocument {
    let kind = match feed.feed_type {
        FeedType::Atom => "Atom",
        FeedType::JSON => "JSON Feed",
        FeedType::RSS0 => "RSS 0.9x",
        FeedType::RSS1 => "RSS 1.0",
        FeedType::RSS2 => "RSS 2.0",
    };
    let title = feed.title.as_ref().map(text_of).filter(|t| !t.is_empty());
    let feed_url = url.and_then(|u| url::Url::parse(u).ok());
    // Without a fetch URL (a feed file dropped in the inbox), the feed's own
    // site link is the best base there is.
    let site_link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .and_then(|l| url::Url::parse(&l.href).ok());
    let base = feed_url.or(site_link);
    let language = feed.language.as_deref().and_then(lang::normalize_tag);
    let mut drafts = Vec::new();
    let mut skipped = Vec::new();
    for (i, entry) in feed.entries.into_iter().enumerate() {
        match entry_draft(
            entry,
            base.as_ref(),
            title.as_deref(),
            language.as_deref(),
            rules,
        ) {
            Ok(d) => drafts.push(d),
            Err(reason) => skipped.push(format!("entry {}: {reason}", i + 1)),
        }
    }
    // feed-rs keeps the RSS 2.0 <ttl> only; RSS 0.91 has one too.
    let ttl_minutes = feed.ttl.or_else(|| rss_ttl(text));
    FeedDocument {
        kind,
        title,
        ttl_minutes,
        drafts,
        skipped,
        repairs,
    }
}

/// `<ttl>` of the channel, for the feed types feed-rs does not read it from.
fn rss_ttl(text: &str) -> Option<u32> {
    let start = text.find("<ttl>")? + 5;
    let end = text[start..].find("</ttl>")?;
    text[start..start + end].trim().parse().ok()
}

fn entry_draft(
    entry: model::Entry,
    feed_base: Option<&url::Url>,
    site: Option<&str>,
    feed_language: Option<&str>,
    rules: &Boilerplate,
) -> Result<Draft, &'static str> {
    // xml:base on the entry wins over the feed URL.
    let base = match entry.base.as_deref() {
        Some(b) => match feed_base {
            Some(fb) => fb.join(b).ok(),
            None => url::Url::parse(b).ok(),
        },
        None => None,
    }
    .or_else(|| feed_base.cloned());
    let link = entry_link(&entry, base.as_ref());
    // Relative links in the body resolve against the entry's own page when
    // there is one: that is where they were written.
    let body_base = link
        .as_deref()
        .and_then(|l| url::Url::parse(l).ok())
        .or_else(|| base.clone());
    let body_base_str = body_base.as_ref().map(url::Url::as_str);

    let summary_text = entry
        .summary
        .as_ref()
        .map(text_of)
        .filter(|s| !s.is_empty());
    let (blocks, html) = match (&entry.content, &entry.summary) {
        (Some(content), _)
            if content
                .body
                .as_deref()
                .is_some_and(|b| !b.trim().is_empty()) =>
        {
            let body = content.body.as_deref().unwrap_or_default();
            let is_html = matches!(content.content_type.subty().as_str(), "html" | "xhtml");
            body_of(body, is_html, body_base_str, rules)
        }
        (_, Some(summary)) if !summary.content.trim().is_empty() => {
            let is_html = matches!(summary.content_type.subty().as_str(), "html" | "xhtml");
            body_of(&summary.content, is_html, body_base_str, rules)
        }
        _ => (Vec::new(), None),
    };
    // The summary is the body when there is no separate content: let
    // assemble derive it, instead of repeating the body.
    let summary = if entry.content.is_some() {
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
    })
}

/// The entry's web page: the first alternate (or untyped) link, else a
/// GUID that is a URL (RSS `isPermaLink`), absolute against `base`.
fn entry_link(entry: &model::Entry, base: Option<&url::Url>) -> Option<String> {
    let resolve = |href: &str| -> Option<String> {
        let href = href.trim();
        let url = match base {
            Some(b) => b.join(href).ok()?,
            None => url::Url::parse(href).ok()?,
        };
        matches!(url.scheme(), "http" | "https").then(|| url.to_string())
    };
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
        .or_else(|| {
            let id = entry.id.trim();
            (id.starts_with("http://") || id.starts_with("https://"))
                .then(|| resolve(id))
                .flatten()
        })
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
            super::clean::decode_entities(body).into_owned()
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
fn text_of(t: &model::Text) -> String {
    if matches!(t.content_type.subty().as_str(), "html" | "xhtml") && t.content.contains('<') {
        let plain = ammonia::Builder::empty()
            .clean_content_tags(["script", "style"].into_iter().collect())
            .clean(&t.content)
            .to_string();
        clean_line(&plain)
    } else {
        clean_line(&t.content)
    }
}

/// Author names: "jane@example.org (Jane Doe)" → "Jane Doe"; bare e-mail
/// addresses are not names and are dropped.
fn authors(people: &[model::Person]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in people {
        let Some(raw) = p.name.as_deref() else {
            continue;
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ampersands_and_html_entities_become_xml() {
        assert_eq!(
            escape_bare_ampersands("A & B &amp; C &#38; &#x26; &nbsp; &bogus; &"),
            "A &amp; B &amp; C &#38; &#x26; &#160; &amp;bogus; &amp;"
        );
        assert!(matches!(
            escape_bare_ampersands("nothing here"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn declaration_rewritten_to_utf8() {
        assert_eq!(
            declare_utf8("<?xml version='1.0' encoding='ISO-8859-1'?><rss/>"),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>"
        );
        assert_eq!(declare_utf8("<rss/>"), "<rss/>");
    }

    #[test]
    fn encodings_decided_like_a_reader() {
        // Declared Latin-1, actually UTF-8.
        let (t, note) = crate::ingest::decode::decode_text(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>café</a>".as_bytes(),
            None,
        );
        assert!(t.contains("café") && note.is_some());
        // Declared UTF-8, actually Windows-1252.
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>caf".to_vec();
        bytes.extend([0xe9, b'<', b'/', b'a', b'>']);
        let (t, note) = crate::ingest::decode::decode_text(&bytes, None);
        assert!(t.contains("café") && note.is_some(), "{t}");
        // Declared and really Latin-1.
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>caf".to_vec();
        bytes.extend([0xe9, b'<', b'/', b'a', b'>']);
        let (t, note) = crate::ingest::decode::decode_text(&bytes, None);
        assert!(t.contains("café") && note.is_none(), "{t}");
    }

    #[test]
    fn root_element_skips_prolog() {
        assert_eq!(
            root_element("<?xml version=\"1.0\"?>\n<!-- c -->\n<entry xmlns=\"x\">"),
            Some("entry")
        );
        assert_eq!(root_element("<rdf:RDF>"), Some("RDF"));
    }

    #[test]
    fn rss_item_to_draft() {
        let xml = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>Harbour News</title><link>https://news.example/</link>
<ttl>45</ttl><language>en-gb</language>
<item><title>Port &amp; rail deal</title><link>/2024/port-rail?utm_source=rss</link>
<author>desk@news.example (Ana Lima)</author>
<pubDate>Tue, 05 Mar 2024 09:30:00 +0100</pubDate>
<description>&lt;p&gt;The port signed a rail deal.&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;p onclick="x()"&gt;Trains start in May. &lt;img src="/img/a.jpg"&gt;&lt;/p&gt;</description>
</item>
<item><description>No title here, only a line of text about the harbour.</description></item>
<item><pubDate>garbage</pubDate></item>
</channel></rss>"#;
        let doc = parse_feed(xml.as_bytes(), Some("https://news.example/feed.xml")).unwrap();
        assert_eq!(doc.kind, "RSS 2.0");
        assert_eq!(doc.title.as_deref(), Some("Harbour News"));
        assert_eq!(doc.ttl_minutes, Some(45));
        assert_eq!(doc.drafts.len(), 2);
        assert_eq!(doc.skipped.len(), 1);
        let d = &doc.drafts[0];
        assert_eq!(d.title, "Port & rail deal");
        assert_eq!(
            d.url.as_deref(),
            Some("https://news.example/2024/port-rail?utm_source=rss")
        );
        assert_eq!(d.authors, ["Ana Lima"]);
        assert_eq!(d.language.as_deref(), Some("en"));
        assert_eq!(
            d.published.map(|p| p.to_rfc3339()),
            Some("2024-03-05T08:30:00+00:00".into())
        );
        let html = d.html.as_deref().unwrap();
        assert!(
            !html.contains("script") && !html.contains("onclick"),
            "{html}"
        );
        assert!(
            html.contains("src=\"https://news.example/img/a.jpg\""),
            "{html}"
        );
        assert_eq!(d.blocks.len(), 2);
        assert!(doc.drafts[1].title.starts_with("No title here"));
    }

    #[test]
    fn wrong_encoding_and_bare_ampersands_repaired() {
        let bytes = include_bytes!("../../tests/fixtures/upstream/malformed-1252-amp.xml");
        let doc = parse_feed(bytes, None).unwrap();
        assert_eq!(
            doc.repairs,
            [
                "not valid UTF-8 as declared; decoded as Windows-1252",
                "escaped bare `&` and HTML entities"
            ]
        );
        assert_eq!(doc.title.as_deref(), Some("Café & Bistro Weekly"));
        assert_eq!(doc.drafts[0].title, "Fish & chips shop wins café award");
        assert_eq!(doc.drafts[0].published, None);
    }

    #[test]
    fn lone_atom_entry_is_an_article() {
        let xml = r#"<entry xmlns="http://www.w3.org/2005/Atom"><title>One</title>
<link href="https://a.example/one"/><updated>2024-01-02T03:04:05Z</updated>
<content type="html">&lt;p&gt;Body text of the entry.&lt;/p&gt;</content></entry>"#;
        let d = parse_entry_document(xml, None, Boilerplate::builtin()).unwrap();
        assert_eq!(d.title, "One");
        assert_eq!(d.url.as_deref(), Some("https://a.example/one"));
        let feed = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>x</title></feed>";
        assert!(matches!(
            parse_entry_document(feed, None, Boilerplate::builtin()),
            Err(IngestError::Feed)
        ));
    }
}
