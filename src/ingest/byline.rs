//! Byline text → author names.
//!
//! In goes what follows a byline's opener ("Jane Roe and Tom Hale, Staff
//! Writers", "CURTIS BELL Heartland Press"), or a line that may be a
//! byline without its "By"; out come the names, title-cased when they were
//! printed in capitals, with roles, places and agencies left out. Every
//! parser reads names through these rules, so a byline means the same in
//! a scrape, an HTML page, a JSON export or a feed.

use super::boilerplate::{Boilerplate, word_count};
use super::lines::{Line, ends_sentence};

/// Particles that may stand lower-case inside a name.
pub(super) const NAME_PARTICLES: &[&str] = &[
    "de", "la", "le", "du", "des", "van", "der", "den", "von", "zu", "da", "del", "di", "dos", "y",
    "bin", "al", "el", "do", "das",
];

/// Words that join two names in a byline.
const JOINERS: [&str; 7] = [" and ", " & ", " et ", " und ", " y ", " e ", " with "];

/// "Nadja Keller, Reto Zimmermann": two segments, the second a name of two
/// or three capitalised words, no role ("Film Critic") and no place
/// ("New York", "Bad Ischl"); one word after the comma is a place
/// ("Innsbruck") or a desk.
fn second_author(segments: &[&str], rules: &Boilerplate) -> bool {
    let [_, second] = segments else {
        return false;
    };
    let words: Vec<&str> = second.split_whitespace().collect();
    (2..=3).contains(&words.len())
        && !rules.is_place_opener(words[0])
        && words.iter().all(|w| {
            let mut chars = w.chars();
            chars.next().is_some_and(char::is_uppercase)
                && chars.any(char::is_lowercase)
                && !rules.is_role_word(w)
        })
}

/// Academic and professional titles in front of a name.
const HONORIFICS: [&str; 10] = [
    "dr.",
    "dr",
    "prof.",
    "prof",
    "mag.",
    "ing.",
    "dipl.-ing.",
    "pd",
    "univ.-prof.",
    "priv.-doz.",
];

/// Names from a byline: "Jane Roe and Tom Hale, Staff Writers" → both names.
pub(super) fn parse_names(text: &str, rules: &Boilerplate) -> Vec<String> {
    let mut names = Vec::new();
    for part in name_parts(text, rules) {
        // What follows a part that is no name is no list of names either.
        let Some(name) = name_in(part, rules) else {
            break;
        };
        names.push(name);
    }
    names
}

/// The stretches of a byline that may each hold one name: split at
/// joiners, and at commas only where the commas list names.
fn name_parts<'a>(text: &'a str, rules: &Boilerplate) -> Vec<&'a str> {
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
    // "Karim El Ouazzani, with Leila Bennis in Rabat": the joiner opens
    // the last segment.
    fn opened(s: &str) -> Option<&str> {
        JOINERS
            .iter()
            .find_map(|j| s.strip_prefix(j.trim_start()))
            .filter(|rest| !rest.is_empty())
    }
    let last_opened = segments.len() > 1 && segments.last().is_some_and(|s| opened(s).is_some());
    let segments: Vec<&str> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| if i > 0 { opened(s).unwrap_or(s) } else { s })
        .collect();
    let listed = segments.len() > 1
        && (last_opened
            || segments.last().is_some_and(|last| {
                JOINERS.iter().any(|j| last.contains(j))
                    && !last.split_whitespace().any(|w| rules.is_role_word(w))
            }));
    let segments = if listed || second_author(&segments, rules) {
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
    parts
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The name a byline part starts with, if it starts with one.
fn name_in(part: &str, rules: &Boilerplate) -> Option<String> {
    // "Aino Lehtonen in Helsinki", "Tom Hale Staff Writer": the name
    // ends where a role or place word begins.
    // "Dr. Katrin Wehmeyer", "Prof. Jonas Albers": the title is not the name.
    let all: Vec<&str> = part
        .split_whitespace()
        .skip_while(|w| HONORIFICS.contains(&w.to_lowercase().as_str()))
        .collect();
    // A name in capitals ends where the capitals do ("CURTIS BELL
    // Heartland Press": the agency follows).
    let caps_end = if all.first().is_some_and(|w| all_caps(w)) {
        all.iter().position(|w| !all_caps(w)).unwrap_or(all.len())
    } else {
        all.len()
    };
    // "le"/"el" end a name before a date ("Par Jean Roux le 3 mars"), but
    // capitalised they are its particle ("Gwenaëlle Le Bihan", "Nadia El
    // Khoury").
    let particle = |w: &str| {
        w.chars().next().is_some_and(char::is_uppercase)
            && NAME_PARTICLES.contains(&w.to_lowercase().as_str())
    };
    let cut = all
        .iter()
        .enumerate()
        .position(|(i, w)| rules.is_role_word(w) && !(i > 0 && particle(w)))
        .unwrap_or(all.len())
        .min(caps_end);
    let words = &all[..cut];
    // "Tradewind News Staff": one word before a desk is the paper's name.
    if words.len() == 1 && cut < all.len() {
        return None;
    }
    let is_name = (1..=5).contains(&words.len())
        && words.iter().all(|w| {
            // "al-Mousawi", "el-Amin": a particle joined to the name.
            let joined = w.split_once('-').is_some_and(|(p, rest)| {
                NAME_PARTICLES.contains(&p) && rest.starts_with(char::is_uppercase)
            });
            NAME_PARTICLES.contains(w)
                || joined
                || w.chars().next().is_some_and(char::is_uppercase)
                    && !w.chars().any(|c| c.is_ascii_digit())
        })
        && rules.month(words[0]).is_none();
    is_name.then(|| {
        words
            .iter()
            .map(|w| {
                if all_caps(w) {
                    title_case(w)
                } else {
                    (*w).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// A word printed in capitals; a lone capital ("J.") is an initial, not
/// shouting.
fn all_caps(w: &str) -> bool {
    w.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !w.chars().any(char::is_lowercase)
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

/// "Harriet Okonkwo and Tom Pryce" on the line right above a date line: a
/// byline without its "By". A dateline of its own ("NEW DELHI") may stand
/// between them. Gives where the byline starts in `content` (all from there
/// is byline and dateline) and its names.
pub(super) fn bare_byline_above(
    content: &[Line],
    rules: &Boilerplate,
) -> Option<(usize, Vec<String>)> {
    let dateline = content
        .last()
        .is_some_and(|l| l.words <= 4 && is_caps_place(&l.text));
    let mut name_at = content.len().checked_sub(if dateline { 2 } else { 1 })?;
    let mut names = bare_byline(&content[name_at], rules)?;
    // An author box: one name a line, each under the last (their role
    // lines are already gone).
    while name_at > 0 && content[name_at].gap == 0 && names.len() < 4 {
        // Each name may keep a role line of its own ("Congressional
        // correspondent") between it and the next.
        let role_above = name_at >= 2 && {
            let l = &content[name_at - 1];
            l.gap == 0
                && l.words <= 4
                && !ends_sentence(&l.text)
                && l.text
                    .split_whitespace()
                    .last()
                    .is_some_and(|w| is_role(w, rules))
        };
        let at = name_at - 1 - usize::from(role_above);
        let Some(above) = bare_byline(&content[at], rules) else {
            break;
        };
        names.splice(0..0, above);
        name_at = at;
    }
    Some((name_at, names))
}

/// "NEW DELHI", "SAN JOSÉ": a place in capitals standing as a dateline.
fn is_caps_place(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 3 && letters.iter().all(|c| c.is_uppercase()) && !ends_sentence(text)
}

/// A byline with each "in Place" after a name taken out ("Akiko
/// Morimoto in Kumamoto and Jared Okafor in Tokyo"): a place is one to
/// three capitalised words, up to the next joiner or the end.
fn without_places(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" in ") {
        let after = &rest[at + 4..];
        let end = JOINERS
            .iter()
            .filter_map(|j| after.find(j))
            .min()
            .unwrap_or(after.len());
        let place = &after[..end];
        let is_place = (1..=3).contains(&word_count(place))
            && place
                .split_whitespace()
                .all(|w| w.chars().next().is_some_and(char::is_uppercase));
        if is_place {
            out.push_str(&rest[..at]);
            rest = &after[end..];
        } else {
            out.push_str(&rest[..at + 4]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A line that is nothing but one to four names ("Jane Roe and Tom
/// Hale"): capitalized words in twos and threes, joined by "and"/"&"/",".
/// The names may carry one detail after a bar or comma, if it is a role or
/// an address: "Tan Wei Ling, Transport Correspondent", "Dana Whitfield |
/// dwhitfield@kvrn.example".
pub(super) fn bare_byline(line: &Line, rules: &Boilerplate) -> Option<Vec<String>> {
    if line.words > 12 || ends_sentence(&line.text) {
        return None;
    }
    // "Sofia Lindqvist in Älvby", "A in Kumamoto and B in Tokyo": where
    // the names wrote from.
    let placeless = without_places(&line.text);
    let text = placeless.as_str();
    let names_only = |part: &str| {
        // "Dana Petrakis/Ledger" is a name and what follows the slash.
        if part.contains('/') {
            return None;
        }
        let names = parse_names(part, rules);
        let joiners = part
            .split_whitespace()
            .filter(|w| JOINERS.iter().any(|j| j.trim() == *w))
            .count();
        let name_words: usize = names.iter().map(|n| word_count(n)).sum();
        // "A+ A A-", a text-size control, is no name: a name has a word
        // of two letters or more, and its words are letters.
        let real = |n: &String| {
            n.split_whitespace()
                .any(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
                && !n.contains(['+', '='])
        };
        let shaped = !names.is_empty()
            && names.len() <= 4
            && names
                .iter()
                .all(|n| (2..=3).contains(&word_count(n)) && real(n))
            && name_words + joiners == word_count(part);
        shaped.then_some(names)
    };
    if let Some(names) = names_only(text) {
        return Some(names);
    }
    // "Crime reporter Amy Thorncroft": the role may come first, written
    // as a phrase in lower case ("Redacción Crónica Pacífica" is a desk
    // and the paper's name).
    let after_role = text
        .split_whitespace()
        .take(3)
        .enumerate()
        .filter(|(_, w)| w.starts_with(char::is_lowercase) && is_role(w, rules))
        .last()
        // Lines are whitespace-collapsed: words stand one space apart.
        .and_then(|(k, _)| text.splitn(k + 2, ' ').nth(k + 1));
    if let Some(names) = after_role.and_then(names_only) {
        return Some(names);
    }
    let (names, detail, sep) = [" | ", ", ", "/", " - ", " – ", " — ", " · ", " • "]
        .iter()
        .find_map(|sep| text.split_once(sep).map(|(n, d)| (n, d, *sep)))?;
    // "Jose Dizon and Ann Lacson - Manila Daybreak": after a dash, the
    // organisation the names write for.
    // "Lukas Pichler/APA" above a date line is the same.
    // "Rebecca Tsang · NPB News": a dot sets it apart as well.
    let organisation = sep.trim().chars().all(|c| "-–—/·•".contains(c))
        && word_count(detail) <= 4
        && detail
            .split_whitespace()
            .all(|w| w.chars().next().is_some_and(char::is_uppercase));
    let detail_ok = organisation
        || detail.contains('@')
        || detail.split_whitespace().any(|w| is_role(w, rules));
    if detail_ok { names_only(names) } else { None }
}

/// A word naming a byline's role or desk ("Correspondent", "journaliste"),
/// not one of the short words of the role table that only end a name ("in",
/// "for", "avec"): capitalized, or long enough to be a title in lower case.
pub(super) fn is_role(word: &str, rules: &Boilerplate) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric());
    let letters = w.chars().count();
    rules.is_role_word(w)
        && letters >= 4
        && (w.chars().next().is_some_and(char::is_uppercase) || letters >= 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capitalised_particle_is_part_of_the_name_and_a_lower_case_one_ends_it() {
        let rules = Boilerplate::builtin();
        assert_eq!(
            parse_names("Gwenaëlle Le Bihan avec AFP", rules),
            vec!["Gwenaëlle Le Bihan"]
        );
        assert_eq!(
            parse_names("Nadia El Khoury", rules),
            vec!["Nadia El Khoury"]
        );
        assert_eq!(
            parse_names("Jean Roux le 3 mars 2024", rules),
            vec!["Jean Roux"]
        );
    }

    #[test]
    fn a_second_name_after_a_comma_is_an_author_and_a_place_or_role_is_not() {
        let rules = Boilerplate::builtin();
        assert_eq!(
            parse_names("Nadja Keller, Reto Zimmermann", rules),
            vec!["Nadja Keller", "Reto Zimmermann"]
        );
        assert_eq!(parse_names("Jane Roe, New York", rules), vec!["Jane Roe"]);
        assert_eq!(
            parse_names("Jane Roe, Film Critic", rules),
            vec!["Jane Roe"]
        );
        assert_eq!(
            parse_names("Korbinian Huber, Kreuzbichl", rules),
            vec!["Korbinian Huber"]
        );
        assert_eq!(
            parse_names("Marcus Teel, Athletics Communications", rules),
            vec!["Marcus Teel"]
        );
        assert_eq!(
            parse_names("Dr. Katrin Wehmeyer", rules),
            vec!["Katrin Wehmeyer"]
        );
    }
}
