//! Pieces the end-to-end benchmarks share: the service processes they start, connecting to
//! them, and the `hello` workload.

use std::process::Child;
use std::time::Duration;

use anyhow::bail;
use expressway_proto::v1 as pb;
use tonic::transport::Channel;

/// The `hello` workload of `../shared/workloads`.
pub const HELLO: &str = r#"{"StartAt":"Hello","States":{"Hello":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('Hello, {}!', $.name)"},"End":true}}}"#;

/// A service process, killed and reaped on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `expressway` binary to benchmark (`EXPRESSWAY_BIN`, else the release build).
pub fn expressway_bin() -> String {
    std::env::var("EXPRESSWAY_BIN").unwrap_or_else(|_| "target/release/expressway".into())
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
