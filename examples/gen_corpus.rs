//! Writes a generated corpus of distinct scrapes to a directory, for
//! benchmarks that need a store with more stories than the samples.
//!
//! cargo run --release --example gen_corpus -- DIR [COUNT]

#[path = "common/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "corpus".into()));
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    std::fs::create_dir_all(&dir)?;
    let seeds = corpus::seeds(Path::new(env!("CARGO_MANIFEST_DIR")));
    for (i, doc) in corpus::generate(&seeds, n, 11).iter().enumerate() {
        std::fs::write(dir.join(format!("{i:06}.txt")), doc)?;
    }
    eprintln!("wrote {n} scrapes to {}", dir.display());
    Ok(())
}
