//! Loading a definition: parse the JSON, validate it as AWS's CreateStateMachine does (every
//! problem with its code and JSON location), and compile it into an immutable, shareable
//! form with paths, templates, rules and expressions ready to evaluate.
//!
//! Layout: this module is the compiled model ([`StateMachine`] and the states, rules and
//! templates the interpreter walks); `compile` validates and compiles a whole definition and
//! each state's common fields, `fields` parses single fields, `kinds` the fields particular to
//! Wait, Task, Map, Retry/Catch and Choice.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::choice::{self, Operand, Rule};
use crate::error::{DefinitionError, Diagnostic};
use crate::intrinsic::{self, Call};
use crate::jsonata::Expr;
use crate::jsonpath::{JsonPath, Root};
use crate::payload::{escape_pointer, Template};

/// Which expression language a state's fields use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    JsonPath,
    Jsonata,
}

/// Workflow type: Express machines reject long-running integration patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineType {
    #[default]
    Express,
    Standard,
}

/// InputPath / OutputPath / ResultPath: absent, explicitly null, or a path.
#[derive(Debug, Clone)]
pub(crate) enum PathOpt {
    Default,
    Null,
    Path(JsonPath),
}

/// A JSONata-mode value: JSON in which `{% … %}` strings are expressions.
#[derive(Debug, Clone)]
pub(crate) enum JTemplate {
    Const(Value),
    Expr(Box<Expr>),
    Object(Vec<(String, JTemplate)>),
    Array(Vec<JTemplate>),
}

/// A field that is either fixed or computed at run time.
#[derive(Debug, Clone)]
pub(crate) enum Dyn<T> {
    Lit(T),
    Path(JsonPath),
    Call(Box<Call>),
    Ata(JTemplate),
}

#[derive(Debug, Clone)]
pub(crate) enum Assign {
    Path(Template),
    Ata(Vec<(String, JTemplate)>),
}

#[derive(Debug, Clone)]
pub(crate) enum Condition {
    Path(Rule),
    Ata(JTemplate),
}

#[derive(Debug, Clone)]
pub(crate) struct ChoiceBranch {
    pub cond: Condition,
    pub next: usize,
    pub assign: Option<Assign>,
    pub output: Option<JTemplate>,
}

#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub errors: Vec<String>,
    pub interval: f64,
    pub max_attempts: u32,
    pub backoff: f64,
    pub max_delay: Option<f64>,
    pub jitter: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub errors: Vec<String>,
    pub result_path: PathOpt,
    pub next: usize,
    pub assign: Option<Assign>,
    pub output: Option<JTemplate>,
}

#[derive(Debug, Clone)]
pub(crate) enum WaitSpec {
    Seconds(Dyn<u64>),
    Timestamp(Dyn<String>),
}

#[derive(Debug, Clone)]
pub(crate) struct TaskSpec {
    pub resource: String,
    pub timeout: Option<Dyn<u64>>,
    pub heartbeat: Option<Dyn<u64>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    pub max_items: Option<Dyn<u64>>,
    pub max_bytes: Option<Dyn<u64>>,
    pub batch_input: Option<Template>,
    pub batch_input_ata: Option<JTemplate>,
}

#[derive(Debug, Clone)]
pub(crate) struct MapSpec {
    pub items_path: Option<JsonPath>,
    pub items: Option<JTemplate>,
    pub item_selector: Option<Template>,
    pub item_selector_ata: Option<JTemplate>,
    pub batcher: Option<Batcher>,
    pub processor: Block,
    pub max_concurrency: Option<Dyn<u64>>,
    pub tolerated_pct: Option<Dyn<f64>>,
    pub tolerated_count: Option<Dyn<u64>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Pass { result: Option<Value> },
    Task(Box<TaskSpec>),
    Choice { choices: Vec<ChoiceBranch>, default: Option<usize> },
    Wait(WaitSpec),
    Succeed,
    Fail { error: Option<Dyn<String>>, cause: Option<Dyn<String>> },
    Parallel { branches: Vec<Block> },
    Map(Box<MapSpec>),
}

impl Kind {
    /// Whether running the state may wait (for a timer, a task or other states); the others
    /// run to their end at once.
    pub fn may_wait(&self) -> bool {
        matches!(self, Kind::Task(_) | Kind::Wait(_) | Kind::Parallel { .. } | Kind::Map(_))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub name: Arc<str>,
    pub type_name: &'static str,
    /// The history events of entering and leaving the state (a Fail state is never left).
    pub entered_event: crate::events::EventType,
    pub exited_event: Option<crate::events::EventType>,
    pub ql: QueryLanguage,
    pub kind: Kind,
    pub input_path: PathOpt,
    pub output_path: PathOpt,
    pub result_path: PathOpt,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub arguments: Option<JTemplate>,
    pub output: Option<JTemplate>,
    pub assign: Option<Assign>,
    /// `None` for terminal states (End, Succeed, Fail, Choice).
    pub next: Option<usize>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// A Parallel that runs its branches at once, one after the other, without a future:
    /// they never wait and cannot loop, and together enter at most [`AT_ONCE_STATES`]
    /// states; it has no Retry (whose backoff waits).
    pub at_once: bool,
}

/// The most states an at-once Parallel's branches may enter in all ([`State::at_once`]):
/// as many as a run enters between two yields.
pub(crate) const AT_ONCE_STATES: usize = 64;

impl State {
    /// Whether running the state may wait: a Task, a Wait, a Map, and a Parallel unless it
    /// runs at once.
    #[inline]
    pub fn waits(&self) -> bool {
        self.kind.may_wait() && !self.at_once
    }
}

/// A list of states with a start: the machine itself, a Parallel branch or a Map processor.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub start: usize,
    pub states: Vec<State>,
    pub timeout_seconds: Option<u64>,
    /// No state of the block may wait ([`State::waits`]): it runs to its end at once.
    pub never_waits: bool,
    /// The most states one run of the block can enter, when it never waits and cannot loop
    /// (an at-once Parallel counts with its branches); `None` otherwise.
    pub most_states: Option<usize>,
}

/// A validated, compiled state machine. Cheap to share between executions (`Arc`).
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub(crate) root: Block,
    pub(crate) reads_context: bool,
    comment: Option<String>,
}

impl StateMachine {
    /// Parse, validate and compile a definition written as JSON text.
    pub fn from_json(text: &str) -> Result<StateMachine, DefinitionError> {
        Self::from_json_with(text, MachineType::Express)
    }

    pub fn from_json_with(text: &str, ty: MachineType) -> Result<StateMachine, DefinitionError> {
        if text.len() > MAX_DEFINITION_BYTES {
            return Err(DefinitionError::TooLarge { size: text.len(), limit: MAX_DEFINITION_BYTES });
        }
        let value: Value = parse_json(text).map_err(DefinitionError::Json)?;
        Self::from_value(&value, ty)
    }

    pub fn from_value(def: &Value, ty: MachineType) -> Result<StateMachine, DefinitionError> {
        compile::compile(def, ty)
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// Overall time limit from the definition's `TimeoutSeconds`, if any.
    /// Whether a state reads the Context object (`$$`, `$states.context`): only then does an
    /// execution's identity (ARN, name, start time, input) reach what it computes.
    pub fn reads_context(&self) -> bool {
        self.reads_context
    }

    pub fn timeout_seconds(&self) -> Option<u64> {
        self.root.timeout_seconds
    }
}

/// Largest definition accepted (AWS's limit: 1 MiB).
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// Parse JSON with a nesting limit so hostile documents get an error rather than a stack overflow.
pub fn parse_json(text: &str) -> Result<Value, String> {
    // serde_json itself refuses nesting more than 127 levels deep.
    serde_json::from_str(text).map_err(|e| crate::error::json_error(&e))
}

mod compile;
mod fields;
mod kinds;

use compile::*;
