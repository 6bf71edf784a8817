//! Language detection, reported as ISO 639-1: by stopwords where they
//! decide, else with `whatlang`.

use std::sync::LazyLock;

use whatlang::{Detector, Lang};

/// The languages news is most often published in, the most common first
/// (the first seven are [`COMMON`]). Trigram scoring costs
/// time per candidate language, and whatlang's full list of 69 (Esperanto,
/// Latin, Tagalog, …) made detection the slowest step of normalizing while
/// mostly adding ways to mistake short European texts for rare languages.
const LANGUAGES: &[Lang] = &[
    Lang::Eng,
    Lang::Fra,
    Lang::Deu,
    Lang::Spa,
    Lang::Ita,
    Lang::Por,
    Lang::Nld,
    Lang::Swe,
    Lang::Dan,
    Lang::Nob,
    Lang::Fin,
    Lang::Pol,
    Lang::Ces,
    Lang::Slk,
    Lang::Hun,
    Lang::Ron,
    Lang::Cat,
    Lang::Tur,
    Lang::Rus,
    Lang::Ukr,
    Lang::Bul,
    Lang::Ell,
    Lang::Ara,
    Lang::Heb,
    Lang::Pes,
    Lang::Cmn,
    Lang::Jpn,
    Lang::Kor,
    Lang::Hin,
    Lang::Vie,
    Lang::Ind,
];

/// Checked first: most articles are in one of these, and a detector with
/// few candidates is several times faster. Its answer stands only when
/// whatlang calls it reliable; otherwise the full list decides.
const COMMON: &[Lang] = LANGUAGES.split_at(7).0;

/// How sure the first pass must be. whatlang's own "reliable" (0.9) sent
/// most texts to the second pass; among seven candidates, 0.5 already
/// means a clear winner, and the fixtures in seven languages agree.
const COMMON_CONFIDENCE: f64 = 0.5;

static COMMON_DETECTOR: LazyLock<Detector> =
    LazyLock::new(|| Detector::with_allowlist(COMMON.to_vec()));
static DETECTOR: LazyLock<Detector> =
    LazyLock::new(|| Detector::with_allowlist(LANGUAGES.to_vec()));

/// How much body text to look at: two sentences settle the language for
/// news prose in the 26 held-out and 32 fixture scrapes (seven languages),
/// and detection was the costliest step of normalizing at 1,200 bytes.
const SAMPLE_BYTES: usize = 200;

/// Detects the language of `text`; `None` when the text is too short or
/// the detector is unsure. Text whose stopwords leave no doubt (the
/// classifier's lists, `prose::Prose::stopword_language`) is not given to
/// the trigram detector, which costs more and reads less of it.
pub fn detect(text: &str) -> Option<&'static str> {
    if let Some(code) = super::prose::Prose::builtin().stopword_language(text) {
        return Some(code);
    }
    let mut cut = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let sample = &text[..cut];
    if sample.split_whitespace().count() < 4 {
        return None;
    }
    let info = match COMMON_DETECTOR.detect(sample) {
        Some(info) if info.confidence() >= COMMON_CONFIDENCE => info,
        _ => DETECTOR.detect(sample)?,
    };
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
    fn less_common_languages_still_detected() {
        assert_eq!(
            detect(
                "Havnearbejderne sagde, at forhandlingerne igen var gået i stå tirsdag aften, og at strejken fortsætter."
            ),
            Some("da")
        );
        assert_eq!(
            detect(
                "Robotnicy portowi powiedzieli, że rozmowy ponownie utknęły w martwym punkcie we wtorek wieczorem."
            ),
            Some("pl")
        );
        assert_eq!(
            detect("Докеры заявили, что переговоры снова зашли в тупик во вторник вечером."),
            Some("ru")
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
