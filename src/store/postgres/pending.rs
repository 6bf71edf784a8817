//! New stories of a write batch, held and inserted together.
//!
//! A batch's new stories go in with three statements at the end (stories,
//! sources, topic rows, each `INSERT … SELECT FROM unnest(…)`) instead of
//! one round trip each: in a bulk ingest the round trips cost the writer
//! more than the rows did. Their ids come from the stories' sequence ahead
//! of time, so the duplicate window and later articles of the batch can
//! refer to them at once. Whatever else the batch does to stored stories
//! (a duplicate merged into a held story, an update) first flushes them, so
//! every other statement sees the rows it expects.

use super::write::{Tx, get};
use crate::store::StoreError;

/// Ids taken from the sequence at a time.
const SID_CHUNK: i64 = 256;

/// A new story, its source row and topic rows, as they will be inserted.
pub(super) struct PendingStory {
    pub sid: i64,
    pub id: String,
    pub sort_time: i64,
    pub now: i64,
    pub fp: i64,
    pub topics_json: String,
    pub sources_json: String,
    pub json: String,
    pub config: String,
    pub text: String,
    pub site: Option<String>,
    pub site_key: Option<String>,
    pub url: Option<String>,
    pub source_topics: String,
    pub content: Vec<u8>,
    pub class: Vec<u8>,
    pub topics: Vec<String>,
}

impl Tx<'_> {
    /// A story id from the sequence, taken in chunks.
    pub(super) async fn next_sid(&mut self) -> Result<i64, StoreError> {
        if let Some(sid) = self.free_sids.pop() {
            return Ok(sid);
        }
        let op = "allocate story ids";
        let rows = self
            .rows(
                "SELECT nextval(pg_get_serial_sequence('stories', 'sid'))
                   FROM generate_series(1, $1::bigint) ORDER BY 1 DESC",
                &[&SID_CHUNK],
                op,
            )
            .await?;
        for r in &rows {
            self.free_sids.push(get(r, 0, op)?);
        }
        self.free_sids
            .pop()
            .ok_or_else(|| StoreError::backend(op, "the sequence gave no id"))
    }

    /// The held story with this sid, if it is held.
    pub(super) fn held(&self, sid: i64) -> Option<&PendingStory> {
        self.pending_at.get(&sid).and_then(|&i| self.pending.get(i))
    }

    /// Inserts every held story.
    pub(super) async fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.pending);
        self.pending_at.clear();
        let op = "insert new stories";
        let col = |f: fn(&PendingStory) -> i64| held.iter().map(f).collect::<Vec<i64>>();
        let text = |f: fn(&PendingStory) -> &str| {
            held.iter()
                .map(|p| f(p).to_owned())
                .collect::<Vec<String>>()
        };
        let opt = |f: fn(&PendingStory) -> &Option<String>| {
            held.iter()
                .map(|p| f(p).clone())
                .collect::<Vec<Option<String>>>()
        };
        let (sids, times, nows, fps) = (
            col(|p| p.sid),
            col(|p| p.sort_time),
            col(|p| p.now),
            col(|p| p.fp),
        );
        let ids = text(|p| &p.id);
        self.exec(
            "INSERT INTO stories (sid, id, sort_time, first_seen, changed, fp, topics, sources,
                                  article, search) OVERRIDING SYSTEM VALUE
             SELECT sid, id, st, now, now, fp, topics, sources, article,
                    to_tsvector(cfg::regconfig, txt)
               FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
                           $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                    AS u(sid, id, st, now, fp, topics, sources, article, cfg, txt)",
            &[
                &sids,
                &ids,
                &times,
                &nows,
                &fps,
                &text(|p| &p.topics_json),
                &text(|p| &p.sources_json),
                &text(|p| &p.json),
                &text(|p| &p.config),
                &text(|p| &p.text),
            ],
            op,
        )
        .await?;
        let bytes = |f: fn(&PendingStory) -> &Vec<u8>| {
            held.iter().map(|p| f(p).clone()).collect::<Vec<Vec<u8>>>()
        };
        self.exec(
            "INSERT INTO sources (article_id, sid, story_id, sort_time, seen, site, site_key,
                                  url, topics, content_hash, class_hash)
             SELECT id, sid, id, st, now, site, sk, url, tp, ch, cl
               FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[],
                           $6::text[], $7::text[], $8::text[], $9::bytea[], $10::bytea[])
                    WITH ORDINALITY AS u(id, sid, st, now, site, sk, url, tp, ch, cl, n)
              ORDER BY n",
            &[
                &ids,
                &sids,
                &times,
                &nows,
                &opt(|p| &p.site),
                &opt(|p| &p.site_key),
                &opt(|p| &p.url),
                &text(|p| &p.source_topics),
                &bytes(|p| &p.content),
                &bytes(|p| &p.class),
            ],
            op,
        )
        .await?;
        let (mut t_sid, mut t_topic, mut t_time, mut t_id) = (vec![], vec![], vec![], vec![]);
        for p in &held {
            for topic in &p.topics {
                t_sid.push(p.sid);
                t_topic.push(topic.clone());
                t_time.push(p.sort_time);
                t_id.push(p.id.clone());
            }
        }
        if !t_sid.is_empty() {
            self.exec(
                "INSERT INTO story_topics (sid, topic, sort_time, id)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[])",
                &[&t_sid, &t_topic, &t_time, &t_id],
                op,
            )
            .await?;
        }
        Ok(())
    }
}
