//! The upstream feed reader (RSS 0.9x/1.0/2.0, Atom, JSON Feed, with its
//! repairs and salvage reader) on arbitrary bytes: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicfeed::ingest::{Boilerplate, feed};

mod common;

fuzz_target!(|data: &[u8]| {
    common::timed(|| {
        let _ = feed::parse_feed_with(
            data,
            Some("https://example.com/feeds/world.xml"),
            None,
            Boilerplate::builtin(),
        );
    });
});
