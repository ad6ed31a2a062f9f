//! The engine's metrics, named as AWS names Step Functions' CloudWatch metrics (namespace
//! AWS/States) where AWS has a name, labelled by state machine ARN, plus the engine's own;
//! recorded through the `metrics` facade and rendered in Prometheus text format by the
//! process's `/metrics`.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const EXECUTIONS_STARTED: &str = "ExecutionsStarted";
pub const EXECUTIONS_SUCCEEDED: &str = "ExecutionsSucceeded";
pub const EXECUTIONS_FAILED: &str = "ExecutionsFailed";
pub const EXECUTIONS_ABORTED: &str = "ExecutionsAborted";
pub const EXECUTIONS_TIMED_OUT: &str = "ExecutionsTimedOut";
pub const EXECUTION_THROTTLED: &str = "ExecutionThrottled";
/// Milliseconds from start to end, as AWS reports it.
pub const EXECUTION_TIME: &str = "ExecutionTime";
pub const TASK_SCHEDULED: &str = "TaskScheduled";
pub const TASK_SUCCEEDED: &str = "TaskSucceeded";
pub const TASK_FAILED: &str = "TaskFailed";
/// Milliseconds a task call took.
pub const TASK_TIME: &str = "TaskTime";
/// Executions running on this process now.
pub const EXECUTIONS_IN_FLIGHT: &str = "expressway_executions_in_flight";
/// Synchronous calls waiting for their execution's outcome on this process.
pub const SYNC_CALLS_WAITING: &str = "expressway_sync_calls_waiting";
/// Results subscribers connected to this process.
pub const SUBSCRIBERS: &str = "expressway_subscribers";
/// Times a subscriber fell behind the retained results and was told where to resume.
pub const FELL_BEHIND: &str = "expressway_subscribers_fell_behind";
/// Kafka offset commits the broker confirmed (one per partition a commit moved), per topic.
pub const OFFSETS_COMMITTED: &str = "expressway_kafka_offsets_committed";
/// The last offset this member committed, per topic and partition: the records before it are
/// done (on a topic that starts at 0, their number).
pub const COMMITTED_OFFSET: &str = "expressway_kafka_committed_offset";
/// Milliseconds from handing a record to the Kafka producer to its acknowledgement, per topic.
pub const KAFKA_PRODUCE_TIME: &str = "expressway_kafka_produce_ms";
/// Milliseconds a Redis command (or pipeline) took, per command.
pub const REDIS_COMMAND_TIME: &str = "expressway_redis_command_ms";
/// Records not yet consumed, per topic and partition this member owns.
pub const CONSUMER_LAG: &str = "expressway_kafka_consumer_lag";
/// Positions of the sharded results stream this process closed with a tombstone (their
/// writer stopped between taking them and writing them).
pub const RESULTS_POSITIONS_CLOSED: &str = "expressway_results_positions_closed";
/// Redis writes whose `WAIT` saw fewer replicas acknowledge them than `redis.wait_replicas`
/// (retried as failed writes).
pub const REDIS_WAIT_SHORT: &str = "expressway_redis_wait_short";

/// The label naming the state machine.
pub const STATE_MACHINE_ARN: &str = "StateMachineArn";
/// The label naming a task's integration (its resource ARN).
pub const RESOURCE_ARN: &str = "ResourceArn";

/// Millisecond buckets for the time histograms: 1 ms to 5 minutes (Express's longest run).
const TIME_BUCKETS_MS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0, 60000.0, 300000.0,
];

/// Millisecond buckets for the dependencies' operation histograms: 0.1 ms to 5 s.
const OPERATION_BUCKETS_MS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's registry: installed on first use, so every component records into it.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("Time".into()), TIME_BUCKETS_MS)
            .expect("the bucket list is not empty")
            .set_buckets_for_metric(Matcher::Suffix("_ms".into()), OPERATION_BUCKETS_MS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed already (a test process); ours still renders.
        let _ = metrics::set_global_recorder(recorder);
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            })
            .ok();
        handle
    })
}

/// The metrics in Prometheus text format.
pub fn render() -> String {
    handle().render()
}

/// Record an execution's end: its status counter and its duration.
pub fn execution_ended(state_machine_arn: &str, status: &'static str, millis: f64) {
    handle();
    let name = match status {
        "SUCCEEDED" => EXECUTIONS_SUCCEEDED,
        "FAILED" => EXECUTIONS_FAILED,
        "ABORTED" => EXECUTIONS_ABORTED,
        "TIMED_OUT" => EXECUTIONS_TIMED_OUT,
        _ => return,
    };
    let arn = state_machine_arn.to_string();
    metrics::counter!(name, STATE_MACHINE_ARN => arn.clone()).increment(1);
    metrics::histogram!(EXECUTION_TIME, STATE_MACHINE_ARN => arn).record(millis);
}

/// Record an accepted start.
pub fn execution_started(state_machine_arn: &str) {
    handle();
    metrics::counter!(EXECUTIONS_STARTED, STATE_MACHINE_ARN => state_machine_arn.to_string()).increment(1);
}

/// Record a start refused for lack of room.
pub fn execution_throttled(state_machine_arn: &str) {
    handle();
    metrics::counter!(EXECUTION_THROTTLED, STATE_MACHINE_ARN => state_machine_arn.to_string()).increment(1);
}

/// Record a task call going out to `resource`.
pub fn task_scheduled(resource: &str) {
    handle();
    metrics::counter!(TASK_SCHEDULED, RESOURCE_ARN => resource.to_string()).increment(1);
}

/// Record a task call's end and how long it took.
pub fn task_ended(resource: &str, succeeded: bool, millis: f64) {
    handle();
    let name = if succeeded { TASK_SUCCEEDED } else { TASK_FAILED };
    metrics::counter!(name, RESOURCE_ARN => resource.to_string()).increment(1);
    metrics::histogram!(TASK_TIME, RESOURCE_ARN => resource.to_string()).record(millis);
}

/// A partition's consumer lag, as the Kafka client's statistics report it.
pub fn consumer_lag(topic: &str, partition: i32, lag: i64) {
    handle();
    metrics::gauge!(CONSUMER_LAG, "topic" => topic.to_string(), "partition" => partition.to_string()).set(lag as f64);
}

/// A record the broker acknowledged (or refused) after `took`.
pub fn kafka_produced(topic: &str, took: Duration) {
    handle();
    metrics::histogram!(KAFKA_PRODUCE_TIME, "topic" => topic.to_string()).record(took.as_secs_f64() * 1000.0);
}

/// A Redis command (`GET`, `EVALSHA`…, or `PIPELINE`) answered after `took`.
pub fn redis_command(command: String, took: Duration) {
    handle();
    metrics::histogram!(REDIS_COMMAND_TIME, "command" => command).record(took.as_secs_f64() * 1000.0);
}

/// An offset commit the broker confirmed, for one partition of `topic`: everything before
/// `offset` is done.
pub fn offset_committed(topic: &str, partition: i32, offset: i64) {
    handle();
    metrics::counter!(OFFSETS_COMMITTED, "topic" => topic.to_string()).increment(1);
    metrics::gauge!(COMMITTED_OFFSET, "topic" => topic.to_string(), "partition" => partition.to_string())
        .set(offset as f64);
}

/// One more of `gauge` while the returned guard lives (sync calls waiting, subscribers).
pub fn while_alive(gauge: &'static str) -> Gauge {
    handle();
    metrics::gauge!(gauge).increment(1.0);
    Gauge(gauge)
}

/// See [`while_alive`].
pub struct Gauge(&'static str);

impl Drop for Gauge {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}

/// Count one occurrence of `counter`.
pub fn count(counter: &'static str) {
    handle();
    metrics::counter!(counter).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_render_with_aws_names_labelled_by_arn() {
        let arn = "arn:aws:states:us-east-1:000000000000:stateMachine:metrics-test";
        execution_started(arn);
        execution_started(arn);
        execution_ended(arn, "SUCCEEDED", 12.0);
        execution_ended(arn, "FAILED", 3000.0);
        execution_throttled(arn);
        let text = render();
        let line = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("{name}{{{STATE_MACHINE_ARN}=\"{arn}\"}}")))
                .map(|l| l.rsplit(' ').next().unwrap_or_default().to_string())
        };
        assert_eq!(line(EXECUTIONS_STARTED).as_deref(), Some("2"), "{text}");
        assert_eq!(line(EXECUTIONS_SUCCEEDED).as_deref(), Some("1"));
        assert_eq!(line(EXECUTIONS_FAILED).as_deref(), Some("1"));
        assert_eq!(line(EXECUTION_THROTTLED).as_deref(), Some("1"));
        assert_eq!(line(&format!("{EXECUTION_TIME}_count")).as_deref(), Some("2"));
        // 12 ms falls in the 25 ms bucket, 3 s beyond the 2.5 s one.
        let bucket = |le: &str| {
            text.lines()
                .find(|l| {
                    l.starts_with(&format!("{EXECUTION_TIME}_bucket{{{STATE_MACHINE_ARN}=\"{arn}\",le=\"{le}\"}}"))
                })
                .map(|l| l.rsplit(' ').next().unwrap_or_default().to_string())
        };
        assert_eq!(bucket("10").as_deref(), Some("0"), "{text}");
        assert_eq!(bucket("25").as_deref(), Some("1"));
        assert_eq!(bucket("2500").as_deref(), Some("1"));
        assert_eq!(bucket("5000").as_deref(), Some("2"));
    }
}
