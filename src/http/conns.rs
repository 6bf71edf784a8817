//! Who holds the server's connections, and who gives one up.
//!
//! A connection slot is the scarce thing: an idle keep-alive connection
//! holds one as surely as a busy one. So: one client may hold at most
//! `per_client` of them; when the table is nearly full, idle connections
//! (no request in flight) are asked to close, oldest first, before anyone
//! is turned away; and a connection that still finds no room gets a quick
//! 503 with `Retry-After` instead of waiting in the kernel's queue.
//!
//! The table also keeps the connections' time limits ([`Conns::sweep`], a
//! few times per limit), all from time stamps that reads and writes leave
//! ([`Watched`]) rather than timers reset per request, which cost a poll
//! 8% of its instructions (reads, callgrind) and then 5% more (hyper's
//! header timer, a timer made and dropped per request):
//! - a connection with no request being answered that has sent nothing
//!   for the idle timeout is closed;
//! - an HTTP/1 connection with no request being answered that has been
//!   sent nothing for the header timeout (since it opened or since the
//!   last bytes of its last answer went out) is closed: a request head
//!   must arrive whole in that time, and an idle keep-alive connection
//!   gives its slot back, as hyper's header-read timeout did;
//! - while an answer waits for a slow reader to take it, the connection
//!   is closed only when the reader has taken nothing for the idle
//!   timeout;
//! - any connection older than the lifetime limit is closed, however busy.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// Share of the table above which idle connections are shed.
const SHED_AT_PERCENT: usize = 90;

/// One live connection, as the table sees it.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    /// None: a trusted proxy, held to no per-client share.
    ip: Option<IpAddr>,
    /// Requests in flight on it; 0 is idle.
    pub in_flight: AtomicUsize,
    /// Notified when the connection should close (it is idle and the
    /// table needs the room, or it has been quiet too long).
    pub shed: Notify,
    /// When it last sent something, in ms since the table's epoch.
    last_read: AtomicU64,
    /// When it was last sent something (or opened), in the same ms.
    last_write: AtomicU64,
    /// When it was opened, in the same ms.
    opened: u64,
    /// It speaks HTTP/2, which the header timeout does not apply to.
    h2: AtomicBool,
    /// A write waits for the client to take what was sent before.
    blocked: AtomicBool,
    epoch: Instant,
}

impl Conn {
    /// Notes that the client just sent something.
    pub fn touch(&self) {
        self.last_read.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Notes that the server just sent it something.
    pub fn touch_write(&self) {
        self.last_write.store(self.now_ms(), Ordering::Relaxed);
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn since(&self, stamp: u64, now: Instant) -> Duration {
        now.saturating_duration_since(self.epoch)
            .saturating_sub(Duration::from_millis(stamp))
    }

    fn quiet_for(&self, now: Instant) -> Duration {
        self.since(self.last_read.load(Ordering::Relaxed), now)
    }

    fn unanswered_for(&self, now: Instant) -> Duration {
        self.since(self.last_write.load(Ordering::Relaxed), now)
    }

    /// Whether `limits` say it should close now.
    fn expired(&self, limits: &Limits, now: Instant) -> bool {
        if self.since(self.opened, now) >= limits.lifetime {
            return true;
        }
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return false;
        }
        if self.blocked.load(Ordering::Relaxed) {
            // An answer still going out to a client that reads slowly:
            // cut only when it has taken nothing for the idle timeout, not
            // at the header timeout, which counts from the answer's end.
            return self.unanswered_for(now) >= limits.idle;
        }
        self.quiet_for(now) >= limits.idle
            || (!self.h2.load(Ordering::Relaxed) && self.unanswered_for(now) >= limits.header)
    }
}

/// The time limits [`Conns::sweep`] keeps (see the module's doc).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub idle: Duration,
    pub header: Duration,
    pub lifetime: Duration,
}

impl Limits {
    /// How often to sweep: a quarter of the shortest limit, so a
    /// connection is closed at most a quarter late.
    pub fn sweep_every(&self) -> Duration {
        self.idle.min(self.header).min(self.lifetime) / 4
    }
}

#[derive(Default)]
struct Table {
    next_id: u64,
    /// By id, which grows with age: the first idle one found is the oldest.
    live: std::collections::BTreeMap<u64, Arc<Conn>>,
    per_ip: HashMap<Option<IpAddr>, usize>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This client already holds its share.
    ClientFull,
    /// Every slot is busy.
    Full,
}

pub struct Conns {
    max: usize,
    per_client: usize,
    table: Mutex<Table>,
    epoch: Instant,
}

/// Gives the slot back when the connection ends.
pub struct Slot {
    conns: Arc<Conns>,
    pub conn: Arc<Conn>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.conns.lock();
        // A shed connection left the table when it was shed.
        if t.live.remove(&self.conn.id).is_none() {
            return;
        }
        if let Some(n) = t.per_ip.get_mut(&self.conn.ip) {
            *n -= 1;
            if *n == 0 {
                t.per_ip.remove(&self.conn.ip);
            }
        }
    }
}

impl Conns {
    pub fn new(max: usize, per_client: usize) -> Arc<Conns> {
        Arc::new(Conns {
            max: max.max(1),
            per_client: per_client.max(1),
            table: Mutex::new(Table::default()),
            epoch: Instant::now(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn len(&self) -> usize {
        self.lock().live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A slot for a new connection from `ip`, shedding idle connections
    /// when the table is nearly full.
    pub fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<Slot, Refused> {
        let mut t = self.lock();
        if ip.is_some() && t.per_ip.get(&ip).copied().unwrap_or(0) >= self.per_client {
            return Err(Refused::ClientFull);
        }
        let near = self.max * SHED_AT_PERCENT / 100;
        if t.live.len() >= near {
            // Make room for this one and a little more, idle first.
            let want = t.live.len() + 1 - near.min(t.live.len());
            let idle: Vec<Arc<Conn>> = t
                .live
                .values()
                .filter(|c| c.in_flight.load(Ordering::Acquire) == 0)
                .take(want)
                .cloned()
                .collect();
            let shed = idle.len();
            for c in idle {
                t.shed(&c);
            }
            if shed > 0 {
                tracing::debug!(shed, "idle connections closed to make room");
            }
        }
        if t.live.len() >= self.max {
            return Err(Refused::Full);
        }
        t.next_id += 1;
        let now = self.epoch.elapsed().as_millis() as u64;
        let conn = Arc::new(Conn {
            id: t.next_id,
            ip,
            in_flight: AtomicUsize::new(0),
            shed: Notify::new(),
            last_read: AtomicU64::new(now),
            last_write: AtomicU64::new(now),
            opened: now,
            h2: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
            epoch: self.epoch,
        });
        t.live.insert(conn.id, conn.clone());
        *t.per_ip.entry(ip).or_default() += 1;
        Ok(Slot {
            conns: self.clone(),
            conn,
        })
    }
}

impl Table {
    /// Asks `c` to close and gives its slot back now; its task drops it.
    fn shed(&mut self, c: &Conn) {
        c.shed.notify_one();
        self.live.remove(&c.id);
        if let Some(n) = self.per_ip.get_mut(&c.ip) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&c.ip);
            }
        }
    }
}

impl Conns {
    /// Closes the connections past one of `limits` (see the module's
    /// doc). Returns how many.
    pub fn sweep(&self, limits: &Limits) -> usize {
        let now = Instant::now();
        let mut t = self.lock();
        let quiet: Vec<Arc<Conn>> = t
            .live
            .values()
            .filter(|c| c.expired(limits, now))
            .cloned()
            .collect();
        for c in &quiet {
            t.shed(c);
        }
        quiet.len()
    }
}

/// A connection's socket, stamping [`Conn::touch`] whenever it reads and
/// [`Conn::touch_write`] whenever it writes.
pub struct Watched<S> {
    inner: S,
    conn: Arc<Conn>,
    /// Its first bytes have been looked at for HTTP/2's preface.
    sniffed: bool,
    /// What `conn.blocked` was last set to.
    blocked: bool,
}

impl<S> Watched<S> {
    pub fn new(inner: S, conn: Arc<Conn>) -> Watched<S> {
        Watched {
            inner,
            conn,
            sniffed: false,
            blocked: false,
        }
    }

    fn wrote(&mut self, done: &Poll<io::Result<usize>>) {
        if matches!(done, Poll::Ready(Ok(n)) if *n > 0) {
            self.conn.touch_write();
        }
        let blocked = done.is_pending();
        if blocked != self.blocked {
            self.blocked = blocked;
            self.conn.blocked.store(blocked, Ordering::Relaxed);
        }
    }
}

/// How an HTTP/2 connection opens (RFC 9113 §3.4); no HTTP/1 method is
/// `PRI`.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let done = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.conn.touch();
            if !self.sniffed {
                // A first read shorter than the preface counts as HTTP/1:
                // the worst that does is close an idle HTTP/2 connection
                // at the header timeout.
                self.sniffed = true;
                if buf.filled()[before..].starts_with(H2_PREFACE) {
                    self.conn.h2.store(true, Ordering::Relaxed);
                }
            }
        }
        done
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(&done);
        done
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let done = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(&done);
        done
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The whole answer to a connection that found no room: written raw,
/// before any HTTP parsing, so it costs next to nothing.
pub fn refusal(why: Refused) -> Vec<u8> {
    let (retry, body) = match why {
        Refused::ClientFull => (
            5,
            "too many connections from your address; close idle ones or retry later\n",
        ),
        Refused::Full => (2, "the server is at its connection limit; retry shortly\n"),
    };
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {retry}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn one_client_gets_its_share_only() {
        let conns = Conns::new(10, 2);
        let a = conns.admit(ip("192.0.2.1")).unwrap();
        let _b = conns.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(
            conns.admit(ip("192.0.2.1")).err(),
            Some(Refused::ClientFull)
        );
        assert!(conns.admit(ip("192.0.2.2")).is_ok());
        drop(a);
        assert!(
            conns.admit(ip("192.0.2.1")).is_ok(),
            "a closed slot is free again"
        );
    }

    #[test]
    fn idle_connections_make_room_busy_ones_do_not() {
        let conns = Conns::new(4, 4);
        let held: Vec<Slot> = (1..=4)
            .map(|i| {
                let s = conns.admit(ip(&format!("192.0.2.{i}"))).unwrap();
                s.conn.in_flight.store(1, Ordering::Release);
                s
            })
            .collect();
        assert_eq!(conns.admit(ip("198.51.100.1")).err(), Some(Refused::Full));
        held[0].conn.in_flight.store(0, Ordering::Release);
        let fresh = conns.admit(ip("198.51.100.1"));
        assert!(fresh.is_ok(), "the idle one was shed");
        assert_eq!(conns.len(), 4);
    }

    const LONG: Duration = Duration::from_secs(3600);

    fn limits(idle: Duration, header: Duration, lifetime: Duration) -> Limits {
        Limits {
            idle,
            header,
            lifetime,
        }
    }

    #[test]
    fn quiet_idle_connections_are_swept_busy_or_talking_ones_are_not() {
        let conns = Conns::new(10, 10);
        let quiet = conns.admit(ip("192.0.2.1")).unwrap();
        let busy = conns.admit(ip("192.0.2.2")).unwrap();
        busy.conn.in_flight.store(1, Ordering::Release);
        let talking = conns.admit(ip("192.0.2.3")).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        talking.conn.touch();
        let idle = limits(Duration::from_millis(20), LONG, LONG);
        assert_eq!(conns.sweep(&idle), 1);
        assert_eq!(conns.len(), 2, "only the quiet one left the table");
        drop((quiet, busy, talking));
        assert!(conns.is_empty());
    }

    #[test]
    fn http1_connections_unanswered_past_the_header_timeout_are_swept() {
        let conns = Conns::new(10, 10);
        // Trickling a request head: reads, but no request, so no answer.
        let trickling = conns.admit(ip("192.0.2.1")).unwrap();
        let answered = conns.admit(ip("192.0.2.2")).unwrap();
        let busy = conns.admit(ip("192.0.2.3")).unwrap();
        busy.conn.in_flight.store(1, Ordering::Release);
        let h2 = conns.admit(ip("192.0.2.4")).unwrap();
        h2.conn.h2.store(true, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(30));
        trickling.conn.touch();
        answered.conn.touch_write();
        let header = limits(LONG, Duration::from_millis(20), LONG);
        assert_eq!(conns.sweep(&header), 1);
        assert_eq!(conns.len(), 3, "only the trickling one left the table");
        // Nothing lives past the lifetime limit, busy or not.
        let lifetime = limits(LONG, LONG, Duration::from_millis(20));
        assert_eq!(conns.sweep(&lifetime), 3);
        assert!(conns.is_empty());
        drop((trickling, answered, busy, h2));
    }

    #[test]
    fn an_answer_a_slow_reader_is_taking_is_held_to_the_idle_timeout_only() {
        let conns = Conns::new(10, 10);
        let slow = conns.admit(ip("192.0.2.1")).unwrap();
        slow.conn.blocked.store(true, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(30));
        let header = limits(LONG, Duration::from_millis(20), LONG);
        assert_eq!(conns.sweep(&header), 0, "past the header timeout");
        let idle = limits(Duration::from_millis(20), LONG, LONG);
        assert_eq!(conns.sweep(&idle), 1, "nothing taken for the idle timeout");
        drop(slow);
    }

    #[test]
    fn sweeps_come_four_times_per_shortest_limit() {
        let l = limits(
            Duration::from_secs(60),
            Duration::from_secs(10),
            Duration::from_secs(3600),
        );
        assert_eq!(l.sweep_every(), Duration::from_millis(2500));
    }

    #[test]
    fn refusals_are_complete_http_responses() {
        for why in [Refused::ClientFull, Refused::Full] {
            let bytes = refusal(why);
            let text = std::str::from_utf8(&bytes).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(body.len(), len, "{head}");
            assert!(head.contains("Retry-After"));
        }
    }
}
