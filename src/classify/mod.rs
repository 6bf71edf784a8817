//! Classify: an [`Article`] → its topics and tags. Pure: no IO.
//!
//! Topics are data (`feeds/*.toml`, see [`config`]), compiled once into a
//! [`Classifier`] that is shared behind an `Arc` and swapped whole when the
//! files change. Besides the verdict, a classification explains itself: the
//! terms that matched and where, and why near misses missed.

pub mod config;
pub mod matcher;
pub mod tags;

use std::fmt;
use std::path::Path;

pub use config::{ConfigError, Field, Topic};
use matcher::{Hit, Matcher, Rule};

use crate::model::Article;

/// One term's hits in one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermHit {
    pub term: String,
    pub title: u32,
    pub body: u32,
}

impl fmt::Display for TermHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut places = Vec::new();
        if self.title > 0 {
            places.push(format!("title ×{}", self.title));
        }
        if self.body > 0 {
            places.push(format!("body ×{}", self.body));
        }
        write!(f, "\"{}\" ({})", self.term, places.join(", "))
    }
}

/// Why a topic that some terms pointed at did not take the article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    Excluded(Vec<TermHit>),
    BelowThreshold { score: u32, min_hits: u32 },
    MissingAll(Vec<String>),
    NotFromSource { site: Option<String> },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Excluded(hits) => write!(f, "excluded by `none`: {}", join(hits)),
            Miss::BelowThreshold { score, min_hits } => {
                write!(f, "score {score} below min_hits {min_hits}")
            }
            Miss::MissingAll(terms) => write!(f, "`all` terms missing: {}", terms.join(", ")),
            Miss::NotFromSource { site } => write!(
                f,
                "source {} is not in `sources`",
                site.as_deref().unwrap_or("(unknown)")
            ),
        }
    }
}

fn join(hits: &[TermHit]) -> String {
    hits.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdict for one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicResult {
    pub slug: String,
    /// `any` hits weighted (title hits count `title_weight`).
    pub score: u32,
    pub hits: Vec<TermHit>,
    /// `None` when the article is in the topic.
    pub miss: Option<Miss>,
}

/// Topics an article is in, and the near misses, both sorted by slug.
#[derive(Debug, Clone, Default)]
pub struct Classification {
    pub matched: Vec<TopicResult>,
    pub near: Vec<TopicResult>,
}

impl Classification {
    pub fn slugs(&self) -> Vec<String> {
        self.matched.iter().map(|t| t.slug.clone()).collect()
    }
}

/// A compiled topic set.
pub struct Classifier {
    matcher: Matcher,
    /// Which topic set this is, unique in the process: what was rendered
    /// with one set (titles, which topics are private) is not served under
    /// another.
    generation: u64,
}

impl Classifier {
    pub fn new(topics: Vec<Topic>) -> Classifier {
        static LOADED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Classifier {
            matcher: Matcher::new(topics),
            generation: LOADED.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// See the field: distinct for every set built in this process.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Loads and compiles `feeds/`; every problem is reported.
    pub fn load(dir: &Path) -> Result<Classifier, Vec<ConfigError>> {
        config::load_dir(dir).map(Classifier::new)
    }

    pub fn topics(&self) -> &[Topic] {
        self.matcher.topics()
    }

    pub fn topic(&self, slug: &str) -> Option<&Topic> {
        self.topics().iter().find(|t| t.slug == slug)
    }

    /// The topics any reader may see listed: those without a read key.
    pub fn public_topics(&self) -> impl Iterator<Item = &Topic> {
        self.topics().iter().filter(|t| t.key.is_none())
    }

    /// The slugs of the topics with a read key of their own.
    pub fn private_slugs(&self) -> impl Iterator<Item = String> + '_ {
        self.topics()
            .iter()
            .filter(|t| t.key.is_some())
            .map(|t| t.slug.clone())
    }

    /// Classifies by title and body text, with explanations: the terms
    /// that matched and where, and why near misses missed.
    pub fn classify_text(
        &self,
        title: &str,
        body: &str,
        site: Option<&str>,
        url: Option<&str>,
    ) -> Classification {
        let hits = self.matcher.scan(title, body);
        let mut out = Classification::default();
        for group in hits.chunk_by(|a, b| a.topic == b.topic) {
            let topic = &self.topics()[group[0].topic as usize];
            let result = explain(topic, group, site, url);
            if result.miss.is_none() {
                out.matched.push(result);
            } else {
                out.near.push(result);
            }
        }
        out.matched.sort_by(|a, b| a.slug.cmp(&b.slug));
        out.near.sort_by(|a, b| a.slug.cmp(&b.slug));
        out
    }

    /// The slugs an article is in, sorted: the ingest path, which needs no
    /// explanation and so allocates nothing per touched topic.
    pub fn topics_for(
        &self,
        title: &str,
        body: &str,
        site: Option<&str>,
        url: Option<&str>,
    ) -> Vec<String> {
        let hits = self.matcher.scan(title, body);
        let mut out: Vec<String> = hits
            .chunk_by(|a, b| a.topic == b.topic)
            .filter_map(|group| {
                let topic = &self.topics()[group[0].topic as usize];
                verdict(topic, group, site, url)
                    .is_none()
                    .then(|| topic.slug.clone())
            })
            .collect();
        out.sort();
        out
    }

    pub fn classify(&self, article: &Article) -> Classification {
        self.classify_text(
            &article.title,
            &article.content_text(),
            article.site.as_deref(),
            article.url.as_deref(),
        )
    }

    /// Fills `article.topics` and `article.tags`.
    pub fn apply(&self, article: &mut Article) {
        article.topics = self.topics_for(
            &article.title,
            &article.content_text(),
            article.site.as_deref(),
            article.url.as_deref(),
        );
        article.tags = tags::extract(article);
    }
}

/// Hits of one rule list, counted per term, for explanations.
fn term_hits(topic: &Topic, group: &[Hit], rule: Rule) -> Vec<TermHit> {
    let terms = match rule {
        Rule::Any => &topic.any,
        Rule::All => &topic.all,
        Rule::None => &topic.none,
    };
    let mut out: Vec<TermHit> = Vec::new();
    for same in group
        .iter()
        .filter(|h| h.rule == rule)
        .collect::<Vec<_>>()
        .chunk_by(|a, b| a.term == b.term)
    {
        let title = same.iter().filter(|h| h.field == Field::Title).count() as u32;
        out.push(TermHit {
            term: terms[same[0].term as usize].clone(),
            title,
            body: same.len() as u32 - title,
        });
    }
    out.sort_by(|a, b| a.term.cmp(&b.term));
    out
}

/// The `any` score: title hits weigh `title_weight`, body hits one.
fn score(topic: &Topic, group: &[Hit]) -> u32 {
    group
        .iter()
        .filter(|h| h.rule == Rule::Any)
        .map(|h| {
            if h.field == Field::Title {
                topic.title_weight
            } else {
                1
            }
        })
        .sum()
}

/// Why the topic does not take the article, or `None` when it does. Cheap:
/// no allocation unless there is a miss to describe.
fn verdict(topic: &Topic, group: &[Hit], site: Option<&str>, url: Option<&str>) -> Option<Miss> {
    if group.iter().any(|h| h.rule == Rule::None) {
        return Some(Miss::Excluded(term_hits(topic, group, Rule::None)));
    }
    let mut seen_all = 0;
    let mut last = None;
    for h in group.iter().filter(|h| h.rule == Rule::All) {
        if last != Some(h.term) {
            seen_all += 1;
            last = Some(h.term);
        }
    }
    if seen_all < topic.all.len() {
        let present: Vec<u32> = group
            .iter()
            .filter(|h| h.rule == Rule::All)
            .map(|h| h.term)
            .collect();
        let missing = (0..topic.all.len() as u32)
            .filter(|i| !present.contains(i))
            .map(|i| topic.all[i as usize].clone())
            .collect();
        return Some(Miss::MissingAll(missing));
    }
    let score = score(topic, group);
    if !topic.any.is_empty() && score < topic.min_hits {
        return Some(Miss::BelowThreshold {
            score,
            min_hits: topic.min_hits,
        });
    }
    if !from_source(topic, site, url) {
        return Some(Miss::NotFromSource {
            site: site.map(str::to_owned),
        });
    }
    None
}

fn explain(topic: &Topic, group: &[Hit], site: Option<&str>, url: Option<&str>) -> TopicResult {
    let mut hits = term_hits(topic, group, Rule::Any);
    hits.extend(term_hits(topic, group, Rule::All));
    TopicResult {
        slug: topic.slug.clone(),
        score: score(topic, group),
        hits,
        miss: verdict(topic, group, site, url),
    }
}

fn from_source(topic: &Topic, site: Option<&str>, url: Option<&str>) -> bool {
    if topic.sources.is_empty() {
        return true;
    }
    let site = site.map(str::to_lowercase);
    let host = url.and_then(|u| url::Url::parse(u).ok()).and_then(|u| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_owned())
    });
    topic.sources.iter().any(|s| {
        site.as_deref() == Some(s.as_str()) || host.as_deref() == Some(s.trim_start_matches("www."))
    })
}

/// The topic set a long-running process classifies with: swapped whole
/// when `feeds/` changes, and kept as it was when the new files are bad,
/// so a typo in one topic file never takes the service down.
pub struct LiveTopics {
    dir: std::path::PathBuf,
    current: std::sync::RwLock<std::sync::Arc<Classifier>>,
    /// The generation of the set in `current`, readable without the lock
    /// or a count on the set: a poll whose feed URL was worked out under
    /// the set in force needs nothing else from it.
    generation: std::sync::atomic::AtomicU64,
}

impl LiveTopics {
    /// Loads `dir`; at start-up there is no last good set to fall back on.
    pub fn load(dir: &Path) -> Result<LiveTopics, Vec<ConfigError>> {
        let classifier = Classifier::load(dir)?;
        Ok(LiveTopics {
            dir: dir.to_owned(),
            generation: std::sync::atomic::AtomicU64::new(classifier.generation()),
            current: std::sync::RwLock::new(std::sync::Arc::new(classifier)),
        })
    }

    /// The generation of the set in force ([`Classifier::generation`]).
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The set in force. Cheap: an `Arc` clone under a read lock held only
    /// for that clone.
    pub fn get(&self) -> std::sync::Arc<Classifier> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            // A panic while swapping cannot leave a half-written Arc behind.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the directory. On success the new set replaces the old;
    /// on failure the old set stays in force and the errors are returned
    /// for the operator.
    pub fn reload(&self) -> Result<usize, Vec<ConfigError>> {
        let classifier = Classifier::load(&self.dir)?;
        let count = classifier.topics().len();
        let generation = classifier.generation();
        let new = std::sync::Arc::new(classifier);
        let mut guard = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = new;
        // Under the lock, after the swap: whoever reads the new number
        // finds the new set, and two reloads cannot leave the number of
        // one beside the set of the other.
        self.generation
            .store(generation, std::sync::atomic::Ordering::Release);
        drop(guard);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_reload_keeps_the_last_good_set() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ports.toml");
        std::fs::write(&file, "title = \"Ports\"\nany = [\"harbour\"]\n").expect("write");
        let live = LiveTopics::load(dir.path()).expect("load");
        let in_ports = |live: &LiveTopics| {
            live.get().topics_for("Harbour strike", "", None, None) == ["ports"]
        };
        assert!(in_ports(&live));

        std::fs::write(&file, "title = \"Ports\"\nany = [\"harbour\"\n").expect("write");
        let errors = live.reload().expect_err("broken file must not load");
        assert!(errors[0].to_string().contains("ports.toml"));
        assert!(in_ports(&live), "the last good set stays in force");

        std::fs::write(&file, "title = \"Ports\"\nany = [\"dock\"]\n").expect("write");
        assert_eq!(live.reload().expect("good again"), 1);
        assert!(!in_ports(&live), "the new set replaced the old");
    }
}
