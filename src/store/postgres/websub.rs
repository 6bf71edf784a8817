//! The WebSub hub's subscriptions on PostgreSQL: the same table as on
//! SQLite, shared by every instance on the store.

use chrono::{DateTime, Utc};

use super::{PostgresStore, pg_err, pool_err};
use crate::store::{StoreError, Subscription};

impl PostgresStore {
    pub(super) fn put_sub(&self, sub: &Subscription) -> Result<(), StoreError> {
        let op = "websub subscribe";
        self.run(async {
            let client = self.pool.get().await.map_err(pool_err(op))?;
            client
                .execute(
                    "INSERT INTO websub_subscriptions (callback, topic, secret, expires, seen)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (callback, topic) DO UPDATE
                     SET secret = excluded.secret, expires = excluded.expires,
                         seen = coalesce(websub_subscriptions.seen, excluded.seen)",
                    &[
                        &sub.callback,
                        &sub.topic,
                        &sub.secret,
                        &sub.expires.timestamp(),
                        &sub.seen.map(|s| s as i64),
                    ],
                )
                .await
                .map_err(pg_err(op))?;
            Ok(())
        })
    }

    pub(super) fn mark_sub_seen(
        &self,
        callback: &str,
        topic: &str,
        seen: u64,
    ) -> Result<bool, StoreError> {
        self.changes_a_row(
            "websub seen",
            "UPDATE websub_subscriptions SET seen = $3 WHERE callback = $1 AND topic = $2",
            &[&callback, &topic, &(seen as i64)],
        )
    }

    pub(super) fn delete_sub(&self, callback: &str, topic: &str) -> Result<bool, StoreError> {
        self.changes_a_row(
            "websub unsubscribe",
            "DELETE FROM websub_subscriptions WHERE callback = $1 AND topic = $2",
            &[&callback, &topic],
        )
    }

    /// Runs one statement; whether it changed a row.
    fn changes_a_row(
        &self,
        op: &'static str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<bool, StoreError> {
        self.run(async {
            let client = self.pool.get().await.map_err(pool_err(op))?;
            client
                .execute(sql, params)
                .await
                .map(|n| n > 0)
                .map_err(pg_err(op))
        })
    }

    pub(super) fn subs(&self, now: DateTime<Utc>) -> Result<Vec<Subscription>, StoreError> {
        let op = "websub subscriptions";
        self.run(async {
            let client = self.pool.get().await.map_err(pool_err(op))?;
            let now_s = now.timestamp();
            client
                .execute(
                    "DELETE FROM websub_subscriptions WHERE expires <= $1",
                    &[&now_s],
                )
                .await
                .map_err(pg_err(op))?;
            let rows = client
                .query(
                    "SELECT callback, topic, secret, expires, seen FROM websub_subscriptions
                     WHERE expires > $1 ORDER BY topic, callback",
                    &[&now_s],
                )
                .await
                .map_err(pg_err(op))?;
            rows.iter()
                .map(|r| {
                    let expires: i64 = r.try_get(3).map_err(pg_err(op))?;
                    let seen: Option<i64> = r.try_get(4).map_err(pg_err(op))?;
                    Ok(Subscription {
                        callback: r.try_get(0).map_err(pg_err(op))?,
                        topic: r.try_get(1).map_err(pg_err(op))?,
                        secret: r.try_get(2).map_err(pg_err(op))?,
                        expires: DateTime::from_timestamp(expires, 0).unwrap_or(now),
                        seen: seen.map(|s| s as u64),
                    })
                })
                .collect()
        })
    }
}
