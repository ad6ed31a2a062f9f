//! The embedded server driven through tonic clients and through the `expressway` client
//! commands: state machine management, sync and async executions, subscriptions, and every
//! error path of the API.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use expressway_cli::dev::{serve, DevArgs};
use expressway_proto::v1 as pb;
use pb::executions_client::ExecutionsClient;
use pb::results_client::ResultsClient;
use pb::state_machines_client::StateMachinesClient;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::Code;
use tonic_types::StatusExt;

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

fn args(workers: usize, queue: usize) -> DevArgs {
    DevArgs {
        listen: "127.0.0.1:0".parse().expect("addr"),
        http_listen: expressway_cli::http::HttpListen(None),
        workers,
        queue_capacity: queue,
        max_queue_bytes: 256 << 20,
        dedupe_window_seconds: 300,
        retention_seconds: 3600,
        max_executions: 10_000,
        results_retained: 10_000,
        max_results_bytes: 256 << 20,
        max_store_bytes: 1 << 30,
        execution_timeout_seconds: 300,
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        tasks: Default::default(),
        tls: Default::default(),
        auth_config: None,
        drain_timeout_seconds: 30,
    }
}

async fn start(args: DevArgs) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(serve(args, listener, async {
        let _ = rx.await;
    }));
    Server { addr, stop: Some(tx), done }
}

impl Server {
    async fn channel(&self) -> Channel {
        let url = format!("http://{}", self.addr);
        for _ in 0..100 {
            if let Ok(c) = Channel::from_shared(url.clone()).expect("url").connect().await {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server did not come up at {url}");
    }

    async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), self.done)
            .await
            .expect("the server drains in time")
            .expect("server task")
            .expect("server result");
    }
}

const HELLO: &str = r#"{"StartAt":"H","States":{"H":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('Hello, {}!', $.name)"},"End":true}}}"#;

fn create(name: &str, definition: &str, level: pb::LogLevel) -> pb::CreateStateMachineRequest {
    pb::CreateStateMachineRequest {
        name: name.into(),
        definition: definition.into(),
        r#type: pb::StateMachineType::Express as i32,
        logging_configuration: Some(pb::LoggingConfiguration { level: level as i32, include_execution_data: true }),
        tracing_configuration: None,
        tags: vec![pb::Tag { key: "team".into(), value: "core".into() }],
        publish: false,
        version_description: String::new(),
    }
}

fn start_req(arn: &str, name: &str, input: Value) -> pb::StartExecutionRequest {
    pb::StartExecutionRequest {
        state_machine_arn: arn.into(),
        name: name.into(),
        input: input.to_string(),
        trace_header: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manage_run_describe_and_subscribe() {
    let server = start(args(8, 1000)).await;
    let ch = server.channel().await;
    let mut sm = StateMachinesClient::new(ch.clone());
    let mut ex = ExecutionsClient::new(ch.clone());
    let mut results = ResultsClient::new(ch.clone());

    let created =
        sm.create_state_machine(create("hello", HELLO, pb::LogLevel::All)).await.expect("create").into_inner();
    assert_eq!(created.state_machine_arn, "arn:aws:states:eu-west-1:123456789012:stateMachine:hello");
    let arn = created.state_machine_arn.clone();

    // Subscribe before running so the live stream sees everything.
    let mut stream = results
        .subscribe(pb::SubscribeRequest { state_machine_arn: arn.clone(), all_events: true, ..Default::default() })
        .await
        .expect("subscribe")
        .into_inner();

    let sync = ex.start_sync_execution(start_req(&arn, "", json!({"name": "sync"}))).await.expect("sync").into_inner();
    assert_eq!(sync.status, pb::ExecutionStatus::Succeeded as i32);
    assert_eq!(serde_json::from_str::<Value>(&sync.output).expect("json"), json!({"greeting": "Hello, sync!"}));
    assert!(sync.execution_arn.starts_with("arn:aws:states:eu-west-1:123456789012:express:hello:"));
    assert_eq!(sync.billing_details.map(|b| b.billed_duration_in_milliseconds), Some(100));

    let started =
        ex.start_execution(start_req(&arn, "named-1", json!({"name": "async"}))).await.expect("start").into_inner();
    // Same name, same input: the same execution. Same name, other input: rejected.
    let again =
        ex.start_execution(start_req(&arn, "named-1", json!({"name": "async"}))).await.expect("dup").into_inner();
    assert_eq!(again.execution_arn, started.execution_arn);
    let conflict =
        ex.start_execution(start_req(&arn, "named-1", json!({"name": "other"}))).await.expect_err("conflict");
    assert_eq!(conflict.code(), Code::AlreadyExists);

    let mut described = None;
    for _ in 0..100 {
        let d = ex
            .describe_execution(pb::DescribeExecutionRequest { execution_arn: started.execution_arn.clone() })
            .await
            .expect("describe")
            .into_inner();
        if d.status != pb::ExecutionStatus::Running as i32 {
            described = Some(d);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let d = described.expect("the async execution finishes");
    assert_eq!(d.status, pb::ExecutionStatus::Succeeded as i32);
    assert_eq!(serde_json::from_str::<Value>(&d.output).expect("json"), json!({"greeting": "Hello, async!"}));

    // The stream carried both executions' events in order, then their outcomes.
    let mut outcomes = 0;
    let mut types_of_sync = Vec::new();
    let mut last_position = 0;
    while outcomes < 2 {
        let msg = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("in time")
            .expect("ok")
            .expect("msg");
        assert!(msg.position > last_position, "positions increase");
        last_position = msg.position;
        match msg.body.expect("body") {
            pb::subscribe_response::Body::Outcome(o) => {
                assert_eq!(o.status, pb::ExecutionStatus::Succeeded as i32);
                outcomes += 1;
            }
            pb::subscribe_response::Body::Event(e) if e.execution_arn == sync.execution_arn => {
                types_of_sync.push(e.event.expect("event").r#type);
            }
            pb::subscribe_response::Body::Event(_) => {}
            pb::subscribe_response::Body::FellBehind(f) => panic!("unexpected fell-behind {f:?}"),
        }
    }
    assert_eq!(types_of_sync, vec!["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);

    let history = results
        .get_execution_history(pb::GetExecutionHistoryRequest {
            execution_arn: sync.execution_arn.clone(),
            max_results: 2,
            ..Default::default()
        })
        .await
        .expect("history")
        .into_inner();
    assert_eq!(history.events.len(), 2);
    assert_eq!(history.next_token, "2");

    // Update: a new revision; published versions keep theirs.
    let v1 = sm
        .publish_state_machine_version(pb::PublishStateMachineVersionRequest {
            state_machine_arn: arn.clone(),
            ..Default::default()
        })
        .await
        .expect("publish")
        .into_inner();
    let upd = sm
        .update_state_machine(pb::UpdateStateMachineRequest {
            state_machine_arn: arn.clone(),
            definition: Some(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v2","End":true}}}"#.into()),
            ..Default::default()
        })
        .await
        .expect("update")
        .into_inner();
    assert!(!upd.revision_id.is_empty());
    let latest = ex.start_sync_execution(start_req(&arn, "", json!({"name": "x"}))).await.expect("run").into_inner();
    assert_eq!(latest.output, "\"v2\"");
    let old = ex
        .start_sync_execution(start_req(&v1.state_machine_version_arn, "", json!({"name": "v1"})))
        .await
        .expect("run v1")
        .into_inner();
    assert_eq!(serde_json::from_str::<Value>(&old.output).expect("json"), json!({"greeting": "Hello, v1!"}));
    let alias = sm
        .create_state_machine_alias(pb::CreateStateMachineAliasRequest {
            name: "prod".into(),
            description: String::new(),
            routing_configuration: vec![pb::RoutingConfiguration {
                state_machine_version_arn: v1.state_machine_version_arn.clone(),
                weight: 100,
            }],
        })
        .await
        .expect("alias")
        .into_inner();
    let via_alias = ex
        .start_sync_execution(start_req(&alias.state_machine_alias_arn, "", json!({"name": "alias"})))
        .await
        .expect("alias run")
        .into_inner();
    assert_eq!(serde_json::from_str::<Value>(&via_alias.output).expect("json"), json!({"greeting": "Hello, alias!"}));

    let listed = sm.list_state_machines(pb::ListStateMachinesRequest::default()).await.expect("list").into_inner();
    assert_eq!(listed.state_machines.len(), 1);
    let described = sm
        .describe_state_machine(pb::DescribeStateMachineRequest { state_machine_arn: arn.clone() })
        .await
        .expect("describe sm")
        .into_inner();
    assert_eq!(described.revision_id, upd.revision_id);
    assert_eq!(described.tags.len(), 1);

    // Health checking and reflection, so grpcurl, ghz and k6 work without the .proto files.
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    let h = health
        .check(tonic_health::pb::HealthCheckRequest { service: "expressway.v1.Executions".into() })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(h.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    use tonic_reflection::pb::v1 as refl;
    let mut reflection = refl::server_reflection_client::ServerReflectionClient::new(ch.clone());
    let req = refl::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(refl::server_reflection_request::MessageRequest::ListServices(String::new())),
    };
    let mut resp =
        reflection.server_reflection_info(tokio_stream::iter(vec![req])).await.expect("reflection").into_inner();
    let msg = resp.message().await.expect("ok").expect("a response");
    let Some(refl::server_reflection_response::MessageResponse::ListServicesResponse(list)) = msg.message_response
    else {
        panic!("unexpected reflection response");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for svc in
        ["expressway.v1.StateMachines", "expressway.v1.Executions", "expressway.v1.Results", "grpc.health.v1.Health"]
    {
        assert!(names.contains(&svc.to_string()), "{svc} missing from {names:?}");
    }
    // The same through reflection v1alpha, which grpcurl 1.8, Postman and evans ask.
    use tonic_reflection::pb::v1alpha as alpha;
    let mut reflection = alpha::server_reflection_client::ServerReflectionClient::new(ch.clone());
    let req = alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(alpha::server_reflection_request::MessageRequest::ListServices(String::new())),
    };
    let mut resp =
        reflection.server_reflection_info(tokio_stream::iter(vec![req])).await.expect("reflection").into_inner();
    let msg = resp.message().await.expect("ok").expect("a response");
    let Some(alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) = msg.message_response
    else {
        panic!("unexpected v1alpha reflection response");
    };
    let alpha_names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for svc in [
        "expressway.v1.StateMachines",
        "expressway.v1.Executions",
        "expressway.v1.Results",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(alpha_names.contains(&svc.to_string()), "{svc} missing from {alpha_names:?}");
    }

    drop(stream);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_paths_have_precise_statuses() {
    let server = start(args(1, 1)).await;
    let ch = server.channel().await;
    let mut sm = StateMachinesClient::new(ch.clone());
    let mut ex = ExecutionsClient::new(ch.clone());

    // Invalid definitions: INVALID_ARGUMENT with every diagnostic as a field violation.
    let bad = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Gone"},"B":{"Type":"Pass","End":true}}}"#;
    let e = sm.create_state_machine(create("bad", bad, pb::LogLevel::Off)).await.expect_err("invalid");
    assert_eq!(e.code(), Code::InvalidArgument);
    let fields: Vec<String> =
        e.get_details_bad_request().expect("details").field_violations.into_iter().map(|v| v.field).collect();
    assert!(fields.contains(&"/States/A/Next".to_string()) && fields.contains(&"/States/B".to_string()), "{fields:?}");
    // Hundreds of faults: a status that fits in its headers, the count in the message.
    let states: serde_json::Map<String, Value> =
        (0..300).map(|i| (format!("S{i}"), json!({"Type": "Pass", "Next": format!("Gone{i}")}))).collect();
    let many = json!({"StartAt": "S0", "States": states}).to_string();
    let e = sm.create_state_machine(create("many", &many, pb::LogLevel::Off)).await.expect_err("invalid");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("more (ValidateStateMachineDefinition lists them all)"), "{}", e.message());
    assert_eq!(e.get_details_bad_request().expect("details").field_violations.len(), 10);

    let v = sm
        .validate_state_machine_definition(pb::ValidateStateMachineDefinitionRequest {
            definition: bad.into(),
            ..Default::default()
        })
        .await
        .expect("validate")
        .into_inner();
    assert_eq!(v.result, "FAIL");
    assert_eq!(v.diagnostics.len(), 2);

    // Express restrictions.
    let wait_token = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","End":true}}}"#;
    assert_eq!(
        sm.create_state_machine(create("cb", wait_token, pb::LogLevel::Off)).await.expect_err("express").code(),
        Code::InvalidArgument
    );
    assert_eq!(
        sm.create_state_machine(create("bad name", HELLO, pb::LogLevel::Off)).await.expect_err("name").code(),
        Code::InvalidArgument
    );

    let slow = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let arn = sm
        .create_state_machine(create("slow", slow, pb::LogLevel::Off))
        .await
        .expect("create")
        .into_inner()
        .state_machine_arn;
    assert_eq!(
        sm.create_state_machine(create("slow", HELLO, pb::LogLevel::Off)).await.expect_err("exists").code(),
        Code::AlreadyExists
    );

    // NOT_FOUND for unknown machines and executions; INVALID_ARGUMENT for malformed ARNs.
    let missing = "arn:aws:states:eu-west-1:123456789012:stateMachine:nope";
    assert_eq!(ex.start_execution(start_req(missing, "", json!({}))).await.expect_err("nf").code(), Code::NotFound);
    assert_eq!(
        ex.start_execution(start_req("not-an-arn", "", json!({}))).await.expect_err("arn").code(),
        Code::InvalidArgument
    );
    assert_eq!(
        ex.describe_execution(pb::DescribeExecutionRequest {
            execution_arn: "arn:aws:states:x:1:express:a:b:c".into()
        })
        .await
        .expect_err("nf")
        .code(),
        Code::NotFound
    );

    // Inputs: not JSON, or over 256 KiB, are refused before anything is queued.
    let mut r = start_req(&arn, "", json!({}));
    r.input = "{not json".into();
    assert_eq!(ex.start_execution(r.clone()).await.expect_err("json").code(), Code::InvalidArgument);
    r.input = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let e = ex.start_execution(r).await.expect_err("deep");
    assert!(e.code() == Code::InvalidArgument && e.message().contains("nested more than 127 levels deep"), "{e:?}");
    let big = json!({"s": "x".repeat(300 * 1024)});
    assert_eq!(ex.start_execution(start_req(&arn, "", big)).await.expect_err("size").code(), Code::InvalidArgument);

    // Overload: one worker busy, one queued, the next is refused with RESOURCE_EXHAUSTED.
    let mut codes = Vec::new();
    for _ in 0..4 {
        match ex.start_execution(start_req(&arn, "", json!({}))).await {
            Ok(_) => codes.push(Code::Ok),
            Err(e) => codes.push(e.code()),
        }
    }
    assert!(codes.contains(&Code::ResourceExhausted), "{codes:?}");
    assert!(codes.iter().all(|c| *c == Code::Ok || *c == Code::ResourceExhausted), "{codes:?}");

    // A caller deadline shorter than the execution: DEADLINE_EXCEEDED from the server (the
    // header is sent without a client-side timer, to see what the server answers).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut req = tonic::Request::new(start_req(&arn, "", json!({})));
    req.metadata_mut().insert("grpc-timeout", "300m".parse().expect("header"));
    let e = ex.start_sync_execution(req).await.expect_err("deadline");
    assert_eq!(e.code(), Code::DeadlineExceeded);

    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_bounded_by_the_drain_deadline() {
    let server = start(DevArgs { drain_timeout_seconds: 1, ..args(2, 100) }).await;
    let ch = server.channel().await;
    let mut sm = StateMachinesClient::new(ch.clone());
    let mut ex = ExecutionsClient::new(ch.clone());
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":120,"End":true}}}"#;
    let arn = sm
        .create_state_machine(create("long", def, pb::LogLevel::Off))
        .await
        .expect("create")
        .into_inner()
        .state_machine_arn;
    ex.start_execution(start_req(&arn, "long-1", json!({}))).await.expect("start");
    // A client that connects and never says anything, and a call that will not end.
    let _idle = tokio::net::TcpStream::connect(server.addr).await.expect("idle connection");
    let mut waiting = ExecutionsClient::new(ch.clone());
    let _sync = tokio::spawn(async move { waiting.start_sync_execution(start_req(&arn, "long-2", json!({}))).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let began = std::time::Instant::now();
    server.shutdown().await;
    assert!(began.elapsed() < Duration::from_secs(5), "shutdown took {:?}", began.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_accepted_executions() {
    let server = start(args(2, 100)).await;
    let ch = server.channel().await;
    let mut sm = StateMachinesClient::new(ch.clone());
    let mut ex = ExecutionsClient::new(ch.clone());
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let arn = sm
        .create_state_machine(create("w", def, pb::LogLevel::Off))
        .await
        .expect("create")
        .into_inner()
        .state_machine_arn;
    let mut arns = Vec::new();
    for i in 0..6 {
        arns.push(
            ex.start_execution(start_req(&arn, &format!("e{i}"), json!({})))
                .await
                .expect("start")
                .into_inner()
                .execution_arn,
        );
    }
    let started = std::time::Instant::now();
    server.shutdown().await;
    // Six one-second executions on two workers: the drain waited for all of them.
    assert!(started.elapsed() >= Duration::from_millis(2500), "drained too fast: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_client_talks_to_the_server() {
    let server = start(args(4, 100)).await;
    let _ = server.channel().await;
    let endpoint = format!("http://{}", server.addr);
    let dir = std::env::temp_dir().join(format!("expressway-embedded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let def = dir.join("hello.json");
    std::fs::write(&def, HELLO).expect("write");

    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_expressway"))
            .arg("--endpoint")
            .arg(&endpoint)
            .args(args)
            .output()
            .expect("run cli");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&args)
    };

    let (code, out, err) = run(vec![
        "create-state-machine".into(),
        "--name".into(),
        "hello".into(),
        "--definition".into(),
        def.display().to_string(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let created: Value = serde_json::from_str(&out).expect("json");
    let arn = created["stateMachineArn"].as_str().expect("arn").to_string();

    let (code, out, _) = run(vec![
        "start-sync-execution".into(),
        "--state-machine-arn".into(),
        arn.clone(),
        "--input".into(),
        r#"{"name":"cli"}"#.into(),
    ]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["output"], r#"{"greeting":"Hello, cli!"}"#);

    let (code, out, _) = run(vec![
        "start-execution".into(),
        "--state-machine-arn".into(),
        arn.clone(),
        "--name".into(),
        "n1".into(),
        "--input".into(),
        r#"{"name":"n1"}"#.into(),
    ]);
    assert_eq!(code, Some(0));
    let exec_arn =
        serde_json::from_str::<Value>(&out).expect("json")["executionArn"].as_str().expect("arn").to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, out, _) = run(vec!["describe-execution".into(), "--execution-arn".into(), exec_arn]);
    assert_eq!(code, Some(0));
    assert_eq!(serde_json::from_str::<Value>(&out).expect("json")["status"], "SUCCEEDED");

    let (_, out, _) = run(vec!["list-state-machines".into()]);
    assert_eq!(serde_json::from_str::<Value>(&out).expect("json")["stateMachines"][0]["name"], "hello");

    let (_, out, _) = run(vec!["watch".into(), "--from".into(), "1".into(), "--count".into(), "2".into()]);
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).expect("line json")).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["status"] == "SUCCEEDED"));

    // Service errors: exit 1 with AWS's exception and the diagnostics' locations on stderr.
    let (code, _, err) = run(vec![
        "create-state-machine".into(),
        "--name".into(),
        "bad".into(),
        "--definition".into(),
        r#"{"StartAt":"X","States":{}}"#.into(),
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("(InvalidDefinition)") && err.contains("at /"), "{err}");

    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_execution_records_aborted_and_the_run_does_not_overwrite_it() {
    let server = start(args(2, 100)).await;
    let ch = server.channel().await;
    let mut sm = StateMachinesClient::new(ch.clone());
    let mut ex = ExecutionsClient::new(ch.clone());
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let arn = sm
        .create_state_machine(create("w", def, pb::LogLevel::Off))
        .await
        .expect("create")
        .into_inner()
        .state_machine_arn;
    let started = ex.start_execution(start_req(&arn, "to-stop", json!({}))).await.expect("start").into_inner();
    ex.stop_execution(pb::StopExecutionRequest {
        execution_arn: started.execution_arn.clone(),
        error: "Operator.Stop".into(),
        cause: "not needed".into(),
    })
    .await
    .expect("stop");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let d = ex
        .describe_execution(pb::DescribeExecutionRequest { execution_arn: started.execution_arn.clone() })
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(d.status, pb::ExecutionStatus::Aborted as i32);
    assert_eq!((d.error.as_str(), d.cause.as_str()), ("Operator.Stop", "not needed"));
    let e = ex
        .stop_execution(pb::StopExecutionRequest {
            execution_arn: "arn:aws:states:x:1:express:a:b:c".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown execution");
    assert_eq!(e.code(), Code::NotFound);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_execution_ends_the_run_and_its_task_call_in_flight() {
    // "slow" never answers in time; "next" would show that the run went on past it.
    let calls: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let seen = calls.clone();
    let function = expressway_testkit::http_server(std::sync::Arc::new(move |req: &expressway_testkit::Request| {
        seen.lock().expect("lock").push(req.body.clone());
        if req.body.contains("slow") {
            std::thread::sleep(Duration::from_secs(20));
        }
        (200, "{}".to_string())
    }))
    .expect("function server");
    let mut a = args(1, 100);
    a.tasks.functions = vec![format!("f=http://127.0.0.1:{}/", function.port)];
    let server = start(a).await;
    let ch = server.channel().await;
    let mut sm = StateMachinesClient::new(ch.clone());
    let mut ex = ExecutionsClient::new(ch.clone());
    // Without the stop reaching the run, its Catch would take it on to "Next" after 2 s.
    let def = r#"{"StartAt":"Slow","States":{
        "Slow":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":{"step":"slow"}},
                "TimeoutSeconds":2,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Next"}],"Next":"Next"},
        "Next":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f","Payload":{"step":"next"}},"End":true}}}"#;
    let arn = sm
        .create_state_machine(create("stoppable", def, pb::LogLevel::All))
        .await
        .expect("create")
        .into_inner()
        .state_machine_arn;
    let started = ex.start_execution(start_req(&arn, "to-stop", json!({}))).await.expect("start").into_inner();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while calls.lock().expect("lock").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the task was never called");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ex.stop_execution(pb::StopExecutionRequest {
        execution_arn: started.execution_arn.clone(),
        error: "Operator.Stop".into(),
        cause: "stopped mid-task".into(),
    })
    .await
    .expect("stop");
    // The only worker slot is free again at once: another execution runs meanwhile.
    let hello = sm.create_state_machine(create("hello", HELLO, pb::LogLevel::Off)).await.expect("create").into_inner();
    let after = tokio::time::timeout(
        Duration::from_secs(1),
        ex.start_sync_execution(start_req(&hello.state_machine_arn, "after", json!({"name": "x"}))),
    )
    .await
    .expect("the worker was freed by the stop")
    .expect("sync start")
    .into_inner();
    assert_eq!(after.status, pb::ExecutionStatus::Succeeded as i32);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let bodies = calls.lock().expect("lock").clone();
    assert_eq!(bodies.len(), 1, "the run went on after its stop: {bodies:?}");
    let d = ex
        .describe_execution(pb::DescribeExecutionRequest { execution_arn: started.execution_arn.clone() })
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(d.status, pb::ExecutionStatus::Aborted as i32);
    assert_eq!((d.error.as_str(), d.cause.as_str()), ("Operator.Stop", "stopped mid-task"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_executions_start_on_the_same_server() {
    let server = start(args(8, 100)).await;
    let ch = server.channel().await;
    let mut sm = StateMachinesClient::new(ch.clone());
    let mut ex = ExecutionsClient::new(ch.clone());
    let child = sm
        .create_state_machine(create("child", HELLO, pb::LogLevel::Off))
        .await
        .expect("child")
        .into_inner()
        .state_machine_arn;
    let parent = json!({"StartAt": "Sync", "States": {
        "Sync": {"Type": "Task", "Resource": "arn:aws:states:::states:startSyncExecution",
                 "Parameters": {"StateMachineArn": child, "Input": {"name.$": "$.who"}},
                 "ResultSelector": {"status.$": "$.Status", "output.$": "States.StringToJson($.Output)"},
                 "ResultPath": "$.sync", "Next": "Async"},
        "Async": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
                  "Parameters": {"StateMachineArn": child, "Input": {"name": "async"}, "Name": "from-parent"},
                  "ResultSelector": {"arn.$": "$.ExecutionArn"}, "ResultPath": "$.async", "End": true}}});
    let parent_arn = sm
        .create_state_machine(create("parent", &parent.to_string(), pb::LogLevel::Off))
        .await
        .expect("parent")
        .into_inner()
        .state_machine_arn;
    let r =
        ex.start_sync_execution(start_req(&parent_arn, "", json!({"who": "nested"}))).await.expect("run").into_inner();
    assert_eq!(r.status, pb::ExecutionStatus::Succeeded as i32, "{} {}", r.error, r.cause);
    let out: Value = serde_json::from_str(&r.output).expect("json");
    assert_eq!(out["sync"], json!({"status": "SUCCEEDED", "output": {"greeting": "Hello, nested!"}}));
    let async_arn = out["async"]["arn"].as_str().expect("arn").to_string();
    assert!(async_arn.contains(":express:child:from-parent:"), "{async_arn}");
    let mut status = 0;
    for _ in 0..100 {
        status = ex
            .describe_execution(pb::DescribeExecutionRequest { execution_arn: async_arn.clone() })
            .await
            .expect("describe")
            .into_inner()
            .status;
        if status != pb::ExecutionStatus::Running as i32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, pb::ExecutionStatus::Succeeded as i32);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_that_starts_itself_stops_at_the_nesting_limit() {
    // Eight worker slots: without the limit the chain would take them all and wait forever.
    let server = start(args(8, 100)).await;
    let ch = server.channel().await;
    let mut sm = StateMachinesClient::new(ch.clone());
    let mut ex = ExecutionsClient::new(ch.clone());
    let arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:again";
    let def = json!({"StartAt": "Again", "States": {
        "Again": {"Type": "Task", "Resource": "arn:aws:states:::states:startSyncExecution",
                  "Parameters": {"StateMachineArn": arn, "Input": {}}, "End": true}}});
    sm.create_state_machine(create("again", &def.to_string(), pb::LogLevel::Off)).await.expect("create");
    let r = tokio::time::timeout(Duration::from_secs(30), ex.start_sync_execution(start_req(arn, "", json!({}))))
        .await
        .expect("the chain ends")
        .expect("run")
        .into_inner();
    // The deepest allowed level failed to start its child; each level above reports the one
    // below it (a synchronous start's result carries the child's status).
    assert_eq!(r.status, pb::ExecutionStatus::Succeeded as i32, "{} {}", r.error, r.cause);
    let mut levels = 0;
    let mut out: Value = serde_json::from_str(&r.output).expect("json");
    while out["Status"] == "SUCCEEDED" {
        levels += 1;
        out = serde_json::from_str(out["Output"].as_str().expect("output")).expect("json");
    }
    assert_eq!(out["Status"], "FAILED", "{out}");
    assert_eq!(out["Error"], "StepFunctions.ExecutionLimitExceededException", "{out}");
    assert_eq!(levels, 4, "levels below the first: {out}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_state_runs_one_state_over_grpc() {
    let server = start(args(1, 16)).await;
    let mut sm = StateMachinesClient::new(server.channel().await);
    let map = json!({"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.results",
                     "Next": "After", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
                     "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3, "MaxAttempts": 1}]});
    let mock = |result: Option<&str>, error: Option<&str>| pb::MockInput {
        result: result.map(str::to_string),
        error_output: error.map(|e| pb::MockErrorOutput { error: e.into(), cause: "mocked".into() }),
        field_validation_mode: 0,
    };
    let req = |mock: Option<pb::MockInput>| pb::TestStateRequest {
        definition: map.to_string(),
        input: json!({"items": [1, 2]}).to_string(),
        inspection_level: pb::InspectionLevel::Debug as i32,
        mock,
        ..pb::TestStateRequest::default()
    };
    let out = sm.test_state(req(Some(mock(Some("[10, 20]"), None)))).await.expect("test state").into_inner();
    assert_eq!((out.status.as_str(), out.next_state.as_str()), ("SUCCEEDED", "After"), "{out:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&out.output).expect("json"),
        json!({"items": [1, 2], "results": [10, 20]})
    );
    let data = out.inspection_data.expect("DEBUG inspects");
    assert_eq!(data.after_items_path, "[1,2]");
    assert_eq!(data.max_concurrency, Some(2));
    // A mocked error its retrier takes: RETRIABLE, with the retrier and its backoff.
    let out = sm.test_state(req(Some(mock(None, Some("Flaky"))))).await.expect("test state").into_inner();
    assert_eq!((out.status.as_str(), out.error.as_str(), out.output.as_str()), ("RETRIABLE", "Flaky", ""));
    let details = out.inspection_data.and_then(|d| d.error_details).expect("error details");
    assert_eq!((details.retry_index, details.retry_backoff_interval_seconds), (Some(0), Some(3)));
    // A Map without a mock is not something TestState runs.
    let e = sm.test_state(req(None)).await.expect_err("a Map needs a mock");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("does not support Map or Parallel states"), "{}", e.message());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_tests_one_state() {
    let server = start(args(1, 16)).await;
    let _ = server.channel().await;
    let endpoint = format!("http://{}", server.addr);
    let dir = std::env::temp_dir().join(format!("expressway-test-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let state = dir.join("state.json");
    std::fs::write(
        &state,
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
               "Next": "Done", "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Oops"}]})
        .to_string(),
    )
    .expect("write");
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_expressway"))
            .args(["--endpoint", &endpoint, "test-state", "--role-arn", "arn:aws:iam::1:role/unused"])
            .args(args)
            .output()
            .expect("run cli");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let definition = format!("file://{}", state.display());
    let (code, out, err) = cli(&[
        "--definition",
        &definition,
        "--input",
        r#"{"k":1}"#,
        "--inspection-level",
        "DEBUG",
        "--mock",
        r#"{"errorOutput":{"error":"Boom","cause":"mocked"}}"#,
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["status"], "CAUGHT_ERROR", "{v}");
    assert_eq!(v["nextState"], "Oops");
    assert_eq!(v["error"], "Boom");
    assert_eq!(
        serde_json::from_str::<Value>(v["output"].as_str().expect("output")).expect("json"),
        json!({"k": 1, "err": {"Error": "Boom", "Cause": "mocked"}})
    );
    assert_eq!(v["inspectionData"]["errorDetails"], json!({"catchIndex": 0}), "{v}");
    // A whole definition and a state in it, variables read from a file, no empty members printed.
    let vars = dir.join("vars.json");
    std::fs::write(&vars, r#"{"who":"cli"}"#).expect("write");
    let machine = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"hi.$":"$who"},"Next":"B"},"B":{"Type":"Succeed"}}}"#;
    let (code, out, err) =
        cli(&["--definition", machine, "--state-name", "A", "--variables", &format!("@{}", vars.display())]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v, json!({"output": r#"{"hi":"cli"}"#, "nextState": "B", "status": "SUCCEEDED"}));
    // Refused: exit 1 with the reason.
    let (code, _, err) = cli(&["--definition", machine]);
    assert_eq!(code, Some(1));
    assert!(err.contains("stateName"), "{err}");
    server.shutdown().await;
}
