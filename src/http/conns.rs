//! Who holds the server's connections, and who gives one up.
//!
//! A connection slot is the scarce thing: an idle keep-alive connection
//! holds one as surely as a busy one. So: one client may hold at most
//! `per_client` of them; when the table is nearly full, idle connections
//! (no request in flight) are asked to close, oldest first, before anyone
//! is turned away; and a connection that still finds no room gets a quick
//! 503 with `Retry-After` instead of waiting in the kernel's queue.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
    /// table needs the room).
    pub shed: Notify,
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
                // The connection's task drops it; its slot frees then.
                c.shed.notify_one();
                t.live.remove(&c.id);
                if let Some(n) = t.per_ip.get_mut(&c.ip) {
                    *n -= 1;
                    if *n == 0 {
                        t.per_ip.remove(&c.ip);
                    }
                }
            }
            if shed > 0 {
                tracing::debug!(shed, "idle connections closed to make room");
            }
        }
        if t.live.len() >= self.max {
            return Err(Refused::Full);
        }
        t.next_id += 1;
        let conn = Arc::new(Conn {
            id: t.next_id,
            ip,
            in_flight: AtomicUsize::new(0),
            shed: Notify::new(),
        });
        t.live.insert(conn.id, conn.clone());
        *t.per_ip.entry(ip).or_default() += 1;
        Ok(Slot {
            conns: self.clone(),
            conn,
        })
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
