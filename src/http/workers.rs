//! Connection workers: one single-threaded tokio runtime per core, each
//! serving the connections handed to it for their whole life.
//!
//! A poll is a few microseconds of work; on a work-stealing runtime a good
//! share of that went to moving connections' tasks between threads and
//! waking parked workers (measured: 8.5 µs of CPU per 304 on one worker,
//! 10.8 µs on two). Here the accept loop hands each new connection to the
//! next worker, and everything that connection does after (reads,
//! responses, timers) stays on that worker's thread, as nginx keeps a
//! connection in one worker process. Blocking work (SQLite, rendering,
//! compression) still goes to each runtime's blocking pool.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use tokio::sync::mpsc;

/// Work for a worker: built on the worker's thread (a socket must be
/// registered with the runtime that polls it), then run there.
pub type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

pub struct Workers {
    senders: Vec<mpsc::UnboundedSender<Job>>,
    threads: Vec<JoinHandle<()>>,
    next: AtomicUsize,
}

impl Workers {
    /// Starts `n` workers (at least one), named `topicfeed-http-N`.
    pub fn start(n: usize) -> std::io::Result<Workers> {
        let mut senders = Vec::new();
        let mut threads = Vec::new();
        for i in 0..n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
            let thread = std::thread::Builder::new()
                .name(format!("topicfeed-http-{i}"))
                .spawn(move || {
                    let local = tokio::task::LocalSet::new();
                    // Runs until the acceptor drops its sender, which it
                    // does once the graceful shutdown is over: whatever is
                    // still open then is dropped with the runtime.
                    let pending = std::rc::Rc::new(tokio::sync::Notify::new());
                    let wake = pending.clone();
                    crate::logging::batch_this_thread(move || wake.notify_one());
                    local.block_on(&runtime, async move {
                        tokio::task::spawn_local(flush_logs(pending));
                        while let Some(job) = rx.recv().await {
                            tokio::task::spawn_local(job());
                        }
                    });
                    crate::logging::flush_this_thread();
                })?;
            senders.push(tx);
            threads.push(thread);
        }
        Ok(Workers {
            senders,
            threads,
            next: AtomicUsize::new(0),
        })
    }

    /// Hands `job` to the next worker, round robin. Returns it if every
    /// worker has stopped.
    pub fn spawn(&self, job: Job) -> Result<(), Job> {
        let mut job = job;
        for _ in 0..self.senders.len() {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.senders.len();
            match self.senders[i].send(job) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendError(back)) => job = back,
            }
        }
        Err(job)
    }

    /// Stops the workers, dropping the connections they still hold (call
    /// after the graceful shutdown), and waits for their threads.
    pub fn join(self) {
        drop(self.senders);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// A worker's access-log lines reach stderr at most this much later.
const LOG_FLUSH: std::time::Duration = std::time::Duration::from_millis(100);

/// Flushes the worker's batched log lines [`LOG_FLUSH`] after the first
/// one of a batch arrives: no timer runs while nothing is logged.
async fn flush_logs(pending: std::rc::Rc<tokio::sync::Notify>) {
    loop {
        pending.notified().await;
        tokio::time::sleep(LOG_FLUSH).await;
        crate::logging::flush_this_thread();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::Mutex;

    #[test]
    fn jobs_run_on_the_workers_in_turn() {
        let workers = Workers::start(2).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        for _ in 0..4 {
            let seen = seen.clone();
            let done = done_tx.clone();
            let job: Job = Box::new(move || {
                Box::pin(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    let name = std::thread::current().name().map(str::to_owned);
                    seen.lock().unwrap().push(name);
                    let _ = done.send(());
                })
            });
            assert!(workers.spawn(job).is_ok());
        }
        for _ in 0..4 {
            done_rx
                .recv_timeout(std::time::Duration::from_secs(5))
                .unwrap();
        }
        workers.join();
        let mut names: Vec<_> = seen.lock().unwrap().iter().flatten().cloned().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "topicfeed-http-0",
                "topicfeed-http-0",
                "topicfeed-http-1",
                "topicfeed-http-1"
            ]
        );
    }
}
