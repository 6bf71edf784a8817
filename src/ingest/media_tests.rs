//! The lead image and media files, from every input that has them, as the
//! articles ingest makes of them.

use super::feed::parse_feed;
use super::{Input, assemble, normalize};
use crate::model::{Article, Enclosure};

fn article(bytes: &str, url: Option<&str>) -> Article {
    normalize(Input::new(bytes.as_bytes()).with_url(url)).expect("an article")
}

/// The lead image's URL of the page at `url`.
fn image_of(page: &str, url: Option<&str>) -> Option<String> {
    article(page, url).image.map(|i| i.url)
}

fn feed_articles(xml: &str, url: &str) -> Vec<Article> {
    parse_feed(xml.as_bytes(), Some(url))
        .expect("a feed")
        .drafts
        .into_iter()
        .map(|d| assemble(d).expect("an article"))
        .collect()
}

const BODY: &str = "<p>Dock workers in the northern port walked out again on Monday after talks over pay and safety rules collapsed, union leaders said.</p><p>The operator said it was ready to talk at any time and regretted the disruption to shipping lines and their customers.</p>";

#[test]
fn html_pages_give_their_og_image_made_absolute_else_their_first_figure() {
    let at = Some("https://ledger.example/news/strike");
    let page = format!(
        "<html><head><title>Port strike</title><meta property=\"og:image\" content=\"/img/lead.jpg\"></head><body><article><h1>Port strike</h1>{BODY}</article></body></html>"
    );
    assert_eq!(
        image_of(&page, at).as_deref(),
        Some("https://ledger.example/img/lead.jpg")
    );
    let page = format!(
        "<html><head><title>Port strike</title></head><body><article><h1>Port strike</h1><figure><img src=\"pics/gate.png\"><figcaption>At the gate</figcaption></figure>{BODY}</article></body></html>"
    );
    assert_eq!(
        image_of(&page, at).as_deref(),
        Some("https://ledger.example/news/pics/gate.png")
    );
    let page = format!(
        "<html><head><title>Port strike</title><meta property=\"og:image\" content=\"javascript:alert(1)\"></head><body><article>{BODY}</article></body></html>"
    );
    assert!(
        image_of(&page, at).is_none(),
        "only http(s) leaves topicfeed"
    );
}

#[test]
fn a_page_sent_without_its_url_takes_the_one_it_states() {
    let page = format!(
        "<html><head><title>Port strike</title><link rel=\"canonical\" href=\"https://ledger.example/news/strike\"><meta property=\"og:image\" content=\"/img/lead.jpg\"></head><body><article>{BODY}</article></body></html>"
    );
    let a = article(&page, None);
    assert_eq!(a.url.as_deref(), Some("https://ledger.example/news/strike"));
    assert_eq!(
        a.image.map(|i| i.url).as_deref(),
        Some("https://ledger.example/img/lead.jpg")
    );
    let page = format!(
        "<html><head><title>Port strike</title><meta property=\"og:url\" content=\"https://ledger.example/s\"></head><body><article>{BODY}</article></body></html>"
    );
    assert_eq!(
        article(&page, None).url.as_deref(),
        Some("https://ledger.example/s")
    );
    let page = format!(
        "<html><head><title>Port strike</title><link rel=\"canonical\" href=\"ftp://ledger.example/s\"></head><body><article>{BODY}</article></body></html>"
    );
    assert_eq!(article(&page, None).url, None);
}

#[test]
fn rss_media_and_podcast_enclosures() {
    let xml = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Harbour Radio</title><link>https://radio.example/</link>
<item><title>Episode 12: the strike</title><link>https://radio.example/ep12</link>
<description>Union leaders on the second week of the strike at the northern port.</description>
<enclosure url="https://cdn.radio.example/ep12.mp3" length="48213001" type="audio/mpeg"/>
<media:thumbnail url="https://cdn.radio.example/ep12.jpg"/>
</item>
<item><title>Ferry fares rise</title><link>https://radio.example/fares</link>
<description>Fares on the island ferries rise by a tenth from May, the operator said.</description>
<media:content url="/img/ferry.webp" medium="image" type="image/webp"/>
</item>
<item><title>Episode 13: the ferries</title><link>https://radio.example/ep13</link>
<description>The island ferries and their new fares, with the operator's chief.</description>
<enclosure url="https://cdn.radio.example/ep13.mp3" length="1000" type="audio/mpeg"/>
<media:content url="https://cdn.radio.example/ep13.jpg" medium="image"/>
</item>
</channel></rss>"#;
    let items = feed_articles(xml, "https://radio.example/feed.xml");
    assert_eq!(
        items[0].enclosures,
        vec![Enclosure {
            url: "https://cdn.radio.example/ep12.mp3".into(),
            mime: "audio/mpeg".into(),
            length: 48_213_001,
        }],
        "the podcast's file, unchanged"
    );
    assert_eq!(
        items[0].image.as_ref().map(|i| i.url.as_str()),
        Some("https://cdn.radio.example/ep12.jpg")
    );
    assert!(
        items[1].enclosures.is_empty(),
        "an image is not a file to republish"
    );
    // Both the audio and the picture, though one reader keeps only one.
    assert_eq!(items[2].enclosures.len(), 1, "{:?}", items[2].enclosures);
    assert_eq!(
        items[2].enclosures[0].url,
        "https://cdn.radio.example/ep13.mp3"
    );
    assert_eq!(
        items[2].image.as_ref().map(|i| i.url.as_str()),
        Some("https://cdn.radio.example/ep13.jpg")
    );
    let img = items[1].image.as_ref().expect("media:content image");
    assert_eq!(img.url, "https://radio.example/img/ferry.webp");
    assert_eq!(img.mime.as_deref(), Some("image/webp"));
}

#[test]
fn atom_enclosures_and_json_feed_images() {
    let atom = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Ledger</title><id>urn:x</id><updated>2024-05-17T15:04:00Z</updated>
<entry><title>Port strike</title><id>urn:x:1</id><updated>2024-05-17T15:04:00Z</updated>
<link rel="alternate" href="https://ledger.example/strike"/>
<link rel="enclosure" type="image/jpeg" href="https://ledger.example/strike.jpg"/>
<summary>Dock workers walked out again on Monday after talks collapsed.</summary></entry></feed>"#;
    let a = &feed_articles(atom, "https://ledger.example/atom.xml")[0];
    assert_eq!(
        a.image.as_ref().map(|i| i.url.as_str()),
        Some("https://ledger.example/strike.jpg")
    );
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"Ledger","items":[
{"id":"1","url":"https://ledger.example/strike","title":"Port strike","content_text":"Dock workers walked out again on Monday after talks collapsed.",
 "image":"https://ledger.example/strike-lead.jpg",
 "attachments":[{"url":"https://ledger.example/strike.mp3","mime_type":"audio/mpeg","size_in_bytes":1200}]}]}"#;
    let a = &feed_articles(json, "https://ledger.example/feed.json")[0];
    assert_eq!(
        a.image.as_ref().map(|i| i.url.as_str()),
        Some("https://ledger.example/strike-lead.jpg")
    );
    assert_eq!(a.enclosures.len(), 1);
    assert_eq!(
        (a.enclosures[0].mime.as_str(), a.enclosures[0].length),
        ("audio/mpeg", 1200)
    );
}

#[test]
fn markdown_front_matter_and_json_name_their_image() {
    let md = "---\ntitle: Port strike\nurl: https://ledger.example/strike\nimage: /img/strike.jpg\n---\n\nDock workers in the northern port walked out again on Monday after talks collapsed, union leaders said.\n";
    assert_eq!(
        image_of(md, None).as_deref(),
        Some("https://ledger.example/img/strike.jpg")
    );
    let json = r#"{"title":"Port strike","url":"https://ledger.example/strike","image":{"@type":"ImageObject","url":"https://ledger.example/s.jpg","caption":"Workers at the gate"},
"content":"Dock workers in the northern port walked out again on Monday after talks collapsed, union leaders said."}"#;
    let a = article(json, None);
    let img = a.image.expect("an ImageObject");
    assert_eq!(img.url, "https://ledger.example/s.jpg");
    assert_eq!(img.caption.as_deref(), Some("Workers at the gate"));
    let bad = r#"{"title":"Port strike","image":42,"content":"Dock workers in the northern port walked out again on Monday after talks collapsed, union leaders said."}"#;
    let a = article(bad, None);
    assert!(a.image.is_none());
    assert!(a.notes.iter().any(|n| n.contains("image")), "{:?}", a.notes);
}

#[test]
fn media_either_feed_reader_finds_are_kept_together() {
    // Audio inside `media:group`, and `media:content` with children: the
    // salvage reader, read for the item-level thumbnail, does not see
    // them, and must not take them away.
    let xml = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Harbour Hour</title><link>https://p.example/</link><description>d</description>
<item><title>Episode nine</title><guid isPermaLink="false">ep9</guid>
<description>The harbour council voted on the new ferry timetable on Monday evening after a long debate.</description>
<media:thumbnail url="https://p.example/ep9.jpg"/>
<media:group><media:content url="https://p.example/ep9.mp3" type="audio/mpeg" fileSize="99"/></media:group>
</item>
<item><title>Episode ten</title><guid isPermaLink="false">ep10</guid>
<description>The harbour council voted on the new ferry timetable on Monday evening after a long debate.</description>
<media:content url="https://p.example/ep10.mp3" type="audio/mpeg" fileSize="99"><media:title>Ten</media:title></media:content>
<media:thumbnail url="https://p.example/ep10.jpg"/>
</item>
</channel></rss>"#;
    let items = feed_articles(xml, "https://p.example/feed.xml");
    for (a, n) in items.iter().zip(["9", "10"]) {
        let files: Vec<&str> = a.enclosures.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            files,
            [format!("https://p.example/ep{n}.mp3")],
            "{}",
            a.title
        );
        assert_eq!(
            a.image.as_ref().map(|i| i.url.clone()),
            Some(format!("https://p.example/ep{n}.jpg"))
        );
    }
}

#[test]
fn an_upstream_media_type_that_is_not_one_is_dropped() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
{"id":"1","url":"https://j.example/1","title":"One","content_text":"The harbour council voted on the new ferry timetable on Monday evening after a long debate.","attachments":[{"url":"https://j.example/1.mp3","mime_type":"audio/mpeg\u0001\"<x>"},{"url":"https://j.example/1.ogg","mime_type":"Audio/Ogg; codecs=opus"}]}]}"#;
    let a = &feed_articles(json, "https://j.example/feed.json")[0];
    let types: Vec<(&str, &str)> = a
        .enclosures
        .iter()
        .map(|e| (e.url.as_str(), e.mime.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("https://j.example/1.mp3", "application/octet-stream"),
            ("https://j.example/1.ogg", "audio/ogg")
        ]
    );
}
