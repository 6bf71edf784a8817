//! Prometheus metrics: what an operator watches.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

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
    pub requests: Family<RouteLabels, Counter>,
    pub not_modified: Counter,
    pub feed_requests: Counter,
    not_modified_ratio: Gauge<f64, AtomicU64>,
    pub cache_hits: Counter,
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
        let m = Metrics {
            requests: Family::default(),
            not_modified: Counter::default(),
            feed_requests: Counter::default(),
            not_modified_ratio: Gauge::default(),
            cache_hits: Counter::default(),
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
        let total = self.feed_requests.inc() + 1;
        let nm = if not_modified {
            self.not_modified.inc() + 1
        } else {
            self.not_modified.get()
        };
        self.not_modified_ratio.set(nm as f64 / total as f64);
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
    fn subscriber_counts_from_user_agents() {
        assert_eq!(
            subscribers("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; )"),
            Some(42)
        );
        assert_eq!(subscribers("Inoreader/1.0 (1 subscriber)"), Some(1));
        assert_eq!(subscribers("curl/8.0"), None);
    }
}
