//! The data a state's expressions can read: its input, the Context object and variables.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::jsonpath::{JsonPath, Root};

/// Facts about one execution that the Context object exposes.
#[derive(Debug, Clone, Default)]
pub struct ExecutionInfo {
    pub execution_arn: String,
    pub execution_name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub start_time: String,
    /// The execution input, kept only when the definition reads `$$.Execution.Input`.
    pub input: Option<Value>,
    /// How many nested-execution tasks led to this execution (0: a caller started it).
    pub depth: u32,
    /// An upper bound of the input's serialized size, when the caller parsed it from text
    /// ([`crate::exec::text_size_bound`]); the interpreter measures the input otherwise.
    pub input_size_bound: Option<usize>,
}

/// The per-state part of the Context object, built into a JSON value only when read.
#[derive(Debug)]
pub struct ContextSource<'a> {
    pub exec: &'a ExecutionInfo,
    pub state_name: &'a str,
    pub entered_time: String,
    pub retry_count: u32,
    pub map_item: Option<(usize, Value)>,
    built: OnceLock<Value>,
}

impl<'a> ContextSource<'a> {
    pub fn new(exec: &'a ExecutionInfo, state_name: &'a str, entered_time: String) -> Self {
        ContextSource { exec, state_name, entered_time, retry_count: 0, map_item: None, built: OnceLock::new() }
    }

    /// A Context object given whole (TestState's `context`), instead of one built from `exec`.
    pub fn with_value(exec: &'a ExecutionInfo, state_name: &'a str, value: Value) -> Self {
        let mut c = ContextSource::new(exec, state_name, String::new());
        c.built = OnceLock::from(value);
        c
    }

    pub fn value(&self) -> &Value {
        self.built.get_or_init(|| {
            let e = &self.exec;
            let mut ctx = serde_json::json!({
                "Execution": {
                    "Id": e.execution_arn,
                    "Input": e.input.clone().unwrap_or(Value::Object(Map::new())),
                    "Name": e.execution_name,
                    "RoleArn": e.role_arn,
                    "StartTime": e.start_time,
                    "RedriveCount": 0,
                },
                "State": {
                    "EnteredTime": self.entered_time,
                    "Name": &*self.state_name,
                    "RetryCount": self.retry_count,
                },
                "StateMachine": {"Id": e.state_machine_arn, "Name": e.state_machine_name},
            });
            if let Some((index, value)) = &self.map_item {
                ctx["Map"] = serde_json::json!({"Item": {"Index": index, "Value": value}});
            }
            ctx
        })
    }
}

/// Variables in scope: a state's own block, then the blocks that contain it (read-only).
#[derive(Debug, Default)]
pub struct Vars<'p> {
    parent: Option<&'p Vars<'p>>,
    /// Made at the first assignment: most blocks assign nothing, and an empty map still
    /// costs its hasher's seed.
    local: Option<Map<String, Value>>,
}

impl<'p> Vars<'p> {
    pub fn new() -> Self {
        Vars::default()
    }

    pub fn child(parent: &'p Vars<'p>) -> Self {
        Vars { parent: Some(parent), local: None }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.local.as_ref().and_then(|l| l.get(name)).or_else(|| self.parent.and_then(|p| p.get(name)))
    }

    pub fn set(&mut self, name: String, value: Value) {
        self.local.get_or_insert_with(Map::new).insert(name, value);
    }

    /// The variables of this block itself (not those of the blocks that contain it), if it
    /// assigned any.
    pub fn local(&self) -> Option<&Map<String, Value>> {
        self.local.as_ref().filter(|l| !l.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.local().is_none() && self.parent.is_none_or(|p| p.is_empty())
    }
}

/// What an expression evaluates against.
pub struct Env<'a> {
    pub input: &'a Value,
    pub ctx: &'a ContextSource<'a>,
    pub vars: &'a Vars<'a>,
}

impl<'a> Env<'a> {
    pub fn path(&self, p: &JsonPath) -> Option<Cow<'a, Value>> {
        match p.root() {
            Root::Input => p.eval(self.input),
            Root::Context => p.eval(self.ctx.value()),
            Root::Variable(name) => p.eval(self.vars.get(name)?),
        }
    }

    pub fn input_string(&self) -> String {
        self.input.to_string()
    }

    #[cfg(test)]
    pub fn for_tests(input: &'a Value) -> Self {
        static EXEC: OnceLock<ExecutionInfo> = OnceLock::new();
        static CTX: OnceLock<ContextSource<'static>> = OnceLock::new();
        static VARS: OnceLock<Vars<'static>> = OnceLock::new();
        Env {
            input,
            ctx: CTX.get_or_init(|| ContextSource::new(EXEC.get_or_init(ExecutionInfo::default), "", String::new())),
            vars: VARS.get_or_init(Vars::new),
        }
    }
}
