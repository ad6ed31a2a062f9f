use std::process::ExitCode;

use clap::Parser;
use expressway_cli::{client, Cli};

// Executions allocate many small values; mimalloc serves them much faster than glibc malloc.
#[global_allocator]
static GLOBAL: expressway_alloc::Mimalloc = expressway_alloc::Mimalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match expressway_cli::execute(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) if e.downcast_ref::<client::ClientError>().is_some() => {
            // As the AWS CLI prints it: "An error occurred (<Exception>) when calling …".
            eprintln!("{e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
