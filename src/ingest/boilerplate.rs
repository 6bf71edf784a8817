//! The boilerplate rules of `boilerplate.toml`, compiled once.
//!
//! The text normalizer asks questions of a line ("is this a share bar?",
//! "does the article end here?"); this module answers them from the tables,
//! so adding a site's noise is a data change.

use crate::config::ConfigError;
use std::borrow::Cow;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;

const RULES_TOML: &str = include_str!("boilerplate.toml");
/// Where the built-in rules come from, as error messages name it.
const RULES_PATH: &str = "src/ingest/boilerplate.toml";

/// Why a rules file did not compile, before it is given a file name.
enum RulesError {
    Toml(toml::de::Error),
    Rule(String),
}

impl From<String> for RulesError {
    fn from(e: String) -> Self {
        RulesError::Rule(e)
    }
}

impl RulesError {
    fn into_config_error(self, text: &str) -> ConfigError {
        let path = std::path::Path::new(RULES_PATH);
        match self {
            RulesError::Toml(e) => ConfigError::toml(path, text, &e),
            RulesError::Rule(message) => ConfigError::new(path, None, message),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    title_junk: Vec<String>,
    consent_buttons: Vec<String>,
    title_separators: Vec<String>,
    junk_lines: Vec<String>,
    junk_starts: Vec<String>,
    list_headers: Vec<String>,
    end_markers: Vec<String>,
    credit_starts: Vec<String>,
    credit_contains: Vec<String>,
    credit_labels: Vec<String>,
    comment_signals: Vec<String>,
    share_words: Vec<String>,
    social_networks: Vec<String>,
    byline_openers: Vec<String>,
    byline_roles: Vec<String>,
    #[serde(default)]
    place_openers: Vec<String>,
    published_words: Vec<String>,
    updated_words: Vec<String>,
    caption_classes: Vec<String>,
    hidden_classes: Vec<String>,
    months: HashMap<String, Vec<String>>,
}

/// What the line tables say about one line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineClass {
    /// The article has ended ("Previous article", a comments header).
    pub end: bool,
    /// Only reader comments look like this.
    pub comment: bool,
    /// A header of a list of other stories.
    pub list_header: bool,
    /// Never article text.
    pub junk: bool,
    /// A caption or photo credit, anywhere in the body.
    pub credit: bool,
    /// A caption or photo credit, above the body (a wider test).
    pub credit_in_lead: bool,
}

/// Which date a stated-date line sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    Published,
    Updated,
}

/// The compiled rules.
pub struct Boilerplate {
    title_junk: Regex,
    /// Words of cookie-consent buttons (`super::consent`).
    consent_buttons: HashSet<String>,
    pub title_separators: Vec<String>,
    /// Every line table in one automaton, in the order of [`LineClass`]'s
    /// flags: a body line is classified in one pass, not one search per
    /// table (see [`Boilerplate::classify`]).
    line_set: regex::RegexSet,
    comment_signals: Regex,
    share_words: HashSet<String>,
    social_networks: HashSet<String>,
    byline: Regex,
    byline_roles: HashSet<String>,
    place_openers: HashSet<String>,
    /// A line opening with an "updated" label, and one opening with a
    /// "published" label.
    updated_line: Regex,
    published_line: Regex,
    update_split: Regex,
    months: HashMap<String, u32>,
    /// HTML class or id fragments of captions and credits.
    caption_classes: AhoCorasick,
    /// HTML class names of text only screen readers get.
    hidden_classes: HashSet<String>,
}

/// Trailing punctuation a junk line may carry ("Advertisement:", "Share ·").
const TAIL: &str = r"[\s:.!|·•»›>\-–—↓→▼▾⬇]*";

/// What a site may put before a line's words as decoration.
const LEAD_DECORATION: &[char] = &['—', '–', '-', '•', '·', '»', '›', '>', '▼', '↓', '*', ' '];

/// Unicode `\b` makes the regex engine leave its fast DFA on any
/// non-ASCII line; next to an ASCII letter of the pattern an ASCII
/// boundary means the same thing for our purposes, so use that there.
fn ascii_boundaries(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && chars.get(i + 1) == Some(&'b') {
            let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
            let after = chars.get(i + 2).copied();
            let ascii_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
            if ascii_word(before) || ascii_word(after) {
                out.push_str("(?-u:\\b)");
            } else if before
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, ')' | ']' | '?' | '+'))
            {
                // After a non-ASCII letter or a group: "not a word
                // character next, or the end", which the DFA can run.
                out.push_str("(?:[^\\p{L}\\p{N}_]|$)");
            } else {
                out.push_str("(?:^|[^\\p{L}\\p{N}_])");
            }
            i += 2;
            continue;
        }
        if chars[i] == '\\' {
            // Keep any other escape pair whole.
            out.push(chars[i]);
            if let Some(&c) = chars.get(i + 1) {
                out.push(c);
            }
            i += 2;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A junk pattern starting with `.*` matches anywhere in a line. Those run
/// as one unanchored regex, whose required words ("cookie", "©",
/// "rights reserved") let the engine skip most lines without scanning them;
/// inside the anchored alternations they made every line a full scan.
/// (In `junk_lines`, which is anchored at both ends, only `.*….*` means
/// "anywhere"; `.*newsletter` means "ends with".)
/// Lazy-DFA cache for the line tables' set (see where it is built).
const LINE_SET_DFA_BYTES: usize = 32 << 20;

fn is_contained(p: &str, whole_line: bool) -> bool {
    p.starts_with(".*") && (!whole_line || p.ends_with(".*"))
}

fn anchored(patterns: &[String], whole_line: bool) -> Vec<String> {
    patterns
        .iter()
        .filter(|p| !is_contained(p, whole_line))
        .cloned()
        .collect()
}

fn contained<'a>(patterns: impl Iterator<Item = (&'a String, bool)>) -> Vec<String> {
    patterns
        .filter(|(p, whole_line)| is_contained(p, *whole_line))
        .map(|(p, _)| p)
        .map(|p| {
            let p = p.strip_prefix(".*").unwrap_or(p);
            let p = p.strip_suffix(".*").unwrap_or(p);
            p.strip_suffix(r"\.?").unwrap_or(p).to_owned()
        })
        .collect()
}

fn alternation(patterns: &[String]) -> String {
    patterns
        .iter()
        .map(|p| format!("(?:{})", ascii_boundaries(p)))
        .collect::<Vec<_>>()
        .join("|")
}

fn phrases(words: &[String]) -> String {
    let mut words: Vec<&String> = words.iter().collect();
    // Longest first, so "published on" wins over "published".
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words
        .iter()
        .map(|w| regex::escape(w).replace(' ', r"\s+"))
        .collect::<Vec<_>>()
        .join("|")
}

/// The words opening a stated-date line ("Updated", "Publié le"), then
/// the separator before the date: `^(?:words)\b\s*:?\s*` without the
/// `\b`. A Unicode word boundary makes the regex engine leave its fast DFA
/// on any line with a non-ASCII character (curly quotes, "Publié"), and
/// these run on most short lines. The boundary is spelled as what may
/// follow the words: the end, spacing, a colon, or one other non-word
/// character, which [`Boilerplate::date_line`] gives back. Each phrase must
/// end in a letter or figure, where `\b` and this agree.
fn date_opener(words: &[String]) -> Result<String, String> {
    if let Some(w) = words
        .iter()
        .find(|w| !w.chars().next_back().is_some_and(char::is_alphanumeric))
    {
        return Err(format!("date words: {w:?} must end in a letter or figure"));
    }
    Ok(format!(
        r"(?i)^(?:{})(?:$|\s+:?\s*|:\s*|[^\w\s:])",
        phrases(words)
    ))
}

/// Byline openers as an alternation: a word needs a space after it ("By
/// Jane", not "Diario"), an opener ending in a colon does not ("Author:Jane").
fn openers(words: &[String]) -> String {
    let mut words: Vec<&String> = words.iter().collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words
        .iter()
        .map(|w| {
            let escaped = regex::escape(w.trim()).replace(' ', r"\s+");
            if w.trim_end().ends_with(':') {
                format!(r"{escaped}\s*")
            } else {
                format!(r"{escaped}\s+")
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// A word in lower case, copied only when it has capitals: the tables'
/// lookups run on most tokens of a page, and most are lower case already.
fn lower_word(word: &str) -> Cow<'_, str> {
    if word.is_ascii() {
        if word.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(word.to_ascii_lowercase())
        } else {
            Cow::Borrowed(word)
        }
    } else if word.chars().any(char::is_uppercase) {
        Cow::Owned(word.to_lowercase())
    } else {
        Cow::Borrowed(word)
    }
}

impl Boilerplate {
    /// The rules shipped in `boilerplate.toml`.
    pub fn builtin() -> &'static Boilerplate {
        static RULES: LazyLock<Boilerplate> = LazyLock::new(|| {
            Boilerplate::from_toml(RULES_TOML)
                .unwrap_or_else(|e| panic!("built-in boilerplate.toml is invalid: {e}"))
        });
        &RULES
    }

    /// Compiles a rules file; the error names the table and pattern at fault.
    pub fn from_toml(text: &str) -> Result<Boilerplate, ConfigError> {
        Self::compile(text).map_err(|e| e.into_config_error(text))
    }

    fn compile(text: &str) -> Result<Boilerplate, RulesError> {
        let f: RulesFile = toml::from_str(text).map_err(RulesError::Toml)?;
        let build = |table: &str, src: String| {
            Regex::new(&src).map_err(|e| format!("table `{table}`: {e}"))
        };
        let mut months = HashMap::default();
        for (number, names) in &f.months {
            let n: u32 = number
                .parse()
                .map_err(|_| format!("table `months`: `{number}` is not a month number"))?;
            for name in names {
                months.insert(name.to_lowercase(), n);
            }
        }
        let lower = |v: &[String]| v.iter().map(|w| w.to_lowercase()).collect::<HashSet<_>>();
        // All tables are compiled together, as one set. Only when that fails
        // is each compiled on its own, to name the table at fault: compiling
        // every table twice cost a third of a process's start-up.
        let line_tables: [(&str, String); 9] = [
            (
                "end_markers",
                format!(r"(?i)^(?:{})", alternation(&f.end_markers)),
            ),
            (
                "comment_signals",
                format!(r"(?i)^(?:{})", alternation(&f.comment_signals)),
            ),
            (
                "list_headers",
                format!(r"(?i)^(?:{}){TAIL}$", alternation(&f.list_headers)),
            ),
            (
                "junk_lines",
                format!(
                    r"(?i)^(?:{}){TAIL}$",
                    alternation(&anchored(&f.junk_lines, true))
                ),
            ),
            (
                "junk_starts",
                format!(
                    r"(?i)^(?:{})",
                    alternation(&anchored(&f.junk_starts, false))
                ),
            ),
            (
                "junk_lines/junk_starts",
                format!(
                    r"(?i)(?:{})",
                    alternation(&contained(
                        f.junk_lines
                            .iter()
                            .map(|p| (p, true))
                            .chain(f.junk_starts.iter().map(|p| (p, false)))
                    ))
                ),
            ),
            (
                "credit_starts",
                format!(r"(?i)^(?:{})", alternation(&f.credit_starts)),
            ),
            (
                "credit_labels",
                format!(r"(?i)(?:{})", alternation(&f.credit_labels)),
            ),
            (
                "credit_contains",
                format!(r"(?i)(?:{})", alternation(&f.credit_contains)),
            ),
        ];
        // Every table at once is a big automaton: with the default lazy-DFA
        // cache (2 MiB) the search thrashes it and falls back to the
        // PikeVM, several times slower. The cache grows only as far as
        // the lines read need it.
        let line_set = regex::RegexSetBuilder::new(line_tables.iter().map(|(_, src)| src))
            .dfa_size_limit(LINE_SET_DFA_BYTES)
            .build()
            .map_err(|e| {
                line_tables
                    .iter()
                    .find_map(|(table, src)| build(table, src.clone()).err())
                    .unwrap_or_else(|| format!("line tables: {e}"))
            })?;
        let comment_signals = build("comment_signals", line_tables[1].1.clone())?;
        Ok(Boilerplate {
            title_junk: build(
                "title_junk",
                format!(
                    r"(?i)^(?:{})(?:\s+|[\s:|·\-–—]+|$)",
                    alternation(&f.title_junk)
                ),
            )?,
            consent_buttons: lower(&f.consent_buttons),
            title_separators: f.title_separators,
            line_set,
            comment_signals,
            share_words: lower(&f.share_words),
            social_networks: lower(&f.social_networks),
            byline: build(
                "byline_openers",
                // The opener alone: the rest of the line is sliced off after the
                // match, so the engine never walks (or captures) the name.
                format!(r"(?i)^(?:{})", openers(&f.byline_openers)),
            )?,
            byline_roles: lower(&f.byline_roles),
            place_openers: lower(&f.place_openers),
            // Two searches, not one with a group per kind: a span search
            // never needs the slower capture engine, and trying "updated"
            // first is what the alternation's order did.
            updated_line: build("updated_words", date_opener(&f.updated_words)?)?,
            published_line: build("published_words", date_opener(&f.published_words)?)?,
            update_split: build("updated_words/published_words", {
                // "Updated May 21 2024 - 6:12pm, first published 5:30am":
                // either date may come second. Short published words ("le",
                // "am", "date") are too common to split at.
                let second: Vec<String> = f
                    .updated_words
                    .iter()
                    .chain(f.published_words.iter().filter(|w| w.chars().count() >= 6))
                    .cloned()
                    .collect();
                format!(r"(?i)(?:\d|[,;]\s*)({})", phrases(&second))
            })?,
            months,
            caption_classes: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&f.caption_classes)
                .map_err(|e| format!("table `caption_classes`: {e}"))?,
            hidden_classes: lower(&f.hidden_classes),
        })
    }

    /// Where a second, labelled date ("Updated …", "first published …")
    /// starts inside a date line, if it does: right after a digit or a comma.
    pub fn update_split(&self, line: &str) -> Option<usize> {
        self.update_split
            .captures(line)
            .and_then(|c| c.get(1))
            .map(|m| m.start())
            .filter(|&i| i > 0)
    }

    /// What a body line is, by every line table at once.
    pub fn classify(&self, line: &str) -> LineClass {
        // "— Story continues below —": the tables read the words, not
        // the rule a site draws around them.
        let line = line.trim_start_matches(LEAD_DECORATION);
        // Most lines match no table: one search that stops at the first
        // match says so, cheaper than gathering every table's matches.
        if !self.line_set.is_match(line) {
            return LineClass {
                junk: self.is_share_bar(line),
                ..LineClass::default()
            };
        }
        let m = self.line_set.matches(line);
        let words = word_count(line);
        let short = words <= 40;
        LineClass {
            end: m.matched(0),
            comment: m.matched(1),
            list_header: m.matched(2),
            junk: m.matched(3)
                || (short && (m.matched(4) || m.matched(5)))
                || self.is_share_bar(line),
            credit: m.matched(6) || (short && m.matched(7)) || (words <= 12 && m.matched(8)),
            credit_in_lead: m.matched(6) || (short && m.matched(7)) || m.matched(8),
        }
    }

    /// Strips tracking/navigation junk from the front of a page-title line.
    pub fn strip_title_junk<'a>(&self, line: &'a str) -> &'a str {
        let line = self.strip_junk_words(line);
        // What the table does not know of a cookie banner comes off next,
        // and then whatever the table knows behind it.
        let unbannered = super::consent::strip_banner(line, &self.consent_buttons);
        if unbannered.len() == line.len() {
            line
        } else {
            self.strip_junk_words(unbannered)
        }
    }

    fn strip_junk_words<'a>(&self, mut line: &'a str) -> &'a str {
        while let Some(m) = self.title_junk.find(line) {
            if m.end() == 0 || m.end() >= line.len() {
                break;
            }
            // The separator after a stripped piece goes with it ("Accept
            // all | Reject all Site: Headline").
            line = line[m.end()..]
                .trim_start_matches(|c: char| c.is_whitespace() || "|·•:".contains(c));
        }
        line
    }

    /// True when the whole line is a title-junk word ("Skip to main content").
    pub fn is_title_junk(&self, line: &str) -> bool {
        self.title_junk
            .find(line)
            .is_some_and(|m| m.end() >= line.len())
    }

    /// A line that is never article text.
    pub fn is_junk(&self, line: &str) -> bool {
        self.classify(line).junk
    }

    pub fn is_comment_signal(&self, line: &str) -> bool {
        self.comment_signals.is_match(line)
    }

    fn is_share_bar(&self, line: &str) -> bool {
        if line.len() > 200 {
            return false;
        }
        let mut networks = 0;
        for token in line
            .split(|c: char| c.is_whitespace() || ",|·•:/()".contains(c))
            .filter(|t| !t.is_empty())
        {
            let t = lower_word(token);
            if self.social_networks.contains(t.as_ref()) {
                networks += 1;
            } else if !self.share_words.contains(t.as_ref())
                && !t
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == 'k')
            {
                return false;
            }
        }
        networks > 0
    }

    /// The text after a byline opener ("By …"), if the line starts with one.
    pub fn byline_rest<'a>(&self, line: &'a str) -> Option<&'a str> {
        self.byline
            .find(line)
            .map(|m| &line[m.end()..])
            .filter(|rest| !rest.is_empty())
    }

    pub fn is_role_word(&self, word: &str) -> bool {
        self.byline_roles.contains(lower_word(word).as_ref())
    }

    /// "New", "San", "Bad": the first word of a place's name, not a person's.
    pub fn is_place_opener(&self, word: &str) -> bool {
        self.place_openers.contains(lower_word(word).as_ref())
    }

    /// Splits a stated-date line into which date it sets and the date text.
    pub fn date_line<'a>(&self, line: &'a str) -> Option<(DateKind, &'a str)> {
        let (kind, m) = match self.updated_line.find(line) {
            Some(m) => (DateKind::Updated, m),
            None => (DateKind::Published, self.published_line.find(line)?),
        };
        // The boundary after the words took one character of punctuation
        // that is the date text's (see `date_opener`): give it back.
        let mut end = m.end();
        if let Some(c) = m.as_str().chars().next_back()
            && !(c.is_alphanumeric() || c.is_whitespace() || c == ':')
        {
            end -= c.len_utf8();
        }
        Some((kind, &line[end..]))
    }

    /// An HTML element's `class` or `id` value marks a caption or credit.
    pub fn is_caption_class(&self, value: &str) -> bool {
        self.caption_classes.is_match(value)
    }

    /// One of an HTML element's class names marks text kept for screen
    /// readers only.
    pub fn is_hidden_class(&self, class_name: &str) -> bool {
        self.hidden_classes
            .contains(&class_name.to_ascii_lowercase())
    }

    /// The month number of a month name or abbreviation, any language.
    pub fn month(&self, word: &str) -> Option<u32> {
        self.months
            .get(lower_word(word.trim_end_matches('.')).as_ref())
            .copied()
    }
}

/// Words in a cleaned line. Cleaning leaves single ASCII spaces between
/// words, so counting spaces is exact and much cheaper than splitting on
/// Unicode whitespace; runs of other whitespace still count once.
pub fn word_count(line: &str) -> usize {
    let b = line.trim().as_bytes();
    if b.is_empty() {
        return 0;
    }
    1 + b
        .windows(2)
        .filter(|w| w[0].is_ascii_whitespace() && !w[1].is_ascii_whitespace())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> &'static Boilerplate {
        Boilerplate::builtin()
    }

    #[test]
    fn builtin_rules_compile() {
        assert!(Boilerplate::from_toml(RULES_TOML).is_ok());
    }

    #[test]
    fn a_handle_before_an_absolute_time_signals_a_comment() {
        let r = rules();
        assert!(r.is_comment_signal("Pierrot12 — 03/10/2022 à 12:47"));
        assert!(r.is_comment_signal("kiwi_dad - 14.10.2023, 18:30"));
        assert!(!r.is_comment_signal("Reporting by Ana Ruiz; editing by Tom Hale"));
    }

    #[test]
    fn bad_pattern_in_a_line_table_names_that_table() {
        // The line tables compile as one set; the error still names one.
        let broken = RULES_TOML.replacen("'sondage:?'", "'sond(age:?'", 1);
        assert_ne!(broken, RULES_TOML);
        let err = Boilerplate::from_toml(&broken).err().unwrap().to_string();
        assert!(err.contains("list_headers"), "{err}");
    }

    #[test]
    fn bad_pattern_names_its_table() {
        let broken = RULES_TOML.replacen("'quantcast'", "'quant(cast'", 1);
        let err = Boilerplate::from_toml(&broken).err().unwrap().to_string();
        assert!(
            err.starts_with(RULES_PATH) && err.contains("title_junk"),
            "{err}"
        );
    }

    #[test]
    fn title_junk_is_stripped_repeatedly() {
        let r = rules();
        assert_eq!(
            r.strip_title_junk("Quantcast i24NEWS - Headline"),
            "i24NEWS - Headline"
        );
        assert_eq!(
            r.strip_title_junk("Skip to main content Toggle navigation Headline | Site"),
            "Headline | Site"
        );
        assert_eq!(
            r.strip_title_junk("Menus of the world"),
            "Menus of the world"
        );
        assert_eq!(
            r.strip_title_junk("Searchlight on graft"),
            "Searchlight on graft"
        );
    }

    #[test]
    fn junk_lines_go_but_sentences_with_junk_words_stay() {
        let r = rules();
        for junk in [
            "Advertisement",
            "ADVERTISEMENT",
            "Publicité",
            "Anzeige",
            "Share this:",
            "Share this: Facebook Twitter WhatsApp Email",
            "Facebook Twitter WhatsApp Email",
            "Partager : Facebook Twitter",
            "Compartir",
            "Read more: Ports brace for a second week of walkouts",
            "Lesen Sie auch: Die Bahn streikt wieder",
            "Lire aussi : La grève continue",
            "Leer más: El puerto sigue cerrado",
            "Ad: Grindley v Ashcombe live odds – bet responsibly. 18+ T&Cs apply.",
            "Sponsored: the best walking boots of the year",
            "This article is more than 1 year old",
            "Cet article date de plus de 2 ans",
            "Tags: Economy, Ports, Unions",
            "© 2019 Daily Ledger. All rights reserved.",
            "Copyright 2020 The Courier",
            "Click here to subscribe",
            "Sign up for our morning newsletter",
            "We use cookies to improve your experience. Accept",
        ] {
            assert!(r.is_junk(junk), "should be junk: {junk}");
        }
        for body in [
            "The advertisement ran on Tuesday in three papers.",
            "Shares fell 3% after the announcement.",
            "Readers can share this story with friends, the editor said.",
            "He said the cookies were baked in 1920.",
            "Facebook and Twitter both declined to comment on the ruling.",
            "Tags on the crates showed they came from Rotterdam.",
        ] {
            assert!(!r.is_junk(body), "should survive: {body}");
        }
    }

    #[test]
    fn navigation_with_glued_digits_ends_the_article() {
        let r = rules();
        assert!(
            r.classify("8Previous articlePalestinian shot by settler")
                .end
        );
        assert!(
            r.classify("8Next articleIsraeli President meets sheikhs")
                .end
        );
        assert!(r.classify("Article suivantLa grève continue").end);
        assert!(r.classify("Nächster Artikel Die Bahn").end);
        assert!(r.classify("3 Comments").end);
        assert!(
            !r.classify("Next, the article said the talks had failed.")
                .end
        );
    }

    #[test]
    fn bylines_and_date_lines() {
        let r = rules();
        assert_eq!(
            r.byline_rest("By Jane Roe, Staff Writer"),
            Some("Jane Roe, Staff Writer")
        );
        assert_eq!(r.byline_rest("Par Jeanne Dupont"), Some("Jeanne Dupont"));
        assert_eq!(r.byline_rest("Author:Dana Whitcomb"), Some("Dana Whitcomb"));
        assert_eq!(r.byline_rest("Diario Cordillera"), None);
        assert_eq!(r.byline_rest("Port strike"), None);
        assert_eq!(
            r.date_line("Updated: 2019-03-04T10:00:00Z"),
            Some((DateKind::Updated, "2019-03-04T10:00:00Z"))
        );
        assert_eq!(
            r.date_line("Published May 17, 2017 at 3:04 pm"),
            Some((DateKind::Published, "May 17, 2017 at 3:04 pm"))
        );
        assert_eq!(
            r.date_line("Mis à jour le 4 mars 2019"),
            Some((DateKind::Updated, "4 mars 2019"))
        );
        assert_eq!(r.month("Sept."), Some(9));
        assert_eq!(r.month("März"), Some(3));
    }

    /// The date words end at a word boundary, spelled without `\b` (see
    /// `date_opener`): these are the answers `^(?:words)\b\s*:?\s*` gives.
    #[test]
    fn date_words_end_at_a_word_boundary() {
        let r = rules();
        let published = |rest| Some((DateKind::Published, rest));
        assert_eq!(
            r.date_line("Publié le 22 octobre 2021 à 9h15"),
            published("22 octobre 2021 à 9h15")
        );
        // Punctuation after the words stays with the date text.
        assert_eq!(
            r.date_line("Publié, le 22 octobre 2021"),
            published(", le 22 octobre 2021")
        );
        assert_eq!(
            r.date_line("Posted — 3 May 2024"),
            published("— 3 May 2024")
        );
        assert_eq!(r.date_line("Published:3 May 2024"), published("3 May 2024"));
        assert_eq!(
            r.date_line("Published : 3 May 2024"),
            published("3 May 2024")
        );
        assert_eq!(r.date_line("Publié"), published(""));
        // A longer word that opens with date words is not one.
        assert_eq!(r.date_line("Publiée le 3 mai"), published("3 mai"));
        assert_eq!(r.date_line("Publiéx le 3 mai"), None);
        assert_eq!(r.date_line("Leopold Bloom"), None);
        assert_eq!(r.date_line("Amélie Nothomb"), None);
        assert_eq!(r.date_line("Standort Wien"), None);
        assert_eq!(r.date_line("Datebook: spring"), None);
        // Words followed by a letter outside ASCII are no boundary either.
        assert_eq!(r.date_line("Amé 3 mai"), None);
        assert_eq!(
            r.date_line("Atualizado há 3 horas"),
            Some((DateKind::Updated, "3 horas"))
        );
        // "atualizado há" does not end there, but "atualizado" does.
        assert_eq!(
            r.date_line("Atualizado háx"),
            Some((DateKind::Updated, "háx"))
        );
    }

    proptest::proptest! {
        /// On lines opening with the date words, then anything, the split
        /// agrees with the regex written with `\b`.
        #[test]
        fn date_line_agrees_with_the_word_boundary_regex(
            pick in 0usize..1000,
            tail in "[ :,.—éá\u{ad}’a-zA-Z0-9]{0,6}",
        ) {
            let f: RulesFile = toml::from_str(RULES_TOML).unwrap();
            let with_b = |words: &[String]| {
                Regex::new(&format!(r"(?i)^(?:{})\b\s*:?\s*", phrases(words))).unwrap()
            };
            let (updated, published) = (with_b(&f.updated_words), with_b(&f.published_words));
            let all: Vec<&String> = f.updated_words.iter().chain(&f.published_words).collect();
            let line = format!("{}{tail}", all[pick % all.len()]);
            let expected = match updated.find(&line) {
                Some(m) => Some((DateKind::Updated, &line[m.end()..])),
                None => published.find(&line).map(|m| (DateKind::Published, &line[m.end()..])),
            };
            proptest::prop_assert_eq!(rules().date_line(&line), expected);
        }
    }

    #[test]
    fn date_words_must_end_in_a_letter_or_figure() {
        let err = date_opener(&["published:".to_owned()]).unwrap_err();
        assert!(err.contains("\"published:\""), "{err}");
    }

    #[test]
    fn credits() {
        let r = rules();
        assert!(r.classify("Photo: Ana Ruiz/Reuters").credit);
        assert!(
            r.classify("Dock workers at the gate. (Photo: AFP)")
                .credit_in_lead
        );
        assert!(r.classify("Foto: dpa").credit);
        assert!(
            !r.classify("The photographer said the harbour was quiet.")
                .credit
        );
    }
}
