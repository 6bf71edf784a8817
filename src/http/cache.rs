//! Rendered feeds, kept in memory with their compressed copies.
//!
//! An entry remembers the store generation it was checked at and a
//! signature of its item set. When the store has changed, the feed's query
//! runs again (cheap: a range scan) and the bytes are kept if the item set
//! is the same, so an ingest invalidates exactly the feeds whose items it
//! changed. Compressed copies are made on first request, once per version.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, LAST_MODIFIED,
    LINK, VARY,
};

use super::conditional::{self, Coding, compress};
use crate::render::Rendered;
use crate::store::Story;

/// The headers of a 304 for a version tagged `etag`, sent in `coding`,
/// kept `ttl_minutes`: what RFC 9110 §15.4.5 has a 304 repeat (the
/// validator, caching and `Vary`; hyper adds `Date`) and nothing else,
/// since a cache merges what a 304 carries into the copy it holds.
pub fn not_modified_headers(etag: &str, coding: Coding, ttl_minutes: u32) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(4);
    if let Ok(v) = HeaderValue::from_str(&conditional::coded_etag(etag, coding)) {
        h.insert(ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={}", ttl_minutes * 60)) {
        h.insert(CACHE_CONTROL, v);
    }
    h.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    h
}

/// One rendered feed version.
pub struct Entry {
    pub rendered: Rendered,
    pub body: Bytes,
    pub signature: u64,
    pub ttl_minutes: u32,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
    zstd: OnceLock<Bytes>,
    /// Per coding, the headers of a 304 and of a 200: built once per
    /// version, so a poll copies them instead of formatting dates and tags.
    headers: [OnceLock<(HeaderMap, HeaderMap)>; 4],
    /// `Link: <hub>; rel="hub", <self>; rel="self"` (WebSub discovery).
    link: Option<HeaderValue>,
}

impl Entry {
    pub fn new(mut rendered: Rendered, signature: u64, ttl_minutes: u32) -> Entry {
        // The bytes live once, in `body`; `rendered` keeps the validators.
        let body = super::zerocopy::share(std::mem::take(&mut rendered.body));
        Entry {
            body,
            rendered,
            signature,
            ttl_minutes,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            zstd: OnceLock::new(),
            headers: Default::default(),
            link: None,
        }
    }

    /// The entry with WebSub's discovery links in its headers.
    pub fn with_links(mut self, hub: &str, self_url: &str) -> Entry {
        self.link =
            HeaderValue::from_str(&format!("<{hub}>; rel=\"hub\", <{self_url}>; rel=\"self\""))
                .ok();
        self
    }

    /// `Link: <hub>; rel="hub", <self>; rel="self"`, when the hub runs.
    pub fn link(&self) -> Option<&HeaderValue> {
        self.link.as_ref()
    }

    /// The headers of a 304 (validators and caching) for `coding`.
    pub fn not_modified_headers(&self, coding: Coding) -> &HeaderMap {
        &self.headers_for(coding).0
    }

    /// The headers of a 200 for `coding`: those of a 304 plus the
    /// representation's (type, coding, date, discovery links) and the
    /// security headers.
    pub fn ok_headers(&self, coding: Coding) -> &HeaderMap {
        &self.headers_for(coding).1
    }

    fn headers_for(&self, coding: Coding) -> &(HeaderMap, HeaderMap) {
        self.headers[coding as usize].get_or_init(|| {
            let r = &self.rendered;
            let not_modified = not_modified_headers(&r.etag, coding, self.ttl_minutes);
            let mut ok = not_modified.clone();
            if let Some(lm) = r.last_modified
                && let Ok(v) = HeaderValue::from_str(&conditional::http_date(lm))
            {
                ok.insert(LAST_MODIFIED, v);
            }
            if let Some(link) = &self.link {
                ok.insert(LINK, link.clone());
            }
            // Here once per version rather than into every response.
            super::response::security_headers(&mut ok);
            ok.insert(CONTENT_TYPE, HeaderValue::from_static(r.content_type));
            if let Some(c) = coding.header() {
                ok.insert(CONTENT_ENCODING, HeaderValue::from_static(c));
            }
            (not_modified, ok)
        })
    }

    /// The body in `coding` if it needs no work: identity, or a coding
    /// already compressed. Lets a request skip the hop to a blocking thread.
    pub fn ready_body(&self, coding: Coding) -> Option<Bytes> {
        match coding {
            Coding::Identity => Some(self.body.clone()),
            Coding::Gzip => self.gzip.get().cloned(),
            Coding::Brotli => self.brotli.get().cloned(),
            Coding::Zstd => self.zstd.get().cloned(),
        }
    }

    /// The body in `coding`, compressing it the first time it is asked for.
    pub fn body(&self, coding: Coding) -> Bytes {
        let slot = match coding {
            Coding::Identity => return self.body.clone(),
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.brotli,
            Coding::Zstd => &self.zstd,
        };
        slot.get_or_init(|| super::zerocopy::share(compress(coding, &self.body)))
            .clone()
    }
}

/// The item set of a page, as a number: ids, change times, what each item
/// shows, and whether there is a next page. Change times are whole
/// seconds, so an edit in the same second as the last write (a `reclean`
/// right after an ingest) is told by the text itself.
pub fn signature(stories: &[Story], next: Option<&str>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for s in stories {
        let a = &s.article;
        h.update(a.id.as_bytes());
        h.update(&s.changed.timestamp_micros().to_le_bytes());
        h.update(&(s.sources.len() as u32).to_le_bytes());
        for field in [&a.title, &a.summary, &a.content_html] {
            h.update(&(field.len() as u64).to_le_bytes());
            h.update(field.as_bytes());
        }
    }
    h.update(next.unwrap_or("").as_bytes());
    h.digest()
}

#[derive(Clone)]
struct Slot {
    generation: u64,
    entry: Arc<Entry>,
}

/// What an entry costs in memory, as the cache counts it: its key, the
/// identity body, room for its compressed copies (made on first request;
/// gzip, brotli and zstd of a feed are each about a quarter to a third of
/// it, so all three fit in the body's size again), and its headers.
#[derive(Clone)]
struct Bytesize;

impl quick_cache::Weighter<String, Slot> for Bytesize {
    fn weight(&self, key: &String, slot: &Slot) -> u64 {
        (key.len() + 2 * slot.entry.body.len() + ENTRY_OVERHEAD) as u64
    }
}

/// Headers, validators and bookkeeping of one entry, in bytes.
const ENTRY_OVERHEAD: usize = 2048;

/// Feed cache keyed by the canonical request, bounded in bytes. Its policy
/// (quick_cache's CLOCK-Pro) resists scans: a burst of one-off variants
/// (every `q=` is one) passes through without pushing out the feeds
/// readers poll again and again.
pub struct FeedCache {
    map: quick_cache::sync::Cache<String, Slot, Bytesize>,
}

impl FeedCache {
    pub fn new(max_bytes: usize) -> FeedCache {
        let max_bytes = max_bytes.max(1 << 20);
        // The entry estimate only sizes the table: filtered feeds of a few
        // dozen items weigh some 30 KB.
        let estimate = (max_bytes / (32 * 1024)).max(16);
        FeedCache {
            map: quick_cache::sync::Cache::with_weighter(estimate, max_bytes as u64, Bytesize),
        }
    }

    /// The entry for `key` if it was checked at `generation`; else the stale
    /// entry (for signature comparison), flagged as such.
    pub fn get(&self, key: &str, generation: u64) -> Option<(Arc<Entry>, bool)> {
        self.map
            .get(key)
            .map(|s| (s.entry, s.generation == generation))
    }

    pub fn put(&self, key: String, generation: u64, entry: Arc<Entry>) {
        self.map.insert(key, Slot { generation, entry });
    }

    /// Bytes held, as the weigher counts them.
    pub fn weight(&self) -> u64 {
        self.map.weight()
    }

    /// Feed variants held.
    pub fn entries(&self) -> usize {
        self.map.len()
    }
}
