//! Crash test: `topicfeed ingest` killed with SIGKILL at random moments
//! loses nothing it reported as stored, and never leaves a damaged file.
//!
//! The real binary ingests slices of a generated corpus with
//! `--report-stored`, which prints each article's id only after the
//! transaction holding it has committed. After every kill the store is
//! reopened (as the next run would) and checked: SQLite's integrity check
//! passes, and the ids that run reported (plus a sample of earlier ones;
//! all of them once more at the end) are there with exactly the content
//! that normalizing + classifying their files gives, less the blocks their
//! site had learned as boilerplate by then.
//!
//! The kill times are random; the seed is printed, and
//! `TOPICFEED_CRASH_SEED=N` replays a run.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use topicfeed::classify::Classifier;
use topicfeed::ingest::{Input, normalize};
use topicfeed::model::Article;
use topicfeed::pipeline::sites::{self, MIN_STORIES, block_fingerprint};
use topicfeed::store::Store;

use crate::support::{corpus, root};

const KILLS: usize = 24;
/// Of those, how many must land mid-ingest (some articles reported, not all).
const MID_RUN_KILLS: usize = 10;
const FILES: usize = 2400;
/// Files per run: more than a debug build ingests before the latest kill.
const SLICE: usize = 400;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn expected(classifier: &Classifier, path: &Path) -> Article {
    let bytes = std::fs::read(path).unwrap();
    let mut a = normalize(Input::file(&bytes, path)).unwrap();
    classifier.apply(&mut a);
    a
}

/// One run of the binary over `files`, killed after `after` unless it ends
/// first. Returns the reported lines and whether it was killed.
fn run(data: &Path, feeds: &Path, files: &[PathBuf], after: Duration) -> (Vec<String>, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_topicfeed"))
        .arg("ingest")
        .arg("--report-stored")
        .arg("--data")
        .arg(data)
        .args(crate::support::backend::database_args(data))
        .arg("--feeds")
        .arg(feeds)
        .args(files)
        .env_remove("TOPICFEED_DATA")
        .env_remove("TOPICFEED_FEEDS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start topicfeed");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let start = Instant::now();
    let mut killed = false;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() >= after {
            // std sends SIGKILL on Unix: no handler, no flush, no cleanup.
            child.kill().unwrap();
            child.wait().unwrap();
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    (reader.join().unwrap(), killed)
}

/// `want` as the pipeline stores it: the generated articles of a template
/// share its leftover lines, which their site learns as boilerplate, so a
/// stored article may lack blocks. Only blocks the site has learned may
/// be missing, and with those removed the rest must match exactly.
fn as_stored(
    store: &dyn Store,
    classifier: &Classifier,
    want: &Article,
    stored: &Article,
) -> Article {
    let print = |a: &Article| -> HashSet<u64> {
        a.blocks
            .iter()
            .filter_map(|b| block_fingerprint(&b.text))
            .collect()
    };
    let gone: HashSet<u64> = print(want).difference(&print(stored)).copied().collect();
    if gone.is_empty() {
        return want.clone();
    }
    let site = sites::site_of(want).expect("an article that lost blocks has a site");
    let learned = store.site_boilerplate(&site.key, MIN_STORIES).unwrap();
    assert!(
        gone.is_subset(&learned),
        "{}: blocks missing that {} has not learned",
        want.id,
        site.name
    );
    let mut cleaned = want.clone();
    sites::strip(&mut cleaned, &gone);
    classifier.apply(&mut cleaned);
    // Stored whole before its site learned a block, then read again by a
    // later run: that is an update of the stored content, and like any
    // other its `updated` moves to when it was stored.
    cleaned.updated = stored.updated;
    cleaned
}

type Reported = (String, PathBuf, String);

/// Every `(id, file, outcome)` in `items` is stored, with the content its file gives.
fn check(
    store: &dyn Store,
    classifier: &Classifier,
    expected_by_file: &mut HashMap<PathBuf, Article>,
    items: &[&Reported],
    run: usize,
) {
    for (id, path, outcome) in items {
        let want = expected_by_file
            .entry(path.clone())
            .or_insert_with(|| expected(classifier, path));
        assert_eq!(&want.id, id, "{}", path.display());
        let story = store
            .get(id)
            .unwrap()
            .unwrap_or_else(|| panic!("run {run}: reported {id} ({outcome}) is missing"));
        if story.article.id == *id {
            let want = as_stored(store, classifier, want, &story.article);
            assert_eq!(story.article, want, "run {run}: {id} differs");
        } else {
            // Merged into another story as a copy: listed as its source.
            assert!(
                story.sources.iter().any(|s| s.article_id == *id),
                "run {run}: {id}"
            );
        }
    }
}

#[test]
fn sigkill_never_loses_a_reported_article() {
    let tmp = tempfile::tempdir().unwrap();
    // A private copy of the topics: the repository's may be edited while
    // this runs, and the binary and the expectations must classify alike.
    let feeds = tmp.path().join("feeds");
    std::fs::create_dir(&feeds).unwrap();
    for entry in std::fs::read_dir(root().join("feeds")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, feeds.join(path.file_name().unwrap())).unwrap();
    }
    let corpus = corpus::Corpus::load(&root());
    let files = corpus.write(&tmp.path().join("corpus"), 0, FILES);
    let data = tmp.path().join("data");
    let classifier = Classifier::load(&feeds).unwrap();
    let seed = std::env::var("TOPICFEED_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("crash test seed {seed} (TOPICFEED_CRASH_SEED={seed} to replay)");
    let mut rng = Rng(seed | 1);

    // Everything ever reported, once each: (id, file, outcome).
    let mut reported: Vec<Reported> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut expected_by_file: HashMap<PathBuf, Article> = HashMap::new();
    let mut kills = 0;
    // Kill times are drawn up to this; it grows while kills land before the
    // first commit, so a slow machine still gets kills mid-ingest.
    let mut max_delay = 1200u64;
    let mut cut_mid_run = 0;
    let began = Instant::now();
    // Runs that finish before their kill time do not count; loop until
    // enough kills landed (bounded, so a broken build cannot loop forever).
    for i in 0..KILLS * 3 {
        // Enough kills, and enough of them mid-ingest: on a slow store the
        // kill times that land before the first commit are many, and the
        // run goes on (within its bound) until the mid-run ones are there.
        if kills >= KILLS && cut_mid_run >= MID_RUN_KILLS {
            break;
        }
        // Overlapping slices: each run re-sees some stored files (unchanged)
        // and reaches new ones.
        let from = (i * SLICE / 3) % FILES;
        let slice: Vec<PathBuf> = files
            .iter()
            .cycle()
            .skip(from)
            .take(SLICE)
            .cloned()
            .collect();
        let after = Duration::from_millis(50 + rng.below(max_delay));
        let (lines, killed) = run(&data, &feeds, &slice, after);
        let stored_lines = lines.iter().filter(|l| !l.starts_with("new ")).count();
        eprintln!(
            "run {i}: {} after {} ms, {stored_lines} reported",
            if killed { "killed" } else { "finished" },
            after.as_millis()
        );
        if killed && stored_lines == 0 {
            max_delay = (max_delay * 5 / 4).min(10_000);
        }
        if !killed {
            // The run was faster than the kill: aim earlier next time.
            max_delay = (max_delay * 3 / 4).max(200);
        }
        if killed {
            kills += 1;
            if stored_lines > 0 && stored_lines < slice.len() {
                cut_mid_run += 1;
            }
        }
        let before = reported.len();
        for line in lines.iter().filter(|l| !l.starts_with("new ")) {
            let mut parts = line.splitn(3, ' ');
            let (Some(id), Some(outcome), Some(path)) = (parts.next(), parts.next(), parts.next())
            else {
                panic!("unexpected line {line:?}");
            };
            if seen.insert(id.to_owned()) {
                reported.push((id.to_owned(), PathBuf::from(path), outcome.to_owned()));
            }
        }

        // Reopened as the next run would: this run's reports, and a sample
        // of the earlier ones (all of them at the end).
        if !crate::support::backend::on_postgres() {
            let sqlite = topicfeed::store::SqliteStore::open(&data).unwrap();
            assert_eq!(sqlite.integrity_check().unwrap(), "ok", "run {i}");
        }
        let store = crate::support::backend::open_store(&data);
        let sample = (0..100.min(before)).map(|_| &reported[rng.below(before as u64) as usize]);
        let checks: Vec<&Reported> = reported[before..].iter().chain(sample).collect();
        check(&*store, &classifier, &mut expected_by_file, &checks, i);
    }
    let store = crate::support::backend::open_store(&data);
    let all: Vec<&Reported> = reported.iter().collect();
    check(
        &*store,
        &classifier,
        &mut expected_by_file,
        &all,
        usize::MAX,
    );
    eprintln!(
        "{kills} kills ({cut_mid_run} mid-run), {} articles reported, {:.1} s",
        reported.len(),
        began.elapsed().as_secs_f64()
    );
    assert!(kills >= 20, "only {kills} kills");
    assert!(
        cut_mid_run >= MID_RUN_KILLS,
        "too few kills landed mid-ingest: {cut_mid_run}"
    );

    // A run left alone finishes the last slice and says what it did.
    let last: Vec<PathBuf> = files[..50].to_vec();
    let out = Command::new(env!("CARGO_BIN_EXE_topicfeed"))
        .arg("ingest")
        .arg("--data")
        .arg(&data)
        .args(crate::support::backend::database_args(&data))
        .arg("--feeds")
        .arg(&feeds)
        .args(&last)
        .output()
        .unwrap();
    assert!(out.status.success());
    let summary = String::from_utf8_lossy(&out.stdout);
    let summary = summary.trim();
    assert!(
        summary.starts_with("new ") && summary.ends_with(", duplicate 0, failed 0"),
        "{summary}"
    );
}
