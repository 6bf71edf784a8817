//! The write side on PostgreSQL: upserts with duplicate merging, cleaned
//! replacements, site block records, and retention — the same steps as
//! `store::sqlite::write`, one transaction per call.
//!
//! Each transaction first takes the store's write lock (a transaction-
//! scoped advisory lock), so writers of every instance run one at a time,
//! as SQLite's do; it then reads the generation, and when another instance
//! moved it, drops the cached duplicate window. A transaction that changed
//! a story bumps the generation and notifies it, both on commit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::MutexGuard;

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::pending::PendingStory;
use super::{PostgresStore, Writer, WriterConn, WriterState, pg_err, read, sites::SiteIds};
use crate::model::Article;
use crate::store::dedup::{self, WindowIndex};
use crate::store::record::{
    Change, MICROS, SourceJson, class_hash, content_hash, is_copy_of, new_story_json, next_version,
    parse_topics, site_key, to_json, ts,
};
use crate::store::{Outcome, Retention, SiteBlocks, StoreError};

/// Rows deleted per retention transaction, as on SQLite: other writers
/// wait milliseconds, not the whole sweep.
const RETENTION_BATCH: i64 = 256;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// One write transaction in progress.
pub(super) struct Tx<'a> {
    tx: tokio_postgres::Transaction<'a>,
    statements: &'a mut std::collections::HashMap<String, tokio_postgres::Statement>,
    w: &'a mut WriterState,
    channel: String,
    /// Whether anything a reader can see changed (bumps the generation).
    changed: bool,
    /// Per topic: stories added less stories removed, and the last change
    /// time, written to `topics` once at commit (see the schema's note).
    topics: BTreeMap<String, (i64, Option<i64>)>,
    /// Source rows looked up for a whole batch at once (`None`: not
    /// stored); an entry goes when its row is written.
    known: std::collections::HashMap<String, Option<KnownSource>>,
    /// New stories held until the batch's end (see `pending`).
    pub(super) pending: Vec<PendingStory>,
    /// Where each held story is in `pending`, by sid.
    pub(super) pending_at: std::collections::HashMap<i64, usize>,
    pub(super) free_sids: Vec<i64>,
}

/// What is stored about a source row we matched.
#[derive(Clone)]
struct KnownSource {
    sid: i64,
    story_id: String,
    content_hash: Vec<u8>,
    class_hash: Vec<u8>,
}

pub(super) fn get<'r, T: tokio_postgres::types::FromSql<'r>>(
    row: &'r Row,
    i: usize,
    op: &str,
) -> Result<T, StoreError> {
    row.try_get(i).map_err(pg_err(op))
}

impl<'a> Tx<'a> {
    async fn begin(
        conn: &'a mut WriterConn,
        w: &'a mut WriterState,
        channel: String,
        op: &str,
    ) -> Result<Tx<'a>, StoreError> {
        let tx = conn
            .client
            .transaction()
            .await
            .map_err(pg_err(format!("{op}: begin")))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&format!("{channel}:write")],
        )
        .await
        .map_err(pg_err(format!("{op}: write lock")))?;
        let row = tx
            .query_one("SELECT value FROM meta WHERE key = 'generation'", &[])
            .await
            .map_err(pg_err(format!("{op}: read generation")))?;
        let generation: i64 = get(&row, 0, op)?;
        if generation != w.generation {
            // Another instance wrote since our last transaction: what we
            // cache about the stories may be stale.
            w.window = None;
            w.generation = generation;
        }
        Ok(Tx {
            tx,
            statements: &mut conn.statements,
            w,
            channel,
            changed: false,
            topics: BTreeMap::new(),
            known: std::collections::HashMap::new(),
            pending: Vec::new(),
            pending_at: std::collections::HashMap::new(),
            free_sids: Vec::new(),
        })
    }

    /// Bumps and notifies the generation if anything changed, commits, and
    /// returns the new generation (None when nothing changed).
    async fn finish(mut self, op: &str) -> Result<Option<u64>, StoreError> {
        self.flush().await?;
        for (slug, (delta, changed)) in std::mem::take(&mut self.topics) {
            self.exec(
                "INSERT INTO topics (slug, count, last_changed) VALUES ($1, $2, $3)
                 ON CONFLICT (slug) DO UPDATE SET count = topics.count + excluded.count,
                     last_changed = coalesce(excluded.last_changed, topics.last_changed)",
                &[&slug, &delta, &changed],
                &format!("{op}: topic counts"),
            )
            .await?;
        }
        let generation = if self.changed {
            let row = self
                .tx
                .query_one(
                    "UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value",
                    &[],
                )
                .await
                .map_err(pg_err(format!("{op}: bump generation")))?;
            let g: i64 = get(&row, 0, op)?;
            self.tx
                .execute("SELECT pg_notify($1, $2)", &[&self.channel, &g.to_string()])
                .await
                .map_err(pg_err(format!("{op}: notify")))?;
            self.w.generation = g;
            Some(g.max(0) as u64)
        } else {
            None
        };
        self.tx
            .commit()
            .await
            .map_err(pg_err(format!("{op}: commit")))?;
        Ok(generation)
    }

    /// The prepared statement for `sql`, prepared once per connection.
    async fn statement(
        &mut self,
        sql: &str,
        op: &str,
    ) -> Result<tokio_postgres::Statement, StoreError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.tx.prepare(sql).await.map_err(pg_err(op))?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    pub(super) async fn rows(
        &mut self,
        sql: &str,
        params: Params<'_>,
        op: &str,
    ) -> Result<Vec<Row>, StoreError> {
        let stmt = self.statement(sql, op).await?;
        self.tx.query(&stmt, params).await.map_err(pg_err(op))
    }

    /// The row a key lookup finds, if any (every caller's `sql` selects by
    /// a unique key or returns one row).
    pub(super) async fn opt(
        &mut self,
        sql: &str,
        params: Params<'_>,
        op: &str,
    ) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, params, op).await?.into_iter().next())
    }

    pub(super) async fn one(
        &mut self,
        sql: &str,
        params: Params<'_>,
        op: &str,
    ) -> Result<Row, StoreError> {
        self.opt(sql, params, op)
            .await?
            .ok_or_else(|| StoreError::backend(op, "the statement returned no row"))
    }

    pub(super) async fn exec(
        &mut self,
        sql: &str,
        params: Params<'_>,
        op: &str,
    ) -> Result<u64, StoreError> {
        let stmt = self.statement(sql, op).await?;
        self.tx.execute(&stmt, params).await.map_err(pg_err(op))
    }

    /// The duplicate window, loaded from the stories on first use.
    async fn window(&mut self) -> Result<&mut WindowIndex, StoreError> {
        if self.w.window.is_none() {
            let op = "load fingerprints";
            let mut idx = WindowIndex::default();
            for row in self
                .rows("SELECT sid, sort_time, fp FROM stories", &[], op)
                .await?
            {
                let (sid, sort_time, fp): (i64, i64, i64) =
                    (get(&row, 0, op)?, get(&row, 1, op)?, get(&row, 2, op)?);
                idx.insert(sort_time, sid, fp as u64);
            }
            self.w.window = Some(idx);
        }
        Ok(self.w.window.get_or_insert_with(WindowIndex::default))
    }

    /// `now` in µs, made later than every change time this writer handed out.
    fn tick(&mut self, now: &DateTime<Utc>) -> i64 {
        let t = now.timestamp_micros().max(self.w.clock + 1);
        self.w.clock = t;
        t
    }

    async fn upsert(&mut self, a: &Article, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
        let now = self.tick(&now);
        let content = content_hash(a)?;
        let class = class_hash(a)?;
        if let Some(src) = self.known_source(&a.id).await? {
            if src.content_hash == content && src.class_hash == class {
                return Ok(Outcome::Unchanged);
            }
            self.flush().await?;
            self.update_source(a, &content, &class).await?;
            self.refresh_sources(src.sid).await?;
            if src.story_id == a.id {
                let change = if src.content_hash != content {
                    Change::Content
                } else {
                    Change::Classification
                };
                self.update_story(src.sid, a, change, now).await?;
                return Ok(Outcome::Updated);
            }
            // A changed copy stays merged into its story.
            self.refresh_topics(src.sid, now).await?;
            self.touch_story(src.sid, now).await?;
            return Ok(Outcome::Duplicate {
                story_id: src.story_id,
            });
        }
        let sort_time = a
            .published
            .as_ref()
            .map(ts)
            .unwrap_or(now.div_euclid(MICROS));
        if let Some((sid, story_id, story_time)) = self.find_duplicate(a, sort_time).await? {
            // The story may be held: the statements below need its rows.
            self.flush().await?;
            self.insert_source(sid, &story_id, story_time, a, now, &content, &class)
                .await?;
            self.refresh_sources(sid).await?;
            self.refresh_topics(sid, now).await?;
            self.touch_story(sid, now).await?;
            return Ok(Outcome::Duplicate { story_id });
        }
        self.insert_story(a, sort_time, now, &content, &class)
            .await?;
        Ok(Outcome::New)
    }

    async fn known_source(&mut self, id: &str) -> Result<Option<KnownSource>, StoreError> {
        if let Some(known) = self.known.get(id) {
            return Ok(known.clone());
        }
        let op = &format!("upsert {id}");
        let row = self
            .opt(
                "SELECT sid, story_id, content_hash, class_hash FROM sources WHERE article_id = $1",
                &[&id],
                op,
            )
            .await?;
        row.map(|r| known_from(&r, 0, op)).transpose()
    }

    /// Looks up the source rows of a batch's articles in one query, so
    /// that each article costs no round trip of its own for it.
    async fn prefetch_sources(&mut self, ids: &[&str]) -> Result<(), StoreError> {
        let op = "upsert: look up the batch";
        let rows = self
            .rows(
                "SELECT article_id, sid, story_id, content_hash, class_hash FROM sources
                  WHERE article_id = ANY($1)",
                &[&ids],
                op,
            )
            .await?;
        for id in ids {
            self.known.insert((*id).to_owned(), None);
        }
        for r in &rows {
            let id: String = get(r, 0, op)?;
            self.known.insert(id, Some(known_from(r, 1, op)?));
        }
        Ok(())
    }

    async fn replace_cleaned(
        &mut self,
        a: &Article,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = self.tick(&now);
        self.flush().await?;
        let Some(src) = self.known_source(&a.id).await? else {
            return Ok(false);
        };
        let content = content_hash(a)?;
        let class = class_hash(a)?;
        if src.content_hash == content && src.class_hash == class {
            return Ok(false);
        }
        self.update_source(a, &content, &class).await?;
        if src.story_id == a.id {
            self.update_story(src.sid, a, Change::Cleaning, now).await?;
        } else {
            self.refresh_topics(src.sid, now).await?;
            self.touch_story(src.sid, now).await?;
        }
        Ok(true)
    }

    /// The story `a` is a copy of, if any: (sid, story id, sort time).
    async fn find_duplicate(
        &mut self,
        a: &Article,
        sort_time: i64,
    ) -> Result<Option<(i64, String, i64)>, StoreError> {
        let candidates = self.window().await?.candidates(sort_time, a.fingerprint);
        if candidates.is_empty() {
            return Ok(None);
        }
        let op = &format!("upsert {}: read candidates", a.id);
        let sids: Vec<i64> = candidates.iter().map(|&(_, sid)| sid).collect();
        let stored: Vec<i64> = sids
            .iter()
            .copied()
            .filter(|&sid| self.held(sid).is_none())
            .collect();
        let rows = if stored.is_empty() {
            Vec::new()
        } else {
            self.rows(
                "SELECT sid, id, sort_time, article, sources FROM stories WHERE sid = ANY($1)",
                &[&stored],
                op,
            )
            .await?
        };
        let mine = dedup::shingles(&a.content_text());
        // Closest first, as the window gave them.
        for sid in sids {
            let (id, time, json, sources) = match self.held(sid) {
                Some(p) => (
                    p.id.clone(),
                    p.sort_time,
                    p.json.clone(),
                    p.sources_json.clone(),
                ),
                None => {
                    let Some(row) = rows
                        .iter()
                        .find(|r| r.try_get::<_, i64>(0).ok() == Some(sid))
                    else {
                        continue;
                    };
                    (
                        get(row, 1, op)?,
                        get(row, 2, op)?,
                        get(row, 3, op)?,
                        get(row, 4, op)?,
                    )
                }
            };
            if is_copy_of(a, &mine, &id, &json, &sources)? {
                return Ok(Some((sid, id, time)));
            }
        }
        Ok(None)
    }

    async fn insert_story(
        &mut self,
        a: &Article,
        sort_time: i64,
        now: i64,
        content: &[u8],
        class: &[u8],
    ) -> Result<(), StoreError> {
        let story = new_story_json(a)?;
        let topics: BTreeSet<&String> = a.topics.iter().collect();
        let (config, text) = read::search_text(a);
        let sid = self.next_sid().await?;
        self.pending_at.insert(sid, self.pending.len());
        self.pending.push(PendingStory {
            sid,
            id: a.id.clone(),
            sort_time,
            now,
            fp: a.fingerprint as i64,
            topics_json: story.topics,
            sources_json: story.sources,
            json: story.article,
            config,
            text,
            site: a.site.clone(),
            site_key: site_key(&a.site),
            url: a.url.clone(),
            source_topics: to_json(&a.topics, &a.id)?,
            content: content.to_vec(),
            class: class.to_vec(),
            topics: topics.iter().map(|t| (*t).clone()).collect(),
        });
        // A later copy of this article in the batch finds it unchanged.
        self.known.insert(
            a.id.clone(),
            Some(KnownSource {
                sid,
                story_id: a.id.clone(),
                content_hash: content.to_vec(),
                class_hash: class.to_vec(),
            }),
        );
        for topic in topics {
            self.count_topic(topic, 1);
            self.touch_topic(topic, now).await?;
        }
        self.window().await?.insert(sort_time, sid, a.fingerprint);
        self.changed = true;
        Ok(())
    }

    async fn update_story(
        &mut self,
        sid: i64,
        a: &Article,
        change: Change,
        now: i64,
    ) -> Result<(), StoreError> {
        let op = &format!("update {}", a.id);
        let row = self
            .one(
                "SELECT sort_time, first_seen, article FROM stories WHERE sid = $1",
                &[&sid],
                op,
            )
            .await?;
        let (old_time, first_seen): (i64, i64) = (get(&row, 0, op)?, get(&row, 1, op)?);
        let old_json: String = get(&row, 2, op)?;
        let (stored, sort_time) = next_version(a, &old_json, change, first_seen, now)?;
        let json = to_json(&stored, &a.id)?;
        if change == Change::Classification {
            self.exec(
                "UPDATE stories SET sort_time = $1, changed = $2, fp = $3, article = $4
                 WHERE sid = $5",
                &[&sort_time, &now, &(a.fingerprint as i64), &json, &sid],
                op,
            )
            .await?;
        } else {
            let (config, text) = read::search_text(&stored);
            self.exec(
                "UPDATE stories SET sort_time = $1, changed = $2, fp = $3, article = $4,
                                    search = to_tsvector($6::text::regconfig, $7)
                 WHERE sid = $5",
                &[
                    &sort_time,
                    &now,
                    &(a.fingerprint as i64),
                    &json,
                    &sid,
                    &config,
                    &text,
                ],
                op,
            )
            .await?;
        }
        if sort_time != old_time {
            for sql in [
                "UPDATE story_topics SET sort_time = $1 WHERE sid = $2",
                "UPDATE sources SET sort_time = $1 WHERE sid = $2",
            ] {
                self.exec(sql, &[&sort_time, &sid], op).await?;
            }
        }
        let window = self.window().await?;
        window.remove(old_time, sid);
        window.insert(sort_time, sid, a.fingerprint);
        self.refresh_topics(sid, now).await?;
        self.changed = true;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_source(
        &mut self,
        sid: i64,
        story_id: &str,
        sort_time: i64,
        a: &Article,
        now: i64,
        content: &[u8],
        class: &[u8],
    ) -> Result<(), StoreError> {
        let topics = to_json(&a.topics, &a.id)?;
        self.exec(
            "INSERT INTO sources (article_id, sid, story_id, sort_time, seen, site, site_key,
                                  url, topics, content_hash, class_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &a.id,
                &sid,
                &story_id,
                &sort_time,
                &now,
                &a.site,
                &site_key(&a.site),
                &a.url,
                &topics,
                &content,
                &class,
            ],
            &format!("insert source {}", a.id),
        )
        .await?;
        self.known.remove(&a.id);
        self.changed = true;
        Ok(())
    }

    async fn update_source(
        &mut self,
        a: &Article,
        content: &[u8],
        class: &[u8],
    ) -> Result<(), StoreError> {
        let topics = to_json(&a.topics, &a.id)?;
        self.exec(
            "UPDATE sources SET site = $1, site_key = $2, url = $3, topics = $4,
                                content_hash = $5, class_hash = $6
             WHERE article_id = $7",
            &[
                &a.site,
                &site_key(&a.site),
                &a.url,
                &topics,
                &content,
                &class,
                &a.id,
            ],
            &format!("update source {}", a.id),
        )
        .await?;
        self.known.remove(&a.id);
        self.changed = true;
        Ok(())
    }

    async fn touch_story(&mut self, sid: i64, now: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE stories SET changed = $1 WHERE sid = $2",
            &[&now, &sid],
            "touch story",
        )
        .await?;
        self.changed = true;
        Ok(())
    }

    /// Makes the story's topic rows the union of its sources' topics, and
    /// marks every topic it is or was in as changed.
    async fn refresh_topics(&mut self, sid: i64, now: i64) -> Result<(), StoreError> {
        let op = "refresh topics";
        let row = self
            .one(
                "SELECT id, sort_time FROM stories WHERE sid = $1",
                &[&sid],
                op,
            )
            .await?;
        let (story_id, sort_time): (String, i64) = (get(&row, 0, op)?, get(&row, 1, op)?);
        let mut union = BTreeSet::new();
        for r in self
            .rows("SELECT topics FROM sources WHERE sid = $1", &[&sid], op)
            .await?
        {
            union.extend(parse_topics(&get::<String>(&r, 0, op)?, &story_id)?);
        }
        let old: BTreeSet<String> = self.story_topics(sid, op).await?.into_iter().collect();
        for topic in old.difference(&union) {
            self.exec(
                "DELETE FROM story_topics WHERE sid = $1 AND topic = $2",
                &[&sid, topic],
                op,
            )
            .await?;
            self.count_topic(topic, -1);
        }
        for topic in union.difference(&old) {
            self.exec(
                "INSERT INTO story_topics (sid, topic, sort_time, id) VALUES ($1, $2, $3, $4)",
                &[&sid, topic, &sort_time, &story_id],
                op,
            )
            .await?;
            self.count_topic(topic, 1);
        }
        if old != union {
            self.store_topic_list(sid, &union, &story_id).await?;
        }
        for topic in old.union(&union) {
            self.touch_topic(topic, now).await?;
        }
        Ok(())
    }

    async fn story_topics(&mut self, sid: i64, op: &str) -> Result<Vec<String>, StoreError> {
        self.rows("SELECT topic FROM story_topics WHERE sid = $1", &[&sid], op)
            .await?
            .iter()
            .map(|r| get(r, 0, op))
            .collect()
    }

    /// Copies the story's topics (sorted) into `stories.topics`.
    async fn store_topic_list(
        &mut self,
        sid: i64,
        topics: &BTreeSet<String>,
        id: &str,
    ) -> Result<(), StoreError> {
        let json = to_json(topics, id)?;
        self.exec(
            "UPDATE stories SET topics = $1 WHERE sid = $2",
            &[&json, &sid],
            "store topic list",
        )
        .await?;
        Ok(())
    }

    /// Copies the story's source rows, in the order they came, into `stories.sources`.
    async fn refresh_sources(&mut self, sid: i64) -> Result<(), StoreError> {
        let op = "store source list";
        let mut list = Vec::new();
        for r in self
            .rows(
                "SELECT article_id, site, url FROM sources WHERE sid = $1 ORDER BY seq",
                &[&sid],
                op,
            )
            .await?
        {
            list.push(SourceJson {
                article_id: get(&r, 0, op)?,
                site: get(&r, 1, op)?,
                url: get(&r, 2, op)?,
            });
        }
        let json = to_json(&list, op)?;
        self.exec(
            "UPDATE stories SET sources = $1 WHERE sid = $2",
            &[&json, &sid],
            op,
        )
        .await?;
        Ok(())
    }

    async fn touch_topic(&mut self, slug: &str, now: i64) -> Result<(), StoreError> {
        let entry = self.topics.entry(slug.to_owned()).or_default();
        entry.1 = Some(entry.1.map_or(now, |t| t.max(now)));
        self.changed = true;
        Ok(())
    }

    /// Counts a story in (`+1`) or out of (`-1`) a topic.
    fn count_topic(&mut self, slug: &str, delta: i64) {
        self.topics.entry(slug.to_owned()).or_default().0 += delta;
    }

    /// Deletes a story with its sources and topic rows.
    async fn delete_story(&mut self, sid: i64, now: i64) -> Result<bool, StoreError> {
        let op = "delete story";
        let Some(row) = self
            .opt("SELECT sort_time FROM stories WHERE sid = $1", &[&sid], op)
            .await?
        else {
            return Ok(false);
        };
        let sort_time: i64 = get(&row, 0, op)?;
        let topics = self.story_topics(sid, op).await?;
        // Cascades to sources, story_topics and site rows.
        self.exec("DELETE FROM stories WHERE sid = $1", &[&sid], op)
            .await?;
        for topic in &topics {
            self.count_topic(topic, -1);
            self.touch_topic(topic, now).await?;
        }
        if let Some(window) = self.w.window.as_mut() {
            window.remove(sort_time, sid);
        }
        self.changed = true;
        Ok(true)
    }

    /// Removes one story from one topic; deletes it when that was its last topic.
    async fn trim_from_topic(
        &mut self,
        sid: i64,
        slug: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let op = "trim topic";
        let removed = self
            .exec(
                "DELETE FROM story_topics WHERE sid = $1 AND topic = $2",
                &[&sid, &slug],
                op,
            )
            .await?;
        self.count_topic(slug, -(removed as i64));
        self.touch_topic(slug, now).await?;
        let left: BTreeSet<String> = self.story_topics(sid, op).await?.into_iter().collect();
        if left.is_empty() {
            return self.delete_story(sid, now).await;
        }
        let id: String = get(
            &self
                .one("SELECT id FROM stories WHERE sid = $1", &[&sid], op)
                .await?,
            0,
            op,
        )?;
        self.store_topic_list(sid, &left, &id).await?;
        self.touch_story(sid, now).await?;
        Ok(false)
    }
}

/// A [`KnownSource`] from the row's columns from `at` on (sid, story id,
/// content hash, class hash).
fn known_from(r: &Row, at: usize, op: &str) -> Result<KnownSource, StoreError> {
    Ok(KnownSource {
        sid: get(r, at, op)?,
        story_id: get(r, at + 1, op)?,
        content_hash: get(r, at + 2, op)?,
        class_hash: get(r, at + 3, op)?,
    })
}

/// Runs one write transaction: `body` gets the open transaction, then it
/// commits. On any error it rolls back, and the duplicate window (which
/// may hold what the rollback undid) is dropped.
macro_rules! in_tx {
    ($store:expr, $op:expr, |$tx:ident| $body:expr) => {{
        let store: &PostgresStore = $store;
        let mut guard = lock_writer(store);
        let Writer {
            runtime,
            conn,
            state,
        } = &mut *guard;
        let Some(runtime) = runtime.as_ref() else {
            return Err(StoreError::backend($op, "the store is closing"));
        };
        let result = runtime.block_on(async {
            let conn = writer_conn(conn, &store.config).await?;
            #[allow(unused_mut)]
            let mut $tx = Tx::begin(conn, state, store.channel(), $op).await?;
            let value = $body;
            let generation = $tx.finish($op).await?;
            Ok::<_, StoreError>((value, generation))
        });
        match result {
            Ok((value, generation)) => {
                store.note_generation(generation);
                Ok(value)
            }
            Err(e) => {
                state.window = None;
                Err(e)
            }
        }
    }};
}

/// The writer's connection, (re)connected when there is none or it closed.
async fn writer_conn<'c>(
    slot: &'c mut Option<WriterConn>,
    config: &tokio_postgres::Config,
) -> Result<&'c mut WriterConn, StoreError> {
    if slot.as_ref().is_some_and(|c| c.client.is_closed()) {
        *slot = None;
    }
    if slot.is_none() {
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(pg_err("connect the writer"))?;
        // Runs on the writer's runtime: driven while a write runs.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        *slot = Some(WriterConn {
            client,
            statements: std::collections::HashMap::new(),
        });
    }
    slot.as_mut()
        .ok_or_else(|| StoreError::backend("connect the writer", "no connection"))
}

fn lock_writer(store: &PostgresStore) -> MutexGuard<'_, Writer> {
    // A panic mid-write rolled its transaction back; only the window may be stale.
    store.writer.lock().unwrap_or_else(|poisoned| {
        let mut w = poisoned.into_inner();
        w.state.window = None;
        w
    })
}

pub(super) fn upsert_batch(
    store: &PostgresStore,
    articles: &[Article],
    now: DateTime<Utc>,
) -> Result<Vec<Outcome>, StoreError> {
    in_tx!(store, "upsert", |tx| {
        let ids: Vec<&str> = articles.iter().map(|a| a.id.as_str()).collect();
        tx.prefetch_sources(&ids).await?;
        let mut out = Vec::with_capacity(articles.len());
        for a in articles {
            out.push(tx.upsert(a, now).await?);
        }
        out
    })
}

pub(super) fn replace_cleaned(
    store: &PostgresStore,
    articles: &[Article],
    now: DateTime<Utc>,
) -> Result<Vec<bool>, StoreError> {
    in_tx!(store, "replace cleaned", |tx| {
        let mut out = Vec::with_capacity(articles.len());
        for a in articles {
            out.push(tx.replace_cleaned(a, now).await?);
        }
        out
    })
}

pub(super) fn record_site_blocks(
    store: &PostgresStore,
    records: &[SiteBlocks],
) -> Result<Vec<Vec<u64>>, StoreError> {
    in_tx!(store, "record site blocks", |tx| {
        let mut ids = SiteIds::new();
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            out.push(tx.record_site_blocks(r, &mut ids).await?);
        }
        out
    })
}

pub(super) fn apply_retention(
    store: &PostgresStore,
    policy: &Retention,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut deleted = 0;
    if let Some(age) = policy.max_age {
        let cutoff = ts(&now).saturating_sub(age.num_seconds());
        loop {
            let op = "retention by age";
            let (n, more) = in_tx!(store, op, |tx| {
                let sids: Vec<i64> = tx
                    .rows(
                        "SELECT sid FROM stories WHERE sort_time < $1 ORDER BY sort_time LIMIT $2",
                        &[&cutoff, &RETENTION_BATCH],
                        op,
                    )
                    .await?
                    .iter()
                    .map(|r| get(r, 0, op))
                    .collect::<Result<_, _>>()?;
                let mut n = 0;
                for &sid in &sids {
                    let now = tx.tick(&now);
                    n += usize::from(tx.delete_story(sid, now).await?);
                }
                (n, sids.len() as i64 == RETENTION_BATCH)
            })?;
            deleted += n;
            if !more {
                break;
            }
        }
    }
    if let Some(max) = policy.max_per_topic {
        deleted += retention_per_topic(store, max as i64, now)?;
    }
    Ok(deleted)
}

fn retention_per_topic(
    store: &PostgresStore,
    max: i64,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let op = "retention per topic";
    let slugs: Vec<String> = in_tx!(store, op, |tx| {
        tx.rows(
            "SELECT slug FROM topics WHERE count > $1 ORDER BY slug",
            &[&max],
            op,
        )
        .await?
        .iter()
        .map(|r| get(r, 0, op))
        .collect::<Result<Vec<String>, _>>()?
    })?;
    let mut deleted = 0;
    for slug in slugs {
        loop {
            let (n, more) = in_tx!(store, op, |tx| {
                let count: i64 = get(
                    &tx.one("SELECT count FROM topics WHERE slug = $1", &[&slug], op)
                        .await?,
                    0,
                    op,
                )?;
                let excess = count.saturating_sub(max).max(0);
                let take = excess.min(RETENTION_BATCH);
                // Oldest first: the exact reverse of the feed index.
                let sids: Vec<i64> = tx
                    .rows(
                        "SELECT sid FROM story_topics WHERE topic = $1
                         ORDER BY sort_time ASC, id DESC LIMIT $2",
                        &[&slug, &take],
                        op,
                    )
                    .await?
                    .iter()
                    .map(|r| get(r, 0, op))
                    .collect::<Result<_, _>>()?;
                let mut n = 0;
                for &sid in &sids {
                    let now = tx.tick(&now);
                    n += usize::from(tx.trim_from_topic(sid, &slug, now).await?);
                }
                (n, excess > take && !sids.is_empty())
            })?;
            deleted += n;
            if !more {
                break;
            }
        }
    }
    Ok(deleted)
}
