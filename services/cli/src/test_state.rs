//! `expressway test-state`: AWS's TestState from the command line, with the AWS CLI's flags
//! (`--definition`, `--input`, `--inspection-level`, `--variables`, `--state-name`, `--mock`,
//! `--role-arn` accepted and not used). Definitions, inputs and the JSON flags may be given
//! inline, as `file://FILE` or as `@FILE`. Prints the answer as the AWS CLI does: JSON with
//! AWS's member names, empty members left out.

use anyhow::Context as _;
use expressway_frontend::aws::operations::{Operation as _, TestState};
use serde_json::{json, Map, Value};

use crate::client::{connect, send, Endpoint};
use crate::commands::document;

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

/// A JSON flag's value (inline, `file://FILE` or `@FILE`).
fn json_arg(v: &str, flag: &str) -> anyhow::Result<Value> {
    serde_json::from_str(&document(v, false)?).with_context(|| format!("{flag} is not valid JSON"))
}

/// AWS's TestState input from the flags; the frontend's AWS encoding checks and sends it.
fn input(a: &TestStateArgs) -> anyhow::Result<Value> {
    let mut m = Map::new();
    let mut text = |key: &str, v: &Option<String>| -> anyhow::Result<()> {
        if let Some(v) = v {
            m.insert(key.into(), Value::String(document(v, false)?));
        }
        Ok(())
    };
    text("input", &a.input)?;
    text("variables", &a.variables)?;
    text("context", &a.context)?;
    m.insert("definition".into(), Value::String(document(&a.definition, false)?));
    if let Some(r) = &a.role_arn {
        m.insert("roleArn".into(), Value::String(r.clone()));
    }
    if let Some(n) = &a.state_name {
        m.insert("stateName".into(), Value::String(n.clone()));
    }
    let level = match a.inspection_level {
        InspectionLevelArg::Info => "INFO",
        InspectionLevelArg::Debug => "DEBUG",
        InspectionLevelArg::Trace => "TRACE",
    };
    m.insert("inspectionLevel".into(), json!(level));
    m.insert("revealSecrets".into(), json!(a.reveal_secrets && !a.no_reveal_secrets));
    if let Some(v) = &a.mock {
        m.insert("mock".into(), json_arg(v, "--mock")?);
    }
    if let Some(v) = &a.state_configuration {
        m.insert("stateConfiguration".into(), json_arg(v, "--state-configuration")?);
    }
    Ok(Value::Object(m))
}

pub async fn test_state(ep: &Endpoint, a: &TestStateArgs) -> anyhow::Result<Value> {
    let input = input(a)?;
    Ok(send(connect(ep).await?, TestState::NAME, input).await?)
}
