//! JSON article objects → a [`Draft`].
//!
//! Exporters disagree on names, so each field is looked up under the names
//! seen in the wild (`content`/`body`/`text`, `published`/`date`, …). Plain
//! text bodies go through the shared line engine (`lines`); `html` bodies
//! through the HTML extractor. A field of the wrong type is an error naming
//! the field.

use serde_json::{Map, Value};

use super::boilerplate::Boilerplate;
use super::clean::clean_line;
use super::dates::parse_date;
use super::lines::{lines, parse_body};
use super::{Draft, IngestError, html, lang};
use crate::model::BlockKind;

const TITLE: &[&str] = &["title", "headline", "name"];
const URL: &[&str] = &["url", "link", "canonical_url", "canonicalUrl", "permalink"];
const AUTHOR: &[&str] = &["author", "authors", "byline", "creator"];
const PUBLISHED: &[&str] = &[
    "published",
    "date",
    "date_published",
    "datePublished",
    "pubDate",
    "published_at",
    "created_at",
];
const UPDATED: &[&str] = &[
    "updated",
    "date_modified",
    "dateModified",
    "modified",
    "updated_at",
];
const TEXT: &[&str] = &["content", "body", "text", "content_text", "articleBody"];
const HTML: &[&str] = &["html", "content_html", "body_html"];
const SITE: &[&str] = &["site", "site_name", "siteName", "source", "publisher"];
const LANGUAGE: &[&str] = &["language", "lang", "inLanguage"];
const SUMMARY: &[&str] = &["summary", "description", "standfirst", "excerpt"];
const IMAGE: &[&str] = &[
    "image",
    "image_url",
    "imageUrl",
    "featured_image",
    "cover_image",
    "cover",
    "thumbnail",
];

pub fn parse(input: &str, rules: &Boilerplate) -> Result<Draft, IngestError> {
    let value: Value = serde_json::from_str(input).map_err(|e| IngestError::Field {
        format: "JSON",
        field: None,
        // serde_json stops at 128 levels, which bounds the work; its
        // message alone reads like a bug in topicfeed.
        reason: if e.to_string().starts_with("recursion limit exceeded") {
            format!(
                "nested more than 128 levels deep (line {}, column {}); article fields are flat",
                e.line(),
                e.column()
            )
        } else {
            format!("not valid JSON: {e}")
        },
    })?;
    let Value::Object(obj) = value else {
        return Err(IngestError::Field {
            format: "JSON",
            field: None,
            reason: "expected one article object at the top level".into(),
        });
    };
    let mut draft = metadata(&obj, "JSON", rules)?;

    if let Some(html_body) = string_field(&obj, HTML)? {
        let extracted = html::parse_fragment(&html_body, draft.url.as_deref(), rules);
        draft.blocks = extracted.blocks;
        draft.html = Some(extracted.html);
    } else if let Some(plain) = string_field(&obj, TEXT)? {
        // Some exporters put HTML in `content`.
        if looks_like_html(&plain) {
            let extracted = html::parse_fragment(&plain, draft.url.as_deref(), rules);
            draft.blocks = extracted.blocks;
            draft.html = Some(extracted.html);
        } else {
            let body = parse_body(lines(&plain), rules);
            draft.blocks = body.blocks;
            if draft.authors.is_empty() {
                draft.authors = body.authors;
            }
            draft.published = draft.published.or(body.published);
            draft.updated = draft.updated.or(body.updated);
        }
    }
    // A summary field is the standfirst, not a body paragraph.
    if let Some(first) = draft.blocks.first()
        && first.kind == BlockKind::Standfirst
        && draft.summary.is_none()
    {
        draft.summary = Some(first.text.clone());
    }
    if draft.title.is_empty() {
        return Err(IngestError::Field {
            format: "JSON",
            field: Some("title".into()),
            reason: "missing or empty (also looked for `headline`, `name`)".into(),
        });
    }
    Ok(draft)
}

/// The article metadata of a JSON object or a Markdown front matter.
pub(crate) fn metadata(
    obj: &Map<String, Value>,
    format: &'static str,
    rules: &Boilerplate,
) -> Result<Draft, IngestError> {
    let named = |e: IngestError| match e {
        IngestError::Field { field, reason, .. } => IngestError::Field {
            format,
            field,
            reason,
        },
        other => other,
    };
    // A field of the wrong type or an unreadable date costs that field,
    // never the article: it is dropped and the sender told in the notes.
    let mut notes = Vec::new();
    let mut kept = |r| dropped_on_error(r, named, &mut notes);
    let title = kept(string_field(obj, TITLE)).unwrap_or_default();
    let url = kept(string_field(obj, URL));
    let site = kept(string_field(obj, SITE)).map(|s| clean_line(&s));
    let language = kept(string_field(obj, LANGUAGE)).and_then(|l| lang::normalize_tag(&l));
    let summary = kept(string_field(obj, SUMMARY)).map(|s| clean_line(&s));
    let published = dropped_on_error(date_field(obj, PUBLISHED, rules), named, &mut notes);
    let updated = dropped_on_error(date_field(obj, UPDATED, rules), named, &mut notes);
    let authors = dropped_on_error(authors(obj).map(Some), named, &mut notes).unwrap_or_default();
    let image = dropped_on_error(image_field(obj), named, &mut notes);
    Ok(Draft {
        title: clean_line(&title),
        url,
        site,
        authors,
        published,
        updated,
        language,
        summary,
        notes,
        image,
        ..Draft::default()
    })
}

/// The lead image: a URL, a schema.org `ImageObject` (`url`, `contentUrl`,
/// `caption`), or a list of either (the first is taken).
fn image_field(obj: &Map<String, Value>) -> Result<Option<crate::model::Image>, IngestError> {
    for name in IMAGE {
        let mut v = match obj.get(*name) {
            None | Some(Value::Null) => continue,
            Some(v) => v,
        };
        if let Value::Array(items) = v {
            match items.first() {
                Some(first) => v = first,
                None => continue,
            }
        }
        let text = |o: &Map<String, Value>, keys: &[&str]| {
            keys.iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))
                .map(clean_line)
                .filter(|s| !s.is_empty())
        };
        return match v {
            Value::String(u) if u.trim().is_empty() => continue,
            Value::String(u) => Ok(Some(crate::model::Image::new(u.trim()))),
            Value::Object(o) => match text(o, &["url", "contentUrl", "src"]) {
                Some(url) => Ok(Some(crate::model::Image {
                    caption: text(o, &["caption", "description", "alt"]),
                    credit: text(o, &["credit", "creditText", "copyrightHolder"]),
                    ..crate::model::Image::new(url)
                })),
                None => Err(wrong_type(name, "an object without a `url`")),
            },
            other => Err(wrong_type(name, type_name(other))),
        };
    }
    Ok(None)
}

/// The field's value, or None with a note saying why it was dropped.
fn dropped_on_error<T>(
    r: Result<Option<T>, IngestError>,
    named: impl Fn(IngestError) -> IngestError,
    notes: &mut Vec<String>,
) -> Option<T> {
    r.map_err(named).unwrap_or_else(|e| {
        notes.push(format!("dropped {e}"));
        None
    })
}

fn looks_like_html(s: &str) -> bool {
    let t = s.trim_start();
    t.starts_with('<') && (t.contains("</p>") || t.contains("<br") || t.contains("</div>"))
}

/// The first present field among `names`; an error if it is not a string.
fn string_field(obj: &Map<String, Value>, names: &[&str]) -> Result<Option<String>, IngestError> {
    for name in names {
        match obj.get(*name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) if s.trim().is_empty() => continue,
            Some(Value::String(s)) => return Ok(Some(s.clone())),
            // `"title": 1984` is the title "1984".
            Some(Value::Number(n)) => return Ok(Some(n.to_string())),
            // `"title": ["Port strike"]`: the first text in the list.
            Some(Value::Array(items)) => {
                match items.iter().find_map(|v| match v {
                    Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                }) {
                    Some(s) => return Ok(Some(s)),
                    None => return Err(wrong_type(name, "a list without text")),
                }
            }
            Some(Value::Object(o)) => {
                // {"publisher": {"name": "..."}}, {"source": {"title": ...}}
                if let Some(Value::String(s)) = o.get("name").or_else(|| o.get("title")) {
                    return Ok(Some(s.clone()));
                }
                return Err(wrong_type(name, "an object without a `name`"));
            }
            Some(other) => return Err(wrong_type(name, type_name(other))),
        }
    }
    Ok(None)
}

fn wrong_type(field: &str, found: &str) -> IngestError {
    IngestError::Field {
        format: "JSON",
        field: Some(field.to_owned()),
        reason: format!("expected a string, found {found}"),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn authors(obj: &Map<String, Value>) -> Result<Vec<String>, IngestError> {
    for name in AUTHOR {
        let Some(v) = obj.get(*name) else { continue };
        let mut out = Vec::new();
        let mut push = |v: &Value| -> Result<(), IngestError> {
            let s = match v {
                Value::String(s) => s.as_str(),
                Value::Object(o) => match o.get("name") {
                    Some(Value::String(s)) => s.as_str(),
                    _ => return Err(wrong_type(name, "an author object without a `name`")),
                },
                Value::Null => return Ok(()),
                other => return Err(wrong_type(name, type_name(other))),
            };
            for part in s.split([',', ';']).flat_map(|p| p.split(" and ")) {
                let part = clean_line(
                    part.trim()
                        .trim_start_matches("By ")
                        .trim_start_matches("by "),
                );
                if !part.is_empty() && !out.contains(&part) {
                    out.push(part);
                }
            }
            Ok(())
        };
        match v {
            Value::Array(items) => {
                for item in items {
                    push(item)?;
                }
            }
            other => push(other)?,
        }
        return Ok(out);
    }
    Ok(Vec::new())
}

fn date_field(
    obj: &Map<String, Value>,
    names: &[&str],
    rules: &Boilerplate,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, IngestError> {
    for name in names {
        match obj.get(*name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => {
                return parse_date(s, rules)
                    .map(Some)
                    .ok_or_else(|| IngestError::Field {
                        format: "JSON",
                        field: Some((*name).to_owned()),
                        reason: format!(
                            "`{s}` is not a date (use RFC 3339, e.g. 2024-05-17T15:04:00Z)"
                        ),
                    });
            }
            Some(Value::Number(n)) => {
                // Unix seconds.
                let secs = n
                    .as_i64()
                    .ok_or_else(|| wrong_type(name, "a non-integer number"))?;
                return Ok(chrono::DateTime::from_timestamp(secs, 0));
            }
            Some(other) => return Err(wrong_type(name, type_name(other))),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Result<Draft, IngestError> {
        parse(s, Boilerplate::builtin())
    }

    #[test]
    fn field_aliases() {
        let d = run(r#"{"headline": "Port strike", "link": "https://example.org/a", "authors": [{"name": "Jane Roe"}, "Tom Hale"],
                        "date": "2024-05-17T15:04:00Z", "body": "Dock workers walked out on Monday, the union said.\n\nTalks resume on Friday, both sides said."}"#).unwrap();
        assert_eq!(d.title, "Port strike");
        assert_eq!(d.url.as_deref(), Some("https://example.org/a"));
        assert_eq!(d.authors, vec!["Jane Roe", "Tom Hale"]);
        assert!(d.published.is_some());
        assert_eq!(d.blocks.len(), 2);
    }

    #[test]
    fn html_body_is_extracted_and_sanitized() {
        let d = run(r#"{"title": "T", "html": "<p>First paragraph of the story, long enough.</p><script>x()</script><h2>Next</h2><p>More.</p>"}"#).unwrap();
        assert_eq!(d.blocks.len(), 3);
        assert!(!d.html.unwrap_or_default().contains("script"));
    }

    #[test]
    fn errors_name_the_field() {
        // Wrong types are coerced where the meaning is plain, else dropped
        // with a note naming the field; the article is kept.
        assert_eq!(
            run(r#"{"title": 1984, "content": "A novel."}"#)
                .unwrap()
                .title,
            "1984"
        );
        assert_eq!(
            run(r#"{"title": ["Port strike", "x"], "content": "Dock workers."}"#)
                .unwrap()
                .title,
            "Port strike"
        );
        let d =
            run(r#"{"title": "x", "published": "last week", "author": true, "content": "Body."}"#)
                .unwrap();
        assert_eq!(d.published, None);
        let notes = d.notes.join("\n");
        assert!(
            notes.contains("`published`") && notes.contains("last week"),
            "{notes}"
        );
        assert!(notes.contains("`author"), "{notes}");
        let e = run(r#"{"content": "body only"}"#).unwrap_err().to_string();
        assert!(e.contains("`title`"), "{e}");
        let e = run("[1, 2]").unwrap_err().to_string();
        assert!(e.contains("article object"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_clearly() {
        for (open, close) in [("[", "]"), (r#"{"a":"#, "}")] {
            let doc = format!(
                r#"{{"title":"T","body":"x","extra":{}1{}}}"#,
                open.repeat(100_000),
                close.repeat(100_000)
            );
            let e = run(&doc).unwrap_err().to_string();
            assert!(e.contains("nested more than 128 levels"), "{e}");
        }
        // An HTML body nested deep is flattened, not refused.
        let html = format!(
            "{}Dock workers walked out on Monday.{}",
            "<div>".repeat(50_000),
            "</div>".repeat(50_000)
        );
        let d = run(&format!(r#"{{"title":"T","html":"{html}"}}"#)).unwrap();
        assert!(
            d.blocks.iter().any(|b| b.text.contains("Dock workers")),
            "{:?}",
            d.blocks
        );
    }
}
