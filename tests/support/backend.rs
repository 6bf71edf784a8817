//! Which store the tests run on: SQLite (the default) or PostgreSQL, when
//! `TOPICFEED_TEST_BACKEND=postgres`. `tests/run` runs the suite both ways.
//!
//! PostgreSQL tests use the database in `TOPICFEED_TEST_DATABASE` (a
//! throwaway one `tests/run` creates and drops), each store in a schema of
//! its own named after its data directory, so a store reopened on the same
//! directory is the same store and tests running side by side never meet.
//! A test that needs PostgreSQL and finds no database fails; it never
//! skips.

use std::path::Path;

use topicfeed::store::Store;

/// The variable naming the test database.
pub const DATABASE_VAR: &str = "TOPICFEED_TEST_DATABASE";

/// True when the store and server tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TOPICFEED_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The test database's URL; panics (failing the test) when none is set.
pub fn database() -> String {
    std::env::var(DATABASE_VAR).unwrap_or_else(|_| {
        panic!(
            "this test needs PostgreSQL: set {DATABASE_VAR} to a postgres:// URL \
             (tests/run starts a server and sets it)"
        )
    })
}

/// The URL of the PostgreSQL store for data directory `dir`: the test
/// database, in a schema named after `dir`.
pub fn database_for(dir: &Path) -> String {
    let name = format!(
        "t_{:016x}",
        xxhash_rust::xxh3::xxh3_64(dir.as_os_str().as_encoded_bytes())
    );
    let base = database();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{name}")
}

/// The `--database URL` flags a command needs to use `dir`'s store on the
/// backend under test (none on SQLite).
pub fn database_args(dir: &Path) -> Vec<String> {
    if on_postgres() {
        vec!["--database".into(), database_for(dir)]
    } else {
        Vec::new()
    }
}

/// The store of data directory `dir` on the backend under test.
pub fn open_store(dir: &Path) -> Box<dyn Store> {
    let url = on_postgres().then(|| database_for(dir));
    topicfeed::store::open(dir, url.as_deref())
        .unwrap_or_else(|e| panic!("open the test store: {e}"))
}
