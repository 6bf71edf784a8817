//! The write side: upserts with duplicate merging, and retention.
//!
//! Every write runs in one `BEGIN IMMEDIATE` transaction on the writer
//! connection ([`SqliteStore::write`]); the generation counter is bumped in
//! the same transaction, so it moves exactly when committed content does.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{SqliteStore, data_version, sql_err};
use crate::model::Article;
use crate::store::dedup::{self, WindowIndex};
use crate::store::record::{
    Change, MICROS, class_hash, content_hash, is_copy_of, new_story_json, next_version,
    parse_topics, site_key, to_json, ts,
};
use crate::store::{Outcome, Retention, StoreError};

/// Rows deleted per retention transaction: small, so ingest waiting for the
/// writer lock is held up for milliseconds, not for the whole sweep.
const RETENTION_BATCH: usize = 256;

/// One write transaction in progress.
pub(super) struct Tx<'a> {
    pub(super) tx: rusqlite::Transaction<'a>,
    window: &'a mut Option<WindowIndex>,
    /// See `Writer::adoptable`.
    adoptable: &'a mut Option<bool>,
    /// The writer's clock: change times are distinct and increasing, so
    /// two stories written in one batch never share an `updated` time.
    clock: &'a mut i64,
    /// Whether anything a reader can see changed (bumps the generation).
    changed: bool,
    /// Search index changes, applied in order just before commit. FTS5
    /// flushes its pending terms to a new segment whenever a statement opens
    /// a savepoint — which inserts with foreign keys and triggers do — so
    /// indexing as we go would write (and later merge) one segment per
    /// article; deferred, a batch is one segment. Measured: 2x the store's
    /// throughput for batches of 256.
    search: Vec<SearchOp>,
}

enum SearchOp {
    Delete(i64),
    Insert {
        sid: i64,
        title: String,
        body: String,
    },
}

impl SqliteStore {
    /// Runs `f` in one write transaction and commits it. On any error the
    /// transaction rolls back and nothing of it is visible.
    pub(super) fn write<T>(
        &self,
        op: &str,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.writer(op)?;
        let Some(w) = guard.as_mut() else {
            return Err(StoreError::Full { op: op.to_owned() });
        };
        let tx = w
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(format!("{op}: begin")))?;
        let version = data_version(&tx).map_err(sql_err(format!("{op}: data_version")))?;
        if version != w.data_version {
            // Another connection committed since our last write: what we
            // cache about the stories may be stale.
            w.window = None;
            w.adoptable = None;
            w.data_version = version;
        }
        let mut ctx = Tx {
            tx,
            window: &mut w.window,
            adoptable: &mut w.adoptable,
            clock: &mut w.clock,
            changed: false,
            search: Vec::new(),
        };
        let result = match f(&mut ctx) {
            Ok(value) => ctx.finish(op).map(|generation| (value, generation)),
            Err(e) => {
                drop(ctx);
                Err(e)
            }
        };
        match result {
            Ok((value, generation)) => {
                if let Some(g) = generation {
                    self.generation
                        .fetch_max(g, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(value)
            }
            Err(e) => {
                // The window saw changes the rollback undid.
                w.window = None;
                Err(e)
            }
        }
    }
}

/// What is stored about a source row we matched.
struct KnownSource {
    sid: i64,
    story_id: String,
    content_hash: Vec<u8>,
    class_hash: Vec<u8>,
}

impl Tx<'_> {
    /// Bumps the generation if anything changed, commits, and returns the
    /// new generation (None when nothing changed).
    fn finish(mut self, op: &str) -> Result<Option<u64>, StoreError> {
        for change in std::mem::take(&mut self.search) {
            match change {
                SearchOp::Delete(sid) => self
                    .tx
                    .prepare_cached("DELETE FROM search WHERE rowid = ?")
                    .and_then(|mut s| s.execute([sid])),
                SearchOp::Insert { sid, title, body } => self
                    .tx
                    .prepare_cached("INSERT INTO search (rowid, title, body) VALUES (?, ?, ?)")
                    .and_then(|mut s| s.execute(params![sid, title, body])),
            }
            .map_err(sql_err(format!("{op}: search index")))?;
        }
        let generation = if self.changed {
            let g: i64 = self
                .tx
                .query_row(
                    "UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql_err(format!("{op}: bump generation")))?;
            Some(g.max(0) as u64)
        } else {
            None
        };
        self.tx.commit().map_err(sql_err(format!("{op}: commit")))?;
        Ok(generation)
    }

    /// The duplicate window, loaded from the stories on first use.
    fn window(&mut self) -> Result<&mut WindowIndex, StoreError> {
        if self.window.is_none() {
            let mut idx = WindowIndex::default();
            let mut stmt = self
                .tx
                .prepare("SELECT sid, sort_time, fp FROM stories")
                .map_err(sql_err("load fingerprints"))?;
            let mut rows = stmt.query([]).map_err(sql_err("load fingerprints"))?;
            while let Some(row) = rows.next().map_err(sql_err("load fingerprints"))? {
                let (sid, sort_time, fp): (i64, i64, i64) = (
                    row.get(0).map_err(sql_err("load fingerprints"))?,
                    row.get(1).map_err(sql_err("load fingerprints"))?,
                    row.get(2).map_err(sql_err("load fingerprints"))?,
                );
                idx.insert(sort_time, sid, fp as u64);
            }
            *self.window = Some(idx);
        }
        Ok(self.window.get_or_insert_with(WindowIndex::default))
    }

    /// `now` in µs, made later than every change time this writer handed
    /// out before.
    pub(super) fn tick(&mut self, now: &DateTime<Utc>) -> i64 {
        let t = now.timestamp_micros().max(*self.clock + 1);
        *self.clock = t;
        t
    }

    pub(super) fn upsert(
        &mut self,
        a: &Article,
        now: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let now = self.tick(&now);
        let op = || format!("upsert {}", a.id);
        let adopted;
        let a = match self.stored_id(a)? {
            Some(id) => {
                adopted = Article { id, ..a.clone() };
                &adopted
            }
            None => a,
        };
        let content = content_hash(a)?;
        let class = class_hash(a)?;
        if let Some(src) = self.known_source(&a.id, &op())? {
            if src.content_hash == content && src.class_hash == class {
                return Ok(Outcome::Unchanged);
            }
            self.update_source(a, &content, &class)?;
            self.refresh_sources(src.sid)?;
            if src.story_id == a.id {
                let change = if src.content_hash != content {
                    Change::Content
                } else {
                    Change::Classification
                };
                self.update_story(src.sid, a, change, now)?;
                return Ok(Outcome::Updated);
            }
            // A changed copy stays merged into its story: only its
            // source entry and the topics it contributes change.
            self.refresh_topics(src.sid, now)?;
            self.touch_story(src.sid, now)?;
            return Ok(Outcome::Duplicate {
                story_id: src.story_id,
            });
        }
        let sort_time = a
            .published
            .as_ref()
            .map(ts)
            .unwrap_or(now.div_euclid(MICROS));
        if let Some((sid, story_id, story_time)) = self.find_duplicate(a, sort_time)? {
            self.insert_source(sid, &story_id, story_time, a, now, &content, &class)?;
            self.refresh_sources(sid)?;
            self.refresh_topics(sid, now)?;
            self.touch_story(sid, now)?;
            return Ok(Outcome::Duplicate { story_id });
        }
        self.insert_story(a, sort_time, now, &content, &class)?;
        Ok(Outcome::New)
    }

    /// The id `a` is stored under when that is not `a.id`: an id mapped
    /// to it earlier, or a legacy row (stored before ids came from guids
    /// and link keys) its URL hashed to, which it then claims. A claimed
    /// row is no longer legacy, so items of one feed that share a link
    /// (podcast episodes linking to the show) claim it once, not all.
    fn stored_id(&mut self, a: &Article) -> Result<Option<String>, StoreError> {
        let op = || format!("upsert {}: find stored id", a.id);
        if self.adoptable.is_none() {
            let any: bool = self
                .tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sources WHERE legacy = 1)
                         OR EXISTS (SELECT 1 FROM item_aliases)",
                    [],
                    |r| r.get(0),
                )
                .map_err(sql_err(op()))?;
            *self.adoptable = Some(any);
        }
        if *self.adoptable == Some(false) {
            return Ok(None);
        }
        let legacy: Option<bool> = self
            .tx
            .prepare_cached("SELECT legacy FROM sources WHERE article_id = ?")
            .and_then(|mut s| s.query_row([&a.id], |r| r.get(0)).optional())
            .map_err(sql_err(op()))?;
        match legacy {
            // The item's own key gave the stored id: it owns the row, and no
            // other item may claim it.
            Some(true) => {
                self.tx
                    .prepare_cached("UPDATE sources SET legacy = 0 WHERE article_id = ?")
                    .and_then(|mut s| s.execute([&a.id]))
                    .map_err(sql_err(op()))?;
                return Ok(None);
            }
            Some(false) => return Ok(None),
            None => {}
        }
        let mapped: Option<String> = self
            .tx
            .prepare_cached(
                "SELECT m.article_id FROM item_aliases m
                   JOIN sources s ON s.article_id = m.article_id WHERE m.id = ?",
            )
            .and_then(|mut s| s.query_row([&a.id], |r| r.get(0)).optional())
            .map_err(sql_err(op()))?;
        if mapped.is_some() {
            return Ok(mapped);
        }
        let Some(url) = a.url.as_deref() else {
            return Ok(None);
        };
        for old in crate::ingest::identity::legacy_ids(url) {
            if old == a.id {
                continue;
            }
            let claimed = self
                .tx
                .prepare_cached("UPDATE sources SET legacy = 0 WHERE article_id = ? AND legacy = 1")
                .and_then(|mut s| s.execute([&old]))
                .map_err(sql_err(op()))?;
            if claimed == 1 {
                self.tx
                    .prepare_cached(
                        "INSERT OR REPLACE INTO item_aliases (id, article_id) VALUES (?, ?)",
                    )
                    .and_then(|mut s| s.execute([&a.id, &old]))
                    .map_err(sql_err(op()))?;
                return Ok(Some(old));
            }
        }
        Ok(None)
    }

    /// The source row of the article with this id, if it is stored.
    fn known_source(&mut self, id: &str, op: &str) -> Result<Option<KnownSource>, StoreError> {
        self.tx
            .prepare_cached(
                "SELECT sid, story_id, content_hash, class_hash FROM sources WHERE article_id = ?",
            )
            .and_then(|mut s| {
                s.query_row([id], |r| {
                    Ok(KnownSource {
                        sid: r.get(0)?,
                        story_id: r.get(1)?,
                        content_hash: r.get(2)?,
                        class_hash: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(sql_err(op))
    }

    /// [`Store::replace_cleaned`] for one article: true when it is stored
    /// and something changed.
    ///
    /// [`Store::replace_cleaned`]: crate::store::Store::replace_cleaned
    pub(super) fn replace_cleaned(
        &mut self,
        a: &Article,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = self.tick(&now);
        let Some(src) = self.known_source(&a.id, &format!("replace {}", a.id))? else {
            return Ok(false);
        };
        let content = content_hash(a)?;
        let class = class_hash(a)?;
        if src.content_hash == content && src.class_hash == class {
            return Ok(false);
        }
        self.update_source(a, &content, &class)?;
        if src.story_id == a.id {
            self.update_story(src.sid, a, Change::Cleaning, now)?;
        } else {
            // A merged copy's body is not stored: only its topics count.
            self.refresh_topics(src.sid, now)?;
            self.touch_story(src.sid, now)?;
        }
        Ok(true)
    }

    /// The story `a` is a copy of, if any: (sid, story id, sort time).
    fn find_duplicate(
        &mut self,
        a: &Article,
        sort_time: i64,
    ) -> Result<Option<(i64, String, i64)>, StoreError> {
        let candidates = self.window()?.candidates(sort_time, a.fingerprint);
        if candidates.is_empty() {
            return Ok(None);
        }
        let mine = dedup::shingles(&a.content_text());
        for (_, sid) in candidates {
            let row: Option<(String, i64, String, String)> = self
                .tx
                .prepare_cached("SELECT id, sort_time, article, sources FROM stories WHERE sid = ?")
                .and_then(|mut s| {
                    s.query_row([sid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                        .optional()
                })
                .map_err(sql_err(format!("upsert {}: read candidate", a.id)))?;
            let Some((id, story_time, json, sources)) = row else {
                continue;
            };
            if is_copy_of(a, &mine, &id, &json, &sources)? {
                return Ok(Some((sid, id, story_time)));
            }
        }
        Ok(None)
    }

    fn insert_story(
        &mut self,
        a: &Article,
        sort_time: i64,
        now: i64,
        content: &[u8],
        class: &[u8],
    ) -> Result<(), StoreError> {
        let op = || format!("insert {}", a.id);
        let story = new_story_json(a)?;
        let topics: BTreeSet<&String> = a.topics.iter().collect();
        let sid: i64 = self
            .tx
            .prepare_cached(
                "INSERT INTO stories (id, sort_time, first_seen, changed, fp, topics, sources, article)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING sid",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        a.id,
                        sort_time,
                        now,
                        now,
                        a.fingerprint as i64,
                        story.topics,
                        story.sources,
                        story.article
                    ],
                    |r| r.get(0),
                )
            })
            .map_err(sql_err(op()))?;
        self.insert_source(sid, &a.id, sort_time, a, now, content, class)?;
        for topic in topics {
            self.tx
                .prepare_cached(
                    "INSERT INTO story_topics (sid, topic, sort_time, id) VALUES (?, ?, ?, ?)",
                )
                .and_then(|mut s| s.execute(params![sid, topic, sort_time, a.id]))
                .map_err(sql_err(op()))?;
            self.touch_topic(topic, now)?;
        }
        self.index_text(sid, a, false);
        self.window()?.insert(sort_time, sid, a.fingerprint);
        self.changed = true;
        Ok(())
    }

    /// Replaces a story's own article with a new version of it.
    fn update_story(
        &mut self,
        sid: i64,
        a: &Article,
        change: Change,
        now: i64,
    ) -> Result<(), StoreError> {
        let op = || format!("update {}", a.id);
        let (old_time, first_seen, old_json): (i64, i64, String) = self
            .tx
            .prepare_cached("SELECT sort_time, first_seen, article FROM stories WHERE sid = ?")
            .and_then(|mut s| s.query_row([sid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .map_err(sql_err(op()))?;
        let (stored, sort_time) = next_version(a, &old_json, change, first_seen, now)?;
        let json = to_json(&stored, &a.id)?;
        self.tx
            .prepare_cached(
                "UPDATE stories SET sort_time = ?, changed = ?, fp = ?, article = ? WHERE sid = ?",
            )
            .and_then(|mut s| s.execute(params![sort_time, now, a.fingerprint as i64, json, sid]))
            .map_err(sql_err(op()))?;
        if sort_time != old_time {
            for sql in [
                "UPDATE story_topics SET sort_time = ? WHERE sid = ?",
                "UPDATE sources SET sort_time = ? WHERE sid = ?",
            ] {
                self.tx
                    .prepare_cached(sql)
                    .and_then(|mut s| s.execute(params![sort_time, sid]))
                    .map_err(sql_err(op()))?;
            }
        }
        let window = self.window()?;
        window.remove(old_time, sid);
        window.insert(sort_time, sid, a.fingerprint);
        self.refresh_topics(sid, now)?;
        if change != Change::Classification {
            self.index_text(sid, &stored, true);
        }
        self.changed = true;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_source(
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
        self.tx
            .prepare_cached(
                "INSERT INTO sources (article_id, sid, story_id, sort_time, seen, site, site_key,
                                      url, topics, content_hash, class_hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    a.id,
                    sid,
                    story_id,
                    sort_time,
                    now,
                    a.site,
                    site_key(&a.site),
                    a.url,
                    topics,
                    content,
                    class
                ])
            })
            .map_err(sql_err(format!("insert source {}", a.id)))?;
        self.changed = true;
        Ok(())
    }

    fn update_source(
        &mut self,
        a: &Article,
        content: &[u8],
        class: &[u8],
    ) -> Result<(), StoreError> {
        let topics = to_json(&a.topics, &a.id)?;
        self.tx
            .prepare_cached(
                "UPDATE sources SET site = ?, site_key = ?, url = ?, topics = ?,
                                    content_hash = ?, class_hash = ?
                 WHERE article_id = ?",
            )
            .and_then(|mut s| {
                s.execute(params![
                    a.site,
                    site_key(&a.site),
                    a.url,
                    topics,
                    content,
                    class,
                    a.id
                ])
            })
            .map_err(sql_err(format!("update source {}", a.id)))?;
        self.changed = true;
        Ok(())
    }

    fn touch_story(&mut self, sid: i64, now: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE stories SET changed = ? WHERE sid = ?")
            .and_then(|mut s| s.execute(params![now, sid]))
            .map_err(sql_err("touch story"))?;
        self.changed = true;
        Ok(())
    }

    /// Makes the story's topic rows the union of its sources' topics, and
    /// marks every topic it is or was in as changed.
    fn refresh_topics(&mut self, sid: i64, now: i64) -> Result<(), StoreError> {
        let op = "refresh topics";
        let (story_id, sort_time): (String, i64) = self
            .tx
            .prepare_cached("SELECT id, sort_time FROM stories WHERE sid = ?")
            .and_then(|mut s| s.query_row([sid], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(sql_err(op))?;
        let mut union = BTreeSet::new();
        {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT topics FROM sources WHERE sid = ?")
                .map_err(sql_err(op))?;
            let lists = stmt
                .query_map([sid], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(sql_err(op))?;
            for json in lists {
                union.extend(parse_topics(&json, &story_id)?);
            }
        }
        let old: BTreeSet<String> = self.story_topics(sid, op)?.into_iter().collect();
        for topic in old.difference(&union) {
            self.tx
                .prepare_cached("DELETE FROM story_topics WHERE sid = ? AND topic = ?")
                .and_then(|mut s| s.execute(params![sid, topic]))
                .map_err(sql_err(op))?;
        }
        for topic in union.difference(&old) {
            self.tx
                .prepare_cached(
                    "INSERT INTO story_topics (sid, topic, sort_time, id) VALUES (?, ?, ?, ?)",
                )
                .and_then(|mut s| s.execute(params![sid, topic, sort_time, story_id]))
                .map_err(sql_err(op))?;
        }
        if old != union {
            self.store_topic_list(sid)?;
        }
        for topic in old.union(&union) {
            self.touch_topic(topic, now)?;
        }
        Ok(())
    }

    /// Copies the story's topic rows into `stories.topics`.
    /// The topics a story is listed under.
    fn story_topics(&self, sid: i64, op: &str) -> Result<Vec<String>, StoreError> {
        self.tx
            .prepare_cached("SELECT topic FROM story_topics WHERE sid = ?")
            .and_then(|mut s| {
                s.query_map([sid], |r| r.get(0))
                    .and_then(|rows| rows.collect())
            })
            .map_err(sql_err(op))
    }

    fn store_topic_list(&mut self, sid: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE stories SET topics = (SELECT json_group_array(topic) FROM
                     (SELECT topic FROM story_topics WHERE sid = ?1 ORDER BY topic))
                 WHERE sid = ?1",
            )
            .and_then(|mut s| s.execute([sid]))
            .map_err(sql_err("store topic list"))?;
        Ok(())
    }

    /// Copies the story's source rows into `stories.sources`.
    fn refresh_sources(&mut self, sid: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE stories SET sources = (SELECT json_group_array(json_object(
                         'article_id', article_id, 'site', site, 'url', url))
                     FROM (SELECT article_id, site, url FROM sources WHERE sid = ?1 ORDER BY rowid))
                 WHERE sid = ?1",
            )
            .and_then(|mut s| s.execute([sid]))
            .map_err(sql_err("store source list"))?;
        Ok(())
    }

    fn touch_topic(&mut self, slug: &str, now: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE topics SET last_changed = ? WHERE slug = ?")
            .and_then(|mut s| s.execute(params![now, slug]))
            .map_err(sql_err("touch topic"))?;
        self.changed = true;
        Ok(())
    }

    /// (Re)indexes the story's title and body for keyword search (at commit).
    fn index_text(&mut self, sid: i64, a: &Article, replace: bool) {
        if replace {
            self.search.push(SearchOp::Delete(sid));
        }
        self.search.push(SearchOp::Insert {
            sid,
            title: a.title.clone(),
            body: a.content_text(),
        });
    }

    /// Deletes a story with its sources, topic rows and search entry.
    fn delete_story(&mut self, sid: i64, now: i64) -> Result<bool, StoreError> {
        let op = "delete story";
        let Some(sort_time) = self
            .tx
            .prepare_cached("SELECT sort_time FROM stories WHERE sid = ?")
            .and_then(|mut s| s.query_row([sid], |r| r.get::<_, i64>(0)).optional())
            .map_err(sql_err(op))?
        else {
            return Ok(false);
        };
        let topics = self.story_topics(sid, op)?;
        // Aliases are not keyed by story, so no cascade reaches them.
        self.tx
            .prepare_cached(
                "DELETE FROM item_aliases
                  WHERE article_id IN (SELECT article_id FROM sources WHERE sid = ?)",
            )
            .and_then(|mut s| s.execute([sid]))
            .map_err(sql_err(op))?;
        // Cascades to sources and story_topics; triggers keep the counts.
        self.tx
            .prepare_cached("DELETE FROM stories WHERE sid = ?")
            .and_then(|mut s| s.execute([sid]))
            .map_err(sql_err(op))?;
        self.search.push(SearchOp::Delete(sid));
        for topic in &topics {
            self.touch_topic(topic, now)?;
        }
        if let Some(window) = self.window.as_mut() {
            window.remove(sort_time, sid);
        }
        self.changed = true;
        Ok(true)
    }

    /// Removes one story from one topic; deletes it when that was its last topic.
    fn trim_from_topic(&mut self, sid: i64, slug: &str, now: i64) -> Result<bool, StoreError> {
        let op = "trim topic";
        self.tx
            .prepare_cached("DELETE FROM story_topics WHERE sid = ? AND topic = ?")
            .and_then(|mut s| s.execute(params![sid, slug]))
            .map_err(sql_err(op))?;
        self.touch_topic(slug, now)?;
        let left: i64 = self
            .tx
            .prepare_cached("SELECT count(*) FROM story_topics WHERE sid = ?")
            .and_then(|mut s| s.query_row([sid], |r| r.get(0)))
            .map_err(sql_err(op))?;
        if left == 0 {
            return self.delete_story(sid, now);
        }
        self.store_topic_list(sid)?;
        self.touch_story(sid, now)?;
        Ok(false)
    }
}

pub(super) fn apply_retention(
    store: &SqliteStore,
    policy: &Retention,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut deleted = 0;
    if let Some(age) = policy.max_age {
        let cutoff = ts(&now).saturating_sub(age.num_seconds());
        loop {
            let (n, more) = store.write("retention by age", |tx| {
                let sids: Vec<i64> = tx
                    .tx
                    .prepare_cached(
                        "SELECT sid FROM stories WHERE sort_time < ? ORDER BY sort_time LIMIT ?",
                    )
                    .and_then(|mut s| {
                        s.query_map(params![cutoff, RETENTION_BATCH as i64], |r| r.get(0))
                            .and_then(|rows| rows.collect())
                    })
                    .map_err(sql_err("retention by age"))?;
                let mut n = 0;
                for &sid in &sids {
                    let now = tx.tick(&now);
                    n += usize::from(tx.delete_story(sid, now)?);
                }
                Ok((n, sids.len() == RETENTION_BATCH))
            })?;
            deleted += n;
            if !more {
                break;
            }
        }
    }
    if let Some(max) = policy.max_per_topic {
        let slugs: Vec<String> = store.write("retention per topic", |tx| {
            tx.tx
                .prepare_cached("SELECT slug FROM topics WHERE count > ? ORDER BY slug")
                .and_then(|mut s| {
                    s.query_map([max as i64], |r| r.get(0))
                        .and_then(|rows| rows.collect())
                })
                .map_err(sql_err("retention per topic"))
        })?;
        for slug in slugs {
            loop {
                let (n, more) = store.write("retention per topic", |tx| {
                    let count: i64 = tx
                        .tx
                        .prepare_cached("SELECT count FROM topics WHERE slug = ?")
                        .and_then(|mut s| s.query_row([&slug], |r| r.get(0)))
                        .map_err(sql_err("retention per topic"))?;
                    let excess = usize::try_from(count).unwrap_or(0).saturating_sub(max);
                    let take = excess.min(RETENTION_BATCH);
                    // Oldest first: the exact reverse of the feed index.
                    let sids: Vec<i64> = tx
                        .tx
                        .prepare_cached(
                            "SELECT sid FROM story_topics WHERE topic = ?
                             ORDER BY sort_time ASC, id DESC LIMIT ?",
                        )
                        .and_then(|mut s| {
                            s.query_map(params![slug, take as i64], |r| r.get(0))
                                .and_then(|rows| rows.collect())
                        })
                        .map_err(sql_err("retention per topic"))?;
                    let mut n = 0;
                    for &sid in &sids {
                        let now = tx.tick(&now);
                        n += usize::from(tx.trim_from_topic(sid, &slug, now)?);
                    }
                    Ok((n, excess > take && !sids.is_empty()))
                })?;
                deleted += n;
                if !more {
                    break;
                }
            }
        }
    }
    Ok(deleted)
}
