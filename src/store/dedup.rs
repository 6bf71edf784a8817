//! Near-duplicate detection: is a new article a copy of a story we have?
//!
//! Two steps. First the SimHash fingerprints (`ingest::identity`): a story
//! is a candidate when its fingerprint is within [`MAX_DISTANCE`] bits of
//! the article's and its sort time within [`WINDOW_SECS`]. Then the texts:
//! the candidate is confirmed only when at least [`MIN_SHARED`] of the
//! shorter text's 3-word shingles occur in the other.
//!
//! Why not exact 16-bit bands in indexed columns: a band match is only
//! guaranteed up to 3 differing bits (4 bands, pigeonhole), while real
//! copies differ more — the two sites' versions of one story in
//! `examples/articles/` (010/011: another standfirst, one paragraph
//! rewritten) are 10 bits apart, and 4 exact bands find a 10-bit pair
//! about one time in six.
//! Hence the time window, scanned in memory ([`WindowIndex`], microseconds
//! for thousands of stories) — copies of a story run within days of each
//! other. The window also bounds false matches: unrelated texts are ~32 bits
//! apart but a few in 10^7 fall within 12, which across a whole store would
//! be real; the shingle check makes such a match harmless.

use std::collections::{BTreeMap, HashSet};

use xxhash_rust::xxh3::xxh3_64;

use crate::model::fingerprint_distance as distance;

/// Most differing fingerprint bits for a candidate. Tested in
/// `tests/store.rs`: copies with other boilerplate and light edits are
/// within it, other stories on the same event are not.
pub const MAX_DISTANCE: u32 = 12;

/// Least share of the shorter text's shingles found in the other to confirm
/// a candidate. Copies share most (the 010/011 and 018/019 pairs ~0.9);
/// different stories, even on the same event, share almost none (< 0.1).
pub const MIN_SHARED: f64 = 0.5;

/// Fewest shingles (about as many words) a text needs before sharing them
/// says anything: "Two." or a title-only podcast item is the whole text of
/// many unrelated items. Shorter texts are copies only word for word and
/// under the same headline.
pub const MIN_SHINGLES: usize = 8;

/// How far apart (seconds) the sort times of a story and its copy may be.
pub const WINDOW_SECS: i64 = 3 * 24 * 3600;

/// Fingerprints of stored stories by sort time, for window scans.
#[derive(Debug, Default, Clone)]
pub struct WindowIndex {
    /// (sort time, story key) → fingerprint.
    by_time: BTreeMap<(i64, i64), u64>,
}

impl WindowIndex {
    pub fn insert(&mut self, sort_time: i64, key: i64, fp: u64) {
        self.by_time.insert((sort_time, key), fp);
    }

    pub fn remove(&mut self, sort_time: i64, key: i64) {
        self.by_time.remove(&(sort_time, key));
    }

    pub fn len(&self) -> usize {
        self.by_time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_time.is_empty()
    }

    /// Stories within the window around `sort_time` whose fingerprint is
    /// within [`MAX_DISTANCE`] of `fp`, closest first.
    pub fn candidates(&self, sort_time: i64, fp: u64) -> Vec<(u32, i64)> {
        let lo = (sort_time.saturating_sub(WINDOW_SECS), i64::MIN);
        let hi = (sort_time.saturating_add(WINDOW_SECS), i64::MAX);
        let mut out: Vec<(u32, i64)> = self
            .by_time
            .range(lo..=hi)
            .filter_map(|(&(_, key), &other)| {
                let d = distance(fp, other);
                (d <= MAX_DISTANCE).then_some((d, key))
            })
            .collect();
        out.sort_unstable();
        out
    }
}

/// Hashes of the lower-cased 3-word shingles of a text (the whole text as
/// one shingle when it has fewer than 3 words, none when it has none).
pub fn shingles(text: &str) -> HashSet<u64> {
    let words: Vec<String> = words(text);
    if words.is_empty() {
        return HashSet::new();
    }
    if words.len() < 3 {
        return HashSet::from([xxh3_64(words.join(" ").as_bytes())]);
    }
    words
        .windows(3)
        .map(|w| xxh3_64(w.join(" ").as_bytes()))
        .collect()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// One side of a comparison: an article's headline and body shingles.
pub struct Text<'a> {
    pub title: &'a str,
    pub shingles: &'a HashSet<u64>,
}

/// Is `a` a copy of `b`? Across sites, when most of the shorter body's
/// shingles are in the other (a changed headline or an added paragraph
/// does not hide a copy). Within one site (`same_site`: different items of
/// one source), and whenever a body is too short to be evidence, only
/// word for word, and short ones under the same headline too.
pub fn is_copy(a: &Text<'_>, b: &Text<'_>, same_site: bool) -> bool {
    let short = a.shingles.len().min(b.shingles.len()) < MIN_SHINGLES;
    if a.shingles.is_empty() || b.shingles.is_empty() {
        return false;
    }
    if short || same_site {
        return a.shingles == b.shingles && (!short || words(a.title) == words(b.title));
    }
    shared(a.shingles, b.shingles) >= MIN_SHARED
}

/// Share of the smaller set's shingles that the other has too.
pub fn shared(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if small.is_empty() {
        return 0.0;
    }
    let common = small.iter().filter(|h| large.contains(h)).count();
    common as f64 / small.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_scan_finds_close_fingerprints_in_time() {
        let mut idx = WindowIndex::default();
        let day = 86_400;
        idx.insert(10 * day, 1, 0);
        idx.insert(10 * day, 2, u64::MAX);
        idx.insert(10 * day + 5, 3, 0b111);
        idx.insert(20 * day, 4, 0);
        assert_eq!(idx.candidates(11 * day, 0), vec![(0, 1), (3, 3)]);
        assert!(idx.candidates(30 * day, 0).is_empty());
        idx.remove(10 * day, 1);
        assert_eq!(idx.candidates(10 * day, 0), vec![(3, 3)]);
        assert_eq!(idx.len(), 3);
    }

    #[test]
    fn shingle_share() {
        let a = shingles("one two three four five six");
        let b = shingles("One, two three four FIVE six seven eight");
        assert_eq!(shared(&a, &b), 1.0);
        let c = shingles("completely different words in here");
        assert_eq!(shared(&a, &c), 0.0);
        assert_eq!(shingles("hi").len(), 1);
        assert!(shingles(" .. ").is_empty());
    }

    #[test]
    fn short_texts_are_copies_only_with_the_same_headline() {
        let two = shingles("Two.");
        let text = |title, shingles| Text { title, shingles };
        assert!(!is_copy(
            &text("Impossible numbers", &two),
            &text("Second", &two),
            false
        ));
        assert!(is_copy(
            &text("Second!", &two),
            &text("second", &two),
            false
        ));
        let none = shingles("");
        assert!(!is_copy(
            &text("Episode 3", &none),
            &text("Episode 3", &none),
            false
        ));
        let long = shingles(
            "the harbour board approved the new ferry timetable after a long meeting on monday night",
        );
        let longer = shingles(
            "the harbour board approved the new ferry timetable after a long meeting on monday night, officials said",
        );
        assert!(is_copy(
            &text("Ferries", &long),
            &text("Timetable", &longer),
            false
        ));
        assert!(!is_copy(
            &text("Ferries", &long),
            &text("Ferries", &longer),
            true
        ));
    }
}
