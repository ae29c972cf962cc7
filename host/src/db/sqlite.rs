//! SQLite's connections, run on the caller's thread.
//!
//! sqlx runs every SQLite connection on a thread of its own and hands each
//! statement to it and the answer back: about 45 µs a statement here,
//! against 1–2 µs of SQLite's own work for a one-row write. Writers take
//! turns (SQLite has one writer), so every hand-off is time no other
//! writer can write, and every read pays two thread switches. These
//! connections run their statements where they are asked for, through the
//! same sqlx queries and rows as PostgreSQL's (see [`super::Conn`] and
//! [`super::Reads`]).

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use sqlx::{Any, Either, Execute};

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx_core::any::{
    AnyArguments, AnyColumn, AnyQueryResult, AnyRow, AnyTypeInfo, AnyTypeInfoKind, AnyValue, AnyValueKind,
};
use sqlx_core::ext::ustr::UStr;

/// Statements kept compiled per connection: every statement the host
/// makes, with room for the multi-row inserts' few shapes.
const STATEMENTS_KEPT: usize = 512;

/// The file of the database at `url` (`sqlite:…`).
pub(super) fn path_of(url: &str) -> anyhow::Result<String> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    anyhow::ensure!(
        !path.is_empty() && !path.contains(":memory:"),
        "SQLite needs a file to share between its writer and readers, not {url:?}"
    );
    Ok(path.to_owned())
}

/// Opens a connection to the database file at `path` (which the pool has
/// already created), set up with `setup`.
pub(super) fn open(path: &str, setup: &str) -> rusqlite::Result<rusqlite::Connection> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags)?;
    conn.execute_batch(setup)?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    Ok(conn)
}

/// SQLite's readers. A read takes an idle connection, or opens one, and
/// gives it back when done; it never waits, and never more are open than
/// threads have read at once (a read runs to its end without yielding).
pub(super) struct Readers {
    path: String,
    setup: &'static str,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
    open: AtomicUsize,
}

impl Readers {
    pub(super) fn new(path: String, setup: &'static str) -> Readers {
        Readers { path, setup, idle: std::sync::Mutex::default(), open: AtomicUsize::new(0) }
    }

    /// Runs `f` on a reader.
    pub(super) fn with<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> T) -> Result<T, sqlx::Error> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = open(&self.path, self.setup).map_err(error)?;
                self.open.fetch_add(1, Ordering::Relaxed);
                conn
            }
        };
        let out = f(&conn);
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        Ok(out)
    }

    /// Puts on disk what was written to the database's files but not yet
    /// synced — the pages a passive checkpoint copied — so that a
    /// checkpoint which then syncs under the write turn has little left to
    /// write. Syncs the file system of the database's directory: opening
    /// and closing the database file itself would drop the POSIX locks
    /// SQLite holds on it in this process. Only on Linux (`syncfs`);
    /// elsewhere the checkpoint's own sync does all of it.
    pub(super) fn sync_files(&self) {
        #[cfg(target_os = "linux")]
        {
            let path = std::path::Path::new(&self.path);
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => std::path::Path::new("."),
            };
            if let Err(e) = std::fs::File::open(dir).and_then(|d| Ok(rustix::fs::syncfs(&d)?)) {
                tracing::warn!(error = %e, dir = %dir.display(), "could not sync the database's file system");
            }
        }
    }

    /// Connections open, and how many of them are idle.
    pub(super) fn counts(&self) -> (usize, usize) {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).len();
        (self.open.load(Ordering::Relaxed), idle)
    }
}

/// Rows and what a statement changed, as sqlx's executors stream them.
pub(super) type Steps<'e> = BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>;

/// Runs `query` on `conn`, as sqlx's `fetch_many`.
pub(super) fn fetch_many<'e, 'q: 'e, E: 'q + Execute<'q, Any>>(
    conn: &rusqlite::Connection,
    mut query: E,
) -> Steps<'e> {
    let answer = query
        .take_arguments()
        .map_err(sqlx::Error::Encode)
        .and_then(|args| run(conn, query.sql(), args, None));
    match answer {
        Ok((rows, done)) => {
            let steps = rows.into_iter().map(|row| Ok(Either::Right(row))).chain([Ok(Either::Left(done))]);
            futures_util::stream::iter(steps).boxed()
        }
        Err(e) => failed(e),
    }
}

/// A statement that failed before it ran, as a stream of its steps.
pub(super) fn failed<'e>(e: sqlx::Error) -> Steps<'e> {
    futures_util::stream::iter([Err(e)]).boxed()
}

/// Runs `query` on `conn`, as sqlx's `fetch_optional`.
pub(super) fn fetch_optional<'q, E: 'q + Execute<'q, Any>>(
    conn: &rusqlite::Connection,
    mut query: E,
) -> Result<Option<AnyRow>, sqlx::Error> {
    let args = query.take_arguments().map_err(sqlx::Error::Encode)?;
    Ok(run(conn, query.sql(), args, Some(1))?.0.into_iter().next())
}

/// Runs one statement (`$n` placeholders, as everywhere) with `args`:
/// the rows it returned, at most `limit` of them, and what it changed.
pub(super) fn run(
    conn: &rusqlite::Connection,
    sql: &str,
    args: Option<AnyArguments<'_>>,
    limit: Option<usize>,
) -> Result<(Vec<AnyRow>, AnyQueryResult), sqlx::Error> {
    let args = args.map(|a| a.values.0).unwrap_or_default();
    let mut statement = conn.prepare_cached(sql).map_err(error)?;
    for index in 1..=statement.parameter_count() {
        let n = match statement.parameter_name(index) {
            Some(name) => name
                .strip_prefix(['$', '?'])
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| sqlx::Error::Protocol(format!("unsupported SQL parameter {name}")))?,
            None => index,
        };
        // As sqlx's SQLite: a placeholder without a value is NULL (and a
        // kept statement must not keep an earlier call's value).
        let value = n
            .checked_sub(1)
            .and_then(|i| args.get(i))
            .map_or(Ok(ToSqlOutput::Borrowed(ValueRef::Null)), to_sql)?;
        statement.raw_bind_parameter(index, value).map_err(error)?;
    }
    let columns: Vec<UStr> = statement.column_names().into_iter().map(UStr::new).collect();
    let names: Arc<sqlx_core::HashMap<UStr, usize>> =
        Arc::new(columns.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect());
    let readonly = statement.readonly();
    let mut rows = Vec::new();
    let mut cursor = statement.raw_query();
    // Stepped at least once, so a statement that returns nothing runs.
    let limit = limit.unwrap_or(usize::MAX);
    while let Some(row) = cursor.next().map_err(error)? {
        if rows.len() >= limit {
            break;
        }
        let mut out = AnyRow {
            column_names: names.clone(),
            columns: Vec::with_capacity(columns.len()),
            values: Vec::with_capacity(columns.len()),
        };
        for (i, name) in columns.iter().enumerate() {
            let kind = match row.get_ref(i).map_err(error)? {
                ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
                ValueRef::Integer(v) => AnyValueKind::BigInt(v),
                ValueRef::Real(v) => AnyValueKind::Double(v),
                ValueRef::Text(v) => AnyValueKind::Text(Cow::Owned(
                    String::from_utf8(v.to_vec()).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                )),
                ValueRef::Blob(v) => AnyValueKind::Blob(Cow::Owned(v.to_vec())),
            };
            let type_info = AnyTypeInfo { kind: type_of(&kind) };
            out.columns.push(AnyColumn { ordinal: i, name: name.clone(), type_info });
            out.values.push(AnyValue { kind });
        }
        rows.push(out);
        if rows.len() >= limit {
            break;
        }
    }
    drop(cursor);
    let rows_affected = if readonly { 0 } else { conn.changes() };
    // As sqlx logs the statements of its own connections.
    tracing::debug!(target: "sqlx::query", rows_returned = rows.len(), rows_affected, "{sql}");
    Ok((rows, AnyQueryResult { rows_affected, last_insert_id: None }))
}

fn to_sql<'a>(value: &'a AnyValueKind<'_>) -> Result<ToSqlOutput<'a>, sqlx::Error> {
    Ok(ToSqlOutput::Borrowed(match value {
        AnyValueKind::Null(_) => ValueRef::Null,
        AnyValueKind::Bool(b) => ValueRef::Integer(i64::from(*b)),
        AnyValueKind::SmallInt(i) => ValueRef::Integer(i64::from(*i)),
        AnyValueKind::Integer(i) => ValueRef::Integer(i64::from(*i)),
        AnyValueKind::BigInt(i) => ValueRef::Integer(*i),
        AnyValueKind::Real(r) => ValueRef::Real(f64::from(*r)),
        AnyValueKind::Double(d) => ValueRef::Real(*d),
        AnyValueKind::Text(t) => ValueRef::Text(t.as_bytes()),
        AnyValueKind::Blob(b) => ValueRef::Blob(b),
        other => return Err(sqlx::Error::Protocol(format!("no SQLite value for {other:?}"))),
    }))
}

fn type_of(kind: &AnyValueKind<'_>) -> AnyTypeInfoKind {
    match kind {
        AnyValueKind::BigInt(_) => AnyTypeInfoKind::BigInt,
        AnyValueKind::Double(_) => AnyTypeInfoKind::Double,
        AnyValueKind::Text(_) => AnyTypeInfoKind::Text,
        AnyValueKind::Blob(_) => AnyTypeInfoKind::Blob,
        _ => AnyTypeInfoKind::Null,
    }
}

/// A SQLite failure as sqlx reports one, so the layers above (unique
/// constraints above all) read it the same from either connection.
pub(super) fn error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => sqlx::Error::Database(Box::new(Failure {
            message: message.unwrap_or_else(|| code.to_string()),
            code: code.extended_code,
        })),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// SQLite's error: its message and extended result code.
#[derive(Debug)]
struct Failure {
    message: String,
    code: std::ffi::c_int,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for Failure {}

impl sqlx::error::DatabaseError for Failure {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use libsqlite3_sys as ffi;
        use sqlx::error::ErrorKind;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}
