//! The inbox watcher on a temporary folder: files are ingested only once
//! complete, moved to done/ or failed/ (with a .error note), temporary
//! names are left alone, files present at start are picked up, and
//! nothing is ever deleted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use topicfeed::classify::LiveTopics;
use topicfeed::pipeline::Ingester;
use topicfeed::sources::inbox::{Inbox, InboxOptions};
use topicfeed::store::{Query, Store};

fn titles(store: &dyn Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .query(&Query {
            limit: 1000,
            ..Query::default()
        })
        .unwrap()
        .stories
        .into_iter()
        .map(|s| s.article.title)
        .collect();
    v.sort();
    v
}

/// Waits (up to 10 s) until `path` exists.
async fn appears(path: &Path) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if path.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

const ARTICLE: &str = r#"{"title": "Tram line extension approved",
 "url": "https://city.example/news/tram-extension",
 "published": "2024-09-12T10:00:00Z",
 "content": "The city council approved a four-kilometre extension of the eastern tram line on Thursday.\n\nConstruction is due to start next spring and take two years."}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_files_ingested_and_moved_nothing_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let inbox: PathBuf = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let store: Arc<dyn Store> = Arc::from(crate::support::backend::open_store(
        &dir.path().join("data"),
    ));
    let feeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
    let topics = Arc::new(LiveTopics::load(&feeds).unwrap());

    // Present before the watcher starts.
    std::fs::write(
        inbox.join("early.txt"),
        "Harbour crane collapses in storm\n\nA crane at the container terminal collapsed during Tuesday night's storm. Nobody was hurt, the port authority said.\n",
    )
    .unwrap();
    // Temporary and hidden names are never touched.
    std::fs::write(inbox.join("upload.part"), "partial").unwrap();
    std::fs::write(inbox.join(".draft.txt"), "hidden").unwrap();

    let watcher = Inbox::new(
        inbox.clone(),
        Arc::new(Ingester::new(store.clone(), topics)),
        InboxOptions {
            settle: Duration::from_secs(1),
            ..InboxOptions::default()
        },
    );
    let task = tokio::spawn(watcher.run());

    assert!(
        appears(&inbox.join("done/early.txt")).await,
        "{:?}",
        names(&inbox)
    );

    // Written in two halves with a pause: the first half alone is not
    // valid JSON and would land in failed/ if read early.
    let half = ARTICLE.len() / 2;
    let path = inbox.join("tram.json");
    std::fs::write(&path, &ARTICLE[..half]).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(path.exists(), "a half-written file was taken");
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(&ARTICLE.as_bytes()[half..]).unwrap();
    }
    assert!(
        appears(&inbox.join("done/tram.json")).await,
        "{:?}",
        names(&inbox)
    );
    assert_eq!(
        std::fs::read_to_string(inbox.join("done/tram.json")).unwrap(),
        ARTICLE
    );

    // A whole feed file: every entry is stored.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upstream/rss2.xml"),
        inbox.join("gazette.xml"),
    )
    .unwrap();
    // Not an article at all.
    std::fs::write(
        inbox.join("photo.txt"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    )
    .unwrap();
    // The same name again later: kept beside the first, not over it.
    assert!(
        appears(&inbox.join("done/gazette.xml")).await,
        "{:?}",
        names(&inbox)
    );
    assert!(
        appears(&inbox.join("failed/photo.txt.error")).await,
        "{:?}",
        names(&inbox)
    );
    std::fs::write(inbox.join("early.txt"), "Harbour crane collapses in storm\n\nA crane at the container terminal collapsed during Tuesday night's storm. Nobody was hurt, the port authority said.\n").unwrap();
    assert!(
        appears(&inbox.join("done/early-1.txt")).await,
        "{:?}",
        names(&inbox)
    );

    task.abort();

    let note = std::fs::read_to_string(inbox.join("failed/photo.txt.error")).unwrap();
    assert!(note.starts_with("not text"), "{note}");
    assert_eq!(
        names(&inbox.join("failed")),
        ["photo.txt", "photo.txt.error"]
    );
    assert_eq!(
        names(&inbox.join("done")),
        ["early-1.txt", "early.txt", "gazette.xml", "tram.json"]
    );
    assert_eq!(
        names(&inbox),
        [".draft.txt", "done", "failed", "upload.part"]
    );
    assert_eq!(
        titles(store.as_ref()),
        [
            "Ferry operator adds a winter crossing",
            "Harbour crane collapses in storm",
            "Lighthouse keepers' cottage to become a museum",
            "Tram line extension approved",
        ]
    );
}
