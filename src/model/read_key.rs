//! A private feed's read key (`serve --read-key`, `key = "…"` in a topic
//! file). It is a credential: compared in constant time, and its `Debug`
//! never shows it, so a config dumped into a log does not leak it.

use std::fmt;

use subtle::ConstantTimeEq;

#[derive(Clone, PartialEq, Eq)]
pub struct ReadKey(String);

impl ReadKey {
    /// Shorter keys are guessed by anyone who polls long enough.
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 256;

    /// A key as written by an operator; the error says why it is refused.
    /// Keys travel in URLs (`?key=`) and Basic auth, where whitespace and
    /// control characters do not survive copy and paste.
    pub fn new(key: &str) -> Result<ReadKey, String> {
        let n = key.chars().count();
        if n < Self::MIN_CHARS {
            return Err(format!(
                "a read key needs at least {} characters (this one has {n})",
                Self::MIN_CHARS
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(format!(
                "a read key has at most {} characters (this one has {n})",
                Self::MAX_CHARS
            ));
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("a read key may not hold spaces or control characters".into());
        }
        Ok(ReadKey(key.to_owned()))
    }

    /// Whether `presented` is this key, in time that depends neither on
    /// where the two differ nor on their lengths: their SHA-256 digests are
    /// compared.
    pub fn opens(&self, presented: &str) -> bool {
        use sha2::{Digest, Sha256};
        let (ours, theirs) = (
            Sha256::digest(self.0.as_bytes()),
            Sha256::digest(presented.as_bytes()),
        );
        bool::from(ours.as_slice().ct_eq(theirs.as_slice()))
    }
}

impl fmt::Debug for ReadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_never_shown() {
        let k = ReadKey::new("harbour-2026").unwrap();
        assert!(k.opens("harbour-2026"));
        assert!(!k.opens("harbour-2027"));
        assert!(!k.opens("harbour"));
        assert!(!format!("{k:?}").contains("harbour"));
        assert!(ReadKey::new("short").unwrap_err().contains("at least 8"));
        assert!(ReadKey::new("has a space").unwrap_err().contains("spaces"));
        assert!(ReadKey::new(&"x".repeat(300)).is_err());
    }
}
