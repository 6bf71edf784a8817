//! How a story is recorded, whatever the backend: the hashes that tell an
//! unchanged copy from an updated one, the JSON forms stored beside the
//! indexed columns, the update rules for a story's dates, and the
//! duplicate test a candidate from the fingerprint window must pass.
//!
//! Both backends store the same bytes through these, so a story reads back
//! identically from SQLite and from PostgreSQL (and ETags agree).

use chrono::{DateTime, Utc};

use super::StoreError;
use super::dedup;
use crate::model::Article;

/// Microseconds in a second: change times (`first_seen`, `changed`,
/// `seen`, `last_changed`) are µs; `sort_time` is seconds (cursors carry it).
pub const MICROS: i64 = 1_000_000;

/// Seconds: the unit of `sort_time`.
pub fn ts(t: &DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// A stored µs time read back; out of range means the row is damaged.
pub fn stored_time(micros: i64, id: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| StoreError::Corrupt {
        id: id.to_owned(),
        reason: format!("time {micros} µs out of range"),
    })
}

/// A `topics` row as [`super::TopicStats`].
pub fn topic_stats_row(
    slug: String,
    count: i64,
    last_changed: Option<i64>,
) -> Result<super::TopicStats, StoreError> {
    Ok(super::TopicStats {
        count: count.max(0) as u64,
        last_changed: last_changed.map(|t| stored_time(t, &slug)).transpose()?,
        slug,
    })
}

/// The JSON columns of a new story: the article (its topics aside), its
/// topic list (sorted, once each) and its source list (itself).
pub fn new_story_json(a: &Article) -> Result<NewStoryJson, StoreError> {
    let topics: std::collections::BTreeSet<&String> = a.topics.iter().collect();
    Ok(NewStoryJson {
        article: to_json(&stored_form(a.clone()), &a.id)?,
        topics: to_json(&topics, &a.id)?,
        sources: to_json(
            &[SourceJson {
                article_id: a.id.clone(),
                site: a.site.clone(),
                url: a.url.clone(),
            }],
            &a.id,
        )?,
    })
}

pub struct NewStoryJson {
    pub article: String,
    pub topics: String,
    pub sources: String,
}

/// 16 bytes of BLAKE3 over what a source says about itself, topics aside.
pub fn content_hash(a: &Article) -> Result<Vec<u8>, StoreError> {
    let fields = (
        &a.title,
        &a.site,
        &a.url,
        &a.authors,
        &a.published,
        &a.updated,
        &a.language,
        &a.summary,
        &a.blocks,
        &a.content_html,
    );
    // Media joins the hash only when there is some, so that articles
    // without any keep the hash they were stored with.
    if a.image.is_none() && a.enclosures.is_empty() {
        hash16(&fields, &a.id)
    } else {
        hash16(&(fields, &a.image, &a.enclosures), &a.id)
    }
}

/// Hash of the classification, which changes when the topic rules do.
pub fn class_hash(a: &Article) -> Result<Vec<u8>, StoreError> {
    hash16(&(&a.topics, &a.tags), &a.id)
}

fn hash16(value: &impl serde::Serialize, id: &str) -> Result<Vec<u8>, StoreError> {
    // serde_json writes token by token; the hasher is fed whole buffers,
    // which is what it is fast at.
    let mut hasher = blake3::Hasher::new();
    let mut buffered = std::io::BufWriter::with_capacity(16 * 1024, &mut hasher);
    serde_json::to_writer(&mut buffered, value)
        .map_err(std::io::Error::from)
        .and_then(|()| std::io::Write::flush(&mut buffered))
        .map_err(|e| StoreError::Corrupt {
            id: id.to_owned(),
            reason: format!("cannot serialize: {e}"),
        })?;
    drop(buffered);
    Ok(hasher.finalize().as_bytes()[..16].to_vec())
}

pub fn to_json(value: &impl serde::Serialize, id: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        id: id.to_owned(),
        reason: format!("cannot serialize: {e}"),
    })
}

pub fn parse_article(json: &str, id: &str) -> Result<Article, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        id: id.to_owned(),
        reason: format!("article JSON: {e}"),
    })
}

pub fn parse_sources(json: &str, id: &str) -> Result<Vec<SourceJson>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        id: id.to_owned(),
        reason: format!("sources JSON: {e}"),
    })
}

pub fn parse_topics(json: &str, id: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        id: id.to_owned(),
        reason: format!("topics JSON: {e}"),
    })
}

/// The site as matched by a `source` filter: trimmed, lower-cased.
pub fn site_key(site: &Option<String>) -> Option<String> {
    site.as_deref().map(|s| s.trim().to_lowercase())
}

/// One element of a story's stored source list.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct SourceJson {
    pub article_id: String,
    pub site: Option<String>,
    pub url: Option<String>,
}

impl From<SourceJson> for super::SourceRef {
    fn from(s: SourceJson) -> Self {
        super::SourceRef {
            article_id: s.article_id,
            site: s.site,
            url: s.url,
        }
    }
}

/// What moves when a story's own article is stored again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new version from the source: `updated` moves, the text is reindexed.
    Content,
    /// Only the topics or tags: the article itself is as it was.
    Classification,
    /// Our cleaning removed more: the text is reindexed, but the source
    /// did not update the article, so its dates stay.
    Cleaning,
}

/// The article as stored: its topics live in the topic rows, not in the JSON.
pub fn stored_form(mut a: Article) -> Article {
    a.topics = Vec::new();
    a
}

/// The new stored version of a story's own article `a`, given the version
/// stored before, and its sort time (seconds). The first publication date
/// stands (a later version is an update); `updated` moves to `now` (µs)
/// only when the source changed the article.
pub fn next_version(
    a: &Article,
    old_json: &str,
    change: Change,
    first_seen: i64,
    now: i64,
) -> Result<(Article, i64), StoreError> {
    let old = parse_article(old_json, &a.id)?;
    let mut stored = stored_form(a.clone());
    stored.published = old.published.or(a.published);
    stored.updated = if change == Change::Content {
        let now = from_micros(now);
        Some(a.updated.filter(|u| *u > now).unwrap_or(now))
    } else {
        old.updated
    };
    let sort_time = stored
        .published
        .as_ref()
        .map(ts)
        .unwrap_or(first_seen.div_euclid(MICROS));
    Ok((stored, sort_time))
}

/// Whether `a` (with its body's `shingles`) is a copy of the stored story
/// `id` (its article and source list as stored).
///
/// One site's items with different ids (guids, links) are different
/// stories unless their text is the same word for word (one story on an
/// edition page and a live page): templated briefs ("library reopens in
/// X") share most of their words.
pub fn is_copy_of(
    a: &Article,
    shingles: &std::collections::HashSet<u64>,
    id: &str,
    article_json: &str,
    sources_json: &str,
) -> Result<bool, StoreError> {
    let my_site = site_key(&a.site);
    let sources = parse_sources(sources_json, id)?;
    let same_site = my_site.is_some()
        && sources
            .iter()
            .any(|s| site_key(&s.site) == my_site && s.article_id != a.id);
    let other = parse_article(article_json, id)?;
    let theirs = dedup::shingles(&other.content_text());
    let me = dedup::Text {
        title: &a.title,
        shingles,
    };
    let them = dedup::Text {
        title: &other.title,
        shingles: &theirs,
    };
    Ok(dedup::is_copy(&me, &them, same_site))
}

/// One block of a site-block record, from the probe made before recording
/// it (how many stories of the site held it, counted up to two, and
/// whether this story already did): whether recording adds this story to
/// it, and how many stories hold it then, counted up to two. Both backends
/// count the same way; a block held by two or more has its full count in
/// `site_blocks`.
pub fn block_after_record(few_before: i64, present: bool) -> (bool, i64) {
    let added = !present;
    (added, (few_before + i64::from(added)).min(2))
}

/// What `Store::record_site_blocks` reports for a block: the stories that
/// held it before this record.
pub fn stories_before(now: i64, added: bool) -> u64 {
    (now - i64::from(added)).max(0) as u64
}
