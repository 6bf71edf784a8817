//! Which language a page's lines are in, by the stopword lists of
//! `prose.toml`'s languages: the classifier's stopword shares are read in
//! it, and an article whose stopwords leave no doubt needs no trigram
//! detection.

use super::features::word_of;
use super::{Block, Lexicon, Prose};

impl Prose {
    /// The language whose stopwords cover most of the text.
    /// The language of running text when its stopwords leave no doubt: one
    /// list covers at least [`DECISIVE_SHARE`] of its first words and
    /// [`DECISIVE_LEAD`] times as many as any other. Cheaper than trigram
    /// detection, and it reads more of the text; `None` sends the text to
    /// the trigram detector (`lang::detect`).
    pub(in crate::ingest) fn stopword_language(&self, text: &str) -> Option<&str> {
        let mut hits = [0usize; 64];
        let mut total = 0usize;
        for word in text
            .split_whitespace()
            .filter_map(word_of)
            .take(LANGUAGE_SAMPLE)
        {
            total += 1;
            let mut lists = self.stop_lists.get(word.as_ref()).copied().unwrap_or(0);
            while lists != 0 {
                hits[lists.trailing_zeros() as usize] += 1;
                lists &= lists - 1;
            }
        }
        if total < DECISIVE_MIN_WORDS {
            return None;
        }
        let mut ranked: Vec<(usize, &Lexicon)> = self
            .languages
            .iter()
            .enumerate()
            .map(|(i, lex)| (hits[i], lex))
            .collect();
        ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
        let (best, lex) = *ranked.first()?;
        let second = ranked.get(1).map_or(0, |r| r.0);
        (best as f32 >= DECISIVE_SHARE * total as f32 && best >= DECISIVE_LEAD * second.max(1))
            .then_some(lex.code.as_str())
    }

    pub(super) fn language_of(&self, blocks: &[Block]) -> &Lexicon {
        // A few hundred words tell the language as well as the whole text;
        // one lookup per word tells which lists hold it.
        let mut hits = [0usize; 64];
        let mut total = 0usize;
        for word in blocks
            .iter()
            .flat_map(|b| b.text.split_whitespace())
            .filter_map(word_of)
            .take(LANGUAGE_SAMPLE)
        {
            total += 1;
            let mut lists = self.stop_lists.get(word.as_ref()).copied().unwrap_or(0);
            while lists != 0 {
                hits[lists.trailing_zeros() as usize] += 1;
                lists &= lists - 1;
            }
        }
        let total = total.max(1);
        self.languages
            .iter()
            .enumerate()
            .map(|(i, lex)| (hits[i], lex))
            .max_by_key(|(h, _)| *h)
            // A language none of the lists knows (Polish, say) would look
            // like text without stopwords: judge it by its other features.
            .filter(|(h, _)| *h as f32 / total as f32 >= self.t.known_language_share)
            .map_or(&self.unknown, |(_, lex)| lex)
    }
}

/// Words read to tell an article's language.
const LANGUAGE_SAMPLE: usize = 150;

/// See [`Prose::stopword_language`]: news prose in a listed language has
/// 30-50% stopwords, and a near language (Catalan beside Spanish, Danish
/// beside Dutch) shares some with it, but not half as many.
const DECISIVE_SHARE: f32 = 0.25;
const DECISIVE_LEAD: usize = 2;
const DECISIVE_MIN_WORDS: usize = 20;
