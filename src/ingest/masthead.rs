//! The masthead: the site's name printed at the top of the page, alone or
//! with its motto. When the page title names the site, its masthead lines
//! go; when it does not, the masthead is where the name is read.

use super::boilerplate::{Boilerplate, word_count};
use super::lines::{Line, ends_sentence};
use super::text::{fold, fold_starts_with, holds_words};

/// How many lines at the top may be the masthead.
const MASTHEAD_WINDOW: usize = 8;

/// The masthead near the top: the site's name alone or with its motto
/// ("Bitwerk Praxis – Magazin für IT, Netzwerk & Elektronik").
/// So does the site's desk credited as author ("Barrowvale FM Newsroom",
/// "Kinbrae Herald Staff"): the site's name and role words only.
pub(super) fn drop(lines: &mut Vec<Line>, site: &str, rules: &Boilerplate) {
    let key = fold(site);
    if key.is_empty() {
        return;
    }
    let mut index = 0;
    lines.retain(|l| {
        index += 1;
        if index > MASTHEAD_WINDOW {
            return true;
        }
        if !fold_starts_with(&l.text, &key) {
            return true;
        }
        let folded = fold(&l.text);
        let Some(rest) = folded.strip_prefix(key.as_str()) else {
            return true;
        };
        let desk = rest
            .strip_prefix(' ')
            .is_some_and(|rest| rest.split(' ').all(|w| rules.is_role_word(w)));
        let motto = l.words <= 12
            && !ends_sentence(&l.text)
            && (rest.is_empty()
                || rest.starts_with(' ')
                    // Lower-casing may change a letter's length in bytes:
                    // never slice the line inside a character.
                    && l.text.get(site.len()..).is_some_and(|after| {
                        after
                            .trim_start()
                            .starts_with(['–', '—', '-', '|', ':', '·'])
                    }));
        !(desk || motto)
    });
}

/// Longest masthead, in words ("The Wattle Point Local", "Boréal FM 95,9").
const MAX_NAME_WORDS: usize = 5;

/// The site's name from the masthead, for a page title that does not give
/// it: a short, capitalised line above the headline (`headline`: its index
/// in `lines`; the top of the page without one) whose words the page
/// prints again elsewhere ("Barrowvale FM Newsroom", "© 2024 The Wattle
/// Point Local"). A name printed once is as likely a section label or a
/// kicker, and no site beats a wrong one.
pub(super) fn find(lines: &[Line], headline: Option<usize>, title_line: &str) -> Option<String> {
    let top = headline
        .unwrap_or(MASTHEAD_WINDOW)
        .min(MASTHEAD_WINDOW)
        .min(lines.len());
    // The page folded once, and only when a line could be the name.
    let mut page: Option<Vec<String>> = None;
    lines[..top].iter().enumerate().find_map(|(i, l)| {
        let name = masthead_name(l.text.trim())?;
        let key = fold(name);
        let page = page.get_or_insert_with(|| lines.iter().map(|o| fold(&o.text)).collect());
        let elsewhere = holds_words(&fold(title_line), &key)
            || page
                .iter()
                .enumerate()
                .any(|(k, other)| k != i && holds_words(other, &key));
        elsewhere.then(|| as_written(name, lines))
    })
}

/// The name a masthead line gives: the whole line, or its first part
/// when the name leads a strip of section and place ("NEUE PRATERPOST ·
/// Motor · Wien").
fn masthead_name(line: &str) -> Option<&str> {
    if name_shaped(line) {
        return Some(line);
    }
    let (first, rest) = line.split_once(['·', '|', '•', '—'])?;
    let first = first.trim();
    (word_count(line) <= 8 && !rest.trim().is_empty() && name_shaped(first)).then_some(first)
}

/// A name set in capitals on the masthead, as the page writes it
/// elsewhere in mixed case ("© 2024 Neue Praterpost"), if it does.
fn as_written(name: &str, lines: &[Line]) -> String {
    if name.chars().any(char::is_lowercase) {
        return name.to_owned();
    }
    let upper = name.to_uppercase();
    lines
        .iter()
        .find_map(|l| {
            let at = l.text.to_uppercase().find(&upper)?;
            let found = l.text.get(at..at + name.len())?;
            (found.to_uppercase() == upper && found.chars().any(char::is_lowercase))
                .then(|| found.to_owned())
        })
        .unwrap_or_else(|| name.to_owned())
}

/// A name: a few words, each capitalised (or a number: "FM 95,9"), no
/// sentence, no menu separators.
fn name_shaped(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    !words.is_empty()
        && words.len() <= MAX_NAME_WORDS
        && !ends_sentence(text)
        && !text.contains(['|', '·', '•', '»', '›', ':', '/'])
        && words.iter().all(|w| {
            w.chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || c == '&')
        })
        && words
            .iter()
            .any(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 3)
}
