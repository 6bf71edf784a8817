//! CPU per document for the most hostile shapes found, each built at the
//! ingest size limit (the API's `--max-body`, 2 MiB): deep nesting in
//! every format, huge lines, and the flat page they are compared with.
//!
//! cargo run --release --example bench_hostile -- [BYTES] [SHAPE-FILTER]
//!
//! Prints one line per shape (CPU time of the normalizing thread, the
//! outcome) and the maximum. No timing is asserted anywhere: this is the
//! measurement behind BENCHMARKS and the ~100 ms budget.

use std::time::Instant;

use topicfeed::ingest::{self, Format, Input};

const LIMIT: usize = 2 * 1024 * 1024;
const TEXT: &str =
    "Dock workers walked out on Monday after talks over pay broke down, the union said.";

/// `open` ×n, `middle`, `close` ×n, with n as large as fits in `size`.
fn nest(head: &str, open: &str, middle: &str, close: &str, tail: &str, size: usize) -> String {
    let n = (size - head.len() - middle.len() - tail.len()) / (open.len() + close.len());
    let mut s = String::with_capacity(size);
    s.push_str(head);
    s.push_str(&open.repeat(n));
    s.push_str(middle);
    s.push_str(&close.repeat(n));
    s.push_str(tail);
    s
}

/// `unit` repeated to fill `size` after `head`.
fn fill(head: &str, unit: &str, tail: &str, size: usize) -> String {
    let n = (size - head.len() - tail.len()) / unit.len();
    format!("{head}{}{tail}", unit.repeat(n))
}

fn shapes(size: usize) -> Vec<(&'static str, String)> {
    let head = "<html><head><title>Port strike</title></head><body>";
    let tail = "</body></html>";
    let text = format!("<p>{TEXT}</p>");
    let tower = |open: &str, close: &str, depth: usize| {
        format!("{}{text}{}", open.repeat(depth), close.repeat(depth))
    };
    let md = "# Port strike\n\n";
    let fm = |open: &str, fence: &str, key: &str| {
        let h = format!("{fence}\ntitle{key}Port strike\nextra{key}");
        let t = format!("\n{fence}\n{TEXT}\n");
        fill(&h, open, &t, size)
    };
    let json_html = {
        let inner = nest("", "<div>", TEXT, "</div>", "", size - 64);
        format!(r#"{{"title":"Port strike","html":"{inner}"}}"#)
    };
    vec![
        ("html flat paragraphs", {
            let n = size / (text.len() + 8);
            let body: String = (0..n).map(|i| format!("<p>{i} {TEXT}</p>")).collect();
            format!(
                "{head}{}{tail}",
                &body[..body.len().min(size - head.len() - tail.len())]
            )
        }),
        (
            "html nested div",
            nest(head, "<div>", &text, "</div>", tail, size),
        ),
        (
            "html unclosed div",
            fill(&format!("{head}{text}"), "<div>", "", size),
        ),
        (
            "html div towers 300",
            fill(head, &tower("<div>", "</div>", 300), tail, size),
        ),
        (
            "html div towers 255",
            fill(head, &tower("<div>", "</div>", 255), tail, size),
        ),
        (
            "html nested table",
            nest(
                head,
                "<table><tr><td>",
                &text,
                "</td></tr></table>",
                tail,
                size,
            ),
        ),
        (
            "html table towers 255",
            fill(
                head,
                &tower("<table><tr><td>", "</td></tr></table>", 255),
                tail,
                size,
            ),
        ),
        (
            "html nested ul/li",
            nest(head, "<ul><li>", &text, "</li></ul>", tail, size),
        ),
        (
            "html ul towers 255",
            fill(head, &tower("<ul><li>", "</li></ul>", 255), tail, size),
        ),
        (
            "html nested blockquote",
            nest(head, "<blockquote>", &text, "</blockquote>", tail, size),
        ),
        (
            "html nested b",
            nest(&format!("{head}<p>"), "<b>", TEXT, "</b>", tail, size),
        ),
        (
            "html nested span",
            nest(&format!("{head}<p>"), "<span>", TEXT, "</span>", tail, size),
        ),
        ("html unclosed b, many p", {
            let opened: String = (0..64).map(|i| format!("<b id={i}>")).collect();
            fill(&format!("{head}<div>{opened}</div>"), &text, tail, size)
        }),
        (
            "html unclosed p",
            fill(head, &format!("<p>{TEXT}"), tail, size),
        ),
        ("md front matter yaml [", fm("[", "---", ": ")),
        ("md front matter yaml {", fm("{a: ", "---", ": ")),
        ("md front matter yaml indent", {
            let lines: String = (0..2000)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i + 1)))
                .collect();
            let s = format!("---\ntitle: Port strike\nextra:\n{lines}---\n{TEXT}\n");
            s[..s.len().min(size)].to_owned()
        }),
        ("md front matter toml [", fm("[", "+++", " = ")),
        ("md front matter toml {", fm("{a = ", "+++", " = ")),
        ("md nested quotes", nest(md, "> ", TEXT, "", "\n", size)),
        ("md nested lists", nest(md, "- ", TEXT, "", "\n", size)),
        ("md nested ordered", nest(md, "1. ", TEXT, "", "\n", size)),
        (
            "md quote towers 32",
            fill(md, &format!("{}{TEXT}\n\n", "> ".repeat(32)), "", size),
        ),
        ("md indented lists", {
            let lines: String = (0..1400)
                .map(|i| format!("{}- {TEXT}\n", "  ".repeat(i)))
                .collect();
            format!("{md}{}", &lines[..lines.len().min(size - md.len())])
        }),
        ("md nested links", nest(md, "[", TEXT, "](x)", "\n", size)),
        (
            "md nested emphasis",
            nest(md, "*a ", TEXT, " a*", "\n", size),
        ),
        (
            "md flat paragraphs",
            fill(md, &format!("{TEXT}\n\n"), "", size),
        ),
        (
            "json nested arrays",
            nest(
                r#"{"title":"Port strike","body":"x","extra":"#,
                "[",
                "1",
                "]",
                "}",
                size,
            ),
        ),
        (
            "json nested objects",
            nest(
                r#"{"title":"Port strike","body":"x","extra":"#,
                r#"{"a":"#,
                "1",
                "}",
                "}",
                size,
            ),
        ),
        ("json html nested div", json_html),
        (
            "json text one line",
            fill(r#"{"title":"Port strike","body":""#, "word ", r#""}"#, size),
        ),
        (
            "text one line",
            fill("Port strike\n\n", "word ", "\n", size),
        ),
        (
            "text many lines",
            fill("Port strike\n\n", &format!("{TEXT}\n\n"), "", size),
        ),
    ]
}

/// CPU time of this thread (the bench is single-threaded).
fn cpu_now() -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
}

/// The hint a file extension or Content-Type would give: a Markdown file
/// without front matter sniffs as plain text otherwise.
fn hint(shape: &str) -> Option<Format> {
    match shape.split(' ').next() {
        Some("md") => Some(Format::Markdown),
        Some("html") => Some(Format::Html),
        Some("json") => Some(Format::Json),
        _ => Some(Format::Text),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(LIMIT);
    let filter = args.next().unwrap_or_default();
    // Warm the lazily compiled rules of every format outside the timing:
    // they are compiled once per process, not once per document.
    for (name, doc) in shapes(4096) {
        let _ = ingest::normalize(Input::new(doc.as_bytes()).with_hint(hint(name)));
    }
    let mut worst = (0.0f64, "");
    println!("{:<30} {:>9} {:>10}  outcome", "shape", "bytes", "cpu ms");
    for (name, doc) in shapes(size) {
        if !name.contains(filter.as_str()) {
            continue;
        }
        let wall = Instant::now();
        let cpu = cpu_now();
        let result = ingest::normalize(Input::new(doc.as_bytes()).with_hint(hint(name)));
        let secs = match (cpu, cpu_now()) {
            (Some(a), Some(b)) => b - a,
            _ => wall.elapsed().as_secs_f64(),
        };
        let outcome = match &result {
            Ok(a) => format!(
                "ok: {} blocks, {} chars of text, deep text found: {}",
                a.blocks.len(),
                a.blocks.iter().map(|b| b.text.len()).sum::<usize>(),
                a.blocks.iter().any(|b| b.text.contains("Dock workers"))
            ),
            Err(e) => {
                let e = e.to_string();
                format!("refused: {}", e.chars().take(100).collect::<String>())
            }
        };
        println!(
            "{name:<30} {:>9} {:>10.1}  {outcome}",
            doc.len(),
            secs * 1e3
        );
        if secs > worst.0 {
            worst = (secs, name);
        }
    }
    println!("max: {:.1} ms ({})", worst.0 * 1e3, worst.1);
}
