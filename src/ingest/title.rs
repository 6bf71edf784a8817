//! The page-title line split into its headline and its site: the
//! separators a title uses ("Headline | Section | Site", "Site: Headline",
//! "Tagline · Site – Headline") and which segment is the site's name.

use super::boilerplate::{Boilerplate, word_count};
use super::byline::NAME_PARTICLES;
use super::text::fold;

/// "Thurgauer Morgenblatt – Ihre Zeitung für die Region" above "Headline |
/// Region | Thurgauer Morgenblatt": the first line is the site's name and
/// motto, whose "headline" is the motto, when the later title line ends or
/// starts with the same name.
pub(super) fn motto_line(first: &str, later: &str, rules: &Boilerplate) -> bool {
    let (first, later) = (split_all(first, rules), split_all(later, rules));
    let (Some(name), Some(start), Some(end)) = (first.first(), later.first(), later.last()) else {
        return false;
    };
    first.len() >= 2 && site_like(name) && (fold(name) == fold(start) || fold(name) == fold(end))
}

/// The site is the last segment after the headline ("Headline - Section -
/// Site"), else what stands before it ("Site - Headline").
pub(super) fn site_from_remainder(
    after: &str,
    before: &str,
    rules: &Boilerplate,
) -> Option<String> {
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

/// The site among a title's segments split at every separator, when the
/// separators nest ("Tagline, motto · Site – Headline", "Headline — and
/// more :: Site"): the headline is the longest segment; the site is the
/// last name-shaped segment after it, else the first before it.
pub(super) fn site_beside_headline(segs: &[&str]) -> Option<String> {
    let headline = (0..segs.len()).max_by_key(|&i| word_count(segs[i]))?;
    let name = |s: &&&str| site_like(s);
    segs[headline + 1..]
        .iter()
        .rev()
        .find(name)
        .or_else(|| segs[..headline].iter().find(name))
        .map(|s| (*s).to_owned())
}

/// Every separated segment of a title line, whatever the separator.
pub(super) fn split_all<'a>(text: &'a str, rules: &Boilerplate) -> Vec<&'a str> {
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
    segments_at(text, sep.map(String::as_str), rules)
}

/// [`segments`] at one separator.
fn segments_at<'a>(text: &'a str, sep: Option<&str>, rules: &Boilerplate) -> Vec<&'a str> {
    let parts: Vec<&str> = match sep {
        Some(sep) => text.split(sep).collect(),
        None => vec![text],
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty() && rules.byline_rest(s).is_none())
        .collect()
}

/// A site name is short: a few words, no sentence punctuation.
pub(super) fn site_like(s: &str) -> bool {
    let words = word_count(s);
    // A motto has a comma ("Local news, independently owned"); a name not.
    (1..=5).contains(&words)
        && s.chars().count() <= 40
        && !s.ends_with(['.', '?', '!'])
        && !s.contains(',')
}

/// No repeated headline to go by: decide from the shape of the segments.
/// The separators are tried in the rules' order; the first that sets a
/// site apart wins ("Nach 140 Jahren: … – 230 Jobs weg :: Erzgebirgischer
/// Bote" is split at "::", not at the dash inside the headline). Without
/// one, "Site Name: Headline" is read at its colon.
pub(super) fn split_by_separators(line: &str, rules: &Boilerplate) -> (String, Option<String>) {
    let present: Vec<&str> = rules
        .title_separators
        .iter()
        .map(String::as_str)
        .filter(|sep| line.contains(sep))
        .collect();
    let first = split_at_separator(line, present.first().copied(), rules);
    if first.1.is_some() {
        return first;
    }
    present
        .iter()
        .skip(1)
        .map(|sep| split_at_separator(line, Some(sep), rules))
        .find(|(_, site)| site.is_some())
        .or_else(|| site_before_colon(line))
        .unwrap_or(first)
}

/// Small words inside a site's name that a person's name does not have.
const SITE_LINKS: &[&str] = &[
    "los", "las", "of", "the", "della", "and", "&", "e", "et", "und",
];

/// "La Voz del Segura: Molina de Albar cortará …": a name of two to five
/// capitalised words (particles aside) before the title's first colon.
/// One word ("Analysis: …", "Exclusive: …") is a label, not a site.
fn site_before_colon(line: &str) -> Option<(String, Option<String>)> {
    let (name, rest) = line.split_once(": ")?;
    let words: Vec<&str> = name.split_whitespace().collect();
    // A person's particles ("de", "van"), and the small words of a
    // paper's name ("The Times of …", "Gazeta do Tejo", "Sun & Star").
    let particle = |w: &str| NAME_PARTICLES.contains(&w) || SITE_LINKS.contains(&w);
    let named = (2..=5).contains(&words.len())
        && words.first().is_some_and(|w| !particle(w))
        && words.iter().all(|w| {
            particle(w)
                || w.chars()
                    .next()
                    .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        });
    (named && word_count(rest) > words.len())
        .then(|| (rest.trim().to_owned(), Some(name.trim().to_owned())))
}

fn split_at_separator(
    line: &str,
    sep: Option<&str>,
    rules: &Boilerplate,
) -> (String, Option<String>) {
    let segs = segments_at(line, sep, rules);
    match segs.as_slice() {
        [] => (String::new(), None),
        [one] => ((*one).to_owned(), None),
        // "Site :: Headline :: Site": the name at both ends.
        [first, middle @ .., last]
            if !middle.is_empty() && site_like(first) && fold(first) == fold(last) =>
        {
            let sep = rules
                .title_separators
                .iter()
                .find(|s| line.contains(s.as_str()))
                .map_or(" - ", |s| s.as_str());
            (middle.join(sep), Some((*first).to_owned()))
        }
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
