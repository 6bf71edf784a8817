//! An article's content lines → its blocks.
//!
//! In go the lines the body pass (`lines`) kept as content, in page order;
//! out come [`Block`]s. On the way, what a scrape carries besides the story
//! goes: reader comments after the end, pull quotes that repeat the body,
//! captions above the standfirst.
//! Lines a scrape broke mid-sentence are rejoined, and every line is told
//! apart as standfirst, subheading, list item, quote or paragraph.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::boilerplate::{Boilerplate, word_count};
use super::byline::is_role;
use super::lines::{Line, ends_sentence, is_body_paragraph};
use super::prose::{self, Prose, Verdict};
use super::text::{fold, fold_holds_words};
use crate::model::{Block, BlockKind};

/// Cleans up and shapes content lines. `ended` says the page had an end
/// marker (after which reader comments may follow); `after_meta` is the
/// index of the first line after a byline or date line; `headline_at` the
/// page line of the on-page headline.
pub(super) fn shape(
    mut content: Vec<Line>,
    ended: bool,
    after_meta: Option<usize>,
    rules: &Boilerplate,
    site: Option<&str>,
    headline_at: Option<usize>,
) -> Vec<Block> {
    let after_meta = drop_above_headline(&mut content, after_meta, headline_at);
    if ended {
        drop_trailing_comments(&mut content, rules);
    }
    drop_pull_quotes(&mut content);
    drop_credited_captions(&mut content, rules);
    join_wrapped_lines(&mut content);
    let after_meta = drop_clutter(&mut content, after_meta, site);
    let body_start = body_start(&content, after_meta);
    let mut blocks = Vec::with_capacity(content.len());
    shape_lead(
        &content[..body_start],
        after_meta.unwrap_or(0),
        rules,
        &mut blocks,
    );
    shape_body(&content[body_start..], &mut blocks);
    // A wire dateline ("ROTTERDAM (Reuters) -") stays where it is: it is
    // part of the lede, as readers of the wire and the annotation
    // conventions have it.
    blocks.retain(|b| !b.text.is_empty());
    blocks
}

/// Lines above the on-page headline are the page's furniture (a station's
/// "on air" bar, a weather box, a ticker), never its standfirst, which is
/// printed under the headline. A line that reads as a body paragraph stays
/// all the same: if the headline was found in the wrong place, the story
/// must not go with it. Returns `after_meta` moved to the lines kept.
fn drop_above_headline(
    content: &mut Vec<Line>,
    after_meta: Option<usize>,
    headline_at: Option<usize>,
) -> Option<usize> {
    let Some(headline) = headline_at else {
        return after_meta;
    };
    let above = |l: &Line| l.at.last < headline && !is_body_paragraph(&l.text);
    let moved = after_meta.map(|m| {
        m - content[..m.min(content.len())]
            .iter()
            .filter(|l| above(l))
            .count()
    });
    content.retain(|l| !above(l));
    moved
}

/// What the statistical classifier (`prose`) finds to be clutter goes;
/// returns `after_meta` moved to the same line among those kept. A line it
/// reads as an item of the list above it gets a bullet, so it is shaped
/// (and written out, and read back) as a list item.
fn drop_clutter(
    content: &mut Vec<Line>,
    after_meta: Option<usize>,
    site: Option<&str>,
) -> Option<usize> {
    // A short name ("Local", "News") would be found in ordinary sentences.
    let site = site.map(fold).filter(|s| s.len() >= MIN_SITE_CHARS);
    // A line right against one that an earlier pass dropped (a table, a
    // caption rule) is glued to clutter: the content line before it, if
    // any, did not end right above it (and likewise below).
    let blocks: Vec<prose::Block> = content
        .iter()
        .enumerate()
        .map(|(k, l)| prose::Block {
            text: &l.text,
            gap: l.gap,
            glued_above: l.at.glued_above
                && k.checked_sub(1)
                    .and_then(|above| content.get(above))
                    .is_none_or(|above| above.at.last + 1 != l.at.first),
            glued_below: l.at.glued_below
                && content
                    .get(k + 1)
                    .is_none_or(|below| l.at.last + 1 != below.at.first),
            names_site: site
                .as_deref()
                .is_some_and(|s| l.words < prose::PROSE_WORDS && fold_holds_words(&l.text, s)),
        })
        .collect();
    let verdicts = Prose::builtin().keep(&blocks);
    let kept = |v: &Verdict| *v != Verdict::Drop;
    let after_meta = after_meta.map(|m| {
        verdicts[..m.min(verdicts.len())]
            .iter()
            .filter(|v| kept(v))
            .count()
    });
    let mut out = Vec::with_capacity(content.len());
    for (mut line, verdict) in content.drain(..).zip(verdicts) {
        match verdict {
            Verdict::Drop => continue,
            Verdict::Item if list_item(&line.text).is_none() => line.text.insert_str(0, "• "),
            Verdict::Item | Verdict::Keep => {}
        }
        out.push(line);
    }
    *content = out;
    after_meta
}

/// Site names shorter than this are not looked for in lines.
const MIN_SITE_CHARS: usize = 5;

/// Where the lead (captions, standfirst) ends and the story begins.
fn body_start(content: &[Line], after_meta: Option<usize>) -> usize {
    // The body starts at the first real paragraph: a finished sentence of
    // some length, a long line, or whatever follows the byline.
    // A byline near the top ends the lead, whatever stands above it.
    let first_paragraph = content.iter().position(|l| is_body_paragraph(&l.text));
    let body_start = match (after_meta, first_paragraph) {
        (Some(m), _) if m <= 3 => m,
        (Some(m), Some(p)) => m.min(p),
        (None, Some(p)) => p,
        (Some(_), None) | (None, None) => content.len(),
    };
    if body_start >= content.len() {
        0
    } else {
        body_start
    }
}

/// Lead: a caption sits directly above the standfirst (no blank line) or
/// carries a credit; the last lead line is the standfirst.
/// Lines of the lead above `above_meta` stand above the byline and date.
fn shape_lead(lead: &[Line], above_meta: usize, rules: &Boilerplate, blocks: &mut Vec<Block>) {
    let (lead, above): (Vec<&Line>, Vec<bool>) = lead
        .iter()
        .enumerate()
        .filter(|(_, l)| !rules.classify(&l.text).credit_in_lead)
        .map(|(k, l)| (l, k < above_meta))
        .unzip();
    for (i, line) in lead.iter().enumerate() {
        // A bulleted line is a list item wherever it stands.
        if let Some(item) = list_item(&line.text) {
            blocks.push(Block::new(BlockKind::ListItem, item));
            continue;
        }
        // "Rugby", "Local News" above the byline: a section's kicker,
        // never a standfirst. (With no byline, as when an article's own
        // text comes back, a short line may be what the first pass kept.)
        if above[i] && line.words <= 3 && !ends_sentence(&line.text) {
            continue;
        }
        let is_last = i + 1 == lead.len();
        // A line directly above a list is its lead-in, not a caption.
        let above_list = !is_last && list_item(&lead[i + 1].text).is_some();
        let caption = !is_last && ((lead[i + 1].gap == 0 && !above_list) || line.words > 60);
        if caption {
            continue;
        }
        if is_last && word_count(&line.text) <= 60 {
            blocks.push(Block::new(BlockKind::Standfirst, line.text.clone()));
        } else {
            blocks.push(Block::new(BlockKind::Paragraph, line.text.clone()));
        }
    }
}

/// The story: list items, quotes, subheadings and paragraphs.
fn shape_body(body: &[Line], blocks: &mut Vec<Block>) {
    let mut first_paragraph = true;
    for (i, line) in body.iter().enumerate() {
        let text = line.text.as_str();
        if let Some(item) = list_item(text) {
            blocks.push(Block::new(BlockKind::ListItem, item));
            continue;
        }
        if let Some(q) = text.strip_prefix('>') {
            blocks.push(Block::new(BlockKind::Quote, q.trim()));
            continue;
        }
        let has_next = i + 1 < body.len();
        if !first_paragraph && has_next && subheading_like(text) {
            blocks.push(Block::new(BlockKind::Subheading, text));
            continue;
        }
        first_paragraph = false;
        blocks.push(Block::new(BlockKind::Paragraph, text));
    }
}

/// "Dana Whitfield / KVRN", "Jane Roe/Getty Images", "KEYSTONE/Régis
/// Colomb": a photo credit, a name and the agency or site it works for.
static SLASH_CREDIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){1,3}\s*/\s*\p{Lu}[\p{L}\p{N}&.'’ -]{1,40}$|^\p{Lu}{2,}[\p{Lu}&-]*\s*/\s*\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){1,3}$",
    )
    .unwrap_or_else(|e| panic!("SLASH_CREDIT regex: {e}"))
});

/// A photo credit goes, and so does the caption it sits right under: the
/// caption may be a whole sentence, so nothing else tells it from the lede.
fn drop_credited_captions(content: &mut Vec<Line>, rules: &Boilerplate) {
    let mut drop = vec![false; content.len()];
    for (i, line) in content.iter().enumerate() {
        // Both shapes of the credit hold a slash; most lines have none, and
        // the pattern's Unicode classes make it slow to run.
        if line.words > 8
            || !line.text.contains('/')
            || !SLASH_CREDIT.is_match(&line.text)
            || role_after_slash(&line.text, rules)
        {
            continue;
        }
        drop[i] = true;
        if i > 0
            && line.gap == 0
            && content[i - 1].words <= 60
            && list_item(&content[i - 1].text).is_none()
        {
            drop[i - 1] = true;
        }
    }
    let mut flags = drop.into_iter();
    content.retain(|_| !flags.next().unwrap_or(false));
}

/// "Tanisha Reid-Campbell/Senior Staff Reporter": a byline, not a credit.
fn role_after_slash(text: &str, rules: &Boilerplate) -> bool {
    text.split_once('/')
        .is_some_and(|(_, detail)| detail.split_whitespace().any(|w| is_role(w, rules)))
}

static BULLET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[•·▪●◦‣∙*]|[-–—+](?:\s)|\d{1,2}[.)](?:\s))\s*")
        .unwrap_or_else(|e| panic!("BULLET regex: {e}"))
});

/// The item of a bulleted line; a bullet with nothing after it is no item.
pub(super) fn list_item(text: &str) -> Option<&str> {
    BULLET
        .find(text)
        .filter(|m| m.end() < text.len())
        .map(|m| text[m.end()..].trim())
}

/// A subheading: a few words, starting with a capital, not a sentence.
fn subheading_like(text: &str) -> bool {
    let words = word_count(text);
    let t = text.trim_end_matches(['"', '”', '’', '»', ')']);
    (1..=10).contains(&words)
        && text.chars().count() <= 80
        && !t.ends_with(['.', '!', ':', ';', ',', '…'])
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

/// After "Previous article" or a comments header, what follows the widest
/// blank gap at the end is reader comments, not article.
fn drop_trailing_comments(content: &mut Vec<Line>, rules: &Boilerplate) {
    if content.len() < 3 {
        return;
    }
    let mut gaps: Vec<usize> = content[1..].iter().map(|l| l.gap).collect();
    gaps.sort_unstable();
    let typical = gaps[gaps.len() / 2];
    let Some(k) = (2..content.len())
        .rev()
        .find(|&i| content[i].gap >= 2 && content[i].gap > typical)
    else {
        return;
    };
    let tail = &content[k..];
    let short = tail.len() <= 4 && tail.iter().all(|l| word_count(&l.text) <= 80);
    if short || tail.iter().any(|l| rules.is_comment_signal(&l.text)) {
        content.truncate(k);
    }
}

/// A magazine's pull quote repeats a sentence of the body in large type,
/// often with an attribution ("“…” — Ewan Sinclair"). A line that is only a
/// quotation of six or more words found again in another line goes.
fn drop_pull_quotes(content: &mut Vec<Line>) {
    let quoted: Vec<Option<String>> = content.iter().map(|l| pull_quote_text(&l.text)).collect();
    if quoted.iter().all(Option::is_none) {
        return;
    }
    // One haystack for all searches; the quote line itself is one match,
    // a repeat elsewhere makes two.
    let all = content
        .iter()
        .map(|l| l.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    // Each line's folded words, made once for all the quotes compared.
    let folded: Vec<std::cell::OnceCell<String>> = vec![std::cell::OnceCell::new(); content.len()];
    let repeated: Vec<bool> = quoted
        .iter()
        .enumerate()
        .map(|(i, q)| {
            q.as_ref().is_some_and(|q| {
                all.matches(q.as_str()).nth(1).is_some() || echoed(q, i, content, &folded)
            })
        })
        .collect();
    let mut i = 0;
    content.retain(|_| {
        i += 1;
        !repeated[i - 1]
    });
}

/// Whether a pull quote's words stand, nearly all, in one other line: a
/// pull quote is often trimmed ("at half-time: nobody remembers…" for
/// "at half-time that nobody remembers…, only the last minute").
fn echoed(
    quote: &str,
    at: usize,
    content: &[Line],
    folded: &[std::cell::OnceCell<String>],
) -> bool {
    let quote = fold(quote);
    let words: Vec<&str> = quote.split(' ').collect();
    content.iter().enumerate().any(|(j, line)| {
        if j == at || line.words < words.len() {
            return false;
        }
        let folded = folded[j].get_or_init(|| fold(&line.text));
        let other: HashSet<&str> = folded.split(' ').collect();
        let found = words.iter().filter(|w| other.contains(*w)).count();
        found * 10 >= words.len() * 9
    })
}

/// The words inside a line that opens with a quotation mark and holds
/// nothing but the quotation and, optionally, an attribution after a dash.
fn pull_quote_text(text: &str) -> Option<String> {
    let mut chars = text.chars();
    let open = chars.next()?;
    if !matches!(open, '“' | '"' | '«' | '„' | '‘') || word_count(text) > 40 {
        return None;
    }
    let body = &text[open.len_utf8()..];
    // The mark that closes this opening one; an apostrophe inside ("That’s
    // it") is followed by a letter, a closing mark is not.
    let closes: &[char] = match open {
        '«' => &['»'],
        '„' => &['“', '"'],
        '‘' => &['’'],
        _ => &['”', '"'],
    };
    let close = body.char_indices().find_map(|(i, c)| {
        let next = body[i + c.len_utf8()..].chars().next();
        (closes.contains(&c) && !next.is_some_and(char::is_alphabetic)).then_some(i)
    })?;
    let inner = body[..close]
        .trim()
        .trim_end_matches([',', '.', '!', '?', ' ']);
    let after = body[close..].chars().skip(1).collect::<String>();
    let after = after.trim();
    let attribution_only = after.is_empty() || after.starts_with(['—', '–', '-']);
    (attribution_only && word_count(inner) >= 6).then(|| inner.to_owned())
}

/// Rejoins a paragraph that a scrape broke mid-sentence: a line that does
/// not end a sentence, followed directly by one that starts in lower case.
fn join_wrapped_lines(content: &mut Vec<Line>) {
    let mut out: Vec<Line> = Vec::with_capacity(content.len());
    for line in content.drain(..) {
        if let Some(prev) = out.last_mut()
            && line.gap == 0
            && !ends_sentence(&prev.text)
            && line.text.chars().next().is_some_and(char::is_lowercase)
        {
            prev.text.push(' ');
            prev.text.push_str(&line.text);
            prev.words += line.words;
            prev.at.glued_below = line.at.glued_below;
            prev.at.last = line.at.last;
            continue;
        }
        out.push(line);
    }
    *content = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::lines::{lines, parse_body};

    fn blocks(text: &str) -> Vec<Block> {
        parse_body(lines(text), Boilerplate::builtin()).blocks
    }

    fn texts(blocks: &[Block]) -> Vec<(BlockKind, &str)> {
        blocks.iter().map(|b| (b.kind, b.text.as_str())).collect()
    }

    #[test]
    fn subheadings_and_lists_and_dateline() {
        let b = blocks(
            "ROTTERDAM (Reuters) - Dock workers walked out again on Monday, the union said.\n\nWhat they want\n\nThe union listed three demands in a letter to the operator:\n• Higher pay for night shifts\n• New safety rules\n\nTalks resume on Friday, both sides said.\n",
        );
        assert_eq!(
            texts(&b),
            vec![
                (
                    BlockKind::Paragraph,
                    "ROTTERDAM (Reuters) - Dock workers walked out again on Monday, the union said."
                ),
                (BlockKind::Subheading, "What they want"),
                (
                    BlockKind::Paragraph,
                    "The union listed three demands in a letter to the operator:"
                ),
                (BlockKind::ListItem, "Higher pay for night shifts"),
                (BlockKind::ListItem, "New safety rules"),
                (
                    BlockKind::Paragraph,
                    "Talks resume on Friday, both sides said."
                ),
            ]
        );
    }

    #[test]
    fn one_paragraph_article_stays_one_paragraph() {
        let b = blocks(
            "Dock workers walked out again on Monday after talks broke down, the union said, and the port will stay closed until at least Friday\n",
        );
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].kind, BlockKind::Paragraph);
    }

    #[test]
    fn pull_quotes_repeating_the_body_go() {
        let b = blocks(
            "The keeper said: \"You learn to listen to the weather the way others listen to the radio,\" and smiled at the memory.\n\n“You learn to listen to the weather the way others listen to the radio” — Ewan Sinclair\n\n“A quotation that appears nowhere else in this story at all”\n\nThe lamp went automatic in 1998, the board said.\n",
        );
        let all: Vec<_> = b.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(!all.iter().any(|t| t.contains("Ewan Sinclair")));
        assert!(
            all.iter().any(|t| t.starts_with("“A quotation")),
            "a quote found only once stays"
        );
    }

    #[test]
    fn wrapped_lines_are_rejoined() {
        let b = blocks(
            "Dock workers walked out again on Monday after talks\nbroke down, the union said.\n",
        );
        assert_eq!(
            b[0].text,
            "Dock workers walked out again on Monday after talks broke down, the union said."
        );
    }
}
