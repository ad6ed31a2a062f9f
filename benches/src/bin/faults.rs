//! The fault suite as a benchmark: every scenario of `expressway_benches::faults` on a fresh
//! three-node Kafka cluster, one row each, then one line a script can read:
//! `faults: N scenarios, lost L, duplicated D`. Usage:
//!   cargo build --release -p expressway-cli && \
//!   cargo run --release -p expressway-benches --bin faults -- [executions per scenario] [rate]

use expressway_benches::faults::{scenario, Fault};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10_000);
    let rate: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(500);
    let only = std::env::var("FAULTS_ONLY").ok();
    println!(
        "| scenario | accepted | completed | lost | duplicate outcomes | duplicate task calls (of calls) | sync answered / interrupted or refused / hung | recovery |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let (mut n, mut lost, mut duplicated) = (0, 0, 0);
    for fault in Fault::ALL {
        if only.as_deref().is_some_and(|o| !fault.name().contains(o)) {
            continue;
        }
        let (r, d) = scenario(fault, total, rate).await?;
        drop(d);
        n += 1;
        lost += r.lost;
        duplicated += r.duplicate_outcomes + r.duplicate_task_calls;
        println!(
            "| {} | {} | {} | {} | {} | {} ({}) | {} / {} / {} | {:.1} s |",
            fault.name(),
            r.accepted,
            r.completed,
            r.lost,
            r.duplicate_outcomes,
            r.duplicate_task_calls,
            r.task_calls,
            r.sync_answered,
            r.sync_interrupted,
            r.sync_hung,
            r.recovery.as_secs_f64()
        );
    }
    println!("faults: {n} scenarios, lost {lost}, duplicated {duplicated}");
    Ok(())
}
