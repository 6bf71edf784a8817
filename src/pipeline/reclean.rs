//! `topicfeed reclean`: what each site has learned, applied to the
//! articles stored before it was learned (the stories that taught a block
//! keep it until then).
//!
//! Two passes over every stored story, a page at a time. The first
//! records each story's blocks for its site, which changes nothing for a
//! story recorded when it was stored and lets a store from before
//! learning existed learn from its history. The second removes each
//! site's learned blocks from its stories' own articles, classifies them
//! again and replaces them ([`Store::replace_cleaned`]: topics follow the
//! new text, dates stay). A merged copy's body is not stored, so there is
//! nothing of it to clean.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::sites::{self, SiteBoilerplate, site_key, site_of};
use crate::classify::Classifier;
use crate::model::{Article, Story};
use crate::store::{Query, SiteBlocks, Store, StoreError};

/// Stories read (and rewritten) at a time.
const PAGE: usize = 500;

/// What reclean did for one site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteReclean {
    /// The site's key ([`site_key`]) and its name.
    pub site: String,
    pub name: String,
    /// The site's learned blocks.
    pub learned: usize,
    /// Stored stories whose own article is from the site.
    pub articles: usize,
    /// Of those, the ones that lost blocks, and how many blocks in all.
    pub changed: usize,
    pub blocks: usize,
}

/// Cleans every stored article, or those of the site `only` (a name or
/// host, folded as [`site_key`] folds it). Returns one entry per site that
/// has stored articles, by key.
pub fn reclean(
    store: &dyn Store,
    classifier: &Classifier,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<SiteReclean>, StoreError> {
    let only = only.map(site_key);
    let wanted = |key: &str| only.as_deref().is_none_or(|o| o == key);
    each_page(store, |stories| {
        let records: Vec<SiteBlocks> = stories
            .iter()
            .filter_map(|s| sites::stored_record(&s.article))
            .filter(|r| wanted(&r.site))
            .collect();
        store.record_site_blocks(&records).map(drop)
    })?;
    let learned = SiteBoilerplate::new(store);
    let mut report: BTreeMap<String, SiteReclean> = BTreeMap::new();
    each_page(store, |stories| {
        let mut cleaned: Vec<(Article, usize)> = Vec::new();
        for story in stories {
            let mut article = story.article;
            let Some(site) = site_of(&article).filter(|s| wanted(&s.key)) else {
                continue;
            };
            let boilerplate = learned.learned(&site.key);
            let entry = report
                .entry(site.key.clone())
                .or_insert_with(|| SiteReclean {
                    site: site.key,
                    name: site.name,
                    learned: boilerplate.len(),
                    ..SiteReclean::default()
                });
            entry.articles += 1;
            let removed = sites::strip(&mut article, &boilerplate);
            if removed > 0 {
                classifier.apply(&mut article);
                cleaned.push((article, removed));
            }
        }
        let articles: Vec<Article> = cleaned.iter().map(|(a, _)| a.clone()).collect();
        let replaced = store.replace_cleaned(&articles, now)?;
        for ((article, removed), replaced) in cleaned.iter().zip(replaced) {
            let entry = site_of(article).and_then(|s| report.get_mut(&s.key));
            if let (true, Some(entry)) = (replaced, entry) {
                entry.changed += 1;
                entry.blocks += removed;
            }
        }
        Ok(())
    })?;
    Ok(report.into_values().collect())
}

/// Calls `f` with every stored story, a page at a time, newest first.
/// Replacing an article keeps its place in that order, so a page's
/// rewrites never move a story across the cursor.
fn each_page(
    store: &dyn Store,
    mut f: impl FnMut(Vec<Story>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut q = Query {
        limit: PAGE,
        ..Query::default()
    };
    loop {
        let page = store.query(&q)?;
        f(page.stories)?;
        match page.next_cursor {
            Some(cursor) => q.cursor = Some(cursor),
            None => return Ok(()),
        }
    }
}
