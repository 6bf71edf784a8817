//! The hub's work off the request path: verifying intent at callbacks,
//! keeping subscriptions, and pushing changed feeds to their subscribers.
//!
//! One task runs it on the main runtime. It learns of changed stories the
//! way the feed cache does, by the store's generation, checked every
//! [`TICK`] while anyone subscribes (and every [`IDLE_TICK`] otherwise, to
//! see subscriptions another instance took). A topic is pushed when the
//! signature of its item set moved. Only the instance that leads the
//! store's chores pushes, so a shared store's subscribers get one copy.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hmac::{KeyInit, Mac};
use std::sync::Mutex;

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
/// Callbacks in flight at once (verifications and deliveries together).
const IN_FLIGHT: usize = 16;
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
    /// The handle, and the queue [`run`] takes.
    pub fn new() -> (Hub, mpsc::Receiver<Intent>) {
        let (jobs, rx) = mpsc::channel(QUEUE);
        (Hub { jobs }, rx)
    }

    pub(in crate::http) fn submit(&self, intent: Intent) -> Result<(), HttpError> {
        self.jobs.try_send(intent).map_err(|_| {
            HttpError::Unavailable(
                "the hub has too many requests to verify; try again shortly".into(),
            )
        })
    }
}

/// The hub's loop; returns when every [`Hub`] handle is gone.
pub async fn run(state: Arc<AppState>, mut jobs: mpsc::Receiver<Intent>) {
    let client = match client(state.config.websub.allow_private) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "WebSub hub not started");
            return;
        }
    };
    let hub = Arc::new(Worker {
        state,
        client,
        slots: Arc::new(Semaphore::new(IN_FLIGHT)),
        pushed: Mutex::new(HashMap::new()),
    });
    let mut generation = hub.state.store.generation();
    // What subscribers of a restarted hub have is the feed as it is now.
    let subs = hub.load().await.unwrap_or_default();
    hub.remember(&subs).await;
    let mut subscribed = subs.len();
    let mut since_load = Duration::ZERO;
    loop {
        let tick = if subscribed > 0 { TICK } else { IDLE_TICK };
        tokio::select! {
            job = jobs.recv() => {
                let Some(intent) = job else { return };
                let hub = hub.clone();
                tokio::spawn(async move { hub.verify(intent).await });
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
    slots: Arc<Semaphore>,
    /// Each subscribed topic's item-set signature when last pushed (or
    /// first seen): what the next change is told by.
    pushed: Mutex<HashMap<String, u64>>,
}

/// The client for callbacks: a stranger's URLs, so through the outbound
/// policy (unless the operator allows private addresses), no redirects.
fn client(allow_private: bool) -> Result<reqwest::Client, reqwest::Error> {
    crate::sources::fetch::install_crypto_provider();
    let mut policy = crate::sources::outbound::OutboundPolicy::default();
    if allow_private {
        policy.allow = ["0.0.0.0/0", "::/0"]
            .iter()
            .filter_map(|net| net.parse().ok())
            .collect();
    }
    reqwest::Client::builder()
        .user_agent(format!(
            "topicfeed/{} (WebSub hub)",
            env!("CARGO_PKG_VERSION")
        ))
        .connect_timeout(CALLBACK_TIMEOUT)
        .timeout(CALLBACK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .no_proxy()
        .dns_resolver(policy.resolver())
        .build()
}

impl Worker {
    async fn load(&self) -> Option<Vec<Subscription>> {
        let store = self.state.store.clone();
        match tokio::task::spawn_blocking(move || store.subscriptions(Utc::now())).await {
            Ok(Ok(subs)) => Some(subs),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "WebSub: cannot read subscriptions");
                None
            }
            Err(_) => None,
        }
    }

    /// Verification of intent (WebSub 5.3): the callback must echo a
    /// challenge. A subscription over a cap is denied at the callback.
    async fn verify(self: Arc<Self>, intent: Intent) {
        let _slot = self.slots.clone().acquire_owned().await;
        if intent.subscribe
            && let Some(reason) = self.over_cap(&intent).await
        {
            self.deny(&intent, reason).await;
            return;
        }
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
            Ok(r) if r.status().is_success() => r.text().await.is_ok_and(|b| b.trim() == challenge),
            Ok(_) | Err(_) => false,
        };
        if !echoed {
            tracing::info!(callback = %intent.callback, topic = %intent.topic, mode, "WebSub: intent not verified");
            return;
        }
        let store = self.state.store.clone();
        let topic = intent.topic.clone();
        let done = tokio::task::spawn_blocking(move || {
            if intent.subscribe {
                let expires = Utc::now()
                    + chrono::Duration::from_std(intent.lease)
                        .unwrap_or(chrono::Duration::days(10));
                store.put_subscription(&Subscription {
                    callback: intent.callback,
                    topic: intent.topic,
                    secret: intent.secret,
                    expires,
                })
            } else {
                store
                    .delete_subscription(&intent.callback, &intent.topic)
                    .map(|_| ())
            }
        })
        .await;
        match done {
            Ok(Ok(())) => {
                tracing::info!(mode, "WebSub: verified");
                // The feed as it is now is what the subscriber has; the
                // next change is pushed.
                if let Ok(entry) = super::super::feeds::for_topic(&self.state, &topic).await {
                    self.pushed().entry(topic).or_insert(entry.signature);
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "WebSub: cannot store the subscription"),
            Err(_) => {}
        }
    }

    fn pushed(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.pushed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why a new subscription would exceed a cap, if it would.
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
        let same_callback = subs
            .iter()
            .filter(|s| s.callback == intent.callback)
            .count();
        (same_callback >= cfg.max_per_callback)
            .then_some("this callback has as many topics as one may")
    }

    /// Tells the subscriber its subscription was refused (WebSub 5.2).
    async fn deny(&self, intent: &Intent, reason: &str) {
        let query = [
            ("hub.mode", "denied"),
            ("hub.topic", intent.topic.as_str()),
            ("hub.reason", reason),
        ];
        let _ = self
            .client
            .get(with_query(&intent.callback, &query))
            .send()
            .await;
    }

    /// Notes each subscribed topic's signature without pushing it.
    async fn remember(&self, subs: &[Subscription]) {
        for s in subs {
            if self.pushed().contains_key(&s.topic) {
                continue;
            }
            if let Ok(entry) = super::super::feeds::for_topic(&self.state, &s.topic).await {
                self.pushed().insert(s.topic.clone(), entry.signature);
            }
        }
    }

    /// Pushes every topic whose items changed since it was last looked at;
    /// a topic seen for the first time is only remembered.
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
        self.pushed()
            .retain(|topic, _| by_topic.contains_key(topic.as_str()));
        for (topic, subscribers) in by_topic {
            let entry = match super::super::feeds::for_topic(&self.state, topic).await {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(topic, error = ?e, "WebSub: cannot render a subscribed feed");
                    continue;
                }
            };
            let before = self.pushed().insert(topic.to_owned(), entry.signature);
            if before.is_none_or(|b| b == entry.signature) {
                continue;
            }
            for sub in subscribers {
                let (hub, sub, entry) = (self.clone(), sub.clone(), entry.clone());
                tokio::spawn(async move { hub.deliver(&sub, &entry).await });
            }
        }
    }

    /// One delivery, retried with backoff; a 410 ends the subscription.
    async fn deliver(&self, sub: &Subscription, entry: &crate::http::cache::Entry) {
        let hub_url = hub_url_of(&sub.topic);
        let link = format!("<{hub_url}>; rel=\"hub\", <{}>; rel=\"self\"", sub.topic);
        let signature = sub.secret.as_deref().map(|s| sign(s, &entry.body));
        for (attempt, wait) in std::iter::once(Duration::ZERO).chain(RETRIES).enumerate() {
            tokio::time::sleep(wait).await;
            let _slot = self.slots.clone().acquire_owned().await;
            let mut req = self
                .client
                .post(&sub.callback)
                .header(http::header::CONTENT_TYPE, entry.rendered.content_type)
                .header(http::header::LINK, &link)
                .body(entry.body.clone());
            if let Some(sig) = &signature {
                req = req.header("X-Hub-Signature", sig);
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => {
                    self.state.metrics.websub_delivered.inc();
                    return;
                }
                Ok(r) if r.status() == reqwest::StatusCode::GONE => {
                    let (store, cb, topic) = (
                        self.state.store.clone(),
                        sub.callback.clone(),
                        sub.topic.clone(),
                    );
                    let _ =
                        tokio::task::spawn_blocking(move || store.delete_subscription(&cb, &topic))
                            .await;
                    return;
                }
                Ok(r) => {
                    tracing::debug!(attempt, status = %r.status(), callback = %sub.callback, "WebSub: delivery refused")
                }
                Err(e) => {
                    tracing::debug!(attempt, error = %e, callback = %sub.callback, "WebSub: delivery failed")
                }
            }
        }
        self.state.metrics.websub_dropped.inc();
        tracing::info!(callback = %sub.callback, topic = %sub.topic, "WebSub: delivery dropped after retries");
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

/// The hub that serves `topic`: `{base}/websub` for `{base}/feeds/…`.
pub(in crate::http) fn hub_url_of(topic: &str) -> String {
    let base = topic.find("/feeds/").map_or(topic, |i| &topic[..i]);
    format!("{base}/websub")
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
        assert_eq!(
            hub_url_of("http://127.0.0.1:8080/feeds/all.atom?any=a,b"),
            "http://127.0.0.1:8080/websub"
        );
    }
}
