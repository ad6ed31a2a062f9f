//! Each Step Functions operation in AWS's shapes: its input decoded from the request's JSON
//! (member names and types as the API reference gives them), the shared operation run
//! ([`crate::ops`]), and its output encoded with AWS's member names, timestamps as epoch
//! seconds (the SDKs parse them as such) and empty members left out.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use expressway_proto::v1 as pb;
use expressway_store::{arn, MetadataChange, StoreError};

use super::AwsError;
use crate::{ops, Call, Frontend, FrontendError};

/// Run operation `op` with the request body `body`.
pub async fn run(f: &Frontend, call: &Call, op: &str, body: &[u8]) -> Result<Value, AwsError> {
    match op {
        "CreateStateMachine" => create_state_machine(f, call, decode(body)?).await,
        "DescribeStateMachine" => describe_state_machine(f, call, decode(body)?).await,
        "UpdateStateMachine" => update_state_machine(f, call, decode(body)?).await,
        "DeleteStateMachine" => delete_state_machine(f, call, decode(body)?).await,
        "ListStateMachines" => list_state_machines(f, call, decode(body)?).await,
        "DescribeStateMachineForExecution" => describe_state_machine_for_execution(f, call, decode(body)?).await,
        "ValidateStateMachineDefinition" => validate_state_machine_definition(f, call, decode(body)?).await,
        "TestState" => test_state(f, call, decode(body)?).await,
        "StartExecution" => start_execution(f, call, decode(body)?).await,
        "StartSyncExecution" => start_sync_execution(f, call, decode(body)?).await,
        "StopExecution" => stop_execution(f, call, decode(body)?).await,
        "DescribeExecution" => describe_execution(f, call, decode(body)?).await,
        "ListExecutions" => list_executions(f, call, decode(body)?).await,
        "GetExecutionHistory" => get_execution_history(f, call, decode(body)?).await,
        "PublishStateMachineVersion" => publish_state_machine_version(f, call, decode(body)?).await,
        "CreateStateMachineAlias" => create_state_machine_alias(f, call, decode(body)?).await,
        "DescribeStateMachineAlias" => describe_state_machine_alias(f, call, decode(body)?).await,
        "ListStateMachineVersions" => list_state_machine_versions(f, call, decode(body)?).await,
        "ListStateMachineAliases" => list_state_machine_aliases(f, call, decode(body)?).await,
        "UpdateStateMachineAlias" => update_state_machine_alias(f, call, decode(body)?).await,
        "DeleteStateMachineAlias" => delete_state_machine_alias(f, call, decode(body)?).await,
        "ListTagsForResource" => list_tags_for_resource(f, call, decode(body)?).await,
        "TagResource" => tag_resource(f, call, decode(body)?).await,
        "UntagResource" => untag_resource(f, call, decode(body)?).await,
        other => Err(AwsError::UnknownOperation(format!("this server does not offer the operation '{other}'"))),
    }
}

/// The input shape from the body; an empty body is an input with no members.
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, AwsError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    serde_json::from_slice(body).map_err(|e| AwsError::Serialization(format!("cannot read the request: {e}")))
}

fn required(value: Option<String>, member: &str) -> Result<String, AwsError> {
    value.ok_or_else(|| AwsError::missing(member))
}

/// Seconds since the epoch, with milliseconds as the fraction.
fn seconds(t: Option<prost_types::Timestamp>) -> Value {
    match t {
        Some(t) => json!(t.seconds as f64 + f64::from(t.nanos) / 1e9),
        None => Value::Null,
    }
}

/// An object of the members that have a value (null and empty strings left out).
fn object(members: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in members {
        match &v {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            _ => {
                m.insert(k.to_string(), v);
            }
        }
    }
    Value::Object(m)
}

fn max_results(n: Option<i64>) -> Result<i32, AwsError> {
    match n {
        None => Ok(0),
        Some(n) if (0..=1000).contains(&n) => Ok(n as i32),
        Some(n) => Err(AwsError::Validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
        ))),
    }
}

fn kind_from_aws(t: Option<&str>) -> Result<i32, AwsError> {
    Ok(match t {
        // Expressway runs Express workflows: an unnamed type is EXPRESS, as on gRPC.
        None | Some("EXPRESS") => pb::StateMachineType::Express as i32,
        Some("STANDARD") => pb::StateMachineType::Standard as i32,
        Some(other) => {
            return Err(AwsError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
            )))
        }
    })
}

fn kind_to_aws(t: i32) -> &'static str {
    match pb::StateMachineType::try_from(t) {
        Ok(pb::StateMachineType::Standard) => "STANDARD",
        _ => "EXPRESS",
    }
}

fn status_to_aws(s: i32) -> &'static str {
    match pb::ExecutionStatus::try_from(s) {
        Ok(pb::ExecutionStatus::Succeeded) => "SUCCEEDED",
        Ok(pb::ExecutionStatus::Failed) => "FAILED",
        Ok(pb::ExecutionStatus::TimedOut) => "TIMED_OUT",
        Ok(pb::ExecutionStatus::Aborted) => "ABORTED",
        _ => "RUNNING",
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Logging {
    level: Option<String>,
    #[serde(default)]
    include_execution_data: bool,
    // `destinations` (CloudWatch Logs groups) are accepted and not used.
}

fn logging_from_aws(l: Option<Logging>) -> Result<Option<pb::LoggingConfiguration>, AwsError> {
    let Some(l) = l else { return Ok(None) };
    let level = match l.level.as_deref() {
        None | Some("OFF") => pb::LogLevel::Off,
        Some("ALL") => pb::LogLevel::All,
        Some("ERROR") => pb::LogLevel::Error,
        Some("FATAL") => pb::LogLevel::Fatal,
        Some(other) => {
            return Err(AwsError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'loggingConfiguration.level' failed to satisfy constraint: Member must satisfy enum value set: [ALL, ERROR, FATAL, OFF]"
            )))
        }
    };
    Ok(Some(pb::LoggingConfiguration { level: level as i32, include_execution_data: l.include_execution_data }))
}

fn logging_to_aws(l: Option<pb::LoggingConfiguration>) -> Value {
    let l = l.unwrap_or_default();
    let level = match pb::LogLevel::try_from(l.level) {
        Ok(pb::LogLevel::All) => "ALL",
        Ok(pb::LogLevel::Error) => "ERROR",
        Ok(pb::LogLevel::Fatal) => "FATAL",
        _ => "OFF",
    };
    json!({ "level": level, "includeExecutionData": l.include_execution_data })
}

#[derive(Deserialize)]
struct Tracing {
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

/// Expressway does not assume IAM roles; its answers name this one where AWS names the role.
fn role_arn(f: &Frontend) -> String {
    format!("arn:aws:iam::{}:role/expressway", f.config.partition.account)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStateMachineInput {
    name: Option<String>,
    definition: Option<String>,
    // `roleArn` is accepted and not used: Expressway assumes no IAM roles.
    r#type: Option<String>,
    logging_configuration: Option<Logging>,
    tracing_configuration: Option<Tracing>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    version_description: String,
}

async fn create_state_machine(f: &Frontend, call: &Call, i: CreateStateMachineInput) -> Result<Value, AwsError> {
    let req = pb::CreateStateMachineRequest {
        name: required(i.name, "name")?,
        definition: required(i.definition, "definition")?,
        r#type: kind_from_aws(i.r#type.as_deref())?,
        logging_configuration: logging_from_aws(i.logging_configuration)?,
        tracing_configuration: i.tracing_configuration.map(|t| pb::TracingConfiguration { enabled: t.enabled }),
        tags: i.tags.into_iter().map(|t| pb::Tag { key: t.key, value: t.value }).collect(),
        publish: i.publish,
        version_description: i.version_description,
    };
    let out = ops::create_state_machine(f, call, req).await?;
    Ok(object(vec![
        ("stateMachineArn", json!(out.state_machine_arn)),
        ("creationDate", seconds(out.creation_date)),
        ("stateMachineVersionArn", json!(out.state_machine_version_arn)),
    ]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateMachineArnInput {
    state_machine_arn: Option<String>,
}

async fn describe_state_machine(f: &Frontend, call: &Call, i: StateMachineArnInput) -> Result<Value, AwsError> {
    let req = pb::DescribeStateMachineRequest { state_machine_arn: required(i.state_machine_arn, "stateMachineArn")? };
    let out = ops::describe_state_machine(f, call, req).await?;
    Ok(object(vec![
        ("stateMachineArn", json!(out.state_machine_arn)),
        ("name", json!(out.name)),
        ("status", json!(out.status)),
        ("definition", json!(out.definition)),
        ("roleArn", json!(role_arn(f))),
        ("type", json!(kind_to_aws(out.r#type))),
        ("creationDate", seconds(out.creation_date)),
        ("loggingConfiguration", logging_to_aws(out.logging_configuration)),
        ("tracingConfiguration", json!({ "enabled": out.tracing_configuration.is_some_and(|t| t.enabled) })),
        ("revisionId", json!(out.revision_id)),
        ("description", json!(out.description)),
    ]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateStateMachineInput {
    state_machine_arn: Option<String>,
    definition: Option<String>,
    logging_configuration: Option<Logging>,
    tracing_configuration: Option<Tracing>,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    version_description: String,
}

async fn update_state_machine(f: &Frontend, call: &Call, i: UpdateStateMachineInput) -> Result<Value, AwsError> {
    let req = pb::UpdateStateMachineRequest {
        state_machine_arn: required(i.state_machine_arn, "stateMachineArn")?,
        definition: i.definition,
        logging_configuration: logging_from_aws(i.logging_configuration)?,
        tracing_configuration: i.tracing_configuration.map(|t| pb::TracingConfiguration { enabled: t.enabled }),
        publish: i.publish,
        version_description: i.version_description,
    };
    let out = ops::update_state_machine(f, call, req).await?;
    Ok(object(vec![
        ("updateDate", seconds(out.update_date)),
        ("revisionId", json!(out.revision_id)),
        ("stateMachineVersionArn", json!(out.state_machine_version_arn)),
    ]))
}

async fn delete_state_machine(f: &Frontend, call: &Call, i: StateMachineArnInput) -> Result<Value, AwsError> {
    let req = pb::DeleteStateMachineRequest { state_machine_arn: required(i.state_machine_arn, "stateMachineArn")? };
    ops::delete_state_machine(f, call, req).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

async fn list_state_machines(f: &Frontend, call: &Call, i: PageInput) -> Result<Value, AwsError> {
    let req = pb::ListStateMachinesRequest {
        max_results: max_results(i.max_results)?,
        next_token: i.next_token.unwrap_or_default(),
    };
    let out = ops::list_state_machines(f, call, req).await?;
    let items: Vec<Value> = out
        .state_machines
        .into_iter()
        .map(|m| {
            object(vec![
                ("stateMachineArn", json!(m.state_machine_arn)),
                ("name", json!(m.name)),
                ("type", json!(kind_to_aws(m.r#type))),
                ("creationDate", seconds(m.creation_date)),
            ])
        })
        .collect();
    Ok(object(vec![("stateMachines", json!(items)), ("nextToken", json!(out.next_token))]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionArnInput {
    execution_arn: Option<String>,
}

async fn describe_state_machine_for_execution(
    f: &Frontend,
    call: &Call,
    i: ExecutionArnInput,
) -> Result<Value, AwsError> {
    let execution_arn = required(i.execution_arn, "executionArn")?;
    let (machine_arn, revision, updated_ms) = ops::state_machine_for_execution(f, call, &execution_arn).await?;
    let name = arn::parse_state_machine(&machine_arn).map(|r| r.name).unwrap_or_default();
    Ok(object(vec![
        ("stateMachineArn", json!(machine_arn)),
        ("name", json!(name)),
        ("definition", json!(revision.definition)),
        ("roleArn", json!(role_arn(f))),
        ("updateDate", seconds(Some(crate::convert::timestamp(updated_ms)))),
        ("loggingConfiguration", logging_to_aws(Some(crate::convert::logging_to_pb(&revision.logging)))),
        ("tracingConfiguration", json!({ "enabled": revision.tracing })),
        ("revisionId", json!(revision.revision_id)),
    ]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateInput {
    definition: Option<String>,
    r#type: Option<String>,
    severity: Option<String>,
    max_results: Option<i64>,
}

fn not_in_enum(value: &str, member: &str, set: &str) -> AwsError {
    AwsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{set}]"
    ))
}

#[derive(Deserialize)]
struct MockErrorInput {
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MockInput {
    result: Option<String>,
    error_output: Option<MockErrorInput>,
    field_validation_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateConfigurationInput {
    retrier_retry_count: Option<u32>,
    error_caused_by_state: Option<String>,
    map_iteration_failure_count: Option<u32>,
    map_item_reader_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestStateInput {
    definition: Option<String>,
    role_arn: Option<String>,
    input: Option<String>,
    inspection_level: Option<String>,
    #[serde(default)]
    reveal_secrets: bool,
    variables: Option<String>,
    state_name: Option<String>,
    mock: Option<MockInput>,
    context: Option<String>,
    state_configuration: Option<StateConfigurationInput>,
}

/// A member of `inspectionData`: JSON text, left out when empty.
fn inspection(d: pb::InspectionData) -> Value {
    let text = |s: String| if s.is_empty() { Value::Null } else { Value::String(s) };
    object(vec![
        ("input", text(d.input)),
        ("afterInputPath", text(d.after_input_path)),
        ("afterParameters", text(d.after_parameters)),
        ("afterArguments", text(d.after_arguments)),
        ("result", text(d.result)),
        ("afterResultSelector", text(d.after_result_selector)),
        ("afterResultPath", text(d.after_result_path)),
        ("variables", text(d.variables)),
        (
            "errorDetails",
            d.error_details.map_or(Value::Null, |e| {
                object(vec![
                    ("catchIndex", json!(e.catch_index)),
                    ("retryIndex", json!(e.retry_index)),
                    ("retryBackoffIntervalSeconds", json!(e.retry_backoff_interval_seconds)),
                ])
            }),
        ),
        ("afterItemsPath", text(d.after_items_path)),
        ("afterItemSelector", text(d.after_item_selector)),
        ("afterItemBatcher", text(d.after_item_batcher)),
        ("toleratedFailureCount", json!(d.tolerated_failure_count)),
        ("toleratedFailurePercentage", json!(d.tolerated_failure_percentage)),
        ("maxConcurrency", json!(d.max_concurrency)),
        (
            "request",
            d.request.map_or(Value::Null, |r| {
                object(vec![
                    ("protocol", json!(r.protocol)),
                    ("method", json!(r.method)),
                    ("url", json!(r.url)),
                    ("headers", json!(r.headers)),
                    ("body", json!(r.body)),
                ])
            }),
        ),
        (
            "response",
            d.response.map_or(Value::Null, |r| {
                object(vec![
                    ("protocol", json!(r.protocol)),
                    ("statusCode", json!(r.status_code)),
                    ("statusMessage", json!(r.status_message)),
                    ("headers", json!(r.headers)),
                    ("body", json!(r.body)),
                ])
            }),
        ),
    ])
}

async fn test_state(f: &Frontend, call: &Call, i: TestStateInput) -> Result<Value, AwsError> {
    let inspection_level = match i.inspection_level.as_deref() {
        None | Some("INFO") => pb::InspectionLevel::Info,
        Some("DEBUG") => pb::InspectionLevel::Debug,
        Some("TRACE") => pb::InspectionLevel::Trace,
        Some(other) => return Err(not_in_enum(other, "inspectionLevel", "INFO, DEBUG, TRACE")),
    };
    let mock = match i.mock {
        None => None,
        Some(m) => Some(pb::MockInput {
            result: m.result,
            error_output: m.error_output.map(|e| pb::MockErrorOutput {
                error: e.error.unwrap_or_default(),
                cause: e.cause.unwrap_or_default(),
            }),
            field_validation_mode: match m.field_validation_mode.as_deref() {
                None | Some("STRICT") => pb::FieldValidationMode::Strict,
                Some("PRESENT") => pb::FieldValidationMode::Present,
                Some("NONE") => pb::FieldValidationMode::None,
                Some(other) => return Err(not_in_enum(other, "mock.fieldValidationMode", "STRICT, PRESENT, NONE")),
            } as i32,
        }),
    };
    let req = pb::TestStateRequest {
        definition: required(i.definition, "definition")?,
        role_arn: i.role_arn.unwrap_or_default(),
        input: i.input.unwrap_or_default(),
        inspection_level: inspection_level as i32,
        reveal_secrets: i.reveal_secrets,
        variables: i.variables.unwrap_or_default(),
        state_name: i.state_name.unwrap_or_default(),
        mock,
        context: i.context.unwrap_or_default(),
        state_configuration: i.state_configuration.map(|c| pb::TestStateConfiguration {
            retrier_retry_count: c.retrier_retry_count,
            error_caused_by_state: c.error_caused_by_state.unwrap_or_default(),
            map_iteration_failure_count: c.map_iteration_failure_count,
            map_item_reader_data: c.map_item_reader_data.unwrap_or_default(),
        }),
    };
    let out = ops::test_state(f, call, req).await?;
    Ok(object(vec![
        ("output", json!(out.output)),
        ("error", json!(out.error)),
        ("cause", json!(out.cause)),
        ("inspectionData", out.inspection_data.map_or(Value::Null, inspection)),
        ("nextState", json!(out.next_state)),
        ("status", json!(out.status)),
    ]))
}

async fn validate_state_machine_definition(f: &Frontend, call: &Call, i: ValidateInput) -> Result<Value, AwsError> {
    let req = pb::ValidateStateMachineDefinitionRequest {
        definition: required(i.definition, "definition")?,
        r#type: kind_from_aws(i.r#type.as_deref())?,
    };
    if let Some(s) = i.severity.as_deref().filter(|s| !["ERROR", "WARNING"].contains(s)) {
        return Err(AwsError::Validation(format!(
            "1 validation error detected: Value '{s}' at 'severity' failed to satisfy constraint: Member must satisfy enum value set: [ERROR, WARNING]"
        )));
    }
    // Every diagnostic Expressway reports is an ERROR, so any severity filter keeps them all.
    let limit = match max_results(i.max_results)? {
        0 => 100,
        n => n as usize,
    };
    let out = ops::validate_state_machine_definition(f, call, req).await?;
    let truncated = out.diagnostics.len() > limit;
    let diagnostics: Vec<Value> = out
        .diagnostics
        .into_iter()
        .take(limit)
        .map(|d| {
            object(vec![
                ("severity", json!(d.severity)),
                ("code", json!(d.code)),
                ("message", json!(d.message)),
                ("location", json!(d.location)),
            ])
        })
        .collect();
    Ok(json!({ "result": out.result, "diagnostics": diagnostics, "truncated": truncated }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartInput {
    state_machine_arn: Option<String>,
    name: Option<String>,
    input: Option<String>,
    trace_header: Option<String>,
}

impl StartInput {
    fn into_pb(self) -> Result<pb::StartExecutionRequest, AwsError> {
        Ok(pb::StartExecutionRequest {
            state_machine_arn: required(self.state_machine_arn, "stateMachineArn")?,
            name: self.name.unwrap_or_default(),
            input: self.input.unwrap_or_default(),
            trace_header: self.trace_header.unwrap_or_default(),
        })
    }
}

async fn start_execution(f: &Frontend, call: &Call, i: StartInput) -> Result<Value, AwsError> {
    let out = ops::start_execution(f, call, i.into_pb()?).await?;
    Ok(object(vec![("executionArn", json!(out.execution_arn)), ("startDate", seconds(out.start_date))]))
}

async fn start_sync_execution(f: &Frontend, call: &Call, i: StartInput) -> Result<Value, AwsError> {
    let trace_header = i.trace_header.clone().unwrap_or_default();
    let out = ops::start_sync_execution(f, call, i.into_pb()?).await?;
    let status = status_to_aws(out.status);
    Ok(object(vec![
        ("executionArn", json!(out.execution_arn)),
        ("stateMachineArn", json!(out.state_machine_arn)),
        ("name", json!(out.name)),
        ("startDate", seconds(out.start_date)),
        ("stopDate", seconds(out.stop_date)),
        ("status", json!(status)),
        ("error", json!(out.error)),
        ("cause", json!(out.cause)),
        ("input", json!(out.input)),
        ("inputDetails", json!({ "included": true })),
        // A failed execution has no output; AWS leaves the member out.
        ("output", if status == "SUCCEEDED" { json!(out.output) } else { Value::Null }),
        ("outputDetails", if status == "SUCCEEDED" { json!({ "included": true }) } else { Value::Null }),
        ("traceHeader", json!(trace_header)),
        (
            "billingDetails",
            out.billing_details.map_or(Value::Null, |b| {
                json!({
                    "billedMemoryUsedInMB": b.billed_memory_used_in_mb,
                    "billedDurationInMilliseconds": b.billed_duration_in_milliseconds,
                })
            }),
        ),
    ]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopInput {
    execution_arn: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

async fn stop_execution(f: &Frontend, call: &Call, i: StopInput) -> Result<Value, AwsError> {
    let req = pb::StopExecutionRequest {
        execution_arn: required(i.execution_arn, "executionArn")?,
        error: i.error.unwrap_or_default(),
        cause: i.cause.unwrap_or_default(),
    };
    let out = ops::stop_execution(f, call, req).await?;
    Ok(object(vec![("stopDate", seconds(out.stop_date))]))
}

async fn describe_execution(f: &Frontend, call: &Call, i: ExecutionArnInput) -> Result<Value, AwsError> {
    let req = pb::DescribeExecutionRequest { execution_arn: required(i.execution_arn, "executionArn")? };
    let out = ops::describe_execution(f, call, req).await?;
    let status = status_to_aws(out.status);
    Ok(object(vec![
        ("executionArn", json!(out.execution_arn)),
        ("stateMachineArn", json!(out.state_machine_arn)),
        ("name", json!(out.name)),
        ("status", json!(status)),
        ("startDate", seconds(out.start_date)),
        ("stopDate", seconds(out.stop_date)),
        ("input", json!(out.input)),
        ("inputDetails", json!({ "included": true })),
        ("output", if status == "SUCCEEDED" { json!(out.output) } else { Value::Null }),
        ("outputDetails", if status == "SUCCEEDED" { json!({ "included": true }) } else { Value::Null }),
        ("error", json!(out.error)),
        ("cause", json!(out.cause)),
    ]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListExecutionsInput {
    state_machine_arn: Option<String>,
}

/// AWS does not list Express executions (`StateMachineTypeNotSupported`), and Expressway
/// keeps no index of them: the state machine is looked up, then the same answer.
async fn list_executions(f: &Frontend, call: &Call, i: ListExecutionsInput) -> Result<Value, AwsError> {
    let state_machine_arn = required(i.state_machine_arn, "stateMachineArn")?;
    ops::describe_state_machine(f, call, pb::DescribeStateMachineRequest { state_machine_arn }).await?;
    Err(AwsError::TypeNotSupported("This operation is not supported by this type of state machine".into()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryInput {
    execution_arn: Option<String>,
    max_results: Option<i64>,
    #[serde(default)]
    reverse_order: bool,
    next_token: Option<String>,
    include_execution_data: Option<bool>,
}

/// The member of AWS's `HistoryEvent` that holds the details of an event of type `ty`, if
/// that type has one.
fn details_member(ty: &str) -> Option<String> {
    if ty.ends_with("StateEntered") {
        return Some("stateEnteredEventDetails".into());
    }
    if ty.ends_with("StateExited") {
        return Some("stateExitedEventDetails".into());
    }
    if ty.starts_with("Parallel") || (ty.starts_with("MapState") && ty != "MapStateStarted") {
        return None;
    }
    let mut chars = ty.chars();
    let first = chars.next()?;
    Some(format!("{}{}EventDetails", first.to_ascii_lowercase(), chars.as_str()))
}

fn history_event(e: pb::HistoryEvent, include_data: bool) -> Value {
    let mut event = Map::new();
    event.insert("timestamp".into(), seconds(e.timestamp));
    event.insert("type".into(), json!(e.r#type));
    event.insert("id".into(), json!(e.id));
    event.insert("previousEventId".into(), json!((e.id - 1).max(0)));
    if let Some(member) = details_member(&e.r#type) {
        let mut details = match serde_json::from_str::<Value>(&e.details) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        // Inputs and outputs travel as JSON text, as AWS sends them.
        for key in ["input", "output"] {
            match details.get(key).cloned() {
                Some(_) if !include_data => {
                    details.remove(key);
                }
                Some(v) if !v.is_string() => {
                    details.insert(key.into(), json!(v.to_string()));
                }
                _ => {}
            }
        }
        if !e.state_name.is_empty() {
            details.insert("name".into(), json!(e.state_name));
        }
        event.insert(member, Value::Object(details));
    }
    Value::Object(event)
}

async fn get_execution_history(f: &Frontend, call: &Call, i: HistoryInput) -> Result<Value, AwsError> {
    let req = pb::GetExecutionHistoryRequest {
        execution_arn: required(i.execution_arn, "executionArn")?,
        max_results: match max_results(i.max_results)? {
            0 => 100,
            n => n,
        },
        reverse_order: i.reverse_order,
        next_token: i.next_token.unwrap_or_default(),
    };
    let out = ops::get_execution_history(f.auth.as_deref(), &*f.executions, call, req).await?;
    let include = i.include_execution_data.unwrap_or(true);
    let events: Vec<Value> = out.events.into_iter().map(|e| history_event(e, include)).collect();
    Ok(object(vec![("events", json!(events)), ("nextToken", json!(out.next_token))]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublishInput {
    state_machine_arn: Option<String>,
    revision_id: Option<String>,
    description: Option<String>,
}

async fn publish_state_machine_version(f: &Frontend, call: &Call, i: PublishInput) -> Result<Value, AwsError> {
    let req = pb::PublishStateMachineVersionRequest {
        state_machine_arn: required(i.state_machine_arn, "stateMachineArn")?,
        revision_id: i.revision_id.unwrap_or_default(),
        description: i.description.unwrap_or_default(),
    };
    let out = ops::publish_state_machine_version(f, call, req).await?;
    Ok(object(vec![
        ("creationDate", seconds(out.creation_date)),
        ("stateMachineVersionArn", json!(out.state_machine_version_arn)),
    ]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Route {
    state_machine_version_arn: String,
    weight: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAliasInput {
    name: Option<String>,
    description: Option<String>,
    routing_configuration: Option<Vec<Route>>,
}

async fn create_state_machine_alias(f: &Frontend, call: &Call, i: CreateAliasInput) -> Result<Value, AwsError> {
    let req = pb::CreateStateMachineAliasRequest {
        name: required(i.name, "name")?,
        description: i.description.unwrap_or_default(),
        routing_configuration: i
            .routing_configuration
            .ok_or_else(|| AwsError::missing("routingConfiguration"))?
            .into_iter()
            .map(|r| pb::RoutingConfiguration {
                state_machine_version_arn: r.state_machine_version_arn,
                weight: r.weight,
            })
            .collect(),
    };
    let out = ops::create_state_machine_alias(f, call, req).await?;
    Ok(object(vec![
        ("stateMachineAliasArn", json!(out.state_machine_alias_arn)),
        ("creationDate", seconds(out.creation_date)),
    ]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AliasArnInput {
    state_machine_alias_arn: Option<String>,
}

async fn describe_state_machine_alias(f: &Frontend, call: &Call, i: AliasArnInput) -> Result<Value, AwsError> {
    let alias_arn = required(i.state_machine_alias_arn, "stateMachineAliasArn")?;
    let (alias, routes) = ops::describe_state_machine_alias(f, call, &alias_arn).await?;
    let created = seconds(Some(crate::convert::timestamp(alias.created_ms)));
    let routes: Vec<Value> =
        routes.into_iter().map(|(v, w)| json!({ "stateMachineVersionArn": v, "weight": w })).collect();
    Ok(object(vec![
        ("stateMachineAliasArn", json!(alias.arn)),
        ("name", json!(alias.name)),
        ("description", json!(alias.description)),
        ("routingConfiguration", json!(routes)),
        ("creationDate", created.clone()),
        // Records from before updates were kept say nothing: created is their last change.
        (
            "updateDate",
            if alias.updated_ms > 0 { seconds(Some(crate::convert::timestamp(alias.updated_ms))) } else { created },
        ),
    ]))
}

fn routes_to_pb(routes: Vec<Route>) -> Vec<pb::RoutingConfiguration> {
    routes
        .into_iter()
        .map(|r| pb::RoutingConfiguration { state_machine_version_arn: r.state_machine_version_arn, weight: r.weight })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateAliasInput {
    state_machine_alias_arn: Option<String>,
    description: Option<String>,
    routing_configuration: Option<Vec<Route>>,
}

async fn update_state_machine_alias(f: &Frontend, call: &Call, i: UpdateAliasInput) -> Result<Value, AwsError> {
    let alias_arn = required(i.state_machine_alias_arn, "stateMachineAliasArn")?;
    let routes = i.routing_configuration.map(routes_to_pb);
    let updated = ops::update_state_machine_alias(f, call, &alias_arn, i.description, routes).await?;
    Ok(json!({ "updateDate": seconds(Some(crate::convert::timestamp(updated))) }))
}

async fn delete_state_machine_alias(f: &Frontend, call: &Call, i: AliasArnInput) -> Result<Value, AwsError> {
    let alias_arn = required(i.state_machine_alias_arn, "stateMachineAliasArn")?;
    ops::delete_state_machine_alias(f, call, &alias_arn).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagInput {
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}

async fn tag_resource(f: &Frontend, call: &Call, i: TagInput) -> Result<Value, AwsError> {
    let arn = required(i.resource_arn, "resourceArn")?;
    let tags = i.tags.ok_or_else(|| AwsError::missing("tags"))?.into_iter().map(|t| (t.key, t.value)).collect();
    ops::change_tags(f, call, &arn, MetadataChange::Tag(tags)).await.map_err(resource_not_found)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UntagInput {
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

async fn untag_resource(f: &Frontend, call: &Call, i: UntagInput) -> Result<Value, AwsError> {
    let arn = required(i.resource_arn, "resourceArn")?;
    let keys = i.tag_keys.ok_or_else(|| AwsError::missing("tagKeys"))?;
    ops::change_tags(f, call, &arn, MetadataChange::Untag(keys)).await.map_err(resource_not_found)?;
    Ok(json!({}))
}

/// The tagging operations say `ResourceNotFound` of a missing state machine, as AWS does.
fn resource_not_found(e: FrontendError) -> AwsError {
    match e {
        FrontendError::Store(StoreError::NotFound { what }) => {
            AwsError::Frontend(FrontendError::Store(StoreError::NotFound { what: format!("resource {what}") }))
        }
        e => e.into(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListOfMachineInput {
    state_machine_arn: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

async fn list_state_machine_versions(f: &Frontend, call: &Call, i: ListOfMachineInput) -> Result<Value, AwsError> {
    let arn = required(i.state_machine_arn, "stateMachineArn")?;
    let token = i.next_token.unwrap_or_default();
    let (versions, next) = ops::list_state_machine_versions(f, call, &arn, max_results(i.max_results)?, &token).await?;
    let items: Vec<Value> = versions
        .into_iter()
        .map(|v| json!({ "stateMachineVersionArn": v.arn, "creationDate": seconds(Some(crate::convert::timestamp(v.created_ms))) }))
        .collect();
    Ok(object(vec![("stateMachineVersions", json!(items)), ("nextToken", json!(next))]))
}

async fn list_state_machine_aliases(f: &Frontend, call: &Call, i: ListOfMachineInput) -> Result<Value, AwsError> {
    let arn = required(i.state_machine_arn, "stateMachineArn")?;
    let token = i.next_token.unwrap_or_default();
    let (aliases, next) = ops::list_state_machine_aliases(f, call, &arn, max_results(i.max_results)?, &token).await?;
    let items: Vec<Value> = aliases
        .into_iter()
        .map(|a| json!({ "stateMachineAliasArn": a.arn, "creationDate": seconds(Some(crate::convert::timestamp(a.created_ms))) }))
        .collect();
    Ok(object(vec![("stateMachineAliases", json!(items)), ("nextToken", json!(next))]))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceArnInput {
    resource_arn: Option<String>,
}

/// A state machine's tags.
async fn list_tags_for_resource(f: &Frontend, call: &Call, i: ResourceArnInput) -> Result<Value, AwsError> {
    let resource_arn = required(i.resource_arn, "resourceArn")?;
    let out = ops::describe_state_machine(f, call, pb::DescribeStateMachineRequest { state_machine_arn: resource_arn })
        .await
        .map_err(resource_not_found)?;
    let tags: Vec<Value> = out.tags.into_iter().map(|t| json!({ "key": t.key, "value": t.value })).collect();
    Ok(json!({ "tags": tags }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_details_take_aws_member_names() {
        assert_eq!(details_member("ExecutionStarted").as_deref(), Some("executionStartedEventDetails"));
        assert_eq!(details_member("PassStateEntered").as_deref(), Some("stateEnteredEventDetails"));
        assert_eq!(details_member("TaskStateExited").as_deref(), Some("stateExitedEventDetails"));
        assert_eq!(details_member("MapIterationFailed").as_deref(), Some("mapIterationFailedEventDetails"));
        assert_eq!(details_member("MapStateStarted").as_deref(), Some("mapStateStartedEventDetails"));
        assert_eq!(details_member("ParallelStateStarted"), None);
        let e = history_event(
            pb::HistoryEvent {
                id: 2,
                timestamp: Some(prost_types::Timestamp { seconds: 10, nanos: 500_000_000 }),
                r#type: "PassStateEntered".into(),
                state_name: "P".into(),
                details: r#"{"input":{"a":1}}"#.into(),
            },
            true,
        );
        assert_eq!(
            e,
            json!({"timestamp": 10.5, "type": "PassStateEntered", "id": 2, "previousEventId": 1,
                   "stateEnteredEventDetails": {"input": "{\"a\":1}", "name": "P"}})
        );
    }

    #[test]
    fn inputs_are_checked_before_anything_runs() {
        assert!(matches!(decode::<StartInput>(b"[1]"), Err(AwsError::Serialization(_))));
        assert!(matches!(decode::<StartInput>(b"{\"name\": 5}"), Err(AwsError::Serialization(_))));
        let empty: StartInput = decode(b"").expect("an empty body has no members");
        assert!(matches!(empty.into_pb(), Err(AwsError::Validation(m)) if m.contains("'stateMachineArn'")));
        assert!(matches!(kind_from_aws(Some("FAST")), Err(AwsError::Validation(_))));
        assert!(matches!(max_results(Some(1001)), Err(AwsError::Validation(_))));
    }
}
