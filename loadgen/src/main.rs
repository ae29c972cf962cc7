//! `mercato-loadgen`: starts a release `mercato serve` on a fresh database,
//! sets up a merchant over HTTP and measures the store API under concurrent
//! clients, next to a bare axum + database endpoint as the denominator.
//! Run by `cargo xtask bench api`; ends with one JSON line on stdout.

mod baseline;
mod cap;
mod cpu;
mod receiver;
mod report;
mod scenarios;
mod server;
mod setup;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::{Map, Value};

// The same allocator as the `mercato` binary, for the baseline server's sake.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Load generator for the mercato HTTP API.
#[derive(Parser, Debug)]
#[command(name = "mercato-loadgen")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    bench: BenchArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The baseline: one axum route reading one row by primary key (started by the bench itself).
    #[command(hide = true)]
    BaselineServer {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Concurrent clients per scenario.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Measured seconds per scenario (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Warm-up seconds per scenario, not measured.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Worker threads of the client (it shares the machine with the server).
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Scenarios to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "baseline,cart_read,add_to_cart_new_session,add_line,checkout,checkout_stripe,checkout_flow,cart_1000"
    )]
    pub scenarios: Vec<String>,
    /// Carts made ready for the `checkout` scenario (all are completed).
    #[arg(long, default_value_t = 3200)]
    pub checkout_carts: usize,
    /// Products (one variant each) to create.
    #[arg(long, default_value_t = 1000)]
    pub products: usize,
    /// The `mercato` binary; default: next to this one.
    #[arg(long)]
    pub mercato: Option<PathBuf>,
    /// Where the built plugin components are.
    #[arg(long, default_value = "target/plugins")]
    pub plugin_dir: PathBuf,
    /// Also run on PostgreSQL (a fresh schema, dropped afterwards); default
    /// `MERCATO_BENCH_POSTGRES_URL`, else `MERCATO_TEST_POSTGRES_URL`.
    #[arg(long)]
    pub postgres_url: Option<String>,
    /// Also count, per request of a purchase (one client, on a host of its
    /// own that logs every statement): database statements, plugin calls,
    /// bytes of JSON each way.
    #[arg(long)]
    pub profile: bool,
    /// Only SQLite, even when a PostgreSQL URL is set.
    #[arg(long)]
    pub sqlite_only: bool,
    /// Only PostgreSQL (a URL must be set).
    #[arg(long, conflicts_with = "sqlite_only")]
    pub postgres_only: bool,
    /// PostgreSQL commits without waiting for its log to reach the disk
    /// (`synchronous_commit = off`): the durability SQLite runs with here
    /// (WAL, `synchronous = normal`), where no commit waits for a flush
    /// either. Either may lose its last commits in a crash of the machine,
    /// never half of one; PostgreSQL also in a crash of its server.
    #[arg(long)]
    pub postgres_async_commit: bool,
    /// Holds the servers under test (the host and the baseline server) to
    /// this many cores through a Linux cgroup (needs root): the database's
    /// server and the client get the rest of the machine, as a host whose
    /// PostgreSQL runs on a machine of its own. Per-host throughput then
    /// compares across databases; without it, PostgreSQL's CPU is taken
    /// from the host's cores.
    #[arg(long)]
    pub host_cpus: Option<f64>,
}

impl BenchArgs {
    pub fn window(&self) -> (Duration, Duration) {
        (Duration::from_secs_f64(self.warmup), Duration::from_secs_f64(self.duration))
    }

    fn postgres_url(&self) -> Option<String> {
        if self.sqlite_only {
            return None;
        }
        self.postgres_url
            .clone()
            .or_else(|| std::env::var("MERCATO_BENCH_POSTGRES_URL").ok())
            .or_else(|| std::env::var("MERCATO_TEST_POSTGRES_URL").ok())
            .filter(|u| !u.is_empty())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::BaselineServer { database_url, listen }) => baseline::serve(&database_url, listen),
        None => bench(cli.bench),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs every backend; `Ok(false)` when a scenario failed or saw errors.
fn bench(args: BenchArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(args.clients > 0 && args.duration > 0.0, "--clients and --duration must be positive");
    anyhow::ensure!(args.products >= 50, "--products must be at least 50");
    if let Some(cores) = args.host_cpus {
        cap::check(cores)?;
    }
    if let Some(unknown) = args.scenarios.iter().find(|s| !scenarios::SCENARIOS.contains(&s.as_str())) {
        anyhow::bail!("unknown scenario {unknown:?}; known: {}", scenarios::SCENARIOS.join(", "));
    }
    let mercato = match &args.mercato {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name(format!("mercato{}", std::env::consts::EXE_SUFFIX)),
    };
    anyhow::ensure!(mercato.exists(), "no mercato binary at {} (use --mercato)", mercato.display());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()?;

    // Client and server share the machine: anything else running skews the figures.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load = load.split_whitespace().next().unwrap_or("?");
        eprintln!("load average before the run: {load} (figures compare only on an otherwise idle machine)");
    }
    let mut all = Map::new();
    let mut clean = true;
    let mut backends = vec![server::Backend::Sqlite];
    if let Some(url) = args.postgres_url() {
        let settings = args.postgres_async_commit.then_some("-c synchronous_commit=off");
        backends.push(server::Backend::Postgres(url, settings));
    }
    if args.postgres_only {
        anyhow::ensure!(backends.len() == 2, "--postgres-only needs a PostgreSQL URL");
        backends.remove(0);
    }
    for backend in backends {
        let name = backend.name();
        eprintln!("== {name}");
        if let server::Backend::Postgres(_, Some(settings)) = &backend {
            eprintln!("every session with {settings}");
        }
        let results = runtime.block_on(run_backend(&args, &mercato, &backend));
        let results = match results {
            Ok(results) => results,
            Err(e) => {
                eprintln!("{name}: {e:#}");
                clean = false;
                all.insert(name.into(), serde_json::json!({"error": format!("{e:#}")}));
                continue;
            }
        };
        report::print_table(name, &args, &results);
        clean &= results.iter().all(|r| r.is_clean());
        all.insert(name.into(), report::json(&results));
    }
    let across = report::postgres_over_sqlite(&all);
    if !across.is_empty() {
        for (name, ratio) in &across {
            eprintln!("  postgres/sqlite throughput, {name}: {ratio}");
        }
        all.insert("postgres_over_sqlite".into(), Value::Object(across));
    }
    let mut line = Map::new();
    line.insert("bench".into(), "api".into());
    line.insert("clients".into(), args.clients.into());
    line.insert("duration_s".into(), args.duration.into());
    if let Some(cores) = args.host_cpus {
        line.insert("host_cpus".into(), cores.into());
    }
    line.extend(all);
    println!("{}", Value::Object(line));
    Ok(clean)
}

/// One backend: servers up, merchant set up, every selected scenario.
async fn run_backend(
    args: &BenchArgs,
    mercato: &std::path::Path,
    backend: &server::Backend,
) -> anyhow::Result<Vec<report::Outcome>> {
    let env = server::Env::start(backend, mercato, "info", args.host_cpus).await?;
    let result = scenarios::run_all(args, &env).await;
    env.stop().await;
    let mut results = result?;
    if args.profile {
        // Its own host, logging every statement (which slows it down).
        let env = server::Env::start(backend, mercato, "info,sqlx::query=debug", None).await?;
        let profiled = scenarios::profile(args, &env).await;
        env.stop().await;
        results.push(profiled.unwrap_or_else(|e| report::Outcome::failed("profile", format!("{e:#}"))));
    }
    Ok(results)
}
