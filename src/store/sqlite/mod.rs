//! [`SqliteStore`]: the embedded store, one SQLite file in the data directory.
//!
//! One writer connection behind a mutex (SQLite admits one writer at a time
//! anyway) and a small pool of reader connections. In WAL mode readers see
//! the last commit and are never blocked by the writer, so serving goes on
//! while ingest or retention write.

mod open;
mod read;
mod schema;
mod sites;
mod websub;
mod write;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use self::open::{ReadMode, open_writer, read_only_may_help, want_of_space};
use super::dedup::WindowIndex;
use super::{
    Outcome, Page, Query, Retention, SiteBlocks, SiteInfo, Store, StoreError, Story, TopicStats,
};
use crate::model::Article;

pub use schema::MIGRATIONS;

/// The database file inside the data directory.
pub const DB_FILE: &str = "topicfeed.db";

/// Idle reader connections kept for reuse; more are opened under load and closed after.
const POOL_SIZE: usize = 8;

/// How long a connection waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How stale another process's writes may look to [`Store::generation`].
const GENERATION_RECHECK_MS: u64 = 500;

pub struct SqliteStore {
    path: PathBuf,
    /// `None` while the store is read-only (see [`ReadMode`]): every write
    /// first tries to open it, so writes resume as soon as space returns.
    writer: Mutex<Option<Writer>>,
    /// Pooled readers, each tagged with the [`ReadMode`] it was opened in.
    readers: Mutex<Vec<(Connection, u8)>>,
    /// A [`ReadMode`] as u8: how new reader connections open the file.
    read_mode: AtomicU8,
    /// Last generation seen; what [`Store::generation`] falls back to.
    generation: AtomicU64,
    /// When the generation was last read from the file (ms since `opened`):
    /// a feed request asks for it every time, and reading SQLite on every
    /// poll cost more than the rest of a cached response.
    generation_checked: AtomicU64,
    opened: std::time::Instant,
    /// See `read::FTS_JOIN_MAX`.
    search_join_max: usize,
}

/// The writer connection and what it caches about the stored stories.
struct Writer {
    conn: Connection,
    /// Fingerprints by time for duplicate search; loaded on first use and
    /// dropped whenever it may be stale (another process wrote, or a
    /// transaction failed half-way).
    window: Option<WindowIndex>,
    /// `PRAGMA data_version` after our last transaction: it changes when
    /// another connection commits.
    data_version: i64,
    /// The last change time handed out, in µs (see `Tx::tick`).
    clock: i64,
    /// Whether the store holds legacy rows or item aliases, which an item
    /// may be stored under instead of its own id (`Tx::stored_id`); read on
    /// first use, and again after another connection wrote. Neither is
    /// created after the v5 migration but by claiming a legacy row, so
    /// this writer's own writes never turn it from `false` to `true`.
    adoptable: Option<bool>,
}

pub(crate) fn sql_err(op: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let op = op.into();
    move |source| match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => StoreError::Full { op },
        _ => StoreError::backend(op, source),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir` and migrates its schema.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_at_version(dir, None)
    }

    /// Opens with the schema at `version` migrations at most. Only for tests
    /// of migrations: build an old store, then [`SqliteStore::open`] it.
    #[doc(hidden)]
    pub fn open_at_version(dir: &Path, version: Option<usize>) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let (writer, mode) = match open_writer(&path, version) {
            Ok(w) => (Some(w), ReadMode::ReadWrite),
            // A store that exists can still be read when it cannot be
            // written: a restart on a full disk must not take reads down.
            Err(e) if version.is_none() && path.exists() && read_only_may_help(&e) => {
                match ReadMode::fallback(&path) {
                    Some(mode) => {
                        tracing::warn!(
                            "store {} opened read-only ({e}); writes are refused until it can be written again",
                            path.display()
                        );
                        (None, mode)
                    }
                    None => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let store = SqliteStore {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            read_mode: AtomicU8::new(mode as u8),
            generation: AtomicU64::new(0),
            generation_checked: AtomicU64::new(0),
            opened: std::time::Instant::now(),
            search_join_max: read::FTS_JOIN_MAX,
        };
        let generation = read_generation(&*store.reader()?).map_err(sql_err("read generation"))?;
        store.generation.store(generation, Ordering::Relaxed);
        Ok(store)
    }

    /// Sets how many keyword matches are joined and sorted before the
    /// other search plan takes over. Only for tests that must exercise both.
    #[doc(hidden)]
    pub fn with_search_join_max(mut self, n: usize) -> SqliteStore {
        self.search_join_max = n;
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's own consistency check: `"ok"` when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        let conn = self.reader()?;
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(sql_err("integrity check"))?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(sql_err("integrity check"))?;
        Ok(lines.join("\n"))
    }

    /// Number of stories stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        let conn = self.reader()?;
        conn.query_row("SELECT count(*) FROM stories", [], |r| r.get::<_, i64>(0))
            .map(|n| n.max(0) as u64)
            .map_err(sql_err("count stories"))
    }

    /// The writer slot, holding a writer (opened first if the store was
    /// read-only). Fails with [`StoreError::Full`] while the disk still has
    /// no room.
    fn writer(&self, op: &str) -> Result<MutexGuard<'_, Option<Writer>>, StoreError> {
        // A panic while writing drops its transaction, which rolls back; the
        // connection is fine, only the window cache may be stale.
        let mut guard = self.writer.lock().unwrap_or_else(|poisoned| {
            let mut w = poisoned.into_inner();
            if let Some(w) = w.as_mut() {
                w.window = None;
            }
            w
        });
        if guard.is_none() {
            match open_writer(&self.path, None) {
                Ok(w) => {
                    *guard = Some(w);
                    // Readers opened read-only may not see what is written next.
                    self.read_mode
                        .store(ReadMode::ReadWrite as u8, Ordering::Relaxed);
                    self.readers
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clear();
                    tracing::info!("store {} is writable again", self.path.display());
                }
                Err(e) if want_of_space(&e) => {
                    tracing::debug!("store {} still read-only: {e}", self.path.display());
                    return Err(StoreError::Full { op: op.to_owned() });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(guard)
    }

    fn reader(&self) -> Result<Reader<'_>, StoreError> {
        let mode = self.read_mode.load(Ordering::Relaxed);
        let pooled = {
            let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
            pool.retain(|(_, m)| *m == mode);
            pool.pop()
        };
        let conn = match pooled {
            Some((c, _)) => c,
            None => ReadMode::from_u8(mode).connect_reader(&self.path)?,
        };
        Ok(Reader {
            conn: Some(conn),
            mode,
            pool: &self.readers,
        })
    }
}

/// A pooled reader connection, returned to the pool when dropped.
struct Reader<'a> {
    conn: Option<Connection>,
    mode: u8,
    pool: &'a Mutex<Vec<(Connection, u8)>>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only taken out in drop.
        self.conn
            .as_ref()
            .expect("reader connection present until drop")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < POOL_SIZE {
                pool.push((conn, self.mode));
            }
        }
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "data_version", |r| r.get(0))
}

fn read_generation(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|g| g.max(0) as u64)
}

impl Store for SqliteStore {
    fn upsert_batch(
        &self,
        articles: &[Article],
        now: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, StoreError> {
        if articles.is_empty() {
            return Ok(Vec::new());
        }
        self.write("upsert", |w| {
            articles.iter().map(|a| w.upsert(a, now)).collect()
        })
    }

    fn query(&self, q: &Query) -> Result<Page, StoreError> {
        read::query(&*self.reader()?, q, self.search_join_max)
    }

    fn get(&self, id: &str) -> Result<Option<Story>, StoreError> {
        read::get(&*self.reader()?, id)
    }

    fn get_by_url(&self, url: &str) -> Result<Option<Story>, StoreError> {
        read::get_by_url(&*self.reader()?, url)
    }

    fn topic_stats(&self) -> Result<Vec<TopicStats>, StoreError> {
        read::topic_stats(&*self.reader()?)
    }

    fn story_count(&self) -> Result<u64, StoreError> {
        self.count()
    }

    fn apply_retention(&self, policy: &Retention, now: DateTime<Utc>) -> Result<usize, StoreError> {
        write::apply_retention(self, policy, now)
    }

    fn replace_cleaned(
        &self,
        articles: &[Article],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, StoreError> {
        if articles.is_empty() {
            return Ok(Vec::new());
        }
        self.write("replace cleaned", |w| {
            articles.iter().map(|a| w.replace_cleaned(a, now)).collect()
        })
    }

    fn site_boilerplate(&self, site: &str, min_stories: u64) -> Result<HashSet<u64>, StoreError> {
        sites::boilerplate(&*self.reader()?, site, min_stories)
    }

    fn record_site_blocks(&self, records: &[SiteBlocks]) -> Result<Vec<Vec<u64>>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.write("record site blocks", |w| {
            let mut ids = sites::SiteIds::new();
            records
                .iter()
                .map(|r| w.record_site_blocks(r, &mut ids))
                .collect()
        })
    }

    fn sites(&self, min_stories: u64) -> Result<Vec<SiteInfo>, StoreError> {
        sites::sites(&*self.reader()?, min_stories)
    }

    fn put_subscription(&self, sub: &super::Subscription) -> Result<(), StoreError> {
        self.put_sub(sub)
    }

    fn mark_seen(&self, callback: &str, topic: &str, seen: u64) -> Result<bool, StoreError> {
        self.mark_sub_seen(callback, topic, seen)
    }

    fn delete_subscription(&self, callback: &str, topic: &str) -> Result<bool, StoreError> {
        self.delete_sub(callback, topic)
    }

    fn subscriptions(&self, now: DateTime<Utc>) -> Result<Vec<super::Subscription>, StoreError> {
        self.subs(now)
    }

    fn generation(&self) -> u64 {
        // Writes through this store bump the counter at once. Writes by
        // other processes (a CLI ingest into a served store) are picked up
        // from the file, read at most every GENERATION_RECHECK.
        let now = self.opened.elapsed().as_millis() as u64;
        let checked = self.generation_checked.load(Ordering::Relaxed);
        if now.saturating_sub(checked) < GENERATION_RECHECK_MS
            || self
                .generation_checked
                .compare_exchange(checked, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return self.generation.load(Ordering::Relaxed);
        }
        let stored = self
            .reader()
            .ok()
            .and_then(|c| read_generation(&c).ok())
            .unwrap_or(0);
        self.generation
            .fetch_max(stored, Ordering::Relaxed)
            .max(stored)
    }
}
