//! What a feed looks like in a reader's list: its pictures and its
//! language.
//!
//! topicfeed serves its own pictures (`/icon.png` 512×512, `/favicon.png`
//! 64×64, `/logo.png` 256×128); a topic may name its own `icon` and
//! `logo` instead. Each format carries them where its readers look:
//!
//! - RSS: `<image>` (the 64-pixel picture: RSS allows 144 at most) and
//!   `<language>`;
//! - Atom: `<icon>` (square), `<logo>` (2:1) and `xml:lang`;
//! - JSON Feed: `icon`, `favicon` and `language`.
//!
//! The language is given only when every story of the document shares it.

use crate::model::Story;

/// The feed's pictures, absolute URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Square, large (JSON Feed `icon`, Atom `icon`).
    pub icon: String,
    /// Square, small (RSS `image`, JSON Feed `favicon`).
    pub favicon: String,
    /// Twice as wide as high (Atom `logo`).
    pub logo: String,
}

impl Images {
    /// topicfeed's own pictures under `base`, or a topic's own.
    pub fn new(base: &str, icon: Option<&str>, logo: Option<&str>) -> Images {
        let base = base.trim_end_matches('/');
        Images {
            icon: icon.map_or_else(|| format!("{base}/{ICON_PATH}"), str::to_owned),
            favicon: icon.map_or_else(|| format!("{base}/{FAVICON_PATH}"), str::to_owned),
            logo: logo.map_or_else(|| format!("{base}/{LOGO_PATH}"), str::to_owned),
        }
    }
}

/// Paths (under the server's root) of topicfeed's own pictures, and their bytes.
pub const ICON_PATH: &str = "icon.png";
pub const FAVICON_PATH: &str = "favicon.png";
pub const LOGO_PATH: &str = "logo.png";
pub const ICON_PNG: &[u8] = include_bytes!("icons/icon.png");
pub const FAVICON_PNG: &[u8] = include_bytes!("icons/favicon.png");
pub const LOGO_PNG: &[u8] = include_bytes!("icons/logo.png");

/// The picture served at `path` (without its leading slash), if any.
pub fn picture(path: &str) -> Option<&'static [u8]> {
    match path {
        ICON_PATH => Some(ICON_PNG),
        FAVICON_PATH => Some(FAVICON_PNG),
        LOGO_PATH => Some(LOGO_PNG),
        _ => None,
    }
}

/// The language every story shares, if they all state the same one.
pub fn shared_language(stories: &[Story]) -> Option<&str> {
    let first = stories.first()?.article.language.as_deref()?;
    stories
        .iter()
        .all(|s| s.article.language.as_deref() == Some(first))
        .then_some(first)
}
