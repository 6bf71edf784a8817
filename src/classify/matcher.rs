//! Every topic's terms compiled into one Aho–Corasick automaton.
//!
//! An article is scanned once per field whatever the number of topics; only
//! the topics whose terms were actually hit are then evaluated, so 1,000
//! topics cost about what 13 do. Text and terms are folded the same way
//! (lower case, punctuation to spaces, curly apostrophes straightened) and a
//! hit counts only on whole words, with a plural or possessive ending
//! allowed. Terms written in capitals ("US", "NATO") are acronyms and are
//! matched against a case-preserving fold instead, so "US" never matches
//! the pronoun "us".

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::config::{Field, Topic};

/// Which rule list of a topic a term came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    Any,
    All,
    None,
}

/// Where one pattern's hits go: (topic index, rule, term index in that rule).
type Owner = (u32, Rule, u32);

/// One folded text, as the automaton sees it.
struct Automaton {
    ac: AhoCorasick,
    owners: Vec<Vec<Owner>>,
}

/// The compiled form of a topic set.
pub struct Matcher {
    topics: Vec<Topic>,
    folded: Option<Automaton>,
    acronyms: Option<Automaton>,
}

/// A term is an acronym when every letter in it is a capital and it has at
/// least two letters ("US", "U.S.", "NATO", "G7" is not: one letter).
fn is_acronym(term: &str) -> bool {
    let letters: Vec<char> = term.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase())
}

/// Folds text for matching: words separated by single spaces, apostrophes
/// kept inside words, everything else that is not a letter or digit a space.
pub fn fold(text: &str, lower: bool) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(if lower { c.to_ascii_lowercase() } else { c });
        } else if c.is_alphanumeric() {
            if lower {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        } else if c == '\'' || c == '’' {
            out.push('\'');
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

fn build(patterns: HashMap<String, Vec<Owner>>) -> Option<Automaton> {
    if patterns.is_empty() {
        return None;
    }
    let mut pairs: Vec<(String, Vec<Owner>)> = patterns.into_iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let (words, owners): (Vec<String>, Vec<Vec<Owner>>) = pairs.into_iter().unzip();
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&words)
        .ok()?;
    Some(Automaton { ac, owners })
}

/// One whole-word occurrence of a term, attributed to a topic rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub topic: u32,
    pub rule: Rule,
    pub term: u32,
    pub field: Field,
}

impl Matcher {
    pub fn new(topics: Vec<Topic>) -> Matcher {
        let mut folded: HashMap<String, Vec<Owner>> = HashMap::new();
        let mut acronyms: HashMap<String, Vec<Owner>> = HashMap::new();
        for (ti, topic) in topics.iter().enumerate() {
            let lists = [
                (Rule::Any, &topic.any),
                (Rule::All, &topic.all),
                (Rule::None, &topic.none),
            ];
            for (rule, terms) in lists {
                for (i, term) in terms.iter().enumerate() {
                    let owner = (ti as u32, rule, i as u32);
                    let acronym = is_acronym(term);
                    let key = fold(term, !acronym);
                    let key = key.trim().to_owned();
                    let map = if acronym { &mut acronyms } else { &mut folded };
                    // "economy" also as "economies": the ending rule below
                    // only adds letters, it cannot change a "y" to "ies".
                    if !acronym
                        && let Some(stem) = key.strip_suffix('y')
                        && stem.ends_with(|c: char| !"aeiou".contains(c))
                    {
                        map.entry(format!("{stem}ies")).or_default().push(owner);
                    }
                    map.entry(key).or_default().push(owner);
                }
            }
        }
        Matcher {
            topics,
            folded: build(folded),
            acronyms: build(acronyms),
        }
    }

    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }

    /// Scans title and body; returns every hit, sorted by topic, rule and
    /// term so callers can walk each topic's hits as one slice.
    pub fn scan(&self, title: &str, body: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        for (field, text) in [(Field::Title, title), (Field::Body, body)] {
            for (automaton, lower) in [(&self.folded, true), (&self.acronyms, false)] {
                let Some(automaton) = automaton else { continue };
                let hay = fold(text, lower);
                self.scan_one(automaton, &hay, field, &mut hits);
            }
        }
        hits.sort_unstable();
        hits
    }

    fn scan_one(&self, a: &Automaton, hay: &str, field: Field, hits: &mut Vec<Hit>) {
        let bytes = hay.as_bytes();
        for m in a.ac.find_overlapping_iter(hay) {
            // Whole words: a space before, and after it a space, possibly
            // behind a plural or possessive ending. An apostrophe before
            // counts as a boundary for elisions (l'Élysée).
            if !matches!(bytes[m.start() - 1], b' ' | b'\'') {
                continue;
            }
            let rest = &hay[m.end()..];
            let whole = ["", "s", "es", "'s", "'", "s'"].iter().any(|ending| {
                rest.strip_prefix(ending)
                    .is_some_and(|r| r.starts_with(' '))
            });
            if !whole {
                continue;
            }
            for &(topic, rule, term) in &a.owners[m.pattern().as_usize()] {
                if self.topics[topic as usize].fields.contains(&field) {
                    hits.push(Hit {
                        topic,
                        rule,
                        term,
                        field,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(
            fold("Gaza’s US-Israel ties, e-mail!", true),
            " gaza's us israel ties e mail "
        );
        assert_eq!(fold("U.S. bound", false), " U S bound ");
    }

    #[test]
    fn acronyms() {
        assert!(is_acronym("US") && is_acronym("U.S.") && is_acronym("NATO"));
        assert!(!is_acronym("Gaza") && !is_acronym("G7") && !is_acronym("iPhone"));
    }
}
