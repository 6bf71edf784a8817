//! What an article carries besides its text: the lead image readers show
//! beside the item, and media files (a podcast's audio) that are
//! republished exactly as the upstream feed gave them.

use serde::{Deserialize, Serialize};

/// An article's lead image. `url` is absolute http(s) (ingest makes it so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub url: String,
    /// The image's media type when the source stated one (`image/jpeg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
}

impl Image {
    pub fn new(url: impl Into<String>) -> Image {
        Image {
            url: url.into(),
            mime: None,
            caption: None,
            credit: None,
        }
    }

    /// The media type to announce: the stated one, else what the file name
    /// says, else the most common image type.
    pub fn mime_or_guess(&self) -> &str {
        self.mime
            .as_deref()
            .or_else(|| image_type_of(&self.url))
            .unwrap_or("image/jpeg")
    }
}

/// The image type a URL's file name says, if it names one.
fn image_type_of(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    IMAGE_TYPES.iter().find(|(e, _)| *e == ext).map(|(_, t)| *t)
}

const IMAGE_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("svg", "image/svg+xml"),
];

/// A media file attached to an upstream item (RSS `<enclosure>`, Atom
/// `rel="enclosure"`, a JSON Feed attachment), republished unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enclosure {
    pub url: String,
    /// As stated upstream; `application/octet-stream` when it stated none.
    pub mime: String,
    /// Bytes, as stated upstream; 0 when it stated none (what RSS readers
    /// take for "unknown").
    pub length: u64,
}

/// Whether a media type or file name says "image".
pub fn looks_like_image(mime: Option<&str>, url: &str) -> bool {
    match mime {
        Some(m) => m.trim().to_ascii_lowercase().starts_with("image/"),
        None => image_type_of(url).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_told_by_type_then_by_name() {
        assert!(looks_like_image(Some("image/png"), "https://a.example/x"));
        assert!(!looks_like_image(
            Some("audio/mpeg"),
            "https://a.example/x.jpg"
        ));
        assert!(looks_like_image(None, "https://a.example/p/lead.JPG?w=800"));
        assert!(!looks_like_image(None, "https://a.example/ep1.mp3"));
        assert_eq!(
            Image::new("https://a.example/a.webp?x=1").mime_or_guess(),
            "image/webp"
        );
        assert_eq!(
            Image::new("https://a.example/photo").mime_or_guess(),
            "image/jpeg"
        );
    }
}
