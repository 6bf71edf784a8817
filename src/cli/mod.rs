//! The command line: parses arguments and dispatches to the library.
//!
//! This is the binary's edge and private to it: clap types never reach the
//! library's API. Errors become `anyhow` here and are printed as one line
//! each; per-file failures never stop a batch.

mod serve;
mod sites;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use topicfeed::classify::{Classifier, ConfigError};
use topicfeed::ingest::{self, Input};
use topicfeed::model::{Article, ArticleJson, rfc3339};
use topicfeed::service::ServiceConfig;

#[derive(Parser)]
#[command(
    name = "topicfeed",
    version,
    about = "Clean, topic-filtered RSS, Atom and JSON feeds from messy news articles"
)]
struct Cli {
    /// How log lines on stderr are written: `text` for people, `json` (one
    /// object per line) for log collectors.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "TOPICFEED_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Normalize article files (scrapes, HTML, JSON, Markdown) and print them, one per line.
    Normalize {
        /// Files to normalize.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output: JSON Lines (one object per file) or a readable text view.
        #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
        format: OutputFormat,
        #[command(flatten)]
        feeds: FeedsArg,
    },
    /// Show which topics each file lands in, which terms matched where, and the near misses.
    Classify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        feeds: FeedsArg,
    },
    /// List the topics with their titles and rule counts.
    Topics {
        #[command(flatten)]
        feeds: FeedsArg,
    },
    /// Validate the topic files; exits non-zero on any error.
    Check {
        #[command(flatten)]
        feeds: FeedsArg,
    },
    /// Serve topic feeds over HTTP (RSS, Atom, JSON Feed, HTML, OPML).
    Serve(Box<serve::ServeArgs>),
    /// Normalize, classify and store article and feed files (RSS, Atom, JSON Feed: every
    /// entry); directories are walked recursively.
    Ingest {
        /// Files and directories (hidden files and README.md in directories are skipped).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        feeds: FeedsArg,
        /// Print `ID OUTCOME FILE` on stdout as soon as each article's transaction has committed.
        #[arg(long)]
        report_stored: bool,
    },
    /// Poll every upstream feed in `sources.toml` once and store its entries; prints a line per
    /// source and exits non-zero if any failed.
    Poll {
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        feeds: FeedsArg,
        /// Poll only the source with this name (repeatable).
        #[arg(long = "source", value_name = "NAME")]
        only: Vec<String>,
    },
    /// List the sites of stored articles with their counts and learned boilerplate (blocks seen in
    /// 3 or more of a site's stories, removed from its next articles).
    Sites(sites::SitesArgs),
    /// Remove each site's learned boilerplate from its stored articles (and classify them again);
    /// prints what changed per site.
    Reclean(sites::RecleanArgs),
    /// Write every topic feed in every format, the feed pages, OPML and the index page into
    /// DIR as static files, with a manifest of their validators; only changed files are
    /// rewritten.
    Export {
        /// Directory to write into (created if missing).
        #[arg(value_name = "DIR")]
        out: PathBuf,
        /// Public base URL the files will be served under (links in feeds and pages).
        #[arg(long, env = "TOPICFEED_BASE_URL")]
        base_url: String,
        #[command(flatten)]
        data: DataArg,
        #[command(flatten)]
        feeds: FeedsArg,
    },
}

/// `--data DIR` (or `TOPICFEED_DATA`), for every command that touches the store.
#[derive(clap::Args, Debug)]
pub struct DataArg {
    /// Directory of the store (created if missing).
    #[arg(
        id = "data",
        long = "data",
        value_name = "DIR",
        env = "TOPICFEED_DATA",
        default_value = ServiceConfig::DEFAULT_DATA
    )]
    pub dir: PathBuf,
    /// A PostgreSQL database to keep the store in instead of the SQLite file
    /// in `--data` (e.g. `postgres://user:password@host/db`); several
    /// `serve` processes may share one. `--data` still holds local state
    /// (poll validators, the inbox's bookkeeping).
    #[arg(long = "database", value_name = "URL", env = "TOPICFEED_DATABASE")]
    pub database: Option<String>,
}

impl DataArg {
    pub fn open(&self) -> anyhow::Result<Box<dyn topicfeed::store::Store>> {
        Ok(topicfeed::store::open(&self.dir, self.database.as_deref())?)
    }
}

/// `--feeds DIR` (or `TOPICFEED_FEEDS`): topics and sources.
#[derive(clap::Args, Debug)]
pub struct FeedsArg {
    /// Directory of topic definitions (`<slug>.toml`) and `sources.toml`.
    #[arg(
        long = "feeds",
        value_name = "DIR",
        env = "TOPICFEED_FEEDS",
        default_value = ServiceConfig::DEFAULT_FEEDS
    )]
    pub dir: PathBuf,
}

impl FeedsArg {
    fn load(&self) -> anyhow::Result<Classifier> {
        Classifier::load(&self.dir).map_err(config_errors)
    }
}

pub fn config_errors(errors: Vec<ConfigError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow::anyhow!("invalid topic configuration:\n  {}", lines.join("\n  "))
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Json,
    Text,
}

/// Runs the CLI; the exit code is non-zero if anything failed.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    // Held to the end: dropping it flushes the lines still queued.
    let _log_guard = init_logging(cli.log_format);
    // With no command, run the service: `cargo run --release` serves.
    let command = match cli.command {
        Some(c) => c,
        None => match Cli::parse_from(["topicfeed", "serve"]).command {
            Some(c) => c,
            None => return ExitCode::FAILURE,
        },
    };
    let result = match command {
        Command::Normalize {
            files,
            format,
            feeds,
        } => normalize(&files, format, &feeds),
        Command::Classify { files, feeds } => classify(&files, &feeds),
        Command::Topics { feeds } => topics(&feeds),
        Command::Check { feeds } => check(&feeds),
        Command::Serve(args) => serve::run(*args),
        Command::Ingest {
            paths,
            data,
            feeds,
            report_stored,
        } => ingest(&paths, &data, &feeds, report_stored),
        Command::Poll { data, feeds, only } => poll(&data, &feeds, &only),
        Command::Sites(args) => sites::sites(&args),
        Command::Reclean(args) => sites::reclean(&args),
        Command::Export {
            out,
            base_url,
            data,
            feeds,
        } => export(&out, &base_url, &data, &feeds),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("topicfeed: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line. A cause whose text the line
/// already holds is left out: our errors often print their source in
/// their own message, and drivers' (PostgreSQL's) keep the detail that
/// matters ("password authentication failed", "Connection refused") in
/// a cause further down.
fn error_chain(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// Reads and normalizes one file; the error says why, without the file name.
fn normalize_file(path: &std::path::Path) -> anyhow::Result<Article> {
    if path.is_dir() {
        anyhow::bail!("is a directory (pass the files in it, or use `topicfeed ingest`)");
    }
    let bytes = std::fs::read(path).context("cannot read")?;
    Ok(ingest::normalize(Input::file(&bytes, path))?)
}

fn normalize(
    files: &[PathBuf],
    format: OutputFormat,
    feeds: &FeedsArg,
) -> anyhow::Result<ExitCode> {
    // Topics and tags are filled when the topic files are there; normalizing
    // works without them.
    let classifier = if feeds.dir.is_dir() {
        Some(feeds.load()?)
    } else {
        None
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for path in files {
        match normalize_file(path) {
            Ok(mut article) => {
                if let Some(c) = &classifier {
                    c.apply(&mut article);
                }
                match format {
                    OutputFormat::Json => {
                        serde_json::to_writer(&mut out, &ArticleJson::from(&article))?;
                        writeln!(out)?;
                    }
                    OutputFormat::Text => write_text(&mut out, &article)?,
                }
            }
            Err(e) => {
                failed += 1;
                out.flush()?;
                eprintln!("{}: {e:#}", path.display());
            }
        }
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn write_text(out: &mut impl Write, a: &Article) -> std::io::Result<()> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    writeln!(out, "id:        {}", a.id)?;
    writeln!(out, "title:     {}", a.title)?;
    writeln!(out, "site:      {}", opt(&a.site))?;
    writeln!(out, "url:       {}", opt(&a.url))?;
    writeln!(out, "authors:   {}", a.authors.join(", "))?;
    writeln!(
        out,
        "published: {}",
        opt(&a.published.as_ref().map(rfc3339))
    )?;
    writeln!(out, "updated:   {}", opt(&a.updated.as_ref().map(rfc3339)))?;
    writeln!(out, "language:  {}", opt(&a.language))?;
    writeln!(out, "topics:    {}", a.topics.join(", "))?;
    writeln!(out, "tags:      {}", a.tags.join(", "))?;
    writeln!(out, "summary:   {}", a.summary)?;
    writeln!(out)?;
    for b in &a.blocks {
        writeln!(out, "[{:?}] {}", b.kind, b.text)?;
    }
    writeln!(out, "\n---")?;
    Ok(())
}

fn classify(files: &[PathBuf], feeds: &FeedsArg) -> anyhow::Result<ExitCode> {
    let classifier = feeds.load()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for path in files {
        let article = match normalize_file(path) {
            Ok(a) => a,
            Err(e) => {
                failed += 1;
                out.flush()?;
                eprintln!("{}: {e:#}", path.display());
                continue;
            }
        };
        let result = classifier.classify(&article);
        writeln!(out, "{}: {}", path.display(), article.title)?;
        writeln!(out, "  topics: {}", join_or_none(&result.slugs()))?;
        for t in &result.matched {
            writeln!(out, "  + {} (score {}): {}", t.slug, t.score, hits(&t.hits))?;
        }
        for t in &result.near {
            if let Some(miss) = &t.miss {
                writeln!(out, "  - {} (near miss, {miss}): {}", t.slug, hits(&t.hits))?;
            }
        }
        writeln!(
            out,
            "  tags: {}",
            join_or_none(&topicfeed::classify::tags::extract(&article))
        )?;
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn join_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

fn hits(h: &[topicfeed::classify::TermHit]) -> String {
    if h.is_empty() {
        return "no term hits".into();
    }
    h.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn topics(feeds: &FeedsArg) -> anyhow::Result<ExitCode> {
    let classifier = feeds.load()?;
    println!(
        "{:<16} {:<28} {:>4} {:>4} {:>5} {:>8}",
        "SLUG", "TITLE", "ANY", "ALL", "NONE", "SOURCES"
    );
    for t in classifier.topics() {
        println!(
            "{:<16} {:<28} {:>4} {:>4} {:>5} {:>8}",
            t.slug,
            t.title,
            t.any.len(),
            t.all.len(),
            t.none.len(),
            t.sources.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check(feeds: &FeedsArg) -> anyhow::Result<ExitCode> {
    // sources.toml is checked too: its errors would otherwise surface
    // only when the server starts.
    let sources = topicfeed::sources::config::load(&feeds.dir);
    match Classifier::load(&feeds.dir) {
        Ok(c) => {
            println!("{}: {} topics OK", feeds.dir.display(), c.topics().len());
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            if let Err(e) = &sources {
                eprintln!("{e}");
            }
            let n = errors.len() + usize::from(sources.is_err());
            eprintln!("{}: {n} error(s)", feeds.dir.display());
            return Ok(ExitCode::FAILURE);
        }
    }
    match sources {
        Ok(s) => {
            if !s.sources.is_empty() || !s.inboxes.is_empty() {
                println!(
                    "{}: {} sources, {} inboxes OK",
                    feeds
                        .dir
                        .join(topicfeed::sources::config::SOURCES_FILE)
                        .display(),
                    s.sources.len(),
                    s.inboxes.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("{}: 1 error(s)", feeds.dir.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn ingest(
    paths: &[PathBuf],
    data: &DataArg,
    feeds: &FeedsArg,
    report_stored: bool,
) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    use topicfeed::pipeline::{self, Event};

    let classifier = feeds.load()?;
    let store = data.open()?;
    let (files, mut walk_failures) = pipeline::collect_files(paths);
    // A bar on a terminal; otherwise a plain line every 1000 files.
    let bar = std::io::stderr()
        .is_terminal()
        .then(|| indicatif::ProgressBar::new(files.len() as u64));
    let mut done = 0usize;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut write_error = None;
    let mut summary = pipeline::ingest_files(
        store.as_ref(),
        &classifier,
        &files,
        &pipeline::BatchOptions::default(),
        |event| {
            if let (
                true,
                Event::Stored {
                    path,
                    article,
                    outcome,
                },
            ) = (report_stored, &event)
            {
                // Flushed per line: a reader may rely on every line it saw being durable.
                let line = writeln!(out, "{} {outcome} {}", article.id, path.display());
                if let Err(e) = line.and_then(|()| out.flush()) {
                    write_error.get_or_insert(e);
                }
            }
            done += 1;
            match &bar {
                Some(bar) => bar.inc(1),
                None if done.is_multiple_of(1000) => {
                    eprintln!("ingest: {done}/{} files", files.len())
                }
                None => {}
            }
        },
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(e) = write_error {
        return Err(anyhow::Error::new(e).context("writing to stdout"));
    }
    summary.failed.append(&mut walk_failures);
    summary.failed.sort_by(|a, b| a.subject.cmp(&b.subject));
    writeln!(out, "{summary}")?;
    out.flush()?;
    for f in &summary.failed {
        eprintln!("{}: {}", f.subject, f.reason);
    }
    Ok(if summary.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One round over the configured sources: every one is tried (ignoring
/// the schedule, never a server's Retry-After) before the exit code says
/// whether any failed.
fn poll(data: &DataArg, feeds: &FeedsArg, only: &[String]) -> anyhow::Result<ExitCode> {
    use std::sync::Arc;
    use topicfeed::sources::{self, Poller};

    let config = sources::config::load(&feeds.dir)?;
    let outbound = config.outbound.clone();
    for name in only {
        if !config.sources.iter().any(|s| &s.name == name) {
            anyhow::bail!(
                "no source named `{name}` in {}",
                feeds.dir.join(sources::config::SOURCES_FILE).display()
            );
        }
    }
    let selected: Vec<sources::SourceConfig> = config
        .sources
        .into_iter()
        .filter(|s| only.is_empty() || only.contains(&s.name))
        .collect();
    if selected.is_empty() {
        println!(
            "no sources configured in {}",
            feeds.dir.join(sources::config::SOURCES_FILE).display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Documents to read (not a round of 304s): the rules compile while the
    // store opens and the fetches run.
    if sources::state::StateFile::new(&data.dir).expects_documents(&selected) {
        topicfeed::ingest::warm_up();
    }
    let topics =
        Arc::new(topicfeed::classify::LiveTopics::load(&feeds.dir).map_err(config_errors)?);
    let store: Arc<dyn topicfeed::store::Store> = Arc::from(data.open()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let reports = runtime.block_on(async {
        sources::fetch::install_crypto_provider();
        let sink = Arc::new(topicfeed::pipeline::Ingester::new(store, topics));
        let poller = Arc::new(Poller::new(
            sink,
            &data.dir,
            sources::PollOptions::with_outbound(outbound),
        )?);
        poller.configure(&selected);
        Ok::<_, anyhow::Error>(poller.poll_round(&selected, chrono::Utc::now(), true).await)
    })?;
    let mut out = std::io::stdout().lock();
    for r in &reports {
        writeln!(out, "{r}")?;
    }
    out.flush()?;
    Ok(if reports.iter().any(|r| r.failed()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn export(
    dir: &Path,
    base_url: &str,
    data: &DataArg,
    feeds: &FeedsArg,
) -> anyhow::Result<ExitCode> {
    let base = url::Url::parse(base_url)
        .ok()
        .filter(topicfeed::model::is_http)
        .ok_or_else(|| anyhow::anyhow!("--base-url `{base_url}`: not an absolute http(s) URL"))?;
    let classifier = feeds.load()?;
    let store = data.open()?;
    let defaults = topicfeed::http::Config::DEFAULT;
    // The store's last change, not the clock: exporting an unchanged
    // store again must give the same bytes (OPML's date, empty feeds').
    let last_change = topicfeed::http::last_change(&store.topic_stats()?).unwrap_or_default();
    let cfg = topicfeed::export::ExportConfig {
        base_url: base.as_str().trim_end_matches('/').to_owned(),
        ttl_floor_minutes: defaults.ttl_floor_minutes,
        ttl_ceiling_minutes: defaults.ttl_ceiling_minutes,
        now: last_change,
    };
    let report = topicfeed::export::export(store.as_ref(), &classifier, &cfg, dir)?;
    println!(
        "{} files in {}: {} written, {} unchanged, {} removed",
        report.files,
        dir.display(),
        report.written,
        report.unchanged,
        report.removed
    );
    Ok(ExitCode::SUCCESS)
}

/// Logs go to stderr, filtered by `TOPICFEED_LOG` (e.g.
/// `TOPICFEED_LOG=topicfeed::ingest=trace topicfeed normalize FILE` shows
/// every line the cleaner kept or dropped, and why; `topicfeed::access=off`
/// silences the server's access log). See `topicfeed::logging`.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    topicfeed::logging::init(match format {
        LogFormat::Text => topicfeed::logging::Format::Text,
        LogFormat::Json => topicfeed::logging::Format::Json,
    })
}
