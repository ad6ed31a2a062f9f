//! The API behind TLS, mutual TLS and bearer tokens: static tokens (kept as SHA-256 digests)
//! and JWTs verified against a JWKS file, each principal limited by its policies to some
//! actions on some ARNs. Driven through the command-line client's own connection.

use std::time::Duration;

use expressway_cli::client::{connect, Endpoint};
use expressway_cli::dev::{serve, DevArgs};
use expressway_proto::v1 as pb;
use expressway_testkit::tls::Certs;
use pb::executions_client::ExecutionsClient;
use pb::state_machines_client::StateMachinesClient;
use tonic::Code;

const HELLO: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
const JWT_SECRET: &[u8] = b"a-shared-secret-of-32-bytes-long!";

fn args(certs: &Certs, client_ca: bool, auth: Option<std::path::PathBuf>) -> DevArgs {
    DevArgs {
        listen: "127.0.0.1:0".parse().expect("addr"),
        http_listen: expressway_cli::http::HttpListen(None),
        workers: 4,
        queue_capacity: 100,
        max_queue_bytes: 256 << 20,
        dedupe_window_seconds: 300,
        retention_seconds: 3600,
        max_executions: 1000,
        results_retained: 100,
        max_results_bytes: 256 << 20,
        max_store_bytes: 1 << 30,
        execution_timeout_seconds: 300,
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        tasks: Default::default(),
        tls: expressway_cli::grpc::TlsSettings {
            cert_file: Some(certs.server_cert.clone()),
            key_file: Some(certs.server_key.clone()),
            client_ca_file: client_ca.then(|| certs.ca.clone()),
        },
        auth_config: auth,
        drain_timeout_seconds: 5,
    }
}

async fn start(args: DevArgs) -> (u16, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(args, listener, async {
        let _ = rx.await;
    }));
    (port, tx)
}

fn endpoint(port: u16, certs: &Certs, token: Option<&str>) -> Endpoint {
    Endpoint {
        endpoint: format!("https://localhost:{port}"),
        token: token.map(str::to_string),
        ca_file: Some(certs.ca.clone()),
        ..Endpoint::default()
    }
}

fn jwt(sub: &str, issuer: &str, expires_in: i64, secret: &[u8]) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64;
    let header =
        jsonwebtoken::Header { kid: Some("k1".into()), ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256) };
    let claims = serde_json::json!({"sub": sub, "iss": issuer, "exp": now + expires_in});
    let key = jsonwebtoken::EncodingKey::from_secret(secret).expect("key");
    jsonwebtoken::encode(&header, &claims, &key).expect("jwt")
}

fn create(name: &str) -> pb::CreateStateMachineRequest {
    pb::CreateStateMachineRequest {
        name: name.into(),
        definition: HELLO.into(),
        r#type: pb::StateMachineType::Express as i32,
        ..Default::default()
    }
}

fn start_req(arn: &str) -> pb::StartExecutionRequest {
    pb::StartExecutionRequest { state_machine_arn: arn.into(), input: "{}".into(), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_jwts_and_policies_guard_every_call_over_tls() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let certs = Certs::generate().expect("certificates");
    let dir = &certs.dir;
    let ci_digest: String = sha2::Sha256::digest(b"ci-token-1").iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(
        dir.join("tokens.toml"),
        format!("[[tokens]]\nprincipal = \"admin\"\ntoken = \"admin-token-1\"\n[[tokens]]\nprincipal = \"ci\"\nsha256 = \"{ci_digest}\"\n"),
    )
    .expect("tokens");
    let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(JWT_SECRET);
    std::fs::write(
        dir.join("jwks.json"),
        format!(r#"{{"keys":[{{"kty":"oct","kid":"k1","alg":"HS256","k":"{k}"}}]}}"#),
    )
    .expect("jwks");
    let auth = dir.join("auth.toml");
    std::fs::write(
        &auth,
        format!(
            r#"tokens_file = "{tokens}"
jwks_file = "{jwks}"
jwt_issuer = "https://issuer.test"
[[policies]]
principal = "admin"
actions = ["states:*", "expressway:*"]
[[policies]]
principal = "ci"
actions = ["states:StartExecution", "states:DescribeExecution"]
resources = ["arn:aws:states:*:*:stateMachine:orders-*", "arn:aws:states:*:*:express:orders-*"]
[[policies]]
principal = "svc-*"
actions = ["states:ListStateMachines"]
"#,
            tokens = dir.join("tokens.toml").display(),
            jwks = dir.join("jwks.json").display()
        ),
    )
    .expect("auth");
    let (port, _stop) = start(args(&certs, false, Some(auth))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Without a token: refused before anything is done.
    let anonymous = connect(&endpoint(port, &certs, None)).await.expect("TLS connection");
    let e = StateMachinesClient::new(anonymous).create_state_machine(create("orders-eu")).await.expect_err("anonymous");
    assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
    let unknown = connect(&endpoint(port, &certs, Some("guess"))).await.expect("connection");
    let e = StateMachinesClient::new(unknown).list_state_machines(pb::ListStateMachinesRequest::default()).await;
    assert_eq!(e.expect_err("unknown token").code(), Code::Unauthenticated);

    let admin = connect(&endpoint(port, &certs, Some("admin-token-1"))).await.expect("connection");
    let mut admin_sm = StateMachinesClient::new(admin);
    let orders = admin_sm.create_state_machine(create("orders-eu")).await.expect("admin creates").into_inner();
    let billing = admin_sm.create_state_machine(create("billing")).await.expect("admin creates").into_inner();

    // ci: start and describe on orders-* only; nothing else.
    let ci = connect(&endpoint(port, &certs, Some("ci-token-1"))).await.expect("connection");
    let mut ci_ex = ExecutionsClient::new(ci.clone());
    let started =
        ci_ex.start_execution(start_req(&orders.state_machine_arn)).await.expect("ci starts orders").into_inner();
    let described = ci_ex
        .describe_execution(pb::DescribeExecutionRequest { execution_arn: started.execution_arn.clone() })
        .await
        .expect("ci describes its execution");
    assert_eq!(described.into_inner().execution_arn, started.execution_arn);
    let e = ci_ex.start_execution(start_req(&billing.state_machine_arn)).await.expect_err("not billing");
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(e.message().contains("'ci' is not allowed to perform states:StartExecution on"), "{}", e.message());
    let e = StateMachinesClient::new(ci)
        .delete_state_machine(pb::DeleteStateMachineRequest { state_machine_arn: orders.state_machine_arn.clone() })
        .await
        .expect_err("ci may not delete");
    assert_eq!(e.code(), Code::PermissionDenied);

    // A JWT from the issuer, signed with the JWKS key: its subject's policies apply.
    let token = jwt("svc-lister", "https://issuer.test", 300, JWT_SECRET);
    let svc = connect(&endpoint(port, &certs, Some(&token))).await.expect("connection");
    let listed = StateMachinesClient::new(svc.clone())
        .list_state_machines(pb::ListStateMachinesRequest::default())
        .await
        .expect("svc lists")
        .into_inner();
    assert_eq!(listed.state_machines.len(), 2);
    let e =
        ExecutionsClient::new(svc).start_execution(start_req(&orders.state_machine_arn)).await.expect_err("list only");
    assert_eq!(e.code(), Code::PermissionDenied);
    for (why, bad) in [
        ("expired", jwt("svc-lister", "https://issuer.test", -600, JWT_SECRET)),
        ("another issuer", jwt("svc-lister", "https://elsewhere.test", 300, JWT_SECRET)),
        ("another key", jwt("svc-lister", "https://issuer.test", 300, b"not-the-key-not-the-key-not-the!")),
    ] {
        let c = connect(&endpoint(port, &certs, Some(&bad))).await.expect("connection");
        let e = StateMachinesClient::new(c).list_state_machines(pb::ListStateMachinesRequest::default()).await;
        assert_eq!(e.expect_err(why).code(), Code::Unauthenticated, "{why}");
    }

    // The listener speaks TLS only.
    let plain =
        Endpoint { endpoint: format!("http://127.0.0.1:{port}"), ..endpoint(port, &certs, Some("admin-token-1")) };
    let refused = match connect(&plain).await {
        Err(_) => true,
        Ok(c) => {
            StateMachinesClient::new(c).list_state_machines(pb::ListStateMachinesRequest::default()).await.is_err()
        }
    };
    assert!(refused, "a plaintext call was answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_client_certificate_from_the_ca() {
    let certs = Certs::generate().expect("certificates");
    let (port, _stop) = start(args(&certs, true, None)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let without = match connect(&endpoint(port, &certs, None)).await {
        Err(_) => true,
        Ok(c) => {
            StateMachinesClient::new(c).list_state_machines(pb::ListStateMachinesRequest::default()).await.is_err()
        }
    };
    assert!(without, "a client without a certificate was served");
    let with = Endpoint {
        client_cert: Some(certs.client_cert.clone()),
        client_key: Some(certs.client_key.clone()),
        ..endpoint(port, &certs, None)
    };
    let c = connect(&with).await.expect("mutual TLS");
    StateMachinesClient::new(c).list_state_machines(pb::ListStateMachinesRequest::default()).await.expect("served");
}
