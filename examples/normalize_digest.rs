//! What ingest decides, as one digest: for speed work that must not
//! change a single decision. Reads the generated benchmark corpus (the
//! same documents `bench_normalize` times), every fixture scrape, the
//! sample articles in every format and the upstream feed fixtures (each
//! entry assembled), and prints a BLAKE3 digest of all the articles as
//! JSON, in order. The same digest before and after a change means
//! byte-identical output on every document.
//!
//! `cargo run --release --example normalize_digest -- [N] [--dump FILE]`
//! (N generated scrapes, 10,000 by default; `--dump` also writes the
//! articles, one JSON line each, to compare where two digests differ).
//!
//! Dates are judged against the clock (a date more than two days ahead is
//! dropped), so compare digests taken the same day.

#[path = "common/corpus.rs"]
mod corpus;

use std::io::Write;
use std::path::Path;

use topicfeed::ingest::{self, Document, Input};

fn main() -> anyhow::Result<()> {
    let mut n = 10_000usize;
    let mut dump: Option<std::io::BufWriter<std::fs::File>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--dump" {
            let path = args
                .next()
                .ok_or_else(|| anyhow::anyhow!("--dump needs a file name"))?;
            dump = Some(std::io::BufWriter::new(std::fs::File::create(&path)?));
        } else {
            n = arg.parse().map_err(|_| {
                anyhow::anyhow!("`{arg}`: expected a number of scrapes or --dump FILE")
            })?;
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = corpus::seeds(root);
    let mut docs: Vec<Vec<u8>> = corpus::generate(&seeds, n, 42)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    // The fixtures as they are on disk (any encoding, any format), not
    // only the UTF-8 scrapes the generator varies. The quality corpus's
    // `.json` files are its expected values, not inputs.
    let fixtures: [(&str, &[&str]); 4] = [
        ("tests/fixtures/quality", &["txt"]),
        ("tests/fixtures/topics", &["txt"]),
        ("examples/articles", &["txt", "html", "json", "md"]),
        ("tests/fixtures/upstream", &["xml", "rdf", "json", "html"]),
    ];
    for (dir, extensions) in fixtures {
        let entries =
            std::fs::read_dir(root.join(dir)).map_err(|e| anyhow::anyhow!("{dir}: {e}"))?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.extension()
                .is_some_and(|e| extensions.iter().any(|x| e == *x))
            {
                docs.push(std::fs::read(&p)?);
            }
        }
    }
    let mut hasher = blake3::Hasher::new();
    let (mut articles, mut refused) = (0usize, 0usize);
    for doc in &docs {
        // A feed is its entries, each assembled as the poller does.
        let read = match ingest::read(Input::new(doc)) {
            Ok(Document::Article(a)) => vec![Ok(*a)],
            Ok(Document::Feed(feed)) => feed.drafts.into_iter().map(ingest::assemble).collect(),
            Err(e) => vec![Err(e)],
        };
        for outcome in read {
            let line = match outcome {
                Ok(article) => {
                    articles += 1;
                    serde_json::to_string(&article)?
                }
                Err(e) => {
                    refused += 1;
                    format!("error: {e}")
                }
            };
            hasher.update(line.as_bytes());
            hasher.update(b"\n");
            if let Some(out) = dump.as_mut() {
                writeln!(out, "{line}")?;
            }
        }
    }
    if let Some(mut out) = dump {
        out.flush()?;
    }
    println!(
        "{} documents ({articles} articles, {refused} refused): {}",
        docs.len(),
        hasher.finalize().to_hex()
    );
    Ok(())
}
