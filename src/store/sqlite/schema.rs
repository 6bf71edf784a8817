//! The SQLite schema as a list of migrations, applied in order on open.
//!
//! `PRAGMA user_version` holds how many have run. A migration is never
//! edited once released: a change is a new entry at the end, which every
//! existing store picks up the next time it is opened.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::store::StoreError;

/// Version 1: stories, their sources and topics, and per-topic counters.
///
/// Times are unix seconds (UTC). Pages are read in (sort_time DESC, id) order
/// from indexes in exactly that order, so a page is a range scan.
const V1_STORIES: &str = r#"
CREATE TABLE stories (
    sid        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    -- published, else first_seen: what pages are ordered by
    sort_time  INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    changed    INTEGER NOT NULL,
    -- SimHash of the body (u64 bits stored as i64)
    fp         INTEGER NOT NULL,
    -- copies of the story's story_topics and sources rows (JSON arrays), so
    -- that loading a story for a page is one row read, not three lookups
    topics     TEXT    NOT NULL DEFAULT '[]',
    sources    TEXT    NOT NULL DEFAULT '[]',
    -- the stored Article as JSON, its `topics` empty (see above)
    article    TEXT    NOT NULL
);
-- fp makes this index cover the start-up scan of the duplicate window
CREATE INDEX stories_by_time ON stories (sort_time DESC, id, fp);

-- every site that ran a story, the story's own article first
CREATE TABLE sources (
    article_id   TEXT    NOT NULL UNIQUE,
    sid          INTEGER NOT NULL REFERENCES stories (sid) ON DELETE CASCADE,
    -- copies of stories.id and sort_time, so a source filter can drive a page
    story_id     TEXT    NOT NULL,
    sort_time    INTEGER NOT NULL,
    seen         INTEGER NOT NULL,
    site         TEXT,
    -- site lower-cased, for case-insensitive matching
    site_key     TEXT,
    url          TEXT,
    -- this copy's own classification, JSON array; a story's topics are the union
    topics       TEXT    NOT NULL,
    -- hashes of the copy as last ingested, to tell Unchanged from Updated
    content_hash BLOB    NOT NULL,
    class_hash   BLOB    NOT NULL
);
CREATE INDEX sources_by_story ON sources (sid);
CREATE INDEX sources_by_site ON sources (site_key, sort_time DESC, story_id, sid);

CREATE TABLE story_topics (
    sid       INTEGER NOT NULL REFERENCES stories (sid) ON DELETE CASCADE,
    topic     TEXT    NOT NULL,
    sort_time INTEGER NOT NULL,
    id        TEXT    NOT NULL,
    PRIMARY KEY (sid, topic)
) WITHOUT ROWID;
-- a topic feed is a range scan of this index
CREATE INDEX story_topics_feed ON story_topics (topic, sort_time DESC, id);

-- per-topic counters, kept by triggers so they cannot drift from story_topics
CREATE TABLE topics (
    slug         TEXT    PRIMARY KEY,
    count        INTEGER NOT NULL DEFAULT 0,
    last_changed INTEGER
) WITHOUT ROWID;
CREATE TRIGGER story_topics_added AFTER INSERT ON story_topics BEGIN
    INSERT INTO topics (slug, count) VALUES (NEW.topic, 1)
        ON CONFLICT (slug) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER story_topics_removed AFTER DELETE ON story_topics BEGIN
    UPDATE topics SET count = count - 1 WHERE slug = OLD.topic;
END;

CREATE TABLE meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('generation', 0);
"#;

/// Version 2: keyword search over title and body text.
///
/// Contentless (the text is in `stories.article` already) but deletable, and
/// back-filled from the stories a version-1 store holds.
const V2_SEARCH: &str = r#"
CREATE VIRTUAL TABLE search USING fts5 (
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search (rowid, title, body)
SELECT sid,
       json_extract(article, '$.title'),
       (SELECT group_concat(json_extract(b.value, '$.text'), char(10, 10))
          FROM json_each(article, '$.blocks') AS b)
  FROM stories;
"#;

/// Version 3: find a stored copy by its canonical URL (the pipeline asks
/// before fetching a page it may already have).
const V3_URL_INDEX: &str = "CREATE INDEX sources_by_url ON sources (url);";

/// Version 4: per-site boilerplate learning (`pipeline::sites`): which
/// short body blocks each site repeats across its stories.
///
/// Rows are keyed by story (`sid`) and go with it (`ON DELETE CASCADE`):
/// a block is counted in the stories the store still holds, so the tables
/// stay as large as the store, and a site that keeps printing a block
/// keeps it learned because every new article records it again.
const V4_SITE_BLOCKS: &str = r#"
CREATE TABLE sites (
    site_id INTEGER PRIMARY KEY,
    -- the site name case- and space-folded, or the URL host
    key     TEXT    NOT NULL UNIQUE,
    -- as last seen, for people
    name    TEXT    NOT NULL
);

-- every article whose blocks were recorded: per-site article and story counts
CREATE TABLE site_articles (
    article_id TEXT    PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites (site_id),
    sid        INTEGER NOT NULL REFERENCES stories (sid) ON DELETE CASCADE
);
CREATE INDEX site_articles_by_site ON site_articles (site_id, sid);
CREATE INDEX site_articles_by_story ON site_articles (sid);

-- one row per site, block fingerprint (xxh3 of the normalized text, u64
-- bits as i64) and story that showed it
CREATE TABLE site_block_stories (
    site_id INTEGER NOT NULL REFERENCES sites (site_id),
    fp      INTEGER NOT NULL,
    sid     INTEGER NOT NULL REFERENCES stories (sid) ON DELETE CASCADE,
    PRIMARY KEY (site_id, fp, sid)
) WITHOUT ROWID;
CREATE INDEX site_block_stories_by_story ON site_block_stories (sid);

-- the blocks seen in two or more stories of a site, with their story count
-- and a sample of the text. Most blocks are prose seen once: they have no
-- row here, which keeps this table (and its text) to the repeated few.
CREATE TABLE site_blocks (
    site_id INTEGER NOT NULL REFERENCES sites (site_id),
    fp      INTEGER NOT NULL,
    stories INTEGER NOT NULL,
    sample  TEXT    NOT NULL,
    PRIMARY KEY (site_id, fp)
) WITHOUT ROWID;
-- retention deletes stories: their blocks count one story less
CREATE TRIGGER site_block_story_removed AFTER DELETE ON site_block_stories BEGIN
    UPDATE site_blocks SET stories = stories - 1 WHERE site_id = OLD.site_id AND fp = OLD.fp;
    DELETE FROM site_blocks WHERE site_id = OLD.site_id AND fp = OLD.fp AND stories < 2;
END;
"#;

/// Version 5: feed items are known by their guid (scoped to the feed) or
/// their link key, no longer by the exact canonical URL. Rows stored before
/// are marked `legacy`: an item whose new id is not stored may adopt the
/// legacy row its URL hashed to, once (the claim clears the mark and maps
/// the new id to the stored one), so stored stories keep their ids and
/// nothing already seen comes back as new.
const V5_ITEM_KEYS: &str = r#"
ALTER TABLE sources ADD COLUMN legacy INTEGER NOT NULL DEFAULT 0;
UPDATE sources SET legacy = 1;
CREATE TABLE item_aliases (
    id         TEXT PRIMARY KEY,
    article_id TEXT NOT NULL
) WITHOUT ROWID;
-- retention deletes a story's aliases with it
CREATE INDEX item_aliases_by_article ON item_aliases (article_id);
"#;

/// Version 6: when a story was first seen and last changed, and when a
/// source copy was seen, are microseconds, not seconds. Stories ingested
/// in one batch or one second would otherwise share their `updated` time,
/// which feed readers (and the W3C validator) take for one entry shown
/// twice. `sort_time` stays in seconds: cursors carry it.
const V6_MICROS: &str = r#"
UPDATE stories SET first_seen = first_seen * 1000000, changed = changed * 1000000;
UPDATE sources SET seen = seen * 1000000;
UPDATE topics SET last_changed = last_changed * 1000000 WHERE last_changed IS NOT NULL;
"#;

/// Version 7: the legacy rows an item may still claim, indexed, so a
/// writer learns in one lookup that none are left (the usual case, and
/// then items skip the claim lookups altogether).
const V7_LEGACY_INDEX: &str =
    "CREATE INDEX sources_legacy ON sources (article_id) WHERE legacy = 1;";

/// Version 8: the WebSub hub's subscriptions (`http::websub`), which must
/// outlive a restart. Times are Unix seconds.
const V8_WEBSUB: &str = r#"
CREATE TABLE websub_subscriptions (
    callback TEXT    NOT NULL,
    topic    TEXT    NOT NULL,
    secret   TEXT,
    expires  INTEGER NOT NULL,
    -- the item-set signature the subscriber last got (u64 bits as i64)
    seen     INTEGER,
    PRIMARY KEY (callback, topic)
) WITHOUT ROWID;
"#;

/// Every migration, in order; the schema version is how many have run.
pub const MIGRATIONS: &[&str] = &[
    V1_STORIES,
    V2_SEARCH,
    V3_URL_INDEX,
    V4_SITE_BLOCKS,
    V5_ITEM_KEYS,
    V6_MICROS,
    V7_LEGACY_INDEX,
    V8_WEBSUB,
];

pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Brings the schema up to `target` versions (all of them when `None`),
/// each migration in its own transaction together with its version bump.
pub fn migrate(
    conn: &mut Connection,
    path: &Path,
    target: Option<usize>,
) -> Result<(), StoreError> {
    let target = target.unwrap_or(MIGRATIONS.len()).min(MIGRATIONS.len());
    let open_err = |source| StoreError::open(path.display(), source);
    let found = version(conn).map_err(open_err)?;
    let supported = MIGRATIONS.len() as i64;
    if found > supported {
        return Err(StoreError::SchemaTooNew {
            location: path.display().to_string(),
            found,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().take(target) {
        let next = i as i64 + 1;
        let migrate_err = |source: rusqlite::Error| StoreError::Migrate {
            location: path.display().to_string(),
            version: next,
            source: source.into(),
        };
        // Re-read inside the write lock: another process may have migrated meanwhile.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(migrate_err)?;
        if version(&tx).map_err(migrate_err)? >= next {
            continue;
        }
        tx.execute_batch(sql).map_err(migrate_err)?;
        tx.pragma_update(None, "user_version", next)
            .map_err(migrate_err)?;
        tx.commit().map_err(migrate_err)?;
    }
    Ok(())
}
