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

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::sql_err;
use crate::store::cursor::{self, Position};
use crate::store::filters::Filters;
use crate::store::plan::{Param, Sql, driver};
use crate::store::record::{
    parse_article, parse_sources, parse_topics, stored_time, topic_stats_row,
};
use crate::store::{Page, Query, SourceRef, StoreError, Story, TopicStats};

/// An FTS5 match expression for the query's words: each becomes a quoted
/// string (so `AND`, `NEAR(`, `*`, `-`, `col:` are just text), all of
/// which must match. Inside quotes only `"` is special; it is dropped.
fn fts_match(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{}\"", w.replace('"', " ")))
        .collect::<Vec<_>>()
        .join(" ")
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
    let Some(words) = &f.words else {
        return collect(conn, &driver(f, Some(fetch)), fetch, None);
    };
    let m = &fts_match(words);
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
        .query(params_from_iter(sql.params.iter().map(Param::sqlite)))
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
    let mut article = parse_article(&json, &id)?;
    article.topics = parse_topics(&topics, &id)?;
    let sources = parse_sources(&sources, &id)?;
    Ok(Some(Story {
        article,
        sources: sources.into_iter().map(SourceRef::from).collect(),
        first_seen: stored_time(first_seen, &id)?,
        changed: stored_time(changed, &id)?,
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
        .map(|(slug, count, last)| topic_stats_row(slug, count, last))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_quoted_never_syntax() {
        let words: Vec<String> = ["border", "NEAR(", "\"x*", "-y", "title:z"]
            .map(String::from)
            .into();
        assert_eq!(
            fts_match(&words),
            r#""border" "NEAR(" " x*" "-y" "title:z""#
        );
    }
}
