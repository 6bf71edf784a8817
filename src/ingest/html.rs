//! HTML article pages → a [`Draft`].
//!
//! `dom_smoothie` (a port of Mozilla's Readability) finds the main content
//! and the page metadata; this module then walks that content into blocks,
//! removes the boilerplate the text rules recognise (a "Related" list or
//! share bar inside the article), and sanitizes what remains with `ammonia`
//! for `content_html`. DOM types here are `!Send`: callers on an async
//! runtime run this in `spawn_blocking`.

use dom_query::{Document, NodeRef};

use super::boilerplate::Boilerplate;
use super::byline::parse_names;
use super::clean::{clean_line, sanitize_html};
use super::dates::parse_date;
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
    let mut readability = dom_smoothie::Readability::new(page, base, None)
        .map_err(|e| IngestError::Html(e.to_string()))?;
    let article = readability
        .parse()
        .map_err(|e| IngestError::Html(format!("no main content found: {e}")))?;

    let mut extracted = parse_fragment(&article.content, base, rules);
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
        url: article.url.clone().or_else(|| base.map(str::to_owned)),
        authors,
        published: date(&article.published_time).or(meta.published),
        updated: date(&article.modified_time).or(meta.updated),
        language: article.lang.as_deref().and_then(lang::normalize_tag),
        // Readability's excerpt falls back to the first paragraph, which may
        // be the byline; the body's own standfirst or opening is better.
        summary: None,
        blocks: extracted.blocks,
        html: Some(extracted.html),
    })
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

/// Elements whose text is never article body.
const SKIP: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "footer",
    "aside",
    "form",
    "button",
    "iframe",
    "svg",
    "figcaption",
    "select",
    "input",
    "textarea",
    "header",
];

/// Walks an HTML fragment into blocks, dropping boilerplate nodes from the
/// HTML too, then sanitizes the HTML.
pub fn parse_fragment(fragment: &str, base: Option<&str>, rules: &Boilerplate) -> Extracted {
    let doc = Document::from(fragment);
    let mut found: Vec<(BlockKind, String, NodeRef<'_>)> = Vec::new();
    let root = doc.body().unwrap_or_else(|| doc.root());
    walk(&root, &mut found);

    let mut blocks = Vec::new();
    let mut meta = Body::default();
    let mut ended = false;
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
    for skip in SKIP {
        doc.select(skip).remove();
    }
    let base_url = base.and_then(|b| url::Url::parse(b).ok());
    let html = sanitize_html(&root.inner_html(), base_url.as_ref());
    Extracted { blocks, html, meta }
}

fn walk<'a>(node: &NodeRef<'a>, out: &mut Vec<(BlockKind, String, NodeRef<'a>)>) {
    let mut inline = String::new();
    let mut inline_node: Option<NodeRef<'a>> = None;
    let flush = |inline: &mut String, inline_node: &mut Option<NodeRef<'a>>, out: &mut Vec<_>| {
        let text = clean_line(inline);
        if let Some(n) = inline_node.take()
            && !text.is_empty()
        {
            out.push((BlockKind::Paragraph, text, n));
        }
        inline.clear();
    };
    for child in node.children() {
        if child.is_text() {
            let t = child.text();
            if !t.trim().is_empty() {
                inline.push_str(&t);
                inline_node.get_or_insert(child);
            }
            continue;
        }
        if !child.is_element() {
            continue;
        }
        let name = child
            .node_name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_default();
        let kind = match name.as_str() {
            "p" | "pre" => Some(BlockKind::Paragraph),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Some(BlockKind::Subheading),
            "li" => Some(BlockKind::ListItem),
            "blockquote" => Some(BlockKind::Quote),
            _ => None,
        };
        if SKIP.contains(&name.as_str()) || name == "figure" {
            continue;
        }
        if name == "br" {
            inline.push(' ');
            continue;
        }
        match kind {
            Some(kind) => {
                flush(&mut inline, &mut inline_node, out);
                // A list item holding paragraphs is walked like a container.
                if kind == BlockKind::ListItem
                    && child.element_children().iter().any(|c| is_block(c))
                {
                    walk(&child, out);
                    continue;
                }
                let text = clean_line(&child.text());
                if !text.is_empty() {
                    out.push((kind, text, child));
                }
            }
            None if is_block(&child) => {
                flush(&mut inline, &mut inline_node, out);
                walk(&child, out);
            }
            None => {
                inline.push_str(&child.text());
                inline_node.get_or_insert(child);
            }
        }
    }
    flush(&mut inline, &mut inline_node, out);
}

fn is_block(node: &NodeRef<'_>) -> bool {
    let name = node
        .node_name()
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_default();
    matches!(
        name.as_str(),
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "ul"
            | "ol"
            | "li"
            | "blockquote"
            | "pre"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "figure"
            | "header"
            | "footer"
            | "nav"
            | "aside"
            | "dl"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!DOCTYPE html><html lang="en-GB"><head><title>Port strike enters second week | Daily Ledger</title>
<meta property="og:site_name" content="Daily Ledger">
<meta property="article:published_time" content="2024-05-17T15:04:00Z">
<meta name="author" content="Jane Roe">
</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<div class="cookie">We use cookies to improve your experience. Accept</div>
<article><h1>Port strike enters second week</h1>
<p>Dock workers in the northern port walked out again on Monday after talks over pay and safety rules collapsed, union leaders said.</p>
<p>Advertisement</p>
<figure><img src="/img/port.jpg"><figcaption>Workers at the gate. Photo: Ana Ruiz</figcaption></figure>
<h2>What they want</h2>
<p>The union wants higher pay for night shifts and new safety rules after an accident in March, and says it will not return without both.</p>
<ul><li>Higher pay for night shifts</li><li>New safety rules</li></ul>
<p>The operator said it was <a href="/talks">ready to talk</a> at any time and regretted the disruption to shipping lines and their customers.</p>
<script>track()</script>
</article><aside><h3>Related</h3><ul><li><a href="/x">Ferry fares rise</a></li></ul></aside>
<footer>© 2024 Daily Ledger. All rights reserved.</footer></body></html>"#;

    #[test]
    fn page_metadata_and_blocks() {
        let d = parse_page(
            PAGE,
            Some("https://example.org/news/port-strike"),
            Boilerplate::builtin(),
        )
        .unwrap();
        assert_eq!(d.title, "Port strike enters second week");
        assert_eq!(d.site.as_deref(), Some("Daily Ledger"));
        assert_eq!(d.authors, vec!["Jane Roe"]);
        assert_eq!(d.language.as_deref(), Some("en"));
        assert!(d.published.is_some());
        let text: Vec<_> = d.blocks.iter().map(|b| b.text.as_str()).collect();
        assert!(
            text.iter().any(|t| t.starts_with("Dock workers")),
            "{text:?}"
        );
        assert!(text.contains(&"What they want"), "{text:?}");
        assert!(text.contains(&"New safety rules"), "{text:?}");
        for junk in [
            "Advertisement",
            "cookies",
            "Ferry fares",
            "All rights reserved",
            "Photo: Ana",
        ] {
            assert!(
                !text.iter().any(|t| t.contains(junk)),
                "{junk} survived: {text:?}"
            );
        }
        let html = d.html.unwrap_or_default();
        assert!(
            !html.contains("<script") && !html.contains("track()"),
            "{html}"
        );
        assert!(!html.contains("Advertisement"), "{html}");
        assert!(
            html.contains(r#"href="https://example.org/talks""#),
            "{html}"
        );
    }
}
