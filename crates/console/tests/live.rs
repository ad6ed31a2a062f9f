//! The console as a results service serves it (`live_router`): the live executions pages over
//! the results stream and the stores, the management calls answered with what to use instead,
//! and with authentication on, every call (the event stream's too) needing a bearer token in
//! its `Authorization` header.

use std::sync::Arc;
use std::time::Duration;

use expressway_asl::{EventType, HistoryEvent};
use expressway_bus::memory::MemoryHub;
use expressway_bus::{EventMessage, ResultMessage, ResultsHub};
use expressway_console::Live;
use expressway_frontend::auth::{Auth, AuthConfig, Policy};
use expressway_store::arn::Partition;
use expressway_store::memory::{MemoryExecutions, MemoryRegistry};
use expressway_store::{
    ExecutionRecord, ExecutionStatus, ExecutionStore, LogLevel, Logging, MachineKind, NewStateMachine, Registry,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DEFINITION: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;

/// A results service's console on a free port, with one execution in its stores and its
/// ExecutionStarted event on the stream; returns the port and the execution's ARN.
async fn serve(auth: Option<Arc<Auth>>) -> (u16, String) {
    let registry = Arc::new(MemoryRegistry::new(Partition::default()));
    let machine = registry
        .create(NewStateMachine {
            name: "live".into(),
            arn: "arn:aws:states:us-east-1:000000000000:stateMachine:live".into(),
            definition: DEFINITION.into(),
            kind: MachineKind::Express,
            logging: Logging { level: LogLevel::Error, include_execution_data: false },
            tracing: false,
            tags: Default::default(),
            now_ms: 1,
        })
        .await
        .expect("created");
    let arn = "arn:aws:states:us-east-1:000000000000:express:live:run-1:0a1b".to_string();
    let executions = Arc::new(MemoryExecutions::new(Duration::from_secs(60), 100));
    executions
        .start(
            ExecutionRecord {
                execution_arn: arn.clone(),
                name: "run-1".into(),
                state_machine_arn: machine.arn.clone(),
                revision_id: machine.current.revision_id.clone(),
                input: "{}".into(),
                input_hash: expressway_store::input_hash("{}"),
                status: ExecutionStatus::Running,
                output: None,
                error: None,
                cause: None,
                start_ms: 2,
                stop_ms: None,
            },
            Duration::ZERO,
        )
        .await
        .expect("started");
    let hub = Arc::new(MemoryHub::new(100, 1 << 20));
    let event = HistoryEvent {
        id: 1,
        timestamp_ms: 2,
        event_type: EventType::ExecutionStarted,
        state_name: None,
        details: serde_json::json!({}),
    };
    let _ = hub.publish(ResultMessage::Event(EventMessage {
        execution_arn: arn.clone(),
        state_machine_arn: machine.arn.clone(),
        event,
    }));
    let live = Live { hub, executions, registry, auth };
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let router = expressway_console::live_router(live, shutdown);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let _stop = _stop;
        axum::serve(listener, router).await
    });
    (port, arn)
}

/// One request; the answer's head and as much of its body as came before `until` appeared,
/// the connection closed or two seconds passed (an event stream does not end).
async fn call(port: u16, method: &str, path: &str, token: Option<&str>, until: &str) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let req =
        format!("{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 2\r\nConnection: close\r\n\r\n{{}}");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if !until.is_empty() && String::from_utf8_lossy(&got).contains(until) {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_ascii_lowercase(), body.to_string())
}

fn q(arn: &str) -> String {
    arn.replace(':', "%3A")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_results_service_serves_the_live_pages_only() {
    let (port, arn) = serve(None).await;
    let (head, body) = call(port, "GET", "/console/", None, "").await;
    assert!(head.starts_with("http/1.1 200") && body.contains("/console/assets/console.js"), "{head}");
    let (_, body) = call(port, "GET", "/console/api/about", None, "").await;
    assert!(body.contains(r#""mode":"live""#) && body.contains(r#""auth":false"#), "{body}");
    let (head, body) = call(port, "GET", &format!("/console/api/execution?executionArn={}", q(&arn)), None, "").await;
    assert!(head.starts_with("http/1.1 200"), "{head} {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(v["status"], "RUNNING");
    assert_eq!(v["definition"], DEFINITION);
    assert_eq!(v["logging"], serde_json::json!({"level": "ERROR", "includeExecutionData": false}));
    let (head, body) =
        call(port, "GET", &format!("/console/api/events?executionArn={}&from=1", q(&arn)), None, "ExecutionStarted")
            .await;
    assert!(head.contains("text/event-stream") && body.contains(r#""type":"ExecutionStarted""#), "{head} {body}");
    for (method, path) in [("POST", "/console/api/op/StartExecution"), ("GET", "/console/api/machines")] {
        let (head, body) = call(port, method, path, None, "").await;
        assert!(
            head.starts_with("http/1.1 501") && body.contains("NotServedHere") && body.contains("frontend"),
            "{path}: {head} {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auth_on_every_call_needs_the_token_in_its_header() {
    let dir = std::env::temp_dir().join(format!("xw-console-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let tokens = dir.join("tokens.toml");
    std::fs::write(&tokens, "[[tokens]]\nprincipal = \"viewer\"\ntoken = \"right-token\"\n").expect("tokens");
    let cfg = AuthConfig {
        tokens_file: Some(tokens),
        policies: vec![Policy {
            principal: "viewer".into(),
            actions: vec![
                "states:Describe*".into(),
                "states:GetExecutionHistory".into(),
                "expressway:Subscribe".into(),
            ],
            resources: vec!["*".into()],
        }],
        ..AuthConfig::default()
    };
    let auth = Auth::from_config(&cfg).expect("auth");
    let (port, arn) = serve(auth).await;
    let (_, body) = call(port, "GET", "/console/api/about", None, "").await;
    assert!(body.contains(r#""auth":true"#), "{body}");
    let events = format!("/console/api/events?executionArn={}&from=1", q(&arn));
    for token in [None, Some("wrong-token")] {
        for path in [format!("/console/api/execution?executionArn={}", q(&arn)), events.clone()] {
            let (head, body) = call(port, "GET", &path, token, "").await;
            assert!(head.starts_with("http/1.1 400") && body.contains("UnrecognizedClient"), "{path}: {head} {body}");
        }
    }
    // A token in the URL is not read: it would be kept by access logs and the history.
    let (head, _) = call(port, "GET", &format!("{events}&token=right-token"), None, "").await;
    assert!(head.starts_with("http/1.1 400"), "{head}");
    let (head, body) = call(port, "GET", &events, Some("right-token"), "ExecutionStarted").await;
    assert!(head.starts_with("http/1.1 200") && body.contains("ExecutionStarted"), "{head} {body}");
    let (head, body) =
        call(port, "GET", &format!("/console/api/history?executionArn={}", q(&arn)), Some("right-token"), "").await;
    assert!(head.starts_with("http/1.1 200") && body.contains(r#""events":[]"#), "{head} {body}");
    let _ = std::fs::remove_dir_all(&dir);
}
