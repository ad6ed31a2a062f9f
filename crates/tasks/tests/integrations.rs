//! Task integrations against real local HTTP servers started by the tests, driven through the
//! interpreter: results, error mapping, Retry/Catch, timeouts, connections and the allowlist.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use expressway_asl::{Clock, ExecutionInfo, Interpreter, Limits, MachineType, NoEvents, Outcome, StateMachine};
use expressway_tasks::{Authentication, FunctionTarget, Integrations, TasksConfig};
use futures::future::BoxFuture;
use serde_json::{json, Value};

type Seen = expressway_testkit::Request;

/// What the test server answers: status, extra headers, body, delay.
type Handler = Arc<dyn Fn(&Seen, usize) -> (u16, Vec<(&'static str, String)>, String, Duration) + Send + Sync>;

struct TestServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn server(handler: Handler) -> TestServer {
    let s = expressway_testkit::http::serve(Arc::new(move |req: &Seen, n| {
        let (status, headers, body, delay) = handler(req, n);
        expressway_testkit::http::Reply { status, headers, body, delay }
    }))
    .expect("test server");
    TestServer { port: s.port, seen: s.requests }
}

struct TokioClock;

impl Clock for TokioClock {
    fn now_millis(&self) -> i64 {
        0
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

async fn run(cfg: TasksConfig, def: Value, input: Value) -> Outcome {
    let integrations = Arc::new(Integrations::new(cfg).expect("client"));
    let interp = Interpreter::new(integrations, Arc::new(TokioClock), Limits::default());
    let machine = StateMachine::from_value(&def, MachineType::Express).expect("valid definition");
    interp.execute(&machine, input, ExecutionInfo::default(), &NoEvents).await
}

fn functions(pairs: &[(&str, String)]) -> TasksConfig {
    let mut functions = BTreeMap::new();
    for (name, url) in pairs {
        functions.insert(name.to_string(), FunctionTarget { url: url.clone() });
    }
    TasksConfig { functions, ..TasksConfig::default() }
}

#[tokio::test]
async fn an_aws_style_order_workflow_runs_unchanged_against_local_functions() {
    let price = server(Arc::new(|req: &Seen, _| {
        let input: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        let qty = input["qty"].as_i64().unwrap_or(0);
        (200, vec![], json!({"total": qty * 3}).to_string(), Duration::ZERO)
    }))
    .await;
    let stock = server(Arc::new(|req: &Seen, _| {
        let input: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        if input["sku"] == "gone" {
            let doc = json!({"errorType": "OutOfStock", "errorMessage": "sku gone is sold out"});
            (200, vec![("x-amz-function-error", "Unhandled".into())], doc.to_string(), Duration::ZERO)
        } else {
            (200, vec![], json!({"reserved": true}).to_string(), Duration::ZERO)
        }
    }))
    .await;
    let cfg = functions(&[
        ("price", format!("http://127.0.0.1:{}/", price.port)),
        ("arn:aws:lambda:us-east-1:123456789012:function:reserve", format!("http://127.0.0.1:{}/", stock.port)),
    ]);
    // As written for AWS: optimized integration with Payload.$ and a plain function ARN.
    let def = json!({"StartAt": "Price", "States": {
        "Price": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:price:$LATEST", "Payload.$": "$"},
                  "ResultSelector": {"total.$": "$.Payload.total", "code.$": "$.StatusCode"}, "ResultPath": "$.price", "Next": "Reserve"},
        "Reserve": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:reserve",
                    "ResultPath": "$.reservation", "End": true,
                    "Catch": [{"ErrorEquals": ["OutOfStock"], "ResultPath": "$.error", "Next": "SoldOut"}]},
        "SoldOut": {"Type": "Pass", "Parameters": {"soldOut": true, "why.$": "$.error.Error"}, "End": true}}});
    let out = run(cfg.clone(), def.clone(), json!({"sku": "a", "qty": 4})).await;
    assert_eq!(
        out,
        Outcome::Succeeded(
            json!({"sku": "a", "qty": 4, "price": {"total": 12, "code": 200}, "reservation": {"reserved": true}})
        )
    );
    assert_eq!(
        serde_json::from_str::<Value>(&price.seen.lock().expect("lock")[0].body).ok(),
        Some(json!({"sku": "a", "qty": 4}))
    );
    let out = run(cfg, def, json!({"sku": "gone", "qty": 1})).await;
    assert_eq!(out, Outcome::Succeeded(json!({"soldOut": true, "why": "OutOfStock"})));
}

#[tokio::test]
async fn transport_failures_map_to_lambda_errors_and_retries_back_off() {
    let flaky = server(Arc::new(|_: &Seen, n| {
        if n <= 2 {
            (503, vec![], String::new(), Duration::ZERO)
        } else {
            (200, vec![], "\"ok\"".into(), Duration::ZERO)
        }
    }))
    .await;
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let cfg = functions(&[
        ("flaky", format!("http://127.0.0.1:{}/", flaky.port)),
        ("down", format!("http://127.0.0.1:{closed_port}/")),
    ]);
    let def = |f: &str| {
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": f}, "OutputPath": "$.Payload", "End": true,
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.5}]}}})
    };
    let started = std::time::Instant::now();
    assert_eq!(run(cfg.clone(), def("flaky"), json!({})).await, Outcome::Succeeded(json!("ok")));
    assert!(started.elapsed() >= Duration::from_millis(2400), "two backoffs: 1 s then 1.5 s");
    assert_eq!(flaky.seen.lock().expect("lock").len(), 3);
    match run(cfg.clone(), def("down"), json!({})).await {
        Outcome::Failed(e) => assert_eq!(e.error.as_deref(), Some("Lambda.ServiceException")),
        other => panic!("{other:?}"),
    }
    match run(cfg, def("missing"), json!({})).await {
        Outcome::Failed(e) => assert_eq!(e.error.as_deref(), Some("Lambda.ResourceNotFoundException")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_slow_function_times_out() {
    let slow = server(Arc::new(|_: &Seen, _| (200, vec![], "1".into(), Duration::from_secs(5)))).await;
    let cfg = functions(&[("slow", format!("http://127.0.0.1:{}/", slow.port))]);
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "slow"}, "TimeoutSeconds": 1, "End": true}}});
    let started = std::time::Instant::now();
    match run(cfg, def, json!({})).await {
        Outcome::Failed(e) => assert_eq!(e.error.as_deref(), Some("States.Timeout")),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn http_invoke_uses_connections_and_the_allowlist_and_hides_credentials() {
    let api = server(Arc::new(|req: &Seen, _| {
        if req.path.starts_with("/missing") {
            return (404, vec![], json!({"message": "no such order"}).to_string(), Duration::ZERO);
        }
        let key = req.headers.iter().find(|(k, _)| k == "x-api-key").map(|(_, v)| v.clone()).unwrap_or_default();
        (
            200,
            vec![("content-type", "application/json".into())],
            json!({"path": req.path, "key_ok": key == "s3cret", "method": req.method, "body": req.body}).to_string(),
            Duration::ZERO,
        )
    }))
    .await;
    let mut cfg = TasksConfig { http_allowlist: vec!["127.0.0.1".into()], ..TasksConfig::default() };
    cfg.connections
        .insert("orders-api".into(), Authentication::ApiKey { header: "x-api-key".into(), value: "s3cret".into() });
    let def = |endpoint: String| {
        json!({"StartAt": "H", "States": {"H": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint": endpoint, "Method": "POST", "QueryParameters": {"page": 2},
                           "Headers": {"x-trace": "t1"}, "RequestBody": {"id.$": "$.id"},
                           "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/orders-api/abc"}},
            "End": true}}})
    };
    let ok = run(cfg.clone(), def(format!("http://127.0.0.1:{}/orders", api.port)), json!({"id": 7})).await;
    let Outcome::Succeeded(v) = ok else { panic!("{ok:?}") };
    assert_eq!(v["StatusCode"], 200);
    assert_eq!(v["ResponseBody"]["path"], "/orders?page=2");
    assert_eq!(v["ResponseBody"]["key_ok"], true);
    assert_eq!(v["ResponseBody"]["method"], "POST");
    assert_eq!(v["ResponseBody"]["body"], "{\"id\":7}");
    assert!(!v.to_string().contains("s3cret"), "credentials never appear in results");
    let seen = api.seen.lock().expect("lock").clone();
    assert!(seen[0].headers.iter().any(|(k, v)| k == "x-trace" && v == "t1"));

    match run(cfg.clone(), def(format!("http://127.0.0.1:{}/missing", api.port)), json!({"id": 1})).await {
        Outcome::Failed(e) => {
            assert_eq!(e.error.as_deref(), Some("States.Http.StatusCode.404"));
            assert!(!e.cause.unwrap_or_default().contains("s3cret"));
        }
        other => panic!("{other:?}"),
    }
    match run(cfg, def("http://example.invalid/x".into()), json!({"id": 1})).await {
        Outcome::Failed(e) => assert_eq!(e.error.as_deref(), Some("States.Permissions")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_publish_produces_to_a_real_broker() {
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::Message;
    let broker = expressway_testkit::kafka::shared().expect("a Kafka broker (see .ci/run)");
    let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
        rdkafka::ClientConfig::new().set("bootstrap.servers", broker.bootstrap()).create().expect("admin");
    let topic = rdkafka::admin::NewTopic::new("events", 1, rdkafka::admin::TopicReplication::Fixed(1));
    admin.create_topics(&[topic], &rdkafka::admin::AdminOptions::new()).await.expect("create topic");
    // The broker is configured as a named cluster; the state names it.
    let mut cfg = TasksConfig::default();
    cfg.kafka_clusters.insert("audit".into(), broker.bootstrap());
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Task", "Resource": "arn:aws:states:::kafka:publish",
        "Parameters": {"Cluster": "audit", "Topic": "events", "Key.$": "$.id", "Value": {"order.$": "$.id", "ok": true}, "Headers": {"source": "expressway"}},
        "End": true}}});
    let out = run(cfg, def, json!({"id": "o-1"})).await;
    let Outcome::Succeeded(v) = out else { panic!("{out:?}") };
    assert_eq!(v["Topic"], "events");
    assert_eq!(v["Offset"], 0);
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "check")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&["events"]).expect("subscribe");
    let m = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .expect("a record in time")
        .expect("record");
    assert_eq!(m.key(), Some(b"o-1".as_slice()));
    let value: Value = serde_json::from_slice(m.payload().unwrap_or_default()).expect("json");
    assert_eq!(value, json!({"order": "o-1", "ok": true}));
}

#[tokio::test]
async fn oauth_client_credentials_fetch_a_token_first() {
    let api = server(Arc::new(|req: &Seen, _| {
        if req.path == "/token" {
            let basic = req.headers.iter().any(|(k, v)| k == "authorization" && v.starts_with("Basic "));
            let form_ok = req.body.contains("grant_type=client_credentials") && req.body.contains("scope=orders");
            return if basic && form_ok {
                (200, vec![], json!({"access_token": "tok-123", "token_type": "bearer"}).to_string(), Duration::ZERO)
            } else {
                (401, vec![], "{}".into(), Duration::ZERO)
            };
        }
        let bearer = req.headers.iter().any(|(k, v)| k == "authorization" && v == "Bearer tok-123");
        (if bearer { 200 } else { 401 }, vec![], json!({"ok": bearer}).to_string(), Duration::ZERO)
    }))
    .await;
    let mut cfg = TasksConfig { http_allowlist: vec!["127.0.0.1".into()], ..TasksConfig::default() };
    cfg.connections.insert(
        "orders-oauth".into(),
        Authentication::OauthClientCredentials {
            token_url: format!("http://127.0.0.1:{}/token", api.port),
            client_id: "id".into(),
            client_secret: "very-secret".into(),
            scope: Some("orders".into()),
        },
    );
    let def = json!({"StartAt": "H", "States": {"H": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": format!("http://127.0.0.1:{}/orders", api.port), "Method": "GET",
                       "Authentication": {"ConnectionArn": "orders-oauth"}},
        "OutputPath": "$.ResponseBody", "End": true}}});
    let out = run(cfg, def, json!({})).await;
    assert_eq!(out, Outcome::Succeeded(json!({"ok": true})));
    assert_eq!(api.seen.lock().expect("lock").len(), 2, "one token request, one API call");
}

fn http_task(endpoint: String, connection: Option<&str>) -> Value {
    let mut params = json!({"ApiEndpoint": endpoint, "Method": "GET"});
    if let Some(c) = connection {
        params["Authentication"] = json!({"ConnectionArn": c});
    }
    json!({"StartAt": "H", "States": {"H": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
        "Parameters": params, "End": true}}})
}

fn failure(o: Outcome) -> (String, String) {
    match o {
        Outcome::Failed(e) => (e.error.unwrap_or_default(), e.cause.unwrap_or_default()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn redirects_are_not_followed_to_hosts_outside_the_allowlist() {
    let elsewhere = server(Arc::new(|_: &Seen, _| (200, vec![], "{}".into(), Duration::ZERO))).await;
    let to = format!("http://localhost:{}/steal", elsewhere.port);
    let api =
        server(Arc::new(move |_: &Seen, _| (302, vec![("location", to.clone())], String::new(), Duration::ZERO))).await;
    let mut cfg = TasksConfig { http_allowlist: vec!["127.0.0.1".into()], ..TasksConfig::default() };
    cfg.connections
        .insert("api".into(), Authentication::ApiKey { header: "x-api-key".into(), value: "s3cret-key".into() });
    let (error, cause) =
        failure(run(cfg, http_task(format!("http://127.0.0.1:{}/orders", api.port), Some("api")), json!({})).await);
    assert_eq!(error, "States.Http.StatusCode.302", "{cause}");
    assert!(elsewhere.seen.lock().expect("lock").is_empty(), "the redirect was followed with the connection's key");
}

#[tokio::test]
async fn secrets_an_endpoint_echoes_back_are_redacted() {
    let api = server(Arc::new(|req: &Seen, _| {
        let key = req.headers.iter().find(|(k, _)| k == "x-api-key").map(|(_, v)| v.clone()).unwrap_or_default();
        let status = if req.path.starts_with("/fail") { 500 } else { 200 };
        (status, vec![("x-echo", key.clone())], json!({"you_sent": key, key.clone(): 1}).to_string(), Duration::ZERO)
    }))
    .await;
    let mut cfg = TasksConfig { http_allowlist: vec!["127.0.0.1".into()], ..TasksConfig::default() };
    cfg.connections
        .insert("api".into(), Authentication::ApiKey { header: "x-api-key".into(), value: "s3cret-key".into() });
    let ok = run(cfg.clone(), http_task(format!("http://127.0.0.1:{}/ok", api.port), Some("api")), json!({})).await;
    let Outcome::Succeeded(v) = ok else { panic!("{ok:?}") };
    assert!(!v.to_string().contains("s3cret-key"), "{v}");
    assert_eq!(v["ResponseBody"]["you_sent"], "***");
    assert_eq!(v["Headers"]["x-echo"], "***");
    let (error, cause) =
        failure(run(cfg, http_task(format!("http://127.0.0.1:{}/fail", api.port), Some("api")), json!({})).await);
    assert_eq!(error, "States.Http.StatusCode.500");
    assert!(!cause.contains("s3cret-key") && cause.contains("***"), "{cause}");
}

#[tokio::test]
async fn a_wildcard_admits_public_hosts_only_unless_private_networks_are_allowed() {
    let api = server(Arc::new(|_: &Seen, _| (200, vec![], "{\"ok\":true}".into(), Duration::ZERO))).await;
    let any = TasksConfig { http_allowlist: vec!["*".into()], ..TasksConfig::default() };
    // Metadata services: never through `*`, and no request is made.
    let (error, cause) =
        failure(run(any.clone(), http_task("http://169.254.169.254/latest/meta-data/".into(), None), json!({})).await);
    assert_eq!(error, "States.Permissions");
    assert!(cause.contains("link-local"), "{cause}");
    // A name that resolves to loopback: refused where it resolves, not by its spelling.
    let local = format!("http://localhost:{}/", api.port);
    let (error, cause) = failure(run(any.clone(), http_task(local.clone(), None), json!({})).await);
    assert_eq!(error, "States.Permissions", "{cause}");
    assert!(cause.contains("loopback or private"), "{cause}");
    assert!(api.seen.lock().expect("lock").is_empty());
    // Opted in: the same call goes through.
    let private = TasksConfig { http_allow_private_networks: true, ..any };
    let out = run(private, http_task(local, None), json!({})).await;
    let Outcome::Succeeded(v) = out else { panic!("{out:?}") };
    assert_eq!(v["ResponseBody"], json!({"ok": true}));
}

#[tokio::test]
async fn response_bodies_are_read_up_to_the_payload_limit() {
    let big =
        server(Arc::new(|_: &Seen, _| (200, vec![], format!("\"{}\"", "x".repeat(300 * 1024)), Duration::ZERO))).await;
    let mut cfg = functions(&[("big", format!("http://127.0.0.1:{}/", big.port))]);
    cfg.http_allowlist = vec!["127.0.0.1".into()];
    let lambda = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:big", "End": true}}});
    let (error, cause) = failure(run(cfg.clone(), lambda, json!({})).await);
    assert_eq!(error, "States.DataLimitExceeded");
    assert!(cause.contains("262144 bytes"), "{cause}");
    let (error, _) = failure(run(cfg, http_task(format!("http://127.0.0.1:{}/", big.port), None), json!({})).await);
    assert_eq!(error, "States.DataLimitExceeded");
}

#[tokio::test]
async fn an_oauth_token_is_reused_until_shortly_before_it_expires() {
    let api = server(Arc::new(|req: &Seen, n| {
        if req.path == "/token" {
            // The second token lives less than the one-minute margin: it is never reused.
            let expires = if n == 1 { 3600 } else { 30 };
            return (
                200,
                vec![],
                json!({"access_token": format!("tok-{n}"), "expires_in": expires}).to_string(),
                Duration::ZERO,
            );
        }
        (200, vec![], "{}".into(), Duration::ZERO)
    }))
    .await;
    let mut cfg = TasksConfig { http_allowlist: vec!["127.0.0.1".into()], ..TasksConfig::default() };
    let oauth = |port: u16| Authentication::OauthClientCredentials {
        token_url: format!("http://127.0.0.1:{port}/token"),
        client_id: "id".into(),
        client_secret: "very-secret".into(),
        scope: None,
    };
    cfg.connections.insert("long".into(), oauth(api.port));
    let integrations = Arc::new(Integrations::new(cfg).expect("client"));
    let interp = Interpreter::new(integrations, Arc::new(TokioClock), Limits::default());
    let machine = StateMachine::from_value(
        &http_task(format!("http://127.0.0.1:{}/orders", api.port), Some("long")),
        MachineType::Express,
    )
    .expect("valid definition");
    for _ in 0..3 {
        let out = interp.execute(&machine, json!({}), ExecutionInfo::default(), &NoEvents).await;
        assert!(matches!(out, Outcome::Succeeded(_)), "{out:?}");
    }
    let seen = api.seen.lock().expect("lock").clone();
    let tokens = seen.iter().filter(|r| r.path == "/token").count();
    assert_eq!(tokens, 1, "one token for three calls");
    assert!(seen
        .iter()
        .filter(|r| r.path == "/orders")
        .all(|r| r.headers.iter().any(|(k, v)| k == "authorization" && v == "Bearer tok-1")));
}
