//! The test kit's brokers: a single node serves produce and consume; a three-node cluster
//! keeps serving acknowledged writes with one node killed, and takes it back.

use std::time::Duration;

use expressway_testkit::kafka::Kafka;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message};

async fn topic(bootstrap: &str, name: &str, rf: i32) {
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", bootstrap).create().expect("admin");
    let r = admin
        .create_topics(&[NewTopic::new(name, 3, TopicReplication::Fixed(rf))], &AdminOptions::new())
        .await
        .expect("create topics");
    assert!(r.iter().all(|r| r.is_ok()), "{r:?}");
}

async fn produce(bootstrap: &str, topic: &str, range: std::ops::Range<usize>) {
    let p: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()
        .expect("producer");
    for i in range {
        let v = i.to_string();
        p.send(FutureRecord::to(topic).key(&v).payload(&v), Duration::from_secs(60)).await.expect("produce");
    }
}

async fn consume(bootstrap: &str, topic: &str, group: &str, n: usize) -> Vec<usize> {
    let c: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    c.subscribe(&[topic]).expect("subscribe");
    let mut got = Vec::new();
    while got.len() < n {
        // A node that is down shows up as transient errors; the client goes on by itself.
        match tokio::time::timeout(Duration::from_secs(60), c.recv()).await.expect("a record in time") {
            Ok(m) => got.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).parse().expect("number")),
            Err(e) => eprintln!("transient: {e}"),
        }
    }
    got.sort();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_serves_produce_and_consume() {
    let kafka = expressway_testkit::kafka::shared().expect("kafka");
    topic(&kafka.bootstrap(), "kit-single", 1).await;
    produce(&kafka.bootstrap(), "kit-single", 0..100).await;
    assert_eq!(consume(&kafka.bootstrap(), "kit-single", "g1", 100).await, (0..100).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_cluster_survives_a_killed_node() {
    let mut kafka = Kafka::cluster().expect("cluster");
    assert_eq!(kafka.nodes(), 3);
    let b = kafka.bootstrap();
    topic(&b, "kit-replicated", 3).await;
    produce(&b, "kit-replicated", 0..50).await;
    kafka.kill(0);
    // acks=all with min.insync.replicas=2: writes go on with two of three.
    produce(&b, "kit-replicated", 50..100).await;
    assert_eq!(consume(&b, "kit-replicated", "g2", 100).await, (0..100).collect::<Vec<_>>());
    kafka.restart(0).expect("restart");
    produce(&b, "kit-replicated", 100..120).await;
    assert_eq!(consume(&b, "kit-replicated", "g3", 120).await, (0..120).collect::<Vec<_>>());
}
