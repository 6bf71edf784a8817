//! The running service: wires the stages together and serves.
//!
//! Opens the store, loads `feeds/`, ingests the shipped sample articles
//! (idempotently: a restart stores nothing twice), starts polling the
//! upstream feeds and watching the inboxes of `feeds/sources.toml`, then
//! serves HTTP on the listener the caller bound until `shutdown` resolves.
//! Topic files are re-read when they change; a bad edit is logged and the
//! last good set stays in force. Started from a plain [`ServiceConfig`]
//! whose defaults are written once; the command line is only one way to
//! fill it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::classify::LiveTopics;
use crate::config::ConfigError;
use crate::http::{self, AppState};
use crate::pipeline::{self, Ingester};
use crate::sources::{self, Poller, SourceError};
use crate::store::{Retention, Store, StoreError};

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The store's directory (and local state's, with a database too).
    pub data: PathBuf,
    /// A PostgreSQL URL: the store lives there, shared with other instances.
    pub database: Option<String>,
    /// Topic files and `sources.toml`.
    pub feeds: PathBuf,
    /// Sample articles ingested at start (never moved or changed); `None`: none.
    pub samples: Option<PathBuf>,
    /// Poll the upstream feeds and watch the inboxes of `sources.toml`.
    pub sources: bool,
    pub retention: Retention,
    pub http: http::Config,
}

impl ServiceConfig {
    pub const DEFAULT_DATA: &str = "data";
    pub const DEFAULT_FEEDS: &str = "feeds";
    pub const DEFAULT_SAMPLES: &str = "examples/articles";
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            data: Self::DEFAULT_DATA.into(),
            database: None,
            feeds: Self::DEFAULT_FEEDS.into(),
            samples: Some(Self::DEFAULT_SAMPLES.into()),
            sources: true,
            retention: Retention::default(),
            http: http::Config::default(),
        }
    }
}

/// Why the service could not start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid topic configuration:\n  {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Topics(Vec<ConfigError>),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Sources(#[from] SourceError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the service on `listener` until `shutdown` resolves. `ready` is
/// called once start-up work (samples, sources) is done and requests are
/// answered from then on. Must run inside a multi-threaded tokio runtime.
pub async fn run(
    mut config: ServiceConfig,
    listener: tokio::net::TcpListener,
    ready: impl FnOnce(),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServiceError> {
    let topics = Arc::new(LiveTopics::load(&config.feeds).map_err(ServiceError::Topics)?);
    let store: Arc<dyn Store> = {
        let (dir, database) = (config.data.clone(), config.database.clone());
        // PostgreSQL's client blocks its thread while it connects.
        tokio::task::spawn_blocking(move || crate::store::open(&dir, database.as_deref()))
            .await
            .map_err(|e| ServiceError::Io(std::io::Error::other(e)))??
            .into()
    };
    let sources_config = if config.sources {
        sources::config::load(&config.feeds)?
    } else {
        sources::SourcesConfig::default()
    };
    // `[outbound] allow` is the operator's word on every fetch of a
    // stranger's URL, the hub's callbacks too, whether or not sources run.
    config.http.websub.outbound_allow = if config.sources {
        sources_config.outbound.allow.clone()
    } else {
        match sources::config::load(&config.feeds) {
            Ok(c) => c.outbound.allow,
            Err(e) => {
                tracing::warn!(error = %e, "sources.toml unreadable: the WebSub hub reaches public addresses only");
                Vec::new()
            }
        }
    };
    if let Some(samples) = &config.samples {
        let (store, topics, dir) = (store.clone(), topics.clone(), samples.clone());
        let _ = tokio::task::spawn_blocking(move || ingest_samples(&dir, store.as_ref(), &topics))
            .await;
    }
    let mut state = AppState::new(store.clone(), topics.clone(), config.http.clone());
    let mut chores = Chores {
        store: store.clone(),
        poller: None,
        retention: None,
    };
    if config.sources {
        let (health, poller) = start_sources(&config, sources_config, &store, &topics)?;
        state.sources = health;
        chores.poller = Some(poller);
    }
    let hub_jobs = if config.http.websub.enabled {
        match http::websub::Hub::new(&config.http.websub) {
            Ok((hub, jobs)) => {
                state.websub = Some(hub);
                Some(jobs)
            }
            Err(e) => {
                // Feeds name a hub only when one runs.
                tracing::error!(error = %e, "WebSub hub not started; feeds name no hub");
                None
            }
        }
    } else {
        None
    };
    let state = Arc::new(state);
    if let Some(jobs) = hub_jobs {
        tokio::spawn(http::websub::run(state.clone(), jobs));
    }
    tokio::spawn(watch_topics(config.feeds.clone(), topics));
    let retention = config.retention.clone();
    if retention.max_age.is_some() || retention.max_per_topic.is_some() {
        chores.retention = Some(retention);
    }
    tokio::spawn(chores.lead());
    tracing::info!(addr = ?listener.local_addr().ok(), "serving");
    ready();
    http::serve(listener, state, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Spawns one watcher per inbox, and makes the feed poller, which runs
/// while this instance leads ([`Chores`]). An inbox that cannot be created
/// is logged, not fatal.
fn start_sources(
    service: &ServiceConfig,
    config: sources::SourcesConfig,
    store: &Arc<dyn Store>,
    topics: &Arc<LiveTopics>,
) -> Result<(sources::HealthBoard, PollerChore), ServiceError> {
    sources::fetch::install_crypto_provider();
    let sink = Arc::new(Ingester::new(store.clone(), topics.clone()));
    let poller = Arc::new(Poller::new(
        sink.clone(),
        &service.data,
        sources::PollOptions::with_outbound(config.outbound.clone()),
    )?);
    let health = poller.health();
    for inbox in &config.inboxes {
        let inbox = sources::inbox::Inbox::new(
            inbox.path.clone(),
            sink.clone(),
            sources::inbox::InboxOptions::default(),
        );
        tokio::spawn(async move {
            if let Err(e) = inbox.run().await {
                tracing::error!(error = %e, "inbox not watched");
            }
        });
    }
    tracing::info!(
        sources = config.sources.len(),
        inboxes = config.inboxes.len(),
        "sources started"
    );
    Ok((
        health,
        PollerChore {
            poller,
            feeds: service.feeds.clone(),
            config,
        },
    ))
}

/// How often an instance that does not lead asks for the lead again: the
/// longest the store-wide chores stop when the leader dies.
const LEAD_RECHECK: Duration = Duration::from_secs(2);

/// The store-wide chores, which exactly one instance on a store runs:
/// polling the upstream feeds (two pollers would fetch every feed twice)
/// and retention. On SQLite this process always leads; on a shared
/// PostgreSQL store one instance does, and another takes over when it dies.
struct Chores {
    store: Arc<dyn Store>,
    poller: Option<PollerChore>,
    retention: Option<Retention>,
}

struct PollerChore {
    poller: Arc<Poller>,
    feeds: PathBuf,
    config: sources::SourcesConfig,
}

impl Chores {
    async fn lead(self) {
        if self.poller.is_none() && self.retention.is_none() {
            return;
        }
        if !self.store.shared() {
            // This process owns the store: it leads for good, no need to ask.
            for task in self.start() {
                let _ = task.await;
            }
            return;
        }
        let mut running: Vec<tokio::task::JoinHandle<()>> = Vec::new();
        loop {
            let store = self.store.clone();
            let leads = match tokio::task::spawn_blocking(move || store.lead()).await {
                Ok(Ok(leads)) => leads,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cannot tell whether this instance leads; chores paused");
                    false
                }
                Err(e) => {
                    tracing::error!(error = %e, "lead check failed");
                    false
                }
            };
            if leads && running.is_empty() {
                tracing::info!("this instance leads: it polls the sources and applies retention");
                running = self.start();
            } else if !leads && !running.is_empty() {
                tracing::warn!("this instance no longer leads: polling and retention stop here");
                for task in running.drain(..) {
                    task.abort();
                }
            }
            tokio::time::sleep(LEAD_RECHECK).await;
        }
    }

    fn start(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = Vec::new();
        if let Some(p) = &self.poller {
            tasks.push(tokio::spawn(
                p.poller.clone().run(p.feeds.clone(), p.config.clone()),
            ));
        }
        if let Some(policy) = &self.retention {
            tasks.push(tokio::spawn(apply_retention(
                self.store.clone(),
                policy.clone(),
            )));
        }
        tasks
    }
}

fn ingest_samples(dir: &Path, store: &dyn Store, topics: &LiveTopics) {
    if !dir.is_dir() {
        tracing::warn!(dir = %dir.display(), "no sample directory; starting without samples");
        return;
    }
    let summary = pipeline::ingest_paths(
        store,
        &topics.get(),
        &[dir.to_path_buf()],
        &pipeline::BatchOptions::default(),
        |_| {},
    );
    tracing::info!(dir = %dir.display(), %summary, "samples ingested");
    for f in &summary.failed {
        tracing::warn!(file = %f.subject, reason = %f.reason, "sample not ingested");
    }
}

/// Re-reads the topic files when one is written, added, renamed or removed.
async fn watch_topics(dir: PathBuf, topics: Arc<LiveTopics>) {
    let mut watch = crate::watch::DirWatch::new(&dir, |p| {
        p.extension().is_some_and(|e| e == "toml")
            && p.file_name()
                .is_none_or(|n| n != crate::sources::config::SOURCES_FILE)
    });
    loop {
        if watch.changed(Duration::from_secs(3600)).await == crate::watch::Wake::Timeout {
            continue;
        }
        let topics = topics.clone();
        match tokio::task::spawn_blocking(move || topics.reload()).await {
            Ok(Ok(n)) => tracing::info!(topics = n, "topic files reloaded"),
            Ok(Err(errors)) => {
                for e in errors {
                    tracing::error!(error = %e, "topic files not reloaded; keeping the last good set");
                }
            }
            Err(e) => tracing::error!(error = %e, "topic reload failed"),
        }
    }
}

async fn apply_retention(store: Arc<dyn Store>, policy: Retention) {
    loop {
        let s = store.clone();
        let p = policy.clone();
        match tokio::task::spawn_blocking(move || s.apply_retention(&p, chrono::Utc::now())).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(deleted = n, "retention applied"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "retention failed"),
            Err(e) => tracing::error!(error = %e, "retention task failed"),
        }
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
}
