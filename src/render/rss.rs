//! RSS 2.0 with the `rss` crate: channel metadata, `atom:link` self and
//! paging links, `content:encoded`, `dc:creator`, a `category` per topic.

use std::collections::BTreeMap;

use rss::extension::Extension;
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Item};

use super::{FeedInfo, GENERATOR, feed_updated, item_link, item_published, xml_text};
use crate::model::Story;

const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

fn atom_link(rel: &str, href: &str) -> Link {
    let mut l = Link::default();
    l.set_rel(rel);
    l.set_href(href);
    l.set_mime_type(Some("application/rss+xml".to_owned()));
    l
}

pub fn render(info: &FeedInfo, stories: &[Story]) -> Vec<u8> {
    let mut links = vec![atom_link("self", &info.self_url)];
    if let Some(first) = &info.first_url {
        links.push(atom_link("first", first));
    }
    if let Some(next) = &info.next_url {
        links.push(atom_link("next", next));
    }
    if let Some(previous) = &info.previous_url {
        links.push(atom_link("previous", previous));
    }
    if let Some(hub) = &info.hub_url {
        let mut l = Link::default();
        l.set_rel("hub");
        l.set_href(hub.clone());
        links.push(l);
    }
    let mut atom = AtomExtension::default();
    atom.set_links(links);

    let items: Vec<Item> = stories.iter().map(|s| item(info, s)).collect();
    let mut channel = Channel::default();
    channel.set_title(xml_text(&info.title));
    channel.set_link(info.home_url.clone());
    channel.set_description(xml_text(&info.description));
    channel.set_last_build_date(Some(feed_updated(info, stories).to_rfc2822()));
    channel.set_ttl(Some(info.ttl_minutes.to_string()));
    channel.set_generator(Some(GENERATOR.to_owned()));
    // The small picture: RSS allows at most 144 pixels wide. Its title and
    // link are the channel's, as validators expect.
    let mut image = rss::Image::default();
    image.set_url(xml_text(&info.images.favicon));
    image.set_title(xml_text(&info.title));
    image.set_link(info.home_url.clone());
    channel.set_image(Some(image));
    channel.set_language(super::identity::shared_language(stories).map(xml_text));
    channel.set_atom_ext(Some(atom));
    channel.set_items(items);
    let mut namespaces = BTreeMap::new();
    namespaces.insert("atom".to_owned(), "http://www.w3.org/2005/Atom".to_owned());
    namespaces.insert(
        "content".to_owned(),
        "http://purl.org/rss/1.0/modules/content/".to_owned(),
    );
    namespaces.insert(
        "dc".to_owned(),
        "http://purl.org/dc/elements/1.1/".to_owned(),
    );
    if stories
        .iter()
        .any(|s| super::lead_image(&s.article).is_some())
    {
        namespaces.insert("media".to_owned(), MEDIA_NS.to_owned());
    }
    channel.set_namespaces(namespaces);
    let mut out = Vec::new();
    // Writing to a Vec cannot fail; an error here would be a bug in the writer.
    if let Err(e) = channel.write_to(&mut out) {
        tracing::error!(error = %e, "RSS writer failed");
    }
    out
}

fn item(info: &FeedInfo, story: &Story) -> Item {
    let a = &story.article;
    let link = item_link(info, story);
    let mut guid = Guid::default();
    // A permalink only when the guid is the article's own URL; a server
    // page URL would change with the host, so those items get the URN.
    match super::own_link(story) {
        Some(url) => {
            guid.set_value(xml_text(url));
            guid.set_permalink(true);
        }
        None => {
            guid.set_value(super::item_id(story));
            guid.set_permalink(false);
        }
    }
    let mut dc = DublinCoreExtension::default();
    if !a.authors.is_empty() {
        dc.set_creators(vec![xml_text(&a.authors.join(", "))]);
    }
    let mut item = Item::default();
    item.set_title(Some(xml_text(&a.title)));
    item.set_link(Some(link));
    // <description> is HTML to readers: the plain-text summary is escaped,
    // so "<script>" in it stays text.
    item.set_description(Some(xml_text(&html_escape::encode_text(&a.summary))));
    let credits = super::provenance::credits(story);
    item.set_content(Some(xml_text(&super::item_html(a, &credits, true))));
    media(&mut item, story);
    // The first-seen copy's source, where it has a page.
    if let Some(first) = credits.first()
        && let Some(url) = first.url
    {
        let mut source = rss::Source::default();
        source.set_url(xml_text(url));
        source.set_title(Some(xml_text(&first.name)));
        item.set_source(Some(source));
    }
    item.set_guid(Some(guid));
    item.set_pub_date(Some(item_published(story).to_rfc2822()));
    item.set_categories(
        info.shown_topics(a)
            .map(|t| {
                let mut c = Category::default();
                c.set_name(xml_text(t));
                c
            })
            .collect::<Vec<_>>(),
    );
    item.set_dublin_core_ext(Some(dc));
    item
}

/// The item's files and picture where readers look for them. RSS has one
/// `<enclosure>` per item (readers take the first, validators warn at a
/// second): an upstream media file (a podcast's audio) keeps it, unchanged;
/// else the picture takes it. The picture is also Media RSS
/// `media:content medium="image"` and `media:thumbnail`, which is where
/// most readers find item images.
fn media(item: &mut Item, story: &Story) {
    let a = &story.article;
    let image = super::lead_image(a);
    let enclosure = match (super::enclosures(a).next(), image) {
        (Some(file), _) => Some((file.url.as_str(), file.length, file.mime.as_str())),
        (None, Some(img)) => Some((img.url.as_str(), 0, img.mime_or_guess())),
        (None, None) => None,
    };
    if let Some((url, length, mime)) = enclosure {
        let mut e = rss::Enclosure::default();
        e.set_url(xml_text(url));
        e.set_length(length.to_string());
        e.set_mime_type(xml_text(mime));
        item.set_enclosure(Some(e));
    }
    let Some(img) = image else {
        return;
    };
    let element = |name: &str, attrs: &[(&str, &str)], children: Vec<(&str, Extension)>| {
        let mut e = Extension::default();
        e.set_name(format!("media:{name}"));
        e.attrs = attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), xml_text(v)))
            .collect();
        for (child, ext) in children {
            e.children.entry(child.to_owned()).or_default().push(ext);
        }
        e
    };
    let text = |name: &str, value: &str| {
        let mut e = Extension::default();
        e.set_name(format!("media:{name}"));
        e.set_value(Some(xml_text(value)));
        e
    };
    let mut about = Vec::new();
    if let Some(c) = &img.caption {
        about.push(("description", text("description", c)));
    }
    if let Some(c) = &img.credit {
        about.push(("credit", text("credit", c)));
    }
    let content = element(
        "content",
        &[
            ("url", &img.url),
            ("medium", "image"),
            ("type", img.mime_or_guess()),
        ],
        about,
    );
    let thumbnail = element("thumbnail", &[("url", &img.url)], Vec::new());
    let mut media: BTreeMap<String, Vec<Extension>> = BTreeMap::new();
    media.insert("content".to_owned(), vec![content]);
    media.insert("thumbnail".to_owned(), vec![thumbnail]);
    let mut map = rss::extension::ExtensionMap::new();
    map.insert("media".to_owned(), media);
    item.set_extensions(map);
}
