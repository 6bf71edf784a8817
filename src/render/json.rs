//! JSON Feed 1.1 with `serde_json`.

use std::borrow::Cow;

use serde::Serialize;

use super::{FeedInfo, item_id, item_link, item_published, item_updated};
use crate::model::Story;
use crate::model::rfc3339;

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    icon: &'a str,
    favicon: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<&'a str>,
    authors: [Author<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: String,
    url: String,
    title: &'a str,
    summary: &'a str,
    content_html: Cow<'a, str>,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
    /// topicfeed's extension (JSON Feed allows keys starting with `_`).
    #[serde(skip_serializing_if = "Option::is_none")]
    _topicfeed: Option<Extension<'a>>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
}

#[derive(Serialize)]
struct Extension<'a> {
    /// Every source of a merged story, the first-seen copy first.
    sources: Vec<JsonSource<'a>>,
}

#[derive(Serialize)]
struct JsonSource<'a> {
    name: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

pub fn render(info: &FeedInfo, stories: &[Story]) -> Vec<u8> {
    let items = stories
        .iter()
        .map(|s| {
            let a = &s.article;
            let credits = super::provenance::credits(s);
            let content_html = super::item_html(a, &credits, false);
            let extension = (!credits.is_empty()).then(|| Extension {
                sources: credits
                    .into_iter()
                    .map(|c| JsonSource {
                        name: c.name,
                        url: c.url,
                    })
                    .collect(),
            });
            JsonItem {
                id: item_id(s),
                url: item_link(info, s),
                title: &a.title,
                summary: &a.summary,
                content_html,
                date_published: rfc3339(&item_published(s)),
                date_modified: rfc3339(&item_updated(s)),
                authors: a.authors.iter().map(|n| Author { name: n }).collect(),
                tags: info
                    .shown_topics(a)
                    .chain(&a.tags)
                    .map(String::as_str)
                    .collect(),
                language: a.language.as_deref(),
                image: super::lead_image(a).map(|i| i.url.as_str()),
                attachments: super::enclosures(a)
                    .map(|f| Attachment {
                        url: &f.url,
                        mime_type: &f.mime,
                        size_in_bytes: (f.length > 0).then_some(f.length),
                    })
                    .collect(),
                _topicfeed: extension,
            }
        })
        .collect();
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &info.title,
        home_page_url: &info.home_url,
        feed_url: &info.self_url,
        description: &info.description,
        icon: &info.images.icon,
        favicon: &info.images.favicon,
        language: super::identity::shared_language(stories),
        next_url: info.next_url.as_deref(),
        authors: [Author { name: "topicfeed" }],
        hubs: info
            .hub_url
            .iter()
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .collect(),
        items,
    };
    // Serializing plain structs of strings cannot fail.
    serde_json::to_vec(&feed).unwrap_or_default()
}
