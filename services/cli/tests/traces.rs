//! OpenTelemetry traces across the distributed pipeline: a StartSyncExecution call carrying a
//! caller's `traceparent`, its start command on Kafka, the worker's execution, one span per
//! state and per task call, and the Task's HTTP call to a function, all in the caller's trace
//! as received by an OTLP/HTTP receiver.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use expressway_proto::v1 as pb;
use expressway_testkit::free_port;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_links_the_call_the_worker_its_states_and_the_task_call() {
    let _serial = serial().await;
    let receiver = expressway_testkit::otlp::receiver().expect("an OTLP receiver");
    let function = expressway_testkit::http_server(Arc::new(|_req: &expressway_testkit::Request| {
        (200, r#"{"charged":true}"#.to_string())
    }))
    .expect("a function server");
    let otel = |service: &str| {
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint.clone()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_string()),
            ("OTEL_SERVICE_NAME", service.to_string()),
            ("OTEL_BSP_SCHEDULE_DELAY", "200".to_string()),
        ]
    };
    let c = Cluster::new("traces");
    let port = free_port();
    let _frontend =
        c.service_env("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log", &otel("frontend"));
    let mut worker_env = otel("worker");
    worker_env.push(("EXPRESSWAY_TASKS__FUNCTIONS__CHARGE__URL", format!("http://127.0.0.1:{}/", function.port)));
    let _worker = c.service_env("worker", &[], "worker.log", &worker_env);
    let ch = channel(port).await;
    let definition = r#"{"StartAt":"Prepare","States":{
        "Prepare":{"Type":"Pass","Parameters":{"amount.$":"$.amount"},"Next":"Charge"},
        "Charge":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
                  "Parameters":{"FunctionName":"charge","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}"#;
    let arn = create_machine(&ch, "traced", definition, pb::LogLevel::Off).await;

    let mut req = tonic::Request::new(pb::StartExecutionRequest {
        state_machine_arn: arn.clone(),
        input: r#"{"amount":42}"#.into(),
        ..Default::default()
    });
    req.metadata_mut()
        .insert("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01").parse().expect("metadata value"));
    let out = pb::executions_client::ExecutionsClient::new(ch.clone())
        .start_sync_execution(req)
        .await
        .expect("start sync")
        .into_inner();
    assert_eq!(out.status, pb::ExecutionStatus::Succeeded as i32, "{out:?}\n{}", c.log("worker.log"));

    // The function was called inside the caller's trace.
    let calls = function.requests.lock().expect("requests").clone();
    let sent = calls
        .iter()
        .flat_map(|r| r.headers.iter())
        .find(|(k, _)| k == "traceparent")
        .map(|(_, v)| v.clone())
        .expect("the task call carries a traceparent");
    assert!(sent.starts_with(&format!("00-{TRACE_ID}-")), "{sent}");

    // Every span arrives (batches every 200 ms).
    let names = ["grpc", "execution", "state", "task"];
    wait_for("the spans of the execution", Duration::from_secs(30), || {
        let spans = receiver.spans();
        names.iter().all(|n| spans.iter().any(|s| s.trace_id == TRACE_ID && s.name == *n))
            && spans.iter().filter(|s| s.trace_id == TRACE_ID && s.name == "state").count() >= 2
    })
    .await;
    let spans: Vec<_> = receiver.spans().into_iter().filter(|s| s.trace_id == TRACE_ID).collect();
    let one = |name: &str| spans.iter().find(|s| s.name == name).expect(name).clone();
    let (grpc, execution, task) = (one("grpc"), one("execution"), one("task"));
    assert_eq!(grpc.parent_span_id, CALLER_SPAN, "the call's span is the caller's child");
    assert_eq!(grpc.service, "frontend");
    assert!(grpc.attribute("rpc.method").is_some_and(|m| m.ends_with("/StartSyncExecution")), "{grpc:?}");
    assert_eq!(execution.parent_span_id, grpc.span_id, "the worker's execution continues the call");
    assert_eq!(execution.service, "worker");
    assert_eq!(execution.attribute("status"), Some("SUCCEEDED"));
    let states: Vec<_> = spans.iter().filter(|s| s.name == "state").collect();
    assert!(states.iter().all(|s| s.parent_span_id == execution.span_id), "states are the execution's children");
    let charge = states.iter().find(|s| s.attribute("state.name") == Some("Charge")).expect("the Task state's span");
    assert_eq!(charge.attribute("state.type"), Some("Task"));
    assert_eq!(task.parent_span_id, charge.span_id, "the task call is the Task state's child");
    assert_eq!(task.attribute("task.resource"), Some("arn:aws:states:::lambda:invoke"));
    // The function saw the task call's span as its parent.
    assert_eq!(sent, format!("00-{TRACE_ID}-{}-01", task.span_id));
}
