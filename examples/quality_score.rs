//! The scrape-quality report for any cases directory: every `NNN.txt`
//! normalized as `topicfeed normalize FILE --format json` would (library
//! calls, topics from `feeds/`), scored against its `NNN.expected.json` by
//! the same code as `tests/quality.rs` (`tests/support/quality.rs`,
//! included with `#[path]`), printed as the reference scorer prints it.
//!
//! ```sh
//! cargo run --release --example quality_score -- tests/fixtures/quality
//! cargo run --release --example quality_score -- DIR -v --jobs 2 --feeds feeds
//! ```
//!
//! `-v` explains each miss. Exits 0 whenever scoring ran, 2 when it cannot
//! (no cases), like the reference.

// The tests use parts of the scorer (per-field accuracy lookups) that the
// report alone does not.
#[allow(dead_code)]
#[path = "../tests/support/quality.rs"]
mod quality;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut dir = None;
    let mut verbose = false;
    let mut jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut feeds = root.join("feeds");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-v" | "--verbose" => verbose = true,
            "--jobs" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => jobs = n,
                None => return usage(),
            },
            "--feeds" => match args.next() {
                Some(f) => feeds = PathBuf::from(f),
                None => return usage(),
            },
            _ if a.starts_with('-') || dir.is_some() => return usage(),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.unwrap_or_else(|| root.join("tests/fixtures/quality"));
    if !dir.is_dir() {
        eprintln!("no cases found in {}", dir.display());
        return ExitCode::from(2);
    }
    let cases = quality::load_cases(&dir);
    if cases.is_empty() {
        eprintln!("no cases found in {}", dir.display());
        return ExitCode::from(2);
    }
    let tool = quality::Tool::load(&feeds);
    let rows = quality::evaluate(&tool, &cases, jobs);
    let (text, _) = quality::report(&rows, verbose);
    print!("{text}");
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: quality_score [CASES_DIR] [-v] [--jobs N] [--feeds DIR]");
    ExitCode::from(2)
}
