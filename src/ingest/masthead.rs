//! The masthead: the site's name printed at the top of the page, alone or
//! with its motto. When the page title names the site, its masthead lines
//! go; when it does not, the masthead is where the name is read.

use super::boilerplate::Boilerplate;
use super::lines::{Line, ends_sentence};
use super::text::fold;

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
                    && l.text[site.len().min(l.text.len())..]
                        .trim_start()
                        .starts_with(['–', '—', '-', '|', ':', '·']));
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
    lines[..top].iter().enumerate().find_map(|(i, l)| {
        let name = l.text.trim();
        if !name_shaped(name) {
            return None;
        }
        let key = fold(name);
        let elsewhere = std::iter::once(title_line)
            .chain(
                lines
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != i)
                    .map(|(_, o)| o.text.as_str()),
            )
            .any(|other| contains_words(&fold(other), &key));
        elsewhere.then(|| name.to_owned())
    })
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

/// Whether folded `text` holds folded `key` as whole words.
fn contains_words(text: &str, key: &str) -> bool {
    !key.is_empty()
        && text.match_indices(key).any(|(at, _)| {
            let end = at + key.len();
            (at == 0 || text.as_bytes()[at - 1] == b' ')
                && (end == text.len() || text.as_bytes()[end] == b' ')
        })
}
