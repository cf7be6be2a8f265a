//! The `conveyor` binary's client commands against a live server. The auditor's: `events
//! export` writes the log as JSON lines, `audit verify --file` checks it offline (and finds a
//! changed payload or a missing record), `audit verify` asks the server. The release
//! manager's and the bot's: push, builds, releases, promote, approve, reject, rollback, events
//! and the dashboard, with `--output json`, a client config file, and a write retried with its
//! `Idempotency-Key` after its answer was lost. Exit codes tell a broken chain (1), a usage
//! error (2), a refusal (3) and an unreachable server (4) apart.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    process::{Command, Output},
    time::Duration,
};

use conveyor_system_tests::{
    ServerProcess, conveyor_binary, create_environments, curl, eventually, git_repository,
    mint_token,
};

/// How long a poll waits before the test fails (builds and deployments run real processes).
const DEADLINE: Duration = Duration::from_secs(60);

fn conveyor(args: &[&str], token: &str) -> Output {
    Command::new(conveyor_binary().unwrap())
        .args(args)
        .env("CONVEYOR_TOKEN", token)
        .env("CONVEYOR_LOG", "warn")
        .output()
        .expect("conveyor runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn events_export_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let admin = mint_token(dir.path(), "ops", "admin read").unwrap();
    let auditor = mint_token(dir.path(), "auditor", "read audit").unwrap();
    let server = ServerProcess::start(dir.path()).unwrap();
    for name in ["dev", "staging", "production"] {
        let body = format!(r#"{{"name":"{name}"}}"#);
        let (status, answer) = curl(
            "POST",
            &format!("{}/api/v1/environments", server.url),
            &admin,
            Some(&body),
        )
        .unwrap();
        assert_eq!(status, 201, "{answer}");
    }

    let exported = conveyor(&["events", "export", "--server", &server.url], &auditor);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let export = text(&exported.stdout);
    assert_eq!(export.lines().count(), 3);
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let path = file.to_str().unwrap();

    let verified = conveyor(&["audit", "verify", "--file", path], "");
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
    assert!(text(&verified.stdout).contains("intact: 3 records"));
    let json = conveyor(&["audit", "verify", "--file", path, "--output", "json"], "");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (report["intact"].clone(), report["checked"].clone()),
        (true.into(), 3.into())
    );

    // A changed payload and a missing record are found, naming the position.
    let changed = export.replacen("\"name\":\"staging\"", "\"name\":\"stagingX\"", 1);
    assert_ne!(changed, export, "the export holds the payload");
    std::fs::write(&file, &changed).unwrap();
    let broken = conveyor(&["audit", "verify", "--file", path], "");
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        text(&broken.stderr).contains("position 2"),
        "{}",
        text(&broken.stderr)
    );
    let missing: Vec<&str> = export
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&file, missing.join("\n")).unwrap();
    let gap = conveyor(&["audit", "verify", "--file", path], "");
    assert_eq!(gap.status.code(), Some(1));
    assert!(
        text(&gap.stderr).contains("position 2 is missing"),
        "{}",
        text(&gap.stderr)
    );

    // On the server; refused without the audit scope; unreachable; a usage error.
    let online = conveyor(&["audit", "verify", "--server", &server.url], &auditor);
    assert_eq!(online.status.code(), Some(0), "{}", text(&online.stderr));
    assert!(text(&online.stdout).contains("intact: 3 records"));
    let refused = conveyor(&["audit", "verify", "--server", &server.url], &admin);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    let unreachable = conveyor(
        &["audit", "verify", "--server", "http://127.0.0.1:1"],
        &auditor,
    );
    assert_eq!(
        unreachable.status.code(),
        Some(4),
        "{}",
        text(&unreachable.stderr)
    );
    let usage = conveyor(&["audit", "verify", "--output", "yaml"], &auditor);
    assert_eq!(usage.status.code(), Some(2));
}

/// Runs `conveyor` with `env` (and no token unless given there); answers exit code, stdout
/// and stderr.
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = Command::new(conveyor_binary().unwrap())
        .args(args)
        .env_remove("CONVEYOR_TOKEN")
        .env_remove("CONVEYOR_SERVER")
        .env_remove("CONVEYOR_CLIENT_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("CONVEYOR_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("conveyor runs");
    (
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr),
    )
}

/// A client command as `who` against `server` that must succeed; answers its JSON output
/// (one document per line).
fn json_lines(server: &str, who: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--server", server, "--output", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all, &[("CONVEYOR_TOKEN", who)]);
    assert_eq!(code, Some(0), "conveyor {args:?}: {err}");
    out.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn json(server: &str, who: &str, args: &[&str]) -> serde_json::Value {
    let mut lines = json_lines(server, who, args);
    assert_eq!(lines.len(), 1, "one answer from {args:?}");
    lines.remove(0)
}

/// Waits until the deployment has ended, and answers it.
fn finished_deployment(server: &str, who: &str, id: &str) -> serde_json::Value {
    eventually(&format!("deployment {id} to end"), DEADLINE, || {
        let deployment = json(server, who, &["deployments", "show", id]);
        let ended = [
            "succeeded",
            "failed",
            "rejected",
            "cancelled",
            "superseded",
            "expired",
        ];
        ended
            .contains(&deployment["status"].as_str().unwrap_or_default())
            .then_some(deployment)
    })
}

#[test]
fn push_build_release_promote_approve_reject_and_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let admin = mint_token(dir.path(), "ops", "admin read push release deploy:*").unwrap();
    let alice = mint_token(dir.path(), "alice", "read approve:production").unwrap();
    let auditor = mint_token(dir.path(), "auditor", "read audit").unwrap();
    let server = ServerProcess::start_with_agent(dir.path()).unwrap();
    let url = server.url.as_str();
    create_environments(url, &admin, &[("dev", 0), ("production", 1)]);
    let (repo, commit) = git_repository(dir.path());
    let repository = format!("file://{}", repo.display());
    let project = serde_json::json!({"name": "shop", "repository": repository,
        "build_steps": [{"name": "compile", "script": "echo compiling shop"}],
        "deployment_steps": [{"name": "roll-out", "script": "echo rolling out"}],
        "lifecycle": [{"environment": "dev", "automatic": true}, {"environment": "production"}]})
    .to_string();
    let (status, answer) = curl(
        "POST",
        &format!("{url}/api/v1/projects"),
        &admin,
        Some(&project),
    )
    .unwrap();
    assert_eq!(status, 201, "{answer}");

    // A push queues the build, which the built-in agent runs; its log is there.
    let pushed = json(
        url,
        &admin,
        &[
            "push",
            "--repository",
            &repository,
            "--branch",
            "main",
            "--commit",
            &commit,
        ],
    );
    let build = pushed["builds"][0]["id"].as_str().unwrap().to_owned();
    eventually("the build to succeed", DEADLINE, || {
        (json(url, &admin, &["builds", "show", &build])["status"] == "succeeded").then_some(())
    });
    let listed = json_lines(url, &admin, &["builds", "list", "--project", "shop"]);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], build.as_str());
    let (code, log, err) = run(
        &["--server", url, "builds", "log", &build],
        &[("CONVEYOR_TOKEN", &admin)],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(log.contains("compiling shop"), "{log}");

    // The build was released as 1.0.1; a second release of it by hand.
    let first = eventually("the automatic release", DEADLINE, || {
        json_lines(url, &admin, &["releases", "list", "--project", "shop"]).pop()
    });
    assert_eq!(first["version"], "1.0.1");
    let shown = json(url, &admin, &["releases", "show", "shop@1.0.1"]);
    assert_eq!(shown["id"], first["id"]);
    let second = json(
        url,
        &admin,
        &[
            "releases",
            "create",
            "--build",
            &build,
            "--version",
            "2.0.0",
        ],
    );
    assert_eq!(second["version"], "2.0.0");
    // Each reaches dev on its own before it may go to production.
    for version in ["1.0.1", "2.0.0"] {
        eventually(&format!("{version} to succeed in dev"), DEADLINE, || {
            let release = json(
                url,
                &admin,
                &["releases", "show", &format!("shop@{version}")],
            );
            let succeeded = release["succeeded_in"].as_array().unwrap();
            succeeded.iter().any(|env| env == "dev").then_some(())
        });
    }

    // Promote 1.0.1: rejected; promote it again: approved, deployed, its log there.
    let rejected = json(
        url,
        &admin,
        &["promote", "shop@1.0.1", "--to", "production"],
    );
    assert_eq!(rejected["status"], "awaiting_approval");
    let rejected_id = rejected["id"].as_str().unwrap();
    let answer = json(
        url,
        &alice,
        &["reject", rejected_id, "--comment", "not on a Friday"],
    );
    assert_eq!(answer["status"], "rejected");
    let promoted = json(
        url,
        &admin,
        &["promote", "shop@1.0.1", "--to", "production"],
    );
    let answer = json(
        url,
        &alice,
        &[
            "approve",
            promoted["id"].as_str().unwrap(),
            "--comment",
            "ship it",
        ],
    );
    assert_eq!(answer["approvals"][0]["comment"], "ship it");
    let done = finished_deployment(url, &admin, promoted["id"].as_str().unwrap());
    assert_eq!(done["status"], "succeeded");
    let (code, log, err) = run(
        &[
            "--server",
            url,
            "deployments",
            "log",
            promoted["id"].as_str().unwrap(),
            "--follow",
        ],
        &[("CONVEYOR_TOKEN", &admin)],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(log.contains("rolling out"), "{log}");

    // 2.0.0 by id, then back to 1.0.1 by version.
    let promoted = json(
        url,
        &admin,
        &[
            "promote",
            second["id"].as_str().unwrap(),
            "--to",
            "production",
        ],
    );
    json(url, &alice, &["approve", promoted["id"].as_str().unwrap()]);
    assert_eq!(
        finished_deployment(url, &admin, promoted["id"].as_str().unwrap())["status"],
        "succeeded"
    );
    let rollback = json(
        url,
        &admin,
        &[
            "rollback",
            "--project",
            "shop",
            "--env",
            "production",
            "--to",
            "1.0.1",
        ],
    );
    assert_eq!(
        (rollback["kind"].clone(), rollback["release_id"].clone()),
        ("rollback".into(), first["id"].clone())
    );
    json(
        url,
        &alice,
        &[
            "approve",
            rollback["id"].as_str().unwrap(),
            "--comment",
            "roll back",
        ],
    );
    assert_eq!(
        finished_deployment(url, &admin, rollback["id"].as_str().unwrap())["status"],
        "succeeded"
    );

    // The dashboard, for programs and for people.
    let grid = json(url, &admin, &["dashboard"]);
    assert_eq!(
        grid["projects"][0]["cells"]["production"]["live"]["release_version"],
        "1.0.1"
    );
    let (code, table, err) = run(
        &["--server", url, "dashboard"],
        &[("CONVEYOR_TOKEN", &admin)],
    );
    assert_eq!(code, Some(0), "{err}");
    let row = table
        .lines()
        .find(|line| line.starts_with("shop"))
        .expect("a row for shop");
    assert!(row.contains("1.0.1") && row.contains("2.0.0"), "{table}");

    // The log, filtered and followed.
    let rejections = json_lines(
        url,
        &auditor,
        &["events", "list", "--type", "DeploymentRejected"],
    );
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0]["actor"], "alice");
    let two = json_lines(
        url,
        &auditor,
        &[
            "events",
            "list",
            "--stream-prefix",
            "deployment-",
            "--limit",
            "2",
        ],
    );
    assert_eq!(two.len(), 2);
    let tail = json_lines(
        url,
        &auditor,
        &["events", "tail", "--after", "0", "--count", "3"],
    );
    let positions: Vec<i64> = tail
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3]);

    // Refusals, usage errors and an unreachable server have their own exit codes.
    let as_admin = [("CONVEYOR_TOKEN", admin.as_str())];
    let (code, _, err) = run(
        &[
            "--server",
            url,
            "promote",
            "shop@9.9.9",
            "--to",
            "production",
        ],
        &as_admin,
    );
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("no release 9.9.9"), "{err}");
    let (code, _, err) = run(
        &["--server", url, "approve", rollback["id"].as_str().unwrap()],
        &as_admin,
    );
    assert_eq!(code, Some(3), "{err}");
    let (code, _, err) = run(
        &["--server", url, "promote", "nonsense", "--to", "production"],
        &as_admin,
    );
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = run(&["--server", url, "dashboard"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no token"), "{err}");
    let (code, _, err) = run(&["--server", "http://127.0.0.1:1", "dashboard"], &as_admin);
    assert_eq!(code, Some(4), "{err}");

    // Server and token from the client config file.
    let config = dir.path().join("client.toml");
    std::fs::write(
        &config,
        format!("server = \"{url}\"\ntoken = \"{admin}\"\n"),
    )
    .unwrap();
    let (code, out, err) = run(
        &["--output", "json", "builds", "list"],
        &[("CONVEYOR_CLIENT_CONFIG", config.to_str().unwrap())],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 1);
}

/// A proxy in front of the server that forwards the first request but drops the
/// connection instead of answering it: the server has acted, the client does not know.
/// Later connections are forwarded both ways.
fn answer_dropping_proxy(upstream: SocketAddr) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (number, client) in listener.incoming().enumerate() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(upstream) else {
                return;
            };
            if number == 0 {
                let request = read_request(&mut client);
                server.write_all(&request).unwrap();
                // Wait for the server's answer (it has committed), then drop it.
                let mut answer = [0; 1];
                let _ = server.read(&mut answer);
                continue;
            }
            let (mut client_in, mut server_out) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut client_in, &mut server_out));
            std::thread::spawn(move || std::io::copy(&mut server, &mut client));
        }
    });
    address
}

/// One HTTP/1.1 request with a Content-Length body, as bytes.
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut request = Vec::new();
    let mut byte = [0; 1];
    while !request.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        request.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&request).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse().unwrap());
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    request.extend(body);
    request
}

#[test]
fn a_write_whose_answer_was_lost_is_retried_once_with_its_idempotency_key() {
    let dir = tempfile::tempdir().unwrap();
    let admin = mint_token(dir.path(), "ops", "admin read push audit").unwrap();
    let server = ServerProcess::start(dir.path()).unwrap();
    let upstream: SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let proxy = format!("http://{}", answer_dropping_proxy(upstream));

    let pushed = json(
        &proxy,
        &admin,
        &[
            "push",
            "--repository",
            "https://git.example.com/any.git",
            "--branch",
            "main",
            "--commit",
            &"c".repeat(40),
        ],
    );
    let pushes = json_lines(
        &server.url,
        &admin,
        &["events", "list", "--type", "PushReceived"],
    );
    assert_eq!(pushes.len(), 1, "the retried push was recorded once");
    assert_eq!(pushes[0]["payload"]["push_id"], pushed["push_id"]);
}
