//! Feeds as readers see them: every format rendered from stored stories,
//! parsed back with `feed-rs` (not the writer's own reader) and checked
//! against the RSS 2.0 / RFC 4287 / JSON Feed rules; XML checked for
//! well-formedness with `roxmltree`, a strict parser of its own.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use topicfeed::model::{Article, Block, BlockKind};
use topicfeed::render::{self, FeedInfo, Format};
use topicfeed::store::{SourceRef, Story};

fn story(id: &str, title: &str, url: Option<&str>, minute: u32) -> Story {
    let t = Utc
        .with_ymd_and_hms(2026, 11, 20, 9, minute, 0)
        .single()
        .expect("valid time");
    Story {
        article: Article {
            id: id.into(),
            title: title.into(),
            site: Some("Daily Ledger".into()),
            url: url.map(str::to_owned),
            authors: vec!["Jane Roe".into(), "Tom Hale".into()],
            published: Some(t),
            updated: None,
            language: Some("en".into()),
            summary: "Dock workers walked out & talks <stalled>.".into(),
            blocks: vec![Block::new(BlockKind::Paragraph, "Dock workers walked out.")],
            content_html: "<p>Dock workers walked out &amp; talks <em>stalled</em>. ]]> end</p>"
                .into(),
            topics: vec!["business".into(), "europe".into()],
            tags: vec!["Rotterdam".into()],
            fingerprint: 0,
            notes: Vec::new(),
            image: None,
            enclosures: Vec::new(),
        },
        sources: vec![SourceRef {
            site: Some("Daily Ledger".into()),
            url: url.map(str::to_owned),
            article_id: id.into(),
        }],
        first_seen: t,
        changed: t,
    }
}

fn info(format: Format) -> FeedInfo {
    let url = format!("http://127.0.0.1:8080/feeds/business.{}", format.ext());
    FeedInfo {
        title: "topicfeed: Business".into(),
        description: "Companies & markets".into(),
        id: url.clone(),
        self_url: url.clone(),
        home_url: "http://127.0.0.1:8080/feeds/business".into(),
        first_url: Some(url.clone()),
        next_url: Some(format!("{url}?cursor=abc")),
        previous_url: None,
        ttl_minutes: 15,
        updated: Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("valid time"),
        base_url: "http://127.0.0.1:8080".into(),
        images: render::identity::Images::new("http://127.0.0.1:8080", None, None),
        hub_url: Some("http://127.0.0.1:8080/websub".into()),
        hidden_topics: Vec::new(),
        read_key: None,
    }
}

fn stories() -> Vec<Story> {
    vec![
        story(
            "aaa111",
            "Port strike enters second week",
            Some("https://example.org/port"),
            40,
        ),
        story("bbb222", "Ferry fares rise", None, 30),
    ]
}

fn xml(body: &[u8]) -> roxmltree::Document<'_> {
    let text = std::str::from_utf8(body).expect("UTF-8");
    roxmltree::Document::parse(text)
        .unwrap_or_else(|e| panic!("not well-formed: {e}\n{}", &text[..text.len().min(600)]))
}

fn child<'a>(
    node: roxmltree::Node<'a, 'a>,
    ns: Option<&str>,
    name: &str,
) -> Vec<roxmltree::Node<'a, 'a>> {
    node.children()
        .filter(|c| c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == ns)
        .collect()
}

const ATOM: &str = "http://www.w3.org/2005/Atom";

#[test]
fn rss_has_every_required_element_and_parses_back() {
    let r = render::render(Format::Rss, &info(Format::Rss), &stories());
    assert_eq!(r.content_type, "application/rss+xml; charset=utf-8");
    let doc = xml(&r.body);
    let rss = doc.root_element();
    assert_eq!(rss.attribute("version"), Some("2.0"));
    let channel = child(rss, None, "channel")[0];
    for name in [
        "title",
        "link",
        "description",
        "lastBuildDate",
        "ttl",
        "generator",
    ] {
        assert_eq!(child(channel, None, name).len(), 1, "channel/{name}");
    }
    let self_link = child(channel, Some(ATOM), "link")
        .into_iter()
        .find(|l| l.attribute("rel") == Some("self"))
        .expect("atom:link rel=self");
    assert_eq!(
        self_link.attribute("href"),
        Some("http://127.0.0.1:8080/feeds/business.rss")
    );
    let items = child(channel, None, "item");
    assert_eq!(items.len(), 2);
    let guid = child(items[0], None, "guid")[0];
    assert_eq!(guid.text(), Some("https://example.org/port"));
    assert_ne!(
        guid.attribute("isPermaLink"),
        Some("false"),
        "the article URL is a permalink"
    );
    let guid = child(items[1], None, "guid")[0];
    assert_eq!(
        guid.attribute("isPermaLink"),
        Some("false"),
        "a URN guid is not a permalink"
    );
    assert_eq!(child(items[0], None, "category").len(), 2);
    assert_eq!(
        child(
            items[0],
            Some("http://purl.org/dc/elements/1.1/"),
            "creator"
        )[0]
        .text(),
        Some("Jane Roe, Tom Hale")
    );
    let encoded = child(
        items[0],
        Some("http://purl.org/rss/1.0/modules/content/"),
        "encoded",
    )[0];
    assert!(
        encoded.text().unwrap_or_default().contains("]]> end"),
        "CDATA split around ]]>"
    );
    let pub_date = child(items[0], None, "pubDate")[0]
        .text()
        .unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc2822(pub_date).is_ok(),
        "{pub_date}"
    );

    let feed = feed_rs::parser::parse(&r.body[..]).expect("feed-rs parses RSS");
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(
        feed.entries[0].title.as_ref().map(|t| t.content.as_str()),
        Some("Port strike enters second week")
    );
    assert_eq!(feed.entries[0].links[0].href, "https://example.org/port");
    assert_eq!(
        feed.entries[1].links[0].href,
        "http://127.0.0.1:8080/articles/bbb222"
    );
    assert!(feed.entries[0].published.is_some());
}

#[test]
fn atom_has_every_required_element_and_parses_back() {
    let r = render::render(Format::Atom, &info(Format::Atom), &stories());
    assert_eq!(r.content_type, "application/atom+xml; charset=utf-8");
    let doc = xml(&r.body);
    let feed = doc.root_element();
    assert_eq!(feed.tag_name().namespace(), Some(ATOM));
    for name in ["id", "title", "updated", "author"] {
        assert_eq!(child(feed, Some(ATOM), name).len(), 1, "feed/{name}");
    }
    let rels: Vec<&str> = child(feed, Some(ATOM), "link")
        .iter()
        .filter_map(|l| l.attribute("rel"))
        .collect();
    for rel in ["self", "alternate", "first", "next"] {
        assert!(rels.contains(&rel), "feed link rel={rel}: {rels:?}");
    }
    let entries = child(feed, Some(ATOM), "entry");
    assert_eq!(entries.len(), 2);
    for e in &entries {
        for name in [
            "id",
            "title",
            "updated",
            "published",
            "author",
            "link",
            "summary",
            "content",
            "category",
        ] {
            assert!(!child(*e, Some(ATOM), name).is_empty(), "entry/{name}");
        }
        assert_eq!(
            child(*e, Some(ATOM), "content")[0].attribute("type"),
            Some("html")
        );
        let updated = child(*e, Some(ATOM), "updated")[0]
            .text()
            .unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(updated).is_ok(),
            "{updated}"
        );
        assert!(
            child(*e, Some(ATOM), "id")[0]
                .text()
                .unwrap_or_default()
                .starts_with("urn:topicfeed:article:")
        );
    }
    let parsed = feed_rs::parser::parse(&r.body[..]).expect("feed-rs parses Atom");
    assert_eq!(parsed.entries.len(), 2);
    assert_eq!(
        parsed.entries[0].authors[0].name.as_deref(),
        Some("Jane Roe")
    );
    assert_eq!(parsed.entries[0].categories.len(), 2);
}

#[test]
fn json_feed_is_version_1_1_and_parses_back() {
    let r = render::render(Format::Json, &info(Format::Json), &stories());
    assert_eq!(r.content_type, "application/feed+json; charset=utf-8");
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(v["feed_url"], "http://127.0.0.1:8080/feeds/business.json");
    assert_eq!(
        v["next_url"],
        "http://127.0.0.1:8080/feeds/business.json?cursor=abc"
    );
    assert_eq!(v["items"].as_array().map(Vec::len), Some(2));
    assert!(v["items"][0]["content_html"].is_string());
    let parsed = feed_rs::parser::parse(&r.body[..]).expect("feed-rs parses JSON Feed");
    assert_eq!(parsed.entries.len(), 2);
}

#[test]
fn validators_follow_the_content() {
    let a = render::render(Format::Atom, &info(Format::Atom), &stories());
    let b = render::render(Format::Atom, &info(Format::Atom), &stories());
    assert_eq!(a.etag, b.etag, "same stories, same ETag");
    assert!(
        a.etag.starts_with('"') && a.etag.ends_with('"'),
        "strong and quoted"
    );
    let rss = render::render(Format::Rss, &info(Format::Rss), &stories());
    assert_ne!(a.etag, rss.etag, "per format");
    let mut changed = stories();
    changed[1].changed = Utc
        .with_ymd_and_hms(2026, 11, 21, 8, 0, 0)
        .single()
        .expect("time");
    let c = render::render(Format::Atom, &info(Format::Atom), &changed);
    assert_ne!(a.etag, c.etag, "a changed item changes the ETag");
    assert_eq!(
        c.last_modified,
        Some(changed[1].changed),
        "Last-Modified is the newest change"
    );
    let empty = render::render(Format::Atom, &info(Format::Atom), &[]);
    assert_eq!(empty.last_modified, None);
    assert!(
        String::from_utf8_lossy(&empty.body).contains("2026-11-01T00:00:00"),
        "an empty feed is never dated 1970"
    );
}

/// Text a feed writer must survive.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?s).{0,200}",
        Just("]]>".to_string()),
        Just("<script>alert(1)</script> & &amp; &#0; \u{0}\u{1}\u{b}\u{c}\u{1f}".to_string()),
        Just("\u{fffe}\u{ffff}\u{fdd0}\u{85}\u{9c}\u{feff}\u{fffd}".to_string()),
        Just("\"quoted\" 'single' <tag attr=\"x\">".to_string()),
    ]
}

proptest! {
    #![proptest_config(crate::support::proptest_config(128))]

    #[test]
    fn any_stored_text_gives_well_formed_feeds(
        title in nasty(), summary in nasty(), html in nasty(), author in nasty(), topic in nasty(),
    ) {
        let mut s = story("ccc333", &title, None, 10);
        s.article.summary = summary;
        s.article.content_html = html;
        s.article.authors = vec![author];
        s.article.topics = vec![topic];
        let stories = vec![s];
        for format in Format::ALL {
            let r = render::render(format, &info(format), &stories);
            match format {
                Format::Json => {
                    serde_json::from_slice::<serde_json::Value>(&r.body).expect("valid JSON");
                }
                _ => {
                    let text = std::str::from_utf8(&r.body).expect("UTF-8");
                    let parsed = roxmltree::Document::parse(text);
                    prop_assert!(parsed.is_ok(), "{:?} not well-formed: {:?}", format, parsed.err());
                }
            }
            prop_assert!(feed_rs::parser::parse(&r.body[..]).is_ok(), "feed-rs rejects {:?}", format);
        }
    }
}

#[test]
fn a_megabyte_title_still_renders() {
    let title = "Port strike ".repeat(90_000);
    let stories = vec![story("ddd444", &title, None, 5)];
    for format in [Format::Rss, Format::Atom] {
        let r = render::render(format, &info(format), &stories);
        xml(&r.body);
    }
}

/// An entry's content as a reader parsed it.
fn content_of(entry: &feed_rs::model::Entry) -> String {
    entry
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap_or_default()
}

/// Daily Ledger's dock-strike story, with copies from other sources
/// merged into it: (site, url, article id).
fn merged_with(copies: &[(&str, &str, &str)]) -> Story {
    let mut s = story(
        "a1",
        "Dock strike spreads",
        Some("https://ledger.example/dock"),
        5,
    );
    for (site, url, id) in copies {
        s.sources.push(SourceRef {
            site: Some((*site).into()),
            url: Some((*url).into()),
            article_id: (*id).into(),
        });
    }
    s
}

/// A story merged from three sites' copies: the first-seen one, a copy
/// with a page of its own, and one whose site gave no usable link.
fn merged() -> Story {
    merged_with(&[
        ("Harbour Post", "https://harbourpost.example/strike", "b2"),
        ("Quay <Wire>", "javascript:alert(1)", "c3"),
    ])
}

#[test]
fn merged_stories_credit_their_sources_in_every_format() {
    let stories = vec![
        merged(),
        story("d4", "Ferry fares", Some("https://ledger.example/ferry"), 6),
    ];
    let also = "Also reported by <a href=\"https://harbourpost.example/strike\">Harbour Post</a>, Quay &lt;Wire&gt;.";

    // RSS: <source url> names the first-seen copy's site; the item keeps its own link.
    let body = render::render(Format::Rss, &info(Format::Rss), &stories).body;
    let doc = xml(&body);
    let items: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .collect();
    let source = child(items[0], None, "source");
    assert_eq!(source.len(), 1);
    assert_eq!(
        source[0].attribute("url"),
        Some("https://ledger.example/dock")
    );
    assert_eq!(source[0].text(), Some("Daily Ledger"));
    assert!(
        child(items[1], None, "source").is_empty(),
        "one source, nothing to credit"
    );
    let feed = feed_rs::parser::parse(&body[..]).expect("RSS parses back");
    assert_eq!(feed.entries[0].links[0].href, "https://ledger.example/dock");
    let content = content_of(&feed.entries[0]);
    assert!(content.contains(also), "{content}");
    assert!(!content.contains("javascript:"), "{content}");
    let single = content_of(&feed.entries[1]);
    assert!(!single.contains("Also reported by"));

    // Atom: <source> with a title, an id and a link; the entry id stays the story's.
    let body = render::render(Format::Atom, &info(Format::Atom), &stories).body;
    let doc = xml(&body);
    let entries: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((ATOM, "entry")))
        .collect();
    let source = child(entries[0], Some(ATOM), "source");
    assert_eq!(source.len(), 1);
    let title = child(source[0], Some(ATOM), "title");
    assert_eq!(title[0].text(), Some("Daily Ledger"));
    assert_eq!(
        child(source[0], Some(ATOM), "id")[0].text(),
        Some("https://ledger.example/dock")
    );
    assert_eq!(child(source[0], Some(ATOM), "updated").len(), 1);
    assert!(child(entries[1], Some(ATOM), "source").is_empty());
    let feed = feed_rs::parser::parse(&body[..]).expect("Atom parses back");
    assert_eq!(feed.entries[0].id, "urn:topicfeed:article:a1");
    let content = content_of(&feed.entries[0]);
    assert!(content.contains(also), "{content}");

    // JSON Feed: every source under the `_topicfeed` extension.
    let body = render::render(Format::Json, &info(Format::Json), &stories).body;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let sources = &v["items"][0]["_topicfeed"]["sources"];
    assert_eq!(sources[0]["name"], "Daily Ledger");
    assert_eq!(sources[0]["url"], "https://ledger.example/dock");
    assert_eq!(sources[1]["name"], "Harbour Post");
    assert_eq!(sources[2]["name"], "Quay <Wire>");
    assert!(
        sources[2].get("url").is_none(),
        "only http(s) links leave topicfeed"
    );
    assert!(v["items"][1].get("_topicfeed").is_none());
    assert!(
        v["items"][0]["content_html"]
            .as_str()
            .unwrap()
            .contains(also)
    );
    feed_rs::parser::parse(&body[..]).expect("JSON Feed parses back");

    // The article's page and the feed read in a browser.
    let page = String::from_utf8(render::html::article_page(&stories[0])).unwrap();
    assert!(page.contains(also), "{page}");
    let page = String::from_utf8(render::html::feed_page(
        &info(Format::Atom),
        "http://127.0.0.1:8080/feeds/business.atom",
        &stories,
    ))
    .unwrap();
    assert_eq!(page.matches("Also reported by").count(), 1);
}

#[test]
fn copies_from_one_site_credit_no_one() {
    let s = merged_with(&[("daily ledger", "https://ledger.example/dock-2", "a2")]);
    let body = render::render(Format::Rss, &info(Format::Rss), &[s]).body;
    let text = String::from_utf8(body).unwrap();
    assert!(!text.contains("<source"), "{text}");
    assert!(!text.contains("Also reported by"));
}

#[test]
fn every_format_carries_the_feeds_pictures_and_shared_language() {
    let en = stories();
    // RSS: <image> with the small picture, the channel's title and link.
    let body = render::render(Format::Rss, &info(Format::Rss), &en).body;
    let doc = xml(&body);
    let channel = doc
        .descendants()
        .find(|n| n.has_tag_name("channel"))
        .unwrap();
    let image = child(channel, None, "image");
    assert_eq!(image.len(), 1);
    assert_eq!(
        child(image[0], None, "url")[0].text(),
        Some("http://127.0.0.1:8080/favicon.png")
    );
    assert_eq!(
        child(image[0], None, "title")[0].text(),
        child(channel, None, "title")[0].text()
    );
    assert_eq!(
        child(image[0], None, "link")[0].text(),
        child(channel, None, "link")[0].text()
    );
    assert_eq!(child(channel, None, "language")[0].text(), Some("en"));
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    assert_eq!(feed.logo.unwrap().uri, "http://127.0.0.1:8080/favicon.png");
    assert_eq!(feed.language.as_deref(), Some("en"));

    // Atom: icon, logo, xml:lang.
    let body = render::render(Format::Atom, &info(Format::Atom), &en).body;
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    assert_eq!(feed.icon.unwrap().uri, "http://127.0.0.1:8080/icon.png");
    assert_eq!(feed.logo.unwrap().uri, "http://127.0.0.1:8080/logo.png");
    let doc = xml(&body);
    assert_eq!(
        doc.root_element()
            .attribute(("http://www.w3.org/XML/1998/namespace", "lang")),
        Some("en")
    );

    // JSON Feed: icon, favicon, language.
    let body = render::render(Format::Json, &info(Format::Json), &en).body;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["icon"], "http://127.0.0.1:8080/icon.png");
    assert_eq!(v["favicon"], "http://127.0.0.1:8080/favicon.png");
    assert_eq!(v["language"], "en");

    // Stories in two languages: no language claimed for the feed.
    let mut mixed = stories();
    mixed[0].article.language = Some("fr".into());
    let body = render::render(Format::Json, &info(Format::Json), &mixed).body;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(v.get("language").is_none());
    let body = render::render(Format::Rss, &info(Format::Rss), &mixed).body;
    assert!(!String::from_utf8(body).unwrap().contains("<language>"));
}

#[test]
fn a_topics_own_pictures_replace_topicfeeds() {
    let mut info = info(Format::Atom);
    info.images = render::identity::Images::new(
        "http://127.0.0.1:8080",
        Some("https://cdn.example/harbour-icon.png"),
        Some("https://cdn.example/harbour-logo.png"),
    );
    let body = render::render(Format::Atom, &info, &stories()).body;
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    assert_eq!(
        feed.icon.unwrap().uri,
        "https://cdn.example/harbour-icon.png"
    );
    assert_eq!(
        feed.logo.unwrap().uri,
        "https://cdn.example/harbour-logo.png"
    );
}

/// Two stories: one with a lead picture, one podcast episode with its
/// audio file and a picture.
fn with_media() -> Vec<Story> {
    let mut pictured = story(
        "p1",
        "Port strike",
        Some("https://ledger.example/strike"),
        5,
    );
    pictured.article.image = Some(topicfeed::model::Image {
        caption: Some("Workers at the gate".into()),
        credit: Some("Ana Ruiz".into()),
        ..topicfeed::model::Image::new("https://ledger.example/img/gate.jpg?w=1200&h=800")
    });
    let mut episode = story("e1", "Episode 12", Some("https://radio.example/ep12"), 4);
    episode.article.enclosures = vec![topicfeed::model::Enclosure {
        url: "https://cdn.radio.example/ep12.mp3".into(),
        mime: "audio/mpeg".into(),
        length: 48_213_001,
    }];
    episode.article.image = Some(topicfeed::model::Image::new(
        "https://cdn.radio.example/ep12.png",
    ));
    vec![pictured, episode]
}

#[test]
fn lead_images_and_podcast_files_reach_readers_in_every_format() {
    let media = with_media();
    // RSS: media:content + media:thumbnail for the picture; one <enclosure>
    // per item, the podcast's file unchanged where there is one.
    let body = render::render(Format::Rss, &info(Format::Rss), &media).body;
    xml(&body);
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    let pictured = &feed.entries[0];
    let urls: Vec<String> = pictured
        .media
        .iter()
        .flat_map(|m| {
            m.content
                .iter()
                .filter_map(|c| c.url.as_ref().map(|u| u.to_string()))
        })
        .collect();
    assert!(
        urls.contains(&"https://ledger.example/img/gate.jpg?w=1200&h=800".to_owned()),
        "{urls:?}"
    );
    assert!(pictured.media.iter().any(|m| {
        m.thumbnails
            .iter()
            .any(|t| t.image.uri == "https://ledger.example/img/gate.jpg?w=1200&h=800")
    }));
    assert!(content_of(pictured).contains("<img src=\"https://ledger.example/img/gate.jpg?w=1200&amp;h=800\" alt=\"Workers at the gate\">"));
    let text = String::from_utf8(body.clone()).unwrap();
    assert_eq!(text.matches("<enclosure ").count(), 2, "one per item");
    // feed-rs keeps Media RSS over an <enclosure> (it drops the audio), so
    // the episode's file is read back with roxmltree.
    let doc = xml(&body);
    let episode = doc
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .nth(1)
        .unwrap();
    let enclosure = child(episode, None, "enclosure");
    assert_eq!(enclosure.len(), 1);
    assert_eq!(
        (
            enclosure[0].attribute("url"),
            enclosure[0].attribute("length"),
            enclosure[0].attribute("type")
        ),
        (
            Some("https://cdn.radio.example/ep12.mp3"),
            Some("48213001"),
            Some("audio/mpeg")
        )
    );

    // Atom: rel="enclosure" links, the file with its length.
    let body = render::render(Format::Atom, &info(Format::Atom), &media).body;
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    let enclosures = |e: &feed_rs::model::Entry| -> Vec<(String, Option<String>, Option<u64>)> {
        e.links
            .iter()
            .filter(|l| l.rel.as_deref() == Some("enclosure"))
            .map(|l| (l.href.clone(), l.media_type.clone(), l.length))
            .collect()
    };
    assert_eq!(
        enclosures(&feed.entries[0]),
        vec![(
            "https://ledger.example/img/gate.jpg?w=1200&h=800".to_owned(),
            Some("image/jpeg".to_owned()),
            None
        )]
    );
    assert_eq!(
        enclosures(&feed.entries[1]),
        vec![
            (
                "https://cdn.radio.example/ep12.mp3".to_owned(),
                Some("audio/mpeg".to_owned()),
                Some(48_213_001)
            ),
            (
                "https://cdn.radio.example/ep12.png".to_owned(),
                Some("image/png".to_owned()),
                None
            )
        ]
    );

    // JSON Feed: `image`, and `attachments` for the file.
    let body = render::render(Format::Json, &info(Format::Json), &media).body;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v["items"][0]["image"],
        "https://ledger.example/img/gate.jpg?w=1200&h=800"
    );
    assert!(v["items"][0].get("attachments").is_none());
    assert_eq!(
        v["items"][1]["attachments"][0],
        serde_json::json!({"url": "https://cdn.radio.example/ep12.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 48_213_001})
    );
    let feed = feed_rs::parser::parse(&body[..]).unwrap();
    assert_eq!(feed.entries.len(), 2);

    // A stored picture that is not http(s) reaches no format.
    let mut hostile = stories();
    hostile[0].article.image = Some(topicfeed::model::Image::new("javascript:alert(1)"));
    for format in [Format::Rss, Format::Atom, Format::Json] {
        let body = render::render(format, &info(format), &hostile).body;
        assert!(
            !String::from_utf8_lossy(&body).contains("javascript:"),
            "{format:?}"
        );
    }
    let page = render::html::article_page(&hostile[0]);
    assert!(!String::from_utf8_lossy(&page).contains("javascript:"));

    // Stories without media carry none of it.
    let plain = stories();
    let body = render::render(Format::Rss, &info(Format::Rss), &plain).body;
    let text = String::from_utf8(body).unwrap();
    assert!(!text.contains("<enclosure") && !text.contains("xmlns:media"));
}

#[test]
fn every_format_names_its_websub_hub_beside_its_self_link() {
    let hub = "http://127.0.0.1:8080/websub";
    for format in [Format::Rss, Format::Atom] {
        let body = render::render(format, &info(format), &stories()).body;
        let doc = xml(&body);
        let rels: Vec<(&str, &str)> = doc
            .descendants()
            .filter(|n| n.has_tag_name((ATOM, "link")))
            .filter_map(|n| Some((n.attribute("rel")?, n.attribute("href")?)))
            .collect();
        assert!(rels.contains(&("hub", hub)), "{format:?}: {rels:?}");
        assert!(
            rels.contains(&("self", info(format).self_url.as_str())),
            "{format:?}: {rels:?}"
        );
        let feed = feed_rs::parser::parse(&body[..]).unwrap();
        assert!(
            feed.links
                .iter()
                .any(|l| l.rel.as_deref() == Some("hub") && l.href == hub),
            "{format:?}"
        );
    }
    let body = render::render(Format::Json, &info(Format::Json), &stories()).body;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v["hubs"],
        serde_json::json!([{"type": "WebSub", "url": hub}])
    );
}
