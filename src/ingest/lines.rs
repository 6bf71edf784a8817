//! The line engine every parser shares: body text → a [`Body`] (blocks,
//! authors, dates).
//!
//! A plain-text scrape after its title line (`text`), and the plain-text
//! bodies of JSON exports and feed entries, come here as text; the HTML
//! walker borrows the byline and date rules (`meta`). The text is cut into
//! cleaned lines ([`lines`]), and each line is classified by the tables in
//! `boilerplate.toml`: end of article, junk, list of other stories, byline
//! or stated date (`meta`, names through `byline`), credit, or content.
//! The content lines are then made into blocks (`shape`).

use std::iter::Peekable;
use std::sync::LazyLock;
use std::vec;

use regex::Regex;

use chrono::{DateTime, Utc};

use super::boilerplate::{Boilerplate, word_count};
use super::byline::{bare_byline, bare_byline_above, is_role};
use super::clean::clean_line;
use super::dates::is_relative_date;
use super::meta::{Kind, meta_line};
use super::shape::shape;
use crate::model::Block;

/// A non-empty, cleaned line and how many blank lines came before it.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub(super) text: String,
    pub(super) gap: usize,
    pub(super) words: usize,
    /// Where it stood among the page's lines, and whether the lines next to
    /// it stood right against it (no blank line): a line glued to lines that
    /// were dropped as clutter may belong to their box.
    pub(super) at: Placed,
}

/// See [`Line::at`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Placed {
    /// Index among the page's non-empty lines; a line rejoined from
    /// several (a paragraph a scrape broke) spans `first..=last`.
    pub(super) first: usize,
    pub(super) last: usize,
    /// No blank line above it (its `gap` may be widened by dropped lines).
    pub(super) glued_above: bool,
    /// No blank line below it.
    pub(super) glued_below: bool,
}

/// Splits text into cleaned non-empty lines, remembering blank-line gaps.
/// A text-browser dump (lynx, w3m) is read as the page it shows: its
/// `[12]` link markers go and the lines it wrapped at the screen's width
/// are joined again.
pub(super) fn lines(text: &str) -> Vec<Line> {
    let dump = text_browser_dump(text);
    let mut out: Vec<Line> = Vec::new();
    let mut gap = 0;
    let mut prev_width = 0;
    let mut prev_indent = 0;
    for original in text.split('\n') {
        let raw = if dump {
            LINK_MARKER.replace_all(original, "")
        } else {
            original.into()
        };
        let text = clean_line(&raw);
        if text.is_empty() {
            gap += 1;
            continue;
        }
        // The dump wrapped the line as printed, link markers included.
        // Only a dump wraps, and counting characters costs a pass per line.
        let width = if dump {
            original.trim_end().chars().count()
        } else {
            0
        };
        // The dump indents what it renders; a line at the margin above it
        // (the page title a scraper put first) is not continued by it.
        // Centred headlines wrap to other indents, so only the margin counts.
        let indent = raw.len() - raw.trim_start().len();
        let wrapped = dump
            && gap == 0
            && prev_width >= WRAPPED_WIDTH
            && (prev_indent > 0 || indent == 0)
            && super::shape::list_item(raw.trim_start()).is_none();
        match out.last_mut() {
            Some(prev) if wrapped => {
                prev.text.push(' ');
                prev.text.push_str(&text);
                prev.words += word_count(&text);
            }
            _ => {
                let words = word_count(&text);
                if let Some(prev) = out.last_mut() {
                    prev.at.glued_below = gap == 0;
                }
                let at = Placed {
                    first: out.len(),
                    last: out.len(),
                    glued_above: gap == 0 && !out.is_empty(),
                    glued_below: false,
                };
                out.push(Line {
                    text,
                    gap,
                    words,
                    at,
                });
            }
        }
        prev_width = width;
        prev_indent = indent;
        gap = 0;
    }
    out
}

/// A dump's line this wide was wrapped by the browser, not ended by the
/// page (lynx wraps at 76-79 columns; a byline or date line ends well
/// before).
const WRAPPED_WIDTH: usize = 60;

static LINK_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[\d{1,4}\]").unwrap_or_else(|e| panic!("LINK_MARKER regex: {e}"))
});

/// A text-browser dump: numbered link markers, and most text lines
/// indented and no wider than a terminal.
fn text_browser_dump(text: &str) -> bool {
    // Markers first: one memchr-driven scan settles most documents.
    if LINK_MARKER.find_iter(text).take(5).count() < 5 {
        return false;
    }
    let mut lines = 0usize;
    let mut indented = 0usize;
    let mut narrow = 0usize;
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        lines += 1;
        indented += usize::from(l.starts_with("   "));
        narrow += usize::from(l.chars().count() <= 80);
    }
    indented * 2 >= lines && narrow * 10 >= lines * 9
}

/// What the body lines gave.
#[derive(Debug, Default)]
pub(super) struct Body {
    pub(super) blocks: Vec<Block>,
    pub(super) authors: Vec<String>,
    pub(super) published: Option<DateTime<Utc>>,
    /// `published` came from a labelled line ("Published: …").
    pub(super) published_labelled: bool,
    pub(super) updated: Option<DateTime<Utc>>,
}

/// How many lines after the byline and date a caption with its credit
/// glued under it may stand.
const CAPTION_REACH: usize = 3;

/// A caption longer than this is rare; a lede this short under a lone
/// credit line is rarer.
const MAX_CAPTION_WORDS: usize = 40;

/// Body paragraphs before a comment's timestamp can end the article: a
/// standfirst that reads as a sentence may stand above "Hace 3 horas".
const COMMENTS_AFTER: usize = 2;

/// Lines longer than this are body text: no boilerplate runs that long.
const MAX_BOILERPLATE_WORDS: usize = 40;

/// Classifies body lines, then shapes the content into blocks.
pub(super) fn parse_body(lines: Vec<Line>, rules: &Boilerplate) -> Body {
    parse_page(lines, rules, None, None)
}

/// [`parse_body`] for a page whose site name is known: a line where the
/// site names itself beside pitch words is its own promotion. `headline_at`
/// is the page line of the on-page headline, when it was found.
pub(super) fn parse_page(
    lines: Vec<Line>,
    rules: &Boilerplate,
    site: Option<&str>,
    headline_at: Option<usize>,
) -> Body {
    let mut pass = BodyPass::default();
    let mut ended = false;
    let mut iter = lines.into_iter().peekable();
    while let Some(line) = iter.next() {
        let gap = line.gap.max(pass.carried_gap);
        // Boilerplate is short; a long paragraph skips every table.
        if line.words > MAX_BOILERPLATE_WORDS {
            pass.keep(line, gap, true);
            continue;
        }
        let class = rules.classify(&line.text);
        if class.end {
            // Above the story ("Comment 212" beside the byline, navigation
            // at the top of the page) it is only page furniture.
            if pass.body_seen == 0 {
                pass.skip(gap);
                continue;
            }
            ended = true;
            break;
        }
        // A comment's timestamp ("hace 3 horas") only ends the article once
        // its body has begun: above it, it is the page's own date.
        if pass.body_seen >= COMMENTS_AFTER && class.comment {
            ended = true;
            break;
        }
        if class.list_header {
            skip_listed_stories(&mut iter, rules);
            pass.skip(gap);
        } else if class.credit {
            pass.drop_caption_above(line.gap);
            pass.skip(gap);
        } else if (class.junk || pass.in_lead()) && is_relative_date(&line.text, rules) {
            // "3 hours ago" says nothing a stored story can keep, but
            // above the story it stands where the date does, beside the
            // byline.
            if pass.in_lead() {
                pass.after_meta_line(gap, rules);
            }
            pass.skip(gap);
        } else if class.junk
            || role_only(&line, rules)
            || pass.take_meta(&line.text, gap, rules)
            || pass.take_byline_below(&line, rules)
        {
            pass.skip(gap);
        } else {
            let paragraph = is_body_paragraph(&line.text);
            pass.keep(line, gap, paragraph);
        }
    }
    let BodyPass {
        mut body,
        content,
        after_meta,
        ..
    } = pass;
    body.blocks = shape(content, ended, after_meta, rules, site, headline_at);
    body
}

/// What the body pass has gathered so far.
#[derive(Default)]
struct BodyPass {
    /// Metadata found so far; its blocks are filled at the end.
    body: Body,
    /// The lines kept as content.
    content: Vec<Line>,
    /// Index into `content` of the first line after a byline or date line.
    after_meta: Option<usize>,
    /// Blank lines before dropped lines still separate the lines around
    /// them, so the widest gap carries over to the next kept line.
    carried_gap: usize,
    /// Body paragraphs so far: bylines may follow a standfirst that reads
    /// like a paragraph, or a caption, but not the story itself.
    body_seen: usize,
    /// The last line taken was a byline or date line, with no content
    /// since: a line of names right under it is the byline.
    under_meta: bool,
}

impl BodyPass {
    fn keep(&mut self, line: Line, gap: usize, paragraph: bool) {
        self.under_meta = false;
        self.body_seen += usize::from(paragraph);
        self.carried_gap = 0;
        self.content.push(Line { gap, ..line });
    }

    fn skip(&mut self, gap: usize) {
        self.carried_gap = self.carried_gap.max(gap);
    }

    /// Takes a byline or date line into the metadata; false when the line
    /// is neither.
    fn take_meta(&mut self, text: &str, gap: usize, rules: &Boilerplate) -> bool {
        if meta_line(text, self.in_lead(), rules, &mut self.body) == Kind::Content {
            return false;
        }
        self.after_meta_line(gap, rules);
        true
    }

    /// Bylines only count above the first real paragraph.
    fn in_lead(&self) -> bool {
        self.body_seen < 3
    }

    /// Bookkeeping after a byline or date line was taken.
    fn after_meta_line(&mut self, gap: usize, rules: &Boilerplate) {
        // A date line straight under a line of names makes those names a
        // byline without its "By".
        if self.body.authors.is_empty()
            && gap <= 1
            && let Some((at, names)) = bare_byline_above(&self.content, rules)
        {
            self.content.truncate(at);
            self.body.authors = names;
        }
        self.after_meta.get_or_insert(self.content.len());
        self.under_meta = true;
    }

    /// A photo credit under the first line after the byline and date makes
    /// that line the caption of the page's lead image, even when it reads
    /// as a sentence ("Landowner Wes Harbaugh speaks against the rule…").
    /// So does a credit glued right under one of the first few lines
    /// after them (an audio player's "Listen • 4:12" may come first).
    fn drop_caption_above(&mut self, credit_gap: usize) {
        let Some(first) = self.after_meta else {
            return;
        };
        let glued_near = credit_gap == 0 && self.content.len() <= first + CAPTION_REACH;
        if (self.content.len() == first + 1 || (glued_near && self.content.len() > first))
            && let Some(caption) = self.content.last()
            && caption.words <= MAX_CAPTION_WORDS
        {
            self.body_seen -= usize::from(is_body_paragraph(&caption.text));
            self.content.pop();
        }
    }

    /// "27 November 2024 21:30 GMT / Ciarán Mallon": names straight under a
    /// date line are the byline without its "By" (the role line under
    /// them goes as [`role_only`]).
    fn take_byline_below(&mut self, line: &Line, rules: &Boilerplate) -> bool {
        // The line's own gap: the blank lines above the date line carry
        // over, but the names must stand right under it, or set apart by
        // one blank line as a line of their own.
        if !self.under_meta || line.gap > 1 || self.body_seen >= 3 {
            return false;
        }
        if !self.body.authors.is_empty() {
            return false;
        }
        let Some(names) = bare_byline(line, rules) else {
            return false;
        };
        self.body.authors = names;
        true
    }
}

/// "Staff Writers", "Senior Correspondent": a byline's role without its
/// names, or a desk label.
/// Under a bare byline it is the byline's second line ("Ciarán Mallon /
/// Health Correspondent").
fn role_only(line: &Line, rules: &Boilerplate) -> bool {
    line.words <= 4
        && !ends_sentence(&line.text)
        && line.text.split_whitespace().all(|w| is_role(w, rules))
}

/// Skips the headlines listed under a list header ("Related Articles").
/// Items stand one per line, spaced like the first one; a change of
/// spacing ends the list.
fn skip_listed_stories(iter: &mut Peekable<vec::IntoIter<Line>>, rules: &Boilerplate) {
    let mut skipped = 0;
    let mut spacing = None;
    while let Some(next) = iter.peek() {
        let spaced = *spacing.get_or_insert(next.gap);
        if skipped >= 6
            || next.gap != spaced
            || spaced >= 2
            || !headline_like(&next.text)
            // What the tables know is handled as itself: an end
            // marker after the list still ends the article.
            || {
                let c = rules.classify(&next.text);
                c.end || c.list_header || c.junk
            }
        {
            break;
        }
        iter.next();
        skipped += 1;
    }
}

/// A finished sentence of some length, or a long line: body, not lead.
pub(super) fn is_body_paragraph(text: &str) -> bool {
    let words = word_count(text);
    (ends_sentence(text) && words >= 8) || words >= 30
}

/// A line listing another story: short, and not a finished sentence.
fn headline_like(text: &str) -> bool {
    let words = word_count(text);
    words <= 20 && !ends_sentence(text)
}

pub(super) fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end_matches(['"', '”', '’', '\'', '»', '“', '‘', '›', ')', ']', ' ']);
    t.ends_with(['.', '!', '?', '…', ';', ':'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BlockKind;

    fn run(text: &str) -> Body {
        parse_body(lines(text), Boilerplate::builtin())
    }

    fn texts(body: &Body) -> Vec<&str> {
        body.blocks.iter().map(|b| b.text.as_str()).collect()
    }

    #[test]
    fn caption_standfirst_byline_date() {
        let body = run(
            "Workers gather at the north gate on Monday morning\nDock workers say talks have stalled\n\nBy Jane Roe and Tom Hale, Staff Writers\nPublished May 17, 2017 at 3:04 pm\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(body.authors, vec!["Jane Roe", "Tom Hale"]);
        assert_eq!(
            body.published.map(|t| crate::model::rfc3339(&t)).as_deref(),
            Some("2017-05-17T15:04:00Z")
        );
        let blocks: Vec<_> = body
            .blocks
            .iter()
            .map(|b| (b.kind, b.text.as_str()))
            .collect();
        assert_eq!(
            blocks,
            vec![
                (BlockKind::Standfirst, "Dock workers say talks have stalled"),
                (
                    BlockKind::Paragraph,
                    "Dock workers walked out again on Monday, the union said in a statement."
                ),
            ]
        );
    }

    #[test]
    fn comments_and_navigation_after_the_end_go() {
        let body = run(
            "Dock workers walked out again on Monday, the union said.\n\nTalks resume on Friday, both sides said in a joint statement.\n\nThe operator declined to comment further on the dispute.\n\n\n\nThis is all the fault of the bosses!!\n\n8Previous articleFerry fares rise again\n8Next articleCanal reopens after repairs\n",
        );
        let all = texts(&body);
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(
            all.iter()
                .all(|t| !t.contains("bosses") && !t.contains("Ferry"))
        );
    }

    #[test]
    fn junk_goes_but_sentences_with_junk_words_stay() {
        let body = run(
            "Dock workers walked out again on Monday, the union said.\nAdvertisement\nShare this: Facebook Twitter WhatsApp Email\nThe advertisement ran on Tuesday in three papers.\nShares fell 3% after the announcement.\nRelated Articles\nFerry fares rise again\nCanal reopens after repairs\n\nTalks resume on Friday, both sides said.\n© 2019 Daily Ledger. All rights reserved.\n",
        );
        assert_eq!(
            texts(&body),
            vec![
                "Dock workers walked out again on Monday, the union said.",
                "The advertisement ran on Tuesday in three papers.",
                "Shares fell 3% after the announcement.",
                "Talks resume on Friday, both sides said.",
            ]
        );
    }
}
