//! The on-page headline when the page title does not repeat it word for
//! word: truncated ("…inside the quiet race to rewe…"), reworded for
//! search engines, or glued to a cookie banner.
//!
//! The annotation conventions say the on-page headline wins. It is found
//! among the lines under the page title as the headline-shaped line that
//! shares most of its words with the title's headline segment, or that
//! continues a truncated title.

use super::boilerplate::word_count;
use super::lines::{Line, ends_sentence};
use super::text::fold;

/// How many lines under the title line may hold the on-page headline.
const WINDOW: usize = 25;

/// A headline's length in words.
const MIN_WORDS: usize = 4;
const MAX_WORDS: usize = 35;

/// Shared words needed: this share of the candidate line's words, and
/// this share of the page title's.
const LINE_SHARE: f32 = 0.5;
const TITLE_SHARE: f32 = 0.3;

/// A line standing this close above a byline or date line needs fewer
/// words in common with the page title.
const META_REACH: usize = 3;
const PLACED_SHARE: f32 = 0.2;

/// Index (among `rest`) of the line that is the on-page form of the page
/// title's headline `title`, if one stands near the top.
pub(super) fn find(title: &str, rest: &[Line], is_meta: impl Fn(&str) -> bool) -> Option<usize> {
    // A set, not a list: the title may be a huge line, and every word of
    // every candidate line is looked up in it.
    let title_words = content_words(title);
    let title_len = title_words.len();
    let title_words: rustc_hash::FxHashSet<String> = title_words.into_iter().collect();
    let truncated = truncated_prefix(title);
    let mut best: Option<((bool, f32), usize)> = None;
    for (i, line) in rest.iter().take(WINDOW).enumerate() {
        let words = word_count(&line.text);
        // Captions carry credits; tag lists a label and commas.
        // Breadcrumbs ("Región › Molina de Albar") point along a path.
        let caption_or_label = line.text.contains('©')
            || line.text.contains('›')
            || (line.text.contains('»') && !line.text.contains('«'))
            || line.text.split_once(':').is_some_and(|(label, rest)| {
                word_count(label) <= 1 && rest.matches([',', '·', '•', '|']).count() >= 2
            });
        if !(MIN_WORDS..=MAX_WORDS).contains(&words) || line.text.ends_with('.') || caption_or_label
        {
            continue;
        }
        if let Some(prefix) = &truncated
            && fold(&line.text).starts_with(prefix.as_str())
        {
            return Some(i);
        }
        let line_words = content_words(&line.text);
        let common = line_words
            .iter()
            .filter(|w| title_words.contains(*w))
            .count();
        let line_share = common as f32 / line_words.len().max(1) as f32;
        let title_share = common as f32 / title_len.max(1) as f32;
        // Directly above the byline or date, a headline may be reworded
        // further from the page title and still be the headline.
        let above_meta = rest[i + 1..]
            .iter()
            .take(META_REACH)
            .any(|l| is_meta(&l.text));
        let similar = common >= 3 && line_share >= LINE_SHARE && title_share >= TITLE_SHARE;
        // A cut page title was often written for search engines: the line
        // above the byline may share only its key words.
        let placed =
            above_meta && common >= 2 && (line_share >= PLACED_SHARE || truncated.is_some());
        if similar || placed {
            // A standfirst or first paragraph restates the headline too,
            // but in sentences: the first headline-shaped match wins.
            if ends_sentence(&line.text) && !line.text.ends_with(['?', '!']) {
                continue;
            }
            // The line right above the byline or date is where a headline
            // stands; a likelier match elsewhere is a teaser or a tag.
            let rank = (above_meta, line_share);
            if best.is_none_or(|(r, _)| rank > r) {
                best = Some((rank, i));
            }
        }
    }
    best.map(|(_, i)| i)
}

/// Whether a page title was cut short with an ellipsis.
pub(super) fn is_truncated(title: &str) -> bool {
    truncated_prefix(title).is_some()
}

/// The folded text before a trailing ellipsis, when the title was cut.
fn truncated_prefix(title: &str) -> Option<String> {
    let t = title.trim_end();
    let cut = t.strip_suffix('…').or_else(|| t.strip_suffix("..."))?;
    // The last word may be cut mid-word ("rewe…"): compare up to it.
    let folded = fold(cut);
    (word_count(&folded) >= 3).then_some(folded)
}

fn content_words(s: &str) -> Vec<String> {
    fold(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| stem(w).to_owned())
        .collect()
}

/// A page title rewords its headline in number and tense ("caps cruise
/// calls" over "votes to cap cruise ship calls"): a final "s" (and the
/// "es"/"ed" of a longer word) is not what tells two headlines apart.
fn stem(word: &str) -> &str {
    let n = word.len();
    if n > 5 && (word.ends_with("es") || word.ends_with("ed")) {
        &word[..n - 2]
    } else if n > 3 && word.ends_with('s') && !word.ends_with("ss") {
        &word[..n - 1]
    } else {
        word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[&str]) -> Vec<Line> {
        texts
            .iter()
            .map(|t| Line {
                text: (*t).to_owned(),
                gap: 1,
                words: word_count(t),
                at: Default::default(),
            })
            .collect()
    }

    #[test]
    fn a_truncated_title_is_continued_by_the_on_page_headline() {
        let rest = lines(&[
            "Menu",
            "The bog that could save us: inside the quiet race to rewet Scotland’s peatlands",
        ]);
        assert_eq!(
            find(
                "The bog that could save us: inside the quiet race to rewe…",
                &rest,
                |_| false
            ),
            Some(1)
        );
    }

    #[test]
    fn a_reworded_headline_is_found_by_its_words() {
        let rest = lines(&[
            "News | Digital health",
            "Hospital trust pauses AI triage software after chest-pain calls were under-prioritised",
            "A hospital trust paused its AI triage software on Monday after chest-pain calls were under-prioritised.",
        ]);
        assert_eq!(
            find(
                "NHS trust pauses AI triage tool after it under-prioritised chest pain calls",
                &rest,
                |_| false
            ),
            Some(1)
        );
    }

    #[test]
    fn unrelated_lines_are_not_the_headline() {
        let rest = lines(&["Markets", "Council tax to rise by four percent in April"]);
        assert_eq!(
            find(
                "Harbour strike enters second week at the port",
                &rest,
                |_| true
            ),
            None
        );
    }

    #[test]
    fn a_headline_above_the_byline_needs_fewer_words_in_common() {
        let rest = lines(&[
            "Fútbol Primera División Ascenso",
            "¡Festival en el Parque! Deportes Valdivia goleó 4-0 a Atlético Chiloé y se acerca a la cima",
            "Por Cristóbal Henríquez",
        ]);
        let title = "Deportes Valdivia golea a Chiloé y queda a un punto del líder";
        assert_eq!(find(title, &rest, |l| l.starts_with("Por ")), Some(1));
        assert_eq!(find(title, &rest, |_| false), None);
    }
}
