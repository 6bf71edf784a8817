//! Bytes → text: the first step for every input format, articles and
//! feeds alike, with one decoding policy ([`decode_text`]).
//!
//! Inputs arrive as UTF-8 (with or without a BOM), UTF-16 with a BOM, or a
//! legacy encoding that the document declares (XML declaration, HTML
//! `<meta charset>`) or the transport states (an HTTP `charset`), and
//! otherwise Windows-1252; line endings may be CRLF or bare CR. Articles
//! come out as a `String` with `\n` line endings only. Binary data is
//! refused rather than decoded into mojibake.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Why bytes could not be taken as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Empty,
    Binary,
}

/// Decodes `bytes` to text with `\n` line endings; `charset` is the
/// transport's label, if any (see [`decode_text`]).
pub fn decode(bytes: &[u8], charset: Option<&str>) -> Result<String, DecodeError> {
    if Encoding::for_bom(bytes).is_none() && looks_binary(bytes) {
        return Err(DecodeError::Binary);
    }
    let (text, _) = decode_text(bytes, charset);
    let text = if text.contains('\0') {
        Cow::Owned(text.replace('\0', ""))
    } else {
        text
    };
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(normalize_newlines(&text))
}

/// Decodes bytes by the one policy every input follows; `charset` is the
/// transport's (HTTP `Content-Type`) label, if any. Returns a note when a
/// declaration was overridden, for the log. Valid UTF-8 with non-ASCII bytes is taken as UTF-8 whatever
/// the declaration says: legacy text is practically never valid UTF-8, and
/// "declared ISO-8859-1, served UTF-8" is the commonest feed encoding bug.
pub fn decode_text<'a>(
    bytes: &'a [u8],
    charset: Option<&str>,
) -> (Cow<'a, str>, Option<&'static str>) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return (text, None);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        // The declaration only matters for the note, and only when some
        // byte would decode differently: skip the scan for ASCII.
        let note = (!text.is_ascii())
            .then(|| declared_encoding(bytes))
            .flatten()
            .filter(|e| *e != UTF_8)
            .map(|_| "declared a legacy encoding but is UTF-8");
        return (Cow::Borrowed(text), note);
    }
    let declared = declared_encoding(bytes);
    // Not UTF-8: trust a legacy declaration, then the HTTP charset, then
    // guess Windows-1252 (what browsers assume for "ISO-8859-1" too).
    let legacy = |e: &'static Encoding| e != UTF_8 && e.output_encoding() == e;
    let (encoding, note) = match declared {
        Some(e) if legacy(e) => (e, None),
        _ => match charset.and_then(|c| Encoding::for_label(c.trim().as_bytes())) {
            Some(e) if legacy(e) => (e, declared.map(|_| "declared UTF-8 but is not")),
            _ => (
                WINDOWS_1252,
                Some("not valid UTF-8 as declared; decoded as Windows-1252"),
            ),
        },
    };
    (encoding.decode_without_bom_handling(bytes).0, note)
}

/// The encoding a document declares in its first bytes (an XML
/// declaration, or an HTML `<meta charset>`), if encoding_rs knows it.
fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(1024)];
    let head = std::str::from_utf8(head)
        .unwrap_or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default());
    xml_declared(head).or_else(|| meta_charset(head))
}

fn xml_declared(head: &str) -> Option<&'static Encoding> {
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let (_, rest) = decl.split_once("encoding")?;
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let label = rest[1..].split(quote).next()?;
    Encoding::for_label(label.trim().as_bytes())
}

/// `<meta charset="…">` or `<meta http-equiv="Content-Type" content="…; charset=…">`.
fn meta_charset(head: &str) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let at = lower.find("charset=")?;
    if !lower[..at].contains("<meta") {
        return None;
    }
    let rest = lower[at + "charset=".len()..].trim_start_matches(['"', '\'', ' ']);
    let label: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    Encoding::for_label(label.as_bytes())
}

/// NUL bytes never occur in text, and many C0 controls mean an image, PDF or archive.
fn looks_binary(bytes: &[u8]) -> bool {
    // A few stray NULs in a text file (a bad copy, a C string) do not make
    // it binary: they are dropped from the text. Binary formats and UTF-16
    // without a BOM are full of them and other controls.
    let head = &bytes[..bytes.len().min(8192)];
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

    fn decode_bytes(b: &[u8]) -> Result<String, DecodeError> {
        decode(b, None)
    }

    #[test]
    fn utf8_bom_is_dropped() {
        assert_eq!(decode_bytes(b"\xEF\xBB\xBFHello").unwrap(), "Hello");
    }

    #[test]
    fn windows_1252_fallback() {
        // "café – “quoted”" in cp1252
        let bytes = b"caf\xe9 \x96 \x93quoted\x94";
        assert_eq!(decode_bytes(bytes).unwrap(), "café – “quoted”");
    }

    #[test]
    fn utf16_with_bom() {
        let bytes = b"\xFF\xFEH\x00i\x00";
        assert_eq!(decode_bytes(bytes).unwrap(), "Hi");
    }

    #[test]
    fn crlf_and_cr_become_lf() {
        assert_eq!(decode_bytes(b"a\r\nb\rc\n").unwrap(), "a\nb\nc\n");
    }

    #[test]
    fn binary_and_empty_are_refused() {
        assert_eq!(
            decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            Err(DecodeError::Binary)
        );
        assert_eq!(decode_bytes(b"  \n\n "), Err(DecodeError::Empty));
        assert_eq!(
            decode_bytes(b"\x00\x00\x00\x00 a"),
            Err(DecodeError::Binary)
        );
    }

    #[test]
    fn stray_nuls_are_dropped_not_a_reason_to_refuse() {
        let text = "Port strike\n\nDock workers walked out on Monday\0 after talks failed.\0\n";
        assert_eq!(
            decode_bytes(text.as_bytes()).unwrap(),
            "Port strike\n\nDock workers walked out on Monday after talks failed.\n"
        );
    }
}

#[cfg(test)]
mod charset_tests {
    use super::*;

    #[test]
    fn transport_and_meta_charsets_decode_legacy_pages() {
        // "café" in ISO-8859-7 would differ from Windows-1252: use Greek.
        let greek = b"<p>\xe1\xe2\xe3</p>";
        assert_eq!(decode(greek, Some("iso-8859-7")).unwrap(), "<p>αβγ</p>");
        let meta = b"<html><head><meta charset=\"iso-8859-7\"></head><p>\xe1</p>";
        assert!(decode(meta, None).unwrap().contains("<p>α</p>"));
        // Valid UTF-8 stays UTF-8 whatever is declared.
        assert_eq!(decode("αβ".as_bytes(), Some("iso-8859-7")).unwrap(), "αβ");
        // No label at all: Windows-1252.
        assert_eq!(decode(b"caf\xe9", None).unwrap(), "café");
    }
}
