//! Taking learned boilerplate out of an article: which blocks may go,
//! and the fields derived from the blocks (summary, HTML) made to match
//! what is left.

use std::collections::{HashMap, HashSet};

use dom_query::{Document, NodeRef};

use super::{block_fingerprint, print};
use crate::ingest;
use crate::model::{Article, Block, BlockKind};

/// Removes the blocks whose fingerprint is in `boilerplate` and derives
/// the summary and HTML again; returns how many blocks came off.
pub fn strip(article: &mut Article, boilerplate: &HashSet<u64>) -> usize {
    if boilerplate.is_empty() {
        return 0;
    }
    let prints: Vec<Option<u64>> = article.blocks.iter().map(print).collect();
    let remove = removable(&article.blocks, &prints, boilerplate);
    remove_blocks(article, &prints, &remove)
}

/// Which blocks to remove. Never the last paragraph: an article that
/// would have none left keeps its last boilerplate paragraph, and one
/// without paragraphs (a list, a teaser) is left as it is.
pub(super) fn removable(
    blocks: &[Block],
    prints: &[Option<u64>],
    boilerplate: &HashSet<u64>,
) -> Vec<bool> {
    let mut remove = vec![false; blocks.len()];
    if boilerplate.is_empty() {
        return remove;
    }
    let mut paragraphs = blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Paragraph)
        .count();
    if paragraphs == 0 {
        return remove;
    }
    for ((block, fp), out) in blocks.iter().zip(prints).zip(&mut remove) {
        if !fp.is_some_and(|fp| boilerplate.contains(&fp)) {
            continue;
        }
        if block.kind == BlockKind::Paragraph {
            if paragraphs == 1 {
                continue;
            }
            paragraphs -= 1;
        }
        *out = true;
    }
    remove
}

/// Takes the marked blocks out and derives what depends on them again.
pub(super) fn remove_blocks(
    article: &mut Article,
    prints: &[Option<u64>],
    remove: &[bool],
) -> usize {
    let n = remove.iter().filter(|&&r| r).count();
    if n == 0 {
        return 0;
    }
    let old = std::mem::take(&mut article.blocks);
    let mut gone: HashMap<u64, usize> = HashMap::new();
    for ((block, fp), &r) in old.iter().zip(prints).zip(remove) {
        match fp {
            Some(fp) if r => *gone.entry(*fp).or_default() += 1,
            _ => article.blocks.push(block.clone()),
        }
    }
    // A summary or HTML the source gave stays what it was, less the
    // removed blocks; one derived from the blocks is derived again.
    if article.summary == ingest::summarize(&old) {
        article.summary = ingest::summarize(&article.blocks);
    }
    article.content_html = if article.content_html == ingest::blocks_html(&old) {
        ingest::blocks_html(&article.blocks)
    } else {
        // Served content must never show a removed block: HTML where one
        // cannot be found is rendered from the blocks instead.
        strip_html(&article.content_html, gone)
            .unwrap_or_else(|| ingest::blocks_html(&article.blocks))
    };
    // The id stays: it names the article, whatever we keep of it. So does
    // the SimHash: a few short blocks move it by a bit or two, well within
    // what duplicate search allows, and computing it again cost as much as
    // the rest of cleaning.
    n
}

/// Removes from sanitized HTML the outermost elements whose whole text is
/// a removed block, as many as were removed; `None` if one is not found.
fn strip_html(html: &str, mut gone: HashMap<u64, usize>) -> Option<String> {
    let doc = Document::from(html);
    let root = doc.body().unwrap_or_else(|| doc.root());
    remove_elements(&root, &mut gone);
    if gone.values().any(|&n| n > 0) {
        return None;
    }
    Some(root.inner_html().to_string())
}

fn remove_elements(node: &NodeRef<'_>, gone: &mut HashMap<u64, usize>) {
    for child in node.element_children() {
        let left = block_fingerprint(&child.text()).and_then(|fp| gone.get_mut(&fp));
        match left {
            Some(n) if *n > 0 => {
                *n -= 1;
                child.remove_from_parent();
            }
            _ => remove_elements(&child, gone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::sites::tests::{BODY, NAG, article, set};

    #[test]
    fn boilerplate_comes_off_with_what_was_derived_from_it() {
        use BlockKind::*;
        let mut a = article(
            Some("Gazette"),
            None,
            &[(Paragraph, NAG), (Paragraph, BODY), (Subheading, "Next")],
        );
        assert_eq!(strip(&mut a, &set(&[NAG])), 1);
        assert_eq!(
            a.blocks,
            [Block::new(Paragraph, BODY), Block::new(Subheading, "Next")]
        );
        assert_eq!(a.summary, BODY);
        assert_eq!(a.content_html, ingest::blocks_html(&a.blocks));
        assert_eq!(a.id, "a1");
    }

    #[test]
    fn never_the_standfirst_nor_the_last_paragraph() {
        use BlockKind::*;
        let mut a = article(
            None,
            None,
            &[(Standfirst, NAG), (Paragraph, NAG), (Paragraph, BODY)],
        );
        let both = set(&[NAG, BODY]);
        assert_eq!(strip(&mut a, &both), 1);
        assert_eq!(
            a.blocks,
            [Block::new(Standfirst, NAG), Block::new(Paragraph, BODY)]
        );
        // Without paragraphs there is nothing to keep one of: no removal at all.
        let mut list = article(None, None, &[(ListItem, NAG), (ListItem, BODY)]);
        assert_eq!(strip(&mut list, &both), 0);
        assert_eq!(list.blocks.len(), 2);
    }

    #[test]
    fn source_html_loses_the_removed_elements_only() {
        use BlockKind::*;
        let mut a = article(None, None, &[(Paragraph, BODY), (Paragraph, NAG)]);
        a.content_html = format!(
            r#"<p><a href="https://example.org/pier">{BODY}</a></p><div class="nag"><p>Support our   journalism: 7 free articles left this month.</p></div>"#
        );
        assert_eq!(strip(&mut a, &set(&[NAG])), 1);
        assert_eq!(
            a.content_html,
            format!(r#"<p><a href="https://example.org/pier">{BODY}</a></p>"#)
        );
        // HTML that does not show the block as an element of its own is
        // rendered from the blocks: the block must not be served.
        let mut b = article(None, None, &[(Paragraph, BODY), (Paragraph, NAG)]);
        b.content_html = format!("<p>{BODY}<br>{NAG}</p>");
        assert_eq!(strip(&mut b, &set(&[NAG])), 1);
        assert_eq!(b.content_html, ingest::blocks_html(&b.blocks));
    }
}
