//! Every ingest format: the first byte picks the format hint (none, text,
//! HTML, JSON, Markdown, feed) and whether a base URL is given; the rest
//! is the document. `ingest::read` must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use topicfeed::ingest::{self, Format, Input};

mod common;

const HINTS: [Option<Format>; 6] = [
    None,
    Some(Format::Text),
    Some(Format::Html),
    Some(Format::Json),
    Some(Format::Markdown),
    Some(Format::Feed),
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let hint = HINTS[usize::from(first) % HINTS.len()];
    let url = (first & 0x80 != 0).then_some("https://example.com/news/story.html");
    let input = Input::new(bytes).with_hint(hint).with_url(url);
    common::timed(|| {
        if let Ok(ingest::Document::Article(a)) = ingest::read(input) {
            // Every article has a title and an id (assemble's contract).
            assert!(!a.title.trim().is_empty(), "article without a title");
        }
    });
});
