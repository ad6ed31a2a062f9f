//! Errors at the crate boundary: definition problems (with AWS diagnostic codes and JSON
//! locations) and the runtime errors states raise (`States.*` names and user errors).

use std::fmt;

/// AWS's predefined error names.
pub mod errors {
    pub const ALL: &str = "States.ALL";
    pub const RUNTIME: &str = "States.Runtime";
    pub const TIMEOUT: &str = "States.Timeout";
    /// Unwinds a stopped run; never an execution's outcome (StopExecution records that).
    pub const ABORTED: &str = "States.Aborted";
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
    pub const PERMISSIONS: &str = "States.Permissions";
}

/// An error raised while a state runs: what Retry and Catch match on, and what a failed
/// execution reports. `error` is `None` for a Fail state without an error name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatesError {
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl StatesError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        StatesError { error: Some(error.into()), cause: Some(cause.into()) }
    }

    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(errors::RUNTIME, cause)
    }

    pub fn query(cause: impl Into<String>) -> Self {
        Self::new(errors::QUERY_EVALUATION_ERROR, cause)
    }

    pub fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// Whether this error ends the execution whatever Retry/Catch say.
    pub fn is_terminal(&self) -> bool {
        self.name() == errors::DATA_LIMIT_EXCEEDED || self.name() == errors::RUNTIME
    }
}

impl fmt::Display for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.cause.as_deref().unwrap_or(""))
    }
}

impl std::error::Error for StatesError {}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// AWS's code, e.g. `SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`.
    pub code: &'static str,
    pub message: String,
    /// JSON Pointer to the faulty element, e.g. `/States/Greet/Next`.
    pub location: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} at {}", self.code, self.message, if self.location.is_empty() { "/" } else { &self.location })
    }
}

/// Why a definition cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DefinitionError {
    #[error("the definition is not valid JSON: {0}")]
    Json(String),
    #[error("{}", fmt_diagnostics(.0))]
    Invalid(Vec<Diagnostic>),
}

fn fmt_diagnostics(d: &[Diagnostic]) -> String {
    let mut s = String::from("Invalid State Machine Definition: ");
    for (i, x) in d.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('\'');
        s.push_str(&x.to_string());
        s.push('\'');
    }
    s
}

impl DefinitionError {
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            DefinitionError::Json(m) => {
                vec![Diagnostic { code: "INVALID_JSON_DESCRIPTION", message: m.clone(), location: String::new() }]
            }
            DefinitionError::Invalid(d) => d.clone(),
        }
    }
}
