//! What a reader of an HTML page sees, as the DOM gives it: the text of an
//! element joined the way a browser lays it out, and the parts of a page
//! that are never laid out as article text (hidden, captions, chrome)
//! pruned before anything reads the text.
//!
//! `html` uses both on a page before Readability scores it and on the
//! content fragment after; nothing else here knows about articles.

use dom_query::NodeRef;

use super::boilerplate::{Boilerplate, word_count};
use super::clean::clean_line;

/// Elements whose content a browser never lays out as text.
const UNRENDERED: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "object", "video", "audio", "canvas",
    "head", "title",
];

/// Elements a browser shows, but never as article body (the fragment is
/// already the article; these are the page's chrome left in it).
const NOT_BODY: &[&str] = &[
    "nav",
    "footer",
    "aside",
    "form",
    "button",
    "svg",
    "figcaption",
    "select",
    "input",
    "textarea",
    "header",
];

/// Elements that hold other blocks: each of their block children is a
/// block of the article.
const CONTAINERS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "figure",
    "header",
    "footer",
    "nav",
    "aside",
    "dl",
    "address",
    "details",
    "center",
    "hgroup",
    "fieldset",
    "dialog",
    "menu",
    "search",
];

/// Boxes that are not containers of blocks but still start on their own
/// (a table cell beside the next one, a term beside its definition).
const CELLS: &[&str] = &[
    "td",
    "th",
    "dd",
    "dt",
    "caption",
    "summary",
    "legend",
    "figcaption",
    "hr",
    "option",
];

/// Media a caption sits next to: they stay in the HTML when the caption's
/// text goes.
const MEDIA: &[&str] = &["img", "picture", "video", "audio", "iframe", "svg"];

/// A caption- or credit-classed element longer than this is a mislabelled
/// container (`class="post has-caption"`), not a caption.
const CAPTION_MAX_WORDS: usize = 150;

/// Elements holding other blocks, walked into one block per child.
pub(super) fn is_container(name: &str) -> bool {
    CONTAINERS.contains(&name)
}

/// Elements whose edges separate words, as a block box or a table cell
/// does; an inline element's edges do not (`<b>MO</b>Aug.` reads "MOAug.").
fn is_boundary(name: &str) -> bool {
    is_container(name) || CELLS.contains(&name)
}

/// Cells and list items: walked like a container when they hold
/// paragraphs of their own (a layout table, a list item of several
/// paragraphs), so each paragraph stays a block.
pub(super) fn is_cell(name: &str) -> bool {
    CELLS.contains(&name) || name == "li"
}

/// True when an element holds block children.
pub(super) fn holds_blocks(node: &NodeRef<'_>) -> bool {
    node.children_it(false)
        .any(|c| c.node_name().is_some_and(|n| is_container(&n)))
}

/// The element's text on one line, as a browser lays it out: `<br>` and
/// the edges of blocks and cells are spaces, inline tags are nothing;
/// whitespace runs (no-break spaces too) collapsed to one space.
pub(super) fn layout_text(node: &NodeRef<'_>) -> String {
    let mut raw = String::new();
    push_layout_text(node, &mut raw);
    clean_line(&raw)
}

/// [`layout_text`] before cleaning, appended to `out`: a run of inline
/// content is joined first and cleaned once, so a space at the edge of an
/// inline element (`foo<b> bar</b>`) still separates.
pub(super) fn push_layout_text(node: &NodeRef<'_>, out: &mut String) {
    enum Step<'a> {
        Enter(NodeRef<'a>),
        Space,
    }
    // A stack, not recursion: a page may nest inline tags thousands deep.
    let mut stack = vec![Step::Enter(*node)];
    while let Some(step) = stack.pop() {
        let node = match step {
            Step::Space => {
                out.push(' ');
                continue;
            }
            Step::Enter(node) => node,
        };
        if node.is_text() {
            out.push_str(&node.text());
            continue;
        }
        let Some(name) = node.node_name() else {
            continue;
        };
        if UNRENDERED.contains(&&*name) {
            continue;
        }
        if &*name == "br" {
            out.push(' ');
            continue;
        }
        if is_boundary(&name) {
            out.push(' ');
            stack.push(Step::Space);
        }
        stack.extend(node.children_it(true).map(Step::Enter));
    }
}

/// Which part of the DOM is being pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// A whole page on its way to Readability, which still needs its
    /// scripts (JSON-LD), head and navigation to find the article.
    Page,
    /// The article's content: everything not body goes.
    Fragment,
}

/// What pruning does with one element.
enum Verdict {
    Keep,
    Drop,
    /// Text goes, media and data tables stay (a figure, a captioned image).
    StripText,
}

/// Removes from the tree under `root` what a reader never sees as article
/// text: hidden elements, captions and credits (by the class names in
/// `boilerplate.toml`), and in a fragment the page chrome, unrendered
/// elements and the text of figures. Returns how many elements it walked:
/// the size of the work every later DOM pass faces.
pub(super) fn prune(root: &NodeRef<'_>, rules: &Boilerplate, scope: Scope) -> usize {
    let mut elements = 0;
    let mut dropped = Vec::new();
    let mut stripped = Vec::new();
    let mut stack: Vec<NodeRef<'_>> = root.children();
    while let Some(node) = stack.pop() {
        let Some(name) = node.node_name() else {
            continue;
        };
        if &*name == "head" {
            continue;
        }
        elements += 1;
        match verdict(&node, &name, rules, scope) {
            Verdict::Drop => dropped.push(node),
            Verdict::StripText => {
                stripped.push(node);
                stack.extend(node.children_it(false));
            }
            Verdict::Keep => stack.extend(node.children_it(false)),
        }
    }
    for node in &dropped {
        node.remove_from_parent();
    }
    for node in &stripped {
        strip_text(node);
    }
    elements
}

fn verdict(node: &NodeRef<'_>, name: &str, rules: &Boilerplate, scope: Scope) -> Verdict {
    // A page hidden until its script runs (an anti-flicker `display:none`
    // on <body>) is still the page.
    if matches!(name, "html" | "body") {
        return Verdict::Keep;
    }
    if is_hidden(node, rules) {
        return Verdict::Drop;
    }
    if scope == Scope::Fragment && (UNRENDERED.contains(&name) || NOT_BODY.contains(&name)) {
        return Verdict::Drop;
    }
    if is_caption(node, name, rules) {
        return if has_media(node) {
            Verdict::StripText
        } else {
            Verdict::Drop
        };
    }
    if scope == Scope::Fragment && name == "figure" {
        return Verdict::StripText;
    }
    Verdict::Keep
}

/// Hidden by the `hidden` attribute, `aria-hidden="true"`, an inline
/// style, or a screen-reader-only class.
fn is_hidden(node: &NodeRef<'_>, rules: &Boilerplate) -> bool {
    // `hidden="until-found"` is collapsed content the browser reveals on a
    // find: text the page means to show.
    if node
        .attr("hidden")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("until-found"))
    {
        return true;
    }
    if node
        .attr("aria-hidden")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        return true;
    }
    if node.attr("style").is_some_and(|s| style_hides(&s)) {
        return true;
    }
    node.class().is_some_and(|c| {
        c.split_ascii_whitespace()
            .any(|class| rules.is_hidden_class(class))
    })
}

/// An inline style with `display: none` or `visibility: hidden` (or
/// `collapse`) in force: any spacing and case, the last declaration of a
/// property winning unless an earlier one was `!important`.
pub(super) fn style_hides(style: &str) -> bool {
    let mut display: Option<(bool, bool)> = None;
    let mut visibility: Option<(bool, bool)> = None;
    for decl in style.split(';') {
        let Some((prop, value)) = decl.split_once(':') else {
            continue;
        };
        let value = value.trim().to_ascii_lowercase();
        let (value, important) = match value.split_once('!') {
            Some((v, flag)) => (v.trim(), flag.trim() == "important"),
            None => (value.as_str(), false),
        };
        let (slot, hides) = match prop.trim().to_ascii_lowercase().as_str() {
            "display" => (&mut display, value == "none"),
            "visibility" => (&mut visibility, matches!(value, "hidden" | "collapse")),
            _ => continue,
        };
        if slot.is_none_or(|(_, was_important)| important || !was_important) {
            *slot = Some((hides, important));
        }
    }
    display.is_some_and(|(hides, _)| hides) || visibility.is_some_and(|(hides, _)| hides)
}

/// A caption or credit by its class or id, unless it is far too long for
/// one or is the article itself.
fn is_caption(node: &NodeRef<'_>, name: &str, rules: &Boilerplate) -> bool {
    if matches!(name, "article" | "main") {
        return false;
    }
    let marked = [node.class(), node.id_attr()]
        .iter()
        .flatten()
        .any(|v| rules.is_caption_class(v));
    marked && word_count(&layout_text(node)) <= CAPTION_MAX_WORDS
}

fn has_media(node: &NodeRef<'_>) -> bool {
    node.descendants_it()
        .any(|d| d.node_name().is_some_and(|n| MEDIA.contains(&&*n)))
}

/// Removes the text under `node`, leaving its elements (images) in place;
/// a table inside keeps its text, since a figure may hold a data table.
fn strip_text(node: &NodeRef<'_>) {
    let mut texts = Vec::new();
    let mut stack = node.children();
    while let Some(n) = stack.pop() {
        if n.is_text() {
            texts.push(n);
        } else if n.node_name().is_some_and(|name| &*name != "table") {
            stack.extend(n.children_it(false));
        }
    }
    for t in texts {
        t.remove_from_parent();
    }
}
