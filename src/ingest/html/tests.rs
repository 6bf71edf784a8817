//! HTML extraction: what a page's reader keeps and drops.

use super::*;

const PAGE: &str = r#"<!DOCTYPE html><html lang="en-GB"><head><title>Port strike enters second week | Daily Ledger</title>
<meta property="og:site_name" content="Daily Ledger">
<meta property="article:published_time" content="2024-05-17T15:04:00Z">
<meta name="author" content="Jane Roe">
</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<div class="cookie">We use cookies to improve your experience. Accept</div>
<article><h1>Port strike enters second week</h1>
<p>Dock workers in the northern port walked out again on Monday after talks over pay and safety rules collapsed, union leaders said.</p>
<p>Advertisement</p>
<figure><img src="/img/port.jpg"><figcaption>Workers at the gate. Photo: Ana Ruiz</figcaption></figure>
<h2>What they want</h2>
<p>The union wants higher pay for night shifts and new safety rules after an accident in March, and says it will not return without both.</p>
<ul><li>Higher pay for night shifts</li><li>New safety rules</li></ul>
<p>The operator said it was <a href="/talks">ready to talk</a> at any time and regretted the disruption to shipping lines and their customers.</p>
<script>track()</script>
</article><aside><h3>Related</h3><ul><li><a href="/x">Ferry fares rise</a></li></ul></aside>
<footer>© 2024 Daily Ledger. All rights reserved.</footer></body></html>"#;

#[test]
fn page_metadata_and_blocks() {
    let d = parse_page(
        PAGE,
        Some("https://example.org/news/port-strike"),
        Boilerplate::builtin(),
    )
    .unwrap();
    assert_eq!(d.title, "Port strike enters second week");
    assert_eq!(d.site.as_deref(), Some("Daily Ledger"));
    assert_eq!(d.authors, vec!["Jane Roe"]);
    assert_eq!(d.language.as_deref(), Some("en"));
    assert!(d.published.is_some());
    let text: Vec<_> = d.blocks.iter().map(|b| b.text.as_str()).collect();
    assert!(
        text.iter().any(|t| t.starts_with("Dock workers")),
        "{text:?}"
    );
    assert!(text.contains(&"What they want"), "{text:?}");
    assert!(text.contains(&"New safety rules"), "{text:?}");
    for junk in [
        "Advertisement",
        "cookies",
        "Ferry fares",
        "All rights reserved",
        "Photo: Ana",
    ] {
        assert!(
            !text.iter().any(|t| t.contains(junk)),
            "{junk} survived: {text:?}"
        );
    }
    let html = d.html.unwrap_or_default();
    assert!(
        !html.contains("<script") && !html.contains("track()"),
        "{html}"
    );
    assert!(!html.contains("Advertisement"), "{html}");
    assert!(
        html.contains(r#"href="https://example.org/talks""#),
        "{html}"
    );
}

/// The body text of a fragment, one block a line, and its HTML.
fn body(fragment: &str) -> (Vec<String>, String) {
    let e = parse_fragment(
        fragment,
        Some("https://example.org/a"),
        Boilerplate::builtin(),
    );
    (e.blocks.into_iter().map(|b| b.text).collect(), e.html)
}

fn joined(fragment: &str) -> String {
    body(fragment).0.join("\n")
}

#[test]
fn a_line_break_separates_words() {
    let text = joined(
        "<p>The dividend is payable to holders of record in MO<br>Aug. 30, the company said in a filing.</p>",
    );
    assert!(text.contains("MO Aug. 30"), "{text}");
    assert!(!text.contains("MOAug"), "{text}");
}

#[test]
fn table_cells_are_separate_words_and_rows_separate_lines() {
    let blocks = body(
        "<p>Shares of the tobacco makers moved in opposite directions on Friday.</p>\
         <table><thead><tr><th>Ticker</th><th>Security</th><th>Last</th><th>Change</th></tr></thead>\
         <tbody><tr><td>MO</td><td>Altria</td><td>45.10</td><td>+0.20</td></tr>\
         <tr><td>PM</td><td>Philip Morris</td><td>88.02</td><td>-1.15</td></tr></tbody></table>",
    )
    .0;
    assert!(
        blocks.contains(&"Ticker Security Last Change".to_owned()),
        "{blocks:?}"
    );
    assert!(
        blocks.contains(&"PM Philip Morris 88.02 -1.15".to_owned()),
        "{blocks:?}"
    );
    assert!(
        !blocks.iter().any(|b| b.contains("TickerSecurity")),
        "{blocks:?}"
    );
}

#[test]
fn inline_tags_join_without_a_space_and_keep_the_spaces_around_them() {
    let text = joined(
        "<p>It was un<b>believ</b>able, said the <a href=\"/coach\">coach</a><em> Ana Ruiz</em>.</p>\
         <div><a href=\"/p\">Paris</a> <a href=\"/l\">Lyon</a> and <span>Marseille</span> bid for the games.</div>",
    );
    assert!(text.contains("unbelievable"), "{text}");
    assert!(text.contains("the coach Ana Ruiz."), "{text}");
    assert!(text.contains("Paris Lyon and Marseille bid"), "{text}");
}

#[test]
fn paragraphs_inside_one_block_are_not_glued() {
    let text = joined(
        "<blockquote><p>We will not return.</p><p>Not without both.</p></blockquote>\
         <ul><li><p>Higher pay.</p><p>For night shifts.</p></li></ul>\
         <table><tr><td><p>The layout table holds the story.</p><p>Its second paragraph.</p></td></tr></table>",
    );
    assert!(
        text.contains("We will not return. Not without both."),
        "{text}"
    );
    assert!(text.contains("Higher pay.\nFor night shifts."), "{text}");
    assert!(
        text.contains("The layout table holds the story.\nIts second paragraph."),
        "{text}"
    );
}

#[test]
fn no_break_spaces_separate_but_do_not_pile_up() {
    let blocks = body(
        "<p>The route is 10&nbsp;km long and&nbsp;&nbsp;&nbsp;climbs steeply.</p>\
         <table><tr><td>&nbsp;</td><td>Stage&nbsp;1</td></tr></table>",
    )
    .0;
    assert!(
        blocks.contains(&"The route is 10 km long and climbs steeply.".to_owned()),
        "{blocks:?}"
    );
    assert!(blocks.contains(&"Stage 1".to_owned()), "{blocks:?}");
}

#[test]
fn hidden_elements_are_absent_from_text_and_html() {
    let (blocks, html) = body(
        r#"<p>The council approved the new bus routes on Tuesday after a long debate.</p>
<div hidden><p>Hidden attribute pop-up text.</p></div>
<div aria-hidden="true"><p>Aria hidden duplicate text.</p></div>
<div style="DISPLAY : None !important"><p>Inline display none text.</p></div>
<div style="color:red;visibility:hidden"><p>Inline visibility hidden text.</p></div>
<template><p>Template row text.</p></template>
<noscript><p>Please enable JavaScript text.</p></noscript>
<p>Read the <a href="/plan">full plan<span class="sr-only"> (opens in a new tab)</span></a> online.</p>
<div style="display:none; display:block"><p>Shown again by a later declaration.</p></div>
<div hidden="until-found"><p>Collapsed section text the reader can open.</p></div>"#,
    );
    let text = blocks.join("\n");
    for gone in [
        "Hidden attribute",
        "Aria hidden",
        "Inline display",
        "Inline visibility",
        "Template row",
        "enable JavaScript",
        "opens in a new tab",
    ] {
        assert!(!text.contains(gone), "{gone} in text: {text}");
        assert!(!html.contains(gone), "{gone} in html: {html}");
    }
    assert!(text.contains("Read the full plan online."), "{text}");
    assert!(text.contains("Shown again"), "{text}");
    assert!(text.contains("Collapsed section text"), "{text}");
}

#[test]
fn captions_and_credits_are_not_body_but_their_images_stay() {
    let (blocks, html) = body(
        r#"<p>Flood water reached the town square on Sunday night, residents said.</p>
<div class="wp-caption aligncenter"><img src="/sq.jpg" alt="square"><p class="wp-caption-text">The square under water on Sunday night.</p></div>
<p>Emergency crews worked through the night to pump water from the cellars of the old town.</p>
<p class="wp-caption-text">A stray WordPress caption line outside its box.</p>
<span class="photoCredit">Photograph: Ana Ruiz for the Daily Ledger</span>
<div id="image-caption-3">Sandbags stacked along the river wall at dawn.</div>
<figure><img src="/wall.jpg"><span>Text inside a figure beside its image.</span></figure>
<figure class="wp-block-table"><table><tr><td>Level</td><td>4.2 m</td></tr></table></figure>"#,
    );
    let text = blocks.join("\n");
    for gone in [
        "The square under water",
        "stray WordPress caption",
        "Photograph: Ana Ruiz",
        "Sandbags stacked",
        "Text inside a figure",
    ] {
        assert!(!text.contains(gone), "{gone} in text: {text}");
        assert!(!html.contains(gone), "{gone} in html: {html}");
    }
    assert!(text.contains("Emergency crews worked"), "{text}");
    assert!(text.contains("Level 4.2 m"), "{text}");
    assert!(
        html.contains("/sq.jpg") && html.contains("/wall.jpg"),
        "{html}"
    );
}

#[test]
fn a_gallery_caption_appears_at_most_once() {
    let slide = |caption_class: &str| {
        format!(
            r#"<div class="slide"><img src="/s.jpg"><p{caption_class}>Fans gather outside the stadium before kick-off on Saturday.</p></div>"#
        )
    };
    let lead = "<p>The club opened its new stadium to a full house on Saturday afternoon.</p>";
    for caption_class in [r#" class="gallery-caption""#, ""] {
        let gallery: String = (0..6).map(|_| slide(caption_class)).collect();
        let text = joined(&format!("{lead}{gallery}"));
        assert!(text.contains("opened its new stadium"), "{text}");
        assert!(
            text.matches("Fans gather outside").count() <= 1,
            "{caption_class}: {text}"
        );
    }
}

#[test]
fn a_long_element_with_a_caption_class_is_still_the_article() {
    let para = "Council members spent the evening debating the cost of the new routes. ";
    let fragment = format!(
        r#"<div class="post has-caption"><p>{}</p><p>{}</p></div>"#,
        para.repeat(10),
        para.repeat(10)
    );
    let text = joined(&fragment);
    assert!(text.contains("Council members spent"), "{text}");
}

#[test]
fn a_hidden_pop_up_on_a_page_is_not_the_article() {
    let popup =
        "Subscribe to our premium tier and read unlimited stories every single day of the year. "
            .repeat(8);
    let page = format!(
        r#"<!DOCTYPE html><html lang="en"><head><title>Bridge reopens after repairs</title></head><body>
<div class="modal" style="display: none !important"><p>{popup}</p><p>{popup}</p></div>
<article><h1>Bridge reopens after repairs</h1>
<p>The old river bridge reopened to traffic on Monday after eight months of repairs to its steel frame and deck.</p>
<div class="wp-caption"><img src="/bridge.jpg"><p class="wp-caption-text">The bridge at dawn on Monday, seen from the east bank.</p></div>
<p>Engineers found corrosion in the frame last spring and closed the bridge to cars, though walkers could still cross it.</p>
<p>The city says the repairs cost less than planned and that the bridge should last another forty years.</p>
</article></body></html>"#
    );
    let d = parse_page(
        &page,
        Some("https://example.org/bridge"),
        Boilerplate::builtin(),
    )
    .unwrap();
    let text: Vec<_> = d.blocks.iter().map(|b| b.text.as_str()).collect();
    assert!(
        text.iter().any(|t| t.starts_with("The old river bridge")),
        "{text:?}"
    );
    assert!(!text.iter().any(|t| t.contains("premium tier")), "{text:?}");
    assert!(
        !text.iter().any(|t| t.contains("bridge at dawn")),
        "{text:?}"
    );
    let html = d.html.unwrap_or_default();
    assert!(
        !html.contains("premium tier") && !html.contains("bridge at dawn"),
        "{html}"
    );
}

#[test]
fn inline_styles_hide_with_any_spacing_case_and_priority() {
    let lead = "<p>The council approved the new bus routes on Tuesday after a long debate.</p>";
    for (style, hidden) in [
        ("display:none", true),
        ("DISPLAY : NONE", true),
        ("color: red; display: none !important", true),
        ("display:none!important", true),
        ("visibility:hidden", true),
        (" Visibility : Collapse ;", true),
        ("display:block; display:none", true),
        // An earlier `!important` wins over a later plain declaration.
        ("display:none !important; display:block", true),
        ("display:block !important; display:none", false),
        ("display:none; display:block", false),
        ("color: red", false),
        ("--display:none", false),
        ("visibility:visible", false),
    ] {
        let text = joined(&format!(
            r#"{lead}<div style="{style}"><p>Styled paragraph text.</p></div>"#
        ));
        assert_eq!(
            !text.contains("Styled paragraph"),
            hidden,
            "{style:?}: {text}"
        );
    }
}

#[test]
fn deeply_nested_inline_tags_still_give_their_text() {
    let depth = 5_000;
    let text = joined(&format!(
        "<p>The lead paragraph is here.</p><p>deep{}word{}</p>",
        "<span>".repeat(depth),
        "</span>".repeat(depth)
    ));
    assert!(text.contains("deepword"), "{text}");
}

/// Every shape `examples/bench_hostile.rs` times, smaller: it reads,
/// and the text inside the nesting survives the flattening.
#[test]
fn deep_nesting_keeps_the_text() {
    const TEXT: &str = "Dock workers walked out on Monday after talks over pay broke down.";
    let head = "<html><head><title>Port strike</title></head><body>";
    let nest = |open: &str, close: &str, n: usize| {
        format!("{head}{}<p>{TEXT}</p>{}", open.repeat(n), close.repeat(n))
    };
    let unclosed_b: String = (0..100).map(|i| format!("<b id={i}>")).collect();
    let paragraphs: String = (0..2_000).map(|i| format!("<p>{i} {TEXT}</p>")).collect();
    for (name, page) in [
        ("div", nest("<div>", "</div>", 20_000)),
        ("unclosed div", nest("<div>", "", 20_000)),
        (
            "table",
            nest("<table><tr><td>", "</td></tr></table>", 5_000),
        ),
        ("ul", nest("<ul><li>", "</li></ul>", 10_000)),
        ("blockquote", nest("<blockquote>", "</blockquote>", 10_000)),
        ("b", nest("<b>", "</b>", 20_000)),
        (
            "unclosed b",
            format!("{head}<div>{unclosed_b}</div>{paragraphs}"),
        ),
        (
            "towers",
            format!("{head}{}", nest("<div>", "</div>", 300).repeat(50)),
        ),
    ] {
        let d = parse_page(&page, None, Boilerplate::builtin())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.title, "Port strike", "{name}");
        assert!(
            d.blocks.iter().any(|b| b.text.contains(TEXT)),
            "{name}: {:?}",
            d.blocks.iter().take(3).collect::<Vec<_>>()
        );
    }
}
