//! `expressway test-state`: AWS's TestState from the command line, with the AWS CLI's flags
//! (`--definition`, `--input`, `--inspection-level`, `--variables`, `--state-name`, `--mock`,
//! `--role-arn` accepted and not used). Definitions, inputs and the JSON flags may be given
//! inline, as `file://FILE` or as `@FILE`. Prints the answer as the AWS CLI does: JSON with
//! AWS's member names, empty members left out.

use anyhow::{bail, Context as _};
use expressway_proto::v1 as pb;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::client::{connect, text_arg, ClientError, Endpoint};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectionLevelArg {
    #[value(name = "INFO")]
    Info,
    #[value(name = "DEBUG")]
    Debug,
    #[value(name = "TRACE")]
    Trace,
}

#[derive(Debug, clap::Args)]
pub struct TestStateArgs {
    /// One state's JSON, or a whole definition with --state-name: the JSON itself,
    /// `file://FILE` or `@FILE`.
    #[arg(long)]
    pub definition: String,
    /// Accepted for the AWS CLI's sake; not used.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// The state's input: JSON, `file://FILE` or `@FILE`.
    #[arg(long)]
    pub input: Option<String>,
    #[arg(long, value_enum, default_value_t = InspectionLevelArg::Info)]
    pub inspection_level: InspectionLevelArg,
    #[arg(long, overrides_with = "no_reveal_secrets")]
    pub reveal_secrets: bool,
    #[arg(long)]
    pub no_reveal_secrets: bool,
    /// Variables in scope: a JSON object.
    #[arg(long)]
    pub variables: Option<String>,
    /// The state to test, in a whole definition.
    #[arg(long)]
    pub state_name: Option<String>,
    /// `{"result": "<JSON>"}` or `{"errorOutput": {"error": …, "cause": …}}`, with an optional
    /// `"fieldValidationMode": "STRICT" | "PRESENT" | "NONE"`.
    #[arg(long)]
    pub mock: Option<String>,
    /// The Context object as JSON (only with --mock).
    #[arg(long)]
    pub context: Option<String>,
    /// `{"retrierRetryCount": N, "errorCausedByState": …, "mapIterationFailureCount": N}`.
    #[arg(long)]
    pub state_configuration: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MockArg {
    result: Option<String>,
    error_output: Option<MockErrorArg>,
    field_validation_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MockErrorArg {
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StateConfigurationArg {
    retrier_retry_count: Option<u32>,
    error_caused_by_state: Option<String>,
    map_iteration_failure_count: Option<u32>,
    map_item_reader_data: Option<String>,
}

fn json_arg<T: serde::de::DeserializeOwned>(v: &str, flag: &str) -> anyhow::Result<T> {
    serde_json::from_str(&text_arg(v, false)?).with_context(|| format!("{flag} is not valid"))
}

fn request(a: &TestStateArgs) -> anyhow::Result<pb::TestStateRequest> {
    let mock = match &a.mock {
        None => None,
        Some(m) => {
            let m: MockArg = json_arg(m, "--mock")?;
            let mode = match m.field_validation_mode.as_deref() {
                None | Some("STRICT") => pb::FieldValidationMode::Strict,
                Some("PRESENT") => pb::FieldValidationMode::Present,
                Some("NONE") => pb::FieldValidationMode::None,
                Some(other) => bail!("--mock: fieldValidationMode '{other}' is not STRICT, PRESENT or NONE"),
            };
            Some(pb::MockInput {
                result: m.result,
                error_output: m.error_output.map(|e| pb::MockErrorOutput {
                    error: e.error.unwrap_or_default(),
                    cause: e.cause.unwrap_or_default(),
                }),
                field_validation_mode: mode as i32,
            })
        }
    };
    let state_configuration = match &a.state_configuration {
        None => None,
        Some(c) => {
            let c: StateConfigurationArg = json_arg(c, "--state-configuration")?;
            Some(pb::TestStateConfiguration {
                retrier_retry_count: c.retrier_retry_count,
                error_caused_by_state: c.error_caused_by_state.unwrap_or_default(),
                map_iteration_failure_count: c.map_iteration_failure_count,
                map_item_reader_data: c.map_item_reader_data.unwrap_or_default(),
            })
        }
    };
    let text = |v: &Option<String>| -> anyhow::Result<String> {
        v.as_deref().map(|v| text_arg(v, false)).transpose().map(Option::unwrap_or_default)
    };
    Ok(pb::TestStateRequest {
        definition: text_arg(&a.definition, false)?,
        role_arn: a.role_arn.clone().unwrap_or_default(),
        input: text(&a.input)?,
        inspection_level: match a.inspection_level {
            InspectionLevelArg::Info => pb::InspectionLevel::Info,
            InspectionLevelArg::Debug => pb::InspectionLevel::Debug,
            InspectionLevelArg::Trace => pb::InspectionLevel::Trace,
        } as i32,
        reveal_secrets: a.reveal_secrets && !a.no_reveal_secrets,
        variables: text(&a.variables)?,
        state_name: a.state_name.clone().unwrap_or_default(),
        mock,
        context: text(&a.context)?,
        state_configuration,
    })
}

/// An object of the members that have a value (null, empty strings and empty objects left out).
fn object(members: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in members {
        let empty = match &v {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if !empty {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

fn inspection(d: pb::InspectionData) -> Value {
    object(vec![
        ("input", json!(d.input)),
        ("afterInputPath", json!(d.after_input_path)),
        ("afterParameters", json!(d.after_parameters)),
        ("afterArguments", json!(d.after_arguments)),
        ("result", json!(d.result)),
        ("afterResultSelector", json!(d.after_result_selector)),
        ("afterResultPath", json!(d.after_result_path)),
        ("variables", json!(d.variables)),
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
        ("afterItemsPath", json!(d.after_items_path)),
        ("afterItemSelector", json!(d.after_item_selector)),
        ("afterItemBatcher", json!(d.after_item_batcher)),
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

pub async fn test_state(ep: &Endpoint, a: &TestStateArgs) -> anyhow::Result<Value> {
    let req = request(a)?;
    let mut c = pb::state_machines_client::StateMachinesClient::new(connect(ep).await?);
    let r = c.test_state(req).await.map_err(|s| anyhow::Error::new(ClientError::Status(s)))?.into_inner();
    Ok(object(vec![
        ("output", json!(r.output)),
        ("error", json!(r.error)),
        ("cause", json!(r.cause)),
        ("inspectionData", r.inspection_data.map_or(Value::Null, inspection)),
        ("nextState", json!(r.next_state)),
        ("status", json!(r.status)),
    ]))
}
