//! `topicfeed sites` and `topicfeed reclean`: the boilerplate each site
//! has taught the store, and applying it to the articles stored before.

use std::io::Write;
use std::process::ExitCode;

use topicfeed::pipeline::{self, sites::MIN_STORIES};

use super::{DataArg, FeedsArg};

/// `topicfeed sites`.
#[derive(clap::Args)]
pub struct SitesArgs {
    #[command(flatten)]
    data: DataArg,
}

/// `topicfeed reclean`.
#[derive(clap::Args)]
pub struct RecleanArgs {
    #[command(flatten)]
    data: DataArg,
    #[command(flatten)]
    feeds: FeedsArg,
    /// Only the articles of this site: its name or host, as `topicfeed sites` lists it
    /// (case and spacing do not matter).
    #[arg(long, value_name = "SITE")]
    site: Option<String>,
}

/// Lists every site with its counts and learned blocks.
pub fn sites(args: &SitesArgs) -> anyhow::Result<ExitCode> {
    let store = args.data.open()?;
    let sites = store.sites(MIN_STORIES)?;
    let mut out = std::io::stdout().lock();
    if sites.is_empty() {
        writeln!(
            out,
            "no site has stored articles in {}",
            args.data.dir.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<32} {:>8} {:>8} {:>8}",
        "SITE", "ARTICLES", "STORIES", "LEARNED"
    )?;
    for s in &sites {
        writeln!(
            out,
            "{:<32} {:>8} {:>8} {:>8}",
            s.name,
            s.articles,
            s.stories,
            s.learned.len()
        )?;
        for b in &s.learned {
            writeln!(out, "  {:>6} stories: {}", b.stories, b.sample)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Cleans stored articles of their sites' learned boilerplate and prints
/// what changed per site.
pub fn reclean(args: &RecleanArgs) -> anyhow::Result<ExitCode> {
    let classifier = args.feeds.load()?;
    let store = args.data.open()?;
    let report = pipeline::reclean(
        store.as_ref(),
        &classifier,
        args.site.as_deref(),
        chrono::Utc::now(),
    )?;
    if let (Some(site), true) = (&args.site, report.is_empty()) {
        anyhow::bail!(
            "no stored article is from site `{site}` (`topicfeed sites` lists the sites)"
        );
    }
    let mut out = std::io::stdout().lock();
    let (mut changed, mut blocks) = (0, 0);
    for r in report
        .iter()
        .filter(|r| r.learned > 0 || args.site.is_some())
    {
        writeln!(
            out,
            "{}: {} of {} articles changed, {} blocks removed ({} learned)",
            r.name, r.changed, r.articles, r.blocks, r.learned
        )?;
        changed += r.changed;
        blocks += r.blocks;
    }
    let articles: usize = report.iter().map(|r| r.articles).sum();
    writeln!(
        out,
        "reclean: {changed} of {articles} articles changed, {blocks} blocks removed"
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
