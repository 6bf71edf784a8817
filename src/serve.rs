//! `topicfeed serve`: wires the stages into a running service.
//!
//! Opens the store, loads `feeds/`, ingests the shipped sample articles
//! (idempotently: a restart stores nothing twice), starts polling the
//! upstream feeds and watching the inboxes of `feeds/sources.toml`, then
//! serves HTTP until SIGINT or SIGTERM. Topic files are re-read when they
//! change; a bad edit is logged and the last good set stays in force.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::classify::LiveTopics;
use crate::cli::{DataArg, FeedsArg, config_errors};
use crate::http::{self, AppState};
use crate::pipeline;
use crate::sources::{self, Poller};
use crate::store::{Retention, SqliteStore, Store};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port).
    ///
    /// Once the listener is bound, `serve` prints exactly one line on
    /// standard output, `listening on http://ADDR/` with the address it
    /// got (e.g. `listening on http://127.0.0.1:41234/`), and flushes it:
    /// scripts and tests read the port from that line. Everything else
    /// (logs) goes to standard error.
    #[arg(long, env = "TOPICFEED_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    #[command(flatten)]
    pub(crate) data: DataArg,
    #[command(flatten)]
    pub(crate) feeds: FeedsArg,
    /// Sample articles ingested at start (never moved or changed).
    #[arg(
        long,
        value_name = "DIR",
        env = "TOPICFEED_SAMPLES",
        default_value = "examples/articles"
    )]
    pub samples: PathBuf,
    /// Do not ingest sample articles at start.
    #[arg(long)]
    pub no_samples: bool,
    /// Public base URL for links in feeds (default: from the request's Host header).
    #[arg(long, env = "TOPICFEED_BASE_URL")]
    pub base_url: Option<String>,
    /// Bearer token that enables `POST /api/articles`.
    #[arg(long, env = "TOPICFEED_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Shortest feed TTL / max-age, in minutes.
    #[arg(long, env = "TOPICFEED_TTL_FLOOR", default_value_t = 5)]
    pub ttl_floor: u32,
    /// Longest feed TTL / max-age, in minutes.
    #[arg(long, env = "TOPICFEED_TTL_CEILING", default_value_t = 60)]
    pub ttl_ceiling: u32,
    /// Polls of one feed per client per max-age window before 429 (0: no limit).
    #[arg(long, env = "TOPICFEED_POLL_BURST", default_value_t = 6)]
    pub poll_burst: u32,
    /// Apply the poll limit to loopback clients too (off by default).
    #[arg(long, env = "TOPICFEED_LIMIT_LOOPBACK")]
    pub limit_loopback: bool,
    /// Most simultaneous connections.
    #[arg(long, env = "TOPICFEED_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Largest accepted ingest request body, in bytes.
    #[arg(long, env = "TOPICFEED_MAX_BODY", default_value_t = 2 * 1024 * 1024)]
    pub max_body: usize,
    /// Seconds a client may take to send a request's headers once it has
    /// started.
    #[arg(long, env = "TOPICFEED_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a connection may stay silent (before its first request or
    /// between requests) before it is closed.
    #[arg(long, env = "TOPICFEED_IDLE_TIMEOUT", default_value_t = 60)]
    pub idle_timeout: u64,
    /// Delete stories older than this many days (retention; off by default).
    #[arg(long, env = "TOPICFEED_MAX_AGE_DAYS")]
    pub max_age_days: Option<u32>,
    /// Keep at most this many stories per topic (retention; off by default).
    #[arg(long, env = "TOPICFEED_MAX_PER_TOPIC")]
    pub max_per_topic: Option<usize>,
    /// Do not poll the upstream feeds nor watch the inboxes of `sources.toml`.
    #[arg(long, env = "TOPICFEED_NO_SOURCES")]
    pub no_sources: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let topics = LiveTopics::load(&args.feeds.dir).map_err(config_errors)?;
    let topics = Arc::new(topics);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&args.data.dir)?);
    let sources_config = if args.no_sources {
        sources::SourcesConfig::default()
    } else {
        sources::config::load(&args.feeds.dir)?
    };
    if !args.no_samples {
        ingest_samples(&args.samples, store.as_ref(), &topics);
    }
    let config = http::Config {
        base_url: args.base_url.clone(),
        ttl_floor_minutes: args.ttl_floor.max(1),
        ttl_ceiling_minutes: args.ttl_ceiling.max(args.ttl_floor.max(1)),
        poll_burst: args.poll_burst,
        limit_loopback: args.limit_loopback,
        api_token: args.api_token.clone().filter(|t| !t.is_empty()),
        max_body_bytes: args.max_body,
        max_connections: args.max_connections,
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        ..http::Config::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener.local_addr()?;
        let mut state = AppState::new(store.clone(), topics.clone(), config);
        if !args.no_sources {
            state.sources = start_sources(&args, sources_config, &store, &topics)?;
        }
        let state = Arc::new(state);
        tokio::spawn(watch_topics(args.feeds.dir.clone(), topics));
        let retention = Retention {
            max_age: args
                .max_age_days
                .map(|d| chrono::Duration::days(i64::from(d))),
            max_per_topic: args.max_per_topic,
        };
        if retention.max_age.is_some() || retention.max_per_topic.is_some() {
            tokio::spawn(apply_retention(store, retention));
        }
        tracing::info!(addr = %local, "serving");
        announce(local);
        http::serve(listener, state, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The ready line of `--addr`'s help: the one line `serve` writes on
/// stdout, flushed at once (a closed stdout is no reason not to serve).
fn announce(local: SocketAddr) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on http://{local}/").and_then(|()| out.flush());
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOPICFEED_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("topicfeed=info,warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Spawns the feed poller and one watcher per inbox. Sources are polled
/// from the start; an inbox that cannot be created is logged, not fatal.
fn start_sources(
    args: &ServeArgs,
    config: sources::SourcesConfig,
    store: &Arc<dyn Store>,
    topics: &Arc<LiveTopics>,
) -> anyhow::Result<sources::HealthBoard> {
    sources::fetch::install_crypto_provider();
    let poller = Arc::new(
        Poller::new(
            store.clone(),
            topics.clone(),
            &args.data.dir,
            sources::PollOptions::default(),
        )
        .context("starting the feed poller")?,
    );
    let health = poller.health();
    for inbox in &config.inboxes {
        let inbox = sources::inbox::Inbox::new(
            inbox.path.clone(),
            store.clone(),
            topics.clone(),
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
    tokio::spawn(poller.run(args.feeds.dir.clone(), config));
    Ok(health)
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
        tracing::warn!(file = %f.path.display(), reason = %f.reason, "sample not ingested");
    }
}

/// Newest modification time and file count of the topic files: changes
/// when a file is edited, added or removed.
fn feeds_stamp(dir: &Path) -> Option<(SystemTime, usize)> {
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut count = 0;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        if entry.path().extension().is_some_and(|e| e == "toml") {
            count += 1;
            if let Ok(m) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(m);
            }
        }
    }
    Some((newest, count))
}

async fn watch_topics(dir: PathBuf, topics: Arc<LiveTopics>) {
    let mut last = feeds_stamp(&dir);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = feeds_stamp(&dir);
        if now == last {
            continue;
        }
        last = now;
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

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
