//! The hub's work off the request path: verifying intent at callbacks,
//! keeping subscriptions, and pushing changed feeds to their subscribers.
//!
//! One task runs it on the main runtime. It learns of changed stories the
//! way the feed cache does, by the store's generation, checked every
//! [`TICK`] while anyone subscribes (and every [`IDLE_TICK`] otherwise, to
//! see subscriptions another instance took). A subscriber is pushed the
//! feed when the signature of its item set differs from the one stored
//! with the subscription (what it was last sent), so a change made while
//! the hub was down, or while another instance led, is still pushed. The
//! signature is recorded when a push ends: delivered, or given up after
//! its retries (then the next change is the next push). A push a restart
//! cuts off is sent again by the restarted hub. Only the instance that
//! leads the store's chores pushes, so a shared store's subscribers get
//! one copy.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hmac::{KeyInit, Mac};
use std::sync::Mutex;

use crate::sources::outbound::OutboundPolicy;

use tokio::sync::{Semaphore, mpsc};

use super::Intent;
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::Subscription;

/// How often the store's generation is looked at while anyone subscribes.
const TICK: Duration = Duration::from_millis(250);
/// … and while no one does.
const IDLE_TICK: Duration = Duration::from_secs(30);
/// Requests waiting for verification; past this, new ones get 503.
const QUEUE: usize = 256;
/// Verifications, and deliveries, in flight at once.
const VERIFYING: usize = 8;
const SENDING: usize = 16;
/// The most of a verification's answer read: a challenge is short.
const MAX_ANSWER_BYTES: usize = 1024;
/// Waits before each retry of a failed delivery; it is dropped after the last.
const RETRIES: [Duration; 4] = [
    Duration::from_secs(2),
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(300),
];
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

/// The request side's handle on the hub.
pub struct Hub {
    jobs: mpsc::Sender<Intent>,
}

impl Hub {
    /// The handle requests are queued through, and what the hub's loop
    /// ([`run`]) works from. Fails when the client for callbacks cannot be
    /// built: the server then runs without a hub, and its feeds name none.
    pub fn new(config: &super::HubConfig) -> Result<(Hub, Jobs), crate::sources::SourceError> {
        let policy = callback_policy(config);
        let client = client(&policy)?;
        let (jobs, rx) = mpsc::channel(QUEUE);
        Ok((Hub { jobs }, Jobs { rx, client, policy }))
    }

    pub(in crate::http) fn submit(&self, intent: Intent) -> Result<(), HttpError> {
        self.jobs.try_send(intent).map_err(|_| {
            HttpError::Unavailable(
                "the hub has too many requests to verify; try again shortly".into(),
            )
        })
    }
}

/// The hub's side of a [`Hub`]: its queue, and the client and policy
/// callbacks are reached with.
pub struct Jobs {
    rx: mpsc::Receiver<Intent>,
    client: reqwest::Client,
    policy: OutboundPolicy,
}

/// The hub's loop. It runs for the life of the server (the state it
/// serves holds the [`Hub`] handle); pending retries end with the process.
pub async fn run(state: Arc<AppState>, jobs: Jobs) {
    let Jobs {
        rx: mut jobs,
        client,
        policy,
    } = jobs;
    let hub = Arc::new(Worker {
        state,
        client,
        policy,
        verifying: Arc::new(Semaphore::new(VERIFYING)),
        sending: Arc::new(Semaphore::new(SENDING)),
        deliveries: Mutex::new(HashMap::new()),
    });
    let mut generation = hub.state.store.generation();
    // A restart (or another instance) may have missed changes: the stored
    // signatures say what each subscriber has.
    let mut subscribed = match hub.load().await {
        Some(subs) => {
            hub.push_changed(&subs).await;
            subs.len()
        }
        None => 0,
    };
    let mut since_load = Duration::ZERO;
    loop {
        let tick = if subscribed > 0 { TICK } else { IDLE_TICK };
        tokio::select! {
            // Taken off the queue only with a verification slot free: the
            // queue then fills, and new requests get 503 (`Hub::submit`).
            job = jobs.recv(), if hub.verifying.available_permits() > 0 => {
                let Some(intent) = job else { return };
                let Ok(permit) = hub.verifying.clone().try_acquire_owned() else { continue };
                let hub = hub.clone();
                tokio::spawn(async move { hub.verify(intent, permit).await });
                // The new subscriber is counted at the next look.
                subscribed = subscribed.max(1);
            }
            () = tokio::time::sleep(tick) => {
                since_load += tick;
                let now = hub.state.store.generation();
                if now == generation && since_load < IDLE_TICK {
                    continue;
                }
                since_load = Duration::ZERO;
                generation = now;
                let Some(subs) = hub.load().await else { continue };
                subscribed = subs.len();
                hub.push_changed(&subs).await;
            }
        }
    }
}

struct Worker {
    state: Arc<AppState>,
    client: reqwest::Client,
    /// Checked before every request: the client's resolver sees names
    /// only, and a stored callback may name an address (taken under an
    /// earlier `--websub-allow-private`, or by another instance).
    policy: OutboundPolicy,
    /// Verifications in flight (each a GET of a stranger's URL).
    verifying: Arc<Semaphore>,
    /// Deliveries sending at once.
    sending: Arc<Semaphore>,
    /// The delivery under way (or retrying) per callback and topic: a newer
    /// version replaces it, so a subscriber never gets an older document
    /// after a newer one, and tasks stay one per subscription.
    deliveries: Mutex<HashMap<(String, String), Delivery>>,
}

/// A delivery under way: which version it sends, and its task.
struct Delivery {
    signature: u64,
    task: tokio::task::AbortHandle,
}

/// Where the hub may send: callbacks are a stranger's URLs, so public
/// addresses and the ranges the operator allows every such fetch
/// (`[outbound] allow`), or anywhere with `--websub-allow-private`.
pub(super) fn callback_policy(hub: &super::HubConfig) -> OutboundPolicy {
    let allow = if hub.allow_private {
        ["0.0.0.0/0", "::/0"]
            .iter()
            .filter_map(|net| net.parse().ok())
            .collect()
    } else {
        hub.outbound_allow.clone()
    };
    OutboundPolicy { allow }
}

/// The client for callbacks: its resolver refuses names that lead where
/// `policy` does not permit.
fn client(policy: &OutboundPolicy) -> Result<reqwest::Client, crate::sources::SourceError> {
    crate::sources::fetch::guarded_client(&crate::sources::fetch::FetchOptions {
        user_agent: format!("topicfeed/{} (WebSub hub)", env!("CARGO_PKG_VERSION")),
        connect_timeout: CALLBACK_TIMEOUT,
        timeout: CALLBACK_TIMEOUT,
        env_proxy: false,
        outbound: policy.clone(),
        ..Default::default()
    })
}

impl Worker {
    /// Whether the hub may send to `callback` now.
    fn reachable(&self, callback: &str) -> bool {
        let verdict = url::Url::parse(callback)
            .map_err(|e| e.to_string())
            .and_then(|url| self.policy.check_url(&url));
        if let Err(why) = &verdict {
            tracing::info!(%callback, %why, "WebSub: callback refused by the outbound policy");
        }
        verdict.is_ok()
    }

    async fn load(&self) -> Option<Vec<Subscription>> {
        self.store(|store| store.subscriptions(Utc::now())).await
    }

    /// A store call off the runtime's threads; a failure is logged.
    async fn store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn crate::store::Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Option<T> {
        let store = self.state.store.clone();
        match tokio::task::spawn_blocking(move || f(store.as_ref())).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "WebSub: store");
                None
            }
            Err(_) => None,
        }
    }

    /// Verification of intent (WebSub 5.3): the callback must echo a
    /// challenge. A subscription over a cap is denied at the callback.
    async fn verify(self: Arc<Self>, intent: Intent, _slot: tokio::sync::OwnedSemaphorePermit) {
        if !self.reachable(&intent.callback) {
            return;
        }
        if intent.subscribe
            && let Some(reason) = self.over_cap(&intent).await
        {
            self.deny(&intent.callback, &intent.topic, reason).await;
            return;
        }
        // What the subscriber has from now on, taken before it is asked:
        // a change after this is pushed.
        let seen = if intent.subscribe {
            super::super::feeds::for_topic(&self.state, &intent.topic)
                .await
                .ok()
                .map(|e| e.signature)
        } else {
            None
        };
        let challenge = challenge();
        let mode = if intent.subscribe {
            "subscribe"
        } else {
            "unsubscribe"
        };
        let lease = intent.lease.as_secs().to_string();
        let mut query = vec![
            ("hub.mode", mode),
            ("hub.topic", intent.topic.as_str()),
            ("hub.challenge", challenge.as_str()),
        ];
        if intent.subscribe {
            query.push(("hub.lease_seconds", lease.as_str()));
        }
        let echoed = match self
            .client
            .get(with_query(&intent.callback, &query))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => echoes(r, &challenge).await,
            Ok(_) | Err(_) => false,
        };
        let topic = redacted(&intent.topic);
        if !echoed {
            tracing::info!(callback = %intent.callback, %topic, mode, "WebSub: intent not verified");
            return;
        }
        let stored = self
            .store(move |store| {
                if intent.subscribe {
                    let expires = Utc::now()
                        + chrono::Duration::from_std(intent.lease)
                            .unwrap_or(chrono::Duration::days(10));
                    store.put_subscription(&Subscription {
                        callback: intent.callback,
                        topic: intent.topic,
                        secret: intent.secret,
                        expires,
                        seen,
                    })
                } else {
                    store
                        .delete_subscription(&intent.callback, &intent.topic)
                        .map(|_| ())
                }
            })
            .await;
        if stored.is_some() {
            tracing::info!(%topic, mode, "WebSub: verified");
        }
    }

    /// Why a new subscription would exceed a cap, if it would. The cap per
    /// callback counts its host and port, not its whole URL: a query
    /// string per subscription must not buy more.
    async fn over_cap(&self, intent: &Intent) -> Option<&'static str> {
        let subs = self.load().await?;
        let renewal = |s: &Subscription| s.callback == intent.callback && s.topic == intent.topic;
        if subs.iter().any(renewal) {
            return None;
        }
        let cfg = &self.state.config.websub;
        if subs.len() >= cfg.max_subscriptions {
            return Some("the hub has as many subscriptions as it takes");
        }
        let host = callback_host(&intent.callback);
        let same_host = subs
            .iter()
            .filter(|s| callback_host(&s.callback) == host)
            .count();
        (same_host >= cfg.max_per_callback)
            .then_some("this callback's host has as many subscriptions as one may")
    }

    /// Tells the subscriber its subscription was refused, or has ended
    /// (WebSub 5.2).
    async fn deny(&self, callback: &str, topic: &str, reason: &str) {
        if !self.reachable(callback) {
            return;
        }
        let query = [
            ("hub.mode", "denied"),
            ("hub.topic", topic),
            ("hub.reason", reason),
        ];
        let _ = self.client.get(with_query(callback, &query)).send().await;
    }

    /// Pushes each subscribed topic whose item set differs from what its
    /// subscribers last got, and records what they get now.
    async fn push_changed(self: &Arc<Self>, subs: &[Subscription]) {
        let store = self.state.store.clone();
        let leads = tokio::task::spawn_blocking(move || store.lead()).await;
        if !matches!(leads, Ok(Ok(true))) {
            return;
        }
        let mut by_topic: HashMap<&str, Vec<&Subscription>> = HashMap::new();
        for s in subs {
            by_topic.entry(s.topic.as_str()).or_default().push(s);
        }
        for (topic, subscribers) in by_topic {
            if let Err(why) = self.may_read(topic) {
                self.end(&subscribers, why).await;
                continue;
            }
            let entry = match super::super::feeds::for_topic(&self.state, topic).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(topic = %redacted(topic), error = ?e, "WebSub: cannot render a subscribed feed");
                    continue;
                }
            };
            for sub in subscribers {
                if sub.seen == Some(entry.signature)
                    || self.delivering(&sub.callback, &sub.topic, entry.signature)
                {
                    continue;
                }
                if sub.seen.is_none() {
                    // A subscription from before signatures were kept
                    // learns the current one without a push.
                    self.mark_seen(sub, entry.signature).await;
                    continue;
                }
                self.send(sub.clone(), entry.clone());
            }
        }
    }

    /// Whether a topic may still be pushed: its key (in the topic URL)
    /// must still open it, after a key was set or changed since.
    fn may_read(&self, topic: &str) -> Result<(), &'static str> {
        let feed = super::feed_of(topic, &self.state)
            .map_err(|_| "the topic is no longer a feed of this server")?;
        if super::key_opens(&feed, &self.state, None).is_ok() {
            Ok(())
        } else {
            Err("the feed is private and the key in the topic no longer opens it")
        }
    }

    /// Ends subscriptions the hub may no longer serve, telling each.
    async fn end(&self, subs: &[&Subscription], why: &'static str) {
        for sub in subs {
            let (cb, topic) = (sub.callback.clone(), sub.topic.clone());
            self.store(move |store| store.delete_subscription(&cb, &topic))
                .await;
            self.deny(&sub.callback, &sub.topic, why).await;
        }
    }

    /// Records that `sub` has the version `seen`. Only the signature is
    /// written: a whole row from the start of this look would bring back a
    /// subscription ended meanwhile, or undo a renewal's lease.
    async fn mark_seen(&self, sub: &Subscription, seen: u64) {
        let (callback, topic) = (sub.callback.clone(), sub.topic.clone());
        self.store(move |store| store.mark_seen(&callback, &topic, seen))
            .await;
    }

    /// Whether the version `signature` is on its way to the subscription
    /// (sending, or waiting to retry): the look every tick must not start
    /// it again.
    fn delivering(&self, callback: &str, topic: &str, signature: u64) -> bool {
        let deliveries = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        deliveries
            .get(&(callback.to_owned(), topic.to_owned()))
            .is_some_and(|d| d.signature == signature && !d.task.is_finished())
    }

    /// Starts the delivery of `entry` to `sub`, replacing one still under
    /// way for the same subscription.
    fn send(self: &Arc<Self>, sub: Subscription, entry: Arc<crate::http::cache::Entry>) {
        let key = (sub.callback.clone(), sub.topic.clone());
        let hub = self.clone();
        let signature = entry.signature;
        let task = tokio::spawn(async move { hub.deliver(&sub, &entry).await });
        let mut deliveries = self.deliveries.lock().unwrap_or_else(|p| p.into_inner());
        deliveries.retain(|_, d| !d.task.is_finished());
        let now = Delivery {
            signature,
            task: task.abort_handle(),
        };
        if let Some(older) = deliveries.insert(key, now) {
            older.task.abort();
        }
    }

    /// One delivery, retried with backoff; a 410 ends the subscription.
    async fn deliver(&self, sub: &Subscription, entry: &crate::http::cache::Entry) {
        if !self.reachable(&sub.callback) {
            let (cb, topic) = (sub.callback.clone(), sub.topic.clone());
            self.store(move |store| store.delete_subscription(&cb, &topic))
                .await;
            return;
        }
        let signature = sub.secret.as_deref().map(|s| sign(s, &entry.body));
        let topic = redacted(&sub.topic);
        for (attempt, wait) in std::iter::once(Duration::ZERO).chain(RETRIES).enumerate() {
            tokio::time::sleep(wait).await;
            let _slot = self.sending.clone().acquire_owned().await;
            let mut req = self
                .client
                .post(&sub.callback)
                .header(http::header::CONTENT_TYPE, entry.rendered.content_type)
                .body(entry.body.clone());
            // The feed's own discovery links (hub and self), as polls get
            // them: the topic URL is the feed's self link.
            if let Some(link) = entry.link() {
                req = req.header(http::header::LINK, link.clone());
            }
            if let Some(sig) = &signature {
                req = req.header("X-Hub-Signature", sig);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => {
                    self.state.metrics.websub_delivered.inc();
                    self.mark_seen(sub, entry.signature).await;
                    return;
                }
                Ok(r) if r.status() == reqwest::StatusCode::GONE => {
                    let (cb, t) = (sub.callback.clone(), sub.topic.clone());
                    self.store(move |store| store.delete_subscription(&cb, &t))
                        .await;
                    return;
                }
                Ok(r) => {
                    tracing::debug!(attempt, status = %r.status(), callback = %sub.callback, %topic, "WebSub: delivery refused")
                }
                Err(e) => {
                    tracing::debug!(attempt, error = %e, callback = %sub.callback, %topic, "WebSub: delivery failed")
                }
            }
        }
        self.state.metrics.websub_dropped.inc();
        tracing::info!(callback = %sub.callback, %topic, "WebSub: delivery dropped after retries");
        // Given up: the next change is the next push, not this one again.
        self.mark_seen(sub, entry.signature).await;
    }
}

/// Whether the verification's answer is the challenge; at most
/// [`MAX_ANSWER_BYTES`] of a stranger's body are read.
async fn echoes(mut r: reqwest::Response, challenge: &str) -> bool {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = r.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return false;
        }
    }
    std::str::from_utf8(&body).is_ok_and(|b| b.trim() == challenge)
}

/// `host:port` of a callback, what its cap counts by.
fn callback_host(callback: &str) -> String {
    url::Url::parse(callback).map_or_else(
        |_| callback.to_owned(),
        |u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or(""),
                u.port_or_known_default().unwrap_or(0)
            )
        },
    )
}

/// A topic URL as logs may show it: a read key in it is a credential.
fn redacted(topic: &str) -> String {
    match url::Url::parse(topic) {
        Ok(mut url) if url.query_pairs().any(|(k, _)| k == "key") => {
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "key")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair("key", "…");
            url.to_string()
        }
        _ => topic.to_owned(),
    }
}

/// `callback` with `pairs` added to whatever query it has (WebSub 5.3:
/// the subscriber's own parameters are kept).
fn with_query(callback: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(callback) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        Err(_) => callback.to_owned(),
    }
}

/// `sha256=` and the HMAC-SHA256 of `body` under `secret`, in hex.
fn sign(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length; this cannot happen.
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// 128 random bits, in hex: a challenge no one can guess.
fn challenge() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No system randomness: the clock's nanoseconds still differ.
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        bytes[..8].copy_from_slice(&nanos.to_le_bytes());
    }
    hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(challenge(), challenge());
        assert_eq!(challenge().len(), 32);
    }
}
