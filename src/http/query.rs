//! Feed URLs → store queries, canonicalized.
//!
//! `?any=b,a&any=A` and `?any=a,b` ask for the same feed, so they share one
//! cache entry and one ETag: topic lists are lower-cased, de-duplicated and
//! sorted, parameters put in a fixed order. Every parameter is checked; a
//! bad one gets a 400 that names it and says why.

use chrono::{DateTime, Utc};
use url::form_urlencoded;

use crate::render::Format;
use crate::store::Query;

pub const DEFAULT_LIMIT: usize = Query::DEFAULT_LIMIT;
/// The most a feed URL may ask for; the store itself allows more.
pub const MAX_LIMIT: usize = 500;

const PARAMS: [&str; 9] = [
    "any", "all", "not", "q", "source", "since", "limit", "cursor", "key",
];

/// A parsed, validated feed request.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRequest {
    /// The path's topic: a slug, or `all`.
    pub topic: String,
    pub format: Format,
    pub query: Query,
    /// The canonical query string without the cursor (the feed's identity).
    pub canonical: String,
    /// A private feed's read key as the URL gave it (`?key=`). Not part
    /// of the feed's identity: only [`FeedRequest::location`] carries it.
    pub key: Option<String>,
}

impl FeedRequest {
    /// `/feeds/{topic}.{ext}` plus the canonical query.
    /// `format: None` gives the web page (`/feeds/{topic}`).
    pub fn path_and_query(
        &self,
        format: impl Into<Option<Format>>,
        cursor: Option<&str>,
    ) -> String {
        let mut s = match format.into() {
            Some(f) => format!("/feeds/{}.{}", self.topic, f.ext()),
            None => format!("/feeds/{}", self.topic),
        };
        let mut q = self.canonical.clone();
        if let Some(c) = cursor {
            let extra: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("cursor", c)
                .finish();
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&extra);
        }
        if !q.is_empty() {
            s.push('?');
            s.push_str(&q);
        }
        s
    }

    /// Where this very document is: [`FeedRequest::path_and_query`] plus
    /// the read key it was asked for with, last. Its self and paging links
    /// carry the key, so a reader can refresh and page what it subscribed
    /// to; links to other feeds and pages do not.
    pub fn location(&self, format: impl Into<Option<Format>>, cursor: Option<&str>) -> String {
        let mut s = self.path_and_query(format, cursor);
        if let Some(key) = &self.key {
            s.push(if s.contains('?') { '&' } else { '?' });
            s.push_str(
                &form_urlencoded::Serializer::new(String::new())
                    .append_pair("key", key)
                    .finish(),
            );
        }
        s
    }

    /// Leaves out the stories of the private topics in `private` that this
    /// request does not name (see [`crate::store::Query::hidden`]); to name
    /// one, it showed that topic's key. Public feeds then neither list
    /// those stories nor name those topics.
    pub fn hide_unnamed(&mut self, private: impl IntoIterator<Item = String>) {
        let q = &mut self.query;
        q.hidden = private
            .into_iter()
            .filter(|s| !q.any.contains(s) && !q.all.contains(s))
            .collect();
    }

    /// The cache key: format, topic and canonical query with the cursor.
    pub fn cache_key(&self) -> String {
        format!(
            "{}|{}",
            self.format.ext(),
            self.path_and_query(self.format, self.query.cursor.as_deref())
        )
    }
}

/// A request the server cannot turn into a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "unknown parameter `{0}`; known parameters: any, all, not, q, source, since, limit, cursor, key"
    )]
    UnknownParam(String),
    #[error("parameter `{param}`: {reason}")]
    BadValue { param: &'static str, reason: String },
    #[error("parameter `{param}`: unknown topic `{topic}`")]
    UnknownTopic { param: &'static str, topic: String },
}

fn topic_list(
    param: &'static str,
    values: &[String],
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, QueryError> {
    let mut out: Vec<String> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    out.sort();
    out.dedup();
    if let Some(bad) = out.iter().find(|t| !known(t)) {
        return Err(QueryError::UnknownTopic {
            param,
            topic: bad.clone(),
        });
    }
    Ok(out)
}

/// Parses the query string of `/feeds/{topic}.{ext}`. `known` says whether a
/// slug names a topic.
pub fn parse(
    topic: &str,
    format: Format,
    query: Option<&str>,
    known: &dyn Fn(&str) -> bool,
) -> Result<FeedRequest, QueryError> {
    let params = Params::parse(query)?;
    let any = topic_list("any", params.get("any"), known)?;
    let all = topic_list("all", params.get("all"), known)?;
    let not = topic_list("not", params.get("not"), known)?;
    let q = keywords(params.single("q")?)?;
    let source = params.single("source")?.map(|s| s.to_lowercase());
    let since = params
        .single("since")?
        .map(|s| parse_since(&s))
        .transpose()?;
    let limit = match params.single("limit")? {
        None => DEFAULT_LIMIT,
        Some(s) => parse_limit(&s)?,
    };
    let mut query = Query {
        any,
        all,
        not,
        q,
        source,
        since,
        limit,
        cursor: params.single("cursor")?,
        // The server's to set (`hide_unnamed`), from its topic files.
        hidden: Vec::new(),
    };
    // Before the path's topic is added: it is in the path already.
    let canonical = canonical(&query);
    // The path's topic narrows like an `all` term.
    if topic != "all" && !query.all.iter().any(|t| t == topic) {
        query.all.push(topic.to_owned());
        query.all.sort();
    }
    Ok(FeedRequest {
        topic: topic.to_owned(),
        format,
        query,
        canonical,
        key: params.single("key")?,
    })
}

/// The query string's values, by parameter name.
struct Params([(&'static str, Vec<String>); PARAMS.len()]);

impl Params {
    fn parse(query: Option<&str>) -> Result<Params, QueryError> {
        // On the stack: most polls have no query at all.
        let mut values = PARAMS.map(|p| (p, Vec::new()));
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let Some(slot) = values.iter_mut().find(|(name, _)| *name == k) else {
                return Err(QueryError::UnknownParam(k.into_owned()));
            };
            slot.1.push(v.into_owned());
        }
        Ok(Params(values))
    }

    fn get(&self, name: &str) -> &[String] {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// A parameter that may be given once; blank counts as not given.
    fn single(&self, name: &'static str) -> Result<Option<String>, QueryError> {
        match self.get(name) {
            [] => Ok(None),
            [one] => Ok(Some(one.trim().to_owned()).filter(|s| !s.is_empty())),
            _ => Err(QueryError::BadValue {
                param: name,
                reason: "given more than once".into(),
            }),
        }
    }
}

/// `q`, with case and spacing that do not change the search evened out.
fn keywords(q: Option<String>) -> Result<Option<String>, QueryError> {
    let q = q.map(|q| {
        q.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    });
    // A NUL or other control character is never part of a search, and
    // the full-text engines refuse it: say so instead of failing later.
    if q.as_ref().is_some_and(|q| q.chars().any(char::is_control)) {
        return Err(QueryError::BadValue {
            param: "q",
            reason: "contains a control character (such as %00)".into(),
        });
    }
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(QueryError::BadValue {
            param: "q",
            reason: "longer than 200 characters".into(),
        });
    }
    Ok(q)
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, QueryError> {
    Ok(DateTime::parse_from_rfc3339(s)
        .map_err(|e| QueryError::BadValue {
            param: "since",
            reason: format!(
                "`{s}` is not an RFC 3339 date-time ({e}); example: 2026-11-01T00:00:00Z"
            ),
        })?
        .with_timezone(&Utc))
}

fn parse_limit(s: &str) -> Result<usize, QueryError> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(QueryError::BadValue {
            param: "limit",
            reason: format!("`{s}` is not a whole number from 1 to {MAX_LIMIT}"),
        }),
    }
}

/// The feed's identity as a query string: parameters in a fixed order,
/// defaults left out, no cursor.
fn canonical(query: &Query) -> String {
    let mut canonical = form_urlencoded::Serializer::new(String::new());
    for (name, list) in [
        ("any", &query.any),
        ("all", &query.all),
        ("not", &query.not),
    ] {
        if !list.is_empty() {
            canonical.append_pair(name, &list.join(","));
        }
    }
    if let Some(q) = &query.q {
        canonical.append_pair("q", q);
    }
    if let Some(s) = &query.source {
        canonical.append_pair("source", s);
    }
    if let Some(s) = query.since {
        canonical.append_pair("since", &crate::model::rfc3339(&s));
    }
    if query.limit != DEFAULT_LIMIT {
        canonical.append_pair("limit", &query.limit.to_string());
    }
    // Commas and colons need no escaping in a query (RFC 3986 allows both
    // there), and `any=science,technology` and `since=2026-11-01T00:00:00Z`
    // are how people write and read them. Decoding them back gives the
    // same values, so the unescaped form means the same.
    let canonical = canonical.finish();
    if canonical.contains('%') {
        canonical.replace("%2C", ",").replace("%3A", ":")
    } else {
        canonical
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(t: &str) -> bool {
        ["us", "world", "europe", "sports"].contains(&t)
    }

    fn p(q: &str) -> Result<FeedRequest, QueryError> {
        parse("world", Format::Atom, Some(q), &known)
    }

    #[test]
    fn equivalent_queries_share_a_key() {
        let a = p("any=US,europe&any=us&not=sports&q=Port%20%20Strike").expect("ok");
        let b = p("q=port+strike&not=SPORTS&any=europe,us").expect("ok");
        assert_eq!(a.cache_key(), b.cache_key());
        assert_eq!(a.canonical, "any=europe,us&not=sports&q=port+strike");
        assert_eq!(a.query.all, vec!["world"]);
    }

    #[test]
    fn bad_parameters_are_named() {
        assert_eq!(
            p("colour=red"),
            Err(QueryError::UnknownParam("colour".into()))
        );
        assert!(matches!(
            p("any=mars"),
            Err(QueryError::UnknownTopic { param: "any", .. })
        ));
        assert!(matches!(
            p("limit=0"),
            Err(QueryError::BadValue { param: "limit", .. })
        ));
        assert!(matches!(
            p("limit=501"),
            Err(QueryError::BadValue { param: "limit", .. })
        ));
        assert!(matches!(
            p("since=yesterday"),
            Err(QueryError::BadValue { param: "since", .. })
        ));
        assert!(matches!(
            p("q=a&q=b"),
            Err(QueryError::BadValue { param: "q", .. })
        ));
        let e = p("since=yesterday")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("since") && e.contains("RFC 3339"), "{e}");
    }

    #[test]
    fn paging_urls() {
        let r = p("limit=20").expect("ok");
        assert_eq!(
            r.path_and_query(Format::Rss, Some("c1")),
            "/feeds/world.rss?limit=20&cursor=c1"
        );
        assert_eq!(
            r.path_and_query(Format::Rss, None),
            "/feeds/world.rss?limit=20"
        );
    }
}
