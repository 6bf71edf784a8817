//! Pipeline: wires the stages — normalize → classify → store — for one input
//! ([`ingest_bytes`], used by the HTTP ingest API) or a batch of files
//! ([`ingest_files`], used by `topicfeed ingest` and the server's start-up
//! ingest of `examples/articles/`).
//!
//! A batch runs normalize + classify (pure, CPU-bound) on worker threads and
//! stores from the calling thread, which groups whatever is ready into one
//! transaction of up to [`BatchOptions::batch_size`] articles. One commit —
//! one fsync — then covers many articles; while it runs the workers fill the
//! next batch (group commit). An article is reported as stored only after
//! the transaction holding it has committed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::{DateTime, Utc};

use crate::classify::Classifier;
use crate::ingest::{self, IngestError, Input};
use crate::model::Article;
use crate::store::{Outcome, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Normalizes and classifies one input: everything but storing.
pub fn prepare(classifier: &Classifier, input: Input<'_>) -> Result<Article, IngestError> {
    let mut article = ingest::normalize(input)?;
    classifier.apply(&mut article);
    Ok(article)
}

/// Normalizes, classifies and stores one input.
pub fn ingest_bytes(
    store: &dyn Store,
    classifier: &Classifier,
    input: Input<'_>,
    now: DateTime<Utc>,
) -> Result<(Outcome, Article), PipelineError> {
    let article = prepare(classifier, input)?;
    let outcome = store.upsert(&article, now)?;
    Ok((outcome, article))
}

/// A file that gave no stored article, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub path: PathBuf,
    pub reason: String,
}

/// Counts of what a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub duplicate: usize,
    /// Sorted by path.
    pub failed: Vec<Failure>,
}

impl Summary {
    pub fn record(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::New => self.new += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Duplicate { .. } => self.duplicate += 1,
        }
    }

    pub fn stored(&self) -> usize {
        self.new + self.updated + self.unchanged + self.duplicate
    }
}

impl fmt::Display for Summary {
    /// `new 3998, updated 0, unchanged 0, duplicate 2, failed 0`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "new {}, updated {}, unchanged {}, duplicate {}, failed {}",
            self.new,
            self.updated,
            self.unchanged,
            self.duplicate,
            self.failed.len()
        )
    }
}

/// What happened to one file, reported as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// The article is committed.
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
            Err(e) => failed.push(Failure {
                path: path.clone(),
                reason: format!("cannot read: {e}"),
            }),
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
            failed.push(Failure {
                path: dir.to_owned(),
                reason: format!("cannot list directory: {e}"),
            });
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
            Err(e) => failed.push(Failure {
                path,
                reason: format!("cannot read: {e}"),
            }),
        }
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
    summary.failed.sort_by(|a, b| a.path.cmp(&b.path));
    summary
}

/// Reads, normalizes and classifies one file; the reason says why not.
fn prepare_file(classifier: &Classifier, path: &Path) -> Result<Article, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let name = path.file_name().and_then(|n| n.to_str());
    let input = Input {
        bytes: &bytes,
        name,
        url: None,
    };
    // A bug that panics on one input must not end the batch: that file
    // fails, the rest go on.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| prepare(classifier, input)))
        .map_err(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!("internal error (please report): {what}")
        })?
        .map_err(|e| e.to_string())
}

/// The store's clock: whole seconds, as everything stored is.
/// Stores articles in one transaction; if that fails, one by one, so an
/// article the store rejects costs only itself.
pub fn store_articles(
    store: &dyn Store,
    articles: &[Article],
    now: DateTime<Utc>,
) -> Vec<Result<Outcome, StoreError>> {
    if articles.is_empty() {
        return Vec::new();
    }
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    match store.upsert_batch(articles, now) {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) if articles.len() == 1 => vec![Err(e)],
        Err(_) => articles.iter().map(|a| store.upsert(a, now)).collect(),
    }
}

/// Assembles and classifies one draft (an entry of a polled or dropped
/// feed): everything but storing.
pub fn prepare_draft(
    classifier: &Classifier,
    draft: ingest::Draft,
) -> Result<Article, IngestError> {
    let mut article = ingest::assemble(draft)?;
    classifier.apply(&mut article);
    Ok(article)
}

fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
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
    let mut summary = Summary::default();
    std::thread::scope(|scope| {
        // Bounded: workers run at most a couple of batches ahead of the writer.
        let (tx, rx) = mpsc::sync_channel::<(usize, Result<Article, String>)>(batch_size * 2);
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    if tx.send((i, prepare_file(classifier, path))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut batch: Vec<usize> = Vec::with_capacity(batch_size);
        let mut articles: Vec<Article> = Vec::with_capacity(batch_size);
        let take = |msg: (usize, Result<Article, String>),
                    batch: &mut Vec<usize>,
                    articles: &mut Vec<Article>,
                    summary: &mut Summary,
                    on_event: &mut dyn FnMut(Event<'_>)| match msg {
            (i, Ok(article)) => {
                batch.push(i);
                articles.push(article);
            }
            (i, Err(reason)) => {
                let failure = Failure {
                    path: files[i].clone(),
                    reason,
                };
                on_event(Event::Failed(&failure));
                summary.failed.push(failure);
            }
        };
        // Block for the first ready article, then take whatever else is
        // ready: batches are as large as the writer's pace allows.
        while let Ok(msg) = rx.recv() {
            take(msg, &mut batch, &mut articles, &mut summary, &mut on_event);
            while articles.len() < batch_size {
                match rx.try_recv() {
                    Ok(msg) => take(msg, &mut batch, &mut articles, &mut summary, &mut on_event),
                    Err(_) => break,
                }
            }
            store_batch(store, files, &batch, &articles, &mut summary, &mut on_event);
            batch.clear();
            articles.clear();
        }
    });
    summary.failed.sort_by(|a, b| a.path.cmp(&b.path));
    summary
}

/// Stores one batch in one transaction. If the transaction fails, each
/// article is retried alone, so one article the store rejects costs only itself.
fn store_batch(
    store: &dyn Store,
    files: &[PathBuf],
    batch: &[usize],
    articles: &[Article],
    summary: &mut Summary,
    on_event: &mut dyn FnMut(Event<'_>),
) {
    if articles.is_empty() {
        return;
    }
    let results = store_articles(store, articles, now());
    for ((&i, article), result) in batch.iter().zip(articles).zip(results) {
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
                    path: path.clone(),
                    reason: e.to_string(),
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
    fn summary_line() {
        let mut s = Summary::default();
        s.record(&Outcome::New);
        s.record(&Outcome::Duplicate {
            story_id: "x".into(),
        });
        assert_eq!(
            s.to_string(),
            "new 1, updated 0, unchanged 0, duplicate 1, failed 0"
        );
    }

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
