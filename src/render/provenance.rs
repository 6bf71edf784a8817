//! Who else ran a story: when copies from several sources were merged into
//! one story, every format names them the way its readers look for them.
//! The item's id, link and dates stay those of the first-seen copy; the
//! others are credited, with links where they have http(s) ones.
//!
//! - RSS: `<source url="…">` names the first-seen copy's source.
//! - Atom: `<source>` holds the same, as RFC 4287 has it.
//! - JSON Feed: `_topicfeed.sources` lists every source.
//! - The HTML content of every format, and the article's page, end in an
//!   "Also reported by …" line naming the other copies.

use std::borrow::Cow;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use crate::model::{SourceRef, Story, is_http_url};

/// One source as a reader sees it credited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit<'a> {
    /// The site's name, else its URL's host.
    pub name: Cow<'a, str>,
    /// The copy's own page, when it is http(s).
    pub url: Option<&'a str>,
}

/// Every source of a story that has copies from more than one, first-seen
/// first; empty for a story of one source (nothing to credit beyond its
/// link). Sources without a name or a host are left out, and so is a
/// source named twice (two copies from one site).
pub fn credits(story: &Story) -> Vec<Credit<'_>> {
    if story.sources.len() < 2 {
        return Vec::new();
    }
    let mut out: Vec<Credit<'_>> = Vec::with_capacity(story.sources.len());
    for source in &story.sources {
        let Some(credit) = credit(source) else {
            continue;
        };
        if !out
            .iter()
            .any(|c| c.name.to_lowercase() == credit.name.to_lowercase())
        {
            out.push(credit);
        }
    }
    if out.len() < 2 {
        // One site under several ids is no provenance to show.
        out.clear();
    }
    out
}

fn credit(source: &SourceRef) -> Option<Credit<'_>> {
    let url = source.url.as_deref().filter(|u| is_http_url(u));
    let name = match source
        .site
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(site) => Cow::Borrowed(site),
        None => {
            let host = url::Url::parse(url?).ok()?.host_str()?.to_owned();
            Cow::Owned(host.strip_prefix("www.").map(str::to_owned).unwrap_or(host))
        }
    };
    Some(Credit { name, url })
}

/// The "Also reported by …" paragraph for the copies after the first, as
/// HTML; `None` when there are none.
pub fn also_reported_html(credits: &[Credit<'_>]) -> Option<String> {
    let others = credits.get(1..).filter(|o| !o.is_empty())?;
    let names: Vec<String> = others
        .iter()
        .map(|c| match c.url {
            Some(url) => format!("<a href=\"{}\">{}</a>", attr(url), text(&c.name)),
            None => text(&c.name).into_owned(),
        })
        .collect();
    Some(format!("<p>Also reported by {}.</p>", names.join(", ")))
}

/// `html` with the "Also reported by" paragraph after it, when the story
/// has one.
pub fn with_credits<'h>(html: Cow<'h, str>, credits: &[Credit<'_>]) -> Cow<'h, str> {
    match also_reported_html(credits) {
        Some(line) => Cow::Owned(format!("{html}{line}")),
        None => html,
    }
}
