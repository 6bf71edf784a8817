//! Per-site boilerplate learning as users meet it: a block three stories
//! of one site repeat is left out of that site's next articles (stored,
//! served, listed by `topicfeed sites`), copies of one story teach nothing,
//! `topicfeed reclean` cleans the articles stored before, and other sites
//! are never touched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::root;
use crate::support::server::{Server, get, post, serve_command};

/// The block every test site prints under its stories; the digit changes
/// from article to article, as an edition number does. It reads as a plain
/// sentence, so only the per-site learning (not the statistical cleaner,
/// which drops pitches on sight) can tell it is boilerplate.
fn nag(n: usize) -> String {
    format!("The Gazette is printed on recycled paper at the Quay Street works, edition {n}.")
}

/// Distinct stories: no two are near-duplicates of each other.
const STORIES: &[(&str, &str)] = &[
    (
        "Ferry pier extension approved",
        "The harbour council voted on Tuesday to extend the ferry pier by forty metres, ending a dispute between fishermen and tour boat operators that had run for two years.\n\nWork will begin in spring and cost less than the original plan, which the regional planning board rejected last year over the loss of moorings.",
    ),
    (
        "Valley grain harvest starts early",
        "Farmers in the northern valley began the grain harvest a week early after a dry summer, and the cooperative said yields were down by about a fifth.\n\nMillers expect bread flour prices to rise slightly, although stocks left from last season should soften the effect for several months.",
    ),
    (
        "Library reading room to reopen",
        "The city library will reopen its main reading room in March after a renovation that replaced the roof, the heating and most of the wiring.\n\nA new local history collection of letters and maps donated by families from across the district will be open to readers on weekday afternoons.",
    ),
    (
        "Late trains added to coast line",
        "A new timetable starting in December adds two late trains on weekdays between the coast and the capital, the rail operator announced on Monday.\n\nCommuter groups welcomed the change but asked for Sunday services too, since the last train now leaves the capital before nine in the evening.",
    ),
    (
        "School roof repairs finished",
        "Pupils at the hill school returned to their classrooms on Wednesday after builders finished repairing a roof damaged in the February storms.\n\nThe education office said the repairs came in under budget and that the money left over would pay for new insulation in the sports hall.",
    ),
    (
        "Market square to close for festival",
        "The market square will close to traffic for three days next month while the town hosts its autumn music festival, the police said.\n\nStallholders will move to the car park behind the station, where the council has promised extra lighting and a free shuttle bus for shoppers.",
    ),
];

/// Writes story `i` as a JSON article of `site`, with the nag between its
/// paragraphs, to `dir/NAME.json`; returns the path.
fn article(dir: &Path, name: &str, site: &str, i: usize, url: &str) -> PathBuf {
    let (title, body) = STORIES[i];
    let (first, rest) = body.split_once("\n\n").expect("two paragraphs");
    let json = serde_json::json!({
        "title": title,
        "url": url,
        "site_name": site,
        "content": format!("{first}\n\n{}\n\n{rest}", nag(i + 2)),
    });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, json.to_string()).expect("write article");
    path
}

fn topicfeed(data: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_topicfeed"))
        .args(args)
        .arg("--data")
        .arg(data)
        .args(crate::support::backend::database_args(data))
        .current_dir(root())
        .env_remove("TOPICFEED_DATA")
        .env_remove("TOPICFEED_FEEDS")
        .output()
        .expect("run topicfeed");
    assert!(
        out.status.success(),
        "topicfeed {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ingest(data: &Path, files: &[&PathBuf]) -> String {
    let mut args = vec!["ingest"];
    args.extend(files.iter().map(|f| f.to_str().expect("UTF-8 path")));
    stdout(&topicfeed(data, &args))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Serves `data` (no samples, no sources) with an ingest API token.
fn serve(data: &Path) -> Server {
    let mut cmd = serve_command();
    cmd.current_dir(root())
        .args(["--no-samples", "--no-sources", "--api-token", "t0ken"])
        .arg("--data")
        .arg(data)
        .args(crate::support::backend::database_args(data));
    Server::spawn(cmd)
}

/// Every served item's title and `content_html`.
fn served(s: &Server) -> Vec<(String, String)> {
    let feed = get(&s.url("/feeds/all.json?limit=100"), &[]);
    assert_eq!(feed.status, 200, "{}", feed.text());
    let v: serde_json::Value = serde_json::from_slice(&feed.body).expect("JSON Feed");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let text = |k: &str| item[k].as_str().unwrap_or_default().to_owned();
            (text("title"), text("content_html"))
        })
        .collect()
}

/// The titles of served items that show the nag, sorted.
fn nagging(items: &[(String, String)]) -> Vec<String> {
    let mut titles: Vec<String> = items
        .iter()
        .filter(|(_, html)| html.contains("printed on recycled paper"))
        .map(|(title, _)| title.clone())
        .collect();
    titles.sort();
    titles
}

fn titles(range: std::ops::Range<usize>) -> Vec<String> {
    let mut t: Vec<String> = STORIES[range].iter().map(|(t, _)| t.to_string()).collect();
    t.sort();
    t
}

#[test]
fn a_sites_repeated_block_leaves_its_next_articles_and_reclean_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gazette = |i: usize| {
        let url = format!("https://gazette.example/news/{i}");
        article(
            dir.path(),
            &format!("gazette-{i}"),
            "Harbor Gazette",
            i,
            &url,
        )
    };
    // Another site printing the same block in two stories: below the
    // threshold there, and another site's learning never reaches it.
    let courier = |i: usize| {
        let url = format!("https://courier.example/{i}");
        article(
            dir.path(),
            &format!("courier-{i}"),
            "Valley Courier",
            i,
            &url,
        )
    };
    let out = ingest(
        &data,
        &[
            &gazette(0),
            &gazette(1),
            &gazette(2),
            &courier(4),
            &courier(5),
        ],
    );
    assert!(out.contains("new 5,"), "{out}");

    // The fourth arrives through the HTTP API.
    let s = serve(&data);
    let body = std::fs::read(gazette(3)).unwrap();
    let headers = [
        ("content-type", "application/json"),
        ("authorization", "Bearer t0ken"),
    ];
    let resp = post(&s.url("/api/articles"), &headers, &body);
    assert_eq!(resp.status, 201, "{}", resp.text());
    let items = served(&s);
    assert_eq!(items.len(), 6);
    let mut expected = titles(0..3);
    expected.extend(titles(4..6));
    expected.sort();
    assert_eq!(
        nagging(&items),
        expected,
        "only the Gazette's fourth story is served without the block"
    );
    let fourth = &items.iter().find(|(t, _)| t == STORIES[3].0).unwrap().1;
    assert!(fourth.contains("A new timetable") && fourth.contains("Commuter groups"));

    let sites = stdout(&topicfeed(&data, &["sites"]));
    let line = |name: &str| {
        let l = sites.lines().find(|l| l.starts_with(name));
        let l = l.unwrap_or_else(|| panic!("no {name} in:\n{sites}"));
        l.split_whitespace().rev().take(3).collect::<Vec<_>>()
    };
    // ARTICLES STORIES LEARNED, read from the right.
    assert_eq!(line("Harbor Gazette"), ["1", "4", "4"], "{sites}");
    assert_eq!(line("Valley Courier"), ["0", "2", "2"], "{sites}");
    assert!(
        sites.contains("4 stories: The Gazette is printed on recycled paper"),
        "{sites}"
    );

    // Case and spacing of the name do not matter.
    let report = stdout(&topicfeed(&data, &["reclean", "--site", "harbor  GAZETTE"]));
    assert!(
        report.contains("Harbor Gazette: 3 of 4 articles changed, 3 blocks removed"),
        "{report}"
    );
    assert!(!report.contains("Courier"), "{report}");
    // The server sees another process's writes within a second.
    let deadline = Instant::now() + Duration::from_secs(10);
    let items = loop {
        let items = served(&s);
        if nagging(&items) == titles(4..6) || Instant::now() > deadline {
            break items;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(nagging(&items), titles(4..6), "the Courier keeps its block");
    for (title, body) in &STORIES[..4] {
        let html = &items.iter().find(|(t, _)| t == title).unwrap().1;
        for paragraph in body.split("\n\n") {
            assert!(html.contains(paragraph), "{title} lost its text: {html}");
        }
    }
}

#[test]
fn copies_of_one_story_teach_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // One story run three times by its own site (a live page, a print
    // edition, a syndication feed), then a story of its own.
    let copies: Vec<PathBuf> = (0..3)
        .map(|c| {
            let url = format!("https://gazette.example/edition-{c}/pier");
            article(dir.path(), &format!("copy-{c}"), "Harbor Gazette", 0, &url)
        })
        .collect();
    let out = ingest(&data, &copies.iter().collect::<Vec<_>>());
    assert!(
        out.contains("new 1,") && out.contains("duplicate 2,"),
        "{out}"
    );
    let next = article(
        dir.path(),
        "next",
        "Harbor Gazette",
        1,
        "https://gazette.example/grain",
    );
    ingest(&data, &[&next]);

    let sites = stdout(&topicfeed(&data, &["sites"]));
    let gazette = sites.lines().find(|l| l.starts_with("Harbor Gazette"));
    let cols: Vec<&str> = gazette.unwrap_or_default().split_whitespace().collect();
    assert_eq!(cols[cols.len() - 3..], ["4", "2", "0"], "{sites}");
    assert!(!sites.contains("printed on recycled paper"), "{sites}");
    let report = stdout(&topicfeed(&data, &["reclean", "--site", "Harbor Gazette"]));
    assert!(
        report.contains("Harbor Gazette: 0 of 2 articles changed, 0 blocks removed"),
        "{report}"
    );
}

#[test]
fn one_batch_cleans_the_articles_after_the_third_story() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Read in parallel: which three teach depends on the order they are
    // stored in, but three always do and the other two are cleaned.
    let files: Vec<PathBuf> = (0..5)
        .map(|i| {
            let url = format!("https://gazette.example/news/{i}");
            article(dir.path(), &format!("g{i}"), "Harbor Gazette", i, &url)
        })
        .collect();
    let out = ingest(&data, &files.iter().collect::<Vec<_>>());
    assert!(out.contains("new 5,"), "{out}");
    let report = stdout(&topicfeed(&data, &["reclean"]));
    assert!(
        report.contains("Harbor Gazette: 3 of 5 articles changed, 3 blocks removed"),
        "{report}"
    );
    // Learned and applied: ingesting the same files again finds them as stored.
    let again = ingest(&data, &files.iter().collect::<Vec<_>>());
    assert!(again.contains("unchanged 5,"), "{again}");
}

#[test]
fn reclean_names_an_unknown_site() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_topicfeed"))
        .args(["reclean", "--site", "Nowhere Times", "--data"])
        .arg(dir.path())
        .current_dir(root())
        .env_remove("TOPICFEED_FEEDS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no stored article is from site `Nowhere Times`"),
        "{err}"
    );
}

/// The store's side, through the `Store` trait a second backend will
/// implement: counts per distinct story, recording twice changes nothing,
/// deleted stories stop counting, a replaced article keeps its dates.
#[test]
fn the_store_counts_blocks_per_story_and_forgets_deleted_stories() {
    use chrono::{TimeZone, Utc};
    use topicfeed::ingest::{Input, normalize};
    use topicfeed::store::{BlockPrint, Retention, SiteBlocks};

    let dir = tempfile::tempdir().unwrap();
    let store = crate::support::backend::open_store(dir.path());
    let day = |d: u32| Utc.with_ymd_and_hms(2026, 10, d, 12, 0, 0).unwrap();
    let mut ids = Vec::new();
    for i in 0..4 {
        let path = article(dir.path(), &format!("s{i}"), "Harbor Gazette", i, "");
        let mut a = normalize(Input::file(&std::fs::read(&path).unwrap(), &path)).unwrap();
        a.published = Some(day(i as u32 + 1));
        store.upsert(&a, day(10)).unwrap();
        ids.push(a.id);
    }
    let print = |fp: u64| BlockPrint {
        fingerprint: fp,
        sample: format!("block {fp}"),
    };
    let record = |article: usize, story: usize, fps: &[u64]| SiteBlocks {
        site: "harbor gazette".into(),
        name: "Harbor Gazette".into(),
        article_id: ids[article].clone(),
        story_id: ids[story].clone(),
        blocks: fps.iter().map(|&fp| print(fp)).collect(),
    };
    // Block 7 in stories 0, 1, 2 (and 1 again), block 8 in story 0 only.
    let before = store
        .record_site_blocks(&[
            record(0, 0, &[7, 8]),
            record(1, 1, &[7]),
            record(1, 1, &[7]),
            record(2, 2, &[7]),
        ])
        .unwrap();
    assert_eq!(before, [vec![0, 0], vec![1], vec![2], vec![2]]);
    assert_eq!(
        store.site_boilerplate("harbor gazette", 3).unwrap(),
        [7].into()
    );
    assert!(
        store
            .site_boilerplate("harbor gazette", 4)
            .unwrap()
            .is_empty()
    );
    assert!(store.site_boilerplate("other", 1).unwrap().is_empty());
    // A copy merged into story 2 is one more article, not one more story.
    let copy = SiteBlocks {
        article_id: "copy-of-2".into(),
        ..record(2, 2, &[7])
    };
    assert_eq!(store.record_site_blocks(&[copy]).unwrap(), [vec![3]]);
    let sites = store.sites(3).unwrap();
    assert_eq!(sites.len(), 1);
    let s = &sites[0];
    assert_eq!(
        (s.name.as_str(), s.articles, s.stories),
        ("Harbor Gazette", 4, 3)
    );
    assert_eq!(s.learned.len(), 1);
    assert_eq!((s.learned[0].fingerprint, s.learned[0].stories), (7, 3));
    assert_eq!(s.learned[0].sample, "block 7");

    // Retention deletes the oldest story: its blocks stop counting.
    let policy = Retention {
        max_age: Some(chrono::Duration::days(9)),
        max_per_topic: None,
    };
    assert_eq!(store.apply_retention(&policy, day(11)).unwrap(), 1);
    assert!(
        store
            .site_boilerplate("harbor gazette", 3)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.site_boilerplate("harbor gazette", 2).unwrap(),
        [7].into()
    );

    // Replacing a cleaned article keeps its dates and changes its text.
    let mut story = store.get(&ids[3]).unwrap().unwrap().article;
    let published = story.published;
    story.blocks.truncate(1);
    let generation = store.generation();
    assert_eq!(
        store.replace_cleaned(&[story.clone()], day(12)).unwrap(),
        [true]
    );
    assert_eq!(store.replace_cleaned(&[story], day(12)).unwrap(), [false]);
    let stored = store.get(&ids[3]).unwrap().unwrap();
    assert_eq!(stored.article.blocks.len(), 1);
    assert_eq!(
        (stored.article.published, stored.article.updated),
        (published, None)
    );
    assert_eq!(stored.changed, day(12));
    assert!(store.generation() > generation);
}
