//! Starts the real `topicfeed serve` binary on an ephemeral loopback port
//! and gives tests a plain HTTP client.
//!
//! The port comes from the server's ready line: once its listener is
//! bound, `serve` prints exactly one line on stdout, `listening on
//! http://ADDR/` (the contract documented under `serve --help`). Both of
//! the child's pipes are drained for its whole life, so it never blocks on
//! a full pipe; the tail of its stderr is kept for failure messages.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long start-up (store, topics, sample ingest) may take in a debug build.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Lines of the child's stderr kept for failure messages.
const STDERR_LINES: usize = 200;

/// The ready line's parts, before and after the bound address.
const READY_PREFIX: &str = "listening on http://";
const READY_SUFFIX: &str = "/";

pub struct Server {
    /// `http://ADDR`, without the trailing slash.
    pub base: String,
    pub child: Child,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// The stdout reader; returns the lines after the ready line.
    stdout: Option<JoinHandle<Vec<String>>>,
    _data: Option<tempfile::TempDir>,
}

/// `topicfeed serve --addr 127.0.0.1:0`, in an environment of its own: no
/// `TOPICFEED_*` variable nor proxy of the test's environment reaches it,
/// and it logs warnings only. Add flags and a directory, then
/// [`Server::spawn`] it.
pub fn serve_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_topicfeed"));
    cmd.args(["serve", "--addr", "127.0.0.1:0"]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TOPICFEED_") {
            cmd.env_remove(&name);
        }
    }
    without_proxies(&mut cmd);
    cmd.env("TOPICFEED_LOG", "warn");
    cmd
}

/// The address in a ready line, which must be exactly
/// `listening on http://ADDR/`.
pub fn parse_ready_line(line: &str) -> Result<SocketAddr, String> {
    line.strip_prefix(READY_PREFIX)
        .and_then(|rest| rest.strip_suffix(READY_SUFFIX))
        .and_then(|addr| addr.parse().ok())
        .ok_or_else(|| format!("not a ready line `{READY_PREFIX}ADDR{READY_SUFFIX}`: {line:?}"))
}

/// Calls `each` with every line `r` gives until end of file or an error
/// (lines that are not UTF-8 are read lossily, never left in the pipe).
fn each_line(r: impl Read, mut each: impl FnMut(String)) {
    let mut r = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                each(line.trim_end_matches(['\n', '\r']).to_owned());
            }
        }
    }
}

impl Server {
    /// Starts a server with the shipped feeds and samples and no upstream
    /// sources (so no test touches a real ./inbox); `extra` flags are appended.
    pub fn start(extra: &[&str]) -> Server {
        let mut args = vec!["--no-sources"];
        args.extend_from_slice(extra);
        Server::start_with(&args)
    }

    /// Starts a server in the repository, on a temporary data directory,
    /// with exactly these extra flags.
    pub fn start_with(extra: &[&str]) -> Server {
        let data = tempfile::tempdir().expect("tempdir");
        let mut cmd = serve_command();
        cmd.current_dir(super::root())
            .arg("--data")
            .arg(data.path())
            .args(super::backend::database_args(data.path()))
            .args(extra);
        let mut s = Server::spawn(cmd);
        s._data = Some(data);
        s
    }

    /// Spawns `cmd` (a [`serve_command`]) and waits for its ready line.
    /// Panics, with the tail of its stderr, if it exits first, prints
    /// anything else first, or takes longer than a minute.
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start topicfeed serve");
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let err_pipe = child.stderr.take().expect("stderr");
        let tail = stderr.clone();
        let err_reader = std::thread::spawn(move || {
            each_line(err_pipe, |line| {
                let mut tail = tail.lock().expect("stderr lock");
                if tail.len() == STDERR_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            });
        });
        let out_pipe = child.stdout.take().expect("stdout");
        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout = std::thread::spawn(move || {
            let mut first = Some(ready_tx);
            let mut after = Vec::new();
            each_line(out_pipe, |line| match first.take() {
                Some(tx) => {
                    let _ = tx.send(line);
                }
                None => after.push(line),
            });
            after
        });
        let ready = match ready_rx.recv_timeout(READY_TIMEOUT) {
            Ok(line) => parse_ready_line(&line),
            Err(RecvTimeoutError::Timeout) => Err(format!("none within {READY_TIMEOUT:?}")),
            Err(RecvTimeoutError::Disconnected) => Err("stdout closed first".to_owned()),
        };
        // Built before any check, so that a failed one still stops the child.
        let mut server = Server {
            base: String::new(),
            child,
            stderr,
            stdout: Some(stdout),
            _data: None,
        };
        match ready {
            Ok(addr) => {
                assert!(
                    addr.ip() == Ipv4Addr::LOCALHOST && addr.port() != 0,
                    "the ready line names {addr}, not 127.0.0.1 and a port"
                );
                server.base = format!("http://{addr}");
                server
            }
            Err(why) => {
                let _ = server.child.kill();
                let status = server.child.wait();
                let _ = err_reader.join();
                panic!(
                    "topicfeed serve gave no ready line ({why}; {status:?}); stderr:\n{}",
                    server.stderr()
                );
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// Stops the server as an operator does (SIGTERM) and waits for it to
    /// exit, so it closes its store cleanly.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait for topicfeed serve")
    }

    /// The last lines the server wrote on stderr.
    pub fn stderr(&self) -> String {
        let tail = self.stderr.lock().expect("stderr lock");
        tail.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What the server printed on stdout after its ready line, once it has
    /// exited (call after `child.wait()`): the contract says nothing.
    pub fn stdout_after_ready(&mut self) -> Vec<String> {
        self.stdout
            .take()
            .map(|t| t.join().expect("stdout reader"))
            .unwrap_or_default()
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

/// A GET that does not follow redirects: the response as sent.
pub fn get_once(url: &str, headers: &[(&str, &str)]) -> Got {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut req = agent.get(url);
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

/// Loopback traffic of a test must never go through a proxy from the
/// environment.
pub fn without_proxies(cmd: &mut Command) -> &mut Command {
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(name);
    }
    cmd
}
