//! The integration tests, as one test binary (`cargo test --test
//! integration`; `autotests = false` in Cargo.toml). Each file of tests/
//! is a module of it, named after the file: `cargo test server::` runs
//! the server tests alone. The code they share is in `support/`.
//!
//! Property tests keep their failure seeds next to their file,
//! `tests/NAME.proptest-regressions`: give each `proptest!` block
//! `#![proptest_config(crate::support::proptest_config(CASES))]`.

mod support;

mod classify_rules;
mod cli;
mod crash;
mod export;
mod hostile;
mod html_pages;
#[cfg(target_os = "linux")]
mod idle;
mod inbox;
mod poll;
mod private_feeds;
mod properties;
mod quality;
mod render;
mod scale;
mod server;
mod site_learning;
mod store;
mod store_cli;
mod topic_fixtures;
mod websub;
mod zoo;
