//! The command line: parses arguments and dispatches to the stages.
//!
//! This is the binary's edge: errors become `anyhow` here and are printed
//! as one line each; per-file failures never stop a batch.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::ingest::{self, Input};
use crate::model::{Article, ArticleJson, rfc3339};

#[derive(Parser)]
#[command(
    name = "topicfeed",
    version,
    about = "Clean, topic-filtered RSS, Atom and JSON feeds from messy news articles"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
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
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Json,
    Text,
}

/// Runs the CLI; the exit code is non-zero if anything failed.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Normalize { files, format } => normalize(&files, format),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("topicfeed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads and normalizes one file; the error says why, without the file name.
pub fn normalize_file(path: &std::path::Path) -> anyhow::Result<Article> {
    if path.is_dir() {
        anyhow::bail!("is a directory (pass the files in it, or use `topicfeed ingest`)");
    }
    let bytes = std::fs::read(path).context("cannot read")?;
    let name = path.file_name().and_then(|n| n.to_str());
    Ok(ingest::normalize(Input {
        bytes: &bytes,
        name,
        url: None,
    })?)
}

fn normalize(files: &[PathBuf], format: OutputFormat) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for path in files {
        match normalize_file(path) {
            Ok(article) => match format {
                OutputFormat::Json => {
                    serde_json::to_writer(&mut out, &ArticleJson::from(&article))?;
                    writeln!(out)?;
                }
                OutputFormat::Text => write_text(&mut out, &article)?,
            },
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
