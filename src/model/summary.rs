//! What ingesting did: the [`Outcome`] of one stored article and the
//! [`Summary`] of many. Every way in (files, inbox, poller, HTTP API)
//! reports in these words, so one line reads the same wherever it appears.

use std::fmt;

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A story that was not there before.
    New,
    /// A known article with different content or topics.
    Updated,
    /// A known article, byte for byte the same as last time.
    Unchanged,
    /// A copy of another story (or a changed copy already merged into one):
    /// kept only as an extra source of `story_id`.
    Duplicate { story_id: String },
}

impl Outcome {
    /// The word used in summaries and `--report-stored` lines.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::New => "new",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Duplicate { .. } => "duplicate",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An input (a file, a feed entry, a request body) that gave no stored
/// article, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What failed: a file path, a feed entry's link, `request body`.
    pub subject: String,
    pub reason: String,
    pub cause: Cause,
}

/// Whose fault a [`Failure`] is, which decides what the caller says back
/// (400, 500 or 507 over HTTP; keep or retry an inbox file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The input cannot be stored as it is.
    Input,
    /// The store refused: worth retrying as is.
    Store,
    /// The store's disk is full: retry once there is space.
    DiskFull,
}

/// How a store failure caused by a full disk reads.
pub const DISK_FULL: &str = "the disk is full; nothing was written (free space and send it again)";

impl Failure {
    /// The store refused for want of space, not because of the input.
    pub fn disk_full(&self) -> bool {
        self.cause == Cause::DiskFull
    }

    /// The store refused (for any reason), not the input.
    pub fn is_store(&self) -> bool {
        self.cause != Cause::Input
    }
}

/// Counts of what one ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub duplicate: usize,
    /// Sorted by subject once the ingest is complete.
    pub failed: Vec<Failure>,
}

impl Summary {
    pub fn record(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::New => self.new += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Duplicate { .. } => self.duplicate += 1,
        }
    }

    pub fn fail(&mut self, subject: impl Into<String>, reason: impl Into<String>) {
        self.failed.push(Failure {
            subject: subject.into(),
            reason: reason.into(),
            cause: Cause::Input,
        });
    }

    /// Articles the store holds now (whatever their outcome).
    pub fn stored(&self) -> usize {
        self.new + self.updated + self.unchanged + self.duplicate
    }
}

impl fmt::Display for Summary {
    /// `new 3998, updated 0, unchanged 0, duplicate 2, failed 0`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "new {}, updated {}, unchanged {}, duplicate {}, failed {}",
            self.new,
            self.updated,
            self.unchanged,
            self.duplicate,
            self.failed.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line() {
        let mut s = Summary::default();
        s.record(&Outcome::New);
        s.record(&Outcome::Duplicate {
            story_id: "x".into(),
        });
        s.fail("a.txt", "empty");
        assert_eq!(
            s.to_string(),
            "new 1, updated 0, unchanged 0, duplicate 1, failed 1"
        );
        assert_eq!(s.stored(), 2);
    }
}
