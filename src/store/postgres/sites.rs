//! Per-site block records on PostgreSQL: the same tables and counting as
//! `store::sqlite::sites` (a `site_blocks` row only for blocks seen in two
//! or more stories of a site; a trigger lowers the count on deletes).

use std::collections::{HashMap, HashSet};

use deadpool_postgres::GenericClient;

use super::pg_err;
use super::write::{Tx, get};
use crate::store::{LearnedBlock, SiteBlocks, SiteInfo, StoreError, record};

/// Site ids looked up in one transaction, by key.
pub(super) type SiteIds = HashMap<String, i64>;

impl Tx<'_> {
    /// Records one article's blocks; returns each block's story count
    /// before this record (see `Store::record_site_blocks`).
    pub(super) async fn record_site_blocks(
        &mut self,
        r: &SiteBlocks,
        ids: &mut SiteIds,
    ) -> Result<Vec<u64>, StoreError> {
        let op = &format!("record site blocks of {}", r.article_id);
        let Some(row) = self
            .opt("SELECT sid FROM stories WHERE id = $1", &[&r.story_id], op)
            .await?
        else {
            return Ok(vec![0; r.blocks.len()]);
        };
        let sid: i64 = get(&row, 0, op)?;
        let site_id = self.site_id(&r.site, &r.name, ids).await?;
        self.exec(
            "INSERT INTO site_articles (article_id, site_id, sid) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&r.article_id, &site_id, &sid],
            op,
        )
        .await?;
        // Two statements for all the article's blocks, not two per block
        // (as on SQLite): most blocks are prose seen once.
        let fps: Vec<i64> = r.blocks.iter().map(|b| b.fingerprint as i64).collect();
        let mut probed = vec![(0i64, false); fps.len()];
        for row in self
            .rows(
                "SELECT f.i,
                        (SELECT count(*) FROM (SELECT 1 FROM site_block_stories s
                           WHERE s.site_id = $1 AND s.fp = f.fp LIMIT 2) AS few),
                        EXISTS (SELECT 1 FROM site_block_stories s
                           WHERE s.site_id = $1 AND s.fp = f.fp AND s.sid = $2)
                   FROM unnest($3::bigint[]) WITH ORDINALITY AS f(fp, i)",
                &[&site_id, &sid, &fps],
                op,
            )
            .await?
        {
            let i: i64 = get(&row, 0, op)?;
            if let Some(slot) = usize::try_from(i - 1).ok().and_then(|i| probed.get_mut(i)) {
                *slot = (get(&row, 1, op)?, get(&row, 2, op)?);
            }
        }
        self.exec(
            "INSERT INTO site_block_stories (site_id, fp, sid)
             SELECT $1, f.fp, $2 FROM unnest($3::bigint[]) AS f(fp)
             ON CONFLICT DO NOTHING",
            &[&site_id, &sid, &fps],
            op,
        )
        .await?;
        let mut before = Vec::with_capacity(r.blocks.len());
        for ((b, &fp), &(few, present)) in r.blocks.iter().zip(&fps).zip(&probed) {
            let (added, few) = record::block_after_record(few, present);
            let now = if few < 2 {
                few
            } else {
                self.count_block(site_id, fp, added, &b.sample, op).await?
            };
            before.push(record::stories_before(now, added));
        }
        Ok(before)
    }

    /// In how many stories of the site a block seen in two or more is now,
    /// keeping its count in `site_blocks`; `added` says whether this record
    /// added it to one more.
    async fn count_block(
        &mut self,
        site_id: i64,
        fp: i64,
        added: bool,
        sample: &str,
        op: &str,
    ) -> Result<i64, StoreError> {
        let counted: Option<i64> = match self
            .opt(
                "SELECT stories FROM site_blocks WHERE site_id = $1 AND fp = $2",
                &[&site_id, &fp],
                op,
            )
            .await?
        {
            Some(r) => Some(get(&r, 0, op)?),
            None => None,
        };
        let now = counted.map_or(2, |n| n + i64::from(added));
        if added {
            self.exec(
                "INSERT INTO site_blocks (site_id, fp, stories, sample) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (site_id, fp) DO UPDATE SET stories = excluded.stories",
                &[&site_id, &fp, &now, &sample],
                op,
            )
            .await?;
        }
        Ok(now)
    }

    /// The site's id, adding the site (or its new name) when needed.
    async fn site_id(
        &mut self,
        key: &str,
        name: &str,
        ids: &mut SiteIds,
    ) -> Result<i64, StoreError> {
        if let Some(&id) = ids.get(key) {
            return Ok(id);
        }
        let op = &format!("site {key}");
        let id = match self
            .opt(
                "SELECT site_id, name FROM sites WHERE key = $1",
                &[&key],
                op,
            )
            .await?
        {
            Some(row) => {
                let id: i64 = get(&row, 0, op)?;
                if get::<String>(&row, 1, op)? != name {
                    self.exec(
                        "UPDATE sites SET name = $1 WHERE site_id = $2",
                        &[&name, &id],
                        op,
                    )
                    .await?;
                }
                id
            }
            None => get(
                &self
                    .one(
                        "INSERT INTO sites (key, name) VALUES ($1, $2) RETURNING site_id",
                        &[&key, &name],
                        op,
                    )
                    .await?,
                0,
                op,
            )?,
        };
        ids.insert(key.to_owned(), id);
        Ok(id)
    }
}

/// Fingerprints of the site's blocks seen in `min_stories` stories or more.
pub(super) async fn boilerplate(
    client: &impl GenericClient,
    site: &str,
    min_stories: u64,
) -> Result<HashSet<u64>, StoreError> {
    let op = &format!("boilerplate of site {site}");
    client
        .query(
            "SELECT b.fp FROM sites s JOIN site_blocks b ON b.site_id = s.site_id
             WHERE s.key = $1 AND b.stories >= $2",
            &[&site, &(min_stories as i64)],
        )
        .await
        .map_err(pg_err(op))?
        .iter()
        .map(|r| get::<i64>(r, 0, op).map(|fp| fp as u64))
        .collect()
}

/// Every site with its counts and learned blocks, by key, in one snapshot.
pub(super) async fn sites(
    client: &mut deadpool_postgres::Object,
    min_stories: u64,
) -> Result<Vec<SiteInfo>, StoreError> {
    let op = "list sites";
    let tx = super::read::snapshot(client, op).await?;
    let rows = tx
        .query(
            "SELECT s.site_id, s.key, s.name, count(a.article_id), count(DISTINCT a.sid)
               FROM sites s LEFT JOIN site_articles a ON a.site_id = s.site_id
              GROUP BY s.site_id HAVING count(a.article_id) > 0 ORDER BY s.key",
            &[],
        )
        .await
        .map_err(pg_err(op))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let site_id: i64 = get(&r, 0, op)?;
        let learned = tx
            .query(
                "SELECT fp, stories, sample FROM site_blocks WHERE site_id = $1 AND stories >= $2
                 ORDER BY stories DESC, sample COLLATE \"C\"",
                &[&site_id, &(min_stories as i64)],
            )
            .await
            .map_err(pg_err(op))?
            .iter()
            .map(|b| {
                Ok(LearnedBlock {
                    fingerprint: get::<i64>(b, 0, op)? as u64,
                    stories: get::<i64>(b, 1, op)?.max(0) as u64,
                    sample: get(b, 2, op)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        out.push(SiteInfo {
            site: get(&r, 1, op)?,
            name: get(&r, 2, op)?,
            articles: get::<i64>(&r, 3, op)?.max(0) as u64,
            stories: get::<i64>(&r, 4, op)?.max(0) as u64,
            learned,
        });
    }
    tx.commit().await.map_err(pg_err(op))?;
    Ok(out)
}
