//! [`PostgresStore`]: the store on a PostgreSQL server, for deployments that
//! outgrow one machine: several `serve` processes on one database.
//!
//! The [`Store`] trait is synchronous (callers run it on blocking threads,
//! as with SQLite), while the client, `tokio-postgres` pooled by
//! `deadpool-postgres`, is async. The store owns a one-thread tokio runtime
//! that drives its connections; each call runs its future to completion on
//! the calling thread with that runtime entered, so it works from a
//! blocking thread, a plain thread or a test alike.
//!
//! Across processes:
//! - **One writer at a time.** Every write transaction first takes a
//!   transaction-scoped advisory lock, so upserts, dedup and retention see
//!   the same serial order as on SQLite, whichever instance writes.
//! - **Generation push.** A write that changed stories bumps `meta.generation`
//!   and sends it with `NOTIFY` in the same transaction (delivered on
//!   commit); every instance listens on its own connection and moves its
//!   generation on, so its feed cache sees another instance's write at once,
//!   without a query per request.
//! - **Lead.** [`Store::lead`] holds a session advisory lock: exactly one
//!   instance polls upstream feeds and applies retention; when it dies its
//!   session ends, the lock is free, and the next instance to ask takes it.
//!
//! A `search_path` in the URL (`?options=-csearch_path%3Dname`) puts the
//! store in that schema (created if missing): locks and notifications are
//! scoped to it, so several stores can share one database.

mod pending;
mod read;
mod schema;
mod sites;
mod websub;
mod write;

use std::collections::HashSet;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::dedup::WindowIndex;
use super::{
    Outcome, Page, Query, Retention, SiteBlocks, SiteInfo, Store, StoreError, Story, TopicStats,
};
use crate::model::Article;

pub use schema::MIGRATIONS;

/// Pooled connections per process: readers and the writer share them.
const POOL_SIZE: usize = 16;
/// How long a call waits for a pooled connection, or for a new one.
const POOL_WAIT: Duration = Duration::from_secs(30);
/// How long the listener waits before reconnecting after a lost connection.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

pub struct PostgresStore {
    /// The database address without the password, for messages.
    location: String,
    config: tokio_postgres::Config,
    pool: Pool,
    /// Drives the connections. `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    /// The store's schema, which scopes its locks and notifications.
    schema: String,
    writer: Mutex<Writer>,
    generation: Arc<AtomicU64>,
    /// The session holding (or trying for) the lead, and whether it holds it.
    lead: tokio::sync::Mutex<Option<(tokio_postgres::Client, bool)>>,
    /// See `read::SEARCH_SORT_MAX`.
    search_sort_max: i64,
}

/// The writer: its own connection, driven by a one-thread runtime on the
/// calling thread itself (`Runtime::block_on`), so a statement's round
/// trip costs no thread hand-over. Through the pool's runtime thread, the
/// hand-overs took a whole core of the client during a bulk ingest (perf:
/// 57% of its samples in task switches); driven here, the client uses a
/// fifth of a core for the same rate, which PostgreSQL's own work bounds.
struct Writer {
    runtime: Option<tokio::runtime::Runtime>,
    conn: Option<WriterConn>,
    state: WriterState,
}

pub(super) struct WriterConn {
    pub(super) client: tokio_postgres::Client,
    /// Prepared statements by SQL text.
    pub(super) statements: std::collections::HashMap<String, tokio_postgres::Statement>,
}

/// What the writer caches about the stored stories between transactions.
#[derive(Default)]
pub(super) struct WriterState {
    /// Fingerprints by time for duplicate search; dropped whenever another
    /// process (or a failed transaction) may have made it stale.
    pub(super) window: Option<WindowIndex>,
    /// The generation after this process's last write: any other value at
    /// the start of a transaction means another instance wrote.
    pub(super) generation: i64,
    /// The last change time handed out, in µs.
    pub(super) clock: i64,
}

pub(crate) fn pg_err(op: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    let op = op.into();
    move |source| {
        if source.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL) {
            StoreError::Full { op }
        } else {
            StoreError::backend(op, source)
        }
    }
}

fn pool_err(op: &str) -> impl FnOnce(deadpool_postgres::PoolError) -> StoreError + '_ {
    move |source| StoreError::backend(format!("{op}: database connection"), source)
}

/// `postgres://user@host:port/db`: the address without secrets.
fn location(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, p)| match h {
            tokio_postgres::config::Host::Tcp(h) => format!("{h}:{p}"),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    format!(
        "postgres://{}@{}/{}",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

/// A quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL or a
    /// key=value string) and migrates its schema.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let config = tokio_postgres::Config::from_str(url).map_err(|e| {
            StoreError::open(
                "the database URL",
                format!("not a PostgreSQL connection string ({e})"),
            )
        })?;
        let location = location(&config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("topicfeed-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::open(&location, e))?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            let _entered = runtime.enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(POOL_WAIT))
                .create_timeout(Some(POOL_WAIT))
                .build()
                .map_err(|e| StoreError::open(&location, e))?
        };
        let writer_runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::open(&location, e))?;
        let mut store = PostgresStore {
            location,
            config,
            pool,
            runtime: Some(runtime),
            schema: String::new(),
            writer: Mutex::new(Writer {
                runtime: Some(writer_runtime),
                conn: None,
                state: WriterState::default(),
            }),
            generation: Arc::new(AtomicU64::new(0)),
            lead: tokio::sync::Mutex::new(None),
            search_sort_max: read::SEARCH_SORT_MAX,
        };
        let (schema, generation) = store.run(store.prepare())?;
        store.schema = schema;
        store.generation.store(generation, Ordering::Relaxed);
        store.listen();
        Ok(store)
    }

    /// Sets how many keyword matches are sorted before the ordered scan
    /// takes over. Only for tests that must exercise both plans.
    #[doc(hidden)]
    pub fn with_search_sort_max(mut self, n: i64) -> PostgresStore {
        self.search_sort_max = n;
        self
    }

    /// The database address, without the password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Runs `f` to completion on this thread, the store's runtime entered
    /// (new connections register with it, and it drives them).
    fn run<F: Future>(&self, f: F) -> F::Output {
        let _entered = self.runtime.as_ref().map(|r| r.enter());
        futures_executor::block_on(f)
    }

    /// Finds (or creates) the schema, migrates it; returns the schema and
    /// the stored generation.
    async fn prepare(&self) -> Result<(String, u64), StoreError> {
        let open = |e: tokio_postgres::Error| StoreError::open(&self.location, e);
        let mut client = self
            .pool
            .get()
            .await
            .map_err(|e| StoreError::open(&self.location, e))?;
        // Instances starting together on a new store: one creates it, the
        // others wait (CREATE … IF NOT EXISTS is not safe against a race).
        let tx = client.transaction().await.map_err(open)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('topicfeed:open:' || current_setting('search_path')))",
            &[],
        )
        .await
        .map_err(open)?;
        let schema: Option<String> = tx
            .query_one("SELECT current_schema()", &[])
            .await
            .map_err(open)?
            .get(0);
        let schema = match schema {
            Some(s) => s,
            None => {
                // The search_path names a schema that does not exist yet.
                let path: String = tx
                    .query_one("SHOW search_path", &[])
                    .await
                    .map_err(open)?
                    .get(0);
                let first = path
                    .split(',')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .trim_matches('"');
                if first.is_empty() || first.starts_with('$') {
                    return Err(StoreError::open(
                        &self.location,
                        format!("search_path {path:?} names no schema to create the store in"),
                    ));
                }
                tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", ident(first)))
                    .await
                    .map_err(open)?;
                first.to_owned()
            }
        };
        tx.batch_execute(schema::VERSION_TABLE)
            .await
            .map_err(open)?;
        tx.commit().await.map_err(open)?;
        schema::migrate(&mut client, &self.location, &schema).await?;
        let generation = read::generation(&client).await?;
        Ok((schema, generation))
    }

    /// The notification channel of this store's schema.
    fn channel(&self) -> String {
        format!("topicfeed:{}", self.schema)
    }

    /// Starts the task that listens for other instances' writes.
    fn listen(&self) {
        let Some(rt) = &self.runtime else { return };
        rt.spawn(listener(
            self.config.clone(),
            self.channel(),
            self.generation.clone(),
        ));
    }

    fn note_generation(&self, g: Option<u64>) {
        if let Some(g) = g {
            self.generation.fetch_max(g, Ordering::Relaxed);
        }
    }

    /// Number of stories stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.run(async {
            let client = self.pool.get().await.map_err(pool_err("count"))?;
            read::count(&client).await
        })
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // A runtime may not be dropped inside another's async context;
        // shutting it down in the background is allowed anywhere.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
        let writer = self.writer.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(rt) = writer.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Keeps a connection listening on `channel` and moves `generation` to
/// every value notified; reconnects when the connection is lost, reading
/// the generation again so nothing notified meanwhile is missed.
async fn listener(config: tokio_postgres::Config, channel: String, generation: Arc<AtomicU64>) {
    use futures_util::StreamExt;
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let generation_seen = generation.clone();
                let mut messages =
                    futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                let driver = tokio::spawn(async move {
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                                if let Ok(g) = n.payload().parse::<u64>() {
                                    generation_seen.fetch_max(g, Ordering::Relaxed);
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "store notifications lost; reconnecting");
                                break;
                            }
                        }
                    }
                });
                let listening = async {
                    client
                        .batch_execute(&format!("LISTEN {}", ident(&channel)))
                        .await?;
                    let row = client
                        .query_one("SELECT value FROM meta WHERE key = 'generation'", &[])
                        .await?;
                    let g: i64 = row.try_get(0)?;
                    generation.fetch_max(g.max(0) as u64, Ordering::Relaxed);
                    Ok::<_, tokio_postgres::Error>(())
                };
                match listening.await {
                    Ok(()) => {
                        let _ = driver.await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for store changes");
                        driver.abort();
                    }
                }
                drop(client);
            }
            Err(e) => tracing::warn!(error = %e, "cannot connect to listen for store changes"),
        }
        tokio::time::sleep(LISTEN_RETRY).await;
    }
}

impl Store for PostgresStore {
    fn upsert_batch(
        &self,
        articles: &[Article],
        now: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, StoreError> {
        if articles.is_empty() {
            return Ok(Vec::new());
        }
        write::upsert_batch(self, articles, now)
    }

    fn query(&self, q: &Query) -> Result<Page, StoreError> {
        self.run(async {
            let mut client = self.pool.get().await.map_err(pool_err("query"))?;
            read::query(&mut client, q, self.search_sort_max).await
        })
    }

    fn get(&self, id: &str) -> Result<Option<Story>, StoreError> {
        self.run(async {
            let mut client = self.pool.get().await.map_err(pool_err("get"))?;
            read::get_where(
                &mut client,
                "SELECT sid FROM sources WHERE article_id = $1",
                id,
            )
            .await
        })
    }

    fn get_by_url(&self, url: &str) -> Result<Option<Story>, StoreError> {
        self.run(async {
            let mut client = self.pool.get().await.map_err(pool_err("get"))?;
            // The first-seen copy with that canonical URL decides the story.
            read::get_where(
                &mut client,
                "SELECT sid FROM sources WHERE url = $1 ORDER BY seen LIMIT 1",
                url,
            )
            .await
        })
    }

    fn topic_stats(&self) -> Result<Vec<TopicStats>, StoreError> {
        self.run(async {
            let client = self.pool.get().await.map_err(pool_err("topic stats"))?;
            read::topic_stats(&client).await
        })
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
        write::replace_cleaned(self, articles, now)
    }

    fn site_boilerplate(&self, site: &str, min_stories: u64) -> Result<HashSet<u64>, StoreError> {
        self.run(async {
            let client = self.pool.get().await.map_err(pool_err("boilerplate"))?;
            sites::boilerplate(&client, site, min_stories).await
        })
    }

    fn record_site_blocks(&self, records: &[SiteBlocks]) -> Result<Vec<Vec<u64>>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        write::record_site_blocks(self, records)
    }

    fn sites(&self, min_stories: u64) -> Result<Vec<SiteInfo>, StoreError> {
        self.run(async {
            let mut client = self.pool.get().await.map_err(pool_err("list sites"))?;
            sites::sites(&mut client, min_stories).await
        })
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
        // Moved by this process's writes at once and by other instances'
        // through the listener: no query per feed request.
        self.generation.load(Ordering::Relaxed)
    }

    fn lead(&self) -> Result<bool, StoreError> {
        self.run(self.try_lead())
    }

    fn shared(&self) -> bool {
        true
    }
}

impl PostgresStore {
    /// Holds the store's lead on a session of its own: true while this
    /// process holds it (checked on the live session), false while another
    /// process does.
    async fn try_lead(&self) -> Result<bool, StoreError> {
        let op = "lead";
        let mut slot = self.lead.lock().await;
        if let Some((client, held)) = slot.as_ref() {
            if !client.is_closed() {
                if *held {
                    // The session is what holds the lock: make sure it lives.
                    if client.simple_query("SELECT 1").await.is_ok() {
                        return Ok(true);
                    }
                } else {
                    let got = try_lock(client, &self.channel())
                        .await
                        .map_err(pg_err(op))?;
                    *slot = slot.take().map(|(c, _)| (c, got));
                    return Ok(got);
                }
            }
            // The session is gone, and the lock with it.
            *slot = None;
        }
        let (client, connection) = self.config.connect(NoTls).await.map_err(pg_err(op))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let got = try_lock(&client, &self.channel())
            .await
            .map_err(pg_err(op))?;
        *slot = Some((client, got));
        Ok(got)
    }
}

/// `pg_try_advisory_lock` on the key of this store's lead.
async fn try_lock(
    client: &tokio_postgres::Client,
    channel: &str,
) -> Result<bool, tokio_postgres::Error> {
    let key = format!("{channel}:lead");
    client
        .query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&key])
        .await
        .map(|r| r.get(0))
}
