//! Three `conveyor serve` processes on one PostgreSQL database and one shared data directory,
//! driven with more than 2,000 concurrent operations spread across them — pushes, agents'
//! job reports, promotions racing on one release, approvals racing on one deployment, an
//! idempotent retry sent to another node. Then: positions unique and gapless, the chain
//! verifies on every node, every job ran once, every reaction happened once, one deployment ran
//! at a time per environment, and every node's dashboard and history agree.
//!
//! Needs `CONVEYOR_TEST_DATABASE_URL` (`.ci/run` sets it).

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use conveyor_system_tests::{ServerProcess, curl_with_headers, fresh_postgres_schema, mint_token};
use serde_json::{Value, json};

const OPERATIONS: u64 = 2_000;
const WORKERS: u64 = 12;
const PUSHES: u64 = 80;

struct Cluster {
    nodes: Vec<String>,
    admin: String,
    agent: String,
    approvers: [String; 2],
    auditor: String,
    /// Every call made.
    operations: AtomicU64,
    /// Calls that change something (POSTs): what the test counts towards [`OPERATIONS`].
    writes: AtomicU64,
    pushes: AtomicU64,
}

/// One HTTP call: status and JSON body (`Null` when the body is not JSON).
fn call(
    url: &str,
    method: &str,
    token: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let body = body.map(Value::to_string);
    let (status, text) =
        curl_with_headers(method, url, token, body.as_deref(), headers).expect("curl runs");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A small deterministic generator (xorshift), one per worker.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

impl Cluster {
    fn on(
        &self,
        node: usize,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.operations.fetch_add(1, Ordering::Relaxed);
        if method == "POST" {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        call(
            &format!("{}/api/v1{path}", self.nodes[node]),
            method,
            token,
            body,
            &[],
        )
    }

    fn push(&self, dice: &mut Dice) {
        let n = self.pushes.fetch_add(1, Ordering::Relaxed);
        if n >= PUSHES {
            return;
        }
        let body = json!({
            "repository": "https://git.example.com/shop.git",
            "ref": "refs/heads/main",
            "commit": format!("{n:040x}"),
        });
        let node = dice.roll(self.nodes.len() as u64) as usize;
        let (status, answer) = self.on(node, "POST", "/pushes", &self.admin, Some(&body));
        assert_eq!(status, 202, "push: {answer}");
    }

    /// Leases a job on some node and runs it to success, each report to a random node.
    /// Returns whether there was a job.
    fn work(&self, dice: &mut Dice, agent: &str) -> bool {
        let node = dice.roll(self.nodes.len() as u64) as usize;
        let (status, job) = self.on(
            node,
            "POST",
            "/agents/lease",
            &self.agent,
            Some(&json!({"agent": agent})),
        );
        if status == 204 {
            return false;
        }
        assert_eq!(status, 200, "lease: {job}");
        let id = job["job_id"].as_str().expect("a job id").to_owned();
        let lease = job["lease"]["lease_id"].clone();
        let mut report = |what: &str, mut body: Value| {
            body["lease_id"] = lease.clone();
            let node = dice.roll(self.nodes.len() as u64) as usize;
            let (status, answer) = self.on(
                node,
                "POST",
                &format!("/jobs/{id}/{what}"),
                &self.agent,
                Some(&body),
            );
            assert_eq!(status, 200, "{what} on node {node}: {answer}");
            answer
        };
        report("start", json!({}));
        for step in job["steps"].as_array().expect("steps") {
            report(
                "steps",
                json!({"name": step["name"], "outcome": "succeeded", "exit_code": 0}),
            );
        }
        let done = report("complete", json!({"outcome": "succeeded"}));
        assert_eq!(done["status"], "succeeded", "{done}");
        true
    }

    /// Promotes a release that succeeded in dev onward (staging, then production); several
    /// workers may pick the same release at once.
    fn promote(&self, dice: &mut Dice) {
        let node = dice.roll(self.nodes.len() as u64) as usize;
        let (_, page) = self.on(node, "GET", "/releases?limit=100", &self.admin, None);
        let releases: Vec<&Value> = page["items"]
            .as_array()
            .map(|items| items.iter().collect())
            .unwrap_or_default();
        if releases.is_empty() {
            return;
        }
        let release = releases[dice.roll(releases.len() as u64) as usize];
        let succeeded: Vec<&str> = release["succeeded_in"]
            .as_array()
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let target = if !succeeded.contains(&"dev") {
            return;
        } else if !succeeded.contains(&"staging") {
            "staging"
        } else if !succeeded.contains(&"production") {
            "production"
        } else {
            return;
        };
        let id = release["id"].as_str().expect("an id");
        let node = dice.roll(self.nodes.len() as u64) as usize;
        let (status, answer) = self.on(
            node,
            "POST",
            &format!("/releases/{id}/deployments"),
            &self.admin,
            Some(&json!({"environment": target})),
        );
        // 409: the read model of this node had not seen the previous stage succeed yet.
        assert!(status == 201 || status == 409, "promote: {status} {answer}");
    }

    /// Both approvers race to approve what waits; one of them wins each deployment.
    fn approve(&self, dice: &mut Dice) -> usize {
        let approver = &self.approvers[dice.roll(2) as usize];
        let node = dice.roll(self.nodes.len() as u64) as usize;
        let (_, pending) = self.on(node, "GET", "/approvals?pending=true", approver, None);
        let mut approved = 0;
        for deployment in pending["items"].as_array().into_iter().flatten() {
            let id = deployment["id"].as_str().expect("an id");
            let node = dice.roll(self.nodes.len() as u64) as usize;
            let (status, answer) = self.on(
                node,
                "POST",
                &format!("/deployments/{id}/approvals"),
                approver,
                Some(&json!({"decision": "approve", "comment": "ok"})),
            );
            // 409: the other approver got there first.
            assert!(status == 200 || status == 409, "approve: {status} {answer}");
            approved += usize::from(status == 200);
        }
        approved
    }

    fn unfinished(&self, node: usize) -> usize {
        let mut open = 0;
        for path in ["/builds?limit=1000", "/deployments?limit=1000"] {
            let (_, page) = self.on(node, "GET", path, &self.admin, None);
            open += page["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|item| {
                    !matches!(
                        item["status"].as_str(),
                        Some(
                            "succeeded"
                                | "failed"
                                | "cancelled"
                                | "rejected"
                                | "superseded"
                                | "expired"
                        )
                    )
                })
                .count();
        }
        open
    }

    /// Every event, from one node, in position order.
    fn events(&self, node: usize) -> Vec<Value> {
        let mut all: Vec<Value> = Vec::new();
        loop {
            let after = all.last().map_or(0, |e| e["position"].as_u64().unwrap());
            let (status, page) = self.on(
                node,
                "GET",
                &format!("/events?after={after}&limit=1000"),
                &self.auditor,
                None,
            );
            assert_eq!(status, 200, "{page}");
            let items = page["items"].as_array().expect("items").clone();
            if items.is_empty() {
                return all;
            }
            all.extend(items);
        }
    }
}

/// Starts three nodes on a fresh schema and one shared data directory, with environments dev,
/// staging and production (one approval) and the `shop` project.
fn start_cluster() -> (Vec<ServerProcess>, Arc<Cluster>, tempfile::TempDir) {
    let database = fresh_postgres_schema().expect("a PostgreSQL schema for the test");
    let data = tempfile::tempdir().unwrap();
    let admin = mint_token(data.path(), "ops", "admin read push release deploy:*").unwrap();
    let env = [
        ("CONVEYOR_NO_AGENT", "1"),
        ("CONVEYOR_DATABASE_URL", database.as_str()),
    ];
    // The first node creates the shared secrets key; the others then read it.
    let mut servers = vec![ServerProcess::start_with(data.path(), &env).unwrap()];
    for _ in 0..2 {
        servers.push(ServerProcess::start_with(data.path(), &env).unwrap());
    }
    let cluster = Arc::new(Cluster {
        nodes: servers.iter().map(|s| s.url.clone()).collect(),
        agent: mint_token(data.path(), "agents", "agent").unwrap(),
        approvers: [
            mint_token(data.path(), "alice", "read approve:production").unwrap(),
            mint_token(data.path(), "bob", "read approve:production").unwrap(),
        ],
        auditor: mint_token(data.path(), "auditor", "read audit").unwrap(),
        admin,
        operations: AtomicU64::new(0),
        writes: AtomicU64::new(0),
        pushes: AtomicU64::new(0),
    });

    for (node, environment, approvals) in [(0, "dev", 0), (1, "staging", 0), (2, "production", 1)] {
        let (status, answer) = cluster.on(
            node,
            "POST",
            "/environments",
            &cluster.admin,
            Some(
                &json!({"name": environment, "approval_policy": {"required_approvals": approvals}}),
            ),
        );
        assert_eq!(status, 201, "{answer}");
    }
    let project = json!({
        "name": "shop",
        "repository": "https://git.example.com/shop.git",
        "branch": "main",
        "build_steps": [{"name": "compile", "script": "make"}],
        "deployment_steps": [{"name": "roll-out", "script": "./deploy.sh"}],
        "lifecycle": [
            {"environment": "dev", "automatic": true},
            {"environment": "staging"},
            {"environment": "production"}
        ],
    });
    // Created on a node that did not create the environments: it must see them first.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, answer) = cluster.on(1, "POST", "/projects", &cluster.admin, Some(&project));
        if status == 201 {
            break;
        }
        assert!(Instant::now() < deadline, "creating the project: {answer}");
        std::thread::sleep(Duration::from_millis(50));
    }

    (servers, cluster, data)
}

#[test]
fn three_nodes_on_one_database_agree_under_two_thousand_concurrent_operations() {
    let (_servers, cluster, data) = start_cluster();
    // An idempotent retry sent to another node answers the first answer.
    let retry = json!({
        "repository": "https://git.example.com/shop.git",
        "ref": "refs/heads/main",
        "commit": "f".repeat(40),
    });
    let first = call(
        &format!("{}/api/v1/pushes", cluster.nodes[0]),
        "POST",
        &cluster.admin,
        Some(&retry),
        &[("Idempotency-Key", "cluster-retry-1")],
    );
    let second = call(
        &format!("{}/api/v1/pushes", cluster.nodes[2]),
        "POST",
        &cluster.admin,
        Some(&retry),
        &[("Idempotency-Key", "cluster-retry-1")],
    );
    assert_eq!(first.0, 202, "{}", first.1);
    assert_eq!(
        first, second,
        "the retry on another node answered differently"
    );

    // An artifact uploaded through one node is downloaded through another (the data directory
    // is shared).
    let content = b"built once, served by every node";
    let file = data.path().join("upload.bin");
    std::fs::write(&file, content).unwrap();
    let sha = String::from_utf8(
        Command::new("sha256sum")
            .arg(&file)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .split_whitespace()
    .next()
    .unwrap()
    .to_owned();
    let uploaded = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT"])
        .arg(format!("{}/api/v1/artifacts/{sha}", cluster.nodes[0]))
        .args(["-H", &format!("Authorization: Bearer {}", cluster.agent)])
        .args(["-H", "Content-Type: application/octet-stream"])
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&uploaded.stdout).starts_with('2'),
        "upload: {}",
        String::from_utf8_lossy(&uploaded.stdout)
    );
    let downloaded = Command::new("curl")
        .args(["-sS", "--fail"])
        .arg(format!("{}/api/v1/artifacts/{sha}", cluster.nodes[2]))
        .args(["-H", &format!("Authorization: Bearer {}", cluster.admin)])
        .output()
        .unwrap();
    assert_eq!(downloaded.stdout, content);

    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let cluster = cluster.clone();
            std::thread::spawn(move || {
                let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ ((worker + 1) * 0x2545_F491));
                let agent = format!("agent-{worker}");
                while cluster.writes.load(Ordering::Relaxed) < OPERATIONS {
                    match dice.roll(100) {
                        0..=14 => cluster.push(&mut dice),
                        15..=34 => cluster.promote(&mut dice),
                        35..=44 => {
                            cluster.approve(&mut dice);
                        }
                        _ => {
                            cluster.work(&mut dice, &agent);
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a worker panicked");
    }
    let driven = cluster.writes.load(Ordering::Relaxed);
    assert!(driven >= OPERATIONS, "{driven} writes");

    // Drain: run what is queued, approve what waits, until nothing is left.
    let mut dice = Dice(7);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        while cluster.work(&mut dice, "drainer") {}
        cluster.approve(&mut dice);
        if cluster.unfinished(0) == 0 && !cluster.work(&mut dice, "drainer") {
            break;
        }
        assert!(Instant::now() < deadline, "the cluster did not drain");
    }

    // Every node catches up to the same log.
    let head_of = |node: usize| {
        cluster
            .events(node)
            .last()
            .map_or(0, |e| e["position"].as_u64().unwrap())
    };
    let events = cluster.events(0);
    let head = events.len() as u64;
    let positions: Vec<u64> = events
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(
        positions,
        (1..=head).collect::<Vec<_>>(),
        "positions unique and gapless"
    );
    for node in 0..3 {
        assert_eq!(head_of(node), head);
        let (status, report) = cluster.on(node, "GET", "/events/verify", &cluster.auditor, None);
        assert_eq!(status, 200);
        assert_eq!(report["first_bad_position"], Value::Null, "{report}");
        assert_eq!(report["checked"], head, "{report}");
    }

    // Every job ran once; every reaction happened once.
    let mut per_stream: HashMap<&str, BTreeMap<&str, usize>> = HashMap::new();
    for event in &events {
        *per_stream
            .entry(event["stream"].as_str().unwrap())
            .or_default()
            .entry(event["type"].as_str().unwrap())
            .or_default() += 1;
    }
    let mut builds = 0;
    let mut deployments = 0;
    for (stream, types) in &per_stream {
        if stream.starts_with("build-") {
            builds += 1;
            for ty in ["BuildQueued", "JobLeased", "BuildStarted", "BuildSucceeded"] {
                assert_eq!(types.get(ty), Some(&1), "{stream}: {types:?}");
            }
        }
        if stream.starts_with("deployment-") && types.contains_key("DeploymentStarted") {
            deployments += 1;
            for ty in ["JobLeased", "DeploymentStarted", "DeploymentSucceeded"] {
                assert_eq!(types.get(ty), Some(&1), "{stream}: {types:?}");
            }
        }
    }
    let count = |ty: &str| events.iter().filter(|e| e["type"] == ty).count();
    let pushes = count("PushReceived");
    assert_eq!(builds, pushes, "one build per push");
    assert_eq!(count("ReleaseCreated"), builds, "one release per build");
    let automatic_dev = events
        .iter()
        .filter(|e| e["type"] == "DeploymentRequested" && e["actor"] == "system")
        .count();
    assert_eq!(
        automatic_dev, builds,
        "one automatic dev deployment per release"
    );
    assert!(deployments > builds, "some releases were promoted");

    // One deployment at a time per project and environment: a lease is granted only while no
    // other deployment there holds one.
    let mut environment_of: HashMap<&str, String> = HashMap::new();
    let mut holding: HashMap<String, &str> = HashMap::new();
    for event in &events {
        let stream = event["stream"].as_str().unwrap();
        match event["type"].as_str().unwrap() {
            "DeploymentRequested" => {
                let payload = &event["payload"];
                environment_of.insert(
                    stream,
                    format!("{}/{}", payload["project"], payload["environment"]),
                );
            }
            "JobLeased" if stream.starts_with("deployment-") => {
                let place = environment_of[stream].clone();
                if let Some(other) = holding.insert(place.clone(), stream) {
                    panic!("{stream} was leased in {place} while {other} held it");
                }
            }
            "DeploymentSucceeded" | "DeploymentFailed" | "DeploymentCancelled" => {
                holding.retain(|_, holder| *holder != stream);
            }
            _ => {}
        }
    }

    // Every node's dashboard and history say the same.
    let views = |node: usize| {
        let mut views = Vec::new();
        for path in [
            "/dashboard",
            "/environments/dev/history?limit=1000",
            "/environments/staging/history?limit=1000",
            "/environments/production/history?limit=1000",
        ] {
            views.push(cluster.on(node, "GET", path, &cluster.admin, None).1);
        }
        views
    };
    let caught_up = |node: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let views = views(node);
            if views[0]["position"] == head {
                return views;
            }
            assert!(
                Instant::now() < deadline,
                "node {node} did not catch up: {}",
                views[0]
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let reference = caught_up(0);
    for node in 1..3 {
        assert_eq!(
            caught_up(node),
            reference,
            "node {node} disagrees with node 0"
        );
    }
    println!(
        "{driven} writes ({} calls in all) on 3 nodes: {head} events, {builds} builds, \
         {deployments} deployments",
        cluster.operations.load(Ordering::Relaxed)
    );
}

/// The node that leads dies with `kill -9`: another takes the lock and the workflow goes on,
/// every reaction still happening exactly once.
#[test]
fn the_workflow_goes_on_when_the_leading_node_dies() {
    let (mut servers, cluster, _data) = start_cluster();
    let mut dice = Dice(11);
    let push = |node: usize, n: u64| {
        let body = json!({
            "repository": "https://git.example.com/shop.git",
            "ref": "refs/heads/main",
            "commit": format!("{:040x}", 0xdead_0000 + n),
        });
        let (status, answer) = cluster.on(node, "POST", "/pushes", &cluster.admin, Some(&body));
        assert_eq!(status, 202, "{answer}");
        answer["builds"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(push(0, 1), 1);
    assert!(cluster.work(&mut dice, "agent-1"));
    // Find the leader by its metric and kill it.
    let leads = |url: &str| {
        let output = Command::new("curl")
            .args(["-sS", &format!("{url}/metrics")])
            .output()
            .expect("curl runs");
        String::from_utf8_lossy(&output.stdout).contains("\nconveyor_leader 1")
    };
    let leaders: Vec<usize> = (0..3).filter(|n| leads(&cluster.nodes[*n])).collect();
    assert_eq!(leaders.len(), 1, "exactly one node leads");
    let leader = leaders[0];
    servers.remove(leader).kill_hard().unwrap();
    let mut nodes = cluster.nodes.clone();
    nodes.remove(leader);
    let survivors = Cluster {
        nodes,
        admin: cluster.admin.clone(),
        agent: cluster.agent.clone(),
        approvers: cluster.approvers.clone(),
        auditor: cluster.auditor.clone(),
        operations: AtomicU64::new(0),
        writes: AtomicU64::new(0),
        pushes: AtomicU64::new(0),
    };
    let push_to_survivor = |n: u64| {
        let body = json!({
            "repository": "https://git.example.com/shop.git",
            "ref": "refs/heads/main",
            "commit": format!("{:040x}", 0xbeef_0000 + n),
        });
        let (status, answer) = survivors.on(0, "POST", "/pushes", &survivors.admin, Some(&body));
        assert_eq!(status, 202, "{answer}");
        answer["builds"].as_array().map_or(0, Vec::len)
    };
    // A surviving node took the lead: the push is turned into a build by it.
    assert_eq!(
        push_to_survivor(1),
        1,
        "no node reacted after the leader died"
    );
    let mut dice = Dice(13);
    let deadline = Instant::now() + Duration::from_secs(60);
    while survivors.unfinished(0) > 0 {
        survivors.work(&mut dice, "agent-2");
        assert!(
            Instant::now() < deadline,
            "the survivors did not finish the work"
        );
    }
    let events = survivors.events(0);
    let count = |ty: &str| events.iter().filter(|e| e["type"] == ty).count();
    assert_eq!(count("PushReceived"), 2);
    assert_eq!(count("BuildQueued"), 2, "one build per push");
    assert_eq!(count("ReleaseCreated"), 2, "one release per build");
    assert_eq!(
        count("DeploymentSucceeded"),
        2,
        "each release deployed to dev once"
    );
    for node in 0..2 {
        let (_, report) = survivors.on(node, "GET", "/events/verify", &survivors.auditor, None);
        assert_eq!(report["first_bad_position"], Value::Null, "{report}");
        assert_eq!(report["checked"], events.len());
    }
}
