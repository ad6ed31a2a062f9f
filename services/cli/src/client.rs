//! A command-line client in the habits of the AWS CLI: one subcommand per API call, JSON on
//! stdout with AWS's field names, `--endpoint` to choose the server.

use anyhow::{anyhow, bail, Context as _};
use expressway_proto::v1 as pb;
use serde_json::{json, Value};
use tonic::transport::Channel;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Endpoint {
    /// The Expressway server (`https://…` for TLS).
    #[arg(
        long,
        visible_alias = "endpoint-url",
        env = "EXPRESSWAY_ENDPOINT",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub endpoint: String,
    /// A bearer token for a server that authenticates its callers.
    #[arg(long, env = "EXPRESSWAY_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// The CA that signed the server's certificate (PEM; default: the system's roots).
    #[arg(long, env = "EXPRESSWAY_CA_FILE", global = true)]
    pub ca_file: Option<std::path::PathBuf>,
    /// A client certificate and key (PEM), for servers that require them (mutual TLS).
    #[arg(long, env = "EXPRESSWAY_CLIENT_CERT", global = true)]
    pub client_cert: Option<std::path::PathBuf>,
    #[arg(long, env = "EXPRESSWAY_CLIENT_KEY", global = true)]
    pub client_key: Option<std::path::PathBuf>,
}

/// Adds the bearer token to every call.
#[derive(Clone)]
pub struct Bearer(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

/// A connection to the API, as the flags describe it.
pub type Api = tonic::service::interceptor::InterceptedService<Channel, Bearer>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevelArg {
    #[value(name = "OFF")]
    Off,
    #[value(name = "ALL")]
    All,
    #[value(name = "ERROR")]
    Error,
    #[value(name = "FATAL")]
    Fatal,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[arg(long)]
    pub name: String,
    /// The definition: a file path, `@FILE`, or the JSON itself.
    #[arg(long)]
    pub definition: String,
    #[arg(long = "type", value_enum, default_value_t = crate::Type::Express)]
    pub machine_type: crate::Type,
    #[arg(long, value_enum, default_value_t = LogLevelArg::Off)]
    pub logging_level: LogLevelArg,
    #[arg(long)]
    pub include_execution_data: bool,
    /// Publish version 1 as well.
    #[arg(long)]
    pub publish: bool,
}

#[derive(Debug, clap::Args)]
pub struct StartArgs {
    #[arg(long)]
    pub state_machine_arn: String,
    #[arg(long)]
    pub name: Option<String>,
    /// The input: JSON, or `@FILE`.
    #[arg(long)]
    pub input: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DescribeExecutionArgs {
    #[arg(long)]
    pub execution_arn: String,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(long)]
    pub max_results: Option<i32>,
    #[arg(long)]
    pub next_token: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[arg(long)]
    pub state_machine_arn: Option<String>,
    #[arg(long)]
    pub execution_arn: Option<String>,
    /// Also print every history event (for state machines whose logging level keeps them).
    #[arg(long)]
    pub events: bool,
    /// Resume from a position printed earlier.
    #[arg(long)]
    pub from: Option<u64>,
    /// Stop after this many messages.
    #[arg(long)]
    pub count: Option<u64>,
}

/// A definition or input given inline, as `file://FILE` (as the AWS CLI reads it) or `@FILE`,
/// or (for definitions) as a plain path.
pub(crate) fn text_arg(v: &str, path_ok: bool) -> anyhow::Result<String> {
    if let Some(p) = v.strip_prefix("file://").or_else(|| v.strip_prefix('@')) {
        return std::fs::read_to_string(p).with_context(|| format!("cannot read {p}"));
    }
    if path_ok && !v.trim_start().starts_with('{') {
        return std::fs::read_to_string(v).with_context(|| format!("cannot read the definition file {v}"));
    }
    Ok(v.to_string())
}

fn iso(ts: Option<&prost_types::Timestamp>) -> Value {
    match ts {
        Some(t) => chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
            .map(|d| Value::String(d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
            .unwrap_or(Value::Null),
        None => Value::Null,
    }
}

pub async fn connect(ep: &Endpoint) -> anyhow::Result<Api> {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    let endpoint = &ep.endpoint;
    let mut channel =
        Channel::from_shared(endpoint.to_string()).map_err(|e| anyhow!("invalid endpoint {endpoint}: {e}"))?;
    if endpoint.starts_with("https://") {
        let read = |p: &std::path::PathBuf| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
        let mut tls = match &ep.ca_file {
            Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?)),
            None => ClientTlsConfig::new().with_native_roots(),
        };
        match (&ep.client_cert, &ep.client_key) {
            (Some(c), Some(k)) => tls = tls.identity(Identity::from_pem(read(c)?, read(k)?)),
            (None, None) => {}
            _ => bail!("--client-cert and --client-key go together"),
        }
        channel = channel.tls_config(tls).context("the TLS settings")?;
    }
    let channel = channel.connect().await.with_context(|| format!("cannot connect to {endpoint}"))?;
    let token = match &ep.token {
        Some(t) => Some(format!("Bearer {t}").parse().map_err(|_| anyhow!("the token must be printable ASCII"))?),
        None => None,
    };
    Ok(tonic::service::interceptor::InterceptedService::new(channel, Bearer(token)))
}

/// A gRPC error as the user should read it, with field violations (validation diagnostics).
pub fn describe_status(s: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    let mut out = format!("{:?}: {}", s.code(), s.message());
    if let Some(br) = s.get_details_bad_request() {
        for v in br.field_violations {
            out.push_str(&format!("\n  at {}: {}", v.field, v.description));
        }
    }
    out
}

fn status_name(s: i32) -> &'static str {
    match pb::ExecutionStatus::try_from(s) {
        Ok(pb::ExecutionStatus::Running) => "RUNNING",
        Ok(pb::ExecutionStatus::Succeeded) => "SUCCEEDED",
        Ok(pb::ExecutionStatus::Failed) => "FAILED",
        Ok(pb::ExecutionStatus::TimedOut) => "TIMED_OUT",
        Ok(pb::ExecutionStatus::Aborted) => "ABORTED",
        _ => "UNKNOWN",
    }
}

fn opt(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::String(s.to_string())
    }
}

/// Errors from the server come back as `ClientError::Status` so `main` can tell them from misuse.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{}", describe_status(.0))]
    Status(tonic::Status),
}

fn st(s: tonic::Status) -> anyhow::Error {
    anyhow::Error::new(ClientError::Status(s))
}

pub async fn create_state_machine(ep: &Endpoint, a: &CreateArgs) -> anyhow::Result<Value> {
    let definition = text_arg(&a.definition, true)?;
    let mut c = pb::state_machines_client::StateMachinesClient::new(connect(ep).await?);
    let level = match a.logging_level {
        LogLevelArg::Off => pb::LogLevel::Off,
        LogLevelArg::All => pb::LogLevel::All,
        LogLevelArg::Error => pb::LogLevel::Error,
        LogLevelArg::Fatal => pb::LogLevel::Fatal,
    };
    let r = c
        .create_state_machine(pb::CreateStateMachineRequest {
            name: a.name.clone(),
            definition,
            r#type: match a.machine_type {
                crate::Type::Express => pb::StateMachineType::Express,
                crate::Type::Standard => pb::StateMachineType::Standard,
            } as i32,
            logging_configuration: Some(pb::LoggingConfiguration {
                level: level as i32,
                include_execution_data: a.include_execution_data,
            }),
            tracing_configuration: None,
            tags: Vec::new(),
            publish: a.publish,
            version_description: String::new(),
        })
        .await
        .map_err(st)?
        .into_inner();
    Ok(json!({
        "stateMachineArn": r.state_machine_arn,
        "creationDate": iso(r.creation_date.as_ref()),
        "stateMachineVersionArn": opt(&r.state_machine_version_arn),
    }))
}

fn start_request(a: &StartArgs) -> anyhow::Result<pb::StartExecutionRequest> {
    let input = match &a.input {
        Some(i) => text_arg(i, false)?,
        None => "{}".into(),
    };
    if let Err(e) = serde_json::from_str::<Value>(&input) {
        bail!("the input is not valid JSON: {e}");
    }
    Ok(pb::StartExecutionRequest {
        state_machine_arn: a.state_machine_arn.clone(),
        name: a.name.clone().unwrap_or_default(),
        input,
        trace_header: String::new(),
    })
}

pub async fn start_execution(ep: &Endpoint, a: &StartArgs) -> anyhow::Result<Value> {
    let req = start_request(a)?;
    let mut c = pb::executions_client::ExecutionsClient::new(connect(ep).await?);
    let r = c.start_execution(req).await.map_err(st)?.into_inner();
    Ok(json!({"executionArn": r.execution_arn, "startDate": iso(r.start_date.as_ref())}))
}

pub async fn start_sync_execution(ep: &Endpoint, a: &StartArgs) -> anyhow::Result<Value> {
    let req = start_request(a)?;
    let mut c = pb::executions_client::ExecutionsClient::new(connect(ep).await?);
    let r = c.start_sync_execution(req).await.map_err(st)?.into_inner();
    Ok(json!({
        "executionArn": r.execution_arn,
        "stateMachineArn": r.state_machine_arn,
        "name": r.name,
        "startDate": iso(r.start_date.as_ref()),
        "stopDate": iso(r.stop_date.as_ref()),
        "status": status_name(r.status),
        "error": opt(&r.error),
        "cause": opt(&r.cause),
        "input": r.input,
        "output": opt(&r.output),
        "billingDetails": r.billing_details.map(|b| json!({
            "billedMemoryUsedInMB": b.billed_memory_used_in_mb,
            "billedDurationInMilliseconds": b.billed_duration_in_milliseconds,
        })),
    }))
}

pub async fn describe_execution(ep: &Endpoint, a: &DescribeExecutionArgs) -> anyhow::Result<Value> {
    let mut c = pb::executions_client::ExecutionsClient::new(connect(ep).await?);
    let r = c
        .describe_execution(pb::DescribeExecutionRequest { execution_arn: a.execution_arn.clone() })
        .await
        .map_err(st)?
        .into_inner();
    Ok(json!({
        "executionArn": r.execution_arn,
        "stateMachineArn": r.state_machine_arn,
        "name": r.name,
        "status": status_name(r.status),
        "startDate": iso(r.start_date.as_ref()),
        "stopDate": iso(r.stop_date.as_ref()),
        "input": r.input,
        "output": opt(&r.output),
        "error": opt(&r.error),
        "cause": opt(&r.cause),
        "stateMachineRevisionId": r.revision_id,
    }))
}

pub async fn list_state_machines(ep: &Endpoint, a: &ListArgs) -> anyhow::Result<Value> {
    let mut c = pb::state_machines_client::StateMachinesClient::new(connect(ep).await?);
    let r = c
        .list_state_machines(pb::ListStateMachinesRequest {
            max_results: a.max_results.unwrap_or(0),
            next_token: a.next_token.clone().unwrap_or_default(),
        })
        .await
        .map_err(st)?
        .into_inner();
    Ok(json!({
        "stateMachines": r.state_machines.iter().map(|m| json!({
            "stateMachineArn": m.state_machine_arn,
            "name": m.name,
            "type": if m.r#type == pb::StateMachineType::Standard as i32 { "STANDARD" } else { "EXPRESS" },
            "creationDate": iso(m.creation_date.as_ref()),
        })).collect::<Vec<_>>(),
        "nextToken": opt(&r.next_token),
    }))
}

/// Follow the results stream, printing one JSON line per message.
pub async fn watch(ep: &Endpoint, a: &WatchArgs, mut out: impl std::io::Write) -> anyhow::Result<()> {
    let mut c = pb::results_client::ResultsClient::new(connect(ep).await?);
    let mut stream = c
        .subscribe(pb::SubscribeRequest {
            state_machine_arn: a.state_machine_arn.clone().unwrap_or_default(),
            execution_arn: a.execution_arn.clone().unwrap_or_default(),
            statuses: Vec::new(),
            event_types: Vec::new(),
            all_events: a.events,
            from_position: a.from,
        })
        .await
        .map_err(st)?
        .into_inner();
    let mut seen = 0u64;
    while let Some(msg) = stream.message().await.map_err(st)? {
        let line = match msg.body {
            Some(pb::subscribe_response::Body::Outcome(o)) => json!({
                "position": msg.position,
                "executionArn": o.execution_arn,
                "stateMachineArn": o.state_machine_arn,
                "status": status_name(o.status),
                "output": opt(&o.output),
                "error": opt(&o.error),
                "cause": opt(&o.cause),
                "stopDate": iso(o.stop_date.as_ref()),
            }),
            Some(pb::subscribe_response::Body::Event(e)) => {
                let ev = e.event.unwrap_or_default();
                json!({
                    "position": msg.position,
                    "executionArn": e.execution_arn,
                    "event": {
                        "id": ev.id,
                        "type": ev.r#type,
                        "timestamp": iso(ev.timestamp.as_ref()),
                        "stateName": opt(&ev.state_name),
                        "details": serde_json::from_str::<Value>(&ev.details).unwrap_or(Value::Null),
                    },
                })
            }
            Some(pb::subscribe_response::Body::FellBehind(f)) => {
                json!({"position": msg.position, "fellBehind": {"skipped": f.skipped, "resumeFrom": f.resume_from}})
            }
            None => continue,
        };
        writeln!(out, "{line}")?;
        out.flush()?;
        seen += 1;
        if a.count.is_some_and(|c| seen >= c) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn definitions_and_inputs_come_inline_or_from_files_as_the_aws_cli_reads_them() {
        let dir = std::env::temp_dir().join(format!("xw-text-arg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("input.json");
        std::fs::write(&file, r#"{"from":"file"}"#).expect("write");
        let path = file.display().to_string();
        assert_eq!(text_arg(&format!("file://{path}"), false).expect("file://"), r#"{"from":"file"}"#);
        assert_eq!(text_arg(&format!("@{path}"), false).expect("@"), r#"{"from":"file"}"#);
        assert_eq!(text_arg(&path, true).expect("a plain path"), r#"{"from":"file"}"#);
        assert_eq!(text_arg(r#"{"inline":1}"#, false).expect("inline"), r#"{"inline":1}"#);
        let missing = text_arg("file:///nonexistent/x.json", false).expect_err("missing file");
        assert!(missing.to_string().contains("/nonexistent/x.json"), "{missing}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn endpoint_url_is_the_aws_cli_name_of_endpoint() {
        let cli =
            crate::Cli::try_parse_from(["expressway", "list-state-machines", "--endpoint-url", "http://10.0.0.1:1"])
                .expect("parses");
        assert_eq!(cli.endpoint.endpoint, "http://10.0.0.1:1");
    }
}
