//! The `expressway` command line: run one execution in-process (`run`), check a definition
//! (`validate`), serve everything in one process (`dev`, in [`dev`]), and call a server in the
//! habits of the AWS CLI ([`client`]).
//!
//! The client subcommands, one per operation of the API, are described by one table
//! ([`commands`]), sent by [`client`] and printed by [`output`] (`--query`, `--output`);
//! `completions` prints shell completions.
//!
//! `main.rs` only parses arguments and maps errors to exit codes;
//! [`execute`] starts telemetry (for serving commands) and runs a command on one runtime; the
//! logic is here so that tests can call it.
//! [`shutdown`] is how every serving command (`dev`, `frontend`, `worker`, `results`) stops.

pub mod client;
pub mod commands;
pub mod config;
pub mod dev;
pub mod distributed;
pub mod grpc;
pub mod health;
pub mod http;
pub mod output;
pub mod shutdown;
pub mod test_state;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use clap::{Parser, Subcommand, ValueEnum};
use expressway_asl::{
    DefinitionError, ExecutionInfo, Interpreter, Limits, MachineType, NoEvents, NoTasks, Outcome, StateMachine,
};
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(name = "expressway", version, about = "Run AWS Step Functions Express-style workflows")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub endpoint: client::Endpoint,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one execution in-process and print its outcome as one JSON line.
    Run(RunArgs),
    /// Validate a definition and print every diagnostic.
    Validate(ValidateArgs),
    /// Serve the whole API in one process with in-memory bus and stores (Ctrl-C drains and exits).
    Dev(dev::DevArgs),
    /// Distributed mode: serve the gRPC API on Kafka and Redis.
    Frontend(config::ServiceArgs),
    /// Distributed mode: run executions from Kafka as a member of the workers' group.
    Worker(config::ServiceArgs),
    /// Distributed mode: keep outcomes and execution events in Redis and serve subscribers.
    Results(config::ServiceArgs),
    /// Follow outcomes (and with --events, history events) live, one JSON line each.
    Watch(client::WatchArgs),
    /// Print a completion script for a shell (`source <(expressway completions bash)`).
    Completions(CompletionsArgs),
    /// The operations of the API, with the AWS CLI's names and flags.
    #[command(flatten)]
    Api(commands::ApiCall),
    /// Run one state alone (AWS's TestState) and print its output, status and next state.
    TestState(test_state::TestStateArgs),
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl Command {
    /// Whether the command serves until a signal (and logs while it does).
    pub fn serves(&self) -> bool {
        self.service().is_some()
    }

    /// The service a serving command runs (it names the process in traces).
    pub fn service(&self) -> Option<&'static str> {
        match self {
            Command::Dev(_) => Some("dev"),
            Command::Frontend(_) => Some("frontend"),
            Command::Worker(_) => Some("worker"),
            Command::Results(_) => Some("results"),
            _ => None,
        }
    }
}

/// Run `cli`'s command to its end. `Ok(false)`: it ran and its answer is negative (an invalid
/// definition); errors from a server's answer are [`client::ClientError`].
pub fn execute(cli: Cli) -> anyhow::Result<bool> {
    let runtime = if cli.command.serves() {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    };
    let ep = cli.endpoint;
    // Serving commands log, and export traces when OTEL_* says where; started on the
    // runtime, whose exporters it uses, and flushed once the command is over.
    let telemetry = match cli.command.service() {
        Some(service) => Some(runtime.block_on(async { expressway_telemetry::init(service) })?),
        None => None,
    };
    let done = runtime.block_on(async move {
        use distributed::{run_frontend, run_results, run_worker};
        match cli.command {
            Command::Run(a) => run(&a).await.map(|line| out(&line.to_string())),
            Command::Validate(a) => {
                let (text, ok) = validate(&a)?;
                out(&text);
                return Ok(ok);
            }
            Command::Dev(a) => {
                let listener = tokio::net::TcpListener::bind(a.listen)
                    .await
                    .map_err(|e| anyhow!("cannot listen on {}: {e}", a.listen))?;
                dev::serve(a, listener, shutdown::signal()).await
            }
            Command::Frontend(a) => run_frontend(config::Config::load(&a)?, shutdown::signal()).await,
            Command::Worker(a) => run_worker(config::Config::load(&a)?, shutdown::signal()).await,
            Command::Results(a) => run_results(config::Config::load(&a)?, shutdown::signal()).await,
            Command::Watch(a) => client::watch(&ep, &a, std::io::stdout()).await,
            Command::Completions(a) => {
                use clap::CommandFactory as _;
                let mut script = Vec::new();
                clap_complete::generate(a.shell, &mut Cli::command(), "expressway", &mut script);
                out(String::from_utf8_lossy(&script).trim_end());
                Ok(())
            }
            Command::Api(c) => {
                let (query, format) = (c.query()?, c.format()?);
                let answer = client::run(&ep, &c).await?;
                if let Some(text) = output::render_answer(answer, query.as_ref(), format)? {
                    out(&text);
                }
                Ok(())
            }
            Command::TestState(a) => test_state::test_state(&ep, &a).await.map(print),
        }
        .map(|()| true)
    });
    if let Some(t) = telemetry {
        t.shutdown();
    }
    done
}

fn print(v: Value) {
    out(&serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string()));
}

/// A line on stdout. A reader that went away (`expressway list-state-machines | head`) is
/// no error: the output is simply not wanted any more.
fn out(line: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The state machine definition (Amazon States Language, JSON).
    #[arg(long)]
    pub definition: PathBuf,
    /// The execution input (JSON). Defaults to `{}`.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Run the same execution N times and print throughput to stderr.
    #[arg(long, default_value_t = 1)]
    pub repeat: u64,
    /// Validate as this workflow type: EXPRESS rejects .sync, .waitForTaskToken, activities
    /// and DISTRIBUTED Map, as AWS does.
    #[arg(long = "type", value_enum, default_value_t = Type::Standard)]
    pub machine_type: Type,
    /// Execution time limit in seconds (Express: 300).
    #[arg(long, default_value_t = 300)]
    pub timeout_seconds: u64,
    #[command(flatten)]
    pub tasks: dev::TaskArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Type {
    #[value(name = "STANDARD", alias = "standard")]
    Standard,
    #[value(name = "EXPRESS", alias = "express")]
    Express,
}

impl From<Type> for MachineType {
    fn from(t: Type) -> Self {
        match t {
            Type::Standard => MachineType::Standard,
            Type::Express => MachineType::Express,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[arg(long)]
    pub definition: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[arg(long = "type", value_enum, default_value_t = Type::Standard)]
    pub machine_type: Type,
}

pub use expressway_worker::TokioClock;

fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read the {what} file {}", path.display()))
}

/// The JSON line printed for an outcome.
pub fn outcome_json(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Succeeded(v) => json!({"status": "SUCCEEDED", "output": v}),
        Outcome::Failed(e) => json!({"status": "FAILED", "error": e.error, "cause": e.cause}),
        Outcome::TimedOut(e) => json!({"status": "TIMED_OUT", "error": e.error, "cause": e.cause}),
        Outcome::Aborted => json!({"status": "ABORTED"}),
    }
}

pub fn invalid_json(e: &DefinitionError) -> Value {
    json!({"status": "INVALID_DEFINITION", "error": "InvalidDefinition", "cause": e.to_string()})
}

/// `expressway run`: returns the line to print on stdout.
pub async fn run(args: &RunArgs) -> anyhow::Result<Value> {
    let def = read(&args.definition, "definition")?;
    let (input, input_size_bound): (Value, usize) = match &args.input {
        Some(p) => {
            let text = read(p, "input")?;
            let input = serde_json::from_str(&text)
                .map_err(|e| anyhow!("the input file {} is not valid JSON: {e}", p.display()))?;
            (input, expressway_asl::exec::text_size_bound(&text))
        }
        None => (json!({}), 2),
    };
    let machine = match StateMachine::from_json_with(&def, args.machine_type.into()) {
        Ok(m) => m,
        Err(e) => return Ok(invalid_json(&e)),
    };
    let limits = Limits { execution_timeout: Some(Duration::from_secs(args.timeout_seconds)), ..Limits::default() };
    let tasks = args.tasks.load()?;
    let no_tasks = tasks.functions.is_empty() && tasks.http_allowlist.is_empty() && tasks.connections.is_empty();
    let invoker: Arc<dyn expressway_asl::TaskInvoker> = if no_tasks {
        Arc::new(NoTasks)
    } else {
        Arc::new(expressway_tasks::Integrations::new(tasks).map_err(|e| anyhow!(e))?)
    };
    let interp = Interpreter::new(invoker, Arc::new(TokioClock), limits);
    let repeat = args.repeat.max(1);
    let started = Instant::now();
    let mut last = None;
    const MACHINE: &str = "arn:aws:states:local:000000000000:stateMachine:cli";
    const EXECUTIONS: &str = "arn:aws:states:local:000000000000:express:cli:";
    let mut digits = itoa::Buffer::new();
    // Executions are named for what can see their names: the Context object and the task
    // integrations (told the execution's ARN). With neither, names would be built unseen.
    let named = machine.reads_context() || !no_tasks;
    let unnamed = ExecutionInfo { input_size_bound: Some(input_size_bound), ..ExecutionInfo::default() };
    for i in 0..repeat {
        let info = if named {
            let mut name = String::with_capacity(24);
            name.push_str("run-");
            name.push_str(digits.format(i));
            let mut execution_arn = String::with_capacity(EXECUTIONS.len() + name.len());
            execution_arn.push_str(EXECUTIONS);
            execution_arn.push_str(&name);
            Cow::Owned(ExecutionInfo {
                execution_arn,
                execution_name: name,
                state_machine_arn: MACHINE.into(),
                state_machine_name: "cli".into(),
                input_size_bound: Some(input_size_bound),
                ..ExecutionInfo::default()
            })
        } else {
            Cow::Borrowed(&unnamed)
        };
        last = Some(interp.execute_borrowed(&machine, &input, &info, &NoEvents).await);
    }
    if args.repeat > 1 {
        let secs = started.elapsed().as_secs_f64();
        eprintln!("executions={repeat} seconds={secs:.3} per_second={:.0}", repeat as f64 / secs);
    }
    let outcome = last.ok_or_else(|| anyhow!("no execution ran"))?;
    Ok(outcome_json(&outcome))
}

/// `expressway validate`: returns the text to print and whether the definition is valid.
pub fn validate(args: &ValidateArgs) -> anyhow::Result<(String, bool)> {
    let def = read(&args.definition, "definition")?;
    let diags = match StateMachine::from_json_with(&def, args.machine_type.into()) {
        Ok(_) => Vec::new(),
        Err(e) => e.diagnostics(),
    };
    let ok = diags.is_empty();
    let text = match args.format {
        Format::Json => json!({"result": if ok { "OK" } else { "FAIL" }, "diagnostics": diags}).to_string(),
        Format::Text if ok => "OK: the definition is valid".to_string(),
        Format::Text => diags.iter().map(|d| format!("ERROR {d}")).collect::<Vec<_>>().join("\n"),
    };
    Ok((text, ok))
}
