//! Stated dates → UTC timestamps.
//!
//! Machine formats (RFC 3339, RFC 2822, ISO 8601 without a zone) go to
//! `chrono`'s parsers. Human dates as scrapes state them ("May 17, 2017 at
//! 3:04 pm", "3 mars 2019 à 10h30", "4. März 2019, 08:15 Uhr", "5 de marzo
//! de 2019") are taken apart into day, month name (from the boilerplate
//! table, any language), year and time, then built with `chrono`. A time
//! without a zone is taken as UTC; a date without a time is midnight UTC.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use regex::Regex;

use super::boilerplate::Boilerplate;

/// Zone abbreviations scrapes and feeds use, with their offsets in
/// minutes. Names that are ambiguous between regions (AST: Atlantic,
/// Arabia; BDT) are left out: a wrong offset is worse than none. IST is
/// India's: Irish summer time is written "IST" far more rarely than
/// Indian dailies print it on every story, and read as UTC it would be
/// wrong by five and a half hours.
const ZONES: &[(&str, i32)] = &[
    ("utc", 0),
    ("ist", 330),
    ("ut", 0),
    ("gmt", 0),
    ("z", 0),
    ("wet", 0),
    ("west", 60),
    ("bst", 60),
    ("cet", 60),
    ("cest", 120),
    ("mez", 60),
    ("mesz", 120),
    ("eet", 120),
    ("eest", 180),
    ("msk", 180),
    ("wat", 60),
    ("cat", 120),
    ("eat", 180),
    ("sast", 120),
    ("est", -300),
    ("edt", -240),
    ("cst", -360),
    ("cdt", -300),
    ("mst", -420),
    ("mdt", -360),
    ("pst", -480),
    ("pdt", -420),
    ("akst", -540),
    ("akdt", -480),
    ("hst", -600),
    ("adt", -180),
    ("nst", -210),
    ("ndt", -150),
    ("hne", -300),
    ("hae", -240),
    ("brt", -180),
    ("brasília", -180),
    ("brasilia", -180),
    ("art", -180),
    ("clt", -240),
    ("clst", -180),
    ("cot", -300),
    ("pet", -300),
    ("vet", -240),
    ("bot", -240),
    ("pyt", -240),
    ("uyt", -180),
    ("pkt", 300),
    ("npt", 345),
    ("ict", 420),
    ("wib", 420),
    ("pht", 480),
    ("sgt", 480),
    ("hkt", 480),
    ("myt", 480),
    ("awst", 480),
    ("jst", 540),
    ("kst", 540),
    ("acst", 570),
    ("acdt", 630),
    ("aest", 600),
    ("aedt", 660),
    ("nzst", 720),
    ("nzdt", 780),
];

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(\d{1,2})\s*(?::|h|\.)\s*(\d{2})(?::(\d{2}))?(?:\s*(a\.?\s?m\.?|p\.?\s?m\.?)(?:\s|$|[,)]))?|(?-u:\b)(\d{1,2})\s*(a\.?m\.?|p\.?m\.?)(?:\s|$|[,)])",
    )
    .unwrap_or_else(|e| panic!("TIME regex: {e}"))
});
static ZONE: LazyLock<Regex> = LazyLock::new(|| {
    // Offsets first: "GMT-5" is five hours behind, not GMT. Names match in
    // capitals only past the old four ("est", "art", "cat" are words).
    let names: Vec<String> = ZONES
        .iter()
        .map(|(name, _)| match *name {
            "utc" | "gmt" | "z" | "brasília" | "brasilia" => format!("(?i:{name})"),
            _ => name.to_uppercase(),
        })
        .collect();
    Regex::new(&format!(
        r"(?:(?i:utc|gmt)\s*([+-])(\d{{1,2}})(?::?(\d{{2}}))?|\s([+-])(\d{{2}}):?(\d{{2}})(?-u:\b)|(?-u:\b)({})(?-u:\b))",
        names.join("|")
    ))
    .unwrap_or_else(|e| panic!("ZONE regex: {e}"))
});
/// "4:35 PM ET": the generic US zones, in capitals right after a time
/// only, since "et" is French for "and".
static US_ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\d|[AaPp]\.?[Mm]\.?)\s*(ET|CT|MT|PT)(?-u:\b)")
        .unwrap_or_else(|e| panic!("US_ZONE regex: {e}"))
});
static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(\d{1,4})([./-])(\d{1,2})([./-])(\d{2,4})(?-u:\b)")
        .unwrap_or_else(|e| panic!("NUMERIC regex: {e}"))
});
static WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\d{1,4})(?:st|nd|rd|th|er|\.|º|°)?|([\p{L}]+\.?)")
        .unwrap_or_else(|e| panic!("WORD regex: {e}"))
});

/// Parses a stated date; `None` when the text holds no complete date.
pub fn parse_date(text: &str, rules: &Boilerplate) -> Option<DateTime<Utc>> {
    let text = text.trim().trim_end_matches(['.', ',', '|']).trim();
    if text.is_empty() || text.len() > 120 || !has_year(text) {
        return None;
    }
    machine_date(text).or_else(|| human_date(text, rules))
}

/// "3 hours ago", "Published 2 days ago", "il y a 5 heures": a date the
/// page states only relative to when it was read, which a stored article
/// cannot use. Still a date line: it marks where a byline stands.
pub fn is_relative_date(text: &str, rules: &Boilerplate) -> bool {
    static RELATIVE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^(?:(?:\d+|an?|one)\s+(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?)\s+ago|just now|yesterday|il y a \d+\s*(?:min|minutes?|h|heures?|jours?|semaines?)|vor \d+\s+(?:minuten|stunden|tagen|wochen)|hace \d+\s+(?:minutos|horas|días|semanas)|há \d+\s+(?:minutos|horas|dias)|\d+\s+(?:minuti|ore|giorni) fa)$",
        )
        .unwrap_or_else(|e| panic!("RELATIVE regex: {e}"))
    });
    // "First published 3 hours ago · Updated 47 minutes ago": each part.
    text.len() <= 90
        && text.split(['·', '|', '•']).all(|part| {
            let part = part.trim().trim_end_matches('.').trim();
            let rest = rules.date_line(part).map_or(part, |(_, rest)| rest.trim());
            RELATIVE.is_match(rest)
        })
}

/// English day names, full and short: a feed's weekday is redundant and
/// often wrong, so it is dropped before parsing rather than checked.
const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thur",
    "thurs",
    "fri",
    "sat",
    "sun",
];

/// "05 Mar 24 09:30": RFC 822's two-digit year, which the human parser
/// would take for a day.
static SHORT_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{1,2})[\s-]+(\p{L}{3,})\.?,?[\s-]+(\d{2})(\s+\d{1,2}[:.]|\s*$)")
        .unwrap_or_else(|e| panic!("SHORT_YEAR regex: {e}"))
});

/// A date from a feed field (RSS `pubDate`, Atom `updated`, JSON Feed
/// `date_published`). Feeds state machine dates, but loosely: a wrong or
/// full weekday, a two-digit year, one-digit days or hours, no seconds,
/// US zone names, ISO 8601 where RFC 822 is due. Scrapes keep using
/// [`parse_date`]; this only prepares the text for it.
pub fn parse_feed_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 120 {
        return None;
    }
    if let Some(t) = machine_date(text) {
        return Some(t);
    }
    let mut rest = text;
    if let Some((first, after)) = rest.split_once([',', ' '])
        && WEEKDAYS.contains(&first.trim_end_matches('.').to_lowercase().as_str())
    {
        rest = after.trim_start_matches([',', ' ']);
    }
    let expanded = SHORT_YEAR.captures(rest).map(|c| {
        let yy: u32 = c[3].parse().unwrap_or(0);
        // RFC 2822 §4.3: 00-49 is 20xx, 50-99 is 19xx.
        let century = if yy < 50 { 2000 } else { 1900 };
        let whole = c.get(0).map_or(0, |m| m.end());
        format!(
            "{} {} {}{}{}",
            &c[1],
            &c[2],
            century + yy,
            &c[4],
            &rest[whole..]
        )
    });
    let rest = expanded.as_deref().unwrap_or(rest);
    machine_date(rest)
        .or_else(|| machine_date(&iso_offset_with_colon(rest)))
        .or_else(|| parse_date(rest, Boilerplate::builtin()))
}

/// "2024-03-05T09:30:00+0100" → "…+01:00", the form RFC 3339 requires.
fn iso_offset_with_colon(text: &str) -> String {
    let b = text.as_bytes();
    let n = b.len();
    if n > 16
        && b[10] == b'T'
        && matches!(b[n - 5], b'+' | b'-')
        && b[n - 4..].iter().all(u8::is_ascii_digit)
    {
        format!("{}:{}", &text[..n - 2], &text[n - 2..])
    } else {
        text.to_owned()
    }
}

/// Every date this parser accepts has a four-digit year (or a two-digit
/// one in a numeric date); checking first keeps most lines away from the
/// regexes below.
pub fn has_year(text: &str) -> bool {
    let b = text.as_bytes();
    let mut run = 0;
    for (i, c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            if run == 4 {
                return true;
            }
        } else {
            if run == 2 && i >= 3 && matches!(b[i - 3], b'.' | b'/' | b'-') {
                return true;
            }
            run = 0;
        }
    }
    run == 2 && b.len() >= 3 && matches!(b[b.len() - 3], b'.' | b'/' | b'-')
}

fn machine_date(text: &str) -> Option<DateTime<Utc>> {
    // Every format but RFC 2822's opens with the year, which may be signed;
    // a date line in words is tried against them only once.
    if !text.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') {
        return DateTime::parse_from_rfc2822(text)
            .ok()
            .map(|t| t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(text) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, fmt) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%d %H:%M%z",
        "%Y-%m-%dT%H:%M%:z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
}

fn human_date(text: &str, rules: &Boilerplate) -> Option<DateTime<Utc>> {
    // A numeric date first ("17.05.2017" looks like a time too), then the
    // time, so its digits are not taken for a day or a year.
    let mut rest = text.to_owned();
    let numeric = NUMERIC.find(text).and_then(|m| {
        let d = numeric_date(m.as_str())?;
        rest.replace_range(m.range(), " ");
        Some(d)
    });
    let mut time = NaiveTime::from_hms_opt(0, 0, 0)?;
    if let Some(range) = TIME.find(&rest).map(|m| m.range()) {
        time = parse_time(&rest[range.clone()])?;
        rest.replace_range(range, " ");
    }
    let date = match numeric {
        Some(d) => d,
        None => named_date(&rest, rules)?,
    };
    let offset = us_zone_offset(text, date)
        .or_else(|| zone_offset(&rest))
        .unwrap_or(0);
    let local = date.and_time(time);
    let zone = FixedOffset::east_opt(offset)?;
    zone.from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// A time of day alone ("13:40", "ore 9:15", "3 pm"), for an update stated
/// without its date.
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let c = TIME.captures(text)?;
    let (h, m, s, ampm) = if c.get(5).is_some() {
        (num(c.get(5))?, 0, 0, c.get(6))
    } else {
        (
            num(c.get(1))?,
            num(c.get(2))?,
            num(c.get(3)).unwrap_or(0),
            c.get(4),
        )
    };
    let h = match ampm.map(|m| m.as_str().to_lowercase()) {
        Some(x) if x.starts_with('p') && h < 12 => h + 12,
        Some(x) if x.starts_with('a') && h == 12 => 0,
        _ => h,
    };
    NaiveTime::from_hms_opt(h, m, s)
}

fn num(m: Option<regex::Match<'_>>) -> Option<u32> {
    m?.as_str().parse().ok()
}

/// US zones named without standard or daylight time ("4:35 PM ET"), by
/// their standard offset in hours: the date decides which applies.
const US_GENERIC: &[(&str, i32)] = &[("et", -5), ("ct", -6), ("mt", -7), ("pt", -8)];

/// US daylight saving time: from the second Sunday in March to the first
/// Sunday in November (the rule since 2007).
fn us_daylight(date: NaiveDate) -> bool {
    let nth_sunday = |month: u32, n: u32| {
        NaiveDate::from_weekday_of_month_opt(date.year(), month, chrono::Weekday::Sun, n as u8)
    };
    match (nth_sunday(3, 2), nth_sunday(11, 1)) {
        (Some(start), Some(end)) => date >= start && date < end,
        _ => false,
    }
}

/// The offset in seconds of a generic US zone after a time in `text`,
/// on `date`.
fn us_zone_offset(text: &str, date: NaiveDate) -> Option<i32> {
    let abbr = US_ZONE.captures(text)?.get(1)?.as_str().to_lowercase();
    let (_, standard) = US_GENERIC.iter().find(|(name, _)| *name == abbr)?;
    Some((standard + i32::from(us_daylight(date))) * 3600)
}

/// The offset in seconds a zone in `text` names.
fn zone_offset(text: &str) -> Option<i32> {
    // "10:42 IST (GMT+1)": an offset stated in figures settles what a
    // name beside it means.
    let mut first = None;
    let mut stated = None;
    for c in ZONE.captures_iter(text) {
        if c.get(7).is_none() {
            stated = Some(c);
            break;
        }
        first.get_or_insert(c);
    }
    let c = stated.or(first)?;
    if let Some(abbr) = c.get(7) {
        let abbr = abbr.as_str().to_lowercase();
        return ZONES
            .iter()
            .find(|(name, _)| *name == abbr)
            .map(|(_, m)| m * 60);
    }
    let (sign, hours, minutes) = if c.get(1).is_some() {
        (c.get(1)?, c.get(2)?, c.get(3))
    } else {
        (c.get(4)?, c.get(5)?, c.get(6))
    };
    let sign = if sign.as_str() == "-" { -1 } else { 1 };
    let hours: i32 = hours.as_str().parse().ok()?;
    let minutes: i32 = minutes.map_or(Some(0), |m| m.as_str().parse().ok())?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// 17.05.2017, 2017-05-17, 05/17/2017 (US order only when the day can't be first).
fn numeric_date(text: &str) -> Option<NaiveDate> {
    let c = NUMERIC.captures(text)?;
    let a: i32 = c.get(1)?.as_str().parse().ok()?;
    let b: u32 = c.get(3)?.as_str().parse().ok()?;
    let y_raw = c.get(5)?.as_str();
    let last: i32 = y_raw.parse().ok()?;
    if c.get(1)?.as_str().len() == 4 {
        return NaiveDate::from_ymd_opt(a, b, u32::try_from(last).ok()?);
    }
    let year = if y_raw.len() == 2 { 2000 + last } else { last };
    let a = u32::try_from(a).ok()?;
    let slash = c.get(2)?.as_str() == "/";
    if slash && a <= 12 && b > 12 {
        NaiveDate::from_ymd_opt(year, a, b)
    } else {
        NaiveDate::from_ymd_opt(year, b, a)
    }
}

/// "May 17, 2017", "17 May 2017", "3 mars 2019", "4. März 2019", "5 de marzo de 2019".
fn named_date(text: &str, rules: &Boilerplate) -> Option<NaiveDate> {
    let (mut day, mut month, mut year) = (None, None, None);
    // Spans only: which group a token matched is plain from its first
    // character, and a span search never needs the slower capture engine.
    for m in WORD.find_iter(text) {
        let token = m.as_str();
        if token.starts_with(char::is_alphabetic) {
            if month.is_none() {
                month = rules.month(token);
            }
            continue;
        }
        // The figures, without an ordinal suffix ("17th", "4.", "1º").
        let n = token
            .find(|c: char| c.is_alphabetic() || matches!(c, '.' | '°'))
            .map_or(token, |end| &token[..end]);
        let v: i32 = n.parse().ok()?;
        if n.len() == 4 && year.is_none() {
            year = Some(v);
        } else if n.len() <= 2 && day.is_none() && (1..=31).contains(&v) {
            day = Some(u32::try_from(v).ok()?);
        }
    }
    NaiveDate::from_ymd_opt(year?, month?, day.unwrap_or(1)).filter(|_| day.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        parse_date(s, Boilerplate::builtin()).map(|t| crate::model::rfc3339(&t))
    }

    #[test]
    fn machine_formats() {
        assert_eq!(
            p("2019-03-04T10:00:00Z").as_deref(),
            Some("2019-03-04T10:00:00Z")
        );
        assert_eq!(
            p("2019-03-04T12:00:00+02:00").as_deref(),
            Some("2019-03-04T10:00:00Z")
        );
        assert_eq!(
            p("Tue, 16 May 2017 09:30:00 GMT").as_deref(),
            Some("2017-05-16T09:30:00Z")
        );
        assert_eq!(p("2019-03-04").as_deref(), Some("2019-03-04T00:00:00Z"));
    }

    #[test]
    fn english_human_dates() {
        assert_eq!(
            p("May 17, 2017 at 3:04 pm").as_deref(),
            Some("2017-05-17T15:04:00Z")
        );
        assert_eq!(p("12 March 2018").as_deref(), Some("2018-03-12T00:00:00Z"));
        assert_eq!(
            p("Wednesday, May 17th 2017, 9:15 AM EDT").as_deref(),
            Some("2017-05-17T13:15:00Z")
        );
        assert_eq!(
            p("Sept. 3, 2020 12:30 a.m.").as_deref(),
            Some("2020-09-03T00:30:00Z")
        );
    }

    #[test]
    fn other_languages() {
        assert_eq!(
            p("3 mars 2019 à 10h30").as_deref(),
            Some("2019-03-03T10:30:00Z")
        );
        assert_eq!(
            p("4. März 2019, 08:15 Uhr").as_deref(),
            Some("2019-03-04T08:15:00Z")
        );
        assert_eq!(
            p("5 de marzo de 2019").as_deref(),
            Some("2019-03-05T00:00:00Z")
        );
        assert_eq!(
            p("17.05.2017 14:00").as_deref(),
            Some("2017-05-17T14:00:00Z")
        );
    }

    fn f(s: &str) -> Option<String> {
        parse_feed_date(s).map(|t| crate::model::rfc3339(&t))
    }

    #[test]
    fn feed_date_shapes_from_the_wild() {
        let cases = [
            ("Tue, 5 Mar 2024 09:30:00 GMT", "2024-03-05T09:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 EST", "2024-03-05T14:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 EDT", "2024-03-05T13:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 CST", "2024-03-05T15:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 CDT", "2024-03-05T14:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 MST", "2024-03-05T16:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 PDT", "2024-03-05T16:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 PST", "2024-03-05T17:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 UT", "2024-03-05T09:30:00Z"),
            ("Tue, 05 Mar 2024 09:30:00 Z", "2024-03-05T09:30:00Z"),
            ("Tue, 05 Mar 2024 15:00:00 +0530", "2024-03-05T09:30:00Z"),
            ("Tue, 05 Mar 2024 09:30 +0000", "2024-03-05T09:30:00Z"),
            ("Tue, 05 Mar 24 09:30:00 GMT", "2024-03-05T09:30:00Z"),
            ("Tuesday, 5 March 2024 09:30:00 GMT", "2024-03-05T09:30:00Z"),
            ("Friday, 05 Mar 2024 09:30:00 GMT", "2024-03-05T09:30:00Z"),
            ("Tue 05 Mar 2024 9:30:00 GMT", "2024-03-05T09:30:00Z"),
            ("2024-03-05T09:30:00Z", "2024-03-05T09:30:00Z"),
            ("2024-03-05T10:30:00+0100", "2024-03-05T09:30:00Z"),
            ("2024-03-05 09:30:00", "2024-03-05T09:30:00Z"),
            ("2024-03-05T09:30", "2024-03-05T09:30:00Z"),
        ];
        for (text, want) in cases {
            assert_eq!(f(text).as_deref(), Some(want), "{text}");
        }
        for garbage in [
            "sometime last Tuesday",
            "32/13/2025",
            "31 Feb 2025",
            "",
            "  ",
        ] {
            assert_eq!(f(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn incomplete_or_impossible_dates_are_none() {
        assert_eq!(p("May 2017"), None);
        assert_eq!(p("February 30, 2019"), None);
        assert_eq!(p("the talks went on"), None);
        assert_eq!(p(""), None);
    }
}
