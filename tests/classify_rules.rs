//! Rule semantics of topic files, as a table: each row is a topic file, an
//! article, and whether the article must land in the topic.

use std::path::Path;

use topicfeed::classify::{Classifier, Miss, config::parse_topic};

struct Case {
    what: &'static str,
    topic: &'static str,
    title: &'static str,
    body: &'static str,
    site: Option<&'static str>,
    url: Option<&'static str>,
    expect: bool,
}

const fn case(
    what: &'static str,
    topic: &'static str,
    title: &'static str,
    body: &'static str,
    expect: bool,
) -> Case {
    Case {
        what,
        topic,
        title,
        body,
        site: None,
        url: None,
        expect,
    }
}

const CASES: &[Case] = &[
    case(
        "whole word",
        r#"any = ["Gaza"]"#,
        "",
        "Aid reached Gaza on Monday.",
        true,
    ),
    case(
        "not inside a word",
        r#"any = ["bus"]"#,
        "",
        "The omnibus bill passed.",
        false,
    ),
    case(
        "acronym only in capitals",
        r#"any = ["US"]"#,
        "",
        "She told us the focus was on the bus.",
        false,
    ),
    case(
        "acronym in capitals matches",
        r#"any = ["US"]"#,
        "",
        "The US said talks would resume.",
        true,
    ),
    case(
        "acronym inside hyphenated word",
        r#"any = ["US"]"#,
        "",
        "US-bound flights were delayed.",
        true,
    ),
    case(
        "dotted acronym",
        r#"any = ["U.S."]"#,
        "",
        "The U.S. Senate voted.",
        true,
    ),
    case(
        "lower-case term is case-insensitive",
        r#"any = ["gaza"]"#,
        "",
        "GAZA CITY was quiet.",
        true,
    ),
    case(
        "possessive",
        r#"any = ["Gaza"]"#,
        "",
        "Gaza's hospitals are full.",
        true,
    ),
    case(
        "curly possessive",
        r#"any = ["Gaza"]"#,
        "",
        "Gaza’s hospitals are full.",
        true,
    ),
    case(
        "plural s",
        r#"any = ["election"]"#,
        "",
        "Two elections were held.",
        true,
    ),
    case(
        "plural es",
        r#"any = ["tax"]"#,
        "",
        "New taxes were announced.",
        true,
    ),
    case(
        "plural ies",
        r#"any = ["economy"]"#,
        "",
        "Emerging economies slowed.",
        true,
    ),
    case(
        "no stem beyond plurals",
        r#"any = ["election"]"#,
        "",
        "The electoral roll was updated.",
        false,
    ),
    case(
        "phrase",
        r#"any = ["West Bank"]"#,
        "",
        "Settlers in the West Bank clashed.",
        true,
    ),
    case(
        "phrase across punctuation",
        r#"any = ["middle east"]"#,
        "",
        "Middle-East peace talks resumed.",
        true,
    ),
    case(
        "phrase words apart do not match",
        r#"any = ["West Bank"]"#,
        "",
        "The bank in the west closed.",
        false,
    ),
    case(
        "Unicode case folding",
        r#"any = ["Élysée"]"#,
        "",
        "L'ÉLYSÉE a confirmé.",
        true,
    ),
    case(
        "Unicode whole word",
        r#"any = ["mer"]"#,
        "",
        "La merveille de Paris.",
        false,
    ),
    case(
        "none excludes",
        "any = [\"race\"]\nnone = [\"election\"]",
        "",
        "The race for the election tightened.",
        false,
    ),
    case(
        "none absent",
        "any = [\"race\"]\nnone = [\"election\"]",
        "",
        "The race was won by a nose.",
        true,
    ),
    case(
        "all must all appear",
        r#"all = ["Israel", "Iran"]"#,
        "",
        "Israel struck Iran overnight.",
        true,
    ),
    case(
        "all missing one",
        r#"all = ["Israel", "Iran"]"#,
        "",
        "Israel held elections.",
        false,
    ),
    case(
        "all and any together",
        "all = [\"court\"]\nany = [\"climate\"]",
        "",
        "The court heard the climate case.",
        true,
    ),
    case(
        "all satisfied but no any",
        "all = [\"court\"]\nany = [\"climate\"]",
        "",
        "The court heard the tax case.",
        false,
    ),
    case(
        "min_hits not reached in body",
        "any = [\"match\"]\nmin_hits = 2",
        "",
        "The match ended.",
        false,
    ),
    case(
        "min_hits reached by two body hits",
        "any = [\"match\"]\nmin_hits = 2",
        "",
        "The match ended. A rematch? No, another match.",
        true,
    ),
    case(
        "a title hit counts more",
        "any = [\"match\"]\nmin_hits = 2",
        "Match ends in a draw",
        "Nothing else.",
        true,
    ),
    case(
        "title weight can be set",
        "any = [\"match\"]\nmin_hits = 2\ntitle_weight = 1",
        "Match ends",
        "Nothing else.",
        false,
    ),
    case(
        "fields title only",
        "any = [\"match\"]\nfields = [\"title\"]",
        "Talks end",
        "The match ended.",
        false,
    ),
    case(
        "fields body only",
        "any = [\"match\"]\nfields = [\"body\"]",
        "Match report",
        "Nothing here.",
        false,
    ),
];

fn topic_file(rules: &str) -> String {
    format!("title = \"T\"\n{rules}\n")
}

#[test]
fn rule_semantics_table() {
    let mut failures = Vec::new();
    for c in CASES {
        let topic = parse_topic(Path::new("feeds/t.toml"), &topic_file(c.topic))
            .unwrap_or_else(|e| panic!("{}: bad topic: {e:?}", c.what));
        let classifier = Classifier::new(vec![topic]);
        let got = !classifier
            .classify_text(c.title, c.body, c.site, c.url)
            .matched
            .is_empty();
        if got != c.expect {
            failures.push(format!("{}: expected {}, got {}", c.what, c.expect, got));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn sources_restrict_by_site_or_host() {
    let topic = parse_topic(
        Path::new("feeds/t.toml"),
        &topic_file("any = [\"port\"]\nsources = [\"Daily Ledger\", \"example.org\"]"),
    )
    .expect("topic");
    let c = Classifier::new(vec![topic]);
    let body = "The port closed.";
    assert!(
        !c.classify_text("", body, Some("daily ledger"), None)
            .matched
            .is_empty()
    );
    assert!(
        !c.classify_text("", body, None, Some("https://www.example.org/a"))
            .matched
            .is_empty()
    );
    let other = c.classify_text("", body, Some("Other Paper"), Some("https://example.net/a"));
    assert!(other.matched.is_empty());
    assert!(matches!(
        other.near[0].miss,
        Some(Miss::NotFromSource { .. })
    ));
}

#[test]
fn near_misses_say_why() {
    let topic = parse_topic(
        Path::new("feeds/sports.toml"),
        &topic_file("any = [\"race\", \"match\"]\nnone = [\"election\"]\nmin_hits = 2"),
    )
    .expect("topic");
    let c = Classifier::new(vec![topic]);
    let r = c.classify_text("", "The race for the election tightened.", None, None);
    assert!(r.matched.is_empty());
    assert!(
        r.near[0]
            .miss
            .as_ref()
            .is_some_and(|m| m.to_string().contains("excluded by `none`"))
    );
    let r = c.classify_text("", "The race was close.", None, None);
    assert!(
        r.near[0]
            .miss
            .as_ref()
            .is_some_and(|m| m.to_string().contains("below min_hits 2"))
    );
}

#[test]
fn one_automaton_many_topics() {
    // Topics sharing a term each get their hit.
    let a = parse_topic(Path::new("feeds/a.toml"), &topic_file("any = [\"Gaza\"]")).expect("a");
    let b = parse_topic(
        Path::new("feeds/b.toml"),
        &topic_file("any = [\"gaza\", \"ceasefire\"]"),
    )
    .expect("b");
    let c = Classifier::new(vec![a, b]);
    let r = c.classify_text("Gaza ceasefire holds", "", None, None);
    assert_eq!(r.slugs(), vec!["a", "b"]);
    assert_eq!(r.matched[1].score, 6);
}
