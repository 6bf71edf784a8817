//! Private feeds: which requests may read what.
//!
//! A feed is private when the server has a global read key (`serve
//! --read-key`: every feed and page) or when a topic it shows has a key of
//! its own (`key = "…"` in the topic file). Readers present a key the two
//! ways every feed reader supports: `?key=…` in the subscribed URL, or HTTP
//! Basic auth (the key as the password, any user name; or as the user name
//! with no password). A topic's key opens that topic's feeds, and filters
//! that name it (`any=`, `all=`, `not=`); the global key opens everything.
//! Public feeds do not name private topics among their items' categories.
//!
//! Keys are credentials. Wrong ones are counted per address and lock it
//! out for a while (`keyguard`). They are compared in constant time, never logged
//! (the access log has the path, not the query), kept out of links to other
//! feeds and pages, and a private response is `Cache-Control: private` so
//! that no shared cache hands it to someone without the key. A topic key
//! guards the stories only it holds: a story whose every topic is private
//! is left out of every feed, filter and search that does not name one of
//! them, and its page is not found without one of their keys. A story
//! that also matches a public topic is public through that topic.

use base64::Engine;
use http::HeaderMap;
use http::header::{AUTHORIZATION, CACHE_CONTROL, HeaderValue};
use url::form_urlencoded;

use super::error::HttpError;
use super::keyguard::KeyGuard;
use super::query::FeedRequest;
use super::response::Resp;
use crate::classify::Classifier;
use crate::model::ReadKey;

/// Who presents a key, for [`super::keyguard`]: `None` when no client
/// does (the WebSub hub re-checking a stored URL before a push).
#[derive(Clone, Copy)]
pub(super) struct Client<'a> {
    pub guard: &'a KeyGuard,
    pub ip: std::net::IpAddr,
}

/// Whether a response may be kept by shared caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Public,
    Private,
}

/// May `fr` be served to a request with these headers? Every topic the
/// feed names (its path's topic, `any=`, `all=`, and `not=`, since the
/// difference a `not=` makes lists a topic's stories) is a lock: its own
/// key if it has one, else the global key.
pub(super) fn feed(
    global: Option<&ReadKey>,
    topics: &Classifier,
    fr: &FeedRequest,
    headers: &HeaderMap,
    client: Option<Client<'_>>,
) -> Result<Access, HttpError> {
    let shown = fr
        .query
        .any
        .iter()
        .chain(&fr.query.all)
        .chain(&fr.query.not);
    let mut locks: Vec<&ReadKey> = shown
        .filter_map(|slug| topics.topic(slug))
        .filter_map(|t| t.key.as_ref().or(global))
        .collect();
    // `/feeds/all` (or a filter of public topics only) is locked by the
    // global key alone.
    if locks.is_empty()
        && let Some(g) = global
    {
        locks.push(g);
    }
    check(
        &locks,
        global,
        || presented(headers, fr.key.as_deref()),
        "feed",
        client,
    )
}

/// May a page other than a feed (`/`, `/feeds.opml`, `/articles/…`) be
/// served? Only the global key locks them: private topics are simply not
/// listed there.
pub(super) fn page(
    global: Option<&ReadKey>,
    headers: &HeaderMap,
    query: Option<&str>,
    client: Client<'_>,
) -> Result<Access, HttpError> {
    let Some(g) = global else {
        return Ok(Access::Public);
    };
    check(
        &[g],
        global,
        || presented(headers, url_key(query).as_deref()),
        "page",
        Some(client),
    )
}

/// May a story with these topics be shown on its own page, and how? Public
/// unless every one of its topics is private (see
/// `FeedRequest::hide_unnamed`); then only to a request presenting the key
/// of one of them, or the global key, and privately. `None`: not to this
/// request, which is to be told the page does not exist (also while its
/// address is locked out, so a lockout tells nothing either).
pub(super) fn story(
    global: Option<&ReadKey>,
    topics: &Classifier,
    story_topics: &[String],
    headers: &HeaderMap,
    query: Option<&str>,
    client: Client<'_>,
) -> Option<Access> {
    let keys: Vec<&ReadKey> = story_topics
        .iter()
        .map(|slug| topics.topic(slug).and_then(|t| t.key.as_ref()))
        .collect::<Option<_>>()
        .unwrap_or_default();
    if keys.is_empty() {
        return Some(Access::Public);
    }
    let key = presented(headers, url_key(query).as_deref())?;
    // Locked out or wrong: told it does not exist, as anyone without a key.
    try_key(&key, &keys, Need::Any, global, Some(client))
        .ok()?
        .then_some(Access::Private)
}

/// `?key=` of a query string.
fn url_key(query: Option<&str>) -> Option<String> {
    query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "key")
            .map(|(_, v)| v.into_owned())
    })
}

/// `presented` is asked only when something is locked: a public feed
/// polled with Basic credentials does not decode them.
fn check(
    locks: &[&ReadKey],
    global: Option<&ReadKey>,
    presented: impl FnOnce() -> Option<String>,
    what: &str,
    client: Option<Client<'_>>,
) -> Result<Access, HttpError> {
    if locks.is_empty() {
        return Ok(Access::Public);
    }
    let Some(key) = presented() else {
        return Err(HttpError::NeedsReadKey(format!(
            "this {what} is private: add ?key=<read key> to its URL, or send the key as the password of HTTP Basic auth"
        )));
    };
    match try_key(&key, locks, Need::All, global, client) {
        Err(after) => Err(HttpError::KeyLockout(after)),
        Ok(true) => Ok(Access::Private),
        Ok(false) => Err(HttpError::NeedsReadKey(format!(
            "wrong read key for this {what}: the key in ?key= or in Basic auth does not open it"
        ))),
    }
}

/// How many of a request's locks its key must open.
#[derive(Clone, Copy, PartialEq)]
enum Need {
    /// A feed: every private topic it names.
    All,
    /// A story's page: one of its topics.
    Any,
}

/// Whether `key` opens `locks` as `need` says, or is the global key.
/// `Err(retry_after)` while the client is locked out, without trying the
/// key; a wrong key is counted against the client.
fn try_key(
    key: &str,
    locks: &[&ReadKey],
    need: Need,
    global: Option<&ReadKey>,
    client: Option<Client<'_>>,
) -> Result<bool, std::time::Duration> {
    let now = std::time::Instant::now();
    if let Some(c) = client
        && let Some(after) = c.guard.locked(c.ip, now)
    {
        return Err(after);
    }
    // Every lock is tried even once the answer is known, so the time taken
    // does not tell which topic's key was right.
    let master = global.is_some_and(|g| g.opens(key));
    let opened = locks.iter().filter(|lock| lock.opens(key)).count();
    let open = master
        || match need {
            Need::All => opened == locks.len(),
            Need::Any => opened > 0,
        };
    if !open && let Some(c) = client {
        c.guard.wrong(c.ip, now);
    }
    Ok(open)
}

/// The key a request presents: `?key=` in its URL, else the password
/// (or, with none, the user name) of its Basic credentials.
fn presented(headers: &HeaderMap, url_key: Option<&str>) -> Option<String> {
    if let Some(k) = url_key {
        return Some(k.to_owned());
    }
    let auth = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = auth.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let credentials = String::from_utf8(decoded).ok()?;
    let (user, password) = credentials.split_once(':').unwrap_or((&credentials, ""));
    let key = if password.is_empty() { user } else { password };
    (!key.is_empty()).then(|| key.to_owned())
}

/// Marks a response to a keyed request as one no shared cache may keep.
pub(super) fn mark(resp: &mut Resp, access: Access) {
    if access == Access::Public {
        return;
    }
    let h = resp.headers_mut();
    let value = match h.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()) {
        // Marked already (a private story's page behind the global key).
        Some(v) if v.starts_with("private") => return,
        Some(v) => format!(
            "private, {}",
            v.trim_start_matches("public")
                .trim_start_matches([',', ' '])
        ),
        None => "private".to_owned(),
    };
    if let Ok(v) = HeaderValue::from_str(value.trim_end_matches([',', ' '])) {
        h.insert(CACHE_CONTROL, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(credentials: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        );
        h.insert(AUTHORIZATION, HeaderValue::from_str(&v).unwrap());
        h
    }

    #[test]
    fn keys_come_from_the_url_or_basic_auth() {
        assert_eq!(presented(&HeaderMap::new(), Some("k1")), Some("k1".into()));
        assert_eq!(
            presented(&basic("reader:s3cret-key"), None),
            Some("s3cret-key".into())
        );
        assert_eq!(
            presented(&basic("s3cret-key:"), None),
            Some("s3cret-key".into())
        );
        assert_eq!(
            presented(&basic("s3cret-key"), None),
            Some("s3cret-key".into())
        );
        assert_eq!(presented(&HeaderMap::new(), None), None);
        let mut bearer = HeaderMap::new();
        bearer.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(presented(&bearer, None), None);
        let mut junk = HeaderMap::new();
        junk.insert(AUTHORIZATION, HeaderValue::from_static("Basic %%%"));
        assert_eq!(presented(&junk, None), None);
    }

    #[test]
    fn every_lock_must_open_unless_the_global_key_is_given() {
        let global = ReadKey::new("global-key-1").unwrap();
        let a = ReadKey::new("topic-a-key").unwrap();
        let b = ReadKey::new("topic-b-key").unwrap();
        let ok = |locks: &[&ReadKey], g: Option<&ReadKey>, k: &str| {
            check(locks, g, || Some(k.to_owned()), "feed", None).is_ok()
        };
        assert!(ok(&[&a], None, "topic-a-key"));
        assert!(!ok(&[&a], None, "topic-b-key"));
        assert!(
            !ok(&[&a, &b], None, "topic-a-key"),
            "one key does not open two locks"
        );
        assert!(ok(&[&a, &b], Some(&global), "global-key-1"));
        assert!(ok(&[&global], Some(&global), "global-key-1"));
        assert!(check(&[&a], None, || None, "feed", None).is_err());
        let unasked = || -> Option<String> { panic!("a public feed reads no credentials") };
        assert_eq!(
            check(&[], None, unasked, "feed", None).unwrap(),
            Access::Public
        );
    }

    #[test]
    fn wrong_keys_lock_their_address_out_even_for_the_right_key() {
        let a = ReadKey::new("topic-a-key").unwrap();
        let guard = KeyGuard::new(Default::default());
        let client = Client {
            guard: &guard,
            ip: "198.51.100.7".parse().unwrap(),
        };
        let try_key = |k: &str| check(&[&a], None, || Some(k.to_owned()), "feed", Some(client));
        for _ in 0..super::super::keyguard::MAX_WRONG {
            assert!(matches!(
                try_key("guess-guess"),
                Err(HttpError::NeedsReadKey(_))
            ));
        }
        assert!(matches!(
            try_key("topic-a-key"),
            Err(HttpError::KeyLockout(_))
        ));
        let other = Client {
            ip: "198.51.100.8".parse().unwrap(),
            ..client
        };
        let from_other = check(
            &[&a],
            None,
            || Some("topic-a-key".into()),
            "feed",
            Some(other),
        );
        assert_eq!(from_other.unwrap(), Access::Private);
    }

    #[test]
    fn a_response_marked_twice_is_marked_once() {
        let mut r = super::super::response::html(Vec::new(), 60);
        mark(&mut r, Access::Private);
        mark(&mut r, Access::Private);
        assert_eq!(r.headers()[CACHE_CONTROL], "private, max-age=60");
    }
}
