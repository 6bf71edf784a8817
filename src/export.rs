//! Static export: what `serve` serves, as files a static host or CDN can
//! serve with no topicfeed process running.
//!
//! Every topic feed (and `all`) in every format, each feed's web page, the
//! OPML list, the index page and the pages of stories without a link of
//! their own, all with links under the public base URL. The bytes are
//! those `serve --base-url` gives for the same variant, built by the same
//! code (`http::feeds::describe`, the renderers), except that exported
//! feeds carry no paging links: a `?cursor=` URL has no file. Next to them,
//! `manifest.json` records each file's ETag, Last-Modified and
//! Content-Type, so the host can send the same validators.
//!
//! A file is rewritten only when its bytes changed (so a CDN or rsync sees
//! only real changes), and written to a temporary name then renamed, so a
//! host never serves half a file. Files the previous export's manifest
//! lists and this one does not (a removed topic, a story gone) are removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::classify::Classifier;
use crate::http::{feeds, pages, query};
use crate::render::{self, Format, Rendered};
use crate::store::{Store, StoreError};

/// The manifest's file name, in the export directory.
pub const MANIFEST: &str = "manifest.json";

/// What an export needs besides the store and the topics.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// Public base URL the files will be served under (no trailing slash).
    pub base_url: String,
    /// Bounds of the feeds' TTL, as `serve` has them.
    pub ttl_floor_minutes: u32,
    pub ttl_ceiling_minutes: u32,
    /// What an empty feed gives as its `updated`, and the OPML list as its
    /// date: the store's last change, so that an unchanged store exports
    /// the same bytes.
    pub now: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("feed variant `{0}`: {1}")]
    Query(String, query::QueryError),
}

/// One file's validators, as the manifest records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub etag: String,
    /// HTTP date; absent for documents without dated items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    pub content_type: String,
    pub bytes: usize,
}

/// What an export did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub files: usize,
    pub written: usize,
    pub unchanged: usize,
    /// Files of an earlier export that this one no longer has.
    pub removed: usize,
}

/// Exports into `dir` (created if missing).
pub fn export(
    store: &dyn Store,
    topics: &Classifier,
    cfg: &ExportConfig,
    dir: &Path,
) -> Result<ExportReport, ExportError> {
    let base = cfg.base_url.trim_end_matches('/');
    let mut out = Writer {
        dir,
        manifest: BTreeMap::new(),
        report: ExportReport::default(),
    };
    // A static file cannot ask for a read key: private topics stay out.
    let slugs = std::iter::once("all").chain(topics.public_topics().map(|t| t.slug.as_str()));
    for slug in slugs {
        export_topic(store, topics, cfg, base, slug, &mut out)?;
    }
    let stats = store.topic_stats()?;
    let total = store.story_count()?;
    let rows = pages::topic_rows(topics, &stats);
    let index = render::html::index(base, total, &rows, &[]);
    out.put("index.html", &Rendered::new(index, HTML, None))?;
    let opml = pages::opml_body(topics, base, cfg.now);
    out.put("feeds.opml", &Rendered::new(opml, OPML, None))?;
    // The pictures the feeds name (`render::identity`).
    for name in [
        render::identity::ICON_PATH,
        render::identity::FAVICON_PATH,
        render::identity::LOGO_PATH,
    ] {
        if let Some(png) = render::identity::picture(name) {
            out.put(name, &Rendered::new(png.to_vec(), "image/png", None))?;
        }
    }
    // Files an earlier export wrote that this one did not (a topic removed,
    // a story gone): left in place, they would be served forever. Only
    // names from our own manifest are removed, never anything else in DIR.
    let earlier: BTreeMap<String, FileInfo> = std::fs::read(dir.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    for name in earlier.keys().filter(|n| !out.manifest.contains_key(*n)) {
        let path = dir.join(name);
        // A name that would leave DIR is not ours.
        if Path::new(name)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            match std::fs::remove_file(&path) {
                Ok(()) => out.report.removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(ExportError::Write { path, source }),
            }
        }
    }
    let manifest = serde_json::to_vec_pretty(&out.manifest).unwrap_or_default();
    out.write_if_changed(MANIFEST, &manifest)?;
    Ok(out.report)
}

const HTML: &str = "text/html; charset=utf-8";
const OPML: &str = "text/x-opml; charset=utf-8";

/// A topic's feeds in every format, its page, and the pages of its
/// stories that have no link of their own.
fn export_topic(
    store: &dyn Store,
    topics: &Classifier,
    cfg: &ExportConfig,
    base: &str,
    slug: &str,
    out: &mut Writer<'_>,
) -> Result<(), ExportError> {
    let known = |t: &str| topics.topic(t).is_some();
    let mut fr = query::parse(slug, Format::Atom, None, &known)
        .map_err(|e| ExportError::Query(slug.into(), e))?;
    fr.hide_unnamed(topics.private_slugs());
    let page = store.query(&fr.query)?;
    let ttl = feeds::ttl_minutes(
        &page.stories,
        cfg.ttl_floor_minutes,
        cfg.ttl_ceiling_minutes,
    );
    for format in Format::ALL {
        let fr = query::FeedRequest {
            format,
            ..fr.clone()
        };
        let info = feeds::describe(&fr, base, None, None, topics, ttl, cfg.now);
        let rendered = render::render(format, &info, &page.stories);
        out.put(&format!("feeds/{slug}.{}", format.ext()), &rendered)?;
    }
    // The page people get, served at /feeds/{slug}: as `serve` builds it.
    let info = feeds::describe(
        &fr,
        base,
        None,
        None,
        topics,
        cfg.ttl_floor_minutes,
        cfg.now,
    );
    let feed_url = format!("{base}{}", fr.path_and_query(Format::Atom, None));
    let body = render::html::feed_page(&info, &feed_url, &page.stories);
    out.put(
        &format!("feeds/{slug}.html"),
        &Rendered::new(body, HTML, None),
    )?;
    for story in &page.stories {
        let name = format!("articles/{}.html", story.article.id);
        // In several topics, written once.
        if render::own_link(story).is_none() && !out.manifest.contains_key(&name) {
            let body = render::html::article_page(story);
            out.put(&name, &Rendered::new(body, HTML, None))?;
        }
    }
    Ok(())
}

struct Writer<'a> {
    dir: &'a Path,
    manifest: BTreeMap<String, FileInfo>,
    report: ExportReport,
}

impl Writer<'_> {
    fn put(&mut self, name: &str, r: &Rendered) -> Result<(), ExportError> {
        self.write_if_changed(name, &r.body)?;
        self.manifest.insert(
            name.to_owned(),
            FileInfo {
                etag: r.etag.clone(),
                last_modified: r.last_modified.map(crate::http::conditional::http_date),
                content_type: r.content_type.to_owned(),
                bytes: r.body.len(),
            },
        );
        Ok(())
    }

    fn write_if_changed(&mut self, name: &str, bytes: &[u8]) -> Result<(), ExportError> {
        let path = self.dir.join(name);
        self.report.files += 1;
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            self.report.unchanged += 1;
            return Ok(());
        }
        let err = |source| ExportError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let tmp = path.with_extension("tmp-export");
        std::fs::write(&tmp, bytes).map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)?;
        self.report.written += 1;
        Ok(())
    }
}
