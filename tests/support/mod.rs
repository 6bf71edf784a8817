//! The code the integration tests share, in one place:
//!
//! - `backend`: the store the tests run on (SQLite, or PostgreSQL);
//! - `server`: the real `topicfeed serve` on an ephemeral loopback port,
//!   found through its ready line, and a plain HTTP client;
//! - `fixtures`: listing fixture files and comparing expected metadata;
//! - `corpus`: generated corpora of distinct scrapes (also included by
//!   `examples/bench_ingest.rs` with `#[path]`);
//! - `quality`: the scrape-quality scorer (also included by
//!   `examples/quality_score.rs` with `#[path]`);
//! - `upstream`: a scripted upstream HTTP server for the poller;
//! - `root` and `proptest_config`.

pub mod backend;
pub mod corpus;
pub mod quality;
pub mod server;
pub mod upstream;

use std::path::PathBuf;

use proptest::test_runner::{Config, FileFailurePersistence};

/// The repository (the crate's manifest directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Property-test settings: `cases` per test, failure seeds kept next to
/// the test's file (`tests/NAME.proptest-regressions`). Proptest's default
/// (`SourceParallel`) looks for a `lib.rs`/`main.rs` above the file and,
/// now that tests/ has a main.rs, would use `proptest-regressions/NAME.txt`.
pub fn proptest_config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

pub use corpus::is_fixture_scrape;
