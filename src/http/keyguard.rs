//! Wrong read keys, counted per client address, so that a private feed's
//! key cannot be guessed over HTTP at the server's request rate.
//!
//! After [`MAX_WRONG`] wrong keys from one address within [`WINDOW`], every
//! request from that address that presents a key is answered 429 until the
//! window ends, and its key is not checked: a guess that happens to be
//! right cannot be confirmed during the lockout. Requests without a key,
//! and public feeds, never reach this. A reader with a typo in its URL
//! stays far below the bound; a guesser gets [`MAX_WRONG`] tries per
//! [`WINDOW`] from each address it has. An IPv6 address counts by its /64,
//! the block one subscriber is given, so that a host cannot guess from a
//! fresh address each time. Behind a reverse proxy every client has the
//! proxy's address unless `--trusted-proxy` names it. At most
//! [`MAX_ADDRESSES`] addresses are remembered, so guessing from many
//! addresses costs the server a bounded table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;

/// Wrong keys one address may present per window.
pub const MAX_WRONG: u32 = 10;
/// How long wrong keys are remembered, and a lockout lasts.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Past this many addresses, expired ones are swept (at most once a
/// second).
const SWEEP_ABOVE: usize = 50_000;
/// The most addresses remembered (a few megabytes): a guesser spread over
/// more addresses than this within one window pushes out one remembered
/// address, any, for each new one. That frees it to try again, but it had
/// that many fresh addresses to try from anyway.
const MAX_ADDRESSES: usize = 100_000;

pub struct KeyGuard {
    wrong: Mutex<Wrong>,
    /// Counts every wrong key (`topicfeed_read_key_refused`).
    refused: Counter,
}

#[derive(Default)]
struct Wrong {
    /// Per address: when its window started, and its wrong keys since.
    by_ip: HashMap<IpAddr, (Instant, u32)>,
    last_sweep: Option<Instant>,
}

impl KeyGuard {
    pub fn new(refused: Counter) -> KeyGuard {
        KeyGuard {
            wrong: Mutex::new(Wrong::default()),
            refused,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Wrong> {
        self.wrong.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Some(retry_after)` while `ip` is locked out.
    pub fn locked(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let ip = counted_as(ip);
        let wrong = self.lock();
        let (start, n) = *wrong.by_ip.get(&ip)?;
        let age = now.saturating_duration_since(start);
        (age < WINDOW && n >= MAX_WRONG).then(|| (WINDOW - age).max(Duration::from_secs(1)))
    }

    /// Records a wrong key from `ip`.
    pub fn wrong(&self, ip: IpAddr, now: Instant) {
        let ip = counted_as(ip);
        self.refused.inc();
        let mut wrong = self.lock();
        if wrong.by_ip.len() > SWEEP_ABOVE
            && wrong
                .last_sweep
                .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1))
        {
            wrong
                .by_ip
                .retain(|_, (start, _)| now.saturating_duration_since(*start) < WINDOW);
            wrong.last_sweep = Some(now);
        }
        if wrong.by_ip.len() >= MAX_ADDRESSES
            && !wrong.by_ip.contains_key(&ip)
            && let Some(any) = wrong.by_ip.keys().next().copied()
        {
            wrong.by_ip.remove(&any);
        }
        let slot = wrong.by_ip.entry(ip).or_insert((now, 0));
        if now.saturating_duration_since(slot.0) >= WINDOW {
            *slot = (now, 0);
        }
        slot.1 = slot.1.saturating_add(1);
    }
}

/// The address wrong keys are counted under: IPv4 as it is, IPv6 by /64.
fn counted_as(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !u128::from(u64::MAX);
            IpAddr::V6(bits.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_locked_after_its_wrong_keys_then_let_go() {
        let guard = KeyGuard::new(Counter::default());
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        for i in 0..MAX_WRONG {
            assert_eq!(guard.locked(a, t0), None, "after {i} wrong keys");
            guard.wrong(a, t0);
        }
        let after = guard.locked(a, t0 + Duration::from_secs(60));
        assert_eq!(after, Some(WINDOW - Duration::from_secs(60)));
        assert_eq!(guard.locked(b, t0), None, "another address is not affected");
        assert_eq!(guard.locked(a, t0 + WINDOW), None, "the window ends");
        guard.wrong(a, t0 + WINDOW);
        assert_eq!(
            guard.locked(a, t0 + WINDOW),
            None,
            "a new window starts from one"
        );
        assert_eq!(guard.refused.get(), u64::from(MAX_WRONG) + 1);
    }

    #[test]
    fn the_table_of_addresses_is_bounded() {
        let guard = KeyGuard::new(Counter::default());
        let t0 = Instant::now();
        // All within one window: nothing expires, so only the bound holds.
        for i in 0..(MAX_ADDRESSES as u32 + 5_000) {
            guard.wrong(IpAddr::V4((0x0a00_0000 + i).into()), t0);
        }
        assert_eq!(guard.lock().by_ip.len(), MAX_ADDRESSES);
        // An address already counted keeps counting at the bound.
        let last = IpAddr::V4((0x0a00_0000 + MAX_ADDRESSES as u32 + 4_999).into());
        for _ in 1..MAX_WRONG {
            guard.wrong(last, t0);
        }
        assert!(guard.locked(last, t0).is_some());
        assert_eq!(guard.lock().by_ip.len(), MAX_ADDRESSES);
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let guard = KeyGuard::new(Counter::default());
        let t0 = Instant::now();
        for i in 0..MAX_WRONG {
            guard.wrong(format!("2001:db8:1:2::{i:x}").parse().unwrap(), t0);
        }
        assert!(
            guard
                .locked("2001:db8:1:2::ffff".parse().unwrap(), t0)
                .is_some()
        );
        assert!(
            guard
                .locked("2001:db8:1:3::1".parse().unwrap(), t0)
                .is_none()
        );
    }
}
