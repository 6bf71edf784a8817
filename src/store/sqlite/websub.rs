//! The WebSub hub's subscriptions on SQLite (`Store::put_subscription` and
//! the rest): one row per callback and topic.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::SqliteStore;
use crate::store::{StoreError, Subscription};

impl SqliteStore {
    pub(super) fn put_sub(&self, sub: &Subscription) -> Result<(), StoreError> {
        self.write("websub subscribe", |w| {
            w.tx.execute(
                "INSERT INTO websub_subscriptions (callback, topic, secret, expires, seen)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (callback, topic) DO UPDATE
                 SET secret = excluded.secret, expires = excluded.expires,
                     seen = coalesce(websub_subscriptions.seen, excluded.seen)",
                params![
                    sub.callback,
                    sub.topic,
                    sub.secret,
                    sub.expires.timestamp(),
                    sub.seen.map(|s| s as i64)
                ],
            )
            .map_err(|e| StoreError::backend("websub subscribe", e))?;
            Ok(())
        })
    }

    pub(super) fn mark_sub_seen(
        &self,
        callback: &str,
        topic: &str,
        seen: u64,
    ) -> Result<bool, StoreError> {
        self.write("websub seen", |w| {
            w.tx.execute(
                "UPDATE websub_subscriptions SET seen = ?3 WHERE callback = ?1 AND topic = ?2",
                params![callback, topic, seen as i64],
            )
            .map(|n| n > 0)
            .map_err(|e| StoreError::backend("websub seen", e))
        })
    }

    pub(super) fn delete_sub(&self, callback: &str, topic: &str) -> Result<bool, StoreError> {
        self.write("websub unsubscribe", |w| {
            w.tx.execute(
                "DELETE FROM websub_subscriptions WHERE callback = ?1 AND topic = ?2",
                params![callback, topic],
            )
            .map(|n| n > 0)
            .map_err(|e| StoreError::backend("websub unsubscribe", e))
        })
    }

    pub(super) fn subs(&self, now: DateTime<Utc>) -> Result<Vec<Subscription>, StoreError> {
        let op = "websub subscriptions";
        let expired: bool = {
            let reader = self.reader()?;
            reader
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM websub_subscriptions WHERE expires <= ?1)",
                    [now.timestamp()],
                    |r| r.get(0),
                )
                .map_err(|e| StoreError::backend(op, e))?
        };
        // Only a store that has something to forget takes the writer.
        if expired {
            self.write("websub expire", |w| {
                w.tx.execute(
                    "DELETE FROM websub_subscriptions WHERE expires <= ?1",
                    [now.timestamp()],
                )
                .map_err(|e| StoreError::backend("websub expire", e))
            })?;
        }
        let reader = self.reader()?;
        let mut stmt = reader
            .prepare_cached(
                "SELECT callback, topic, secret, expires, seen FROM websub_subscriptions
                 WHERE expires > ?1 ORDER BY topic, callback",
            )
            .map_err(|e| StoreError::backend(op, e))?;
        let rows = stmt
            .query_map([now.timestamp()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(|e| StoreError::backend(op, e))?;
        let mut out = Vec::new();
        for row in rows {
            let (callback, topic, secret, expires, seen) =
                row.map_err(|e| StoreError::backend(op, e))?;
            out.push(Subscription {
                callback,
                topic,
                secret,
                expires: DateTime::from_timestamp(expires, 0).unwrap_or(now),
                seen: seen.map(|s| s as u64),
            });
        }
        Ok(out)
    }
}
