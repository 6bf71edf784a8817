//! The readers on whole documents; the zoo fixtures are in
//! tests/fixtures/feeds/zoo/.

use super::*;

#[test]
fn encodings_decided_like_a_reader() {
    // Declared Latin-1, actually UTF-8.
    let (t, note) = crate::ingest::decode::decode_text(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>café</a>".as_bytes(),
        None,
    );
    assert!(t.contains("café") && note.is_some());
    // Declared UTF-8, actually Windows-1252.
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>caf".to_vec();
    bytes.extend([0xe9, b'<', b'/', b'a', b'>']);
    let (t, note) = crate::ingest::decode::decode_text(&bytes, None);
    assert!(t.contains("café") && note.is_some(), "{t}");
    // Declared and really Latin-1.
    let mut bytes = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>caf".to_vec();
    bytes.extend([0xe9, b'<', b'/', b'a', b'>']);
    let (t, note) = crate::ingest::decode::decode_text(&bytes, None);
    assert!(t.contains("café") && note.is_none(), "{t}");
}

#[test]
fn rss_item_to_draft() {
    let xml = r#"<?xml version="1.0"?>
<rss version="2.0"><channel><title>Harbour News</title><link>https://news.example/</link>
<ttl>45</ttl><language>en-gb</language>
<item><title>Port &amp; rail deal</title><link>/2024/port-rail?utm_source=rss</link>
<author>desk@news.example (Ana Lima)</author>
<pubDate>Tue, 05 Mar 2024 09:30:00 +0100</pubDate>
<description>&lt;p&gt;The port signed a rail deal.&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;p onclick="x()"&gt;Trains start in May. &lt;img src="/img/a.jpg"&gt;&lt;/p&gt;</description>
</item>
<item><description>No title here, only a line of text about the harbour.</description></item>
<item><pubDate>garbage</pubDate></item>
</channel></rss>"#;
    let doc = parse_feed(xml.as_bytes(), Some("https://news.example/feed.xml")).unwrap();
    assert_eq!(doc.kind, "RSS 2.0");
    assert_eq!(doc.title.as_deref(), Some("Harbour News"));
    assert_eq!(doc.ttl_minutes, Some(45));
    assert_eq!(doc.drafts.len(), 2);
    assert_eq!(doc.skipped.len(), 1);
    let d = &doc.drafts[0];
    assert_eq!(d.title, "Port & rail deal");
    assert_eq!(
        d.url.as_deref(),
        Some("https://news.example/2024/port-rail?utm_source=rss")
    );
    assert_eq!(d.authors, ["Ana Lima"]);
    assert_eq!(d.language.as_deref(), Some("en"));
    assert_eq!(
        d.published.map(|p| p.to_rfc3339()),
        Some("2024-03-05T08:30:00+00:00".into())
    );
    let html = d.html.as_deref().unwrap();
    assert!(
        !html.contains("script") && !html.contains("onclick"),
        "{html}"
    );
    assert!(
        html.contains("src=\"https://news.example/img/a.jpg\""),
        "{html}"
    );
    assert_eq!(d.blocks.len(), 2);
    assert!(doc.drafts[1].title.starts_with("No title here"));
}

#[test]
fn wrong_encoding_and_bare_ampersands_repaired() {
    let bytes = include_bytes!("../../../tests/fixtures/upstream/malformed-1252-amp.xml");
    let doc = parse_feed(bytes, None).unwrap();
    assert_eq!(
        doc.repairs,
        [
            "not valid UTF-8 as declared; decoded as Windows-1252",
            "escaped bare `&`, `<` and HTML entities"
        ]
    );
    assert_eq!(doc.title.as_deref(), Some("Café & Bistro Weekly"));
    assert_eq!(doc.drafts[0].title, "Fish & chips shop wins café award");
    assert_eq!(doc.drafts[0].published, None);
}

#[test]
fn lone_atom_entry_is_an_article() {
    let xml = r#"<entry xmlns="http://www.w3.org/2005/Atom"><title>One</title>
<link href="https://a.example/one"/><updated>2024-01-02T03:04:05Z</updated>
<content type="html">&lt;p&gt;Body text of the entry.&lt;/p&gt;</content></entry>"#;
    let d = parse_entry_document(xml, None, Boilerplate::builtin()).unwrap();
    assert_eq!(d.title, "One");
    assert_eq!(d.url.as_deref(), Some("https://a.example/one"));
    let feed = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>x</title></feed>";
    assert!(matches!(
        parse_entry_document(feed, None, Boilerplate::builtin()),
        Err(IngestError::Feed)
    ));
}

fn zoo(name: &str, url: &str) -> FeedDocument {
    let path = format!(
        "{}/tests/fixtures/feeds/zoo/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_feed(&bytes, Some(url)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn dates(doc: &FeedDocument) -> Vec<Option<String>> {
    doc.drafts
        .iter()
        .map(|d| d.published.map(|p| crate::model::rfc3339(&p)))
        .collect()
}

#[test]
fn zoo_bad_dates_cost_only_the_date() {
    let doc = zoo("bad-dates.xml", "https://dates.example/feed");
    assert_eq!(doc.reader, FeedReader::FeedRs);
    assert_eq!(doc.drafts.len(), 11, "{:?}", doc.skipped);
    let want = [
        None,
        None,
        None,
        None,
        Some("2024-03-05T14:30:00Z"),
        Some("2024-03-05T16:30:00Z"),
        Some("2024-03-05T09:30:00Z"),
        Some("2024-03-05T09:30:00Z"),
        Some("2024-03-05T09:30:00Z"),
        Some("2024-03-05T09:30:00Z"),
        Some("2024-03-05T14:30:00Z"),
    ];
    let want: Vec<Option<String>> = want.iter().map(|w| w.map(str::to_owned)).collect();
    assert_eq!(dates(&doc), want);
}

#[test]
fn zoo_bom_whitespace_and_html_entities_keep_items() {
    let doc = zoo("bom-entities.xml", "https://soup.example/feed");
    let titles: Vec<&str> = doc.drafts.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(
        titles,
        ["It\u{2019}s here\u{2026}", "Café \u{2014} news", "Plain"]
    );
    assert!(
        doc.drafts[0].blocks[0].text.contains("Half: ½"),
        "{:?}",
        doc.drafts[0].blocks
    );
    assert!(doc.drafts[2].blocks[0].text.contains("Fish & chips"));
    assert!(
        doc.repairs
            .contains(&"dropped blank text before the XML declaration")
    );
}

#[test]
fn zoo_json_feed_numeric_ids_coerced() {
    let doc = zoo("numeric-ids.json", "https://num.example/feed.json");
    assert_eq!(doc.kind, "JSON Feed");
    let urls: Vec<Option<&str>> = doc.drafts.iter().map(|d| d.url.as_deref()).collect();
    assert_eq!(
        urls,
        [
            Some("https://num.example/101"),
            Some("https://num.example/102"),
            Some("https://num.example/103")
        ]
    );
    assert_eq!(dates(&doc)[0].as_deref(), Some("2024-03-05T09:30:00Z"));
}

#[test]
fn zoo_atom_03_is_read() {
    let doc = zoo("atom03.xml", "https://feeds.example/old.xml");
    assert_eq!(doc.title.as_deref(), Some("Old Atom"));
    assert_eq!(doc.drafts.len(), 2, "{:?}", doc.skipped);
    let first = &doc.drafts[0];
    assert_eq!(first.title, "First old entry");
    assert_eq!(first.url.as_deref(), Some("https://old.example/2024/first"));
    assert_eq!(first.authors, ["Jo Bloggs"]);
    assert_eq!(
        first
            .published
            .map(|p| crate::model::rfc3339(&p))
            .as_deref(),
        Some("2024-03-05T09:30:00Z")
    );
    assert_eq!(
        first.updated.map(|p| crate::model::rfc3339(&p)).as_deref(),
        Some("2024-03-05T11:00:00Z")
    );
    assert!(first.blocks[0].text.contains("first entry of an old feed"));
    // Relative to the feed's alternate link, not the feed URL's host.
    assert_eq!(
        doc.drafts[1].url.as_deref(),
        Some("https://old.example/2024/second")
    );
    assert_eq!(doc.damage, None);
}

#[test]
fn zoo_truncated_feed_keeps_complete_items_and_reports_damage() {
    let doc = zoo("truncated.xml", "https://cut.example/feed");
    assert_eq!(doc.reader, FeedReader::Salvage);
    let titles: Vec<&str> = doc.drafts.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["Complete one", "Complete two"]);
    assert_eq!(doc.title.as_deref(), Some("Cut Short"));
    assert!(doc.damage.is_some());
}

#[test]
fn zoo_duplicate_guids_and_enclosure_only_items_kept() {
    let doc = zoo("dup-guids-podcast.xml", "https://pod.example/feed");
    let urls: Vec<Option<&str>> = doc.drafts.iter().map(|d| d.url.as_deref()).collect();
    assert_eq!(
        urls,
        [
            Some("https://pod.example/ep1"),
            Some("https://pod.example/ep2"),
            Some("https://cdn.pod.example/ep3.mp3"),
            Some("https://pod.example/episodes/4"),
        ]
    );
}

#[test]
fn zoo_relative_links_resolve_in_order() {
    let doc = zoo("relative-links.xml", "https://feeds.example/x/rel.xml");
    let urls: Vec<Option<&str>> = doc.drafts.iter().map(|d| d.url.as_deref()).collect();
    assert_eq!(
        urls,
        [
            Some("https://base.example/dir/post-a"),
            Some("https://site.example/blog/post-b"),
        ]
    );
    let doc = zoo("relative-nolink.xml", "https://feeds.example/x/rel.xml");
    assert_eq!(
        doc.drafts[0].url.as_deref(),
        Some("https://feeds.example/x/post-c")
    );
}

#[test]
fn salvage_reader_matches_feed_rs_on_a_clean_feed() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/feeds/zoo/bad-dates.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let salvaged = salvage::read(&text, None).unwrap();
    assert_eq!(salvaged.damage, None);
    assert_eq!(salvaged.feed.kind, "RSS 2.0");
    assert_eq!(salvaged.feed.entries.len(), 11);
    assert_eq!(
        salvaged.feed.entries[4].links[0].href,
        "https://dates.example/5"
    );
}

#[test]
fn rss_without_or_with_an_odd_version_is_salvaged() {
    for root in ["<rss>", "<rss version=\"0.9\">"] {
        let xml = format!(
            "{root}<channel><title>T</title><item><title>A</title>\
             <link>https://a.example/1</link></item></channel></rss>"
        );
        let doc = parse_feed(xml.as_bytes(), None).unwrap();
        assert_eq!(doc.drafts.len(), 1, "{root}");
        assert_eq!(doc.drafts[0].url.as_deref(), Some("https://a.example/1"));
    }
}

/// The ids `assemble` gives the drafts of a feed, in order.
fn ids_of(xml: &str, url: &str) -> Vec<String> {
    parse_feed(xml.as_bytes(), Some(url))
        .unwrap()
        .drafts
        .into_iter()
        .map(|d| crate::ingest::assemble(d).unwrap().id)
        .collect()
}

fn rss(items: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Quay Post</title>
<link>https://quay.example/</link>{items}</channel></rss>"#
    )
}

#[test]
fn guid_ids_survive_link_and_text_edits() {
    let first = rss(
        r#"<item><guid isPermaLink="false">post-17</guid><title>Ferry fares rise</title>
<link>http://quay.example/ferry</link><description>Fares rise in May.</description></item>
<item><title>Quay lights fixed</title><link>http://quay.example/lights/?utm_source=rss</link>
<description>The lights work again.</description></item>"#,
    );
    let later = rss(
        r#"<item><guid isPermaLink="false">post-17</guid><title>Ferry fares rise by a tenth</title>
<link>https://quay.example/ferry-fares</link><description>Fares rise in June, not May.</description></item>
<item><title>Quay lights fixed at last</title><link>https://quay.example/lights?fbclid=z#c</link>
<description>The lights work again, the council says.</description></item>"#,
    );
    let url = "https://quay.example/feed.xml";
    assert_eq!(ids_of(&first, url), ids_of(&later, url));
    // The feed is its guids' scope: another feed's post-17 is another item.
    assert_ne!(
        ids_of(&first, url)[0],
        ids_of(&first, "https://other.example/feed.xml")[0]
    );
    // A guid-less item is its link: the scope does not matter.
    assert_eq!(
        ids_of(&first, url)[1],
        ids_of(&first, "https://other.example/feed.xml")[1]
    );
}

#[test]
fn repeated_guids_fall_back_to_links() {
    let xml = rss(
        r#"<item><guid>same</guid><title>One</title><link>https://quay.example/1</link>
<description>First.</description></item>
<item><guid>same</guid><title>Two</title><link>https://quay.example/2</link>
<description>Second.</description></item>"#,
    );
    let ids = ids_of(&xml, "https://quay.example/feed.xml");
    assert_ne!(ids[0], ids[1]);
    assert_eq!(
        ids[0],
        crate::ingest::identity::article_id(Some("https://quay.example/1"), "", "")
    );
}

/// Found by `cargo fuzz run feed` (fuzz/README.md): a second XML
/// declaration naming another encoding made feed-rs switch encodings after
/// quick-xml had started reading, and quick-xml panicked.
#[test]
fn fuzz_late_xml_declaration_does_not_panic() {
    for bytes in [
        include_bytes!("../../../tests/fixtures/fuzz/feed/late-declaration-1252.xml").as_slice(),
        include_bytes!("../../../tests/fixtures/fuzz/feed/late-declaration-atom.xml"),
        include_bytes!("../../../tests/fixtures/fuzz/feed/late-declaration-rdf.xml"),
        include_bytes!("../../../tests/fixtures/fuzz/feed/late-declaration-cdata-in-attribute.xml"),
        include_bytes!("../../../tests/fixtures/fuzz/feed/late-declaration-channel.xml"),
    ] {
        let _ = parse_feed(bytes, Some("https://example.com/feeds/world.xml"));
        let _ = crate::ingest::read(
            crate::ingest::Input::new(bytes).with_hint(Some(crate::ingest::Format::Feed)),
        );
    }
    // Two documents run together: the entries of both are read.
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>T</title>",
    );
    for n in 0..40 {
        xml.push_str(&format!(
            "<item><title>Story {n}</title><link>https://e.example/{n}</link><description>Text of story {n}.</description></item>"
        ));
        if n == 20 {
            xml.push_str("<?xml version=\"1.0\" encoding=\"windows-1252\"?>");
        }
    }
    xml.push_str("</channel></rss>");
    let doc = parse_feed(xml.as_bytes(), None).expect("reads");
    assert_eq!(doc.drafts.len(), 40);
}

#[test]
fn a_relative_xml_base_resolves_against_the_document_url() {
    // No absolute base anywhere: `xml:base="/blog/"` is relative to where
    // the feed was fetched (XML Base, RFC 3986 §5.1.3), not to the site's
    // home page named in the feed.
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/blog/">
<title>Relative base</title><id>urn:x</id><updated>2024-01-02T03:04:05Z</updated>
<link rel="alternate" href="https://home.example/"/>
<entry><title>One</title><id>urn:x:1</id><updated>2024-01-02T03:04:05Z</updated>
<link href="2024/one.html"/><content type="html">&lt;p&gt;Body of the first entry, long enough to keep.&lt;/p&gt;</content></entry>
<entry xml:base="archive/"><title>Two</title><id>urn:x:2</id><updated>2024-01-02T03:04:05Z</updated>
<link href="two.html"/><content type="html">&lt;p&gt;Body of the second entry, long enough to keep.&lt;/p&gt;</content></entry>
</feed>"#;
    let doc = parse_feed(xml.as_bytes(), Some("https://feeds.example/atom.xml")).unwrap();
    let urls: Vec<_> = doc.drafts.iter().map(|d| d.url.as_deref()).collect();
    assert_eq!(
        urls,
        [
            Some("https://feeds.example/blog/2024/one.html"),
            Some("https://feeds.example/blog/archive/two.html")
        ]
    );
    // The same when the document is cut off and the salvage reader reads it.
    let cut = &xml[..xml.find("<entry xml:base").unwrap() + 20];
    let doc = parse_feed(cut.as_bytes(), Some("https://feeds.example/atom.xml")).unwrap();
    assert_eq!(doc.reader, FeedReader::Salvage);
    assert_eq!(
        doc.drafts[0].url.as_deref(),
        Some("https://feeds.example/blog/2024/one.html")
    );
}

/// RSS items, one `<description>` each, in a channel with no language.
fn unlabelled_feed(bodies: &[&str]) -> FeedDocument {
    let items: String = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            format!("<item><title>Item {i}</title><link>https://news.example/{i}</link><description>{b}</description></item>")
        })
        .collect();
    let xml = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>News</title><link>https://news.example/</link>{items}</channel></rss>"
    );
    parse_feed(xml.as_bytes(), Some("https://news.example/feed.xml")).unwrap()
}

#[test]
fn a_feed_without_a_language_takes_the_one_its_items_agree_on() {
    let en = "The council said on Monday that the ferry would run again from the first of the month, and that the timetable would be the same as it was before the storm.";
    let de = "Der Gemeinderat teilte am Montag mit, dass die Fähre ab dem Ersten des Monats wieder fahren werde und dass der Fahrplan der gleiche sei wie vor dem Sturm.";
    // Every item in English: the probes agree and all items get "en".
    let doc = unlabelled_feed(&[en; 6]);
    assert!(
        doc.drafts
            .iter()
            .all(|d| d.language.as_deref() == Some("en"))
    );
    // The middle item in German: the probes disagree, each item is
    // detected on its own when it is assembled.
    let doc = unlabelled_feed(&[en, en, en, de, en, en]);
    assert!(doc.drafts.iter().all(|d| d.language.is_none()));
    let langs: Vec<String> = doc
        .drafts
        .into_iter()
        .map(|d| {
            crate::ingest::assemble(d)
                .unwrap()
                .language
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(langs, ["en", "en", "en", "de", "en", "en"]);
}
