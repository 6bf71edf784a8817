//! Article HTML as feeds carry it.
//!
//! The stored HTML is sanitized HTML5. Feed validators and older readers
//! check content against the HTML 4 element list, and flag HTML5 sectioning
//! and phrasing elements (`<figure>`, `<article>`, `<mark>`, `<time>`…) as
//! invalid HTML. The text is what matters to a subscriber, so feeds carry
//! the same content with those elements written the HTML 4 way: blocks as
//! `div` (laid out the same), inline ones reduced to their text. Web pages
//! keep the stored HTML5.

use std::borrow::Cow;

use crate::model::Image;

/// HTML5 block elements, served as `div`.
const AS_DIV: &[&str] = &[
    "article",
    "aside",
    "details",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "main",
    "nav",
    "section",
    "summary",
];

/// HTML5 inline elements (and `bdo`, which validators call unsafe): the
/// tags go, the text stays.
const UNWRAP: &[&str] = &[
    "bdi", "bdo", "data", "mark", "rp", "rt", "rtc", "ruby", "time", "wbr",
];

/// `html` (sanitized: text `<` is escaped, attribute values are quoted)
/// with HTML5-only elements rewritten as above. Borrowed when there are none.
pub fn for_feeds(html: &str) -> Cow<'_, str> {
    let b = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let lt = i + off;
        let name_start = lt + 1 + usize::from(b.get(lt + 1) == Some(&b'/'));
        let name_end = name_start
            + b[name_start..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
        if name_end == name_start {
            i = lt + 1;
            continue;
        }
        let after = tag_end(b, name_end);
        let name = &html[name_start..name_end];
        if AS_DIV.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            out.push_str(&html[copied..name_start]);
            out.push_str("div");
            copied = name_end;
        } else if UNWRAP.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            out.push_str(&html[copied..lt]);
            copied = after;
        }
        i = after;
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

/// `html` led by the article's picture (as `render::lead_image` gives it)
/// when the body shows none: readers that ignore enclosures and `media:*`
/// still show it.
pub fn with_lead_image<'h>(html: Cow<'h, str>, image: Option<&Image>) -> Cow<'h, str> {
    let Some(img) = image else {
        return html;
    };
    if html.contains("<img") {
        return html;
    }
    let attr = |s: &str| html_escape::encode_double_quoted_attribute(s).into_owned();
    Cow::Owned(format!(
        "<p><img src=\"{}\" alt=\"{}\"></p>{html}",
        attr(&img.url),
        attr(img.caption.as_deref().unwrap_or(""))
    ))
}

/// The index just past the `>` closing the tag whose name ends at `from`,
/// skipping quoted attribute values (which may hold `>`).
fn tag_end(b: &[u8], from: usize) -> usize {
    let mut quote = None;
    for (i, &c) in b.iter().enumerate().skip(from) {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html5_blocks_become_divs_and_inline_tags_their_text() {
        let html = r#"<figure><img src="https://x.example/a.jpg" alt="a > b"><figcaption>Dock, <time datetime="2026">2026</time></figcaption></figure><p>A <mark>marked</mark> word<wbr>s</p>"#;
        assert_eq!(
            for_feeds(html),
            r#"<div><img src="https://x.example/a.jpg" alt="a > b"><div>Dock, 2026</div></div><p>A marked words</p>"#
        );
    }

    #[test]
    fn html4_content_is_borrowed_unchanged() {
        let html =
            "<p>Plain &lt;figure&gt; text, <a href=\"https://x.example/?a=<b>\">link</a></p>";
        assert!(matches!(for_feeds(html), Cow::Borrowed(_)));
    }

    #[test]
    fn a_body_without_a_picture_gets_the_lead_image_first() {
        let mut img = Image::new("https://x.example/a.jpg?w=1&h=2");
        img.caption = Some("Dock \"A\" <at> dawn".into());
        let led = with_lead_image(Cow::Borrowed("<p>Text</p>"), Some(&img));
        assert_eq!(
            led,
            "<p><img src=\"https://x.example/a.jpg?w=1&amp;h=2\" alt=\"Dock &quot;A&quot; &lt;at&gt; dawn\"></p><p>Text</p>"
        );
        let shown = "<p><img src=\"https://x.example/b.jpg\"></p>";
        assert_eq!(with_lead_image(Cow::Borrowed(shown), Some(&img)), shown);
    }

    #[test]
    fn names_are_matched_whole() {
        // `<time>` is unwrapped, `<timeline>` is not an element to touch.
        assert_eq!(
            for_feeds("<p><timeline>x</timeline></p>"),
            "<p><timeline>x</timeline></p>"
        );
    }
}
