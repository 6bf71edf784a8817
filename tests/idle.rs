//! An idle server stays idle: the real binary, started as a user starts it
//! with the shipped configuration (sources on: `feeds/sources.toml`
//! watches an `inbox` folder), uses next to no CPU once its start-up work
//! is done and nothing arrives.
//!
//! The server runs in a temporary directory holding a copy of the shipped
//! `feeds/`, with `--data` and `--feeds` left to their defaults, so the
//! inbox (relative to the directory holding `feeds/`) and the store are
//! that directory's, never the repository's `./inbox` or `./data`. CPU
//! time is the child's utime + stime from `/proc/PID/stat` (Linux only).

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::support::root;
use crate::support::server::{Server, serve_command};

/// Start-up work that may still run after the ready line (the inbox's
/// first scan, the first look at the topic files).
const SETTLE: Duration = Duration::from_secs(3);
/// How long the server is watched doing nothing.
const WINDOW: Duration = Duration::from_secs(10);
/// The most of one core an idle server may use over the window: 1%.
const MAX_SHARE: f64 = 0.01;

/// Clock ticks per second (`getconf CLK_TCK`; 100 where it cannot be asked).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of process `pid` (fields 14 and 15 of `/proc/PID/stat`),
/// in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // Field 2, the command name in parentheses, may hold spaces: fields
    // are counted from the last `)`, after which field 3 comes.
    let after_comm = stat.rfind(')').expect("command name") + 1;
    let fields: Vec<&str> = stat[after_comm..].split_whitespace().collect();
    let field = |n: usize| -> u64 {
        fields[n - 3]
            .parse()
            .unwrap_or_else(|e| panic!("field {n} of {stat:?}: {e}"))
    };
    field(14) + field(15)
}

/// The shipped topic files and `sources.toml`, copied into `to`.
fn copy_feeds(to: &Path) {
    std::fs::create_dir_all(to).expect("feeds dir");
    for entry in std::fs::read_dir(root().join("feeds")).expect("feeds/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let sources = std::fs::read_to_string(to.join("sources.toml")).expect("sources.toml");
    assert!(
        sources.contains("[[inbox]]"),
        "the shipped sources.toml watches an inbox"
    );
}

#[test]
fn an_idle_server_uses_under_one_percent_of_a_core() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_feeds(&dir.path().join("feeds"));
    let mut cmd = serve_command();
    cmd.current_dir(dir.path())
        .arg("--samples")
        .arg(root().join("examples/articles"));
    let mut server = Server::spawn(cmd);
    sleep(SETTLE);
    assert!(
        dir.path().join("inbox").is_dir(),
        "the shipped inbox is watched (in the server's directory)"
    );

    let pid = server.child.id();
    let before = cpu_ticks(pid);
    let started = Instant::now();
    sleep(WINDOW);
    let after = cpu_ticks(pid);
    let window = started.elapsed().as_secs_f64();

    assert!(
        server.child.try_wait().expect("wait").is_none(),
        "the server exited; stderr:\n{}",
        server.stderr()
    );
    let cpu = (after - before) as f64 / clock_ticks();
    eprintln!(
        "idle server: {cpu:.2} s of CPU in {window:.1} s ({:.1}% of one core)",
        100.0 * cpu / window
    );
    assert!(
        cpu < MAX_SHARE * window,
        "idle for {window:.1} s, the server used {cpu:.2} s of CPU ({:.1}% of one core; \
         at most {:.0}% allowed); stderr:\n{}",
        100.0 * cpu / window,
        100.0 * MAX_SHARE,
        server.stderr()
    );
}
