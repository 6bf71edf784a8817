//! Per-site block records (schema version 4): which short body blocks each
//! site's stored stories showed, counted per distinct story.
//!
//! `site_block_stories` has one row per (site, block, story); a block seen
//! in two or more stories also gets a `site_blocks` row holding its story
//! count and a sample, so that a site's boilerplate is a short range read
//! rather than a count over every block the site ever printed. Recording
//! keeps that count (a probe of at most two rows tells a rare block from
//! a counted one); a trigger lowers it when retention deletes a story.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};

use super::sql_err;
use super::write::Tx;
use crate::store::{LearnedBlock, SiteBlocks, SiteInfo, StoreError, record};

/// Site ids looked up in one transaction, by key.
pub(super) type SiteIds = HashMap<String, i64>;

impl Tx<'_> {
    /// Records one article's blocks; returns each block's story count
    /// before this record (see `Store::record_site_blocks`).
    pub(super) fn record_site_blocks(
        &mut self,
        r: &SiteBlocks,
        ids: &mut SiteIds,
    ) -> Result<Vec<u64>, StoreError> {
        let op = || format!("record site blocks of {}", r.article_id);
        let sid: Option<i64> = self
            .tx
            .prepare_cached("SELECT sid FROM stories WHERE id = ?")
            .and_then(|mut s| s.query_row([&r.story_id], |row| row.get(0)).optional())
            .map_err(sql_err(op()))?;
        let Some(sid) = sid else {
            return Ok(vec![0; r.blocks.len()]);
        };
        let site_id = self.site_id(&r.site, &r.name, ids)?;
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO site_articles (article_id, site_id, sid) VALUES (?, ?, ?)",
            )
            .and_then(|mut s| s.execute(params![r.article_id, site_id, sid]))
            .map_err(sql_err(op()))?;
        // Two statements for all the article's blocks, not two per block:
        // most blocks are prose seen once, and a statement costs more than
        // the index probe in it.
        let fps: Vec<i64> = r.blocks.iter().map(|b| b.fingerprint as i64).collect();
        // A JSON array for `json_each`: integers only, nothing to escape.
        let list = format!(
            "[{}]",
            fps.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        );
        let mut probed = vec![(0i64, false); fps.len()];
        {
            let mut stmt = self
                .tx
                .prepare_cached(
                    "SELECT j.key,
                            (SELECT count(*) FROM (SELECT 1 FROM site_block_stories s
                               WHERE s.site_id = ?1 AND s.fp = j.value LIMIT 2)),
                            EXISTS (SELECT 1 FROM site_block_stories s
                               WHERE s.site_id = ?1 AND s.fp = j.value AND s.sid = ?2)
                       FROM json_each(?3) j",
                )
                .map_err(sql_err(op()))?;
            let mut rows = stmt
                .query(params![site_id, sid, list])
                .map_err(sql_err(op()))?;
            while let Some(row) = rows.next().map_err(sql_err(op()))? {
                let i: i64 = row.get(0).map_err(sql_err(op()))?;
                if let Some(slot) = usize::try_from(i).ok().and_then(|i| probed.get_mut(i)) {
                    *slot = (
                        row.get(1).map_err(sql_err(op()))?,
                        row.get(2).map_err(sql_err(op()))?,
                    );
                }
            }
        }
        self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO site_block_stories (site_id, fp, sid)
                 SELECT ?1, j.value, ?2 FROM json_each(?3) j",
            )
            .and_then(|mut s| s.execute(params![site_id, sid, list]))
            .map_err(sql_err(op()))?;
        let mut before = Vec::with_capacity(r.blocks.len());
        for ((b, &fp), &(few, present)) in r.blocks.iter().zip(&fps).zip(&probed) {
            let (added, few) = record::block_after_record(few, present);
            let now = if few < 2 {
                few
            } else {
                self.count_block(site_id, fp, added, &b.sample, &op())?
            };
            before.push(record::stories_before(now, added));
        }
        Ok(before)
    }

    /// In how many stories of the site a block seen in two or more is now,
    /// keeping its count in `site_blocks`; `added` says whether this record
    /// added it to one more.
    fn count_block(
        &mut self,
        site_id: i64,
        fp: i64,
        added: bool,
        sample: &str,
        op: &str,
    ) -> Result<i64, StoreError> {
        let counted: Option<i64> = self
            .tx
            .prepare_cached("SELECT stories FROM site_blocks WHERE site_id = ? AND fp = ?")
            .and_then(|mut s| {
                s.query_row(params![site_id, fp], |row| row.get(0))
                    .optional()
            })
            .map_err(sql_err(op))?;
        let now = counted.map_or(2, |n| n + i64::from(added));
        if added {
            self.tx
                .prepare_cached(
                    "INSERT INTO site_blocks (site_id, fp, stories, sample) VALUES (?, ?, ?, ?)
                     ON CONFLICT (site_id, fp) DO UPDATE SET stories = excluded.stories",
                )
                .and_then(|mut s| s.execute(params![site_id, fp, now, sample]))
                .map_err(sql_err(op))?;
        }
        Ok(now)
    }

    /// The site's id, adding the site (or its new name) when needed.
    fn site_id(&mut self, key: &str, name: &str, ids: &mut SiteIds) -> Result<i64, StoreError> {
        if let Some(&id) = ids.get(key) {
            return Ok(id);
        }
        let op = || format!("site {key}");
        let known: Option<(i64, String)> = self
            .tx
            .prepare_cached("SELECT site_id, name FROM sites WHERE key = ?")
            .and_then(|mut s| {
                s.query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(sql_err(op()))?;
        let id = match known {
            Some((id, known_name)) => {
                if known_name != name {
                    self.tx
                        .prepare_cached("UPDATE sites SET name = ? WHERE site_id = ?")
                        .and_then(|mut s| s.execute(params![name, id]))
                        .map_err(sql_err(op()))?;
                }
                id
            }
            None => self
                .tx
                .prepare_cached("INSERT INTO sites (key, name) VALUES (?, ?) RETURNING site_id")
                .and_then(|mut s| s.query_row(params![key, name], |r| r.get(0)))
                .map_err(sql_err(op()))?,
        };
        ids.insert(key.to_owned(), id);
        Ok(id)
    }
}

/// Fingerprints of the site's blocks seen in `min_stories` stories or more.
pub(super) fn boilerplate(
    conn: &Connection,
    site: &str,
    min_stories: u64,
) -> Result<HashSet<u64>, StoreError> {
    let op = || format!("boilerplate of site {site}");
    let mut stmt = conn
        .prepare_cached(
            "SELECT b.fp FROM sites s JOIN site_blocks b ON b.site_id = s.site_id
             WHERE s.key = ? AND b.stories >= ?",
        )
        .map_err(sql_err(op()))?;
    stmt.query_map(params![site, min_stories as i64], |r| r.get::<_, i64>(0))
        .and_then(|rows| rows.map(|fp| fp.map(|fp| fp as u64)).collect())
        .map_err(sql_err(op()))
}

/// Every site with its counts and learned blocks, by key.
pub(super) fn sites(conn: &Connection, min_stories: u64) -> Result<Vec<SiteInfo>, StoreError> {
    let op = "list sites";
    // One snapshot for the sites and their blocks.
    let tx = conn.unchecked_transaction().map_err(sql_err(op))?;
    let rows: Vec<(i64, String, String, i64, i64)> = tx
        .prepare(
            "SELECT s.site_id, s.key, s.name, count(a.article_id), count(DISTINCT a.sid)
               FROM sites s LEFT JOIN site_articles a ON a.site_id = s.site_id
              GROUP BY s.site_id HAVING count(a.article_id) > 0 ORDER BY s.key",
        )
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .and_then(|rows| rows.collect())
        })
        .map_err(sql_err(op))?;
    let mut out = Vec::with_capacity(rows.len());
    for (site_id, site, name, articles, stories) in rows {
        let learned = tx
            .prepare_cached(
                "SELECT fp, stories, sample FROM site_blocks WHERE site_id = ? AND stories >= ?
                 ORDER BY stories DESC, sample",
            )
            .and_then(|mut s| {
                s.query_map(params![site_id, min_stories as i64], |r| {
                    Ok(LearnedBlock {
                        fingerprint: r.get::<_, i64>(0)? as u64,
                        stories: r.get::<_, i64>(1)?.max(0) as u64,
                        sample: r.get(2)?,
                    })
                })
                .and_then(|rows| rows.collect())
            })
            .map_err(sql_err(op))?;
        out.push(SiteInfo {
            site,
            name,
            articles: articles.max(0) as u64,
            stories: stories.max(0) as u64,
            learned,
        });
    }
    tx.finish().map_err(sql_err(op))?;
    Ok(out)
}
