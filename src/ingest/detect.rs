//! Sniffs an input's format from its content, with the file name as a hint.
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

/// Decides the format of decoded text. `name` is a file name or URL path.
pub fn detect(text: &str, name: Option<&str>) -> Format {
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
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("md" | "markdown" | "mdown") => Format::Markdown,
        Some("html" | "htm" | "xhtml") if prefix.starts_with('<') => Format::Html,
        Some("json") if head.starts_with('{') => Format::Json,
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
            detect("<!DOCTYPE html><html><body><p>x</p>", Some("a.txt")),
            Format::Html
        );
        assert_eq!(detect("  {\"title\": \"x\"}", Some("a.html")), Format::Json);
        assert_eq!(
            detect("---\ntitle: x\n---\nbody", Some("a.txt")),
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
        assert_eq!(detect("# Title\n\nBody", Some("note.md")), Format::Markdown);
        assert_eq!(
            detect("Quantcast Site - Headline\n\nHeadline", Some("a.txt")),
            Format::Text
        );
        assert_eq!(detect("Plain text < with a sign", None), Format::Text);
    }
}
