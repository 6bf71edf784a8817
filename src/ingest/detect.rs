//! Sniffs an input's format from its content, with a typed hint (from a
//! file extension or a `Content-Type`) for what the content leaves open.
//!
//! Content wins over the extension: a `.txt` that holds an HTML page is
//! parsed as HTML, a JSON object saved as `.html` as JSON.

/// The input formats ingest understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A plain-text scrape of a page.
    Text,
    Html,
    /// One JSON article object.
    Json,
    /// Markdown, usually with YAML or TOML front matter.
    Markdown,
    /// An upstream RSS/Atom/JSON feed (polled feeds; not an article), or
    /// a lone Atom entry document (one article).
    Feed,
}

impl Format {
    /// The format a file extension names, if any.
    pub fn from_extension(ext: &str) -> Option<Format> {
        Some(match ext.to_ascii_lowercase().as_str() {
            "txt" | "text" => Format::Text,
            "html" | "htm" | "xhtml" => Format::Html,
            "json" => Format::Json,
            "md" | "markdown" | "mdown" => Format::Markdown,
            "xml" | "rss" | "atom" | "rdf" => Format::Feed,
            _ => return None,
        })
    }

    /// The format a `Content-Type` names (parameters ignored), if any.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        let mime = content_type.split(';').next().unwrap_or("").trim();
        Some(match mime.to_ascii_lowercase().as_str() {
            "text/plain" => Format::Text,
            "text/html" | "application/xhtml+xml" => Format::Html,
            "application/json" => Format::Json,
            "text/markdown" | "text/x-markdown" => Format::Markdown,
            "application/rss+xml"
            | "application/atom+xml"
            | "application/rdf+xml"
            | "application/feed+json"
            | "application/xml"
            | "text/xml" => Format::Feed,
            _ => return None,
        })
    }
}

/// Decides the format of decoded text; `hint` is the caller's belief.
pub fn detect(text: &str, hint: Option<Format>) -> Format {
    let head = text.trim_start_matches(['\u{feff}', ' ', '\t', '\n', '\r']);
    let prefix: String = head
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.starts_with('{') {
        // A JSON Feed states its version URL near the top.
        if prefix.contains("jsonfeed.org/version") {
            return Format::Feed;
        }
        return Format::Json;
    }
    // The root element decides, whatever its prefix (`<atom:feed>`,
    // `<rdf:RDF>`) or the prolog before it.
    if prefix.starts_with('<')
        && super::feed::root_element(head).is_some_and(|root| {
            matches!(
                root.to_ascii_lowercase().as_str(),
                "rss" | "feed" | "rdf" | "entry"
            )
        })
    {
        return Format::Feed;
    }
    if prefix.starts_with("<?xml")
        || prefix.starts_with("<rss")
        || prefix.starts_with("<feed")
        || prefix.starts_with("<rdf:rdf")
        || prefix.starts_with("<entry")
    {
        if prefix.contains("<rss")
            || prefix.contains("<feed")
            || prefix.contains("<rdf:rdf")
            || prefix.contains("<entry")
        {
            return Format::Feed;
        }
        if prefix.contains("<html") {
            return Format::Html;
        }
    }
    if prefix.starts_with("<!doctype html")
        || prefix.starts_with("<html")
        || prefix.starts_with("<head")
        || prefix.starts_with("<body")
        || prefix.starts_with("<article")
        || prefix.starts_with("<!--") && prefix.contains("<html")
    {
        return Format::Html;
    }
    if head.starts_with("---\n") || head.starts_with("+++\n") {
        return Format::Markdown;
    }
    match hint {
        Some(Format::Markdown) => Format::Markdown,
        Some(Format::Html) if prefix.starts_with('<') => Format::Html,
        Some(Format::Json) if head.starts_with('{') => Format::Json,
        _ if prefix.starts_with('<') && (prefix.contains("<p>") || prefix.contains("<div")) => {
            Format::Html
        }
        _ => Format::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        assert_eq!(
            detect("<!DOCTYPE html><html><body><p>x</p>", Some(Format::Text)),
            Format::Html
        );
        assert_eq!(
            detect("  {\"title\": \"x\"}", Some(Format::Html)),
            Format::Json
        );
        assert_eq!(
            detect("---\ntitle: x\n---\nbody", Some(Format::Text)),
            Format::Markdown
        );
        assert_eq!(
            detect("<?xml version=\"1.0\"?>\n<rss version=\"2.0\">", None),
            Format::Feed
        );
        assert_eq!(
            detect("<feed xmlns=\"http://www.w3.org/2005/Atom\">", None),
            Format::Feed
        );
        assert_eq!(
            detect(
                "<?xml version=\"1.0\"?>\n<!-- cached -->\n<atom:feed xmlns:atom=\"http://www.w3.org/2005/Atom\">",
                None
            ),
            Format::Feed
        );
        assert_eq!(
            detect(
                "<?xml version=\"1.0\"?><entry xmlns=\"http://www.w3.org/2005/Atom\">",
                None
            ),
            Format::Feed
        );
        assert_eq!(
            detect(
                "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": []}",
                None
            ),
            Format::Feed
        );
    }

    #[test]
    fn hints_and_default() {
        assert_eq!(
            detect("# Title\n\nBody", Some(Format::Markdown)),
            Format::Markdown
        );
        assert_eq!(
            detect("Quantcast Site - Headline\n\nHeadline", Some(Format::Text)),
            Format::Text
        );
        assert_eq!(detect("Plain text < with a sign", None), Format::Text);
    }
}

#[cfg(test)]
mod hint_tests {
    use super::*;

    #[test]
    fn hints_from_extensions_and_content_types() {
        assert_eq!(Format::from_extension("MD"), Some(Format::Markdown));
        assert_eq!(Format::from_extension("rss"), Some(Format::Feed));
        assert_eq!(Format::from_extension("exe"), None);
        assert_eq!(
            Format::from_content_type("text/html; charset=iso-8859-1"),
            Some(Format::Html)
        );
        assert_eq!(
            Format::from_content_type("application/atom+xml"),
            Some(Format::Feed)
        );
        assert_eq!(Format::from_content_type("image/png"), None);
    }
}
