//! The deployment material agrees with the services it deploys:
//!
//! - the Helm chart (`deploy/helm/expressway`), rendered with `helm template` and read back as
//!   Kubernetes objects: its ConfigMap's TOML loads with the services' own configuration loader
//!   (unknown keys rejected), the KEDA trigger watches the configured executions topic and
//!   workers' group with no more replicas than partitions, container ports are the configured
//!   listeners, the probes name endpoints the HTTP listener serves, every `EXPRESSWAY_*`
//!   variable is a configuration key, Secrets are referenced where the credentials go, pods
//!   get longer to stop than the drain, CPU requests follow the measured CPU per execution;
//! - the compose file (`deploy/compose`): the same configuration and variables, published
//!   ports, dependencies with health checks, Prometheus scraping every process and traces going
//!   to the collector (and `docker compose config` when docker has compose);
//! - the Dockerfile: a non-root runtime with the one binary and the listeners' ports, whose
//!   HEALTHCHECK command answers against a running `expressway dev`.
//!
//! Without helm the chart's test is skipped with a message, unless `CI` is set: there it
//! fails (`.ci/run` installs helm under target/tools).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use expressway_cli::config::{Config, ServiceArgs};
use serde::Deserialize as _;
use serde_yaml_ng::Value;

/// `Config::load` reads the process's environment: tests that set variables hold this.
static ENV: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> PathBuf {
    root().join("deploy/helm/expressway")
}

/// Load `toml` with the services' loader, with `env` set as the process's environment.
fn load(toml: &str, env: &[(String, String)]) -> anyhow::Result<Config> {
    let dir = std::env::temp_dir().join(format!("xw-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let file = dir.join("expressway.toml");
    std::fs::write(&file, toml)?;
    for (k, v) in env {
        std::env::set_var(k, v);
    }
    let cfg = Config::load(&ServiceArgs { config: Some(file), ..Default::default() });
    for (k, _) in env {
        std::env::remove_var(k);
    }
    cfg
}

/// A configuration variable names a key of the schema (`EXPRESSWAY_KAFKA__SASL_PASSWORD`:
/// `kafka.sasl_password`); the loader ignores one whose first key is unknown, so a misspelt
/// variable would otherwise be lost without a word.
fn assert_config_variable(name: &str) {
    let key = name.strip_prefix("EXPRESSWAY_").unwrap_or_else(|| panic!("{name}: not an EXPRESSWAY_ variable"));
    let schema = serde_json::to_value(Config::default()).expect("the configuration serializes");
    let mut at = &schema;
    let path: Vec<String> = key.to_ascii_lowercase().split("__").map(String::from).collect();
    for (i, seg) in path.iter().enumerate() {
        match at.get(seg) {
            Some(v) => at = v,
            // Not serialized (kept out of files and logs): a secret of a known table.
            None if i == path.len() - 1 && seg == "sasl_password" && path[..i] == ["kafka"] => return,
            None => panic!("{name} names no configuration key ({})", path.join(".")),
        }
    }
}

/// The value at a `/`-separated path (numbers index sequences); panics naming the path.
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let next = match seg.parse::<usize>() {
            Ok(i) if cur.is_sequence() => cur.get(i),
            _ => cur.get(seg),
        };
        cur = next
            .unwrap_or_else(|| panic!("no {path} (at {seg}) in {}", serde_yaml_ng::to_string(v).unwrap_or_default()));
    }
    cur
}

fn text<'a>(v: &'a Value, path: &str) -> &'a str {
    at(v, path).as_str().unwrap_or_else(|| panic!("{path} is not a string"))
}

fn int(v: &Value, path: &str) -> i64 {
    at(v, path).as_i64().unwrap_or_else(|| panic!("{path} is not an integer: {:?}", at(v, path)))
}

/// `GET path` on a loopback port: the status code.
fn http_status(port: u16, path: &str) -> u16 {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// The paths that the probes name answer 200 on a process's HTTP listener (the router every
/// process serves, ready: no dependency down, not draining).
async fn assert_served(paths: &BTreeSet<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let router = expressway_cli::http::ops(expressway_cli::health::Readiness::default());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    for path in paths {
        let path = path.clone();
        let status = tokio::task::spawn_blocking(move || http_status(port, &path)).await.expect("join");
        assert_eq!(status, 200, "the HTTP listener answers {status} on a probe's path");
    }
    assert_eq!(
        tokio::task::spawn_blocking(move || http_status(port, "/no-such-probe")).await.expect("join"),
        404,
        "an unknown path is not served: the check above means something"
    );
    server.abort();
}

// ---------------------------------------------------------------------------------------------
// Helm

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

/// `HELM`, else the helm `.ci/run` installs (target/tools/bin), else one on PATH.
fn helm() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("HELM") {
        return Some(h.into());
    }
    let local = root().join("target/tools/bin/helm");
    if local.is_file() {
        return Some(local);
    }
    which("helm")
}

/// helm, or `None` after saying why the test does not run. In CI a missing helm fails.
fn helm_or_skip() -> Option<PathBuf> {
    let h = helm();
    if h.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "helm not found (HELM, target/tools/bin/helm, PATH) while CI is set: .ci/run installs it"
        );
        eprintln!(
            "SKIPPED: helm not found (set HELM, or run .ci/run, which installs it into target/tools/bin); \
             the chart was not rendered"
        );
    }
    h
}

/// `helm template` of the chart with `set` values: every object, or helm's error.
fn render(helm: &Path, set: &[&str]) -> Result<Vec<Value>, String> {
    let mut cmd = Command::new(helm);
    // A Kubernetes version the chart supports (a helm built with `go install` assumes 1.20).
    cmd.args(["template", "xw"]).arg(chart()).args(["--namespace", "workflows", "--kube-version", "1.30.0"]);
    for s in set {
        cmd.args(["--set", s]);
    }
    let out = cmd.output().map_err(|e| format!("running {}: {e}", helm.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut objects = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&String::from_utf8_lossy(&out.stdout)) {
        let v = Value::deserialize(doc).map_err(|e| format!("the rendered manifests are not YAML: {e}"))?;
        if !v.is_null() {
            objects.push(v);
        }
    }
    Ok(objects)
}

fn object<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o.get("kind").and_then(Value::as_str) == Some(kind) && text(o, "metadata/name") == name)
        .unwrap_or_else(|| panic!("no {kind} {name} among the rendered objects"))
}

fn kinds(objects: &[Value]) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for o in objects {
        *n.entry(text(o, "kind").to_string()).or_default() += 1;
    }
    n
}

/// The chart's values.yaml.
fn values() -> Value {
    serde_yaml_ng::from_str(&std::fs::read_to_string(chart().join("values.yaml")).expect("values.yaml"))
        .expect("values.yaml is YAML")
}

/// `key` is a subset of `labels` (a selector picks these pods).
fn selects(selector: &Value, labels: &Value) -> bool {
    selector.as_mapping().is_some_and(|m| m.iter().all(|(k, v)| labels.get(k.as_str().unwrap_or("")) == Some(v)))
}

/// The rendered configuration, loaded as a service loads it; with `env` as the pods set it.
fn chart_config(objects: &[Value], env: &[(String, String)]) -> Config {
    let toml = text(object(objects, "ConfigMap", "xw-expressway-config"), "data/expressway.toml");
    load(toml, env).unwrap_or_else(|e| panic!("the chart's configuration does not load: {e:#}\n{toml}"))
}

/// What every component's Deployment must agree on with the configuration.
fn check_deployment(objects: &[Value], cfg: &Config, component: &str, probe_paths: &mut BTreeSet<String>) {
    let d = object(objects, "Deployment", &format!("xw-expressway-{component}"));
    let pod = at(d, "spec/template");
    assert!(selects(at(d, "spec/selector/matchLabels"), at(pod, "metadata/labels")), "{component}: selector");
    let spec = at(pod, "spec");
    let c = at(spec, "containers/0");

    // Runs the subcommand with the mounted configuration.
    let args: Vec<&str> = at(c, "args").as_sequence().expect("args").iter().filter_map(Value::as_str).collect();
    assert_eq!(args[..2], [component, "--config"], "{component}: {args:?}");
    let config_file = Path::new(args[2]);
    let mount = at(c, "volumeMounts")
        .as_sequence()
        .expect("mounts")
        .iter()
        .find(|m| text(m, "name") == "config")
        .unwrap_or_else(|| panic!("{component}: no config mount"));
    assert_eq!(config_file.parent(), Some(Path::new(text(mount, "mountPath"))), "{component}: the file is mounted");
    let volume = at(spec, "volumes").as_sequence().expect("volumes").iter().find(|v| text(v, "name") == "config");
    assert_eq!(volume.map(|v| text(v, "configMap/name")), Some("xw-expressway-config"));
    assert_eq!(config_file.file_name().and_then(|f| f.to_str()), Some("expressway.toml"));

    // Container ports are the configured listeners.
    let ports: BTreeMap<&str, i64> = at(c, "ports")
        .as_sequence()
        .expect("ports")
        .iter()
        .map(|p| (text(p, "name"), int(p, "containerPort")))
        .collect();
    let http = cfg.http_listen.expect("the chart turns the HTTP listener on").port();
    let mut want = BTreeMap::from([("http", i64::from(http))]);
    if component != "worker" {
        want.insert("grpc", i64::from(cfg.listen.port()));
    }
    assert_eq!(ports, want, "{component}: container ports against the listeners");

    // Probes on the HTTP listener.
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/healthz")] {
        assert_eq!(text(c, &format!("{probe}/httpGet/path")), path, "{component}: {probe}");
        assert_eq!(text(c, &format!("{probe}/httpGet/port")), "http", "{component}: {probe}");
        probe_paths.insert(path.to_string());
    }

    // Longer to stop than the drain: the preStop sleep, 2 s of not serving, the drain, then
    // the producers' flush (up to 10 s each; a frontend flushes two).
    let pre_stop = match c.get("lifecycle") {
        Some(l) => {
            let cmd: Vec<&str> =
                at(l, "preStop/exec/command").as_sequence().expect("cmd").iter().filter_map(Value::as_str).collect();
            assert_eq!(cmd[0], "sleep");
            cmd[1].parse::<u64>().expect("seconds")
        }
        None => 0,
    };
    if component != "worker" {
        assert!(pre_stop > 0, "{component} is behind a Service: endpoints must drop it before it stops");
    }
    let grace = int(spec, "terminationGracePeriodSeconds") as u64;
    assert!(
        grace >= pre_stop + 2 + cfg.drain_timeout_seconds + 20,
        "{component}: {grace} s to stop, preStop {pre_stop} s + drain {} s + flush",
        cfg.drain_timeout_seconds
    );
    assert_eq!(at(c, "securityContext/readOnlyRootFilesystem").as_bool(), Some(true), "{component}");
    assert!(at(spec, "securityContext/runAsNonRoot").as_bool() == Some(true), "{component}");
}

#[tokio::test]
async fn helm_chart_agrees_with_the_services() {
    let Some(helm) = helm_or_skip() else { return };
    let objects = render(&helm, &[]).unwrap_or_else(|e| panic!("helm template: {e}"));
    let n = kinds(&objects);
    for (kind, count) in [
        ("ConfigMap", 1),
        ("Deployment", 3),
        ("Service", 2),
        ("HorizontalPodAutoscaler", 1),
        ("ScaledObject", 1),
        ("PodDisruptionBudget", 3),
    ] {
        assert_eq!(n.get(kind).copied(), Some(count), "{kind}s rendered: {n:?}");
    }
    assert!(!n.contains_key("Secret"), "the chart references Secrets, it never holds one");

    let cfg = chart_config(&objects, &[]);
    let vals = values();
    assert_eq!(i64::from(cfg.listen.port()), int(&vals, "ports/grpc"));
    assert_eq!(cfg.http_listen.map(|a| i64::from(a.port())), Some(int(&vals, "ports/http")));
    assert_eq!(i64::from(cfg.kafka.partitions), int(&vals, "config/kafka/partitions"));

    let mut probe_paths = BTreeSet::new();
    for component in ["frontend", "worker", "results"] {
        check_deployment(&objects, &cfg, component, &mut probe_paths);
        let d = object(&objects, "Deployment", &format!("xw-expressway-{component}"));
        let pdb = object(&objects, "PodDisruptionBudget", &format!("xw-expressway-{component}"));
        assert!(selects(at(pdb, "spec/selector/matchLabels"), at(d, "spec/template/metadata/labels")));

        // CPU requests follow the measured CPU per execution (values `sizing`).
        let s = at(&vals, "sizing");
        let mut us = at(s, &format!("cpuMicrosPerExecution/{component}")).as_f64().expect("us");
        if component == "worker" {
            us += at(s, "workflowCpuMicrosPerExecution").as_f64().expect("us");
        }
        let rate = at(s, &format!("executionsPerSecondPerPod/{component}")).as_f64().expect("rate");
        let millicores = (rate * us * at(s, "headroom").as_f64().expect("headroom") / 1000.0).ceil();
        assert_eq!(
            text(d, "spec/template/spec/containers/0/resources/requests/cpu"),
            format!("{millicores}m"),
            "{component}: {rate}/s x {us} us"
        );
    }
    assert_served(&probe_paths).await;

    // Services reach the pods' named ports.
    for component in ["frontend", "results"] {
        let svc = object(&objects, "Service", &format!("xw-expressway-{component}"));
        let d = object(&objects, "Deployment", &format!("xw-expressway-{component}"));
        assert!(selects(at(svc, "spec/selector"), at(d, "spec/template/metadata/labels")), "{component}");
        let names: BTreeSet<&str> =
            at(svc, "spec/ports").as_sequence().expect("ports").iter().map(|p| text(p, "targetPort")).collect();
        assert_eq!(names, BTreeSet::from(["grpc", "http"]));
    }

    // The HPA owns the frontends' count, KEDA the workers'.
    let frontend = object(&objects, "Deployment", "xw-expressway-frontend");
    assert!(at(frontend, "spec").get("replicas").is_none());
    let hpa = object(&objects, "HorizontalPodAutoscaler", "xw-expressway-frontend");
    assert_eq!(text(hpa, "spec/scaleTargetRef/name"), "xw-expressway-frontend");
    let worker = object(&objects, "Deployment", "xw-expressway-worker");
    assert!(at(worker, "spec").get("replicas").is_none());

    let so = object(&objects, "ScaledObject", "xw-expressway-worker");
    assert_eq!(text(so, "spec/scaleTargetRef/name"), "xw-expressway-worker");
    assert_eq!(text(so, "spec/triggers/0/type"), "kafka");
    let trigger = at(so, "spec/triggers/0/metadata");
    assert_eq!(text(trigger, "topic"), cfg.kafka.executions_topic);
    assert_eq!(text(trigger, "consumerGroup"), cfg.kafka.group_id);
    assert_eq!(text(trigger, "bootstrapServers"), cfg.kafka.bootstrap_servers);
    let lag: usize = text(trigger, "lagThreshold").parse().expect("a number");
    assert!(lag > 0 && lag <= cfg.worker.concurrency, "lagThreshold {lag}: a worker holds it in flight");
    assert_eq!(int(so, "spec/maxReplicaCount"), i64::from(cfg.kafka.partitions), "by default: one per partition");
    assert!(so.get("spec").and_then(|s| s.get("triggers")).is_some());
    assert!(at(so, "spec/triggers/0").get("authenticationRef").is_none(), "no credentials configured");

    // No secret, no reference to one.
    let env = at(frontend, "spec/template/spec/containers/0").get("env");
    assert!(env.is_none_or(|e| e.is_null() || e.as_sequence().is_some_and(|s| s.is_empty())), "{env:?}");
}

#[tokio::test]
async fn helm_chart_follows_its_values_and_references_secrets() {
    let Some(helm) = helm_or_skip() else { return };
    let objects = render(
        &helm,
        &[
            "ports.grpc=6000",
            "ports.http=6001",
            "config.kafka.partitions=12",
            "config.kafka.executions_topic=orders.executions",
            "config.kafka.group_id=orders-workers",
            "config.kafka.bootstrap_servers=kafka-0.kafka:9093\\,kafka-1.kafka:9093",
            "config.kafka.properties.linger\\.ms=2",
            "config.drain_timeout_seconds=60",
            "worker.keda.maxReplicaCount=6",
            "kafkaAuth.sasl.enabled=true",
            "kafkaAuth.sasl.existingSecret=kafka-creds",
            "kafkaAuth.tls.enabled=true",
            "kafkaAuth.tls.existingSecret=kafka-ca",
            "redisAuth.existingSecret=redis-creds",
            "otel.endpoint=http://collector:4318",
        ],
    )
    .unwrap_or_else(|e| panic!("helm template: {e}"));

    // Every variable the pods get that the configuration reads is one of its keys, and the
    // loader takes the secrets from them.
    let worker = object(&objects, "Deployment", "xw-expressway-worker");
    let c = at(worker, "spec/template/spec/containers/0");
    let mut env = Vec::new();
    let mut secrets = BTreeMap::new();
    for e in at(c, "env").as_sequence().expect("env") {
        let name = text(e, "name");
        if let Some(r) = e.get("valueFrom") {
            secrets.insert(name.to_string(), (text(r, "secretKeyRef/name"), text(r, "secretKeyRef/key")));
            env.push((name.to_string(), format!("secret {name}")));
        }
        if name.starts_with("EXPRESSWAY_") {
            assert_config_variable(name);
        }
    }
    assert_eq!(
        secrets,
        BTreeMap::from([
            ("EXPRESSWAY_KAFKA__SASL_PASSWORD".to_string(), ("kafka-creds", "password")),
            ("EXPRESSWAY_REDIS__PASSWORD".to_string(), ("redis-creds", "password")),
        ])
    );
    let cfg = chart_config(&objects, &env);
    assert_eq!(cfg.kafka.sasl_password.as_deref(), Some("secret EXPRESSWAY_KAFKA__SASL_PASSWORD"));
    assert_eq!(cfg.redis.password.as_deref(), Some("secret EXPRESSWAY_REDIS__PASSWORD"));
    assert_eq!(cfg.kafka.partitions, 12);
    assert_eq!(cfg.drain_timeout_seconds, 60);
    assert_eq!(cfg.kafka.bootstrap_servers, "kafka-0.kafka:9093,kafka-1.kafka:9093");
    let props = &cfg.kafka.properties;
    assert_eq!(props.get("linger.ms").map(String::as_str), Some("2"), "properties with dots in their names");
    assert_eq!(props.get("security.protocol").map(String::as_str), Some("SASL_SSL"));
    assert_eq!(props.get("sasl.mechanism").map(String::as_str), Some("SCRAM-SHA-512"));
    assert_eq!(props.get("sasl.username").map(String::as_str), Some("expressway"));
    // The CA is where the Secret is mounted.
    let ca = Path::new(props.get("ssl.ca.location").expect("ssl.ca.location"));
    let mount = at(c, "volumeMounts").as_sequence().expect("mounts").iter().find(|m| text(m, "name") == "kafka-tls");
    assert_eq!(ca.parent(), mount.map(|m| Path::new(text(m, "mountPath"))));
    let volumes = at(worker, "spec/template/spec/volumes").as_sequence().expect("volumes");
    assert_eq!(
        volumes.iter().find(|v| text(v, "name") == "kafka-tls").map(|v| text(v, "secret/secretName")),
        Some("kafka-ca")
    );

    let mut probe_paths = BTreeSet::new();
    for component in ["frontend", "worker", "results"] {
        check_deployment(&objects, &cfg, component, &mut probe_paths);
        let d = object(&objects, "Deployment", &format!("xw-expressway-{component}"));
        let names: Vec<&str> = at(d, "spec/template/spec/containers/0/env")
            .as_sequence()
            .expect("env")
            .iter()
            .map(|e| text(e, "name"))
            .collect();
        assert!(names.contains(&"OTEL_EXPORTER_OTLP_ENDPOINT"), "{component}: {names:?}");
    }
    assert_eq!(cfg.listen.port(), 6000);

    // KEDA: the configured group and topic, its own connection with the same credentials.
    let so = object(&objects, "ScaledObject", "xw-expressway-worker");
    let trigger = at(so, "spec/triggers/0/metadata");
    assert_eq!(text(trigger, "topic"), "orders.executions");
    assert_eq!(text(trigger, "topic"), cfg.kafka.executions_topic);
    assert_eq!(text(trigger, "consumerGroup"), cfg.kafka.group_id);
    assert_eq!(text(trigger, "bootstrapServers"), cfg.kafka.bootstrap_servers);
    assert_eq!(text(trigger, "sasl"), "scram_sha512");
    assert_eq!(text(trigger, "tls"), "enable");
    assert_eq!(int(so, "spec/maxReplicaCount"), 6);
    let auth = object(&objects, "TriggerAuthentication", text(so, "spec/triggers/0/authenticationRef/name"));
    let refs: BTreeMap<&str, (&str, &str)> = at(auth, "spec/secretTargetRef")
        .as_sequence()
        .expect("refs")
        .iter()
        .map(|r| (text(r, "parameter"), (text(r, "name"), text(r, "key"))))
        .collect();
    assert_eq!(
        refs,
        BTreeMap::from([
            ("username", ("kafka-creds", "username")),
            ("password", ("kafka-creds", "password")),
            ("ca", ("kafka-ca", "ca.crt")),
        ])
    );
}

/// A Redis Cluster in the values: the rendered file names its nodes (and no single server, which
/// the services would refuse alongside), the results stream's shards and the replica wait, and
/// loads with the services' loader; TLS to a cluster follows its URLs.
#[test]
fn helm_chart_renders_a_redis_cluster() {
    let Some(helm) = helm_or_skip() else { return };
    let objects = render(
        &helm,
        &[
            "config.redis.cluster_urls={redis://redis-0.redis:6379,redis://redis-1.redis:6379}",
            "config.results.stream_shards=6",
            "config.redis.wait_replicas=1",
            "config.redis.wait_timeout_ms=250",
        ],
    )
    .unwrap_or_else(|e| panic!("helm template: {e}"));
    let cfg = chart_config(&objects, &[]);
    assert_eq!(cfg.redis.cluster_urls, vec!["redis://redis-0.redis:6379", "redis://redis-1.redis:6379"]);
    assert_eq!(cfg.redis.url, None, "the default server is left out");
    assert_eq!((cfg.results.stream_shards, cfg.results.shards(true)), (Some(6), 6));
    assert_eq!((cfg.redis.wait_replicas, cfg.redis.wait_timeout_ms), (1, 250));

    // The defaults: one server, the results stream's shards left to the mode, no wait.
    let cfg = chart_config(&render(&helm, &[]).expect("renders"), &[]);
    assert_eq!((cfg.redis.url.as_deref(), cfg.redis.cluster_urls.len()), (Some("redis://redis:6379"), 0));
    assert_eq!((cfg.results.stream_shards, cfg.results.shards(false)), (None, 1));
    assert_eq!(cfg.redis.wait_replicas, 0);

    // TLS to a cluster: its URLs must be rediss://, and then the CA is mounted for it.
    let tls = ["redisAuth.tls.enabled=true", "redisAuth.tls.existingSecret=redis-ca"];
    let err = render(&helm, &[&["config.redis.cluster_urls={redis://redis-0.redis:6379}"][..], &tls[..]].concat())
        .expect_err("redis:// with TLS");
    assert!(err.contains("rediss://"), "{err}");
    let objects = render(&helm, &[&["config.redis.cluster_urls={rediss://redis-0.redis:6380}"][..], &tls[..]].concat())
        .expect("rediss:// with TLS");
    let toml = text(object(&objects, "ConfigMap", "xw-expressway-config"), "data/expressway.toml");
    assert!(toml.contains("tls_ca_file = \"/etc/expressway/redis-tls/ca.crt\""), "{toml}");

    // A number of shards the services refuse renders, and stops them at start-up.
    let objects = render(&helm, &["config.redis.cluster_urls={redis://r:6379}", "config.results.stream_shards=0"])
        .expect("renders");
    let toml = text(object(&objects, "ConfigMap", "xw-expressway-config"), "data/expressway.toml");
    let err = load(toml, &[]).expect_err("0 shards");
    assert!(format!("{err:#}").contains("results.stream_shards must be 1 to 256"), "{err:#}");
}

#[test]
fn helm_chart_refuses_what_cannot_work() {
    let Some(helm) = helm_or_skip() else { return };
    for (set, says) in [
        (&["config.kafka.partitions=4", "worker.keda.maxReplicaCount=5"][..], "exceeds config.kafka.partitions"),
        (&["kafkaAuth.sasl.enabled=true"][..], "kafkaAuth.sasl.existingSecret"),
        (&["redisAuth.tls.enabled=true", "redisAuth.tls.existingSecret=ca"][..], "rediss://"),
        (&["config.worker.concurrency=100"][..], "exceeds config.worker.concurrency"),
    ] {
        let err = render(&helm, set).expect_err(&format!("{set:?} renders"));
        assert!(err.contains(says), "{set:?}: {err}");
    }
    // A key the services do not know renders, and the loader refuses it (as a pod would).
    let objects = render(&helm, &["config.worker.concurency=8"]).expect("renders");
    let toml = text(object(&objects, "ConfigMap", "xw-expressway-config"), "data/expressway.toml");
    let err = load(toml, &[]).expect_err("an unknown key");
    assert!(format!("{err:#}").contains("concurency"), "{err:#}");
}

// ---------------------------------------------------------------------------------------------
// Compose

fn compose_dir() -> PathBuf {
    root().join("deploy/compose")
}

fn compose() -> Value {
    let text = std::fs::read_to_string(compose_dir().join("compose.yaml")).expect("compose.yaml");
    let mut v: Value = serde_yaml_ng::from_str(&text).expect("compose.yaml is YAML");
    // `<<: *expressway`, at every depth, as compose reads it.
    v.apply_merge().expect("merge keys");
    v
}

/// The container side of a published port: `127.0.0.1:8093:8083` → 8083.
fn container_port(spec: &str) -> u16 {
    spec.rsplit(':').next().and_then(|p| p.split('/').next()).and_then(|p| p.parse().ok()).expect("a port")
}

/// The host file mounted at `target` (a `./file:target[:ro]` bind).
fn mounted(service: &Value, target: &str) -> Option<PathBuf> {
    service.get("volumes")?.as_sequence()?.iter().filter_map(Value::as_str).find_map(|v| {
        let mut parts = v.split(':');
        let (src, dst) = (parts.next()?, parts.next()?);
        (dst == target).then(|| compose_dir().join(src))
    })
}

#[test]
fn compose_file_agrees_with_the_services() {
    let c = compose();
    let services = at(&c, "services").as_mapping().expect("services");
    let named = |n: &str| at(&c, &format!("services/{n}"));

    let mut by_kind: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut targets_wanted = BTreeSet::new();
    for (name, s) in services {
        let name = name.as_str().expect("a name");
        if s.get("image").and_then(Value::as_str) != Some("expressway:dev") {
            continue;
        }
        assert_eq!(text(s, "build/dockerfile"), "Dockerfile");
        assert_eq!(compose_dir().join(text(s, "build/context")).canonicalize().ok(), root().canonicalize().ok());
        let cmd: Vec<&str> =
            at(s, "command").as_sequence().expect("command").iter().filter_map(Value::as_str).collect();
        let kind = cmd[0];
        assert!(["frontend", "worker", "results"].contains(&kind), "{name}: {cmd:?}");
        by_kind.entry(kind.to_string()).or_default().push(name.to_string());
        assert_eq!(cmd[1], "--config");
        let file = mounted(s, cmd[2]).unwrap_or_else(|| panic!("{name}: {} is not mounted", cmd[2]));

        // The configuration as this service loads it: the file, then its EXPRESSWAY_ variables.
        let mut env = Vec::new();
        for (k, v) in at(s, "environment").as_mapping().expect("environment as a mapping") {
            let (k, v) = (k.as_str().expect("name"), v.as_str().unwrap_or_else(|| panic!("{name}: quote {k:?}")));
            if k.starts_with("EXPRESSWAY_") && k != "EXPRESSWAY_LOG" {
                assert_config_variable(k);
                env.push((k.to_string(), v.to_string()));
            }
        }
        let toml = std::fs::read_to_string(&file).expect("the configuration file");
        let cfg = load(&toml, &env).unwrap_or_else(|e| panic!("{name}: the configuration does not load: {e:#}"));

        // Published ports are the listeners.
        let http = cfg.http_listen.unwrap_or_else(|| panic!("{name}: no HTTP listener (metrics, health)")).port();
        let listeners: BTreeSet<u16> =
            if kind == "worker" { BTreeSet::from([http]) } else { BTreeSet::from([cfg.listen.port(), http]) };
        let published: BTreeSet<u16> = s
            .get("ports")
            .and_then(Value::as_sequence)
            .map(|p| p.iter().filter_map(Value::as_str).map(container_port).collect())
            .unwrap_or_default();
        assert!(published.is_subset(&listeners), "{name}: publishes {published:?}, listens on {listeners:?}");
        if kind == "frontend" {
            assert_eq!(published, listeners, "{name}: gRPC and the AWS JSON protocol reach the host");
        }
        if kind == "results" {
            assert!(published.contains(&cfg.listen.port()), "{name}: Subscribe reaches the host");
        }
        targets_wanted.insert(format!("{name}:{http}"));

        // Kafka and Redis are the compose services, healthy before anything starts.
        let (kafka_host, kafka_port) = cfg.kafka.bootstrap_servers.split_once(':').expect("host:port");
        let redis_host = cfg
            .redis
            .url
            .as_deref()
            .expect("one Redis server in compose")
            .trim_start_matches("redis://")
            .split(':')
            .next()
            .expect("host");
        for dep in [kafka_host, redis_host] {
            assert_eq!(text(s, &format!("depends_on/{dep}/condition")), "service_healthy", "{name} → {dep}");
            assert!(named(dep).get("healthcheck").is_some(), "{dep} has a health check");
        }
        let advertised = text(named(kafka_host), "environment/KAFKA_ADVERTISED_LISTENERS");
        assert!(advertised.split(',').any(|l| l.ends_with(&format!("://{kafka_host}:{kafka_port}"))), "{advertised}");
        assert_eq!(cfg.kafka.replication_factor, 1, "one broker");

        // Traces go to the collector's OTLP/HTTP receiver.
        let endpoint = text(s, "environment/OTEL_EXPORTER_OTLP_ENDPOINT");
        assert_eq!(text(s, "environment/OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf");
        let collector_file =
            mounted(named("otel-collector"), "/etc/otelcol-contrib/config.yaml").expect("collector config");
        let collector: Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(collector_file).expect("read")).expect("collector YAML");
        let receiver_port = text(&collector, "receivers/otlp/protocols/http/endpoint").rsplit(':').next().unwrap_or("");
        assert_eq!(endpoint, format!("http://otel-collector:{receiver_port}"), "{name}");

        // Stopping takes the drain and the producers' flush.
        let grace: u64 = text(s, "stop_grace_period").trim_end_matches('s').parse().expect("seconds");
        assert!(grace >= 2 + cfg.drain_timeout_seconds + 20, "{name}: {grace} s to stop");
    }
    let count = |k: &str| by_kind.get(k).map_or(0, Vec::len);
    assert_eq!((count("frontend"), count("worker"), count("results")), (2, 2, 1), "{by_kind:?}");

    let collector: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(compose_dir().join("otel-collector.yaml")).expect("read"))
            .expect("YAML");
    let traces = at(&collector, "service/pipelines/traces");
    assert_eq!(at(traces, "receivers/0").as_str(), Some("otlp"));
    assert_eq!(at(traces, "exporters/0").as_str(), Some("debug"));

    // Prometheus scrapes every process's /metrics.
    let prom_file = mounted(named("prometheus"), "/etc/prometheus/prometheus.yml").expect("prometheus.yml mounted");
    let prom: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(prom_file).expect("read")).expect("YAML");
    let mut targets = BTreeSet::new();
    for job in at(&prom, "scrape_configs").as_sequence().expect("jobs") {
        assert_eq!(job.get("metrics_path").and_then(Value::as_str).unwrap_or("/metrics"), "/metrics");
        for t in at(job, "static_configs/0/targets").as_sequence().expect("targets") {
            targets.insert(t.as_str().expect("target").to_string());
        }
    }
    assert_eq!(targets, targets_wanted);

    // docker's own reading of the file, where docker has compose.
    let has_compose = Command::new("docker").args(["compose", "version"]).output().is_ok_and(|o| o.status.success());
    if has_compose {
        let out = Command::new("docker")
            .args(["compose", "-f"])
            .arg(compose_dir().join("compose.yaml"))
            .args(["config", "--quiet"])
            .output()
            .expect("docker compose config");
        assert!(out.status.success(), "docker compose config: {}", String::from_utf8_lossy(&out.stderr));
    } else {
        eprintln!("docker compose is not installed: the compose file was checked by this test only");
    }
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

/// The Dockerfile's instructions (continuations joined, comments dropped) of its last stage.
fn runtime_stage() -> (Vec<(String, String)>, String) {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let mut lines = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        if cur.is_empty() && (t.starts_with('#') || t.is_empty()) {
            continue;
        }
        if let Some(head) = t.strip_suffix('\\') {
            cur.push_str(head);
            cur.push(' ');
        } else {
            cur.push_str(t);
            let (op, rest) = cur.split_once(' ').unwrap_or((&cur, ""));
            lines.push((op.to_ascii_uppercase(), rest.trim().to_string()));
            cur.clear();
        }
    }
    let last_from = lines.iter().rposition(|(op, _)| op == "FROM").expect("a FROM");
    (lines[last_from..].to_vec(), text)
}

#[test]
fn dockerfile_runs_the_one_binary_as_a_user() {
    let (stage, text) = runtime_stage();
    let get = |op: &str| stage.iter().filter(|(o, _)| o == op).map(|(_, r)| r.as_str()).collect::<Vec<_>>();
    assert!(get("FROM")[0].contains("-slim"), "a slim runtime: {:?}", get("FROM"));
    let user = get("USER");
    assert!(!user.is_empty() && !user.iter().any(|u| u.starts_with('0') || u.starts_with("root")), "{user:?}");
    assert_eq!(get("ENTRYPOINT"), ["[\"expressway\"]"]);
    assert!(get("COPY").iter().any(|c| c.starts_with("--from=builder") && c.ends_with("/usr/local/bin/expressway")));
    assert!(text.contains("-p expressway-cli --bin expressway"), "the build makes the one binary");
    assert!(text.contains("cargo chef cook"), "dependencies are built in a layer of their own");

    // The image's listeners are configuration the services accept, and exposed.
    let mut env = Vec::new();
    for e in get("ENV") {
        for pair in e.split_whitespace() {
            let (k, v) = pair.split_once('=').expect("ENV k=v");
            assert_config_variable(k);
            env.push((k.to_string(), v.to_string()));
        }
    }
    let cfg = load("", &env).expect("the image's environment loads");
    let exposed: BTreeSet<u16> =
        get("EXPOSE").iter().flat_map(|e| e.split_whitespace()).map(|p| p.parse().expect("a port")).collect();
    let http = cfg.http_listen.expect("the image turns the HTTP listener on");
    assert_eq!(exposed, BTreeSet::from([cfg.listen.port(), http.port()]));
    assert!(cfg.listen.ip().is_unspecified() && http.ip().is_unspecified(), "reachable from outside the container");

    let ignore = std::fs::read_to_string(root().join(".dockerignore")).expect(".dockerignore");
    for must in [".git", "**/target"] {
        assert!(ignore.lines().any(|l| l.trim() == must), ".dockerignore leaves out {must}");
    }
}

#[test]
fn dockerfile_healthcheck_answers_against_a_running_process() {
    let (stage, _) = runtime_stage();
    let check = stage.iter().find(|(op, _)| op == "HEALTHCHECK").map(|(_, r)| r.clone()).expect("a HEALTHCHECK");
    let cmd = &check[check.find("CMD ").expect("CMD") + 4..];
    let argv: Vec<String> = serde_json::from_str(cmd).expect("the exec form, a JSON array");

    let port = expressway_testkit::free_port();
    let http = format!("127.0.0.1:{port}");
    let run_check = || {
        Command::new(&argv[0]).args(&argv[1..]).env("EXPRESSWAY_HTTP_LISTEN", &http).output().expect("the check runs")
    };
    assert!(!run_check().status.success(), "nothing listens yet: the check must fail");
    let mut dev = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .args(["dev", "--listen", &format!("127.0.0.1:{}", expressway_testkit::free_port()), "--http-listen", &http])
        .env("EXPRESSWAY_LOG", "warn")
        .spawn()
        .expect("expressway dev");
    let mut healthy = false;
    for _ in 0..100 {
        if run_check().status.success() {
            healthy = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = dev.kill();
    let _ = dev.wait();
    assert!(healthy, "the HEALTHCHECK command never succeeded against expressway dev on {http}");
}
