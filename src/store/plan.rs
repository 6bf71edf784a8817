//! The page query both SQL backends run: keyset ranges over the ordered
//! indexes both schemas share (`story_topics_feed`, `sources_by_site`,
//! `stories_by_time`), with the other filters as indexed `EXISTS` probes.
//!
//! Written once in SQL both dialects read; PostgreSQL only renumbers the
//! placeholders ([`Sql::numbered`]). Keyword search differs per backend
//! and stays in each backend's `read`.

use super::filters::Filters;

/// SQL text with its positional parameters, built side by side.
#[derive(Default)]
pub struct Sql {
    /// Placeholders are `?`; [`Sql::numbered`] gives PostgreSQL's `$1`.
    pub text: String,
    pub params: Vec<Param>,
}

/// A parameter value: the columns queried are integers and text.
#[derive(Debug, Clone)]
pub enum Param {
    Int(i64),
    Text(String),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(v)
    }
}

impl Param {
    pub fn sqlite(&self) -> rusqlite::types::Value {
        match self {
            Param::Int(v) => (*v).into(),
            Param::Text(v) => v.clone().into(),
        }
    }

    pub fn postgres(&self) -> &(dyn tokio_postgres::types::ToSql + Sync) {
        match self {
            Param::Int(v) => v,
            Param::Text(v) => v,
        }
    }
}

impl Sql {
    /// The text with `?` placeholders numbered `$1`, `$2`… for PostgreSQL
    /// (no `?` appears in this module's SQL but as a placeholder).
    pub fn numbered(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        let mut n = 0;
        for c in self.text.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    pub fn arg(&mut self, v: impl Into<Param>) -> &mut Self {
        self.text.push('?');
        self.params.push(v.into());
        self
    }

    fn list<'a>(&mut self, items: impl IntoIterator<Item = &'a str>) -> &mut Self {
        self.text.push('(');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.arg(item.to_owned());
        }
        self.text.push(')');
        self
    }

    /// The keyset range: after the cursor, at or after `since`.
    pub fn range(&mut self, time: &str, id: &str, f: &Filters) -> &mut Self {
        if let Some(c) = &f.cursor {
            // The first conjunct bounds the index range; the second breaks
            // ties on the cursor's own second by id.
            self.push(&format!(" AND {time} <= "))
                .arg(c.sort_time)
                .push(&format!(" AND ({time} < "))
                .arg(c.sort_time)
                .push(&format!(" OR {id} > "))
                .arg(c.id.clone())
                .push(")");
        }
        if let Some(since) = f.since {
            self.push(&format!(" AND {time} >= ")).arg(since);
        }
        self
    }

    /// Per-story probes for the filters the driver does not apply itself.
    pub fn probes(
        &mut self,
        sid: &str,
        f: &Filters,
        with_any: bool,
        with_source: bool,
    ) -> &mut Self {
        for slug in &f.all {
            self.push(&format!(
                " AND EXISTS (SELECT 1 FROM story_topics x WHERE x.sid = {sid} AND x.topic = "
            ))
            .arg(slug.clone())
            .push(")");
        }
        if !f.not.is_empty() {
            self.push(&format!(
                " AND NOT EXISTS (SELECT 1 FROM story_topics x WHERE x.sid = {sid} AND x.topic IN "
            ))
            .list(f.not.iter().map(String::as_str))
            .push(")");
        }
        if !f.hidden.is_empty() {
            // Out when it has a hidden topic and no other.
            self.push(&format!(
                " AND (NOT EXISTS (SELECT 1 FROM story_topics x WHERE x.sid = {sid} AND x.topic IN "
            ))
            .list(f.hidden.iter().map(String::as_str))
            .push(&format!(
                ") OR EXISTS (SELECT 1 FROM story_topics x WHERE x.sid = {sid} AND x.topic NOT IN "
            ))
            .list(f.hidden.iter().map(String::as_str))
            .push("))");
        }
        if with_any && !f.any.is_empty() {
            self.push(&format!(
                " AND EXISTS (SELECT 1 FROM story_topics x WHERE x.sid = {sid} AND x.topic IN "
            ))
            .list(f.any.iter().map(String::as_str))
            .push(")");
        }
        if let (true, Some(site)) = (with_source, &f.source) {
            self.push(&format!(
                " AND EXISTS (SELECT 1 FROM sources y WHERE y.sid = {sid} AND y.site_key = "
            ))
            .arg(site.clone())
            .push(")");
        }
        self
    }
}

/// The ordered scan for a page without keywords, cut at `limit` rows when
/// given (otherwise it streams as long as the caller reads).
pub fn driver(f: &Filters, limit: Option<usize>) -> Sql {
    let mut sql = Sql::default();
    let cut = |sql: &mut Sql| {
        if let Some(n) = limit {
            sql.push(" LIMIT ").arg(n as i64);
        }
    };
    if !f.any.is_empty() && (limit.is_some() || f.any.len() == 1) {
        // One ordered range per topic, each cut at the page size, merged;
        // UNION drops a story that is in two of them.
        let union = f.any.len() > 1;
        for (i, slug) in f.any.iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ");
            }
            if union {
                sql.push("SELECT * FROM (");
            }
            sql.push("SELECT t.sid, t.sort_time, t.id FROM story_topics t WHERE t.topic = ")
                .arg(slug.clone())
                .range("t.sort_time", "t.id", f)
                .probes("t.sid", f, false, true)
                .push(" ORDER BY t.sort_time DESC, t.id");
            cut(&mut sql);
            if union {
                // PostgreSQL wants every subquery named.
                sql.push(&format!(") AS r{i}"));
            }
        }
        if union {
            sql.push(" ORDER BY 2 DESC, 3");
            cut(&mut sql);
        }
    } else if let Some(site) = &f.source {
        sql.push(
            "SELECT DISTINCT y.sid, y.sort_time, y.story_id FROM sources y WHERE y.site_key = ",
        )
        .arg(site.clone())
        .range("y.sort_time", "y.story_id", f)
        .probes("y.sid", f, true, false)
        .push(" ORDER BY y.sort_time DESC, y.story_id");
        cut(&mut sql);
    } else {
        sql.push("SELECT s.sid, s.sort_time, s.id FROM stories s WHERE TRUE")
            .range("s.sort_time", "s.id", f)
            .probes("s.sid", f, true, false)
            .push(" ORDER BY s.sort_time DESC, s.id");
        cut(&mut sql);
    }
    sql
}
