//! Inbox folders: files dropped in are ingested once complete, then moved
//! to `done/` or `failed/` (with a `NAME.error` note beside it). Nothing
//! is ever deleted.
//!
//! "Complete" means the file's size and modification time have not changed
//! for [`InboxOptions::settle`]: a writer still copying a file keeps
//! changing one of them. Dotfiles and the usual temporary names (`*.tmp`,
//! `*.part`, `*~`, …) are left alone, so writing `.name` or `name.part` and
//! renaming when done is also safe. File events ([`crate::watch`]) only
//! wake the scanner; the directory listing is the truth, and a slow
//! periodic rescan covers events that never came.
//!
//! A file holds one article (any format `normalize` reads) or a whole feed
//! (RSS, Atom, JSON Feed), whose entries are all ingested.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;

use super::{Sink, SourceError};

/// Larger files are rejected unread: no article is this big, and a feed
/// dump that is should be split.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

pub const DONE_DIR: &str = "done";
pub const FAILED_DIR: &str = "failed";

#[derive(Debug, Clone)]
pub struct InboxOptions {
    /// How long size and mtime must stay unchanged before a file is read.
    pub settle: Duration,
    /// Rescan interval when no file is pending and no event arrives.
    pub rescan: Duration,
    /// Wait before retrying a file the store could not take (not the file's fault).
    pub store_retry: Duration,
}

impl Default for InboxOptions {
    fn default() -> Self {
        InboxOptions {
            settle: Duration::from_secs(1),
            rescan: Duration::from_secs(30),
            store_retry: Duration::from_secs(30),
        }
    }
}

/// What happened to one inbox file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// Stored; moved to `done/` under this path.
    Done { moved_to: PathBuf, articles: usize },
    /// Rejected; moved to `failed/` with a note.
    Failed { moved_to: PathBuf, reason: String },
    /// The store failed: left in place to retry.
    Retry { reason: String },
}

/// True for names that are not (yet) meant to be read.
pub fn ignored(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with('#')
        || name.starts_with('~')
        || name.ends_with('~')
        || lower == "readme.md"
        || [
            ".tmp",
            ".temp",
            ".part",
            ".partial",
            ".crdownload",
            ".download",
            ".swp",
            ".swx",
            ".error",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Watches one inbox folder.
pub struct Inbox {
    dir: PathBuf,
    sink: Arc<dyn Sink>,
    opts: InboxOptions,
}

/// A file seen in the folder, with what it looked like and since when.
struct Pending {
    len: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

impl Inbox {
    pub fn new(dir: PathBuf, sink: Arc<dyn Sink>, opts: InboxOptions) -> Inbox {
        Inbox { dir, sink, opts }
    }

    /// Runs until the task is dropped: files present at start are picked
    /// up like new ones. Fails only if the folder cannot be created.
    pub async fn run(self) -> Result<(), SourceError> {
        std::fs::create_dir_all(&self.dir).map_err(|source| SourceError::Io {
            path: self.dir.clone(),
            source,
        })?;
        // Only content changes wake the scan; its own listing does not.
        let mut watch = crate::watch::DirWatch::new(&self.dir, |p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !ignored(n))
        });
        tracing::info!(dir = %self.dir.display(), "watching inbox");
        let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
        loop {
            let ready = scan(&self.dir, &mut pending, self.opts.settle);
            for path in ready {
                self.process(path, &mut pending).await;
            }
            // A file still settling is re-checked soon; otherwise only a
            // change or the slow rescan (for events that never came) wakes us.
            let wait = if pending.is_empty() {
                self.opts.rescan
            } else {
                (self.opts.settle / 4).max(Duration::from_millis(50))
            };
            watch.changed(wait).await;
        }
    }

    async fn process(&self, path: PathBuf, pending: &mut HashMap<PathBuf, Pending>) {
        let sink = self.sink.clone();
        let dir = self.dir.clone();
        let file = path.clone();
        let result =
            tokio::task::spawn_blocking(move || process_file(&dir, &file, sink.as_ref())).await;
        match result {
            Ok(FileOutcome::Done { moved_to, articles }) => {
                pending.remove(&path);
                tracing::info!(file = %path.display(), articles, to = %moved_to.display(), "inbox file ingested");
            }
            Ok(FileOutcome::Failed { moved_to, reason }) => {
                pending.remove(&path);
                tracing::warn!(file = %path.display(), %reason, to = %moved_to.display(), "inbox file rejected");
            }
            Ok(FileOutcome::Retry { reason }) => {
                tracing::error!(file = %path.display(), %reason, "inbox file left in place; will retry");
                if let Some(p) = pending.get_mut(&path) {
                    p.since = Instant::now() + self.opts.store_retry;
                }
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "inbox task failed");
                if let Some(p) = pending.get_mut(&path) {
                    p.since = Instant::now() + self.opts.store_retry;
                }
            }
        }
    }
}

/// Lists the folder, updates what is pending, and returns the files that
/// have been unchanged for `settle`, in name order.
fn scan(dir: &Path, pending: &mut HashMap<PathBuf, Pending>, settle: Duration) -> Vec<PathBuf> {
    let now = Instant::now();
    let mut present = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot list inbox");
            return Vec::new();
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if ignored(name) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let path = entry.path();
        let mtime = meta.modified().ok();
        match pending.get_mut(&path) {
            Some(p) if p.len == meta.len() && p.mtime == mtime => {}
            Some(p) => {
                p.len = meta.len();
                p.mtime = mtime;
                p.since = now;
            }
            None => {
                pending.insert(
                    path.clone(),
                    Pending {
                        len: meta.len(),
                        mtime,
                        since: now,
                    },
                );
            }
        }
        present.push(path);
    }
    pending.retain(|p, _| present.contains(p));
    let mut ready: Vec<PathBuf> = pending
        .iter()
        .filter(|(_, p)| now >= p.since && now.duration_since(p.since) >= settle)
        .map(|(path, _)| path.clone())
        .collect();
    ready.sort();
    ready
}

/// Ingests one settled file and moves it. Synchronous: run it off the
/// async threads.
pub fn process_file(inbox: &Path, path: &Path, sink: &dyn Sink) -> FileOutcome {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => Err(format!(
            "too large: {} bytes, the limit is {MAX_FILE_BYTES}",
            m.len()
        )),
        _ => std::fs::read(path).map_err(|e| format!("cannot read: {e}")),
    };
    let summary = match bytes {
        Ok(bytes) => sink.file(path, &bytes),
        Err(reason) => return reject(inbox, path, &name, reason),
    };
    if summary.stored() == 0 {
        let Some(first) = summary.failed.first() else {
            return reject(inbox, path, &name, "no article".into());
        };
        // A store that takes nothing is the store's problem, not the file's.
        if summary.failed.iter().all(crate::model::Failure::is_store) {
            return FileOutcome::Retry {
                reason: first.reason.clone(),
            };
        }
        return reject(inbox, path, &name, first.reason.clone());
    }
    if let Some(f) = summary.failed.first() {
        tracing::warn!(file = %path.display(), failed = summary.failed.len(), first = %f.reason, "some entries not stored");
    }
    match move_into(&inbox.join(DONE_DIR), path, &name) {
        Ok(moved_to) => FileOutcome::Done {
            moved_to,
            articles: summary.stored(),
        },
        Err(e) => FileOutcome::Retry {
            reason: format!("stored, but cannot move to {DONE_DIR}/: {e}"),
        },
    }
}

fn reject(inbox: &Path, path: &Path, name: &str, reason: String) -> FileOutcome {
    let failed = inbox.join(FAILED_DIR);
    match move_into(&failed, path, name) {
        Ok(moved_to) => {
            let mut note = moved_to.clone().into_os_string();
            note.push(".error");
            let text = format!(
                "{reason}\n\nfile: {name}\nrejected: {}\n",
                crate::model::rfc3339(&Utc::now())
            );
            if let Err(e) = std::fs::write(&note, text) {
                tracing::warn!(note = %Path::new(&note).display(), error = %e, "cannot write error note");
            }
            FileOutcome::Failed { moved_to, reason }
        }
        Err(e) => FileOutcome::Retry {
            reason: format!("{reason}; and cannot move to {FAILED_DIR}/: {e}"),
        },
    }
}

/// Moves `path` into `dir` under `name`, or `stem-1.ext`, `stem-2.ext`, …
/// when that is taken: nothing already there is overwritten.
fn move_into(dir: &Path, path: &Path, name: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.to_owned(), String::new()),
    };
    for n in 0..10_000u32 {
        let candidate = if n == 0 {
            dir.join(name)
        } else {
            dir.join(format!("{stem}-{n}{ext}"))
        };
        let note = {
            let mut s = candidate.clone().into_os_string();
            s.push(".error");
            PathBuf::from(s)
        };
        if candidate.exists() || note.exists() {
            continue;
        }
        std::fs::rename(path, &candidate)?;
        return Ok(candidate);
    }
    Err(std::io::Error::other("no free name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_ignored() {
        for n in [
            ".x.txt",
            "a.txt~",
            "a.tmp",
            "a.PART",
            "a.crdownload",
            "#a#",
            "README.md",
        ] {
            assert!(ignored(n), "{n}");
        }
        for n in ["a.txt", "feed.xml", "story.html"] {
            assert!(!ignored(n), "{n}");
        }
    }

    #[test]
    fn moves_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let done = dir.path().join("done");
        for _ in 0..3 {
            let p = dir.path().join("a.txt");
            std::fs::write(&p, "x").unwrap();
            move_into(&done, &p, "a.txt").unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(&done)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a-1.txt", "a-2.txt", "a.txt"]);
    }

    #[test]
    fn files_settle_before_they_are_ready() {
        let dir = tempfile::tempdir().unwrap();
        let mut pending = HashMap::new();
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        std::fs::write(dir.path().join(".hidden"), "x").unwrap();
        let settle = Duration::from_millis(200);
        assert!(scan(dir.path(), &mut pending, settle).is_empty());
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(
            scan(dir.path(), &mut pending, settle),
            [dir.path().join("a.txt")]
        );
    }
}
