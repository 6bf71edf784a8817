//! File-change notifications for the three things the service re-reads
//! while it runs: topic files, `sources.toml`, and inbox folders.
//!
//! One [`DirWatch`] watches one directory (not recursively) and wakes its
//! owner only for events that change content: a file created, written and
//! closed, renamed, or removed. Reads never count. That matters because
//! the owners list the directory when they wake; with inotify, listing a
//! directory raises an "opened" event on it, so a watcher that woke on
//! every event would wake itself forever (this is how the inbox once
//! burned more than a core while idle).
//!
//! Where the platform gives no events (some network filesystems, an
//! exhausted inotify limit), [`DirWatch::changed`] falls back to looking
//! every [`FALLBACK_TICK`] at the names, sizes and modification times of
//! the wanted files, and reports a change when they differ.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// How often an owner is woken when the platform gives no events.
pub const FALLBACK_TICK: Duration = Duration::from_secs(2);

/// Events closer together than this are one change: an editor's save is
/// several events (write to a temporary file, rename over the old one).
const SETTLE: Duration = Duration::from_millis(100);

/// Why [`DirWatch::changed`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// A file the filter accepts was created, written, renamed or removed;
    /// or, without platform events, the fallback tick came round.
    Changed,
    /// The timeout passed with no change.
    Timeout,
}

/// Watches one directory for content changes to the files a filter accepts.
pub struct DirWatch {
    dir: PathBuf,
    rx: mpsc::UnboundedReceiver<()>,
    /// Kept alive for as long as events are wanted; `None` when the
    /// platform refused, and the fallback tick stands in.
    watcher: Option<RecommendedWatcher>,
    wanted: Filter,
    /// What the wanted files looked like at the last fallback look.
    stamp: Stamp,
}

type Filter = Arc<dyn Fn(&Path) -> bool + Send + Sync>;
type Stamp = Vec<(PathBuf, u64, Option<SystemTime>)>;

impl DirWatch {
    /// Starts watching `dir`. `wanted` sees the path of every changed
    /// entry and says whether it matters (e.g. only `*.toml`). Never
    /// fails: without events, [`DirWatch::changed`] ticks instead.
    pub fn new(dir: &Path, wanted: impl Fn(&Path) -> bool + Send + Sync + 'static) -> DirWatch {
        let wanted: Filter = Arc::new(wanted);
        let (tx, rx) = mpsc::unbounded_channel();
        let watcher = start(dir, tx, wanted.clone())
            .inspect_err(|e| {
                tracing::warn!(dir = %dir.display(), error = %e,
                    "file events unavailable; checking every {} s instead", FALLBACK_TICK.as_secs());
            })
            .ok();
        DirWatch {
            dir: dir.to_owned(),
            rx,
            stamp: stamp(dir, &*wanted),
            watcher,
            wanted,
        }
    }

    /// True when the platform delivers events for this directory.
    pub fn has_events(&self) -> bool {
        self.watcher.is_some()
    }

    /// Waits for the next change (a burst of events counts once) or for
    /// `timeout`, whichever comes first.
    pub async fn changed(&mut self, timeout: Duration) -> Wake {
        if self.watcher.is_none() {
            return self.look(timeout).await;
        }
        tokio::select! {
            msg = self.rx.recv() => {
                if msg.is_none() {
                    // The watcher thread is gone: carry on with looks.
                    self.watcher = None;
                    return self.look(timeout).await;
                }
                // Let the rest of the burst arrive, then drop it.
                tokio::time::sleep(SETTLE).await;
                while self.rx.try_recv().is_ok() {}
                Wake::Changed
            }
            () = tokio::time::sleep(timeout) => Wake::Timeout,
        }
    }
}

impl DirWatch {
    /// The fallback: look at the wanted files every tick until they
    /// differ from the last look or `timeout` passes.
    async fn look(&mut self, timeout: Duration) -> Wake {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Wake::Timeout;
            }
            tokio::time::sleep((deadline - now).min(FALLBACK_TICK)).await;
            let (dir, wanted) = (self.dir.clone(), self.wanted.clone());
            let Ok(current) = tokio::task::spawn_blocking(move || stamp(&dir, &*wanted)).await
            else {
                return Wake::Changed;
            };
            if current != self.stamp {
                self.stamp = current;
                return Wake::Changed;
            }
        }
    }
}

/// Name, size and modification time of every wanted file, sorted.
fn stamp(dir: &Path, wanted: &(dyn Fn(&Path) -> bool + Send + Sync)) -> Stamp {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Stamp = entries
        .flatten()
        .filter(|e| wanted(&e.path()))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), m.len(), m.modified().ok()))
        })
        .collect();
    out.sort();
    out
}

/// True for the events that can change what a directory holds.
pub fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        // `Any`/`Other` carry no detail (e.g. a queue overflow that asks
        // for a rescan): treat as a change rather than miss one.
        EventKind::Any | EventKind::Other => true,
    }
}

fn start(
    dir: &Path,
    tx: mpsc::UnboundedSender<()>,
    wanted: Filter,
) -> notify::Result<RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let relevant = match &event {
            Ok(e) => {
                changes_content(&e.kind)
                    && (e.paths.is_empty() || e.paths.iter().any(|p| wanted(p)))
            }
            Err(_) => true,
        };
        if relevant {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode};

    #[test]
    fn reads_are_not_changes() {
        for kind in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
        ] {
            assert!(!changes_content(&kind), "{kind:?}");
        }
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Remove(RemoveKind::File),
        ] {
            assert!(changes_content(&kind), "{kind:?}");
        }
    }

    #[tokio::test]
    async fn wakes_on_writes_not_on_its_own_listing() {
        let dir = tempfile::tempdir().unwrap();
        let mut watch = DirWatch::new(dir.path(), |p| p.extension().is_some_and(|e| e == "toml"));
        assert!(watch.has_events());
        // Listing the directory and reading a file are not changes.
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        assert_eq!(
            watch.changed(Duration::from_millis(300)).await,
            Wake::Timeout,
            "a file the filter rejects"
        );
        for _ in 0..3 {
            let _ = std::fs::read_dir(dir.path()).unwrap().count();
            let _ = std::fs::read(dir.path().join("a.txt")).unwrap();
        }
        assert_eq!(
            watch.changed(Duration::from_millis(300)).await,
            Wake::Timeout
        );
        std::fs::write(dir.path().join("t.toml"), "x = 1").unwrap();
        assert_eq!(watch.changed(Duration::from_secs(5)).await, Wake::Changed);
        std::fs::remove_file(dir.path().join("t.toml")).unwrap();
        assert_eq!(watch.changed(Duration::from_secs(5)).await, Wake::Changed);
    }
}
