//! `topicfeed serve`: the command-line face of [`topicfeed::service`].
//!
//! Parses flags (each also an environment variable) into a
//! [`ServiceConfig`], sets up logging and the runtime, binds the listener,
//! announces readiness on stdout, and stops on SIGINT/SIGTERM. Defaults
//! come from the library's config types, so they are written once.

use std::io::IsTerminal;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use topicfeed::http;
use topicfeed::service::{self, ServiceConfig};
use topicfeed::store::Retention;

use super::{DataArg, FeedsArg};

const D: http::Config = http::Config::DEFAULT;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Once the listener is bound and start-up work (samples) is done, serve \
    prints exactly one line on standard output, `listening on http://ADDR/` with the address it \
    got (the real port when --addr ends in :0), and flushes it: scripts and tests wait for that \
    line. Logs go to standard error."
)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port, announced on stdout).
    #[arg(long, env = "TOPICFEED_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    #[command(flatten)]
    data: DataArg,
    #[command(flatten)]
    feeds: FeedsArg,
    /// Sample articles ingested at start (never moved or changed).
    #[arg(long, value_name = "DIR", env = "TOPICFEED_SAMPLES", default_value = ServiceConfig::DEFAULT_SAMPLES)]
    samples: PathBuf,
    /// Do not ingest sample articles at start.
    #[arg(long)]
    no_samples: bool,
    /// Public base URL for links in feeds (default: from the request's Host header).
    #[arg(long, env = "TOPICFEED_BASE_URL")]
    base_url: Option<String>,
    /// Without --base-url, links follow the request's Host only when it is
    /// the listen address, localhost, or one of these names (repeatable;
    /// comma-separated in the environment); other Hosts get 421.
    #[arg(
        long = "allow-host",
        env = "TOPICFEED_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    allow_hosts: Vec<String>,
    /// A reverse proxy (address or range, repeatable; comma-separated in the
    /// environment) whose X-Forwarded-For names the client for poll limits.
    #[arg(long = "trusted-proxy", env = "TOPICFEED_TRUSTED_PROXIES", value_delimiter = ',', value_parser = topicfeed::sources::outbound::parse_range)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Do not write an access-log line per request (they are on by
    /// default, written off the request path; see also --log-format).
    #[arg(long, env = "TOPICFEED_NO_ACCESS_LOG")]
    no_access_log: bool,
    /// Bearer token that enables `POST /api/articles`.
    #[arg(long, env = "TOPICFEED_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Make every feed and page private: served only with `?key=KEY` in
    /// the URL or KEY as the HTTP Basic password (a topic file's `key`
    /// makes one topic private). Prefer the environment variable: a
    /// command line is visible to every user of the machine.
    #[arg(
        long,
        value_name = "KEY",
        env = "TOPICFEED_READ_KEY",
        hide_env_values = true
    )]
    read_key: Option<String>,
    /// Run no WebSub hub: feeds name none, and `/websub` is 404.
    #[arg(long, env = "TOPICFEED_NO_WEBSUB")]
    no_websub: bool,
    /// Let the WebSub hub call back subscribers on loopback and private
    /// networks (refused by default, like any fetch of a stranger's URL).
    #[arg(long, env = "TOPICFEED_WEBSUB_ALLOW_PRIVATE")]
    websub_allow_private: bool,
    /// Most WebSub subscriptions the hub keeps; more are denied.
    #[arg(long, env = "TOPICFEED_WEBSUB_MAX_SUBSCRIPTIONS", default_value_t = http::websub::HubConfig::DEFAULT.max_subscriptions)]
    websub_max_subscriptions: usize,
    /// Most subscriptions with callbacks on one host and port; more are denied.
    #[arg(long, env = "TOPICFEED_WEBSUB_MAX_PER_CALLBACK", default_value_t = http::websub::HubConfig::DEFAULT.max_per_callback)]
    websub_max_per_callback: usize,
    /// Shortest feed TTL / max-age, in minutes.
    #[arg(long, env = "TOPICFEED_TTL_FLOOR", default_value_t = D.ttl_floor_minutes)]
    ttl_floor: u32,
    /// Longest feed TTL / max-age, in minutes.
    #[arg(long, env = "TOPICFEED_TTL_CEILING", default_value_t = D.ttl_ceiling_minutes)]
    ttl_ceiling: u32,
    /// Polls of one feed per client per max-age window before 429 (0: no limit).
    #[arg(long, env = "TOPICFEED_POLL_BURST", default_value_t = D.poll_burst)]
    poll_burst: u32,
    /// Apply the poll limit and the WebSub hub's request limit to loopback
    /// clients too (off by default).
    #[arg(long, env = "TOPICFEED_LIMIT_LOOPBACK")]
    limit_loopback: bool,
    /// Most simultaneous connections.
    #[arg(long, env = "TOPICFEED_MAX_CONNECTIONS", default_value_t = D.max_connections)]
    max_connections: usize,
    /// Most simultaneous connections from one address (trusted proxies are
    /// exempt); more get a quick 503.
    #[arg(long, env = "TOPICFEED_MAX_CONNECTIONS_PER_CLIENT", default_value_t = D.max_connections_per_client)]
    max_connections_per_client: usize,
    /// Largest accepted ingest request body, in bytes.
    #[arg(long, env = "TOPICFEED_MAX_BODY", default_value_t = D.max_body_bytes)]
    max_body: usize,
    /// Seconds a client may take to send a request's headers (HTTP/1), counted from
    /// when the server is ready for the request (the connection's start, or
    /// the end of the previous response): a silent or idle keep-alive
    /// connection is closed after it too.
    #[arg(long, env = "TOPICFEED_HEADER_TIMEOUT", default_value_t = D.header_timeout.as_secs())]
    header_timeout: u64,
    /// Seconds a connection with no request being answered may send
    /// nothing (silent from the start, an idle HTTP/2 connection) before it
    /// is closed; also the most a request body may take to arrive (408 past
    /// it); HTTP/2 keep-alive pings go every twice this.
    #[arg(long, env = "TOPICFEED_IDLE_TIMEOUT", default_value_t = D.idle_timeout.as_secs())]
    idle_timeout: u64,
    /// Bytes of rendered feeds (with their compressed copies) kept in
    /// memory; the least useful variants are dropped past it (at least 1 MiB).
    #[arg(long, env = "TOPICFEED_CACHE_BYTES", default_value_t = D.cache_bytes)]
    cache_bytes: usize,
    /// Delete stories older than this many days (retention; off by default).
    #[arg(long, env = "TOPICFEED_MAX_AGE_DAYS")]
    max_age_days: Option<u32>,
    /// Keep at most this many stories per topic (retention; off by default).
    #[arg(long, env = "TOPICFEED_MAX_PER_TOPIC")]
    max_per_topic: Option<usize>,
    /// Do not poll the upstream feeds nor watch the inboxes of `sources.toml`.
    #[arg(long, env = "TOPICFEED_NO_SOURCES")]
    no_sources: bool,
}

impl ServeArgs {
    fn config(&self) -> ServiceConfig {
        let ttl_floor = self.ttl_floor.max(1);
        ServiceConfig {
            data: self.data.dir.clone(),
            database: self.data.database.clone(),
            feeds: self.feeds.dir.clone(),
            samples: (!self.no_samples).then(|| self.samples.clone()),
            sources: !self.no_sources,
            retention: Retention {
                max_age: self
                    .max_age_days
                    .map(|d| chrono::Duration::days(i64::from(d))),
                max_per_topic: self.max_per_topic,
            },
            http: http::Config {
                base_url: self.base_url.clone(),
                ttl_floor_minutes: ttl_floor,
                ttl_ceiling_minutes: self.ttl_ceiling.max(ttl_floor),
                poll_burst: self.poll_burst,
                limit_loopback: self.limit_loopback,
                api_token: self.api_token.clone().filter(|t| !t.is_empty()),
                read_key: None,
                websub: http::websub::HubConfig {
                    enabled: !self.no_websub,
                    allow_private: self.websub_allow_private,
                    max_subscriptions: self.websub_max_subscriptions,
                    max_per_callback: self.websub_max_per_callback,
                    ..http::websub::HubConfig::DEFAULT
                },
                max_body_bytes: self.max_body,
                max_connections: self.max_connections,
                header_timeout: Duration::from_secs(self.header_timeout.max(1)),
                idle_timeout: Duration::from_secs(self.idle_timeout.max(1)),
                cache_bytes: self.cache_bytes,
                allowed_hosts: self.allow_hosts.clone(),
                listen: None,
                trusted_proxies: self.trusted_proxies.clone(),
                max_connections_per_client: self.max_connections_per_client,
                access_log: !self.no_access_log,
            },
        }
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    raise_open_file_limit();
    let mut config = args.config();
    // Checked here, not by the argument parser, whose error would print
    // the refused value (a credential) into the log.
    config.http.read_key = args
        .read_key
        .as_deref()
        .map(topicfeed::model::ReadKey::new)
        .transpose()
        .map_err(|why| anyhow::anyhow!("--read-key (or TOPICFEED_READ_KEY): {why}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener.local_addr()?;
        config.http.listen = Some(local);
        let ready = move || {
            // The machine-readable line (tests and scripts wait for it).
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{local}/");
            let _ = out.flush();
            // For a person at a terminal; a log collector reading stderr
            // gets the `serving` log event instead, in its format.
            if std::io::stderr().is_terminal() {
                eprintln!("topicfeed: serving on http://{local}/ (Ctrl-C to stop)");
            }
        };
        service::run(config, listener, ready, shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
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

/// Connections, the store and cached bodies (`http::zerocopy`) each hold a
/// file descriptor: the soft limit (often 1,024) goes up to the hard one,
/// as servers do.
fn raise_open_file_limit() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            let raised = Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!(error = %e, "open-file limit left as it was");
            }
        }
    }
}
