//! `feeds/sources.toml`: the upstream feeds to poll and the inbox folders
//! to watch, parsed and validated once.
//!
//! ```toml
//! [[source]]
//! name = "Harbour News"                  # unique; the site name when the feed has no title
//! url = "https://news.example/feed.xml"
//! every = "15m"                          # optional: 30s, 15m, 2h, 1d (default 30m)
//! full_text = true                       # optional: fetch the page of summary-only entries
//!
//! [[inbox]]
//! path = "inbox"                         # relative to the feeds directory's parent
//! ```
//!
//! Unknown fields and bad values are errors naming the file and line, as
//! for topic files. A missing file means no sources: the service runs
//! offline by default.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::{ConfigError, line_of};
use toml::Spanned;

use super::SourceError;
use super::schedule::parse_duration;

/// The file name inside the feeds directory.
pub const SOURCES_FILE: &str = "sources.toml";

/// How often a source is polled when `every` is not given.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30 * 60);

/// One upstream feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceConfig {
    pub name: String,
    pub url: String,
    pub every: Duration,
    /// Fetch the linked page for entries that carry only a summary.
    pub full_text: bool,
}

/// One watched inbox folder, as an absolute or feeds-parent-relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxConfig {
    pub path: PathBuf,
}

/// Everything `sources.toml` configures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcesConfig {
    pub sources: Vec<SourceConfig>,
    pub inboxes: Vec<InboxConfig>,
    /// `[outbound] allow`: non-public ranges that URLs found inside fetched
    /// documents may reach. Read at start; a change needs a restart.
    pub outbound: super::OutboundPolicy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    source: Vec<Spanned<SourceEntry>>,
    #[serde(default)]
    inbox: Vec<Spanned<InboxEntry>>,
    outbound: Option<Spanned<OutboundEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboundEntry {
    #[serde(default)]
    allow: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceEntry {
    name: String,
    url: String,
    every: Option<String>,
    #[serde(default)]
    full_text: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxEntry {
    path: String,
}

/// Loads `<feeds_dir>/sources.toml`; no file means nothing configured.
pub fn load(feeds_dir: &Path) -> Result<SourcesConfig, SourceError> {
    let path = feeds_dir.join(SOURCES_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SourcesConfig::default()),
        Err(source) => return Err(SourceError::Io { path, source }),
    };
    parse(&path, &text, feeds_dir)
}

/// Parses and validates the text of `path`. Relative inbox paths resolve
/// against the parent of `feeds_dir`.
pub fn parse(path: &Path, text: &str, feeds_dir: &Path) -> Result<SourcesConfig, SourceError> {
    let err = |line: Option<usize>, message: String| {
        SourceError::Config(ConfigError::new(path, line, message))
    };
    let file: File =
        toml::from_str(text).map_err(|e| SourceError::Config(ConfigError::toml(path, text, &e)))?;
    let mut names = HashSet::new();
    let mut sources = Vec::new();
    for entry in file.source {
        let line = Some(line_of(text, entry.span().start));
        let SourceEntry {
            name,
            url,
            every,
            full_text,
        } = entry.into_inner();
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(err(line, "source `name` is empty".into()));
        }
        if !names.insert(name.clone()) {
            return Err(err(line, format!("source name `{name}` is used twice")));
        }
        match url::Url::parse(url.trim()) {
            Ok(u) if crate::model::is_http(&u) => {}
            _ => {
                return Err(err(
                    line,
                    format!("source `{name}`: `url` must be an absolute http(s) URL, not `{url}`"),
                ));
            }
        }
        let every = match every {
            None => DEFAULT_EVERY,
            Some(s) => match parse_duration(&s) {
                Some(d) if d >= Duration::from_secs(1) => d,
                _ => {
                    return Err(err(
                        line,
                        format!(
                            "source `{name}`: `every` must be a duration like 30s, 15m, 2h or 1d, not `{s}`"
                        ),
                    ));
                }
            },
        };
        sources.push(SourceConfig {
            name,
            url: url.trim().to_owned(),
            every,
            full_text,
        });
    }
    let base = feeds_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut inboxes = Vec::new();
    for entry in file.inbox {
        let line = Some(line_of(text, entry.span().start));
        let raw = entry.into_inner().path;
        if raw.trim().is_empty() {
            return Err(err(line, "inbox `path` is empty".into()));
        }
        let p = Path::new(raw.trim());
        let path = if p.is_absolute() {
            p.to_owned()
        } else {
            base.join(p)
        };
        inboxes.push(InboxConfig { path });
    }
    let mut outbound = super::OutboundPolicy::default();
    if let Some(entry) = file.outbound {
        let line = Some(line_of(text, entry.span().start));
        for range in entry.into_inner().allow {
            let net = super::outbound::parse_range(&range)
                .map_err(|why| err(line, format!("outbound `allow`: {why}")))?;
            outbound.allow.push(net);
        }
    }
    Ok(SourcesConfig {
        sources,
        inboxes,
        outbound,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<SourcesConfig, SourceError> {
        parse(
            Path::new("feeds/sources.toml"),
            text,
            Path::new("conf/feeds"),
        )
    }

    #[test]
    fn sources_and_inboxes() {
        let c = parse_str(
            r#"
[[source]]
name = "A"
url = "https://a.example/feed"
every = "15m"
full_text = true

[[source]]
name = "B"
url = "http://b.example/rss"

[[inbox]]
path = "inbox"

[[inbox]]
path = "/srv/drop"
"#,
        )
        .unwrap();
        assert_eq!(c.sources.len(), 2);
        assert_eq!(c.sources[0].every, Duration::from_secs(900));
        assert!(c.sources[0].full_text);
        assert_eq!(c.sources[1].every, DEFAULT_EVERY);
        assert_eq!(c.inboxes[0].path, Path::new("conf/inbox"));
        assert_eq!(c.inboxes[1].path, Path::new("/srv/drop"));
        assert_eq!(parse_str("").unwrap(), SourcesConfig::default());
    }

    #[test]
    fn outbound_allowances_are_ranges_or_addresses() {
        let c =
            parse_str("[outbound]\nallow = [\"10.20.0.0/16\", \"192.168.1.5\", \"fd00::/8\"]\n")
                .unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(c.outbound.permits(ip("10.20.3.4")));
        assert!(c.outbound.permits(ip("192.168.1.5")));
        assert!(!c.outbound.permits(ip("192.168.1.6")));
        assert!(!c.outbound.permits(ip("127.0.0.1")));
        let e = parse_str("\n[outbound]\nallow = [\"intranet\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sources.toml:2") && e.contains("`intranet`"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let e =
            parse_str("[[source]]\nname = \"A\"\nurl = \"https://a.example/\"\nevry = \"1h\"\n")
                .unwrap_err()
                .to_string();
        assert!(e.starts_with("feeds/sources.toml:"), "{e}");
        assert!(e.contains("evry"), "{e}");
        let e = parse_str(
            "\n\n[[source]]\nname = \"A\"\nurl = \"https://a.example/\"\nevery = \"soon\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("feeds/sources.toml:3:") && e.contains("soon"),
            "{e}"
        );
        let e = parse_str("[[source]]\nname = \"A\"\nurl = \"ftp://a.example/\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("http(s)"), "{e}");
        let e = parse_str(
            "[[source]]\nname = \"A\"\nurl = \"https://a.example/\"\n[[source]]\nname = \"A\"\nurl = \"https://b.example/\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":4:") && e.contains("twice"), "{e}");
        let e = parse_str("[[feed]]\nurl = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1:") && e.contains("feed"), "{e}");
    }
}
