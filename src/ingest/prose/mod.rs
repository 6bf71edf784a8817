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

use context::{glued_boxes, protect_lists, resolve_unsure};
use features::{
    Word, bullet, digit_share, formal_address, gallery_counter, label_shaped, pictograph_led,
    quoted_line, quotes_speech, repeat_counts, sentence_openers, unquoted, word_of, words_of,
};

/// What a line is, to the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Content,
    Clutter,
    Unsure,
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
struct Bio {
    verbs: Vec<String>,
    roles: Vec<String>,
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
}

/// One language's word sets.
struct Lexicon {
    code: String,
    stop: HashSet<&'static str>,
    first: HashSet<String>,
    pitch: HashSet<String>,
    shop: HashSet<String>,
    reader: HashSet<String>,
    /// Case-sensitive, away from a sentence's start.
    formal: HashSet<String>,
    voice: HashSet<String>,
    /// Word pairs, lower-cased; a handful, so a list.
    deixis: Vec<(String, String)>,
}

/// The compiled `prose.toml`.
pub(super) struct Prose {
    t: Thresholds,
    languages: Vec<Lexicon>,
    /// For text in none of `languages`: empty word sets.
    unknown: Lexicon,
    link_marks: Vec<String>,
    bio_verbs: HashSet<String>,
    bio_roles: HashSet<String>,
    button_first: HashSet<String>,
    button_words: usize,
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
            let table = file
                .cta
                .remove(code)
                .ok_or_else(|| format!("[cta.{code}] is missing"))?;
            languages.push(Lexicon {
                code: code.clone(),
                stop,
                first: set(table.first),
                pitch: set(table.pitch),
                shop: set(table.shop),
                reader: set(table.reader),
                formal: table.formal.into_iter().collect(),
                voice: set(table.voice),
                deixis: pairs(table.deixis, code)?,
            });
        }
        if let Some(extra) = file.cta.keys().next() {
            return Err(format!(
                "[cta.{extra}] names a language not in [language] codes"
            ));
        }
        Ok(Prose {
            t: file.thresholds,
            languages,
            unknown: Lexicon {
                code: "unknown".to_owned(),
                stop: empty(),
                first: empty(),
                pitch: empty(),
                shop: empty(),
                reader: empty(),
                formal: empty(),
                voice: empty(),
                deixis: Vec::new(),
            },
            link_marks: file.marks.link,
            bio_verbs: set(file.bio.verbs),
            bio_roles: set(file.bio.roles),
            button_first: set(file.buttons.first),
            button_words: file.buttons.max_words,
        })
    }

    /// Which lines to keep, judged again on what is left until nothing
    /// more goes. A line's class leans on its neighbours, so dropping one
    /// changes the context of the rest; without the second look, cleaning
    /// the cleaned text (a reader re-importing the feed, `reclean`) would
    /// cut what the first pass kept.
    pub(super) fn keep(&self, blocks: &[Block]) -> Vec<Verdict> {
        let mut verdicts = self.keep_once(blocks);
        for _ in 0..MAX_PASSES {
            let left: Vec<usize> = (0..blocks.len())
                .filter(|&i| verdicts[i] != Verdict::Drop)
                .collect();
            if left.len() == blocks.len() || left.is_empty() {
                break;
            }
            let again = self.keep_once(&left.iter().map(|&i| blocks[i]).collect::<Vec<_>>());
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

    /// One pass: clutter anywhere goes, and so does everything after the
    /// densest run of content. Above the first line of prose (the lead:
    /// caption, standfirst) a line goes only when its own features make it
    /// clutter: a standfirst is short and unfinished by nature.
    fn keep_once(&self, blocks: &[Block]) -> Vec<Verdict> {
        if blocks.is_empty() {
            return Vec::new();
        }
        let counts: Vec<usize> = blocks.iter().map(|b| word_count(b.text)).collect();
        // Only lines short enough to be clutter are read word by word.
        let words: Vec<Vec<Word>> = blocks
            .iter()
            .zip(&counts)
            .map(|(b, &n)| {
                if n < PROSE_WORDS {
                    words_of(b.text)
                } else {
                    Vec::new()
                }
            })
            .collect();
        let lexicon = self.language_of(blocks);
        tracing::trace!("language {}", lexicon.code);
        let repeats = repeat_counts(blocks, &words, self.t.long_words);
        let mut classes: Vec<Class> = blocks
            .iter()
            .zip(&words)
            .zip(&counts)
            .zip(repeats)
            .map(|(((b, w), &n), r)| {
                if n >= PROSE_WORDS {
                    Class::Content
                } else {
                    self.classify(b, w, lexicon, r)
                }
            })
            .collect();
        if !classes.contains(&Class::Content) {
            // Nothing reads as prose: no body to anchor on, so no grounds
            // to drop what the tables let through.
            return vec![Verdict::Keep; blocks.len()];
        }
        let own = classes.clone();
        let listed = protect_lists(blocks, &own, &mut classes);
        glued_boxes(blocks, &own, &listed, &mut classes);
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
        let table: Vec<bool> = blocks
            .iter()
            .zip(&counts)
            .map(|(b, &n)| n < self.t.long_words && digit_share(b.text) >= self.t.table_digit_share)
            .collect();
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

    /// The language whose stopwords cover most of the text.
    fn language_of(&self, blocks: &[Block]) -> &Lexicon {
        // A few hundred words tell the language as well as the whole text.
        let words: Vec<Word> = blocks
            .iter()
            .flat_map(|b| b.text.split_whitespace())
            .filter_map(word_of)
            .take(LANGUAGE_SAMPLE)
            .collect();
        let sample = || words.iter();
        let hits = |lex: &Lexicon| {
            sample()
                .filter(|w| lex.stop.contains(AsRef::<str>::as_ref(w)))
                .count()
        };
        let total = sample().count().max(1);
        self.languages
            .iter()
            .map(|lex| (hits(lex), lex))
            .max_by_key(|(h, _)| *h)
            // A language none of the lists knows (Polish, say) would look
            // like text without stopwords: judge it by its other features.
            .filter(|(h, _)| *h as f32 / total as f32 >= self.t.known_language_share)
            .map_or(&self.unknown, |(_, lex)| lex)
    }

    /// A line's class from its own features alone.
    fn classify(&self, block: &Block, words: &[Word], lex: &Lexicon, repeats: usize) -> Class {
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
        if n < t.long_words
            && (digit_share(text) >= t.table_digit_share || repeats >= t.repeat_count)
        {
            return Class::Clutter;
        }
        // "»" closes a French quotation as often as it points at a link.
        let quotes = text.contains(['«', '‹']);
        let marked = self
            .link_marks
            .iter()
            .any(|m| text.contains(m.as_str()) && !(quotes && (m == "»" || m == "›")));
        if n < t.long_words && marked {
            return Class::Clutter;
        }
        if self.is_bio(text, words) || label_shaped(text, n) || gallery_counter(text) {
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
            // Too long for a heading, no sentence: a caption, a teaser, a promo.
            return Class::Clutter;
        }
        if stop < t.long_stop_share / 2.0 && !sentence && !bullet(text) {
            // Many words, few stopwords, no sentence: a tag list or menu.
            return Class::Clutter;
        }
        Class::Unsure
    }

    /// A call to action: one of its sentences opens with an imperative of
    /// the table ("…Click image to enlarge.", "Already a subscriber? Sign
    /// in"), or it addresses the reader, or speaks as the site ("our
    /// journalism"), about subscriptions, donations, offers.
    fn pitch_shape(&self, text: &str, words: &[Word], lex: &Lexicon, names_site: bool) -> bool {
        // Quoted speech addressing "you" is reporting, not a pitch.
        if quotes_speech(text) {
            return false;
        }
        let imperative =
            sentence_openers(text).any(|w| lex.first.contains(AsRef::<str>::as_ref(&w)));
        let button = words.len() <= self.button_words
            && sentence_openers(text).any(|w| self.button_first.contains(AsRef::<str>::as_ref(&w)));
        if imperative || button {
            return true;
        }
        // Distinct words: "commission" twice in a report is one signal.
        // A hyphenated compound counts by its head too ("VIP-Tickets").
        let count = |words: &[Word], set: &HashSet<String>| {
            let mut seen: Vec<&str> = Vec::new();
            for w in words {
                let w: &str = w.as_ref();
                let hit = if set.contains(w) {
                    Some(w)
                } else {
                    w.rsplit_once('-')
                        .map(|(_, head)| head)
                        .filter(|h| set.contains(*h))
                };
                if let Some(hit) = hit
                    && !seen.contains(&hit)
                {
                    seen.push(hit);
                }
            }
            seen.len()
        };
        // Who speaks is read outside quotation marks.
        let outside = unquoted(text);
        let own_words = outside.as_deref().map(words_of);
        let own_words = own_words.as_deref().unwrap_or(words);
        let (reader, voice, pitch) = (
            count(own_words, &lex.reader),
            count(own_words, &lex.voice),
            count(words, &lex.pitch),
        );
        // Only a short line pointing at its page is the page speaking: in a
        // paragraph, "this story" is reported ("Readers can share this
        // story with friends, the editor said").
        let pointing = words
            .windows(2)
            .take_while(|_| words.len() <= OFFER_WORDS)
            .filter(|w| lex.deixis.iter().any(|(a, b)| w[0] == *a && w[1] == *b))
            .count();
        // A long sentence naming the site reports it ("did not respond to
        // questions from The Border Lantern"); a short one is its voice.
        let voice = voice + usize::from(names_site && words.len() <= BOX_WORDS) + pointing;
        let formal = formal_address(outside.as_deref().unwrap_or(text), &lex.formal);
        let reader = reader + formal;
        let money = text.contains(['$', '€', '£']);
        if pitch >= 2 && money && words.len() <= OFFER_WORDS {
            // A price beside subscription words: the paywall's offer. A
            // longer sentence with them is news ("members … committed €1.8
            // million … to upgrade the promenade").
            return true;
        }
        if reader + voice == 0 {
            return false;
        }
        // The site talking to the reader ("each Friday our critics tell
        // you what to see") outside quotes is a box, not reporting.
        // A longer one needs more of both ("Ihre Meinung zählt! Machen Sie
        // mit bei unserer großen Leserumfrage und sichern Sie sich …").
        if reader > 0
            && voice > 0
            && (words.len() <= OFFER_WORDS || (words.len() <= BOX_WORDS && reader + voice >= 3))
        {
            return true;
        }
        let pitch = pitch + count(words, &lex.shop);
        let figures = text.chars().any(|c| c.is_ascii_digit());
        let share = reader as f32 / words.len() as f32;
        (share >= self.t.reader_share && (pitch > 0 || figures))
            || (pitch > 0 && figures)
            || pitch >= 2
            || money
    }

    /// "Jane Roe is a reporter covering…": a name, a verb, a role.
    fn is_bio(&self, text: &str, words: &[Word]) -> bool {
        // Cheap test first: a verb of the table among the first words.
        if !words
            .iter()
            .skip(1)
            .take(4)
            .any(|w| self.bio_verbs.contains(AsRef::<str>::as_ref(w)))
        {
            return false;
        }
        let raw: Vec<&str> = text.split_whitespace().collect();
        let Some(verb_at) = (1..=4.min(raw.len().saturating_sub(1))).find(|&k| {
            words
                .get(k)
                .is_some_and(|w| self.bio_verbs.contains(AsRef::<str>::as_ref(w)))
        }) else {
            return false;
        };
        let named = raw[..verb_at]
            .iter()
            .all(|w| w.chars().next().is_some_and(char::is_uppercase));
        // One capitalised word is a name only before "the site's …"
        // ("Desmond is Pixelgrain's audio editor"); "Peru is …" is news.
        let possessive = raw
            .get(verb_at + 1)
            .is_some_and(|w| w.ends_with("'s") || w.ends_with("’s"));
        if verb_at == 1 && !possessive {
            return false;
        }
        let first_sentence = text.find(['.', ';']).map_or(text, |i| &text[..i]);
        let roles = words_of(first_sentence);
        named
            && words.len() < 60
            && roles
                .iter()
                .any(|w| self.bio_roles.contains(AsRef::<str>::as_ref(w)))
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

/// Words read to tell an article's language.
const LANGUAGE_SAMPLE: usize = 150;

#[cfg(test)]
mod tests;
