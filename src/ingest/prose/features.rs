//! The measurements of one line the classifier decides on: its words,
//! the openers of its clauses, its figures, its repetition key, and the
//! shapes that mark page furniture (labels, credits, gallery counters,
//! headings, bullets, quotations).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use super::HashSet;
use crate::ingest::boilerplate::word_count;

/// Words that join a clause to the one before; the imperative of a pitch
/// may follow one ("or subscribe", "et abonnez-vous", "oder abonnieren").
const CONJUNCTIONS: &[&str] = &["or", "and", "ou", "et", "oder", "und", "o", "y"];

/// The first word of each sentence or dash-separated clause, lowercased:
/// where an imperative stands in a pitch.
pub(super) fn sentence_openers(text: &str) -> impl Iterator<Item = Word<'_>> + '_ {
    let mut starts = vec![0];
    let bytes = text.as_bytes();
    // A clause starts after a space that follows one of the marks: look
    // at what ends before each space, not at every character.
    for (next, _) in bytes.iter().enumerate().filter(|&(_, &b)| b == b' ') {
        let before = &text[..next];
        if before.ends_with(['.', '!', '?', '—', '–', ':', '|', '•', '·']) {
            starts.push(next);
        }
    }
    starts.into_iter().filter_map(move |at| {
        // Only the first word: reading the rest of the line for every
        // clause would make this quadratic. A conjunction opening the
        // clause is passed over ("— or subscribe to the e-edition").
        let mut words = text[at..].split_whitespace().filter_map(word_of);
        let first = words.next()?;
        if CONJUNCTIONS.contains(&first.as_ref()) {
            words.next()
        } else {
            Some(first)
        }
    })
}

/// Words of `formal` ("Sie", "Ihres") inside a sentence, where only the
/// formal address is capitalised.
pub(super) fn formal_address(text: &str, formal: &HashSet<String>) -> usize {
    if formal.is_empty() {
        return 0;
    }
    let mut count = 0;
    let mut sentence_start = true;
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if !sentence_start && formal.contains(word) {
            count += 1;
        }
        sentence_start = raw.ends_with(['.', '!', '?', ':']);
    }
    count
}

/// A clause that opens with a verb and the formal address ("Markieren Sie
/// die Stelle", "Klicken Sie hier", "Haben Sie einen Fehler gefunden?"):
/// the page speaking to its reader, as an imperative or a question.
pub(super) fn formal_imperative(text: &str, formal: &HashSet<String>) -> bool {
    if formal.is_empty() {
        return false;
    }
    let mut clause_start = true;
    let mut previous: Option<&str> = None;
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if let Some(verb) = previous
            && formal.contains(word)
            && verb.chars().next().is_some_and(char::is_uppercase)
            && !formal.contains(verb)
        {
            return true;
        }
        previous = clause_start.then_some(word);
        clause_start = raw.ends_with(['.', '!', '?', ':', '–', '—']) || matches!(raw, "–" | "—");
    }
    false
}

/// "Photo 2 of 7", "Bild 3 von 12: …", "Foto 1 de 14": a gallery's counter
/// opens the line. "Between 7 and 8 pm", "From 7 to 9": a range opens a
/// sentence of the story.
pub(super) fn gallery_counter(text: &str) -> bool {
    static COUNTER: LazyLock<regex::Regex> = LazyLock::new(|| {
        // `(?:\W|$)` where `\b` would do: a Unicode word boundary makes the
        // fast engine give up on the first non-ASCII byte.
        regex::Regex::new(r"^\W*\w+\s+\d{1,3}(?:\s*/\s*|\s+([^\W\d_]{1,4})\s+)\d{1,3}(?:\W|$)")
            .unwrap_or_else(|e| panic!("COUNTER regex: {e}"))
    });
    const RANGE: &[&str] = &[
        "to", "and", "or", "till", "und", "bis", "oder", "et", "au", "à", "ou", "y", "a", "e", "o",
        "til", "tot", "en",
    ];
    // Most lines are no counter: the span search alone tells, and only a
    // match is searched again for the word between the figures.
    COUNTER.is_match(text)
        && COUNTER.captures(text).is_some_and(|c| {
            c.get(1)
                .is_none_or(|w| !RANGE.contains(&w.as_str().to_lowercase().as_str()))
        })
}

/// "Lappeenranta −27°C ☀ Tomorrow −24°C", "Weather: Saturday 12°C, light
/// snow": a weather widget. A short unfinished line with a temperature
/// beside a second one, a weather symbol or a forecast word; a sentence
/// of the story reporting a temperature ends with its full stop.
pub(super) fn weather_widget(text: &str) -> bool {
    static READING: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"\d\s?°").unwrap_or_else(|e| panic!("READING regex: {e}"))
    });
    const FORECAST: &[&str] = &[
        "weather", "forecast", "tomorrow", "today", "tonight", "high", "low", "feels", "wetter",
        "morgen", "heute", "météo", "demain", "tiempo", "mañana", "meteo", "domani",
    ];
    const SYMBOLS: &[char] = &['☀', '☁', '⛅', '🌧', '❄', '🌦', '🌤', '⛈', '🌨', '☂'];
    if !text.contains('°') || word_count(text) > 14 || crate::ingest::lines::ends_sentence(text) {
        return false;
    }
    let readings = READING.find_iter(text).count();
    readings >= 2
        || (readings == 1
            && (text.contains(SYMBOLS)
                || words_of(text)
                    .iter()
                    .any(|w| FORECAST.contains(&AsRef::<str>::as_ref(w)))))
}

/// "Hochwetzkogel | 22 km | 46 €", "Supplier | Tariff | Est. annual cost":
/// a row of a comparison table laid out as text, three cells or more, one
/// of them a figure. A share bar ("Facebook | WhatsApp | E-Mail") has no
/// figure; a header row counts when a figure row follows, which the
/// caller's neighbours settle.
pub(super) fn table_row(text: &str) -> bool {
    // Three cells need two bars; most lines have none.
    if text.bytes().filter(|&b| b == b'|').nth(1).is_none() {
        return false;
    }
    let cells: Vec<&str> = text.split('|').map(str::trim).collect();
    cells.len() >= 3
        && cells.iter().all(|c| !c.is_empty() && word_count(c) <= 5)
        && cells
            .iter()
            .any(|c| c.chars().any(|ch| ch.is_ascii_digit()))
}

/// "18+ only", "+18", "21+": the age gate of a betting, alcohol or
/// dating ad. Reporting spells an age out ("over-18s", "aged 18 and over").
pub(super) fn age_gate(text: &str) -> bool {
    static GATE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(?:^|[\s(\[])(?:1[89]|21)\+(?:$|[\s.,;:)\]!])|(?:^|[\s(\[])\+(?:1[89]|21)(?:$|[\s.,;:)\]!])")
            .unwrap_or_else(|e| panic!("GATE regex: {e}"))
    });
    // Every gate holds a plus sign; most lines have none.
    text.contains('+') && GATE.is_match(text)
}

/// Lowercased words with surrounding punctuation trimmed; borrowed when
/// already lower case, as most words are.
pub(super) fn words_of(text: &str) -> Vec<Word<'_>> {
    // Sized for a word of every six bytes, so a line's words rarely
    // outgrow it: growing one word at a time reallocated it four times.
    let mut words = Vec::with_capacity(text.len() / 6 + 1);
    words.extend(text_words(text));
    words
}

/// The words of `text` one by one: [`word_of`] on each of its
/// whitespace-separated tokens. ASCII text, most of any Latin-script
/// page, is split and lowered byte by byte: decoding each character to
/// test it for whitespace and case cost more than the word lookups that
/// follow.
pub(super) fn text_words(text: &str) -> impl Iterator<Item = Word<'_>> {
    let ascii = text.is_ascii();
    let (mut bytes, mut unicode) = if ascii {
        (Some(AsciiTokens { text, at: 0 }), None)
    } else {
        (None, Some(text.split_whitespace()))
    };
    std::iter::from_fn(move || {
        if let Some(tokens) = bytes.as_mut() {
            tokens.find_map(ascii_word)
        } else {
            unicode.as_mut()?.find_map(word_of)
        }
    })
}

/// The whitespace-separated tokens of ASCII text (the whitespace of
/// `char::is_whitespace`: space, tab to carriage return).
struct AsciiTokens<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Iterator for AsciiTokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.text.as_bytes();
        let space = |c: u8| matches!(c, b' ' | b'\t'..=b'\r');
        while self.at < b.len() && space(b[self.at]) {
            self.at += 1;
        }
        let start = self.at;
        while self.at < b.len() && !space(b[self.at]) {
            self.at += 1;
        }
        (start < self.at).then(|| &self.text[start..self.at])
    }
}

/// [`word_of`] for an ASCII token.
fn ascii_word(token: &str) -> Option<Word<'_>> {
    let w = trimmed_ascii(token)?;
    if w.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(w.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(w))
    }
}

/// One whitespace-separated token as a word, if it has any letters or
/// figures left once its punctuation is trimmed.
pub(super) fn word_of(token: &str) -> Option<Word<'_>> {
    if token.is_ascii() {
        return ascii_word(token);
    }
    let w = token
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’' && c != '-')
        .trim_matches(['\'', '’', '-']);
    if w.is_empty() {
        None
    } else if w.chars().any(char::is_uppercase) {
        Some(Cow::Owned(w.to_lowercase()))
    } else {
        Some(Cow::Borrowed(w))
    }
}

/// An ASCII token with its surrounding punctuation trimmed, if any
/// letters or figures are left: the two trims of [`word_of`]'s general
/// case, as index moves.
fn trimmed_ascii(token: &str) -> Option<&str> {
    let b = token.as_bytes();
    let (mut start, mut end) = (0, b.len());
    let kept = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'\'' | b'-');
    while start < end && !kept(b[start]) {
        start += 1;
    }
    while end > start && !kept(b[end - 1]) {
        end -= 1;
    }
    while start < end && matches!(b[start], b'\'' | b'-') {
        start += 1;
    }
    while end > start && matches!(b[end - 1], b'\'' | b'-') {
        end -= 1;
    }
    (start < end).then(|| &token[start..end])
}

/// A word of a line, lower-cased.
pub(super) type Word<'a> = Cow<'a, str>;

pub(super) fn digit_share(text: &str) -> f32 {
    let (mut digits, mut all) = (0usize, 0usize);
    if text.is_ascii() {
        for b in text.bytes().filter(|b| !matches!(b, b'\t'..=b'\r' | b' ')) {
            all += 1;
            digits += usize::from(b.is_ascii_digit());
        }
    } else {
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            all += 1;
            digits += usize::from(c.is_ascii_digit());
        }
    }
    if all == 0 {
        0.0
    } else {
        digits as f32 / all as f32
    }
}

/// Lines compared for repetition: case, spacing and figures do not count,
/// so "Photo 2 of 7" repeats "Photo 5 of 7". A hash of that form, made
/// without building it.
pub(super) fn norm_key(text: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            h.write_u32(' ' as u32);
            space = false;
        }
        if c.is_ascii() {
            let c = if c.is_ascii_digit() {
                '#'
            } else {
                c.to_ascii_lowercase()
            };
            h.write_u32(c as u32);
        } else {
            for l in c.to_lowercase() {
                h.write_u32(l as u32);
            }
        }
    }
    h.finish()
}

/// How often each line's form ([`norm_key`]) occurs among the lines left.
/// Only short lines have a key (a long one counts once): repetition is a
/// clutter feature below `long_words` only.
pub(super) fn repeat_counts(keys: &[Option<u64>]) -> Vec<usize> {
    let mut counts: HashMap<u64, usize, rustc_hash::FxBuildHasher> = HashMap::default();
    for k in keys.iter().flatten() {
        *counts.entry(*k).or_insert(0) += 1;
    }
    keys.iter()
        .map(|k| k.map_or(1, |k| counts.get(&k).copied().unwrap_or(1)))
        .collect()
}

/// A line that opens with a pictograph (🎙️, 🛒, 🎟️, 📩, 👉): the mark of a
/// box the site set in the text (a podcast plug, a shop or ticket promo, a
/// sign-up), whatever its words. Reporting does not open a paragraph with
/// one. Bullets and typographic marks (•, ✓, →) are not pictographs.
pub(super) fn pictograph_led(text: &str) -> bool {
    let mut chars = text.trim_start().chars();
    let first = chars.next();
    // A symbol asked to show as emoji (U+FE0F) is one: ✉️, ☎️, ✏️.
    if chars.next() == Some('\u{FE0F}') {
        return true;
    }
    first.is_some_and(|c| {
        matches!(u32::from(c),
            0x2600..=0x26FF     // miscellaneous symbols (☎, ⚽, ⛔)
            | 0x1F300..=0x1F5FF // symbols and pictographs
            | 0x1F600..=0x1F64F // faces
            | 0x1F680..=0x1F6FF // transport and map
            | 0x1F900..=0x1F9FF // supplemental symbols and pictographs
            | 0x1FA70..=0x1FAFF) // symbols and pictographs, extended
    })
}

/// One quoted stretch of a line, as byte ranges.
struct Quote {
    /// Where its opening mark starts.
    open: usize,
    /// What the marks hold; `None` for a quote left open to the line's end.
    inner: Option<(usize, usize)>,
    /// Where the text after its closing mark starts.
    after: usize,
    /// In single marks, where a comma after the close ends a title
    /// ("Escuche 'Café con Vigía', nuestro pódcast …"), not a clause.
    single: bool,
}

/// The quoted stretches of a line, in order.
fn quotes(text: &str) -> Vec<Quote> {
    const OPEN: [char; 4] = ['"', '“', '«', '„'];
    const CLOSE: [char; 4] = ['"', '”', '»', '“'];
    let mark_len = |at: usize| text[at..].chars().next().map_or(1, char::len_utf8);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = find_mark(&text[from..], &OPEN) {
        let open = from + found;
        let start = open + mark_len(open);
        let Some(len) = find_mark(&text[start..], &CLOSE) else {
            out.push(Quote {
                open,
                inner: None,
                after: text.len(),
                single: false,
            });
            break;
        };
        let end = start + len;
        from = end + mark_len(end);
        out.push(Quote {
            open,
            inner: Some((start, end)),
            after: from,
            single: false,
        });
    }
    if out.is_empty() {
        single_quotes(text, &mut out);
    }
    out
}

/// Where the first of `marks` stands in `text`. The marks are '"' or
/// start with byte 0xC2 or 0xE2, so only bytes like those are decoded.
fn find_mark(text: &str, marks: &[char]) -> Option<usize> {
    // 0xC2 and 0xE2 lead a character, so each hit is a char boundary.
    memchr::memchr3_iter(b'"', 0xC2, 0xE2, text.as_bytes())
        .find(|&i| text[i..].chars().next().is_some_and(|c| marks.contains(&c)))
}

/// British papers quote speech in single marks (`said: 'It's like losing
/// a family member.'`), which are apostrophes too: a mark opens after a
/// space, a colon or a bracket and before a letter, and closes after a
/// non-space and before a space, punctuation or the line's end, so "It's"
/// and "don't" neither open nor close one.
fn single_quotes(text: &str, out: &mut Vec<Quote>) {
    // Most lines have no single mark at all: no character table for them.
    if !text.contains(['\'', '‘']) {
        return;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (at, c) = chars[k];
        let opens = matches!(c, '\'' | '‘')
            && (k == 0 || matches!(chars[k - 1].1, ' ' | '(' | ':' | '—' | '–'))
            && chars.get(k + 1).is_some_and(|(_, n)| n.is_alphabetic());
        if !opens {
            k += 1;
            continue;
        }
        let start = at + c.len_utf8();
        let close = (k + 2..chars.len()).find(|&j| {
            matches!(chars[j].1, '\'' | '’')
                && !chars[j - 1].1.is_whitespace()
                && chars
                    .get(j + 1)
                    .is_none_or(|(_, n)| n.is_whitespace() || ",.;:!?)".contains(*n))
        });
        let Some(j) = close else {
            out.push(Quote {
                open: at,
                inner: None,
                after: text.len(),
                single: true,
            });
            return;
        };
        let (end, mark) = chars[j];
        out.push(Quote {
            open: at,
            inner: Some((start, end)),
            after: end + mark.len_utf8(),
            single: true,
        });
        k = j + 1;
    }
}

/// Whether the quotation marks in a line hold speech rather than a name: a
/// quoted stretch of [`SPEECH_WORDS`] words or more, or one closing a
/// clause (`…,” she said`, `« … », a-t-il dit`), or a quotation running on
/// past the line. A newsletter, page or book title in quotes («Laguna
/// Viva», « Soutenir l'info ») is none of these, and does not make a pitch
/// reporting.
pub(super) fn quotes_speech(text: &str) -> bool {
    speech_in(text, &quotes(text))
}

/// [`quotes_speech`] on the quotes already found in `text`.
fn speech_in(text: &str, quoted: &[Quote]) -> bool {
    quoted.iter().any(|q| match q.inner {
        None => true,
        Some((start, end)) => {
            let inner = &text[start..end];
            word_count(inner) >= SPEECH_WORDS
                || inner.trim_end().ends_with([',', '.', '!', '?', '…'])
                || (!q.single && text[q.after..].trim_start().starts_with(','))
        }
    })
}

/// The line with its quoted stretches left out: the words a quotation
/// holds are someone else's ("in line with our expectations"), not the
/// site's voice nor its address to the reader. `None` when nothing is
/// quoted.
#[cfg(test)]
pub(super) fn unquoted(text: &str) -> Option<String> {
    unquoted_from(text, &quotes(text))
}

/// What a pitch reads of a line's quotations, found once: whether they
/// hold speech ([`quotes_speech`]), and the line without them
/// ([`unquoted`]). `None` when they hold speech.
pub(super) fn outside_speech(text: &str) -> Option<Option<String>> {
    let quoted = quotes(text);
    (!speech_in(text, &quoted)).then(|| unquoted_from(text, &quoted))
}

fn unquoted_from(text: &str, quoted: &[Quote]) -> Option<String> {
    if quoted.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for q in quoted {
        out.push_str(&text[from..q.open]);
        out.push(' ');
        from = q.after;
    }
    out.push_str(&text[from..]);
    Some(out)
}

/// Quoted words from which a quotation is speech, whatever closes it.
const SPEECH_WORDS: usize = 7;

/// A line that opens with a quotation mark: speech, left to its neighbours.
pub(super) fn quoted_line(text: &str) -> bool {
    text.starts_with(['"', '“', '«', '„', '‘'])
}

/// A line opening with a list bullet ("• ", "- ", "1. "), by the shape
/// pass's own rule.
pub(super) fn bullet(text: &str) -> bool {
    crate::ingest::shape::list_item(text.trim_start()).is_some()
}

/// Page labels: a short line in capitals ("SHOP THE STORY", "MARKET
/// SNAPSHOT"), a bracketed placeholder ("[Image: …]"), a credit (©).
pub(super) fn label_shaped(text: &str, words: usize) -> bool {
    let capitals = words <= 6
        && text.chars().filter(|c| c.is_alphabetic()).count() >= 4
        && !text.chars().any(char::is_lowercase);
    let bracketed = text.starts_with('[') && text.ends_with(']');
    (capitals && words <= 6) || bracketed || text.contains('©')
}

/// "Fotos: Tomás Arango", "Photo: Reuters": a label, a colon, a name.
pub(super) fn credit_label(text: &str) -> bool {
    text.split_once(':').is_some_and(|(label, rest)| {
        word_count(label) <= 2
            && (1..=4).contains(&word_count(rest))
            && rest
                .split_whitespace()
                .all(|w| w.chars().next().is_some_and(char::is_uppercase))
    })
}

/// A subheading: a few words, a capital first, no figures, no sentence.
pub(super) fn heading_shaped(text: &str) -> bool {
    let words = word_count(text);
    (1..=10).contains(&words)
        && !credit_label(text)
        && !text
            .chars()
            .any(|c| c.is_ascii_digit() || matches!(c, '$' | '€' | '£'))
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c == '"' || c == '“' || c == '«' || c == '„')
        && !crate::ingest::lines::ends_sentence(text)
}
