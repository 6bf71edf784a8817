//! Topic definitions: `feeds/<slug>.toml`, parsed and validated once.
//!
//! Every error names the file, the line and the field, so whoever edits the
//! taxonomy can fix it without reading code. A directory is loaded whole or
//! not at all; the caller keeps its last good set when loading fails.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// Which part of an article a topic's terms are looked for in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    Title,
    Body,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Title => "title",
            Field::Body => "body",
        })
    }
}

/// One topic file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicFile {
    title: String,
    #[serde(default)]
    description: String,
    any: Option<Spanned<Vec<String>>>,
    all: Option<Spanned<Vec<String>>>,
    none: Option<Spanned<Vec<String>>>,
    sources: Option<Spanned<Vec<String>>>,
    fields: Option<Spanned<Vec<Field>>>,
    min_hits: Option<Spanned<u32>>,
    title_weight: Option<Spanned<u32>>,
    icon: Option<Spanned<String>>,
    logo: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
}

/// A validated topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// The file stem; the topic's name in URLs.
    pub slug: String,
    pub title: String,
    pub description: String,
    pub any: Vec<String>,
    pub all: Vec<String>,
    pub none: Vec<String>,
    /// Site names or URL hosts, lower-cased.
    pub sources: Vec<String>,
    pub fields: Vec<Field>,
    pub min_hits: u32,
    pub title_weight: u32,
    /// The feed's own icon (square) and logo (twice as wide as high),
    /// absolute http(s) URLs; topicfeed's own when not set.
    pub icon: Option<String>,
    pub logo: Option<String>,
    /// Set: the topic's feeds are private, served only to a request that
    /// presents this key (or the server's global one).
    pub key: Option<crate::model::ReadKey>,
}

pub const DEFAULT_TITLE_WEIGHT: u32 = 3;

pub use crate::config::ConfigError;
use crate::config::line_of;

/// Slugs that name something other than a topic in URLs.
const RESERVED_SLUGS: &[&str] = &["all", "sources", "index"];

/// True for slugs safe in a URL path segment and a file name alike.
pub fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 64
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Parses and validates one topic file's text.
pub fn parse_topic(path: &Path, text: &str) -> Result<Topic, Vec<ConfigError>> {
    let err = |line: Option<usize>, message: String| ConfigError {
        path: path.to_owned(),
        line,
        message,
    };
    let slug = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let mut errors = Vec::new();
    if !valid_slug(&slug) {
        errors.push(err(
            None,
            format!("file name `{slug}` is not a usable slug: use lower-case letters, digits and single hyphens (it becomes the feed URL)"),
        ));
    } else if RESERVED_SLUGS.contains(&slug.as_str()) {
        errors.push(err(
            None,
            format!("`{slug}` is reserved for the built-in feed of that name"),
        ));
    }
    let file: TopicFile = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            errors.push(ConfigError::toml(path, text, &e));
            return Err(errors);
        }
    };
    let terms = |name: &str,
                 v: &Option<Spanned<Vec<String>>>,
                 errors: &mut Vec<ConfigError>|
     -> Vec<String> {
        let Some(v) = v else { return Vec::new() };
        let line = line_of(text, v.span().start);
        let mut out = Vec::new();
        for term in v.get_ref() {
            let t = term.split_whitespace().collect::<Vec<_>>().join(" ");
            if t.is_empty() || !t.chars().any(char::is_alphanumeric) {
                errors.push(err(
                    Some(line),
                    format!("field `{name}`: the term {term:?} has no letters or digits"),
                ));
            } else {
                out.push(t);
            }
        }
        out
    };
    let any = terms("any", &file.any, &mut errors);
    let all = terms("all", &file.all, &mut errors);
    let none = terms("none", &file.none, &mut errors);
    let sources: Vec<String> = terms("sources", &file.sources, &mut errors)
        .into_iter()
        .map(|s| s.to_lowercase())
        .collect();
    if any.is_empty() && all.is_empty() {
        errors.push(err(
            file.any
                .as_ref()
                .or(file.all.as_ref())
                .map(|v| line_of(text, v.span().start)),
            "empty rule set: give at least one term in `any` or `all`".into(),
        ));
    }
    if file.title.trim().is_empty() {
        errors.push(err(Some(1), "field `title`: must not be empty".into()));
    }
    let fields = match &file.fields {
        Some(f) if f.get_ref().is_empty() => {
            errors.push(err(
                Some(line_of(text, f.span().start)),
                "field `fields`: must name \"title\", \"body\" or both".into(),
            ));
            Vec::new()
        }
        Some(f) => {
            let mut v = f.get_ref().clone();
            v.sort();
            v.dedup();
            v
        }
        None => vec![Field::Title, Field::Body],
    };
    let positive =
        |name: &str, v: &Option<Spanned<u32>>, default: u32, errors: &mut Vec<ConfigError>| match v
        {
            Some(n) if *n.get_ref() == 0 => {
                errors.push(err(
                    Some(line_of(text, n.span().start)),
                    format!("field `{name}`: must be at least 1"),
                ));
                default
            }
            Some(n) => *n.get_ref(),
            None => default,
        };
    let min_hits = positive("min_hits", &file.min_hits, 1, &mut errors);
    let title_weight = positive(
        "title_weight",
        &file.title_weight,
        DEFAULT_TITLE_WEIGHT,
        &mut errors,
    );
    let image = |name: &str, v: &Option<Spanned<String>>, errors: &mut Vec<ConfigError>| {
        let v = v.as_ref()?;
        let url = v.get_ref().trim();
        if crate::model::is_http_url(url) {
            Some(url.to_owned())
        } else {
            errors.push(err(
                Some(line_of(text, v.span().start)),
                format!("field `{name}`: {url:?} is not an absolute http(s) URL"),
            ));
            None
        }
    };
    let icon = image("icon", &file.icon, &mut errors);
    let logo = image("logo", &file.logo, &mut errors);
    let key =
        file.key
            .as_ref()
            .and_then(|k| match crate::model::ReadKey::new(k.get_ref().trim()) {
                Ok(key) => Some(key),
                Err(why) => {
                    errors.push(err(
                        Some(line_of(text, k.span().start)),
                        format!("field `key`: {why}"),
                    ));
                    None
                }
            });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Topic {
        slug,
        title: file.title.trim().to_owned(),
        description: file.description.trim().to_owned(),
        any,
        all,
        none,
        sources,
        fields,
        min_hits,
        title_weight,
        icon,
        logo,
        key,
    })
}

/// Files in a feeds directory that are not topics.
const NOT_TOPICS: &[&str] = &["sources.toml"];

/// Loads every `*.toml` topic in `dir`, sorted by slug. All problems in all
/// files are reported together.
pub fn load_dir(dir: &Path) -> Result<Vec<Topic>, Vec<ConfigError>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![ConfigError {
            path: dir.to_owned(),
            line: None,
            message: format!("cannot read the feeds directory: {e}"),
        }]
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_none_or(|n| !NOT_TOPICS.contains(&n))
        })
        .collect();
    paths.sort();
    let mut topics = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse_topic(&path, &text) {
                Ok(t) => topics.push(t),
                Err(e) => errors.extend(e),
            },
            Err(e) => errors.push(ConfigError {
                path: path.clone(),
                line: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    if topics.is_empty() && errors.is_empty() {
        errors.push(ConfigError {
            path: dir.to_owned(),
            line: None,
            message: "no topic files (*.toml) found".into(),
        });
    }
    if errors.is_empty() {
        Ok(topics)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<Topic, Vec<ConfigError>> {
        parse_topic(Path::new(name), text)
    }

    fn messages(r: Result<Topic, Vec<ConfigError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn defaults() {
        let t = parse(
            "feeds/climate.toml",
            "title = \"Climate\"\nany = [\"climate change\"]\n",
        )
        .unwrap();
        assert_eq!(t.slug, "climate");
        assert_eq!(t.fields, vec![Field::Title, Field::Body]);
        assert_eq!((t.min_hits, t.title_weight), (1, DEFAULT_TITLE_WEIGHT));
    }

    #[test]
    fn a_private_topics_key_is_checked_where_it_is_written() {
        let t = parse(
            "feeds/board.toml",
            "title = \"Board\"\nany = [\"minutes\"]\nkey = \"quay-7f3k-22\"\n",
        )
        .unwrap();
        assert!(t.key.as_ref().is_some_and(|k| k.opens("quay-7f3k-22")));
        assert!(
            !format!("{t:?}").contains("quay-7f3k-22"),
            "Debug hides the key"
        );
        let m = messages(parse(
            "feeds/board.toml",
            "title = \"Board\"\nany = [\"minutes\"]\nkey = \"abc\"\n",
        ));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("board.toml")
                && m[0].contains(":3")
                && m[0].contains("field `key`")
                && m[0].contains("at least 8"),
            "{m:?}"
        );
    }

    #[test]
    fn a_topics_pictures_must_be_http_urls() {
        let t = parse(
            "feeds/harbour.toml",
            "title = \"Harbour\"\nany = [\"ferry\"]\nicon = \"https://cdn.example/h.png\"\n",
        )
        .unwrap();
        assert_eq!(t.icon.as_deref(), Some("https://cdn.example/h.png"));
        assert_eq!(t.logo, None);
        let m = messages(parse(
            "feeds/harbour.toml",
            "title = \"Harbour\"\nany = [\"ferry\"]\nlogo = \"file:///etc/passwd\"\n",
        ));
        assert!(
            m[0].starts_with("feeds/harbour.toml:3") && m[0].contains("`logo`"),
            "{m:?}"
        );
    }

    #[test]
    fn invalid_toml_names_file_and_line() {
        let m = messages(parse("feeds/x.toml", "title = \"X\"\nany = [\"a\",\n"));
        assert!(m[0].starts_with("feeds/x.toml:"), "{m:?}");
    }

    #[test]
    fn unknown_field_names_file_line_and_field() {
        let m = messages(parse(
            "feeds/x.toml",
            "title = \"X\"\nany = [\"a\"]\nanny = [\"b\"]\n",
        ));
        assert!(
            m[0].starts_with("feeds/x.toml:3") && m[0].contains("anny"),
            "{m:?}"
        );
    }

    #[test]
    fn empty_rules_and_bad_values() {
        let m = messages(parse("feeds/x.toml", "title = \"X\"\nany = []\n"));
        assert!(
            m[0].contains("feeds/x.toml:2") && m[0].contains("empty rule set"),
            "{m:?}"
        );
        let m = messages(parse(
            "feeds/x.toml",
            "title = \"X\"\nany = [\"a\"]\nmin_hits = 0\n",
        ));
        assert!(m[0].contains(":3") && m[0].contains("min_hits"), "{m:?}");
        let m = messages(parse(
            "feeds/x.toml",
            "title = \"X\"\nany = [\"a\", \" \"]\n",
        ));
        assert!(m[0].contains("`any`"), "{m:?}");
    }

    #[test]
    fn slugs_must_be_url_safe_and_not_reserved() {
        for bad in ["Middle East", "middle_east", "-x", "x--y", "ÉTÉ", "a.b"] {
            assert!(!valid_slug(bad), "{bad}");
        }
        assert!(valid_slug("middle-east") && valid_slug("g20"));
        let m = messages(parse(
            "feeds/Middle East.toml",
            "title = \"X\"\nany = [\"a\"]\n",
        ));
        assert!(m[0].contains("slug"), "{m:?}");
        let m = messages(parse("feeds/all.toml", "title = \"X\"\nany = [\"a\"]\n"));
        assert!(m[0].contains("reserved"), "{m:?}");
    }
}
