//! Per-client poll limits: a reader polling one feed far more often than
//! its `max-age` allows is told to come back later (429, `Retry-After`).
//!
//! A client may fetch a topic's feeds `burst` times per max-age window;
//! that leaves room for a reader's retry and a person's reload, not for a
//! loop. The key is the client and the topic, not the whole URL: varying
//! `limit=`, `q=` or the format must not buy more polls.
//!
//! Behind a reverse proxy every request comes from the proxy; with the
//! proxy's address in `trusted` the client is the last address in
//! `X-Forwarded-For` that is not a trusted proxy itself.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use ipnet::IpNet;

/// Past this many clients × topics, expired windows are swept (at most
/// once a second, so a flood of new keys costs one scan a second, not one
/// per request).
const SWEEP_ABOVE: usize = 100_000;

pub struct RateLimiter {
    burst: u32,
    limit_loopback: bool,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    slots: HashMap<(IpAddr, String), (Instant, u32)>,
    last_sweep: Option<Instant>,
}

/// Whether `ip` is one of the operator's trusted reverse proxies.
pub fn is_proxy(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

/// The client's address: the peer, or behind trusted proxies the last
/// `X-Forwarded-For` hop that is not one of them.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| is_proxy(*ip, trusted);
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

impl RateLimiter {
    pub fn new(burst: u32, limit_loopback: bool) -> RateLimiter {
        RateLimiter {
            burst: burst.max(1),
            limit_loopback,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Whether `ip` is never limited (loopback, unless told otherwise).
    pub fn exempts(&self, ip: IpAddr) -> bool {
        ip.is_loopback() && !self.limit_loopback
    }

    /// `Err(retry_after)` when `ip` has used up its polls of `feed` in the
    /// current window of `window`.
    pub fn check(
        &self,
        ip: IpAddr,
        feed: &str,
        window: Duration,
        now: Instant,
    ) -> Result<(), Duration> {
        if self.exempts(ip) {
            return Ok(());
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.slots.len() > SWEEP_ABOVE
            && seen
                .last_sweep
                .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1))
        {
            seen.slots
                .retain(|_, (start, _)| now.duration_since(*start) < window);
            seen.last_sweep = Some(now);
        }
        let slot = seen.slots.entry((ip, feed.to_owned())).or_insert((now, 0));
        if now.duration_since(slot.0) >= window {
            *slot = (now, 0);
        }
        slot.1 += 1;
        if slot.1 > self.burst {
            Err(window
                .saturating_sub(now.duration_since(slot.0))
                .max(Duration::from_secs(1)))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_429_then_a_new_window() {
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let rl = RateLimiter::new(2, false);
        let t0 = Instant::now();
        let w = Duration::from_secs(600);
        assert!(rl.check(ip, "/feeds/us.rss", w, t0).is_ok());
        assert!(rl.check(ip, "/feeds/us.rss", w, t0).is_ok());
        let retry = rl
            .check(ip, "/feeds/us.rss", w, t0 + Duration::from_secs(100))
            .expect_err("limited");
        assert_eq!(retry, Duration::from_secs(500));
        assert!(rl.check(ip, "/feeds/world.rss", w, t0).is_ok(), "per feed");
        assert!(
            rl.check(ip, "/feeds/us.rss", w, t0 + w).is_ok(),
            "new window"
        );
    }

    #[test]
    fn the_client_behind_trusted_proxies_is_the_last_untrusted_hop() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.5".parse().unwrap(),
        );
        // A client may write anything on the left; the right end is ours.
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            client_ip(stranger, &h, &trusted),
            stranger,
            "untrusted peers are the client"
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn loopback_is_exempt_unless_asked() {
        let lo: IpAddr = "127.0.0.1".parse().expect("ip");
        let t0 = Instant::now();
        let w = Duration::from_secs(60);
        let rl = RateLimiter::new(1, false);
        assert!((0..10).all(|_| rl.check(lo, "f", w, t0).is_ok()));
        let rl = RateLimiter::new(1, true);
        assert!(rl.check(lo, "f", w, t0).is_ok());
        assert!(rl.check(lo, "f", w, t0).is_err());
    }
}
