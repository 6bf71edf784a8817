//! Cookie-consent banners glued in front of a page-title line, in words
//! no table has seen: "Ce site utilise des cookies pour mesurer
//! l'audience. OK Headline — Site", "Cookie-Einstellungen Alle akzeptieren
//! Nur notwendige Headline · Site". The banner runs from the start to the
//! end of the sentence that names cookies (or to the cookie word itself,
//! when no sentence follows), then over its buttons: words of the
//! `consent_buttons` table.

use rustc_hash::FxHashSet as HashSet;

use super::text::find_ignore_ascii_case;

/// How far into the line the cookie word may stand: a banner opens it.
const COOKIE_WITHIN_BYTES: usize = 200;

/// How many words after the cookie word its sentence may run.
const SENTENCE_WORDS: usize = 25;

/// Fewest words of title that must remain: otherwise the line was no
/// banner over a title, and stays as it is.
const MIN_TITLE_WORDS: usize = 3;

/// Button words that never end a run of buttons ("Alle akzeptieren", "Tout
/// accepter"): as the last word, they open the headline instead ("Alle
/// Schulen bleiben zu").
const OPENERS: &[&str] = &[
    "all", "alle", "tout", "toutes", "todas", "todo", "tutti", "i",
];

/// `line` without a cookie banner in front, or as it is.
pub(super) fn strip_banner<'a>(line: &'a str, buttons: &HashSet<String>) -> &'a str {
    let Some(at) = find_ignore_ascii_case(&line[..floor(line, COOKIE_WITHIN_BYTES)], "cookie")
    else {
        return line;
    };
    // The end of the cookie word ("Cookie-Einstellungen" is one).
    let mut cut = line[at..]
        .find(char::is_whitespace)
        .map_or(line.len(), |i| at + i);
    // The rest of its sentence, if it ends soon in a real word's full stop
    // ("l'audience."; not "U.S." nor "St." in a headline); of the sentences
    // ending soon, the last one that buttons follow ("… our site. By
    // continuing you agree to our policy. OK, got it Headline").
    let mut pos = cut;
    let mut sentence = false;
    let mut ended_at = None;
    let words: Vec<&str> = line[cut..]
        .split_whitespace()
        .take(SENTENCE_WORDS + 1)
        .collect();
    for (k, word) in words.iter().enumerate().take(SENTENCE_WORDS) {
        let start = pos + line[pos..].find(word).unwrap_or(0);
        pos = start + word.len();
        let bare = word.trim_end_matches(['.', '!']);
        if bare.len() < word.len()
            && bare.chars().filter(|c| c.is_alphabetic()).count() >= 4
            && bare.chars().any(char::is_lowercase)
        {
            let buttons_next = words.get(k + 1).is_some_and(|w| buttons.contains(&key(w)));
            if ended_at.is_none() || buttons_next {
                ended_at = Some(pos);
            }
            if buttons_next {
                break;
            }
        }
    }
    if let Some(end) = ended_at {
        cut = end;
        sentence = true;
    }
    // Then its buttons.
    let mut end = cut;
    let mut pressed = 0;
    let mut last_opener = None;
    let mut pos = cut;
    for word in line[cut..].split_whitespace() {
        let start = pos + line[pos..].find(word).unwrap_or(0);
        pos = start + word.len();
        let key = key(word);
        // "Accept | Reject | Manage options": the bars between buttons.
        if key.is_empty() {
            continue;
        }
        if !buttons.contains(&key) {
            break;
        }
        last_opener = OPENERS.contains(&key.as_str()).then_some(start);
        end = pos;
        pressed += 1;
    }
    if let Some(start) = last_opener {
        end = start;
    }
    // A cookie word with neither a sentence nor buttons after it is a
    // headline's ("Bakery wins award for its cookie recipe").
    let rest = line[end.max(cut)..].trim_start();
    if (sentence || pressed > 0) && rest.split_whitespace().count() >= MIN_TITLE_WORDS {
        rest
    } else {
        line
    }
}

/// A word as the button table has it: lower case, punctuation trimmed.
fn key(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'')
        .to_lowercase()
}

/// The largest char boundary at or below `max`.
fn floor(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buttons() -> HashSet<String> {
        [
            "ok",
            "alle",
            "akzeptieren",
            "nur",
            "notwendige",
            "accept",
            "all",
            "reject",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    #[test]
    fn a_banner_sentence_and_its_buttons_come_off() {
        let b = buttons();
        assert_eq!(
            strip_banner(
                "Ce site utilise des cookies pour mesurer l'audience. OK Ségou : la campagne — Bamako Horizon",
                &b
            ),
            "Ségou : la campagne — Bamako Horizon"
        );
        assert_eq!(
            strip_banner(
                "Cookie-Einstellungen Alle akzeptieren Nur notwendige Weltcup-Abfahrt abgesagt · Rundschau",
                &b
            ),
            "Weltcup-Abfahrt abgesagt · Rundschau"
        );
    }

    #[test]
    fn the_last_sentence_before_the_buttons_ends_the_banner() {
        let b = buttons();
        assert_eq!(
            strip_banner(
                "We use cookies to improve your experience on our site. By continuing to browse you \
                 agree to our Privacy Policy. OK Birthing services paused - Courier",
                &b
            ),
            "Birthing services paused - Courier"
        );
    }

    #[test]
    fn buttons_set_apart_by_bars_come_off_together() {
        let mut b = buttons();
        b.extend(["manage", "options"].map(str::to_owned));
        assert_eq!(
            strip_banner(
                "We and our partners use cookies. Accept | Reject | Manage options The Clarion | Ballot rigged, say tenants",
                &b
            ),
            "The Clarion | Ballot rigged, say tenants"
        );
    }

    #[test]
    fn a_trailing_opener_word_belongs_to_the_headline() {
        let b = buttons();
        assert_eq!(
            strip_banner(
                "We use cookies. Accept All schools shut after the storm - Gazette",
                &b
            ),
            "All schools shut after the storm - Gazette"
        );
    }

    #[test]
    fn lines_without_a_banner_stay_whole() {
        let b = buttons();
        for line in [
            "Bakery wins award for its cookie recipe at county fair - Gazette",
            "U.S. cookie sales fall for a third year - Gazette",
            "Cookie maker to close plant - Gazette",
            "Council approves harbour plan | Gazette",
        ] {
            assert_eq!(strip_banner(line, &b), line);
        }
    }
}
