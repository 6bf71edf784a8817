//! Byline and date lines → an article's authors and dates.
//!
//! In goes one short line from the top of an article ("By Jane Roe |
//! May 17, 2017", "Published 07/08/2024 - 14h32 · Updated 15h10"); if it
//! is such a line, its names and stated dates go into a [`Body`] and the
//! line is reported as [`Kind::Meta`], so the caller leaves it out of the
//! text. Anything else is [`Kind::Content`] and leaves the body untouched.

use chrono::{DateTime, Utc};

use super::boilerplate::{Boilerplate, DateKind, word_count};
use super::byline::parse_names;
use super::dates::{has_year, parse_date, parse_time};
use super::lines::{Body, ends_sentence};

/// What a line turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Content,
    /// A byline or stated-date line (already consumed into metadata).
    Meta,
}

/// Longest byline line, in words.
const MAX_BYLINE_WORDS: usize = 20;
/// Longest date line: two dates with French times ("Publié le 12 février
/// 2024 à 6 h 45 | Mis à jour le 12 février 2024 à 11 h 02") run to 22.
const MAX_META_WORDS: usize = 26;

/// Consumes byline and stated-date lines into `body`'s metadata.
pub(super) fn meta_line(text: &str, in_lead: bool, rules: &Boilerplate, body: &mut Body) -> Kind {
    let words = word_count(text);
    if words > MAX_META_WORDS {
        return Kind::Content;
    }
    if in_lead && words <= MAX_BYLINE_WORDS && read_byline(text, rules, body) {
        return Kind::Meta;
    }
    // Every stated date has a year in it (a time-only "updated" needs a
    // dated part beside it).
    if has_year(text) && read_dates(text, in_lead, rules, body) {
        return Kind::Meta;
    }
    Kind::Content
}

/// A byline's names, and the dates it may carry, into `body`.
fn read_byline(text: &str, rules: &Boilerplate, body: &mut Body) -> bool {
    let Some(rest) = rules.byline_rest(text) else {
        return false;
    };
    // "By Jane Roe | May 17, 2017": bylines may carry dates after a bar,
    // or inside ("Posted by Jane Roe on April 3rd, 2024 at 8:15 pm").
    let parts = split_meta(rest, rules, true);
    let names = parse_names(parts[0], rules);
    if names.is_empty() {
        return false;
    }
    let dates: Vec<_> = parts.iter().filter_map(|p| stated_date(p, rules)).collect();
    for name in names {
        if !body.authors.contains(&name) {
            body.authors.push(name);
        }
    }
    for (kind, date) in dates {
        set_date(body, kind, date, true);
    }
    true
}

/// A line of stated dates into `body`; false, and nothing taken, when the
/// line is not one.
fn read_dates(text: &str, in_lead: bool, rules: &Boilerplate, body: &mut Body) -> bool {
    // Dashes stay inside a date ("07/08/2024 - 14h32"); bars and dots
    // separate details.
    let parts = split_meta(text, rules, false);
    let mut dates: Vec<_> = parts.iter().map(|p| stated_date(p, rules)).collect();
    join_lone_times(&parts, &mut dates, rules);
    date_updates_stated_as_times(&parts, &mut dates, rules);
    if !is_date_line(&parts, &dates, rules) {
        return false;
    }
    for (p, d) in parts.iter().zip(dates) {
        if let Some((kind, date)) = d {
            // Below the story's start (comments, a related list) a date
            // never displaces one found above.
            let labelled = rules.date_line(p).is_some();
            if in_lead || body_has_no(kind, body) {
                set_date(body, kind, date, labelled);
            }
        }
    }
    // "2/17/2024 9:45:00 PM | Story by Marcus Teel": the byline may
    // follow the date on its line.
    for rest in parts.iter().filter_map(|p| rules.byline_rest(p)) {
        for name in parse_names(rest, rules) {
            if !body.authors.contains(&name) {
                body.authors.push(name);
            }
        }
    }
    true
}

/// A date found in each detail of a line, where there is one.
type Dates = Vec<Option<(DateKind, DateTime<Utc>)>>;

/// "September 9, 2026 | 2:40 pm": a time standing alone belongs to the
/// date before it.
fn join_lone_times(parts: &[&str], dates: &mut Dates, rules: &Boilerplate) {
    for i in 1..parts.len() {
        if dates[i].is_none()
            && dates[i - 1].is_some()
            && word_count(parts[i]) <= 3
            && rules.date_line(parts[i]).is_none()
            && parse_time(parts[i]).is_some()
            && let Some(joined) = stated_date(&format!("{} {}", parts[i - 1], parts[i]), rules)
        {
            dates[i - 1] = Some(joined);
            dates[i] = Some(joined);
        }
    }
}

/// "… 9:15 · aggiornato alle 13:40", "Updated May 21 2024 - 6:12pm, first
/// published 5:30am": a date stated as a time only is on the day of the
/// date beside it.
fn date_updates_stated_as_times(parts: &[&str], dates: &mut Dates, rules: &Boilerplate) {
    let day = dates.iter().flatten().map(|(_, d)| d.date_naive()).next();
    for (p, d) in parts.iter().zip(dates.iter_mut()) {
        if d.is_none()
            && let (Some((kind, rest)), Some(day)) = (rules.date_line(p), day)
            && let Some(time) = parse_time(rest)
        {
            *d = Some((kind, day.and_time(time).and_utc()));
        }
    }
}

/// Whether the dates found make the line a date line rather than a
/// sentence that mentions a date.
fn is_date_line(parts: &[&str], dates: &Dates, rules: &Boilerplate) -> bool {
    let opened = |p: &str| rules.date_line(p).is_some();
    // A line of dates, where a date we cannot place ("Updated 2 hours
    // ago") may stand beside one we can; or a line with an explicit
    // "Published …" among other details ("18 min read").
    // A place may stand beside the date ("Villarroya | 08/09/2025 09:47").
    // So may details such as a reading time or a count ("5 min read",
    // "12 comments", "From our June 2024 issue").
    let label = |p: &str| word_count(p) <= 5 && !ends_sentence(p);
    let all_dates = parts.iter().zip(dates).all(|(p, d)| {
        d.is_some()
            || opened(p)
            || (parts.len() > 1 && (label(p) || rules.byline_rest(p).is_some()))
    });
    let explicit = parts
        .iter()
        .zip(dates)
        .any(|(p, d)| d.is_some() && opened(p));
    dates.iter().any(Option::is_some) && (all_dates || explicit)
}

/// Splits a byline or date line into its details: at bars, dots and
/// dashes, and where an "Updated" starts ("…16 Mar 2024Updated: 14:05",
/// "…à 07h15, mis à jour le …").
fn split_meta<'a>(text: &'a str, rules: &Boilerplate, dashes: bool) -> Vec<&'a str> {
    const STRONG: &[&str] = &[" | ", " · ", " • ", "|"];
    const ALL: &[&str] = &[" | ", " · ", " • ", " — ", " – ", " - ", "|"];
    let mut parts: Vec<&str> = Vec::new();
    let mut rest = text;
    loop {
        let cut = (if dashes { ALL } else { STRONG })
            .iter()
            .filter_map(|sep| rest.find(sep).map(|i| (i, sep.len())))
            .chain(rules.update_split(rest).map(|i| (i, 0)))
            .min();
        match cut {
            Some((i, len)) if i > 0 || len > 0 => {
                parts.push(rest[..i].trim().trim_end_matches(','));
                rest = &rest[i + len..];
            }
            _ => {
                parts.push(rest.trim());
                break;
            }
        }
    }
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        parts.push("");
    }
    parts
}

/// A stated date: "Published May 17, 2017", "Updated: …", or a bare date.
fn stated_date(text: &str, rules: &Boilerplate) -> Option<(DateKind, DateTime<Utc>)> {
    let (kind, rest) = rules.date_line(text).unwrap_or((DateKind::Published, text));
    parse_date(rest, rules)
        // "07/08/2024 - 14h32": a dash between the date and its time.
        .or_else(|| {
            rest.contains(['—', '–', '-'])
                .then(|| parse_date(&rest.replace(['—', '–'], " ").replace(" - ", " "), rules))
                .flatten()
        })
        .map(|d| (kind, d))
}

/// The first date of each kind the lines state is the one kept, except
/// that a labelled one ("Publié le …", "Publicado: …") wins over a bare
/// date stated above it, and a date with a time over a bare day: the bare
/// day is the masthead's date of today ("Samedi 12 mai 2024 | Tunis 27°C"),
/// not the story's.
fn body_has_no(kind: DateKind, body: &Body) -> bool {
    match kind {
        DateKind::Published => body.published.is_none(),
        DateKind::Updated => body.updated.is_none(),
    }
}

fn set_date(body: &mut Body, kind: DateKind, date: DateTime<Utc>, labelled: bool) {
    match kind {
        DateKind::Published => {
            // A time of day is evidence too: a masthead states the day only.
            let rank = |labelled: bool, d: &DateTime<Utc>| {
                (u8::from(labelled) << 1) | u8::from(d.time() != chrono::NaiveTime::MIN)
            };
            let better = body
                .published
                .is_none_or(|old| rank(labelled, &date) > rank(body.published_labelled, &old));
            if better {
                body.published = Some(date);
                body.published_labelled = labelled;
            }
        }
        DateKind::Updated => {
            body.updated.get_or_insert(date);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::lines::{lines, parse_body};

    #[test]
    fn a_time_after_a_bar_belongs_to_the_date() {
        let body = parse_body(
            lines(
                "September 9, 2026 | 2:40 pm\n\nDock workers walked out again on Monday, the union said in a statement.\n",
            ),
            Boilerplate::builtin(),
        );
        assert_eq!(
            body.published.map(|t| crate::model::rfc3339(&t)).as_deref(),
            Some("2026-09-09T14:40:00Z")
        );
        assert_eq!(body.blocks.len(), 1);
    }

    fn dates_of(line: &str) -> (Option<String>, Option<String>) {
        let text = format!(
            "{line}\n\nDock workers walked out again on Monday, the union said in a statement.\n"
        );
        let body = parse_body(lines(&text), Boilerplate::builtin());
        let at = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| crate::model::rfc3339(&t));
        (at(body.published), at(body.updated))
    }

    #[test]
    fn long_date_lines_and_a_publication_stated_as_a_time_are_read() {
        assert_eq!(
            dates_of(
                "Publié le 12 février 2024 à 6 h 45 | Mis à jour le 12 février 2024 à 11 h 02"
            ),
            (
                Some("2024-02-12T06:45:00Z".into()),
                Some("2024-02-12T11:02:00Z".into())
            )
        );
        assert_eq!(
            dates_of("Updated May 21 2024 - 6:12pm, first published 5:30am"),
            (
                Some("2024-05-21T05:30:00Z".into()),
                Some("2024-05-21T18:12:00Z".into())
            )
        );
    }
}
