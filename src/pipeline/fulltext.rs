//! Full text for thin feed entries: when a source says `full_text = true`,
//! an entry with little body text gets the main content of the page it
//! links to.
//!
//! A page already stored with a full body is not fetched again (the store
//! is asked by canonical URL), so a summary-only feed costs each page
//! once, not every poll; at most [`FullTextOptions::per_poll`] pages are
//! fetched per poll, so a feed seen for the first time is not a burst of
//! fifty requests. Pages are decoded by the same charset policy as every
//! other input (their HTTP charset honoured).

use std::sync::Arc;

use crate::ingest::{self, Boilerplate, Draft, Format, Input, Parsed, identity};
use crate::model::Block;
use crate::sources::{Fetched, Fetcher};
use crate::store::Store;

/// How the pipeline fills thin entries.
#[derive(Debug, Clone)]
pub struct FullTextOptions {
    /// Entries with less body text than this (in characters) get their page.
    pub below: usize,
    /// Most pages fetched for one poll of one source.
    pub per_poll: usize,
}

impl Default for FullTextOptions {
    fn default() -> Self {
        FullTextOptions {
            below: 500,
            per_poll: 10,
        }
    }
}

/// Replaces summary-only bodies with the linked page's main content;
/// returns how many pages were fetched.
pub async fn fill(
    store: &Arc<dyn Store>,
    pages: &Fetcher,
    origin: &str,
    drafts: &mut [Draft],
    opts: &FullTextOptions,
) -> usize {
    let mut fetched = 0;
    for d in drafts.iter_mut() {
        if body_chars(&d.blocks) >= opts.below {
            continue;
        }
        let Some(link) = d.url.clone() else { continue };
        if let Some(canonical) = identity::canonical_url(&link)
            && reuse_stored(store, &canonical, d, opts.below).await
        {
            continue;
        }
        if fetched >= opts.per_poll {
            continue;
        }
        fetched += 1;
        match fetch_page(pages, origin, &link).await {
            Ok(page) => merge_page(d, page, opts.below),
            Err(e) => {
                tracing::info!(%link, error = %e, "full text not fetched; keeping the summary")
            }
        }
    }
    fetched
}

/// Takes the stored body of this entry when the store has it in full.
async fn reuse_stored(
    store: &Arc<dyn Store>,
    canonical: &str,
    d: &mut Draft,
    below: usize,
) -> bool {
    let (store, url) = (store.clone(), canonical.to_owned());
    let stored = tokio::task::spawn_blocking(move || store.get_by_url(&url))
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    let Some(story) = stored else { return false };
    let a = story.article;
    if a.url.as_deref() != Some(canonical) || body_chars(&a.blocks) < below {
        return false;
    }
    // Whatever the page added last time, as `merge_page` did.
    d.blocks = a.blocks;
    d.html = Some(a.content_html);
    d.summary = Some(a.summary);
    if d.authors.is_empty() {
        d.authors = a.authors;
    }
    d.published = d.published.or(a.published);
    d.language = d.language.take().or(a.language);
    true
}

async fn fetch_page(pages: &Fetcher, origin: &str, link: &str) -> Result<Draft, String> {
    let doc = match pages
        .fetch_page(origin, link)
        .await
        .map_err(|e| e.to_string())?
    {
        Fetched::Body(doc, _) => doc,
        Fetched::NotModified(m) | Fetched::Status(m) => {
            return Err(format!("{link}: HTTP {}", m.status));
        }
    };
    let url = doc.url.clone().unwrap_or_else(|| link.to_owned());
    let charset = doc.charset().map(str::to_owned);
    // Page DOMs are !Send and parsing is CPU work: off the async threads.
    tokio::task::spawn_blocking(move || {
        let input = Input::new(&doc.body)
            .with_hint(Some(Format::Html))
            .with_charset(charset.as_deref())
            .with_url(Some(&url));
        match ingest::parse_with(input, Boilerplate::builtin()) {
            Ok(Parsed::Article(draft)) => Ok(*draft),
            Ok(Parsed::Feed(_)) => Err(format!("{url}: a feed, not an article page")),
            Err(e) => Err(format!("{url}: {e}")),
        }
    })
    .await
    .map_err(|e| format!("page extraction task: {e}"))?
}

fn body_chars(blocks: &[Block]) -> usize {
    blocks.iter().map(|b| b.text.chars().count()).sum()
}

/// Takes the page's body when it is longer than the entry's; the entry's
/// own text becomes the summary, and its metadata wins where it has any.
fn merge_page(entry: &mut Draft, page: Draft, min_chars: usize) {
    let page_chars = body_chars(&page.blocks);
    if page_chars <= body_chars(&entry.blocks) || page_chars < min_chars.min(200) {
        return;
    }
    if entry.summary.is_none() && !entry.blocks.is_empty() {
        entry.summary = Some(
            entry
                .blocks
                .iter()
                .map(|b| b.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    entry.blocks = page.blocks;
    entry.html = page.html;
    if entry.authors.is_empty() {
        entry.authors = page.authors;
    }
    entry.published = entry.published.or(page.published);
    entry.language = entry.language.take().or(page.language);
    // The feed's own picture first; the page's when the feed had none.
    entry.image = entry.image.take().or(page.image);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BlockKind;

    #[test]
    fn page_replaces_a_short_body_only() {
        let mut entry = Draft {
            title: "T".into(),
            blocks: vec![Block::new(BlockKind::Paragraph, "Short summary.")],
            ..Draft::default()
        };
        let page = Draft {
            title: "Page".into(),
            blocks: vec![Block::new(BlockKind::Paragraph, "Long text. ".repeat(60))],
            html: Some("<p>Long</p>".into()),
            authors: vec!["Ana".into()],
            ..Draft::default()
        };
        merge_page(&mut entry, page.clone(), 500);
        assert_eq!(entry.title, "T");
        assert_eq!(entry.summary.as_deref(), Some("Short summary."));
        assert_eq!(entry.authors, ["Ana"]);
        assert!(body_chars(&entry.blocks) > 500);
        // A page with less text than the entry changes nothing.
        let mut long = entry.clone();
        merge_page(
            &mut long,
            Draft {
                blocks: vec![Block::new(BlockKind::Paragraph, "x")],
                ..page
            },
            500,
        );
        assert_eq!(long.blocks, entry.blocks);
    }
}
