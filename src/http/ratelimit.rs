//! Per-client poll limits: a reader polling one feed far more often than
//! its `max-age` allows is told to come back later (429, `Retry-After`).
//!
//! A client may fetch a feed `burst` times per max-age window; that leaves
//! room for a reader's retry and a person's reload, not for a loop.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    burst: u32,
    limit_loopback: bool,
    seen: Mutex<HashMap<(IpAddr, String), (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(burst: u32, limit_loopback: bool) -> RateLimiter {
        RateLimiter {
            burst: burst.max(1),
            limit_loopback,
            seen: Mutex::new(HashMap::new()),
        }
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
        if ip.is_loopback() && !self.limit_loopback {
            return Ok(());
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 100_000 {
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let slot = seen.entry((ip, feed.to_owned())).or_insert((now, 0));
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
