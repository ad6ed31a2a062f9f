//! The console's pages and JSON endpoints, served at `/console/` on the process's HTTP
//! listener beside the AWS JSON protocol. The pages are one HTML shell with a small script
//! (`assets/console.js`) that reads the endpoints:
//!
//! - `GET /console/api/about`: what this process serves (`api`: every page; `live`: the live
//!   executions pages of a results service) and whether calls need a token;
//! - `POST /console/api/op/{Operation}`: any Step Functions operation, in AWS's JSON shapes,
//!   run by the frontend's own implementation ([`expressway_frontend::aws::operations`], over
//!   [`expressway_frontend::ops`]), with the same authentication (a bearer token);
//! - `GET /console/api/machines`: every state machine with its type, revision, logging level,
//!   versions and aliases (the same operations, gathered);
//! - `GET /console/api/execution?executionArn=…`: an execution as DescribeExecution tells it,
//!   with the definition and logging configuration of the revision it runs;
//! - `GET /console/api/history?executionArn=…`: an execution's history events as the results
//!   stream carries them (GetExecutionHistory, every page);
//! - `POST /console/api/graph`: a definition (the body) drawn as SVG;
//! - `GET /console/api/events?executionArn=…&stateMachineArn=…&from=…&only=executions`: the
//!   results stream (as `Subscribe` reads it) as Server-Sent Events, one JSON message each.
//!
//! Every call that reads data carries `Authorization: Bearer <token>` when authentication is
//! on, the event stream included: the page reads it with `fetch` (which can send headers)
//! rather than `EventSource` (which cannot), so the token never travels in a URL, where access
//! logs, proxies and the browser's history would keep it.
//!
//! Two backends serve these: [`router`] a process that serves the API (`dev`, `frontend`),
//! [`live_router`] a results service, which has the results stream and the stores but not
//! the management operations: its `op` and `machines` endpoints say so, and the page shows
//! only the live executions list and execution pages.
//!
//! [`redirect_browsers`] sends a browser's `GET /` to the console.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use expressway_bus::{Delivered, ResultMessage, ResultsHub};
use expressway_frontend::auth::Auth;
use expressway_frontend::aws::{self, AwsError};
use expressway_frontend::{Call, Frontend, FrontendError};
use expressway_store::{ExecutionStore, LogLevel, Registry};
use serde_json::{json, Value};

const SHELL: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/console.js");
const STYLE: &str = include_str!("../assets/console.css");

/// What a results service lends the console: the results stream and the stores, read-only.
#[derive(Clone)]
pub struct Live {
    pub hub: Arc<dyn ResultsHub>,
    pub executions: Arc<dyn ExecutionStore>,
    /// Revisions, for the definition an execution runs.
    pub registry: Arc<dyn Registry>,
    /// Who may do what; `None`: authentication is off.
    pub auth: Option<Arc<Auth>>,
}

/// Where the console's data comes from.
#[derive(Clone)]
enum Backend {
    /// A process that serves the API: every page.
    Api(Frontend),
    /// A results service: the live executions pages.
    Live(Live),
}

impl Backend {
    fn hub(&self) -> &dyn ResultsHub {
        match self {
            Backend::Api(f) => &*f.hub,
            Backend::Live(l) => &*l.hub,
        }
    }

    fn executions(&self) -> &dyn ExecutionStore {
        match self {
            Backend::Api(f) => &*f.executions,
            Backend::Live(l) => &*l.executions,
        }
    }

    fn registry(&self) -> &dyn Registry {
        match self {
            Backend::Api(f) => &*f.registry,
            Backend::Live(l) => &*l.registry,
        }
    }

    fn auth(&self) -> Option<&Auth> {
        match self {
            Backend::Api(f) => f.auth.as_deref(),
            Backend::Live(l) => l.auth.as_deref(),
        }
    }

    /// Who calls, from the request's bearer token (the console's calls are not signed).
    fn caller(&self, headers: &HeaderMap) -> Result<Call, AwsError> {
        let Some(auth) = self.auth() else { return Ok(Call::default()) };
        let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).ok_or_else(|| {
            AwsError::UnrecognizedClient("this server needs a bearer token (Authorization: Bearer …)".into())
        })?;
        let principal =
            auth.authenticate(token.trim()).map_err(|s| AwsError::UnrecognizedClient(s.message().to_string()))?;
        Ok(Call { principal: Some(principal), ..Call::default() })
    }

    fn authorize(&self, call: &Call, action: &str, resource: &str) -> Result<(), AwsError> {
        expressway_frontend::ops::authorize(self.auth(), call, action, resource).map_err(AwsError::from)
    }

    /// The frontend, for the management operations a results service does not serve.
    fn frontend(&self) -> Option<&Frontend> {
        match self {
            Backend::Api(f) => Some(f),
            Backend::Live(_) => None,
        }
    }
}

/// The answer of a results service to a management call.
fn not_served_here() -> Response {
    json_response(
        StatusCode::NOT_IMPLEMENTED,
        &json!({
            "__type": "NotServedHere",
            "message": "this is a results service: it serves the live executions pages only; \
                        manage state machines and start or stop executions on a frontend's console",
        }),
    )
}

/// What the console's handlers share.
#[derive(Clone)]
struct Console {
    backend: Backend,
    /// Turns true when the process shuts down: open event streams end so the listener drains.
    shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The console's routes for a process that serves the API, to merge into its HTTP router.
pub fn router(frontend: Frontend, shutdown: tokio::sync::watch::Receiver<bool>) -> Router {
    routes(Console { backend: Backend::Api(frontend), shutdown })
}

/// The console's routes for a results service: the live executions pages.
pub fn live_router(live: Live, shutdown: tokio::sync::watch::Receiver<bool>) -> Router {
    routes(Console { backend: Backend::Live(live), shutdown })
}

fn routes(console: Console) -> Router {
    Router::new()
        .route("/console", get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(shell))
        .route("/console/machines/{name}", get(shell))
        .route("/console/execution", get(shell))
        .route("/console/assets/console.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/console/assets/console.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/console/api/about", get(about))
        .route("/console/api/op/{operation}", post(operation))
        .route("/console/api/machines", get(machines))
        .route("/console/api/execution", get(execution))
        .route("/console/api/graph", post(graph))
        .route("/console/api/events", get(events))
        .route("/console/api/history", get(history))
        .with_state(console)
}

/// Middleware: a browser's `GET /` (it accepts `text/html`) goes to `/console/`; everything
/// else, the AWS JSON protocol's `POST /` included, goes on.
pub async fn redirect_browsers(req: Request, next: Next) -> Response {
    let html = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if req.method() == Method::GET && req.uri().path() == "/" && html {
        return Redirect::to("/console/").into_response();
    }
    next.run(req).await
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

async fn shell() -> Response {
    asset("text/html; charset=utf-8", SHELL)
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

fn answer(result: Result<Value, AwsError>) -> Response {
    match result {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

/// What this process serves, so the page shows what works here; whether authentication is on
/// is no secret (every call without a token says so).
async fn about(State(c): State<Console>) -> Response {
    let mode = match c.backend {
        Backend::Api(_) => "api",
        Backend::Live(_) => "live",
    };
    json_response(StatusCode::OK, &json!({ "mode": mode, "auth": c.backend.auth().is_some() }))
}

async fn operation(State(c): State<Console>, Path(op): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(f) = c.backend.frontend() else { return not_served_here() };
    let result = async {
        let call = c.backend.caller(&headers)?;
        aws::operations::run(f, &call, &op, &body).await
    };
    answer(result.await)
}

async fn machines(State(c): State<Console>, headers: HeaderMap) -> Response {
    let Some(f) = c.backend.frontend() else { return not_served_here() };
    answer(gather(&c.backend, f, &headers).await)
}

/// Every state machine, with what its list row shows.
async fn gather(b: &Backend, f: &Frontend, headers: &HeaderMap) -> Result<Value, AwsError> {
    let call = b.caller(headers)?;
    let run = |op: &'static str, body: Value| {
        let call: Call = call.clone();
        async move { aws::operations::run(f, &call, op, body.to_string().as_bytes()).await }
    };
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let mut req = json!({ "maxResults": 1000 });
        if !token.is_empty() {
            req["nextToken"] = json!(token);
        }
        let page = run("ListStateMachines", req).await?;
        for m in page["stateMachines"].as_array().into_iter().flatten() {
            let arn = &m["stateMachineArn"];
            let d = run("DescribeStateMachine", json!({ "stateMachineArn": arn })).await?;
            let versions = run("ListStateMachineVersions", json!({ "stateMachineArn": arn })).await?;
            let aliases = run("ListStateMachineAliases", json!({ "stateMachineArn": arn })).await?;
            rows.push(json!({
                "name": m["name"],
                "stateMachineArn": arn,
                "type": m["type"],
                "creationDate": m["creationDate"],
                "revisionId": d["revisionId"],
                "loggingLevel": d["loggingConfiguration"]["level"],
                "versions": versions["stateMachineVersions"].as_array().map_or(0, Vec::len),
                "aliases": aliases["stateMachineAliases"].as_array().map_or(0, Vec::len),
            }));
        }
        match page["nextToken"].as_str() {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => break,
        }
    }
    Ok(json!({ "stateMachines": rows }))
}

async fn history(State(c): State<Console>, uri: Uri, headers: HeaderMap) -> Response {
    let result = async {
        let call = c.backend.caller(&headers)?;
        let execution_arn = query(&uri, "executionArn").unwrap_or_default();
        let mut events = Vec::new();
        let mut next_token = String::new();
        loop {
            let req = expressway_proto::v1::GetExecutionHistoryRequest {
                execution_arn: execution_arn.clone(),
                max_results: 1000,
                reverse_order: false,
                next_token,
                // The page shows each state's input and output.
                include_execution_data: Some(true),
            };
            let page =
                expressway_frontend::ops::get_execution_history(c.backend.auth(), c.backend.executions(), &call, req)
                    .await?;
            for e in page.events {
                let details: Value = if e.details.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&e.details).unwrap_or(Value::String(e.details))
                };
                let ms = e.timestamp.map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000);
                events.push(json!({
                    "id": e.id,
                    "timestamp_ms": ms,
                    "type": e.r#type,
                    "state_name": (!e.state_name.is_empty()).then_some(e.state_name),
                    "details": details,
                }));
            }
            if page.next_token.is_empty() {
                break;
            }
            next_token = page.next_token;
        }
        Ok::<_, AwsError>(json!({ "events": events }))
    };
    match result.await {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

/// An execution as DescribeExecution tells it, with the definition and logging configuration
/// of the revision it runs (the page draws the one and explains by the other what its history
/// holds).
async fn execution(State(c): State<Console>, uri: Uri, headers: HeaderMap) -> Response {
    let result = async {
        let call = c.backend.caller(&headers)?;
        let arn = query(&uri, "executionArn").unwrap_or_default();
        c.backend.authorize(&call, "states:DescribeExecution", &arn)?;
        c.backend.authorize(&call, "states:DescribeStateMachineForExecution", &arn)?;
        let store = |e| AwsError::from(FrontendError::Store(e));
        let r = c.backend.executions().get(&arn).await.map_err(store)?;
        let revision = c.backend.registry().revision(&r.revision_id).await.map_err(store)?;
        let level = match revision.logging.level {
            LogLevel::Off => "OFF",
            LogLevel::All => "ALL",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
        };
        Ok(json!({
            "executionArn": r.execution_arn,
            "name": r.name,
            "stateMachineArn": r.state_machine_arn,
            "revisionId": r.revision_id,
            "status": r.status.as_str(),
            "input": r.input,
            "output": r.output,
            "error": r.error,
            "cause": r.cause,
            "startMs": r.start_ms,
            "stopMs": r.stop_ms,
            "definition": revision.definition,
            "logging": { "level": level, "includeExecutionData": revision.logging.include_execution_data },
        }))
    };
    answer(result.await)
}

async fn graph(body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    match crate::definition_svg(&text) {
        Ok(svg) => json_response(StatusCode::OK, &json!({ "svg": svg })),
        Err(e) => json_response(StatusCode::BAD_REQUEST, &json!({ "message": e.to_string() })),
    }
}

/// Decode `%XX` escapes and `+` of a query string's value.
fn decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (decode(k) == key).then(|| decode(v))
    })
}

/// One message of the results stream as the page reads it.
fn message_json(position: u64, m: &ResultMessage) -> Value {
    match m {
        ResultMessage::Outcome(o) => json!({
            "kind": "outcome",
            "position": position,
            "executionArn": o.execution_arn,
            "name": o.execution_name,
            "stateMachineArn": o.state_machine_arn,
            "status": o.status.as_str(),
            "error": o.error,
            "cause": o.cause,
            "output": o.output,
            "startMs": o.start_ms,
            "stopMs": o.stop_ms,
        }),
        ResultMessage::Event(e) => json!({
            "kind": "event",
            "position": position,
            "executionArn": e.execution_arn,
            "stateMachineArn": e.state_machine_arn,
            "event": e.event,
        }),
    }
}

/// The results stream as Server-Sent Events. The page reads it with `fetch`, so the bearer
/// token comes in the `Authorization` header like every other call's (never in the URL).
async fn events(State(c): State<Console>, uri: Uri, headers: HeaderMap) -> Response {
    let execution = query(&uri, "executionArn").unwrap_or_default();
    let machine = query(&uri, "stateMachineArn").unwrap_or_default();
    let resource = if !execution.is_empty() {
        execution.clone()
    } else if !machine.is_empty() {
        machine.clone()
    } else {
        "*".to_string()
    };
    let allowed =
        c.backend.caller(&headers).and_then(|call| c.backend.authorize(&call, "expressway:Subscribe", &resource));
    if let Err(e) = allowed {
        return e.into_response();
    }
    let only_executions = query(&uri, "only").as_deref() == Some("executions");
    let from = query(&uri, "from").and_then(|f| f.parse::<u64>().ok());
    let mut sub = c.backend.hub().subscribe(from);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, std::convert::Infallible>>(64);
    let mut shutdown = c.shutdown.clone();
    tokio::spawn(async move {
        loop {
            let item = tokio::select! {
                item = sub.next() => match item { Some(i) => i, None => break },
                _ = shutdown.wait_for(|s| *s) => break,
                _ = tx.closed() => break,
            };
            let Delivered::Message { position, message } = item else { continue };
            if !execution.is_empty() && message.execution_arn() != execution {
                continue;
            }
            if !machine.is_empty() && message.state_machine_arn() != machine {
                continue;
            }
            if only_executions {
                let wanted = match &*message {
                    ResultMessage::Outcome(_) => true,
                    ResultMessage::Event(e) => e.event.event_type == expressway_asl::EventType::ExecutionStarted,
                };
                if !wanted {
                    continue;
                }
            }
            let data = message_json(position, &message).to_string();
            if tx.send(Ok(Event::default().data(data))).await.is_err() {
                break;
            }
        }
    });
    Sse::new(tokio_stream::wrappers::ReceiverStream::new(rx)).keep_alive(KeepAlive::default()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded() {
        let uri: Uri = "/x?executionArn=arn%3Aaws%3Astates%3Ax&only=executions&a+b=c+d".parse().expect("uri");
        assert_eq!(query(&uri, "executionArn").as_deref(), Some("arn:aws:states:x"));
        assert_eq!(query(&uri, "only").as_deref(), Some("executions"));
        assert_eq!(query(&uri, "a b").as_deref(), Some("c d"));
        assert_eq!(query(&uri, "missing"), None);
        assert_eq!(decode("100%"), "100%");
    }
}
