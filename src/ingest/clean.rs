//! Text and HTML hygiene shared by every input format.
//!
//! Everything stored must later be writable as XML 1.0, so characters XML
//! forbids are removed here, once, at ingest (the `rss` and `atom_syndication`
//! writers pass them through as-is), with the filter in [`crate::model::xml`]
//! that render applies again as a last guard. HTML from outside is sanitized with
//! `ammonia`; entities left in plain text are decoded with `html-escape`.

use std::borrow::Cow;

use ammonia::UrlRelative;

pub use crate::model::xml::strip_invalid_chars;

/// Decodes HTML entities (`&amp;`, `&#8217;`, `&eacute;`) left in plain text.
pub fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    html_escape::decode_html_entities(text)
}

/// Collapses every run of whitespace (including no-break and zero-width
/// spaces) to one space and trims the ends.
pub fn collapse_whitespace(text: &str) -> String {
    // A line that is clean but for its line end ("…\r" from CRLF) or
    // edge spaces needs only trimming, not a pass character by character.
    let trimmed = text.trim_matches(['\t', '\n', '\x0b', '\x0c', '\r', ' ']);
    if !needs_collapse(trimmed.as_bytes()) {
        return trimmed.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    // Runs between spaces are copied whole; only non-ASCII characters are
    // decoded, to ask whether they are spaces.
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        let (space, len) = match bytes[i] {
            b'\t'..=b'\r' | b' ' => (true, 1),
            b if b.is_ascii() => (false, 1),
            _ => text[i..].chars().next().map_or((false, 1), |c| {
                (
                    c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}'),
                    c.len_utf8(),
                )
            }),
        };
        if space {
            if run < i {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&text[run..i]);
            }
            run = i + len;
        }
        i += len;
    }
    if run < text.len() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&text[run..]);
    }
    out
}

/// Most lines are already clean: single ASCII spaces, no edge spaces. A
/// byte scan tells, without decoding characters.
fn needs_collapse(b: &[u8]) -> bool {
    // Lines of ASCII letters and single spaces, most of them, pass on a
    // scan the compiler vectorizes; the others are read byte by byte.
    if crate::model::xml::printable_ascii(b)
        && !b
            .iter()
            .zip(b.iter().skip(1))
            .fold(false, |double, (&x, &y)| double | (x == b' ' && y == b' '))
    {
        return b.first() == Some(&b' ') || b.last() == Some(&b' ');
    }
    if b.first().is_some_and(|c| c.is_ascii_whitespace())
        || b.last().is_some_and(|c| c.is_ascii_whitespace())
    {
        return true;
    }
    let mut prev_space = false;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b' ' if prev_space => return true,
            b' ' => prev_space = true,
            b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => return true,
            // U+0085 and U+00A0
            0xc2 if matches!(b.get(i + 1), Some(0x85 | 0xa0)) => return true,
            // U+1680, U+2000–U+200B, U+2028/9, U+202F, U+205F, U+3000, U+FEFF
            0xe1 if b.get(i + 1) == Some(&0x9a) => return true,
            0xe2 if matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(0x80), Some(0x80..=0x8b | 0xa8 | 0xa9 | 0xaf)) | (Some(0x81), Some(0x9f))
            ) =>
            {
                return true;
            }
            0xe3 if b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0x80) => return true,
            0xef if b.get(i + 1) == Some(&0xbb) && b.get(i + 2) == Some(&0xbf) => return true,
            _ => prev_space = false,
        }
    }
    false
}

/// One line of scraped text made clean: entities decoded, forbidden
/// characters removed, whitespace collapsed.
pub fn clean_line(text: &str) -> String {
    collapse_whitespace(&strip_invalid_chars(&decode_entities(text)))
}

/// Sanitizes untrusted HTML: no script, style, event handlers or
/// `javascript:` URLs; relative URLs made absolute against `base` (dropped
/// when there is no base, since a feed reader could not resolve them).
pub fn sanitize_html(html: &str, base: Option<&url::Url>) -> String {
    thread_local! {
        // Building the sanitizer's tag and attribute tables cost as much
        // as cleaning a short feed item; only the base changes per call.
        static SANITIZER: std::cell::RefCell<ammonia::Builder<'static>> =
            std::cell::RefCell::new(sanitizer());
    }
    let flat = super::nesting::flatten_html(html);
    let cleaned = SANITIZER.with_borrow_mut(|builder| {
        match base {
            Some(base) => builder.url_relative(UrlRelative::RewriteWithBase(base.clone())),
            None => builder.url_relative(UrlRelative::Deny),
        };
        builder.clean(&flat).to_string()
    });
    strip_invalid_chars(&cleaned).into_owned()
}

/// The sanitizer's fixed settings.
fn sanitizer() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder.link_rel(Some("noopener noreferrer"));
    // Every URL that leaves topicfeed is http(s): not mailto:, tel:, ftp:
    // or anything a reader might hand to another program.
    builder.url_schemes(["http", "https"].into_iter().collect());
    builder
}

/// Cuts `text` to at most `max` characters on a word boundary, adding an
/// ellipsis when anything was cut.
pub fn truncate_words(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    let head = &text[..cut];
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if i > max / 2 => &head[..i],
        _ => head,
    };
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || ",;:–—-".contains(c));
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The byte-run rewrite of `collapse_whitespace` says what the
        /// plain definition says: the words, one space between them.
        #[test]
        fn collapse_whitespace_is_words_joined_by_one_space(text in "[a-zA-Z0-9 \t\r\n.,:;!?|'\"’“”„«»‹›‘—–•·éÉßİΣΑ١٢\u{a0}\u{85}\u{2009}\u{200b}\u{feff}\u{3000}-]{0,40}") {
            let words: Vec<&str> = text
                .split(|c: char| c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}'))
                .filter(|w| !w.is_empty())
                .collect();
            proptest::prop_assert_eq!(collapse_whitespace(&text), words.join(" "));
        }
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            clean_line("AT&amp;T&#8217;s &quot;deal&quot;&nbsp;done"),
            "AT&T’s \"deal\" done"
        );
    }

    #[test]
    fn whitespace_collapses() {
        assert_eq!(collapse_whitespace("  a \u{a0}\t b\u{200b} c  "), "a b c");
        for s in [
            "a\u{a0}b",
            "a\u{2009}b",
            "a\u{3000}b",
            "a\u{feff}b",
            "a  b",
            "a\tb",
            " a b ",
            "a\u{85}b",
        ] {
            assert_eq!(collapse_whitespace(s), "a b", "{s:?}");
        }
        assert_eq!(collapse_whitespace("“quoted” – café"), "“quoted” – café");
    }

    #[test]
    fn truncation_stops_on_a_word() {
        let t = truncate_words("The quick brown fox jumps over the lazy dog", 20);
        assert_eq!(t, "The quick brown fox…");
        assert_eq!(truncate_words("short", 20), "short");
    }

    #[test]
    fn sanitizer_strips_scripts_and_resolves_links() {
        let base = url::Url::parse("https://example.org/news/a.html").unwrap();
        let html = r#"<p onclick="x()">Hi <a href="/b">b</a><script>alert(1)</script><a href="javascript:alert(1)">j</a><img src="pic.jpg"></p>"#;
        let out = sanitize_html(html, Some(&base));
        assert!(!out.contains("script") && !out.contains("onclick") && !out.contains("javascript"));
        assert!(out.contains(r#"href="https://example.org/b""#));
        assert!(out.contains(r#"src="https://example.org/news/pic.jpg""#));
    }
}
