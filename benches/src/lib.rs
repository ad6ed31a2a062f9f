//! Pieces the end-to-end benchmarks share: the service processes they start, connecting to
//! them, the `hello` workload, medians, and CPU time per process read from /proc.

pub mod faults;

use std::process::Child;
use std::time::Duration;

use anyhow::bail;
use expressway_proto::v1 as pb;
use tonic::transport::Channel;

/// The `hello` workload.
pub const HELLO: &str = r#"{"StartAt":"Hello","States":{"Hello":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('Hello, {}!', $.name)"},"End":true}}}"#;

/// A service process, killed and reaped on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `expressway` binary to run (`EXPRESSWAY_BIN`, else the release build, else the debug
/// build that `cargo test` makes).
pub fn expressway_bin() -> String {
    if let Ok(bin) = std::env::var("EXPRESSWAY_BIN") {
        return bin;
    }
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let release = target.join("release/expressway");
    if release.exists() {
        return release.display().to_string();
    }
    target.join("debug/expressway").display().to_string()
}

/// Connect to a gRPC server that is starting up (up to 30 s).
pub async fn connect(port: u16) -> anyhow::Result<Channel> {
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..600 {
        if let Ok(c) = Channel::from_shared(url.clone())?.connect().await {
            return Ok(c);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("nothing answers at {url}")
}

/// Create the `hello` state machine (EXPRESS) and return its ARN.
pub async fn hello_machine(ch: &Channel) -> anyhow::Result<String> {
    let mut sm = pb::state_machines_client::StateMachinesClient::new(ch.clone());
    Ok(sm
        .create_state_machine(pb::CreateStateMachineRequest {
            name: "hello".into(),
            definition: HELLO.into(),
            r#type: pb::StateMachineType::Express as i32,
            ..Default::default()
        })
        .await?
        .into_inner()
        .state_machine_arn)
}

/// The median of `xs` (sorted in place); 0 for none.
pub fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
}

/// CPU time (user + system) of a process and all its threads, in clock ticks, from
/// `/proc/{pid}/stat`.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are space-separated.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux).
fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU time of named processes over a measured window.
#[derive(Default)]
pub struct CpuMeter {
    procs: Vec<(String, u32)>,
}

impl CpuMeter {
    /// Watch `pid` under `name` (nothing when `None`).
    pub fn add(&mut self, name: &str, pid: Option<u32>) {
        if let Some(pid) = pid {
            self.procs.push((name.to_string(), pid));
        }
    }

    /// Every process's CPU ticks now.
    pub fn sample(&self) -> Vec<u64> {
        self.procs.iter().map(|(_, pid)| cpu_ticks(*pid).unwrap_or(0)).collect()
    }

    /// Microseconds of CPU per unit of work between two samples, by process.
    pub fn per_unit(&self, before: &[u64], after: &[u64], units: usize) -> std::collections::BTreeMap<String, f64> {
        let tick_us = 1e6 / ticks_per_second();
        self.procs
            .iter()
            .zip(before.iter().zip(after))
            .map(|((name, _), (b, a))| (name.clone(), a.saturating_sub(*b) as f64 * tick_us / units.max(1) as f64))
            .collect()
    }
}
