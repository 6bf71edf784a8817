//! Feed URLs already worked out, remembered per connection worker.
//!
//! A reader polls the same URL again and again, and before its feed can
//! be looked up the URL is parsed, its query checked and canonicalized,
//! its base URL and cache key built: measured with callgrind, a third of
//! the instructions of a 304. That work depends only on the URL, the
//! `Host` it was asked under and the topic set, so its outcome is kept
//! here, per worker thread (no lock, no sharing), for public feeds whose
//! URL is canonical; a poll of such a URL goes straight to the rate limit
//! and the feed cache. A private feed is never kept: its key is checked
//! on every request.
//!
//! With the URL, each entry keeps the validators of the version it last
//! served ([`Hot`]) and its 304 and 200 headers, copied for this worker: a
//! poll whose copy is current is answered from them without the feed
//! cache (a lock every worker takes) or a count the other workers share
//! (the entry's, its header values'): on two cores each such shared count
//! moved a cache line between them on every poll. (A client the poll
//! limit applies to still has its own entry in the limiter's table.)

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use http::HeaderMap;

use super::cache::{Entry, not_modified_headers};
use super::conditional::Coding;
use super::query::FeedRequest;

/// URLs one worker remembers; past this the memo starts over, so a flood
/// of one-off URLs costs their parsing, as before, and bounded memory:
/// an entry with its headers is a few KB at most.
const MAX_ENTRIES: usize = 1024;

/// A canonical public feed URL, worked out.
pub(super) struct Resolved {
    pub fr: FeedRequest,
    /// The absolute base URL its links use.
    pub base: String,
    /// Its key in the render cache.
    pub key: String,
    /// Its subscriber-count series (a canonical topic feed), if any.
    pub series: Option<String>,
    /// What it was worked out from.
    path_and_query: Box<str>,
    host: Box<[u8]>,
    topics: u64,
    /// The version last served, if any. A mutex only to keep `Resolved`
    /// shareable: one worker's requests take it, one at a time.
    hot: Mutex<Option<Hot>>,
}

/// A feed version's validators, as of a store generation, with this
/// worker's own copies of its 304 and 200 headers per coding.
struct Hot {
    generation: u64,
    etag: Box<str>,
    last_modified: Option<DateTime<Utc>>,
    ttl_minutes: u32,
    headers: [Option<HeaderMap>; 4],
    ok: [Option<HeaderMap>; 4],
}

impl Resolved {
    pub fn new(
        fr: FeedRequest,
        base: String,
        key: String,
        series: Option<String>,
        path_and_query: &str,
        host: &[u8],
        topics: u64,
    ) -> Resolved {
        Resolved {
            fr,
            base,
            key,
            series,
            path_and_query: path_and_query.into(),
            host: host.into(),
            topics,
            hot: Mutex::new(None),
        }
    }

    /// Remembers `entry` as the version served at store `generation`.
    pub fn remember(&self, generation: u64, entry: &Entry) {
        let r = &entry.rendered;
        if let Ok(mut hot) = self.hot.lock() {
            if hot
                .as_ref()
                .is_some_and(|h| h.generation == generation && *h.etag == *r.etag)
            {
                return;
            }
            *hot = Some(Hot {
                generation,
                etag: r.etag.as_str().into(),
                last_modified: r.last_modified,
                ttl_minutes: entry.ttl_minutes,
                headers: Default::default(),
                ok: Default::default(),
            });
        }
    }

    /// The headers of a 304 in `coding` when the client's validators
    /// (`request`) match the version remembered at store `generation`;
    /// `None` when they do not, or nothing is remembered for it.
    pub fn not_modified(
        &self,
        generation: u64,
        request: &HeaderMap,
        coding: Coding,
    ) -> Option<HeaderMap> {
        let mut hot = self.hot.lock().ok()?;
        let hot = hot.as_mut().filter(|h| h.generation == generation)?;
        if !super::conditional::not_modified(request, &hot.etag, hot.last_modified) {
            return None;
        }
        let (etag, ttl) = (&hot.etag, hot.ttl_minutes);
        Some(
            hot.headers[coding as usize]
                .get_or_insert_with(|| not_modified_headers(etag, coding, ttl))
                .clone(),
        )
    }

    /// The max-age, in minutes, of the version last served, if any: the
    /// poll limit's hint, without the feed cache.
    pub fn ttl_minutes(&self) -> Option<u32> {
        let hot = self.hot.lock().ok()?;
        hot.as_ref().map(|h| h.ttl_minutes)
    }

    /// The headers of a 200 of `entry` in `coding`: this worker's copy
    /// when `entry` is the version remembered at `generation`.
    pub fn ok_headers(&self, generation: u64, entry: &Entry, coding: Coding) -> HeaderMap {
        let shared = entry.ok_headers(coding);
        let Ok(mut hot) = self.hot.lock() else {
            return shared.clone();
        };
        match hot
            .as_mut()
            .filter(|h| h.generation == generation && *h.etag == *entry.rendered.etag)
        {
            Some(h) => h.ok[coding as usize]
                .get_or_insert_with(|| own_copy(shared))
                .clone(),
            None => shared.clone(),
        }
    }
}

/// `headers` with values of their own: cloning the copy counts on
/// buffers only this worker touches.
fn own_copy(headers: &HeaderMap) -> HeaderMap {
    let mut copy = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let mut own =
            http::HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
        own.set_sensitive(value.is_sensitive());
        copy.append(name.clone(), own);
    }
    copy
}

thread_local! {
    static MEMO: RefCell<HashMap<u64, Arc<Resolved>>> = RefCell::new(HashMap::new());
}

fn hash(path_and_query: &str, host: &[u8]) -> u64 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(path_and_query.as_bytes());
    h.write_u8(0xff);
    h.write(host);
    h.finish()
}

/// The URL `path_and_query` asked under `host` (the `Host` header's bytes)
/// as worked out under topic set `topics`, if this worker has seen it.
pub(super) fn get(path_and_query: &str, host: &[u8], topics: u64) -> Option<Arc<Resolved>> {
    MEMO.with(|m| {
        let m = m.borrow();
        let r = m.get(&hash(path_and_query, host))?;
        (r.topics == topics && *r.path_and_query == *path_and_query && *r.host == *host)
            .then(|| r.clone())
    })
}

pub(super) fn put(resolved: Resolved) {
    let h = hash(&resolved.path_and_query, &resolved.host);
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(h, Arc::new(resolved));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Format;

    fn resolved(pq: &str, host: &str, topics: u64) -> Resolved {
        let fr = super::super::query::parse("all", Format::Atom, None, &|_| true).unwrap();
        Resolved::new(
            fr,
            "http://h".into(),
            format!("key-{pq}"),
            None,
            pq,
            host.as_bytes(),
            topics,
        )
    }

    #[test]
    fn found_only_for_the_same_url_host_and_topic_set() {
        put(resolved("/feeds/all.atom", "a:1", 7));
        let hit = get("/feeds/all.atom", b"a:1", 7).expect("remembered");
        assert_eq!(hit.key, "key-/feeds/all.atom");
        assert!(get("/feeds/all.atom", b"b:1", 7).is_none(), "another Host");
        assert!(
            get("/feeds/all.atom", b"a:1", 8).is_none(),
            "topics reloaded"
        );
        assert!(get("/feeds/all.rss", b"a:1", 7).is_none());
    }

    #[test]
    fn bounded() {
        for i in 0..MAX_ENTRIES + 10 {
            put(resolved(&format!("/feeds/all.atom?limit={i}"), "a:1", 1));
        }
        MEMO.with(|m| assert!(m.borrow().len() <= MAX_ENTRIES));
    }
}
