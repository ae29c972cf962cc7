//! The processes under test: a release `mercato serve` and the baseline
//! server, each on a fresh database (SQLite files in a temporary directory,
//! or a PostgreSQL schema of their own, dropped afterwards).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cap::CpuCap;

/// A database to run on.
pub enum Backend {
    Sqlite,
    /// The server's URL (a database where schemas may be created), and
    /// settings every session of the run takes (`-c name=value`), if any.
    Postgres(String, Option<&'static str>),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(..) => "postgres",
        }
    }
}

/// A child process that printed `listening on http://…`; killed on drop.
pub struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Process {
    /// Starts `cmd` with stdout piped and stderr to `log`, and waits for its
    /// `listening on http://…` line.
    fn spawn(name: &'static str, mut cmd: Command, log: PathBuf) -> Result<Process> {
        let stderr = std::fs::File::create(&log)?;
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(stderr);
        let mut child = cmd.spawn().with_context(|| format!("failed to start {cmd:?}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reads every line, so the pipe never fills.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.trim().strip_prefix("listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
            }
        });
        let mut process = Process { name, child, log, base: String::new() };
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => {
                process.base = base;
                Ok(process)
            }
            Err(_) => {
                let status = process.child.try_wait().ok().flatten();
                bail!(
                    "{name} never said it was listening (exit: {status:?}); its log:\n{}",
                    process.log_tail()
                )
            }
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many bytes of stderr it has written so far.
    pub fn log_len(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |m| m.len())
    }

    /// Its stderr from byte `from` on.
    pub fn log_since(&self, from: u64) -> String {
        let text = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(&text[(from as usize).min(text.len())..]).into_owned()
    }

    /// The end of the process's stderr.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops it; says so when it had already exited.
    fn stop(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            eprintln!("{} had exited during the run ({status}); its log:\n{}", self.name, self.log_tail());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both servers of one backend, with what the bench needs to reach them.
pub struct Env {
    pub backend: &'static str,
    pub mercato: Process,
    pub baseline: Process,
    pub operator_key: String,
    /// The Stripe the host is pointed at: on loopback, answering at once;
    /// it serves as long as it is held.
    _stripe: mercato_fake_stripe::FakeStripe,
    schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
    /// `--host-cpus`: dropped last, once both servers are gone.
    _cap: Option<CpuCap>,
}

/// 128 random bits as hex, from the standard library's random hasher keys.
pub fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
        h.finish()
    };
    format!("{:016x}{:016x}", word(), word())
}

impl Env {
    /// Starts both servers; `rust_log` is the host's log filter; both are
    /// held to `host_cpus` cores when given (see [`crate::cap`]).
    pub async fn start(
        backend: &Backend,
        mercato: &Path,
        rust_log: &str,
        host_cpus: Option<f64>,
    ) -> Result<Env> {
        let dir = tempfile::tempdir()?;
        let (mercato_url, baseline_url, schema) = match backend {
            Backend::Sqlite => {
                let db = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
                (db("mercato.db"), db("baseline.db"), None)
            }
            Backend::Postgres(url, settings) => {
                let schema = format!("bench_{}", &random_hex()[..16]);
                create_schema(url, &schema).await?;
                let sep = if url.contains('?') { '&' } else { '?' };
                let options = format!("-c search_path={schema} {}", settings.unwrap_or_default());
                let options = options.trim_end().replace(' ', "%20").replace('=', "%3D");
                let scoped = format!("{url}{sep}options={options}");
                (scoped.clone(), scoped, Some((url.clone(), schema)))
            }
        };
        let operator_key = format!("op_bench_{}", random_hex());
        let stripe = mercato_fake_stripe::FakeStripe::start().await;
        let started = tokio::task::block_in_place(|| -> Result<(Process, Process, Option<CpuCap>)> {
            // Made first, so that it is dropped after the servers if they fail.
            let cap = host_cpus.map(CpuCap::new).transpose()?;
            let mut cmd = Command::new(mercato);
            cmd.arg("serve")
                .args(["--listen", "127.0.0.1:0", "--database-url", &mercato_url])
                .arg("--data-dir")
                .arg(dir.path().join("data"))
                .args(["--operator-key", &operator_key])
                // The clients share one key: the per-key limit stays on (its
                // cost is measured) but far above what the bench sends.
                .args(["--rate-limit-per-key", "1000000"])
                .args(["--stripe-api-base", &stripe.base_url])
                // The bench's webhook receiver is on loopback.
                .env("MERCATO_WEBHOOK_ALLOW_PRIVATE", "1")
                .env("RUST_LOG", rust_log);
            let server = Process::spawn("mercato", cmd, dir.path().join("mercato.log"))?;
            let mut cmd = Command::new(std::env::current_exe()?);
            cmd.args(["baseline-server", "--database-url", &baseline_url]);
            let baseline = Process::spawn("baseline server", cmd, dir.path().join("baseline.log"))?;
            if let Some(cap) = &cap {
                cap.hold(server.pid())?;
                cap.hold(baseline.pid())?;
            }
            Ok((server, baseline, cap))
        });
        match started {
            Ok((mercato, baseline, cap)) => Ok(Env {
                backend: backend.name(),
                mercato,
                baseline,
                operator_key,
                _stripe: stripe,
                schema,
                _dir: dir,
                _cap: cap,
            }),
            Err(e) => {
                if let Some((url, schema)) = &schema {
                    drop_schema(url, schema).await;
                }
                Err(e)
            }
        }
    }

    /// PostgreSQL: vacuums the schema's tables and refreshes the planner's
    /// statistics, as autovacuum does within a minute of a catalog being
    /// loaded or of a scenario's updates. Without the statistics, the plans
    /// PostgreSQL caches for the host's prepared statements are made from
    /// those of empty tables; without the vacuum, on a server where
    /// autovacuum is off, each scenario reads through the row versions the
    /// ones before it left.
    pub async fn analyze(&self) -> Result<()> {
        let Some((url, schema)) = &self.schema else { return Ok(()) };
        let admin = sqlx::AnyPool::connect(url).await?;
        let tables: Vec<(String,)> =
            sqlx::query_as("select tablename::text from pg_tables where schemaname = $1")
                .bind(schema)
                .fetch_all(&admin)
                .await?;
        for (table,) in tables {
            // An empty table is left unanalyzed: statistics saying "no rows"
            // would make the plans of its first rows' queries (and of the
            // foreign-key checks against it) scan it whole as it grows.
            let (rows,): (bool,) = sqlx::query_as(&format!("select exists (select 1 from {schema}.{table})"))
                .fetch_one(&admin)
                .await?;
            if rows {
                // Not in a transaction, so not prepared.
                sqlx::raw_sql(&format!("vacuum (analyze) {schema}.{table}")).execute(&admin).await?;
            }
        }
        admin.close().await;
        Ok(())
    }

    /// Stops both servers and drops the PostgreSQL schema.
    pub async fn stop(mut self) {
        self.mercato.stop();
        self.baseline.stop();
        if let Some((url, schema)) = &self.schema {
            drop_schema(url, schema).await;
        }
    }
}

async fn create_schema(url: &str, schema: &str) -> Result<()> {
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(url).await.context("failed to connect to PostgreSQL")?;
    sqlx::query(&format!("create schema {schema}")).execute(&admin).await.context("create schema")?;
    admin.close().await;
    Ok(())
}

async fn drop_schema(url: &str, schema: &str) {
    let dropped = async {
        let admin = sqlx::AnyPool::connect(url).await?;
        sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(&admin).await?;
        admin.close().await;
        Ok::<_, sqlx::Error>(())
    };
    if let Err(e) = dropped.await {
        eprintln!("could not drop schema {schema}: {e}");
    }
}
