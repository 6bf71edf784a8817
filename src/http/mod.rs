//! HTTP: the feed server on hyper 1 + tokio.
//!
//! `routes` holds the route table in one `match`; the handlers are split
//! by job: `feeds` serves feeds (cache, conditional GET, poll limits),
//! `pages` the pages for people and operators, `api` the ingest API.
//! `error` is the one place errors become statuses, `response` builds the
//! plain successful responses. Below them, `conditional` does validators
//! and content codings; `cache` keeps rendered feeds; `query`
//! canonicalizes feed URLs; `ratelimit` and `metrics` watch the pollers.
//! [`serve`] accepts on the caller's listener and hands each connection to
//! `workers`, one single-threaded runtime per core, for its whole life.
//! Store and render work (SQLite, XML, compression) runs in
//! `spawn_blocking` (through `blocking`), never on the async workers.

mod api;
pub mod cache;
pub mod conditional;
pub mod conns;
pub mod error;
pub(crate) mod feeds;
pub(crate) mod keyguard;
pub mod metrics;
pub(crate) mod pages;
mod private;
pub use pages::last_change;
pub mod query;
pub mod ratelimit;
mod resolved;
pub mod response;
pub mod routes;
pub mod websub;
pub mod workers;
#[cfg(target_os = "linux")]
pub mod zerocopy;
/// Elsewhere bodies stay on the heap and sockets are written as they are.
#[cfg(not(target_os = "linux"))]
pub mod zerocopy {
    pub fn share(body: Vec<u8>) -> bytes::Bytes {
        bytes::Bytes::from(body)
    }
    pub struct ZeroCopy;
    impl ZeroCopy {
        #[allow(clippy::new_ret_no_self)]
        pub fn new(inner: tokio::net::TcpStream) -> tokio::net::TcpStream {
            inner
        }
    }
}

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;
use http::header::HOST;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::classify::LiveTopics;
use crate::store::Store;
use error::HttpError;

/// Server settings. [`Config::DEFAULT`] is the one place their defaults
/// are written: the command line takes its defaults from it.
#[derive(Debug, Clone)]
pub struct Config {
    /// Absolute base URL for links in feeds; `None`: from the `Host` header.
    pub base_url: Option<String>,
    /// Bounds of the feed TTL (and `max-age`), in minutes.
    pub ttl_floor_minutes: u32,
    pub ttl_ceiling_minutes: u32,
    /// Polls per feed per max-age window before 429; 0 turns it off.
    pub poll_burst: u32,
    pub limit_loopback: bool,
    /// Bearer token for `POST /api/articles`; `None` disables the API.
    pub api_token: Option<String>,
    /// Set: every feed and page is private, served only to a request that
    /// presents this key (`serve --read-key`; see `http::private`).
    pub read_key: Option<crate::model::ReadKey>,
    /// The built-in WebSub hub (`http::websub`).
    pub websub: websub::HubConfig,
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// Bytes the rendered-feed cache may hold (`serve --cache-bytes`).
    pub cache_bytes: usize,
    /// Host names (optionally `name:port`) besides the listen address and
    /// localhost whose `Host` header links may follow when there is no
    /// `base_url` (`serve --allow-host`).
    pub allowed_hosts: Vec<String>,
    /// The bound address: its IP and port are allowed Host values.
    pub listen: Option<std::net::SocketAddr>,
    /// Reverse proxies whose `X-Forwarded-For` names the client
    /// (`serve --trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Most simultaneous connections from one address (trusted proxies
    /// excepted).
    pub max_connections_per_client: usize,
    /// One log line per request, target `topicfeed::access`.
    pub access_log: bool,
}

impl Config {
    pub const DEFAULT: Config = Config {
        base_url: None,
        ttl_floor_minutes: 5,
        ttl_ceiling_minutes: 60,
        poll_burst: 6,
        limit_loopback: false,
        api_token: None,
        read_key: None,
        websub: websub::HubConfig::DEFAULT,
        max_body_bytes: 2 * 1024 * 1024,
        max_connections: 1024,
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        cache_bytes: 128 * 1024 * 1024,
        allowed_hosts: Vec::new(),
        listen: None,
        trusted_proxies: Vec::new(),
        max_connections_per_client: 256,
        access_log: true,
    };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// Everything a request handler can reach.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub topics: Arc<LiveTopics>,
    pub cache: cache::FeedCache,
    pub metrics: metrics::Metrics,
    pub limiter: ratelimit::RateLimiter,
    pub config: Config,
    /// When the topic set was loaded: the `updated` of an empty feed.
    pub started: DateTime<Utc>,
    /// Upstream sources' health (`snapshot()`); empty when none are polled.
    pub sources: crate::sources::HealthBoard,
    /// The WebSub hub's queue, when it runs (see [`websub::run`]).
    pub websub: Option<websub::Hub>,
    /// Wrong read keys per client address.
    pub keys: keyguard::KeyGuard,
    /// Requests to the WebSub hub per client address: each may make the
    /// hub fetch a stranger's URL.
    pub hub_limiter: ratelimit::RateLimiter,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, topics: Arc<LiveTopics>, config: Config) -> AppState {
        let metrics = metrics::Metrics::new();
        AppState {
            store,
            topics,
            cache: cache::FeedCache::new(config.cache_bytes),
            keys: keyguard::KeyGuard::new(metrics.read_key_refused.clone()),
            metrics,
            limiter: ratelimit::RateLimiter::new(config.poll_burst, config.limit_loopback),
            hub_limiter: ratelimit::RateLimiter::new(
                websub::REQUESTS_PER_MINUTE,
                config.limit_loopback,
            ),
            config,
            started: Utc::now(),
            sources: crate::sources::HealthBoard::new(),
            websub: None,
        }
    }
}

/// The absolute base URL for links: configured, or from `Host`, which
/// [`check_host`] has already let through for every routed request (a
/// missing Host is localhost).
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(b) = &state.config.base_url {
        return b.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    // Host names are case-insensitive: one spelling, one set of links.
    let host = host.trim();
    let mut base = String::with_capacity(7 + host.len());
    base.push_str("http://");
    base.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    base
}

/// The client presenting a read key, as `keyguard` counts it: behind a
/// trusted proxy, the address the proxy names.
fn key_client<'a>(
    state: &'a AppState,
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
) -> private::Client<'a> {
    private::Client {
        guard: &state.keys,
        ip: ratelimit::client_ip(peer.ip(), headers, &state.config.trusted_proxies),
    }
}

/// `Host` is client input that ends up in every link of a page or feed,
/// and pages are `Cache-Control: public`: one request with `Host:
/// evil.example` could poison a shared cache. Without `--base-url`, only
/// the listen address, localhost and the `--allow-host` names are answered;
/// others get 421.
pub(super) fn check_host(config: &Config, headers: &HeaderMap) -> Result<(), HttpError> {
    if config.base_url.is_some() {
        return Ok(());
    }
    let Some(raw) = headers.get(HOST) else {
        return Ok(());
    };
    let host = raw.to_str().unwrap_or_default();
    if host_allowed(config, host) {
        return Ok(());
    }
    Err(HttpError::Misdirected(format!(
        "this server does not answer for Host `{}`; its operator can start it with \
         --base-url URL (links then always use it) or --allow-host NAME",
        host.chars().take(100).collect::<String>()
    )))
}

fn host_allowed(config: &Config, host: &str) -> bool {
    // What nearly every request sends, `127.0.0.1:PORT` or `localhost:PORT`
    // of this server, is told without parsing.
    let listen_port = config.listen.map_or(80, |a| a.port());
    if let Some((name, port)) = host.rsplit_once(':')
        && matches!(name, "127.0.0.1" | "localhost" | "[::1]")
        && port.parse::<u16>() == Ok(listen_port)
    {
        return true;
    }
    let host = host.trim().to_ascii_lowercase();
    let Ok(authority) = host.parse::<http::uri::Authority>() else {
        return false;
    };
    if authority.as_str().contains('@') {
        return false;
    }
    let name = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16();
    // The operator's names behind a proxy: any port.
    if config
        .allowed_hosts
        .iter()
        .any(|a| a.eq_ignore_ascii_case(name) || a.eq_ignore_ascii_case(&host))
    {
        return true;
    }
    let same_port = port.unwrap_or(80) == listen_port;
    let local = matches!(name, "localhost" | "127.0.0.1" | "::1");
    let listen_ip = config
        .listen
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .is_some_and(|ip| name.parse::<std::net::IpAddr>().is_ok_and(|n| n == ip));
    same_port && (local || listen_ip)
}

/// Runs blocking work (SQLite, rendering, compressing) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HttpError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HttpError::Internal(format!("worker failed: {e}")))
}

/// A connection lives at most this long, however busy: a slow or stuck
/// client cannot hold a slot forever.
const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(3600);

/// Answers a connection that found no room with a fixed 503 and closes it;
/// a client that does not read within a second is simply dropped.
async fn refuse(mut stream: tokio::net::TcpStream, why: conns::Refused) {
    use tokio::io::AsyncWriteExt;
    let reply = conns::refusal(why);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(&reply).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight
/// requests finish (up to 30 s) and returns.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let workers = workers::Workers::start(
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
    )?;
    let conns = conns::Conns::new(
        state.config.max_connections,
        state.config.max_connections_per_client,
    );
    let sweeper = tokio::spawn({
        let conns = conns.clone();
        let limits = conns::Limits {
            idle: state.config.idle_timeout,
            header: state.config.header_timeout,
            lifetime: MAX_CONNECTION_LIFETIME,
        };
        async move {
            loop {
                tokio::time::sleep(limits.sweep_every()).await;
                let closed = conns.sweep(&limits);
                if closed > 0 {
                    tracing::debug!(closed, "quiet or old connections closed");
                }
            }
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // No timer for HTTP/1: the header timeout is the sweep's (`conns`),
    // from stamps, not hyper's timer made anew for every request. Without
    // a timer hyper 1 keeps no header-read timeout of its own.
    builder.http1().keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        // Pings (whose answers are reads) must not keep a quiet connection
        // from the sweep: they start only after two idle timeouts.
        .keep_alive_interval(Some(state.config.idle_timeout * 2));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Trusted proxies carry many clients: they are not held to one's share.
        let ip = peer.ip();
        let key = (!ratelimit::is_proxy(ip, &state.config.trusted_proxies)).then_some(ip);
        let slot = match conns.admit(key) {
            Ok(slot) => slot,
            Err(why) => {
                state.metrics.connections_refused.inc();
                tokio::spawn(refuse(stream, why));
                continue;
            }
        };
        let job = connection_job(stream, peer, slot, &state, &builder, graceful.watcher());
        if workers.spawn(job).is_err() {
            // Only if every worker thread has died (a panic): the
            // connection is closed, and the log says why.
            tracing::error!(%peer, "no connection worker is running; connection dropped");
        }
    }
    drop(listener);
    sweeper.abort();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(30)) => tracing::warn!("shutdown: gave up waiting for connections"),
    }
    tokio::task::spawn_blocking(move || workers.join())
        .await
        .ok();
    Ok(())
}

/// The life of one connection, to be run on a connection worker.
fn connection_job(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    slot: conns::Slot,
    state: &Arc<AppState>,
    builder: &auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
) -> workers::Job {
    let state = state.clone();
    let builder = builder.clone();
    // Out of this runtime's reactor, into the worker's.
    let stream = stream.into_std();
    Box::new(move || {
        Box::pin(async move {
            let stream = match stream.and_then(tokio::net::TcpStream::from_std) {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(error = %e, %peer, "cannot hand the connection over");
                    return;
                }
            };
            // A response's last segment goes out at once, not after the
            // client's delayed ACK (Nagle).
            let _ = stream.set_nodelay(true);
            let conn_state = slot.conn.clone();
            // A handle of the shared state for this connection alone: each
            // request clones this one, whose count no other thread touches,
            // not the state's own, which every worker's requests would
            // bounce between the cores.
            let state = Arc::new(state);
            let service = service_fn(move |req| {
                let state = state.clone();
                let conn_state = conn_state.clone();
                async move {
                    conn_state.in_flight.fetch_add(1, Ordering::AcqRel);
                    let resp = routes::handle(req, peer, &state).await;
                    conn_state.in_flight.fetch_sub(1, Ordering::AcqRel);
                    Ok::<_, Infallible>(resp)
                }
            });
            // The table's sweep keeps the time limits (header, idle,
            // lifetime) from the stamps `Watched` leaves, and asks the
            // connection to close (`shed`); it is also shed when the
            // table needs the room. Cached bodies go out with `sendfile`
            // (`zerocopy`).
            let stream = conns::Watched::new(zerocopy::ZeroCopy::new(stream), slot.conn.clone());
            let conn =
                builder.serve_connection_with_upgrades(TokioIo::new(Box::pin(stream)), service);
            let conn = watcher.watch(conn.into_owned());
            tokio::select! {
                done = conn => {
                    if let Err(e) = done {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                }
                () = slot.conn.shed.notified() => {}
            }
            drop(slot);
        })
    })
}
