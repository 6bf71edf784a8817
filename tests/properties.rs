//! Property tests: no input makes ingest or classify panic, and
//! normalizing is stable on its own output.

use std::path::PathBuf;
use std::sync::LazyLock;

use proptest::prelude::*;
use topicfeed::classify::Classifier;
use topicfeed::ingest::{self, Format, Input};

static CLASSIFIER: LazyLock<Classifier> = LazyLock::new(|| {
    Classifier::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("feeds")).expect("feeds load")
});

/// Lines that look like the pieces of a scrape, junk included.
fn scrape_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-zÀ-ÿ’'\" ,.;:!?()&#0-9-]{0,120}",
        Just("Advertisement".to_string()),
        Just("Share this: Facebook Twitter WhatsApp Email".to_string()),
        Just("Related Articles".to_string()),
        Just("8Previous articleSomething else".to_string()),
        Just("By Jane Roe, Staff Writer".to_string()),
        Just("Published May 17, 2017 at 3:04 pm".to_string()),
        Just("Quantcast Site - Headline".to_string()),
        Just("• a list item".to_string()),
        Just("&amp; &#8217; &#xFFFF; &#0; &bogus;".to_string()),
        Just(String::new()),
    ]
}

fn scrape() -> impl Strategy<Value = String> {
    prop::collection::vec(scrape_line(), 0..40).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(crate::support::proptest_config(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = ingest::normalize(Input::new(&bytes));
    }

    #[test]
    fn arbitrary_documents_of_every_format_never_panic(
        prefix in prop_oneof![
            Just(""), Just("{"), Just("{\"title\": "), Just("<!DOCTYPE html><html><body>"),
            Just("<p>"), Just("---\n"), Just("+++\n"), Just("<?xml version=\"1.0\"?><rss>"), Just("\u{feff}"),
        ],
        body in "(?s).{0,2000}",
        hint in prop_oneof![
            Just(None), Just(Some(Format::Markdown)), Just(Some(Format::Json)),
            Just(Some(Format::Html)), Just(Some(Format::Feed)), Just(Some(Format::Text)),
        ],
    ) {
        let doc = format!("{prefix}{body}");
        let _ = ingest::read(Input::new(doc.as_bytes()).with_hint(hint));
    }

    #[test]
    fn scrape_shaped_text_never_panics_and_output_is_xml_safe(text in scrape()) {
        if let Ok(a) = ingest::normalize(Input::new(text.as_bytes())) {
            let all = format!("{}{}{}{}", a.title, a.summary, a.content_text(), a.content_html);
            let bad = |c: char| (c < ' ' && !"\t\n\r".contains(c)) || c == '\u{fffe}' || c == '\u{ffff}';
            prop_assert!(!all.chars().any(bad), "XML-invalid character in output");
            prop_assert!(!a.blocks.iter().any(|b| b.text.trim().is_empty()));
            let _ = CLASSIFIER.classify(&a);
        }
    }

    /// Re-ingesting an article's own output (as a JSON article, the way
    /// another tool would send it back) keeps its paragraphs.
    #[test]
    fn normalizing_content_text_again_gives_the_same_paragraphs(text in scrape()) {
        let Ok(first) = ingest::normalize(Input::new(text.as_bytes())) else { return Ok(()) };
        let (a, b) = round_trip(&first);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn classify_never_panics(title in "(?s).{0,200}", body in "(?s).{0,3000}") {
        let _ = CLASSIFIER.classify_text(&title, &body, None, None);
    }
}

fn round_trip(first: &topicfeed::model::Article) -> (Vec<String>, Vec<String>) {
    let again =
        serde_json::json!({"title": first.title, "content": first.content_text()}).to_string();
    let second =
        ingest::normalize(Input::new(again.as_bytes())).expect("normalized output normalizes");
    let texts = |a: &topicfeed::model::Article| a.blocks.iter().map(|b| b.text.clone()).collect();
    (texts(first), texts(&second))
}

#[test]
fn fixtures_are_idempotent_too() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quality");
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let first =
            ingest::normalize(Input::new(&std::fs::read(&path).expect("read"))).expect("article");
        let (a, b) = round_trip(&first);
        assert_eq!(a, b, "{}", path.display());
    }
}
