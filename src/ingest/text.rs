//! Plain-text scrapes → a [`Draft`].
//!
//! A scrape is what a browser's "select all, copy" gives: a page-title line
//! glued to tracking junk and the site name, the headline again, a caption
//! and standfirst, a byline and date, body paragraphs and subheadings, and
//! then share bars, related links, reader comments and "Previous article"
//! navigation. This module takes it apart in three passes, each driven by
//! the tables in `boilerplate.toml`:
//!
//! 1. the title line: junk stripped, headline found (by its repetition on a
//!    following line when there is one), site split off;
//! 2. every other line classified: end of article, junk, list of other
//!    stories, byline, stated date, credit, or content;
//! 3. content shaped: reader comments after the end cut off, captions and
//!    standfirst told apart in the lead, subheadings and list items marked,
//!    a dateline removed from the first paragraph.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use super::Draft;
use super::boilerplate::{Boilerplate, DateKind, word_count};
use super::clean::clean_line;
use super::dates::parse_date;
use crate::model::{Block, BlockKind};

/// A non-empty, cleaned line and how many blank lines came before it.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub text: String,
    pub gap: usize,
    pub words: usize,
}

/// Splits text into cleaned non-empty lines, remembering blank-line gaps.
pub(crate) fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut gap = 0;
    for raw in text.split('\n') {
        let text = clean_line(raw);
        if text.is_empty() {
            gap += 1;
        } else {
            let words = word_count(&text);
            out.push(Line { text, gap, words });
            gap = 0;
        }
    }
    out
}

/// Parses a whole scrape: title line first, then the body.
pub fn parse(text: &str, rules: &Boilerplate) -> Option<Draft> {
    let mut lines = lines(text);
    // The page-title line is one of the first few lines that are not pure
    // navigation ("Skip to main content", a lone site name above the real
    // title): the one whose headline is printed again below wins.
    let candidates: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !rules.is_title_junk(&l.text) && !rules.is_junk(&l.text))
        .map(|(i, _)| i)
        .take(TITLE_CANDIDATES)
        .collect();
    let first = *candidates.first()?;
    let (chosen, repeat) = candidates
        .iter()
        .find_map(|&c| find_repeat(&lines[c].text, &lines[c + 1..], rules).map(|r| (c, Some(r))))
        .unwrap_or((first, None));
    lines.drain(..chosen);
    let title_line = lines.remove(0);
    let (title, site) = match repeat {
        Some(repeat) => apply_repeat(repeat, &mut lines, rules),
        None => split_by_separators(
            rules.strip_title_junk(cut_glued_menu(&title_line.text)),
            rules,
        ),
    };
    if title.is_empty() {
        return None;
    }
    let mut body = parse_body(lines, rules);
    if body.authors.is_empty() {
        // "Headline - by Jane Roe - Site": a newsletter's byline sits in
        // its page title.
        body.authors = split_all(&title_line.text, rules)
            .into_iter()
            .filter_map(|seg| rules.byline_rest(seg))
            .flat_map(|names| parse_names(names, rules))
            .collect();
    }
    Some(Draft {
        title,
        site,
        authors: body.authors,
        published: body.published,
        updated: body.updated,
        blocks: body.blocks,
        ..Draft::default()
    })
}

/// What the body lines gave.
#[derive(Debug, Default)]
pub struct Body {
    pub blocks: Vec<Block>,
    pub authors: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
}

// ---------------------------------------------------------------- title

/// How many lines after the title line may repeat the headline.
const REPEAT_WINDOW: usize = 40;

/// How many of the first lines may be the page-title line.
const TITLE_CANDIDATES: usize = 3;

/// Finds headline and site in the page-title line, removing the repeated
/// headline from `rest`.
/// Where a page-title line's headline is printed again below it.
struct Repeat {
    /// The title line as searched: junk stripped, possibly de-glued.
    line: String,
    /// Byte range of the headline in `line`.
    range: (usize, usize),
    /// Index of the repeating line among the lines after the title line.
    at: usize,
}

/// Looks for the title line's headline among the next lines: first in the
/// line as it is (a glued menu after the site cut off), then with glued
/// words split ("Sign inEstuary water…", "TBC NewsLifesavers…").
fn find_repeat(raw: &str, rest: &[Line], rules: &Boilerplate) -> Option<Repeat> {
    let plain = rules.strip_title_junk(cut_glued_menu(raw)).to_owned();
    if let Some((range, at)) = search_repeat(&plain, rest, rules) {
        return Some(Repeat {
            line: plain,
            range,
            at,
        });
    }
    let deglued = deglue(raw);
    let deglued = rules.strip_title_junk(&deglued).to_owned();
    if deglued != plain
        && let Some((range, at)) = search_repeat(&deglued, rest, rules)
    {
        return Some(Repeat {
            line: deglued,
            range,
            at,
        });
    }
    None
}

/// The longest line within the window that the title line contains as
/// whole words, unless it is only the site segment ("L'Éclaireur" printed
/// in the navigation).
fn search_repeat(
    title: &str,
    rest: &[Line],
    rules: &Boilerplate,
) -> Option<((usize, usize), usize)> {
    let folded = Folded::new(title);
    let segments = split_all(title, rules);
    let longest_segment = segments.iter().map(|s| word_count(s)).max().unwrap_or(0);
    let mut found: Option<((usize, usize), usize)> = None;
    for (i, l) in rest.iter().take(REPEAT_WINDOW).enumerate() {
        // Too short to tell, or longer than the title line: not its repeat.
        if (l.text.chars().count() < 8 && l.text.len() < title.len())
            || l.text.len() > title.len() + 8
        {
            continue;
        }
        // Cheap reject before folding the line: its first word must occur.
        let first_word = l
            .text
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| !w.is_empty())
            .map(str::to_lowercase)
            .unwrap_or_default();
        if !folded.text.contains(first_word.as_str()) {
            continue;
        }
        let Some(range) = folded.find_words(&l.text) else {
            continue;
        };
        let matched = title[range.0..range.1].trim();
        let is_site_segment = segments.iter().any(|s| fold(s) == fold(matched))
            && site_like(matched)
            && word_count(matched) < longest_segment;
        if is_site_segment {
            continue;
        }
        if found.is_none_or(|((s, e), _)| range.1 - range.0 > e - s) {
            found = Some((range, i));
        }
    }
    found
}

/// Splits words glued by a page's markup: a lower-case letter or digit
/// followed by a capital, or a run of capitals followed by a capitalized
/// word ("NewsSkip" → "News Skip", "NRFDirekt" → "NRF Direkt").
fn deglue(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 16);
    let mut from = 0;
    for at in glue_points(line) {
        out.push_str(&line[from..at]);
        out.push(' ');
        from = at;
    }
    out.push_str(&line[from..]);
    out
}

/// Takes the headline (and site) from a found repeat, and removes the
/// repeated line and the kickers above it from the body lines.
fn apply_repeat(
    repeat: Repeat,
    rest: &mut Vec<Line>,
    rules: &Boilerplate,
) -> (String, Option<String>) {
    let Repeat { line, range, at } = repeat;
    let (start, end) = widen_to_punctuation(&line, range.0, range.1);
    let headline = line[start..end].trim().to_owned();
    // Drop every repetition near the top, whatever its casing, and the
    // kickers above it ("EXCLUSIVE", "FEATURES / COAST", "Aveyron").
    let key = fold(&headline);
    let mut idx = 0;
    rest.retain(|l| {
        let kicker = idx < at && l.words <= 5 && !ends_sentence(&l.text);
        let keep = !kicker && (idx > at + 1 || fold(&l.text) != key);
        idx += 1;
        keep
    });
    let site = site_from_remainder(&line[end..], &line[..start], rules);
    (headline, site)
}

/// Pages often put their navigation menu right after the title with no
/// spaces in between ("KRVT 9 NewsSkip NavigationWatch LiveWeather…").
/// Three or more places where a word runs into a capital without a space
/// mark such a menu; the line is cut at the first of them. One or two
/// ("BuzzFeed", "McDonald's") are names and stay.
fn cut_glued_menu(line: &str) -> &str {
    let glue = glue_points(line);
    if glue.len() >= 3 && line[..glue[0]].split_whitespace().count() >= 2 {
        &line[..glue[0]]
    } else {
        line
    }
}

/// Byte offsets where a page's markup glued two words together: a
/// lower-case letter or digit followed by a capital ("NewsSkip"), or a run
/// of capitals followed by a capitalized word ("NRFDirekt").
fn glue_points(line: &str) -> Vec<usize> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut glue = Vec::new();
    for w in 1..chars.len() {
        let (i, c) = chars[w];
        let prev = chars[w - 1].1;
        let next_lower = chars.get(w + 1).is_some_and(|&(_, n)| n.is_lowercase());
        let lower_upper = (prev.is_lowercase() || prev.is_ascii_digit()) && c.is_uppercase();
        let caps_word = w >= 2
            && prev.is_uppercase()
            && chars[w - 2].1.is_uppercase()
            && c.is_uppercase()
            && next_lower;
        if lower_upper || caps_word {
            glue.push(i);
        }
    }
    glue
}

/// Quotes and end punctuation belong to the headline ("… 'foreign agent'"),
/// separators do not.
fn widen_to_punctuation(s: &str, mut start: usize, mut end: usize) -> (usize, usize) {
    let attached = |c: char| !c.is_alphanumeric() && !c.is_whitespace() && !"|-–—:·»/".contains(c);
    while let Some(c) = s[end..].chars().next().filter(|&c| attached(c)) {
        end += c.len_utf8();
    }
    while let Some(c) = s[..start].chars().next_back().filter(|&c| attached(c)) {
        start -= c.len_utf8();
    }
    (start, end)
}

/// The site is the last segment after the headline ("Headline - Section -
/// Site"), else what stands before it ("Site - Headline").
fn site_from_remainder(after: &str, before: &str, rules: &Boilerplate) -> Option<String> {
    let sep_chars: &[char] = &['|', '-', '–', '—', ':', '·', '»', '/', ' '];
    let after = after.trim_matches(sep_chars);
    if !after.is_empty() {
        let segments = segments(after, rules);
        return segments.last().map(|s| s.to_string());
    }
    let before = rules
        .strip_title_junk(before.trim())
        .trim_matches(sep_chars);
    if before.is_empty() || rules.is_title_junk(before) {
        return None;
    }
    segments(before, rules).first().map(|s| s.to_string())
}

/// Every separated segment of a title line, whatever the separator.
fn split_all<'a>(text: &'a str, rules: &Boilerplate) -> Vec<&'a str> {
    let mut parts = vec![text];
    for sep in &rules.title_separators {
        parts = parts
            .into_iter()
            .flat_map(|p| p.split(sep.as_str()))
            .collect();
    }
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// The segments of a title line by its separator, bylines left out (they
/// are neither headline nor site).
fn segments<'a>(text: &'a str, rules: &Boilerplate) -> Vec<&'a str> {
    let sep = rules
        .title_separators
        .iter()
        .find(|sep| text.contains(sep.as_str()));
    let parts: Vec<&str> = match sep {
        Some(sep) => text.split(sep.as_str()).collect(),
        None => vec![text],
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty() && rules.byline_rest(s).is_none())
        .collect()
}

/// A site name is short: a few words, no sentence punctuation.
fn site_like(s: &str) -> bool {
    let words = word_count(s);
    (1..=5).contains(&words) && s.chars().count() <= 40 && !s.ends_with(['.', '?', '!'])
}

/// No repeated headline to go by: decide from the shape of the segments.
fn split_by_separators(line: &str, rules: &Boilerplate) -> (String, Option<String>) {
    let segs = segments(line, rules);
    match segs.as_slice() {
        [] => (String::new(), None),
        [one] => ((*one).to_owned(), None),
        [first, .., last] => {
            let last_site = site_like(last) && word_count(last) < word_count(first);
            let first_site = site_like(first) && word_count(first) < word_count(last);
            if last_site {
                ((*first).to_owned(), Some((*last).to_owned()))
            } else if first_site {
                let sep = rules
                    .title_separators
                    .iter()
                    .find(|s| line.contains(s.as_str()))
                    .map_or(" - ", |s| s.as_str());
                (segs[1..].join(sep), Some((*first).to_owned()))
            } else {
                (line.to_owned(), None)
            }
        }
    }
}

/// Case- and punctuation-insensitive view of a string that maps back to
/// byte offsets in the original, so a match can be cut out with its casing.
struct Folded {
    text: String,
    /// For each byte of `text`, the original byte offset it came from.
    origin: Vec<usize>,
    original_len: usize,
}

impl Folded {
    fn new(s: &str) -> Self {
        let mut text = String::with_capacity(s.len());
        let mut origin = Vec::with_capacity(s.len());
        let mut last_space = true;
        for (i, c) in s.char_indices() {
            if c.is_alphanumeric() {
                for l in c.to_lowercase() {
                    let before = text.len();
                    text.push(l);
                    origin.extend(std::iter::repeat_n(i, text.len() - before));
                }
                last_space = false;
            } else if !last_space {
                text.push(' ');
                origin.push(i);
                last_space = true;
            }
        }
        Folded {
            text,
            origin,
            original_len: s.len(),
        }
    }

    /// Finds `needle` as whole words; returns the original byte range.
    fn find_words(&self, needle: &str) -> Option<(usize, usize)> {
        let n = fold(needle);
        if n.is_empty() {
            return None;
        }
        let hay = &self.text;
        let mut from = 0;
        while let Some(pos) = hay[from..].find(&n) {
            let start = from + pos;
            let end = start + n.len();
            let left_ok = start == 0 || hay.as_bytes()[start - 1] == b' ';
            let right_ok = end == hay.len() || hay.as_bytes()[end] == b' ';
            if left_ok && right_ok {
                let o_start = self.origin[start];
                let o_end = if end == hay.len() {
                    self.original_len
                } else {
                    self.origin[end]
                };
                return Some((o_start, o_end));
            }
            from = start + n.len().max(1);
            while from < hay.len() && !hay.is_char_boundary(from) {
                from += 1;
            }
        }
        None
    }
}

fn fold(s: &str) -> String {
    Folded::new(s).text.trim_end().to_owned()
}

// ---------------------------------------------------------------- body

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Content,
    /// A byline or stated-date line (already consumed into metadata).
    Meta,
}

/// Classifies body lines, then shapes the content into blocks.
pub(crate) fn parse_body(lines: Vec<Line>, rules: &Boilerplate) -> Body {
    let mut body = Body::default();
    let mut content: Vec<Line> = Vec::new();
    // Index into `content` of the first line after a byline or date line.
    let mut after_meta: Option<usize> = None;
    let mut ended = false;
    let mut carried_gap = 0;
    let mut iter = lines.into_iter().peekable();

    // Body paragraphs so far: bylines may follow a standfirst that reads
    // like a paragraph, or a caption, but not the story itself.
    let mut body_seen = 0usize;
    while let Some(line) = iter.next() {
        let gap = line.gap.max(carried_gap);
        let words = line.words;
        let text = line.text;
        // Boilerplate is short; a long paragraph skips every table.
        if words > MAX_BOILERPLATE_WORDS {
            carried_gap = 0;
            body_seen += 1;
            content.push(Line { text, gap, words });
            continue;
        }
        let class = rules.classify(&text);
        if class.end {
            // Above the story ("Comment 212" beside the byline, navigation
            // at the top of the page) it is only page furniture.
            if body_seen == 0 {
                carried_gap = carried_gap.max(gap);
                continue;
            }
            ended = true;
            break;
        }
        if !content.is_empty() && class.comment {
            ended = true;
            break;
        }
        if class.list_header {
            // The header and the headlines listed under it.
            // Items stand one per line, spaced like the first one; a change
            // of spacing ends the list.
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
            carried_gap = carried_gap.max(gap);
            continue;
        }
        if class.junk {
            carried_gap = carried_gap.max(gap);
            continue;
        }
        // Bylines only count above the first real paragraph.
        let kind = meta_line(&text, body_seen < 3, rules, &mut body);
        match kind {
            Kind::Meta => {
                // "Harriet Okonkwo and Tom Pryce" on the line right above
                // the date: a byline without its "By".
                // A dateline of its own ("NEW DELHI") may stand between them.
                if body.authors.is_empty() && gap == 0 {
                    let dateline = content
                        .last()
                        .is_some_and(|l| l.words <= 4 && is_caps_place(&l.text));
                    let name_at = content.len().checked_sub(if dateline { 2 } else { 1 });
                    if let Some(names) = name_at.and_then(|i| bare_byline(&content[i], rules)) {
                        content.truncate(name_at.unwrap_or(0));
                        body.authors = names;
                    }
                }
                after_meta.get_or_insert(content.len());
                carried_gap = carried_gap.max(gap);
                continue;
            }
            Kind::Content => {}
        }
        if class.credit {
            carried_gap = carried_gap.max(gap);
            continue;
        }
        body_seen += usize::from(is_body_paragraph(&text));
        carried_gap = 0;
        content.push(Line { text, gap, words });
    }

    if ended {
        drop_trailing_comments(&mut content, rules);
    }
    drop_pull_quotes(&mut content);
    join_wrapped_lines(&mut content);
    body.blocks = shape(content, after_meta, rules);
    body
}

/// Lines longer than this are body text: no boilerplate runs that long.
const MAX_BOILERPLATE_WORDS: usize = 40;

/// A finished sentence of some length, or a long line: body, not lead.
fn is_body_paragraph(text: &str) -> bool {
    let words = word_count(text);
    (ends_sentence(text) && words >= 8) || words >= 30
}

/// A line listing another story: short, and not a finished sentence.
fn headline_like(text: &str) -> bool {
    let words = word_count(text);
    words <= 20 && !ends_sentence(text)
}

fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end_matches(['"', '”', '’', '\'', '»', ')', ']', ' ']);
    t.ends_with(['.', '!', '?', '…', ';', ':'])
}

/// Consumes byline and stated-date lines into `body`'s metadata.
pub(crate) fn meta_line(text: &str, in_lead: bool, rules: &Boilerplate, body: &mut Body) -> Kind {
    let words = word_count(text);
    if words > 20 {
        return Kind::Content;
    }
    // "By Jane Roe | May 17, 2017": bylines may carry dates after a bar,
    // or inside ("Posted by Jane Roe on April 3rd, 2024 at 8:15 pm").
    if in_lead && let Some(rest) = rules.byline_rest(text) {
        let parts = split_meta(rest, rules, true);
        let names = parse_names(parts[0], rules);
        if !names.is_empty() {
            let dates: Vec<_> = parts.iter().filter_map(|p| stated_date(p, rules)).collect();
            for name in names {
                if !body.authors.contains(&name) {
                    body.authors.push(name);
                }
            }
            for (kind, date) in dates {
                set_date(body, kind, date);
            }
            return Kind::Meta;
        }
    }
    // Every stated date has a year in it (a time-only "updated" needs a
    // dated part beside it).
    if words <= 16 && crate::ingest::dates::has_year(text) {
        // Dashes stay inside a date ("07/08/2024 - 14h32"); bars and dots
        // separate details.
        let parts = split_meta(text, rules, false);
        let mut dates: Vec<_> = parts.iter().map(|p| stated_date(p, rules)).collect();
        // "September 9, 2026 | 2:40 pm": a time standing alone belongs to
        // the date before it.
        for i in 1..parts.len() {
            if dates[i].is_none()
                && dates[i - 1].is_some()
                && word_count(parts[i]) <= 3
                && rules.date_line(parts[i]).is_none()
                && crate::ingest::dates::parse_time(parts[i]).is_some()
                && let Some(joined) = stated_date(&format!("{} {}", parts[i - 1], parts[i]), rules)
            {
                dates[i - 1] = Some(joined);
                dates[i] = Some(joined);
            }
        }
        // "… 9:15 · aggiornato alle 13:40": an update stated as a time
        // only is on the day of the date beside it.
        let day = dates.iter().flatten().map(|(_, d)| d.date_naive()).next();
        for (p, d) in parts.iter().zip(dates.iter_mut()) {
            if d.is_none()
                && let (Some((DateKind::Updated, rest)), Some(day)) = (rules.date_line(p), day)
                && let Some(time) = crate::ingest::dates::parse_time(rest)
            {
                *d = Some((DateKind::Updated, day.and_time(time).and_utc()));
            }
        }
        let opened = |p: &str| rules.date_line(p).is_some();
        // A line of dates, where a date we cannot place ("Updated 2 hours
        // ago") may stand beside one we can; or a line with an explicit
        // "Published …" among other details ("18 min read").
        // A place may stand beside the date ("Villarroya | 08/09/2025 09:47").
        let label = |p: &str| {
            word_count(p) <= 4 && !ends_sentence(p) && !p.bytes().any(|b| b.is_ascii_digit())
        };
        let all_dates = parts
            .iter()
            .zip(&dates)
            .all(|(p, d)| d.is_some() || opened(p) || (parts.len() > 1 && label(p)));
        let explicit = parts
            .iter()
            .zip(&dates)
            .any(|(p, d)| d.is_some() && opened(p));
        if dates.iter().any(Option::is_some) && (all_dates || explicit) {
            for (kind, date) in dates.into_iter().flatten() {
                set_date(body, kind, date);
            }
            return Kind::Meta;
        }
    }
    Kind::Content
}

/// Splits a byline or date line into its details: at bars, dots and
/// dashes, and where an "Updated" starts ("…16 Mar 2024Updated: 14:05",
/// "…à 07h15, mis à jour le …").
fn split_meta<'a>(text: &'a str, rules: &Boilerplate, dashes: bool) -> Vec<&'a str> {
    const STRONG: &[&str] = &[" | ", " · ", " • ", "|"];
    const ALL: &[&str] = &[" | ", " · ", " • ", " — ", " – ", " - ", "|"];
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = text;
    loop {
        let cut = (if dashes { ALL } else { STRONG })
            .iter()
            .filter_map(|sep| rest.find(sep).map(|i| (i, sep.len())))
            .chain(rules.update_split(rest).map(|i| (i, 0)))
            .min();
        match cut {
            Some((i, len)) if i > 0 || len > 0 => {
                parts.push(rest[..i].trim().trim_end_matches(','));
                rest = &rest[i + len..];
            }
            _ => {
                parts.push(rest.trim());
                break;
            }
        }
    }
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        parts.push("");
    }
    parts
}

/// A stated date: "Published May 17, 2017", "Updated: …", or a bare date.
fn stated_date(text: &str, rules: &Boilerplate) -> Option<(DateKind, DateTime<Utc>)> {
    let (kind, rest) = rules.date_line(text).unwrap_or((DateKind::Published, text));
    parse_date(rest, rules)
        // "07/08/2024 - 14h32": a dash between the date and its time.
        .or_else(|| {
            rest.contains(['—', '–', '-'])
                .then(|| parse_date(&rest.replace(['—', '–'], " ").replace(" - ", " "), rules))
                .flatten()
        })
        .map(|d| (kind, d))
}

fn set_date(body: &mut Body, kind: DateKind, date: DateTime<Utc>) {
    let slot = match kind {
        DateKind::Published => &mut body.published,
        DateKind::Updated => &mut body.updated,
    };
    slot.get_or_insert(date);
}

/// Particles that may stand lower-case inside a name.
const NAME_PARTICLES: &[&str] = &[
    "de", "la", "le", "du", "des", "van", "der", "den", "von", "zu", "da", "del", "di", "dos", "y",
    "bin", "al", "el",
];

/// Names from a byline: "Jane Roe and Tom Hale, Staff Writers" → both names.
pub(crate) fn parse_names(text: &str, rules: &Boilerplate) -> Vec<String> {
    const JOINERS: [&str; 5] = [" and ", " & ", " et ", " und ", " y "];
    // "Camille Roux (Lyon, envoyée spéciale)": what is in brackets is where
    // or what, never who.
    let text = text
        .split('(')
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches('.');
    // "Jane Roe, Tom Hale and Ann Lee" lists names after commas; in "Jane
    // Roe, Berlin" or "Jane Roe, Film Critic" what follows the comma is not
    // a name. Only a list that ends in a joiner is read past its first comma.
    let segments: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let listed = segments.len() > 1
        && segments.last().is_some_and(|last| {
            JOINERS.iter().any(|j| last.contains(j))
                && !last.split_whitespace().any(|w| rules.is_role_word(w))
        });
    let segments = if listed {
        &segments[..]
    } else {
        &segments[..segments.len().min(1)]
    };
    let mut parts = Vec::new();
    for segment in segments {
        let mut rest = *segment;
        while let Some((i, len)) = JOINERS
            .iter()
            .filter_map(|j| rest.find(j).map(|i| (i, j.len())))
            .min()
        {
            parts.push(&rest[..i]);
            rest = &rest[i + len..];
        }
        parts.push(rest);
    }
    let mut names = Vec::new();
    for part in parts.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
        // "Aino Lehtonen in Helsinki", "Tom Hale Staff Writer": the name
        // ends where a role or place word begins.
        let all: Vec<&str> = part.split_whitespace().collect();
        // A name in capitals ends where the capitals do ("CURTIS BELL
        // Heartland Press": the agency follows).
        let caps = |w: &str| {
            w.chars().filter(|c| c.is_alphabetic()).count() >= 2
                && !w.chars().any(char::is_lowercase)
        };
        let caps_end = if all.first().is_some_and(|w| caps(w)) {
            all.iter().position(|w| !caps(w)).unwrap_or(all.len())
        } else {
            all.len()
        };
        let cut = all
            .iter()
            .position(|w| rules.is_role_word(w))
            .unwrap_or(all.len())
            .min(caps_end);
        let words = &all[..cut];
        let is_name = (1..=5).contains(&words.len())
            && words.iter().all(|w| {
                NAME_PARTICLES.contains(w)
                    || w.chars().next().is_some_and(char::is_uppercase)
                        && !w.chars().any(|c| c.is_ascii_digit())
            })
            && rules.month(words[0]).is_none();
        if !is_name {
            break;
        }
        names.push(
            words
                .iter()
                .map(|w| {
                    if caps(w) {
                        title_case(w)
                    } else {
                        (*w).to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    names
}

/// "NEW DELHI", "SAN JOSÉ": a place in capitals standing as a dateline.
fn is_caps_place(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 3 && letters.iter().all(|c| c.is_uppercase()) && !ends_sentence(text)
}

/// A line that is nothing but one to four names ("Jane Roe and Tom
/// Hale"): capitalized words in twos and threes, joined by "and"/"&"/",".
fn bare_byline(line: &Line, rules: &Boilerplate) -> Option<Vec<String>> {
    if line.words > 12 || ends_sentence(&line.text) {
        return None;
    }
    let names = parse_names(&line.text, rules);
    let joiners = line
        .text
        .split_whitespace()
        .filter(|w| matches!(*w, "and" | "&" | "et" | "und" | "y" | "e"))
        .count();
    let name_words: usize = names.iter().map(|n| word_count(n)).sum();
    let shaped = !names.is_empty()
        && names.len() <= 4
        && names.iter().all(|n| (2..=3).contains(&word_count(n)))
        && name_words + joiners == line.words;
    shaped.then_some(names)
}

/// "MARISA" → "Marisa", "O'BRIEN" → "O'brien" is wrong, so letters after
/// an apostrophe or hyphen start a new capital: "O'Brien", "Fournier-Lacroix".
fn title_case(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut start = true;
    for c in word.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = matches!(c, '\'' | '’' | '-');
    }
    out
}

/// After "Previous article" or a comments header, what follows the widest
/// blank gap at the end is reader comments, not article.
fn drop_trailing_comments(content: &mut Vec<Line>, rules: &Boilerplate) {
    if content.len() < 3 {
        return;
    }
    let mut gaps: Vec<usize> = content[1..].iter().map(|l| l.gap).collect();
    gaps.sort_unstable();
    let typical = gaps[gaps.len() / 2];
    let Some(k) = (2..content.len())
        .rev()
        .find(|&i| content[i].gap >= 2 && content[i].gap > typical)
    else {
        return;
    };
    let tail = &content[k..];
    let short = tail.len() <= 4 && tail.iter().all(|l| word_count(&l.text) <= 80);
    if short || tail.iter().any(|l| rules.is_comment_signal(&l.text)) {
        content.truncate(k);
    }
}

/// A magazine's pull quote repeats a sentence of the body in large type,
/// often with an attribution ("“…” — Ewan Sinclair"). A line that is only a
/// quotation of six or more words found again in another line goes.
fn drop_pull_quotes(content: &mut Vec<Line>) {
    let quoted: Vec<Option<String>> = content.iter().map(|l| pull_quote_text(&l.text)).collect();
    if quoted.iter().all(Option::is_none) {
        return;
    }
    // One haystack for all searches; the quote line itself is one match,
    // a repeat elsewhere makes two.
    let all = content
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let repeated: Vec<bool> = quoted
        .iter()
        .map(|q| {
            q.as_ref()
                .is_some_and(|q| all.matches(q.as_str()).nth(1).is_some())
        })
        .collect();
    let mut i = 0;
    content.retain(|_| {
        i += 1;
        !repeated[i - 1]
    });
}

/// The words inside a line that opens with a quotation mark and holds
/// nothing but the quotation and, optionally, an attribution after a dash.
fn pull_quote_text(text: &str) -> Option<String> {
    let mut chars = text.chars();
    let open = chars.next()?;
    if !matches!(open, '“' | '"' | '«' | '„' | '‘') || word_count(text) > 40 {
        return None;
    }
    let body = &text[open.len_utf8()..];
    let close = body.find(['”', '"', '»', '“', '’'])?;
    let inner = body[..close]
        .trim()
        .trim_end_matches([',', '.', '!', '?', ' ']);
    let after = body[close..].chars().skip(1).collect::<String>();
    let after = after.trim();
    let attribution_only = after.is_empty() || after.starts_with(['—', '–', '-']);
    (attribution_only && word_count(inner) >= 6).then(|| inner.to_owned())
}

/// Rejoins a paragraph that a scrape broke mid-sentence: a line that does
/// not end a sentence, followed directly by one that starts in lower case.
fn join_wrapped_lines(content: &mut Vec<Line>) {
    let mut out: Vec<Line> = Vec::with_capacity(content.len());
    for line in content.drain(..) {
        if let Some(prev) = out.last_mut()
            && line.gap == 0
            && !ends_sentence(&prev.text)
            && line.text.chars().next().is_some_and(char::is_lowercase)
        {
            prev.text.push(' ');
            prev.text.push_str(&line.text);
            prev.words += line.words;
            continue;
        }
        out.push(line);
    }
    *content = out;
}

static BULLET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[•·▪●◦‣∙*]|[-–—](?:\s)|\d{1,2}[.)](?:\s))\s*")
        .unwrap_or_else(|e| panic!("BULLET regex: {e}"))
});
static DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\p{Lu}[\p{Lu}\p{M}.'’ -]{2,40}(?:,\s*[\p{L}. ]{2,30})?\s*(?:\([^)]{2,30}\))?|\p{Lu}[\p{L}.'’ -]{1,40}\s*\([^)]{2,30}\))\s*(?:--|[-–—])\s+",
    )
    .unwrap_or_else(|e| panic!("DATELINE regex: {e}"))
});

/// Turns content lines into blocks: standfirst in the lead, subheadings,
/// list items, quotes, and paragraphs.
fn shape(content: Vec<Line>, after_meta: Option<usize>, rules: &Boilerplate) -> Vec<Block> {
    // The body starts at the first real paragraph: a finished sentence of
    // some length, a long line, or whatever follows the byline.
    // A byline near the top ends the lead, whatever stands above it.
    let first_paragraph = content.iter().position(|l| is_body_paragraph(&l.text));
    let body_start = match (after_meta, first_paragraph) {
        (Some(m), _) if m <= 3 => m,
        (Some(m), Some(p)) => m.min(p),
        (None, Some(p)) => p,
        (Some(_), None) | (None, None) => content.len(),
    };
    let body_start = if body_start >= content.len() {
        0
    } else {
        body_start
    };

    let mut blocks = Vec::with_capacity(content.len());
    // Lead: a caption sits directly above the standfirst (no blank line) or
    // carries a credit; the last lead line is the standfirst.
    let lead: Vec<&Line> = content[..body_start]
        .iter()
        .filter(|l| !rules.classify(&l.text).credit_in_lead)
        .collect();
    for (i, line) in lead.iter().enumerate() {
        // A bulleted line is a list item wherever it stands.
        if let Some(m) = BULLET.find(&line.text)
            && m.end() < line.text.len()
        {
            blocks.push(Block::new(BlockKind::ListItem, line.text[m.end()..].trim()));
            continue;
        }
        let is_last = i + 1 == lead.len();
        let caption = !is_last && (lead[i + 1].gap == 0 || line.words > 60);
        if caption {
            continue;
        }
        if is_last && word_count(&line.text) <= 60 {
            blocks.push(Block::new(BlockKind::Standfirst, line.text.clone()));
        } else {
            blocks.push(Block::new(BlockKind::Paragraph, line.text.clone()));
        }
    }

    let body = &content[body_start..];
    let mut first_paragraph = true;
    for (i, line) in body.iter().enumerate() {
        let text = &line.text;
        if let Some(m) = BULLET.find(text)
            && m.end() < text.len()
        {
            blocks.push(Block::new(BlockKind::ListItem, text[m.end()..].trim()));
            continue;
        }
        if let Some(q) = text.strip_prefix('>') {
            blocks.push(Block::new(BlockKind::Quote, q.trim()));
            continue;
        }
        let has_next = i + 1 < body.len();
        if !first_paragraph && has_next && subheading_like(text) {
            blocks.push(Block::new(BlockKind::Subheading, text.clone()));
            continue;
        }
        let mut text = text.as_str();
        if first_paragraph && let Some(m) = DATELINE.find(text) {
            let dateline = &text[..m.end()];
            if dateline.chars().filter(|c| c.is_uppercase()).count() >= 3 && m.end() < text.len() {
                text = &text[m.end()..];
            }
        }
        first_paragraph = false;
        blocks.push(Block::new(BlockKind::Paragraph, text));
    }
    blocks.retain(|b| !b.text.is_empty());
    blocks
}

/// A subheading: a few words, starting with a capital, not a sentence.
fn subheading_like(text: &str) -> bool {
    let words = word_count(text);
    let t = text.trim_end_matches(['"', '”', '’', '»', ')']);
    (1..=10).contains(&words)
        && text.chars().count() <= 80
        && !t.ends_with(['.', '!', ':', ';', ',', '…'])
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Draft {
        parse(text, Boilerplate::builtin()).expect("article")
    }

    fn texts(d: &Draft) -> Vec<(BlockKind, &str)> {
        d.blocks.iter().map(|b| (b.kind, b.text.as_str())).collect()
    }

    #[test]
    fn site_before_headline_with_repeat() {
        let d = run(
            "Quantcast Daily Ledger - Harbour strike enters second week\n\nHarbour strike enters second week\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(d.title, "Harbour strike enters second week");
        assert_eq!(d.site.as_deref(), Some("Daily Ledger"));
    }

    #[test]
    fn site_after_headline_and_section() {
        let d = run(
            "Skip to main content Harbour strike enters second week - Business - Daily Ledger\n\nHARBOUR STRIKE ENTERS SECOND WEEK\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(d.title, "Harbour strike enters second week");
        assert_eq!(d.site.as_deref(), Some("Daily Ledger"));
    }

    #[test]
    fn no_site_is_null() {
        let d = run(
            "Harbour strike enters second week\n\nHarbour strike enters second week\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(d.site, None);
        let d = run(
            "Harbour strike enters second week\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(d.site, None);
        assert_eq!(d.title, "Harbour strike enters second week");
    }

    #[test]
    fn no_repeat_falls_back_to_shapes() {
        let d = run(
            "Harbour strike enters second week | Daily Ledger\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(
            (d.title.as_str(), d.site.as_deref()),
            ("Harbour strike enters second week", Some("Daily Ledger"))
        );
        let d = run(
            "Daily Ledger – Harbour strike enters second week\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(
            (d.title.as_str(), d.site.as_deref()),
            ("Harbour strike enters second week", Some("Daily Ledger"))
        );
    }

    #[test]
    fn a_time_after_a_bar_belongs_to_the_date() {
        let d = run(
            "Port strike\n\nSeptember 9, 2026 | 2:40 pm\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(
            d.published.map(|t| crate::model::rfc3339(&t)).as_deref(),
            Some("2026-09-09T14:40:00Z")
        );
        assert_eq!(d.blocks.len(), 1);
    }

    #[test]
    fn caption_standfirst_byline_date() {
        let d = run(
            "Ledger - Port strike\n\nPort strike\n\nWorkers gather at the north gate on Monday morning\nDock workers say talks have stalled\n\nBy Jane Roe and Tom Hale, Staff Writers\nPublished May 17, 2017 at 3:04 pm\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(d.authors, vec!["Jane Roe", "Tom Hale"]);
        assert_eq!(
            d.published.map(|t| crate::model::rfc3339(&t)).as_deref(),
            Some("2017-05-17T15:04:00Z")
        );
        assert_eq!(
            texts(&d),
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
    fn subheadings_and_lists_and_dateline() {
        let d = run(
            "Port strike\n\nROTTERDAM (Reuters) - Dock workers walked out again on Monday, the union said.\n\nWhat they want\n\nThe union listed three demands in a letter to the operator:\n• Higher pay for night shifts\n• New safety rules\n\nTalks resume on Friday, both sides said.\n",
        );
        assert_eq!(
            texts(&d),
            vec![
                (
                    BlockKind::Paragraph,
                    "Dock workers walked out again on Monday, the union said."
                ),
                (BlockKind::Subheading, "What they want"),
                (
                    BlockKind::Paragraph,
                    "The union listed three demands in a letter to the operator:"
                ),
                (BlockKind::ListItem, "Higher pay for night shifts"),
                (BlockKind::ListItem, "New safety rules"),
                (
                    BlockKind::Paragraph,
                    "Talks resume on Friday, both sides said."
                ),
            ]
        );
    }

    #[test]
    fn comments_and_navigation_after_the_end_go() {
        let d = run(
            "Port strike\n\nDock workers walked out again on Monday, the union said.\n\nTalks resume on Friday, both sides said in a joint statement.\n\nThe operator declined to comment further on the dispute.\n\n\n\nThis is all the fault of the bosses!!\n\n8Previous articleFerry fares rise again\n8Next articleCanal reopens after repairs\n",
        );
        let all: Vec<_> = d.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(
            all.iter()
                .all(|t| !t.contains("bosses") && !t.contains("Ferry"))
        );
    }

    #[test]
    fn junk_goes_but_sentences_with_junk_words_stay() {
        let d = run(
            "Port strike\n\nDock workers walked out again on Monday, the union said.\nAdvertisement\nShare this: Facebook Twitter WhatsApp Email\nThe advertisement ran on Tuesday in three papers.\nShares fell 3% after the announcement.\nRelated Articles\nFerry fares rise again\nCanal reopens after repairs\n\nTalks resume on Friday, both sides said.\n© 2019 Daily Ledger. All rights reserved.\n",
        );
        let all: Vec<_> = d.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            all,
            vec![
                "Dock workers walked out again on Monday, the union said.",
                "The advertisement ran on Tuesday in three papers.",
                "Shares fell 3% after the announcement.",
                "Talks resume on Friday, both sides said.",
            ]
        );
    }

    #[test]
    fn one_paragraph_article_stays_one_paragraph() {
        let d = run(
            "Port strike\n\nDock workers walked out again on Monday after talks broke down, the union said, and the port will stay closed until at least Friday\n",
        );
        assert_eq!(d.blocks.len(), 1);
        assert_eq!(d.blocks[0].kind, BlockKind::Paragraph);
    }

    #[test]
    fn pull_quotes_repeating_the_body_go() {
        let d = run(
            "Keepers\n\nThe keeper said: \"You learn to listen to the weather the way others listen to the radio,\" and smiled at the memory.\n\n“You learn to listen to the weather the way others listen to the radio” — Ewan Sinclair\n\n“A quotation that appears nowhere else in this story at all”\n\nThe lamp went automatic in 1998, the board said.\n",
        );
        let all: Vec<_> = d.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(!all.iter().any(|t| t.contains("Ewan Sinclair")));
        assert!(
            all.iter().any(|t| t.starts_with("“A quotation")),
            "a quote found only once stays"
        );
    }

    #[test]
    fn glued_menus_are_cut_from_the_title_line() {
        assert_eq!(
            cut_glued_menu("Storm shelter opens | KRVT 9 NewsSkip NavigationWatch LiveWeather"),
            "Storm shelter opens | KRVT 9 News"
        );
        assert_eq!(
            cut_glued_menu("Deiche | NRFDirekt zum InhaltNRF MediathekNRF Audiothek"),
            "Deiche | NRF"
        );
        assert_eq!(
            cut_glued_menu("BuzzFeed and McDonald's sign a deal | Site"),
            "BuzzFeed and McDonald's sign a deal | Site"
        );
    }

    #[test]
    fn wrapped_lines_are_rejoined() {
        let d = run(
            "Port strike\n\nDock workers walked out again on Monday after talks\nbroke down, the union said.\n",
        );
        assert_eq!(
            d.blocks[0].text,
            "Dock workers walked out again on Monday after talks broke down, the union said."
        );
    }

    #[test]
    fn folded_search_keeps_original_casing_and_offsets() {
        let f = Folded::new("i24NEWS - First Israeli response: US-Israel ties");
        let (s, e) = f
            .find_words("FIRST ISRAELI RESPONSE: US ISRAEL TIES")
            .unwrap();
        assert_eq!(
            &"i24NEWS - First Israeli response: US-Israel ties"[s..e],
            "First Israeli response: US-Israel ties"
        );
        assert_eq!(f.find_words("Israel ties are"), None);
    }
}
