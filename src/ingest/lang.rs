//! Language detection with `whatlang`, reported as ISO 639-1.

use whatlang::Lang;

/// How much body text to look at: a few sentences settle the language, and
/// trigram detection cost grows with the input.
const SAMPLE_BYTES: usize = 1200;

/// Detects the language of `text`; `None` when the text is too short or
/// the detector is unsure.
pub fn detect(text: &str) -> Option<&'static str> {
    let mut cut = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let sample = &text[..cut];
    if sample.split_whitespace().count() < 4 {
        return None;
    }
    let info = whatlang::detect(sample)?;
    if info.confidence() < 0.2 {
        return None;
    }
    Some(iso639_1(info.lang()))
}

/// Normalizes a stated language tag ("en-GB", "fr_FR", "DE") to ISO 639-1.
pub fn normalize_tag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (primary.len() == 2 && primary.chars().all(|c| c.is_ascii_lowercase())).then_some(primary)
}

/// whatlang speaks ISO 639-3; feeds (RSS `<language>`, Atom `xml:lang`) want 639-1.
fn iso639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_four_main_languages() {
        assert_eq!(
            detect("The dock workers said the talks had stalled again on Tuesday evening."),
            Some("en")
        );
        assert_eq!(
            detect(
                "Les dockers ont déclaré que les négociations étaient de nouveau bloquées mardi soir."
            ),
            Some("fr")
        );
        assert_eq!(
            detect(
                "Die Hafenarbeiter sagten, die Gespräche seien am Dienstagabend erneut ins Stocken geraten."
            ),
            Some("de")
        );
        assert_eq!(
            detect(
                "Los estibadores dijeron que las negociaciones se habían estancado de nuevo el martes."
            ),
            Some("es")
        );
    }

    #[test]
    fn too_little_text_is_unknown() {
        assert_eq!(detect("Hi"), None);
    }

    #[test]
    fn tags_normalize() {
        assert_eq!(normalize_tag("en-GB").as_deref(), Some("en"));
        assert_eq!(normalize_tag("FR_fr").as_deref(), Some("fr"));
        assert_eq!(normalize_tag("english"), None);
    }
}
