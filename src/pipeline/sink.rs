//! The pipeline as the [`Sink`] of the poller and the inboxes: documents
//! fetched or dropped there are read, classified and stored here, with
//! the topics in force at that moment.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::Semaphore;

use super::fulltext::{self, FullTextOptions};
use super::{SiteBoilerplate, prepare, prepare_feed, store_prepared};
use crate::classify::LiveTopics;
use crate::ingest::{self, Boilerplate, Format, Input, Parsed};
use crate::model::Summary;
use crate::sources::{BoxFuture, FeedReport, Fetcher, RawDocument, Sink, SourceConfig};
use crate::store::Store;

/// Reads, classifies and stores what sources hand it. Cheap to clone.
#[derive(Clone)]
pub struct Ingester {
    store: Arc<dyn Store>,
    topics: Arc<LiveTopics>,
    full_text: FullTextOptions,
    /// One permit per core for reading and preparing feeds. Without it
    /// every polled feed is prepared at once, they all finish together,
    /// and their writes then queue for the one writer with the other
    /// cores idle; with it feeds finish one after another and each write
    /// overlaps the next feed's preparation.
    cpu: Arc<Semaphore>,
}

impl Ingester {
    pub fn new(store: Arc<dyn Store>, topics: Arc<LiveTopics>) -> Ingester {
        Ingester {
            store,
            topics,
            full_text: FullTextOptions::default(),
            cpu: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }
    }

    async fn ingest_feed(
        self,
        src: SourceConfig,
        doc: RawDocument,
        pages: Arc<Fetcher>,
    ) -> Result<FeedReport, String> {
        let url = doc.url.clone().unwrap_or_else(|| src.url.clone());
        let charset = doc.charset().map(str::to_owned);
        let permit = self.cpu.clone().acquire_owned().await;
        // Parsing is CPU work: off the async threads.
        let parsed = tokio::task::spawn_blocking(move || {
            let input = Input::new(&doc.body)
                .with_hint(Some(Format::Feed))
                .with_charset(charset.as_deref())
                .with_url(Some(&url));
            ingest::parse_with(input, Boilerplate::builtin())
        })
        .await
        .map_err(|e| format!("feed parser task: {e}"))?
        .map_err(|e| e.to_string())?;
        let mut feed = match parsed {
            Parsed::Feed(feed) => feed,
            Parsed::Article(_) => return Err("an article, not a feed".into()),
        };
        if !feed.repairs.is_empty() {
            tracing::info!(repairs = ?feed.repairs, "feed repaired before parsing");
        }
        if let Some(damage) = &feed.damage {
            tracing::warn!(
                source = %src.name,
                reader = feed.reader.as_str(),
                kept = feed.drafts.len(),
                %damage,
                "damaged feed document: kept the complete entries before the damage"
            );
        } else {
            tracing::debug!(reader = feed.reader.as_str(), "feed read");
        }
        // The configured URL, not the one a redirect led to: a feed that
        // moves keeps its items' guid ids.
        let scope = ingest::identity::link_key(&src.url);
        for d in &mut feed.drafts {
            d.site.get_or_insert_with(|| src.name.clone());
            if d.guid.is_some() && scope.is_some() {
                d.guid_scope.clone_from(&scope);
            }
        }
        let (full_text, permit) = if src.full_text {
            // Waiting on the network needs no core.
            drop(permit);
            let filled = fulltext::fill(
                &self.store,
                &pages,
                &src.name,
                &mut feed.drafts,
                &self.full_text,
            )
            .await;
            (filled, self.cpu.clone().acquire_owned().await)
        } else {
            (0, permit)
        };
        let (store, classifier) = (self.store.clone(), self.topics.get());
        let (prepared, name) = {
            let (store, classifier) = (store.clone(), classifier.clone());
            tokio::task::spawn_blocking(move || {
                let sites = SiteBoilerplate::new(store.as_ref());
                let prepared = prepare_feed(&classifier, &sites, feed, Some(&src.name));
                (prepared, src.name)
            })
            .await
            .map_err(|e| format!("prepare task: {e}"))?
        };
        // Writing waits for the writer, not for a core.
        drop(permit);
        let ingested = tokio::task::spawn_blocking(move || {
            let sites = SiteBoilerplate::new(store.as_ref());
            store_prepared(
                store.as_ref(),
                &classifier,
                &sites,
                prepared,
                &name,
                Utc::now(),
            )
        })
        .await
        .map_err(|e| format!("store task: {e}"))?;
        let facts = ingested.feed.ok_or("not a feed")?;
        Ok(FeedReport {
            summary: ingested.summary,
            facts,
            full_text,
        })
    }
}

impl Sink for Ingester {
    fn feed(
        &self,
        src: SourceConfig,
        doc: RawDocument,
        pages: Arc<Fetcher>,
    ) -> BoxFuture<'static, Result<FeedReport, String>> {
        Box::pin(self.clone().ingest_feed(src, doc, pages))
    }

    fn file(&self, path: &Path, bytes: &[u8]) -> Summary {
        let subject = path.display().to_string();
        let classifier = self.topics.get();
        let sites = SiteBoilerplate::new(self.store.as_ref());
        let prepared = match prepare(&classifier, &sites, Input::file(bytes, path)) {
            Ok(p) => p,
            Err(e) => {
                let mut summary = Summary::default();
                summary.fail(subject, e.to_string());
                return summary;
            }
        };
        if prepared.articles.is_empty() {
            let mut summary = Summary::default();
            summary.fail(subject, super::nothing_usable(&prepared));
            return summary;
        }
        let store = self.store.as_ref();
        store_prepared(store, &classifier, &sites, prepared, &subject, Utc::now()).summary
    }
}
