//! `topicfeed export`: the served feeds as static files, byte for byte,
//! with their validators, rewritten only when they change.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::root;
use crate::support::server::{Server, get, serve_command};

const BASE: &str = "https://feeds.example.org";

fn topicfeed(args: &[&str], data: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_topicfeed"))
        .args(args)
        .arg("--data")
        .arg(data)
        .args(crate::support::backend::database_args(data))
        .current_dir(root())
        .env_remove("TOPICFEED_FEEDS")
        .env_remove("TOPICFEED_BASE_URL")
        .output()
        .expect("run topicfeed");
    assert!(out.status.success(), "{args:?}: {out:?}");
    out
}

fn export(data: &Path, out: &Path) -> String {
    let o = topicfeed(&["export", out.to_str().unwrap(), "--base-url", BASE], data);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The topic slugs of the shipped `feeds/`, and `all`.
fn slugs() -> Vec<String> {
    let mut s: Vec<String> = std::fs::read_dir(root().join("feeds"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "toml" && p.file_stem()? != "sources")
                .then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    s.push("all".into());
    s
}

#[test]
fn export_writes_every_feed_as_served_and_rewrites_only_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (data, out) = (dir.path().join("data"), dir.path().join("site"));
    topicfeed(&["ingest", "examples/articles"], &data);
    let first = export(&data, &out);
    let manifest: BTreeMap<String, Value> =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    for slug in slugs() {
        for ext in ["rss", "atom", "json"] {
            let name = format!("feeds/{slug}.{ext}");
            let bytes = std::fs::read(out.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            // Read back with another parser than the one that wrote it.
            let feed = feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{name}: {e}"));
            let own = format!("{BASE}/feeds/{slug}.{ext}");
            assert!(
                feed.links.iter().any(|l| l.href == own) || feed.id == own,
                "{name}: no link to itself"
            );
            let m = &manifest[&name];
            assert_eq!(m["bytes"], bytes.len(), "{name}");
            assert!(m["content_type"].as_str().unwrap().contains(ext), "{name}");
            assert!(m["etag"].as_str().unwrap().starts_with('"'), "{name}");
        }
        assert!(out.join(format!("feeds/{slug}.html")).exists());
    }
    for name in ["index.html", "feeds.opml"] {
        assert!(manifest.contains_key(name), "{name}");
    }
    let opml = std::fs::read_to_string(out.join("feeds.opml")).unwrap();
    assert!(opml.contains(&format!("{BASE}/feeds/world.rss")), "{opml}");

    // The same bytes and validators as `serve --base-url` for the variant,
    // on a server without a WebSub hub: static files have none to name.
    let mut cmd = serve_command();
    cmd.current_dir(root())
        .args([
            "--no-samples",
            "--no-sources",
            "--no-websub",
            "--base-url",
            BASE,
            "--data",
        ])
        .arg(&data)
        .args(crate::support::backend::database_args(&data));
    let s = Server::spawn(cmd);
    for name in ["feeds/all.atom", "feeds/world.rss", "feeds/science.json"] {
        let served = get(&s.url(&format!("/{name}")), &[]);
        assert_eq!(served.status, 200, "{name}");
        assert_eq!(
            served.body,
            std::fs::read(out.join(name)).unwrap(),
            "{name}"
        );
        assert_eq!(
            served.header("etag").as_deref(),
            manifest[name]["etag"].as_str(),
            "{name}"
        );
        assert_eq!(
            served.header("last-modified").as_deref(),
            manifest[name]["last_modified"].as_str(),
            "{name}"
        );
    }
    drop(s);

    // Again on an unchanged store: nothing rewritten.
    let again = export(&data, &out);
    assert!(again.contains(" 0 written"), "{first} / {again}");

    // One new story: its feeds change, the others stay as they were.
    let extra = dir.path().join("extra.txt");
    std::fs::write(
        &extra,
        "Glacier museum opens a new hall on alpine ice\n\nThe museum of glaciology opened a hall \
         on Tuesday about how alpine ice has retreated since 1850, with cores drilled by \
         climate scientists and a film on melting glaciers.\n\nVisitors can touch a block of \
         ice that is four hundred years old, the curator said.\n",
    )
    .unwrap();
    topicfeed(&["ingest", extra.to_str().unwrap()], &data);
    let before = std::fs::read(out.join("feeds/all.atom")).unwrap();
    let third = export(&data, &out);
    let written: usize = third
        .split(", ")
        .find_map(|p| p.strip_suffix(" written"))
        .and_then(|p| p.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{third}"));
    assert_ne!(std::fs::read(out.join("feeds/all.atom")).unwrap(), before);
    let total: usize = third.split(' ').next().unwrap().parse().unwrap();
    assert!(written > 0 && written < total / 2, "{third}");

    // A topic removed from the configuration: its files go, and nothing
    // the export did not write is touched.
    let feeds = dir.path().join("feeds");
    std::fs::create_dir(&feeds).unwrap();
    for entry in std::fs::read_dir(root().join("feeds")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != "sports.toml") {
            std::fs::copy(&path, feeds.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(out.join("robots.txt"), "User-agent: *\n").unwrap();
    let o = topicfeed(
        &[
            "export",
            out.to_str().unwrap(),
            "--base-url",
            BASE,
            "--feeds",
            feeds.to_str().unwrap(),
        ],
        &data,
    );
    let fourth = String::from_utf8_lossy(&o.stdout);
    assert!(fourth.contains(" 4 removed"), "{fourth}");
    for ext in ["rss", "atom", "json", "html"] {
        assert!(!out.join(format!("feeds/sports.{ext}")).exists(), "{ext}");
    }
    assert!(out.join("robots.txt").exists());
    assert!(out.join("feeds/world.rss").exists());
}

#[test]
fn export_refuses_a_base_url_that_is_not_http() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_topicfeed"))
        .args([
            "export",
            "out",
            "--base-url",
            "javascript:alert(1)",
            "--data",
        ])
        .arg(dir.path())
        .current_dir(dir.path())
        .env_remove("TOPICFEED_BASE_URL")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--base-url"), "{err}");
}
