//! Nesting caps: the work of reading a document stays proportional to its
//! size, whatever its shape.
//!
//! Several of the parsers behind ingest do work per element that grows with
//! the element's depth: html5ever's tree builder walks the stack of open
//! elements for every block start tag ("close a `p` in button scope"), and
//! Readability scores and cleans each node by walking its ancestors and
//! selecting among its descendants. On ordinary pages (depth 10–60) that is
//! linear; on a 2 MiB page of `<div>`s nested 400 000 deep it is quadratic
//! and costs minutes of CPU. No library here has a depth limit, so the
//! inputs are flattened before any of them sees the text: elements nested
//! past a cap lose their tags (never their text), Markdown container
//! markers past a cap become plain text, and front matter nested past a
//! cap is refused with an error that names the field.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

/// How deep HTML elements may nest before their tags are dropped (their
/// text stays, in the element at the cap), on a page of ordinary size.
/// Real pages stay under ~100 even with framework wrappers.
pub const MAX_HTML_DEPTH: usize = 256;

/// The floor of the depth cap, however large the page: deeper than any
/// article body's own structure (section, figure, list, quote).
pub const MIN_HTML_DEPTH: usize = 16;

/// Elements × depth a page may cost. Readability checks each candidate
/// element's whole subtree (`is_element_without_content`, the descendant
/// counts of `clean_conditionally`) and html5ever walks the open-element
/// stack per block start tag, so the work is about tags × depth, at some
/// 20 ns a unit: this budget is ~50 ms of it. The depth cap is the budget
/// over the page's tag count, between [`MIN_HTML_DEPTH`] and
/// [`MAX_HTML_DEPTH`], so a page of a few thousand tags keeps 256 levels
/// and a 2 MiB page of nothing but tags keeps 16.
pub const HTML_DEPTH_BUDGET: usize = 2_000_000;

/// How many tags a page may hold; past it, tags are dropped and their text
/// kept, run together in the element open at that point. Each element
/// costs html5ever, Readability, the block walk and the sanitizer some
/// 4 µs however flat the page, so 2 MiB of `<td></td>` costs a second;
/// the largest real articles (long Wikipedia pages) hold ~30 000.
pub const MAX_HTML_TAGS: usize = 50_000;

/// Tags × open formatting elements (`<b>`, `<font>`, …) a page may cost.
/// html5ever re-creates every open formatting element inside each block
/// that follows them ("reconstruct the active formatting elements"), so
/// N unclosed `<b>`s before M paragraphs build N×M nodes, N deep. The cap
/// is this budget over the tag count, between 2 and 64: a legacy page's
/// unclosed `<font>`s past it lose only their styling.
pub const FORMATTING_BUDGET: usize = 100_000;

/// Tags × depth of lists, tables and forms a page may cost. Readability
/// cleans each of those "conditionally", counting the paragraphs, images,
/// list items, links and characters of its whole subtree, so each level
/// of them costs a pass over everything inside: some 80 ms for a 2 MiB
/// list. The cap is this budget over the tag count, between 2 and 64: a
/// 50 KB page keeps 64 levels of nested lists, a 2 MiB one of nothing but
/// nested lists keeps 2.
pub const CONTAINER_BUDGET: usize = 500_000;

/// The caps for one page: elements, formatting elements, and lists/tables.
/// Every tag starts with `<`, so counting those bounds the tags without
/// tokenizing.
fn html_caps(html: &str) -> (usize, usize, usize) {
    caps_for(html.bytes().filter(|&c| c == b'<').count())
}

fn caps_for(tags: usize) -> (usize, usize, usize) {
    let tags = tags.max(1);
    (
        (HTML_DEPTH_BUDGET / tags).clamp(MIN_HTML_DEPTH, MAX_HTML_DEPTH),
        (FORMATTING_BUDGET / tags).clamp(2, 64),
        (CONTAINER_BUDGET / tags).clamp(2, 64),
    )
}

/// The element depth cap for a page: see [`HTML_DEPTH_BUDGET`].
pub fn html_depth_cap(html: &str) -> usize {
    html_caps(html).0
}

/// Elements Readability cleans conditionally (see [`CONTAINER_BUDGET`]),
/// less `div`, which the element depth cap already bounds.
fn is_heavy(name: &[u8]) -> bool {
    matches!(
        name,
        b"ul" | b"ol" | b"dl" | b"table" | b"form" | b"fieldset"
    )
}

/// How many block containers (`>` quotes, list items) a Markdown line may
/// open. pulldown-cmark re-matches every open container on each line, and
/// the rendered HTML nests as deep; CommonMark sets no limit, real
/// documents rarely pass 10.
pub const MAX_MARKDOWN_DEPTH: usize = 32;

/// How deep front matter values may nest (`[`, `{`, or indented blocks).
/// Metadata is flat in practice (a list of authors, a table of one level);
/// a deeper value is hostile or broken, and the YAML and TOML parsers
/// either recurse on it or scan it repeatedly.
pub const MAX_FRONT_MATTER_DEPTH: usize = 16;

/// Void elements: never opened, so they never add depth.
fn is_void(name: &[u8]) -> bool {
    matches!(
        name,
        b"area"
            | b"base"
            | b"basefont"
            | b"bgsound"
            | b"br"
            | b"col"
            | b"embed"
            | b"frame"
            | b"hr"
            | b"image"
            | b"img"
            | b"input"
            | b"keygen"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
    )
}

/// Elements the tree builder closes on its own when a sibling or a block
/// starts (`<p>`, `<li>`, table parts) or that it opens once (`<html>`):
/// left uncounted, since pages routinely leave them unclosed and they
/// cannot nest without a counted element between them.
fn closes_itself(name: &[u8]) -> bool {
    matches!(
        name,
        b"html"
            | b"head"
            | b"body"
            | b"p"
            | b"li"
            | b"dt"
            | b"dd"
            | b"td"
            | b"th"
            | b"tr"
            | b"tbody"
            | b"thead"
            | b"tfoot"
            | b"option"
            | b"caption"
            | b"colgroup"
    )
}

/// The formatting elements of the HTML tree-building algorithm.
fn is_formatting(name: &[u8]) -> bool {
    matches!(
        name,
        b"a" | b"b"
            | b"big"
            | b"code"
            | b"em"
            | b"font"
            | b"i"
            | b"nobr"
            | b"s"
            | b"small"
            | b"strike"
            | b"strong"
            | b"tt"
            | b"u"
    )
}

/// Inline elements, whose dropped tags must not split a word.
fn is_phrasing(name: &[u8]) -> bool {
    is_formatting(name)
        || matches!(
            name,
            b"abbr"
                | b"bdi"
                | b"bdo"
                | b"cite"
                | b"data"
                | b"dfn"
                | b"kbd"
                | b"label"
                | b"mark"
                | b"q"
                | b"samp"
                | b"span"
                | b"sub"
                | b"sup"
                | b"time"
                | b"var"
        )
}

/// Elements whose content is not markup: skipped to their end tag.
/// `noscript` is not one: html5ever parses it as markup when scripting is
/// off, so its content must be capped like the rest.
fn is_raw_text(name: &[u8]) -> bool {
    matches!(
        name,
        b"script"
            | b"style"
            | b"textarea"
            | b"title"
            | b"xmp"
            | b"iframe"
            | b"noembed"
            | b"noframes"
    )
}

/// Position just past the first `needle` at or after `from` (ASCII
/// case-insensitive), or the end of `b`.
fn skip_past(b: &[u8], from: usize, needle: &[u8]) -> usize {
    let n = needle.len();
    let mut i = from;
    while i + n <= b.len() {
        if b[i..i + n].eq_ignore_ascii_case(needle) {
            return i + n;
        }
        i += 1;
    }
    b.len()
}

/// The end of a tag whose name ends at `i`: just past its `>`, skipping
/// quoted attribute values; and whether it is self-closing (`/>`).
fn tag_end(b: &[u8], mut i: usize) -> (usize, bool) {
    while i < b.len() {
        match b[i] {
            b'>' => return (i + 1, i > 0 && b[i - 1] == b'/'),
            b'=' => {
                i += 1;
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                if let Some(&q @ (b'"' | b'\'')) = b.get(i) {
                    i = b[i + 1..]
                        .iter()
                        .position(|&c| c == q)
                        .map_or(b.len(), |p| i + 1 + p + 1);
                }
            }
            _ => i += 1,
        }
    }
    (b.len(), false)
}

fn name_end(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|c| c.is_ascii_whitespace() || matches!(c, b'/' | b'>'))
        .map_or(b.len(), |p| start + p)
}

/// `html` with the tags of elements nested deeper than [`html_depth_cap`]
/// (or formatting elements and lists/tables past their caps, or any past
/// [`MAX_HTML_TAGS`]) removed, their text kept; borrowed unchanged when
/// nothing is that deep, which is every ordinary page. One pass over the bytes with a light tokenizer: it need
/// not agree with html5ever on every malformed page, only bound the depth
/// html5ever can build, since every element it counts is one html5ever
/// would nest, and the uncounted ones cannot nest on their own.
pub fn flatten_html(html: &str) -> Cow<'_, str> {
    let lts = html.bytes().filter(|&c| c == b'<').count();
    let (cap, formatting_cap, heavy_cap) = caps_for(lts);
    // Nothing nests deeper than the page has tags: a feed item's few
    // paragraphs need no walk.
    if lts < cap.min(formatting_cap).min(heavy_cap) {
        return Cow::Borrowed(html);
    }
    let b = html.as_bytes();
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut on_stack: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
    // Per name, how many start tags were dropped and still await the end
    // tag that must be dropped with them.
    let mut dropped: FxHashMap<Vec<u8>, usize> = FxHashMap::default();
    let mut formatting = 0usize;
    let mut heavy = 0usize;
    let mut tags = 0usize;
    // Byte ranges to cut, and what to put in their place.
    let mut cuts: Vec<(usize, usize, &'static str)> = Vec::new();
    let mut i = 0;
    while let Some(p) = memchr_lt(b, i) {
        let lt = p;
        let next = b.get(lt + 1).copied().unwrap_or(0);
        if next == b'!' {
            i = if b[lt..].starts_with(b"<!--") {
                skip_past(b, lt + 4, b"-->")
            } else {
                skip_past(b, lt + 2, b">")
            };
            continue;
        }
        if next == b'?' {
            i = skip_past(b, lt + 2, b">");
            continue;
        }
        let end_tag = next == b'/';
        let name_start = lt + 1 + usize::from(end_tag);
        if !b.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            i = lt + 1;
            continue;
        }
        let ne = name_end(b, name_start);
        let name = b[name_start..ne].to_ascii_lowercase();
        let (after, self_closing) = tag_end(b, ne);
        i = after;
        let filler = if is_phrasing(&name) { "" } else { " " };
        // html5ever honours `/>` only in SVG and MathML: `<div/>` opens a div.
        let foreign = on_stack.get(&b"svg"[..]).is_some_and(|&n| n > 0)
            || on_stack.get(&b"math"[..]).is_some_and(|&n| n > 0);
        let self_closing = self_closing && foreign;
        if !end_tag {
            tags += 1;
        }
        if tags > MAX_HTML_TAGS && !end_tag && !is_raw_text(&name) && name != b"plaintext" {
            if !(self_closing || is_void(&name)) {
                *dropped.entry(name).or_default() += 1;
            }
            cuts.push((lt, after, filler));
            continue;
        }
        if end_tag {
            if let Some(n) = dropped.get_mut(&name).filter(|n| **n > 0) {
                *n -= 1;
                cuts.push((lt, after, filler));
                continue;
            }
            if is_formatting(&name) {
                formatting = formatting.saturating_sub(1);
            }
            if on_stack.get(&name).is_some_and(|&n| n > 0) {
                while let Some(top) = open.pop() {
                    if let Some(n) = on_stack.get_mut(&top) {
                        *n -= 1;
                    }
                    if is_heavy(&top) {
                        heavy -= 1;
                    }
                    if top == name {
                        break;
                    }
                }
            }
            continue;
        }
        if is_raw_text(&name) {
            let mut close = b"</".to_vec();
            close.extend_from_slice(&name);
            i = skip_past(b, after, &close);
            continue;
        }
        if name == b"plaintext" {
            break;
        }
        if self_closing || is_void(&name) || closes_itself(&name) {
            continue;
        }
        let too_many_formatting = is_formatting(&name) && formatting >= formatting_cap;
        let too_many_heavy = is_heavy(&name) && heavy >= heavy_cap;
        if open.len() >= cap || too_many_formatting || too_many_heavy {
            *dropped.entry(name).or_default() += 1;
            cuts.push((lt, after, filler));
            continue;
        }
        if is_formatting(&name) {
            formatting += 1;
        }
        if is_heavy(&name) {
            heavy += 1;
        }
        *on_stack.entry(name.clone()).or_default() += 1;
        open.push(name);
    }
    if cuts.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut at = 0;
    for (start, end, filler) in cuts {
        // Cuts are whole tags found in order, so they never overlap and
        // always fall on character boundaries (`<` and `>` are ASCII).
        out.push_str(&html[at..start]);
        out.push_str(filler);
        at = end;
    }
    out.push_str(&html[at..]);
    Cow::Owned(out)
}

fn memchr_lt(b: &[u8], from: usize) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&c| c == b'<')
        .map(|p| from + p)
}

/// Markdown with each line's container markers (`>`, `-`, `*`, `+`, `1.`)
/// past [`MAX_MARKDOWN_DEPTH`] removed, so the innermost text becomes
/// plain text of the container at the cap; borrowed unchanged when no line
/// is that deep.
pub fn flatten_markdown(md: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut at = 0;
    for line in md.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let (depth, cut, content) = container_prefix(line);
        if depth <= MAX_MARKDOWN_DEPTH {
            if let Some(o) = out.as_mut() {
                o.push_str(line);
            }
            continue;
        }
        let o = out.get_or_insert_with(|| {
            let mut s = String::with_capacity(md.len());
            s.push_str(&md[..start]);
            s
        });
        o.push_str(&line[..cut]);
        o.push_str(&line[content..]);
    }
    out.map_or(Cow::Borrowed(md), Cow::Owned)
}

/// How many container markers open a line, the byte offset of the first
/// one past the cap (the line's length if none is), and where the markers
/// end.
fn container_prefix(line: &str) -> (usize, usize, usize) {
    let b = line.as_bytes();
    let mut depth = 0;
    let mut cut = b.len();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let marker = match b.get(i) {
            Some(b'>') => 1,
            Some(b'-' | b'*' | b'+') if matches!(b.get(i + 1), Some(b' ' | b'\t')) => 1,
            Some(c) if c.is_ascii_digit() => {
                let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                match (b.get(i + digits), b.get(i + digits + 1)) {
                    (Some(b'.' | b')'), Some(b' ' | b'\t')) if digits <= 9 => digits + 1,
                    _ => 0,
                }
            }
            _ => 0,
        };
        if marker == 0 {
            return (depth, cut.min(i), i);
        }
        if depth == MAX_MARKDOWN_DEPTH {
            cut = i;
        }
        depth += 1;
        i += marker;
    }
}

/// Refuses front matter nested deeper than [`MAX_FRONT_MATTER_DEPTH`],
/// before any parser sees it: `Err` holds the top-level key whose value is
/// too deep (empty if none can be told) and the depth found. Counts
/// brackets and braces outside quotes (flow collections, TOML arrays and
/// inline tables) and, for YAML, indentation steps of block collections.
pub fn check_front_matter(matter: &str, yaml: bool) -> Result<(), (String, usize)> {
    let mut key = String::new();
    let mut depth = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    let mut quote: Option<u8> = None;
    let mut escaped = false;
    for line in matter.lines() {
        let b = line.as_bytes();
        let indent = b.iter().take_while(|c| **c == b' ').count();
        let blank = line.trim().is_empty() || line.trim_start().starts_with('#');
        if depth == 0 && quote.is_none() && !blank {
            if indent == 0 {
                key = line
                    .split([':', '='])
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .trim_matches(['"', '\'', '[', ']'])
                    .to_owned();
                indents.clear();
            } else if yaml {
                while indents.last().is_some_and(|&i| i >= indent) {
                    indents.pop();
                }
                indents.push(indent);
                // A `- - - x` line opens one block sequence per dash.
                let dashes = line
                    .trim_start()
                    .split_inclusive(' ')
                    .take_while(|w| *w == "- " || *w == "-")
                    .count();
                let level = indents.len() + dashes;
                if level > MAX_FRONT_MATTER_DEPTH {
                    return Err((key, level));
                }
            }
        }
        let mut doubled = false;
        for (i, &c) in b.iter().enumerate() {
            // YAML writes a quote inside single quotes as `''`.
            if std::mem::take(&mut doubled) {
                continue;
            }
            // What a quote or `#` means depends on what it follows: `it's`
            // and `C#` are plain text, `'a'` and ` # note` are not.
            let after_space = i == 0 || matches!(b[i - 1], b' ' | b'\t');
            let opens = after_space || matches!(b[i - 1], b':' | b'=' | b'[' | b'{' | b',');
            match (quote, c) {
                (Some(b'"'), b'\\') => escaped = !escaped,
                (Some(b'\''), b'\'') if b.get(i + 1) == Some(&b'\'') => doubled = true,
                (Some(q), c) if c == q && !escaped => quote = None,
                (Some(_), _) => escaped = false,
                (None, b'"' | b'\'') if opens => quote = Some(c),
                (None, b'#') if after_space => break,
                (None, b'[' | b'{') => {
                    depth += 1;
                    if depth + indents.len() > MAX_FRONT_MATTER_DEPTH {
                        return Err((key, depth + indents.len()));
                    }
                }
                (None, b']' | b'}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        // A quote left open at the end of a line ends there for YAML's
        // plain scalars (`it's`); TOML and YAML flow strings that span
        // lines are rare in metadata, and at worst counted as brackets.
        if depth == 0 {
            quote = None;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_html_is_untouched() {
        let page = "<html><body><div class=\"a>b\"><p>One<p>Two<ul><li>x<li>y</ul>\
                    <script>if (a < b) { x = '<div>'; }</script><br><img src=x></div></body></html>";
        assert!(matches!(flatten_html(page), Cow::Borrowed(_)));
        let many_p = "<p>x".repeat(10_000);
        assert!(matches!(flatten_html(&many_p), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_html_keeps_its_text_and_loses_the_depth() {
        let n = 5_000;
        let page = format!("{}deep text{}", "<div>".repeat(n), "</div>".repeat(n));
        let flat = flatten_html(&page);
        let cap = html_depth_cap(&page);
        assert!((MIN_HTML_DEPTH..MAX_HTML_DEPTH).contains(&cap), "{cap}");
        assert_eq!(flat.matches("<div>").count(), cap);
        assert_eq!(flat.matches("</div>").count(), cap);
        assert!(flat.contains("deep text"));
        // Unclosed: the opening tags alone are capped.
        let unclosed = format!("{}text", "<section><b>".repeat(n));
        let flat = flatten_html(&unclosed);
        assert!(
            flat.matches('<').count() <= MAX_HTML_DEPTH,
            "{}",
            flat.len()
        );
        let slashed = format!("{}text", "<div/>".repeat(n));
        assert!(flatten_html(&slashed).matches("<div/>").count() <= MAX_HTML_DEPTH);
        let hidden = format!("<noscript>{}text", "<div>".repeat(n));
        assert!(flatten_html(&hidden).matches("<div>").count() <= MAX_HTML_DEPTH);
        // A small page keeps the full depth.
        let page = format!("{}deep text{}", "<div>".repeat(300), "</div>".repeat(300));
        assert_eq!(flatten_html(&page).matches("<div>").count(), MAX_HTML_DEPTH);
    }

    #[test]
    fn deep_markdown_is_capped() {
        let md = format!("# T\n\n{}deep\n", "> ".repeat(1000));
        let flat = flatten_markdown(&md);
        assert_eq!(
            container_prefix(flat.lines().nth(2).unwrap_or("")).0,
            MAX_MARKDOWN_DEPTH
        );
        assert!(flat.ends_with("deep\n"));
        let md = "# T\n\n> quote\n- item\n  1. sub\n";
        assert!(matches!(flatten_markdown(md), Cow::Borrowed(_)));
    }

    #[test]
    fn front_matter_depth() {
        assert!(
            check_front_matter("title: x\ntags: [a, [b, c]]\nauthor:\n  - name: J\n", true).is_ok()
        );
        for ok in [
            "title = \"[[[[[[[[[[[[[[[[[[[[[[\"\n",
            "title = \"a \\\" [[[[[[[[[[[[[[[[[[[[[[\"\n",
            "title: it's C# news # [[[[[[[[[[[[[[[[[[[[[[\n",
            "title: 'it''s [[[[[[[[[[[[[[[[[[[[[['\n",
        ] {
            assert!(check_front_matter(ok, ok.contains(':')).is_ok(), "{ok}");
        }
        let deep = format!("title: x\nextra: {}\n", "[".repeat(40));
        assert_eq!(check_front_matter(&deep, true), Err(("extra".into(), 17)));
        let deep = format!("extra = {}\n", "{a = ".repeat(40));
        assert_eq!(
            check_front_matter(&deep, false).map_err(|e| e.0),
            Err("extra".into())
        );
        let indented: String = (0..40)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(check_front_matter(&format!("deep:\n{indented}"), true).is_err());
        let dashes = format!("list:\n  {}x\n", "- ".repeat(40));
        assert!(check_front_matter(&dashes, true).is_err());
    }
}
