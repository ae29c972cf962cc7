//! The `mercato` command: parses the command line and runs it (see `mercato::cli`).

use std::process::ExitCode;

use clap::Parser;

// The hot paths (plugin calls, JSON) allocate many small strings.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = mercato::cli::Cli::parse();
    mercato::cli::init_tracing(cli.default_log_level());
    match mercato::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
