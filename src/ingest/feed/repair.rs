//! Text-level repairs made before a feed document is parsed: what a feed
//! reader shrugs off but an XML or JSON parser refuses.

use std::borrow::Cow;

/// What may come before the first `<` or `{` without being content.
const LEADING_JUNK: [char; 5] = ['\u{feff}', ' ', '\t', '\n', '\r'];

pub(super) fn is_json(text: &str) -> bool {
    text.trim_start_matches(LEADING_JUNK).starts_with('{')
}

/// A BOM or blank lines before `<?xml` make the declaration illegal, and
/// XML parsers refuse the document for it.
pub(super) fn strip_leading_junk(text: &str) -> Option<&str> {
    let trimmed = text.trim_start_matches(LEADING_JUNK);
    (trimmed.len() != text.len()).then_some(trimmed)
}

/// The text is UTF-8 now: make the declaration say so, or the XML reader
/// would decode it a second time.
pub(super) fn declare_utf8(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim_start_matches(LEADING_JUNK);
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

/// An XML declaration anywhere but at the very start (a second document
/// pasted on, a declaration after a comment) is not well-formed, and
/// feed-rs switches encodings on it, which quick-xml answers with a panic
/// once reading is under way (found by fuzzing). Drops every declaration
/// but a leading one, wherever it is: a scan that skipped CDATA sections
/// and comments was fooled by `<![CDATA[` inside an attribute value, which
/// the XML reader does not take for one (fuzzing again), and a declaration
/// quoted inside CDATA is rare enough to lose.
pub(super) fn drop_late_declarations(text: &str) -> Cow<'_, str> {
    // What quick-xml takes for a declaration: `<?xml` then space or `?`.
    let is_decl = |rest: &str| {
        rest.strip_prefix("<?xml")
            .is_some_and(|r| r.starts_with(['?', ' ', '\t', '\n', '\r']))
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 1;
    while let Some(found) = text.get(i..).and_then(|t| t.find("<?xml")) {
        let at = i + found;
        let rest = &text[at..];
        if is_decl(rest) {
            let end = rest.find("?>").map_or(text.len(), |e| at + e + 2);
            out.push_str(&text[copied..at]);
            copied = end;
            i = end;
        } else {
            i = at + 1;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// JSON Feed fields of the wrong JSON type that readers accept: numeric
/// `id`s (common from database-backed generators) and a lone string for
/// `tags`. feed-rs's typed model refuses the whole feed for either.
pub(super) fn coerce_json(text: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
    let items = value.get_mut("items")?.as_array_mut()?;
    let mut changed = false;
    for item in items.iter_mut() {
        let Some(obj) = item.as_object_mut() else {
            continue;
        };
        if let Some(id) = obj.get_mut("id")
            && (id.is_number() || id.is_boolean())
        {
            *id = serde_json::Value::String(id.to_string());
            changed = true;
        }
        if let Some(tags) = obj.get_mut("tags")
            && let Some(tag) = tags.as_str()
        {
            *tags = serde_json::Value::Array(vec![serde_json::Value::String(tag.to_owned())]);
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    serde_json::to_string(&value).ok()
}

/// The five entities XML predefines; everything else needs a DTD.
const XML_ENTITIES: &[&str] = &["amp", "lt", "gt", "quot", "apos"];

/// Escapes every `&` that does not start an XML reference and every `<` that
/// cannot open markup, and turns HTML
/// named entities (`&nbsp;`, `&rsquo;`), which XML does not know, into
/// numeric references, using html-escape's HTML5 table. CDATA sections are
/// left alone: their `&` is already literal. Borrowed when nothing changed.
pub(super) fn escape_stray_markup(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut last = 0;
    let mut pos = 0;
    while let Some(found) = text[pos..].find(['&', '<']) {
        let i = pos + found;
        if text[i..].starts_with("<![CDATA[") {
            pos = text[i..].find("]]>").map_or(text.len(), |e| i + e + 3);
            continue;
        }
        pos = i + 1;
        if text.as_bytes()[i] == b'<' {
            // "Price < 20": a `<` that cannot open markup is text.
            let opens = text[i + 1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || matches!(c, '_' | ':' | '/' | '!' | '?'));
            if !opens {
                out.push_str(&text[last..i]);
                out.push_str("&lt;");
                last = i + 1;
            }
            continue;
        }
        let rest = &text[i + 1..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let terminated = rest[name_len..].starts_with(';');
        if terminated && is_xml_reference(name) {
            continue;
        }
        out.push_str(&text[last..i]);
        if terminated && !name.is_empty() {
            let entity = format!("&{name};");
            let decoded = html_escape::decode_html_entities(&entity);
            if decoded != entity {
                for c in decoded.chars() {
                    out.push_str(&format!("&#{};", c as u32));
                }
                last = i + 1 + name_len + 1;
                pos = last;
                continue;
            }
        }
        out.push_str("&amp;");
        last = i + 1;
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

/// The qualified name of the document's root element, skipping the
/// prolog, comments and processing instructions.
pub(super) fn root_qname(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches(LEADING_JUNK);
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
            return Some(&r[..end]);
        }
    }
}

/// The local name of the document's root element.
pub(crate) fn root_element(text: &str) -> Option<&str> {
    let name = root_qname(text)?;
    Some(name.rsplit(':').next().unwrap_or(name))
}

/// A document whose root is never closed was cut off in transit; a parser
/// that stops quietly at the end would pass it as whole.
/// Whether some `xml:base` in the document is relative: then XML Base
/// (and RFC 3986 5.1.3) resolves it against the document's own URL, which
/// the readers must be given.
pub(super) fn has_relative_xml_base(text: &str) -> bool {
    text.match_indices("xml:base=").any(|(i, m)| {
        let rest = &text[i + m.len()..];
        let Some(quote) = rest.chars().next().filter(|q| *q == '"' || *q == '\'') else {
            return false;
        };
        let value = rest[1..].split(quote).next().unwrap_or_default();
        url::Url::parse(value.trim()).is_err()
    })
}

pub(super) fn is_truncated(text: &str) -> bool {
    let Some(root) = root_qname(text) else {
        return false;
    };
    let tail = text.trim_end();
    let close = format!("</{root}");
    match tail.rfind(&close) {
        Some(at) => !tail[at..].ends_with('>'),
        // `<feed/>`: an empty document is whole.
        None => !tail.ends_with("/>"),
    }
}

/// Whether the text holds item-like elements: a parse that found no
/// entries in such a document missed them.
pub(super) fn has_item_elements(text: &str) -> bool {
    ["<item>", "<item ", "<entry>", "<entry "]
        .iter()
        .any(|t| text.contains(t))
        || text.contains(":item>")
        || text.contains(":entry>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_xml_bases_are_told_from_absolute_ones() {
        assert!(has_relative_xml_base(r#"<feed xml:base="/blog/">"#));
        assert!(has_relative_xml_base("<entry xml:base='archive/'>"));
        assert!(!has_relative_xml_base(
            r#"<feed xml:base="https://a.example/b/">"#
        ));
        assert!(!has_relative_xml_base("<rss><channel>"));
    }

    #[test]
    fn bare_ampersands_and_html_entities_become_xml() {
        assert_eq!(
            escape_stray_markup("A & B &amp; C &#38; &#x26; &nbsp; &bogus; &"),
            "A &amp; B &amp; C &#38; &#x26; &#160; &amp;bogus; &amp;"
        );
        assert_eq!(
            escape_stray_markup("&rsquo;<![CDATA[a & b &rsquo;]]>&"),
            "&#8217;<![CDATA[a & b &rsquo;]]>&amp;"
        );
        assert!(matches!(
            escape_stray_markup("nothing here"),
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
    fn root_element_skips_prolog() {
        assert_eq!(
            root_element("<?xml version=\"1.0\"?>\n<!-- c -->\n<entry xmlns=\"x\">"),
            Some("entry")
        );
        assert_eq!(root_element("<rdf:RDF>"), Some("RDF"));
    }

    #[test]
    fn truncation_seen_from_the_missing_root_end() {
        assert!(!is_truncated("<rss><channel></channel></rss>\n"));
        assert!(!is_truncated("<rdf:RDF></rdf:RDF>"));
        assert!(is_truncated("<rss><channel><item><title>x</ti"));
        assert!(is_truncated("<rss><channel></channel></rs"));
    }

    #[test]
    fn json_ids_and_tags_coerced() {
        let fixed = coerce_json(r#"{"items":[{"id":42,"tags":"news"},{"id":"a"}]}"#).unwrap();
        assert_eq!(
            fixed,
            r#"{"items":[{"id":"42","tags":["news"]},{"id":"a"}]}"#
        );
        assert_eq!(coerce_json(r#"{"items":[{"id":"a"}]}"#), None);
    }

    #[test]
    fn late_xml_declarations_dropped() {
        let lead = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        assert!(matches!(
            drop_late_declarations(&format!("{lead}<rss/>")),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            drop_late_declarations(&format!(
                "{lead}<a><?xml version=\"1.0\" encoding=\"windows-1252\"?>x<?xml?></a>"
            )),
            format!("{lead}<a>x</a>")
        );
        // `<![CDATA[` in an attribute is no CDATA section to hide behind.
        assert_eq!(
            drop_late_declarations(&format!(
                "{lead}<a href=\"x<![CDATA[y\"/><?xml version=\"1.0\" encoding=\"latin1\"?><b/>"
            )),
            format!("{lead}<a href=\"x<![CDATA[y\"/><b/>")
        );
        // A PI that only starts with `xml` is not a declaration.
        let kept = format!("{lead}<a><?xml-stylesheet href=\"s\"?></a>");
        assert_eq!(drop_late_declarations(&kept), kept);
        // Unclosed declaration: the rest goes.
        assert_eq!(drop_late_declarations("<a><?xml v"), "<a>");
    }
}
