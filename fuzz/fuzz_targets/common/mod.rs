//! Shared by the fuzz targets: the optional slow-input check.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `TOPICFEED_FUZZ_SLOW_MS=100` makes every input slower than 100 ms a
/// crash (so libFuzzer saves it); unset, timing is not checked, so normal
/// runs on a busy machine are not flaky. The first input of a process is
/// not timed: it pays for the lazily built rules, regexes and language
/// models every later input shares.
fn slow_limit() -> Option<Duration> {
    static LIMIT: OnceLock<Option<Duration>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var("TOPICFEED_FUZZ_SLOW_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
    })
}

/// Runs `f`, panicking afterwards if it took longer than the limit.
pub fn timed<T>(f: impl FnOnce() -> T) -> T {
    static WARM: AtomicBool = AtomicBool::new(false);
    let Some(limit) = slow_limit().filter(|_| WARM.swap(true, Ordering::Relaxed)) else {
        return f();
    };
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(
        took <= limit,
        "slow input: {} ms (limit {} ms)",
        took.as_millis(),
        limit.as_millis()
    );
    out
}
