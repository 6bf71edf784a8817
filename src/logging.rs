//! Where log lines go: stderr, through a background writer thread, in
//! batches from the threads that log per request.
//!
//! An access-log line per request is cheap to format but was expensive to
//! hand over: one queue message, and often one wake-up of the writer
//! thread, per line. The connection workers (see `http::workers`) instead
//! collect their lines in a per-thread buffer that goes to the writer
//! thread in one piece when it fills, or 100 ms after the batch's first
//! line, so a line reaches stderr at most that much later. Other
//! threads (CLI commands, the poller, blocking work) hand each line over
//! at once. Nothing here ever blocks a thread on stderr: the writer thread
//! does the writing, and past its queue bound lines are dropped, not
//! waited for.

use std::cell::RefCell;
use std::io::Write;
use std::sync::OnceLock;

use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people: level, target, message, fields.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A batching thread sends its buffer on once it holds this much.
const BATCH_BYTES: usize = 32 * 1024;

/// The writer thread's queue; set once by [`init`].
static SINK: OnceLock<NonBlocking> = OnceLock::new();

/// The format [`init`] chose, for lines written without tracing's
/// formatter ([`access`]).
static FORMAT: OnceLock<Format> = OnceLock::new();

thread_local! {
    /// This thread's pending lines, when it batches.
    static BATCH: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
    /// Called when this thread's batch gets its first line: the thread's
    /// owner schedules a flush then, and has no timer running at rest.
    static ON_FIRST_LINE: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Installs the global subscriber: stderr, filtered by `TOPICFEED_LOG`
/// (default `topicfeed=info,warn`). Keep the guard until exit: dropping it
/// flushes what is still queued.
pub fn init(format: Format) -> WorkerGuard {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOPICFEED_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("topicfeed=info,warn"));
    // Buffered: the writer thread flushes whenever its queue runs dry, so
    // under load many lines go out in one write, and at rest each at once.
    let (sink, guard) = tracing_appender::non_blocking(std::io::BufWriter::with_capacity(
        64 * 1024,
        std::io::stderr(),
    ));
    let _ = SINK.set(sink);
    let _ = FORMAT.set(format);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Batched)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        Format::Text => builder.try_init(),
        Format::Json => builder.json().try_init(),
    };
    guard
}

/// From now on this thread's log lines are batched; `on_first_line` runs
/// when a line arrives in an empty batch, and the thread must then call
/// [`flush_this_thread`] soon (and before it ends).
pub fn batch_this_thread(on_first_line: impl Fn() + 'static) {
    BATCH.with(|b| *b.borrow_mut() = Some(Vec::with_capacity(BATCH_BYTES)));
    ON_FIRST_LINE.with(|f| *f.borrow_mut() = Some(Box::new(on_first_line)));
}

/// Sends this thread's pending lines to the writer thread.
pub fn flush_this_thread() {
    BATCH.with(|b| {
        if let Some(buf) = b.borrow_mut().as_mut()
            && !buf.is_empty()
        {
            send(buf);
            buf.clear();
        }
    });
}

fn send(bytes: &[u8]) {
    if let Some(sink) = SINK.get() {
        // Never blocks: a full queue drops the lines (counted by the sink).
        let _ = sink.make_writer().write_all(bytes);
    }
}

/// One request as the access log records it.
pub struct Access<'a> {
    pub client: std::net::IpAddr,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub elapsed_us: u64,
}

/// Writes one access-log line (target `topicfeed::access`, level INFO) if
/// the log filter lets it through, in the same shape tracing's formatter
/// gives the other lines.
///
/// Not through `tracing::info!`, whose formatter visits each field and
/// formats the date anew for every line: this writes the fields directly
/// and formats the date once a second per thread. (Measured on the shared
/// harness: a logged 304 cost 11.9 µs of CPU with `tracing::info!`, 11.5
/// µs with this, 8.9 µs with no access log; most of the rest is handing
/// the line to the writer thread.)
pub fn access(a: &Access<'_>) {
    if !tracing::enabled!(target: "topicfeed::access", tracing::Level::INFO) {
        return;
    }
    LINE.with(|line| {
        let mut line = line.borrow_mut();
        line.clear();
        let json = FORMAT.get() == Some(&Format::Json);
        write_access(&mut line, a, json);
        let _ = Batched.write_all(&line);
    });
}

thread_local! {
    /// The line being built, reused.
    static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// This thread's last second and its RFC 3339 text, `YYYY-MM-DDTHH:MM:SS`.
    static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

fn write_access(out: &mut Vec<u8>, a: &Access<'_>, json: bool) {
    // The clock as seconds and microseconds since the epoch: cheaper to
    // take apart than a calendar date, which is formatted once a second.
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    // The date part is formatted once a second, the rest written in place:
    // `write!` through `core::fmt` was half the cost of a line.
    let mut stamp = [0u8; 27];
    SECOND.with(|s| {
        let mut s = s.borrow_mut();
        if s.0 != secs {
            let date = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
            *s = (secs, date.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
        let date = s.1.as_bytes();
        stamp[..date.len().min(19)].copy_from_slice(&date[..date.len().min(19)]);
    });
    stamp[19] = b'.';
    // Six digits, zero-padded: the leading 1 of 1_000_000 + µs is dropped.
    let mut micros = itoa::Buffer::new();
    stamp[20..26].copy_from_slice(
        &micros
            .format(since_epoch.subsec_micros() + 1_000_000)
            .as_bytes()[1..],
    );
    stamp[26] = b'Z';
    let stamp = std::str::from_utf8(&stamp).unwrap_or_default();
    if json {
        let v = serde_json::json!({
            "timestamp": stamp,
            "level": "INFO",
            "fields": {
                "message": "request",
                "client": a.client.to_string(),
                "method": a.method,
                "path": a.path,
                "status": a.status,
                "elapsed_us": a.elapsed_us,
            },
            "target": "topicfeed::access",
        });
        let _ = serde_json::to_writer(&mut *out, &v);
    } else {
        let mut num = itoa::Buffer::new();
        out.extend_from_slice(stamp.as_bytes());
        out.extend_from_slice(b"  INFO topicfeed::access: request client=");
        match a.client {
            std::net::IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    out.extend_from_slice(num.format(*octet).as_bytes());
                }
            }
            v6 => {
                let _ = write!(out, "{v6}");
            }
        }
        out.extend_from_slice(b" method=");
        out.extend_from_slice(a.method.as_bytes());
        out.extend_from_slice(b" path=");
        out.extend_from_slice(a.path.as_bytes());
        out.extend_from_slice(b" status=");
        out.extend_from_slice(num.format(a.status).as_bytes());
        out.extend_from_slice(b" elapsed_us=");
        out.extend_from_slice(num.format(a.elapsed_us).as_bytes());
    }
    out.push(b'\n');
}

/// The subscriber's writer: into this thread's batch when it has one,
/// else straight to the writer thread.
struct Batched;

impl<'a> MakeWriter<'a> for Batched {
    type Writer = Batched;
    fn make_writer(&'a self) -> Batched {
        Batched
    }
}

impl Write for Batched {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let (batched, first) = BATCH.with(|b| match b.borrow_mut().as_mut() {
            Some(buf) => {
                let first = buf.is_empty();
                buf.extend_from_slice(line);
                if buf.len() >= BATCH_BYTES {
                    send(buf);
                    buf.clear();
                }
                (true, first)
            }
            None => (false, false),
        });
        if first {
            ON_FIRST_LINE.with(|f| {
                if let Some(f) = f.borrow().as_ref() {
                    f();
                }
            });
        }
        if !batched {
            send(line);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Access<'static> {
        Access {
            client: "192.0.2.7".parse().unwrap(),
            method: "GET",
            path: "/feeds/a\"b.atom",
            status: 304,
            elapsed_us: 12,
        }
    }

    #[test]
    fn access_lines_in_text_and_json() {
        let mut text = Vec::new();
        write_access(&mut text, &sample(), false);
        let text = String::from_utf8(text).unwrap();
        assert!(text.ends_with(
            "  INFO topicfeed::access: request client=192.0.2.7 method=GET path=/feeds/a\"b.atom status=304 elapsed_us=12\n"
        ), "{text}");
        let stamp = text.split(' ').next().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
            "{stamp}"
        );
        let mut json = Vec::new();
        write_access(&mut json, &sample(), true);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["fields"]["path"], "/feeds/a\"b.atom");
        assert_eq!(v["fields"]["status"], 304);
        assert_eq!(v["target"], "topicfeed::access");
        assert!(chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap()).is_ok());
    }

    #[test]
    fn a_batching_thread_keeps_lines_until_flushed_or_full() {
        std::thread::spawn(|| {
            let firsts = std::rc::Rc::new(std::cell::Cell::new(0));
            let seen = firsts.clone();
            batch_this_thread(move || seen.set(seen.get() + 1));
            let mut w = Batched;
            w.write_all(b"one line\n").unwrap();
            w.write_all(b"two line\n").unwrap();
            let held = BATCH.with(|b| b.borrow().as_ref().map(Vec::len));
            assert_eq!(held, Some(18));
            assert_eq!(firsts.get(), 1, "told once, at the first line");
            flush_this_thread();
            let held = BATCH.with(|b| b.borrow().as_ref().map(Vec::len));
            assert_eq!(held, Some(0));
            for _ in 0..(BATCH_BYTES / 9 + 1) {
                w.write_all(b"one line\n").unwrap();
            }
            let held = BATCH.with(|b| b.borrow().as_ref().map(Vec::len)).unwrap();
            assert!(held < BATCH_BYTES, "sent on when full: {held}");
        })
        .join()
        .unwrap();
    }
}
