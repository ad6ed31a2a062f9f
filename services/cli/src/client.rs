//! A command-line client in the habits of the AWS CLI: one subcommand per operation
//! ([`crate::commands`]), JSON on stdout with AWS's member names, errors with AWS's exception
//! names, `--endpoint` (or `--endpoint-url`) to choose the server.
//!
//! It talks gRPC, the API every deployment serves (with TLS, mutual TLS and bearer tokens,
//! and the results stream that `watch` follows), and speaks AWS's shapes through the
//! frontend's own AWS encoding ([`expressway_frontend::aws::operations`]): the input built
//! from the flags is decoded into the request exactly as the AWS JSON protocol decodes a
//! request body, and the answer is encoded as that protocol encodes it. So there is one
//! description of AWS's shapes, and the CLI prints what an AWS SDK would receive (timestamps
//! shown in ISO 8601, as the AWS CLI shows them).

use anyhow::{anyhow, bail, Context as _};
use expressway_frontend::aws::operations::Operation;
use expressway_frontend::aws::AwsError;
use expressway_proto::v1 as pb;
use serde_json::{json, Value};
use tonic::transport::Channel;

use crate::commands::{ApiCall, Paging};

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

/// A failed call as the AWS CLI reports it: the AWS exception's name (from the status's
/// `ErrorInfo`, else from its code), the operation and the message; then the location of each
/// field violation (the diagnostics of an invalid definition).
fn describe_status(operation: &str, s: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    let exception = s
        .get_details_error_info()
        .filter(|i| i.domain == expressway_frontend::error::ERROR_DOMAIN)
        .map(|i| i.reason)
        .unwrap_or_else(|| exception_of(s.code()).to_string());
    let mut out = format!("An error occurred ({exception}) when calling the {operation} operation: {}", s.message());
    if let Some(br) = s.get_details_bad_request() {
        for v in br.field_violations {
            out.push_str(&format!("\n  at {}: {}", v.field, v.description));
        }
    }
    out
}

/// AWS's name for a status from a server that did not name it (a proxy, an interceptor).
fn exception_of(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Unauthenticated => "UnrecognizedClientException",
        Code::PermissionDenied => "AccessDeniedException",
        Code::NotFound => "ResourceNotFound",
        Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => "ConflictException",
        Code::InvalidArgument | Code::OutOfRange => "ValidationException",
        Code::ResourceExhausted => "ThrottlingException",
        Code::Unavailable => "ServiceUnavailable",
        Code::Unimplemented => "UnknownOperationException",
        _ => "InternalFailure",
    }
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

/// Errors of a call come back as `ClientError` so `main` can tell them from misuse.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused the call.
    #[error("{}", describe_status(.operation, .status))]
    Status { operation: &'static str, status: tonic::Status },
    /// The flags make an input the operation does not take.
    #[error("An error occurred ({}) when calling the {operation} operation: {error}", .error.kind().1)]
    Input { operation: &'static str, error: AwsError },
}

fn st(s: tonic::Status) -> anyhow::Error {
    anyhow::Error::new(ClientError::Status { operation: "Subscribe", status: s })
}

/// Call `O` with AWS's input `input`: decoded into the API's request as the AWS JSON protocol
/// decodes it, sent by `rpc`, and the answer encoded as that protocol encodes it.
async fn call<O, F, Fut>(input: Value, rpc: F) -> Result<Value, ClientError>
where
    O: Operation,
    F: FnOnce(O::Request) -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<O::Response>, tonic::Status>>,
{
    let request = O::decode(input).map_err(|error| ClientError::Input { operation: O::NAME, error })?;
    let response = rpc(request).await.map_err(|status| ClientError::Status { operation: O::NAME, status })?;
    Ok(O::output(response.into_inner()))
}

/// Send operation `name` with AWS's input `input` over `api`; AWS's output comes back.
pub async fn send(api: Api, name: &str, input: Value) -> Result<Value, ClientError> {
    use expressway_frontend::aws::operations as o;
    let mut sm = pb::state_machines_client::StateMachinesClient::new(api.clone());
    let mut ex = pb::executions_client::ExecutionsClient::new(api.clone());
    let mut rs = pb::results_client::ResultsClient::new(api);
    match name {
        o::CreateStateMachine::NAME => {
            call::<o::CreateStateMachine, _, _>(input, |r| async move { sm.create_state_machine(r).await }).await
        }
        o::DescribeStateMachine::NAME => {
            call::<o::DescribeStateMachine, _, _>(input, |r| async move { sm.describe_state_machine(r).await }).await
        }
        o::UpdateStateMachine::NAME => {
            call::<o::UpdateStateMachine, _, _>(input, |r| async move { sm.update_state_machine(r).await }).await
        }
        o::DeleteStateMachine::NAME => {
            call::<o::DeleteStateMachine, _, _>(input, |r| async move { sm.delete_state_machine(r).await }).await
        }
        o::ListStateMachines::NAME => {
            call::<o::ListStateMachines, _, _>(input, |r| async move { sm.list_state_machines(r).await }).await
        }
        o::DescribeStateMachineForExecution::NAME => {
            call::<o::DescribeStateMachineForExecution, _, _>(input, |r| async move {
                sm.describe_state_machine_for_execution(r).await
            })
            .await
        }
        o::TestState::NAME => call::<o::TestState, _, _>(input, |r| async move { sm.test_state(r).await }).await,
        o::ValidateStateMachineDefinition::NAME => {
            call::<o::ValidateStateMachineDefinition, _, _>(input, |r| async move {
                sm.validate_state_machine_definition(r).await
            })
            .await
        }
        o::PublishStateMachineVersion::NAME => {
            call::<o::PublishStateMachineVersion, _, _>(
                input,
                |r| async move { sm.publish_state_machine_version(r).await },
            )
            .await
        }
        o::ListStateMachineVersions::NAME => {
            call::<o::ListStateMachineVersions, _, _>(input, |r| async move { sm.list_state_machine_versions(r).await })
                .await
        }
        o::DeleteStateMachineVersion::NAME => {
            call::<o::DeleteStateMachineVersion, _, _>(
                input,
                |r| async move { sm.delete_state_machine_version(r).await },
            )
            .await
        }
        o::CreateStateMachineAlias::NAME => {
            call::<o::CreateStateMachineAlias, _, _>(input, |r| async move { sm.create_state_machine_alias(r).await })
                .await
        }
        o::DescribeStateMachineAlias::NAME => {
            call::<o::DescribeStateMachineAlias, _, _>(
                input,
                |r| async move { sm.describe_state_machine_alias(r).await },
            )
            .await
        }
        o::UpdateStateMachineAlias::NAME => {
            call::<o::UpdateStateMachineAlias, _, _>(input, |r| async move { sm.update_state_machine_alias(r).await })
                .await
        }
        o::DeleteStateMachineAlias::NAME => {
            call::<o::DeleteStateMachineAlias, _, _>(input, |r| async move { sm.delete_state_machine_alias(r).await })
                .await
        }
        o::ListStateMachineAliases::NAME => {
            call::<o::ListStateMachineAliases, _, _>(input, |r| async move { sm.list_state_machine_aliases(r).await })
                .await
        }
        o::TagResource::NAME => call::<o::TagResource, _, _>(input, |r| async move { sm.tag_resource(r).await }).await,
        o::UntagResource::NAME => {
            call::<o::UntagResource, _, _>(input, |r| async move { sm.untag_resource(r).await }).await
        }
        o::ListTagsForResource::NAME => {
            call::<o::ListTagsForResource, _, _>(input, |r| async move { sm.list_tags_for_resource(r).await }).await
        }
        o::StartExecution::NAME => {
            call::<o::StartExecution, _, _>(input, |r| async move { ex.start_execution(r).await }).await
        }
        o::StartSyncExecution::NAME => {
            call::<o::StartSyncExecution, _, _>(input, |r| async move { ex.start_sync_execution(r).await }).await
        }
        o::StopExecution::NAME => {
            call::<o::StopExecution, _, _>(input, |r| async move { ex.stop_execution(r).await }).await
        }
        o::DescribeExecution::NAME => {
            call::<o::DescribeExecution, _, _>(input, |r| async move { ex.describe_execution(r).await }).await
        }
        o::ListExecutions::NAME => {
            call::<o::ListExecutions, _, _>(input, |r| async move { ex.list_executions(r).await }).await
        }
        o::GetExecutionHistory::NAME => {
            call::<o::GetExecutionHistory, _, _>(input, |r| async move { rs.get_execution_history(r).await }).await
        }
        other => Err(ClientError::Input {
            operation: "Unknown",
            error: AwsError::UnknownOperation(format!("no such operation '{other}'")),
        }),
    }
}

/// Run a client subcommand: its input from the flags, every page unless one is asked for,
/// and the answer with timestamps as the AWS CLI prints them (ISO 8601).
pub async fn run(ep: &Endpoint, c: &ApiCall) -> anyhow::Result<Answer> {
    let input = c.input()?;
    let paging = c.paging()?;
    let api = connect(ep).await?;
    Ok(match (c.operation.pages, paging) {
        (Some(items), Some(paging)) => {
            let mut listing =
                all_pages(&paging, items, input, |input| send(api.clone(), c.operation.name, input)).await?;
            listing.pages = listing.pages.into_iter().map(iso_dates).collect();
            Answer::Pages(listing)
        }
        _ => Answer::One(iso_dates(send(api.clone(), c.operation.name, input).await?)),
    })
}

/// What a client subcommand got: one answer, or the pages of a paginated operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    One(Value),
    Pages(Listing),
}

/// The pages of a paginated operation as the AWS CLI keeps them: the first with the members
/// that are not items, the others with their items only, all cut to `--max-items`; and the
/// `NextToken` to resume from when items were left.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub items: &'static str,
    pub pages: Vec<Value>,
    pub resume: Option<String>,
}

impl Listing {
    /// The pages as one answer (what `--output json` prints): the items of every page, the
    /// first page's other members, then `NextToken`.
    pub fn joined(&self) -> Value {
        let mut all = Vec::new();
        let mut rest = serde_json::Map::new();
        for (i, page) in self.pages.iter().enumerate() {
            if let Value::Object(m) = page {
                for (k, v) in m {
                    match v {
                        Value::Array(a) if k == self.items => all.extend(a.iter().cloned()),
                        _ if i == 0 && k != self.items => {
                            rest.insert(k.clone(), v.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut out = serde_json::Map::new();
        out.insert(self.items.to_string(), Value::Array(all));
        out.extend(rest);
        if let Some(t) = &self.resume {
            out.insert("NextToken".to_string(), Value::String(t.clone()));
        }
        Value::Object(out)
    }
}

/// Every page of a paginated operation, as the AWS CLI pages: from `--starting-token`'s place,
/// at most `--max-items` items with a `NextToken` to resume from when more are left,
/// `--page-size` items per call.
pub async fn all_pages<F, Fut>(
    paging: &Paging,
    items: &'static str,
    mut input: Value,
    mut call: F,
) -> anyhow::Result<Listing>
where
    F: FnMut(Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ClientError>>,
{
    let (mut token, mut skip) = match &paging.starting_token {
        Some(t) => ResumeToken::decode(t),
        None => (input.get("nextToken").and_then(Value::as_str).map(str::to_string), 0),
    };
    if let Some(size) = paging.page_size {
        input["maxResults"] = json!(size);
    }
    let max = paging.max_items.map(|n| usize::try_from(n).unwrap_or(0));
    let mut pages = Vec::new();
    let mut total = 0usize;
    let mut resume = None;
    loop {
        match &token {
            Some(t) => input["nextToken"] = Value::String(t.clone()),
            None => {
                if let Value::Object(m) = &mut input {
                    m.remove("nextToken");
                }
            }
        }
        let mut page = call(input.clone()).await?;
        let next = match &mut page {
            Value::Object(m) => m.remove("nextToken").and_then(|t| t.as_str().map(str::to_string)),
            _ => None,
        };
        let mut got = match page.get_mut(items).map(Value::take) {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        if !pages.is_empty() {
            // Past the first page only the items count.
            page = json!({});
        }
        // Only the first page starts part-way, where the token left off.
        let skipped = std::mem::take(&mut skip);
        got.drain(..skipped.min(got.len()));
        let cut = max.is_some_and(|max| total + got.len() > max);
        if let (true, Some(max)) = (cut, max) {
            let keep = max - total;
            got.truncate(keep);
            resume = Some(ResumeToken { service: token.clone(), skip: Some(keep + skipped) });
        }
        total += got.len();
        page[items] = Value::Array(got);
        pages.push(page);
        if cut {
            break;
        }
        match next {
            None => break,
            Some(n) if max == Some(total) => {
                resume = Some(ResumeToken { service: Some(n), skip: None });
                break;
            }
            Some(n) if token.as_deref() == Some(n.as_str()) => {
                anyhow::bail!("the same next token was received twice: {n}")
            }
            Some(n) => token = Some(n),
        }
    }
    Ok(Listing { items, pages, resume: resume.map(|r| r.encode()) })
}

/// Where a cut-short listing resumes, in the AWS CLI's `NextToken` form: base64 of
/// `{"nextToken": "…", "boto_truncate_amount": N}` (the service's token for the page, and
/// how many of that page's items were printed already), so either CLI can resume the other's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeToken {
    pub service: Option<String>,
    pub skip: Option<usize>,
}

impl ResumeToken {
    pub fn encode(&self) -> String {
        use base64::Engine;
        // As Python's json.dumps writes it: ", " and ": " between members, non-ASCII escaped.
        let token = match &self.service {
            Some(t) => ascii_json(t),
            None => "null".to_string(),
        };
        let text = match self.skip {
            Some(n) => format!("{{\"nextToken\": {token}, \"boto_truncate_amount\": {n}}}"),
            None => format!("{{\"nextToken\": {token}}}"),
        };
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    /// The service token and the items to skip from a `--starting-token`: the form above, or
    /// the older `TOKEN___N`, or else the service's own token as it is (as the AWS CLI reads them).
    pub fn decode(given: &str) -> (Option<String>, usize) {
        use base64::Engine;
        let parsed = base64::engine::general_purpose::STANDARD
            .decode(given)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        if let Some(Value::Object(m)) = parsed {
            let skip = m.get("boto_truncate_amount").and_then(Value::as_u64).unwrap_or(0);
            let service = m.get("nextToken").and_then(Value::as_str).map(str::to_string);
            return (service, usize::try_from(skip).unwrap_or(usize::MAX));
        }
        // `TOKEN___N` splits in exactly two; anything else is the service's token whole.
        let old = match given.split("___").collect::<Vec<_>>().as_slice() {
            [t, n] => n.parse::<usize>().ok().map(|n| (*t, n)),
            _ => None,
        };
        let (service, skip) = old.unwrap_or((given, 0));
        ((service != "None").then(|| service.to_string()), skip)
    }
}

/// A JSON string with every character beyond ASCII escaped (`\u00e9`).
fn ascii_json(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in serde_json::to_string(s).unwrap_or_default().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// Timestamps (members named `…Date` and `timestamp`, epoch seconds on the wire) as the AWS
/// CLI prints them: ISO 8601 with microseconds and the offset.
pub fn iso_dates(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Number(n) if k.ends_with("Date") || k == "timestamp" => n
                            .as_f64()
                            .and_then(|s| chrono::DateTime::from_timestamp_micros((s * 1e6).round() as i64))
                            .map(|d| Value::String(d.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()))
                            .unwrap_or(Value::Number(n)),
                        v => iso_dates(v),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(iso_dates).collect()),
        v => v,
    }
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
    fn dates_print_as_the_aws_cli_prints_them() {
        let v = json!({"creationDate": 1767225600.5, "events": [{"timestamp": 1767225600, "id": 1}], "name": "x"});
        assert_eq!(
            iso_dates(v),
            json!({"creationDate": "2026-01-01T00:00:00.500000+00:00",
                   "events": [{"timestamp": "2026-01-01T00:00:00.000000+00:00", "id": 1}], "name": "x"})
        );
        assert_eq!(exception_of(tonic::Code::Unauthenticated), "UnrecognizedClientException");
    }

    #[test]
    fn definitions_and_inputs_come_inline_or_from_files_as_the_aws_cli_reads_them() {
        let dir = std::env::temp_dir().join(format!("xw-text-arg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("input.json");
        std::fs::write(&file, r#"{"from":"file"}"#).expect("write");
        let path = file.display().to_string();
        let document = crate::commands::document;
        assert_eq!(document(&format!("file://{path}"), false).expect("file://"), r#"{"from":"file"}"#);
        assert_eq!(document(&format!("@{path}"), false).expect("@"), r#"{"from":"file"}"#);
        assert_eq!(document(&path, true).expect("a plain path"), r#"{"from":"file"}"#);
        assert_eq!(document(r#"{"inline":1}"#, false).expect("inline"), r#"{"inline":1}"#);
        let missing = document("file:///nonexistent/x.json", false).expect_err("missing file");
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

    /// A service that pages `n` items (`maxResults` per page, 3 by default) with tokens that
    /// name the next offset, counting its calls.
    fn service(
        n: usize,
    ) -> (
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        impl FnMut(Value) -> std::future::Ready<Result<Value, ClientError>>,
    ) {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = calls.clone();
        let call = move |input: Value| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let from: usize = input["nextToken"].as_str().map_or(0, |t| t.trim_start_matches('t').parse().unwrap_or(0));
            let size = input["maxResults"].as_u64().map_or(3, |m| m as usize);
            let to = (from + size).min(n);
            let mut page = json!({"items": (from..to).collect::<Vec<_>>(), "nextToken": null, "kind": "x"});
            if to < n {
                page["nextToken"] = json!(format!("t{to}"));
            }
            std::future::ready(Ok(page))
        };
        (calls, call)
    }

    fn listed(paging: Paging, n: usize) -> (Value, usize) {
        let (calls, call) = service(n);
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let out = rt.block_on(all_pages(&paging, "items", json!({}), call)).expect("pages");
        (out.joined(), calls.load(std::sync::atomic::Ordering::Relaxed))
    }

    #[test]
    fn pages_are_joined_cut_at_max_items_and_resumed_from_the_next_token() {
        let all = |p: Paging| listed(p, 8);
        assert_eq!(all(Paging::default()), (json!({"items": [0, 1, 2, 3, 4, 5, 6, 7], "kind": "x"}), 3));
        let (out, calls) = all(Paging { page_size: Some(2), ..Paging::default() });
        assert_eq!((out["items"].clone(), calls), (json!([0, 1, 2, 3, 4, 5, 6, 7]), 4));
        // Cut inside the second page: its token, and how many of its items were printed.
        let (first, _) = all(Paging { max_items: Some(4), ..Paging::default() });
        assert_eq!(first["items"], json!([0, 1, 2, 3]));
        let token = first["NextToken"].as_str().expect("a NextToken").to_string();
        assert_eq!(ResumeToken::decode(&token), (Some("t3".to_string()), 1));
        let (second, _) = all(Paging { starting_token: Some(token), max_items: Some(3), ..Paging::default() });
        assert_eq!(second["items"], json!([4, 5, 6]));
        let token = second["NextToken"].as_str().expect("a NextToken").to_string();
        // Cut inside the first page read, which started part-way: the skip adds up.
        assert_eq!(ResumeToken::decode(&token), (Some("t6".to_string()), 1));
        let (rest, _) = all(Paging { starting_token: Some(token), ..Paging::default() });
        assert_eq!(rest, json!({"items": [7], "kind": "x"}));
        // Cut on a page's end: the service's token alone.
        let (edge, calls) = all(Paging { max_items: Some(3), ..Paging::default() });
        assert_eq!((edge["items"].clone(), calls), (json!([0, 1, 2]), 1));
        assert_eq!(ResumeToken::decode(edge["NextToken"].as_str().expect("token")), (Some("t3".to_string()), 0));
        // Cut in the very first page: no service token yet (null), as the AWS CLI writes it.
        let (head, _) = all(Paging { max_items: Some(1), ..Paging::default() });
        let text = String::from_utf8(
            base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                head["NextToken"].as_str().expect("token"),
            )
            .expect("base64"),
        )
        .expect("utf-8");
        assert_eq!(text, r#"{"nextToken": null, "boto_truncate_amount": 1}"#);
        assert_eq!(all(Paging { max_items: Some(8), ..Paging::default() }).0.get("NextToken"), None);
    }

    #[test]
    fn starting_tokens_are_read_as_the_aws_cli_reads_them() {
        let encoded = ResumeToken { service: Some("é/x".to_string()), skip: Some(2) }.encode();
        let text = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &encoded).expect("base64"),
        )
        .expect("utf-8");
        assert_eq!(text, r#"{"nextToken": "\u00e9/x", "boto_truncate_amount": 2}"#);
        assert_eq!(ResumeToken::decode(&encoded), (Some("é/x".to_string()), 2));
        assert_eq!(ResumeToken::decode("abc___3"), (Some("abc".to_string()), 3));
        assert_eq!(ResumeToken::decode("None___2"), (None, 2));
        assert_eq!(ResumeToken::decode("service-token"), (Some("service-token".to_string()), 0));
        assert_eq!(ResumeToken::decode("a___b___3"), (Some("a___b___3".to_string()), 0));
        assert_eq!(ResumeToken::decode("abc___x"), (Some("abc___x".to_string()), 0));
    }

    #[test]
    fn no_paginate_and_one_page_flags_are_not_mixed_with_the_pagination_flags() {
        let paging = |args: &[&str]| {
            let cli =
                crate::Cli::try_parse_from([&["expressway", "list-state-machines"], args].concat()).expect("parses");
            match cli.command {
                crate::Command::Api(c) => c.paging().map_err(|e| e.to_string()),
                other => panic!("not a client command: {other:?}"),
            }
        };
        assert_eq!(paging(&[]), Ok(Some(Paging::default())));
        assert_eq!(paging(&["--max-items", "2"]).expect("paging").expect("pages").max_items, Some(2));
        assert_eq!(paging(&["--no-paginate"]), Ok(None));
        assert_eq!(paging(&["--max-results", "5"]), Ok(None));
        assert_eq!(
            paging(&["--no-paginate", "--max-items", "2", "--page-size", "1"]),
            Err("Cannot specify --no-paginate along with pagination arguments: --page-size, --max-items".to_string())
        );
        assert!(paging(&["--next-token", "t", "--starting-token", "x"]).is_err());
    }
}
