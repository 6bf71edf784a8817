//! A [`Query`] validated and normalized, as both backends read it.
//!
//! Keyword search means the same on every backend: the text is split on
//! whitespace; every word that has a letter or digit must match (AND); no
//! character is syntax (quotes, `-`, `OR`, `NEAR(`, `*`, `col:` are text).
//! SQLite matches each word as an FTS5 quoted token; PostgreSQL as the
//! word's lexemes (see `store::postgres::read`).

use std::collections::BTreeSet;

use chrono::DateTime;

use super::cursor::{self, Position};
use super::{Query, StoreError};

/// Most topic slugs a query may name in `any`, `all` and `not` together.
pub const MAX_TOPICS: usize = 64;
/// Most words in a keyword search.
pub const MAX_TERMS: usize = 32;

pub struct Filters {
    pub any: BTreeSet<String>,
    pub all: BTreeSet<String>,
    pub not: BTreeSet<String>,
    /// See [`Query::hidden`].
    pub hidden: BTreeSet<String>,
    /// The keyword search's words, when there is one.
    pub words: Option<Vec<String>>,
    /// The `source` site key (trimmed, lower-cased).
    pub source: Option<String>,
    /// Unix seconds.
    pub since: Option<i64>,
    pub cursor: Option<Position>,
    pub limit: usize,
}

impl Filters {
    /// `None` when the query can match nothing (keywords without any word).
    pub fn new(q: &Query) -> Result<Option<Filters>, StoreError> {
        let set = |v: &[String]| -> BTreeSet<String> {
            v.iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (any, all, not) = (set(&q.any), set(&q.all), set(&q.not));
        if any.len() + all.len() + not.len() > MAX_TOPICS {
            return Err(StoreError::BadQuery(format!(
                "too many topics (at most {MAX_TOPICS} in any, all and not together)"
            )));
        }
        let words = match q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => match search_words(text)? {
                Some(w) => Some(w),
                None => return Ok(None),
            },
        };
        let source = q
            .source
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let cursor = q.cursor.as_deref().map(cursor::decode).transpose()?;
        Ok(Some(Filters {
            any,
            all,
            not,
            hidden: set(&q.hidden),
            words,
            source,
            since: q.since.as_ref().map(DateTime::timestamp),
            cursor,
            limit: q.page_size(),
        }))
    }
}

/// The words of a keyword search: words without a letter or digit are
/// skipped, as a tokenizer would find nothing in them. `None` when
/// nothing is left.
fn search_words(text: &str) -> Result<Option<Vec<String>>, StoreError> {
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(str::to_owned)
        .collect();
    if words.len() > MAX_TERMS {
        return Err(StoreError::BadQuery(format!(
            "too many search words (at most {MAX_TERMS})"
        )));
    }
    Ok((!words.is_empty()).then_some(words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_without_letters_are_skipped_and_too_many_refused() {
        assert_eq!(search_words("-- !! ...").unwrap(), None);
        assert_eq!(
            search_words(" a-b  \"c ").unwrap(),
            Some(vec!["a-b".to_owned(), "\"c".to_owned()])
        );
        assert!(matches!(
            search_words(&"w ".repeat(40)),
            Err(StoreError::BadQuery(_))
        ));
    }
}
