//! HTML for people: the index of topics, a feed read in a browser, and an
//! article's own page. Every piece of stored text is escaped with
//! `html-escape`; article bodies are the sanitized `content_html`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::{FeedInfo, Format, item_link, item_published};
use crate::model::Story;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}\
a{color:#0645ad}table{border-collapse:collapse;width:100%}td,th{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left}\
.hint{background:#fff8dc;border:1px solid #e6d9a8;padding:.75rem 1rem;border-radius:6px}\
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px;word-break:break-all}\
article{border-bottom:1px solid #eee;padding:.5rem 0;overflow:auto}.meta{color:#666;font-size:.9em}\
img{max-width:100%;height:auto}.lead{float:right;width:9rem;max-height:7rem;object-fit:cover;margin:.5rem 0 .5rem 1rem;border-radius:4px}";

fn page(title: &str, head_extra: &str, body: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title>{head_extra}<style>{STYLE}</style></head><body>{body}</body></html>\n",
        text(title)
    )
    .into_bytes()
}

/// One row of the index.
pub struct TopicRow<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub count: u64,
    pub last_changed: Option<DateTime<Utc>>,
}

/// `/`: the topics, with counts, last update and subscribe links, and
/// autodiscovery `<link rel="alternate">` tags for readers.
/// One upstream source, for the health table.
pub struct SourceRow<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub healthy: bool,
    pub last_error: Option<&'a str>,
    pub last_success: Option<DateTime<Utc>>,
    pub next_poll: Option<DateTime<Utc>>,
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

pub fn index(base: &str, total: u64, rows: &[TopicRow<'_>], sources: &[SourceRow<'_>]) -> Vec<u8> {
    let mut head = String::new();
    let mut body = String::from(
        "<h1>topicfeed</h1><p>Topic feeds from many sources, cleaned and de-duplicated. \
Copy a feed link into your feed reader, or import <a href=\"/feeds.opml\">all feeds (OPML)</a>.</p>\
<table><thead><tr><th>Topic</th><th>Stories</th><th>Last update</th><th>Subscribe</th></tr></thead><tbody>",
    );
    let mut all = vec![TopicRow {
        slug: "all",
        title: "All stories",
        description: "Every story, in every topic",
        count: total,
        last_changed: rows.iter().filter_map(|r| r.last_changed).max(),
    }];
    all.extend(rows.iter().map(|r| TopicRow { ..*r }));
    for r in &all {
        for (f, mime) in [
            (Format::Rss, "application/rss+xml"),
            (Format::Atom, "application/atom+xml"),
            (Format::Json, "application/feed+json"),
        ] {
            let _ = write!(
                head,
                "<link rel=\"alternate\" type=\"{mime}\" title=\"{} ({})\" href=\"{}/feeds/{}.{}\">",
                attr(r.title),
                f.ext(),
                attr(base),
                attr(r.slug),
                f.ext()
            );
        }
        let updated = when(r.last_changed);
        let _ = write!(
            body,
            "<tr><td><a href=\"/feeds/{slug}\">{title}</a><br><span class=\"meta\">{desc}</span></td><td>{count}</td><td>{updated}</td>\
<td><a href=\"/feeds/{slug}.rss\">RSS</a> · <a href=\"/feeds/{slug}.atom\">Atom</a> · <a href=\"/feeds/{slug}.json\">JSON</a></td></tr>",
            slug = attr(r.slug),
            title = text(r.title),
            desc = text(r.description),
            count = r.count,
        );
    }
    body.push_str("</tbody></table>");
    if !sources.is_empty() {
        body.push_str(
            "<h2>Sources</h2><table><thead><tr><th>Source</th><th>Status</th><th>Last success</th><th>Next poll</th></tr></thead><tbody>",
        );
        for s in sources {
            let status = if s.healthy {
                "ok".to_owned()
            } else {
                format!("failing: {}", text(s.last_error.unwrap_or("unknown error")))
            };
            let _ = write!(
                body,
                "<tr><td>{}<br><span class=\"meta\">{}</span></td><td>{status}</td><td>{}</td><td>{}</td></tr>",
                text(s.name),
                text(s.url),
                when(s.last_success),
                when(s.next_poll)
            );
        }
        body.push_str("</tbody></table>");
    }
    page("topicfeed", &head, &body)
}

/// A feed opened in a browser: readable, with the URL to copy into a reader.
pub fn feed_page(info: &FeedInfo, feed_url: &str, stories: &[Story]) -> Vec<u8> {
    let head = format!(
        "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"{}\">",
        attr(feed_url)
    );
    let mut body = format!(
        "<h1>{}</h1><p>{}</p><p class=\"hint\">This is a news feed. To follow it, copy this URL into your feed reader:<br><code>{}</code></p>",
        text(&info.title),
        text(&info.description),
        text(feed_url)
    );
    if stories.is_empty() {
        body.push_str("<p>No stories yet.</p>");
    }
    for s in stories {
        let a = &s.article;
        let picture = super::lead_image(a)
            .map(|i| {
                format!(
                    "<img class=\"lead\" src=\"{}\" alt=\"{}\" loading=\"lazy\">",
                    attr(&i.url),
                    attr(i.caption.as_deref().unwrap_or(""))
                )
            })
            .unwrap_or_default();
        let _ = write!(
            body,
            "<article>{picture}<h2><a href=\"{}\">{}</a></h2><p class=\"meta\">{} · {}</p><p>{}</p></article>",
            attr(&item_link(info, s)),
            text(&a.title),
            text(a.site.as_deref().unwrap_or("")),
            item_published(s).format("%Y-%m-%d %H:%M UTC"),
            text(&a.summary)
        );
        if let Some(line) = super::provenance::also_reported_html(&super::provenance::credits(s)) {
            // Inside the story's <article>, under its summary.
            body.truncate(body.len() - "</article>".len());
            body.push_str(&line);
            body.push_str("</article>");
        }
    }
    if let Some(next) = &info.next_url {
        let _ = write!(
            body,
            "<p><a href=\"{}\">Older stories →</a></p>",
            attr(next)
        );
    }
    page(&info.title, &head, &body)
}

/// `/articles/{id}`: an article without a URL of its own, with the other
/// sources that ran it.
pub fn article_page(story: &Story) -> Vec<u8> {
    let a = &story.article;
    let mut body = format!(
        "<p><a href=\"/\">topicfeed</a></p><h1>{}</h1><p class=\"meta\">",
        text(&a.title)
    );
    let mut meta = Vec::new();
    if let Some(site) = &a.site {
        meta.push(text(site).into_owned());
    }
    if !a.authors.is_empty() {
        meta.push(text(&a.authors.join(", ")).into_owned());
    }
    if let Some(p) = a.published {
        meta.push(p.format("%Y-%m-%d %H:%M UTC").to_string());
    }
    body.push_str(&meta.join(" · "));
    body.push_str("</p>");
    body.push_str(&super::content::with_lead_image(
        std::borrow::Cow::Borrowed(a.content_html.as_str()),
        super::lead_image(a),
    ));
    if let Some(line) = super::provenance::also_reported_html(&super::provenance::credits(story)) {
        body.push_str(&line);
    }
    page(&a.title, "", &body)
}
