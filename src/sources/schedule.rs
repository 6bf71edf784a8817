//! When to poll a source next: pure functions of the configured interval,
//! what the server said (Cache-Control, Expires, Retry-After, RSS `<ttl>`)
//! and how many polls in a row have failed.
//!
//! The rules, in order of precedence:
//! - `Retry-After` (on 429/503) is a promise: no request before it.
//! - After a failure, exponential backoff from the source's interval, with
//!   jitter so that sources that failed together do not retry together.
//! - After a success, the configured `every`, lengthened (never shortened)
//!   by the server's freshness hints, within [`MAX_INTERVAL`].

use std::hash::BuildHasher;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// The longest any hint or backoff may push a poll out.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Parses `30s`, `15m`, `2h`, `1d`, or a sum of them (`1h30m`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: u64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

/// `Retry-After`: delay-seconds or an HTTP date, as the time it allows.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        let secs = secs.min(MAX_INTERVAL.as_secs());
        return Some(now + chrono::Duration::seconds(secs as i64));
    }
    let at: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
    Some(at.min(now + to_chrono(MAX_INTERVAL)))
}

/// How long the response stays fresh by `Cache-Control: max-age` (which
/// wins) or `Expires` minus `Date` (or minus `now` without a `Date`).
/// `no-cache`/`no-store` mean no hint at all.
pub fn freshness(
    cache_control: Option<&str>,
    expires: Option<&str>,
    date: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Duration> {
    if let Some(cc) = cache_control {
        let mut max_age = None;
        for directive in cc.split(',') {
            let directive = directive.trim();
            let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "no-cache" | "no-store" => return None,
                "max-age" => max_age = value.trim().trim_matches('"').parse::<u64>().ok(),
                _ => {}
            }
        }
        if let Some(secs) = max_age {
            return Some(Duration::from_secs(secs));
        }
    }
    let expires: DateTime<Utc> = httpdate::parse_http_date(expires?.trim()).ok()?.into();
    let origin: DateTime<Utc> = date
        .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
        .map_or(now, Into::into);
    (expires - origin).to_std().ok()
}

/// The next poll after a success: `every`, or longer when the server's
/// freshness or the feed's `<ttl>` asks for it, capped at [`MAX_INTERVAL`].
pub fn after_success(
    now: DateTime<Utc>,
    every: Duration,
    fresh_for: Option<Duration>,
    ttl_minutes: Option<u32>,
) -> DateTime<Utc> {
    let ttl = ttl_minutes.map(|m| Duration::from_secs(u64::from(m) * 60));
    let wait = [Some(every), fresh_for, ttl]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(every)
        .min(MAX_INTERVAL.max(every));
    now + to_chrono(wait)
}

/// The backoff before retrying after `failures` consecutive failures
/// (`failures >= 1`): `every · 2^(failures-1)`, capped at
/// [`MAX_INTERVAL`], then scaled by a jitter factor in [0.75, 1.25).
pub fn backoff(every: Duration, failures: u32, jitter: f64) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    let base = every
        .saturating_mul(1u32 << exp)
        .min(MAX_INTERVAL.max(every));
    base.mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A fresh random number in [0, 1) for jitter. Not for cryptography; the
/// standard library's per-process random hash keys are random enough to
/// spread retries, without a dependency.
pub fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let h = std::collections::hash_map::RandomState::new().hash_one(nanos);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

pub fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        for bad in ["", "15", "m", "15 m", "1w", "-1m", "1.5h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_seconds_or_date() {
        let now = t("2024-03-05T10:00:00Z");
        assert_eq!(retry_after("120", now), Some(t("2024-03-05T10:02:00Z")));
        assert_eq!(
            retry_after("Tue, 05 Mar 2024 11:00:00 GMT", now),
            Some(t("2024-03-05T11:00:00Z"))
        );
        assert_eq!(retry_after("soon", now), None);
        // A server cannot push us out for more than a day.
        assert_eq!(retry_after("9999999", now), Some(t("2024-03-06T10:00:00Z")));
    }

    #[test]
    fn freshness_hints() {
        let now = t("2024-03-05T10:00:00Z");
        let f = |cc, ex, date| freshness(cc, ex, date, now);
        assert_eq!(
            f(Some("public, max-age=600"), None, None),
            Some(Duration::from_secs(600))
        );
        assert_eq!(f(Some("no-cache, max-age=600"), None, None), None);
        assert_eq!(
            f(
                None,
                Some("Tue, 05 Mar 2024 11:00:00 GMT"),
                Some("Tue, 05 Mar 2024 10:30:00 GMT")
            ),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(
            f(None, Some("Tue, 05 Mar 2024 10:10:00 GMT"), None),
            Some(Duration::from_secs(600))
        );
        // Already expired, or nonsense: no hint.
        assert_eq!(f(None, Some("0"), None), None);
        assert_eq!(f(None, Some("Tue, 05 Mar 2024 09:00:00 GMT"), None), None);
    }

    #[test]
    fn next_poll_after_success_only_lengthens() {
        let now = t("2024-03-05T10:00:00Z");
        let every = Duration::from_secs(900);
        assert_eq!(
            after_success(now, every, None, None),
            t("2024-03-05T10:15:00Z")
        );
        assert_eq!(
            after_success(now, every, Some(Duration::from_secs(60)), None),
            t("2024-03-05T10:15:00Z")
        );
        assert_eq!(
            after_success(now, every, Some(Duration::from_secs(3600)), Some(90)),
            t("2024-03-05T11:30:00Z")
        );
        assert_eq!(
            after_success(now, every, Some(Duration::from_secs(10 * 86_400)), None),
            t("2024-03-06T10:00:00Z")
        );
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let every = Duration::from_secs(600);
        assert_eq!(backoff(every, 1, 0.5), Duration::from_secs(600));
        assert_eq!(backoff(every, 3, 0.5), Duration::from_secs(2400));
        assert_eq!(backoff(every, 1, 0.0), Duration::from_secs(450));
        assert_eq!(backoff(every, 30, 0.5), MAX_INTERVAL);
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
