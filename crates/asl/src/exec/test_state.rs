//! TestState: one state run alone, as AWS's TestState API runs it. The state comes on its own
//! or as a name in a whole definition; it runs once on the given input and variables, its
//! Task, Map or Parallel work optionally replaced by a mocked result or error, and the answer
//! says what it produced at each step of its data flow (`inspectionData`), where it leads
//! (`nextState`) and how it ended (`status`): SUCCEEDED, FAILED, RETRIABLE (a retrier would run
//! it again) or CAUGHT_ERROR (a catcher took the error).
//!
//! The steps are the interpreter's own (the same InputPath, Parameters, ResultSelector,
//! ResultPath, Choice, Retry and Catch functions); only the order in which their results are
//! recorded lives here, so executions pay nothing for it. A Wait state does not wait, and a
//! Task without a mock calls its integration through the interpreter's [`TaskInvoker`].

use super::*;

use crate::definition::{parse_json, MachineType};
use crate::error::{DefinitionError, Diagnostic};
use crate::events::NoEvents;
use crate::payload::escape_pointer;

/// How much a TestState answer tells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InspectionLevel {
    /// Status, output, error and next state only.
    #[default]
    Info,
    /// And the data flow, step by step.
    Debug,
    /// And, for HTTP Tasks, the request and response.
    Trace,
}

/// How strictly a mocked Task result is checked against the integration's response shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidationMode {
    /// Required fields present, present fields of the right type.
    #[default]
    Strict,
    /// Present fields of the right type.
    Present,
    None,
}

/// A mocked error: what the Task, Map or Parallel state raises instead of running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MockError {
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// What a Task, Map or Parallel state yields instead of running: exactly one of a result
/// (JSON text) and an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mock {
    pub result: Option<String>,
    pub error_output: Option<MockError>,
    pub field_validation_mode: FieldValidationMode,
}

/// Where in its life the tested state is (AWS's `stateConfiguration`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateConfiguration {
    /// Retries already made by the retrier that matches the error.
    pub retrier_retry_count: Option<u32>,
    /// The state inside a Map or Parallel that raised the mocked error.
    pub error_caused_by_state: Option<String>,
    /// Iterations of the Map that failed.
    pub map_iteration_failure_count: Option<u32>,
    /// What a Distributed Map's ItemReader read (not offered: Express has no Distributed Map).
    pub map_item_reader_data: Option<String>,
}

/// A TestState call.
#[derive(Debug, Clone, Default)]
pub struct TestStateRequest {
    /// One state's JSON, or a whole definition with `state_name`.
    pub definition: String,
    pub state_name: Option<String>,
    /// JSON text; `{}` when absent.
    pub input: Option<String>,
    /// A JSON object of variables in scope.
    pub variables: Option<String>,
    pub inspection_level: InspectionLevel,
    pub reveal_secrets: bool,
    pub mock: Option<Mock>,
    /// The Context object, whole (only with a mock).
    pub context: Option<String>,
    pub state_configuration: StateConfiguration,
}

/// How the tested state ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    Succeeded,
    Failed,
    /// A retrier matched the error and has attempts left.
    Retriable,
    /// A catcher took the error.
    CaughtError,
}

impl TestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Succeeded => "SUCCEEDED",
            TestStatus::Failed => "FAILED",
            TestStatus::Retriable => "RETRIABLE",
            TestStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// Which retrier or catcher handled the error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetails {
    pub catch_index: Option<u32>,
    pub retry_index: Option<u32>,
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// An HTTP Task's request, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequestTrace {
    pub protocol: String,
    pub method: String,
    pub url: String,
    pub headers: String,
    pub body: String,
}

/// An HTTP Task's response, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponseTrace {
    pub protocol: String,
    pub status_code: String,
    pub status_message: String,
    pub headers: String,
    pub body: String,
}

/// What each step of the state's data flow produced (the steps it reached).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InspectionData {
    pub input: Option<Value>,
    pub after_input_path: Option<Value>,
    pub after_parameters: Option<Value>,
    pub after_arguments: Option<Value>,
    pub result: Option<Value>,
    pub after_result_selector: Option<Value>,
    pub after_result_path: Option<Value>,
    /// The variables after the state: those given and those it assigned.
    pub variables: Option<Value>,
    pub error_details: Option<ErrorDetails>,
    pub after_items_path: Option<Value>,
    pub after_item_selector: Option<Value>,
    pub after_item_batcher: Option<Value>,
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
    pub max_concurrency: Option<u64>,
    pub request: Option<HttpRequestTrace>,
    pub response: Option<HttpResponseTrace>,
}

/// A TestState answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateOutput {
    pub status: TestStatus,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub next_state: Option<String>,
    /// `None` at [`InspectionLevel::Info`].
    pub inspection_data: Option<InspectionData>,
}

/// Why a TestState call was refused (AWS answers these as exceptions, not as a status).
#[derive(Debug, Clone, thiserror::Error)]
pub enum TestStateError {
    /// AWS's `InvalidDefinition`.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// A valid state TestState does not run (AWS's `InvalidDefinition`).
    #[error("{0}")]
    Unsupported(String),
    /// AWS's `ValidationException`.
    #[error("{0}")]
    Validation(String),
    /// AWS's `InvalidExecutionInput`.
    #[error("{0}")]
    Input(String),
}

/// The name a state given alone runs under (its Context object's `State.Name`).
const LONE_STATE_NAME: &str = "StateName";

/// A definition compiled for the test, and where the tested state is in it.
struct Loaded {
    machine: StateMachine,
    /// The blocks to descend through (Map processors, Parallel branches), then the state.
    path: Vec<(usize, usize)>,
}

impl Loaded {
    fn state(&self) -> (&Block, &State) {
        let mut block = &self.machine.root;
        let mut it = self.path.iter().peekable();
        loop {
            let &(state, sub) = it.next().expect("a path ends at a state");
            let st = &block.states[state];
            if it.peek().is_none() {
                return (block, st);
            }
            block = match &st.kind {
                Kind::Map(m) => &m.processor,
                Kind::Parallel { branches } => &branches[sub],
                _ => unreachable!("only Map and Parallel hold blocks"),
            };
        }
    }
}

/// Where the state named `name` is: in `block` itself first, then in the blocks its Map and
/// Parallel states hold.
fn find(block: &Block, name: &str) -> Option<Vec<(usize, usize)>> {
    if let Some(i) = block.states.iter().position(|s| &*s.name == name) {
        return Some(vec![(i, 0)]);
    }
    for (i, st) in block.states.iter().enumerate() {
        let inner: Vec<&Block> = match &st.kind {
            Kind::Map(m) => vec![&m.processor],
            Kind::Parallel { branches } => branches.iter().collect(),
            _ => continue,
        };
        for (b, blk) in inner.into_iter().enumerate() {
            if let Some(mut rest) = find(blk, name) {
                rest.insert(0, (i, b));
                return Some(rest);
            }
        }
    }
    None
}

/// Compile the definition: a whole one when a state is named, else one state, put in a
/// machine of its own whose other states stand for the ones it names.
fn load(req: &TestStateRequest) -> Result<Loaded, TestStateError> {
    if let Some(name) = &req.state_name {
        let machine = StateMachine::from_json_with(&req.definition, MachineType::Standard)?;
        let path = find(&machine.root, name)
            .ok_or_else(|| TestStateError::Validation("State not found in definition".into()))?;
        return Ok(Loaded { machine, path });
    }
    if req.definition.len() > crate::definition::MAX_DEFINITION_BYTES {
        return Err(DefinitionError::TooLarge {
            size: req.definition.len(),
            limit: crate::definition::MAX_DEFINITION_BYTES,
        }
        .into());
    }
    let state: Value = parse_json(&req.definition).map_err(DefinitionError::Json)?;
    let Some(obj) = state.as_object() else {
        return Err(schema("A state must be a JSON object", ""));
    };
    if obj.contains_key("States") || obj.contains_key("StartAt") {
        return Err(TestStateError::Validation(
            "stateName is required when the definition is a state machine: name the state to test".into(),
        ));
    }
    // The states it leads to, so that its transitions resolve.
    let mut refs: Vec<Option<&Value>> = vec![obj.get("Next"), obj.get("Default")];
    for key in ["Choices", "Catch"] {
        refs.extend(obj.get(key).and_then(Value::as_array).into_iter().flatten().map(|c| c.get("Next")));
    }
    let targets: Vec<&str> = refs.into_iter().filter_map(|v| v.and_then(Value::as_str)).collect();
    let mut name = LONE_STATE_NAME.to_string();
    while targets.contains(&name.as_str()) {
        name.push('_');
    }
    let mut states = Map::new();
    states.insert(name.clone(), state.clone());
    for t in targets {
        if t != name {
            states.insert(t.to_string(), serde_json::json!({"Type": "Succeed"}));
        }
    }
    let def = serde_json::json!({"StartAt": name, "States": states});
    let prefix = format!("/States/{}", escape_pointer(&name));
    let machine = StateMachine::from_value(&def, MachineType::Standard).map_err(|e| match e {
        // Locations as in the state the caller wrote.
        DefinitionError::Invalid(diags) => DefinitionError::Invalid(
            diags
                .into_iter()
                .map(|d| Diagnostic {
                    location: d.location.strip_prefix(&prefix).map(str::to_string).unwrap_or(d.location),
                    ..d
                })
                .collect(),
        ),
        other => other,
    })?;
    let path = vec![(machine.root.states.iter().position(|s| *s.name == *name).unwrap_or(0), 0)];
    Ok(Loaded { machine, path })
}

fn schema(message: &str, location: &str) -> TestStateError {
    TestStateError::Definition(DefinitionError::Invalid(vec![Diagnostic {
        code: "SCHEMA_VALIDATION_FAILED",
        message: message.into(),
        location: location.into(),
    }]))
}

/// A mock, checked: the result parsed, or the error.
enum Mocked {
    Result(Value),
    Error(StatesError),
}

/// Check the request against the state it tests, as AWS does before running anything.
fn check(req: &TestStateRequest, st: &State) -> Result<Option<Mocked>, TestStateError> {
    let invalid = |m: &str| Err(TestStateError::Validation(m.into()));
    let cfg = &req.state_configuration;
    let Some(mock) = &req.mock else {
        if matches!(st.kind, Kind::Map(_) | Kind::Parallel { .. }) {
            return Err(TestStateError::Unsupported(
                "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]".into(),
            ));
        }
        if req.context.is_some() {
            return invalid("context may only be given with a mock");
        }
        if cfg.error_caused_by_state.is_some() {
            return invalid("errorCausedByState may only be given with a mocked errorOutput");
        }
        return Ok(None);
    };
    if !matches!(st.kind, Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. }) {
        return invalid(&format!("State type '{}' is not supported when a mock is specified", st.type_name));
    }
    if req.reveal_secrets {
        return invalid("TestState does not support RevealSecrets when a mock is specified.");
    }
    if cfg.map_iteration_failure_count.is_some() && !matches!(st.kind, Kind::Map(_)) {
        return invalid("mapIterationFailureCount may only be given for a Map state");
    }
    if let Some(inner) = &cfg.error_caused_by_state {
        let blocks: Vec<&Block> = match &st.kind {
            Kind::Map(m) => vec![&m.processor],
            Kind::Parallel { branches } => branches.iter().collect(),
            _ => return invalid("errorCausedByState may only be given for a Map or Parallel state"),
        };
        if mock.error_output.is_none() {
            return invalid("errorCausedByState may only be given with a mocked errorOutput");
        }
        if !blocks.iter().any(|b| find(b, inner).is_some()) {
            return invalid(&format!("errorCausedByState '{inner}' names no state of '{}'", st.name));
        }
    }
    match (&mock.result, &mock.error_output) {
        (Some(_), Some(_)) => {
            invalid("A test mock should have only one of the following fields: [result, errorOutput].")
        }
        (None, None) => invalid("A test mock should have one of the following fields: [result, errorOutput]."),
        (None, Some(e)) => Ok(Some(Mocked::Error(StatesError { error: e.error.clone(), cause: e.cause.clone() }))),
        (Some(text), None) => {
            let v = parse_json(text)
                .map_err(|e| TestStateError::Validation(format!("the mocked result is not valid JSON: {e}")))?;
            match &st.kind {
                Kind::Map(_) if !v.is_array() => return invalid("Mocked result must be an array."),
                Kind::Parallel { branches } => match v.as_array() {
                    None => return invalid("Mocked result must be an array."),
                    Some(a) if a.len() != branches.len() => {
                        return invalid(
                            "Mocked result must contain the same number of items as number of Parallel branches.",
                        )
                    }
                    _ => {}
                },
                Kind::Task(t) if mock.field_validation_mode != FieldValidationMode::None => {
                    validate_result(&t.resource, &v, mock.field_validation_mode == FieldValidationMode::Strict)
                        .map_err(|why| {
                            TestStateError::Validation(format!("Mock result schema validation error: {why}"))
                        })?;
                }
                _ => {}
            }
            Ok(Some(Mocked::Result(v)))
        }
    }
}

/// A field of an integration's response, for checking mocked results.
enum Shape {
    Str,
    Num,
    Any,
    /// An array of objects with these fields.
    Objects(&'static [Field]),
}

struct Field {
    name: &'static str,
    shape: Shape,
    required: bool,
}

const fn field(name: &'static str, shape: Shape, required: bool) -> Field {
    Field { name, shape, required }
}

const LAMBDA_INVOKE: &[Field] = &[
    field("StatusCode", Shape::Num, false),
    field("FunctionError", Shape::Str, false),
    field("LogResult", Shape::Str, false),
    field("Payload", Shape::Any, false),
    field("ExecutedVersion", Shape::Str, false),
];
const START_EXECUTION: &[Field] = &[field("ExecutionArn", Shape::Str, true), field("StartDate", Shape::Str, true)];
const PUT_EVENTS_ENTRY: &[Field] = &[
    field("EventId", Shape::Str, false),
    field("ErrorCode", Shape::Str, false),
    field("ErrorMessage", Shape::Str, false),
];
const PUT_EVENTS: &[Field] =
    &[field("Entries", Shape::Objects(PUT_EVENTS_ENTRY), false), field("FailedEntryCount", Shape::Num, false)];
const SQS_SEND_MESSAGE: &[Field] = &[
    field("MD5OfMessageBody", Shape::Str, false),
    field("MD5OfMessageAttributes", Shape::Str, false),
    field("MD5OfMessageSystemAttributes", Shape::Str, false),
    field("MessageId", Shape::Str, false),
    field("SequenceNumber", Shape::Str, false),
];

/// The response shape of the integrations whose shape is known here (others are not checked).
fn response_shape(resource: &str) -> Option<&'static [Field]> {
    let base = resource.strip_suffix(".waitForTaskToken").unwrap_or(resource);
    match base.rsplit(":::").next()? {
        "lambda:invoke" => Some(LAMBDA_INVOKE),
        "states:startExecution" => Some(START_EXECUTION),
        "events:putEvents" => Some(PUT_EVENTS),
        "sqs:sendMessage" => Some(SQS_SEND_MESSAGE),
        _ => None,
    }
}

/// Check a mocked Task result against its integration's response shape: present fields of
/// the right type, and (`strict`) required ones present. Fields the shape does not know are
/// accepted, as AWS accepts them.
fn validate_result(resource: &str, v: &Value, strict: bool) -> Result<(), String> {
    let Some(fields) = response_shape(resource) else { return Ok(()) };
    validate_fields(fields, v, strict)
}

fn validate_fields(fields: &[Field], v: &Value, strict: bool) -> Result<(), String> {
    let Some(obj) = v.as_object() else {
        return Err("the result must be a JSON object".into());
    };
    for f in fields {
        let Some(x) = obj.get(f.name) else {
            if strict && f.required {
                return Err(format!("Required field '{}' is missing", f.name));
            }
            continue;
        };
        match &f.shape {
            Shape::Str if !x.is_string() => return Err(format!("Field '{}' must be a string", f.name)),
            Shape::Num if !x.is_number() => return Err(format!("Field '{}' must be a number", f.name)),
            Shape::Objects(inner) => {
                let Some(items) = x.as_array() else {
                    return Err(format!("Field '{}' must be an array", f.name));
                };
                for item in items {
                    validate_fields(inner, item, strict)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The resource of the HTTP Task.
const HTTP_INVOKE: &str = "arn:aws:states:::http:invoke";

/// Text of a value as a header or body shows it: strings bare, the rest as JSON.
fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(v) => plain(v),
    }
}

fn protocol_of(url: &str) -> String {
    url.split_once("://").map(|(p, _)| p.to_ascii_lowercase()).unwrap_or_else(|| "https".into())
}

/// Percent-encode a query component (everything but RFC 3986's unreserved characters).
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request an HTTP Task sends, from its parameters.
fn http_request(params: &Value) -> HttpRequestTrace {
    let endpoint = params.get("ApiEndpoint").and_then(Value::as_str).unwrap_or_default();
    let mut url = endpoint.to_string();
    if let Some(q) = params.get("QueryParameters").and_then(Value::as_object).filter(|q| !q.is_empty()) {
        let query: Vec<String> =
            q.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(&text_of(Some(v))))).collect();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query.join("&"));
    }
    HttpRequestTrace {
        protocol: protocol_of(endpoint),
        method: params.get("Method").and_then(Value::as_str).unwrap_or("GET").to_ascii_uppercase(),
        url,
        headers: params.get("Headers").map(Value::to_string).unwrap_or_default(),
        body: text_of(params.get("RequestBody")),
    }
}

/// The response an HTTP Task received, from its result (or, for an error status, from the
/// error's cause, which holds the same document).
fn http_response(url: &str, r: &Result<Value, StatesError>) -> Option<HttpResponseTrace> {
    let doc = match r {
        Ok(v) => v.clone(),
        Err(e) if e.name().starts_with("States.Http.StatusCode.") => serde_json::from_str(e.cause.as_deref()?).ok()?,
        Err(_) => return None,
    };
    Some(HttpResponseTrace {
        protocol: protocol_of(url),
        status_code: text_of(doc.get("StatusCode")),
        status_message: text_of(doc.get("StatusText")),
        headers: doc.get("Headers").map(Value::to_string).unwrap_or_default(),
        body: text_of(doc.get("ResponseBody")),
    })
}

impl Interpreter {
    /// Run one state alone (AWS's TestState). `info` describes the execution the state
    /// pretends to be part of (its Context object), unless the request gives a Context.
    pub async fn test_state(
        &self,
        req: &TestStateRequest,
        info: ExecutionInfo,
    ) -> Result<TestStateOutput, TestStateError> {
        let loaded = load(req)?;
        let (block, st) = loaded.state();
        let mocked = check(req, st)?;
        let input = match req.input.as_deref() {
            None => Value::Object(Map::new()),
            Some(text) => parse_json(text)
                .map_err(|e| TestStateError::Input(format!("Invalid State Machine Execution Input: '{e}'")))?,
        };
        let mut vars = Vars::new();
        if let Some(text) = &req.variables {
            match parse_json(text) {
                Ok(Value::Object(m)) => {
                    for (k, v) in m {
                        vars.set(k, v);
                    }
                }
                _ => return Err(TestStateError::Validation("variables must be a JSON object".into())),
            }
        }
        let given_ctx = match &req.context {
            None => None,
            Some(text) => match parse_json(text) {
                Ok(v @ Value::Object(_)) => Some(v),
                _ => return Err(TestStateError::Validation("context must be a JSON object".into())),
            },
        };
        let mut info = info;
        if info.input.is_none() {
            info.input = Some(input.clone());
        }
        if info.start_time.is_empty() {
            info.start_time = chrono::DateTime::from_timestamp_millis(self.clock.now_millis())
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default();
        }
        let run = Run {
            invoker: &*self.invoker,
            clock: &*self.clock,
            sink: &NoEvents,
            events: false,
            next_id: AtomicU64::new(0),
            exec: &info,
            limits: &self.limits,
            limit_ms: self.limits.execution_timeout.map(|l| l.as_millis().try_into().unwrap_or(i64::MAX)),
            deadline_ms: AtomicI64::new(UNSET),
            transitions: AtomicU64::new(0),
            halted: AtomicU8::new(RUNNING),
            cancel: None,
            traced: false,
        };
        if let Err(e) = run.measure(&input, "the state input", true) {
            return Err(TestStateError::Input(e.cause.unwrap_or_default()));
        }
        let ctx = match given_ctx {
            Some(v) => ContextSource::with_value(run.exec, &st.name, v),
            None => run.ctx(st),
        };
        let level = req.inspection_level;
        let mut data = InspectionData { input: Some(input.clone()), ..InspectionData::default() };
        let mut out =
            run.test_one(st, block, input, &mut vars, ctx, mocked, &req.state_configuration, &mut data, level).await;
        if level != InspectionLevel::Info {
            if let Some(local) = vars.local() {
                data.variables = Some(Value::Object(local.clone()));
            }
            out.inspection_data = Some(data);
        }
        Ok(out)
    }
}

fn ended(
    status: TestStatus,
    output: Option<Value>,
    next_state: Option<String>,
    e: Option<StatesError>,
) -> TestStateOutput {
    let (error, cause) = match e {
        Some(e) => (e.error, e.cause),
        None => (None, None),
    };
    TestStateOutput { status, output, error, cause, next_state, inspection_data: None }
}

impl Run<'_> {
    #[allow(clippy::too_many_arguments)]
    async fn test_one(
        &self,
        st: &State,
        block: &Block,
        raw: Value,
        vars: &mut Vars<'_>,
        ctx: ContextSource<'_>,
        mocked: Option<Mocked>,
        cfg: &StateConfiguration,
        d: &mut InspectionData,
        level: InspectionLevel,
    ) -> TestStateOutput {
        let name = |i: usize| Some(block.states[i].name.to_string());
        if !matches!(st.kind, Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. }) {
            return match self.test_simple(st, raw, vars, &ctx, d) {
                Ok((out, next)) => ended(TestStatus::Succeeded, Some(out), next.and_then(name), None),
                Err(e) => ended(TestStatus::Failed, None, None, Some(Self::located(st, 1, e))),
            };
        }
        let attempt = cfg.retrier_retry_count.unwrap_or(0);
        let r = match st.ql {
            QueryLanguage::JsonPath => {
                self.test_attempt_jp(st, raw.clone(), vars, &ctx, mocked, cfg, d, level, attempt).await
            }
            QueryLanguage::Jsonata => self.test_attempt_ata(st, &raw, vars, &ctx, mocked, cfg, d, level, attempt).await,
        };
        let err = match r {
            Ok((out, next)) => return ended(TestStatus::Succeeded, Some(out), next.and_then(name), None),
            Err(e) => Self::located(st, 1, e),
        };
        if let Some(i) = st.retry.iter().position(|r| error_matches(&r.errors, &err)) {
            let r = &st.retry[i];
            if attempt < r.max_attempts {
                d.error_details = Some(ErrorDetails {
                    retry_index: Some(i as u32),
                    retry_backoff_interval_seconds: Some(backoff_seconds(r, attempt).max(0.0).round() as u64),
                    ..ErrorDetails::default()
                });
                return ended(TestStatus::Retriable, None, None, Some(err));
            }
        }
        let Some((i, c)) = st.catch.iter().enumerate().find(|(_, c)| error_matches(&c.errors, &err)) else {
            return ended(TestStatus::Failed, None, None, Some(err));
        };
        match self.caught(st, c, raw, &err, &ctx, vars) {
            Ok(out) => {
                d.error_details = Some(ErrorDetails { catch_index: Some(i as u32), ..ErrorDetails::default() });
                ended(TestStatus::CaughtError, Some(out), name(c.next), Some(err))
            }
            Err(e) => ended(TestStatus::Failed, None, None, Some(Self::located(st, 1, e))),
        }
    }

    /// Pass, Succeed, Fail, Choice and Wait (which does not wait).
    fn test_simple(
        &self,
        st: &State,
        raw: Value,
        vars: &mut Vars<'_>,
        ctx: &ContextSource<'_>,
        d: &mut InspectionData,
    ) -> Result<(Value, Option<usize>), StatesError> {
        if st.ql == QueryLanguage::Jsonata {
            let b = AtaEnv::new(self, &raw, None, None, ctx, vars);
            let (output, assign, next) = match &st.kind {
                Kind::Fail { error, cause } => return Err(fail_error_ata(error.as_ref(), cause.as_ref(), &b)?),
                Kind::Choice { choices, default } => {
                    let (chosen, next) = choose_ata(choices, *default, &b)?;
                    let output = chosen.and_then(|c| c.output.as_ref()).or(st.output.as_ref());
                    (output, chosen.and_then(|c| c.assign.as_ref()).or(st.assign.as_ref()), Some(next))
                }
                Kind::Wait(spec) => {
                    self.wait_duration_ata(spec, &b)?;
                    (st.output.as_ref(), st.assign.as_ref(), st.next)
                }
                Kind::Succeed => (st.output.as_ref(), st.assign.as_ref(), None),
                _ => (st.output.as_ref(), st.assign.as_ref(), st.next),
            };
            let (out, assigned) = output_and_assign_ata(output, assign, &b)?;
            drop(b);
            set_all(vars, assigned);
            return Ok((out.unwrap_or(raw), next));
        }
        match &st.kind {
            Kind::Pass { result } => {
                let res = match result {
                    Some(r) => {
                        d.result = Some(r.clone());
                        r.clone()
                    }
                    None => {
                        let eff = apply_input_path(&st.input_path, &raw, ctx, vars)?.into_owned();
                        d.after_input_path = Some(eff.clone());
                        let res = match &st.parameters {
                            Some(p) => p.eval(&Env { input: &eff, ctx, vars })?,
                            None => eff,
                        };
                        d.after_parameters = Some(res.clone());
                        res
                    }
                };
                d.after_result_selector = Some(res.clone());
                let assigned = self.assign_jp(st.assign.as_ref(), &res, ctx, vars)?;
                let out = merge_result(&st.result_path, Cow::Owned(raw), res)?;
                d.after_result_path = Some(out.clone());
                let out = apply_output_path(&st.output_path, out, ctx, vars)?;
                set_all(vars, assigned);
                Ok((out, st.next))
            }
            Kind::Fail { error, cause } => {
                d.after_input_path = Some(raw.clone());
                let env = Env { input: &raw, ctx, vars };
                let error = eval_dyn_str(error.as_ref(), &env, "ErrorPath")?;
                let cause = eval_dyn_str(cause.as_ref(), &env, "CausePath")?;
                Err(StatesError { error, cause })
            }
            _ => {
                // Succeed, Choice and Wait hand their effective input on.
                let eff = take_input_path(&st.input_path, raw, ctx, vars)?;
                d.after_input_path = Some(eff.clone());
                let env = Env { input: &eff, ctx, vars };
                let (assign, next) = match &st.kind {
                    Kind::Choice { choices, default } => {
                        let (chosen, next) = choose_jp(choices, *default, &env)?;
                        (chosen.and_then(|c| c.assign.as_ref()).or(st.assign.as_ref()), Some(next))
                    }
                    Kind::Wait(spec) => {
                        self.wait_duration_jp(spec, &env)?;
                        (st.assign.as_ref(), st.next)
                    }
                    _ => (None, None),
                };
                let assigned = self.assign_jp(assign, &eff, ctx, vars)?;
                let out = apply_output_path(&st.output_path, eff, ctx, vars)?;
                set_all(vars, assigned);
                Ok((out, next))
            }
        }
    }

    /// The mocked result, or the Map's failed iterations over its tolerance.
    fn test_map_limits(
        plan: &MapPlan,
        cfg: &StateConfiguration,
        d: &mut InspectionData,
        batched: bool,
        selected: bool,
    ) -> Result<(), StatesError> {
        d.max_concurrency = Some(plan.max_conc);
        d.tolerated_failure_count = plan.tolerated_count;
        d.tolerated_failure_percentage = plan.tolerated_pct;
        if batched {
            d.after_item_batcher = Some(Value::Array(plan.inputs.iter().map(|v| v.clone().into_owned()).collect()));
        } else if selected {
            d.after_item_selector = Some(Value::Array(plan.inputs.iter().map(|v| v.clone().into_owned()).collect()));
        }
        let Some(failed) = cfg.map_iteration_failure_count else { return Ok(()) };
        if plan.tolerated_count.is_none() && plan.tolerated_pct.is_none() {
            return Ok(());
        }
        let failed = u64::from(failed);
        let total = plan.inputs.len().max(1) as f64;
        let over_count = plan.tolerated_count.is_none_or(|c| failed > c);
        let over_pct = plan.tolerated_pct.is_none_or(|p| (failed as f64) * 100.0 / total > p);
        if over_count && over_pct {
            return Err(StatesError::new(
                errors::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            ));
        }
        Ok(())
    }

    /// A Task's result: the mock, or its integration's answer (with the HTTP exchange at
    /// TRACE).
    #[allow(clippy::too_many_arguments)]
    async fn test_task(
        &self,
        st: &State,
        params: Value,
        mocked: Option<Mocked>,
        d: &mut InspectionData,
        level: InspectionLevel,
        attempt: u32,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
    ) -> Result<Value, StatesError> {
        let Kind::Task(spec) = &st.kind else { unreachable!("a Task state") };
        match mocked {
            Some(Mocked::Result(v)) => Ok(v),
            Some(Mocked::Error(e)) => Err(e),
            None => {
                let http = level == InspectionLevel::Trace && spec.resource == HTTP_INVOKE;
                let request = http.then(|| http_request(&params));
                let r = self.task(st, &spec.resource, params, attempt, timeout, heartbeat).await;
                if let Some(request) = request {
                    d.response = http_response(&request.url, &r);
                    d.request = Some(request);
                }
                r
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn test_attempt_jp(
        &self,
        st: &State,
        raw: Value,
        vars: &mut Vars<'_>,
        ctx: &ContextSource<'_>,
        mocked: Option<Mocked>,
        cfg: &StateConfiguration,
        d: &mut InspectionData,
        level: InspectionLevel,
        attempt: u32,
    ) -> Result<(Value, Option<usize>), StatesError> {
        let eff = apply_input_path(&st.input_path, &raw, ctx, vars)?.into_owned();
        d.after_input_path = Some(eff.clone());
        let result = match &st.kind {
            Kind::Map(spec) => {
                if let Some(p) = &spec.items_path {
                    d.after_items_path = Env { input: &eff, ctx, vars }.path(p).map(Cow::into_owned);
                }
                let plan = self.map_plan_jp(st, spec, &eff, None, ctx, vars)?;
                Self::test_map_limits(&plan, cfg, d, spec.batcher.is_some(), spec.item_selector.is_some())?;
                mock_value(mocked)?
            }
            _ => {
                let params = match &st.parameters {
                    Some(p) => p.eval(&Env { input: &eff, ctx, vars })?,
                    None => eff.clone(),
                };
                d.after_parameters = Some(params.clone());
                match &st.kind {
                    Kind::Task(spec) => {
                        let env = Env { input: &eff, ctx, vars };
                        let timeout = dyn_secs(spec.timeout.as_ref(), &env, "TimeoutSecondsPath")?;
                        let heartbeat = dyn_secs(spec.heartbeat.as_ref(), &env, "HeartbeatSecondsPath")?;
                        self.test_task(st, params, mocked, d, level, attempt, timeout, heartbeat).await?
                    }
                    _ => mock_value(mocked)?,
                }
            }
        };
        d.result = Some(result.clone());
        let result = match &st.result_selector {
            Some(t) => t.eval(&Env { input: &result, ctx, vars })?,
            None => result,
        };
        d.after_result_selector = Some(result.clone());
        let assigned = self.assign_jp(st.assign.as_ref(), &result, ctx, vars)?;
        let out = merge_result(&st.result_path, Cow::Owned(raw), result)?;
        d.after_result_path = Some(out.clone());
        let out = apply_output_path(&st.output_path, out, ctx, vars)?;
        set_all(vars, assigned);
        Ok((out, st.next))
    }

    #[allow(clippy::too_many_arguments)]
    async fn test_attempt_ata(
        &self,
        st: &State,
        raw: &Value,
        vars: &mut Vars<'_>,
        ctx: &ContextSource<'_>,
        mocked: Option<Mocked>,
        cfg: &StateConfiguration,
        d: &mut InspectionData,
        level: InspectionLevel,
        attempt: u32,
    ) -> Result<(Value, Option<usize>), StatesError> {
        let result = {
            let b = AtaEnv::new(self, raw, None, None, ctx, vars);
            match &st.kind {
                Kind::Map(spec) => {
                    let plan = self.map_plan_ata(st, spec, &b, vars)?;
                    Self::test_map_limits(&plan, cfg, d, spec.batcher.is_some(), spec.item_selector_ata.is_some())?;
                    mock_value(mocked)?
                }
                _ => {
                    let args = match &st.arguments {
                        Some(t) => eval_jt(t, &b, "Arguments")?,
                        None => raw.clone(),
                    };
                    d.after_arguments = Some(args.clone());
                    match &st.kind {
                        Kind::Task(spec) => {
                            let timeout = ata_secs(spec.timeout.as_ref(), &b, "TimeoutSeconds")?;
                            let heartbeat = ata_secs(spec.heartbeat.as_ref(), &b, "HeartbeatSeconds")?;
                            self.test_task(st, args, mocked, d, level, attempt, timeout, heartbeat).await?
                        }
                        _ => mock_value(mocked)?,
                    }
                }
            }
        };
        d.result = Some(result.clone());
        let b = AtaEnv::new(self, raw, Some(&result), None, ctx, vars);
        let (out, assigned) = output_and_assign_ata(st.output.as_ref(), st.assign.as_ref(), &b)?;
        drop(b);
        set_all(vars, assigned);
        Ok((out.unwrap_or(result), st.next))
    }
}

/// The mocked result of a Map or Parallel state (which TestState runs only with a mock).
fn mock_value(mocked: Option<Mocked>) -> Result<Value, StatesError> {
    match mocked {
        Some(Mocked::Result(v)) => Ok(v),
        Some(Mocked::Error(e)) => Err(e),
        None => Err(StatesError::runtime("a Map or Parallel state runs in TestState only with a mock")),
    }
}
