//! Starts the real `topicfeed serve` binary on an ephemeral loopback port
//! with its own data directory, and gives tests a plain HTTP client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub base: String,
    pub child: Child,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts a server with the shipped feeds and samples and no upstream
    /// sources (so no test touches a real ./inbox); `extra` flags are appended.
    pub fn start(extra: &[&str]) -> Server {
        let mut args = vec!["--no-sources"];
        args.extend_from_slice(extra);
        Server::start_with(&args)
    }

    /// Starts a server with exactly these extra flags.
    pub fn start_with(extra: &[&str]) -> Server {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let data = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_topicfeed"))
            .current_dir(&root)
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .args(extra)
            .env("TOPICFEED_LOG", "warn")
            .env_remove("TOPICFEED_API_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start topicfeed serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        let base = loop {
            line.clear();
            if reader.read_line(&mut line).expect("read stderr") == 0 {
                panic!("server exited before listening");
            }
            if let Some(rest) = line.split("serving on ").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .expect("url")
                    .trim_end_matches('/')
                    .to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Server {
            base,
            child,
            _data: data,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

pub struct Got {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn got(mut resp: http::Response<ureq::Body>) -> Got {
    Got {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap_or_default(),
    }
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    got(req.call().unwrap_or_else(|e| panic!("GET {url}: {e}")))
}

pub fn head(url: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = agent().head(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    got(req.call().unwrap_or_else(|e| panic!("HEAD {url}: {e}")))
}

pub fn post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Got {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    got(req.send(body).unwrap_or_else(|e| panic!("POST {url}: {e}")))
}
