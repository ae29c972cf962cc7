//! The database: PostgreSQL through a sqlx `Any` pool, or SQLite (the
//! embedded default) through connections the host runs itself, one that
//! writes, taken in turns, and readers (see [`sqlite`]); both answer as
//! sqlx executors with `Any` rows, so every query is written once.
//! Migrations per backend, and one module of queries per aggregate.
//! Nothing outside this module writes SQL.

pub mod carts;
pub mod catalog;
pub mod changes;
pub mod checkout;
pub mod customers;
pub mod discounts;
pub mod emails;
pub mod events;
pub mod idempotency;
pub mod inventory;
pub mod merchants;
pub mod order_actions;
pub mod orders;
pub mod payment_providers;
pub mod payments;
pub mod plugins;
pub mod recommendations;
pub mod reports;
mod sqlite;
pub mod webhooks;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// Which database is behind the pool; the few SQL differences key off this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One file, zero set-up.
    Sqlite,
    /// Several stateless hosts can share one database.
    Postgres,
}

/// How often a serving host checkpoints SQLite's log (see
/// [`Db::spawn_checkpointer`]).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// The log's length, in frames (pages), past which a checkpoint starts it
/// over (see [`Db::checkpoint`]): 4,096 frames are 16 MiB, less than a
/// tenth of a second of writes at 800 purchases/s (about 13 pages a
/// commit), so in a busy shop every checkpoint restarts the log.
pub const RESTART_FRAMES: i64 = 4096;

/// Most rows of a cart's or an order's lines read on SQLite's idle writer
/// (see [`Db::idle_turn`]); more are left to a reader, so that no read
/// holds the write turn long.
pub(crate) const WARM_ROWS: usize = 10;

/// How long a restart of SQLite's log waits for readers still inside it
/// (see [`Db::checkpoint`]); every writer waits as long.
const RESTART_PATIENCE: Duration = Duration::from_millis(10);

/// A pool and its backend. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    /// Where reads go (see [`Reads`]), and sqlx's pool: PostgreSQL's
    /// connections; on SQLite, a few for migrations, checkpoints and tools.
    reads: Reads,
    backend: Backend,
    /// SQLite only: the one writer (see [`Writer`]).
    writer: Option<Arc<Writer>>,
    /// The URL connected to (the change listener opens its own connection).
    url: Arc<str>,
    /// PostgreSQL: the channel hosts over this schema tell one another of
    /// changes on (see [`changes`]).
    channel: Option<Arc<str>>,
}

/// SQLite's one writer. SQLite allows one writer at a time, and a
/// connection that finds the database locked sleeps (1, 2, 5 … 100 ms)
/// before retrying; queueing writers in process, first come first served,
/// keeps them from sleeping.
struct Writer {
    /// The one connection that writes (see [`sqlite`]); holding it is the
    /// write turn. Readers have connections of their own.
    conn: Arc<tokio::sync::Mutex<rusqlite::Connection>>,
    /// How long writers have waited for and held the turn.
    stats: Arc<TurnStats>,
}

/// SQLite's write turn, taken since the host started (for `/metrics`):
/// the turns, and the time writers waited for it and held it. Held time
/// over elapsed time is how busy the one writer is; near 1, writes queue.
#[derive(Debug, Default)]
pub struct TurnStats {
    turns: AtomicU64,
    waiting_ns: AtomicU64,
    holding_ns: AtomicU64,
}

impl TurnStats {
    /// `(turns, seconds waiting, seconds holding)`.
    pub fn snapshot(&self) -> (u64, f64, f64) {
        let seconds = |n: &AtomicU64| n.load(Ordering::Relaxed) as f64 / 1e9;
        (self.turns.load(Ordering::Relaxed), seconds(&self.waiting_ns), seconds(&self.holding_ns))
    }
}

/// The write turn: SQLite's writing connection, held until dropped. A
/// transaction still open then (an error, a request given up) is rolled
/// back before the next writer's turn. Counts the time it was held.
struct Turn {
    conn: tokio::sync::OwnedMutexGuard<rusqlite::Connection>,
    /// Whether a transaction is open on the connection.
    open: bool,
    since: std::time::Instant,
    stats: Arc<TurnStats>,
}

impl Turn {
    /// Runs a statement that returns nothing and binds nothing.
    fn run(&mut self, sql: &str) -> Result<()> {
        sqlite::run(&self.conn, sql, None, Some(0))?;
        Ok(())
    }

    /// Restarts SQLite's log (see [`Db::checkpoint`]), waiting at most
    /// [`RESTART_PATIENCE`] for the readers still inside it: a longer read
    /// (a report) leaves the restart to a later checkpoint rather than
    /// keep every writer waiting for it.
    fn restart_log(&mut self) -> Result<()> {
        let (rows, _) = sqlite::run(&self.conn, "pragma busy_timeout", None, Some(1))?;
        let usual: i64 = sqlx::Row::try_get(rows.first().ok_or(sqlx::Error::RowNotFound)?, 0)?;
        self.conn.busy_handler(Some(wait_for_readers)).map_err(sqlite::error)?;
        let started = std::time::Instant::now();
        let restarted = self.run("pragma wal_checkpoint(restart)");
        tracing::debug!(
            held_us = started.elapsed().as_micros(),
            ok = restarted.is_ok(),
            "SQLite log restarted"
        );
        let usual = Duration::from_millis(u64::try_from(usual).unwrap_or(0));
        self.conn.busy_timeout(usual).map_err(sqlite::error)?;
        restarted
    }
}

/// SQLite's busy handler while a restart waits for readers: SQLite's own
/// sleeps 1, 2, 5, 10 … ms between tries, and every writer waits as long,
/// where a reader inside the log is done within a fraction of a
/// millisecond. Tries every 50 µs, for at most [`RESTART_PATIENCE`].
fn wait_for_readers(tries: i32) -> bool {
    const EVERY: Duration = Duration::from_micros(50);
    let most = RESTART_PATIENCE.as_micros() / EVERY.as_micros();
    if u128::try_from(tries).unwrap_or(u128::MAX) >= most {
        return false;
    }
    std::thread::sleep(EVERY);
    true
}

impl Drop for Turn {
    fn drop(&mut self) {
        if self.open
            && let Err(e) = self.run("rollback")
        {
            tracing::error!(error = %e, "SQLite could not roll back a transaction given up");
        }
        let held = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.stats.holding_ns.fetch_add(held, Ordering::Relaxed);
    }
}

/// A connection to write with, used as any sqlx connection:
/// `query.execute(&mut *tx)`. On PostgreSQL a connection of the pool (or a
/// transaction on one); on SQLite the writing connection, whose statements
/// run on the caller's thread (see [`sqlite`]).
pub struct Conn(Inner);

enum Inner {
    Tx(sqlx::Transaction<'static, sqlx::Any>),
    Pooled(sqlx::pool::PoolConnection<sqlx::Any>),
    Sqlite(Turn),
}

impl Conn {
    /// Whether this is SQLite's writing connection.
    fn is_sqlite(&self) -> bool {
        matches!(self.0, Inner::Sqlite(_))
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Inner::Tx(_) => "Conn(transaction)",
            Inner::Pooled(_) => "Conn(pooled)",
            Inner::Sqlite(_) => "Conn(SQLite writer)",
        })
    }
}

/// Where a [`Conn`]'s statements go: a connection of sqlx's, or SQLite's
/// writing connection.
enum Target<'c> {
    Sqlx(&'c mut sqlx::AnyConnection),
    Sqlite(&'c rusqlite::Connection),
}

impl Conn {
    fn target(&mut self) -> Target<'_> {
        match &mut self.0 {
            Inner::Tx(tx) => Target::Sqlx(tx),
            Inner::Pooled(conn) => Target::Sqlx(conn),
            Inner::Sqlite(turn) => Target::Sqlite(&turn.conn),
        }
    }
}

impl<'c> sqlx::Executor<'c> for &'c mut Conn {
    type Database = sqlx::Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> sqlite::Steps<'e>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        match self.target() {
            Target::Sqlx(conn) => conn.fetch_many(query),
            Target::Sqlite(conn) => sqlite::fetch_many(conn, query),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, sqlx::Result<Option<sqlx::any::AnyRow>>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        match self.target() {
            Target::Sqlx(conn) => conn.fetch_optional(query),
            Target::Sqlite(conn) => std::future::ready(sqlite::fetch_optional(conn, query)).boxed(),
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [sqlx::any::AnyTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<sqlx::any::AnyStatement<'q>>>
    where
        'c: 'e,
    {
        match self.target() {
            Target::Sqlx(conn) => conn.prepare_with(sql, parameters),
            Target::Sqlite(_) => std::future::ready(Err(unsupported())).boxed(),
        }
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, sqlx::Result<sqlx::Describe<sqlx::Any>>>
    where
        'c: 'e,
    {
        match self.target() {
            Target::Sqlx(conn) => conn.describe(sql),
            Target::Sqlite(_) => std::future::ready(Err(unsupported())).boxed(),
        }
    }
}

/// Where reads go, used as any sqlx executor: `query.fetch_all(db.reads())`.
/// On PostgreSQL the pool; on SQLite connections that run each statement
/// on the caller's thread (see [`sqlite`]).
#[derive(Clone)]
pub struct Reads {
    pool: AnyPool,
    sqlite: Option<Arc<sqlite::Readers>>,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.sqlite.is_some() { "Reads(SQLite)" } else { "Reads(pool)" })
    }
}

impl Reads {
    /// Connections open for reads, and how many of them are idle.
    pub fn counts(&self) -> (usize, usize) {
        match &self.sqlite {
            Some(readers) => readers.counts(),
            None => (self.pool.size() as usize, self.pool.num_idle()),
        }
    }
}

impl<'p> sqlx::Executor<'p> for &'p Reads {
    type Database = sqlx::Any;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> sqlite::Steps<'e>
    where
        'p: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        match &self.sqlite {
            None => (&self.pool).fetch_many(query),
            Some(readers) => {
                readers.with(|conn| sqlite::fetch_many(conn, query)).unwrap_or_else(sqlite::failed)
            }
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, sqlx::Result<Option<sqlx::any::AnyRow>>>
    where
        'p: 'e,
        E: 'q + sqlx::Execute<'q, sqlx::Any>,
    {
        match &self.sqlite {
            None => (&self.pool).fetch_optional(query),
            Some(readers) => {
                std::future::ready(readers.with(|conn| sqlite::fetch_optional(conn, query)).and_then(|r| r))
                    .boxed()
            }
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [sqlx::any::AnyTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<sqlx::any::AnyStatement<'q>>>
    where
        'p: 'e,
    {
        (&self.pool).prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, sqlx::Result<sqlx::Describe<sqlx::Any>>>
    where
        'p: 'e,
    {
        (&self.pool).describe(sql)
    }
}

/// Statements are prepared (and kept) as they run on SQLite's writer;
/// nothing in the host prepares or describes one ahead of a write.
fn unsupported() -> sqlx::Error {
    sqlx::Error::Protocol("SQLite's writing connection does not prepare statements ahead".into())
}

/// A write transaction, holding the write turn (SQLite) until it ends;
/// dropped unfinished, it rolls back. Use it as the connection:
/// `query.execute(&mut *tx)`.
pub struct WriteTx(Conn);

/// The write turn and a connection to write with, for writes outside a
/// transaction (one statement is a transaction of its own); held until
/// dropped. Use it as the connection: `query.execute(&mut *turn)`.
pub struct WriteTurn(Conn);

impl std::ops::Deref for WriteTurn {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl std::ops::DerefMut for WriteTurn {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}

impl WriteTx {
    /// Commits, giving up the write turn.
    pub async fn commit(self) -> Result<()> {
        self.end(true).await
    }

    /// Rolls back, giving up the write turn.
    pub async fn rollback(self) -> Result<()> {
        self.end(false).await
    }

    async fn end(self, commit: bool) -> Result<()> {
        match self.0.0 {
            Inner::Tx(tx) if commit => tx.commit().await?,
            Inner::Tx(tx) => tx.rollback().await?,
            Inner::Sqlite(mut turn) => {
                turn.run(if commit { "commit" } else { "rollback" })?;
                turn.open = false;
                drop(turn);
                handed_on().await;
            }
            // A connection outside a transaction has nothing to end.
            Inner::Pooled(_) => {}
        }
        Ok(())
    }
}

impl WriteTurn {
    /// Gives up the write turn (as dropping it does), and lets the next
    /// writer run at once (see [`handed_on`]).
    pub async fn done(self) {
        let sqlite = self.0.is_sqlite();
        drop(self);
        if sqlite {
            handed_on().await;
        }
    }
}

/// Yields once the write turn has been given up. The next writer has just
/// been woken on this thread, and runs only once this task yields; left to
/// the rest of the request (pricing, rendering the answer), the turn would
/// stay taken and unused that long (measured: the turn busy 41 % of the
/// time with 28 writers waiting on average).
async fn handed_on() {
    tokio::task::yield_now().await;
}

/// A value to bind, collected while a query is built.
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    /// SQL NULL, for a text column.
    Null,
}

/// SQL built piece by piece with `$n` placeholders.
#[derive(Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn push(&mut self, s: &str) -> &mut Sql {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder for `arg`.
    pub(crate) fn bind(&mut self, arg: Arg) -> &mut Sql {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Appends `$a, $b, …` for `values`.
    pub(crate) fn list(&mut self, values: &[String]) -> &mut Sql {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(Arg::Text(v.clone()));
        }
        self
    }

    /// A statement written with its own `$1 … $n`, and their values in order.
    pub(crate) fn with(text: &str, args: impl IntoIterator<Item = Arg>) -> Sql {
        Sql { text: text.to_owned(), args: args.into_iter().collect() }
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        self.args.iter().fold(sqlx::query(&self.text), |q, a| match a {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(i) => q.bind(*i),
            Arg::Null => q.bind(None::<String>),
        })
    }

    pub(crate) async fn fetch_all<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
        &self,
        e: E,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        Ok(self.query().fetch_all(e).await?)
    }

    /// Runs it; the rows it changed.
    pub(crate) async fn execute<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(&self, e: E) -> Result<u64> {
        Ok(self.query().execute(e).await?.rows_affected())
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_owned())
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(i: i64) -> Arg {
        Arg::Int(i)
    }
}

impl From<Option<&str>> for Arg {
    fn from(s: Option<&str>) -> Arg {
        s.map_or(Arg::Null, Arg::from)
    }
}

/// Write statements sent to the database together, for a transaction's
/// writes whose own results decide nothing (rows to insert, counters to
/// move once the checks are done).
///
/// [`Batch::run`] runs them one after another. On PostgreSQL, where every
/// statement is a round trip, [`Batch::run_independent`] sends inserts that
/// read nothing of one another as one statement. (SQLite's writer runs
/// each statement where it is asked for, a few microseconds apiece.)
#[derive(Default)]
pub(crate) struct Batch {
    statements: Vec<Sql>,
}

impl Batch {
    /// Adds a statement, written with its own `$1 … $n`.
    pub(crate) fn add(&mut self, statement: Sql) -> &mut Batch {
        self.statements.push(statement);
        self
    }

    /// Runs the statements in order on `conn` (the caller's transaction);
    /// the rows any of them returned, in order.
    pub(crate) async fn run(self, conn: &mut Conn) -> Result<Vec<sqlx::any::AnyRow>> {
        let mut rows = Vec::new();
        for statement in &self.statements {
            rows.extend(statement.fetch_all(&mut *conn).await?);
        }
        Ok(rows)
    }

    /// Runs statements none of which reads what another writes, and which
    /// return no rows (rows to insert): on PostgreSQL as one statement, the
    /// others as data-modifying `with` parts of the last (one round trip;
    /// foreign keys between them are checked when it ends); on SQLite as
    /// [`Batch::run`].
    pub(crate) async fn run_independent(self, conn: &mut Conn) -> Result<()> {
        debug_assert!(
            self.statements.iter().all(|s| !s.text.contains("returning")),
            "independent statements return nothing"
        );
        if conn.is_sqlite() || self.statements.len() < 2 {
            self.run(conn).await?;
            return Ok(());
        }
        let last = self.statements.len() - 1;
        let mut joined = Sql::default();
        for (i, statement) in self.statements.into_iter().enumerate() {
            let text = renumber(&statement.text, joined.args.len());
            joined.text.push_str(&match i {
                0 => format!("with w0 as ({text})"),
                i if i == last => format!(" {text}"),
                i => format!(", w{i} as ({text})"),
            });
            joined.args.extend(statement.args);
        }
        joined.execute(conn).await?;
        Ok(())
    }
}

/// `text` with every placeholder `$n` made `$(n + offset)`.
fn renumber(text: &str, offset: usize) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// `a, b` of `table` as `table.a as {prefix}a, table.b as {prefix}b`: for
/// a query that joins tables with columns of the same names.
pub(crate) fn qualified(columns: &str, table: &str, prefix: &str) -> String {
    columns.split(", ").map(|c| format!("{table}.{c} as {prefix}{c}")).collect::<Vec<_>>().join(", ")
}

/// The `values` list of a multi-row insert: `rows` tuples of `shared`
/// (placeholders bound once, e.g. "$1, $2") followed by `per_row`
/// placeholders numbered from `$first` on, row after row.
pub(crate) fn row_values(rows: usize, shared: &str, per_row: usize, first: usize) -> String {
    let mut sql = String::with_capacity(rows * (shared.len() + per_row * 5 + 4));
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        sql.push_str(shared);
        for c in 0..per_row {
            let sep = if c == 0 && shared.is_empty() { "" } else { ", " };
            sql.push_str(&format!("{sep}${}", first + r * per_row + c));
        }
        sql.push(')');
    }
    sql
}

/// Takes a row of `table` for one background run (a reconciler pass): bumps
/// its `updated_at` from `seen`, so of several hosts sharing the database
/// only one wins a given `(row, updated_at)`. `also` is a further SQL
/// condition on the row (or "true").
pub(crate) async fn claim_row(
    db: &Db,
    (table, id_column): (&str, &str),
    (merchant_id, id): (&str, &str),
    also: &str,
    seen: i64,
    now: i64,
) -> Result<bool> {
    let sql = format!(
        "update {table} set updated_at = $4 \
         where merchant_id = $1 and {id_column} = $2 and updated_at = $3 and {also}"
    );
    let done =
        db.write(sqlx::query(&sql).bind(merchant_id).bind(id).bind(seen).bind(now.max(seen + 1))).await?;
    Ok(done.rows_affected() == 1)
}

/// Rows per multi-row insert: well under the bind limits of both backends
/// (32,766 on SQLite, 65,535 on PostgreSQL) at 20 columns a row.
pub(crate) const ROWS_PER_INSERT: usize = 500;

/// A failed database call, as the layers above see it: a write a unique
/// constraint refused (naming it: `table.column[,column]` on SQLite, the
/// constraint on PostgreSQL), or anything else, kept whole for the log.
/// `sqlx` ends here: nothing above `db` names its types.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A unique constraint refused a write.
    #[error("unique constraint {constraint} refused the write")]
    Unique {
        /// `table.column[,column]` on SQLite, the constraint's name on PostgreSQL.
        constraint: String,
        /// The database's error, for the log.
        source: sqlx::Error,
    },
    /// Any other database failure.
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        match unique_constraint(&e) {
            Some(constraint) => Error::Unique { constraint, source: e },
            None => Error::Other(e),
        }
    }
}

/// `Result` of the database layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which unique constraint a write broke, if that is what failed.
pub fn unique_violation(e: &Error) -> Option<String> {
    match e {
        Error::Unique { constraint, .. } => Some(constraint.clone()),
        Error::Other(_) => None,
    }
}

fn unique_constraint(e: &sqlx::Error) -> Option<String> {
    let db = e.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    if let Some(c) = db.constraint() {
        return Some(c.to_owned());
    }
    // SQLite: "UNIQUE constraint failed: variant.merchant_id, variant.sku"
    db.message().split("failed: ").nth(1).map(str::to_owned).or_else(|| Some(db.message().to_owned()))
}

/// SQLite connections in sqlx's pool: the host reads and writes on
/// connections of its own (see [`sqlite`]); this pool serves migrations,
/// the checkpointer and tools.
const SQLITE_POOL: u32 = 2;

/// PostgreSQL connections in the pool, unless `MERCATO_DB_CONNECTIONS`
/// says otherwise: four per core of this host. Each connection is a server
/// process. A connection whose commit waits for PostgreSQL's log to reach
/// the disk does nothing meanwhile, so the host keeps more of them than
/// cores (measured on 2 cores with flushes of 0.12 ms: 8 connections did
/// 6–27 % more than 4, 16 no more than 8; on a disk flushing in 0.04 ms, 4
/// and 16 were equal; see BENCHMARKS.md and SCALING.md). At most 32, so
/// that a few large hosts stay within PostgreSQL's default 100.
fn postgres_connections() -> anyhow::Result<u32> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    match std::env::var("MERCATO_DB_CONNECTIONS") {
        Err(_) => Ok((4 * cores).clamp(4, 32) as u32),
        Ok(n) => match n.trim().parse::<u32>() {
            Ok(n @ 1..=1000) => Ok(n),
            _ => anyhow::bail!(
                "MERCATO_DB_CONNECTIONS must be a number of connections from 1 to 1000, not {n:?}"
            ),
        },
    }
}

/// How every SQLite connection is set up. No mmap: in WAL mode a connection
/// whose read finds the database changed since its last one unmaps the
/// whole file (and maps it again page fault by page fault), so under
/// steady writes every read paid an `munmap` and its TLB shootdown on
/// every core (measured: 7 % less host CPU per purchase without it, 20 %
/// slower reads of a database no one writes to). Checkpoints:
/// see [`Db::spawn_checkpointer`]; the automatic one (in the writer that
/// crosses 64 MiB of log) is only a backstop.
const SQLITE_SETUP: &str = "pragma journal_mode = wal; pragma synchronous = normal; \
     pragma busy_timeout = 10000; pragma foreign_keys = on; \
     pragma mmap_size = 0; pragma wal_autocheckpoint = 16384;";

/// Turns off SQLite's memory statistics, process-wide, before SQLite is
/// first used. With them on, every allocation inside SQLite takes one
/// global mutex, which every connection's thread then contends for; the
/// host never reads those statistics.
fn sqlite_without_memstatus() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` takes this option and one int argument;
        // it returns SQLITE_MISUSE, changing nothing, once SQLite is
        // initialized, which is harmless here.
        #[allow(unsafe_code)]
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int)
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(rc, "SQLite was already initialized; memory statistics stay on");
        }
    });
}

impl Db {
    /// Connects (creating a SQLite file if needed) and sets up each connection.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("unsupported database url {url:?}: use sqlite:… or postgres://…");
        };
        // No ping before handing out a connection: it doubles the round
        // trips of every query, and a broken connection fails its query anyway.
        let options =
            AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10)).test_before_acquire(false);
        let mut writer = None;
        let mut readers = None;
        let pool = match backend {
            Backend::Sqlite => {
                sqlite_without_memstatus();
                let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
                let setup = |options: AnyPoolOptions| {
                    options.after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(SQLITE_SETUP).await?;
                            Ok(())
                        })
                    })
                };
                let pool = setup(options.max_connections(SQLITE_POOL)).connect(&url).await;
                // The database file exists once the pool has connected.
                if pool.is_ok() {
                    let path = sqlite::path_of(&url)?;
                    let conn = sqlite::open(&path, SQLITE_SETUP)
                        .with_context(|| format!("failed to connect to the database ({})", redact(&url)))?;
                    writer = Some(Arc::new(Writer {
                        conn: Arc::new(tokio::sync::Mutex::new(conn)),
                        stats: Arc::default(),
                    }));
                    readers = Some(Arc::new(sqlite::Readers::new(path, SQLITE_SETUP)));
                }
                pool
            }
            Backend::Postgres => options.max_connections(postgres_connections()?).connect(url).await,
        }
        .with_context(|| format!("failed to connect to the database ({})", redact(url)))?;
        let channel = match backend {
            Backend::Postgres => Some(changes::channel_of(&pool).await?),
            Backend::Sqlite => None,
        };
        let reads = Reads { pool, sqlite: readers };
        Ok(Db { reads, backend, writer, url: url.into(), channel })
    }

    /// Applies the migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator.run(self.pool()).await.context("failed to apply migrations")
    }

    /// sqlx's pool, for tools and tests (the host reads through
    /// [`Db::reads`] and writes through [`Db::begin_write`] and
    /// [`Db::write_turn`]).
    pub fn pool(&self) -> &AnyPool {
        &self.reads.pool
    }

    /// Where reads go.
    pub fn reads(&self) -> &Reads {
        &self.reads
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that writes (see [`WriteTx`]).
    pub async fn begin_write(&self) -> Result<WriteTx> {
        Ok(WriteTx(Conn(match self.turn().await {
            // Immediate: the write lock is taken now, not at the first write.
            Some(mut turn) => {
                turn.run("begin immediate")?;
                turn.open = true;
                Inner::Sqlite(turn)
            }
            None => Inner::Tx(self.pool().begin().await?),
        })))
    }

    /// Runs `batch` (see [`Batch::run_independent`]) as a write
    /// transaction, returned open for what reads it back before `commit`.
    /// On PostgreSQL the batch is one statement, a transaction of its own:
    /// it runs on a pooled connection without the `begin` and `commit`
    /// round trips, and the transaction's commit and rollback do nothing
    /// (measured on a new cart: 6–10 % more of them per second), so write
    /// nothing more in it.
    pub(crate) async fn write_batch(&self, batch: Batch) -> Result<WriteTx> {
        let mut tx = match self.backend {
            Backend::Postgres => WriteTx(Conn(Inner::Pooled(self.pool().acquire().await?))),
            Backend::Sqlite => self.begin_write().await?,
        };
        batch.run_independent(&mut tx).await?;
        Ok(tx)
    }

    /// A write transaction whose commit does not wait for the disk on
    /// PostgreSQL (`synchronous_commit = off`): for bookkeeping whose last
    /// moments may be lost in a crash without harm — the background
    /// delivery of events, which then sends again what it had recorded as
    /// sent (at least once, never lost: the outbox row itself is written
    /// with its change). On SQLite, as [`Db::begin_write`].
    pub async fn begin_write_relaxed(&self) -> Result<WriteTx> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("set local synchronous_commit = off").execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Runs one write statement in a write turn of its own (see
    /// [`WriteTurn::done`]); what it changed.
    pub async fn write<'q>(
        &self,
        statement: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<sqlx::any::AnyQueryResult> {
        let mut turn = self.write_turn().await?;
        let done = statement.execute(&mut *turn).await?;
        turn.done().await;
        Ok(done)
    }

    /// The write turn and a connection, for writes outside a transaction
    /// (see [`WriteTurn`]).
    pub async fn write_turn(&self) -> Result<WriteTurn> {
        Ok(WriteTurn(Conn(match self.turn().await {
            Some(turn) => Inner::Sqlite(turn),
            None => Inner::Pooled(self.pool().acquire().await?),
        })))
    }

    /// SQLite: the write turn now, if nobody holds it or waits for it
    /// (`None` otherwise, and on PostgreSQL); never waits. For short reads
    /// of what was just written, on the connection that wrote it: a
    /// reader drops its whole page cache whenever the database has changed
    /// since its last read, which under steady writes is every read, where
    /// the writer's cache stays warm (measured: a cart read costs a reader
    /// about three times what it costs the writer). Such a read holds the
    /// turn for tens of microseconds, and only a turn no writer was
    /// waiting for; it reads only what is committed, as a reader does.
    /// Give it up by dropping it: a writer that came meanwhile has been
    /// woken and runs at this task's next wait. Counted as a turn in
    /// `/metrics`, as it is one.
    pub fn idle_turn(&self) -> Option<WriteTurn> {
        let writer = self.writer.as_ref()?;
        let conn = writer.conn.clone().try_lock_owned().ok()?;
        writer.stats.turns.fetch_add(1, Ordering::Relaxed);
        let turn = Turn { conn, open: false, since: std::time::Instant::now(), stats: writer.stats.clone() };
        Some(WriteTurn(Conn(Inner::Sqlite(turn))))
    }

    /// SQLite: waits for the write turn; `None` where the database needs none.
    async fn turn(&self) -> Option<Turn> {
        let writer = self.writer.as_ref()?;
        let asked = std::time::Instant::now();
        let conn = writer.conn.clone().lock_owned().await;
        let since = std::time::Instant::now();
        let waited = u64::try_from(since.duration_since(asked).as_nanos()).unwrap_or(u64::MAX);
        writer.stats.waiting_ns.fetch_add(waited, Ordering::Relaxed);
        writer.stats.turns.fetch_add(1, Ordering::Relaxed);
        Some(Turn { conn, open: false, since, stats: writer.stats.clone() })
    }

    /// SQLite: the write turn's figures; `None` on PostgreSQL, which has
    /// no single writer.
    pub fn write_turns(&self) -> Option<&TurnStats> {
        self.writer.as_ref().map(|w| &*w.stats)
    }

    /// SQL joining the `expr` values of a group with ',' in `order` (the
    /// function differs per backend).
    pub(crate) fn list_agg(&self, expr: &str, order: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("group_concat({expr}, ',' order by {order})"),
            Backend::Postgres => format!("string_agg({expr}, ',' order by {order})"),
        }
    }

    /// SQLite: copies the write-ahead log back into the database file in
    /// the background, every `every`, so writers never do it, and starts
    /// the log over once it has grown past [`RESTART_FRAMES`] (see
    /// [`Db::checkpoint`]). `None` on PostgreSQL.
    pub fn spawn_checkpointer(&self, every: Duration) -> Option<tokio::task::JoinHandle<()>> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let db = self.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !db.pool().is_closed() {
                tick.tick().await;
                if let Err(e) = db.checkpoint().await {
                    tracing::warn!(error = %e, "SQLite checkpoint failed");
                }
            }
        }))
    }

    /// SQLite: one checkpoint; the frames in the log when it began (0 on
    /// PostgreSQL, which has none to copy).
    ///
    /// A passive checkpoint copies the log into the database file beside
    /// readers and writers, on a connection of sqlx's pool (its own
    /// thread). It seldom finishes the log: writers append to it meanwhile.
    /// Unfinished, the log cannot start over, grows past SQLite's own
    /// threshold, and from then on the writer whose commit crosses it
    /// copies and syncs tens of megabytes while holding the write turn
    /// (measured at 750 purchases/s: every writer stalled 25–45 ms, six
    /// times a second). So once the log is past [`RESTART_FRAMES`]:
    ///
    /// 1. twice, what was written so far is put on disk off the write turn
    ///    (see `sqlite::Readers::sync_files`) and a passive pass copies what
    ///    was written meanwhile: the restart syncs the log written since
    ///    the last `syncfs`, under the turn (one round: the turn held 4.4 ms
    ///    at p50; two: 2.5 ms);
    /// 2. the checkpointer takes the write turn — in-process writers queue
    ///    for it without touching SQLite — and restarts the log on the
    ///    writing connection, on this thread: the last few frames are
    ///    copied and synced, the readers still inside the log finish (new
    ///    ones read the database file), and the next writer writes from the
    ///    log's start; a few times a second. A reader that stays longer than
    ///    [`RESTART_PATIENCE`] (a long report) leaves the restart to a later
    ///    checkpoint.
    pub async fn checkpoint(&self) -> Result<i64> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        let passive = || sqlx::query_as::<_, (i64, i64, i64)>("pragma wal_checkpoint(passive)");
        let (_busy, log, _copied) = passive().fetch_one(self.pool()).await?;
        let (Some(readers), true) = (self.reads.sqlite.clone(), log >= RESTART_FRAMES) else {
            return Ok(log);
        };
        for _ in 0..2 {
            let readers = readers.clone();
            if tokio::task::spawn_blocking(move || readers.sync_files()).await.is_err() {
                tracing::warn!("SQLite's files were not synced before a checkpoint");
            }
            passive().fetch_one(self.pool()).await?;
        }
        if let Some(mut turn) = self.turn().await {
            turn.restart_log()?;
        }
        Ok(log)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("select 1").execute(self.pool()).await.is_ok()
    }
}

/// The values of a [`Db::list_agg`] column.
pub(crate) fn split_list(list: Option<String>) -> Vec<String> {
    list.map(|l| l.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

/// One page of a merchant's rows of `table` in id order, after `after`
/// (keyset pagination: stable under inserts).
pub(crate) async fn merchant_page<T>(
    db: &Db,
    select: &str,
    id_column: &str,
    merchant_id: &str,
    after: Option<&str>,
    limit: u32,
    map: fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    let sql = format!("{select} where merchant_id = $1 and {id_column} > $2 order by {id_column} limit $3");
    let rows = sqlx::query(&sql)
        .bind(merchant_id)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(db.reads())
        .await?;
    rows.iter().map(map).collect()
}

/// Decodes a JSON text column; SQL NULL reads as JSON `null` (so an
/// `Option` type reads a nullable column).
pub(crate) fn json<T: serde::de::DeserializeOwned>(row: &sqlx::any::AnyRow, column: &str) -> Result<T> {
    use sqlx::Row;
    let text: Option<String> = row.try_get(column)?;
    serde_json::from_str(text.as_deref().unwrap_or("null"))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)).into())
}

/// Encodes a value for a JSON text column.
pub(crate) fn to_json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("values of our own types serialize")
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub use crate::model::time::now_ms;

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::Db;

    /// SQLite's idle writer is taken for a read only while nobody holds
    /// the write turn or waits for it, never waited for, and it reads only
    /// what is committed, as a reader does.
    #[tokio::test]
    async fn the_idle_turn_is_taken_only_when_free_and_reads_only_what_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        db.write(sqlx::query("create table t (v integer)")).await.unwrap();
        db.write(sqlx::query("insert into t values (1)")).await.unwrap();
        let count = "select count(*) from t";

        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("insert into t values (2)").execute(&mut *tx).await.unwrap();
        assert!(db.idle_turn().is_none(), "a transaction holds the turn");
        // A writer queues behind it (this test's runtime has one thread:
        // the writer runs only when this task waits).
        let waiter = tokio::spawn({
            let db = db.clone();
            async move {
                let mut turn = db.write_turn().await.unwrap();
                sqlx::query("insert into t values (3)").execute(&mut *turn).await.unwrap();
                turn.done().await;
            }
        });
        tokio::task::yield_now().await;
        // Given up (rolled back) without waiting: the turn is the queued
        // writer's from now on, though it has not run yet.
        drop(tx);
        assert!(db.idle_turn().is_none(), "the waiting writer comes first");
        waiter.await.unwrap();

        let mut turn = db.idle_turn().expect("nobody holds the turn or waits for it");
        let n: i64 = sqlx::query_scalar(count).fetch_one(&mut *turn).await.unwrap();
        assert_eq!(n, 2, "the rolled back row is not there, the waiting writer's is");
        assert!(db.idle_turn().is_none(), "one holder at a time");
        drop(turn);
        assert!(db.idle_turn().is_some(), "free again once dropped");
    }

    /// The key purge takes the write turn only when there is a key to
    /// forget: a key past its day whose request still holds its lease is
    /// kept, and the pass that finds only such keys writes nothing.
    #[tokio::test]
    async fn the_key_purge_takes_the_write_turn_only_for_keys_it_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        let insert = "insert into idempotency_key (scope, idempotency_key, request_hash, created_at, \
                      updated_at, lease_until) values ('s', $1, 'h', 10, 10, $2)";
        db.write(sqlx::query(insert).bind("leased").bind(2_000_i64)).await.unwrap();
        let turns = || db.write_turns().unwrap().snapshot().0;

        let before = turns();
        assert_eq!(super::idempotency::purge(&db, 100, 1_000, 10).await.unwrap(), 0);
        assert_eq!(turns(), before, "nothing to forget: the write turn was not taken");

        db.write(sqlx::query(insert).bind("over").bind(500_i64)).await.unwrap();
        assert_eq!(super::idempotency::purge(&db, 100, 1_000, 10).await.unwrap(), 1);
        let (left,): (String,) =
            sqlx::query_as("select idempotency_key from idempotency_key").fetch_one(db.pool()).await.unwrap();
        assert_eq!(left, "leased", "the running request keeps its key");
        // Its lease run out, it is forgotten too.
        assert_eq!(super::idempotency::purge(&db, 100, 3_000, 10).await.unwrap(), 1);
    }

    /// Small writes never reach SQLite's own threshold, so the database
    /// file only grows when the background checkpoint copies the log back.
    #[tokio::test]
    async fn the_checkpointer_copies_the_log_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        let db = Db::connect(&format!("sqlite://{}", file.display())).await.unwrap();
        sqlx::query("create table t (id integer primary key, v text)").execute(db.pool()).await.unwrap();
        for i in 0..200 {
            let mut tx = db.begin_write().await.unwrap();
            sqlx::query("insert into t (id, v) values ($1, $2)")
                .bind(i as i64)
                .bind("x".repeat(500))
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let size = || std::fs::metadata(&file).unwrap().len();
        let before = size();
        assert!(before < 100_000, "the rows are still only in the log ({before} bytes)");

        let task = db.spawn_checkpointer(Duration::from_millis(10)).expect("SQLite has a checkpointer");
        let deadline = Instant::now() + Duration::from_secs(30);
        while size() < 100_000 {
            assert!(Instant::now() < deadline, "the log was not copied back ({} bytes)", size());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
    }

    /// A reader inside the log while a passive checkpoint runs leaves the
    /// log unfinished, and the next writer goes on appending to it; once
    /// the log is long, the checkpointer waits for the reader and restarts
    /// it, and the next write goes to its start.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_log_starts_over_once_the_reader_inside_it_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        sqlx::query("create table t (id integer primary key, v blob)").execute(db.pool()).await.unwrap();
        let write = |i: i64| {
            // 64 KiB: sixteen overflow pages, so sixteen frames and more.
            db.write(sqlx::query("insert into t (id, v) values ($1, zeroblob(65536))").bind(i))
        };
        let rows = super::RESTART_FRAMES / 16 + 1;
        for i in 0..rows {
            write(i).await.unwrap();
        }
        // A read transaction on what is written so far, then one more write
        // it does not see: the log cannot be finished while it lasts.
        let mut reader = db.pool().begin().await.unwrap();
        sqlx::query("select count(*) from t").fetch_one(&mut *reader).await.unwrap();
        write(rows).await.unwrap();
        let done = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            reader.rollback().await.unwrap();
        });
        let log = db.checkpoint().await.unwrap();
        done.await.unwrap();
        write(rows + 1).await.unwrap();
        let (_, after, _): (i64, i64, i64) =
            sqlx::query_as("pragma wal_checkpoint(passive)").fetch_one(db.pool()).await.unwrap();
        assert!(log >= super::RESTART_FRAMES, "{log} frames");
        assert!(after < 100, "the log went on from {log} frames to {after}");
    }

    /// The background jobs run every few seconds for as long as the host
    /// does: each reads an index range of what is due, never a whole table
    /// of orders, attempts or carts (which grows with every sale). Only the
    /// table of shops may be read whole.
    #[tokio::test]
    async fn background_jobs_read_index_ranges_not_whole_tables() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        let jobs = [
            ("expired holds", super::payments::expired_holds_sql(), 2),
            ("unsettled payments", super::payments::unsettled_sql(), 3),
            ("abandoned carts", super::carts::IDLE.to_owned(), 2),
            ("forgotten idempotency keys", super::idempotency::PURGE.to_owned(), 3),
        ];
        for (job, sql, params) in jobs {
            let explain = format!("explain query plan {sql}");
            let mut plan = sqlx::query(&explain);
            for _ in 0..params {
                plan = plan.bind(0_i64);
            }
            let steps: Vec<String> = plan
                .fetch_all(db.pool())
                .await
                .unwrap()
                .iter()
                .map(|row| sqlx::Row::try_get::<String, _>(row, "detail").unwrap())
                .collect();
            assert!(!steps.is_empty(), "{job}: no plan");
            fn scanned(step: &str) -> Option<&str> {
                step.strip_prefix("SCAN ").and_then(|t| t.split(' ').next())
            }
            let whole: Vec<&String> =
                steps.iter().filter(|s| scanned(s).is_some_and(|t| t != "merchant" && t != "m")).collect();
            assert!(whole.is_empty(), "{job} reads a whole table: {whole:?} in {steps:?}");
        }
    }

    #[test]
    fn a_batched_statement_keeps_its_own_placeholders_after_the_others() {
        assert_eq!(
            super::renumber("update t set v = $2 where id = $1", 3),
            "update t set v = $5 where id = $4"
        );
        assert_eq!(super::renumber("select $10, '$', $", 1), "select $11, '$', $");
    }

    /// Each statement of a batch binds its own values, and the rows come
    /// back in statement order.
    #[tokio::test]
    async fn a_batch_binds_each_statement_its_own_values_and_returns_rows_in_order() {
        use super::{Batch, Sql};
        use sqlx::Row;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        sqlx::query("create table t (id integer primary key, v text)").execute(db.pool()).await.unwrap();
        let mut batch = Batch::default();
        batch.add(Sql::with("insert into t (id, v) values ($1, $2)", [1.into(), "one".into()]));
        batch.add(Sql::with(
            "insert into t (v, id) values ($2, $1) returning id, v",
            [2.into(), "two".into()],
        ));
        batch.add(Sql::with("update t set v = $1 where id = $2", ["uno".into(), 1.into()]));
        batch.add(Sql::with("select id, v from t where id = $1", [1.into()]));
        let mut tx = db.begin_write().await.unwrap();
        let rows = batch.run(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let got: Vec<(i64, String)> = rows.iter().map(|r| (r.get("id"), r.get("v"))).collect();
        assert_eq!(got, [(2, "two".to_owned()), (1, "uno".to_owned())]);
    }

    /// SQLite's writer runs statements itself: a transaction dropped
    /// unfinished (an error, a request given up) is rolled back before the
    /// next writer's turn, rows read as the pool reads them, and a unique
    /// constraint is named as the pool names it.
    #[tokio::test]
    async fn sqlite_writer_rolls_back_what_is_dropped_and_reads_as_the_pool_does() {
        use sqlx::Row;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        sqlx::query("create table t (id integer primary key, v text unique, n real, b blob)")
            .execute(db.pool())
            .await
            .unwrap();
        let insert = "insert into t (id, v, n) values ($1, $2, $3)";
        {
            let mut tx = db.begin_write().await.unwrap();
            sqlx::query(insert).bind(1_i64).bind("given up").bind(0.5).execute(&mut *tx).await.unwrap();
        }
        let mut tx = db.begin_write().await.unwrap();
        let done = sqlx::query(insert).bind(2_i64).bind("kept").bind(1.5).execute(&mut *tx).await.unwrap();
        assert_eq!(done.rows_affected(), 1);
        let row = sqlx::query("select id, v, n, b from t where id = $1")
            .bind(2_i64)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(row.get::<i64, _>("id"), 2);
        assert_eq!(row.get::<String, _>("v"), "kept");
        assert_eq!(row.get::<f64, _>("n"), 1.5);
        assert_eq!(row.get::<Option<Vec<u8>>, _>("b"), None);
        tx.commit().await.unwrap();

        let mut turn = db.write_turn().await.unwrap();
        let refused =
            sqlx::query(insert).bind(3_i64).bind("kept").bind(2.0).execute(&mut *turn).await.unwrap_err();
        assert_eq!(super::unique_violation(&refused.into()).as_deref(), Some("t.v"));
        drop(turn);
        let ids: Vec<(i64,)> =
            sqlx::query_as("select id from t order by id").fetch_all(db.reads()).await.unwrap();
        assert_eq!(ids, [(2,)]);
    }

    #[test]
    fn multi_row_values_number_their_placeholders_row_after_row() {
        assert_eq!(super::row_values(2, "$1, $2", 2, 3), "($1, $2, $3, $4), ($1, $2, $5, $6)");
        assert_eq!(super::row_values(1, "", 3, 1), "($1, $2, $3)");
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(super::redact("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(super::redact("sqlite://data/mercato.db"), "sqlite://data/mercato.db");
    }
}
