//! Prometheus metrics: what an operator watches.
//!
//! The counters every request touches are [`Sharded`]: each thread adds
//! into its own cache line and a scrape sums them. One shared atomic,
//! added to by every connection worker on every poll, had its cache line
//! bounce between the cores on each request; the scrape is rare, the
//! polls are not.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A counter that the hot path bumps without sharing a cache line
/// across threads (see the module's doc).
pub type HotCounter = Counter<u64, Sharded>;

/// Slots of a [`Sharded`] count; threads past this many share slots,
/// which stays correct (the slots are atomics), only slower.
const SHARDS: usize = 8;

/// One slot on its own cache line (128 bytes: adjacent-line prefetch
/// pairs lines on x86).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Slot(AtomicU64);

/// A count split in per-thread slots, summed when read. Unlike a plain
/// counter's, its `inc` does not return the previous total (it gives 0).
#[derive(Debug, Default)]
pub struct Sharded {
    slots: [Slot; SHARDS],
}

static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's slot, given out in turn at its first count.
    static SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

impl prometheus_client::metrics::counter::Atomic<u64> for Sharded {
    fn inc(&self) -> u64 {
        self.inc_by(1)
    }

    fn inc_by(&self, v: u64) -> u64 {
        let slot = SHARD.with(|s| *s);
        self.slots[slot].0.fetch_add(v, Ordering::Relaxed);
        // Not the previous total, which would mean reading every slot on
        // every count; the total is `get`'s.
        0
    }

    fn get(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.0.load(Ordering::Relaxed))
            .fold(0u64, u64::wrapping_add)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourcePollLabels {
    pub source: String,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FeedLabels {
    pub feed: String,
}

pub struct Metrics {
    registry: Registry,
    /// Tells this instance's handles apart in the threads' memo of them
    /// ([`Metrics::count_request`]).
    id: usize,
    requests: Family<RouteLabels, HotCounter>,
    not_modified: HotCounter,
    feed_requests: HotCounter,
    not_modified_ratio: Gauge<f64, AtomicU64>,
    pub cache_hits: HotCounter,
    pub cache_misses: Counter,
    cache_bytes: Gauge,
    cache_entries: Gauge,
    pub ingested: Family<OutcomeLabels, Counter>,
    pub subscribers: Family<FeedLabels, Gauge>,
    pub rate_limited: Counter,
    pub read_key_refused: Counter,
    pub connections_refused: Counter,
    pub websub_delivered: Counter,
    pub websub_dropped: Counter,
    source_healthy: Family<SourceLabels, Gauge>,
    source_failures: Family<SourceLabels, Gauge>,
    source_polls: Family<SourcePollLabels, Gauge>,
    source_articles: Family<SourceLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("topicfeed");
        static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
        let m = Metrics {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            requests: Family::default(),
            not_modified: HotCounter::default(),
            feed_requests: HotCounter::default(),
            not_modified_ratio: Gauge::default(),
            cache_hits: HotCounter::default(),
            cache_misses: Counter::default(),
            cache_bytes: Gauge::default(),
            cache_entries: Gauge::default(),
            ingested: Family::default(),
            subscribers: Family::default(),
            rate_limited: Counter::default(),
            read_key_refused: Counter::default(),
            connections_refused: Counter::default(),
            websub_delivered: Counter::default(),
            websub_dropped: Counter::default(),
            source_healthy: Family::default(),
            source_failures: Family::default(),
            source_polls: Family::default(),
            source_articles: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            m.requests.clone(),
        );
        registry.register(
            "feed_requests",
            "Feed requests (any format)",
            m.feed_requests.clone(),
        );
        registry.register(
            "feed_not_modified",
            "Feed requests answered 304",
            m.not_modified.clone(),
        );
        registry.register(
            "feed_not_modified_ratio",
            "Share of feed requests answered 304",
            m.not_modified_ratio.clone(),
        );
        registry.register(
            "feed_cache_hits",
            "Feed requests served from the render cache",
            m.cache_hits.clone(),
        );
        registry.register(
            "feed_cache_misses",
            "Feed requests that rendered",
            m.cache_misses.clone(),
        );
        registry.register(
            "feed_cache_bytes",
            "Bytes held by the render cache (serve --cache-bytes bounds it)",
            m.cache_bytes.clone(),
        );
        registry.register(
            "feed_cache_entries",
            "Feed variants held by the render cache",
            m.cache_entries.clone(),
        );
        registry.register(
            "read_key_refused",
            "Requests that presented a wrong read key",
            m.read_key_refused.clone(),
        );
        registry.register(
            "websub_deliveries",
            "Feed changes the WebSub hub delivered to a subscriber",
            m.websub_delivered.clone(),
        );
        registry.register(
            "websub_dropped",
            "WebSub deliveries given up after every retry failed",
            m.websub_dropped.clone(),
        );
        registry.register(
            "ingested_articles",
            "Articles ingested by outcome",
            m.ingested.clone(),
        );
        registry.register(
            "feed_subscribers",
            "Subscribers reported by aggregators' User-Agent, per feed",
            m.subscribers.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests answered 429",
            m.rate_limited.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections answered 503 for want of a slot (per client or in all)",
            m.connections_refused.clone(),
        );
        registry.register(
            "source_healthy",
            "1 while an upstream source polls fine, 0 once it keeps failing",
            m.source_healthy.clone(),
        );
        registry.register(
            "source_consecutive_failures",
            "Failed polls in a row, per upstream source",
            m.source_failures.clone(),
        );
        registry.register(
            "source_polls",
            "Polls since start per upstream source, by result (fetched, not_modified, failed)",
            m.source_polls.clone(),
        );
        registry.register(
            "source_new_articles",
            "Articles stored as new since start, per upstream source",
            m.source_articles.clone(),
        );
        Metrics { registry, ..m }
    }

    pub fn record_feed(&self, not_modified: bool) {
        self.feed_requests.inc();
        if not_modified {
            self.not_modified.inc();
        }
    }

    /// Counts a request of `route` answered `status`. The family's handle
    /// for the pair is looked up once per thread: the family's map sits
    /// behind a lock every worker would take on every request.
    pub fn count_request(&self, route: &'static str, status: u16) {
        thread_local! {
            static HANDLES: RefCell<Vec<(usize, &'static str, u16, HotCounter)>> =
                const { RefCell::new(Vec::new()) };
        }
        /// Route and status pairs one thread keeps handles of; a rare
        /// pair past them goes through the family's lock, as before.
        const KEPT: usize = 64;
        HANDLES.with(|h| {
            let mut h = h.borrow_mut();
            if let Some((.., c)) = h
                .iter()
                .find(|(id, r, s, _)| *id == self.id && *s == status && *r == route)
            {
                c.inc();
                return;
            }
            let c = self
                .requests
                .get_or_create(&RouteLabels { route, status })
                .clone();
            c.inc();
            if h.len() < KEPT {
                h.push((self.id, route, status, c));
            }
        });
    }

    /// Aggregators put "N subscribers" in their User-Agent.
    pub fn record_subscribers(&self, feed: &str, user_agent: &str) {
        if let Some(n) = subscribers(user_agent) {
            self.subscribers
                .get_or_create(&FeedLabels {
                    feed: feed.to_owned(),
                })
                .set(n);
        }
    }

    /// Copies the poller's view of the upstream sources into the gauges.
    pub fn record_sources(&self, sources: &[crate::sources::SourceHealth]) {
        for s in sources {
            let l = SourceLabels {
                source: s.name.clone(),
            };
            self.source_healthy
                .get_or_create(&l)
                .set(i64::from(s.healthy));
            self.source_failures
                .get_or_create(&l)
                .set(i64::from(s.consecutive_failures));
            self.source_articles
                .get_or_create(&l)
                .set(s.articles_new as i64);
            for (result, n) in [
                ("fetched", s.polls_fetched),
                ("not_modified", s.polls_not_modified),
                ("failed", s.polls_failed),
            ] {
                self.source_polls
                    .get_or_create(&SourcePollLabels {
                        source: s.name.clone(),
                        result,
                    })
                    .set(n as i64);
            }
        }
    }

    /// Copies the render cache's size into its gauges (at scrape time).
    pub fn record_cache(&self, bytes: u64, entries: usize) {
        self.cache_bytes
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        self.cache_entries
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
    }

    pub fn encode(&self) -> String {
        // Worked out here rather than per request: a gauge set on every
        // poll is one more line bounced between the workers.
        let total = self.feed_requests.get();
        if total > 0 {
            self.not_modified_ratio
                .set(self.not_modified.get() as f64 / total as f64);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers)" → 42.
pub fn subscribers(user_agent: &str) -> Option<i64> {
    let lower = user_agent.to_ascii_lowercase();
    let at = lower.find("subscriber")?;
    let before = lower[..at].trim_end();
    let digits: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharded_counts_add_up_across_threads() {
        let m = Metrics::new();
        std::thread::scope(|scope| {
            for _ in 0..12 {
                scope.spawn(|| {
                    for i in 0..1000u16 {
                        m.record_feed(i % 4 == 0);
                        m.count_request("feed", if i % 4 == 0 { 304 } else { 200 });
                    }
                });
            }
        });
        let text = m.encode();
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {text}"))
        };
        assert_eq!(value("topicfeed_feed_requests_total"), 12_000.0);
        assert_eq!(value("topicfeed_feed_not_modified_total"), 3_000.0);
        assert_eq!(value("topicfeed_feed_not_modified_ratio"), 0.25);
        assert_eq!(
            value("topicfeed_http_requests_total{route=\"feed\",status=\"304\"}"),
            3_000.0
        );
        // Another instance on the same threads starts from nothing.
        let other = Metrics::new();
        other.count_request("feed", 304);
        assert!(
            other
                .encode()
                .contains("topicfeed_http_requests_total{route=\"feed\",status=\"304\"} 1\n")
        );
    }

    #[test]
    fn subscriber_counts_from_user_agents() {
        assert_eq!(
            subscribers("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; )"),
            Some(42)
        );
        assert_eq!(subscribers("Inoreader/1.0 (1 subscriber)"), Some(1));
        assert_eq!(subscribers("curl/8.0"), None);
    }
}
