//! The one error type of every configuration file topicfeed reads: topic
//! files, `sources.toml`, the built-in rule tables. Each names the file and,
//! where it is known, the line, so `path:line: what is wrong` is all an
//! operator needs to find and fix it.

use std::path::{Path, PathBuf};

/// A configuration problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based; `None` when the problem is the file as a whole.
    pub line: Option<usize>,
    pub message: String,
}

impl ConfigError {
    pub fn new(path: &Path, line: Option<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.to_owned(),
            line,
            message: message.into(),
        }
    }

    /// A TOML syntax or type error in `text`, the contents of `path`.
    pub fn toml(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
        let line = e.span().map(|s| line_of(text, s.start));
        ConfigError::new(path, line, e.message().trim())
    }
}

/// The 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_name_file_and_line() {
        let text = "a = 1\nb = [\n";
        let e = toml::from_str::<toml::Value>(text).unwrap_err();
        let err = ConfigError::toml(Path::new("feeds/x.toml"), text, &e);
        assert!(err.to_string().starts_with("feeds/x.toml:"), "{err}");
        assert!(err.line.is_some_and(|l| l >= 2), "{err:?}");
    }
}
