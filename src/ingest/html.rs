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
        ..Draft::default()
    })
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

    /// The body text of a fragment, one block a line, and its HTML.
    fn body(fragment: &str) -> (Vec<String>, String) {
        let e = parse_fragment(
            fragment,
            Some("https://example.org/a"),
            Boilerplate::builtin(),
        );
        (e.blocks.into_iter().map(|b| b.text).collect(), e.html)
    }

    fn joined(fragment: &str) -> String {
        body(fragment).0.join("\n")
    }

    #[test]
    fn a_line_break_separates_words() {
        let text = joined(
            "<p>The dividend is payable to holders of record in MO<br>Aug. 30, the company said in a filing.</p>",
        );
        assert!(text.contains("MO Aug. 30"), "{text}");
        assert!(!text.contains("MOAug"), "{text}");
    }

    #[test]
    fn table_cells_are_separate_words_and_rows_separate_lines() {
        let blocks = body(
            "<p>Shares of the tobacco makers moved in opposite directions on Friday.</p>\
             <table><thead><tr><th>Ticker</th><th>Security</th><th>Last</th><th>Change</th></tr></thead>\
             <tbody><tr><td>MO</td><td>Altria</td><td>45.10</td><td>+0.20</td></tr>\
             <tr><td>PM</td><td>Philip Morris</td><td>88.02</td><td>-1.15</td></tr></tbody></table>",
        )
        .0;
        assert!(
            blocks.contains(&"Ticker Security Last Change".to_owned()),
            "{blocks:?}"
        );
        assert!(
            blocks.contains(&"PM Philip Morris 88.02 -1.15".to_owned()),
            "{blocks:?}"
        );
        assert!(
            !blocks.iter().any(|b| b.contains("TickerSecurity")),
            "{blocks:?}"
        );
    }

    #[test]
    fn inline_tags_join_without_a_space_and_keep_the_spaces_around_them() {
        let text = joined(
            "<p>It was un<b>believ</b>able, said the <a href=\"/coach\">coach</a><em> Ana Ruiz</em>.</p>\
             <div><a href=\"/p\">Paris</a> <a href=\"/l\">Lyon</a> and <span>Marseille</span> bid for the games.</div>",
        );
        assert!(text.contains("unbelievable"), "{text}");
        assert!(text.contains("the coach Ana Ruiz."), "{text}");
        assert!(text.contains("Paris Lyon and Marseille bid"), "{text}");
    }

    #[test]
    fn paragraphs_inside_one_block_are_not_glued() {
        let text = joined(
            "<blockquote><p>We will not return.</p><p>Not without both.</p></blockquote>\
             <ul><li><p>Higher pay.</p><p>For night shifts.</p></li></ul>\
             <table><tr><td><p>The layout table holds the story.</p><p>Its second paragraph.</p></td></tr></table>",
        );
        assert!(
            text.contains("We will not return. Not without both."),
            "{text}"
        );
        assert!(text.contains("Higher pay.\nFor night shifts."), "{text}");
        assert!(
            text.contains("The layout table holds the story.\nIts second paragraph."),
            "{text}"
        );
    }

    #[test]
    fn no_break_spaces_separate_but_do_not_pile_up() {
        let blocks = body(
            "<p>The route is 10&nbsp;km long and&nbsp;&nbsp;&nbsp;climbs steeply.</p>\
             <table><tr><td>&nbsp;</td><td>Stage&nbsp;1</td></tr></table>",
        )
        .0;
        assert!(
            blocks.contains(&"The route is 10 km long and climbs steeply.".to_owned()),
            "{blocks:?}"
        );
        assert!(blocks.contains(&"Stage 1".to_owned()), "{blocks:?}");
    }

    #[test]
    fn hidden_elements_are_absent_from_text_and_html() {
        let (blocks, html) = body(
            r#"<p>The council approved the new bus routes on Tuesday after a long debate.</p>
<div hidden><p>Hidden attribute pop-up text.</p></div>
<div aria-hidden="true"><p>Aria hidden duplicate text.</p></div>
<div style="DISPLAY : None !important"><p>Inline display none text.</p></div>
<div style="color:red;visibility:hidden"><p>Inline visibility hidden text.</p></div>
<template><p>Template row text.</p></template>
<noscript><p>Please enable JavaScript text.</p></noscript>
<p>Read the <a href="/plan">full plan<span class="sr-only"> (opens in a new tab)</span></a> online.</p>
<div style="display:none; display:block"><p>Shown again by a later declaration.</p></div>
<div hidden="until-found"><p>Collapsed section text the reader can open.</p></div>"#,
        );
        let text = blocks.join("\n");
        for gone in [
            "Hidden attribute",
            "Aria hidden",
            "Inline display",
            "Inline visibility",
            "Template row",
            "enable JavaScript",
            "opens in a new tab",
        ] {
            assert!(!text.contains(gone), "{gone} in text: {text}");
            assert!(!html.contains(gone), "{gone} in html: {html}");
        }
        assert!(text.contains("Read the full plan online."), "{text}");
        assert!(text.contains("Shown again"), "{text}");
        assert!(text.contains("Collapsed section text"), "{text}");
    }

    #[test]
    fn captions_and_credits_are_not_body_but_their_images_stay() {
        let (blocks, html) = body(
            r#"<p>Flood water reached the town square on Sunday night, residents said.</p>
<div class="wp-caption aligncenter"><img src="/sq.jpg" alt="square"><p class="wp-caption-text">The square under water on Sunday night.</p></div>
<p>Emergency crews worked through the night to pump water from the cellars of the old town.</p>
<p class="wp-caption-text">A stray WordPress caption line outside its box.</p>
<span class="photoCredit">Photograph: Ana Ruiz for the Daily Ledger</span>
<div id="image-caption-3">Sandbags stacked along the river wall at dawn.</div>
<figure><img src="/wall.jpg"><span>Text inside a figure beside its image.</span></figure>
<figure class="wp-block-table"><table><tr><td>Level</td><td>4.2 m</td></tr></table></figure>"#,
        );
        let text = blocks.join("\n");
        for gone in [
            "The square under water",
            "stray WordPress caption",
            "Photograph: Ana Ruiz",
            "Sandbags stacked",
            "Text inside a figure",
        ] {
            assert!(!text.contains(gone), "{gone} in text: {text}");
            assert!(!html.contains(gone), "{gone} in html: {html}");
        }
        assert!(text.contains("Emergency crews worked"), "{text}");
        assert!(text.contains("Level 4.2 m"), "{text}");
        assert!(
            html.contains("/sq.jpg") && html.contains("/wall.jpg"),
            "{html}"
        );
    }

    #[test]
    fn a_gallery_caption_appears_at_most_once() {
        let slide = |caption_class: &str| {
            format!(
                r#"<div class="slide"><img src="/s.jpg"><p{caption_class}>Fans gather outside the stadium before kick-off on Saturday.</p></div>"#
            )
        };
        let lead = "<p>The club opened its new stadium to a full house on Saturday afternoon.</p>";
        for caption_class in [r#" class="gallery-caption""#, ""] {
            let gallery: String = (0..6).map(|_| slide(caption_class)).collect();
            let text = joined(&format!("{lead}{gallery}"));
            assert!(text.contains("opened its new stadium"), "{text}");
            assert!(
                text.matches("Fans gather outside").count() <= 1,
                "{caption_class}: {text}"
            );
        }
    }

    #[test]
    fn a_long_element_with_a_caption_class_is_still_the_article() {
        let para = "Council members spent the evening debating the cost of the new routes. ";
        let fragment = format!(
            r#"<div class="post has-caption"><p>{}</p><p>{}</p></div>"#,
            para.repeat(10),
            para.repeat(10)
        );
        let text = joined(&fragment);
        assert!(text.contains("Council members spent"), "{text}");
    }

    #[test]
    fn a_hidden_pop_up_on_a_page_is_not_the_article() {
        let popup = "Subscribe to our premium tier and read unlimited stories every single day of the year. "
            .repeat(8);
        let page = format!(
            r#"<!DOCTYPE html><html lang="en"><head><title>Bridge reopens after repairs</title></head><body>
<div class="modal" style="display: none !important"><p>{popup}</p><p>{popup}</p></div>
<article><h1>Bridge reopens after repairs</h1>
<p>The old river bridge reopened to traffic on Monday after eight months of repairs to its steel frame and deck.</p>
<div class="wp-caption"><img src="/bridge.jpg"><p class="wp-caption-text">The bridge at dawn on Monday, seen from the east bank.</p></div>
<p>Engineers found corrosion in the frame last spring and closed the bridge to cars, though walkers could still cross it.</p>
<p>The city says the repairs cost less than planned and that the bridge should last another forty years.</p>
</article></body></html>"#
        );
        let d = parse_page(
            &page,
            Some("https://example.org/bridge"),
            Boilerplate::builtin(),
        )
        .unwrap();
        let text: Vec<_> = d.blocks.iter().map(|b| b.text.as_str()).collect();
        assert!(
            text.iter().any(|t| t.starts_with("The old river bridge")),
            "{text:?}"
        );
        assert!(!text.iter().any(|t| t.contains("premium tier")), "{text:?}");
        assert!(
            !text.iter().any(|t| t.contains("bridge at dawn")),
            "{text:?}"
        );
        let html = d.html.unwrap_or_default();
        assert!(
            !html.contains("premium tier") && !html.contains("bridge at dawn"),
            "{html}"
        );
    }

    #[test]
    fn inline_styles_hide_with_any_spacing_case_and_priority() {
        let lead = "<p>The council approved the new bus routes on Tuesday after a long debate.</p>";
        for (style, hidden) in [
            ("display:none", true),
            ("DISPLAY : NONE", true),
            ("color: red; display: none !important", true),
            ("display:none!important", true),
            ("visibility:hidden", true),
            (" Visibility : Collapse ;", true),
            ("display:block; display:none", true),
            // An earlier `!important` wins over a later plain declaration.
            ("display:none !important; display:block", true),
            ("display:block !important; display:none", false),
            ("display:none; display:block", false),
            ("color: red", false),
            ("--display:none", false),
            ("visibility:visible", false),
        ] {
            let text = joined(&format!(
                r#"{lead}<div style="{style}"><p>Styled paragraph text.</p></div>"#
            ));
            assert_eq!(
                !text.contains("Styled paragraph"),
                hidden,
                "{style:?}: {text}"
            );
        }
    }

    #[test]
    fn deeply_nested_inline_tags_still_give_their_text() {
        let depth = 5_000;
        let text = joined(&format!(
            "<p>The lead paragraph is here.</p><p>deep{}word{}</p>",
            "<span>".repeat(depth),
            "</span>".repeat(depth)
        ));
        assert!(text.contains("deepword"), "{text}");
    }

    /// Every shape `examples/bench_hostile.rs` times, smaller: it reads,
    /// and the text inside the nesting survives the flattening.
    #[test]
    fn deep_nesting_keeps_the_text() {
        const TEXT: &str = "Dock workers walked out on Monday after talks over pay broke down.";
        let head = "<html><head><title>Port strike</title></head><body>";
        let nest = |open: &str, close: &str, n: usize| {
            format!("{head}{}<p>{TEXT}</p>{}", open.repeat(n), close.repeat(n))
        };
        let unclosed_b: String = (0..100).map(|i| format!("<b id={i}>")).collect();
        let paragraphs: String = (0..2_000).map(|i| format!("<p>{i} {TEXT}</p>")).collect();
        for (name, page) in [
            ("div", nest("<div>", "</div>", 20_000)),
            ("unclosed div", nest("<div>", "", 20_000)),
            (
                "table",
                nest("<table><tr><td>", "</td></tr></table>", 5_000),
            ),
            ("ul", nest("<ul><li>", "</li></ul>", 10_000)),
            ("blockquote", nest("<blockquote>", "</blockquote>", 10_000)),
            ("b", nest("<b>", "</b>", 20_000)),
            (
                "unclosed b",
                format!("{head}<div>{unclosed_b}</div>{paragraphs}"),
            ),
            (
                "towers",
                format!("{head}{}", nest("<div>", "</div>", 300).repeat(50)),
            ),
        ] {
            let d = parse_page(&page, None, Boilerplate::builtin())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(d.title, "Port strike", "{name}");
            assert!(
                d.blocks.iter().any(|b| b.text.contains(TEXT)),
                "{name}: {:?}",
                d.blocks.iter().take(3).collect::<Vec<_>>()
            );
        }
    }
}
