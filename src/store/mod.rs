//! Store: keeps classified [`Article`]s as stories and answers feed queries.
//!
//! In: articles from ingest + classify (with `topics` filled), and a `now`
//! the caller supplies. Out: [`Story`] pages, newest first, for a topic
//! expression, a keyword search, a source or a time.
//!
//! A *story* is one article plus the copies of it that other sites ran: a
//! near-duplicate (see [`dedup`]) is merged into the story that was seen
//! first, as an extra [`SourceRef`], instead of being stored twice.
//!
//! Per site, the store also keeps which short body blocks each stored
//! story showed ([`SiteBlocks`]): a block that many stories of one site
//! repeat is that site's boilerplate, which the pipeline removes from the
//! site's next articles ([`Store::site_boilerplate`]).
//!
//! [`Store`] is the whole boundary ingest and serving see. It speaks in
//! model types only, so a PostgreSQL implementation can follow without
//! touching them. [`SqliteStore`] is the embedded default; [`PostgresStore`]
//! is the shared store several instances can serve from. Both record
//! stories through [`record`] and page through [`plan`], so a query means
//! the same on each; they are the only code in the crate that knows SQL.

pub mod cursor;
pub mod dedup;
pub mod filters;
pub mod plan;
pub mod postgres;
pub mod record;
pub mod sqlite;

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::model::Article;
pub use crate::model::{Outcome, SourceRef, Story};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Opens the store: the PostgreSQL database at `database` when given (a
/// `postgres://` URL), else the SQLite store in `dir`.
pub fn open(dir: &std::path::Path, database: Option<&str>) -> Result<Box<dyn Store>, StoreError> {
    match database.map(str::trim).filter(|d| !d.is_empty()) {
        Some(url) => Ok(Box::new(PostgresStore::open(url)?)),
        None => Ok(Box::new(SqliteStore::open(dir)?)),
    }
}

/// A feed query. Every filter narrows; the defaults select all stories.
#[derive(Default, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Query {
    /// In at least one of these topics; empty means every story.
    pub any: Vec<String>,
    /// In every one of these topics.
    pub all: Vec<String>,
    /// In none of these topics.
    pub not: Vec<String>,
    /// Keywords, matched against title and body text. Plain words only:
    /// search syntax in user input is treated as text.
    pub q: Option<String>,
    /// Site name of any of the story's sources, case-insensitive.
    pub source: Option<String>,
    /// Only stories whose sort time (published, else first seen) is at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Page size; 0 means [`Query::DEFAULT_LIMIT`], larger than [`Query::MAX_LIMIT`] is capped.
    pub limit: usize,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Private topics the request has not unlocked: a story every one of
    /// whose topics is among these is left out. A story with no topic, or
    /// with any topic not listed, stays. Set by the server from its topic
    /// configuration, never from the URL.
    pub hidden: Vec<String>,
}

impl Query {
    pub const DEFAULT_LIMIT: usize = 50;
    pub const MAX_LIMIT: usize = 1000;

    /// The page size actually used.
    pub fn page_size(&self) -> usize {
        match self.limit {
            0 => Self::DEFAULT_LIMIT,
            n => n.min(Self::MAX_LIMIT),
        }
    }
}

/// One page of a query, newest first (sort time descending, then id ascending).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub stories: Vec<Story>,
    /// Set when there may be more: pass it as [`Query::cursor`] for the next page.
    pub next_cursor: Option<String>,
}

/// How many stories a topic has and when one of them last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicStats {
    pub slug: String,
    pub count: u64,
    pub last_changed: Option<DateTime<Utc>>,
}

/// What retention removes. `None` keeps everything on that axis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// Stories whose sort time is older than this are deleted.
    pub max_age: Option<chrono::Duration>,
    /// Each topic keeps its newest this many stories; a story trimmed from
    /// every topic it was in is deleted.
    pub max_per_topic: Option<usize>,
}

/// The body blocks one stored article showed, for its site's boilerplate
/// learning ([`Store::record_site_blocks`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteBlocks {
    /// The site's key: its name case- and space-folded, else its URL host.
    pub site: String,
    /// The site as people know it (shown by `topicfeed sites`).
    pub name: String,
    pub article_id: String,
    /// The story the article is, or was merged into: blocks are counted
    /// per story, so syndicated copies of one story count once.
    pub story_id: String,
    /// Each distinct block, once.
    pub blocks: Vec<BlockPrint>,
}

/// One body block as the store keeps it: a fingerprint of its normalized
/// text, and the start of the text to show people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPrint {
    pub fingerprint: u64,
    pub sample: String,
}

/// What the store has learned about one site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    /// The site's key (see [`SiteBlocks::site`]).
    pub site: String,
    /// The name it was last seen under.
    pub name: String,
    /// Stored articles recorded for the site, and the stories they are in.
    pub articles: u64,
    pub stories: u64,
    /// Its boilerplate, most widespread first.
    pub learned: Vec<LearnedBlock>,
}

/// A block seen in enough stories of a site to be its boilerplate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedBlock {
    pub fingerprint: u64,
    /// Distinct stored stories of the site that showed it.
    pub stories: u64,
    pub sample: String,
}

/// A WebSub subscription as the hub keeps it: one per callback and topic
/// (a canonical feed URL of this server), until `expires`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub callback: String,
    pub topic: String,
    /// The subscriber's `hub.secret`, for the signature of each delivery.
    pub secret: Option<String>,
    pub expires: DateTime<Utc>,
    /// The signature of the topic's item set the subscriber last got (or
    /// had when it subscribed): a change is what differs from it. Kept in
    /// the store, so a restart or another instance pushes what changed.
    pub seen: Option<u64>,
}

/// The storage boundary that ingest and serving use.
pub trait Store: Send + Sync {
    /// Stores one article; see [`Outcome`]. On `Updated` the stored `updated`
    /// moves to `now` (or the later time the article states) and the stored
    /// `published` is kept.
    fn upsert(&self, article: &Article, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
        let mut out = self.upsert_batch(std::slice::from_ref(article), now)?;
        out.pop().ok_or_else(|| StoreError::Corrupt {
            id: article.id.clone(),
            reason: "upsert returned no outcome".into(),
        })
    }
    /// Stores several articles in one transaction: all or none are stored.
    fn upsert_batch(
        &self,
        articles: &[Article],
        now: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, StoreError>;
    fn query(&self, q: &Query) -> Result<Page, StoreError>;
    /// The story with this id, or the story a copy with this id was merged into.
    fn get(&self, id: &str) -> Result<Option<Story>, StoreError>;
    /// The story holding a copy whose canonical URL is `url`, if any.
    fn get_by_url(&self, url: &str) -> Result<Option<Story>, StoreError>;
    /// Every topic that has had stories, sorted by slug.
    fn topic_stats(&self) -> Result<Vec<TopicStats>, StoreError>;
    /// How many stories there are, in all topics or none.
    fn story_count(&self) -> Result<u64, StoreError>;
    /// Deletes what `policy` says is too old or too many; returns how many
    /// stories were deleted. Works in small transactions so that writers
    /// interleave and readers are never blocked.
    fn apply_retention(&self, policy: &Retention, now: DateTime<Utc>) -> Result<usize, StoreError>;
    /// Stores articles again after more boilerplate came off them (their
    /// ids already stored): each one's topics, and the body when it is its
    /// story's own copy. Unlike [`Store::upsert`], stored dates stay: the
    /// article did not change at its source. One transaction; for each
    /// article, whether anything changed (false when it is not stored).
    fn replace_cleaned(
        &self,
        articles: &[Article],
        now: DateTime<Utc>,
    ) -> Result<Vec<bool>, StoreError>;
    /// Fingerprints of the blocks seen in at least `min_stories` distinct
    /// stored stories of `site` (a key, see [`SiteBlocks::site`]).
    fn site_boilerplate(&self, site: &str, min_stories: u64) -> Result<HashSet<u64>, StoreError>;
    /// Records which blocks stored articles showed, in order, in one
    /// transaction; recording the same article again changes nothing.
    /// Returns, for each record and each of its blocks, in how many
    /// distinct stories of the site the block had been seen before that
    /// record (its own story included if recorded earlier): what the
    /// caller's threshold would have said of it at that point. A record
    /// whose story is no longer stored is skipped (all zeros).
    fn record_site_blocks(&self, records: &[SiteBlocks]) -> Result<Vec<Vec<u64>>, StoreError>;
    /// Every site with recorded articles, by key, with the blocks seen in
    /// at least `min_stories` of its stories.
    fn sites(&self, min_stories: u64) -> Result<Vec<SiteInfo>, StoreError>;
    /// Monotonic counter bumped by every write that changed any story (used to invalidate caches).
    fn generation(&self) -> u64;
    /// Adds a WebSub subscription, or renews the one for its callback and
    /// topic; a renewal keeps the signature last sent, so a change not yet
    /// pushed is still pushed. Subscriptions change no story: the
    /// generation stays.
    fn put_subscription(&self, sub: &Subscription) -> Result<(), StoreError>;
    /// Records the item-set signature the subscriber of `callback` to
    /// `topic` was last sent, if it is still subscribed (a subscription
    /// ended meanwhile is not brought back); whether it was.
    fn mark_seen(&self, callback: &str, topic: &str, seen: u64) -> Result<bool, StoreError>;
    /// Removes the subscription of `callback` to `topic`; whether there was one.
    fn delete_subscription(&self, callback: &str, topic: &str) -> Result<bool, StoreError>;
    /// Every subscription still current at `now`; expired ones are deleted.
    fn subscriptions(&self, now: DateTime<Utc>) -> Result<Vec<Subscription>, StoreError>;
    /// The cursor of the page before `q`'s: `Some(None)` is the first page,
    /// `None` means there is none (or it is too far back to find). Provided:
    /// any store whose cursors lead forward gets it from [`cursor::previous`];
    /// a backend that can step back directly may answer in one query.
    /// Whether this process may run the store-wide chores (polling upstream
    /// feeds, retention) now. A store one process owns always may; a store
    /// several processes share grants it to one of them at a time, and to
    /// another when that one is gone. Ask again before each round of chores.
    fn lead(&self) -> Result<bool, StoreError> {
        Ok(true)
    }
    /// Whether other processes may share this store (and the lead can
    /// move): false for a store one process owns, which always leads.
    fn shared(&self) -> bool {
        false
    }
    fn previous_cursor(&self, q: &Query) -> Result<Option<Option<String>>, StoreError> {
        cursor::previous(self, q)
    }
}

/// A backend's own error (SQLite's, PostgreSQL's), kept opaque: no
/// backend type is part of the [`Store`] boundary.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in the store. Messages name the file or
/// the operation, so a log line alone says what failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `location` is a file path or a database address (without secrets).
    #[error("cannot open store {location}: {source}")]
    Open {
        location: String,
        source: BackendError,
    },
    #[error(
        "store {location} has schema version {found}, newer than this build knows ({supported}): run a newer topicfeed"
    )]
    SchemaTooNew {
        location: String,
        found: i64,
        supported: i64,
    },
    #[error("cannot migrate store {location} to schema version {version}: {source}")]
    Migrate {
        location: String,
        version: i64,
        source: BackendError,
    },
    #[error("store: {op}: {source}")]
    Backend { op: String, source: BackendError },
    /// The disk (or the database's quota) is full: nothing was written.
    #[error("store: {op}: {}", crate::model::DISK_FULL)]
    Full { op: String },
    #[error("stored story {id} cannot be read back: {reason}")]
    Corrupt { id: String, reason: String },
    /// A cursor that this store did not hand out (user input: HTTP 400).
    #[error("bad cursor: {0}")]
    BadCursor(String),
    /// A query that cannot be run as given (user input: HTTP 400).
    #[error("bad query: {0}")]
    BadQuery(String),
}

impl StoreError {
    pub fn open(location: impl fmt::Display, source: impl Into<BackendError>) -> StoreError {
        StoreError::Open {
            location: location.to_string(),
            source: source.into(),
        }
    }

    pub fn backend(op: impl Into<String>, source: impl Into<BackendError>) -> StoreError {
        StoreError::Backend {
            op: op.into(),
            source: source.into(),
        }
    }

    /// True when the caller's input was at fault, not the store.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, StoreError::BadCursor(_) | StoreError::BadQuery(_))
    }
}
