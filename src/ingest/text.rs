//! Plain-text scrapes → a [`Draft`]: the title pass.
//!
//! A scrape is what a browser's "select all, copy" gives: a page-title line
//! glued to tracking junk and the site name, the headline again, a caption
//! and standfirst, a byline and date, body paragraphs and subheadings, and
//! then share bars, related links, reader comments and "Previous article"
//! navigation. This module reads the title line, driven by the tables in
//! `boilerplate.toml`: junk stripped, the headline found (by its repetition
//! on a following line when there is one, which is then dropped from the
//! body), the site split off. The remaining lines go to the shared line
//! engine (`lines`), which gives the byline, dates and blocks.

use super::Draft;
use super::boilerplate::{Boilerplate, word_count};
use super::byline::parse_names;
use super::dates;
use super::headline;
use super::lines::{Line, ends_sentence, lines, parse_page};
use super::masthead;
use super::title::{
    motto_line, site_beside_headline, site_from_remainder, site_like, split_all,
    split_by_separators,
};

/// Parses a whole scrape: title line first, then the body.
pub fn parse(text: &str, rules: &Boilerplate) -> Option<Draft> {
    let mut lines = lines(text);
    // The page-title line is one of the first few lines that are not pure
    // navigation ("Skip to main content", a lone site name above the real
    // title): the one whose headline is printed again below wins.
    let candidates: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            // A cookie banner glued in front of the title makes the whole
            // line read as a banner; what is left without it may be the title.
            let stripped = rules.strip_title_junk(&l.text);
            !rules.is_title_junk(&l.text)
                && (!rules.is_junk(&l.text)
                    || (stripped.len() < l.text.len() && !rules.is_junk(stripped)))
        })
        .map(|(i, _)| i)
        .take(TITLE_CANDIDATES)
        .collect();
    let first = *candidates.first()?;
    let (chosen, found) = candidates
        .iter()
        .find_map(|&c| {
            // A later candidate is only searched when it is title-sized:
            // searching a huge body line costs linear passes over it for a
            // headline it cannot be (see MAX_LATER_TITLE).
            if c != first && lines[c].text.len() > MAX_LATER_TITLE {
                return None;
            }
            let found = find_headline(&lines[c].text, &lines[c + 1..], rules)?;
            // Below the first line only a real headline makes a line the
            // page title, not a menu item printed twice ("Primera División"),
            // and only when the first line holds no headline of its own.
            (c == first
                || (found.words(&lines[c + 1..]) >= MIN_LATER_HEADLINE
                    && (!holds_headline(&lines[first].text, rules)
                        || motto_line(&lines[first].text, &lines[c].text, rules))))
            .then_some((c, Some(found)))
        })
        .unwrap_or((first, None));
    lines.drain(..chosen);
    let title_line = lines.remove(0);
    // Where the on-page headline stood: a standfirst is printed under it,
    // so what is left above it is page furniture (a weather box, "on air").
    let headline = headline_index(&found);
    let headline_at = headline.and_then(|at| lines.get(at).map(|l| l.at.first));
    // A page title without the site's name leaves the masthead to name it.
    let masthead = masthead::find(&lines, headline, &title_line.text);
    let (title, site) = match found {
        Some(Found::Repeat(repeat)) => apply_repeat(repeat, &mut lines, rules),
        Some(Found::Reworded(at)) => {
            let stripped = rules.strip_title_junk(cut_glued_menu(&title_line.text));
            let site = split_by_separators(stripped, rules)
                .1
                .or_else(|| site_beside_headline(&split_all(stripped, rules)));
            let headline = lines[at].text.clone();
            drop_headline_and_kickers(&mut lines, at, &fold(&headline));
            (headline, site)
        }
        None => split_by_separators(
            rules.strip_title_junk(cut_glued_menu(&title_line.text)),
            rules,
        ),
    };
    if title.is_empty() {
        return None;
    }
    let site = site.or(masthead);
    if let Some(site) = &site {
        masthead::drop(&mut lines, site, rules);
    }
    let mut body = parse_page(lines, rules, site.as_deref(), headline_at);
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

/// How many lines after the title line may repeat the headline.
const REPEAT_WINDOW: usize = 40;

/// Fewest words of a headline found under a later title-line candidate.
const MIN_LATER_HEADLINE: usize = 4;

/// How many of the first lines may be the page-title line.
const TITLE_CANDIDATES: usize = 3;

/// Longest line, in bytes, that a later title-line candidate may be. Page
/// titles, even with a glued menu, are a few hundred bytes; a longer line
/// below the first is body text, and searching it as a title line would
/// cost several passes over up to the whole 2 MiB document.
const MAX_LATER_TITLE: usize = 4096;

/// Where a page-title line's headline is printed again below it.
struct Repeat {
    /// The title line as searched: junk stripped, possibly de-glued.
    line: String,
    /// Byte range of the headline in `line`.
    range: (usize, usize),
    /// Index of the repeating line among the lines after the title line.
    at: usize,
}

/// Where the on-page headline stands among the lines after the title line.
fn headline_index(found: &Option<Found>) -> Option<usize> {
    match found {
        Some(Found::Repeat(repeat)) => Some(repeat.at),
        Some(Found::Reworded(at)) => Some(*at),
        None => None,
    }
}

/// How the on-page headline was found under a title line.
enum Found {
    /// Printed again word for word.
    Repeat(Repeat),
    /// Printed in other words, or in full where the title was cut: the
    /// index of its line.
    Reworded(usize),
}

/// Whether a title line's own headline segment reads as a headline.
fn holds_headline(raw: &str, rules: &Boilerplate) -> bool {
    let (title, _) = split_by_separators(rules.strip_title_junk(cut_glued_menu(raw)), rules);
    word_count(&title) > MIN_LATER_HEADLINE
}

impl Found {
    /// Length in words of the headline found.
    fn words(&self, rest: &[Line]) -> usize {
        match self {
            Found::Repeat(r) => word_count(&r.line[r.range.0..r.range.1]),
            Found::Reworded(at) => rest.get(*at).map_or(0, |l| l.words),
        }
    }
}

/// The on-page headline for a title-line candidate: its exact repeat, else
/// a reworded or untruncated form of its headline segment.
fn find_headline(raw: &str, rest: &[Line], rules: &Boilerplate) -> Option<Found> {
    let (title, _) = split_by_separators(rules.strip_title_junk(cut_glued_menu(raw)), rules);
    let is_meta = |l: &str| {
        rules.byline_rest(l).is_some()
            || rules.date_line(l).is_some()
            || (word_count(l) <= 12 && super::dates::parse_date(l, rules).is_some())
    };
    let reworded = || headline::find(&title, rest, is_meta).map(Found::Reworded);
    // A cut title ("…rural routes in…") is continued below; a line it
    // happens to contain ("Sparrow Buses") is not its headline.
    if headline::is_truncated(&title)
        && let Some(found) = reworded()
    {
        return Some(found);
    }
    match find_repeat(raw, rest, rules) {
        // A repeat of a small part of the title (a masthead, a tag) is
        // not the headline when a fuller form of it stands below.
        Some(repeat) if covers_headline(&repeat, &title) => Some(Found::Repeat(repeat)),
        // A one-word repeat ("Steinhübel", a kicker naming the place) is no
        // headline at all.
        Some(repeat) => reworded().or((word_count(&repeat.line[repeat.range.0..repeat.range.1])
            >= MIN_REPEAT_WORDS)
            .then_some(Found::Repeat(repeat))),
        None => reworded(),
    }
}

/// Fewest words of a repeat that covers less than half the title.
const MIN_REPEAT_WORDS: usize = 3;

/// Whether a repeat holds at least half the words of the title's headline.
fn covers_headline(repeat: &Repeat, title: &str) -> bool {
    let matched = word_count(&repeat.line[repeat.range.0..repeat.range.1]);
    matched * 2 >= word_count(title)
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
        if l.text.len() > title.len() + 8
            || (l.text.len() < title.len() && l.text.chars().count() < 8)
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
    let mut headline = line[start..end].trim().to_owned();
    let key = fold(&headline);
    // The on-page headline wins over the page title's casing ("Solid-State
    // Cells Leave the Lab" under "Solid-state cells leave the lab | Site").
    if fold(&rest[at].text) == key {
        headline = rest[at].text.trim().to_owned();
    }
    drop_headline_and_kickers(rest, at, &key);
    let site = site_from_remainder(&line[end..], &line[..start], rules);
    (headline, site)
}

/// Drops every repetition of the headline near the top, whatever its
/// casing, and the kickers above it ("EXCLUSIVE", "FEATURES / COAST").
fn drop_headline_and_kickers(rest: &mut Vec<Line>, at: usize, key: &str) {
    let mut idx = 0;
    rest.retain(|l| {
        // "Lindenau, 05.03.2024" above a press release's headline is its
        // date, not a kicker.
        let kicker =
            idx < at && l.words <= 5 && !ends_sentence(&l.text) && !dates::has_year(&l.text);
        let keep = !kicker && (idx > at + 1 || fold(&l.text) != key);
        idx += 1;
        keep
    });
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
    // A sliding window of three characters, not a Vec of every character:
    // the line may be a whole 2 MiB document.
    let mut glue = Vec::new();
    let mut it = line.char_indices().peekable();
    let (mut prev2, mut prev): (Option<char>, Option<char>) = (None, None);
    while let Some((i, c)) = it.next() {
        if let Some(p) = prev {
            let next_lower = it.peek().is_some_and(|&(_, n)| n.is_lowercase());
            let lower_upper = (p.is_lowercase() || p.is_ascii_digit()) && c.is_uppercase();
            let caps_word = prev2.is_some_and(char::is_uppercase)
                && p.is_uppercase()
                && c.is_uppercase()
                && next_lower;
            if lower_upper || caps_word {
                glue.push(i);
            }
        }
        (prev2, prev) = (prev, Some(c));
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

/// Whether `folded` (a [`fold`]ed line) holds the folded `key` as whole
/// words: "barrowvale fm" in "barrowvale fm newsroom", not in "fmx".
pub(super) fn holds_words(folded: &str, key: &str) -> bool {
    !key.is_empty()
        && folded.match_indices(key).any(|(at, _)| {
            let end = at + key.len();
            (at == 0 || folded.as_bytes()[at - 1] == b' ')
                && (end == folded.len() || folded.as_bytes()[end] == b' ')
        })
}

/// Lower-cased words, punctuation folded to single spaces: how headlines
/// are compared.
pub(super) fn fold(s: &str) -> String {
    // `Folded::new` without the offsets: this runs on most lines of a page,
    // and a plain loop costs half of collecting [`Folding`]'s characters.
    let mut text = String::with_capacity(s.len());
    let mut last_space = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            text.push(c.to_ascii_lowercase());
            last_space = false;
        } else if !c.is_ascii() && c.is_alphanumeric() {
            text.extend(c.to_lowercase());
            last_space = false;
        } else if !last_space {
            text.push(' ');
            last_space = true;
        }
    }
    if text.ends_with(' ') {
        text.pop();
    }
    text
}

/// Whether `fold(text)` starts with `key` (folded already), folding no
/// more of `text` than the key is long: most lines of a page differ from
/// a site's name at their first letters.
pub(super) fn fold_starts_with(text: &str, key: &str) -> bool {
    let mut folded = Folding::new(text);
    key.chars().all(|k| folded.next() == Some(k))
}

/// Whether `fold(text)` holds `key` (folded already) as whole words, as
/// [`holds_words`] tells of a folded text. Folding keeps a word's letters
/// together, so a text that lacks the key's first (ASCII) word in any case
/// cannot hold the key: most lines are told so without folding. Only two
/// characters outside ASCII lower-case to ASCII letters (İ and the Kelvin
/// sign K); a text with either is folded to tell.
pub(super) fn fold_holds_words(text: &str, key: &str) -> bool {
    let first = key.split(' ').next().unwrap_or(key);
    if !text.contains('\u{130}')
        && !text.contains('\u{212a}')
        && first.is_ascii()
        && find_ignore_ascii_case(text, first).is_none()
    {
        return false;
    }
    holds_words(&fold(text), key)
}

/// Byte offset of `needle` (ASCII) in `hay`, ignoring ASCII case: compared
/// only where its first letter stands, in either case, instead of at every
/// byte.
pub(super) fn find_ignore_ascii_case(hay: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    let Some(&head) = needle.first() else {
        return Some(0);
    };
    memchr::memchr2_iter(head.to_ascii_lowercase(), head.to_ascii_uppercase(), hay).find(|&at| {
        hay.get(at..at + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// [`fold`] a character at a time: a space is given only before the next
/// word, so there is none at either end.
struct Folding<'a> {
    chars: std::str::Chars<'a>,
    /// The rest of a character that lower-cases to several.
    lower: Option<std::char::ToLowercase>,
    /// A word ended and another began: the next character is a space.
    pending: Option<char>,
    gap: bool,
    started: bool,
}

impl<'a> Folding<'a> {
    fn new(s: &'a str) -> Self {
        Folding {
            chars: s.chars(),
            lower: None,
            pending: None,
            gap: false,
            started: false,
        }
    }
}

impl Iterator for Folding<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if let Some(c) = self.pending.take() {
            return Some(c);
        }
        if let Some(c) = self.lower.as_mut().and_then(Iterator::next) {
            return Some(c);
        }
        self.lower = None;
        loop {
            let c = self.chars.next()?;
            let lowered = if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else if !c.is_ascii() && c.is_alphanumeric() {
                let mut lower = c.to_lowercase();
                let first = lower.next()?;
                self.lower = Some(lower);
                first
            } else {
                self.gap = true;
                continue;
            };
            let space = self.gap && self.started;
            self.gap = false;
            self.started = true;
            if space {
                self.pending = Some(lowered);
                return Some(' ');
            }
            return Some(lowered);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Draft {
        parse(text, Boilerplate::builtin()).expect("article")
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
        // The on-page headline wins, in its own letter case.
        assert_eq!(d.title, "HARBOUR STRIKE ENTERS SECOND WEEK");
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

    proptest::proptest! {
        #[test]
        fn folding_lazily_agrees_with_folding_whole(
            text in "[A-Za-zÀ-ÿİẞ\u{212a}0-9 .,'’“—-]{0,40}",
            key in "[A-Za-zÀ-ÿ0-9 ]{1,12}",
        ) {
            let (folded, key) = (fold(&text), fold(&key));
            proptest::prop_assert_eq!(fold_starts_with(&text, &key), folded.starts_with(key.as_str()));
            proptest::prop_assert_eq!(fold_holds_words(&text, &key), holds_words(&folded, &key));
        }

        /// The search from the first letter's places finds what a search
        /// at every byte finds.
        #[test]
        fn finding_ignoring_case_finds_the_first_place(
            hay in "[A-Za-z’ -]{0,30}",
            needle in "[A-Za-z]{1,4}",
        ) {
            let expected = hay
                .as_bytes()
                .windows(needle.len())
                .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()));
            proptest::prop_assert_eq!(find_ignore_ascii_case(&hay, &needle), expected);
        }
    }

    #[test]
    fn folding_lazily_reads_words_as_fold_does() {
        assert!(fold_starts_with("KESTREL FM – Now playing", "kestrel fm"));
        assert!(!fold_starts_with("Kestrel", "kestrel fm"));
        assert!(fold_holds_words(
            "News from Kestrel-FM, today",
            "kestrel fm"
        ));
        assert!(!fold_holds_words("News from KestrelFM", "kestrel fm"));
        assert!(fold_holds_words("İstanbul Gazetesi", &fold("İstanbul")));
        // The Kelvin sign lower-cases to an ASCII k.
        assert!(fold_holds_words("“\u{212a}estrel FM” news", "kestrel fm"));
        assert!(!fold_holds_words(
            "“Kestrel” FM news",
            "kestrel fm news today"
        ));
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

    #[test]
    fn the_masthead_names_the_site_when_the_page_title_does_not() {
        let d = run(
            "Ferry fares to rise in spring\nKestrel FM\nNow playing: Breakfast with Dec\nFerry fares to rise in spring\nDock workers walked out again on Monday, the union said in a statement.\nKestrel FM news is supported by a local credit union.\n",
        );
        assert_eq!(d.site.as_deref(), Some("Kestrel FM"));
        // A capitalised line the page never repeats names nothing.
        let d = run(
            "Ferry fares to rise in spring\n\nHarbour Desk\n\nFerry fares to rise in spring\n\nDock workers walked out again on Monday, the union said in a statement.\n",
        );
        assert_eq!(d.site, None);
    }

    #[test]
    fn furniture_above_the_headline_is_not_the_standfirst() {
        let d = run(
            "Kestrel FM – Ferry fares to rise in spring\n\nOn air: Breakfast with Dec\nWeather Portree: 6 °C, light rain\n\nFerry fares to rise in spring\n\nDock workers walked out again on Monday, the union said in a statement.\n\nThe operator said the new fares would apply from April.\n",
        );
        let texts: Vec<&str> = d.blocks.iter().map(|b| b.text.as_str()).collect();
        assert!(!texts.iter().any(|t| t.contains("Weather")), "{texts:?}");
        assert!(texts[0].starts_with("Dock workers"), "{texts:?}");
    }

    #[test]
    fn the_site_is_found_among_nested_separators_and_before_a_colon() {
        let rules = Boilerplate::builtin();
        assert_eq!(
            split_by_separators(
                "Nach 140 Jahren: Fabrik macht dicht – 230 Jobs weg :: Erzgebirgischer Bote",
                rules
            ),
            (
                "Nach 140 Jahren: Fabrik macht dicht – 230 Jobs weg".to_owned(),
                Some("Erzgebirgischer Bote".to_owned())
            )
        );
        assert_eq!(
            split_by_separators(
                "La Voz del Segura: Molina cortará el agua por la noche",
                rules
            )
            .1,
            Some("La Voz del Segura".to_owned())
        );
        // One word before a colon is a label.
        assert_eq!(
            split_by_separators("Analysis: why the ferry fares rise", rules).1,
            None
        );
        assert_eq!(
            site_beside_headline(&[
                "Local news, independently owned",
                "Harbourside Post",
                "Wetland survey finds rare fish in restored swamp"
            ]),
            Some("Harbourside Post".to_owned())
        );
    }
}
