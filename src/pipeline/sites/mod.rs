//! Per-site boilerplate learning: a short block that several distinct
//! stories of one site repeat ("Support our journalism…", "3 free articles
//! left") is that site's template, not its news, and comes off the site's
//! next articles before they are classified and stored.
//!
//! The built-in rules (`ingest::boilerplate`) know what every site prints;
//! this learns what one site prints, from the store: every stored article
//! records its site and the fingerprints of its short body blocks
//! ([`Store::record_site_blocks`]), and a block seen in
//! [`MIN_STORIES`] distinct stories of a site is removed from that site's
//! articles from then on. Counting stories, not articles, means syndicated
//! copies of one story never teach anything.
//!
//! Articles are cleaned when prepared, with what the store had learned by
//! then. Once stored, their blocks are recorded in order, and an article
//! stored after one of its blocks had become boilerplate (taught by the
//! articles ahead of it in the same batch) is cleaned again and replaced:
//! a batch ends as if its articles had come one by one. The stories that
//! taught a block keep it; `topicfeed reclean` ([`super::reclean()`])
//! applies what was learned to the articles stored before.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use xxhash_rust::xxh3::xxh3_64;

use crate::classify::Classifier;
use crate::ingest;
use crate::model::{Article, Block, BlockKind, Outcome};
use crate::store::{BlockPrint, SiteBlocks, Store, StoreError};

mod strip;

pub use strip::strip;
use strip::{removable, remove_blocks};

/// Distinct stories of a site a block must have appeared in to be that
/// site's boilerplate. Two stories sharing a line is often coincidence (a
/// quote both ran, a recurring "Analysis" subhead, a correction); three
/// independent stories printing the same block is a template. It is low
/// so that a site is cleaned after a handful of articles, which is safe
/// because it counts distinct stories, never copies of one.
pub const MIN_STORIES: u64 = 3;

/// Blocks longer than this many words are never fingerprinted: prose that
/// long is not boilerplate (the classifier reads a line this long as prose
/// without looking at its words, and the tables stop before it), and
/// leaving it out keeps the store's block table, and the work of recording
/// it for every stored article, to the short lines where boilerplate lives.
pub const MAX_WORDS: usize = 45;

/// How much of a block's text the store keeps to show (`topicfeed sites`).
const SAMPLE_CHARS: usize = 120;

/// Where an article comes from, as learning groups it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// See [`site_key`].
    pub key: String,
    /// The name (or host) as people read it.
    pub name: String,
}

/// The key a site name is known by: lower-cased, whitespace collapsed, so
/// "The  Harbor Gazette" and "the harbor gazette" are one site.
pub fn site_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for word in name.split_whitespace() {
        if !key.is_empty() {
            key.push(' ');
        }
        key.extend(word.chars().flat_map(char::to_lowercase));
    }
    key
}

/// The article's site: its name, else its URL's host (without `www.`);
/// `None` when it has neither, and then nothing is learned from it.
pub fn site_of(article: &Article) -> Option<Site> {
    if let Some(name) = article.site.as_deref() {
        let key = site_key(name);
        if !key.is_empty() {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            return Some(Site { key, name });
        }
    }
    let url = url::Url::parse(article.url.as_deref()?).ok()?;
    let host = url.host_str()?.to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    Some(Site {
        key: host.clone(),
        name: host,
    })
}

/// The fingerprint of a block's text, the same for text that differs only
/// in case, spacing or numbers ("3 free articles left", "10 free articles
/// left"): xxh3 of the text lower-cased, whitespace collapsed and each run
/// of digits made one `0`. `None` for a block over [`MAX_WORDS`] words or
/// without text.
pub fn block_fingerprint(text: &str) -> Option<u64> {
    // Most body paragraphs are longer: find that out before any work.
    if text.split_ascii_whitespace().nth(MAX_WORDS).is_some() {
        return None;
    }
    let mut norm = String::with_capacity(text.len());
    let mut words = 0;
    for word in text.split_whitespace() {
        words += 1;
        if words > MAX_WORDS {
            return None;
        }
        if !norm.is_empty() {
            norm.push(' ');
        }
        let mut in_number = false;
        for c in word.chars() {
            let digit = c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric());
            if digit && !in_number {
                norm.push('0');
            } else if !digit && c.is_ascii() {
                norm.push(c.to_ascii_lowercase());
            } else if !digit {
                norm.extend(c.to_lowercase());
            }
            in_number = digit;
        }
    }
    (!norm.is_empty()).then(|| xxh3_64(norm.as_bytes()))
}

/// The fingerprint of a block that may be learned and removed: never the
/// standfirst, which is the article's own summary of itself.
fn print(block: &Block) -> Option<u64> {
    match block.kind {
        BlockKind::Standfirst => None,
        _ => block_fingerprint(&block.text),
    }
}

/// What an article's body was before its site's boilerplate came off:
/// what the store records once the article is stored.
#[derive(Debug, Clone)]
pub struct Seen {
    site: Site,
    blocks: Vec<SeenBlock>,
}

#[derive(Debug, Clone)]
struct SeenBlock {
    fingerprint: u64,
    sample: String,
    /// Removed when the article was prepared.
    removed: bool,
}

/// The boilerplate the store has learned, per site, as prepared articles
/// need it: read once per site and kept while a batch runs (the store is
/// asked again for a site that may have learned a block since).
pub struct SiteBoilerplate<'a> {
    store: Option<&'a dyn Store>,
    cache: Mutex<HashMap<String, Arc<HashSet<u64>>>>,
}

impl<'a> SiteBoilerplate<'a> {
    pub fn new(store: &'a dyn Store) -> Self {
        SiteBoilerplate {
            store: Some(store),
            cache: Mutex::default(),
        }
    }

    /// Knows no boilerplate: articles are prepared as read (benchmarks of
    /// reading alone).
    pub fn off() -> Self {
        SiteBoilerplate {
            store: None,
            cache: Mutex::default(),
        }
    }

    /// The site's learned blocks. A store that cannot say is logged and
    /// taken as having learned nothing: the article is still worth storing.
    pub fn learned(&self, site: &str) -> Arc<HashSet<u64>> {
        let Some(store) = self.store else {
            return Arc::default();
        };
        let cached = self.lock().get(site).cloned();
        if let Some(set) = cached {
            return set;
        }
        let set = Arc::new(
            store
                .site_boilerplate(site, MIN_STORIES)
                .unwrap_or_else(|e| {
                    tracing::warn!(site, error = %e, "learned boilerplate not read; none removed");
                    HashSet::new()
                }),
        );
        self.lock().insert(site.to_owned(), set.clone());
        set
    }

    fn forget(&self, site: &str) {
        self.lock().remove(site);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<HashSet<u64>>>> {
        // The map holds no invariant a panic could break.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes the site's learned boilerplate from a freshly read article;
    /// returns what it was before, which storing it records (`None`
    /// without a site).
    pub fn clean(&self, article: &mut Article) -> Option<Seen> {
        let site = site_of(article)?;
        let prints: Vec<Option<u64>> = article.blocks.iter().map(print).collect();
        let learned = self.learned(&site.key);
        let remove = removable(&article.blocks, &prints, &learned);
        let mut blocks: Vec<SeenBlock> = Vec::with_capacity(prints.len());
        let mut distinct = HashSet::with_capacity(prints.len());
        for ((block, fp), &removed) in article.blocks.iter().zip(&prints).zip(&remove) {
            if let Some(fp) = *fp
                && distinct.insert(fp)
            {
                blocks.push(SeenBlock {
                    fingerprint: fp,
                    sample: ingest::clean::truncate_words(&block.text, SAMPLE_CHARS),
                    removed,
                });
            }
        }
        remove_blocks(article, &prints, &remove);
        Some(Seen { site, blocks })
    }
}

/// After a store: records the stored articles' blocks for their sites,
/// then cleans again each article that a block had become boilerplate
/// for before it (earlier in this batch, or in another process) and
/// replaces it in the store. Learning is best effort: a store that
/// cannot record is logged, and the articles stay stored as they are.
pub(super) fn learn(
    store: &dyn Store,
    classifier: &Classifier,
    sites: &SiteBoilerplate<'_>,
    articles: &mut [Article],
    seen: &[Option<Seen>],
    results: &[Result<Outcome, StoreError>],
    now: DateTime<Utc>,
) {
    let mut records = Vec::new();
    let mut which = Vec::new();
    for (i, (seen, result)) in seen.iter().zip(results).enumerate() {
        let (Some(seen), Ok(outcome)) = (seen, result) else {
            continue;
        };
        let story_id = match outcome {
            // Recorded when it was first stored.
            Outcome::Unchanged => continue,
            Outcome::Duplicate { story_id } => story_id.clone(),
            Outcome::New | Outcome::Updated => articles[i].id.clone(),
        };
        records.push(record(seen, &articles[i].id, story_id));
        which.push(i);
    }
    if records.is_empty() {
        return;
    }
    let counts = match store.record_site_blocks(&records) {
        Ok(counts) => counts,
        Err(e) => {
            tracing::warn!(error = %e, "site blocks not recorded; nothing learned from this batch");
            return;
        }
    };
    let mut again = Vec::new();
    for ((&i, r), counts) in which.iter().zip(&records).zip(&counts) {
        // A block that reached the threshold now: the cached set is stale.
        if counts.iter().any(|&n| n + 1 == MIN_STORIES) {
            sites.forget(&r.site);
        }
        let Some(seen) = &seen[i] else { continue };
        let late: HashSet<u64> = seen
            .blocks
            .iter()
            .zip(counts)
            .filter(|(b, n)| !b.removed && **n >= MIN_STORIES)
            .map(|(b, _)| b.fingerprint)
            .collect();
        if strip(&mut articles[i], &late) > 0 {
            classifier.apply(&mut articles[i]);
            again.push(articles[i].clone());
        }
    }
    if let Err(e) = store.replace_cleaned(&again, now) {
        tracing::warn!(error = %e, "articles cleaned of newly learned boilerplate not replaced");
    }
}

fn record(seen: &Seen, article_id: &str, story_id: String) -> SiteBlocks {
    SiteBlocks {
        site: seen.site.key.clone(),
        name: seen.site.name.clone(),
        article_id: article_id.to_owned(),
        story_id,
        blocks: seen
            .blocks
            .iter()
            .map(|b| BlockPrint {
                fingerprint: b.fingerprint,
                sample: b.sample.clone(),
            })
            .collect(),
    }
}

/// What a stored article shows now, as a record of its own story (for
/// `reclean`, which learns from stories stored before blocks were recorded).
pub(super) fn stored_record(article: &Article) -> Option<SiteBlocks> {
    let site = site_of(article)?;
    let mut distinct = HashSet::new();
    let blocks = article
        .blocks
        .iter()
        .filter_map(|b| Some((print(b)?, b)))
        .filter(|(fp, _)| distinct.insert(*fp))
        .map(|(fp, b)| BlockPrint {
            fingerprint: fp,
            sample: ingest::clean::truncate_words(&b.text, SAMPLE_CHARS),
        })
        .collect();
    Some(SiteBlocks {
        site: site.key,
        name: site.name,
        article_id: article.id.clone(),
        story_id: article.id.clone(),
        blocks,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::ingest::identity;

    pub(crate) fn article(
        site: Option<&str>,
        url: Option<&str>,
        blocks: &[(BlockKind, &str)],
    ) -> Article {
        let blocks: Vec<Block> = blocks.iter().map(|(k, t)| Block::new(*k, *t)).collect();
        Article {
            id: "a1".into(),
            title: "Ferry pier to be extended".into(),
            site: site.map(str::to_owned),
            url: url.map(str::to_owned),
            authors: vec![],
            published: None,
            updated: None,
            language: Some("en".into()),
            summary: ingest::summarize(&blocks),
            content_html: ingest::blocks_html(&blocks),
            topics: vec![],
            tags: vec![],
            fingerprint: identity::fingerprint(&crate::model::blocks_text(&blocks)),
            blocks,
            notes: Vec::new(),
            image: None,
            enclosures: Vec::new(),
        }
    }

    pub(crate) fn set(texts: &[&str]) -> HashSet<u64> {
        texts.iter().filter_map(|t| block_fingerprint(t)).collect()
    }

    pub(crate) const NAG: &str = "Support our journalism: 3 free articles left this month.";
    pub(crate) const BODY: &str = "The council voted to extend the ferry pier by forty metres.";

    #[test]
    fn fingerprints_ignore_case_spacing_and_numbers() {
        let fp = block_fingerprint("3 free articles left");
        assert!(fp.is_some());
        for same in [
            "2 free articles left",
            "10 free articles left",
            "  3 FREE\tarticles\u{a0} left ",
        ] {
            assert_eq!(block_fingerprint(same), fp, "{same:?}");
        }
        assert_ne!(block_fingerprint("3 free article left"), fp);
        assert_ne!(block_fingerprint("3 free articles, left"), fp);
        // "1,000" is two numbers with a comma between, not one.
        assert_ne!(
            block_fingerprint("1,000 readers"),
            block_fingerprint("7 readers")
        );
        assert_eq!(
            block_fingerprint("Ünïcode ÉTÉ"),
            block_fingerprint("ünïcode été")
        );
    }

    #[test]
    fn long_and_empty_blocks_have_no_fingerprint() {
        let words = |n: usize| vec!["word"; n].join(" ");
        assert!(block_fingerprint(&words(MAX_WORDS)).is_some());
        assert_eq!(block_fingerprint(&words(MAX_WORDS + 1)), None);
        assert_eq!(block_fingerprint(" \n\t "), None);
    }

    #[test]
    fn a_site_is_its_folded_name_else_its_host() {
        let named = article(Some("  The Harbor\tGazette "), None, &[]);
        let site = site_of(&named).unwrap();
        assert_eq!(
            (site.key.as_str(), site.name.as_str()),
            ("the harbor gazette", "The Harbor Gazette")
        );
        let hosted = article(Some(" "), Some("https://WWW.Gazette.example/a/b"), &[]);
        assert_eq!(site_of(&hosted).unwrap().key, "gazette.example");
        assert_eq!(site_of(&article(None, None, &[])), None);
    }

    #[test]
    fn cleaning_reports_every_block_as_read() {
        use BlockKind::*;
        let mut a = article(
            Some("Gazette"),
            None,
            &[(Paragraph, BODY), (Paragraph, NAG), (Paragraph, NAG)],
        );
        let seen = SiteBoilerplate::off().clean(&mut a).unwrap();
        assert_eq!(a.blocks.len(), 3, "nothing learned, nothing removed");
        assert_eq!(seen.site.key, "gazette");
        // Each distinct block once.
        assert_eq!(seen.blocks.len(), 2);
        assert!(seen.blocks.iter().all(|b| !b.removed));
        assert_eq!(seen.blocks[1].sample, NAG);
    }
}
