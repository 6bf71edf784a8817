//! The context pass: lines that their own features leave unsure take
//! their class from the lines around them, and lists keep their items.

use super::features::{bullet, credit_label, heading_shaped, quoted_line, quotes_speech};
use super::{Block, Class};
use crate::ingest::boilerplate::word_count;

/// A list directly under its lead-in sentence ("…three demands:") is part
/// of that paragraph, and a bulleted line is a list item wherever it
/// stands (the densest-run search still ends the body before a trailing
/// "Most read" list): its items are short and unfinished, but not clutter unless
/// their own shape says so (a pitch, a link).
pub(super) fn protect_lists(
    blocks: &[Block],
    own: &[Class],
    fragments: &[bool],
    classes: &mut [Class],
) -> Vec<bool> {
    // Without blank lines every line is its own paragraph: lines under a
    // colon are no list then, unless bulleted.
    let spaced = blocks.iter().any(|b| b.gap > 0);
    let mut listed = vec![false; blocks.len()];
    let mut unbulleted_list = false;
    for i in 0..blocks.len() {
        let lead_in = spaced
            && i > 0
            && blocks[i - 1].text.trim_end().ends_with(':')
            && classes[i - 1] != Class::Clutter
            && blocks[i].gap == 0;
        let continues = unbulleted_list && blocks[i].gap == 0;
        let bulleted = bullet(blocks[i].text);
        // An item of a list under its lead-in is long and unfinished by
        // nature ("Dane Whitfield (Chennai Chargers) – Rs 20.25 crore").
        let item_shaped = (lead_in || continues) && fragments[i];
        if (lead_in || continues || bulleted) && (own[i] != Class::Clutter || item_shaped) {
            classes[i] = Class::Content;
            listed[i] = true;
            unbulleted_list = !bulleted;
        } else {
            unbulleted_list = false;
        }
    }
    listed
}

/// A short line of prose glued (no blank line) to clutter is part of a box,
/// not of the body, when it sits between a line that is not prose and a
/// line of clutter (the first sentence of an author box between "About the
/// authors" and the next biography), opens a box of two or more clutter
/// lines ("Sie haben noch 2 von 5 kostenlosen Artikeln" over the offer and
/// its button), or asks a question right above clutter (a reader poll over
/// its "Yes · No · Vote"). Only where the page sets its paragraphs apart
/// with blank lines; without them every line is glued to the next.
pub(super) fn glued_boxes(
    blocks: &[Block],
    counts: &[usize],
    own: &[Class],
    listed: &[bool],
    classes: &mut [Class],
) {
    let spaced = blocks.iter().filter(|b| b.gap > 0).count() * 2 >= blocks.len();
    if !spaced {
        return;
    }
    // A list item under its lead-in is no box, however it reads alone.
    let clutter_at = |k: usize| own[k] == Class::Clutter && !listed[k];
    for (i, b) in blocks.iter().enumerate() {
        if own[i] != Class::Content || listed[i] || counts[i] >= BOX_LINE_WORDS {
            continue;
        }
        // The neighbours the tables dropped count as much as those left.
        let above = b.glued_above || (i > 0 && b.gap == 0 && own[i - 1] != Class::Content);
        let glued_below =
            |k: usize| blocks.get(k).is_some_and(|next| next.gap == 0) && clutter_at(k);
        let below = b.glued_below || glued_below(i + 1);
        let box_below = glued_below(i + 1) && glued_below(i + 2);
        let question = b.text.trim_end().ends_with('?');
        // Reporting does not exclaim outside quotes; a promo does ("– nur
        // bis Sonntag!").
        // Read last: finding the quotes costs more than the rest.
        let exclaims = || b.text.contains('!') && !quotes_speech(b.text);
        if (above && below) || box_below || (question && below) || ((above || below) && exclaims())
        {
            classes[i] = Class::Clutter;
        }
    }
}

/// The longest line taken for part of a box by [`glued_boxes`]: a question
/// or a one-sentence biography, never a paragraph of reporting.
const BOX_LINE_WORDS: usize = 30;

/// Unsure lines take their class from their neighbours (jusText's
/// context pass): a run of three or more is a tag list or a menu; a
/// heading-shaped line directly above content is a subheading; any other
/// unsure line is content only with content on both sides.
pub(super) fn resolve_unsure(blocks: &[Block], classes: &mut [Class]) {
    let sure: Vec<Class> = classes.to_vec();
    let n = sure.len();
    let mut i = 0;
    while i < n {
        if sure[i] != Class::Unsure {
            i += 1;
            continue;
        }
        let run_end = (i..n).find(|&k| sure[k] != Class::Unsure).unwrap_or(n);
        let before = sure[..i]
            .iter()
            .rev()
            .find(|c| **c != Class::Unsure)
            .copied();
        let after = sure.get(run_end).copied();
        let closing = closing_sentences(blocks, &sure, i, run_end);
        for class in &mut classes[i..i + closing] {
            *class = Class::Content;
        }
        let start = i + closing;
        for k in start..run_end {
            classes[k] = if run_end - start >= MENU_RUN || run_end == n {
                // What trails the page after the last prose is furniture.
                Class::Clutter
            } else if after == Some(Class::Content)
                && k + 1 == run_end
                && heading_shaped(blocks[k].text)
                && !glued_under_clutter(blocks, &sure, k)
            {
                Class::Content
            } else if !heading_shaped(blocks[k].text)
                && !quoted_line(blocks[k].text)
                && !crate::ingest::lines::ends_sentence(blocks[k].text)
                && (word_count(blocks[k].text) >= SHORT_LINE
                    || blocks[k].text.chars().any(|c| c.is_ascii_digit())
                    || credit_label(blocks[k].text))
            {
                // Neither a heading nor a sentence: a caption, a teaser,
                // a promo ("… by 30% – presented by Yardmind").
                Class::Clutter
            } else if before != Some(Class::Clutter) && after != Some(Class::Clutter) {
                Class::Content
            } else {
                Class::Clutter
            };
        }
        i = run_end;
    }
}

/// Most sentences a story closes on that are short enough to be unsure.
const CLOSING_SENTENCES: usize = 2;

/// "The plant currently employs 64 people." under the last paragraph and
/// above "More Local News": a short closing sentence belongs to the story
/// above it, not to the box whose heading follows. Returns how many lines
/// of the unsure run `at..end` are such sentences (none unless content is
/// right above and a heading-shaped line, or the page's end, right below).
fn closing_sentences(blocks: &[Block], sure: &[Class], at: usize, end: usize) -> usize {
    if at == 0 || sure[at - 1] != Class::Content {
        return 0;
    }
    let n = (at..end)
        .take(CLOSING_SENTENCES)
        .take_while(|&k| {
            let text = blocks[k].text.trim_end();
            crate::ingest::lines::ends_sentence(text)
                && !text.ends_with(['?', '!'])
                && !heading_shaped(text)
        })
        .count();
    // At the very end they are what the pass over the first pass's output
    // sees once the box below is gone: kept then too, or cleaning twice
    // would cut what once kept.
    let heading_next = at + n < end && heading_shaped(blocks[at + n].text);
    let page_end = at + n == end && end == sure.len();
    if heading_next || page_end { n } else { 0 }
}

/// A subheading is set apart from what stands above it; a heading-shaped
/// line right under clutter (or under a line an earlier pass dropped) is
/// that box's last line: its button ("Count me in") or its link.
fn glued_under_clutter(blocks: &[Block], sure: &[Class], k: usize) -> bool {
    blocks[k].glued_above || (k > 0 && blocks[k].gap == 0 && sure[k - 1] == Class::Clutter)
}

/// Lines this long that are neither heading nor sentence are not left to
/// their neighbours.
pub(super) const SHORT_LINE: usize = 6;

/// Consecutive unsure lines that make a menu or a tag list, not a heading.
pub(super) const MENU_RUN: usize = 3;
