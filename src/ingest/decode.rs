//! Bytes → text: the first step for every input format.
//!
//! Scrapes arrive as UTF-8 (with or without a BOM), UTF-16 with a BOM, or
//! legacy Windows-1252; line endings may be CRLF or bare CR. Output is a
//! `String` with `\n` line endings only. Binary data is refused rather than
//! decoded into mojibake.

use std::borrow::Cow;

use encoding_rs::{Encoding, WINDOWS_1252};

/// Why bytes could not be taken as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Empty,
    Binary,
}

/// Decodes `bytes` to text with `\n` line endings.
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    let text: Cow<'_, str> = if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        text
    } else if looks_binary(bytes) {
        return Err(DecodeError::Binary);
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            // Anything that isn't valid UTF-8 is almost always Windows-1252
            // (which is also what browsers assume for "ISO-8859-1").
            Err(_) => WINDOWS_1252.decode_without_bom_handling(bytes).0,
        }
    };
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(normalize_newlines(&text))
}

/// NUL bytes never occur in text, and many C0 controls mean an image, PDF or archive.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    controls * 20 > head.len().max(1)
}

fn normalize_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_is_dropped() {
        assert_eq!(decode(b"\xEF\xBB\xBFHello").unwrap(), "Hello");
    }

    #[test]
    fn windows_1252_fallback() {
        // "café – “quoted”" in cp1252
        let bytes = b"caf\xe9 \x96 \x93quoted\x94";
        assert_eq!(decode(bytes).unwrap(), "café – “quoted”");
    }

    #[test]
    fn utf16_with_bom() {
        let bytes = b"\xFF\xFEH\x00i\x00";
        assert_eq!(decode(bytes).unwrap(), "Hi");
    }

    #[test]
    fn crlf_and_cr_become_lf() {
        assert_eq!(decode(b"a\r\nb\rc\n").unwrap(), "a\nb\nc\n");
    }

    #[test]
    fn binary_and_empty_are_refused() {
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            Err(DecodeError::Binary)
        );
        assert_eq!(decode(b"  \n\n "), Err(DecodeError::Empty));
    }
}
