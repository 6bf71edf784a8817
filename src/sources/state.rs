//! Per-source poll state that outlives the process, and live health.
//!
//! [`StateFile`]: validators (`ETag`, `Last-Modified`), schedule
//! (`next_poll`, Retry-After embargo), failures and last error per source,
//! kept as JSON in `<data>/sources-state.json`. A file beside the store
//! rather than a table in it: this is the poller's cache of HTTP
//! bookkeeping, not stories; losing it costs one unconditional fetch per
//! source, and keeping it out of the `Store` trait keeps that boundary
//! about stories (and SQL inside `store/`). Each update re-reads the file
//! and replaces one entry, then renames a temporary file over it, so a
//! `topicfeed poll` next to a running server loses nothing but a race on
//! the same source.
//!
//! [`HealthBoard`]: the state plus counters, shared with whoever shows it
//! (the index page, `/metrics`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SourceError;

/// The state file inside the data directory.
pub const STATE_FILE: &str = "sources-state.json";

/// What the poller remembers about one source between polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceState {
    /// The configured URL this state belongs to: validators for another
    /// URL are worthless, so a changed URL starts afresh.
    pub url: String,
    /// Where a permanent redirect (301/308) sent us; polled instead of `url`.
    pub moved_to: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_poll: Option<DateTime<Utc>>,
    /// From `Retry-After`: no request before this, whatever else says.
    pub not_before: Option<DateTime<Utc>>,
    /// Consecutive failed polls.
    pub failures: u32,
    pub last_error: Option<String>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    /// The backoff in force after the last failure, in seconds.
    pub backoff_secs: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Doc {
    #[serde(default)]
    sources: BTreeMap<String, SourceState>,
}

/// The JSON file of [`SourceState`]s.
pub struct StateFile {
    path: PathBuf,
    /// Serializes this process's read-modify-write cycles, and holds how
    /// the last one ended (`None`: it was written).
    lock: Mutex<Option<String>>,
    /// States handed to [`StateFile::put`] and not yet written.
    pending: Mutex<BTreeMap<String, SourceState>>,
}

impl StateFile {
    pub fn new(data_dir: &Path) -> StateFile {
        StateFile {
            path: data_dir.join(STATE_FILE),
            lock: Mutex::new(None),
            pending: Mutex::new(BTreeMap::new()),
        }
    }

    fn read(&self) -> Result<Doc, SourceError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                SourceError::Config(crate::config::ConfigError::new(
                    &self.path,
                    Some(e.line()),
                    format!("unreadable poll state ({e}); delete the file to start afresh"),
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Doc::default()),
            Err(source) => Err(SourceError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Every source's state.
    pub fn load(&self) -> Result<BTreeMap<String, SourceState>, SourceError> {
        Ok(self.read()?.sources)
    }

    /// One source's state, or a fresh one for `url` if none is stored for it.
    pub fn get(&self, name: &str, url: &str) -> Result<SourceState, SourceError> {
        let state = self.load()?.remove(name).filter(|s| s.url == url);
        Ok(state.unwrap_or_else(|| SourceState {
            url: url.to_owned(),
            ..SourceState::default()
        }))
    }

    /// Whether a poll of `sources` will be sent a whole document: one of
    /// them has no validators (ETag, Last-Modified) stored for its URL, so
    /// it cannot answer 304. An unreadable state file counts as none.
    pub fn expects_documents(&self, sources: &[super::SourceConfig]) -> bool {
        let states = self.load().unwrap_or_default();
        sources.iter().any(|s| {
            states.get(&s.name).is_none_or(|st| {
                st.url != s.url || (st.etag.is_none() && st.last_modified.is_none())
            })
        })
    }

    /// Replaces one source's state on disk (atomically: write, sync, rename).
    ///
    /// Sources polled together finish together: states put while a write
    /// is under way go to disk in the next write, together, so a round of
    /// N sources costs about two syncs instead of N.
    pub fn put(&self, name: &str, state: &SourceState) -> Result<(), SourceError> {
        lock(&self.pending).insert(name.to_owned(), state.clone());
        let mut last = lock(&self.lock);
        let batch = std::mem::take(&mut *lock(&self.pending));
        if batch.is_empty() {
            // The write before ours took our state along; its outcome is ours.
            return match &*last {
                None => Ok(()),
                Some(reason) => Err(SourceError::Io {
                    path: self.path.clone(),
                    source: std::io::Error::other(reason.clone()),
                }),
            };
        }
        let written = self.write(batch);
        *last = written.as_ref().err().map(ToString::to_string);
        written
    }

    fn write(&self, batch: BTreeMap<String, SourceState>) -> Result<(), SourceError> {
        // An unreadable file is replaced rather than blocking every poll.
        let mut doc = self.read().unwrap_or_default();
        doc.sources.extend(batch);
        let io = |source| SourceError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_vec_pretty(&doc)
            .map_err(|e| SourceError::Internal(format!("serializing poll state: {e}")))?;
        let tmp = self
            .path
            .with_extension(format!("json.tmp{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

/// Neither map holds an invariant a panic could break.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One source's health, for people and monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceHealth {
    pub name: String,
    pub url: String,
    /// False after [`super::PollOptions::unhealthy_after`] consecutive failures.
    pub healthy: bool,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub next_poll: Option<DateTime<Utc>>,
    /// Polls since start: fetched (200), not modified (304), failed.
    pub polls_fetched: u64,
    pub polls_not_modified: u64,
    pub polls_failed: u64,
    /// Articles stored as new since start.
    pub articles_new: u64,
}

impl SourceHealth {
    fn new(name: &str, url: &str) -> SourceHealth {
        SourceHealth {
            name: name.to_owned(),
            url: url.to_owned(),
            healthy: true,
            consecutive_failures: 0,
            last_error: None,
            last_success: None,
            last_attempt: None,
            last_status: None,
            next_poll: None,
            polls_fetched: 0,
            polls_not_modified: 0,
            polls_failed: 0,
            articles_new: 0,
        }
    }
}

/// Live per-source health, cheap to clone and share (an `Arc` inside).
/// Locks are held only to copy in or out, never across an `.await`.
#[derive(Clone, Default)]
pub struct HealthBoard {
    inner: Arc<RwLock<BTreeMap<String, SourceHealth>>>,
}

impl HealthBoard {
    pub fn new() -> HealthBoard {
        HealthBoard::default()
    }

    /// Every configured source's health, sorted by name. Empty when no
    /// sources are configured (or the poller is not running).
    pub fn snapshot(&self) -> Vec<SourceHealth> {
        let map = self.inner.read().unwrap_or_else(|p| p.into_inner());
        map.values().cloned().collect()
    }

    /// How many sources are unhealthy.
    pub fn unhealthy(&self) -> usize {
        self.snapshot().iter().filter(|h| !h.healthy).count()
    }

    /// Makes the board list exactly these sources, seeded from stored
    /// state; counters of sources that stay are kept.
    pub fn configure(
        &self,
        sources: &[super::SourceConfig],
        stored: &BTreeMap<String, SourceState>,
        unhealthy_after: u32,
    ) {
        let mut map = self.inner.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|name, h| sources.iter().any(|s| &s.name == name && s.url == h.url));
        for s in sources {
            let entry = map
                .entry(s.name.clone())
                .or_insert_with(|| SourceHealth::new(&s.name, &s.url));
            if let Some(st) = stored.get(&s.name).filter(|st| st.url == s.url) {
                apply_state(entry, st, unhealthy_after);
            }
        }
    }

    /// Records a poll's resulting state, and bumps counters with `f`.
    pub fn record(
        &self,
        name: &str,
        state: &SourceState,
        unhealthy_after: u32,
        f: impl FnOnce(&mut SourceHealth),
    ) {
        let mut map = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let entry = map
            .entry(name.to_owned())
            .or_insert_with(|| SourceHealth::new(name, &state.url));
        apply_state(entry, state, unhealthy_after);
        f(entry);
    }
}

fn apply_state(h: &mut SourceHealth, st: &SourceState, unhealthy_after: u32) {
    h.url = st.url.clone();
    h.consecutive_failures = st.failures;
    h.healthy = st.failures < unhealthy_after.max(1);
    h.last_error = st.last_error.clone();
    h.last_success = st.last_success;
    h.last_attempt = st.last_attempt;
    h.last_status = st.last_status;
    h.next_poll = match (st.next_poll, st.not_before) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_expected_until_every_source_has_validators() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path());
        let source = |name: &str, url: &str| super::super::SourceConfig {
            name: name.into(),
            url: url.into(),
            every: std::time::Duration::from_secs(600),
            full_text: false,
        };
        let sources = [
            source("a", "https://a.example/"),
            source("b", "https://b.example/"),
        ];
        assert!(file.expects_documents(&sources), "nothing stored yet");
        let with = |url: &str, etag: Option<&str>, modified: Option<&str>| SourceState {
            url: url.into(),
            etag: etag.map(str::to_owned),
            last_modified: modified.map(str::to_owned),
            ..SourceState::default()
        };
        file.put("a", &with("https://a.example/", Some("\"v1\""), None))
            .unwrap();
        file.put("b", &with("https://b.example/", None, None))
            .unwrap();
        assert!(file.expects_documents(&sources), "b has no validators");
        file.put(
            "b",
            &with(
                "https://b.example/",
                None,
                Some("Tue, 01 Oct 2024 09:00:00 GMT"),
            ),
        )
        .unwrap();
        assert!(!file.expects_documents(&sources), "a round of 304s");
        // Validators for another URL are worthless.
        assert!(file.expects_documents(&[source("a", "https://moved.example/")]));
    }

    #[test]
    fn state_round_trips_and_url_change_resets() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path());
        let fresh = file.get("a", "https://a.example/").unwrap();
        assert_eq!(fresh.url, "https://a.example/");
        assert_eq!(fresh.etag, None);
        let st = SourceState {
            url: "https://a.example/".into(),
            etag: Some("\"v1\"".into()),
            failures: 2,
            ..SourceState::default()
        };
        file.put("a", &st).unwrap();
        file.put("b", &SourceState::default()).unwrap();
        assert_eq!(file.get("a", "https://a.example/").unwrap(), st);
        assert_eq!(file.get("a", "https://other.example/").unwrap().etag, None);
        assert_eq!(file.load().unwrap().len(), 2);
    }

    #[test]
    fn states_put_at_once_all_reach_the_file_and_a_failed_write_fails_every_put_it_carried() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path());
        let state = |i: usize| SourceState {
            url: format!("https://s{i}.example/"),
            etag: Some(format!("\"e{i}\"")),
            ..SourceState::default()
        };
        std::thread::scope(|scope| {
            for i in 0..16 {
                let (file, st) = (&file, state(i));
                scope.spawn(move || file.put(&format!("s{i}"), &st).unwrap());
            }
        });
        let reread = StateFile::new(dir.path());
        for i in 0..16 {
            let url = format!("https://s{i}.example/");
            assert_eq!(reread.get(&format!("s{i}"), &url).unwrap(), state(i));
        }

        // The file's place is taken by a directory: no write can land, and
        // no put may report success.
        let blocked = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(blocked.path().join(STATE_FILE).join("x")).unwrap();
        let file = StateFile::new(blocked.path());
        std::thread::scope(|scope| {
            for i in 0..8 {
                let (file, st) = (&file, state(i));
                scope.spawn(move || assert!(file.put(&format!("s{i}"), &st).is_err()));
            }
        });
    }

    #[test]
    fn board_marks_unhealthy() {
        let board = HealthBoard::new();
        let st = SourceState {
            url: "u".into(),
            failures: 3,
            last_error: Some("HTTP 500".into()),
            ..SourceState::default()
        };
        board.record("a", &st, 3, |h| h.polls_failed += 1);
        let snap = board.snapshot();
        assert!(!snap[0].healthy);
        assert_eq!(snap[0].polls_failed, 1);
        assert_eq!(board.unhealthy(), 1);
    }
}
