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

/// A short line above the byline was dropped as a section kicker on the
/// way in but kept when it came back without a byline (found by the
/// property above).
#[test]
fn a_kicker_above_the_byline_round_trips() {
    let text = "&amp; &#8217; &#xFFFF; &#0; &bogus;\n8Previous articleSomething else\n8Previous articleSomething else\n :a\nQuantcast Site - Headline\nQuantcast Site - Headline\na a A A .\nBy Jane Roe, Staff Writer\n&amp; &#8217; &#xFFFF; &#0; &bogus;\n&amp; &#8217; &#xFFFF; &#0; &bogus;";
    let first = ingest::normalize(Input::new(text.as_bytes())).expect("article");
    let (a, b) = round_trip(&first);
    assert_eq!(a, b);
}

#[test]
fn fixtures_are_idempotent_too() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quality");
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "txt") || !crate::support::is_fixture_scrape(&path)
        {
            continue;
        }
        let first =
            ingest::normalize(Input::new(&std::fs::read(&path).expect("read"))).expect("article");
        let (a, b) = round_trip(&first);
        assert_eq!(a, b, "{}", path.display());
    }
}

/// A page's body as a tree of inline and block tags around words. Only
/// shapes the HTML parser keeps as written: a paragraph or heading holds
/// inline content (a `<p>` or `<h2>` inside one would close it, and the
/// browser then shows what the parser made), list items sit in lists.
#[derive(Debug, Clone)]
enum Tree {
    Word,
    Space,
    /// `<br>` or `<hr>`.
    Break(&'static str),
    Inline(&'static str, Vec<Tree>),
    /// A paragraph-like block of inline content.
    Para(&'static str, Vec<Tree>),
    /// A block that holds anything.
    Block(&'static str, Vec<Tree>),
    /// The items of a `<ul>`.
    List(Vec<Vec<Tree>>),
    /// Rows of cells, each cell a list of trees.
    Table(Vec<Vec<Vec<Tree>>>),
}

const INLINE_TAGS: &[&str] = &[
    "b", "i", "em", "strong", "a", "span", "small", "code", "mark", "sub", "abbr", "q", "time",
];
const PARA_TAGS: &[&str] = &["p", "h2", "h3", "pre"];
const BLOCK_TAGS: &[&str] = &[
    "div",
    "section",
    "article",
    "blockquote",
    "main",
    "address",
    "details",
    "dl",
];

fn leaf() -> impl Strategy<Value = Tree> {
    prop_oneof![
        6 => Just(Tree::Word),
        2 => Just(Tree::Space),
        1 => prop::sample::select(vec!["<br>", "<hr>"]).prop_map(Tree::Break),
    ]
}

fn inline_tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        (
            prop::sample::select(INLINE_TAGS),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(t, k)| Tree::Inline(t, k))
    })
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(4, 64, 5, |inner| {
        let kids = prop::collection::vec(inner, 0..5);
        prop_oneof![
            3 => (prop::sample::select(INLINE_TAGS), kids.clone())
                .prop_map(|(t, k)| Tree::Inline(t, k)),
            3 => (prop::sample::select(PARA_TAGS), prop::collection::vec(inline_tree(), 0..5))
                .prop_map(|(t, k)| Tree::Para(t, k)),
            3 => (prop::sample::select(BLOCK_TAGS), kids.clone())
                .prop_map(|(t, k)| Tree::Block(t, k)),
            1 => prop::collection::vec(kids.clone(), 1..4).prop_map(Tree::List),
            1 => prop::collection::vec(prop::collection::vec(kids, 1..4), 1..3)
                .prop_map(Tree::Table),
        ]
    })
}

/// The HTML of a tree, and for each word (`w{n}x`, numbered in document
/// order) the stretch of text between two block edges or breaks it sits in:
/// a browser shows words of different stretches apart.
#[derive(Default)]
struct Rendered {
    html: String,
    stretch_of_word: Vec<usize>,
    stretch: usize,
}

impl Rendered {
    fn block(&mut self, open: &str, close: &str, kids: &[Tree]) {
        self.stretch += 1;
        self.html.push_str(open);
        kids.iter().for_each(|k| self.render(k));
        self.html.push_str(close);
        self.stretch += 1;
    }

    fn render(&mut self, tree: &Tree) {
        match tree {
            Tree::Word => {
                let n = self.stretch_of_word.len();
                self.stretch_of_word.push(self.stretch);
                self.html.push_str(&format!("w{n}x"));
            }
            Tree::Space => self.html.push(' '),
            Tree::Break(tag) => {
                self.stretch += 1;
                self.html.push_str(tag);
                self.stretch += 1;
            }
            Tree::Inline(tag, kids) => {
                self.html.push_str(&format!("<{tag}>"));
                kids.iter().for_each(|k| self.render(k));
                self.html.push_str(&format!("</{tag}>"));
            }
            Tree::Para(tag, kids) | Tree::Block(tag, kids) => {
                self.block(&format!("<{tag}>"), &format!("</{tag}>"), kids)
            }
            Tree::List(items) => {
                self.stretch += 1;
                self.html.push_str("<ul>");
                items.iter().for_each(|i| self.block("<li>", "</li>", i));
                self.html.push_str("</ul>");
                self.stretch += 1;
            }
            Tree::Table(rows) => {
                self.stretch += 1;
                self.html.push_str("<table>");
                for row in rows {
                    self.html.push_str("<tr>");
                    for cell in row {
                        self.block("<td>", "</td>", cell);
                    }
                    self.html.push_str("</tr>");
                }
                self.html.push_str("</table>");
                self.stretch += 1;
            }
        }
    }
}

static WORD: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"w(\d+)x").expect("word pattern"));

proptest! {
    #![proptest_config(crate::support::proptest_config(256))]

    /// Whatever the nesting, words a browser would show apart (different
    /// blocks, cells, either side of a `<br>`) are apart in the article
    /// text, and every word is there exactly once.
    #[test]
    fn words_of_different_blocks_are_never_glued(trees in prop::collection::vec(tree(), 1..6)) {
        let mut page = Rendered::default();
        trees.iter().for_each(|t| page.render(t));
        let rules = ingest::Boilerplate::builtin();
        let blocks = ingest::html::parse_fragment(&page.html, None, rules).blocks;
        let text: Vec<&str> = blocks.iter().map(|b| b.text.as_str()).collect();
        let mut seen = vec![0; page.stretch_of_word.len()];
        for token in text.iter().flat_map(|t| t.split_whitespace()) {
            let words: Vec<usize> = WORD
                .captures_iter(token)
                .filter_map(|c| c[1].parse().ok())
                .collect();
            for &w in &words {
                prop_assert!(w < seen.len(), "unknown word in {token:?}");
                seen[w] += 1;
            }
            let stretches: Vec<usize> = words.iter().map(|&w| page.stretch_of_word[w]).collect();
            prop_assert!(
                stretches.windows(2).all(|s| s[0] == s[1]),
                "{token:?} glues words a browser shows apart\nhtml: {}\ntext: {text:?}",
                page.html
            );
        }
        prop_assert!(
            seen.iter().all(|&n| n == 1),
            "words lost or repeated ({seen:?})\nhtml: {}\ntext: {text:?}",
            page.html
        );
    }
}
