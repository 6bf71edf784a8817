//! Where the article's body ends: the densest run of prose.

use super::{Class, Prose};

impl Prose {
    /// Index of the last line of the densest run of content (Kadane's
    /// maximum-sum run over the line weights). `listed` marks list items
    /// that are content only because they are in a list.
    pub(super) fn body_end(
        &self,
        classes: &[Class],
        counts: &[usize],
        listed: &[bool],
        table: &[bool],
    ) -> usize {
        let t = &self.t;
        let weight = |i: usize| -> i64 {
            match classes[i] {
                // A list cannot start or extend the body alone: "Most
                // read" lists are lists too.
                Class::Content if listed[i] => 0,
                Class::Content => counts[i].min(t.content_cap) as i64,
                // Fragments are clutter by the time the boundary is sought.
                Class::Clutter | Class::Fragment => -(t.clutter_cost as i64),
                Class::Unsure => -(t.unsure_cost as i64),
            }
        };
        let (mut best, mut best_end) = (i64::MIN, classes.len() - 1);
        let mut run = 0i64;
        let mut clutter_run = 0u32;
        for (i, class) in classes.iter().enumerate() {
            // One promo line inside the body costs little; each further
            // line of a block of furniture costs more than the one before,
            // so prose after a long block (comments) is not taken for more
            // body, while prose after a quote box still is.
            clutter_run = match class {
                // A table row costs the same wherever it stands.
                Class::Clutter if table[i] => clutter_run,
                Class::Clutter => clutter_run + 1,
                _ => 0,
            };
            let w = if table[i] && *class == Class::Clutter {
                weight(i)
            } else {
                weight(i) * i64::from(clutter_run.max(1))
            };
            run = (run + w).max(w);
            if run > best {
                best = run;
                best_end = i;
            }
        }
        if best <= 0 {
            classes.len() - 1
        } else {
            best_end
        }
    }
}
