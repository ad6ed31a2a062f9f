//! The Kafka bus on a real Apache Kafka broker's secured listeners: TLS (`SSL`) with the
//! broker's certificate checked against a CA, and SASL over TLS with SCRAM-SHA-512 and PLAIN
//! users; a wrong password is refused.

use std::sync::Arc;
use std::time::Duration;

use expressway_bus::kafka::{ensure_topics, KafkaBus, KafkaConfig, KafkaSource, TriggerError, TriggerStarter};
use expressway_bus::{ExecutionBus, ExecutionSource, StartCommand};
use expressway_testkit::kafka::{Kafka, KafkaOptions};
use expressway_testkit::tls::Certs;

struct NoTriggers;

#[async_trait::async_trait]
impl TriggerStarter for NoTriggers {
    async fn start(&self, _: &str, _: &str, _: &str) -> Result<StartCommand, TriggerError> {
        Err(TriggerError::Rejected("no triggers in this test".into()))
    }
}

fn command(name: &str) -> StartCommand {
    StartCommand {
        execution_arn: format!("arn:aws:states:us-east-1:123456789012:express:m:{name}:1"),
        execution_name: name.into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
        revision_id: "r1".into(),
        input: "{}".into(),
        start_ms: 1,
        reply_to: None,
        trace_header: None,
        depth: 0,
    }
}

/// Publish one start command and consume it back, on `cfg`'s own topic and group.
async fn round_trip(cfg: &KafkaConfig, name: &str) {
    ensure_topics(cfg, &[cfg.executions_topic.as_str()]).await.expect("topics");
    KafkaBus::new(cfg).expect("producer").publish(command(name)).await.expect("publish");
    let mut source = KafkaSource::new(cfg, &[], Arc::new(NoTriggers)).expect("consumer");
    let delivery = tokio::time::timeout(Duration::from_secs(60), source.next()).await.expect("in time").expect("one");
    assert_eq!(delivery.command, command(name));
    delivery.ack.ack();
    source.close();
}

fn config(tag: &str, bootstrap: String, properties: &[(&str, String)]) -> KafkaConfig {
    KafkaConfig {
        bootstrap_servers: bootstrap,
        executions_topic: format!("exec-{tag}"),
        results_topic: format!("results-{tag}"),
        dead_letter_topic: format!("dlq-{tag}"),
        partitions: 1,
        replication_factor: 1,
        group_id: format!("group-{tag}"),
        properties: properties.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        sasl_password: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bus_runs_over_tls_and_sasl_scram_and_refuses_a_wrong_password() {
    let certs = Certs::generate().expect("certificates");
    let users = vec![("alice".to_string(), "alice-secret-1".to_string())];
    let kafka = Kafka::start(KafkaOptions { tls: Some(certs.clone()), users, ..KafkaOptions::default() })
        .expect("a Kafka broker (see .ci/run)");
    let ca = certs.ca.display().to_string();

    let ssl = config(
        "ssl",
        kafka.ssl_bootstrap().expect("ssl"),
        &[("security.protocol", "SSL".into()), ("ssl.ca.location", ca.clone())],
    );
    round_trip(&ssl, "over-tls").await;

    let sasl_as = |mechanism: &str| {
        config(
            &format!("sasl-{}", mechanism.to_lowercase()),
            kafka.sasl_ssl_bootstrap().expect("sasl"),
            &[
                ("security.protocol", "SASL_SSL".into()),
                ("ssl.ca.location", ca.clone()),
                ("sasl.mechanism", mechanism.into()),
                ("sasl.username", "alice".into()),
            ],
        )
    };
    // The password apart from the properties, as EXPRESSWAY_KAFKA__SASL_PASSWORD gives it.
    let sasl =
        |mechanism: &str, password: &str| KafkaConfig { sasl_password: Some(password.into()), ..sasl_as(mechanism) };
    round_trip(&sasl("SCRAM-SHA-512", "alice-secret-1"), "over-scram").await;
    round_trip(&sasl("PLAIN", "alice-secret-1"), "over-plain").await;

    // A wrong password: the broker says so, and the bus reports it instead of waiting.
    let wrong = sasl("SCRAM-SHA-512", "not-it");
    let started = std::time::Instant::now();
    let e = ensure_topics(&wrong, &[wrong.executions_topic.as_str()]).await.expect_err("wrong password");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}: {e:?}", started.elapsed());
    assert!(matches!(e, expressway_bus::BusError::Refused(_)) && !e.is_retryable(), "{e:?}");
    assert!(e.to_string().to_lowercase().contains("authentication"), "{e}");
    // Without the CA, the broker's certificate is not trusted.
    let untrusted = config("untrusted", kafka.ssl_bootstrap().expect("ssl"), &[("security.protocol", "SSL".into())]);
    let e = ensure_topics(&untrusted, &[untrusted.executions_topic.as_str()]).await.expect_err("untrusted");
    assert!(matches!(e, expressway_bus::BusError::Refused(_)), "{e:?}");
}
