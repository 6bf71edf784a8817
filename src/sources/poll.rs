//! The feed poller: fetch a source, hand the document to the [`Sink`]
//! (the pipeline reads, classifies and stores it), and schedule the next
//! poll.
//!
//! [`Poller::poll_source`] is one poll of one source, deciding from the
//! stored state whether a request may be sent at all (`Retry-After`, the
//! schedule); [`Poller::poll_round`] polls several at once (the per-host
//! limit keeps that polite); [`Poller::run`] is the service's loop, one task
//! per source so that a slow or failing source never delays the others.
//! The poller never parses or stores itself: what the sink does with a
//! document it reports back as a [`FeedReport`].

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::config::{self, SourceConfig, SourcesConfig};
use super::fetch::{Conditional, FetchOptions, Fetched, Fetcher, ResponseMeta};
use super::schedule;
use super::state::{HealthBoard, SourceState, StateFile};
use super::{FeedReport, RawDocument, Sink, SourceError};
use crate::ingest::feed::FeedReader;
use crate::model::Summary;
use crate::watch::Wake;

/// The poller's policy.
#[derive(Debug, Clone)]
pub struct PollOptions {
    pub fetch: FetchOptions,
    /// Consecutive failures after which a source is reported unhealthy.
    pub unhealthy_after: u32,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions {
            fetch: FetchOptions::default(),
            unhealthy_after: 3,
        }
    }
}

impl PollOptions {
    /// The defaults, with the operator's `[outbound]` allowances.
    pub fn with_outbound(outbound: super::OutboundPolicy) -> PollOptions {
        let mut opts = PollOptions::default();
        opts.fetch.outbound = outbound;
        opts
    }
}

/// How one poll of one source went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// A 2xx with a feed that parsed.
    Fetched {
        status: u16,
        entries: usize,
        /// Pages fetched for full text.
        full_text: usize,
        /// Which reader read the document.
        reader: FeedReader,
        /// The document was damaged; the entries before the damage were kept.
        damaged: bool,
    },
    /// 304: nothing changed since the validators we sent.
    NotModified,
    /// Not polled: the schedule says later (only when not forced).
    NotDue,
    /// Not polled: the server asked us (Retry-After) to wait until then.
    Deferred { until: DateTime<Utc> },
    /// Polled and failed; `status` when the server answered.
    Failed { status: Option<u16>, error: String },
}

/// One line of `topicfeed poll` output, and one log event in the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceReport {
    pub name: String,
    pub url: String,
    pub outcome: PollOutcome,
    pub counts: Summary,
    /// When the source is due again (after any Retry-After).
    pub next_poll: Option<DateTime<Utc>>,
    /// False once the source has failed too many times in a row.
    pub healthy: bool,
}

impl SourceReport {
    pub fn failed(&self) -> bool {
        matches!(self.outcome, PollOutcome::Failed { .. })
    }
}

impl fmt::Display for SourceReport {
    /// `Harbour News: HTTP 200, read 7, stored 6 (new 2, updated 0,
    /// unchanged 3, duplicate 1), skipped 1`, then one indented line per
    /// skipped entry saying why. Counts are shown only when a document was
    /// read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.name)?;
        let at = |t: &DateTime<Utc>| crate::model::rfc3339(t);
        match &self.outcome {
            PollOutcome::Fetched {
                status,
                entries,
                full_text,
                reader,
                damaged,
            } => {
                let c = &self.counts;
                write!(
                    f,
                    "HTTP {status}, read {entries}, stored {} (new {}, updated {}, unchanged {}, duplicate {}), skipped {}",
                    c.stored(),
                    c.new,
                    c.updated,
                    c.unchanged,
                    c.duplicate,
                    c.failed.len()
                )?;
                // feed-rs is the usual reader: only the fallback is named.
                if *reader != FeedReader::FeedRs {
                    write!(f, "; read by the {} reader", reader.as_str())?;
                }
                if *damaged {
                    write!(f, "; damaged document (kept the entries before the damage)")?;
                }
                if *full_text > 0 {
                    write!(f, "; {full_text} pages fetched for full text")?;
                }
                for fail in &c.failed {
                    write!(f, "\n  skipped {}: {}", fail.subject, fail.reason)?;
                }
                Ok(())
            }
            PollOutcome::NotModified => write!(f, "HTTP 304 not modified"),
            PollOutcome::NotDue => match &self.next_poll {
                Some(t) => write!(f, "not due until {}", at(t)),
                None => write!(f, "not due"),
            },
            PollOutcome::Deferred { until } => {
                write!(f, "not polled: server asked to wait until {}", at(until))
            }
            PollOutcome::Failed { error, .. } => {
                write!(f, "FAILED: {error}")?;
                if !self.healthy {
                    write!(f, " (unhealthy)")?;
                }
                Ok(())
            }
        }
    }
}

/// Polls sources into a store. Share it behind an `Arc`.
pub struct Poller {
    fetcher: Arc<Fetcher>,
    sink: Arc<dyn Sink>,
    state: Arc<StateFile>,
    health: HealthBoard,
    opts: PollOptions,
}

impl Poller {
    /// A poller keeping its state in `data_dir` (beside the store).
    pub fn new(
        sink: Arc<dyn Sink>,
        data_dir: &std::path::Path,
        opts: PollOptions,
    ) -> Result<Poller, SourceError> {
        Ok(Poller {
            fetcher: Arc::new(Fetcher::new(opts.fetch.clone())?),
            sink,
            state: Arc::new(StateFile::new(data_dir)),
            health: HealthBoard::new(),
            opts,
        })
    }

    /// Live per-source health: clone it into whatever displays it.
    pub fn health(&self) -> HealthBoard {
        self.health.clone()
    }

    /// Makes the health board list `sources`, seeded from stored state.
    pub fn configure(&self, sources: &[SourceConfig]) {
        let stored = self.state.load().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "poll state unreadable; starting afresh");
            Default::default()
        });
        self.health
            .configure(sources, &stored, self.opts.unhealthy_after);
    }

    /// Polls each source once, concurrently; reports in the given order.
    /// `force` ignores the schedule (never a server's Retry-After).
    pub async fn poll_round(
        self: &Arc<Self>,
        sources: &[SourceConfig],
        now: DateTime<Utc>,
        force: bool,
    ) -> Vec<SourceReport> {
        let mut set = tokio::task::JoinSet::new();
        for (i, src) in sources.iter().cloned().enumerate() {
            let this = self.clone();
            set.spawn(async move { (i, this.poll_source(&src, now, force).await) });
        }
        let mut reports: Vec<(usize, SourceReport)> = Vec::with_capacity(sources.len());
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(r) => reports.push(r),
                Err(e) => tracing::error!(error = %e, "poll task failed"),
            }
        }
        reports.sort_by_key(|(i, _)| *i);
        reports.into_iter().map(|(_, r)| r).collect()
    }

    /// Polls one source, unless the stored state says not to yet.
    pub async fn poll_source(
        &self,
        src: &SourceConfig,
        now: DateTime<Utc>,
        force: bool,
    ) -> SourceReport {
        let span = tracing::info_span!("poll", source = %src.name);
        self.poll_source_inner(src, now, force)
            .instrument(span)
            .await
    }

    async fn poll_source_inner(
        &self,
        src: &SourceConfig,
        now: DateTime<Utc>,
        force: bool,
    ) -> SourceReport {
        let mut state = match self.state.get(&src.name, &src.url) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "poll state unreadable; polling unconditionally");
                SourceState {
                    url: src.url.clone(),
                    ..SourceState::default()
                }
            }
        };
        let report = |outcome, counts, state: &SourceState| SourceReport {
            name: src.name.clone(),
            url: src.url.clone(),
            outcome,
            counts,
            next_poll: due(state),
            healthy: state.failures < self.opts.unhealthy_after.max(1),
        };
        if let Some(until) = state.not_before.filter(|t| now < *t) {
            return report(PollOutcome::Deferred { until }, Summary::default(), &state);
        }
        if !force && state.next_poll.is_some_and(|t| now < t) {
            return report(PollOutcome::NotDue, Summary::default(), &state);
        }
        state.last_attempt = Some(now);
        let target = state.moved_to.clone().unwrap_or_else(|| src.url.clone());
        let cond = Conditional {
            etag: state.etag.as_deref(),
            last_modified: state.last_modified.as_deref(),
        };
        let fetched = self.fetcher.fetch_feed(&src.name, &target, cond).await;
        let (outcome, counts) = match fetched {
            Ok(Fetched::Body(doc, meta)) => match self.ingest_feed(src, doc).await {
                Ok(report) => {
                    self.succeeded(src, &mut state, &meta, now, report.facts.ttl_minutes);
                    let outcome = PollOutcome::Fetched {
                        status: meta.status,
                        entries: report.facts.entries,
                        full_text: report.full_text,
                        reader: report.facts.reader,
                        damaged: report.facts.damaged,
                    };
                    (outcome, report.summary)
                }
                Err(e) => {
                    // Validators are not kept: the same broken body must
                    // be fetched and fail again, not pass as a 304.
                    self.failed(src, &mut state, Some(&meta), now, e.to_string());
                    let outcome = PollOutcome::Failed {
                        status: Some(meta.status),
                        error: e.to_string(),
                    };
                    (outcome, Summary::default())
                }
            },
            Ok(Fetched::NotModified(meta)) => {
                self.succeeded(src, &mut state, &meta, now, None);
                (PollOutcome::NotModified, Summary::default())
            }
            Ok(Fetched::Status(meta)) => {
                let error = status_text(meta.status);
                self.failed(src, &mut state, Some(&meta), now, error.clone());
                let outcome = PollOutcome::Failed {
                    status: Some(meta.status),
                    error,
                };
                (outcome, Summary::default())
            }
            Err(e) => {
                self.failed(src, &mut state, None, now, e.to_string());
                let outcome = PollOutcome::Failed {
                    status: None,
                    error: e.to_string(),
                };
                (outcome, Summary::default())
            }
        };
        self.save(src, &state, &outcome, &counts).await;
        report(outcome, counts, &state)
    }

    fn succeeded(
        &self,
        src: &SourceConfig,
        state: &mut SourceState,
        meta: &ResponseMeta,
        now: DateTime<Utc>,
        ttl_minutes: Option<u32>,
    ) {
        if meta.status != 304 {
            // A 200 without validators means the old ones no longer apply.
            state.etag = meta.etag.clone();
            state.last_modified = meta.last_modified.clone();
        } else {
            // A 304 may refresh them (RFC 9110 15.4.5).
            state.etag = meta.etag.clone().or(state.etag.take());
            state.last_modified = meta.last_modified.clone().or(state.last_modified.take());
        }
        if let Some(moved) = &meta.moved_permanently
            && state.moved_to.as_ref() != Some(moved)
        {
            tracing::info!(to = %moved, "feed moved permanently; polling the new address (update sources.toml)");
            state.moved_to = Some(moved.clone());
        }
        let fresh = schedule::freshness(
            meta.cache_control.as_deref(),
            meta.expires.as_deref(),
            meta.date.as_deref(),
            now,
        );
        state.next_poll = Some(schedule::after_success(now, src.every, fresh, ttl_minutes));
        state.not_before = None;
        state.failures = 0;
        state.backoff_secs = None;
        state.last_error = None;
        state.last_success = Some(now);
        state.last_status = Some(meta.status);
    }

    fn failed(
        &self,
        src: &SourceConfig,
        state: &mut SourceState,
        meta: Option<&ResponseMeta>,
        now: DateTime<Utc>,
        error: String,
    ) {
        state.failures = state.failures.saturating_add(1);
        let backoff = schedule::backoff(src.every, state.failures, schedule::jitter());
        state.backoff_secs = Some(backoff.as_secs());
        state.next_poll = Some(now + schedule::to_chrono(backoff));
        state.not_before = meta
            .and_then(|m| m.retry_after.as_deref())
            .and_then(|v| schedule::retry_after(v, now));
        state.last_status = meta.map(|m| m.status);
        if state.failures == self.opts.unhealthy_after.max(1) {
            tracing::warn!(failures = state.failures, %error, "source unhealthy");
        } else {
            tracing::warn!(failures = state.failures, %error, "poll failed");
        }
        state.last_error = Some(error);
    }

    async fn save(
        &self,
        src: &SourceConfig,
        state: &SourceState,
        outcome: &PollOutcome,
        counts: &Summary,
    ) {
        let file = self.state.clone();
        let (name, st) = (src.name.clone(), state.clone());
        match tokio::task::spawn_blocking(move || file.put(&name, &st)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "poll state not saved"),
            Err(e) => tracing::error!(error = %e, "poll state task failed"),
        }
        let new = counts.new as u64;
        self.health.record(
            &src.name,
            state,
            self.opts.unhealthy_after,
            |h| match outcome {
                PollOutcome::Fetched { .. } => {
                    h.polls_fetched += 1;
                    h.articles_new += new;
                }
                PollOutcome::NotModified => h.polls_not_modified += 1,
                PollOutcome::Failed { .. } => h.polls_failed += 1,
                PollOutcome::NotDue | PollOutcome::Deferred { .. } => {}
            },
        );
    }

    /// Hands a fetched feed to the sink, which reads, classifies and
    /// stores it (fetching pages for full text where the source asks).
    async fn ingest_feed(
        &self,
        src: &SourceConfig,
        doc: RawDocument,
    ) -> Result<FeedReport, SourceError> {
        let url = doc.url.clone().unwrap_or_else(|| src.url.clone());
        let report = self
            .sink
            .feed(src.clone(), doc, self.fetcher.clone())
            .await
            .map_err(|reason| SourceError::Malformed {
                url: url.clone(),
                reason,
            })?;
        for f in &report.summary.failed {
            tracing::debug!(entry = %f.subject, reason = %f.reason, "entry not stored");
        }
        Ok(report)
    }

    /// The service loop: one task per configured source, restarted when
    /// `sources.toml` changes (a bad edit keeps the running set). Never
    /// returns; drop the runtime or abort the task to stop it.
    pub async fn run(self: Arc<Self>, feeds_dir: PathBuf, initial: SourcesConfig) {
        let mut watch = crate::watch::DirWatch::new(&feeds_dir, |p| {
            p.file_name().is_some_and(|n| n == config::SOURCES_FILE)
        });
        let mut current = initial.sources;
        self.configure(&current);
        let mut tasks = self.spawn_sources(&current);
        loop {
            if watch.changed(Duration::from_secs(3600)).await == Wake::Timeout {
                continue;
            }
            match config::load(&feeds_dir) {
                Ok(c) if c.sources == current => {}
                Ok(c) => {
                    tracing::info!(sources = c.sources.len(), "sources.toml reloaded");
                    tasks.abort_all();
                    current = c.sources;
                    self.configure(&current);
                    tasks = self.spawn_sources(&current);
                }
                Err(e) => {
                    tracing::error!(error = %e, "sources.toml not reloaded; keeping the running sources");
                }
            }
        }
    }

    /// One task per source, in a set that aborts them all when dropped:
    /// when `run` stops (this instance no longer leads), polling stops.
    fn spawn_sources(self: &Arc<Self>, sources: &[SourceConfig]) -> tokio::task::JoinSet<()> {
        let mut set = tokio::task::JoinSet::new();
        for src in sources.iter().cloned() {
            set.spawn(self.clone().source_loop(src));
        }
        set
    }

    async fn source_loop(self: Arc<Self>, src: SourceConfig) {
        loop {
            let now = Utc::now();
            let report = self.poll_source(&src, now, false).await;
            match &report.outcome {
                PollOutcome::Fetched { .. } => tracing::info!(source = %src.name, "{report}"),
                PollOutcome::Failed { .. } => {} // logged where it failed
                _ => tracing::debug!(source = %src.name, "{report}"),
            }
            // Re-check at least hourly, so a changed clock cannot strand a source.
            let wait = report
                .next_poll
                .map(|t| (t - Utc::now()).to_std().unwrap_or_default())
                .unwrap_or(src.every)
                .clamp(Duration::from_secs(1), Duration::from_secs(3600));
            tokio::time::sleep(wait).await;
        }
    }
}

/// When a source may next be polled: the later of schedule and Retry-After.
fn due(state: &SourceState) -> Option<DateTime<Utc>> {
    match (state.next_poll, state.not_before) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("HTTP {status} {reason}"),
        None => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lines() {
        let r = SourceReport {
            name: "A".into(),
            url: "u".into(),
            outcome: PollOutcome::NotModified,
            counts: Summary::default(),
            next_poll: None,
            healthy: true,
        };
        assert_eq!(r.to_string(), "A: HTTP 304 not modified");
        assert_eq!(status_text(429), "HTTP 429 Too Many Requests");

        let mut counts = Summary::default();
        counts.record(&crate::model::Outcome::New);
        counts.fail("rss entry 2", "no title, link or text");
        let r = SourceReport {
            outcome: PollOutcome::Fetched {
                status: 200,
                entries: 2,
                full_text: 0,
                reader: FeedReader::Salvage,
                damaged: true,
            },
            counts,
            ..r
        };
        assert_eq!(
            r.to_string(),
            "A: HTTP 200, read 2, stored 1 (new 1, updated 0, unchanged 0, duplicate 0), skipped 1; \
             read by the salvage reader; damaged document (kept the entries before the damage)\n  \
             skipped rss entry 2: no title, link or text"
        );
    }
}
