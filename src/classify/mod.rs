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
use matcher::{Counts, Matcher, TopicHits};

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
}

impl Classifier {
    pub fn new(topics: Vec<Topic>) -> Classifier {
        Classifier {
            matcher: Matcher::new(topics),
        }
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

    /// Classifies by title and body text.
    pub fn classify_text(
        &self,
        title: &str,
        body: &str,
        site: Option<&str>,
        url: Option<&str>,
    ) -> Classification {
        let hits = self.matcher.scan(title, body);
        let mut out = Classification::default();
        for (ti, h) in hits {
            let topic = &self.topics()[ti as usize];
            let result = evaluate(topic, &h, site, url);
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
        article.topics = self.classify(article).slugs();
        article.tags = tags::extract(article);
    }
}

fn term_hits(terms: &[String], hits: &std::collections::HashMap<u32, Counts>) -> Vec<TermHit> {
    let mut out: Vec<TermHit> = hits
        .iter()
        .map(|(&i, &(title, body))| TermHit {
            term: terms[i as usize].clone(),
            title,
            body,
        })
        .collect();
    out.sort_by(|a, b| a.term.cmp(&b.term));
    out
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

fn evaluate(topic: &Topic, h: &TopicHits, site: Option<&str>, url: Option<&str>) -> TopicResult {
    let hits = term_hits(&topic.any, &h.any);
    let score = hits
        .iter()
        .map(|t| t.title * topic.title_weight + t.body)
        .sum::<u32>();
    let excluded = term_hits(&topic.none, &h.none);
    let missing: Vec<String> = (0..topic.all.len() as u32)
        .filter(|i| !h.all.contains_key(i))
        .map(|i| topic.all[i as usize].clone())
        .collect();
    let mut all_hits = term_hits(&topic.all, &h.all);
    let miss = if !excluded.is_empty() {
        Some(Miss::Excluded(excluded))
    } else if !missing.is_empty() {
        Some(Miss::MissingAll(missing))
    } else if !topic.any.is_empty() && score < topic.min_hits {
        Some(Miss::BelowThreshold {
            score,
            min_hits: topic.min_hits,
        })
    } else if !from_source(topic, site, url) {
        Some(Miss::NotFromSource {
            site: site.map(str::to_owned),
        })
    } else {
        None
    };
    let mut hits = hits;
    hits.append(&mut all_hits);
    TopicResult {
        slug: topic.slug.clone(),
        score,
        hits,
        miss,
    }
}
