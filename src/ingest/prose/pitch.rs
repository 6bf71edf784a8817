//! Calls to action and author boxes: the two shapes of clutter the
//! classifier tells by the words a line addresses its reader with.

use super::features::{
    Word, formal_address, formal_imperative, outside_speech, sentence_openers, words_of,
};
use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use super::{BOX_WORDS, Cue, Lexicon, OFFER_WORDS, Prose};

/// Pronouns an imperative carries after a hyphen.
const CLITICS: &[&str] = &[
    "la", "le", "les", "nous", "vous", "moi", "toi", "lui", "leur", "y", "en",
];

/// How many distinct words of each cue set the line holds, indexed by
/// the cue's bit position: "commission" twice in a report is one signal.
/// A hyphenated compound counts by its head too ("VIP-Tickets").
fn distinct_hits(words: &[Word], cues: &HashMap<String, u8, FxBuildHasher>) -> [usize; 4] {
    let mut seen: [Vec<&str>; 4] = Default::default();
    for w in words {
        let w: &str = w.as_ref();
        let whole = cues.get(w).copied().unwrap_or(0);
        // The head is looked up only for a set the whole word is not in.
        let head = w
            .rsplit_once('-')
            .and_then(|(_, h)| cues.get(h).map(|&bits| (h, bits)));
        for (bit, seen) in seen.iter_mut().enumerate() {
            let hit = if whole & (1 << bit) != 0 {
                Some(w)
            } else {
                head.filter(|&(_, bits)| bits & (1 << bit) != 0)
                    .map(|(h, _)| h)
            };
            if let Some(hit) = hit
                && !seen.contains(&hit)
            {
                seen.push(hit);
            }
        }
    }
    seen.map(|s| s.len())
}

fn count(hits: [usize; 4], cue: Cue) -> usize {
    hits[(cue as u8).trailing_zeros() as usize]
}

/// A price: a currency sign or code against a figure ("CHF 45", "$20",
/// "Rs 500").
fn priced(text: &str) -> bool {
    static PRICE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:[$€£¥₹₦₱]|(?-u:\b)(?:CHF|USD|EUR|GBP|CAD|AUD|Rs|kr|Fr)\.?)\s?\d")
            .unwrap_or_else(|e| panic!("PRICE regex: {e}"))
    });
    PRICE.is_match(text)
}

impl Prose {
    /// A call to action: one of its sentences opens with an imperative of
    /// the table ("…Click image to enlarge.", "Already a subscriber? Sign
    /// in"), or it addresses the reader, or speaks as the site ("our
    /// journalism"), about subscriptions, donations, offers.
    pub(super) fn pitch_shape(
        &self,
        text: &str,
        words: &[Word],
        lex: &Lexicon,
        names_site: bool,
    ) -> bool {
        // Quoted speech addressing "you" is reporting, not a pitch.
        let Some(outside) = outside_speech(text) else {
            return false;
        };
        // Read once for both tests below.
        let openers: Vec<Word> = sentence_openers(text).collect();
        let imperative = openers.iter().any(|w| {
            let w: &str = w.as_ref();
            // "Signalez-la", "Écrivez-nous": the imperative with its pronoun.
            lex.first.contains(w)
                || w.split_once('-').is_some_and(|(verb, pronoun)| {
                    CLITICS.contains(&pronoun) && lex.first.contains(verb)
                })
        }) || formal_imperative(text, &lex.formal);
        let button = words.len() <= self.button_words
            && openers
                .iter()
                .any(|w| self.button_first.contains(AsRef::<str>::as_ref(w)));
        if imperative || button {
            return true;
        }
        // Who speaks is read outside quotation marks.
        let own_words = outside.as_deref().map(words_of);
        let own_words = own_words.as_deref().unwrap_or(words);
        let all_hits = distinct_hits(words, &lex.cues);
        // Without quotes the words outside them are all the words.
        let own_hits = if outside.is_some() {
            distinct_hits(own_words, &lex.cues)
        } else {
            all_hits
        };
        let (reader, voice, pitch) = (
            count(own_hits, Cue::Reader),
            count(own_hits, Cue::Voice),
            count(all_hits, Cue::Pitch),
        );
        // Only a short line pointing at its page is the page speaking: in a
        // paragraph, "this story" is reported ("Readers can share this
        // story with friends, the editor said").
        let pointing = if words.len() <= OFFER_WORDS {
            words
                .windows(2)
                .filter(|w| lex.deixis.iter().any(|(a, b)| w[0] == *a && w[1] == *b))
                .count()
        } else {
            0
        };
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
        // "Tickets … are available from CHF 45": a line that opens on
        // what is for sale and names its price is the box office's.
        let opens_shop = words.first().is_some_and(|w| lex.cue(w, Cue::Shop));
        if opens_shop && words.len() <= BOX_WORDS && priced(text) {
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
        // A short line in the site's voice about a pitch's matter ("Did
        // we get something wrong? Let us know here.") is its box.
        if voice > 0 && pitch > 0 && words.len() <= OFFER_WORDS / 2 {
            return true;
        }
        let shop = count(all_hits, Cue::Shop);
        // The site pointing at its own shop ("our tested picks are in the
        // Trail Times Shop") is selling, whoever it addresses.
        if voice > 0 && shop > 0 && words.len() <= BOX_WORDS {
            return true;
        }
        let pitch = pitch + shop;
        let figures = text.chars().any(|c| c.is_ascii_digit());
        let share = reader as f32 / words.len() as f32;
        (share >= self.t.reader_share && (pitch > 0 || figures))
            || (pitch > 0 && figures)
            || pitch >= 2
            || money
    }

    /// "Jane Roe is a reporter covering…": a name, a verb, a role.
    pub(super) fn is_bio(&self, text: &str, words: &[Word]) -> bool {
        if self.is_beat_bio(text, words) {
            return true;
        }
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
        // German compounds end in the role: "Wirtschaftsredakteur".
        let role = |w: &str| {
            self.bio_roles.contains(w)
                || self
                    .bio_roles
                    .iter()
                    .any(|r| r.chars().count() >= 6 && w.len() > r.len() && w.ends_with(r.as_str()))
        };
        named && words.len() < 60 && roles.iter().any(|w| role(w.as_ref()))
    }

    /// "Liis Kask writes about science…": a capitalised name of two to four
    /// words, then a beat of the table. Short: a paragraph of the story
    /// about a writer goes on to say more.
    fn is_beat_bio(&self, text: &str, words: &[Word]) -> bool {
        // Cheap test first, as in `is_bio`: a beat's verb among the words
        // a name of two to four words leaves room for.
        let verb_at = |k: usize| {
            words
                .get(k)
                .is_some_and(|w| self.bio_beats.iter().any(|(verb, _)| w == verb.as_str()))
        };
        if words.len() >= 40 || !(2..=4).any(verb_at) {
            return false;
        }
        let raw: Vec<&str> = text.split_whitespace().take(6).collect();
        (2..=4.min(words.len().saturating_sub(1))).any(|k| {
            let named = raw[..k]
                .iter()
                .all(|w| w.chars().next().is_some_and(char::is_uppercase));
            named
                && self.bio_beats.iter().any(|(verb, after)| {
                    words[k] == verb.as_str()
                        && (after.is_empty() || words.get(k + 1).is_some_and(|w| w == after))
                })
        })
    }
}
