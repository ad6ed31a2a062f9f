//! Each Step Functions operation in AWS's shapes, as an [`Operation`]: its input decoded from
//! the request's JSON (member names and types as the API reference gives them) into the API's
//! request message, and the API's response encoded with AWS's member names, timestamps as
//! epoch seconds (the SDKs parse them as such) and empty members left out.
//!
//! The same two halves serve the AWS JSON protocol ([`run`]: decode, the shared operation of
//! [`crate::ops`], encode) and the `expressway` command line, which builds AWS's input from
//! its flags, calls the gRPC API and prints what [`Operation::output`] makes of the answer:
//! one description of AWS's shapes for both.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use expressway_proto::v1 as pb;
use expressway_store::arn;

use super::AwsError;
use crate::{ops, Call, Frontend, FrontendError};

/// One operation of the Step Functions API: AWS's input shape to the API's request, the API's
/// response to AWS's output shape.
pub trait Operation {
    /// The operation's name (`X-Amz-Target: AWSStepFunctions.<NAME>`).
    const NAME: &'static str;
    /// AWS's input shape.
    type Input: DeserializeOwned;
    type Request;
    type Response;
    /// The request, or `ValidationException` for a member missing or out of its bounds.
    fn request(input: Self::Input) -> Result<Self::Request, AwsError>;
    /// AWS's output shape.
    fn output(response: Self::Response) -> Value;

    /// The request from AWS's input as JSON (`SerializationException` if it is not of the
    /// input shape).
    fn decode(input: Value) -> Result<Self::Request, AwsError> {
        let input = serde_json::from_value(input)
            .map_err(|e| AwsError::Serialization(format!("cannot read the request: {e}")))?;
        Self::request(input)
    }
}

async fn serve<O, F, Fut>(body: &[u8], op: F) -> Result<Value, AwsError>
where
    O: Operation,
    F: FnOnce(O::Request) -> Fut,
    Fut: Future<Output = Result<O::Response, FrontendError>>,
{
    let request = O::request(decode(body)?)?;
    Ok(O::output(op(request).await?))
}

/// Run operation `op` with the request body `body`.
pub async fn run(f: &Frontend, call: &Call, op: &str, body: &[u8]) -> Result<Value, AwsError> {
    match op {
        CreateStateMachine::NAME => {
            serve::<CreateStateMachine, _, _>(body, |r| ops::create_state_machine(f, call, r)).await
        }
        DescribeStateMachine::NAME => {
            serve::<DescribeStateMachine, _, _>(body, |r| ops::describe_state_machine(f, call, r)).await
        }
        UpdateStateMachine::NAME => {
            serve::<UpdateStateMachine, _, _>(body, |r| ops::update_state_machine(f, call, r)).await
        }
        DeleteStateMachine::NAME => {
            serve::<DeleteStateMachine, _, _>(body, |r| ops::delete_state_machine(f, call, r)).await
        }
        ListStateMachines::NAME => {
            serve::<ListStateMachines, _, _>(body, |r| ops::list_state_machines(f, call, r)).await
        }
        DescribeStateMachineForExecution::NAME => {
            serve::<DescribeStateMachineForExecution, _, _>(body, |r| {
                ops::describe_state_machine_for_execution(f, call, r)
            })
            .await
        }
        TestState::NAME => serve::<TestState, _, _>(body, |r| ops::test_state(f, call, r)).await,
        ValidateStateMachineDefinition::NAME => {
            serve::<ValidateStateMachineDefinition, _, _>(body, |r| ops::validate_state_machine_definition(f, call, r))
                .await
        }
        StartExecution::NAME => serve::<StartExecution, _, _>(body, |r| ops::start_execution(f, call, r)).await,
        StartSyncExecution::NAME => {
            serve::<StartSyncExecution, _, _>(body, |r| ops::start_sync_execution(f, call, r)).await
        }
        StopExecution::NAME => serve::<StopExecution, _, _>(body, |r| ops::stop_execution(f, call, r)).await,
        DescribeExecution::NAME => {
            serve::<DescribeExecution, _, _>(body, |r| ops::describe_execution(f, call, r)).await
        }
        ListExecutions::NAME => serve::<ListExecutions, _, _>(body, |r| ops::list_executions(f, call, r)).await,
        GetExecutionHistory::NAME => {
            serve::<GetExecutionHistory, _, _>(body, |r| {
                ops::get_execution_history(f.auth.as_deref(), &*f.executions, call, r)
            })
            .await
        }
        PublishStateMachineVersion::NAME => {
            serve::<PublishStateMachineVersion, _, _>(body, |r| ops::publish_state_machine_version(f, call, r)).await
        }
        ListStateMachineVersions::NAME => {
            serve::<ListStateMachineVersions, _, _>(body, |r| ops::list_state_machine_versions(f, call, r)).await
        }
        DeleteStateMachineVersion::NAME => {
            serve::<DeleteStateMachineVersion, _, _>(body, |r| ops::delete_state_machine_version(f, call, r)).await
        }
        CreateStateMachineAlias::NAME => {
            serve::<CreateStateMachineAlias, _, _>(body, |r| ops::create_state_machine_alias(f, call, r)).await
        }
        DescribeStateMachineAlias::NAME => {
            serve::<DescribeStateMachineAlias, _, _>(body, |r| ops::describe_state_machine_alias(f, call, r)).await
        }
        UpdateStateMachineAlias::NAME => {
            serve::<UpdateStateMachineAlias, _, _>(body, |r| ops::update_state_machine_alias(f, call, r)).await
        }
        DeleteStateMachineAlias::NAME => {
            serve::<DeleteStateMachineAlias, _, _>(body, |r| ops::delete_state_machine_alias(f, call, r)).await
        }
        ListStateMachineAliases::NAME => {
            serve::<ListStateMachineAliases, _, _>(body, |r| ops::list_state_machine_aliases(f, call, r)).await
        }
        TagResource::NAME => serve::<TagResource, _, _>(body, |r| ops::tag_resource(f, call, r)).await,
        UntagResource::NAME => serve::<UntagResource, _, _>(body, |r| ops::untag_resource(f, call, r)).await,
        ListTagsForResource::NAME => {
            serve::<ListTagsForResource, _, _>(body, |r| ops::list_tags_for_resource(f, call, r)).await
        }
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

fn status_from_aws(s: Option<&str>) -> Result<i32, AwsError> {
    Ok(match s {
        None => pb::ExecutionStatus::Unspecified,
        Some("RUNNING") => pb::ExecutionStatus::Running,
        Some("SUCCEEDED") => pb::ExecutionStatus::Succeeded,
        Some("FAILED") => pb::ExecutionStatus::Failed,
        Some("TIMED_OUT") => pb::ExecutionStatus::TimedOut,
        Some("ABORTED") => pb::ExecutionStatus::Aborted,
        Some(other) => {
            return Err(AwsError::Validation(format!(
                "1 validation error detected: Value '{other}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"
            )))
        }
    } as i32)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logging {
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
pub struct Tracing {
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
pub struct Tag {
    key: String,
    #[serde(default)]
    value: String,
}

fn tags_to_aws(tags: Vec<pb::Tag>) -> Value {
    json!(tags.into_iter().map(|t| json!({ "key": t.key, "value": t.value })).collect::<Vec<_>>())
}

/// Expressway does not assume IAM roles; its answers name this one, in the state machine's
/// account, where AWS names the role.
fn role_arn(state_machine_arn: &str) -> String {
    let account = state_machine_arn.split(':').nth(4).unwrap_or_default();
    format!("arn:aws:iam::{account}:role/expressway")
}

/// The CreateStateMachine operation.
pub struct CreateStateMachine;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateStateMachineInput {
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

impl Operation for CreateStateMachine {
    const NAME: &'static str = "CreateStateMachine";
    type Input = CreateStateMachineInput;
    type Request = pb::CreateStateMachineRequest;
    type Response = pb::CreateStateMachineResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::CreateStateMachineRequest {
            name: required(i.name, "name")?,
            definition: required(i.definition, "definition")?,
            r#type: kind_from_aws(i.r#type.as_deref())?,
            logging_configuration: logging_from_aws(i.logging_configuration)?,
            tracing_configuration: i.tracing_configuration.map(|t| pb::TracingConfiguration { enabled: t.enabled }),
            tags: i.tags.into_iter().map(|t| pb::Tag { key: t.key, value: t.value }).collect(),
            publish: i.publish,
            version_description: i.version_description,
        })
    }
    fn output(out: Self::Response) -> Value {
        object(vec![
            ("stateMachineArn", json!(out.state_machine_arn)),
            ("creationDate", seconds(out.creation_date)),
            ("stateMachineVersionArn", json!(out.state_machine_version_arn)),
        ])
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachineArnInput {
    state_machine_arn: Option<String>,
}

/// The DescribeStateMachine operation.
pub struct DescribeStateMachine;

impl Operation for DescribeStateMachine {
    const NAME: &'static str = "DescribeStateMachine";
    type Input = StateMachineArnInput;
    type Request = pb::DescribeStateMachineRequest;
    type Response = pb::DescribeStateMachineResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::DescribeStateMachineRequest { state_machine_arn: required(i.state_machine_arn, "stateMachineArn")? })
    }
    fn output(out: Self::Response) -> Value {
        object(vec![
            ("roleArn", json!(role_arn(&out.state_machine_arn))),
            ("stateMachineArn", json!(out.state_machine_arn)),
            ("name", json!(out.name)),
            ("status", json!(out.status)),
            ("definition", json!(out.definition)),
            ("type", json!(kind_to_aws(out.r#type))),
            ("creationDate", seconds(out.creation_date)),
            ("loggingConfiguration", logging_to_aws(out.logging_configuration)),
            ("tracingConfiguration", json!({ "enabled": out.tracing_configuration.is_some_and(|t| t.enabled) })),
            ("revisionId", json!(out.revision_id)),
            ("description", json!(out.description)),
        ])
    }
}

/// The UpdateStateMachine operation.
pub struct UpdateStateMachine;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateMachineInput {
    state_machine_arn: Option<String>,
    definition: Option<String>,
    logging_configuration: Option<Logging>,
    tracing_configuration: Option<Tracing>,
    #[serde(default)]
    publish: bool,
    #[serde(default)]
    version_description: String,
}

impl Operation for UpdateStateMachine {
    const NAME: &'static str = "UpdateStateMachine";
    type Input = UpdateStateMachineInput;
    type Request = pb::UpdateStateMachineRequest;
    type Response = pb::UpdateStateMachineResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::UpdateStateMachineRequest {
            state_machine_arn: required(i.state_machine_arn, "stateMachineArn")?,
            definition: i.definition,
            logging_configuration: logging_from_aws(i.logging_configuration)?,
            tracing_configuration: i.tracing_configuration.map(|t| pb::TracingConfiguration { enabled: t.enabled }),
            publish: i.publish,
            version_description: i.version_description,
        })
    }
    fn output(out: Self::Response) -> Value {
        object(vec![
            ("updateDate", seconds(out.update_date)),
            ("revisionId", json!(out.revision_id)),
            ("stateMachineVersionArn", json!(out.state_machine_version_arn)),
        ])
    }
}

/// The DeleteStateMachine operation.
pub struct DeleteStateMachine;

impl Operation for DeleteStateMachine {
    const NAME: &'static str = "DeleteStateMachine";
    type Input = StateMachineArnInput;
    type Request = pb::DeleteStateMachineRequest;
    type Response = pb::DeleteStateMachineResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::DeleteStateMachineRequest { state_machine_arn: required(i.state_machine_arn, "stateMachineArn")? })
    }
    fn output(_: Self::Response) -> Value {
        json!({})
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// The ListStateMachines operation.
pub struct ListStateMachines;

impl Operation for ListStateMachines {
    const NAME: &'static str = "ListStateMachines";
    type Input = PageInput;
    type Request = pb::ListStateMachinesRequest;
    type Response = pb::ListStateMachinesResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::ListStateMachinesRequest {
            max_results: max_results(i.max_results)?,
            next_token: i.next_token.unwrap_or_default(),
        })
    }
    fn output(out: Self::Response) -> Value {
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
        object(vec![("stateMachines", json!(items)), ("nextToken", json!(out.next_token))])
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionArnInput {
    execution_arn: Option<String>,
}

/// The DescribeStateMachineForExecution operation.
pub struct DescribeStateMachineForExecution;

impl Operation for DescribeStateMachineForExecution {
    const NAME: &'static str = "DescribeStateMachineForExecution";
    type Input = ExecutionArnInput;
    type Request = pb::DescribeStateMachineForExecutionRequest;
    type Response = pb::DescribeStateMachineForExecutionResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::DescribeStateMachineForExecutionRequest { execution_arn: required(i.execution_arn, "executionArn")? })
    }
    fn output(out: Self::Response) -> Value {
        let name = match out.name.as_str() {
            "" => arn::parse_state_machine(&out.state_machine_arn).map(|r| r.name).unwrap_or_default(),
            n => n.to_string(),
        };
        object(vec![
            ("roleArn", json!(role_arn(&out.state_machine_arn))),
            ("stateMachineArn", json!(out.state_machine_arn)),
            ("name", json!(name)),
            ("definition", json!(out.definition)),
            ("updateDate", seconds(out.update_date)),
            ("loggingConfiguration", logging_to_aws(out.logging_configuration)),
            ("tracingConfiguration", json!({ "enabled": out.tracing_configuration.is_some_and(|t| t.enabled) })),
            ("revisionId", json!(out.revision_id)),
        ])
    }
}

/// The ValidateStateMachineDefinition operation.
pub struct ValidateStateMachineDefinition;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidateInput {
    definition: Option<String>,
    r#type: Option<String>,
    severity: Option<String>,
    max_results: Option<i64>,
}

impl Operation for ValidateStateMachineDefinition {
    const NAME: &'static str = "ValidateStateMachineDefinition";
    type Input = ValidateInput;
    type Request = pb::ValidateStateMachineDefinitionRequest;
    type Response = pb::ValidateStateMachineDefinitionResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        if let Some(s) = i.severity.as_deref().filter(|s| !["ERROR", "WARNING"].contains(s)) {
            return Err(AwsError::Validation(format!(
                "1 validation error detected: Value '{s}' at 'severity' failed to satisfy constraint: Member must satisfy enum value set: [ERROR, WARNING]"
            )));
        }
        let limit = match i.max_results {
            None => 0,
            Some(n) if (0..=100).contains(&n) => n as i32,
            Some(n) => {
                return Err(AwsError::Validation(format!(
                    "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
                )))
            }
        };
        Ok(pb::ValidateStateMachineDefinitionRequest {
            definition: required(i.definition, "definition")?,
            r#type: kind_from_aws(i.r#type.as_deref())?,
            severity: i.severity.unwrap_or_default(),
            max_results: limit,
        })
    }
    fn output(out: Self::Response) -> Value {
        let diagnostics: Vec<Value> = out
            .diagnostics
            .into_iter()
            .map(|d| {
                object(vec![
                    ("severity", json!(d.severity)),
                    ("code", json!(d.code)),
                    ("message", json!(d.message)),
                    ("location", json!(d.location)),
                ])
            })
            .collect();
        json!({ "result": out.result, "diagnostics": diagnostics, "truncated": out.truncated })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartInput {
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

/// The StartExecution operation.
pub struct StartExecution;

impl Operation for StartExecution {
    const NAME: &'static str = "StartExecution";
    type Input = StartInput;
    type Request = pb::StartExecutionRequest;
    type Response = pb::StartExecutionResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        i.into_pb()
    }
    fn output(out: Self::Response) -> Value {
        object(vec![("executionArn", json!(out.execution_arn)), ("startDate", seconds(out.start_date))])
    }
}

/// The StartSyncExecution operation.
pub struct StartSyncExecution;

impl Operation for StartSyncExecution {
    const NAME: &'static str = "StartSyncExecution";
    type Input = StartInput;
    type Request = pb::StartExecutionRequest;
    type Response = pb::StartSyncExecutionResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        i.into_pb()
    }
    fn output(out: Self::Response) -> Value {
        let status = status_to_aws(out.status);
        object(vec![
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
            ("traceHeader", json!(out.trace_header)),
            (
                "billingDetails",
                out.billing_details.map_or(Value::Null, |b| {
                    json!({
                        "billedMemoryUsedInMB": b.billed_memory_used_in_mb,
                        "billedDurationInMilliseconds": b.billed_duration_in_milliseconds,
                    })
                }),
            ),
        ])
    }
}

/// The StopExecution operation.
pub struct StopExecution;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopInput {
    execution_arn: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

impl Operation for StopExecution {
    const NAME: &'static str = "StopExecution";
    type Input = StopInput;
    type Request = pb::StopExecutionRequest;
    type Response = pb::StopExecutionResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::StopExecutionRequest {
            execution_arn: required(i.execution_arn, "executionArn")?,
            error: i.error.unwrap_or_default(),
            cause: i.cause.unwrap_or_default(),
        })
    }
    fn output(out: Self::Response) -> Value {
        object(vec![("stopDate", seconds(out.stop_date))])
    }
}

/// The DescribeExecution operation.
pub struct DescribeExecution;

impl Operation for DescribeExecution {
    const NAME: &'static str = "DescribeExecution";
    type Input = ExecutionArnInput;
    type Request = pb::DescribeExecutionRequest;
    type Response = pb::DescribeExecutionResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::DescribeExecutionRequest { execution_arn: required(i.execution_arn, "executionArn")? })
    }
    fn output(out: Self::Response) -> Value {
        let status = status_to_aws(out.status);
        object(vec![
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
        ])
    }
}

/// The ListExecutions operation.
pub struct ListExecutions;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutionsInput {
    state_machine_arn: Option<String>,
    status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

impl Operation for ListExecutions {
    const NAME: &'static str = "ListExecutions";
    type Input = ListExecutionsInput;
    type Request = pb::ListExecutionsRequest;
    type Response = pb::ListExecutionsResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::ListExecutionsRequest {
            state_machine_arn: required(i.state_machine_arn, "stateMachineArn")?,
            status_filter: status_from_aws(i.status_filter.as_deref())?,
            max_results: max_results(i.max_results)?,
            next_token: i.next_token.unwrap_or_default(),
        })
    }
    fn output(out: Self::Response) -> Value {
        let items: Vec<Value> = out
            .executions
            .into_iter()
            .map(|e| {
                object(vec![
                    ("executionArn", json!(e.execution_arn)),
                    ("stateMachineArn", json!(e.state_machine_arn)),
                    ("name", json!(e.name)),
                    ("status", json!(status_to_aws(e.status))),
                    ("startDate", seconds(e.start_date)),
                    ("stopDate", seconds(e.stop_date)),
                ])
            })
            .collect();
        object(vec![("executions", json!(items)), ("nextToken", json!(out.next_token))])
    }
}

/// The GetExecutionHistory operation.
pub struct GetExecutionHistory;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryInput {
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

fn history_event(e: pb::HistoryEvent) -> Value {
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
            if let Some(v) = details.get(key).filter(|v| !v.is_string()).cloned() {
                details.insert(key.into(), json!(v.to_string()));
            }
        }
        if !e.state_name.is_empty() {
            details.insert("name".into(), json!(e.state_name));
        }
        event.insert(member, Value::Object(details));
    }
    Value::Object(event)
}

impl Operation for GetExecutionHistory {
    const NAME: &'static str = "GetExecutionHistory";
    type Input = HistoryInput;
    type Request = pb::GetExecutionHistoryRequest;
    type Response = pb::GetExecutionHistoryResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::GetExecutionHistoryRequest {
            execution_arn: required(i.execution_arn, "executionArn")?,
            max_results: match max_results(i.max_results)? {
                0 => 100,
                n => n,
            },
            reverse_order: i.reverse_order,
            next_token: i.next_token.unwrap_or_default(),
            include_execution_data: i.include_execution_data,
        })
    }
    fn output(out: Self::Response) -> Value {
        let events: Vec<Value> = out.events.into_iter().map(history_event).collect();
        object(vec![("events", json!(events)), ("nextToken", json!(out.next_token))])
    }
}

/// The PublishStateMachineVersion operation.
pub struct PublishStateMachineVersion;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishInput {
    state_machine_arn: Option<String>,
    revision_id: Option<String>,
    description: Option<String>,
}

impl Operation for PublishStateMachineVersion {
    const NAME: &'static str = "PublishStateMachineVersion";
    type Input = PublishInput;
    type Request = pb::PublishStateMachineVersionRequest;
    type Response = pb::PublishStateMachineVersionResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::PublishStateMachineVersionRequest {
            state_machine_arn: required(i.state_machine_arn, "stateMachineArn")?,
            revision_id: i.revision_id.unwrap_or_default(),
            description: i.description.unwrap_or_default(),
        })
    }
    fn output(out: Self::Response) -> Value {
        object(vec![
            ("creationDate", seconds(out.creation_date)),
            ("stateMachineVersionArn", json!(out.state_machine_version_arn)),
        ])
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListOfMachineInput {
    state_machine_arn: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// The ListStateMachineVersions operation.
pub struct ListStateMachineVersions;

impl Operation for ListStateMachineVersions {
    const NAME: &'static str = "ListStateMachineVersions";
    type Input = ListOfMachineInput;
    type Request = pb::ListStateMachineVersionsRequest;
    type Response = pb::ListStateMachineVersionsResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::ListStateMachineVersionsRequest {
            state_machine_arn: required(i.state_machine_arn, "stateMachineArn")?,
            max_results: max_results(i.max_results)?,
            next_token: i.next_token.unwrap_or_default(),
        })
    }
    fn output(out: Self::Response) -> Value {
        let items: Vec<Value> = out
            .state_machine_versions
            .into_iter()
            .map(|v| json!({ "stateMachineVersionArn": v.state_machine_version_arn, "creationDate": seconds(v.creation_date) }))
            .collect();
        object(vec![("stateMachineVersions", json!(items)), ("nextToken", json!(out.next_token))])
    }
}

/// The DeleteStateMachineVersion operation.
pub struct DeleteStateMachineVersion;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionArnInput {
    state_machine_version_arn: Option<String>,
}

impl Operation for DeleteStateMachineVersion {
    const NAME: &'static str = "DeleteStateMachineVersion";
    type Input = VersionArnInput;
    type Request = pb::DeleteStateMachineVersionRequest;
    type Response = pb::DeleteStateMachineVersionResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::DeleteStateMachineVersionRequest {
            state_machine_version_arn: required(i.state_machine_version_arn, "stateMachineVersionArn")?,
        })
    }
    fn output(_: Self::Response) -> Value {
        json!({})
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    state_machine_version_arn: String,
    weight: u32,
}

fn routes_to_pb(routes: Vec<Route>) -> Vec<pb::RoutingConfiguration> {
    routes
        .into_iter()
        .map(|r| pb::RoutingConfiguration { state_machine_version_arn: r.state_machine_version_arn, weight: r.weight })
        .collect()
}

/// The CreateStateMachineAlias operation.
pub struct CreateStateMachineAlias;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAliasInput {
    name: Option<String>,
    description: Option<String>,
    routing_configuration: Option<Vec<Route>>,
}

impl Operation for CreateStateMachineAlias {
    const NAME: &'static str = "CreateStateMachineAlias";
    type Input = CreateAliasInput;
    type Request = pb::CreateStateMachineAliasRequest;
    type Response = pb::CreateStateMachineAliasResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::CreateStateMachineAliasRequest {
            name: required(i.name, "name")?,
            description: i.description.unwrap_or_default(),
            routing_configuration: routes_to_pb(
                i.routing_configuration.ok_or_else(|| AwsError::missing("routingConfiguration"))?,
            ),
        })
    }
    fn output(out: Self::Response) -> Value {
        object(vec![
            ("stateMachineAliasArn", json!(out.state_machine_alias_arn)),
            ("creationDate", seconds(out.creation_date)),
        ])
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AliasArnInput {
    state_machine_alias_arn: Option<String>,
}

/// The DescribeStateMachineAlias operation.
pub struct DescribeStateMachineAlias;

impl Operation for DescribeStateMachineAlias {
    const NAME: &'static str = "DescribeStateMachineAlias";
    type Input = AliasArnInput;
    type Request = pb::DescribeStateMachineAliasRequest;
    type Response = pb::DescribeStateMachineAliasResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::DescribeStateMachineAliasRequest {
            state_machine_alias_arn: required(i.state_machine_alias_arn, "stateMachineAliasArn")?,
        })
    }
    fn output(out: Self::Response) -> Value {
        let routes: Vec<Value> = out
            .routing_configuration
            .into_iter()
            .map(|r| json!({ "stateMachineVersionArn": r.state_machine_version_arn, "weight": r.weight }))
            .collect();
        object(vec![
            ("stateMachineAliasArn", json!(out.state_machine_alias_arn)),
            ("name", json!(out.name)),
            ("description", json!(out.description)),
            ("routingConfiguration", json!(routes)),
            ("creationDate", seconds(out.creation_date)),
            ("updateDate", seconds(out.update_date)),
        ])
    }
}

/// The UpdateStateMachineAlias operation.
pub struct UpdateStateMachineAlias;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateAliasInput {
    state_machine_alias_arn: Option<String>,
    description: Option<String>,
    routing_configuration: Option<Vec<Route>>,
}

impl Operation for UpdateStateMachineAlias {
    const NAME: &'static str = "UpdateStateMachineAlias";
    type Input = UpdateAliasInput;
    type Request = pb::UpdateStateMachineAliasRequest;
    type Response = pb::UpdateStateMachineAliasResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        let routes = i.routing_configuration.map(routes_to_pb);
        if routes.as_ref().is_some_and(Vec::is_empty) {
            return Err(AwsError::Validation(
                "1 validation error detected: Value '[]' at 'routingConfiguration' failed to satisfy constraint: Member must have length greater than or equal to 1".into(),
            ));
        }
        Ok(pb::UpdateStateMachineAliasRequest {
            state_machine_alias_arn: required(i.state_machine_alias_arn, "stateMachineAliasArn")?,
            description: i.description,
            routing_configuration: routes.unwrap_or_default(),
        })
    }
    fn output(out: Self::Response) -> Value {
        json!({ "updateDate": seconds(out.update_date) })
    }
}

/// The DeleteStateMachineAlias operation.
pub struct DeleteStateMachineAlias;

impl Operation for DeleteStateMachineAlias {
    const NAME: &'static str = "DeleteStateMachineAlias";
    type Input = AliasArnInput;
    type Request = pb::DeleteStateMachineAliasRequest;
    type Response = pb::DeleteStateMachineAliasResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::DeleteStateMachineAliasRequest {
            state_machine_alias_arn: required(i.state_machine_alias_arn, "stateMachineAliasArn")?,
        })
    }
    fn output(_: Self::Response) -> Value {
        json!({})
    }
}

/// The ListStateMachineAliases operation.
pub struct ListStateMachineAliases;

impl Operation for ListStateMachineAliases {
    const NAME: &'static str = "ListStateMachineAliases";
    type Input = ListOfMachineInput;
    type Request = pb::ListStateMachineAliasesRequest;
    type Response = pb::ListStateMachineAliasesResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::ListStateMachineAliasesRequest {
            state_machine_arn: required(i.state_machine_arn, "stateMachineArn")?,
            max_results: max_results(i.max_results)?,
            next_token: i.next_token.unwrap_or_default(),
        })
    }
    fn output(out: Self::Response) -> Value {
        let items: Vec<Value> = out
            .state_machine_aliases
            .into_iter()
            .map(|a| json!({ "stateMachineAliasArn": a.state_machine_alias_arn, "creationDate": seconds(a.creation_date) }))
            .collect();
        object(vec![("stateMachineAliases", json!(items)), ("nextToken", json!(out.next_token))])
    }
}

/// The TagResource operation.
pub struct TagResource;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagInput {
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}

impl Operation for TagResource {
    const NAME: &'static str = "TagResource";
    type Input = TagInput;
    type Request = pb::TagResourceRequest;
    type Response = pb::TagResourceResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::TagResourceRequest {
            resource_arn: required(i.resource_arn, "resourceArn")?,
            tags: i
                .tags
                .ok_or_else(|| AwsError::missing("tags"))?
                .into_iter()
                .map(|t| pb::Tag { key: t.key, value: t.value })
                .collect(),
        })
    }
    fn output(_: Self::Response) -> Value {
        json!({})
    }
}

/// The UntagResource operation.
pub struct UntagResource;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagInput {
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

impl Operation for UntagResource {
    const NAME: &'static str = "UntagResource";
    type Input = UntagInput;
    type Request = pb::UntagResourceRequest;
    type Response = pb::UntagResourceResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::UntagResourceRequest {
            resource_arn: required(i.resource_arn, "resourceArn")?,
            tag_keys: i.tag_keys.ok_or_else(|| AwsError::missing("tagKeys"))?,
        })
    }
    fn output(_: Self::Response) -> Value {
        json!({})
    }
}

/// The ListTagsForResource operation.
pub struct ListTagsForResource;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceArnInput {
    resource_arn: Option<String>,
}

impl Operation for ListTagsForResource {
    const NAME: &'static str = "ListTagsForResource";
    type Input = ResourceArnInput;
    type Request = pb::ListTagsForResourceRequest;
    type Response = pb::ListTagsForResourceResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
        Ok(pb::ListTagsForResourceRequest { resource_arn: required(i.resource_arn, "resourceArn")? })
    }
    fn output(out: Self::Response) -> Value {
        json!({ "tags": tags_to_aws(out.tags) })
    }
}

fn not_in_enum(value: &str, member: &str, set: &str) -> AwsError {
    AwsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{set}]"
    ))
}

#[derive(Deserialize, Default)]
pub struct MockErrorInput {
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MockInput {
    result: Option<String>,
    error_output: Option<MockErrorInput>,
    field_validation_mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StateConfigurationInput {
    retrier_retry_count: Option<u32>,
    error_caused_by_state: Option<String>,
    map_iteration_failure_count: Option<u32>,
    map_item_reader_data: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TestStateInput {
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

/// The TestState operation.
pub struct TestState;

impl Operation for TestState {
    const NAME: &'static str = "TestState";
    type Input = TestStateInput;
    type Request = pb::TestStateRequest;
    type Response = pb::TestStateResponse;
    fn request(i: Self::Input) -> Result<Self::Request, AwsError> {
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
        Ok(pb::TestStateRequest {
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
        })
    }
    fn output(out: Self::Response) -> Value {
        object(vec![
            ("output", json!(out.output)),
            ("error", json!(out.error)),
            ("cause", json!(out.cause)),
            ("inspectionData", out.inspection_data.map_or(Value::Null, inspection)),
            ("nextState", json!(out.next_state)),
            ("status", json!(out.status)),
        ])
    }
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
        let e = history_event(pb::HistoryEvent {
            id: 2,
            timestamp: Some(prost_types::Timestamp { seconds: 10, nanos: 500_000_000 }),
            r#type: "PassStateEntered".into(),
            state_name: "P".into(),
            details: r#"{"input":{"a":1}}"#.into(),
        });
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
