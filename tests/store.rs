//! The store through its public boundary, on the backend under test
//! (SQLite, or PostgreSQL: see `support::backend`): upsert outcomes, update
//! semantics, duplicate merging (and the threshold that decides it), every
//! query filter, paging (and the walk back to the previous page),
//! retention, persistence and schema migrations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use topicfeed::ingest::identity::{article_id, fingerprint};
use topicfeed::ingest::{Input, normalize};
use topicfeed::model::fingerprint_distance as distance;
use topicfeed::model::{Article, Block, BlockKind};
use topicfeed::store::dedup::{self, MAX_DISTANCE, MIN_SHARED};
use topicfeed::store::{Outcome, Query, Retention, SqliteStore, Store, StoreError, Subscription};

use crate::support::root;

fn t(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day, hour, 0, 0).unwrap()
}

/// A new store on the backend under test (see `support::backend`).
fn open() -> (tempfile::TempDir, Box<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::support::backend::open_store(dir.path());
    (dir, store)
}

/// Deterministic filler text: every seed gives an unrelated body.
fn body(seed: u64, words: usize) -> String {
    const VOCAB: &str = "harbour council minister river budget vote school bridge station market farmers storm \
        court museum festival league hospital energy grain border talks union strike rates \
        bank pilot forest drought election mayor police lawyers tenants doctors rail ferry \
        airport coast glacier village factory miners wages exports tariff satellite vaccine reef \
        orchestra novel stadium coach season record treaty summit protest census library canal";
    let vocab: Vec<&str> = VOCAB.split_whitespace().collect();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::new();
    for i in 0..words {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if i > 0 {
            out.push(if i % 12 == 0 { '.' } else { ' ' });
            if i % 12 == 0 {
                out.push(' ');
            }
        }
        out.push_str(vocab[(x % vocab.len() as u64) as usize]);
    }
    out.push('.');
    out
}

fn article(title: &str, text: &str, topics: &[&str]) -> Article {
    let blocks: Vec<Block> = text
        .split("\n\n")
        .map(|p| Block::new(BlockKind::Paragraph, p))
        .collect();
    Article {
        id: article_id(None, title, text),
        title: title.into(),
        site: Some("Harbour Gazette".into()),
        url: None,
        authors: vec![],
        published: None,
        updated: None,
        language: Some("en".into()),
        summary: String::new(),
        content_html: format!("<p>{text}</p>"),
        topics: topics.iter().map(|s| s.to_string()).collect(),
        tags: vec![],
        fingerprint: fingerprint(text),
        blocks,
        notes: Vec::new(),
        image: None,
        enclosures: Vec::new(),
    }
}

fn numbered(i: u64, topics: &[&str], published: Option<DateTime<Utc>>) -> Article {
    let mut a = article(&format!("Story {i}"), &body(i, 80), topics);
    a.published = published;
    a
}

fn ids(page: &[topicfeed::store::Story]) -> Vec<String> {
    page.iter().map(|s| s.article.id.clone()).collect()
}

fn scrape(name: &str) -> Article {
    let path = root().join("examples/articles").join(name);
    normalize_text(&std::fs::read_to_string(path).unwrap(), name)
}

fn normalize_text(text: &str, name: &str) -> Article {
    normalize(Input::file(text.as_bytes(), std::path::Path::new(name))).unwrap()
}

// ---------------------------------------------------------------- upserts

#[test]
fn upsert_outcomes_and_generation() {
    let (_d, store) = open();
    let a = numbered(1, &["europe"], Some(t(5, 8)));
    let g0 = store.generation();
    assert_eq!(store.upsert(&a, t(6, 0)).unwrap(), Outcome::New);
    let g1 = store.generation();
    assert!(g1 > g0);
    assert_eq!(store.upsert(&a, t(6, 1)).unwrap(), Outcome::Unchanged);
    assert_eq!(
        store.generation(),
        g1,
        "an unchanged upsert is not a change"
    );

    let mut edited = a.clone();
    edited
        .blocks
        .push(Block::new(BlockKind::Paragraph, "A late correction."));
    assert_eq!(store.upsert(&edited, t(6, 2)).unwrap(), Outcome::Updated);
    assert!(store.generation() > g1);
    assert_eq!(store.upsert(&edited, t(6, 3)).unwrap(), Outcome::Unchanged);

    // A batch is one transaction with one outcome per article, in order.
    let batch = [
        numbered(2, &[], None),
        edited.clone(),
        numbered(2, &[], None),
    ];
    assert_eq!(
        store.upsert_batch(&batch, t(6, 4)).unwrap(),
        [Outcome::New, Outcome::Unchanged, Outcome::Unchanged]
    );
    assert_eq!(store.story_count().unwrap(), 2);
}

#[test]
fn update_moves_updated_keeps_published() {
    let (_d, store) = open();
    let mut a = numbered(1, &["europe"], Some(t(5, 8)));
    a.updated = Some(t(5, 9));
    store.upsert(&a, t(6, 0)).unwrap();

    // New content, no later date stated: updated becomes now, published stays.
    let mut b = a.clone();
    b.title = "Story 1, corrected".into();
    b.published = Some(t(6, 11));
    assert_eq!(store.upsert(&b, t(7, 12)).unwrap(), Outcome::Updated);
    let s = store.get(&a.id).unwrap().unwrap();
    assert_eq!(s.article.title, "Story 1, corrected");
    assert_eq!(s.article.published, Some(t(5, 8)));
    assert_eq!(s.article.updated, Some(t(7, 12)));
    assert_eq!(s.first_seen, t(6, 0));
    assert_eq!(s.changed, t(7, 12));

    // The article states a later update than now: that wins.
    let mut c = b.clone();
    c.title = "Story 1, corrected again".into();
    c.updated = Some(t(20, 0));
    store.upsert(&c, t(8, 0)).unwrap();
    assert_eq!(
        store.get(&a.id).unwrap().unwrap().article.updated,
        Some(t(20, 0))
    );

    // Only the classification changed: Updated (the feed changed), but the
    // article's own `updated` does not move.
    let mut d = c.clone();
    d.topics = vec!["europe".into(), "politics".into()];
    assert_eq!(store.upsert(&d, t(9, 0)).unwrap(), Outcome::Updated);
    let s = store.get(&a.id).unwrap().unwrap();
    assert_eq!(s.article.updated, Some(t(20, 0)));
    assert_eq!(s.article.topics, ["europe", "politics"]);
    assert_eq!(s.changed, t(9, 0));
}

// ------------------------------------------------------------- duplicates

/// A different report on the Finnish border reopening of 010/011: same
/// event, names and dates, its own sentences.
const FINLAND_OTHER_STORY: &str = "Finland borders: Lappeenranta shops count the days
By Jussi Mäkelä in Lappeenranta
October 8, 2026

Shopkeepers in Lappeenranta say the reopening of the Nuijamaa crossing on November 16 may bring back only a fraction of the Russian customers who once filled the town's malls every weekend.

Before the frontier was sealed, visitors from St Petersburg spent an estimated 300 million euros a year in the region, much of it on groceries, clothes and petrol. The interior ministry's quota, which has not yet been published, will decide how many of them can return.

At a hardware store near the bus station, manager Petri Laine has already halved his staff. \"People think the border opens and everything is like before. It is not like that. With a quota and appointments, the day trips are finished,\" he said.

The city council voted on Tuesday to ask Helsinki for an emergency fund for retailers, arguing that the region carried the economic cost of a national security decision. Kaisa Rautio, the interior minister, has said that security comes first and support for businesses is a matter for the regional councils.

Tourism officials are looking elsewhere. A campaign aimed at German and Dutch visitors to the Saimaa lakes starts next spring.";

/// Another story on the capsule of 018/019: the lab work weeks later.
const CAPSULE_OTHER_STORY: &str = "First grains from Horizon-K capsule reach the lab
By Mei Tanaka
October 22, 2026

Technicians in Canberra opened the inner container of the Horizon-K capsule on Thursday and counted several hundred dark grains, the largest about the size of a lentil, according to the mission's curation team.

The opening took place inside a nitrogen-filled cabinet to keep the material away from Earth's air and moisture. Images released by the team show angular fragments with glassy patches, which some researchers see as a sign of melting during an impact.

Ruth Adeyemi, who is coordinating the analysis, cautioned against early conclusions about Kamo'oalewa. \"Glass forms in many kinds of collisions. The oxygen isotopes will tell us more than any photograph,\" she said.

Portions will be shipped to laboratories in Japan, the United States and Germany before the end of November, and a first joint paper is planned for the spring.";

/// Two copies of a story with the boilerplate of two different sites.
fn with_other_boilerplate(raw: &str) -> String {
    let mut lines: Vec<&str> = raw
        .lines()
        .filter(|l| {
            !matches!(l.trim(), "Advertisement" | "Related Articles")
                && !l.starts_with("Read more")
                && !l.contains("Previous article")
                && !l.contains("Next article")
        })
        .collect();
    lines.insert(0, "Skip to main content");
    lines.insert(8, "Share this: Facebook Twitter Email");
    lines.insert(14, "ADVERTISEMENT");
    lines.push("Subscribe to our newsletter for the day's top stories");
    lines.join("\n")
}

/// A light edit: a few words changed in two paragraphs.
fn lightly_edited(raw: &str) -> String {
    raw.replacen("announced on Monday", "said on Monday", 1)
        .replacen(
            "welcomed the partial reopening",
            "praised the partial reopening",
            1,
        )
        .replacen("touched down in", "landed in", 1)
        .replacen("within 90 minutes", "in about an hour and a half", 1)
}

fn raw(name: &str) -> String {
    std::fs::read_to_string(root().join("examples/articles").join(name)).unwrap()
}

fn similarity(a: &Article, b: &Article) -> (u32, f64) {
    (
        distance(a.fingerprint, b.fingerprint),
        dedup::shared(
            &dedup::shingles(&a.content_text()),
            &dedup::shingles(&b.content_text()),
        ),
    )
}

#[test]
fn threshold_separates_copies_from_other_stories() {
    let finland = scrape("010-finland-border-crossing.txt");
    let capsule = scrape("018-asteroid-sample-capsule.txt");
    let copies = [
        ("010 exact", finland.clone(), finland.clone()),
        (
            "010 other boilerplate",
            finland.clone(),
            normalize_text(
                &with_other_boilerplate(&raw("010-finland-border-crossing.txt")),
                "x.txt",
            ),
        ),
        (
            "010 light edit",
            finland.clone(),
            normalize_text(
                &lightly_edited(&raw("010-finland-border-crossing.txt")),
                "x.txt",
            ),
        ),
        (
            "018 light edit",
            capsule.clone(),
            normalize_text(
                &lightly_edited(&raw("018-asteroid-sample-capsule.txt")),
                "x.txt",
            ),
        ),
        (
            "010/011 two sites",
            finland.clone(),
            scrape("011-finland-border-crossing-wire.txt"),
        ),
        (
            "018/019 two sites",
            capsule.clone(),
            scrape("019-asteroid-sample-capsule-repost.txt"),
        ),
    ];
    for (what, a, b) in &copies {
        let (d, shared) = similarity(a, b);
        eprintln!("copy {what}: {d} bits, {shared:.2} shared");
        assert!(d <= MAX_DISTANCE, "{what}: {d} bits");
        assert!(shared >= MIN_SHARED, "{what}: {shared:.2} shared");
    }
    let others = [
        (
            "Finland, other story",
            finland.clone(),
            normalize_text(FINLAND_OTHER_STORY, "x.txt"),
        ),
        (
            "capsule, other story",
            capsule.clone(),
            normalize_text(CAPSULE_OTHER_STORY, "x.txt"),
        ),
    ];
    for (what, a, b) in &others {
        let (d, shared) = similarity(a, b);
        eprintln!("other {what}: {d} bits, {shared:.2} shared");
        assert!(
            d > MAX_DISTANCE || shared < MIN_SHARED,
            "{what}: {d} bits, {shared:.2}"
        );
        assert!(shared < 0.1, "{what}: {shared:.2} shared");
    }
}

/// A story as its site ran it, the same in topic `europe`, and a wire
/// service's copy of it in topic `russia`.
fn finland_story_and_wire_copy() -> (Article, Article, Article) {
    let first = scrape("010-finland-border-crossing.txt");
    let mut wire = scrape("011-finland-border-crossing-wire.txt");
    wire.topics = vec!["russia".into()];
    let mut first_t = first.clone();
    first_t.topics = vec!["europe".into()];
    (first, first_t, wire)
}

/// One batch holding a story, a copy of it from another site, a new
/// version of it and its copy seen again: each outcome as if stored one by
/// one, and the store as if too (PostgreSQL holds a batch's new stories
/// and inserts them together).
#[test]
fn a_batch_that_copies_and_updates_its_own_new_story() {
    let (_d, store) = open();
    let (first, first_t, wire) = finland_story_and_wire_copy();
    let mut revised = first_t.clone();
    revised.title.push_str(" (updated)");
    let other = numbered(7, &["europe"], Some(t(6, 7)));
    let batch = [
        first_t.clone(),
        wire.clone(),
        revised.clone(),
        wire.clone(),
        other.clone(),
    ];
    let dup = Outcome::Duplicate {
        story_id: first.id.clone(),
    };
    assert_eq!(
        store.upsert_batch(&batch, t(6, 8)).unwrap(),
        [
            Outcome::New,
            dup,
            Outcome::Updated,
            Outcome::Unchanged,
            Outcome::New
        ]
    );
    assert_eq!(store.story_count().unwrap(), 2);
    let s = store.get(&wire.id).unwrap().unwrap();
    assert_eq!(s.article.id, first.id);
    assert_eq!(s.article.title, revised.title);
    assert_eq!(s.sources.len(), 2);
    assert_eq!(s.article.topics, ["europe", "russia"]);
    let stats = store.topic_stats().unwrap();
    let count = |slug: &str| stats.iter().find(|t| t.slug == slug).map(|t| t.count);
    assert_eq!((count("europe"), count("russia")), (Some(2), Some(1)));
    let page = store
        .query(&Query {
            any: vec!["europe".into()],
            ..Query::default()
        })
        .unwrap();
    assert_eq!(page.stories.len(), 2);
    // The same batch again changes nothing.
    assert!(
        store
            .upsert_batch(&[revised, wire, other], t(6, 9))
            .unwrap()
            .iter()
            .all(|o| *o == Outcome::Unchanged)
    );
}

#[test]
fn copies_merge_into_the_first_seen_story() {
    let (_d, store) = open();
    let (first, first_t, wire) = finland_story_and_wire_copy();
    assert_eq!(store.upsert(&first_t, t(6, 8)).unwrap(), Outcome::New);
    let dup = Outcome::Duplicate {
        story_id: first.id.clone(),
    };
    assert_eq!(store.upsert(&wire, t(6, 9)).unwrap(), dup);
    // Seen again: nothing new about it.
    assert_eq!(store.upsert(&wire, t(6, 10)).unwrap(), Outcome::Unchanged);

    // Copies printed by other sites: one site's own items with other ids
    // are other stories (see one_sites_items_with_other_ids_never_merge).
    let mut copies: Vec<Article> = [
        with_other_boilerplate(&raw("010-finland-border-crossing.txt")),
        lightly_edited(&raw("010-finland-border-crossing.txt")),
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| {
        let mut a = normalize_text(text, "x.txt");
        // Another site's page: its own URL, so its own id (cleaned of its
        // other clutter, the body alone may well be identical).
        a.site = Some(format!("Reprint Site {i}"));
        a.url = Some(format!("https://reprint{i}.example/finland-border"));
        a.id = format!("reprint-{i}");
        a
    })
    .collect();
    // An exact copy under another URL is another id, same story.
    let mut exact = first.clone();
    exact.id = "exact-copy-elsewhere".into();
    exact.site = Some("Mirror Site".into());
    copies.push(exact);
    for c in &copies {
        assert_ne!(c.id, first.id);
        assert_eq!(store.upsert(c, t(6, 11)).unwrap(), dup, "{}", c.title);
    }

    let other = normalize_text(FINLAND_OTHER_STORY, "x.txt");
    assert_eq!(store.upsert(&other, t(8, 0)).unwrap(), Outcome::New);

    let story = store.get(&first.id).unwrap().unwrap();
    assert_eq!(
        story.article.title, first.title,
        "the first-seen copy is the story"
    );
    assert_eq!(
        story.article.topics,
        ["europe", "russia"],
        "topics are the union"
    );
    assert_eq!(story.sources.len(), 5);
    assert_eq!(story.sources[0].article_id, first.id);
    assert_eq!(
        story.sources[1].site.as_deref(),
        Some("Baltic Morning Post")
    );
    assert_eq!(store.get(&wire.id).unwrap().unwrap().article.id, first.id);
    assert_eq!(store.story_count().unwrap(), 2);
    let russia = store
        .query(&Query {
            any: vec!["russia".into()],
            ..Query::default()
        })
        .unwrap();
    assert_eq!(ids(&russia.stories), [first.id.as_str()]);
}

#[test]
fn one_sites_items_with_other_ids_never_merge() {
    let (_d, store) = open();
    // Templated briefs: one site, the same sentences around another place.
    let brief = |place: &str, id: &str, site: &str| {
        let mut a = article(
            &format!("{place} library reopens after refit"),
            &format!(
                "{place} library reopens on Monday after a refit that took most of the year. {}",
                body(7, 220)
            ),
            &[],
        );
        a.id = id.into();
        a.site = Some(site.into());
        a.url = Some(format!(
            "https://{}.example/{id}",
            site.to_lowercase().replace(' ', "-")
        ));
        a
    };
    let harwick = brief("Harwick Stoke", "harwick", "County Briefs");
    let ellerby = brief("Ellerby Ford", "ellerby", "County Briefs");
    assert_eq!(store.upsert(&harwick, t(6, 8)).unwrap(), Outcome::New);
    assert_eq!(
        store.upsert(&ellerby, t(6, 9)).unwrap(),
        Outcome::New,
        "another item of the same site is another story"
    );
    // The same text from another site is a copy of the first seen.
    let reprint = brief("Harwick Stoke", "reprint", "Valley Reprints");
    assert_eq!(
        store.upsert(&reprint, t(6, 10)).unwrap(),
        Outcome::Duplicate {
            story_id: harwick.id.clone()
        }
    );
}

#[test]
fn copies_far_apart_in_time_stay_separate() {
    let (_d, store) = open();
    let mut a = scrape("018-asteroid-sample-capsule.txt");
    let mut b = scrape("019-asteroid-sample-capsule-repost.txt");
    a.published = Some(t(1, 0));
    b.published = Some(t(20, 0));
    assert_eq!(store.upsert(&a, t(1, 0)).unwrap(), Outcome::New);
    assert_eq!(store.upsert(&b, t(20, 0)).unwrap(), Outcome::New);
}

#[test]
fn the_sample_articles_hold_exactly_two_duplicates() {
    let (_d, store) = open();
    let mut dups = Vec::new();
    let mut fingerprints: Vec<(String, u64)> = Vec::new();
    let mut n = 0;
    for dir in ["examples/articles", "tests/fixtures/quality"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name != "README.md"
                    && !name.ends_with(".expected.json")
                    && crate::support::is_fixture_scrape(p)
            })
            .collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).unwrap();
            let name = p.file_name().unwrap().to_str().unwrap();
            let a = normalize(Input::file(&bytes, &p)).unwrap();
            n += 1;
            fingerprints.push((name.to_owned(), a.fingerprint));
            if let Outcome::Duplicate { .. } = store.upsert(&a, t(21, 0)).unwrap() {
                dups.push(name.to_owned());
            }
        }
    }
    assert_eq!(
        dups,
        [
            "011-finland-border-crossing-wire.txt",
            "019-asteroid-sample-capsule-repost.txt"
        ]
    );
    assert_eq!(store.story_count().unwrap(), n - 2);
    // The margin on the other side of the threshold: unrelated stories are
    // far beyond it (copies are within 10 bits, see above).
    let mut closest = (u32::MAX, String::new());
    for (i, (x, fx)) in fingerprints.iter().enumerate() {
        for (y, fy) in &fingerprints[i + 1..] {
            let pair = format!("{x} {y}");
            if pair.contains("010-") && pair.contains("011-")
                || pair.contains("018-") && pair.contains("019-")
            {
                continue;
            }
            closest = closest.min((distance(*fx, *fy), pair));
        }
    }
    eprintln!("closest unrelated pair: {closest:?}");
    assert!(closest.0 > MAX_DISTANCE + 4, "{closest:?}");
}

// ---------------------------------------------------------------- queries

/// 60 stories: topics by i % 3 (a, b, c) and i % 4 == 0 (d); two sites;
/// several share a timestamp so the id tie-break matters; a few undated.
fn corpus(store: &dyn Store) -> Vec<Article> {
    let mut all = Vec::new();
    for i in 0..60u64 {
        let mut topics = vec![["a", "b", "c"][(i % 3) as usize]];
        if i % 4 == 0 {
            topics.push("d");
        }
        let published = (i % 10 != 9).then(|| t(1, 0) + Duration::hours((i / 3) as i64));
        let mut a = numbered(i, &topics, published);
        a.site = Some(
            if i % 2 == 0 {
                "Harbour Gazette"
            } else {
                "Río Times"
            }
            .into(),
        );
        if i == 7 {
            a.title = "Lighthouse keepers' strike".into();
        }
        all.push(a);
    }
    store.upsert_batch(&all, t(25, 0)).unwrap();
    all
}

fn page_all(store: &dyn Store, q: &Query) -> Vec<String> {
    let mut out = Vec::new();
    let mut q = q.clone();
    loop {
        let page = store.query(&q).unwrap();
        assert!(page.stories.len() <= q.page_size());
        out.extend(ids(&page.stories));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
}

/// The expected order, computed from the articles themselves.
fn expected(all: &[Article], keep: impl Fn(&Article) -> bool) -> Vec<String> {
    let mut v: Vec<(i64, String)> = all
        .iter()
        .filter(|a| keep(a))
        .map(|a| (a.published.unwrap_or(t(25, 0)).timestamp(), a.id.clone()))
        .collect();
    v.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    v.into_iter().map(|(_, id)| id).collect()
}

fn has(a: &Article, topic: &str) -> bool {
    a.topics.iter().any(|t| t == topic)
}

#[test]
fn paging_visits_every_story_once_in_order() {
    let (_d, store) = open();
    let all = corpus(&*store);
    for limit in [1, 7, 50, 1000] {
        let q = Query {
            limit,
            ..Query::default()
        };
        assert_eq!(
            page_all(&*store, &q),
            expected(&all, |_| true),
            "limit {limit}"
        );
    }
    let first = store.query(&Query::default()).unwrap();
    assert_eq!(first.stories.len(), Query::DEFAULT_LIMIT);
}

#[test]
fn topic_expressions() {
    let (_d, store) = open();
    let all = corpus(&*store);
    let q = |any: &[&str], all_: &[&str], not: &[&str]| Query {
        any: any.iter().map(|s| s.to_string()).collect(),
        all: all_.iter().map(|s| s.to_string()).collect(),
        not: not.iter().map(|s| s.to_string()).collect(),
        limit: 7,
        ..Query::default()
    };
    assert_eq!(
        page_all(&*store, &q(&["a"], &[], &[])),
        expected(&all, |x| has(x, "a"))
    );
    assert_eq!(
        page_all(&*store, &q(&["a", "d"], &[], &[])),
        expected(&all, |x| has(x, "a") || has(x, "d"))
    );
    assert_eq!(
        page_all(&*store, &q(&["a", "b"], &["d"], &[])),
        expected(&all, |x| (has(x, "a") || has(x, "b")) && has(x, "d"))
    );
    assert_eq!(
        page_all(&*store, &q(&["a", "d"], &[], &["d"])),
        expected(&all, |x| has(x, "a") && !has(x, "d"))
    );
    assert_eq!(
        page_all(&*store, &q(&[], &["d"], &["b"])),
        expected(&all, |x| has(x, "d") && !has(x, "b"))
    );
    assert_eq!(
        page_all(&*store, &q(&[], &[], &["a", "b"])),
        expected(&all, |x| has(x, "c"))
    );
    assert!(page_all(&*store, &q(&["nosuch"], &[], &[])).is_empty());
}

#[test]
fn source_and_since() {
    let (_d, store) = open();
    let all = corpus(&*store);
    let by_site = Query {
        source: Some("RÍO times".into()),
        limit: 4,
        ..Query::default()
    };
    let rio = |x: &Article| x.site.as_deref() == Some("Río Times");
    assert_eq!(page_all(&*store, &by_site), expected(&all, rio));
    let with_topic = Query {
        any: vec!["d".into()],
        ..by_site.clone()
    };
    assert_eq!(
        page_all(&*store, &with_topic),
        expected(&all, |x| rio(x) && has(x, "d"))
    );

    let since = t(1, 0) + Duration::hours(10);
    let recent = Query {
        since: Some(since),
        limit: 3,
        ..Query::default()
    };
    let after = |x: &Article| x.published.unwrap_or(t(25, 0)) >= since;
    assert_eq!(page_all(&*store, &recent), expected(&all, after));
    let recent_b = Query {
        any: vec!["b".into()],
        ..recent.clone()
    };
    assert_eq!(
        page_all(&*store, &recent_b),
        expected(&all, |x| after(x) && has(x, "b"))
    );
}

/// Both keyword plans — few matches joined and sorted, many matches as a
/// set over an ordered scan — give the same pages.
#[test]
fn keywords_with_every_other_filter_under_both_plans() {
    // SQLite picks one of two plans by the number of matches: force each.
    // PostgreSQL's planner picks its own.
    let stores: Vec<(tempfile::TempDir, Box<dyn Store>)> = if crate::support::backend::on_postgres()
    {
        vec![open()]
    } else {
        [usize::MAX, 0]
            .map(|join_max| {
                let dir = tempfile::tempdir().unwrap();
                let store = SqliteStore::open(dir.path())
                    .unwrap()
                    .with_search_join_max(join_max);
                (dir, Box::new(store) as Box<dyn Store>)
            })
            .into()
    };
    for (_dir, store) in stores {
        let all = corpus(&*store);
        let kw = |q: &str| Query {
            q: Some(q.into()),
            limit: 5,
            ..Query::default()
        };
        let only_7 = [all[7].id.as_str()];
        assert_eq!(page_all(&*store, &kw("lighthouse")), only_7);
        assert_eq!(page_all(&*store, &kw("Lighthouse keepers")), only_7);
        assert_eq!(page_all(&*store, &kw("keepers' STRIKE")), only_7);
        // Body words, with other filters and paging.
        let word = "glacier";
        let with_word = |x: &Article| x.content_text().contains(word);
        assert!(all.iter().filter(|x| with_word(x)).count() > 5);
        assert_eq!(page_all(&*store, &kw(word)), expected(&all, with_word));
        for any in [vec!["a"], vec!["a", "d"]] {
            let q = Query {
                any: any.iter().map(|s| s.to_string()).collect(),
                not: vec!["b".into()],
                ..kw(word)
            };
            assert_eq!(
                page_all(&*store, &q),
                expected(&all, |x| with_word(x)
                    && any.iter().any(|t| has(x, t))
                    && !has(x, "b")),
                "{any:?}"
            );
        }
        let since = t(1, 0) + Duration::hours(10);
        let q = Query {
            source: Some("harbour gazette".into()),
            since: Some(since),
            ..kw(word)
        };
        assert_eq!(
            page_all(&*store, &q),
            expected(&all, |x| with_word(x)
                && x.site.as_deref() == Some("Harbour Gazette")
                && x.published.unwrap_or(t(25, 0)) >= since)
        );
        // Search syntax in user input is text, never an error.
        for hostile in [
            "\"",
            "glacier OR",
            "NEAR(a b)",
            "*",
            "title:glacier",
            "-glacier",
            "a AND",
            "(((",
            "glacier\"; DROP TABLE stories; --",
            "^glacier",
            "!!!",
            "   ",
        ] {
            store.query(&kw(hostile)).unwrap();
        }
        assert!(store.query(&kw("!!!")).unwrap().stories.is_empty());
        assert_eq!(store.query(&kw("   ")).unwrap().stories.len(), 5);
    }
}

/// The cursors of the first `n` pages of `q` (the first page's is `None`).
fn page_cursors(store: &dyn Store, q: &Query, n: usize) -> Vec<Option<String>> {
    let mut cursors = vec![None];
    let mut q = q.clone();
    while cursors.len() < n {
        let next = store.query(&q).unwrap().next_cursor;
        assert!(next.is_some(), "fewer than {n} pages");
        q.cursor = next.clone();
        cursors.push(next);
    }
    cursors
}

#[test]
fn previous_cursor_walks_back_one_page() {
    let (_d, store) = open();
    corpus(&*store);
    let q = Query {
        any: vec!["a".into(), "b".into()],
        limit: 7,
        ..Query::default()
    };
    let c = page_cursors(&*store, &q, 3);
    let at = |cursor: &Option<String>| Query {
        cursor: cursor.clone(),
        ..q.clone()
    };
    assert_eq!(
        store.previous_cursor(&at(&c[0])).unwrap(),
        None,
        "first page"
    );
    assert_eq!(
        store.previous_cursor(&at(&c[1])).unwrap(),
        Some(None),
        "page 2 leads back to the first page"
    );
    assert_eq!(
        store.previous_cursor(&at(&c[2])).unwrap(),
        Some(c[1].clone()),
        "page 3 leads back to page 2"
    );
    // Through the trait object, as the server calls it.
    let dyn_store: &dyn Store = &*store;
    assert_eq!(
        dyn_store.previous_cursor(&at(&c[2])).unwrap(),
        Some(c[1].clone())
    );
}

#[test]
fn previous_cursor_gives_up_deep_down() {
    let (_d, store) = open();
    corpus(&*store);
    let q = Query {
        limit: 1,
        ..Query::default()
    };
    let deepest = topicfeed::store::cursor::PREVIOUS_SEARCH_PAGES + 1;
    let c = page_cursors(&*store, &q, deepest + 1);
    let at = |cursor: &Option<String>| Query {
        cursor: cursor.clone(),
        ..q.clone()
    };
    assert_eq!(
        store.previous_cursor(&at(&c[deepest - 1])).unwrap(),
        Some(c[deepest - 2].clone()),
        "page {deepest} is found"
    );
    assert_eq!(
        store.previous_cursor(&at(&c[deepest])).unwrap(),
        None,
        "page {} is too deep",
        deepest + 1
    );
}

#[test]
fn bad_cursors_are_user_errors() {
    let (_d, store) = open();
    corpus(&*store);
    for bad in ["nope", "00", "zz", "31"] {
        let err = store
            .query(&Query {
                cursor: Some(bad.into()),
                ..Query::default()
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::BadCursor(_)), "{bad}: {err}");
        assert!(err.is_bad_input());
    }
    let too_many = Query {
        any: (0..100).map(|i| format!("t{i}")).collect(),
        ..Query::default()
    };
    assert!(store.query(&too_many).unwrap_err().is_bad_input());
}

// -------------------------------------------------------------- retention

#[test]
fn retention_by_age_and_per_topic() {
    let (_d, store) = open();
    let all = corpus(&*store);
    let stats = store.topic_stats().unwrap();
    let count = |stats: &[topicfeed::store::TopicStats], slug: &str| {
        stats.iter().find(|s| s.slug == slug).map(|s| s.count)
    };
    assert_eq!(count(&stats, "a"), Some(20));
    assert_eq!(count(&stats, "d"), Some(15));
    // Writes in one batch get distinct, increasing change times: `now`
    // plus a microsecond per write.
    let last = stats[0].last_changed.unwrap();
    assert!(
        last >= t(25, 0) && last < t(25, 0) + Duration::milliseconds(1),
        "{last}"
    );

    // Undated stories sort at first_seen (day 25): those stay.
    let cutoff = t(1, 0) + Duration::hours(15);
    let now = t(26, 0);
    let removed = store
        .apply_retention(
            &Retention {
                max_age: Some(now - cutoff),
                max_per_topic: None,
            },
            now,
        )
        .unwrap();
    let kept = expected(&all, |x| x.published.unwrap_or(t(25, 0)) >= cutoff);
    assert_eq!(removed, 60 - kept.len());
    assert_eq!(page_all(&*store, &Query::default()), kept);

    // Per topic: each keeps its newest 5; stories in `d` too survive while `d` keeps them.
    let removed = store
        .apply_retention(
            &Retention {
                max_age: None,
                max_per_topic: Some(5),
            },
            now,
        )
        .unwrap();
    assert!(removed > 0);
    let stats = store.topic_stats().unwrap();
    for s in &stats {
        assert!(s.count <= 5, "{s:?}");
        let page = store
            .query(&Query {
                any: vec![s.slug.clone()],
                ..Query::default()
            })
            .unwrap();
        assert_eq!(page.stories.len() as u64, s.count);
        let last = s.last_changed.unwrap();
        assert!(
            last >= now && last < now + Duration::milliseconds(1),
            "{s:?}"
        );
    }
    let left: BTreeSet<String> = page_all(&*store, &Query::default()).into_iter().collect();
    assert_eq!(left.len() as u64, store.story_count().unwrap());
    // Every story left is listed under at least one topic.
    for id in &left {
        assert!(!store.get(id).unwrap().unwrap().article.topics.is_empty());
    }
}

#[test]
fn stories_stored_together_get_distinct_increasing_change_times() {
    let (_d, store) = open();
    let batch: Vec<Article> = (0..20).map(|i| numbered(i, &["europe"], None)).collect();
    store.upsert_batch(&batch, t(3, 0)).unwrap();
    let times: Vec<_> = batch
        .iter()
        .map(|a| store.get(&a.id).unwrap().unwrap())
        .map(|s| (s.first_seen, s.changed))
        .collect();
    for w in times.windows(2) {
        assert!(w[0].0 < w[1].0 && w[0].1 < w[1].1, "{w:?}");
    }
    // Still `now`, to the millisecond.
    assert!(times[19].1 - t(3, 0) < Duration::milliseconds(1));
}

// ------------------------------------------------- persistence, migrations

#[test]
fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let open_in = crate::support::backend::open_store;
    let (id, generation) = {
        let store = open_in(dir.path());
        let a = numbered(1, &["europe"], Some(t(5, 8)));
        store.upsert(&a, t(6, 0)).unwrap();
        (a.id, store.generation())
    };
    let store = open_in(dir.path());
    assert_eq!(store.generation(), generation);
    let s = store.get(&id).unwrap().unwrap();
    assert_eq!(s.article.topics, ["europe"]);
    assert_eq!(
        store.upsert(&s.article, t(7, 0)).unwrap(),
        Outcome::Unchanged
    );
    if !crate::support::backend::on_postgres() {
        let sqlite = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(sqlite.integrity_check().unwrap(), "ok");
    }
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn an_old_store_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let a = numbered(3, &["europe"], Some(t(5, 8)));
    {
        // A version-1 store (no keyword search yet) with one story in it,
        // written the way version 1 wrote them.
        let store = SqliteStore::open_at_version(dir.path(), Some(1)).unwrap();
        assert_eq!(user_version(store.path()), 1);
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        let mut stored = a.clone();
        stored.topics.clear();
        let json = serde_json::to_string(&stored).unwrap();
        conn.execute_batch("BEGIN").unwrap();
        conn.execute(
            "INSERT INTO stories (sid, id, sort_time, first_seen, changed, fp, topics, sources,
                                  article)
             VALUES (1, ?, ?, ?, ?, ?, '[\"europe\"]', ?, ?)",
            rusqlite::params![
                a.id,
                t(5, 8).timestamp(),
                t(6, 0).timestamp(),
                t(6, 0).timestamp(),
                a.fingerprint as i64,
                format!(
                    r#"[{{"article_id":"{}","site":"Harbour Gazette","url":null}}]"#,
                    a.id
                ),
                json
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO sources (article_id, sid, story_id, sort_time, seen, site, site_key, url,
                                  topics, content_hash, class_hash)
             VALUES (?, 1, ?, ?, ?, 'Harbour Gazette', 'harbour gazette', NULL, '[\"europe\"]', x'00', x'00')",
            rusqlite::params![a.id, a.id, t(5, 8).timestamp(), t(6, 0).timestamp()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO story_topics (sid, topic, sort_time, id) VALUES (1, 'europe', ?, ?)",
            rusqlite::params![t(5, 8).timestamp(), a.id],
        )
        .unwrap();
        conn.execute_batch("COMMIT").unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        user_version(store.path()),
        topicfeed::store::sqlite::MIGRATIONS.len() as i64
    );
    // The old story is found by a keyword from its body, back-filled by the migration.
    let word = a
        .content_text()
        .split(' ')
        .nth(3)
        .unwrap()
        .trim_matches('.')
        .to_owned();
    let page = store
        .query(&Query {
            q: Some(word),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(ids(&page.stories), [a.id.as_str()]);
    assert_eq!(page.stories[0].article.topics, ["europe"]);
    assert_eq!(
        page.stories[0].sources[0].site.as_deref(),
        Some("Harbour Gazette")
    );
    assert_eq!(store.topic_stats().unwrap()[0].count, 1);
    assert_eq!(store.integrity_check().unwrap(), "ok");

    // A store from a newer build is refused, not damaged.
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("topicfeed.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    match SqliteStore::open(dir.path()) {
        Err(StoreError::SchemaTooNew { found: 99, .. }) => {}
        other => panic!("expected SchemaTooNew, got {:?}", other.err()),
    }
}

#[test]
fn readers_run_while_a_writer_writes() {
    let (_d, store) = open();
    corpus(&*store);
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 100..400 {
                store.upsert(&numbered(i, &["a"], None), t(26, 0)).unwrap();
            }
        });
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    let page = store
                        .query(&Query {
                            any: vec!["a".into()],
                            ..Query::default()
                        })
                        .unwrap();
                    assert!(!page.stories.is_empty());
                }
            });
        }
    });
    assert_eq!(store.story_count().unwrap(), 360);
}

// ---------------------------------------------------------------- item identity

/// Rows written before ids came from guids and link keys are adopted by
/// the item they belong to, once: the story keeps its id and the item is
/// not new again.
#[test]
fn rows_stored_under_the_old_ids_are_adopted_once() {
    use topicfeed::ingest::identity::{ItemKey, canonical_url, guid_key, item_id};
    // Only SQLite stores predate these ids.
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let mut old = article("Ferry fares rise", &body(41, 80), &[]);
    old.url = Some("http://quay.example/ferry/".into());
    old.id = article_id(
        canonical_url("http://quay.example/ferry/").as_deref(),
        "",
        "",
    );
    let mut plain = article("Quay lights fixed", &body(42, 80), &[]);
    plain.url = Some("https://quay.example/lights".into());
    plain.id = article_id(plain.url.as_deref(), "", "");
    for a in [&old, &plain] {
        assert_eq!(store.upsert(a, t(5, 0)).unwrap(), Outcome::New);
    }
    // What migration 5 does to every row already stored.
    rusqlite::Connection::open(store.path())
        .unwrap()
        .execute("UPDATE sources SET legacy = 1", [])
        .unwrap();
    let _ = dir;

    // The same item, now read with its guid and an https link.
    let scope = "quay.example/feed.xml";
    let mut now = old.clone();
    now.url = Some("https://quay.example/ferry".into());
    now.id = item_id(guid_key("post-17", scope)).unwrap();
    assert_ne!(now.id, old.id);
    assert_ne!(store.upsert(&now, t(6, 0)).unwrap(), Outcome::New);
    assert_eq!(store.upsert(&now, t(6, 1)).unwrap(), Outcome::Unchanged);
    let story = store.get(&old.id).unwrap().unwrap();
    assert_eq!(story.article.id, old.id, "the stored id stands");
    assert_eq!(story.sources.len(), 1);

    // Another episode linking to the same page has its own guid: the row is
    // claimed already, so it is a story of its own.
    let mut other = article("Ferry timetable for winter", &body(43, 80), &[]);
    other.url = now.url.clone();
    other.id = item_id(guid_key("post-18", scope)).unwrap();
    assert_eq!(store.upsert(&other, t(6, 2)).unwrap(), Outcome::New);

    // A guid-less item whose link key is its old id owns its row directly.
    let mut again = plain.clone();
    again.id = item_id(ItemKey::Link("http://quay.example/lights/?utm_source=x")).unwrap();
    assert_eq!(again.id, plain.id);
    assert_eq!(store.upsert(&again, t(6, 3)).unwrap(), Outcome::Unchanged);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

/// The blind pair set of `tests/fixtures/dedup-pairs` (BENCHMARKS.md):
/// no distinct pair may merge, and at least 95% of the duplicates must.
#[test]
fn blind_duplicate_pairs_merge_precisely() {
    let dir = root().join("tests/fixtures/dedup-pairs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut merged_dups, mut dups, mut wrongly_merged) = (0, 0, Vec::new());
    for path in &files {
        let pair: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let doc = |v: &serde_json::Value| {
            let json = serde_json::json!({
                "title": v["title"], "url": v["url"], "site_name": v["site"],
                "published": v["published"], "content": v["content"],
            });
            normalize(
                Input::new(json.to_string().as_bytes())
                    .with_hint(Some(topicfeed::ingest::Format::Json)),
            )
            .unwrap()
        };
        let (a, b) = (doc(&pair["a"]), doc(&pair["b"]));
        let (_d, store) = open();
        store.upsert(&a, t(1, 0)).unwrap();
        // A copy of `a`, or the same id updated: one story either way.
        let merged = matches!(
            store.upsert(&b, t(1, 1)).unwrap(),
            Outcome::Duplicate { .. } | Outcome::Updated | Outcome::Unchanged
        );
        if pair["label"] == "duplicate" {
            dups += 1;
            merged_dups += usize::from(merged);
        } else if merged {
            wrongly_merged.push(path.display().to_string());
        }
    }
    assert!(
        wrongly_merged.is_empty(),
        "distinct pairs merged: {wrongly_merged:?}"
    );
    assert!(
        merged_dups * 100 >= dups * 95,
        "recall {merged_dups}/{dups} under 0.95"
    );
}

#[test]
fn a_subscriptions_signature_is_kept_by_renewals_and_never_revives_it() {
    let (_dir, store) = open();
    let now = t(5, 12);
    let (cb, topic) = (
        "https://reader.example/cb",
        "https://feeds.example/feeds/all.atom",
    );
    let sub = |secret: &str, days: i64, seen: Option<u64>| Subscription {
        callback: cb.into(),
        topic: topic.into(),
        secret: Some(secret.into()),
        expires: now + Duration::days(days),
        seen,
    };
    store.put_subscription(&sub("s1", 1, Some(7))).unwrap();
    assert!(store.mark_seen(cb, topic, 8).unwrap());
    // A renewal takes its new lease and secret and keeps what was sent.
    store.put_subscription(&sub("s2", 10, Some(9))).unwrap();
    assert_eq!(
        store.subscriptions(now).unwrap(),
        vec![sub("s2", 10, Some(8))]
    );
    // Recording a push for a subscription ended meanwhile brings nothing back.
    assert!(store.delete_subscription(cb, topic).unwrap());
    assert!(!store.mark_seen(cb, topic, 10).unwrap());
    assert!(store.subscriptions(now).unwrap().is_empty());
}
