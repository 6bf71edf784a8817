//! Batches of files: `topicfeed ingest` and the server's start-up ingest
//! of `examples/articles/`.
//!
//! A batch runs read + classify (pure, CPU-bound) on worker threads and
//! stores from the calling thread, which groups whatever is ready into one
//! transaction of up to [`BatchOptions::batch_size`] articles. One commit —
//! one fsync — then covers many articles; while it runs the workers fill the
//! next batch (group commit). An article is reported as stored only after
//! the transaction holding it has committed. A file may be an article or a
//! whole feed; a feed's entries are stored like articles. Workers clean
//! articles of their sites' learned boilerplate with what the store knew
//! when they read them; the writer records each batch's blocks and cleans
//! again what the batch itself taught (see [`super::sites`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::Utc;

use super::sites::{Seen, SiteBoilerplate};
use super::store_cause;
use super::{Prepared, prepare, store_articles};
use crate::classify::Classifier;
use crate::ingest::Input;
use crate::model::{Article, Cause, Failure, Outcome, Summary};
use crate::store::Store;

/// What happened to one article or file, reported as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// The article (one of the file's, for a feed) is committed.
    Stored {
        path: &'a Path,
        article: &'a Article,
        outcome: &'a Outcome,
    },
    Failed(&'a Failure),
}

#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Normalize/classify threads; 0 means one per core.
    pub workers: usize,
    /// Most articles per transaction.
    pub batch_size: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            workers: 0,
            batch_size: 256,
        }
    }
}

/// Expands `paths` into the files to ingest: files as given, directories
/// walked recursively in name order, skipping hidden entries and README.md
/// files there. Paths that cannot be read are returned as failures.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Failure>) {
    let mut files = Vec::new();
    let mut failed = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => walk(path, &mut files, &mut failed),
            Ok(_) => files.push(path.clone()),
            Err(e) => failed.push(file_failure(path, format!("cannot read: {e}"))),
        }
    }
    (files, failed)
}

fn skipped(name: &str) -> bool {
    name.starts_with('.') || name.eq_ignore_ascii_case("README.md")
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, failed: &mut Vec<Failure>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd.collect::<Result<Vec<_>, _>>(),
        Err(e) => Err(e),
    };
    let mut entries = match entries {
        Ok(entries) => entries,
        Err(e) => {
            failed.push(file_failure(dir, format!("cannot list directory: {e}")));
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if skipped(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        // file_type does not follow symlinks, so a link cannot make a loop;
        // metadata does, so a linked file is still read.
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, files, failed),
            Ok(t) if t.is_symlink() => {
                if path.is_file() {
                    files.push(path);
                }
            }
            Ok(_) => files.push(path),
            Err(e) => failed.push(file_failure(&path, format!("cannot read: {e}"))),
        }
    }
}

fn file_failure(path: &Path, reason: String) -> Failure {
    Failure {
        subject: path.display().to_string(),
        reason,
        cause: Cause::Input,
    }
}

/// [`collect_files`] then [`ingest_files`]: everything under `paths`, with
/// unreadable paths among the failures.
pub fn ingest_paths(
    store: &dyn Store,
    classifier: &Classifier,
    paths: &[PathBuf],
    opts: &BatchOptions,
    on_event: impl FnMut(Event<'_>),
) -> Summary {
    let (files, mut failed) = collect_files(paths);
    let mut summary = ingest_files(store, classifier, &files, opts, on_event);
    summary.failed.append(&mut failed);
    summary.failed.sort_by(|a, b| a.subject.cmp(&b.subject));
    summary
}

/// Reads, cleans and classifies one file (an article, or a feed's
/// entries); the reason says why not.
fn prepare_file(
    classifier: &Classifier,
    sites: &SiteBoilerplate<'_>,
    path: &Path,
) -> Result<Prepared, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let input = Input::file(&bytes, path);
    // A bug that panics on one input must not end the batch: that file
    // fails, the rest go on.
    let prepared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        prepare(classifier, sites, input)
    }))
    .map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("internal error (please report): {what}")
    })?
    .map_err(|e| e.to_string())?;
    if prepared.articles.is_empty() {
        return Err(super::nothing_usable(&prepared));
    }
    Ok(prepared)
}

/// Ingests `files` (see [`collect_files`]); one bad file never stops the
/// batch. `on_event` is called on the calling thread, for every file, in
/// commit order.
pub fn ingest_files(
    store: &dyn Store,
    classifier: &Classifier,
    files: &[PathBuf],
    opts: &BatchOptions,
    mut on_event: impl FnMut(Event<'_>),
) -> Summary {
    let workers = match opts.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    }
    .min(files.len().max(1));
    let batch_size = opts.batch_size.max(1);
    let next = AtomicUsize::new(0);
    // One for the whole run: each site's learned blocks are read once, and
    // again after the writer saw the site learn one.
    let sites = SiteBoilerplate::new(store);
    let mut summary = Summary::default();
    std::thread::scope(|scope| {
        // Bounded: workers run at most a couple of batches ahead of the writer.
        let (tx, rx) = mpsc::sync_channel::<(usize, Result<Prepared, String>)>(batch_size * 2);
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, sites) = (&next, &sites);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    if tx.send((i, prepare_file(classifier, sites, path))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut batch = Pending::default();
        let take = |msg: (usize, Result<Prepared, String>),
                    batch: &mut Pending,
                    summary: &mut Summary,
                    on_event: &mut dyn FnMut(Event<'_>)| {
            let (i, result) = msg;
            let mut fail = |failure: Failure| {
                on_event(Event::Failed(&failure));
                summary.failed.push(failure);
            };
            match result {
                Ok(prepared) => {
                    for mut f in prepared.failed {
                        f.subject = format!("{}: {}", files[i].display(), f.subject);
                        fail(f);
                    }
                    let files = std::iter::repeat_n(i, prepared.articles.len());
                    batch.files.extend(files);
                    batch.articles.extend(prepared.articles);
                    batch.seen.extend(prepared.seen);
                }
                Err(reason) => fail(file_failure(&files[i], reason)),
            }
        };
        let writer = Writer {
            store,
            classifier,
            sites: &sites,
            files,
        };
        // Block for the first ready article, then take whatever else is
        // ready: batches are as large as the writer's pace allows.
        while let Ok(msg) = rx.recv() {
            take(msg, &mut batch, &mut summary, &mut on_event);
            while batch.articles.len() < batch_size {
                match rx.try_recv() {
                    Ok(msg) => take(msg, &mut batch, &mut summary, &mut on_event),
                    Err(_) => break,
                }
            }
            writer.store(&mut batch, &mut summary, &mut on_event);
            batch.clear();
        }
    });
    summary.failed.sort_by(|a, b| a.subject.cmp(&b.subject));
    summary
}

/// Articles read and waiting for the writer, with the file each came from.
#[derive(Default)]
struct Pending {
    files: Vec<usize>,
    articles: Vec<Article>,
    seen: Vec<Option<Seen>>,
}

impl Pending {
    fn clear(&mut self) {
        self.files.clear();
        self.articles.clear();
        self.seen.clear();
    }
}

/// What the writer stores with.
struct Writer<'a, 's> {
    store: &'a dyn Store,
    classifier: &'a Classifier,
    sites: &'a SiteBoilerplate<'s>,
    files: &'a [PathBuf],
}

impl Writer<'_, '_> {
    /// Stores one batch in one transaction. If the transaction fails, each
    /// article is retried alone, so one article the store rejects costs only itself.
    fn store(
        &self,
        batch: &mut Pending,
        summary: &mut Summary,
        on_event: &mut dyn FnMut(Event<'_>),
    ) {
        if batch.articles.is_empty() {
            return;
        }
        let results = store_articles(
            self.store,
            self.classifier,
            self.sites,
            &mut batch.articles,
            &batch.seen,
            Utc::now(),
        );
        report(self.files, batch, results, summary, on_event);
    }
}

/// Reports what storing a batch did, article by article.
fn report(
    files: &[PathBuf],
    batch: &Pending,
    results: Vec<Result<Outcome, crate::store::StoreError>>,
    summary: &mut Summary,
    on_event: &mut dyn FnMut(Event<'_>),
) {
    for ((&i, article), result) in batch.files.iter().zip(&batch.articles).zip(results) {
        let path = &files[i];
        match result {
            Ok(outcome) => {
                summary.record(&outcome);
                on_event(Event::Stored {
                    path,
                    article,
                    outcome: &outcome,
                });
            }
            Err(e) => {
                let failure = Failure {
                    cause: store_cause(&e),
                    ..file_failure(path, e.to_string())
                };
                on_event(Event::Failed(&failure));
                summary.failed.push(failure);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_skipping_hidden_and_readme() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/.git")).unwrap();
        for f in [
            "b.txt",
            "a.md",
            "README.md",
            ".hidden",
            "sub/c.json",
            "sub/.git/x",
        ] {
            std::fs::write(root.join(f), "x").unwrap();
        }
        let (files, failed) = collect_files(&[root.to_owned(), root.join("missing")]);
        let names: Vec<String> = files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a.md", "b.txt", "sub/c.json"]);
        assert_eq!(failed.len(), 1);
        assert!(failed[0].reason.starts_with("cannot read"), "{failed:?}");
    }
}
