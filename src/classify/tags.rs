//! Tags: an article's salient named entities, without a model download.
//!
//! Runs of capitalized words are candidates ("Donald Trump", "White
//! House", "New York Times"); titles split them ("US President Donald
//! Trump" gives "US" and "Donald Trump"), stopwords and weekdays drop out
//! (`tags.toml`), a surname merges into the full name it stands for, and a
//! word that is only ever capitalized at the start of a sentence is not a
//! name. Candidates are ranked by frequency, with a bonus for the title,
//! subheadings and the opening paragraph.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

use crate::model::{Article, BlockKind};

/// How many tags an article gets at most.
pub const MAX_TAGS: usize = 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagRules {
    stopwords: Vec<String>,
    titles: Vec<String>,
    demonyms: HashMap<String, String>,
}

struct Rules {
    stopwords: HashSet<String>,
    titles: HashSet<String>,
    demonyms: HashMap<String, String>,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    let r: TagRules = toml::from_str(include_str!("tags.toml"))
        .unwrap_or_else(|e| panic!("built-in tags.toml is invalid: {e}"));
    let set = |v: Vec<String>| v.into_iter().map(|w| w.to_lowercase()).collect();
    Rules {
        stopwords: set(r.stopwords),
        titles: set(r.titles),
        demonyms: r.demonyms,
    }
});

/// Lower-case connectors allowed inside a name ("Bank of England").
const CONNECTORS: &[&str] = &[
    "of", "de", "del", "la", "van", "von", "der", "bin", "al", "du",
];

#[derive(Default)]
struct Candidate {
    surface: String,
    count: u32,
    bonus: u32,
    first: usize,
}

/// Extracts up to [`MAX_TAGS`] tags, most salient first.
pub fn extract(article: &Article) -> Vec<String> {
    let rules = &*RULES;
    let mut found: HashMap<String, Candidate> = HashMap::new();
    // Words seen capitalized away from a sentence start: real names.
    let mut mid_caps: HashSet<String> = HashSet::new();
    let mut sentence_initial: Vec<(String, String, u32, usize)> = Vec::new();
    let mut position = 0usize;

    let mut sections: Vec<(&str, u32)> = vec![(&article.title, 3)];
    let mut first_paragraph = true;
    for b in &article.blocks {
        let bonus = match b.kind {
            BlockKind::Subheading | BlockKind::Standfirst => 1,
            BlockKind::Paragraph if first_paragraph => {
                first_paragraph = false;
                1
            }
            _ => 0,
        };
        sections.push((&b.text, bonus));
    }

    for (text, bonus) in sections {
        for sentence in sentences(text) {
            let mut run: Vec<&str> = Vec::new();
            let mut run_starts_sentence = false;
            let words: Vec<&str> = sentence.split_whitespace().collect();
            let mut i = 0;
            while i <= words.len() {
                let raw = words.get(i).copied().unwrap_or("");
                let (word, breaks_after) = trim_word(raw);
                let lower = word.to_lowercase();
                let capital = word.chars().next().is_some_and(char::is_uppercase);
                let connector = !run.is_empty()
                    && CONNECTORS.contains(&lower.as_str())
                    && words.get(i + 1).is_some_and(|n| {
                        trim_word(n)
                            .0
                            .chars()
                            .next()
                            .is_some_and(char::is_uppercase)
                    });
                let usable = i < words.len()
                    && (capital || connector)
                    && !rules.titles.contains(&lower)
                    && !(run.is_empty() && rules.stopwords.contains(&lower));
                if usable {
                    if run.is_empty() {
                        run_starts_sentence = i == 0;
                    }
                    if i > 0 && capital {
                        mid_caps.insert(lower.clone());
                    }
                    run.push(word);
                }
                if !usable || breaks_after {
                    while run
                        .last()
                        .is_some_and(|w| CONNECTORS.contains(&w.to_lowercase().as_str()))
                    {
                        run.pop();
                    }
                    if !run.is_empty() {
                        let name = run.join(" ");
                        let key = canonical(&name, rules);
                        if run.len() == 1 && run_starts_sentence {
                            sentence_initial.push((key, name, bonus, position));
                        } else {
                            add(&mut found, key, name, bonus, position);
                        }
                        position += 1;
                        run.clear();
                    }
                }
                i += 1;
            }
        }
    }
    // A lone capitalized word at a sentence start counts only if it is a
    // name elsewhere ("Israel was…" yes; "Neither Israel…" no).
    for (key, name, bonus, pos) in sentence_initial {
        let lower = name.to_lowercase();
        if found.contains_key(&key)
            || mid_caps.contains(&lower)
            || rules.demonyms.contains_key(&lower)
        {
            add(&mut found, key, name, bonus, pos);
        }
    }
    merge_surnames(&mut found);

    let mut ranked: Vec<Candidate> = found
        .into_values()
        .filter(|c| {
            let lower = c.surface.to_lowercase();
            !rules.stopwords.contains(&lower) && c.surface.chars().any(char::is_alphabetic)
        })
        .collect();
    ranked.sort_by(|a, b| {
        (b.count + b.bonus)
            .cmp(&(a.count + a.bonus))
            .then(a.first.cmp(&b.first))
    });
    ranked
        .into_iter()
        .take(MAX_TAGS)
        .map(|c| c.surface)
        .collect()
}

fn add(
    found: &mut HashMap<String, Candidate>,
    key: String,
    name: String,
    bonus: u32,
    position: usize,
) {
    let c = found.entry(key).or_insert_with(|| Candidate {
        surface: name,
        first: position,
        ..Candidate::default()
    });
    c.count += 1;
    c.bonus += bonus;
}

/// The key a candidate is counted under: demonyms become their country.
fn canonical(name: &str, rules: &Rules) -> String {
    match rules.demonyms.get(&name.to_lowercase()) {
        Some(country) => country.to_lowercase(),
        None => name.to_lowercase(),
    }
}

/// "Trump" and "Donald Trump" are one person: the single word's count goes
/// to the full name, which keeps the more frequent surface form.
fn merge_surnames(found: &mut HashMap<String, Candidate>) {
    let singles: Vec<String> = found.keys().filter(|k| !k.contains(' ')).cloned().collect();
    for single in singles {
        let owners: Vec<String> = found
            .keys()
            .filter(|k| k.contains(' ') && k.rsplit(' ').next() == Some(single.as_str()))
            .cloned()
            .collect();
        if owners.len() != 1 {
            continue;
        }
        let Some(short) = found.remove(&single) else {
            continue;
        };
        if let Some(full) = found.get_mut(&owners[0]) {
            if short.count > full.count {
                full.surface = short.surface;
            }
            full.count += short.count;
            full.bonus += short.bonus;
            full.first = full.first.min(short.first);
        }
    }
    // Demonym keys carry a country name as their surface form.
    for (key, c) in found.iter_mut() {
        if let Some(country) = RULES.demonyms.get(&c.surface.to_lowercase())
            && country.to_lowercase() == *key
        {
            c.surface = country.clone();
        }
    }
}

/// Splits text into sentences at ., ! and ? followed by a space.
fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive(['.', '!', '?', ';', ':'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Strips quotes and possessives from a word; says whether punctuation
/// after it ends a name run.
fn trim_word(raw: &str) -> (&str, bool) {
    let w = raw.trim_start_matches(['"', '“', '‘', '\'', '(', '[', '«', '„']);
    let stripped = w.trim_end_matches([
        '"', '”', '’', '\'', ')', ']', '»', ',', '.', '!', '?', ';', ':', '“',
    ]);
    let breaks = stripped.len() != w.len();
    let stripped = stripped
        .strip_suffix("'s")
        .or_else(|| stripped.strip_suffix("’s"))
        .map_or(stripped, |s| s);
    let breaks = breaks || stripped.len() != w.len();
    (stripped, breaks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Block;

    fn article(title: &str, paragraphs: &[&str]) -> Article {
        Article {
            id: String::new(),
            title: title.into(),
            site: None,
            url: None,
            authors: vec![],
            published: None,
            updated: None,
            language: None,
            summary: String::new(),
            blocks: paragraphs
                .iter()
                .map(|p| Block::new(BlockKind::Paragraph, *p))
                .collect(),
            content_html: String::new(),
            topics: vec![],
            tags: vec![],
            fingerprint: 0,
            image: None,
            enclosures: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn names_titles_and_merging() {
        let a = article(
            "Harbour strike spreads to Rotterdam",
            &[
                "Dutch Prime Minister Anna de Vries met union leader Piet Bakker on Wednesday in Rotterdam.",
                "Bakker said the strike at the Port of Rotterdam would go on. The union wants pay rises.",
                "On Thursday, de Vries said Bakker had been clear.",
            ],
        );
        let tags = extract(&a);
        assert_eq!(tags[0], "Rotterdam", "{tags:?}");
        assert!(
            tags.contains(&"Bakker".to_string()) || tags.contains(&"Piet Bakker".to_string()),
            "{tags:?}"
        );
        assert!(
            !tags
                .iter()
                .any(|t| t == "Wednesday" || t == "Thursday" || t == "The" || t == "On"),
            "{tags:?}"
        );
        assert!(!tags.iter().any(|t| t.contains("Minister")), "{tags:?}");
    }
}
