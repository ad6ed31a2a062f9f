//! A real Redis Cluster for tests: three primaries and three replicas, each a
//! `redis-server --cluster-enabled yes` on free loopback ports (client and cluster bus), joined
//! by `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`. The node timeout is
//! short (2 s), so a primary that dies is replaced by its replica within a few seconds.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{free_port, fresh_dir, Server};

/// How long a node may be unreachable before the others fail it over.
pub const NODE_TIMEOUT_MS: u64 = 2000;

/// The nodes of a running cluster, stopped (and their directories removed) when dropped.
pub struct RedisCluster {
    nodes: Vec<Server>,
    dir: std::path::PathBuf,
}

/// One node as `CLUSTER NODES` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub id: String,
    pub port: u16,
    pub primary: bool,
    /// Not failed, and connected.
    pub healthy: bool,
}

fn cli(port: u16, args: &[&str]) -> Result<String, String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run redis-cli: {e}"))?;
    if !out.status.success() {
        return Err(format!("redis-cli {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl RedisCluster {
    /// Start six nodes, create the cluster and wait until every slot is served and every
    /// replica is in sync with its primary. Tried up to three times: a free port found for a
    /// node can be taken by another test's server before the node binds it.
    pub fn start() -> Result<RedisCluster, String> {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match RedisCluster::start_once() {
                Ok(cluster) => return Ok(cluster),
                Err(e) => failures.push(e),
            }
        }
        Err(failures.join("; then: "))
    }

    fn start_once() -> Result<RedisCluster, String> {
        let dir = fresh_dir("redis-cluster");
        let mut nodes = Vec::new();
        for i in 0..6 {
            let port = free_port();
            let node_dir = dir.join(format!("node-{i}"));
            std::fs::create_dir_all(&node_dir).map_err(|e| format!("node dir: {e}"))?;
            let mut cmd = Command::new("redis-server");
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
            cmd.args(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]);
            cmd.args(["--cluster-port", &free_port().to_string()]);
            cmd.args(["--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()]);
            let mut server =
                Server::unstarted(port, node_dir, &format!("redis cluster node {}", i + 1)).orphan_dir(dir.clone());
            server.spawn(cmd)?;
            nodes.push(server);
        }
        for n in &nodes {
            n.wait_for_port(Duration::from_secs(20))?;
        }
        let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        args.extend(["--cluster-replicas", "1", "--cluster-yes"]);
        cli(nodes[0].port, &args)?;
        let cluster = RedisCluster { nodes, dir };
        cluster.wait_ok(Duration::from_secs(30))?;
        cluster.wait_replicas_online(Duration::from_secs(30))?;
        Ok(cluster)
    }

    /// Wait until every primary counts its replica as online. A replica's link is up before
    /// its primary has finished sending it the first snapshot, and until then `WAIT` does not
    /// count it (a test's first waited write would see no replica).
    fn wait_replicas_online(&self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            let mut behind = Vec::new();
            for port in self.primaries()? {
                let repl = cli(port, &["info", "replication"])?;
                if !repl.lines().any(|l| l.starts_with("slave") && l.contains("state=online")) {
                    behind.push(port);
                }
            }
            if behind.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("primaries {behind:?} have no online replica after {within:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The directory that holds the nodes' directories.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// `redis://` URLs of every node started (the client needs only one that answers).
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| format!("redis://127.0.0.1:{}", n.port)).collect()
    }

    /// The same, comma-separated (for a flag or an environment variable).
    pub fn urls_joined(&self) -> String {
        self.urls().join(",")
    }

    /// A node that is running, for looking at the cluster.
    fn live_port(&self) -> Result<u16, String> {
        self.nodes.iter().find(|n| n.is_running()).map(|n| n.port).ok_or_else(|| "no node runs".to_string())
    }

    /// The cluster's nodes as a live node sees them.
    pub fn topology(&self) -> Result<Vec<NodeInfo>, String> {
        let text = cli(self.live_port()?, &["cluster", "nodes"])?;
        Ok(text
            .lines()
            .filter_map(|line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                let port = f.get(1)?.split(['@', ':']).nth(1)?.parse().ok()?;
                let flags = f.get(2)?;
                let healthy = !flags.contains("fail") && f.get(7) == Some(&"connected");
                Some(NodeInfo { id: f[0].to_string(), port, primary: flags.contains("master"), healthy })
            })
            .collect())
    }

    /// The ports of the healthy primaries.
    pub fn primaries(&self) -> Result<Vec<u16>, String> {
        Ok(self.topology()?.into_iter().filter(|n| n.primary && n.healthy).map(|n| n.port).collect())
    }

    /// The port of the primary that serves `key` now.
    pub fn primary_for(&self, key: &str) -> Result<u16, String> {
        let port = self.live_port()?;
        let slot: u16 = cli(port, &["cluster", "keyslot", key])?.trim().parse().map_err(|e| format!("keyslot: {e}"))?;
        // `CLUSTER NODES` lists each primary's slot ranges after its eighth field.
        let nodes = cli(port, &["cluster", "nodes"])?;
        for line in nodes.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 9 || !f[2].contains("master") || f[2].contains("fail") {
                continue;
            }
            for range in &f[8..] {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                if let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) {
                    if (lo..=hi).contains(&slot) {
                        return f[1].split(['@', ':']).nth(1).and_then(|p| p.parse().ok()).ok_or("bad address".into());
                    }
                }
            }
        }
        Err(format!("no healthy primary serves slot {slot}"))
    }

    /// SIGKILL the node on `port` (a primary dying without a chance to replicate further).
    pub fn kill(&mut self, port: u16) {
        if let Some(n) = self.nodes.iter_mut().find(|n| n.port == port) {
            n.kill();
        }
    }

    /// Start the node on `port` again (it rejoins as a replica if it was failed over).
    pub fn restart(&mut self, port: u16) -> Result<(), String> {
        match self.nodes.iter_mut().find(|n| n.port == port) {
            Some(n) => n.restart(),
            None => Err(format!("no node on port {port}")),
        }
    }

    /// Wait until every running node says the cluster is ok, three healthy primaries serve
    /// all 16384 slots, and every running replica's link to its primary is up.
    pub fn wait_ok(&self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let mut last = String::new();
        while Instant::now() < deadline {
            match self.check() {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("the redis cluster is not ok after {within:?}: {last}"))
    }

    fn check(&self) -> Result<(), String> {
        for n in self.nodes.iter().filter(|n| n.is_running()) {
            let info = cli(n.port, &["cluster", "info"])?;
            if !info.contains("cluster_state:ok") || !info.contains("cluster_slots_ok:16384") {
                return Err(format!("node {}: {}", n.port, info.lines().take(3).collect::<Vec<_>>().join(" ")));
            }
            let repl = cli(n.port, &["info", "replication"])?;
            if repl.contains("role:slave") && !repl.contains("master_link_status:up") {
                return Err(format!("replica {} not in sync yet", n.port));
            }
        }
        let primaries = self.primaries()?;
        if primaries.len() != 3 {
            return Err(format!("{} healthy primaries", primaries.len()));
        }
        Ok(())
    }

    /// Keep the nodes' directories after the cluster stops (to read their logs).
    pub fn keep_dir(&mut self) {
        for n in &mut self.nodes {
            n.keep_dir();
        }
    }

    /// The log of the node on `port`.
    pub fn log(&self, port: u16) -> String {
        self.nodes.iter().find(|n| n.port == port).map(|n| n.log()).unwrap_or_default()
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
