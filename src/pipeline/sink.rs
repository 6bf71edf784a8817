//! The pipeline as the [`Sink`] of the poller and the inboxes: documents
//! fetched or dropped there are read, classified and stored here, with
//! the topics in force at that moment.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;

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
}

impl Ingester {
    pub fn new(store: Arc<dyn Store>, topics: Arc<LiveTopics>) -> Ingester {
        Ingester {
            store,
            topics,
            full_text: FullTextOptions::default(),
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
        let full_text = if src.full_text {
            fulltext::fill(
                &self.store,
                &pages,
                &src.name,
                &mut feed.drafts,
                &self.full_text,
            )
            .await
        } else {
            0
        };
        let (store, classifier) = (self.store.clone(), self.topics.get());
        let ingested = tokio::task::spawn_blocking(move || {
            let sites = SiteBoilerplate::new(store.as_ref());
            let prepared = prepare_feed(&classifier, &sites, feed, Some(&src.name));
            let store = store.as_ref();
            store_prepared(store, &classifier, &sites, prepared, &src.name, Utc::now())
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
