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
    #[error("the definition is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
}

/// Diagnostics a message (or an error status) names one by one; the rest are counted.
pub const DIAGNOSTICS_SHOWN: usize = 10;

fn fmt_diagnostics(d: &[Diagnostic]) -> String {
    let mut s = String::from("Invalid State Machine Definition: ");
    for (i, x) in d.iter().take(DIAGNOSTICS_SHOWN).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('\'');
        s.push_str(&x.to_string());
        s.push('\'');
    }
    if d.len() > DIAGNOSTICS_SHOWN {
        s.push_str(&format!(
            " and {} more (ValidateStateMachineDefinition lists them all)",
            d.len() - DIAGNOSTICS_SHOWN
        ));
    }
    s
}

/// Deepest nesting of arrays and objects a JSON document may have (serde_json's limit).
pub const MAX_JSON_DEPTH: usize = 127;

/// Deepest nesting of arrays and objects in JSON text (strings skipped), counted without
/// parsing: what a syntax-only check (which does not nest) leaves to find out.
pub fn json_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text.as_bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// What is wrong with a JSON document, in words: serde_json's nesting limit reads as such.
pub fn json_error(e: &serde_json::Error) -> String {
    if e.to_string().starts_with("recursion limit exceeded") {
        // serde_json's limit, which the interpreter's parse of an input meets too.
        format!("nested more than {MAX_JSON_DEPTH} levels deep (at line {} column {})", e.line(), e.column())
    } else {
        e.to_string()
    }
}

impl DefinitionError {
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            DefinitionError::Json(m) => {
                vec![Diagnostic { code: "INVALID_JSON_DESCRIPTION", message: m.clone(), location: String::new() }]
            }
            DefinitionError::Invalid(d) => d.clone(),
            DefinitionError::TooLarge { .. } => {
                vec![Diagnostic { code: "DEFINITION_TOO_LARGE", message: self.to_string(), location: String::new() }]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_depth_agrees_with_what_serde_json_parses() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        for n in [1, 127, 128, 129, 200] {
            let text = nested(n);
            let parsed = serde_json::from_str::<serde_json::Value>(&text).is_ok();
            assert_eq!(super::json_depth(&text) <= super::MAX_JSON_DEPTH, parsed, "depth {n}");
        }
        assert_eq!(super::json_depth(r#"{"a": "[[[{{\"]]", "b": [{"c": []}]}"#), 4);
    }
}
