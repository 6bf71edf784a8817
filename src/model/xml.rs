//! The XML 1.0 character filter: every stage that writes text someone
//! will parse as XML (ingest when it stores, render when it writes) uses
//! this one definition of what may not pass.

use std::borrow::Cow;

/// True for characters XML 1.0 does not allow, plus C1 controls and
/// noncharacters, which strict readers warn about and no article needs.
fn is_unwanted(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{fdd0}'..='\u{fdef}' => true,
        _ => (c as u32) & 0xfffe == 0xfffe,
    }
}

/// A byte scan that rules out unwanted characters in almost every line
/// without decoding: they are C0 bytes and DEL, U+0080–U+009F (lead byte
/// 0xC2), or sit at U+FDD0 and above (lead bytes 0xEF to 0xF4).
fn may_hold_unwanted(b: &[u8]) -> bool {
    if printable_ascii(b) {
        return false;
    }
    b.iter().enumerate().any(|(i, &c)| match c {
        b'\t' | b'\n' | b'\r' => false,
        0..=0x1f | 0x7f => true,
        0xc2 => matches!(b.get(i + 1), Some(0x80..=0x9f)),
        0xef..=0xf4 => true,
        _ => false,
    })
}

/// Whether every byte is printable ASCII (space to `~`): most lines of
/// most texts. Written without an early exit, so the compiler turns it
/// into a vector loop: several times faster than a byte-by-byte match.
pub(crate) fn printable_ascii(b: &[u8]) -> bool {
    b.chunks(64).all(|chunk| {
        chunk
            .iter()
            .fold(true, |ok, &c| ok & (c.wrapping_sub(b' ') < 0x5f))
    })
}

/// Removes characters that would make XML output ill-formed.
pub fn strip_invalid_chars(text: &str) -> Cow<'_, str> {
    if !may_hold_unwanted(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().filter(|&c| !is_unwanted(c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The vector-friendly scan agrees with the byte-by-byte definition.
        #[test]
        fn printable_ascii_is_space_to_tilde(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let expected = bytes.iter().all(|c| (0x20..0x7f).contains(c));
            proptest::prop_assert_eq!(printable_ascii(&bytes), expected);
        }
    }

    #[test]
    fn xml_forbidden_characters_are_removed() {
        assert_eq!(
            strip_invalid_chars("a\u{0}b\u{b}c\u{fffe}d\u{85}e\tf"),
            "abcde\tf"
        );
    }
}
