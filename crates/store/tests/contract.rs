//! The same behaviour asked of every store implementation: in memory, and in a real
//! redis-server started for this test suite.

use std::sync::Arc;
use std::time::Duration;

use expressway_store::arn::Partition;
use expressway_store::memory::{MemoryExecutions, MemoryRegistry};
use expressway_store::redis::{connect, RedisConfig, RedisExecutions, RedisRegistry};
use expressway_store::*;

/// A short id (`arn:1`, `arn:b`) as an Express execution ARN of machine `m`, named as the
/// tests name it (`a` for the numbered ones, else the id's first letter): on a cluster the
/// keys of an execution and of its name share the slot of `express:m:{name}`.
fn ex(id: &str) -> String {
    let short = id.strip_prefix("arn:").unwrap_or(id);
    let name = if short.chars().all(|c| c.is_ascii_digit()) { "a".to_string() } else { short[..1].to_string() };
    Partition::default().express_execution("m", &name, short)
}

fn record(name: &str, input: &str, arn: &str) -> ExecutionRecord {
    ExecutionRecord {
        execution_arn: ex(arn),
        name: name.into(),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
        revision_id: "r1".into(),
        input: input.into(),
        input_hash: input_hash(input),
        status: ExecutionStatus::Running,
        output: None,
        error: None,
        cause: None,
        start_ms: 1,
        stop_ms: None,
    }
}

async fn executions_contract(s: Arc<dyn ExecutionStore>) {
    let w = Duration::from_secs(60);
    assert!(matches!(s.start(record("a", "{}", "arn:1"), w).await, Ok(Started::New(_))));
    match s.start(record("a", "{}", "arn:2"), w).await {
        Ok(Started::Existing(r)) => assert_eq!(r.execution_arn, ex("arn:1")),
        other => panic!("expected the existing execution, got {other:?}"),
    }
    assert!(matches!(s.start(record("a", "{\"x\":1}", "arn:3"), w).await, Err(StoreError::AlreadyExists { .. })));
    // Neither the duplicate nor the conflicting start leaves a record behind.
    assert!(matches!(s.get(&ex("arn:2")).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(s.get(&ex("arn:3")).await, Err(StoreError::NotFound { .. })));
    // Without a window nothing is deduplicated, and the name stays free.
    let z = Duration::ZERO;
    assert!(matches!(s.start(record("z", "{}", "arn:z1"), z).await, Ok(Started::New(_))));
    assert!(matches!(s.start(record("z", "{\"y\":2}", "arn:z2"), z).await, Ok(Started::New(_))));
    assert!(matches!(s.start(record("z", "{}", "arn:z3"), w).await, Ok(Started::New(_))));
    assert_eq!(s.get(&ex("arn:z2")).await.map(|r| r.input), Ok("{\"y\":2}".to_string()));

    // Forgetting frees the name for a retry.
    s.forget(&ex("arn:1")).await.expect("forget");
    assert!(matches!(s.get(&ex("arn:1")).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(s.start(record("a", "{}", "arn:4"), w).await, Ok(Started::New(_))));

    // One outcome, first writer wins.
    let done = |status, out: &str| Finished { status, output: Some(out.into()), error: None, cause: None, stop_ms: 5 };
    assert_eq!(s.finish(&ex("arn:4"), done(ExecutionStatus::Succeeded, "1")).await, Ok(true));
    assert_eq!(s.finish(&ex("arn:4"), done(ExecutionStatus::Failed, "2")).await, Ok(false));
    let r = s.get(&ex("arn:4")).await.expect("get");
    assert_eq!((r.status, r.output.as_deref(), r.stop_ms), (ExecutionStatus::Succeeded, Some("1"), Some(5)));

    // Claims: exclusive while live, re-entrant for the holder, free after release or expiry.
    // The first owner's claims say so; another owner's mean an earlier run may have been cut off.
    s.start(record("b", "{}", "arn:b"), w).await.expect("start");
    let (first, again) = (Ok(Claim::Acquired { first: true }), Ok(Claim::Acquired { first: false }));
    assert_eq!(s.claim(&ex("arn:b"), "w1", Duration::from_secs(30)).await, first);
    assert_eq!(s.claim(&ex("arn:b"), "w2", Duration::from_secs(30)).await, Ok(Claim::Busy));
    assert_eq!(s.claim(&ex("arn:b"), "w1", Duration::from_secs(30)).await, first, "the first owner again");
    s.release(&ex("arn:b"), "w2").await.expect("release by non-holder is a no-op");
    assert_eq!(s.claim(&ex("arn:b"), "w2", Duration::from_secs(30)).await, Ok(Claim::Busy));
    s.release(&ex("arn:b"), "w1").await.expect("release");
    assert_eq!(s.claim(&ex("arn:b"), "w2", Duration::from_millis(50)).await, again);
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(s.claim(&ex("arn:b"), "w3", Duration::from_secs(30)).await, again, "an expired lease can be taken");

    // Journal and history.
    assert_eq!(s.journal_get(&ex("arn:b"), "T:0").await, Ok(None));
    s.journal_put(&ex("arn:b"), "T:0", "{\"r\":1}").await.expect("put");
    assert_eq!(s.journal_get(&ex("arn:b"), "T:0").await, Ok(Some("{\"r\":1}".to_string())));
    let ev = expressway_asl::HistoryEvent {
        id: 1,
        timestamp_ms: 1,
        event_type: expressway_asl::EventType::ExecutionStarted,
        state_name: None,
        details: serde_json::json!({"input": {}}),
    };
    s.append_history(&ex("arn:b"), vec![ev.clone(), ev.clone()]).await.expect("history");
    assert_eq!(s.history(&ex("arn:b")).await.map(|h| h.len()), Ok(2));
    // The first outcome brings its run's history; a later one brings nothing.
    let f = Finished { status: ExecutionStatus::Succeeded, output: None, error: None, cause: None, stop_ms: 9 };
    assert_eq!(s.finish_with_history(&ex("arn:b"), f.clone(), vec![ev.clone()], "w3").await, Ok(true));
    assert_eq!(s.claim(&ex("arn:b"), "w4", Duration::from_secs(30)).await, again, "finishing gave the lease back");
    // Another run's outcome does not replace it; the very same outcome again is a retry of
    // the first (whose answer was lost), reported as recorded, and adds no history.
    let other = Finished { stop_ms: 10, ..f.clone() };
    assert_eq!(s.finish_with_history(&ex("arn:b"), other, vec![ev.clone(), ev.clone()], "w4").await, Ok(false));
    assert_eq!(s.finish_with_history(&ex("arn:b"), f, vec![ev.clone(), ev], "w3").await, Ok(true));
    assert_eq!(s.history(&ex("arn:b")).await.map(|h| h.len()), Ok(3));

    // Begin: the lease when there is no outcome yet, the outcome (and no lease) once there is.
    let lease = Duration::from_secs(30);
    s.start(record("c", "{}", "arn:c"), w).await.expect("start");
    assert_eq!(s.begin(&ex("arn:c"), "w1", lease).await, Ok(Begin::Acquired { attempt: 1 }));
    assert_eq!(s.begin(&ex("arn:c"), "w2", lease).await, Ok(Begin::Busy));
    assert_eq!(s.begin(&ex("arn:c"), "w1", lease).await, Ok(Begin::Acquired { attempt: 1 }), "a retried begin");
    let out =
        Finished { status: ExecutionStatus::Failed, output: None, error: Some("E".into()), cause: None, stop_ms: 3 };
    assert_eq!(s.finish_with_history(&ex("arn:c"), out, vec![], "w1").await, Ok(true));
    match s.begin(&ex("arn:c"), "w2", lease).await {
        Ok(Begin::Finished(r)) => {
            assert_eq!((r.status, r.error.as_deref(), r.stop_ms), (ExecutionStatus::Failed, Some("E"), Some(3)))
        }
        other => panic!("expected the recorded outcome, got {other:?}"),
    }
    assert_eq!(s.claim(&ex("arn:c"), "w3", lease).await, again, "a begin that found the outcome holds no lease");
    assert!(matches!(s.begin(&ex("arn:none"), "w1", lease).await, Err(StoreError::NotFound { .. })));

    // Attempts: each owner that takes over an unfinished run after the first counts once.
    s.start(record("d", "{}", "arn:d"), w).await.expect("start");
    let short = Duration::from_millis(50);
    assert_eq!(s.begin(&ex("arn:d"), "w1", short).await, Ok(Begin::Acquired { attempt: 1 }));
    assert_eq!(s.begin(&ex("arn:d"), "w2", lease).await, Ok(Begin::Busy), "a live lease is not taken over");
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(s.begin(&ex("arn:d"), "w2", short).await, Ok(Begin::Acquired { attempt: 2 }), "w1 died");
    assert_eq!(s.begin(&ex("arn:d"), "w2", short).await, Ok(Begin::Acquired { attempt: 2 }), "w2 retried its begin");
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(s.begin(&ex("arn:d"), "w3", lease).await, Ok(Begin::Acquired { attempt: 3 }), "w2 died");
}

async fn registry_contract(r: Arc<dyn Registry>, p: &Partition) {
    let new = |name: &str, def: &str| NewStateMachine {
        name: name.into(),
        arn: p.state_machine(name),
        definition: def.into(),
        kind: MachineKind::Express,
        logging: Logging::default(),
        tracing: false,
        tags: Default::default(),
        now_ms: 1,
    };
    let a = r.create(new("alpha", "d1")).await.expect("create");
    assert_eq!(r.create(new("alpha", "d1")).await.map(|x| x.current.revision_id), Ok(a.current.revision_id.clone()));
    assert!(matches!(r.create(new("alpha", "other")).await, Err(StoreError::AlreadyExists { .. })));
    for n in ["beta", "gamma", "delta"] {
        r.create(new(n, "d")).await.expect("create");
    }
    let page1: Vec<String> = r.list(None, 2).await.expect("list").into_iter().map(|x| x.name).collect();
    assert_eq!(page1, vec!["alpha", "beta"]);
    let page2: Vec<String> = r.list(Some("beta"), 10).await.expect("list").into_iter().map(|x| x.name).collect();
    assert_eq!(page2, vec!["delta", "gamma"]);

    let v1 = r.publish_version("alpha", None, "v1").await.expect("publish");
    assert_eq!(v1.number, 1);
    assert_eq!(r.publish_version("alpha", None, "same").await.map(|v| v.number), Ok(1));
    let up = r
        .update("alpha", StateMachineUpdate { definition: Some("d2".into()), ..Default::default() })
        .await
        .expect("update");
    assert_ne!(up.current.revision_id, a.current.revision_id);
    assert_eq!(r.revision(&a.current.revision_id).await.map(|x| x.definition), Ok("d1".into()));
    assert_eq!(r.publish_version("alpha", None, "v2").await.map(|v| v.number), Ok(2));
    let alias = Alias {
        name: "live".into(),
        arn: p.alias("alpha", "live"),
        description: String::new(),
        routing: vec![(1, 50), (2, 50)],
        created_ms: 1,
        updated_ms: 1,
    };
    r.create_alias("alpha", alias).await.expect("alias");
    assert_eq!(r.alias("alpha", "live").await.map(|a| a.routing.len()), Ok(2));
    // Metadata changes: aliases re-routed and deleted, tags added and removed.
    let change = MetadataChange::UpdateAlias {
        name: "live".into(),
        description: None,
        routing: Some(vec![(2, 100)]),
        now_ms: 5,
    };
    let changed = r.change("alpha", change).await.expect("update alias");
    assert_eq!(changed.aliases[0].routing, vec![(2, 100)]);
    assert_eq!(r.alias("alpha", "live").await.map(|a| (a.routing, a.updated_ms)), Ok((vec![(2, 100)], 5)));
    let to_missing = MetadataChange::UpdateAlias {
        name: "live".into(),
        description: None,
        routing: Some(vec![(7, 100)]),
        now_ms: 6,
    };
    assert!(matches!(r.change("alpha", to_missing).await, Err(StoreError::NotFound { .. })));
    assert_eq!(
        r.alias("alpha", "live").await.map(|a| a.routing),
        Ok(vec![(2, 100)]),
        "a refused change changes nothing"
    );
    let tags =
        [("team".to_string(), "core".to_string()), ("env".to_string(), "prod".to_string())].into_iter().collect();
    r.change("alpha", MetadataChange::Tag(tags)).await.expect("tag");
    let untagged = r.change("alpha", MetadataChange::Untag(vec!["env".into(), "absent".into()])).await.expect("untag");
    assert_eq!(untagged.tags.into_iter().collect::<Vec<_>>(), vec![("team".to_string(), "core".to_string())]);
    // A version an alias routes to stays; once no alias does, it goes, and its number is
    // not given again.
    assert!(matches!(r.change("alpha", MetadataChange::DeleteVersion(2)).await, Err(StoreError::Conflict(_))));
    r.change("alpha", MetadataChange::DeleteAlias("live".into())).await.expect("delete alias");
    let left = r.change("alpha", MetadataChange::DeleteVersion(2)).await.expect("delete version");
    assert_eq!(left.versions.iter().map(|v| v.number).collect::<Vec<_>>(), vec![1]);
    assert!(matches!(r.version("alpha", 2).await, Err(StoreError::NotFound { .. })));
    r.change("alpha", MetadataChange::DeleteVersion(2)).await.expect("a missing version is no error");
    r.update("alpha", StateMachineUpdate { definition: Some("d3".into()), ..Default::default() })
        .await
        .expect("update");
    assert_eq!(r.publish_version("alpha", None, "v3").await.map(|v| v.number), Ok(3));
    assert!(matches!(r.alias("alpha", "live").await, Err(StoreError::NotFound { .. })));
    assert!(matches!(
        r.change("alpha", MetadataChange::DeleteAlias("live".into())).await,
        Err(StoreError::NotFound { .. })
    ));
    r.delete("gamma").await.expect("delete");
    assert!(matches!(r.get("gamma").await, Err(StoreError::NotFound { .. })));
    assert!(matches!(r.delete("gamma").await, Err(StoreError::NotFound { .. })));
}

#[tokio::test]
async fn memory_stores_keep_the_contract() {
    executions_contract(Arc::new(MemoryExecutions::new(Duration::from_secs(60), 1000))).await;
    let p = Partition::default();
    registry_contract(Arc::new(MemoryRegistry::new(p.clone())), &p).await;
}

#[tokio::test]
async fn redis_stores_keep_the_contract() {
    let server = expressway_testkit::redis().expect("redis-server");
    redis_contract(RedisConfig { url: server.redis_url(), ..RedisConfig::default() }).await;
}

/// The same on a Redis Cluster of three primaries and three replicas: every pipeline and
/// script of an execution stays in one slot (a cross-slot one would fail), and the
/// registry's steps that touch several keys send them one by one. Every write that waits for
/// a replica (`redis.wait_replicas` 1) gets its acknowledgement from the primary that took it.
#[tokio::test]
async fn redis_cluster_stores_keep_the_contract() {
    let cluster = expressway_testkit::redis_cluster::RedisCluster::start().expect("redis cluster");
    // WAIT answers as soon as the replica has the write; the long timeouts only keep a busy
    // machine (a CI run's parallel suites) from turning a slow acknowledgement into a failure.
    let cfg = RedisConfig {
        cluster_urls: cluster.urls(),
        wait_replicas: 1,
        wait_timeout: Duration::from_secs(10),
        response_timeout: Duration::from_secs(15),
        ..RedisConfig::default()
    };
    redis_contract(cfg).await;
}

/// A write fewer replicas acknowledge than asked is a failed write, to be retried; the same
/// write retried once they suffice goes through (start, outcome).
#[tokio::test]
async fn a_write_too_few_replicas_acknowledge_fails_as_retryable() {
    let cluster = expressway_testkit::redis_cluster::RedisCluster::start().expect("redis cluster");
    let base = RedisConfig {
        cluster_urls: cluster.urls(),
        wait_timeout: Duration::from_millis(100),
        // Above the longest WAIT below: a WAIT is a command the client times too.
        response_timeout: Duration::from_secs(15),
        ..RedisConfig::default()
    };
    let conn = connect(&base).await.expect("connect");
    // Each primary has one replica: two cannot acknowledge.
    let greedy = RedisExecutions::new(conn.clone(), &RedisConfig { wait_replicas: 2, ..base.clone() });
    // A replica acknowledges within a millisecond or so, unless the machine is busy.
    let enough = RedisExecutions::new(
        conn,
        &RedisConfig { wait_replicas: 1, wait_timeout: Duration::from_secs(10), ..base.clone() },
    );
    let e = greedy.start(record("w", "{}", "arn:w1"), Duration::from_secs(60)).await.expect_err("two replicas");
    // One replica per primary: one at most acknowledges (none, if it is slower than the wait).
    assert!(e.is_retryable() && e.to_string().contains(" of 2 replicas"), "{e}");
    // The caller's retry meets the name (and waits for it again).
    match enough.start(record("w", "{}", "arn:w2"), Duration::from_secs(60)).await.expect("start") {
        Started::Existing(r) => assert_eq!(r.execution_arn, ex("arn:w1")),
        Started::New(_) => panic!("the name was taken by the first try"),
    }
    let done =
        Finished { status: ExecutionStatus::Succeeded, output: Some("1".into()), error: None, cause: None, stop_ms: 1 };
    let e = greedy.finish_with_history(&ex("arn:w1"), done.clone(), Vec::new(), "o").await.expect_err("two replicas");
    assert!(e.is_retryable(), "{e}");
    assert!(
        enough.finish_with_history(&ex("arn:w1"), done, Vec::new(), "o").await.expect("retried"),
        "the same outcome"
    );
}

#[tokio::test]
async fn a_prefix_with_braces_is_refused() {
    let cfg = RedisConfig { prefix: "{xw}:".into(), ..RedisConfig::default() };
    let Err(e) = connect(&cfg).await else { panic!("a braced prefix would put every key in one slot") };
    assert!(matches!(e, StoreError::Invalid(_)) && e.to_string().contains("braces"), "{e}");
}

async fn redis_contract(cfg: RedisConfig) {
    let conn = connect(&cfg).await.expect("connect");
    executions_contract(Arc::new(RedisExecutions::new(conn.clone(), &cfg))).await;
    let p = Partition::default();
    let registry = Arc::new(RedisRegistry::new(conn.clone(), &cfg, p.clone()));
    registry_contract(registry.clone(), &p).await;
    // A deleted machine's revisions (current and replaced) expire after the grace period.
    let new = NewStateMachine {
        name: "short-lived".into(),
        arn: p.state_machine("short-lived"),
        definition: r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#.into(),
        kind: MachineKind::Express,
        logging: Logging::default(),
        tracing: false,
        tags: Default::default(),
        now_ms: 1,
    };
    let first = registry.create(new).await.expect("create").current.revision_id;
    let update = StateMachineUpdate {
        definition: Some(r#"{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}"#.into()),
        ..Default::default()
    };
    let second = registry.update("short-lived", update).await.expect("update").current.revision_id;
    registry.delete("short-lived").await.expect("delete");
    let mut c = conn;
    for id in [first, second] {
        let ttl: i64 = ::redis::cmd("PTTL").arg(format!("xw:rev:{id}")).query_async(&mut c).await.expect("pttl");
        assert!(ttl > 0 && ttl <= expressway_store::memory::DELETED_REVISIONS_KEPT.as_millis() as i64, "{id}: {ttl}");
    }
}

#[tokio::test]
async fn redis_down_is_unavailable_not_a_hang() {
    let cfg =
        RedisConfig { url: format!("redis://127.0.0.1:{}", expressway_testkit::free_port()), ..RedisConfig::default() };
    let started = std::time::Instant::now();
    let Err(err) = connect(&cfg).await else { panic!("nothing listens there") };
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn redis_over_tls_with_an_acl_user_keeps_the_contract() {
    let certs = expressway_testkit::tls::Certs::generate().expect("certificates");
    let tls_port = expressway_testkit::free_port();
    let path = |p: &std::path::Path| p.display().to_string();
    let (cert, key, ca) = (path(&certs.server_cert), path(&certs.server_key), path(&certs.ca));
    let tls_args = |clients: &'static str| {
        let mut a = vec![
            "--tls-port".to_string(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            cert.clone(),
            "--tls-key-file".into(),
            key.clone(),
            "--tls-ca-cert-file".into(),
            ca.clone(),
            "--tls-auth-clients".into(),
            clients.into(),
        ];
        // Only an ACL user: the default user is off.
        a.extend(
            ["--user", "default", "off", "--user", "alice", "on", ">alice-pw-1", "~*", "&*", "+@all"].map(String::from),
        );
        a
    };
    let args = tls_args("no");
    let server =
        expressway_testkit::redis_with(&args.iter().map(String::as_str).collect::<Vec<_>>()).expect("redis-server");
    let url = format!("rediss://127.0.0.1:{tls_port}");
    let cfg = RedisConfig {
        url: url.clone(),
        username: Some("alice".into()),
        password: Some("alice-pw-1".into()),
        tls_ca_file: Some(certs.ca.clone()),
        ..RedisConfig::default()
    };
    let conn = connect(&cfg).await.expect("connect over TLS as alice");
    executions_contract(Arc::new(RedisExecutions::new(conn, &cfg))).await;
    // The wrong password, no user, or a CA that did not sign the server: refused, clearly.
    let wrong = RedisConfig { password: Some("nope".into()), ..cfg.clone() };
    let e = connect(&wrong).await.expect_err("wrong password");
    assert!(e.to_string().to_lowercase().contains("authentication failed"), "{e}");
    let anonymous = RedisConfig { username: None, password: None, ..cfg.clone() };
    assert!(connect(&anonymous).await.is_err(), "the default user is off");
    let untrusted = RedisConfig { tls_ca_file: None, ..cfg.clone() };
    assert!(connect(&untrusted).await.is_err(), "the system roots do not know the test CA");
    drop(server);

    // A server that asks for client certificates.
    let args = tls_args("yes");
    let _server =
        expressway_testkit::redis_with(&args.iter().map(String::as_str).collect::<Vec<_>>()).expect("redis-server");
    assert!(connect(&cfg).await.is_err(), "no client certificate");
    let mtls = RedisConfig {
        tls_cert_file: Some(certs.client_cert.clone()),
        tls_key_file: Some(certs.client_key.clone()),
        ..cfg
    };
    connect(&mtls).await.expect("connect with a client certificate");
}
