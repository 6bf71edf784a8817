//! The read side on PostgreSQL: feed pages, single stories, topic counters.
//!
//! Pages run `store::plan`'s keyset query, the one SQLite runs, in one
//! repeatable-read transaction (one snapshot for the ids and the stories).
//!
//! Keyword search: every story's title and body are indexed as a
//! `tsvector` built with its language's text-search configuration
//! ([`search_config`]: stemmed, stop words dropped). A query keeps the
//! meaning it has on SQLite (see `store::filters`): each word must match,
//! nothing is syntax. Each word becomes `search_word(w)`, the OR of its
//! lexemes under every configuration the store indexes with, so "elections"
//! finds a French or an English story alike; `plainto_tsquery` per word,
//! never `websearch_to_tsquery`, whose quotes, `or` and `-` would be syntax.
//! Where the two differ: PostgreSQL also matches other forms of a word
//! ("election" finds "elections"), keeps accents ("café" ≠ "cafe"), and a
//! word that is only a stop word in a story's language matches nothing in
//! it; SQLite matches the exact token, accents folded.

use deadpool_postgres::GenericClient;

use super::pg_err;
use super::write::get;
use crate::model::Article;
use crate::store::cursor::{self, Position};
use crate::store::filters::Filters;
use crate::store::plan::{Sql, driver};
use crate::store::record::{
    parse_article, parse_sources, parse_topics, stored_time, topic_stats_row,
};
use crate::store::{Page, Query, SourceRef, StoreError, Story, TopicStats};

/// Text indexed per story at most: a `tsvector` holds at most 1 MiB.
const SEARCH_TEXT_MAX: usize = 256 * 1024;

/// The text-search configuration for an article's language (ISO 639-1);
/// `simple` (lower-cased words, no stemming) for any other.
pub fn search_config(language: Option<&str>) -> &'static str {
    let code = language
        .unwrap_or("")
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match code.as_str() {
        "en" => "english",
        "fr" => "french",
        "de" => "german",
        "es" => "spanish",
        "it" => "italian",
        "pt" => "portuguese",
        "nl" => "dutch",
        "da" => "danish",
        "sv" => "swedish",
        "no" | "nb" | "nn" => "norwegian",
        "fi" => "finnish",
        "ru" => "russian",
        _ => "simple",
    }
}

/// The configuration and text a story is indexed with.
pub fn search_text(a: &Article) -> (String, String) {
    let mut text = a.title.clone();
    text.push_str("\n\n");
    text.push_str(&a.content_text());
    if text.len() > SEARCH_TEXT_MAX {
        let mut cut = SEARCH_TEXT_MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    (search_config(a.language.as_deref()).to_owned(), text)
}

/// The one count `sql` (no parameters) selects, never below zero.
async fn count_of(client: &impl GenericClient, sql: &str, op: &str) -> Result<u64, StoreError> {
    let row = client.query_one(sql, &[]).await.map_err(pg_err(op))?;
    Ok(get::<i64>(&row, 0, op)?.max(0) as u64)
}

pub async fn generation(client: &impl GenericClient) -> Result<u64, StoreError> {
    count_of(
        client,
        "SELECT value FROM meta WHERE key = 'generation'",
        "read generation",
    )
    .await
}

pub async fn count(client: &impl GenericClient) -> Result<u64, StoreError> {
    count_of(client, "SELECT count(*) FROM stories", "count stories").await
}

/// A read-only transaction on one snapshot, for a read of several statements.
pub(super) async fn snapshot<'c>(
    client: &'c mut deadpool_postgres::Object,
    op: &str,
) -> Result<deadpool_postgres::Transaction<'c>, StoreError> {
    client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg_err(op))
}

/// (sid, sort_time, id) of a page's stories.
type Row = (i64, i64, String);

/// Keyword matches up to which a search reads them all from the text index
/// and sorts them; past it, the stories are scanned newest first and each
/// tested, which finds a page within about page size / share matching rows.
/// As on SQLite, the store picks the plan by counting (up to this): the
/// planner cannot tell a word in every story from one in a single story
/// (measured on 1M stories: a rare word under the ordered scan, 11 s).
pub const SEARCH_SORT_MAX: i64 = 10_000;

/// The tsquery of the query's words (see the module doc), as SQL.
fn words_sql(sql: &mut Sql, words: &[String]) {
    sql.push("(");
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            sql.push(" && ");
        }
        sql.push("search_word(").arg(w.clone()).push(")");
    }
    sql.push(")");
}

/// Sets the plan of a keyword page: the text index, when the matches are
/// few enough to sort, else the time index.
async fn choose_search_plan(
    tx: &deadpool_postgres::Transaction<'_>,
    words: &[String],
    sort_max: i64,
) -> Result<(), StoreError> {
    let op = "search";
    // Only the text index (a bitmap scan) may find the matches.
    tx.batch_execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        .await
        .map_err(pg_err(op))?;
    let mut sql = Sql::default();
    sql.push("SELECT count(*) FROM (SELECT 1 FROM stories s WHERE s.search @@ ");
    words_sql(&mut sql, words);
    sql.push(" LIMIT ")
        .arg(sort_max.saturating_add(1))
        .push(") AS m");
    let stmt = tx
        .prepare_cached(&sql.numbered())
        .await
        .map_err(pg_err(op))?;
    let params: Vec<_> = sql.params.iter().map(|p| p.postgres()).collect();
    let row = tx.query_one(&stmt, &params).await.map_err(pg_err(op))?;
    if get::<i64>(&row, 0, op)? > sort_max {
        tx.batch_execute(
            "SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = on;
             SET LOCAL enable_bitmapscan = off",
        )
        .await
        .map_err(pg_err(op))?;
    }
    Ok(())
}

/// The page's stories plus one, to see whether there are more.
fn page_sql(f: &Filters) -> Sql {
    let fetch = f.limit + 1;
    let Some(words) = &f.words else {
        return driver(f, Some(fetch));
    };
    let mut sql = Sql::default();
    sql.push("SELECT s.sid, s.sort_time, s.id FROM stories s WHERE s.search @@ ");
    words_sql(&mut sql, words);
    sql.range("s.sort_time", "s.id", f)
        .probes("s.sid", f, true, true)
        .push(" ORDER BY s.sort_time DESC, s.id LIMIT ")
        .arg(fetch as i64);
    sql
}

pub async fn query(
    client: &mut deadpool_postgres::Object,
    q: &Query,
    search_sort_max: i64,
) -> Result<Page, StoreError> {
    let Some(f) = Filters::new(q)? else {
        return Ok(Page {
            stories: Vec::new(),
            next_cursor: None,
        });
    };
    let op = "query";
    let tx = snapshot(client, op).await?;
    if let Some(words) = &f.words {
        choose_search_plan(&tx, words, search_sort_max).await?;
    }
    let sql = page_sql(&f);
    let stmt = tx
        .prepare_cached(&sql.numbered())
        .await
        .map_err(pg_err(op))?;
    let params: Vec<_> = sql.params.iter().map(|p| p.postgres()).collect();
    let mut rows: Vec<Row> = tx
        .query(&stmt, &params)
        .await
        .map_err(pg_err(op))?
        .iter()
        .map(|r| Ok((get(r, 0, op)?, get(r, 1, op)?, get(r, 2, op)?)))
        .collect::<Result<_, StoreError>>()?;
    let more = rows.len() > f.limit;
    rows.truncate(f.limit);
    let sids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let stories = load_many(&tx, &sids).await?;
    let next_cursor = match rows.last() {
        Some((_, sort_time, id)) if more => Some(cursor::encode(&Position {
            sort_time: *sort_time,
            id: id.clone(),
        })),
        _ => None,
    };
    tx.commit().await.map_err(pg_err(op))?;
    Ok(Page {
        stories,
        next_cursor,
    })
}

/// The story whose `sid` the one-parameter `sql` finds for `key`, read in
/// one snapshot so its rows are consistent.
pub async fn get_where(
    client: &mut deadpool_postgres::Object,
    sql: &str,
    key: &str,
) -> Result<Option<Story>, StoreError> {
    let op = &format!("get {key}");
    let tx = snapshot(client, op).await?;
    let stmt = tx.prepare_cached(sql).await.map_err(pg_err(op))?;
    let sid: Option<i64> = match tx.query_opt(&stmt, &[&key]).await.map_err(pg_err(op))? {
        Some(r) => Some(get(&r, 0, op)?),
        None => None,
    };
    let story = match sid {
        Some(sid) => load_many(&tx, &[sid]).await?.pop(),
        None => None,
    };
    tx.commit().await.map_err(pg_err(op))?;
    Ok(story)
}

/// The stories with these sids, in this order (one round trip).
async fn load_many(client: &impl GenericClient, sids: &[i64]) -> Result<Vec<Story>, StoreError> {
    if sids.is_empty() {
        return Ok(Vec::new());
    }
    let op = "load stories";
    let rows = client
        .query(
            "SELECT s.id, s.first_seen, s.changed, s.topics, s.sources, s.article
               FROM unnest($1::bigint[]) WITH ORDINALITY AS p(sid, n)
               JOIN stories s ON s.sid = p.sid ORDER BY p.n",
            &[&sids],
        )
        .await
        .map_err(pg_err(op))?;
    rows.iter()
        .map(|r| {
            let id: String = get(r, 0, op)?;
            let mut article = parse_article(&get::<String>(r, 5, op)?, &id)?;
            article.topics = parse_topics(&get::<String>(r, 3, op)?, &id)?;
            let sources = parse_sources(&get::<String>(r, 4, op)?, &id)?;
            Ok(Story {
                article,
                sources: sources.into_iter().map(SourceRef::from).collect(),
                first_seen: stored_time(get(r, 1, op)?, &id)?,
                changed: stored_time(get(r, 2, op)?, &id)?,
            })
        })
        .collect()
}

pub async fn topic_stats(client: &impl GenericClient) -> Result<Vec<TopicStats>, StoreError> {
    let op = "topic stats";
    let rows = client
        .query(
            "SELECT slug, count, last_changed FROM topics ORDER BY slug",
            &[],
        )
        .await
        .map_err(pg_err(op))?;
    rows.iter()
        .map(|r| topic_stats_row(get(r, 0, op)?, get(r, 1, op)?, get(r, 2, op)?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_map_to_their_configuration_and_others_to_simple() {
        assert_eq!(search_config(Some("en")), "english");
        assert_eq!(search_config(Some("fr-CA")), "french");
        assert_eq!(search_config(Some("pt_BR")), "portuguese");
        assert_eq!(search_config(Some("ja")), "simple");
        assert_eq!(search_config(None), "simple");
    }
}
