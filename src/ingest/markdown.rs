//! Markdown with YAML (`---`) or TOML (`+++`) front matter → a [`Draft`].
//!
//! Front matter carries the metadata under the same names as JSON articles
//! (it is converted to a JSON object and read by the same code); the body is
//! parsed once with `pulldown-cmark` into blocks and rendered to HTML,
//! which is then sanitized like any other outside HTML. A body dense with
//! markup past [`MAX_MARKUP`] takes a linear plain-paragraph path instead,
//! which keeps its text (see there for why).

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::{Map, Value};

use super::boilerplate::Boilerplate;
use super::clean::{clean_line, sanitize_html};
use super::{Draft, IngestError, json, nesting};
use crate::model::{Block, BlockKind};

pub fn parse(input: &str, rules: &Boilerplate) -> Result<Draft, IngestError> {
    let (front, body) = split_front_matter(input)?;
    let body = &*nesting::flatten_markdown(body);
    let mut draft = match front {
        Some(obj) => json::metadata(&obj, "front matter", rules)?,
        None => Draft::default(),
    };
    let (title, blocks, html) = if markup_count(body) > MAX_MARKUP {
        // Over budget: plain paragraphs, HTML rendered later from them.
        let (title, blocks) = plain_blocks(body);
        (title, blocks, None)
    } else {
        let (title, blocks, html) = render(body);
        (title, blocks, Some(html))
    };
    if draft.title.is_empty() {
        draft.title = title.unwrap_or_default();
    }
    draft.blocks = blocks;
    if let Some(html) = html {
        let base = draft.url.as_deref().and_then(|u| url::Url::parse(u).ok());
        draft.html = Some(sanitize_html(&html, base.as_ref()));
    }
    if draft.title.is_empty() {
        return Err(IngestError::Field {
            format: "front matter",
            field: Some("title".into()),
            reason: "missing, and the body has no `# Heading` to take it from".into(),
        });
    }
    Ok(draft)
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_SMART_PUNCTUATION
}

type FrontMatter = Map<String, Value>;

/// Splits off front matter and converts it to a JSON object.
fn split_front_matter(input: &str) -> Result<(Option<FrontMatter>, &str), IngestError> {
    let err = |reason: String| IngestError::Field {
        format: "front matter",
        field: None,
        reason,
    };
    for (fence, yaml) in [("---", true), ("+++", false)] {
        let Some(rest) = input.strip_prefix(fence).and_then(|r| r.strip_prefix('\n')) else {
            continue;
        };
        let close = format!("\n{fence}");
        let Some(end) = rest
            .find(&close)
            .or_else(|| rest.starts_with(fence).then_some(0))
        else {
            return Err(err(format!("opened with `{fence}` but never closed")));
        };
        let (matter, after) = rest.split_at(end);
        let body = after
            .trim_start_matches('\n')
            .strip_prefix(fence)
            .unwrap_or(after)
            .trim_start_matches(['\n', '\r']);
        if let Err((key, depth)) = nesting::check_front_matter(matter, yaml) {
            return Err(IngestError::Field {
                format: "front matter",
                field: Some(key).filter(|k| !k.is_empty()),
                reason: format!(
                    "nested {depth} levels deep, more than the {} allowed",
                    nesting::MAX_FRONT_MATTER_DEPTH
                ),
            });
        }
        let value: Value = if yaml {
            serde_yaml_ng::from_str(matter).map_err(|e| err(format!("invalid YAML: {e}")))?
        } else {
            let t: toml::Value =
                toml::from_str(matter).map_err(|e| err(format!("invalid TOML: {e}")))?;
            toml_to_json(t)
        };
        return match value {
            Value::Object(obj) => Ok((Some(obj), body)),
            Value::Null => Ok((None, body)),
            _ => Err(err("expected key/value pairs".into())),
        };
    }
    Ok((None, input))
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        // TOML has a date type; articles want it as text for the date parser.
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// Most markup characters a body may hold and still go through
/// pulldown-cmark. Its cost grows with the number of nodes it builds, not
/// only with bytes: a 2 MiB body of `*a *a …`, `[[[…](x)` or 32-deep quote
/// towers (several hundred thousand markers) costs 200–400 ms to parse,
/// render and sanitize, against ~65 ms for 2 MiB of plain paragraphs.
/// 200,000 is a tenth of the 2 MiB API limit: no article written by a
/// person comes near it, so only hostile or machine-made bodies take the
/// plain-text path below, which keeps all their text.
const MAX_MARKUP: usize = 200_000;

/// Characters that open or close Markdown inline or container markup.
fn markup_count(body: &str) -> usize {
    body.bytes()
        .filter(|b| matches!(b, b'*' | b'_' | b'[' | b']' | b'`' | b'>' | b'<' | b'~'))
        .count()
}

/// The over-budget path: every blank-line-separated paragraph becomes one
/// paragraph block (a quote block when it opens with `>`), its text as
/// written (markers included) but for the leading quote markers of each
/// line; a first `# Heading` is the title, later `#` lines subheadings.
/// Linear in the body, and no text is lost.
fn plain_blocks(body: &str) -> (Option<String>, Vec<Block>) {
    let mut title = None;
    let mut out = Vec::new();
    let mut para = String::new();
    // Whether the paragraph opened inside a quote (`>`): it is a Quote
    // block then, as pulldown-cmark's path would make it.
    let mut quoted = false;
    for raw in body.lines().chain(std::iter::once("")) {
        let line = raw.trim_start_matches(|c: char| c == '>' || c.is_whitespace());
        if !line.is_empty() {
            if para.is_empty() {
                quoted = raw.trim_start().starts_with('>');
            } else {
                para.push(' ');
            }
            para.push_str(line);
            continue;
        }
        let heading = para.trim_start_matches('#');
        if heading.len() == para.len() || !heading.starts_with(' ') {
            let kind = if quoted {
                BlockKind::Quote
            } else {
                BlockKind::Paragraph
            };
            push(&mut out, Some(kind), &para);
        } else if para.len() - heading.len() == 1 && title.is_none() && out.is_empty() {
            title = Some(clean_line(heading));
        } else {
            push(&mut out, Some(BlockKind::Subheading), heading);
        }
        para.clear();
    }
    (title, out)
}

/// Blocks of the body, the text of a leading `# Heading` if any, and the
/// body rendered to HTML. One parse feeds both outputs: pulldown-cmark's
/// parse is most of the cost of a large body, so it must not run twice.
fn render(body: &str) -> (Option<String>, Vec<Block>, String) {
    let mut blocks = BlockBuilder::default();
    let mut html = String::with_capacity(body.len() + body.len() / 4);
    let events = Parser::new_ext(body, options()).inspect(|e| blocks.on(e));
    pulldown_cmark::html::push_html(&mut html, events);
    (blocks.title, blocks.out, html)
}

/// Turns the event stream into blocks, one event at a time.
#[derive(Default)]
struct BlockBuilder {
    out: Vec<Block>,
    title: Option<String>,
    text: String,
    current: Option<BlockKind>,
    quote_depth: usize,
    in_item: usize,
    is_h1: bool,
}

impl BlockBuilder {
    fn on(&mut self, event: &Event<'_>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                self.is_h1 = *level == HeadingLevel::H1;
                self.start(BlockKind::Subheading);
            }
            Event::Start(Tag::Paragraph) => {
                let kind = if self.quote_depth > 0 {
                    BlockKind::Quote
                } else if self.in_item > 0 {
                    BlockKind::ListItem
                } else {
                    BlockKind::Paragraph
                };
                self.start(kind);
            }
            Event::Start(Tag::BlockQuote(_)) => self.quote_depth += 1,
            Event::End(TagEnd::BlockQuote(_)) => {
                self.quote_depth = self.quote_depth.saturating_sub(1);
            }
            Event::Start(Tag::Item) => {
                self.in_item += 1;
                self.start(BlockKind::ListItem);
            }
            Event::End(TagEnd::Item) => {
                self.in_item = self.in_item.saturating_sub(1);
                self.flush();
            }
            Event::End(TagEnd::Heading(_)) => self.end_heading(),
            Event::End(TagEnd::Paragraph) => {
                self.flush();
                if self.in_item > 0 {
                    self.current = Some(BlockKind::ListItem);
                }
            }
            Event::Text(t) | Event::Code(t) => self.text.push_str(t),
            Event::SoftBreak | Event::HardBreak => self.text.push(' '),
            _ => {}
        }
    }

    fn start(&mut self, kind: BlockKind) {
        self.current = Some(kind);
        self.text.clear();
    }

    fn flush(&mut self) {
        push(&mut self.out, self.current.take(), &self.text);
        self.text.clear();
    }

    fn end_heading(&mut self) {
        let t = clean_line(&self.text);
        if self.is_h1 && self.title.is_none() && self.out.is_empty() {
            self.title = Some(t);
        } else {
            push(&mut self.out, Some(BlockKind::Subheading), &t);
        }
        self.current = None;
        self.text.clear();
    }
}

fn push(out: &mut Vec<Block>, kind: Option<BlockKind>, text: &str) {
    let text = clean_line(text);
    if let Some(kind) = kind
        && !text.is_empty()
    {
        out.push(Block::new(kind, text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter_and_blocks() {
        let md = "---\ntitle: Port strike\nauthor: Jane Roe\ndate: 2024-05-17T15:04:00Z\nurl: https://example.org/a\n---\n\nDock workers walked out.\n\n## Demands\n\n> We will not go back.\n\n- Higher pay\n- Safety rules\n";
        let d = parse(md, Boilerplate::builtin()).unwrap();
        assert_eq!(d.title, "Port strike");
        assert_eq!(d.authors, vec!["Jane Roe"]);
        assert!(d.published.is_some());
        let kinds: Vec<_> = d.blocks.iter().map(|b| (b.kind, b.text.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (BlockKind::Paragraph, "Dock workers walked out."),
                (BlockKind::Subheading, "Demands"),
                (BlockKind::Quote, "We will not go back."),
                (BlockKind::ListItem, "Higher pay"),
                (BlockKind::ListItem, "Safety rules"),
            ]
        );
        assert!(d.html.unwrap_or_default().contains("<h2>Demands</h2>"));
    }

    #[test]
    fn toml_front_matter_with_a_date_value() {
        let md =
            "+++\ntitle = \"Port strike\"\ndate = 2024-05-17T15:04:00Z\n+++\nBody text here.\n";
        let d = parse(md, Boilerplate::builtin()).unwrap();
        assert_eq!(
            d.published.map(|t| crate::model::rfc3339(&t)).as_deref(),
            Some("2024-05-17T15:04:00Z")
        );
    }

    #[test]
    fn title_from_heading_and_errors() {
        let d = parse("# Port strike\n\nBody.", Boilerplate::builtin()).unwrap();
        assert_eq!(d.title, "Port strike");
        let e = parse("---\ntitle: [unclosed\n---\nx", Boilerplate::builtin())
            .unwrap_err()
            .to_string();
        assert!(e.contains("front matter") && e.contains("YAML"), "{e}");
        let e = parse("---\ntitle: x\nbody", Boilerplate::builtin())
            .unwrap_err()
            .to_string();
        assert!(e.contains("never closed"), "{e}");
    }

    #[test]
    fn deep_front_matter_is_refused_naming_the_field() {
        for (fence, sep, open) in [
            ("---", ": ", "["),
            ("---", ": ", "{a: "),
            ("+++", " = ", "["),
            ("+++", " = ", "{a = "),
        ] {
            let md = format!(
                "{fence}\ntitle{sep}Port strike\nextra{sep}{}\n{fence}\nBody text.\n",
                open.repeat(40_000)
            );
            let e = parse(&md, Boilerplate::builtin()).unwrap_err().to_string();
            assert!(
                e.contains("field `extra`") && e.contains("nested"),
                "{fence} {open}: {e}"
            );
        }
        // Ordinary nesting passes.
        let md = "---\ntitle: T\ntags: [a, [b]]\nauthor:\n  - name: Jane Roe\n---\nBody.\n";
        assert!(parse(md, Boilerplate::builtin()).is_ok());
    }

    #[test]
    fn markup_over_budget_takes_the_plain_path_and_keeps_the_text() {
        let md = format!(
            "# Port strike\n\n{}Dock workers walked out.{}\n\n> > Second paragraph.\n",
            "*a ".repeat(MAX_MARKUP),
            " a*".repeat(MAX_MARKUP)
        );
        let d = parse(&md, Boilerplate::builtin()).unwrap();
        assert_eq!(d.title, "Port strike");
        assert_eq!(d.blocks.len(), 2);
        assert!(d.blocks[0].text.contains("Dock workers walked out."));
        assert_eq!(d.blocks[1].text, "Second paragraph.");
        assert_eq!(d.blocks[1].kind, BlockKind::Quote);
        // HTML is rendered from the blocks by `assemble`.
        assert!(d.html.is_none());
    }

    #[test]
    fn deep_body_nesting_keeps_the_text() {
        for marker in ["> ", "- ", "1. ", "> - "] {
            let md = format!(
                "# Port strike\n\n{}Dock workers walked out.\n",
                marker.repeat(100_000)
            );
            let d = parse(&md, Boilerplate::builtin()).unwrap();
            assert!(
                d.blocks
                    .iter()
                    .any(|b| b.text == "Dock workers walked out."),
                "{marker}: {:?}",
                d.blocks
            );
            assert!(d.html.unwrap_or_default().contains("Dock workers"));
        }
    }
}
