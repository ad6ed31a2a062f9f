use std::process::ExitCode;

use clap::Parser;

// Executions allocate many small values; mimalloc serves them much faster than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use expressway_cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => expressway_cli::run(args).map(|line| {
            println!("{line}");
            true
        }),
        Command::Validate(args) => expressway_cli::validate(args).map(|(text, ok)| {
            println!("{text}");
            ok
        }),
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
