//! Atom 1.0 (RFC 4287) with `atom_syndication`: feed id, self/alternate and
//! RFC 5005 paging links, author, and per entry id, updated, published,
//! author, link, summary, `content type="html"` and categories.

use atom_syndication::{Category, Content, Entry, Feed, Generator, Link, Person, Source, Text};
use chrono::{DateTime, FixedOffset, Utc};

use super::{
    FeedInfo, GENERATOR, feed_updated, item_id, item_link, item_published, item_updated, xml_text,
};
use crate::model::Story;

/// A link; its URL and type are stored text, made XML-safe as the rest is.
fn link(rel: &str, href: &str, mime: &str) -> Link {
    let mut l = Link::default();
    l.set_rel(rel);
    l.set_href(xml_text(href));
    l.set_mime_type(Some(xml_text(mime)));
    l
}

fn fixed(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.fixed_offset()
}

fn person(name: &str) -> Person {
    let mut p = Person::default();
    p.set_name(xml_text(name));
    p
}

pub fn render(info: &FeedInfo, stories: &[Story]) -> Vec<u8> {
    let mut links = vec![
        link("self", &info.self_url, "application/atom+xml"),
        link("alternate", &info.home_url, "text/html"),
    ];
    if let Some(first) = &info.first_url {
        links.push(link("first", first, "application/atom+xml"));
    }
    if let Some(next) = &info.next_url {
        links.push(link("next", next, "application/atom+xml"));
    }
    if let Some(previous) = &info.previous_url {
        links.push(link("previous", previous, "application/atom+xml"));
    }
    let mut generator = Generator::default();
    generator.set_value(GENERATOR);
    let mut feed = Feed::default();
    feed.set_id(info.id.clone());
    feed.set_title(Text::plain(xml_text(&info.title)));
    feed.set_subtitle(Some(Text::plain(xml_text(&info.description))));
    feed.set_updated(fixed(feed_updated(info, stories)));
    // RFC 4287 wants an author on the feed or on every entry; the feed's
    // own is the service, entries name their writers where known.
    feed.set_authors(vec![person("topicfeed")]);
    if let Some(hub) = &info.hub_url {
        let mut l = Link::default();
        l.set_rel("hub");
        l.set_href(hub.clone());
        links.push(l);
    }
    feed.set_links(links);
    feed.set_generator(Some(generator));
    feed.set_icon(Some(xml_text(&info.images.icon)));
    feed.set_logo(Some(xml_text(&info.images.logo)));
    feed.set_lang(super::identity::shared_language(stories).map(xml_text));
    feed.set_entries(stories.iter().map(|s| entry(info, s)).collect::<Vec<_>>());
    let mut out = Vec::new();
    if let Err(e) = feed.write_to(&mut out) {
        tracing::error!(error = %e, "Atom writer failed");
    }
    out
}

fn entry(info: &FeedInfo, story: &Story) -> Entry {
    let a = &story.article;
    let mut e = Entry::default();
    e.set_id(item_id(story));
    e.set_title(Text::plain(xml_text(&a.title)));
    e.set_updated(fixed(item_updated(story)));
    e.set_published(Some(fixed(item_published(story))));
    let mut authors: Vec<Person> = a.authors.iter().map(|n| person(n)).collect();
    if authors.is_empty() {
        authors.push(person(a.site.as_deref().unwrap_or("topicfeed")));
    }
    e.set_authors(authors);
    let mut links = vec![link("alternate", &item_link(info, story), "text/html")];
    // Files first, as upstream gave them; then the picture.
    for file in super::enclosures(a) {
        let mut l = link("enclosure", &file.url, &file.mime);
        if file.length > 0 {
            l.set_length(Some(file.length.to_string()));
        }
        links.push(l);
    }
    if let Some(img) = super::lead_image(a) {
        links.push(link("enclosure", &img.url, img.mime_or_guess()));
    }
    e.set_links(links);
    e.set_summary(Some(Text::plain(xml_text(&a.summary))));
    let credits = super::provenance::credits(story);
    let mut content = Content::default();
    content.set_content_type(Some("html".to_owned()));
    content.set_value(Some(xml_text(&super::item_html(a, &credits, true))));
    e.set_content(Some(content));
    // The first-seen copy's source (RFC 4287 4.2.11), with what a reader
    // shows of it: a title, an id, a link.
    if let Some(first) = credits.first() {
        let mut source = Source::default();
        source.set_title(Text::plain(xml_text(&first.name)));
        source.set_id(match first.url {
            Some(url) => xml_text(url),
            None => format!("urn:topicfeed:article:{}", story.sources[0].article_id),
        });
        source.set_updated(fixed(item_updated(story)));
        if let Some(url) = first.url {
            source.set_links(vec![link("alternate", url, "text/html")]);
        }
        e.set_source(Some(source));
    }
    e.set_categories(
        info.shown_topics(a)
            .map(|t| {
                let mut c = Category::default();
                c.set_term(xml_text(t));
                c
            })
            .collect::<Vec<_>>(),
    );
    e
}
