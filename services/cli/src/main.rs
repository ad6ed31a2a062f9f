use std::process::ExitCode;

use clap::Parser;
use expressway_cli::{client, dev, Cli, Command};

// Executions allocate many small values; mimalloc serves them much faster than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn init_telemetry() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EXPRESSWAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

fn print(v: serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ep = &cli.endpoint;
    let result: anyhow::Result<bool> = match &cli.command {
        Command::Run(args) => expressway_cli::run(args).map(|line| {
            println!("{line}");
            true
        }),
        Command::Validate(args) => expressway_cli::validate(args).map(|(text, ok)| {
            println!("{text}");
            ok
        }),
        Command::Dev(args) => {
            init_telemetry();
            let args = args.clone();
            tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(anyhow::Error::from).and_then(
                |rt| {
                    rt.block_on(async move {
                        let listener = tokio::net::TcpListener::bind(args.listen)
                            .await
                            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
                        dev::serve(args, listener, dev::shutdown_signal()).await.map(|_| true)
                    })
                },
            )
        }
        Command::Frontend(args) | Command::Worker(args) | Command::Results(args) => {
            init_telemetry();
            expressway_cli::config::Config::load(args).and_then(|cfg| {
                let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
                rt.block_on(async move {
                    use expressway_cli::distributed::{run_frontend, run_results, run_worker};
                    match cli.command {
                        Command::Worker(_) => run_worker(cfg, dev::shutdown_signal()).await,
                        Command::Results(_) => run_results(cfg, dev::shutdown_signal()).await,
                        _ => run_frontend(cfg, dev::shutdown_signal()).await,
                    }
                })
                .map(|_| true)
            })
        }
        other => {
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(anyhow::Error::from).and_then(
                |rt| {
                    rt.block_on(async {
                        match other {
                            Command::CreateStateMachine(a) => client::create_state_machine(ep, a).await.map(print),
                            Command::StartExecution(a) => client::start_execution(ep, a).await.map(print),
                            Command::StartSyncExecution(a) => client::start_sync_execution(ep, a).await.map(print),
                            Command::DescribeExecution(a) => client::describe_execution(ep, a).await.map(print),
                            Command::ListStateMachines(a) => client::list_state_machines(ep, a).await.map(print),
                            Command::Watch(a) => client::watch(ep, a, std::io::stdout()).await,
                            Command::Run(_)
                            | Command::Validate(_)
                            | Command::Dev(_)
                            | Command::Frontend(_)
                            | Command::Worker(_)
                            | Command::Results(_) => Ok(()),
                        }
                        .map(|_| true)
                    })
                },
            )
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) if e.downcast_ref::<client::ClientError>().is_some() => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
