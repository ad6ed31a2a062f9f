//! JSONata (placeholder while the evaluator is written).

use serde_json::Value;

/// Names an expression can read besides its input: `$states` and workflow variables.
pub trait Bindings {
    fn get(&self, name: &str) -> Option<&Value>;
}

#[derive(Debug, Clone)]
pub struct Expr {
    src: String,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct JsonataError {
    pub code: &'static str,
    pub message: String,
}

impl Expr {
    pub fn parse(src: &str) -> Result<Expr, String> {
        Ok(Expr { src: src.trim().to_string() })
    }
    pub fn source(&self) -> &str {
        &self.src
    }
    pub fn reads_context(&self) -> bool {
        self.src.contains("context")
    }
    pub fn evaluate(&self, _b: &dyn Bindings) -> Result<Option<Value>, JsonataError> {
        Err(JsonataError { code: "D0000", message: "JSONata is not implemented yet".into() })
    }
}
