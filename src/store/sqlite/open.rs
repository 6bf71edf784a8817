//! Opening the SQLite file: the writer (WAL, durable commits, migrated
//! schema) and the readers, and the read-only fallbacks that keep a store
//! readable when it cannot be written (full disk, read-only filesystem).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{BUSY_TIMEOUT, MIGRATIONS, Writer, data_version, read_generation, schema, sql_err};
use crate::store::StoreError;

/// Opens the writer connection: WAL, durable commits, schema migrated.
pub(super) fn open_writer(path: &Path, version: Option<usize>) -> Result<Writer, StoreError> {
    let mut conn = connect(path, ReadMode::ReadWrite)?;
    // WAL: readers see the last commit and never wait for the writer.
    // synchronous=FULL: the WAL is synced on every commit, so an ingest
    // that was reported as stored survives a power cut too. NORMAL in WAL
    // mode survives a process crash but can lose the last commits on
    // power loss, and acknowledging an article that then vanishes is the
    // one thing a store must not do; FULL costs one fsync per transaction,
    // which batching pays for.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|source| StoreError::open(path.display(), source))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::open(
            path.display(),
            format!(
                "journal_mode is {mode}, WAL is required (is the file on a network filesystem?)"
            ),
        ));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA journal_size_limit = 67108864;
         PRAGMA cache_size = -65536;",
    )
    .map_err(|source| StoreError::open(path.display(), source))?;
    schema::migrate(&mut conn, path, version)?;
    let data_version = data_version(&conn).map_err(sql_err("read data_version"))?;
    Ok(Writer {
        conn,
        window: None,
        data_version,
        clock: 0,
        adoptable: None,
    })
}

/// How reader connections open the file. `ReadOnly` and `Immutable` are
/// the fallbacks of a store that cannot be written (full disk, read-only
/// filesystem); `Immutable` is for when SQLite cannot even create the
/// shared-memory file WAL readers need, which is what a full disk does
/// after a clean shutdown removed it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum ReadMode {
    ReadWrite = 0,
    ReadOnly = 1,
    Immutable = 2,
}

impl ReadMode {
    pub(super) fn from_u8(m: u8) -> ReadMode {
        match m {
            1 => ReadMode::ReadOnly,
            2 => ReadMode::Immutable,
            _ => ReadMode::ReadWrite,
        }
    }

    /// The first read-only mode in which the store at `path` opens, holds
    /// the current schema and answers a read.
    pub(super) fn fallback(path: &Path) -> Option<ReadMode> {
        // Immutable ignores the WAL, so it is right only when the WAL holds
        // nothing: after a clean shutdown, not after a crash.
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal_empty = std::fs::metadata(&wal).map_or(true, |m| m.len() == 0);
        [ReadMode::ReadOnly, ReadMode::Immutable]
            .into_iter()
            .filter(|mode| *mode != ReadMode::Immutable || wal_empty)
            .find(|mode| {
                mode.connect_reader(path)
                    .ok()
                    .and_then(|c| {
                        let v = schema::version(&c).ok()?;
                        read_generation(&c).ok()?;
                        Some(v == MIGRATIONS.len() as i64)
                    })
                    .unwrap_or(false)
            })
    }

    pub(super) fn connect_reader(self, path: &Path) -> Result<Connection, StoreError> {
        let c = connect(path, self)?;
        // Readers never write; make that a guarantee, not a habit.
        c.pragma_update(None, "query_only", true)
            .map_err(sql_err("open reader"))?;
        Ok(c)
    }
}

/// Whether a failure to open the store for writing is one a read-only
/// open may get past: no space, an I/O error creating the WAL's files, a
/// read-only filesystem.
pub(super) fn read_only_may_help(e: &StoreError) -> bool {
    use rusqlite::ErrorCode as C;
    want_of_space(e) || matches!(code(e), Some(C::ReadOnly | C::CannotOpen))
}

/// Whether a failed open is for want of space: the disk is full, or SQLite
/// could not create or grow the WAL's files (an I/O error, on a full disk).
/// A read-only filesystem is not: writes then fail as errors, not as 507.
pub(super) fn want_of_space(e: &StoreError) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(e, StoreError::Full { .. })
        || matches!(code(e), Some(C::DiskFull | C::SystemIoFailure))
}

fn code(e: &StoreError) -> Option<rusqlite::ErrorCode> {
    match e {
        StoreError::Open { source, .. } | StoreError::Migrate { source, .. } => source
            .downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code),
        _ => None,
    }
}

pub(super) fn connect(path: &Path, mode: ReadMode) -> Result<Connection, StoreError> {
    let open_err = |source| StoreError::open(path.display(), source);
    let conn = match mode {
        ReadMode::ReadWrite => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        ReadMode::ReadOnly => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        ReadMode::Immutable => {
            // immutable=1: no locks and no -shm file, which a full disk
            // cannot hold. Safe here because nothing can write either.
            let abs = std::path::absolute(path).map_err(|e| StoreError::open(path.display(), e))?;
            let uri = url::Url::from_file_path(&abs)
                .map_err(|()| StoreError::open(path.display(), "path is not absolute"))?;
            Connection::open_with_flags(
                format!("{uri}?immutable=1"),
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
        }
    }
    .map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    // Room for the fixed statements plus the shapes of recent feed queries.
    conn.set_prepared_statement_cache_capacity(64);
    // The bundled SQLite enforces foreign keys by default; say so anyway,
    // deleting a story relies on the cascades.
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA mmap_size = 268435456;")
        .map_err(open_err)?;
    Ok(conn)
}
