//! The `mercato` command line.

pub mod demo;
mod plugin;
mod scaffold;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Mercato: commerce with sandboxed WebAssembly plugins.
#[derive(Parser, Debug)]
#[command(name = "mercato", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the HTTP API (applies migrations first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "MERCATO_LISTEN", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        #[command(flatten)]
        db: DbArgs,
        /// The platform operator's API key; generated and printed once when unset.
        #[arg(long, env = "MERCATO_OPERATOR_KEY", hide_env_values = true)]
        operator_key: Option<String>,
        /// The key that seals merchants' provider secrets at rest (32 bytes:
        /// 64 hex digits or 43 base64url characters), the same on every host
        /// over one database; generated, kept in the data directory and
        /// printed once when unset.
        #[arg(long, env = "MERCATO_SECRET_KEY", hide_env_values = true)]
        secret_key: Option<String>,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Work with plugin components.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Serve a demo: two seeded merchants on a fresh SQLite database, with
    /// their keys and a walkthrough printed (the database is wiped on each start).
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Where the built components are (`cargo xtask build-plugins` puts them in target/plugins).
        #[arg(long, env = "MERCATO_PLUGIN_DIR", default_value = "target/plugins")]
        plugin_dir: PathBuf,
        /// Where the demo keeps its database (`demo.db`, wiped on each start) and compiled plugins.
        #[arg(long, env = "MERCATO_DATA_DIR", default_value = "target/demo")]
        data_dir: PathBuf,
    },
}

/// How a serving host behaves under retries and load.
#[derive(clap::Args, Debug, Clone)]
pub struct Tuning {
    /// How long a running request holds its Idempotency-Key without
    /// renewing it: a retry after its host died waits at most this long.
    #[arg(long, env = "MERCATO_IDEMPOTENCY_LEASE_MS", default_value_t = 10_000,
        value_parser = clap::value_parser!(u64).range(300..=600_000))]
    pub idempotency_lease_ms: u64,
    /// The longest a cached key, binding or plugin policy is trusted
    /// without reading it again. Hosts over one PostgreSQL database tell
    /// one another of changes at once (LISTEN/NOTIFY); this reload makes
    /// good a notice that was lost.
    #[arg(long, env = "MERCATO_CACHE_RELOAD_MS", default_value_t = 5_000,
        value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub cache_reload_ms: u64,
    /// How many checkouts price their carts and place their orders at
    /// once on this host, and as many record their payments, while other
    /// requests are in flight (the rest wait their turn, so cart edits
    /// never queue behind a crowd of checkouts); when not given, one per
    /// two cores on SQLite, one per core on PostgreSQL. Payment calls run
    /// outside this limit.
    #[arg(long, env = "MERCATO_CHECKOUTS_AT_ONCE",
        value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub checkouts_at_once: Option<u16>,
    /// Where Stripe's API is reached (a proxy, or a test double).
    #[arg(long, env = "MERCATO_STRIPE_API_BASE", default_value = crate::commerce::stripe::DEFAULT_API_BASE)]
    pub stripe_api_base: String,
    /// Where storefronts load Stripe.js from (a test double's, offline).
    #[arg(long, env = "MERCATO_STRIPE_JS_URL", default_value = crate::commerce::stripe::DEFAULT_JS_URL)]
    pub stripe_js_url: String,
    /// Requests per second each API key may make on this host (twice that
    /// in a burst); requests without a key count per client address. 0 is
    /// no limit. Over it: 429 with Retry-After.
    #[arg(long, env = "MERCATO_RATE_LIMIT_PER_KEY", default_value_t = 1000)]
    pub rate_limit_per_key: u32,
    /// Failed customer logins allowed per account (shop and e-mail) in 15
    /// minutes before the account's logins answer 429. 0 is no limit.
    #[arg(long, env = "MERCATO_LOGIN_FAILURES_PER_ACCOUNT", default_value_t = 5)]
    pub login_failures_per_account: u32,
    /// Failed customer logins allowed per client address in 15 minutes.
    #[arg(long, env = "MERCATO_LOGIN_FAILURES_PER_ADDRESS", default_value_t = 20)]
    pub login_failures_per_address: u32,
    /// Let webhook endpoints be in private, loopback or link-local ranges
    /// (a receiver on the same network); refused by default.
    #[arg(long, env = "MERCATO_WEBHOOK_ALLOW_PRIVATE", default_value_t = false,
        value_parser = clap::builder::FalseyValueParser::new())]
    pub webhook_allow_private: bool,
    /// The wait before a failed webhook delivery is first tried again; each
    /// retry waits twice the last (at most an hour), for 72 hours.
    #[arg(long, env = "MERCATO_WEBHOOK_FIRST_RETRY_MS", default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub webhook_first_retry_ms: u64,
    /// The SMTP server e-mail goes through: `smtp://host:port` (plain),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465`, with
    /// `user:password@` to log in. Without it, e-mails are recorded as not
    /// sent, with the reason.
    #[arg(long, env = "MERCATO_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of shops that name none (their name is put in front).
    #[arg(long, env = "MERCATO_EMAIL_FROM", default_value = "Mercato <no-reply@localhost>")]
    pub email_from: String,
}

impl Tuning {
    /// How e-mail is sent.
    pub fn mailer(&self) -> anyhow::Result<crate::commerce::emails::Mailer> {
        crate::commerce::emails::Mailer::new(self.smtp_url.as_deref(), &self.email_from)
    }

    /// How webhooks are delivered.
    pub fn webhooks(&self) -> crate::commerce::webhooks::Settings {
        crate::commerce::webhooks::Settings {
            allow_private: self.webhook_allow_private,
            first_retry: std::time::Duration::from_millis(self.webhook_first_retry_ms),
            ..Default::default()
        }
    }

    /// The abuse limits these flags set.
    pub fn limits(&self) -> crate::http::limits::LimitConfig {
        crate::http::limits::LimitConfig {
            requests_per_second: self.rate_limit_per_key,
            login_failures_per_account: self.login_failures_per_account,
            login_failures_per_address: self.login_failures_per_address,
        }
    }
}

#[derive(clap::Args, Debug)]
struct DbArgs {
    /// `sqlite://path` or `postgres://…`; default a SQLite file in the data directory.
    #[arg(long, env = "MERCATO_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where the host keeps its files.
    #[arg(long, env = "MERCATO_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

impl DbArgs {
    fn url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir)?;
                Ok(crate::config::default_database_url(&self.data_dir))
            }
        }
    }
}

impl Cli {
    /// The log level when `RUST_LOG` is unset.
    pub fn default_log_level(&self) -> &'static str {
        match self.command {
            Command::Serve { .. } | Command::Migrate { .. } => "info",
            // `plugin run` reports a failed call itself, once.
            Command::Plugin(_) => "error",
            _ => "warn",
        }
    }
}

#[derive(Subcommand, Debug)]
enum PluginCommand {
    /// Run one call and print {output, fuel_used, memory_peak_bytes, duration_us}.
    Run {
        /// The component (.wasm).
        component: PathBuf,
        /// The call input as JSON (the SDK types' serde form).
        #[arg(long)]
        input: PathBuf,
        /// The merchant configuration as JSON (default `{}`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override the fuel budget per 200 lines.
        #[arg(long)]
        fuel: Option<u64>,
        /// Override the deadline in milliseconds.
        #[arg(long)]
        deadline_ms: Option<u64>,
        /// Override the memory cap in bytes.
        #[arg(long)]
        memory_bytes: Option<u64>,
        /// Call it this many times (each in a fresh instance, as the host
        /// does) and add the median and p99 of the calls after the first.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        repeat: u32,
    },
    /// Print a component's metadata, world, version, imports and size.
    Inspect {
        /// The component (.wasm).
        component: PathBuf,
    },
    /// Scaffold a plugin that builds and passes its own test.
    New {
        /// pricing, tax, shipping, payment or recommendations.
        extension_point: String,
        /// Plugin name, e.g. `my-tax`.
        name: String,
        /// rust (a crate), js (componentize-js) or py (componentize-py).
        #[arg(long, default_value = "rust")]
        lang: String,
        /// Where plugin crates live.
        #[arg(long, default_value = "plugins")]
        dir: PathBuf,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plugin(PluginCommand::Run {
            component,
            input,
            config,
            fuel,
            deadline_ms,
            memory_bytes,
            repeat,
        }) => {
            let overrides = crate::runtime::LimitOverrides {
                fuel_per_200_lines: fuel,
                deadline_ms,
                memory_bytes,
                ..Default::default()
            };
            plugin::run(&component, &input, config.as_deref(), &overrides, repeat)
        }
        Command::Plugin(PluginCommand::Inspect { component }) => plugin::inspect(&component),
        Command::Plugin(PluginCommand::New { extension_point, name, lang, dir }) => {
            scaffold::new_plugin(&extension_point, &name, &lang, &dir)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { listen, plugin_dir, data_dir } => demo::run(listen, &plugin_dir, &data_dir),
        Command::Serve { listen, db, operator_key, secret_key, tuning } => serve::run(
            listen,
            &db.url()?,
            &db.data_dir,
            operator_key.map(crate::config::Secret::new),
            secret_key.map(crate::config::Secret::new),
            &tuning,
        ),
        Command::Migrate { db } => serve::migrate(&db.url()?),
    }
}

/// Structured logs to stderr; `RUST_LOG` filters (default `info` for the
/// server, `warn` for one-shot commands); colour only on a terminal.
pub fn init_tracing(default: &str) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
