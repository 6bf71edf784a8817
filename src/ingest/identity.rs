//! Stable identity: canonical URLs, article ids and content fingerprints.
//!
//! An id must not change when the same article is ingested again, from the
//! same file or from a feed that links to it with tracking parameters. The
//! fingerprint is a 64-bit SimHash over word shingles: two copies of a story
//! with different boilerplate or light edits differ in a few bits, while
//! different stories differ in about half of them.

use url::Url;
use xxhash_rust::xxh3::xxh3_64;

/// Query parameters that only track the reader; dropped from canonical URLs.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "yclid",
    "_ga",
    "_gl",
    "ref",
    "ref_src",
    "referrer",
    "cmpid",
    "ncid",
    "ocid",
    "smid",
    "src",
    "taid",
    "wt_mc",
    "at_medium",
    "at_campaign",
    "ito",
    "guccounter",
    "guce_referrer",
    "share",
    "output",
];

/// Click ids that never change which page a link opens: dropped from the
/// links topicfeed republishes, like `utm_*`. Shorter than
/// [`TRACKING_PARAMS`] because a served link must still work: `ref`,
/// `src` or `output` select content on some sites.
const CLICK_IDS: &[&str] = &[
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "_gl",
];

/// The link topicfeed republishes for a page: an absolute http(s) URL as the
/// source wrote it (parameters in their order, fragment kept: `#3.1.3` may
/// be the item), without `utm_*` parameters and click ids. `None` for any
/// other scheme (`javascript:`, `data:`, …) or a relative reference: such a
/// link never leaves topicfeed.
pub fn public_url(raw: &str) -> Option<String> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if !crate::model::is_http(&url) {
        return None;
    }
    let tracking = |k: &str| {
        let k = k.to_ascii_lowercase();
        k.starts_with("utm_") || CLICK_IDS.contains(&k.as_str())
    };
    if url.query_pairs().any(|(k, _)| tracking(&k)) {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Some(url.to_string())
}

/// Normalizes a URL so that every link to the same page compares equal:
/// lower-case scheme and host, no default port, no fragment, no tracking
/// parameters, remaining parameters sorted. `None` when it is not an
/// absolute http(s) URL.
pub fn canonical_url(raw: &str) -> Option<String> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if !crate::model::is_http(&url) {
        return None;
    }
    url.set_fragment(None);
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    Some(url.to_string())
}

/// The form of a link that identifies the page: [`canonical_url`] with the
/// scheme made https and a trailing slash dropped, because sites move to
/// https and toggle trailing slashes without the page becoming another one.
/// https is the side chosen so that ids stored before this key existed
/// (from the https canonical URL) come out the same.
pub fn link_key(raw: &str) -> Option<String> {
    let canonical = canonical_url(raw)?;
    let mut url = Url::parse(&canonical).ok()?;
    if url.scheme() == "http" {
        // Changing between the two special schemes cannot fail; if it ever
        // did, the http form is still a stable key.
        let _ = url.set_scheme("https");
        if url.port() == Some(443) {
            let _ = url.set_port(None);
        }
    }
    let path = url.path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/').to_owned();
        url.set_path(if trimmed.is_empty() { "/" } else { &trimmed });
    }
    Some(url.to_string())
}

/// What a feed item is known by, for [`item_id`]: its guid when the feed
/// gives one, else its link, else (no key) its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKey<'a> {
    /// A guid that is not a URL, and the feed it was read from. Guids are
    /// only unique within their feed: two feeds both number items "1".
    Guid { guid: &'a str, scope: &'a str },
    /// A link (or a guid that is a URL): [`link_key`] makes it.
    Link(&'a str),
}

/// The key of an item with this guid in the feed `scope`: a guid that is a
/// URL is treated as a link, so http→https moves of a permalink guid and
/// of the same item's link give one id.
pub fn guid_key<'a>(guid: &'a str, scope: &'a str) -> ItemKey<'a> {
    let guid = guid.trim();
    if canonical_url(guid).is_some() {
        ItemKey::Link(guid)
    } else {
        ItemKey::Guid { guid, scope }
    }
}

/// 20 hex digits of BLAKE3 over the item's key; `None` when a link key is
/// not an absolute http(s) URL.
pub fn item_id(key: ItemKey<'_>) -> Option<String> {
    let digest = match key {
        ItemKey::Guid { guid, scope } => {
            blake3::hash(format!("guid\n{}\n{guid}", scope.trim()).as_bytes())
        }
        ItemKey::Link(link) => blake3::hash(format!("url\n{}", link_key(link)?).as_bytes()),
    };
    Some(digest.to_hex()[..20].to_owned())
}

/// Ids an article with this (canonical) URL may have been stored under
/// before ids came from [`link_key`]: the hash of the canonical URL as it
/// was, with either scheme and with or without a trailing slash. The store
/// adopts such a row instead of storing the item again as new.
pub fn legacy_ids(url: &str) -> Vec<String> {
    let Some(key) = link_key(url) else {
        return Vec::new();
    };
    let Ok(base) = Url::parse(&key) else {
        return Vec::new();
    };
    let mut ids = Vec::with_capacity(4);
    for scheme in ["https", "http"] {
        for slash in [false, true] {
            let mut url = base.clone();
            // Between http and https this cannot fail.
            let _ = url.set_scheme(scheme);
            if slash {
                // The root has its slash in every form already.
                if url.path() == "/" {
                    continue;
                }
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            let id = article_id(Some(url.as_str()), "", "");
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The article id: 20 hex digits of BLAKE3 over the canonical URL when there
/// is one, else over the normalized title and body.
pub fn article_id(canonical_url: Option<&str>, title: &str, body: &str) -> String {
    identify(canonical_url, title, body).0
}

/// The id and the fingerprint together, lower-casing the body once.
pub fn identify(canonical_url: Option<&str>, title: &str, body: &str) -> (String, u64) {
    let lower = lowercase(body);
    // One pass over the body's words: their hashes for the fingerprint and,
    // without a URL, the words joined by single spaces for the digest.
    let mut hashes = Vec::with_capacity(lower.len() / 4);
    let mut joined = String::with_capacity(if canonical_url.is_none() {
        lower.len()
    } else {
        0
    });
    for word in words(&lower) {
        hashes.push(xxh3_64(word.as_bytes()));
        if canonical_url.is_none() {
            push_word(&mut joined, word);
        }
    }
    let digest = match canonical_url {
        Some(url) => blake3::hash(format!("url\n{url}").as_bytes()),
        None => {
            let mut hasher = blake3::Hasher::new();
            hasher.update(b"text\n");
            hasher.update(normalized_words(title).as_bytes());
            hasher.update(b"\n");
            // One update with the whole text: blake3 is slow on tiny slices.
            hasher.update(joined.as_bytes());
            hasher.finalize()
        }
    };
    (
        digest.to_hex()[..20].to_owned(),
        fingerprint_hashes(&hashes),
    )
}

/// `str::to_lowercase`, with ASCII runs lowered a whole run at a time:
/// the standard one goes character by character from the first non-ASCII
/// character on, and a body has curly quotes in its first line.
fn lowercase(text: &str) -> String {
    // Final sigma depends on its neighbours: the standard rules decide.
    if text.contains('Σ') {
        return text.to_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let start = out.len();
        out.push_str(&rest[..ascii]);
        out[start..].make_ascii_lowercase();
        rest = &rest[ascii..];
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_lowercase());
            rest = chars.as_str();
        }
    }
    out
}

/// Lower-case words joined by single spaces, punctuation dropped: what
/// stays the same when only quotes, dashes or spacing change.
fn normalized_words(text: &str) -> String {
    let lower = lowercase(text);
    let mut out = String::with_capacity(lower.len());
    for word in words(&lower) {
        push_word(&mut out, word);
    }
    out
}

/// Appends a word to words joined by single spaces.
fn push_word(out: &mut String, word: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(word);
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// 64-bit SimHash over 3-word shingles of the lower-cased body.
///
/// The body is lower-cased once, each word hashed once, and a shingle's
/// hash mixed from its three word hashes: no allocation per word.
pub fn fingerprint(body: &str) -> u64 {
    fingerprint_lower(&lowercase(body))
}

fn fingerprint_lower(lower: &str) -> u64 {
    fingerprint_hashes(
        &words(lower)
            .map(|w| xxh3_64(w.as_bytes()))
            .collect::<Vec<_>>(),
    )
}

/// The SimHash of a body given as the hashes of its words, in order.
fn fingerprint_hashes(word_hashes: &[u64]) -> u64 {
    if word_hashes.is_empty() {
        return 0;
    }
    let mut counts = BitCounts::default();
    if word_hashes.len() < 3 {
        counts.add(word_hashes.iter().fold(0, |acc, &h| mix(acc, h)));
    } else {
        for w in word_hashes.windows(3) {
            counts.add(mix(mix(mix(0, w[0]), w[1]), w[2]));
        }
    }
    counts.simhash()
}

/// Bit `i` of a byte moved to byte `i` of a u64: adding these counts the
/// set bits of eight bytes at once, one counter per byte lane.
const SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut bit = 0;
        while bit < 8 {
            if (byte >> bit) & 1 == 1 {
                table[byte] |= 1 << (8 * bit);
            }
            bit += 1;
        }
        byte += 1;
    }
    table
};

/// How often each of the 64 bits was set among the hashes added: the
/// SimHash vote. A bit-by-bit loop costs 64 steps per shingle (~15 ms on a
/// 2 MiB body); byte lanes cost 8 table lookups, flushed to the 32-bit
/// counts before a lane (at most 255) can overflow.
struct BitCounts {
    ones: [u32; 64],
    lanes: [u64; 8],
    pending: u32,
    total: u32,
}

impl Default for BitCounts {
    fn default() -> Self {
        BitCounts {
            ones: [0; 64],
            lanes: [0; 8],
            pending: 0,
            total: 0,
        }
    }
}

impl BitCounts {
    fn add(&mut self, h: u64) {
        for (k, lane) in self.lanes.iter_mut().enumerate() {
            *lane += SPREAD[((h >> (8 * k)) & 0xff) as usize];
        }
        self.pending += 1;
        self.total += 1;
        if self.pending == 255 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for (k, lane) in self.lanes.iter_mut().enumerate() {
            for i in 0..8 {
                self.ones[8 * k + i] += ((*lane >> (8 * i)) & 0xff) as u32;
            }
            *lane = 0;
        }
        self.pending = 0;
    }

    /// A bit is set when more hashes had it set than clear.
    fn simhash(mut self) -> u64 {
        self.flush();
        let total = u64::from(self.total);
        (0..64).fold(0u64, |acc, bit| {
            if 2 * u64::from(self.ones[bit]) > total {
                acc | 1 << bit
            } else {
                acc
            }
        })
    }
}

/// Order-sensitive combination of two 64-bit hashes (a splitmix64 round).
fn mix(acc: u64, h: u64) -> u64 {
    let mut z = acc.rotate_left(23) ^ h;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The run-at-a-time lowercasing gives what the standard one gives.
        #[test]
        fn lowercase_is_the_standard_lowercase(text in "[a-zA-Z0-9 .,’“ÉéİΣσΑ-]{0,40}") {
            proptest::prop_assert_eq!(lowercase(&text), text.to_lowercase());
        }
    }

    #[test]
    fn bit_counts_match_the_bit_by_bit_vote() {
        let hashes: Vec<u64> = (0..2000u64).map(|i| mix(i, i.wrapping_mul(31))).collect();
        for n in [1, 2, 254, 255, 256, 1000, 2000] {
            let mut weights = [0i32; 64];
            let mut counts = BitCounts::default();
            for &h in &hashes[..n] {
                for (bit, w) in weights.iter_mut().enumerate() {
                    *w += if h >> bit & 1 == 1 { 1 } else { -1 };
                }
                counts.add(h);
            }
            let naive = (0..64).fold(0u64, |acc, bit| {
                if weights[bit] > 0 {
                    acc | 1 << bit
                } else {
                    acc
                }
            });
            assert_eq!(counts.simhash(), naive, "{n} hashes");
        }
    }

    #[test]
    fn public_links_keep_the_page_and_lose_tracking_and_unsafe_schemes() {
        assert_eq!(
            public_url(" https://a.example/changelog?b=2&a=1&utm_source=rss&fbclid=x#3.1.3 ")
                .as_deref(),
            Some("https://a.example/changelog?b=2&a=1#3.1.3")
        );
        assert_eq!(
            public_url("https://a.example/item?id=12&ref=rss").as_deref(),
            Some("https://a.example/item?id=12&ref=rss")
        );
        assert_eq!(
            public_url("https://a.example/x?utm_medium=feed").as_deref(),
            Some("https://a.example/x")
        );
        for bad in [
            "javascript:alert(1)//",
            "data:text/html;base64,PHA+",
            "/relative",
            "ftp://a.example/f",
            "JaVaScRiPt:alert(1)",
        ] {
            assert_eq!(public_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn canonical_urls_drop_tracking_and_fragments() {
        assert_eq!(
            canonical_url("HTTPS://Example.ORG:443/news/a?utm_source=x&b=2&a=1&fbclid=z#top")
                .as_deref(),
            Some("https://example.org/news/a?a=1&b=2")
        );
        assert_eq!(canonical_url("ftp://example.org/a"), None);
        assert_eq!(canonical_url("/relative"), None);
    }

    #[test]
    fn link_keys_ignore_scheme_slash_tracking_and_fragment() {
        let key = link_key("https://example.org/news/a").unwrap();
        for variant in [
            "http://example.org/news/a",
            "https://example.org/news/a/",
            "http://EXAMPLE.org:80/news/a/?utm_source=rss&fbclid=1#comments",
            "https://example.org/news/a?gclid=x&utm_medium=feed",
        ] {
            assert_eq!(
                link_key(variant).as_deref(),
                Some(key.as_str()),
                "{variant}"
            );
        }
        assert_eq!(
            link_key("http://example.org/").as_deref(),
            Some("https://example.org/")
        );
        assert_ne!(link_key("https://example.org/news/b"), Some(key));
        assert_eq!(link_key("mailto:desk@example.org"), None);
    }

    #[test]
    fn item_ids_come_from_scoped_guids_or_link_keys() {
        let a = item_id(guid_key("1", "feeds.example/a.xml"));
        let b = item_id(guid_key("1", "feeds.example/b.xml"));
        assert!(a.is_some() && b.is_some());
        assert_ne!(a, b, "two feeds' guid 1 are different items");
        assert_eq!(a, item_id(guid_key(" 1 ", "feeds.example/a.xml")));
        // A permalink guid is a link: its scheme may change, and it is the
        // same item as its guid-less form.
        let g = item_id(guid_key("http://example.org/a", "feeds.example/a.xml"));
        assert_eq!(
            g,
            item_id(guid_key("https://example.org/a/", "other.example/feed"))
        );
        assert_eq!(
            g,
            item_id(ItemKey::Link("https://example.org/a?utm_source=x"))
        );
        // Ids of https links are what the canonical URL gave before.
        assert_eq!(
            g.as_deref(),
            Some(article_id(Some("https://example.org/a"), "", "").as_str())
        );
        assert_eq!(item_id(ItemKey::Link("/relative")), None);
    }

    #[test]
    fn legacy_ids_cover_both_schemes_and_slashes() {
        let old = |u: &str| article_id(canonical_url(u).as_deref(), "", "");
        let ids = legacy_ids("https://example.org/a?x=1");
        for u in [
            "http://example.org/a?x=1",
            "https://example.org/a/?x=1",
            "http://example.org/a/?x=1&utm_source=y",
            "https://example.org/a?x=1",
        ] {
            assert!(ids.contains(&old(u)), "{u}");
        }
        assert_eq!(ids.len(), 4);
        assert_eq!(legacy_ids("https://example.org/").len(), 2);
        assert!(legacy_ids("not a url").is_empty());
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = article_id(None, "Harbour strike", "Dock workers walked out.");
        assert_eq!(
            a,
            article_id(None, "Harbour  strike", "Dock workers walked out")
        );
        assert_ne!(
            a,
            article_id(None, "Harbour strike", "Dock workers went back.")
        );
        assert_eq!(a.len(), 20);
        let u = article_id(Some("https://example.org/a"), "x", "y");
        assert_eq!(
            u,
            article_id(Some("https://example.org/a"), "other", "text")
        );
    }

    #[test]
    fn fingerprints_are_close_for_edits_and_far_for_other_stories() {
        let story = "Dock workers in the northern port walked out on Monday after talks over pay and \
                     safety rules collapsed late on Sunday night, union leaders said, adding that the \
                     strike would continue until the operator returned to the table with a new offer.";
        let edited = story.replace("late on Sunday night", "on Sunday evening");
        let other = "The central bank left interest rates unchanged on Thursday, saying inflation \
                     was easing faster than expected but that wage growth remained a concern for \
                     the committee, which next meets in six weeks to review its forecasts again.";
        assert!(crate::model::fingerprint_distance(fingerprint(story), fingerprint(&edited)) <= 12);
        assert!(crate::model::fingerprint_distance(fingerprint(story), fingerprint(other)) > 16);
    }
}
