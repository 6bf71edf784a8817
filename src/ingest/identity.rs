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

/// Normalizes a URL so that every link to the same page compares equal:
/// lower-case scheme and host, no default port, no fragment, no tracking
/// parameters, remaining parameters sorted. `None` when it is not an
/// absolute http(s) URL.
pub fn canonical_url(raw: &str) -> Option<String> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
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

/// The article id: 20 hex digits of BLAKE3 over the canonical URL when there
/// is one, else over the normalized title and body.
pub fn article_id(canonical_url: Option<&str>, title: &str, body: &str) -> String {
    identify(canonical_url, title, body).0
}

/// The id and the fingerprint together, lower-casing the body once.
pub fn identify(canonical_url: Option<&str>, title: &str, body: &str) -> (String, u64) {
    let lower = body.to_lowercase();
    let digest = match canonical_url {
        Some(url) => blake3::hash(format!("url\n{url}").as_bytes()),
        None => {
            let mut hasher = blake3::Hasher::new();
            hasher.update(b"text\n");
            hasher.update(normalized_words(title).as_bytes());
            hasher.update(b"\n");
            // One update with the whole text: blake3 is slow on tiny slices.
            let mut joined = String::with_capacity(lower.len());
            for word in words(&lower) {
                if !joined.is_empty() {
                    joined.push(' ');
                }
                joined.push_str(word);
            }
            hasher.update(joined.as_bytes());
            hasher.finalize()
        }
    };
    (digest.to_hex()[..20].to_owned(), fingerprint_lower(&lower))
}

/// Lower-case words joined by single spaces, punctuation dropped: what
/// stays the same when only quotes, dashes or spacing change.
fn normalized_words(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for word in words(&lower) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
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
    fingerprint_lower(&body.to_lowercase())
}

fn fingerprint_lower(lower: &str) -> u64 {
    let word_hashes: Vec<u64> = words(lower).map(|w| xxh3_64(w.as_bytes())).collect();
    if word_hashes.is_empty() {
        return 0;
    }
    let mut weights = [0i32; 64];
    let mut add = |h: u64| {
        for (bit, w) in weights.iter_mut().enumerate() {
            *w += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    };
    if word_hashes.len() < 3 {
        add(word_hashes.iter().fold(0, |acc, &h| mix(acc, h)));
    } else {
        for w in word_hashes.windows(3) {
            add(mix(mix(mix(0, w[0]), w[1]), w[2]));
        }
    }
    weights.iter().enumerate().fold(
        0u64,
        |acc, (bit, &w)| if w > 0 { acc | 1 << bit } else { acc },
    )
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
