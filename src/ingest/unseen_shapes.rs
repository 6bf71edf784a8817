//! Page shapes first met in blind rounds of the quality corpus, each cut
//! down to the lines that matter: bylines, dates, sites and lead clutter
//! the rules had not seen when the round was written.

use super::Draft;
use super::boilerplate::Boilerplate;
use super::dates::{is_relative_date, parse_date};
use super::text::parse;
use crate::model::BlockKind;

const BODY: &str = "Dock workers walked out again on Monday, the union said in a statement, after talks over night-shift pay broke down for the third time this month.\n\nThe port authority said it would keep the container terminal open with managers and agency staff until the dispute was settled, and asked shippers for patience.\n";

fn run(top: &str) -> Draft {
    parse(&format!("{top}\n\n{BODY}"), Boilerplate::builtin()).expect("article")
}

fn paragraphs(d: &Draft) -> Vec<&str> {
    d.blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Paragraph)
        .map(|b| b.text.as_str())
        .collect()
}

#[test]
fn a_relative_date_still_marks_where_the_byline_stands() {
    let rules = Boilerplate::builtin();
    assert!(is_relative_date("3 hours ago", rules));
    assert!(is_relative_date(
        "First published 3 hours ago · Updated 47 minutes ago",
        rules
    ));
    assert!(!is_relative_date(
        "Three hours ago the harbour was calm.",
        rules
    ));
    let d = run(
        "Harbour strike enters second week | Daily Ledger\n\nHarbour strike enters second week\n\nPublished 3 hours ago\nDylan Kowalchuk, Staff Reporter",
    );
    assert_eq!(d.authors, ["Dylan Kowalchuk"]);
    assert_eq!(d.published, None);
    let d = run(
        "Harbour strike enters second week | Daily Ledger\n\nHarbour strike enters second week\n\nKila Mondo | kila.mondo@ledger.example\n3 hours ago",
    );
    assert_eq!(d.authors, ["Kila Mondo"]);
    assert!(!paragraphs(&d).iter().any(|p| p.contains("ago")));
}

#[test]
fn bylines_in_shapes_without_by() {
    let top =
        "Harbour strike enters second week | Daily Ledger\n\nHarbour strike enters second week\n\n";
    let date = "\nThursday, 22nd February 2024, 6:00 am";
    for (byline, names) in [
        ("Crime reporter Amy Thorncroft", &["Amy Thorncroft"][..]),
        ("Sofia Lindqvist in Älvby", &["Sofia Lindqvist"]),
        (
            "Ana Rita Louro e Duarte Peixoto",
            &["Ana Rita Louro", "Duarte Peixoto"],
        ),
        (
            "Gretchen Alvord-Kim\nCongressional correspondent\nDarnell Whitcomb\nPolitics reporter\n",
            &["Gretchen Alvord-Kim", "Darnell Whitcomb"],
        ),
    ] {
        let d = run(&format!("{top}{byline}{date}"));
        assert_eq!(d.authors, names, "{byline}");
    }
    // A text-size control and a desk above the date are nobody.
    for nobody in ["A+ A A-", "Redacción Crónica Pacífica"] {
        let d = run(&format!("{top}{nobody}{date}"));
        assert!(d.authors.is_empty(), "{nobody}: {:?}", d.authors);
    }
    let d = run(&format!(
        "{top}Written by Karim El Ouazzani, with Leila Bennis in Rabat{date}"
    ));
    assert_eq!(d.authors, ["Karim El Ouazzani", "Leila Bennis"]);
    let d = run(&format!("{top}By Tradewind News Staff{date}"));
    assert!(d.authors.is_empty(), "{:?}", d.authors);
    // A particle joined to the name, and the wire service after it.
    let d = run(&format!("{top}By Haider al-Mousawi, Tigris Wire{date}"));
    assert_eq!(d.authors, ["Haider al-Mousawi"]);
    // Each name with its own place.
    let d = run(&format!(
        "{top}Akiko Morimoto in Kumamoto and Jared Okafor in Tokyo{date}"
    ));
    assert_eq!(d.authors, ["Akiko Morimoto", "Jared Okafor"]);
}

#[test]
fn zone_names_and_stated_offsets() {
    let rules = Boilerplate::builtin();
    let ist = parse_date("December 19, 2023 19:02 IST", rules).expect("date");
    assert_eq!(ist.to_rfc3339(), "2023-12-19T13:32:00+00:00");
    // An offset in figures beside the name settles it: Irish summer time.
    let irish = parse_date("Sat 11 Oct 2025 at 10:42 IST (GMT+1)", rules).expect("date");
    assert_eq!(irish.to_rfc3339(), "2025-10-11T09:42:00+00:00");
}

#[test]
fn sites_behind_banners_meters_and_mastheads() {
    for (title_line, site) in [
        (
            "We use cookies to personalise content and analyse traffic. Accept all Manage settings The Daugava Herald | Harbour strike enters second week",
            "The Daugava Herald",
        ),
        (
            "We value your privacy. We and our partners use cookies. Accept | Reject | Manage options Daily Ledger | Harbour strike enters second week",
            "Daily Ledger",
        ),
        (
            "You have 2 free articles left this month The American Pulse - Harbour strike enters second week",
            "The American Pulse",
        ),
        (
            "Advertisement The Sepik Mail | Harbour strike enters second week",
            "The Sepik Mail",
        ),
        (
            "Gazeta do Tejo: Harbour strike enters second week, union says…",
            "Gazeta do Tejo",
        ),
    ] {
        let d = run(&format!(
            "{title_line}\n\nHarbour strike enters second week, union says as talks fail"
        ));
        assert_eq!(d.site.as_deref(), Some(site), "{title_line}");
    }
    // A masthead in capitals before its section and town, named in mixed
    // case in the footer.
    let d = parse(
        &format!("Harbour strike enters second week\n\nNEUE PRATERPOST · Motor · Wien\n\nHarbour strike enters second week\n\n{BODY}\n© 2024 Neue Praterpost\n"),
        Boilerplate::builtin(),
    )
    .expect("article");
    assert_eq!(d.site.as_deref(), Some("Neue Praterpost"));
}

#[test]
fn lead_clutter_the_tables_had_not_seen() {
    let d = run(
        "Kenya stun Fiji | Nairobi Evening Mirror\n\nRugby\n\nKenya stun Fiji\n\nOtieno Mwangi | @OtienoOnRugby\nSun 18 Feb 2024 17:30 GMT\n\n— Story continues below —\n\nAmpliar imagen\n\nContinue reading below ↓",
    );
    let paras = paragraphs(&d);
    assert!(
        !paras.iter().any(|p| p.contains("Rugby")
            || p.contains("continues")
            || p.contains("Ampliar")
            || p.contains("Continue")),
        "{paras:?}"
    );
    assert_eq!(d.authors, ["Otieno Mwangi"]);
}
