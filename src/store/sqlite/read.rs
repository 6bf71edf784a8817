//! The read side: feed pages, single stories, topic counters.
//!
//! A page is found in two steps inside one read transaction (one snapshot):
//! pick the ids in order from a *driver* index, then load those stories.
//! The driver is the most selective ordered index the query allows — the
//! topic feed index (one range per `any` topic, merged), the per-site
//! index, or the time index — and every other filter is an indexed `EXISTS`
//! probe per row. Each range is read from the cursor on and stops after
//! `limit + 1` hits, so a page costs page size × filter selectivity, not
//! store size. Keyword search also reads the ids of all its matches from
//! the full-text index (compact, ~0.1 µs a match), then either sorts the
//! few or filters an ordered scan by the many (see [`select_page`]).

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::sql_err;
use super::write::{SourceJson, parse_article};
use crate::store::cursor::{self, Position};
use crate::store::{Page, Query, SourceRef, StoreError, Story, TopicStats};

/// Most topic slugs a query may name in `any`, `all` and `not` together.
const MAX_TOPICS: usize = 64;
/// Most words (or quoted phrases) in a keyword search.
const MAX_TERMS: usize = 32;

/// SQL text with its positional parameters, built side by side.
#[derive(Default)]
struct Sql {
    text: String,
    params: Vec<Value>,
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn arg(&mut self, v: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.params.push(v.into());
        self
    }

    fn list<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) -> &mut Self {
        self.text.push('(');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.arg(item.to_owned());
        }
        self.text.push(')');
        self
    }

    /// The keyset range: after the cursor, at or after `since`.
    fn range(&mut self, time: &str, id: &str, f: &Filters) -> &mut Self {
        if let Some(c) = &f.cursor {
            // The first conjunct bounds the index range; the second breaks
            // ties on the cursor's own second by id.
            self.push(&format!(" AND {time} <= "))
                .arg(c.sort_time)
                .push(&format!(" AND ({time} < "))
                .arg(c.sort_time)
                .push(&format!(" OR {id} > "))
                .arg(c.id.clone())
                .push(")");
        }
        if let Some(since) = f.since {
            self.push(&format!(" AND {time} >= ")).arg(since);
        }
        self
    }

    /// Per-story probes for the filters the driver does not apply itself.
    fn probes(&mut self, sid: &str, f: &Filters, with_any: bool, with_source: bool) -> &mut Self {
        for slug in &f.all {
            self.push(&format!(
                " AND EXISTS (SELECT 1 FROM story_topics x WHERE x.sid = {sid} AND x.topic = "
            ))
            .arg(slug.clone())
            .push(")");
        }
        if !f.not.is_empty() {
            self.push(&format!(
                " AND NOT EXISTS (SELECT 1 FROM story_topics x WHERE x.sid = {sid} AND x.topic IN "
            ))
            .list(f.not.iter().map(String::as_str))
            .push(")");
        }
        if with_any && !f.any.is_empty() {
            self.push(&format!(
                " AND EXISTS (SELECT 1 FROM story_topics x WHERE x.sid = {sid} AND x.topic IN "
            ))
            .list(f.any.iter().map(String::as_str))
            .push(")");
        }
        if let (true, Some(site)) = (with_source, &f.source) {
            self.push(&format!(
                " AND EXISTS (SELECT 1 FROM sources y WHERE y.sid = {sid} AND y.site_key = "
            ))
            .arg(site.clone())
            .push(")");
        }
        self
    }
}

/// A query, validated and normalized.
struct Filters {
    any: BTreeSet<String>,
    all: BTreeSet<String>,
    not: BTreeSet<String>,
    fts: Option<String>,
    source: Option<String>,
    since: Option<i64>,
    cursor: Option<Position>,
    limit: usize,
}

impl Filters {
    /// `None` when the query can match nothing (keywords without any word).
    fn new(q: &Query) -> Result<Option<Filters>, StoreError> {
        let set = |v: &[String]| -> BTreeSet<String> {
            v.iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (any, all, not) = (set(&q.any), set(&q.all), set(&q.not));
        if any.len() + all.len() + not.len() > MAX_TOPICS {
            return Err(StoreError::BadQuery(format!(
                "too many topics (at most {MAX_TOPICS} in any, all and not together)"
            )));
        }
        let fts = match q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => match fts_query(text)? {
                Some(m) => Some(m),
                None => return Ok(None),
            },
        };
        let source = q
            .source
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let cursor = q.cursor.as_deref().map(cursor::decode).transpose()?;
        Ok(Some(Filters {
            any,
            all,
            not,
            fts,
            source,
            since: q.since.as_ref().map(DateTime::timestamp),
            cursor,
            limit: q.page_size(),
        }))
    }
}

/// An FTS5 match expression for user keywords: each whitespace-separated
/// word becomes a quoted string (so `AND`, `NEAR(`, `*`, `-`, `col:` are
/// just text), all of which must match. Inside quotes only `"` is special
/// and it is dropped; words without a letter or digit are skipped, as the
/// tokenizer would find nothing in them. `None` when nothing is left.
fn fts_query(text: &str) -> Result<Option<String>, StoreError> {
    let terms: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', " ")))
        .collect();
    if terms.len() > MAX_TERMS {
        return Err(StoreError::BadQuery(format!(
            "too many search words (at most {MAX_TERMS})"
        )));
    }
    Ok((!terms.is_empty()).then(|| terms.join(" ")))
}

/// (sid, sort_time, id) of a page's stories.
type Row = (i64, i64, String);

/// Keyword matches up to which a search joins them to the stories and
/// sorts; past it, the matches become a set that an ordered index scan
/// filters on (see [`select_page`]). Around 2,000 the two plans cost about
/// the same on a store of a million stories.
pub(super) const FTS_JOIN_MAX: usize = 2000;

/// The page's stories plus one, to see whether there are more.
///
/// Keyword searches pick one of two plans by the number of matches: few
/// (≤ [`FTS_JOIN_MAX`]) are looked up and sorted (cost: the matches); many
/// are read into a set and the stories scanned newest first until a page
/// is full (cost: the matches' ids, plus page size / share of stories
/// matching). Either way no sort ever touches more than [`FTS_JOIN_MAX`]
/// stories.
fn select_page(conn: &Connection, f: &Filters, join_max: usize) -> Result<Vec<Row>, StoreError> {
    let fetch = f.limit + 1;
    let Some(m) = &f.fts else {
        return collect(conn, &driver(f, Some(fetch)), fetch, None);
    };
    let mut stmt = conn
        .prepare_cached("SELECT rowid FROM search WHERE search MATCH ?")
        .map_err(sql_err("search"))?;
    let mut matches = HashSet::new();
    let mut rows = stmt.query([m]).map_err(sql_err("search"))?;
    while let Some(row) = rows.next().map_err(sql_err("search"))? {
        matches.insert(row.get::<_, i64>(0).map_err(sql_err("search"))?);
    }
    if matches.len() > join_max {
        return collect(conn, &driver(f, None), fetch, Some(&matches));
    }
    // CROSS JOIN keeps the match as the outer loop: the stories are found by rowid.
    let mut sql = Sql::default();
    sql.push(
        "SELECT s.sid, s.sort_time, s.id FROM search CROSS JOIN stories s ON s.sid = search.rowid
         WHERE search MATCH ",
    )
    .arg(m.clone())
    .range("s.sort_time", "s.id", f)
    .probes("s.sid", f, true, true)
    .push(" ORDER BY s.sort_time DESC, s.id LIMIT ")
    .arg(fetch as i64);
    collect(conn, &sql, fetch, None)
}

/// Runs `sql` and takes up to `fetch` rows, only those in `only` when given.
fn collect(
    conn: &Connection,
    sql: &Sql,
    fetch: usize,
    only: Option<&HashSet<i64>>,
) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn.prepare_cached(&sql.text).map_err(sql_err("query"))?;
    let mut rows = stmt
        .query(params_from_iter(sql.params.iter()))
        .map_err(sql_err("query"))?;
    let mut out = Vec::with_capacity(fetch);
    // Rows stream from the index: stopping early is what bounds the cost.
    while out.len() < fetch {
        let Some(row) = rows.next().map_err(sql_err("query"))? else {
            break;
        };
        let sid: i64 = row.get(0).map_err(sql_err("query"))?;
        if only.is_none_or(|set| set.contains(&sid)) {
            out.push((
                sid,
                row.get(1).map_err(sql_err("query"))?,
                row.get(2).map_err(sql_err("query"))?,
            ));
        }
    }
    Ok(out)
}

/// The ordered scan for a page without keywords, cut at `limit` rows when
/// given (otherwise it streams as long as the caller reads).
fn driver(f: &Filters, limit: Option<usize>) -> Sql {
    let mut sql = Sql::default();
    let cut = |sql: &mut Sql| {
        if let Some(n) = limit {
            sql.push(" LIMIT ").arg(n as i64);
        }
    };
    if !f.any.is_empty() && (limit.is_some() || f.any.len() == 1) {
        // One ordered range per topic, each cut at the page size, merged;
        // UNION drops a story that is in two of them.
        let union = f.any.len() > 1;
        for (i, slug) in f.any.iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ");
            }
            if union {
                sql.push("SELECT * FROM (");
            }
            sql.push("SELECT t.sid, t.sort_time, t.id FROM story_topics t WHERE t.topic = ")
                .arg(slug.clone())
                .range("t.sort_time", "t.id", f)
                .probes("t.sid", f, false, true)
                .push(" ORDER BY t.sort_time DESC, t.id");
            cut(&mut sql);
            if union {
                sql.push(")");
            }
        }
        if union {
            sql.push(" ORDER BY 2 DESC, 3");
            cut(&mut sql);
        }
    } else if let Some(site) = &f.source {
        sql.push(
            "SELECT DISTINCT y.sid, y.sort_time, y.story_id FROM sources y WHERE y.site_key = ",
        )
        .arg(site.clone())
        .range("y.sort_time", "y.story_id", f)
        .probes("y.sid", f, true, false)
        .push(" ORDER BY y.sort_time DESC, y.story_id");
        cut(&mut sql);
    } else {
        sql.push("SELECT s.sid, s.sort_time, s.id FROM stories s WHERE 1")
            .range("s.sort_time", "s.id", f)
            .probes("s.sid", f, true, false)
            .push(" ORDER BY s.sort_time DESC, s.id");
        cut(&mut sql);
    }
    sql
}

pub(super) fn query(conn: &Connection, q: &Query, join_max: usize) -> Result<Page, StoreError> {
    let Some(f) = Filters::new(q)? else {
        return Ok(Page {
            stories: Vec::new(),
            next_cursor: None,
        });
    };
    // One snapshot for the ids and the stories they name.
    let tx = conn.unchecked_transaction().map_err(sql_err("query"))?;
    let mut rows = select_page(&tx, &f, join_max)?;
    let more = rows.len() > f.limit;
    rows.truncate(f.limit);
    let mut stories = Vec::with_capacity(rows.len());
    for (sid, _, _) in &rows {
        if let Some(story) = load(&tx, *sid)? {
            stories.push(story);
        }
    }
    let next_cursor = match rows.last() {
        Some((_, sort_time, id)) if more => Some(cursor::encode(&Position {
            sort_time: *sort_time,
            id: id.clone(),
        })),
        _ => None,
    };
    tx.finish().map_err(sql_err("query"))?;
    Ok(Page {
        stories,
        next_cursor,
    })
}

pub(super) fn get(conn: &Connection, id: &str) -> Result<Option<Story>, StoreError> {
    get_where(conn, "SELECT sid FROM sources WHERE article_id = ?", id)
}

/// The first-seen copy with that canonical URL decides the story.
pub(super) fn get_by_url(conn: &Connection, url: &str) -> Result<Option<Story>, StoreError> {
    get_where(
        conn,
        "SELECT sid FROM sources WHERE url = ? ORDER BY seen LIMIT 1",
        url,
    )
}

/// The story whose `sid` the one-parameter `sql` finds for `key`, read in
/// one transaction so its rows are consistent.
fn get_where(conn: &Connection, sql: &str, key: &str) -> Result<Option<Story>, StoreError> {
    let tx = conn.unchecked_transaction().map_err(sql_err("get"))?;
    let sid: Option<i64> = tx
        .prepare_cached(sql)
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .map_err(sql_err(format!("get {key}")))?;
    let story = match sid {
        Some(sid) => load(&tx, sid)?,
        None => None,
    };
    tx.finish().map_err(sql_err("get"))?;
    Ok(story)
}

fn time(micros: i64, id: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| StoreError::Corrupt {
        id: id.to_owned(),
        reason: format!("time {micros} µs out of range"),
    })
}

/// One story with its topics and sources.
fn load(conn: &Connection, sid: i64) -> Result<Option<Story>, StoreError> {
    type Row = (String, i64, i64, String, String, String);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT id, first_seen, changed, topics, sources, article FROM stories WHERE sid = ?",
        )
        .and_then(|mut s| {
            s.query_row([sid], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .optional()
        })
        .map_err(sql_err("load story"))?;
    let Some((id, first_seen, changed, topics, sources, json)) = row else {
        return Ok(None);
    };
    let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt {
        id: id.clone(),
        reason: format!("{what}: {e}"),
    };
    let mut article = parse_article(&json, &id)?;
    article.topics = serde_json::from_str(&topics).map_err(|e| corrupt("topics", e))?;
    let sources: Vec<SourceJson> =
        serde_json::from_str(&sources).map_err(|e| corrupt("sources", e))?;
    let sources = sources
        .into_iter()
        .map(|s| SourceRef {
            article_id: s.article_id,
            site: s.site,
            url: s.url,
        })
        .collect();
    Ok(Some(Story {
        article,
        sources,
        first_seen: time(first_seen, &id)?,
        changed: time(changed, &id)?,
    }))
}

pub(super) fn topic_stats(conn: &Connection) -> Result<Vec<TopicStats>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT slug, count, last_changed FROM topics ORDER BY slug")
        .map_err(sql_err("topic stats"))?;
    let rows: Vec<(String, i64, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .and_then(|rows| rows.collect())
        .map_err(sql_err("topic stats"))?;
    rows.into_iter()
        .map(|(slug, count, last)| {
            Ok(TopicStats {
                count: count.max(0) as u64,
                last_changed: last.map(|t| time(t, &slug)).transpose()?,
                slug,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_quoted_never_syntax() {
        assert_eq!(
            fts_query(r#"border NEAR( "x* -y title:z"#)
                .unwrap()
                .as_deref(),
            Some(r#""border" "NEAR(" " x*" "-y" "title:z""#)
        );
        assert_eq!(fts_query("-- !! ...").unwrap(), None);
        assert!(fts_query(&"w ".repeat(40)).is_err());
    }
}
