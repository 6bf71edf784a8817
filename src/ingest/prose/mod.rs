//! The statistical block classifier: tells prose from clutter in words no
//! table has seen.
//!
//! The tables of `boilerplate.toml` remove what they name; a new site
//! brings new wording every day ("3 stories left this month", "Readers like
//! you keep us going"). This pass, in the spirit of jusText, measures each
//! content line instead: its length, its share of stopwords in the
//! article's language, whether it finishes a sentence, its share of digits,
//! whether it addresses the reader or opens with a call to action, whether
//! it carries link marks, whether it repeats. Each line is classed content,
//! clutter or unsure; an unsure line takes the class of its neighbours; the
//! body is the densest run of content, and the lines after it go. Features
//! and thresholds are data, in `prose.toml`.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

/// Word sets are looked up for every word of every line: a fast hash for
/// short keys, not SipHash's defence against crafted keys (the keys are
/// the tables' own words).
pub(super) type HashSet<T> = std::collections::HashSet<T, FxBuildHasher>;
use std::sync::LazyLock;

use serde::Deserialize;

use super::boilerplate::word_count;

mod boundary;
mod context;
mod features;
mod language;
mod pitch;

use context::{glued_boxes, protect_lists, resolve_unsure};
use features::{
    Word, age_gate, bullet, digit_share, gallery_counter, label_shaped, norm_key, pictograph_led,
    quoted_line, repeat_counts, table_row, weather_widget, words_of,
};

/// What a line is, to the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Content,
    Clutter,
    Unsure,
    /// Clutter by shape alone (long, unfinished, no clutter feature): an
    /// item of a list under its lead-in sentence is shaped the same.
    /// Becomes [`Class::Clutter`] once lists are known.
    Fragment,
}

/// What becomes of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Drop,
    Keep,
    /// Kept as an item of the list above it, bulleted or not.
    Item,
}

/// One line as the classifier sees it.
#[derive(Clone, Copy)]
pub(super) struct Block<'a> {
    pub(super) text: &'a str,
    /// Blank lines before it.
    pub(super) gap: usize,
    /// The tables dropped a line directly above it (no blank line between)
    /// as clutter.
    pub(super) glued_above: bool,
    /// … or directly below it.
    pub(super) glued_below: bool,
    /// It names the page's own site: the site speaking of itself.
    pub(super) names_site: bool,
}

/// What a line's own text says, measured once for all passes of
/// [`Prose::keep`].
struct Measured<'a, 'p> {
    /// The page's language, judged once on every line: the lines later
    /// passes drop are too few to change it.
    lexicon: &'p Lexicon,
    counts: Vec<usize>,
    /// Only lines short enough to be clutter are read word by word.
    words: Vec<Vec<Word<'a>>>,
    /// A line's class from its own features (repetition aside).
    classes: Vec<Option<Class>>,
    /// What a line repeats by ([`norm_key`]), for short lines with words.
    keys: Vec<Option<u64>>,
    /// A row of a data table: short, mostly figures or cells.
    table: Vec<bool>,
}

impl<'a, 'p> Measured<'a, 'p> {
    fn new(blocks: &[Block<'a>], prose: &'p Prose) -> Self {
        let counts: Vec<usize> = blocks.iter().map(|b| word_count(b.text)).collect();
        let words = blocks
            .iter()
            .zip(&counts)
            .map(|(b, &n)| {
                if n < PROSE_WORDS {
                    words_of(b.text)
                } else {
                    Vec::new()
                }
            })
            .collect::<Vec<_>>();
        let t = &prose.t;
        let keys = blocks
            .iter()
            .zip(&words)
            .map(|(b, w)| (!w.is_empty() && w.len() < t.long_words).then(|| norm_key(b.text)))
            .collect();
        let table = blocks
            .iter()
            .zip(&counts)
            .map(|(b, &n)| {
                n < t.long_words
                    && (digit_share(b.text) >= t.table_digit_share || table_row(b.text))
            })
            .collect();
        Measured {
            keys,
            table,
            lexicon: prose.language_of(blocks, &words),
            classes: vec![None; counts.len()],
            counts,
            words,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Thresholds {
    long_words: usize,
    long_stop_share: f32,
    sentence_words: usize,
    sentence_stop_share: f32,
    dense_words: usize,
    dense_stop_share: f32,
    short_words: usize,
    known_language_share: f32,
    min_sentence_words: usize,
    heading_words: usize,
    table_digit_share: f32,
    cta_max_words: usize,
    reader_share: f32,
    repeat_count: usize,
    content_cap: usize,
    clutter_cost: usize,
    unsure_cost: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageTable {
    first: Vec<String>,
    pitch: Vec<String>,
    /// Shop and ticket words: a pitch only when the site speaks or the
    /// reader is addressed ("tickets for our summer cinema"), since news
    /// is full of stores, discounts and members.
    #[serde(default)]
    shop: Vec<String>,
    reader: Vec<String>,
    #[serde(default)]
    formal: Vec<String>,
    voice: Vec<String>,
    /// Two-word phrases of the page pointing at itself ("this page").
    #[serde(default)]
    deixis: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Marks {
    link: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Languages {
    codes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Buttons {
    first: Vec<String>,
    max_words: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Labels {
    words: Vec<String>,
    max_words: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bio {
    verbs: Vec<String>,
    roles: Vec<String>,
    beats: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProseFile {
    thresholds: Thresholds,
    language: Languages,
    cta: HashMap<String, LanguageTable>,
    marks: Marks,
    bio: Bio,
    buttons: Buttons,
    labels: Labels,
}

/// One language's word sets.
struct Lexicon {
    code: String,
    stop: HashSet<&'static str>,
    first: HashSet<String>,
    /// Case-sensitive, away from a sentence's start.
    formal: HashSet<String>,
    /// Word pairs, lower-cased; a handful, so a list.
    deixis: Vec<(String, String)>,
    /// The table's `reader`, `voice`, `pitch` and `shop` words, lower-cased,
    /// each with a bit ([`Cue`]) for every list holding it: a line's words
    /// are looked up once, not once per list.
    cues: HashMap<String, u8, FxBuildHasher>,
}

/// The word sets of a [`Lexicon`] a pitch is told by, as bits of its
/// `cues`.
#[derive(Clone, Copy)]
pub(super) enum Cue {
    Reader = 1,
    Voice = 2,
    Pitch = 4,
    Shop = 8,
}

impl Lexicon {
    /// Whether `word` is in the list of `cue`.
    pub(super) fn cue(&self, word: &str, cue: Cue) -> bool {
        self.cues
            .get(word)
            .is_some_and(|bits| bits & cue as u8 != 0)
    }
}

/// The pitch word lists of one language, as [`Lexicon::cues`].
fn cues(table: &mut LanguageTable) -> HashMap<String, u8, FxBuildHasher> {
    let mut cues: HashMap<String, u8, FxBuildHasher> = HashMap::default();
    for (list, cue) in [
        (std::mem::take(&mut table.reader), Cue::Reader),
        (std::mem::take(&mut table.voice), Cue::Voice),
        (std::mem::take(&mut table.pitch), Cue::Pitch),
        (std::mem::take(&mut table.shop), Cue::Shop),
    ] {
        for word in list {
            *cues.entry(word.to_lowercase()).or_insert(0) |= cue as u8;
        }
    }
    cues
}

/// The compiled `prose.toml`.
pub(super) struct Prose {
    t: Thresholds,
    languages: Vec<Lexicon>,
    /// For text in none of `languages`: empty word sets.
    unknown: Lexicon,
    /// Every stopword, with a bit set for each of `languages` whose list
    /// holds it.
    stop_lists: HashMap<&'static str, u64, FxBuildHasher>,
    /// One automaton for every mark: a line is searched once, not once
    /// per mark. Its pattern ids index `link_marks_quote`.
    link_marks: aho_corasick::AhoCorasick,
    /// Marks that also close a French quotation ("»", "›").
    link_marks_quote: Vec<bool>,
    bio_verbs: HashSet<String>,
    bio_roles: HashSet<String>,
    /// "writes about", "covers": a name and its beat, a bio with no role.
    bio_beats: Vec<(String, String)>,
    button_first: HashSet<String>,
    button_words: usize,
    label_words: HashSet<String>,
    label_max_words: usize,
}

const PROSE_TOML: &str = include_str!("../prose.toml");

fn set(words: Vec<String>) -> HashSet<String> {
    words.into_iter().map(|w| w.to_lowercase()).collect()
}

/// Two-word phrases as lower-cased word pairs.
fn pairs(phrases: Vec<String>, code: &str) -> Result<Vec<(String, String)>, String> {
    phrases
        .into_iter()
        .map(|p| {
            let p = p.to_lowercase();
            match p.split_whitespace().collect::<Vec<_>>()[..] {
                [a, b] => Ok((a.to_owned(), b.to_owned())),
                _ => Err(format!("[cta.{code}] deixis {p:?} is not two words")),
            }
        })
        .collect()
}

fn empty<T>() -> HashSet<T> {
    HashSet::with_hasher(FxBuildHasher)
}

impl Prose {
    /// The built-in rules; a broken `prose.toml` is a build defect, which
    /// the unit tests catch before it ships.
    pub(super) fn builtin() -> &'static Prose {
        static RULES: LazyLock<Prose> = LazyLock::new(|| {
            Prose::from_toml(PROSE_TOML)
                .unwrap_or_else(|e| panic!("built-in src/ingest/prose.toml is invalid: {e}"))
        });
        &RULES
    }

    fn from_toml(text: &str) -> Result<Prose, String> {
        let mut file: ProseFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut languages = Vec::new();
        for code in &file.language.codes {
            let stop = stop_words::lookup(code)
                .ok_or_else(|| format!("no stopword list for language {code:?}"))?
                .iter()
                .copied()
                .collect();
            let mut table = file
                .cta
                .remove(code)
                .ok_or_else(|| format!("[cta.{code}] is missing"))?;
            languages.push(Lexicon {
                code: code.clone(),
                stop,
                cues: cues(&mut table),
                first: set(table.first),
                formal: table.formal.into_iter().collect(),
                deixis: pairs(table.deixis, code)?,
            });
        }
        if let Some(extra) = file.cta.keys().next() {
            return Err(format!(
                "[cta.{extra}] names a language not in [language] codes"
            ));
        }
        if languages.len() > 64 {
            return Err("[language] codes: at most 64 languages".to_owned());
        }
        let mut stop_lists: HashMap<&'static str, u64, FxBuildHasher> = HashMap::default();
        for (i, lex) in languages.iter().enumerate() {
            for word in &lex.stop {
                *stop_lists.entry(word).or_insert(0) |= 1 << i;
            }
        }
        Ok(Prose {
            t: file.thresholds,
            stop_lists,
            languages,
            unknown: Lexicon {
                code: "unknown".to_owned(),
                stop: empty(),
                first: empty(),
                formal: empty(),
                deixis: Vec::new(),
                cues: HashMap::default(),
            },
            link_marks: aho_corasick::AhoCorasick::new(&file.marks.link)
                .map_err(|e| format!("[marks] link: {e}"))?,
            link_marks_quote: file
                .marks
                .link
                .iter()
                .map(|m| m == "»" || m == "›")
                .collect(),
            bio_verbs: set(file.bio.verbs),
            bio_roles: set(file.bio.roles),
            bio_beats: file
                .bio
                .beats
                .into_iter()
                .map(|b| match b.split_once(' ') {
                    Some((verb, rest)) => (verb.to_owned(), rest.to_owned()),
                    None => (b, String::new()),
                })
                .collect(),
            button_first: set(file.buttons.first),
            button_words: file.buttons.max_words,
            label_words: set(file.labels.words),
            label_max_words: file.labels.max_words,
        })
    }

    /// Which lines to keep, judged again on what is left until nothing
    /// more goes. A line's class leans on its neighbours, so dropping one
    /// changes the context of the rest; without the second look, cleaning
    /// the cleaned text (a reader re-importing the feed, `reclean`) would
    /// cut what the first pass kept.
    pub(super) fn keep(&self, blocks: &[Block]) -> Vec<Verdict> {
        let mut measured = Measured::new(blocks, self);
        let all: Vec<usize> = (0..blocks.len()).collect();
        let mut verdicts = self.keep_once(blocks, &all, &mut measured);
        for _ in 0..MAX_PASSES {
            let left: Vec<usize> = (0..blocks.len())
                .filter(|&i| verdicts[i] != Verdict::Drop)
                .collect();
            if left.len() == blocks.len() || left.is_empty() {
                break;
            }
            let again = self.keep_once(blocks, &left, &mut measured);
            let settled = !again.contains(&Verdict::Drop);
            for (&i, v) in left.iter().zip(again) {
                verdicts[i] = v;
            }
            if settled {
                break;
            }
        }
        verdicts
    }

    /// One pass over the lines at `at`: clutter anywhere goes, and so does
    /// everything after the densest run of content. Above the first line
    /// of prose (the lead: caption, standfirst) a line goes only when its
    /// own features make it clutter: a standfirst is short and unfinished
    /// by nature.
    fn keep_once(&self, all: &[Block], at: &[usize], m: &mut Measured<'_, '_>) -> Vec<Verdict> {
        if at.is_empty() {
            return Vec::new();
        }
        let blocks: Vec<Block> = at.iter().map(|&i| all[i]).collect();
        let blocks = &blocks[..];
        let counts: Vec<usize> = at.iter().map(|&i| m.counts[i]).collect();
        let lexicon = m.lexicon;
        tracing::trace!("language {}", lexicon.code);
        let keys: Vec<Option<u64>> = at.iter().map(|&i| m.keys[i]).collect();
        let repeats = repeat_counts(&keys);
        let mut classes: Vec<Class> = at
            .iter()
            .zip(&repeats)
            .map(|(&i, &r)| {
                if m.counts[i] >= PROSE_WORDS {
                    return Class::Content;
                }
                // Repetition is the one feature that depends on the other
                // lines left; the rest of a line's class is its own, kept
                // from pass to pass.
                if m.counts[i] < self.t.long_words && r >= self.t.repeat_count {
                    return Class::Clutter;
                }
                *m.classes[i].get_or_insert_with(|| self.classify(&all[i], &m.words[i], lexicon))
            })
            .collect();
        if !classes.contains(&Class::Content) {
            // Nothing reads as prose: no body to anchor on, so no grounds
            // to drop what the tables let through.
            return vec![Verdict::Keep; blocks.len()];
        }
        let fragments: Vec<bool> = classes.iter().map(|c| *c == Class::Fragment).collect();
        for c in &mut classes {
            if *c == Class::Fragment {
                *c = Class::Clutter;
            }
        }
        let own = classes.clone();
        let listed = protect_lists(blocks, &own, &fragments, &mut classes);
        glued_boxes(blocks, &counts, &own, &listed, &mut classes);
        resolve_unsure(blocks, &mut classes);
        // The lead ends at the first line whose own features read as prose,
        // not at one its neighbours made content: dropping a clutter line
        // must not move the lead's edge, or cleaning the output again would
        // cut what the first pass kept.
        let start = own
            .iter()
            .position(|c| *c == Class::Content)
            .unwrap_or(classes.len());
        // Rows of a data table (a market snapshot, a box score) inside the
        // body are cut, but prose after them is still the story.
        let table: Vec<bool> = at.iter().map(|&i| m.table[i]).collect();
        // The first line that is prose by its own features is body, even
        // when the densest run (of lines made content by their neighbours)
        // ends above it; else cleaning the output again would cut it.
        let mut end = match self.body_end(&classes, &counts, &listed, &table) {
            end if start < classes.len() => end.max(start),
            end => end,
        };
        // A list the body ends in runs to its last item: its items weigh
        // nothing in the densest run, so it would otherwise be cut after
        // whichever item the run happened to reach.
        while end + 1 < blocks.len()
            && listed[end]
            && listed[end + 1]
            && blocks[end + 1].gap == 0
            && classes[end + 1] != Class::Clutter
        {
            end += 1;
        }
        if tracing::enabled!(tracing::Level::TRACE) {
            for (i, b) in blocks.iter().enumerate() {
                let edge = if i < start {
                    "lead"
                } else if i > end {
                    "tail"
                } else {
                    "body"
                };
                tracing::trace!("{edge} {:?}/{:?}: {}", own[i], classes[i], b.text);
            }
        }
        (0..classes.len())
            .map(|i| {
                let keep = if i < start {
                    own[i] != Class::Clutter
                } else {
                    i <= end && classes[i] != Class::Clutter
                };
                match (keep, listed[i]) {
                    (false, _) => Verdict::Drop,
                    (true, true) => Verdict::Item,
                    (true, false) => Verdict::Keep,
                }
            })
            .collect()
    }

    /// A line's class from its own features alone.
    /// Repetition, the one feature that depends on the other lines, is
    /// judged by the caller ([`Prose::keep_once`]).
    fn classify(&self, block: &Block, words: &[Word], lex: &Lexicon) -> Class {
        let text = block.text;
        let t = &self.t;
        let n = words.len();
        if n == 0 {
            return Class::Clutter;
        }
        let stop = if lex.stop.is_empty() {
            // Unknown language: no stopword evidence either way.
            1.0
        } else {
            words
                .iter()
                .filter(|w| lex.stop.contains(AsRef::<str>::as_ref(w)))
                .count() as f32
                / n as f32
        };
        let sentence = crate::ingest::lines::ends_sentence(text);
        if n < t.cta_max_words && self.pitch_shape(text, words, lex, block.names_site) {
            return Class::Clutter;
        }
        if n < t.long_words && digit_share(text) >= t.table_digit_share {
            return Class::Clutter;
        }
        // "»" closes a French quotation as often as it points at a link.
        let quotes = text.contains(['«', '‹']);
        let marked = if quotes {
            self.link_marks
                .find_overlapping_iter(text)
                .any(|m| !self.link_marks_quote[m.pattern().as_usize()])
        } else {
            self.link_marks.is_match(text)
        };
        if n < t.long_words && marked {
            return Class::Clutter;
        }
        let paid_label = n <= self.label_max_words
            && words
                .iter()
                .any(|w| self.label_words.contains(AsRef::<str>::as_ref(w)));
        if self.is_bio(text, words)
            || label_shaped(text, n)
            || gallery_counter(text)
            || weather_widget(text)
            || paid_label
            || (n < t.long_words && age_gate(text))
        {
            return Class::Clutter;
        }
        if n < t.long_words && pictograph_led(text) {
            return Class::Clutter;
        }
        if (n >= t.long_words && stop >= t.long_stop_share)
            || (n >= t.sentence_words && sentence && stop >= t.sentence_stop_share)
            || (n >= t.dense_words && sentence && stop >= t.dense_stop_share)
        {
            return Class::Content;
        }
        if sentence && n >= t.min_sentence_words && !text.chars().any(|c| c.is_ascii_digit()) {
            // A short finished sentence ("Talks resume on Friday.") that no
            // clutter feature caught is the story's.
            return Class::Content;
        }
        if n < t.short_words && !sentence {
            // A subheading or a label: the neighbours decide.
            return Class::Unsure;
        }
        if n >= t.heading_words && !sentence && !bullet(text) && !quoted_line(text) {
            // Too long for a heading, no sentence: a caption, a teaser, a
            // promo, unless a lead-in sentence makes it a list item.
            return Class::Fragment;
        }
        if stop < t.long_stop_share / 2.0 && !sentence && !bullet(text) {
            // Many words, few stopwords, no sentence: a tag list or menu,
            // unless a lead-in sentence makes it a list item.
            return Class::Fragment;
        }
        Class::Unsure
    }
}

/// A line of this many words is prose: no boilerplate runs that long (the
/// tables stop at 40 words for the same reason), so it is not read word
/// by word.
pub(super) const PROSE_WORDS: usize = 45;
/// The longest offer that needs neither reader nor site voice to be one.
const OFFER_WORDS: usize = 20;
/// The longest line in which the site addressing the reader, several
/// times over, is a box.
const BOX_WORDS: usize = 30;
/// Passes after the first; each only removes lines, so a handful settles
/// any real page, and the bound keeps a pathological one linear.
const MAX_PASSES: usize = 4;

#[cfg(test)]
mod tests;
