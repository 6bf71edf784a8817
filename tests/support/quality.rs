//! The scrape-quality score: a Rust port of the scoring rules of the
//! shared quality scorer (its README's "Scoring details"), so the figure
//! can be measured and guarded by `cargo test` with nothing outside the
//! repository.
//!
//! A case is `NNN.txt` (a raw scrape) beside `NNN.expected.json` (what a
//! careful reader finds in it). The tool under test is what
//! `topicfeed normalize FILE --format json` prints: [`Tool::run`] makes the
//! same library calls as the CLI and scores the same JSON object, read
//! field by field with the reference scorer's fallbacks (`site`/`source`,
//! `authors`/`byline`, an empty `topics` falling back to `tags`, …), so the
//! two agree case by case rather than only on average.
//!
//! Used by `tests/quality.rs` (the floor and the scorer's own unit tests)
//! and by `examples/quality_score.rs`, which includes this file with
//! `#[path]` to print the report for any cases directory.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use similar::{DiffOp, TextDiff};
use topicfeed::classify::Classifier;
use topicfeed::ingest::{self, Input};
use topicfeed::model::ArticleJson;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

/// The similarity a paragraph needs to count as found.
pub const PARA_RATIO: f64 = 0.9;

/// What the scorer checks, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Title,
    TitleCi,
    Site,
    Byline,
    Date,
    Language,
    FirstPara,
    LastPara,
    ParaCount,
    JunkFree,
    MustContain,
    Topics,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::Title,
        Field::TitleCi,
        Field::Site,
        Field::Byline,
        Field::Date,
        Field::Language,
        Field::FirstPara,
        Field::LastPara,
        Field::ParaCount,
        Field::JunkFree,
        Field::MustContain,
        Field::Topics,
    ];

    /// The name in the per-field accuracy and the summary line.
    pub fn label(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::TitleCi => "title-ci",
            Field::Site => "site",
            Field::Byline => "byline",
            Field::Date => "date",
            Field::Language => "language",
            Field::FirstPara => "first-para",
            Field::LastPara => "last-para",
            Field::ParaCount => "para-count",
            Field::JunkFree => "junk-free",
            Field::MustContain => "must-contain",
            Field::Topics => "topics",
        }
    }

    /// The column heading in the per-case table.
    pub fn short(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::TitleCi => "ci",
            Field::Site => "site",
            Field::Byline => "byl",
            Field::Date => "date",
            Field::Language => "lang",
            Field::FirstPara => "first",
            Field::LastPara => "last",
            Field::ParaCount => "count",
            Field::JunkFree => "junk",
            Field::MustContain => "keep",
            Field::Topics => "topic",
        }
    }

    /// The weight in a case's score; `None` for the reported-only
    /// case-insensitive title.
    pub fn weight(self) -> Option<f64> {
        match self {
            Field::Title => Some(2.0),
            Field::TitleCi => None,
            Field::Site | Field::Byline | Field::Date | Field::Language | Field::Topics => {
                Some(0.5)
            }
            Field::FirstPara | Field::LastPara | Field::ParaCount => Some(1.0),
            Field::JunkFree => Some(2.0),
            Field::MustContain => Some(1.5),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Pass or fail per field for one case.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Passes([bool; 12]);

impl Passes {
    pub fn get(&self, f: Field) -> bool {
        self.0[f.index()]
    }

    fn set(&mut self, f: Field, pass: bool) {
        self.0[f.index()] = pass;
    }

    /// The case's score: the weighted mean of its fields.
    pub fn score(&self) -> f64 {
        let (mut got, mut total) = (0.0, 0.0);
        for f in Field::ALL {
            if let Some(w) = f.weight() {
                total += w;
                if self.get(f) {
                    got += w;
                }
            }
        }
        got / total
    }
}

/// An `NNN.expected.json`. Fields the scorer does not read (`encoding`,
/// `notes`, …) are ignored.
#[derive(Clone, Debug, Deserialize)]
pub struct Expected {
    pub title: String,
    pub site: Option<String>,
    pub byline: Option<String>,
    pub published: Option<String>,
    pub language: Option<String>,
    pub first_paragraph: String,
    pub last_paragraph: String,
    pub paragraph_count: i64,
    pub must_not_contain: Vec<String>,
    pub must_contain: Vec<String>,
    pub topics: Vec<String>,
    #[serde(default)]
    pub standfirst: Option<String>,
    #[serde(default)]
    pub subheadings: Option<Vec<String>>,
}

/// One case: its id (`NNN`), scrape and expectation.
pub struct Case {
    pub id: String,
    pub path: PathBuf,
    pub expected: Expected,
}

/// The cases in `dir`, sorted by id: every `ID.expected.json` with an
/// `ID.txt` beside it. Panics on an unreadable or malformed expected file,
/// which is a broken fixture rather than a low score.
pub fn load_cases(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".expected.json"))
        else {
            continue;
        };
        let txt = dir.join(format!("{id}.txt"));
        if !txt.exists() {
            continue;
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected: Expected =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        cases.push(Case {
            id: id.to_string(),
            path: txt,
            expected,
        });
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases
}

// ---------------------------------------------------------------------------
// Text normalization

/// Python's `str.isspace` (and so `\s` and `strip()` in the reference):
/// Unicode White_Space plus the four information separators U+001C–U+001F.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `\w` on text: `isalnum()` or `_`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Python's `str.strip()`.
fn py_strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

fn straight_quote(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{2032}' | '\u{02bc}'
        | '\u{00b4}' | '`' | '\u{2039}' | '\u{203a}' => '\'',
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' | '\u{2033}' | '\u{00ab}'
        | '\u{00bb}' => '"',
        c => c,
    }
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
    )
}

/// NFKC, curly quotes and guillemets made straight, soft hyphens and
/// zero-width characters removed, whitespace runs collapsed to one space
/// and the ends trimmed: the form every text comparison uses.
pub fn norm_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfkc() {
        if is_invisible(c) {
            continue;
        }
        let c = straight_quote(c);
        if is_space(c) {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

/// Python's `str.casefold()`, near enough: lowercase, then the full
/// foldings that differ from lowercasing and survive NFKC (`ß`, final
/// sigma). The other differences are compatibility characters (`ſ`, `ﬀ`,
/// `µ`, …) that NFKC has already rewritten in every caller.
pub fn casefold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.to_lowercase().chars() {
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'ς' => out.push('σ'),
            c => out.push(c),
        }
    }
    out
}

/// NFKD without the combining marks: "Renée" → "Renee".
pub fn strip_accents(s: &str) -> String {
    s.nfkd()
        .filter(|&c| canonical_combining_class(c) == 0)
        .collect()
}

/// The blank-line-separated blocks of `content_text` (a line of spaces,
/// tabs, no-break or ideographic spaces is blank), trimmed, empty ones
/// dropped.
pub fn split_paragraphs(content: &str) -> Vec<String> {
    static BLANK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new("\n[ \t\u{a0}\u{3000}]*\n").expect("regex"));
    let content = content.replace("\r\n", "\n").replace('\r', "\n");
    BLANK
        .split(&content)
        .map(py_strip)
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .collect()
}

/// The similarity of two texts in [0, 1]: twice the matching characters
/// over the total length. Below [`PARA_RATIO`] on the length or
/// character-count bounds (which no diff can beat) it is 0, as in the
/// reference, which skips the diff there too.
///
/// The reference uses difflib's `SequenceMatcher` (greedy longest
/// matching blocks); `similar`'s character diff finds a (near-)minimal
/// edit script instead, so on texts that differ a lot it can find a few
/// more matches. At the 0.9 threshold the two agree on near-copies, which
/// is what the check is about. The matches are summed here rather than
/// taken from `TextDiff::ratio` because that is an `f32`, and the
/// threshold is compared in `f64` like the reference.
pub fn ratio(a: &str, b: &str) -> f64 {
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la + lb == 0 {
        return 1.0;
    }
    let bound = |m: usize| 2.0 * m as f64 / (la + lb) as f64;
    if bound(la.min(lb)) < PARA_RATIO {
        return 0.0;
    }
    let mut counts: HashMap<char, isize> = HashMap::new();
    for c in b.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let mut common = 0;
    for c in a.chars() {
        let n = counts.entry(c).or_default();
        if *n > 0 {
            common += 1;
        }
        *n -= 1;
    }
    if bound(common) < PARA_RATIO {
        return 0.0;
    }
    let diff = TextDiff::from_chars(a, b);
    let matches: usize = diff
        .ops()
        .iter()
        .map(|op| match *op {
            DiffOp::Equal { len, .. } => len,
            _ => 0,
        })
        .sum();
    bound(matches)
}

/// The index and ratio of the block most like `expected` (`None`, 0 if no
/// block passes the bounds); the first of equals wins.
pub fn best_para_match(expected: &str, blocks: &[String]) -> (Option<usize>, f64) {
    let e = norm_text(expected);
    let mut best = (None, 0.0);
    for (i, b) in blocks.iter().enumerate() {
        let r = ratio(&e, &norm_text(b));
        if r > best.1 {
            best = (Some(i), r);
            if r == 1.0 {
                break;
            }
        }
    }
    best
}

// ---------------------------------------------------------------------------
// Reading the tool's JSON the way the reference does

/// A JSON value the reference treats as absent: null, "", [] or {}.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The first of `keys` present and not empty: an empty `topics` falls
/// back to `tags`.
fn first<'a>(out: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| out.get(k))
        .find(|v| !is_empty(v))
}

/// A value as one trimmed string: objects by their name, lists joined
/// with `joiner`; `None` when nothing is left.
fn as_str(v: Option<&Value>, joiner: &str) -> Option<String> {
    let s = match v? {
        Value::Null => return None,
        Value::Object(_) => {
            return as_str(first(v?, &["name", "title", "display_name", "value"]), ", ");
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(|x| as_str(Some(x), ", ")).collect();
            return (!parts.is_empty()).then(|| parts.join(joiner));
        }
        Value::String(s) => s.clone(),
        // Python's str() of a bool.
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Number(n) => n.to_string(),
    };
    let s = py_strip(&s);
    (!s.is_empty()).then(|| s.to_string())
}

/// The article text: `content_text` or a fallback, a list of paragraphs
/// joined by blank lines.
fn content_of(out: &Value) -> String {
    match first(
        out,
        &["content_text", "text", "content", "body", "article_text"],
    ) {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter(|x| !matches!(x, Value::Null | Value::Bool(false)) && !is_empty(x))
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n\n"),
        Some(other) => other.to_string(),
    }
}

/// The object itself, or the one nested under `article`, `result`, `data`
/// or `document` when it has no title of its own.
pub fn unwrap_output(out: Value) -> Value {
    if out.get("title").is_none() {
        for wrap in ["article", "result", "data", "document"] {
            if let Some(inner) = out.get(wrap).filter(|v| v.is_object()) {
                return inner.clone();
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Field rules

/// The comparable form of a publication name: case, accents, spaces,
/// punctuation, a scheme, "www.", a domain suffix and a leading "The"
/// ignored.
pub fn site_key(s: &str) -> String {
    static PREFIX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(https?://)?(www\.)?").expect("regex"));
    static SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\.(com|org|net|co\.uk|co|news|example|fr|de|es|eu)(/.*)?$").expect("regex")
    });
    static THE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^the\s+").expect("regex"));
    let s = casefold(&strip_accents(&norm_text(s)));
    let s = PREFIX.replace(&s, "");
    let s = SUFFIX.replace(&s, "");
    let s = THE.replace(&s, "");
    s.chars().filter(|&c| is_word(c) && c != '_').collect()
}

/// The site rule; a null expected site wants none.
pub fn match_site(expected: Option<&str>, predicted: Option<&Value>) -> bool {
    let pred = as_str(predicted, ", ");
    match expected {
        None => pred.is_none(),
        Some(e) => pred.is_some_and(|p| site_key(e) == site_key(&p)),
    }
}

/// Words a byline may carry beside the names: conjunctions, prepositions
/// before a place, and roles.
const ROLE_WORDS: &str = "and by und et y in at for the of to with \
    staff writer reporter correspondent senior editor contributor columnist chief bureau \
    associate special contributing news desk health science political politics business \
    tech technology sports sport culture arts economics foreign national local \
    photographer analyst words photos author";

fn is_role_word(t: &str) -> bool {
    ROLE_WORDS.split_whitespace().any(|r| r == t)
}

/// The words of a byline, casefolded without accents, a leading
/// "By"/"Von"/"Par"/"Por"/"Words by"/"Written by" dropped.
fn person_tokens(s: &str) -> Vec<String> {
    static BY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(words\s+by|written\s+by|by|von|par|por)\b[:\s]*").expect("regex")
    });
    let s = casefold(&strip_accents(&norm_text(s)));
    let s = BY.replace(&s, "");
    s.split(|c: char| !(is_word(c) || c == '\''))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// The byline rule: every expected name appears as whole words, and at
/// most one other word that is not a role word ("Staff Writer", "in
/// Cologne" or a handle pass; a second person does not). A null expected
/// byline wants none.
pub fn match_byline(expected: Option<&str>, predicted: Option<&Value>) -> bool {
    static NAME_SPLIT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\|)\s*").expect("regex")
    });
    let pred = as_str(predicted, " and ");
    let Some(exp) = expected else {
        return pred.is_none();
    };
    let Some(pred) = pred else {
        return false;
    };
    let ptoks = person_tokens(&pred);
    let pjoined = format!(" {} ", ptoks.join(" "));
    let mut used = BTreeSet::new();
    for name in NAME_SPLIT.split(exp).filter(|n| !py_strip(n).is_empty()) {
        let ntoks = person_tokens(name);
        if !pjoined.contains(&format!(" {} ", ntoks.join(" "))) {
            return false;
        }
        used.extend(ntoks);
    }
    ptoks
        .iter()
        .filter(|t| !used.contains(*t) && !is_role_word(t))
        .count()
        <= 1
}

/// A parsed date: its wall-clock time, its UTC offset when it names one,
/// and whether it gave a time at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    pub wall: NaiveDateTime,
    pub offset: Option<FixedOffset>,
    pub has_time: bool,
}

impl When {
    fn utc(&self) -> NaiveDateTime {
        match self.offset {
            Some(o) => self.wall - Duration::seconds(i64::from(o.local_minus_utc())),
            None => self.wall,
        }
    }
}

/// ISO 8601 as Python's `datetime.fromisoformat` reads it: a date
/// (`YYYY-MM-DD` or `YYYYMMDD`), then optionally any one separator
/// character and a time (`HH`, `HH:MM`, `HH:MM:SS`, fractions, basic forms
/// too), then optionally an offset.
fn parse_iso(s: &str) -> Option<When> {
    static ISO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^([0-9]{4})-?([0-9]{2})-?([0-9]{2})(?:.([0-9]{2})(?::?([0-9]{2})(?::?([0-9]{2})(?:[.,]([0-9]+))?)?)?([+-][0-9]{2}(?::?[0-9]{2}(?::?[0-9]{2})?)?)?)?$",
        )
        .expect("regex")
    });
    let c = ISO.captures(s)?;
    let num = |i: usize| -> Option<u32> { c.get(i).map_or(Some(0), |m| m.as_str().parse().ok()) };
    let date = NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?)?;
    let micros = c.get(7).map_or(0, |m| {
        let digits: String = m.as_str().chars().chain("000000".chars()).take(6).collect();
        digits.parse().unwrap_or(0)
    });
    let wall = date.and_hms_micro_opt(num(4)?, num(5)?, num(6)?, micros)?;
    let offset = match c.get(8) {
        None => None,
        Some(m) => {
            let z = m.as_str();
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
            let part =
                |i: usize| -> i32 { digits.get(i..i + 2).map_or(0, |d| d.parse().unwrap_or(0)) };
            Some(FixedOffset::east_opt(
                sign * (part(0) * 3600 + part(2) * 60 + part(4)),
            )?)
        }
    };
    Some(When {
        wall,
        offset,
        has_time: true,
    })
}

/// A date as the reference reads it: a Unix time (seconds, or
/// milliseconds when large), a bare `YYYY-MM-DD` (no time), ISO 8601,
/// RFC 2822, or a few written-out forms. Naive times stay naive.
pub fn parse_when(v: &Value) -> Option<When> {
    static DATE_ONLY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").expect("regex"));
    static OFFSET: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"([+-][0-9]{2})([0-9]{2})$").expect("regex"));
    if let Value::Number(n) = v {
        let x = n.as_f64()?;
        let secs = if x > 1e11 { x / 1000.0 } else { x };
        let t = DateTime::<Utc>::from_timestamp_micros((secs * 1e6).round() as i64)?;
        return Some(When {
            wall: t.naive_utc(),
            offset: Some(FixedOffset::east_opt(0)?),
            has_time: true,
        });
    }
    let s = as_str(Some(v), ", ")?;
    if DATE_ONLY.is_match(&s) {
        // The reference stops here either way: an impossible day is no date.
        let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()?;
        return Some(When {
            wall: d.and_hms_opt(0, 0, 0)?,
            offset: None,
            has_time: false,
        });
    }
    let iso = s.replace(['Z', 'z'], "+00:00");
    let iso = OFFSET.replace(&iso, "$1:$2");
    if let Some(w) = parse_iso(&iso) {
        return Some(w);
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(&s) {
        // "-0000" means "zone unknown" in RFC 2822: Python reads it naive.
        let naive = s.trim_end().ends_with("-0000");
        return Some(When {
            wall: t.naive_local(),
            offset: (!naive).then(|| *t.offset()),
            has_time: true,
        });
    }
    const TIMED: &[&str] = &[
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%B %d, %Y %I:%M %p",
        "%b %d, %Y %I:%M %p",
        "%d %B %Y %H:%M",
    ];
    const DATES: &[&str] = &["%Y/%m/%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y"];
    for fmt in TIMED {
        if let Ok(wall) = NaiveDateTime::parse_from_str(&s, fmt) {
            return Some(When {
                wall,
                offset: None,
                has_time: true,
            });
        }
    }
    for fmt in DATES {
        if let Ok(d) = NaiveDate::parse_from_str(&s, fmt) {
            return Some(When {
                wall: d.and_hms_opt(0, 0, 0)?,
                offset: None,
                has_time: false,
            });
        }
    }
    None
}

/// The date rule. With an expected time: the same instant within 60 s; a
/// naive expected time (the page named no zone) is compared by wall clock,
/// and a prediction that dropped the expected zone may match its wall
/// clock or UTC. With an expected day only: the same calendar day. A
/// prediction without a time fails a timed value; a null expected date
/// wants none.
pub fn match_date(expected: Option<&str>, predicted: Option<&Value>) -> bool {
    let Some(exp) = expected else {
        // A number stays a number in the reference (and is never "none").
        return match predicted {
            None => true,
            Some(Value::Number(_) | Value::Bool(_)) => false,
            Some(v) => as_str(Some(v), ", ").is_none(),
        };
    };
    let (Some(e), Some(p)) = (
        parse_when(&Value::String(exp.to_string())),
        predicted.and_then(parse_when),
    ) else {
        return false;
    };
    if !e.has_time {
        return p.wall.date() == e.wall.date();
    }
    if !p.has_time {
        return false;
    }
    let near = |a: NaiveDateTime, b: NaiveDateTime| (a - b).abs() <= Duration::seconds(60);
    match (e.offset, p.offset) {
        (Some(_), Some(_)) => near(p.utc(), e.utc()),
        (Some(_), None) => near(p.wall, e.wall) || near(p.wall, e.utc()),
        (None, _) => near(p.wall, e.wall),
    }
}

/// The primary language subtag, with a few language names and ISO 639-2
/// codes mapped: "fr-FR" and "French" are both `fr`.
pub fn lang_key(v: Option<&Value>) -> Option<String> {
    let s = as_str(v, ", ")?;
    let s = casefold(&strip_accents(&s));
    let s = py_strip(&s);
    let primary = s
        .split(|c: char| c == '-' || c == '_' || is_space(c))
        .next()
        .unwrap_or("");
    let mapped = match primary {
        "english" | "eng" => "en",
        "french" | "francais" | "fra" | "fre" => "fr",
        "german" | "deutsch" | "deu" | "ger" => "de",
        "spanish" | "espanol" | "castellano" | "spa" => "es",
        other => other,
    };
    Some(mapped.to_string())
}

/// The language rule: the prediction's primary subtag equals the expected
/// code (a null expected language wants none).
pub fn match_language(expected: Option<&str>, predicted: Option<&Value>) -> bool {
    lang_key(predicted).as_deref() == expected
}

fn topic_synonym(t: &str) -> Option<&'static str> {
    Some(match t {
        "middle east" | "mideast" | "middle_east" | "middleeast" => "middle-east",
        "u.s." | "u.s" | "usa" | "united states" | "us news" | "america" | "u.s. news" => "us",
        "tech" | "science & technology" => "technology",
        "economy" | "markets" | "finance" | "economics" | "money" => "business",
        "sport" => "sports",
        "environment" | "climate change" | "weather" => "climate",
        "arts" | "art" | "entertainment" | "film" | "music" | "books" | "arts & culture" => {
            "culture"
        }
        "international" | "world news" | "global" => "world",
        "medicine" => "health",
        "eu" | "european union" => "europe",
        "government" | "elections" | "policy" => "politics",
        _ => return None,
    })
}

/// Predicted topics as expected-set keys: casefolded, spaces made
/// hyphens, common synonyms ("Middle East", "tech", "economy", …) mapped.
/// A string is split on `,`, `;` and `|`; an object gives its keys.
pub fn topic_keys(v: Option<&Value>) -> BTreeSet<String> {
    static SEP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\s_]+").expect("regex"));
    let items: Vec<String> = match v {
        None | Some(Value::Null) => return BTreeSet::new(),
        Some(Value::String(s)) => s.split([',', ';', '|']).map(str::to_string).collect(),
        Some(Value::Object(o)) => o.keys().cloned().collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| as_str(Some(x), ", ").unwrap_or_default())
            .collect(),
        Some(other) => vec![as_str(Some(other), ", ").unwrap_or_default()],
    };
    let mut out = BTreeSet::new();
    for item in items {
        let t = casefold(&norm_text(&item));
        let t = py_strip(&t);
        if t.is_empty() {
            continue;
        }
        let t = topic_synonym(t).unwrap_or(t);
        let t = SEP.replace_all(t, "-").into_owned();
        out.insert(topic_synonym(&t).map_or(t, str::to_string));
    }
    out
}

// ---------------------------------------------------------------------------
// Scoring a case

/// Why a case scored as it did, for the report.
#[derive(Clone, Debug, Default)]
pub struct Details {
    pub pred_title: String,
    pub pred_site: Option<String>,
    pub pred_byline: Option<String>,
    pub pred_published: Option<String>,
    pub pred_language: Option<String>,
    pub first_para_ratio: f64,
    pub last_para_ratio: f64,
    pub first_is_first: bool,
    pub last_is_last: bool,
    pub para_count: usize,
    pub junk_found: Vec<String>,
    pub missing: Vec<String>,
    pub topics_jaccard: f64,
    pub pred_topics: Vec<String>,
}

/// Scores one output object against its expectation.
pub fn score_case(exp: &Expected, out: &Value) -> (Passes, Details) {
    let mut res = Passes::default();
    let mut det = Details::default();
    let title = as_str(out.get("title"), ", ").unwrap_or_default();
    let content = content_of(out);

    let (et, pt) = (norm_text(&exp.title), norm_text(&title));
    res.set(Field::Title, pt == et);
    res.set(Field::TitleCi, casefold(&pt) == casefold(&et));
    det.pred_title = title.clone();

    let site = first(
        out,
        &["site", "source", "site_name", "source_name", "publisher"],
    );
    res.set(Field::Site, match_site(exp.site.as_deref(), site));
    det.pred_site = as_str(site, ", ");

    let byline = first(out, &["author", "byline", "authors", "author_name"]);
    res.set(Field::Byline, match_byline(exp.byline.as_deref(), byline));
    det.pred_byline = as_str(byline, ", ");

    let published = first(
        out,
        &[
            "published",
            "published_at",
            "date",
            "pubdate",
            "date_published",
            "publish_date",
        ],
    );
    res.set(Field::Date, match_date(exp.published.as_deref(), published));
    det.pred_published = as_str(published, ", ");

    let lang = first(out, &["language", "lang"]);
    res.set(
        Field::Language,
        match_language(exp.language.as_deref(), lang),
    );
    det.pred_language = as_str(lang, ", ");

    let blocks = split_paragraphs(&content);
    let (fi, fr) = best_para_match(&exp.first_paragraph, &blocks);
    let (li, lr) = best_para_match(&exp.last_paragraph, &blocks);
    res.set(Field::FirstPara, fr >= PARA_RATIO);
    res.set(Field::LastPara, lr >= PARA_RATIO);
    det.first_para_ratio = fr;
    det.last_para_ratio = lr;
    det.first_is_first = fi == Some(0) && fr >= PARA_RATIO;
    det.last_is_last = !blocks.is_empty() && li == Some(blocks.len() - 1) && lr >= PARA_RATIO;

    // Subheadings and the standfirst are not body paragraphs (a Markdown
    // heading's `#`s are not part of its text).
    static HASHES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^#+\s*").expect("regex"));
    let mut skip: Vec<String> = exp
        .subheadings
        .iter()
        .flatten()
        .map(|s| norm_text(s))
        .collect();
    if let Some(s) = exp.standfirst.as_deref().filter(|s| !s.is_empty()) {
        skip.push(norm_text(s));
    }
    let n = blocks
        .iter()
        .filter(|b| {
            let nb = norm_text(&HASHES.replace(b, ""));
            !skip.iter().any(|s| ratio(&nb, s) >= PARA_RATIO)
        })
        .count();
    res.set(
        Field::ParaCount,
        (n as i64 - exp.paragraph_count).abs() <= 1,
    );
    det.para_count = n;

    let hay = casefold(&norm_text(&format!("{title}\n{content}")));
    det.junk_found = exp
        .must_not_contain
        .iter()
        .filter(|j| hay.contains(&casefold(&norm_text(j))))
        .cloned()
        .collect();
    res.set(Field::JunkFree, det.junk_found.is_empty());

    let body = norm_text(&content);
    det.missing = exp
        .must_contain
        .iter()
        .filter(|k| !body.contains(&norm_text(k)))
        .cloned()
        .collect();
    res.set(Field::MustContain, det.missing.is_empty());

    let tk = topic_keys(first(out, &["topics", "tags", "categories", "keywords"]));
    let ek: BTreeSet<String> = exp.topics.iter().cloned().collect();
    let inter = tk.intersection(&ek).count();
    let union = tk.union(&ek).count();
    res.set(Field::Topics, inter > 0);
    det.topics_jaccard = if union > 0 {
        inter as f64 / union as f64
    } else {
        0.0
    };
    det.pred_topics = tk.into_iter().collect();
    (res, det)
}

// ---------------------------------------------------------------------------
// Running the tool

/// `topicfeed normalize FILE --format json` as library calls: normalize the
/// file (its extension is the format hint), fill topics and tags when
/// `feeds/` is there, and serialize the same `ArticleJson` the CLI prints.
pub struct Tool {
    classifier: Option<Classifier>,
}

impl Tool {
    /// The tool with the topics in `feeds` (none if it is not a directory,
    /// as in the CLI). Panics on an invalid topic directory, where the
    /// CLI would fail every file.
    pub fn load(feeds: &Path) -> Tool {
        let classifier = feeds.is_dir().then(|| {
            Classifier::load(feeds).unwrap_or_else(|e| panic!("{}: {e:?}", feeds.display()))
        });
        Tool { classifier }
    }

    /// The JSON object for one file, or why there is none.
    pub fn run(&self, path: &Path) -> Result<Value, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
        let mut article =
            ingest::normalize(Input::file(&bytes, path)).map_err(|e| e.to_string())?;
        if let Some(c) = &self.classifier {
            c.apply(&mut article);
        }
        serde_json::to_value(ArticleJson::from(&article)).map_err(|e| e.to_string())
    }
}

/// One scored case; a run without output fails every field.
pub struct Row {
    pub id: String,
    pub passes: Passes,
    pub details: Option<Details>,
    pub error: Option<String>,
}

/// Runs and scores every case on `jobs` threads, in case order.
pub fn evaluate(tool: &Tool, cases: &[Case], jobs: usize) -> Vec<Row> {
    let next = AtomicUsize::new(0);
    let mut rows: Vec<(usize, Row)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..jobs.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(case) = cases.get(i) else {
                            return done;
                        };
                        let row = match tool.run(&case.path) {
                            Ok(out) => {
                                let (passes, details) =
                                    score_case(&case.expected, &unwrap_output(out));
                                Row {
                                    id: case.id.clone(),
                                    passes,
                                    details: Some(details),
                                    error: None,
                                }
                            }
                            Err(e) => Row {
                                id: case.id.clone(),
                                passes: Passes::default(),
                                details: None,
                                error: Some(e),
                            },
                        };
                        done.push((i, row));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("scoring thread"))
            .collect()
    });
    rows.sort_by_key(|(i, _)| *i);
    rows.into_iter().map(|(_, r)| r).collect()
}

// ---------------------------------------------------------------------------
// The report

/// The figures a report ends with.
pub struct Summary {
    /// The mean case score.
    pub total: f64,
    /// The share of cases passing each field, in [`Field::ALL`] order.
    pub accuracy: Vec<(Field, f64)>,
}

impl Summary {
    pub fn accuracy(&self, f: Field) -> f64 {
        self.accuracy
            .iter()
            .find(|(g, _)| *g == f)
            .map_or(0.0, |(_, a)| *a)
    }
}

fn why(f: Field, d: &Details) -> String {
    match f {
        Field::Title | Field::TitleCi => format!("got {:?}", d.pred_title),
        Field::Site => format!("got {:?}", d.pred_site),
        Field::Byline => format!("got {:?}", d.pred_byline),
        Field::Date => format!("got {:?}", d.pred_published),
        Field::Language => format!("got {:?}", d.pred_language),
        Field::FirstPara => format!("best ratio {:.3}", d.first_para_ratio),
        Field::LastPara => format!("best ratio {:.3}", d.last_para_ratio),
        Field::ParaCount => format!("counted {}", d.para_count),
        Field::JunkFree => format!("found {:?}", d.junk_found),
        Field::MustContain => format!("missing {:?}", d.missing),
        Field::Topics => format!("got {:?}", d.pred_topics),
    }
}

/// The reference's report, line for line: the per-case table (`Y` =
/// pass), the per-field accuracy, the informational figures and the
/// `normalize score:` line. `verbose` explains each miss.
pub fn report(rows: &[Row], verbose: bool) -> (String, Summary) {
    use std::fmt::Write;
    let mut w = String::new();
    let mut header = vec!["case"];
    header.extend(Field::ALL.map(Field::short));
    header.extend(["score", "note"]);
    let widths: Vec<usize> = header.iter().map(|h| h.len().max(4)).collect();
    // Cells are padded to their column; the trailing blanks this leaves
    // after a short note are trimmed, as the reference trims its lines.
    let line = |cells: &[String]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, &width)| format!("{c:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let heading: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let _ = writeln!(w, "{}", line(&heading));
    for row in rows {
        let mut cells = vec![row.id.clone()];
        cells.extend(Field::ALL.map(|f| if row.passes.get(f) { "Y" } else { "." }.to_string()));
        cells.push(format!("{:.2}", row.passes.score()));
        let mut notes: Vec<String> = row.error.iter().cloned().collect();
        if let Some(d) = &row.details {
            if !d.junk_found.is_empty() {
                let joined = d.junk_found.join("|");
                notes.push(format!(
                    "junk:{}",
                    joined.chars().take(40).collect::<String>()
                ));
            }
            if !d.missing.is_empty() {
                notes.push(format!("missing:{}", d.missing.len()));
            }
            if !row.passes.get(Field::ParaCount) {
                notes.push(format!("paras:{}", d.para_count));
            }
        }
        cells.push(notes.join("; "));
        let _ = writeln!(w, "{}", line(&cells));
        if verbose && let Some(d) = &row.details {
            for f in Field::ALL {
                if !row.passes.get(f) {
                    let _ = writeln!(w, "      {:<12} {}", format!("{}:", f.label()), why(f, d));
                }
            }
        }
    }
    let n = rows.len().max(1) as f64;
    let accuracy: Vec<(Field, f64)> = Field::ALL
        .iter()
        .map(|&f| {
            (
                f,
                rows.iter().filter(|r| r.passes.get(f)).count() as f64 / n,
            )
        })
        .collect();
    let total = rows.iter().map(|r| r.passes.score()).sum::<f64>() / n;
    let _ = writeln!(w, "\nper-field accuracy over {} cases:", rows.len());
    for &(f, a) in &accuracy {
        let weight = f
            .weight()
            .map_or("(reported only)".to_string(), |x| format!("weight {x:.1}"));
        let _ = writeln!(w, "  {:<13} {a:.3}   {weight}", f.label());
    }
    let share = |p: &dyn Fn(&Details) -> bool| {
        rows.iter()
            .filter(|r| r.details.as_ref().is_some_and(p))
            .count() as f64
            / n
    };
    let jaccard = rows
        .iter()
        .filter_map(|r| r.details.as_ref())
        .map(|d| d.topics_jaccard)
        .sum::<f64>()
        / n;
    let _ = writeln!(
        w,
        "  (info) lede is first block {:.3}, last paragraph is last block {:.3}, \
         topics jaccard {jaccard:.3}, failed runs {}",
        share(&|d| d.first_is_first),
        share(&|d| d.last_is_last),
        rows.iter().filter(|r| r.details.is_none()).count()
    );
    let parts: Vec<String> = accuracy
        .iter()
        .map(|(f, a)| format!("{} {a:.2}", f.label()))
        .collect();
    let _ = writeln!(w, "\nnormalize score: {total:.2} ({})", parts.join(", "));
    (w, Summary { total, accuracy })
}
