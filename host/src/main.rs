use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    mercato::cli::init_tracing();
    let cli = mercato::cli::Cli::parse();
    match mercato::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
