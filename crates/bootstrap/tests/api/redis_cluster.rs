//! The queue on a local three-master Redis Cluster, started by the tests
//! themselves with `redis-server --cluster-enabled yes` and
//! `redis-cli --cluster create`.
//!
//! The queue scenarios (`e2e_queue!`) share one cluster on fixed ports
//! (`TEST_REDIS_CLUSTER_PORTS`, default 7101,7102,7103): started once per
//! test process if it is not already up, and left running for the next run
//! (`redis-cli -p 7101 shutdown nosave`, and so on, stops it). The outage
//! test below starts a private cluster on free ports and stops it at the end.
//! Without `redis-server` locally every cluster variant is skipped (a
//! failure under `CI=true`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::sync::OnceCell;

use crate::helpers::{e2e_on, eventually, missing, spawn_app, Backend};

e2e_on!([sqlite, postgres] a_stopped_cluster_node_answers_503_and_heals);

static SHARED: OnceCell<Option<String>> = OnceCell::const_new();

/// The shared cluster's `redis+cluster://` URL, starting it if needed.
pub async fn shared_cluster_url() -> Option<String> {
    SHARED
        .get_or_init(|| async {
            let ports: Vec<u16> = std::env::var("TEST_REDIS_CLUSTER_PORTS")
                .unwrap_or_else(|_| "7101,7102,7103".into())
                .split(',')
                .map(|p| p.trim().parse().expect("TEST_REDIS_CLUSTER_PORTS: ports"))
                .collect();
            tokio::task::spawn_blocking(move || start_shared(&ports))
                .await
                .unwrap()
        })
        .await
        .clone()
        .or_else(|| {
            missing("a Redis Cluster (redis-server and redis-cli)");
            None
        })
}

fn installed() -> bool {
    ["redis-server", "redis-cli"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn start_shared(ports: &[u16]) -> Option<String> {
    if !installed() {
        return None;
    }
    for &port in ports {
        if !answers(port) {
            node_command(port, true)
                .status()
                .expect("redis-server starts");
        }
    }
    wait_until(|| ports.iter().all(|&p| answers(p)), "cluster nodes listen");
    if ports.iter().any(|&p| holds_slots(p)) {
        // Nodes restarted from an earlier run's nodes.conf rejoin their
        // cluster: give them time to find each other rather than re-create it
        // (`create` refuses nodes that already hold slots).
        wait_until(|| ports.iter().all(|&p| cluster_ok(p)), "cluster_state:ok");
    } else {
        create(ports);
    }
    Some(url(ports))
}

fn url(ports: &[u16]) -> String {
    let hosts: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    format!("redis+cluster://{}", hosts.join(","))
}

fn node_dir(port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("concert-redis-cluster-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `redis-server` for one cluster node on `port`, its files in its own
/// directory (the `nodes.conf` a restarted node rejoins with), no persistence.
fn node_command(port: u16, daemonize: bool) -> Command {
    let mut command = Command::new("redis-server");
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--cluster-enabled", "yes"])
        .args(["--cluster-config-file", "nodes.conf"])
        .args(["--cluster-node-timeout", "2000"])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--daemonize", if daemonize { "yes" } else { "no" }])
        .arg("--dir")
        .arg(node_dir(port))
        .stdout(Stdio::null());
    command
}

fn cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn answers(port: u16) -> bool {
    cli(port, &["ping"]).is_some_and(|o| o.trim() == "PONG")
}

fn holds_slots(port: u16) -> bool {
    cli(port, &["cluster", "info"]).is_some_and(|o| !o.contains("cluster_slots_assigned:0"))
}

fn cluster_ok(port: u16) -> bool {
    cli(port, &["cluster", "info"]).is_some_and(|o| o.contains("cluster_state:ok"))
}

fn create(ports: &[u16]) {
    let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let status = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&nodes)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .status()
        .expect("redis-cli runs");
    assert!(status.success(), "redis-cli --cluster create {nodes:?}");
    wait_until(|| ports.iter().all(|&p| cluster_ok(p)), "cluster_state:ok");
}

fn wait_until(mut check: impl FnMut() -> bool, what: &str) {
    for _ in 0..300 {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for: {what}");
}

/// A three-master cluster on free ports, owned by one test.
struct PrivateCluster {
    ports: Vec<u16>,
    nodes: Vec<Option<Child>>,
}

impl PrivateCluster {
    fn start() -> Option<Self> {
        if !installed() {
            return None;
        }
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut cluster = Self {
            nodes: vec![None, None, None],
            ports,
        };
        for i in 0..3 {
            // A fresh node: no nodes.conf left from an earlier run on this port.
            let _ = std::fs::remove_file(node_dir(cluster.ports[i]).join("nodes.conf"));
            cluster.start_node(i);
        }
        create(&cluster.ports);
        Some(cluster)
    }

    fn start_node(&mut self, i: usize) {
        let port = self.ports[i];
        self.nodes[i] = Some(node_command(port, false).spawn().expect("redis-server"));
        wait_until(|| answers(port), "a cluster node listens");
    }

    fn stop_node(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The node serving `key`'s slot: the others answer MOVED.
    fn owner_of(&self, key: &str) -> usize {
        (0..3)
            .find(|&i| cli(self.ports[i], &["exists", key]).is_some_and(|o| !o.contains("MOVED")))
            .expect("some node owns the slot")
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        for i in 0..3 {
            self.stop_node(i);
        }
    }
}

fn free_port() -> u16 {
    // A cluster node also listens on port + 10000 (the bus): keep both free.
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// The cluster's node for one concert stops: that concert's queue answers
/// 503 quickly (and readiness says so); with the node back the queue heals
/// without a restart (its keys are gone, as after a single-node restart: the
/// queue is ephemeral, users join again).
async fn a_stopped_cluster_node_answers_503_and_heals(backend: Backend) {
    let Some(mut cluster) = tokio::task::spawn_blocking(PrivateCluster::start)
        .await
        .unwrap()
    else {
        missing("a Redis Cluster (redis-server and redis-cli)");
        return;
    };
    let backend = Backend {
        redis: Some(url(&cluster.ports)),
        ..backend
    };
    let app = spawn_app(backend).await;
    let (concert_id, schedules) = app.concert(&[(3600, 3, 1000)]).await;
    let user = app.user("patient").await;
    let token = app.admitted(&user, concert_id).await;
    assert!(
        token.starts_with(&format!("{concert_id}.")),
        "a token names its concert: {token}"
    );

    let owner = cluster.owner_of(&format!("x{{{concert_id}}}"));
    cluster.stop_node(owner);
    app.assert_queue_unavailable(
        &user,
        &token,
        concert_id,
        schedules[0],
        Duration::from_secs(12),
    )
    .await;

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start_node(owner);
        cluster
    })
    .await
    .unwrap();
    eventually("the queue heals without a restart", || async {
        app.join_queue(&user, concert_id).await.0 == StatusCode::CREATED
    })
    .await;
    assert_eq!(
        app.get("/health/ready").send().await.unwrap().status(),
        StatusCode::OK
    );
    drop(cluster);
}
