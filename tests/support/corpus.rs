//! Generated corpora of realistic, distinct scrapes, for the crash test
//! (`tests/crash.rs`) and the ingest benchmark (`examples/bench_ingest.rs`,
//! which includes this file with `#[path]`).
//!
//! Each generated file is one of the plain-text scrapes in
//! `examples/articles/` and `tests/fixtures/quality/` — headline, byline,
//! date and all its boilerplate kept as they are, so the cleaner has the
//! same work to do — with its body paragraphs replaced: each new paragraph
//! is 2–3 sentences drawn from every scrape in the same language, and the
//! first carries the file's number. Sentences recombine freely, so two
//! generated articles share few 3-word shingles: they are distinct stories
//! (`new`), not near-duplicates of each other. (The benchmark corpus in
//! `examples/common/corpus.rs` varies whole scrapes — paragraph order,
//! numbers — which the store rightly merges as copies of one story.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use topicfeed::ingest::{Input, normalize};
use topicfeed::model::BlockKind;

/// Fewest sentences a language needs for its scrapes to be used.
const MIN_POOL: usize = 200;

struct Template {
    lines: Vec<String>,
    /// Indexes of the lines that are body paragraphs.
    body: Vec<usize>,
    language: String,
}

pub struct Corpus {
    templates: Vec<Template>,
    sentences: HashMap<String, Vec<String>>,
}

fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices(". ") {
        out.push(text[start..=i].trim().to_owned());
        start = i + 2;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest.to_owned());
    }
    out.retain(|s| s.len() > 30);
    out
}

impl Corpus {
    /// Reads the templates from the repository at `root`.
    pub fn load(root: &Path) -> Corpus {
        let mut templates = Vec::new();
        let mut sentences: HashMap<String, Vec<String>> = HashMap::new();
        for dir in ["examples/articles", "tests/fixtures/quality"] {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
                .expect("template directory")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "txt") && is_fixture_scrape(p))
                .collect();
            paths.sort();
            for path in paths {
                // Other encodings are the decoder's business: templates are UTF-8.
                let Ok(raw) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let Ok(article) = normalize(Input::file(raw.as_bytes(), &path)) else {
                    continue;
                };
                let language = article.language.clone().unwrap_or_default();
                let paragraphs: Vec<&str> = article
                    .blocks
                    .iter()
                    .filter(|b| b.kind == BlockKind::Paragraph)
                    .map(|b| b.text.as_str())
                    .collect();
                let lines: Vec<String> = raw.lines().map(str::to_owned).collect();
                let body: Vec<usize> = lines
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| paragraphs.contains(&l.trim()))
                    .map(|(i, _)| i)
                    .collect();
                for p in &paragraphs {
                    sentences
                        .entry(language.clone())
                        .or_default()
                        .extend(split_sentences(p));
                }
                if body.len() >= 3 {
                    templates.push(Template {
                        lines,
                        body,
                        language,
                    });
                }
            }
        }
        // A language with few sentences would make its generated articles
        // copies of each other; its templates are left out.
        sentences.retain(|_, pool| pool.len() >= MIN_POOL);
        templates.retain(|t| sentences.contains_key(&t.language));
        assert!(
            templates.len() >= 20,
            "too few templates: {}",
            templates.len()
        );
        Corpus {
            templates,
            sentences,
        }
    }

    /// Scrape number `i`: the same text for the same `i`, always.
    pub fn generate(&self, i: usize) -> String {
        let t = &self.templates[i % self.templates.len()];
        let pool = &self.sentences[&t.language];
        let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
        let mut next = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut lines = t.lines.clone();
        for (k, &line) in t.body.iter().enumerate() {
            let count = 2 + next(2);
            let para: Vec<&str> = (0..count)
                .map(|_| pool[next(pool.len())].as_str())
                .collect();
            let mut text = para.join(" ");
            if k == 0 {
                text.push_str(&format!(" (No. {i}.)"));
            }
            lines[line] = text;
        }
        lines.join("\n")
    }

    /// Writes scrapes `from..to` as `dir/NNNNNN.txt`; returns the paths.
    pub fn write(&self, dir: &Path, from: usize, to: usize) -> Vec<PathBuf> {
        std::fs::create_dir_all(dir).expect("corpus dir");
        (from..to)
            .map(|i| {
                let path = dir.join(format!("{i:06}.txt"));
                std::fs::write(&path, self.generate(i)).expect("write scrape");
                path
            })
            .collect()
    }
}

/// The scrapes the rules were first written with are quality cases
/// 001–032; the later cases are blind rounds, kept for measurement
/// (tests/quality.rs), not as templates and samples.
pub fn is_fixture_scrape(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse::<u32>().ok())
        .is_none_or(|n| n <= 32)
}
