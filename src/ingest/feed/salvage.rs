//! The fallback reader: a forgiving walk over the XML events with
//! quick-xml, for the documents feed-rs refuses or misreads (Atom 0.3, the
//! old Userland RSS namespace, a document cut off in transit, one broken
//! tag). It keeps every item whose end tag it saw, matches elements by
//! local name whatever their namespace, and stops at the first error,
//! saying where.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::convert::{RawEntry, RawFeed, RawLink, RawMedia, RawText};
use crate::ingest::dates::parse_feed_date;

/// What the salvage reader made of a document.
pub(super) struct Salvaged {
    pub feed: RawFeed,
    /// Why reading stopped early, when it did.
    pub damage: Option<String>,
}

/// One open element: its local name, where its content starts, its
/// attributes (local name → value), and the xml:base in scope inside it.
struct Open {
    name: String,
    content_start: usize,
    attrs: Vec<(String, String)>,
    base: Option<url::Url>,
}

impl Open {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads `text` (UTF-8, entities already made XML) as a feed; `None` when
/// its root is not a feed element. Links are resolved against `xml:base`
/// only: the channel link and the feed URL come later, in that order.
pub(super) fn read(text: &str, doc_base: Option<&str>) -> Option<Salvaged> {
    let doc_base = doc_base.and_then(|u| url::Url::parse(u).ok());
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    let mut feed = RawFeed::default();
    let mut stack: Vec<Open> = Vec::new();
    // The item being read and the depth of its element.
    let mut item: Option<(usize, RawEntry)> = None;
    let damage = loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => break Some(format!("malformed XML near byte {before}: {e}")),
        };
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match event {
            Event::Start(start) if stack.is_empty() => {
                feed.kind = feed_kind(&start)?;
                stack.push(open_element(&start, after, doc_base.as_ref()));
            }
            Event::Empty(start) if stack.is_empty() => {
                feed.kind = feed_kind(&start)?;
                break None;
            }
            Event::Start(start) => {
                let parent_base = stack.last().and_then(|o| o.base.clone());
                let open = open_element(&start, after, parent_base.as_ref());
                if item.is_none() && matches!(open.name.as_str(), "item" | "entry") {
                    let entry = RawEntry {
                        base: open.base.as_ref().map(url::Url::to_string),
                        ..RawEntry::default()
                    };
                    item = Some((stack.len(), entry));
                }
                stack.push(open);
            }
            Event::Empty(start) => {
                // `<link href="…"/>`, `<enclosure url="…"/>`: all in the attributes.
                let parent_base = stack.last().and_then(|o| o.base.clone());
                let open = open_element(&start, after, parent_base.as_ref());
                let depth = stack.len();
                element_done(&open, "", depth, &stack, &mut item, &mut feed);
            }
            Event::End(_) => {
                let Some(open) = stack.pop() else {
                    continue;
                };
                let inner = text.get(open.content_start..before).unwrap_or_default();
                let depth = stack.len();
                element_done(&open, inner, depth, &stack, &mut item, &mut feed);
                if stack.is_empty() {
                    break None;
                }
            }
            Event::Eof => {
                break (!stack.is_empty()).then(|| {
                    let cut = match &item {
                        Some(_) => "inside an item",
                        None => "before its end",
                    };
                    format!("document cut off {cut}")
                });
            }
            _ => {}
        }
    };
    Some(Salvaged { feed, damage })
}

fn feed_kind(root: &BytesStart<'_>) -> Option<&'static str> {
    let local = root.local_name();
    let version = attr_value(root, b"version");
    let atom03 = root
        .attributes()
        .flatten()
        .any(|a| a.value.as_ref() == b"http://purl.org/atom/ns#");
    match local.as_ref() {
        b"rss" => Some(match version.as_deref() {
            Some(v) if v.starts_with("0.9") => "RSS 0.9x",
            _ => "RSS 2.0",
        }),
        b"RDF" => Some("RSS 1.0"),
        b"feed" if atom03 || version.as_deref() == Some("0.3") => Some("Atom 0.3"),
        b"feed" => Some("Atom"),
        _ => None,
    }
}

fn attr_value(start: &BytesStart<'_>, local: &[u8]) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .map(|a| attr_text(&a.value))
}

/// The document is UTF-8 by now, and its references all XML or HTML ones.
fn attr_text(raw: &[u8]) -> String {
    html_escape::decode_html_entities(&String::from_utf8_lossy(raw)).into_owned()
}

fn open_element(start: &BytesStart<'_>, content_start: usize, parent: Option<&url::Url>) -> Open {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    let mut base = parent.cloned();
    for a in start.attributes().flatten() {
        let key = a.key.as_ref();
        let value = attr_text(&a.value);
        if key == b"xml:base" {
            base = match &base {
                Some(b) => b.join(value.trim()).ok(),
                None => url::Url::parse(value.trim()).ok(),
            };
            continue;
        }
        let local = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        attrs.push((local, value));
    }
    Open {
        name,
        content_start,
        attrs,
        base,
    }
}

/// Records a closed element: an entry field when inside an item, a feed
/// field when a child of the channel or feed, the item itself when it
/// closes. `depth` is the number of elements still open around it.
fn element_done(
    open: &Open,
    inner: &str,
    depth: usize,
    stack: &[Open],
    item: &mut Option<(usize, RawEntry)>,
    feed: &mut RawFeed,
) {
    if let Some((item_depth, entry)) = item.as_mut() {
        if depth == *item_depth {
            if let Some((_, done)) = item.take() {
                feed.entries.push(done);
            }
            return;
        }
        let parent = stack.last().map(|o| o.name.as_str());
        if depth == *item_depth + 1 {
            entry_field(open, inner, entry);
        } else if open.name == "name" && parent == Some("author") {
            entry.authors.push(text_content(inner));
        }
        return;
    }
    // Feed-level fields are children of <channel> (RSS) or <feed> (Atom).
    let parent = stack.last().map(|o| o.name.as_str());
    let grandparent = stack.len().checked_sub(2).map(|i| stack[i].name.as_str());
    if open.name == "name" && parent == Some("author") && grandparent == Some("feed") {
        feed.authors.push(text_content(inner));
        return;
    }
    if !matches!(parent, Some("channel" | "feed")) {
        return;
    }
    match open.name.as_str() {
        "title" if feed.title.is_none() => feed.title = Some(text_construct(open, inner)),
        "link" if feed.site_link.is_none() => {
            let rel = open.attr("rel");
            if rel.is_none_or(|r| r == "alternate") {
                let href = open
                    .attr("href")
                    .map_or_else(|| text_content(inner), str::to_owned);
                feed.site_link = Some(resolve(open, &href));
            }
        }
        "language" => feed.language = Some(text_content(inner)),
        "ttl" => feed.ttl = text_content(inner).parse().ok(),
        _ => {}
    }
}

fn entry_field(open: &Open, inner: &str, entry: &mut RawEntry) {
    match open.name.as_str() {
        "title" => entry.title = Some(text_construct(open, inner)),
        "link" => {
            let href = open
                .attr("href")
                .map_or_else(|| text_content(inner), str::to_owned);
            let rel = open.attr("rel").map(str::to_owned);
            if rel.as_deref() == Some("enclosure") {
                entry.media.push(RawMedia::file(
                    resolve(open, &href),
                    open.attr("type").map(str::to_owned),
                    open.attr("length").and_then(|l| l.trim().parse().ok()),
                ));
            }
            entry.links.push(RawLink {
                href: resolve(open, &href),
                rel,
                media_type: open.attr("type").map(str::to_owned),
            });
        }
        "guid" | "id" => {
            entry.id = text_content(inner);
            let permalink = open.attr("isPermaLink").is_none_or(|p| p != "false");
            entry.id_is_link = (open.name == "guid" && permalink || open.name == "id")
                && (entry.id.starts_with("http://") || entry.id.starts_with("https://"));
        }
        "description" | "summary" if entry.summary.is_none() => {
            entry.summary = Some(body_construct(open, inner));
        }
        // Media RSS's <media:content url="…"/> shares Atom's local name.
        "content" if open.attr("url").is_some() && inner.trim().is_empty() => {
            if let Some(u) = open.attr("url") {
                let mut m = RawMedia::file(
                    resolve(open, u),
                    open.attr("type").map(str::to_owned),
                    open.attr("fileSize").and_then(|l| l.trim().parse().ok()),
                );
                m.picture = open.attr("medium") == Some("image");
                entry.media.push(m);
            }
        }
        "thumbnail" => {
            if let Some(u) = open.attr("url") {
                entry.media.push(RawMedia::thumbnail(resolve(open, u)));
            }
        }
        "content" | "encoded" => entry.content = Some(body_construct(open, inner)),
        "pubDate" | "published" | "issued" | "date" | "created" => {
            entry.published = entry.published.or(parse_feed_date(&text_content(inner)));
        }
        "updated" | "modified" => entry.updated = parse_feed_date(&text_content(inner)),
        "author" | "creator" => {
            let name = text_content(inner);
            // Atom's <author> holds a <name>, recorded when it closes.
            if !inner.contains('<') && !name.is_empty() {
                entry.authors.push(name);
            }
        }
        "enclosure" => {
            if let Some(u) = open.attr("url") {
                entry.media.push(RawMedia::file(
                    resolve(open, u),
                    open.attr("type").map(str::to_owned),
                    open.attr("length").and_then(|l| l.trim().parse().ok()),
                ));
            }
        }
        "language" => entry.language = Some(text_content(inner)),
        _ => {}
    }
}

fn resolve(open: &Open, href: &str) -> String {
    let href = href.trim();
    open.base
        .as_ref()
        .and_then(|b| b.join(href).ok())
        .map_or_else(|| href.to_owned(), |u| u.to_string())
}

/// A title-like construct: HTML when Atom says so (`type="html"`, Atom
/// 0.3's `mode="escaped"`), else plain text.
fn text_construct(open: &Open, inner: &str) -> RawText {
    let kind = open.attr("type").unwrap_or_default();
    // Atom 0.3 `mode="base64"`: the document of `type`, encoded. Text that
    // does not decode is no text.
    if open.attr("mode") == Some("base64") {
        use base64::Engine as _;
        let packed: String = text_content(inner).split_whitespace().collect();
        let text = base64::engine::general_purpose::STANDARD
            .decode(packed)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        return RawText {
            text,
            html: kind.contains("html"),
        };
    }
    let html = kind.contains("html") || open.attr("mode") == Some("escaped");
    if kind == "xhtml" || kind == "application/xhtml+xml" {
        return RawText {
            text: inner.trim().to_owned(),
            html: true,
        };
    }
    RawText {
        text: text_content(inner),
        html,
    }
}

/// An entry body: RSS descriptions and `content:encoded` are HTML.
fn body_construct(open: &Open, inner: &str) -> RawText {
    let mut t = text_construct(open, inner);
    if !matches!(open.name.as_str(), "summary" | "content") {
        t.html = true;
    }
    t
}

/// The text of an element's content: CDATA taken as is, references
/// decoded (html-escape knows the HTML5 names too), tags dropped.
fn text_content(inner: &str) -> String {
    let mut out = String::new();
    let mut rest = inner;
    while let Some(at) = rest.find("<![CDATA[") {
        out.push_str(&decode_outside_cdata(&rest[..at]));
        let body = &rest[at + 9..];
        let end = body.find("]]>").unwrap_or(body.len());
        out.push_str(&body[..end]);
        rest = body.get(end + 3..).unwrap_or_default();
    }
    out.push_str(&decode_outside_cdata(rest));
    out.trim().to_owned()
}

fn decode_outside_cdata(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&plain).into_owned()
}
