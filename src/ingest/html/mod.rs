//! HTML article pages → a [`Draft`].
//!
//! `dom_smoothie` (a port of Mozilla's Readability) finds the main content
//! and the page metadata; this module then walks that content into blocks,
//! removes the boilerplate the text rules recognise (a "Related" list or
//! share bar inside the article), and sanitizes what remains with `ammonia`
//! for `content_html`. A page past [`MANY_ELEMENTS`] skips Readability and
//! its whole body is walked instead, so its CPU cost stays bounded (and its
//! text kept). What a reader never sees as article text (hidden
//! elements, captions, page chrome) is pruned from the DOM first, and an
//! element's text is joined as a browser lays it out (`dom`). DOM types here are `!Send`: callers on an async
//! runtime run this in `spawn_blocking`.

use std::collections::HashSet;

use dom_query::{Document, NodeRef};

use super::boilerplate::{Boilerplate, word_count};
use super::byline::parse_names;
use super::clean::{clean_line, sanitize_html};
use super::dates::parse_date;
use super::dom::{
    Scope, holds_blocks, is_cell, is_container, layout_text, prune, push_layout_text,
};
use super::lines::Body;
use super::meta::{Kind, meta_line};
use super::{Draft, IngestError, lang};
use crate::model::{Block, BlockKind};

/// What a content fragment gave: blocks, and sanitized HTML of the same.
pub struct Extracted {
    pub blocks: Vec<Block>,
    pub html: String,
    /// Byline and dates found in the fragment's opening lines.
    pub(super) meta: Body,
}

/// Parses a whole page.
pub fn parse_page(
    page: &str,
    url: Option<&str>,
    rules: &Boilerplate,
) -> Result<Draft, IngestError> {
    let base = url.filter(|u| url::Url::parse(u).is_ok());
    // Pruned before Readability scores it: a hidden pop-up or a gallery's
    // captions would otherwise count as text, and Readability strips the
    // class names and styles that tell them apart from its output.
    let doc = Document::from(&*super::nesting::flatten_html(page));
    let elements = prune(&doc.root(), rules, Scope::Page);
    let canonical = canonical_url(&doc, base);
    let (article, content) = main_content(doc, base, elements)?;
    let mut extracted = match content {
        Content::Html(html) => parse_fragment(&html, base, rules),
        Content::Page(doc) => extract(&doc, base, rules),
    };
    let mut meta = std::mem::take(&mut extracted.meta);
    let title = clean_line(&article.title);
    let site = article
        .site_name
        .as_deref()
        .map(clean_line)
        .filter(|s| !s.is_empty());
    let title = strip_site_from_title(&title, site.as_deref());
    let mut authors = article
        .byline
        .as_deref()
        .map(|b| {
            // The same name rules as a scrape's byline ("By Jane Roe, Staff
            // Writer", "Jane Roe and Tom Hale").
            let b = clean_line(b);
            parse_names(rules.byline_rest(&b).unwrap_or(&b), rules)
        })
        .unwrap_or_default();
    if authors.is_empty() {
        authors = std::mem::take(&mut meta.authors);
    }
    let date = |s: &Option<String>| s.as_deref().and_then(|s| parse_date(s, rules));
    Ok(Draft {
        title,
        site,
        // Where the page was fetched from wins over what it says of itself:
        // a page must not claim another story's address (and so its id).
        url: article
            .url
            .clone()
            .or_else(|| base.map(str::to_owned))
            .or(canonical),
        authors,
        published: date(&article.published_time).or(meta.published),
        updated: date(&article.modified_time).or(meta.updated),
        language: article.lang.as_deref().and_then(lang::normalize_tag),
        // Readability's excerpt falls back to the first paragraph, which may
        // be the byline; the body's own standfirst or opening is better.
        summary: None,
        image: lead_image(article.image.as_deref(), &extracted.html),
        blocks: extracted.blocks,
        html: Some(extracted.html),
        ..Draft::default()
    })
}

/// The page's own address as it states it (`<link rel="canonical">`, else
/// `og:url`): a page sent without its URL (the ingest API, a saved file)
/// still gets its link.
fn canonical_url(doc: &Document, base: Option<&str>) -> Option<String> {
    let stated = doc
        .select(r#"link[rel="canonical"][href]"#)
        .attr("href")
        .or_else(|| {
            doc.select(r#"meta[property="og:url"][content]"#)
                .attr("content")
        })?;
    let base = base.and_then(|b| url::Url::parse(b).ok());
    crate::model::absolute_http(&stated, base.as_ref())
}

/// The page's lead image: its `og:image` or `twitter:image` (Readability's
/// metadata), else the first image in the article's own content. Relative
/// URLs are resolved with the rest in `assemble`.
fn lead_image(meta: Option<&str>, content_html: &str) -> Option<crate::model::Image> {
    let stated = meta.map(str::trim).filter(|u| !u.is_empty());
    let url = match stated {
        Some(u) => u.to_owned(),
        None if content_html.contains("<img") => Document::from(content_html)
            .select("img[src]")
            .iter()
            .find_map(|img| img.attr("src").map(|s| s.trim().to_owned()))
            .filter(|s| !s.is_empty())?,
        None => return None,
    };
    Some(crate::model::Image::new(url))
}

/// Elements (after parsing, so with the formatting elements the parser
/// reopens in every paragraph) above which a page skips Readability.
/// Readability scores and cleans every element, up to four times over
/// (it retries with looser policies while it finds under 500 characters):
/// 40–100 ms on a 2 MiB page at `nesting::MAX_HTML_TAGS`, on top of the
/// parsing and sanitizing every page needs. Article pages, even heavy
/// ones, hold a few thousand elements; past this many the page's whole
/// pruned body is the content instead, so no text is lost, and the
/// fragment rules (page chrome, boilerplate lines) still clean it.
const MANY_ELEMENTS: usize = 20_000;

/// A page's main content.
enum Content {
    /// Readability's pick, as HTML.
    Html(String),
    /// The whole page, read as it is: it was too large for Readability
    /// (see [`MANY_ELEMENTS`]), and is walked without being serialized and
    /// parsed again.
    Page(Document),
}

/// The page's metadata and its main content: Readability's pick, or the
/// whole body of a page too large for it (see [`MANY_ELEMENTS`]).
fn main_content(
    doc: Document,
    base: Option<&str>,
    elements: usize,
) -> Result<(dom_smoothie::Metadata, Content), IngestError> {
    let mut readability = dom_smoothie::Readability::with_document(doc, base, None)
        .map_err(|e| IngestError::Html(e.to_string()))?;
    if elements > MANY_ELEMENTS {
        let meta = readability.get_article_metadata(readability.parse_json_ld());
        return Ok((meta, Content::Page(readability.doc)));
    }
    let a = readability
        .parse()
        .map_err(|e| IngestError::Html(format!("no main content found: {e}")))?;
    let meta = dom_smoothie::Metadata {
        title: a.title,
        byline: a.byline,
        excerpt: a.excerpt,
        site_name: a.site_name,
        published_time: a.published_time,
        modified_time: a.modified_time,
        image: a.image,
        favicon: a.favicon,
        lang: a.lang,
        url: a.url,
        dir: a.dir,
    };
    Ok((meta, Content::Html(a.content.to_string())))
}

/// Readability keeps "Headline | Site" titles as they are when unsure.
fn strip_site_from_title(title: &str, site: Option<&str>) -> String {
    if let Some(site) = site {
        for sep in [" | ", " - ", " – ", " — "] {
            if let Some(t) = title.strip_suffix(&format!("{sep}{site}")) {
                return t.to_owned();
            }
            if let Some(t) = title.strip_prefix(&format!("{site}{sep}")) {
                return t.to_owned();
            }
        }
    }
    title.to_owned()
}

/// A paragraph repeated word for word is a gallery's caption on every
/// slide or a pull quote; shorter lines ("Yes.") may repeat in earnest.
const REPEAT_MIN_WORDS: usize = 4;

/// Walks an HTML fragment into blocks, dropping boilerplate nodes from the
/// HTML too, then sanitizes the HTML.
pub fn parse_fragment(fragment: &str, base: Option<&str>, rules: &Boilerplate) -> Extracted {
    extract(
        &Document::from(&*super::nesting::flatten_html(fragment)),
        base,
        rules,
    )
}

/// [`parse_fragment`] on a parsed document: its body (or whole tree) is
/// the fragment.
fn extract(doc: &Document, base: Option<&str>, rules: &Boilerplate) -> Extracted {
    let root = doc.body().unwrap_or_else(|| doc.root());
    prune(&root, rules, Scope::Fragment);
    let mut found: Vec<(BlockKind, String, NodeRef<'_>)> = Vec::new();
    walk(&root, &mut found);

    let mut blocks = Vec::new();
    let mut meta = Body::default();
    let mut ended = false;
    let mut seen = HashSet::new();
    for (kind, line, node) in &found {
        let class = rules.classify(line);
        let drop = ended
            || if class.end {
                ended = true;
                true
            } else {
                class.junk
                    || class.list_header
                    || class.credit
                    || (*kind == BlockKind::Paragraph
                        && word_count(line) >= REPEAT_MIN_WORDS
                        && !seen.insert(line.as_str()))
                    // Bylines and date lines at the top are metadata, not body.
                    || (blocks.len() < 3
                        && meta_line(line, true, rules, &mut meta) == Kind::Meta)
            };
        if drop {
            node.remove_from_parent();
        } else {
            blocks.push(Block::new(*kind, line.clone()));
        }
    }
    let base_url = base.and_then(|b| url::Url::parse(b).ok());
    let html = sanitize_html(&root.inner_html(), base_url.as_ref());
    Extracted { blocks, html, meta }
}

/// How the walk treats one element.
enum Role {
    /// `<br>`: a space in the run of inline text.
    Break,
    /// One block of the article, its text laid out on one line.
    Block(BlockKind),
    /// Holds blocks: walked into.
    Container,
    /// Part of the run of inline text around it.
    Inline,
}

fn role(node: &NodeRef<'_>, name: &str) -> Role {
    let kind = match name {
        "br" => return Role::Break,
        "p" | "pre" => Some(BlockKind::Paragraph),
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Some(BlockKind::Subheading),
        "li" => Some(BlockKind::ListItem),
        "blockquote" => Some(BlockKind::Quote),
        _ => None,
    };
    // A list item or table cell holding paragraphs is walked like a
    // container, so each paragraph stays a block.
    if is_cell(name) && holds_blocks(node) {
        return Role::Container;
    }
    match kind {
        Some(kind) => Role::Block(kind),
        None if is_container(name) => Role::Container,
        None => Role::Inline,
    }
}

/// Inline content between blocks, gathered into one paragraph.
#[derive(Default)]
struct Run<'a> {
    text: String,
    /// The run's first node: removed from the HTML if the run is junk.
    first: Option<NodeRef<'a>>,
}

impl<'a> Run<'a> {
    fn flush(&mut self, out: &mut Vec<(BlockKind, String, NodeRef<'a>)>) {
        let text = clean_line(&self.text);
        if let Some(n) = self.first.take()
            && !text.is_empty()
        {
            out.push((BlockKind::Paragraph, text, n));
        }
        self.text.clear();
    }
}

fn walk<'a>(node: &NodeRef<'a>, out: &mut Vec<(BlockKind, String, NodeRef<'a>)>) {
    let mut run = Run::default();
    for child in node.children() {
        if child.is_text() {
            let t = child.text();
            if !t.trim().is_empty() {
                run.first.get_or_insert(child);
            }
            run.text.push_str(&t);
            continue;
        }
        let Some(name) = child.node_name() else {
            continue;
        };
        match role(&child, &name) {
            Role::Break => run.text.push(' '),
            Role::Block(kind) => {
                run.flush(out);
                let text = layout_text(&child);
                if !text.is_empty() {
                    out.push((kind, text, child));
                }
            }
            Role::Container => {
                run.flush(out);
                walk(&child, out);
            }
            Role::Inline => {
                push_layout_text(&child, &mut run.text);
                run.first.get_or_insert(child);
            }
        }
    }
    run.flush(out);
}

#[cfg(test)]
mod tests;
