//! Loading a definition: parse the JSON, validate it as AWS's CreateStateMachine does (every
//! problem with its code and JSON location), and compile it into an immutable, shareable
//! form with paths, templates, rules and expressions ready to evaluate.

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

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub name: Arc<str>,
    pub type_name: &'static str,
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
}

/// A list of states with a start: the machine itself, a Parallel branch or a Map processor.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub start: usize,
    pub states: Vec<State>,
    pub timeout_seconds: Option<u64>,
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
        let mut c = Compiler { diags: Vec::new(), ty, reads_context: false };
        let Some(obj) = def.as_object() else {
            return Err(DefinitionError::Invalid(vec![diag(
                "SCHEMA_VALIDATION_FAILED",
                "The state machine definition must be a JSON object".into(),
                "",
            )]));
        };
        let ql = match obj.get("QueryLanguage") {
            None => QueryLanguage::JsonPath,
            Some(v) => c.query_language(v, "/QueryLanguage").unwrap_or(QueryLanguage::JsonPath),
        };
        let root = c.block(obj, "", ql, true);
        if !c.diags.is_empty() {
            return Err(DefinitionError::Invalid(c.diags));
        }
        let root = root.ok_or_else(|| DefinitionError::Invalid(vec![]))?;
        Ok(StateMachine {
            root,
            reads_context: c.reads_context,
            comment: obj.get("Comment").and_then(Value::as_str).map(str::to_string),
        })
    }

    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// Overall time limit from the definition's `TimeoutSeconds`, if any.
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

fn diag(code: &'static str, message: String, location: &str) -> Diagnostic {
    Diagnostic { code, message, location: location.to_string() }
}

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

fn allowed_fields(ty: &str, ql: QueryLanguage) -> Vec<&'static str> {
    let mut f: Vec<&'static str> = COMMON.to_vec();
    let jp = ql == QueryLanguage::JsonPath;
    let flow = ["Next", "End"];
    match ty {
        "Pass" => {
            f.extend(flow);
            f.push("Assign");
            if jp {
                f.extend(["InputPath", "OutputPath", "Parameters", "ResultPath", "Result"]);
            } else {
                f.push("Output");
            }
        }
        "Task" => {
            f.extend(flow);
            f.extend(["Resource", "TimeoutSeconds", "HeartbeatSeconds", "Retry", "Catch", "Assign", "Credentials"]);
            if jp {
                f.extend([
                    "InputPath",
                    "OutputPath",
                    "Parameters",
                    "ResultPath",
                    "ResultSelector",
                    "TimeoutSecondsPath",
                    "HeartbeatSecondsPath",
                ]);
            } else {
                f.extend(["Arguments", "Output"]);
            }
        }
        "Choice" => {
            f.extend(["Choices", "Default", "Assign"]);
            if jp {
                f.extend(["InputPath", "OutputPath"]);
            } else {
                f.push("Output");
            }
        }
        "Wait" => {
            f.extend(flow);
            f.extend(["Seconds", "Timestamp", "Assign"]);
            if jp {
                f.extend(["InputPath", "OutputPath", "SecondsPath", "TimestampPath"]);
            } else {
                f.push("Output");
            }
        }
        "Succeed" => {
            if jp {
                f.extend(["InputPath", "OutputPath"]);
            } else {
                f.push("Output");
            }
        }
        "Fail" => {
            f.extend(["Error", "Cause"]);
            if jp {
                f.extend(["ErrorPath", "CausePath"]);
            }
        }
        "Parallel" => {
            f.extend(flow);
            f.extend(["Branches", "Retry", "Catch", "Assign"]);
            if jp {
                f.extend(["InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector"]);
            } else {
                f.extend(["Arguments", "Output"]);
            }
        }
        "Map" => {
            f.extend(flow);
            f.extend([
                "Iterator",
                "ItemProcessor",
                "ItemSelector",
                "ItemBatcher",
                "ItemReader",
                "ResultWriter",
                "MaxConcurrency",
                "ToleratedFailurePercentage",
                "ToleratedFailureCount",
                "Label",
                "Retry",
                "Catch",
                "Assign",
            ]);
            if jp {
                f.extend([
                    "InputPath",
                    "OutputPath",
                    "Parameters",
                    "ResultPath",
                    "ResultSelector",
                    "ItemsPath",
                    "MaxConcurrencyPath",
                    "ToleratedFailurePercentagePath",
                    "ToleratedFailureCountPath",
                ]);
            } else {
                f.extend(["Items", "Output"]);
            }
        }
        _ => {}
    }
    f
}

struct Compiler {
    diags: Vec<Diagnostic>,
    ty: MachineType,
    reads_context: bool,
}

/// Names a state refers to, resolved once every state of the block is known.
struct Pending {
    name: String,
    loc: String,
}

/// A JSONata expression is a string that starts with `{%` and ends with `%}` exactly;
/// anything else (even with surrounding spaces) is a literal.
fn is_ata(s: &str) -> Option<&str> {
    if s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}") {
        Some(&s[2..s.len() - 2])
    } else {
        None
    }
}

impl Compiler {
    fn err(&mut self, code: &'static str, message: String, loc: &str) {
        self.diags.push(diag(code, message, loc));
    }

    fn schema(&mut self, message: String, loc: &str) {
        self.err("SCHEMA_VALIDATION_FAILED", message, loc);
    }

    fn query_language(&mut self, v: &Value, loc: &str) -> Option<QueryLanguage> {
        match v.as_str() {
            Some("JSONPath") => Some(QueryLanguage::JsonPath),
            Some("JSONata") => Some(QueryLanguage::Jsonata),
            _ => {
                self.schema("QueryLanguage must be JSONPath or JSONata".into(), loc);
                None
            }
        }
    }

    fn block(&mut self, obj: &Map<String, Value>, loc: &str, ql: QueryLanguage, top: bool) -> Option<Block> {
        let mut missing = Vec::new();
        let states_v = obj.get("States");
        let start_v = obj.get("StartAt");
        if states_v.is_none() {
            missing.push("States");
        }
        if start_v.is_none() {
            missing.push("StartAt");
        }
        if !missing.is_empty() {
            self.schema(
                format!("These fields are required: [{}]", missing.join(", ")),
                if loc.is_empty() { "/" } else { loc },
            );
            return None;
        }
        let allowed: &[&str] = if top {
            &["States", "StartAt", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"]
        } else {
            &["States", "StartAt", "Comment", "ProcessorConfig", "QueryLanguage"]
        };
        for k in obj.keys() {
            if !allowed.contains(&k.as_str()) {
                self.schema(format!("Field '{k}' is not supported"), &format!("{loc}/{}", escape_pointer(k)));
            }
        }
        let ql = match obj.get("QueryLanguage") {
            Some(v) if !top => self.query_language(v, &format!("{loc}/QueryLanguage")).unwrap_or(ql),
            _ => ql,
        };
        let timeout_seconds = match obj.get("TimeoutSeconds") {
            Some(v) if top => match v.as_u64() {
                Some(n) if n > 0 => Some(n),
                _ => {
                    self.schema("TimeoutSeconds must be a positive integer".into(), &format!("{loc}/TimeoutSeconds"));
                    None
                }
            },
            _ => None,
        };
        if let Some(pc) = obj.get("ProcessorConfig") {
            self.processor_config(pc, &format!("{loc}/ProcessorConfig"));
        }
        let Some(states) = states_v.and_then(Value::as_object) else {
            self.schema("States must be an object".into(), &format!("{loc}/States"));
            return None;
        };
        let Some(start) = start_v.and_then(Value::as_str) else {
            self.schema("StartAt must be a string".into(), &format!("{loc}/StartAt"));
            return None;
        };
        if states.is_empty() {
            self.schema("States must not be empty".into(), &format!("{loc}/States"));
            return None;
        }
        let names: HashMap<&str, usize> = states.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let mut pending: Vec<Vec<Pending>> = Vec::new();
        let mut compiled = Vec::with_capacity(states.len());
        for (name, sv) in states {
            let sloc = format!("{loc}/States/{}", escape_pointer(name));
            if name.is_empty() || name.chars().count() > 80 {
                self.schema("State names must be 1 to 80 characters long".into(), &sloc);
            }
            let mut refs = Vec::new();
            let st = self.state(name, sv, &sloc, ql, &names, &mut refs);
            pending.push(refs);
            compiled.push(st);
        }
        let start_idx = names.get(start).copied();
        if start_idx.is_none() {
            self.err(
                "MISSING_TRANSITION_TARGET",
                format!("Missing 'StartAt' target: {start}"),
                &format!("{loc}/StartAt"),
            );
        }
        for refs in &pending {
            for r in refs {
                if !names.contains_key(r.name.as_str()) {
                    self.err("MISSING_TRANSITION_TARGET", format!("Missing 'Next' target: {}", r.name), &r.loc);
                }
            }
        }
        // Reachability from StartAt (meaningless when StartAt itself is missing).
        let mut seen = HashSet::new();
        let mut stack = if start_idx.is_some() { vec![start] } else { Vec::new() };
        if start_idx.is_none() {
            seen.extend(states.keys().map(String::as_str));
        }
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            if let Some(&i) = names.get(n) {
                stack.extend(pending[i].iter().filter_map(|r| names.get_key_value(r.name.as_str()).map(|(k, _)| *k)));
            }
        }
        for name in states.keys() {
            if !seen.contains(name.as_str()) {
                self.err(
                    "UNREACHABLE_STATE",
                    format!("State '{name}' is not reachable"),
                    &format!("{loc}/States/{}", escape_pointer(name)),
                );
            }
        }
        let start_idx = start_idx?;
        if compiled.iter().any(Option::is_none) {
            return None;
        }
        Some(Block { start: start_idx, states: compiled.into_iter().flatten().collect(), timeout_seconds })
    }

    fn processor_config(&mut self, v: &Value, loc: &str) {
        let Some(o) = v.as_object() else {
            self.schema("ProcessorConfig must be an object".into(), loc);
            return;
        };
        for (k, x) in o {
            match k.as_str() {
                "Mode" => match x.as_str() {
                    Some("INLINE") => {}
                    Some("DISTRIBUTED") if self.ty == MachineType::Express => self.schema(
                        "DISTRIBUTED Map is not supported for EXPRESS state machines".into(),
                        &format!("{loc}/Mode"),
                    ),
                    Some("DISTRIBUTED") => {}
                    _ => self.schema("Mode must be INLINE or DISTRIBUTED".into(), &format!("{loc}/Mode")),
                },
                "ExecutionType" => {}
                _ => self.schema(format!("Field '{k}' is not supported"), &format!("{loc}/{k}")),
            }
        }
    }

    fn target(
        &mut self,
        v: Option<&Value>,
        loc: &str,
        names: &HashMap<&str, usize>,
        refs: &mut Vec<Pending>,
    ) -> Option<usize> {
        let v = v?;
        let Some(s) = v.as_str() else {
            self.schema("Next must be a string".into(), loc);
            return None;
        };
        refs.push(Pending { name: s.to_string(), loc: loc.to_string() });
        names.get(s).copied()
    }

    #[allow(clippy::too_many_lines)]
    fn state(
        &mut self,
        name: &str,
        sv: &Value,
        loc: &str,
        parent_ql: QueryLanguage,
        names: &HashMap<&str, usize>,
        refs: &mut Vec<Pending>,
    ) -> Option<State> {
        let Some(o) = sv.as_object() else {
            self.schema("A state must be an object".into(), loc);
            return None;
        };
        let Some(ty_v) = o.get("Type") else {
            self.schema("These fields are required: [Type]".into(), loc);
            return None;
        };
        let type_name: &'static str = match ty_v.as_str() {
            Some("Pass") => "Pass",
            Some("Task") => "Task",
            Some("Choice") => "Choice",
            Some("Wait") => "Wait",
            Some("Succeed") => "Succeed",
            Some("Fail") => "Fail",
            Some("Parallel") => "Parallel",
            Some("Map") => "Map",
            _ => {
                self.schema(format!("Invalid state type: {ty_v}"), &format!("{loc}/Type"));
                return None;
            }
        };
        let ql = match o.get("QueryLanguage") {
            Some(v) => {
                let q = self.query_language(v, &format!("{loc}/QueryLanguage")).unwrap_or(parent_ql);
                if parent_ql == QueryLanguage::Jsonata && q == QueryLanguage::JsonPath {
                    self.schema(
                        "A state cannot use JSONPath when the state machine's QueryLanguage is JSONata".into(),
                        &format!("{loc}/QueryLanguage"),
                    );
                }
                q
            }
            None => parent_ql,
        };
        let allowed = allowed_fields(type_name, ql);
        let before = self.diags.len();
        for k in o.keys() {
            if !allowed.contains(&k.as_str()) {
                let why = match (ql, k.as_str()) {
                    (
                        QueryLanguage::Jsonata,
                        "InputPath"
                        | "OutputPath"
                        | "Parameters"
                        | "ResultPath"
                        | "ResultSelector"
                        | "ItemsPath"
                        | "SecondsPath"
                        | "TimestampPath"
                        | "ErrorPath"
                        | "CausePath"
                        | "MaxConcurrencyPath"
                        | "TimeoutSecondsPath"
                        | "HeartbeatSecondsPath"
                        | "ToleratedFailurePercentagePath"
                        | "ToleratedFailureCountPath"
                        | "Result",
                    ) => format!("The field '{k}' is not supported when QueryLanguage is JSONata"),
                    (QueryLanguage::JsonPath, "Arguments" | "Output" | "Items") => {
                        format!("The field '{k}' is not supported when QueryLanguage is JSONPath")
                    }
                    _ => format!("Field '{k}' is not supported for a {type_name} state"),
                };
                self.schema(why, &format!("{loc}/{}", escape_pointer(k)));
            }
        }
        let schema_ok = self.diags.len() == before;

        let field = |k: &str| format!("{loc}/{k}");
        let input_path = self.path_opt(o.get("InputPath"), &field("InputPath"), false);
        let output_path = self.path_opt(o.get("OutputPath"), &field("OutputPath"), false);
        let result_path = self.path_opt(o.get("ResultPath"), &field("ResultPath"), true);
        let parameters = o.get("Parameters").map(|v| self.template(v, &field("Parameters")));
        let result_selector = o.get("ResultSelector").map(|v| self.template(v, &field("ResultSelector")));
        let arguments = o.get("Arguments").map(|v| self.jtemplate(v, &field("Arguments")));
        let output = o.get("Output").map(|v| self.jtemplate(v, &field("Output")));
        let assign = o.get("Assign").map(|v| self.assign(v, &field("Assign"), ql));

        // Transitions.
        let terminal = matches!(type_name, "Choice" | "Succeed" | "Fail");
        let mut next = None;
        if !terminal {
            let has_next = o.contains_key("Next");
            let end = o.get("End");
            match (has_next, end) {
                (true, Some(_)) => self.schema("Fields 'Next' and 'End' are mutually exclusive".into(), loc),
                (false, None) => self.schema("These fields are required: [Next or End]".into(), loc),
                (false, Some(e)) if e != &Value::Bool(true) => {
                    self.schema("End must be true".into(), &field("End"));
                }
                _ => {}
            }
            next = self.target(o.get("Next"), &field("Next"), names, refs);
        }

        let (retry, catch) = if matches!(type_name, "Task" | "Parallel" | "Map") {
            let retry = o.get("Retry").map(|v| self.retriers(v, &field("Retry"))).unwrap_or_default();
            let catch = o.get("Catch").map(|v| self.catchers(v, &field("Catch"), ql, names, refs)).unwrap_or_default();
            (retry, catch)
        } else {
            (Vec::new(), Vec::new())
        };

        let kind = match type_name {
            "Pass" => Kind::Pass { result: o.get("Result").cloned() },
            "Succeed" => Kind::Succeed,
            "Fail" => {
                let error = self.string_field(o, "Error", "ErrorPath", loc, ql);
                let cause = self.string_field(o, "Cause", "CausePath", loc, ql);
                Kind::Fail { error, cause }
            }
            "Wait" => self.wait(o, loc, ql)?,
            "Choice" => self.choice(o, loc, ql, names, refs)?,
            "Task" => self.task(o, loc, ql)?,
            "Parallel" => {
                let Some(branches) = o.get("Branches").and_then(Value::as_array) else {
                    self.schema("These fields are required: [Branches]".into(), loc);
                    return None;
                };
                let mut out = Vec::new();
                for (i, b) in branches.iter().enumerate() {
                    let bloc = format!("{loc}/Branches/{i}");
                    match b.as_object() {
                        Some(bo) => out.extend(self.block(bo, &bloc, ql, false)),
                        None => self.schema("A branch must be an object".into(), &bloc),
                    }
                }
                if out.len() != branches.len() {
                    return None;
                }
                Kind::Parallel { branches: out }
            }
            "Map" => self.map(o, loc, ql)?,
            _ => return None,
        };
        if !schema_ok {
            return None;
        }
        Some(State {
            name: name.into(),
            type_name,
            ql,
            kind,
            input_path,
            output_path,
            result_path,
            parameters,
            result_selector,
            arguments,
            output,
            assign,
            next,
            retry,
            catch,
        })
    }

    fn note_path(&mut self, p: &JsonPath) {
        if matches!(p.root(), Root::Context) {
            self.reads_context = true;
        }
    }

    fn path_opt(&mut self, v: Option<&Value>, loc: &str, reference: bool) -> PathOpt {
        match v {
            None => PathOpt::Default,
            Some(Value::Null) => PathOpt::Null,
            Some(Value::String(s)) => match JsonPath::parse(s) {
                Ok(p) if reference && (!p.is_reference() || !matches!(p.root(), Root::Input)) => {
                    self.schema(format!("The value for the field must be a valid Reference Path: {s}"), loc);
                    PathOpt::Default
                }
                Ok(p) => {
                    self.note_path(&p);
                    PathOpt::Path(p)
                }
                Err(e) => {
                    self.schema(format!("The value for the field must be a valid JSONPath: {}", e.reason), loc);
                    PathOpt::Default
                }
            },
            Some(_) => {
                self.schema("The value for the field must be a string or null".into(), loc);
                PathOpt::Default
            }
        }
    }

    fn path(&mut self, v: &Value, loc: &str) -> Option<JsonPath> {
        match v.as_str().map(JsonPath::parse) {
            Some(Ok(p)) => {
                self.note_path(&p);
                Some(p)
            }
            Some(Err(e)) => {
                self.schema(format!("The value for the field must be a valid JSONPath: {}", e.reason), loc);
                None
            }
            None => {
                self.schema("The value for the field must be a string".into(), loc);
                None
            }
        }
    }

    fn template(&mut self, v: &Value, loc: &str) -> Template {
        let t = Template::compile(v, loc, &mut self.diags);
        if t.reads_context() {
            self.reads_context = true;
        }
        t
    }

    fn jtemplate(&mut self, v: &Value, loc: &str) -> JTemplate {
        match v {
            Value::String(s) => match is_ata(s) {
                Some(src) => match Expr::parse(src) {
                    Ok(e) => {
                        if e.reads_context() {
                            self.reads_context = true;
                        }
                        JTemplate::Expr(Box::new(e))
                    }
                    Err(msg) => {
                        self.schema(format!("The JSONata expression '{src}' is not valid: {msg}"), loc);
                        JTemplate::Const(Value::Null)
                    }
                },
                None => JTemplate::Const(v.clone()),
            },
            Value::Object(o) => {
                let fields: Vec<(String, JTemplate)> = o
                    .iter()
                    .map(|(k, x)| (k.clone(), self.jtemplate(x, &format!("{loc}/{}", escape_pointer(k)))))
                    .collect();
                if fields.iter().all(|(_, t)| matches!(t, JTemplate::Const(_))) {
                    JTemplate::Const(v.clone())
                } else {
                    JTemplate::Object(fields)
                }
            }
            Value::Array(a) => {
                let items: Vec<JTemplate> =
                    a.iter().enumerate().map(|(i, x)| self.jtemplate(x, &format!("{loc}/{i}"))).collect();
                if items.iter().all(|t| matches!(t, JTemplate::Const(_))) {
                    JTemplate::Const(v.clone())
                } else {
                    JTemplate::Array(items)
                }
            }
            other => JTemplate::Const(other.clone()),
        }
    }

    fn assign(&mut self, v: &Value, loc: &str, ql: QueryLanguage) -> Assign {
        let Some(o) = v.as_object() else {
            self.schema("Assign must be an object".into(), loc);
            return Assign::Ata(Vec::new());
        };
        for k in o.keys() {
            let name = k.strip_suffix(".$").unwrap_or(k);
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.len() <= 80;
            if !valid || name == "states" {
                self.schema(
                    format!("The variable name '{name}' is not valid"),
                    &format!("{loc}/{}", escape_pointer(k)),
                );
            }
        }
        match ql {
            QueryLanguage::JsonPath => Assign::Path(self.template(v, loc)),
            QueryLanguage::Jsonata => Assign::Ata(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.jtemplate(x, &format!("{loc}/{}", escape_pointer(k)))))
                    .collect(),
            ),
        }
    }

    /// Error/Cause of a Fail state (with their Path forms).
    fn string_field(
        &mut self,
        o: &Map<String, Value>,
        lit: &str,
        path: &str,
        loc: &str,
        ql: QueryLanguage,
    ) -> Option<Dyn<String>> {
        match (o.get(lit), o.get(path)) {
            (Some(_), Some(_)) => {
                self.schema(format!("Fields '{lit}' and '{path}' are mutually exclusive"), loc);
                None
            }
            (Some(Value::String(s)), None) => {
                if ql == QueryLanguage::Jsonata && is_ata(s).is_some() {
                    Some(Dyn::Ata(self.jtemplate(&Value::String(s.clone()), &format!("{loc}/{lit}"))))
                } else {
                    Some(Dyn::Lit(s.clone()))
                }
            }
            (Some(_), None) => {
                self.schema(format!("The field '{lit}' must be a string"), &format!("{loc}/{lit}"));
                None
            }
            (None, Some(v)) => {
                let ploc = format!("{loc}/{path}");
                match v.as_str() {
                    Some(s) if intrinsic::looks_like_call(s) => match Call::parse(s) {
                        Ok(c) => Some(Dyn::Call(Box::new(c))),
                        Err(e) => {
                            self.schema(
                                format!(
                                    "The value for the field '{path}' must be a valid intrinsic function call: {e}"
                                ),
                                &ploc,
                            );
                            None
                        }
                    },
                    _ => self.path(v, &ploc).map(Dyn::Path),
                }
            }
            (None, None) => None,
        }
    }

    /// An integer field with an optional `…Path` form (JSONPath) or JSONata expression.
    fn int_field(
        &mut self,
        o: &Map<String, Value>,
        lit: &str,
        path: Option<&str>,
        loc: &str,
        ql: QueryLanguage,
        min: u64,
    ) -> Option<Dyn<u64>> {
        let p = path.and_then(|p| o.get(p).map(|v| (p, v)));
        match (o.get(lit), p) {
            (Some(_), Some((pn, _))) => {
                self.schema(format!("Fields '{lit}' and '{pn}' are mutually exclusive"), loc);
                None
            }
            (Some(v), None) => {
                let floc = format!("{loc}/{lit}");
                if let (QueryLanguage::Jsonata, Some(s)) = (ql, v.as_str()) {
                    if is_ata(s).is_some() {
                        return Some(Dyn::Ata(self.jtemplate(v, &floc)));
                    }
                }
                match v.as_u64() {
                    Some(n) if n >= min && n <= 99_999_999 => Some(Dyn::Lit(n)),
                    _ => {
                        self.schema(format!("The field '{lit}' must be an integer from {min} to 99999999"), &floc);
                        None
                    }
                }
            }
            (None, Some((pn, v))) => self.path(v, &format!("{loc}/{pn}")).map(Dyn::Path),
            (None, None) => None,
        }
    }

    fn wait(&mut self, o: &Map<String, Value>, loc: &str, ql: QueryLanguage) -> Option<Kind> {
        let present: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
            .into_iter()
            .filter(|k| o.contains_key(*k))
            .collect();
        if present.len() != 1 {
            self.schema("A Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath".into(), loc);
            return None;
        }
        match present[0] {
            "Seconds" | "SecondsPath" => {
                self.int_field(o, "Seconds", Some("SecondsPath"), loc, ql, 0).map(|d| Kind::Wait(WaitSpec::Seconds(d)))
            }
            "Timestamp" => {
                let floc = format!("{loc}/Timestamp");
                let v = &o["Timestamp"];
                let s = v.as_str().unwrap_or_default();
                if ql == QueryLanguage::Jsonata && is_ata(s).is_some() {
                    return Some(Kind::Wait(WaitSpec::Timestamp(Dyn::Ata(self.jtemplate(v, &floc)))));
                }
                if choice::parse_timestamp(s).is_none() {
                    self.schema("String does not match RFC3339 timestamp".into(), &floc);
                    return None;
                }
                Some(Kind::Wait(WaitSpec::Timestamp(Dyn::Lit(s.to_string()))))
            }
            _ => self
                .path(&o["TimestampPath"], &format!("{loc}/TimestampPath"))
                .map(|p| Kind::Wait(WaitSpec::Timestamp(Dyn::Path(p)))),
        }
    }

    fn task(&mut self, o: &Map<String, Value>, loc: &str, ql: QueryLanguage) -> Option<Kind> {
        let Some(resource) = o.get("Resource").and_then(Value::as_str) else {
            self.schema("These fields are required: [Resource]".into(), loc);
            return None;
        };
        if !resource.starts_with("arn:") {
            self.schema(format!("Resource '{resource}' is not a valid ARN"), &format!("{loc}/Resource"));
        }
        if self.ty == MachineType::Express {
            let rloc = format!("{loc}/Resource");
            if resource.ends_with(".sync") || resource.contains(".sync:") {
                self.schema("The .sync integration pattern is not supported for EXPRESS state machines".into(), &rloc);
            } else if resource.ends_with(".waitForTaskToken") {
                self.schema(
                    "The .waitForTaskToken integration pattern is not supported for EXPRESS state machines".into(),
                    &rloc,
                );
            } else if resource.contains(":activity:") {
                self.schema("Activities are not supported for EXPRESS state machines".into(), &rloc);
            }
        }
        let timeout = self.int_field(o, "TimeoutSeconds", Some("TimeoutSecondsPath"), loc, ql, 1);
        let heartbeat = self.int_field(o, "HeartbeatSeconds", Some("HeartbeatSecondsPath"), loc, ql, 1);
        if let (Some(Dyn::Lit(t)), Some(Dyn::Lit(h))) = (&timeout, &heartbeat) {
            if h >= t {
                self.schema(
                    "HeartbeatSeconds must be smaller than TimeoutSeconds".into(),
                    &format!("{loc}/HeartbeatSeconds"),
                );
            }
        }
        Some(Kind::Task(Box::new(TaskSpec { resource: resource.to_string(), timeout, heartbeat })))
    }

    fn map(&mut self, o: &Map<String, Value>, loc: &str, ql: QueryLanguage) -> Option<Kind> {
        let (proc_key, proc_v) = match (o.get("ItemProcessor"), o.get("Iterator")) {
            (Some(p), None) => ("ItemProcessor", p),
            (None, Some(i)) => ("Iterator", i),
            (Some(_), Some(_)) => {
                self.schema("Fields 'ItemProcessor' and 'Iterator' are mutually exclusive".into(), loc);
                return None;
            }
            (None, None) => {
                self.schema("These fields are required: [ItemProcessor]".into(), loc);
                return None;
            }
        };
        if o.contains_key("Parameters") && o.contains_key("ItemSelector") {
            self.schema("Fields 'Parameters' and 'ItemSelector' are mutually exclusive".into(), loc);
        }
        if o.contains_key("ItemReader") || o.contains_key("ResultWriter") {
            if self.ty == MachineType::Express {
                self.schema(
                    "ItemReader and ResultWriter need a DISTRIBUTED Map, which EXPRESS state machines do not support"
                        .into(),
                    loc,
                );
            } else {
                self.schema("ItemReader and ResultWriter are not supported yet".into(), loc);
            }
        }
        let ploc = format!("{loc}/{proc_key}");
        let processor = match proc_v.as_object() {
            Some(po) => self.block(po, &ploc, ql, false),
            None => {
                self.schema("The item processor must be an object".into(), &ploc);
                None
            }
        }?;
        let items_path = o.get("ItemsPath").and_then(|v| self.path(v, &format!("{loc}/ItemsPath")));
        let items = o.get("Items").map(|v| {
            let t = self.jtemplate(v, &format!("{loc}/Items"));
            if let JTemplate::Const(c) = &t {
                if !c.is_array() {
                    self.schema("Items must be an array or a JSONata expression".into(), &format!("{loc}/Items"));
                }
            }
            t
        });
        let selector_v = o.get("ItemSelector").or_else(|| o.get("Parameters"));
        let (item_selector, item_selector_ata) = match (ql, selector_v) {
            (_, None) => (None, None),
            (QueryLanguage::JsonPath, Some(v)) => (Some(self.template(v, &format!("{loc}/ItemSelector"))), None),
            (QueryLanguage::Jsonata, Some(v)) => (None, Some(self.jtemplate(v, &format!("{loc}/ItemSelector")))),
        };
        let batcher = o.get("ItemBatcher").and_then(|v| {
            let bloc = format!("{loc}/ItemBatcher");
            let Some(bo) = v.as_object() else {
                self.schema("ItemBatcher must be an object".into(), &bloc);
                return None;
            };
            let max_items = self.int_field(bo, "MaxItemsPerBatch", Some("MaxItemsPerBatchPath"), &bloc, ql, 0);
            let max_bytes =
                self.int_field(bo, "MaxInputBytesPerBatch", Some("MaxInputBytesPerBatchPath"), &bloc, ql, 0);
            let (batch_input, batch_input_ata) = match (ql, bo.get("BatchInput")) {
                (_, None) => (None, None),
                (QueryLanguage::JsonPath, Some(v)) => (Some(self.template(v, &format!("{bloc}/BatchInput"))), None),
                (QueryLanguage::Jsonata, Some(v)) => (None, Some(self.jtemplate(v, &format!("{bloc}/BatchInput")))),
            };
            Some(Batcher { max_items, max_bytes, batch_input, batch_input_ata })
        });
        let max_concurrency = self.int_field(o, "MaxConcurrency", Some("MaxConcurrencyPath"), loc, ql, 0);
        let tolerated_count = self.int_field(o, "ToleratedFailureCount", Some("ToleratedFailureCountPath"), loc, ql, 0);
        let tolerated_pct = match (o.get("ToleratedFailurePercentage"), o.get("ToleratedFailurePercentagePath")) {
            (Some(_), Some(_)) => {
                self.schema(
                    "Fields 'ToleratedFailurePercentage' and 'ToleratedFailurePercentagePath' are mutually exclusive"
                        .into(),
                    loc,
                );
                None
            }
            (Some(v), None) => {
                let floc = format!("{loc}/ToleratedFailurePercentage");
                match (v.as_f64(), v.as_str()) {
                    (Some(x), _) if (0.0..=100.0).contains(&x) => Some(Dyn::Lit(x)),
                    (_, Some(s)) if ql == QueryLanguage::Jsonata && is_ata(s).is_some() => {
                        Some(Dyn::Ata(self.jtemplate(v, &floc)))
                    }
                    _ => {
                        self.schema("ToleratedFailurePercentage must be a number from 0 to 100".into(), &floc);
                        None
                    }
                }
            }
            (None, Some(v)) => self.path(v, &format!("{loc}/ToleratedFailurePercentagePath")).map(Dyn::Path),
            (None, None) => None,
        };
        Some(Kind::Map(Box::new(MapSpec {
            items_path,
            items,
            item_selector,
            item_selector_ata,
            batcher,
            processor,
            max_concurrency,
            tolerated_pct,
            tolerated_count,
        })))
    }

    fn error_list(&mut self, o: &Map<String, Value>, loc: &str) -> Vec<String> {
        let Some(arr) = o.get("ErrorEquals").and_then(Value::as_array) else {
            self.schema("These fields are required: [ErrorEquals]".into(), loc);
            return Vec::new();
        };
        if arr.is_empty() {
            self.schema("ErrorEquals must not be empty".into(), &format!("{loc}/ErrorEquals"));
        }
        let names: Vec<String> = arr.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        if names.len() != arr.len() {
            self.schema("ErrorEquals must hold strings".into(), &format!("{loc}/ErrorEquals"));
        }
        if names.iter().any(|n| n == "States.ALL") && names.len() > 1 {
            self.schema("States.ALL must appear alone in ErrorEquals".into(), &format!("{loc}/ErrorEquals"));
        }
        names
    }

    fn check_all_last(&mut self, lists: &[Vec<String>], loc: &str) {
        for (i, l) in lists.iter().enumerate() {
            if i + 1 < lists.len() && l.iter().any(|n| n == "States.ALL") {
                self.schema("States.ALL must be the last error matcher".into(), &format!("{loc}/{i}/ErrorEquals"));
            }
        }
    }

    fn retriers(&mut self, v: &Value, loc: &str) -> Vec<Retrier> {
        let Some(arr) = v.as_array() else {
            self.schema("Retry must be an array".into(), loc);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, r) in arr.iter().enumerate() {
            let rloc = format!("{loc}/{i}");
            let Some(o) = r.as_object() else {
                self.schema("A retrier must be an object".into(), &rloc);
                continue;
            };
            for k in o.keys() {
                if ![
                    "ErrorEquals",
                    "IntervalSeconds",
                    "MaxAttempts",
                    "BackoffRate",
                    "MaxDelaySeconds",
                    "JitterStrategy",
                    "Comment",
                ]
                .contains(&k.as_str())
                {
                    self.schema(format!("Field '{k}' is not supported in a retrier"), &format!("{rloc}/{k}"));
                }
            }
            let errors = self.error_list(o, &rloc);
            let num = |c: &mut Self, k: &str, def: f64, min: f64, int: bool| -> f64 {
                match o.get(k) {
                    None => def,
                    Some(v) => match v.as_f64() {
                        Some(x) if x >= min && (!int || x.fract() == 0.0) && x <= 99_999_999.0 => x,
                        _ => {
                            c.schema(format!("The field '{k}' has an invalid value: {v}"), &format!("{rloc}/{k}"));
                            def
                        }
                    },
                }
            };
            let interval = num(self, "IntervalSeconds", 1.0, 1.0, true);
            let max_attempts = num(self, "MaxAttempts", 3.0, 0.0, true) as u32;
            let backoff = num(self, "BackoffRate", 2.0, 1.0, false);
            let max_delay = o.get("MaxDelaySeconds").map(|_| num(self, "MaxDelaySeconds", 0.0, 1.0, true));
            let jitter = match o.get("JitterStrategy").map(|v| v.as_str()) {
                None | Some(Some("NONE")) => false,
                Some(Some("FULL")) => true,
                _ => {
                    self.schema("JitterStrategy must be FULL or NONE".into(), &format!("{rloc}/JitterStrategy"));
                    false
                }
            };
            out.push(Retrier { errors, interval, max_attempts, backoff, max_delay, jitter });
        }
        let lists: Vec<Vec<String>> = out.iter().map(|r| r.errors.clone()).collect();
        self.check_all_last(&lists, loc);
        out
    }

    fn catchers(
        &mut self,
        v: &Value,
        loc: &str,
        ql: QueryLanguage,
        names: &HashMap<&str, usize>,
        refs: &mut Vec<Pending>,
    ) -> Vec<Catcher> {
        let Some(arr) = v.as_array() else {
            self.schema("Catch must be an array".into(), loc);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, c) in arr.iter().enumerate() {
            let cloc = format!("{loc}/{i}");
            let Some(o) = c.as_object() else {
                self.schema("A catcher must be an object".into(), &cloc);
                continue;
            };
            let mut allowed = vec!["ErrorEquals", "Next", "Comment", "Assign"];
            allowed.push(if ql == QueryLanguage::JsonPath { "ResultPath" } else { "Output" });
            for k in o.keys() {
                if !allowed.contains(&k.as_str()) {
                    self.schema(format!("Field '{k}' is not supported in a catcher"), &format!("{cloc}/{k}"));
                }
            }
            let errors = self.error_list(o, &cloc);
            if !o.contains_key("Next") {
                self.schema("These fields are required: [Next]".into(), &cloc);
            }
            let next = self.target(o.get("Next"), &format!("{cloc}/Next"), names, refs);
            let result_path = self.path_opt(o.get("ResultPath"), &format!("{cloc}/ResultPath"), true);
            let assign = o.get("Assign").map(|v| self.assign(v, &format!("{cloc}/Assign"), ql));
            let output = o.get("Output").map(|v| self.jtemplate(v, &format!("{cloc}/Output")));
            out.push(Catcher { errors, result_path, next: next.unwrap_or(usize::MAX), assign, output });
        }
        let lists: Vec<Vec<String>> = out.iter().map(|r| r.errors.clone()).collect();
        self.check_all_last(&lists, loc);
        out
    }

    fn choice(
        &mut self,
        o: &Map<String, Value>,
        loc: &str,
        ql: QueryLanguage,
        names: &HashMap<&str, usize>,
        refs: &mut Vec<Pending>,
    ) -> Option<Kind> {
        let Some(arr) = o.get("Choices").and_then(Value::as_array) else {
            self.schema("These fields are required: [Choices]".into(), loc);
            return None;
        };
        if arr.is_empty() {
            self.schema("Choices must not be empty".into(), &format!("{loc}/Choices"));
        }
        let mut choices = Vec::new();
        for (i, c) in arr.iter().enumerate() {
            let cloc = format!("{loc}/Choices/{i}");
            let Some(co) = c.as_object() else {
                self.schema("A choice rule must be an object".into(), &cloc);
                continue;
            };
            if !co.contains_key("Next") {
                self.schema("These fields are required: [Next]".into(), &cloc);
            }
            let next = self.target(co.get("Next"), &format!("{cloc}/Next"), names, refs);
            let assign = co.get("Assign").map(|v| self.assign(v, &format!("{cloc}/Assign"), ql));
            let output = co.get("Output").map(|v| self.jtemplate(v, &format!("{cloc}/Output")));
            let cond = match ql {
                QueryLanguage::JsonPath => self.rule(co, &cloc, true).map(Condition::Path),
                QueryLanguage::Jsonata => {
                    for k in co.keys() {
                        if !["Condition", "Next", "Assign", "Output", "Comment"].contains(&k.as_str()) {
                            self.schema(
                                format!("Field '{k}' is not supported in a JSONata choice rule"),
                                &format!("{cloc}/{k}"),
                            );
                        }
                    }
                    match co.get("Condition") {
                        Some(v) => Some(Condition::Ata(self.jtemplate(v, &format!("{cloc}/Condition")))),
                        None => {
                            self.schema("These fields are required: [Condition]".into(), &cloc);
                            None
                        }
                    }
                }
            };
            if let (Some(cond), Some(next)) = (cond, next) {
                choices.push(ChoiceBranch { cond, next, assign, output });
            }
        }
        let default = self.target(o.get("Default"), &format!("{loc}/Default"), names, refs);
        Some(Kind::Choice { choices, default })
    }

    fn rule(&mut self, o: &Map<String, Value>, loc: &str, top: bool) -> Option<Rule> {
        let extra: &[&str] = if top { &["Next", "Comment", "Assign"] } else { &["Comment"] };
        let mut ops = Vec::new();
        for k in o.keys() {
            if extra.contains(&k.as_str()) || k == "Variable" {
                continue;
            }
            ops.push(k.as_str());
        }
        if ops.len() != 1 {
            self.schema(
                if ops.is_empty() {
                    "A choice rule needs a comparison operator or And/Or/Not".to_string()
                } else {
                    format!("A choice rule must have exactly one operator, found: {}", ops.join(", "))
                },
                loc,
            );
            return None;
        }
        let op = ops[0];
        let oloc = format!("{loc}/{op}");
        let v = &o[op];
        if matches!(op, "And" | "Or") {
            if o.contains_key("Variable") {
                self.schema("Variable is not allowed with And/Or".into(), loc);
            }
            let Some(arr) = v.as_array() else {
                self.schema(format!("{op} must be an array of rules"), &oloc);
                return None;
            };
            let mut rules = Vec::new();
            for (i, r) in arr.iter().enumerate() {
                match r.as_object() {
                    Some(ro) => rules.extend(self.rule(ro, &format!("{oloc}/{i}"), false)),
                    None => self.schema("A choice rule must be an object".into(), &format!("{oloc}/{i}")),
                }
            }
            if rules.len() != arr.len() {
                return None;
            }
            return Some(if op == "And" { Rule::And(rules) } else { Rule::Or(rules) });
        }
        if op == "Not" {
            let Some(ro) = v.as_object() else {
                self.schema("Not must be a rule".into(), &oloc);
                return None;
            };
            return self.rule(ro, &oloc, false).map(|r| Rule::Not(Box::new(r)));
        }
        let Some(var_v) = o.get("Variable") else {
            self.schema("These fields are required: [Variable]".into(), loc);
            return None;
        };
        let var = self.path(var_v, &format!("{loc}/Variable"))?;
        if let Some((_, test)) = choice::TESTS.iter().find(|(n, _)| *n == op) {
            let Some(b) = v.as_bool() else {
                self.schema(format!("{op} must be a boolean"), &oloc);
                return None;
            };
            return Some(Rule::Test { var, test: *test, expect: b });
        }
        if op == "StringMatches" {
            let Some(s) = v.as_str() else {
                self.schema("StringMatches must be a string".into(), &oloc);
                return None;
            };
            return Some(Rule::Matches { var, pattern: choice::compile_pattern(s) });
        }
        let Some(&(_, kind, cmp, is_path)) = choice::OPERATORS.iter().find(|(n, ..)| *n == op) else {
            self.schema(format!("Unknown comparison operator '{op}'"), &oloc);
            return None;
        };
        let rhs = if is_path {
            Operand::Path(self.path(v, &oloc)?)
        } else {
            let ok = match kind {
                choice::Kind::String => v.is_string(),
                choice::Kind::Numeric => v.is_number(),
                choice::Kind::Boolean => v.is_boolean(),
                choice::Kind::Timestamp => v.as_str().and_then(choice::parse_timestamp).is_some(),
            };
            if !ok {
                self.schema(format!("The value of {op} has the wrong type: {v}"), &oloc);
                return None;
            }
            Operand::Value(v.clone())
        };
        Some(Rule::Compare { var, kind, cmp, rhs })
    }
}
