//! The console on `expressway dev`'s HTTP listener: what plain HTTP can check (a browser's
//! `GET /` is redirected, the AWS JSON protocol's `POST /` is not, the pages and endpoints
//! answer), then the pages themselves in headless Chromium driven by playwright-core
//! (tests/console/browser.mjs: every state of a machine with a Choice, a Map and a Catch in
//! the SVG, an execution's states turning succeeded while the page stays open, a caught error
//! on its Catch edge, the stop button, the editor reporting a bad `Next` at its line, a saved
//! revision; each state's input, output, errors and attempts; the start form's checks), and
//! with `[auth]` on (tests/console/browser-auth.mjs: the page asks for a token, refuses a
//! wrong one, follows an execution with the right one, the token in no URL). Needs `node`,
//! `npm` and Debian's `chromium` (.ci/run installs them); without
//! them the test fails. Screenshots go to `target/console-screenshots/`.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use expressway_testkit::dev::Dev;

/// `expressway dev` serving HTTP, and its HTTP port.
fn start_dev(extra: &[&str]) -> (Dev, u16) {
    let dev = Dev::builder(env!("CARGO_BIN_EXE_expressway")).http().args(extra).start().expect("start expressway dev");
    let http = dev.http_port();
    (dev, http)
}

/// One HTTP/1.1 request: the status line and headers (lowercase), and the body.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (String, String) {
    let a = expressway_testkit::http::call(port, method, path, headers, body, Duration::from_secs(10));
    (a.head.to_ascii_lowercase(), a.body)
}

#[test]
fn the_console_is_served_beside_the_api() {
    let (_dev, port) = start_dev(&[]);
    let html = [("Accept", "text/html,application/xhtml+xml")];
    let (head, _) = request(port, "GET", "/", &html, "");
    assert!(head.starts_with("http/1.1 303") && head.contains("location: /console/"), "{head}");
    // Not a browser: answered as before.
    let (head, _) = request(port, "GET", "/", &[], "");
    assert!(head.starts_with("http/1.1 400"), "{head}");
    let aws = [("X-Amz-Target", "AWSStepFunctions.ListStateMachines"), ("Content-Type", "application/x-amz-json-1.0")];
    let (head, body) = request(port, "POST", "/", &aws, "{}");
    assert!(head.starts_with("http/1.1 200") && body.contains("stateMachines"), "{head} {body}");
    let (head, body) = request(port, "GET", "/console/", &html, "");
    assert!(head.contains("text/html") && body.contains("/console/assets/console.js"), "{head}");
    let (head, body) = request(port, "GET", "/console/assets/console.js", &[], "");
    assert!(head.contains("javascript") && body.contains("/console/api/events"), "{head}");
    let (head, body) = request(port, "GET", "/console/api/about", &[], "");
    assert!(
        head.starts_with("http/1.1 200") && body.contains(r#""mode":"api""#) && body.contains(r#""auth":false"#),
        "{body}"
    );
    let definition = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;
    let (head, body) = request(port, "POST", "/console/api/graph", &[], definition);
    assert!(head.starts_with("http/1.1 200") && body.contains(r#"data-state=\"A\""#), "{head} {body}");
    // The operations, in AWS's shapes and errors.
    let (head, body) = request(port, "POST", "/console/api/op/DescribeStateMachine", &[], r#"{"stateMachineArn":"x"}"#);
    assert!(head.starts_with("http/1.1 400") && body.contains("InvalidArn"), "{head} {body}");
    let (head, body) = request(port, "GET", "/console/api/machines", &[], "");
    assert!(head.starts_with("http/1.1 200") && body.contains(r#""stateMachines":[]"#), "{head} {body}");
    let missing =
        "/console/api/execution?executionArn=arn%3Aaws%3Astates%3Aus-east-1%3A000000000000%3Aexpress%3Anone%3Ax%3Ay";
    let (head, body) = request(port, "GET", missing, &[], "");
    assert!(head.starts_with("http/1.1 400") && body.contains("ExecutionDoesNotExist"), "{head} {body}");
}

/// Run one of tests/console/*.mjs in headless Chromium against the dev server on `port`;
/// returns where its screenshots went.
fn browser(script: &str, port: u16, env: &[(&str, &str)]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/console");
    if !dir.join("node_modules/playwright-core").exists() {
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm (Node.js) is needed for the browser test: .ci/run installs it");
        assert!(ok.success(), "npm ci failed");
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(std::path::Path::new(&chromium).exists(), "{chromium} is missing: apt-get install chromium (.ci/run does)");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
    let status = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .env("BASE", format!("http://127.0.0.1:{port}"))
        .env("OUT", &out)
        .env("CHROMIUM", &chromium)
        .envs(env.iter().copied())
        .status()
        .expect("node");
    assert!(status.success(), "{script} failed (screenshots in {})", out.display());
    out
}

#[test]
fn the_console_in_headless_chromium() {
    let (_dev, port) = start_dev(&[]);
    let out = browser("browser.mjs", port, &[]);
    assert!(out.join("execution-succeeded.png").exists());
}

/// The start form's input check, the console's own script run in Node against known answers
/// (tests/console/check-input.mjs): JSON errors at their line and column, the 256 KiB limit,
/// and the fields the first state reads (JSONPath and JSONata).
#[test]
fn the_start_forms_input_check() {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("node")
        .arg("check-input.mjs")
        .current_dir(here.join("tests/console"))
        .env("SCRIPT", here.join("../../crates/console/assets/console.js"))
        .status()
        .expect("node (Node.js) is needed: .ci/run installs it");
    assert!(status.success(), "check-input.mjs found wrong answers");
}

/// With `[auth]` on: the page asks for a token, refuses a wrong one clearly, and with the
/// right one shows the graph and follows an execution live, the token in no URL.
#[test]
fn the_console_with_authentication_on() {
    let dir = std::env::temp_dir().join(format!("xw-console-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let token = "console-test-token-5f2c9a";
    let tokens = dir.join("tokens.toml");
    std::fs::write(&tokens, format!("[[tokens]]\nprincipal = \"operator\"\ntoken = \"{token}\"\n")).expect("tokens");
    let auth = dir.join("auth.toml");
    std::fs::write(
        &auth,
        format!(
            "tokens_file = \"{}\"\n[[policies]]\nprincipal = \"operator\"\nactions = [\"states:*\", \"expressway:Subscribe\"]\n",
            tokens.display()
        ),
    )
    .expect("auth");
    let (_dev, port) = start_dev(&["--auth-config", &auth.display().to_string()]);
    let (head, body) = request(port, "GET", "/console/api/about", &[], "");
    assert!(head.starts_with("http/1.1 200") && body.contains(r#""auth":true"#), "{body}");
    let out = browser("browser-auth.mjs", port, &[("TOKEN", token)]);
    assert!(out.join("auth-execution.png").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A results service serves the console's live executions pages: with a frontend, a worker
/// and a results service on Kafka and Redis, the results service's console lists an execution
/// started on the frontend and follows it through the graph; management calls are refused
/// with a pointer to a frontend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_results_service_serves_the_live_executions_pages() {
    let _serial = common::serial().await;
    let c = common::Cluster::new("console-live");
    let free = expressway_testkit::free_port;
    let (fport, fhttp, rport, rhttp) = (free(), free(), free(), free());
    let listen = |p: u16| format!("127.0.0.1:{p}");
    let _frontend =
        c.service("frontend", &["--listen", &listen(fport), "--http-listen", &listen(fhttp)], "frontend.log");
    let _worker = c.service("worker", &[], "worker.log");
    let _results = c.service("results", &["--listen", &listen(rport), "--http-listen", &listen(rhttp)], "results.log");
    let ch = common::channel(fport).await;
    common::channel(rport).await;
    let definition =
        r#"{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":1,"Next":"Done"},"Done":{"Type":"Succeed"}}}"#;
    let machine = common::create_machine(&ch, "console-live", definition, expressway_proto::v1::LogLevel::All).await;
    let checks = tokio::task::spawn_blocking(move || {
        let (head, body) = request(rhttp, "GET", "/console/api/about", &[], "");
        assert!(head.starts_with("http/1.1 200") && body.contains(r#""mode":"live""#), "{head} {body}");
        let (head, body) = request(rhttp, "POST", "/console/api/op/ListStateMachines", &[], "{}");
        assert!(head.starts_with("http/1.1 501") && body.contains("frontend"), "{head} {body}");
        let out = browser(
            "browser-live.mjs",
            rhttp,
            &[("FRONTEND", &format!("http://127.0.0.1:{fhttp}")), ("MACHINE", &machine)],
        );
        assert!(out.join("results-service-execution.png").exists());
    });
    if let Err(e) = checks.await {
        panic!("{e}: results service log:\n{}", c.log("results.log"));
    }
}
