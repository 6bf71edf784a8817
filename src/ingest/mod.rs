//! Ingest: raw bytes → one normalized [`Article`].
//!
//! Pure and synchronous: no clock reads, no IO. [`read`] is the one entry
//! point: the bytes are decoded (`decode`, one charset policy for every
//! format), their format sniffed (`detect`, with the caller's typed
//! [`Format`] hint settling what the content leaves open), handed to one
//! parser per format (`text`, `html`, `json`, `markdown`), each of which
//! fills a [`Draft`]; `assemble` then derives what every article has
//! whatever its source: language (`lang`), summary, sanitized HTML, id and
//! fingerprint (`identity`). An upstream feed (`feed`) is a
//! [`Document::Feed`] of one draft per entry, which the pipeline assembles.
//!
//! The parsers share one line engine, so a byline or a share bar means
//! the same in every format:
//!
//! - `lines`: body text → cleaned lines → classified → a `Body` of blocks,
//!   authors and dates;
//! - `meta`: byline and stated-date lines → authors and dates;
//! - `byline`: a byline's text → author names;
//! - `shape`: content lines → blocks (standfirst, subheadings, list items,
//!   quotes, paragraphs), reader comments and pull quotes dropped.
//!
//! `text` itself is only the scrape's title pass in front of that engine.
//! Boilerplate patterns live in `boilerplate.toml` (compiled by
//! `boilerplate`), not in code; `clean` and `dates` hold the line hygiene
//! and date parsing every parser uses. `dom` is the HTML side's text
//! layout and pruning, shared by pages, feed entries and JSON bodies.

pub mod boilerplate;
mod byline;
pub mod clean;
mod consent;
pub mod dates;
pub mod decode;
pub mod detect;
mod dom;
pub mod feed;
mod headline;
pub mod html;
pub mod identity;
pub mod json;
pub mod lang;
mod lines;
pub mod markdown;
mod masthead;
#[cfg(test)]
mod media_tests;
mod meta;
pub mod nesting;
mod prose;
mod shape;
pub mod text;
mod title;
#[cfg(test)]
mod unseen_shapes;

use chrono::{DateTime, Utc};

pub use boilerplate::Boilerplate;
pub use detect::Format;

use crate::model::{Article, Block, BlockKind};

/// How long a summary may be, in characters.
pub const SUMMARY_CHARS: usize = 300;

/// Why an input gave no article. Messages are shown to users as
/// "FILE: message", so they say what is wrong and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("not text: the input holds binary data")]
    Binary,
    #[error("empty: the input holds nothing but whitespace")]
    Empty,
    #[error("no article found: {0}")]
    NoArticle(&'static str),
    #[error("{format}: {}{reason}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    Field {
        format: &'static str,
        field: Option<String>,
        reason: String,
    },
    #[error("HTML: {0}")]
    Html(String),
    #[error(
        "this is an RSS/Atom/JSON feed, not an article: list it in feeds/sources.toml to poll it, or drop it in an inbox"
    )]
    Feed,
}

/// One input to read: bytes plus what the caller knows about them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    pub bytes: &'a [u8],
    /// The format the caller believes this is (from a `Content-Type`, a
    /// file extension): it settles what the content leaves open, never
    /// overrides what the content says.
    pub hint: Option<Format>,
    /// The transport's charset label (HTTP `Content-Type`), honoured by
    /// every format alike (see [`decode::decode_text`]).
    pub charset: Option<&'a str>,
    /// Where the document came from, if known: relative links resolve
    /// against it, and its canonical form becomes the id.
    pub url: Option<&'a str>,
}

impl<'a> Input<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Input {
            bytes,
            ..Input::default()
        }
    }

    /// An input read from a file: its extension is the format hint.
    pub fn file(bytes: &'a [u8], path: &std::path::Path) -> Self {
        Input {
            bytes,
            hint: path
                .extension()
                .and_then(|e| e.to_str())
                .and_then(Format::from_extension),
            ..Input::default()
        }
    }

    pub fn with_hint(self, hint: Option<Format>) -> Self {
        Input { hint, ..self }
    }

    pub fn with_url(self, url: Option<&'a str>) -> Self {
        Input { url, ..self }
    }

    pub fn with_charset(self, charset: Option<&'a str>) -> Self {
        Input { charset, ..self }
    }
}

/// What an input turned out to hold: one article, or a feed of many
/// (a feed is a result, not an error).
#[derive(Debug, Clone)]
pub enum Document {
    Article(Box<Article>),
    Feed(feed::FeedDocument),
}

/// What a format parser gave, before the derived fields are computed.
#[derive(Debug, Clone)]
pub enum Parsed {
    Article(Box<Draft>),
    Feed(feed::FeedDocument),
}

/// What a format parser found, before the derived fields are computed.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    pub title: String,
    pub site: Option<String>,
    pub url: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// A language the source stated; detection fills it otherwise.
    pub language: Option<String>,
    /// A summary the source stated; otherwise taken from the body.
    pub summary: Option<String>,
    pub blocks: Vec<Block>,
    /// Sanitized HTML the source provided; otherwise rendered from `blocks`.
    pub html: Option<String>,
    /// A feed entry's guid (RSS `guid`, Atom/JSON `id`), when it names this
    /// entry alone in its feed: the id then comes from it, not the link.
    pub guid: Option<String>,
    /// The feed the guid belongs to (its URL when known, else its title):
    /// guids are only unique within one feed.
    pub guid_scope: Option<String>,
    /// A feed entry, which may be a headline and a link alone (podcast
    /// episodes, link posts): readers show those, so they are articles
    /// with an empty body. Pages and documents still need body text.
    pub feed_entry: bool,
    /// Fields dropped on the way (a date that is not one, a field of the
    /// wrong type): they become the article's notes.
    pub notes: Vec<String>,
    /// The lead image the source named (relative URLs are resolved against
    /// `url` here in assemble).
    pub image: Option<crate::model::Image>,
    /// Media files of a feed entry, republished as given.
    pub enclosures: Vec<crate::model::Enclosure>,
}

/// Compiles the built-in rules on a thread of their own, once per
/// process, for a caller that knows documents are coming: their first use
/// then does not wait the tens of milliseconds the compile takes.
pub fn warm_up() {
    static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !STARTED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        std::thread::spawn(|| {
            Boilerplate::builtin();
        });
    }
}

/// Reads one input of any format with the built-in boilerplate rules:
/// the one entry point every way in (files, inbox, poller, HTTP API) uses.
pub fn read(input: Input<'_>) -> Result<Document, IngestError> {
    read_with(input, Boilerplate::builtin())
}

pub fn read_with(input: Input<'_>, rules: &Boilerplate) -> Result<Document, IngestError> {
    Ok(match parse_with(input, rules)? {
        Parsed::Article(draft) => Document::Article(Box::new(assemble(*draft)?)),
        Parsed::Feed(feed) => Document::Feed(feed),
    })
}

/// Reads one input that must be a single article (`topicfeed normalize`):
/// a feed is [`IngestError::Feed`].
pub fn normalize(input: Input<'_>) -> Result<Article, IngestError> {
    normalize_with(input, Boilerplate::builtin())
}

pub fn normalize_with(input: Input<'_>, rules: &Boilerplate) -> Result<Article, IngestError> {
    match read_with(input, rules)? {
        Document::Article(a) => Ok(*a),
        Document::Feed(_) => Err(IngestError::Feed),
    }
}

/// Decodes, detects and parses, stopping short of [`assemble`]: for
/// callers that merge drafts first (a feed entry with its full page).
pub fn parse_with(input: Input<'_>, rules: &Boilerplate) -> Result<Parsed, IngestError> {
    let text = decode::decode(input.bytes, input.charset).map_err(|e| match e {
        decode::DecodeError::Binary => IngestError::Binary,
        decode::DecodeError::Empty => IngestError::Empty,
    })?;
    let mut draft = match detect::detect(&text, input.hint) {
        Format::Text => {
            text::parse(&text, rules).ok_or(IngestError::NoArticle("no headline line"))?
        }
        Format::Html => html::parse_page(&text, input.url, rules)?,
        Format::Json => json::parse(&text, rules)?,
        Format::Markdown => markdown::parse(&text, rules)?,
        // A lone Atom entry document is one article; anything else is a
        // feed of many.
        Format::Feed => match feed::parse_entry_document(&text, input.url, rules) {
            Err(IngestError::Feed) => {
                return Ok(Parsed::Feed(feed::parse_feed_with(
                    input.bytes,
                    input.url,
                    input.charset,
                    rules,
                )?));
            }
            other => other?,
        },
    };
    if draft.url.is_none() {
        draft.url = input.url.map(str::to_owned);
    }
    Ok(Parsed::Article(Box::new(draft)))
}

/// How far ahead of now a stated date may be (time zones, clocks, embargoed
/// stories published a little early) before it is taken for garbage.
const FUTURE_DAYS: i64 = 2;

/// Derives the fields every article has from a format parser's draft.
pub fn assemble(draft: Draft) -> Result<Article, IngestError> {
    let Draft {
        title,
        site,
        url,
        authors,
        published,
        updated,
        language,
        summary,
        blocks,
        html,
        guid,
        guid_scope,
        feed_entry,
        notes: draft_notes,
        image,
        enclosures,
    } = draft;
    let title = clean::clean_line(&title);
    if title.is_empty() {
        return Err(IngestError::NoArticle("no title"));
    }
    if blocks.is_empty() && !(feed_entry && url.is_some()) {
        return Err(IngestError::NoArticle("a title but no body text"));
    }
    let body = crate::model::blocks_text(&blocks);
    let language = language.or_else(|| lang::detect(&body).map(str::to_owned));
    let summary = summary
        .map(|s| clean::truncate_words(&clean::clean_line(&s), SUMMARY_CHARS))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| summarize(&blocks));
    // The most stable key first: a guid outlives link and text edits, a
    // link key outlives text edits; the text is the last resort.
    let key = match (guid.as_deref(), guid_scope.as_deref(), url.as_deref()) {
        (Some(g), Some(scope), _) => Some(identity::guid_key(g, scope)),
        (_, _, Some(link)) => Some(identity::ItemKey::Link(link)),
        _ => None,
    };
    let (id, fingerprint) = match key.and_then(identity::item_id) {
        Some(id) => (id, identity::fingerprint(&body)),
        None => identity::identify(None, &title, &body),
    };
    let content_html = html.unwrap_or_else(|| blocks_html(&blocks));
    // A date far ahead is a typo or an attempt to pin the article to the top
    // of every feed (9999-12-31): it costs the article that date only.
    let horizon = chrono::Utc::now() + chrono::Duration::days(FUTURE_DAYS);
    let future: Vec<(&str, DateTime<Utc>)> = [("published", published), ("updated", updated)]
        .into_iter()
        .filter_map(|(field, when)| Some((field, when?)).filter(|(_, w)| *w > horizon))
        .collect();
    let (published, updated) = (
        published.filter(|p| *p <= horizon),
        updated.filter(|u| *u <= horizon),
    );
    // A link that is not absolute http(s) never leaves topicfeed.
    let public = url.as_deref().and_then(identity::public_url);
    let mut notes = draft_notes;
    for (field, when) in future {
        notes.push(format!(
            "dropped `{field}` {}: more than {FUTURE_DAYS} days ahead",
            crate::model::rfc3339(&when)
        ));
    }
    if let (Some(raw), None) = (&url, &public) {
        notes.push(format!(
            "dropped the link `{}`: not an absolute http(s) URL",
            clean::truncate_words(raw, 80)
        ));
    }
    // Media URLs resolve against the article's page.
    let page = url.as_deref().and_then(|u| url::Url::parse(u).ok());
    let image = image.and_then(|img| {
        let absolute = crate::model::absolute_http(&img.url, page.as_ref());
        if absolute.is_none() {
            notes.push(format!(
                "dropped the image `{}`: not an http(s) URL",
                clean::truncate_words(&img.url, 80)
            ));
        }
        Some(crate::model::Image {
            url: absolute?,
            ..img
        })
    });
    let enclosures = enclosures
        .into_iter()
        .filter_map(|e| {
            Some(crate::model::Enclosure {
                url: crate::model::absolute_http(&e.url, page.as_ref())?,
                ..e
            })
        })
        .collect();
    Ok(Article {
        id,
        title,
        site,
        url: public,
        authors,
        published,
        // An "updated" before publication is a typo in the source; keep the facts ordered.
        updated: updated.filter(|u| published.is_none_or(|p| *u >= p)),
        language,
        summary,
        fingerprint,
        blocks,
        content_html,
        topics: Vec::new(),
        tags: Vec::new(),
        image,
        enclosures,
        notes,
    })
}

/// The standfirst when there is one, else the opening paragraphs, cut to
/// about [`SUMMARY_CHARS`] on a word boundary. Public for the pipeline,
/// which derives it again when it removes a site's learned boilerplate.
pub fn summarize(blocks: &[Block]) -> String {
    if let Some(first) = blocks.first()
        && first.kind == BlockKind::Standfirst
    {
        return clean::truncate_words(&first.text, SUMMARY_CHARS);
    }
    let mut out = String::new();
    for b in blocks.iter().filter(|b| b.kind == BlockKind::Paragraph) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&b.text);
        if out.chars().count() >= SUMMARY_CHARS {
            break;
        }
    }
    if out.is_empty() {
        out = blocks.first().map(|b| b.text.clone()).unwrap_or_default();
    }
    clean::truncate_words(&out, SUMMARY_CHARS)
}

/// Renders blocks as HTML. Text is escaped, so the result is safe by
/// construction and needs no sanitizer pass.
pub fn blocks_html(blocks: &[Block]) -> String {
    let mut out = String::with_capacity(blocks.iter().map(|b| b.text.len() + 16).sum());
    let mut in_list = false;
    for b in blocks {
        if in_list && b.kind != BlockKind::ListItem {
            out.push_str("</ul>");
            in_list = false;
        }
        let text = html_escape::encode_text(&b.text);
        match b.kind {
            BlockKind::Standfirst => {
                out.push_str("<p><strong>");
                out.push_str(&text);
                out.push_str("</strong></p>");
            }
            BlockKind::Paragraph => {
                out.push_str("<p>");
                out.push_str(&text);
                out.push_str("</p>");
            }
            BlockKind::Subheading => {
                out.push_str("<h2>");
                out.push_str(&text);
                out.push_str("</h2>");
            }
            BlockKind::Quote => {
                out.push_str("<blockquote><p>");
                out.push_str(&text);
                out.push_str("</p></blockquote>");
            }
            BlockKind::ListItem => {
                if !in_list {
                    out.push_str("<ul>");
                    in_list = true;
                }
                out.push_str("<li>");
                out.push_str(&text);
                out.push_str("</li>");
            }
        }
        out.push('\n');
    }
    if in_list {
        out.push_str("</ul>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_rendering_escapes_and_groups_lists() {
        let html = blocks_html(&[
            Block::new(BlockKind::Paragraph, "a < b & <script>"),
            Block::new(BlockKind::ListItem, "one"),
            Block::new(BlockKind::ListItem, "two"),
            Block::new(BlockKind::Subheading, "Next"),
        ]);
        assert_eq!(
            html,
            "<p>a &lt; b &amp; &lt;script&gt;</p>\n<ul><li>one</li>\n<li>two</li>\n</ul><h2>Next</h2>\n"
        );
    }

    #[test]
    fn summary_is_cut_on_a_word() {
        let long = "word ".repeat(200);
        let s = summarize(&[Block::new(BlockKind::Paragraph, long.trim())]);
        assert!(
            s.chars().count() <= SUMMARY_CHARS + 1 && s.ends_with("word…"),
            "{s}"
        );
    }

    #[test]
    fn errors_for_non_articles() {
        let err = |b: &[u8]| normalize(Input::new(b)).unwrap_err().to_string();
        assert!(err(b"\x00\x01\x02binary").contains("binary"));
        assert!(err(b"   ").contains("empty"));
        assert!(err(b"Just a headline").contains("no body"));
        assert!(err(b"<?xml version=\"1.0\"?><rss version=\"2.0\"></rss>").contains("feed"));
    }

    #[test]
    fn the_language_is_the_bodys() {
        let language = |text: &str| normalize(Input::new(text.as_bytes())).unwrap().language;
        // Clutter in another language above the story is not the story's:
        // the language is read on the body, after the clutter went.
        let under_headlines = concat!(
            "Le port ferme ses quais aux camions\n",
            "\n",
            "Ferry strike ends after talks with the union and the port\n",
            "Council to vote on the budget for the new school in the town\n",
            "Storm warning for the coast as the wind picks up over the weekend\n",
            "Harbour museum to open a new wing in the spring of next year\n",
            "Police appeal for witnesses after a crash on the coast road\n",
            "Local team wins the cup for the third time in a row at home\n",
            "Bus fares to rise in the new year, the operator says to the press\n",
            "Fishing fleet returns to the port with a record catch of the year\n",
            "Hospital waiting times are the longest in the region for a decade\n",
            "Library hours cut as the council looks for savings in the budget\n",
            "\n",
            "Le conseil municipal a voté mardi soir la fermeture des quais aux camions, et les habitants du quartier se disent inquiets pour leurs commerces et pour la circulation dans le centre.\n",
            "\n",
            "Selon la mairie, les travaux dureront au moins deux ans et la circulation sera déviée par le boulevard du front de mer pendant toute la durée du chantier.\n",
            "\n",
            "Les commerçants ont demandé une réunion avec le maire pour discuter des compensations prévues par la ville.\n",
        );
        assert_eq!(language(under_headlines).as_deref(), Some("fr"));
        // An English promotion above a French story.
        let fr = "Le port ferme ses quais aux camions | Le Courrier du Port\n\n\
            Subscribe to our newsletter for the latest news and offers from the team.\n\n\
            Le conseil municipal a voté mardi soir la fermeture des quais aux camions, et les \
            habitants du quartier se disent inquiets pour leurs commerces.\n\n\
            Selon la mairie, les travaux dureront au moins deux ans et la circulation sera \
            déviée par le boulevard du front de mer pendant toute la durée du chantier.";
        assert_eq!(language(fr).as_deref(), Some("fr"));
        let de = "Die Brücke bleibt gesperrt | Der Hafenbote\n\n\
            Der Stadtrat hat am Dienstag beschlossen, die alte Brücke für Lastwagen zu sperren, \
            und die Anwohner sind besorgt, weil der Verkehr nun durch die engen Gassen der \
            Altstadt fließen wird und die Arbeiten mindestens zwei Jahre dauern sollen.";
        assert_eq!(language(de).as_deref(), Some("de"));
        // Too short for the stopword count: the trigram detector decides.
        let es = "Huelga en el puerto\n\nLos estibadores dejaron de trabajar el lunes por la \
            mañana, según informó el sindicato.";
        assert_eq!(language(es).as_deref(), Some("es"));
    }

    #[test]
    fn same_input_same_id_and_url_wins() {
        let a = normalize(Input::new(
            b"Port strike\n\nDock workers walked out on Monday, the union said.",
        ))
        .unwrap();
        let b = normalize(Input::new(
            b"Port strike\r\n\r\nDock workers walked out on Monday, the union said.",
        ))
        .unwrap();
        assert_eq!(a.id, b.id);
        let c = normalize(
            Input::new(b"Port strike\n\nDock workers walked out on Monday, the union said.")
                .with_url(Some("https://example.org/a?utm_source=x")),
        )
        .unwrap();
        assert_ne!(a.id, c.id);
        assert_eq!(c.url.as_deref(), Some("https://example.org/a"));
    }
}
