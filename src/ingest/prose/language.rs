//! Which language a page's lines are in, by the stopword lists of
//! `prose.toml`'s languages: the classifier's stopword shares are read in
//! it, and an article whose stopwords leave no doubt needs no trigram
//! detection.

use super::features::{Word, text_words};
use super::{Block, Lexicon, Prose};

/// How many of a text's first words each language's list holds, in the
/// order of `Prose::languages`, and how many words were read.
struct Hits {
    per_language: [usize; 64],
    words: usize,
}

impl Hits {
    fn new() -> Self {
        Hits {
            per_language: [0; 64],
            words: 0,
        }
    }

    /// Counts a word held by the lists set in `lists`; false once the
    /// sample is full. Plain loops feed this: the iterator adaptors that
    /// chained the page's words cost more than the lookups.
    fn add(&mut self, mut lists: u64) -> bool {
        if self.words == LANGUAGE_SAMPLE {
            return false;
        }
        self.words += 1;
        while lists != 0 {
            self.per_language[lists.trailing_zeros() as usize] += 1;
            lists &= lists - 1;
        }
        true
    }
}

impl Prose {
    /// The lists holding a word, a bit per language.
    fn word_bits(&self, word: &str) -> u64 {
        self.stop_lists.get(word).copied().unwrap_or(0)
    }

    /// The stopword hits of the first [`LANGUAGE_SAMPLE`] words of `text`.
    fn text_hits(&self, text: &str, hits: &mut Hits) -> bool {
        for word in text_words(text) {
            if !hits.add(self.word_bits(&word)) {
                return false;
            }
        }
        true
    }

    /// The language of running text when its stopwords leave no doubt: one
    /// list covers at least [`DECISIVE_SHARE`] of its first words and
    /// [`DECISIVE_LEAD`] times as many as any other. Cheaper than trigram
    /// detection, and it reads more of the text; `None` sends the text to
    /// the trigram detector (`lang::detect`).
    pub(in crate::ingest) fn stopword_language(&self, text: &str) -> Option<&str> {
        let mut hits = Hits::new();
        self.text_hits(text, &mut hits);
        if hits.words < DECISIVE_MIN_WORDS {
            return None;
        }
        let mut ranked: Vec<(usize, &Lexicon)> = self
            .languages
            .iter()
            .enumerate()
            .map(|(i, lex)| (hits.per_language[i], lex))
            .collect();
        ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
        let (best, lex) = *ranked.first()?;
        let second = ranked.get(1).map_or(0, |r| r.0);
        (best as f32 >= DECISIVE_SHARE * hits.words as f32 && best >= DECISIVE_LEAD * second.max(1))
            .then_some(lex.code.as_str())
    }

    /// The language whose stopwords cover most of the page's first words;
    /// the unknown language when none covers enough of them.
    /// `words` holds each block's words where the classifier read them
    /// (short blocks), and nothing for the others: those are read here.
    pub(super) fn language_of(&self, blocks: &[Block], words: &[Vec<Word>]) -> &Lexicon {
        let mut hits = Hits::new();
        for (b, read) in blocks.iter().zip(words) {
            let more = if read.is_empty() {
                self.text_hits(b.text, &mut hits)
            } else {
                read.iter().all(|w| hits.add(self.word_bits(w)))
            };
            if !more {
                break;
            }
        }
        let total = hits.words.max(1);
        self.languages
            .iter()
            .enumerate()
            .map(|(i, lex)| (hits.per_language[i], lex))
            .max_by_key(|(h, _)| *h)
            // A language none of the lists knows (Polish, say) would look
            // like text without stopwords: judge it by its other features.
            .filter(|(h, _)| *h as f32 / total as f32 >= self.t.known_language_share)
            .map_or(&self.unknown, |(_, lex)| lex)
    }
}

/// Words read to tell an article's language: a few hundred tell it as well
/// as the whole text.
const LANGUAGE_SAMPLE: usize = 150;

/// See [`Prose::stopword_language`]: news prose in a listed language has
/// 30-50% stopwords, and a near language (Catalan beside Spanish, Danish
/// beside Dutch) shares some with it, but not half as many.
const DECISIVE_SHARE: f32 = 0.25;
const DECISIVE_LEAD: usize = 2;
const DECISIVE_MIN_WORDS: usize = 20;
