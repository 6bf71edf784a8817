//! Pipeline: the one place the stages are composed —
//! ingest → classify → store — whatever the way in.
//!
//! Every way in hands over bytes with a typed format hint
//! ([`ingest::Input`]) and gets one [`Summary`] back:
//! - `topicfeed ingest` and the server's sample start-up: [`batch`], files
//!   in parallel, group-committed;
//! - `POST /api/articles`: [`ingest`], one input;
//! - the poller and the inboxes of [`crate::sources`]: [`Ingester`], which
//!   implements [`sources::Sink`] so that `sources` only fetches and
//!   watches, and never builds articles itself ([`fulltext`] adds linked
//!   pages to thin feed entries).
//!
//! An input is an article or a whole feed (RSS, Atom, JSON Feed): a feed
//! is a result with many entries, never an error.
//!
//! On every way in, each article loses its site's learned boilerplate
//! before it is classified, and its blocks are recorded once it is stored
//! ([`sites`]); [`reclean()`] applies what was learned to stored articles.

pub mod batch;
mod fulltext;
pub mod reclean;
mod sink;
pub mod sites;

use chrono::{DateTime, Utc};

pub use crate::model::{Failure, Outcome, Summary};
pub use batch::{BatchOptions, Event, collect_files, ingest_files, ingest_paths};
pub use fulltext::FullTextOptions;
pub use reclean::{SiteReclean, reclean};
pub use sink::Ingester;
pub use sites::SiteBoilerplate;

use crate::classify::Classifier;
use crate::ingest::{self, Document, IngestError, Input, feed::FeedDocument};
use crate::model::{Article, Cause};
use crate::sources;
use crate::store::{Store, StoreError};

/// Why a single input (the HTTP API's) gave nothing: the input's fault,
/// or the store's.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Classified articles from one input, ready to store.
#[derive(Debug, Default)]
pub struct Prepared {
    pub articles: Vec<Article>,
    /// For each article, its blocks before its site's boilerplate came
    /// off: what storing it records for the site.
    pub seen: Vec<Option<sites::Seen>>,
    /// Entries of a feed that gave no article.
    pub failed: Vec<Failure>,
    /// Set when the input was a feed.
    pub feed: Option<sources::FeedFacts>,
}

impl Prepared {
    /// Cleans a read article of its site's boilerplate, classifies it and adds it.
    fn add(&mut self, classifier: &Classifier, sites: &SiteBoilerplate<'_>, mut article: Article) {
        for note in &article.notes {
            tracing::warn!(article = %article.id, "{note}");
        }
        let seen = sites.clean(&mut article);
        classifier.apply(&mut article);
        self.articles.push(article);
        self.seen.push(seen);
    }
}

/// Reads, cleans and classifies one input: one article, or every entry of a feed.
pub fn prepare(
    classifier: &Classifier,
    sites: &SiteBoilerplate<'_>,
    input: Input<'_>,
) -> Result<Prepared, IngestError> {
    match ingest::read(input)? {
        Document::Article(article) => {
            let mut out = Prepared::default();
            out.add(classifier, sites, *article);
            Ok(out)
        }
        Document::Feed(doc) => Ok(prepare_feed(classifier, sites, doc, None)),
    }
}

/// Assembles, cleans and classifies every entry of a feed; `site` names
/// the source for entries whose feed has no title.
pub fn prepare_feed(
    classifier: &Classifier,
    sites: &SiteBoilerplate<'_>,
    doc: FeedDocument,
    site: Option<&str>,
) -> Prepared {
    let facts = sources::FeedFacts {
        kind: doc.kind,
        entries: doc.drafts.len() + doc.skipped.len(),
        ttl_minutes: doc.ttl_minutes,
        reader: doc.reader,
        damaged: doc.damage.is_some(),
    };
    let mut out = Prepared {
        feed: Some(facts),
        ..Prepared::default()
    };
    for (entry, reason) in doc.skipped {
        out.failed.push(Failure {
            subject: format!("{} entry {entry}", doc.kind),
            reason: reason.to_owned(),
            cause: Cause::Input,
        });
    }
    for mut draft in doc.drafts {
        if draft.site.is_none() {
            draft.site = site.map(str::to_owned);
        }
        let subject = draft.url.clone().unwrap_or_else(|| draft.title.clone());
        match ingest::assemble(draft) {
            Ok(article) => out.add(classifier, sites, article),
            Err(e) => out.failed.push(Failure {
                subject,
                reason: e.to_string(),
                cause: Cause::Input,
            }),
        }
    }
    out
}

/// Why an input that parsed still gave no article (a feed whose entries
/// are all unusable), in one line.
pub fn nothing_usable(prepared: &Prepared) -> String {
    let first = prepared.failed.first().map(|f| f.reason.as_str());
    match (prepared.feed, first) {
        (Some(f), Some(why)) => format!(
            "feed ({}) has no usable entry of {}: {why}",
            f.kind, f.entries
        ),
        (Some(f), None) => format!("feed ({}) has no entries", f.kind),
        (None, _) => "no article".into(),
    }
}

/// What one input became: every article with its outcome, and the summary.
#[derive(Debug, Default)]
pub struct Ingested {
    pub stored: Vec<(Article, Outcome)>,
    pub summary: Summary,
    pub feed: Option<sources::FeedFacts>,
}

/// Reads, classifies and stores one input. `subject` names it in failures.
/// Err only when the input holds nothing usable at all; a feed with some
/// bad entries stores the rest and lists them in the summary.
pub fn ingest(
    store: &dyn Store,
    classifier: &Classifier,
    input: Input<'_>,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Ingested, PipelineError> {
    let sites = SiteBoilerplate::new(store);
    let prepared = prepare(classifier, &sites, input)?;
    Ok(store_prepared(
        store, classifier, &sites, prepared, subject, now,
    ))
}

/// Stores what [`prepare`] gave (with the same `sites`) and sums it up.
pub fn store_prepared(
    store: &dyn Store,
    classifier: &Classifier,
    sites: &SiteBoilerplate<'_>,
    mut prepared: Prepared,
    subject: &str,
    now: DateTime<Utc>,
) -> Ingested {
    let mut out = Ingested {
        feed: prepared.feed,
        ..Ingested::default()
    };
    out.summary.failed = prepared.failed;
    let results = store_articles(
        store,
        classifier,
        sites,
        &mut prepared.articles,
        &prepared.seen,
        now,
    );
    for (article, result) in prepared.articles.into_iter().zip(results) {
        match result {
            Ok(outcome) => {
                out.summary.record(&outcome);
                out.stored.push((article, outcome));
            }
            Err(e) => out.summary.failed.push(Failure {
                subject: article.url.clone().unwrap_or_else(|| subject.to_owned()),
                reason: e.to_string(),
                cause: store_cause(&e),
            }),
        }
    }
    out
}

/// Stores articles in one transaction; if that fails, one by one, so an
/// article the store rejects costs only itself. Then records their blocks
/// for their sites, which may clean some of them further (`seen` is
/// [`Prepared::seen`] for `articles`; see [`sites`]).
pub fn store_articles(
    store: &dyn Store,
    classifier: &Classifier,
    sites: &SiteBoilerplate<'_>,
    articles: &mut [Article],
    seen: &[Option<sites::Seen>],
    now: DateTime<Utc>,
) -> Vec<Result<Outcome, StoreError>> {
    if articles.is_empty() {
        return Vec::new();
    }
    let now = whole_seconds(now);
    let results: Vec<_> = match store.upsert_batch(articles, now) {
        Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
        Err(e) if articles.len() == 1 => vec![Err(e)],
        Err(_) => articles.iter().map(|a| store.upsert(a, now)).collect(),
    };
    sites::learn(store, classifier, sites, articles, seen, &results, now);
    results
}

/// The store's clock: whole seconds, as everything stored is.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// What a failure the store returned says about retrying.
pub(crate) fn store_cause(e: &crate::store::StoreError) -> Cause {
    match e {
        crate::store::StoreError::Full { .. } => Cause::DiskFull,
        _ => Cause::Store,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_is_a_result_with_many_articles() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::SqliteStore::open(dir.path()).unwrap();
        let classifier = Classifier::load(std::path::Path::new("feeds")).unwrap();
        let feed = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
            <item><title>Port strike ends</title><link>https://example.org/a</link>
            <description>Dock workers went back on Monday after the union and the port agreed.</description></item>
            <item><title>Grain terminal reopens</title><link>https://example.org/b</link>
            <description>The terminal took its first ship in a month, the operator said.</description></item>
            </channel></rss>"#;
        let got = ingest(
            &store,
            &classifier,
            Input::new(feed),
            "feed.xml",
            Utc::now(),
        )
        .unwrap();
        assert_eq!(got.summary.new, 2, "{}", got.summary);
        assert_eq!(got.feed.map(|f| f.entries), Some(2));
        assert_eq!(got.stored[0].0.site.as_deref(), Some("Wire"));
    }
}
