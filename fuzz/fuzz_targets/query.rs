//! The HTTP feed query parser (`/feeds/{topic}.{ext}?...`): never panics,
//! and a parsed request's canonical query string parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicfeed::http::query;
use topicfeed::render::Format;

mod common;

const TOPICS: &[&str] = &["world", "science", "sport", "politics", "tech"];

fn known(t: &str) -> bool {
    TOPICS.contains(&t)
}

fuzz_target!(|data: &[u8]| {
    let Ok(qs) = std::str::from_utf8(data) else {
        return;
    };
    common::timed(|| {
        let Ok(req) = query::parse("world", Format::Rss, Some(qs), &known) else {
            return;
        };
        let _ = req.cache_key();
        let again = query::parse("world", Format::Rss, Some(&req.canonical), &known)
            .unwrap_or_else(|e| panic!("canonical {:?} does not parse: {e}", req.canonical));
        assert_eq!(
            again.canonical, req.canonical,
            "canonical is not a fixed point"
        );
        let mut q = again.query;
        q.cursor = req.query.cursor.clone();
        assert_eq!(q, req.query, "canonical lost part of the query");
    });
});
