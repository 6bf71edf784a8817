//! The PostgreSQL schema as a list of migrations, applied in order on open.
//!
//! The same tables, indexes and units as the SQLite schema (the current
//! SQLite version, not its history: a PostgreSQL store starts there), so
//! the page plan in `store::plan` runs on both. Differences, and why:
//! - keys compared in pages (`id`, `topic`, `slug`) use the `"C"`
//!   collation: byte order, as in SQLite, so both order ties alike;
//! - the search text is a `tsvector` column on `stories`, built with the
//!   article's language configuration (see `read::search_config`);
//! - the story's source order is a sequence column (`seq`), where SQLite
//!   has its rowid;
//! - no `legacy` rows nor `item_aliases`: they carry SQLite stores from
//!   before item ids came from guids, and a PostgreSQL store starts after;
//! - topic counters are written by the writer once per transaction, not by
//!   a trigger per row (see `topics` below).
//!
//! `schema_migrations` holds one row per applied migration. A migration is
//! never edited once released; a change is a new entry at the end.

/// Version 1: everything the store keeps.
const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('generation', 0);

CREATE TABLE stories (
    sid        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT COLLATE "C" NOT NULL UNIQUE,
    -- published, else first seen, in unix seconds: what pages are ordered by
    sort_time  BIGINT NOT NULL,
    -- µs
    first_seen BIGINT NOT NULL,
    changed    BIGINT NOT NULL,
    -- SimHash of the body (u64 bits as i64)
    fp         BIGINT NOT NULL,
    -- JSON copies of the story's topic and source rows: one row per story read
    topics     TEXT   NOT NULL DEFAULT '[]',
    sources    TEXT   NOT NULL DEFAULT '[]',
    -- the stored Article as JSON, its topics empty
    article    TEXT   NOT NULL,
    search     TSVECTOR NOT NULL DEFAULT ''
);
CREATE INDEX stories_by_time ON stories (sort_time DESC, id) INCLUDE (fp);
CREATE INDEX stories_search ON stories USING gin (search);

CREATE TABLE sources (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id   TEXT COLLATE "C" NOT NULL UNIQUE,
    sid          BIGINT NOT NULL REFERENCES stories (sid) ON DELETE CASCADE,
    story_id     TEXT COLLATE "C" NOT NULL,
    sort_time    BIGINT NOT NULL,
    seen         BIGINT NOT NULL,
    site         TEXT,
    site_key     TEXT COLLATE "C",
    url          TEXT,
    topics       TEXT   NOT NULL,
    content_hash BYTEA  NOT NULL,
    class_hash   BYTEA  NOT NULL
);
CREATE INDEX sources_by_story ON sources (sid);
CREATE INDEX sources_by_site ON sources (site_key, sort_time DESC, story_id, sid);
CREATE INDEX sources_by_url ON sources (url);

CREATE TABLE story_topics (
    sid       BIGINT NOT NULL REFERENCES stories (sid) ON DELETE CASCADE,
    topic     TEXT COLLATE "C" NOT NULL,
    sort_time BIGINT NOT NULL,
    id        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (sid, topic)
);
CREATE INDEX story_topics_feed ON story_topics (topic, sort_time DESC, id);

-- per-topic counters. Kept by the writer, which adds up a transaction's
-- changes and writes each topic's row once at commit: a row updated per
-- story in a transaction of thousands grows a chain of row versions that
-- every later lookup walks (measured: 150 stories/s instead of thousands).
CREATE TABLE topics (
    slug         TEXT COLLATE "C" PRIMARY KEY,
    count        BIGINT NOT NULL DEFAULT 0,
    last_changed BIGINT
);

CREATE TABLE sites (
    site_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key     TEXT COLLATE "C" NOT NULL UNIQUE,
    name    TEXT NOT NULL
);
CREATE TABLE site_articles (
    article_id TEXT COLLATE "C" PRIMARY KEY,
    site_id    BIGINT NOT NULL REFERENCES sites (site_id),
    sid        BIGINT NOT NULL REFERENCES stories (sid) ON DELETE CASCADE
);
CREATE INDEX site_articles_by_site ON site_articles (site_id, sid);
CREATE INDEX site_articles_by_story ON site_articles (sid);
CREATE TABLE site_block_stories (
    site_id BIGINT NOT NULL REFERENCES sites (site_id),
    fp      BIGINT NOT NULL,
    sid     BIGINT NOT NULL REFERENCES stories (sid) ON DELETE CASCADE,
    PRIMARY KEY (site_id, fp, sid)
);
CREATE INDEX site_block_stories_by_story ON site_block_stories (sid);
CREATE TABLE site_blocks (
    site_id BIGINT NOT NULL REFERENCES sites (site_id),
    fp      BIGINT NOT NULL,
    stories BIGINT NOT NULL,
    sample  TEXT   NOT NULL,
    PRIMARY KEY (site_id, fp)
);
CREATE FUNCTION site_block_story_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE site_blocks SET stories = stories - 1 WHERE site_id = OLD.site_id AND fp = OLD.fp;
    DELETE FROM site_blocks WHERE site_id = OLD.site_id AND fp = OLD.fp AND stories < 2;
    RETURN OLD;
END $$;
CREATE TRIGGER site_block_story_removed AFTER DELETE ON site_block_stories
    FOR EACH ROW EXECUTE FUNCTION site_block_story_removed();

-- One search word as a query: its lexemes under every configuration the
-- store indexes with, any of which may match (see read::search_config).
CREATE FUNCTION search_word(w TEXT) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT plainto_tsquery('simple', w) || plainto_tsquery('english', w)
        || plainto_tsquery('french', w) || plainto_tsquery('german', w)
        || plainto_tsquery('spanish', w) || plainto_tsquery('italian', w)
        || plainto_tsquery('portuguese', w) || plainto_tsquery('dutch', w)
        || plainto_tsquery('danish', w) || plainto_tsquery('swedish', w)
        || plainto_tsquery('norwegian', w) || plainto_tsquery('finnish', w)
        || plainto_tsquery('russian', w)
$$;
"#;

/// Version 2: the stored article JSON is compressed with lz4, not pglz:
/// pglz took 6% of the server's time in a bulk ingest.
const V2_LZ4: &str = "ALTER TABLE stories ALTER COLUMN article SET COMPRESSION lz4;";

/// Version 3: new stories' search entries wait in the text index's pending
/// list until 16 MB of them (not 4 MB) before an insert merges them:
/// autovacuum, on another core, merges most of them first.
const V3_GIN_PENDING: &str = "ALTER INDEX stories_search SET (gin_pending_list_limit = 16384);";

/// Version 4: the WebSub hub's subscriptions (`http::websub`), which must
/// outlive a restart and are shared by every instance on the store.
/// `expires` is Unix seconds, as on SQLite.
const V4_WEBSUB: &str = r#"
CREATE TABLE websub_subscriptions (
    callback TEXT        NOT NULL,
    topic    TEXT        NOT NULL,
    secret   TEXT,
    expires  BIGINT      NOT NULL,
    seen     BIGINT,
    PRIMARY KEY (callback, topic)
);
"#;

/// Every migration, in order; the schema version is how many have run.
pub const MIGRATIONS: &[&str] = &[V1, V2_LZ4, V3_GIN_PENDING, V4_WEBSUB];

/// Creates the version table; the version is the highest row in it.
pub const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)";

use tokio_postgres::Client;

use crate::store::StoreError;

/// Brings the schema up to date (its version table made already), each
/// migration in its own transaction with its version row. A transaction-scoped advisory lock makes
/// instances starting together migrate one after the other.
pub async fn migrate(client: &mut Client, location: &str, schema: &str) -> Result<(), StoreError> {
    let open_err = |e: tokio_postgres::Error| StoreError::open(location, e);
    client
        .batch_execute(VERSION_TABLE)
        .await
        .map_err(open_err)?;
    let supported = MIGRATIONS.len() as i64;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let next = i as i64 + 1;
        let migrate_err = |e: tokio_postgres::Error| StoreError::Migrate {
            location: location.to_owned(),
            version: next,
            source: e.into(),
        };
        let tx = client.transaction().await.map_err(migrate_err)?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            &[&format!("topicfeed:{schema}:migrate")],
        )
        .await
        .map_err(migrate_err)?;
        let found: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations",
                &[],
            )
            .await
            .map_err(migrate_err)?
            .get(0);
        if found > supported {
            return Err(StoreError::SchemaTooNew {
                location: location.to_owned(),
                found,
                supported,
            });
        }
        if found >= next {
            continue;
        }
        tx.batch_execute(sql).await.map_err(migrate_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&(next as i32)],
        )
        .await
        .map_err(migrate_err)?;
        tx.commit().await.map_err(migrate_err)?;
    }
    Ok(())
}
