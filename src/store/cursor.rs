//! Paging cursors: the position after the last story of a page.
//!
//! Pages are ordered by (sort time descending, id ascending), a total order,
//! so "everything after (t, id)" is an index range and a page costs the same
//! however deep it is (keyset pagination). The cursor carries that pair as
//! lower-case hex of `"<unix seconds>\n<id>"`: URL-safe, opaque to clients,
//! and backend-neutral so another store can read it.
//!
//! Cursors only lead forward; the way back to the page before (for an
//! RFC 5005 `previous` link) is found by walking forward, in [`previous`].

use super::{Query, Store, StoreError};

/// Where the next page starts: after this story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Unix seconds of the story's sort time.
    pub sort_time: i64,
    pub id: String,
}

/// Ids are short; anything much longer was not made by [`encode`].
const MAX_ID_LEN: usize = 256;

pub fn encode(pos: &Position) -> String {
    let raw = format!("{}\n{}", pos.sort_time, pos.id);
    let mut out = String::with_capacity(raw.len() * 2);
    for b in raw.bytes() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Parses a cursor from [`encode`]; anything else is [`StoreError::BadCursor`].
pub fn decode(cursor: &str) -> Result<Position, StoreError> {
    let bad = |why: &str| StoreError::BadCursor(format!("{why} (use next_cursor from a page)"));
    if cursor.is_empty() || !cursor.len().is_multiple_of(2) || cursor.len() > 2 * (MAX_ID_LEN + 24)
    {
        return Err(bad("wrong length"));
    }
    let bytes: Vec<u8> = cursor
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            u8::try_from(hi << 4 | lo).ok()
        })
        .collect::<Option<_>>()
        .ok_or_else(|| bad("not hex"))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("not text"))?;
    let (time, id) = text.split_once('\n').ok_or_else(|| bad("no position"))?;
    let sort_time = time.parse::<i64>().map_err(|_| bad("no time"))?;
    if id.is_empty() || id.chars().any(char::is_control) {
        return Err(bad("no id"));
    }
    Ok(Position {
        sort_time,
        id: id.to_owned(),
    })
}

/// How far back a `previous` link is looked for, in pages.
pub const PREVIOUS_SEARCH_PAGES: usize = 20;

/// The cursor of the page before `query`'s (`Some(None)`: the first page),
/// for the RFC 5005 `previous` link. Cursors only lead forward, so the
/// pages are walked from the first until one leads here; each step is a
/// cheap keyset query, but several of them, so callers should ask only
/// when a page is rendered. Deeper than [`PREVIOUS_SEARCH_PAGES`] the
/// link is left out.
pub fn previous<S: Store + ?Sized>(
    store: &S,
    query: &Query,
) -> Result<Option<Option<String>>, StoreError> {
    let Some(target) = &query.cursor else {
        return Ok(None);
    };
    let mut q = query.clone();
    q.cursor = None;
    for _ in 0..PREVIOUS_SEARCH_PAGES {
        let page = store.query(&q)?;
        match page.next_cursor {
            Some(next) if &next == target => return Ok(Some(q.cursor)),
            Some(next) => q.cursor = Some(next),
            None => break,
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_url_safe() {
        for pos in [
            Position {
                sort_time: 1_790_000_000,
                id: "66d6b63675254c7540dd".into(),
            },
            Position {
                sort_time: -86_400,
                id: "x".into(),
            },
        ] {
            let c = encode(&pos);
            assert!(c.bytes().all(|b| b.is_ascii_hexdigit()), "{c}");
            assert_eq!(decode(&c).unwrap(), pos);
        }
    }

    #[test]
    fn garbage_is_a_bad_cursor() {
        for bad in [
            "",
            "abc",
            "zz",
            "0a",
            &encode(&Position {
                sort_time: 1,
                id: String::new(),
            }),
            &"61".repeat(2000),
            "313233",
        ] {
            let err = decode(bad).unwrap_err();
            assert!(matches!(err, StoreError::BadCursor(_)), "{bad}: {err}");
        }
    }
}
