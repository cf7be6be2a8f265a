//! The agent, end to end: real `conveyor serve` and `conveyor agent` processes build a real git
//! repository with real shell steps; an agent killed mid-build is replaced; a failing step
//! fails the build; a cancel kills the running step's processes; a process that escaped the
//! step's group does not wedge the agent.

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use conveyor_system_tests::{
    AgentProcess, ServerProcess, curl, eventually, git, git_repository as repository, mint_token,
};
use serde_json::{Value, json};

/// How long a poll waits before the test fails (builds run real processes).
const DEADLINE: Duration = Duration::from_secs(60);

/// The scopes of the test's operator.
const ADMIN_SCOPES: &str = "admin read push release audit";

/// One API call: the status and the body as JSON (`Null` when empty, a string when not JSON).
fn call(
    server: &ServerProcess,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(Value::to_string);
    let (status, text) = curl(
        method,
        &format!("{}{path}", server.url),
        token,
        body.as_deref(),
    )
    .expect("curl runs");
    let value = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A server and its operator's token.
struct Conveyor {
    server: ServerProcess,
    admin: String,
    dir: tempfile::TempDir,
}

impl Conveyor {
    fn new(start: impl FnOnce(&Path) -> anyhow::Result<ServerProcess>) -> Conveyor {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).expect("the server starts");
        let admin = mint_token(dir.path(), "admin", ADMIN_SCOPES).unwrap();
        Conveyor { server, admin, dir }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        call(&self.server, method, path, &self.admin, body)
    }

    /// Creates project `name` building `repository` with `steps`, then pushes `commit` to
    /// main; returns the queued build's id.
    fn push_build(&self, name: &str, repository: &str, commit: &str, steps: Value) -> String {
        let (status, body) = self.call(
            "POST",
            "/api/v1/projects",
            Some(&json!({
                "name": name,
                "repository": repository,
                "branch": "main",
                "build_steps": steps,
            })),
        );
        assert_eq!(status, 201, "{body}");
        let (status, body) = self.call(
            "POST",
            "/api/v1/pushes",
            Some(&json!({"repository": repository, "ref": "refs/heads/main", "commit": commit})),
        );
        assert_eq!(status, 202, "{body}");
        body["builds"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("a build was queued: {body}"))
            .to_owned()
    }

    fn build(&self, id: &str) -> Value {
        let (status, body) = self.call("GET", &format!("/api/v1/builds/{id}"), None);
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Polls until the build ended; returns it.
    fn build_ends(&self, id: &str) -> Value {
        eventually(&format!("build {id} to end"), DEADLINE, || {
            let build = self.build(id);
            matches!(
                build["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            )
            .then_some(build)
        })
    }
}

/// Kills the process group `pgid` (a step's, left running on purpose by a test) if it lives.
fn kill_group(pgid: &str) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", pgid.trim())])
        .output();
}

/// Digits no other test run uses, to recognise this test's processes.
fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}{nanos}", std::process::id())
}

/// Kills, when dropped, the processes whose command line contains the marker (processes a
/// test let escape on purpose), even when the test failed.
struct KillOnDrop(String);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("pkill").args(["-f", &self.0]).output();
    }
}

#[test]
fn the_builtin_agent_builds_a_real_repository_and_keeps_its_artifact() {
    let conveyor = Conveyor::new(ServerProcess::start_with_agent);
    let (repo, commit) = repository(conveyor.dir.path());
    let repository = format!("file://{}", repo.display());
    let build = conveyor.push_build(
        "app",
        &repository,
        &commit,
        json!([{
            "name": "build",
            "script": "test -f app.sh\nmkdir -p dist && echo hello-$CONVEYOR_BUILD_NUMBER > dist/app.txt",
            "artifacts": ["dist/app.txt"],
        }]),
    );

    let build = conveyor.build_ends(&build);
    assert_eq!(build["status"], "succeeded", "{build}");
    assert_eq!(build["lease"]["agent"], "builtin", "{build}");
    assert_eq!(build["steps"][0]["outcome"], "succeeded", "{build}");
    let artifact = &build["artifacts"][0];
    assert_eq!(artifact["name"], "dist/app.txt", "{build}");
    assert_eq!(artifact["size"], 8, "{build}");
    let sha = artifact["sha256"].as_str().expect("a digest");
    let (status, bytes) = curl(
        "GET",
        &format!("{}/api/v1/artifacts/{sha}", conveyor.server.url),
        &conveyor.admin,
        None,
    )
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(bytes, "hello-1\n");

    let status = conveyor.server.terminate().unwrap();
    assert!(status.success(), "serve did not stop cleanly: {status}");
}

#[test]
fn a_killed_agents_build_is_leased_again_and_succeeds_on_another_agent() {
    let conveyor = Conveyor::new(|dir| {
        ServerProcess::start_with(
            dir,
            &[("CONVEYOR_NO_AGENT", "1"), ("CONVEYOR_LEASE_SECONDS", "2")],
        )
    });
    let (repo, commit) = repository(conveyor.dir.path());
    let markers = conveyor.dir.path().join("markers");
    std::fs::create_dir_all(&markers).unwrap();
    let m = markers.display();
    // Only the first attempt sleeps; it records its process group before it says so.
    let script = format!(
        "mkdir -p dist && echo built > dist/out.txt\n\
         if [ ! -e {m}/second ]; then echo $$ > {m}/pid; touch {m}/second; sleep 600.{}; fi",
        unique()
    );
    let build = conveyor.push_build(
        "app",
        &repo.display().to_string(),
        &commit,
        json!([{"name": "build", "script": script, "artifacts": ["dist/out.txt"]}]),
    );
    let token = mint_token(conveyor.dir.path(), "agents", "agent").unwrap();

    let first = AgentProcess::start(
        &conveyor.server.url,
        &token,
        "agent-a",
        &conveyor.dir.path().join("work-a"),
    )
    .unwrap();
    eventually("the first attempt's step to run", DEADLINE, || {
        markers.join("second").exists().then_some(())
    });
    first.kill_hard().unwrap();
    let orphan = std::fs::read_to_string(markers.join("pid")).unwrap();

    let _second = AgentProcess::start(
        &conveyor.server.url,
        &token,
        "agent-b",
        &conveyor.dir.path().join("work-b"),
    )
    .unwrap();
    let build = conveyor.build_ends(&build);
    kill_group(&orphan);
    assert_eq!(build["status"], "succeeded", "{build}");
    assert_eq!(build["lease"]["attempt"], 2, "{build}");
    assert_eq!(build["lease"]["agent"], "agent-b", "{build}");
    assert_eq!(build["artifacts"][0]["name"], "dist/out.txt", "{build}");
    // Run again, not twice: one success in the build's stream, and no second build.
    let id = build["id"].as_str().unwrap();
    let (status, ended) = conveyor.call(
        "GET",
        &format!("/api/v1/events?stream=build-{id}&type=BuildSucceeded,BuildFailed"),
        None,
    );
    assert_eq!(status, 200, "{ended}");
    assert_eq!(ended["items"].as_array().unwrap().len(), 1, "{ended}");
    let (status, builds) = conveyor.call("GET", "/api/v1/builds?project=app", None);
    assert_eq!(status, 200, "{builds}");
    assert_eq!(builds["items"].as_array().unwrap().len(), 1, "{builds}");
}

#[test]
fn a_failing_step_fails_the_build_with_its_exit_code_and_output() {
    let conveyor = Conveyor::new(ServerProcess::start_with_agent);
    let (repo, commit) = repository(conveyor.dir.path());
    let build = conveyor.push_build(
        "app",
        &repo.display().to_string(),
        &commit,
        json!([
            {"name": "test", "script": "echo boom; exit 7"},
            {"name": "package", "script": "echo never", "artifacts": ["dist/*"]},
        ]),
    );

    let build = conveyor.build_ends(&build);
    assert_eq!(build["status"], "failed", "{build}");
    let reason = build["reason"].as_str().expect("a reason");
    assert!(reason.contains("exited with code 7"), "{reason}");
    assert!(reason.contains("boom"), "{reason}");
    assert_eq!(build["steps"][0]["outcome"], "failed", "{build}");
    assert_eq!(build["steps"][0]["exit_code"], 7, "{build}");
    assert_eq!(build["steps"][1]["outcome"], "skipped", "{build}");
    let (status, releases) = conveyor.call("GET", "/api/v1/releases?project=app", None);
    assert_eq!(status, 200, "{releases}");
    assert_eq!(releases["items"], json!([]), "{releases}");

    // The built-in agent stops with the server.
    let status = conveyor.server.terminate().unwrap();
    assert!(status.success(), "serve did not stop cleanly: {status}");
}

#[test]
fn cancelling_a_build_kills_its_running_step_within_five_seconds() {
    let conveyor = Conveyor::new(ServerProcess::start_with_agent);
    let (repo, commit) = repository(conveyor.dir.path());
    let pid_file = conveyor.dir.path().join("step.pid");
    let marker = format!("sleep 600.{}", unique());
    let build = conveyor.push_build(
        "app",
        &repo.display().to_string(),
        &commit,
        json!([{"name": "wait", "script": format!("echo $$ > {}\n{marker}\necho never", pid_file.display())}]),
    );
    let running = |marker: &str| {
        Command::new("pgrep")
            .args(["-f", marker])
            .output()
            .expect("pgrep runs")
            .status
            .success()
    };
    eventually("the step to run", DEADLINE, || {
        (pid_file.exists() && running(&marker)).then_some(())
    });

    let (status, body) = conveyor.call(
        "POST",
        &format!("/api/v1/builds/{build}/cancel"),
        Some(&json!({"reason": "not needed"})),
    );
    assert_eq!(status, 200, "{body}");
    // The one deadline the specification sets: the step is gone within 5 s of the cancel.
    let cancelled = Instant::now();
    let gone = loop {
        if !running(&marker) {
            break true;
        }
        if cancelled.elapsed() > Duration::from_secs(5) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !gone {
        kill_group(&std::fs::read_to_string(&pid_file).unwrap_or_default());
    }
    assert!(gone, "the step still ran 5 s after the cancel");
    assert_eq!(conveyor.build(&build)["status"], "cancelled");
}

/// A project that asks for it takes its plan from `bitbucket-pipelines.yml` at the pushed
/// commit, by branch, and the agent runs that plan.
#[test]
fn the_plan_can_come_from_the_repositorys_pipelines_document() {
    let conveyor = Conveyor::new(ServerProcess::start_with_agent);
    let (repo, _) = repository(conveyor.dir.path());
    std::fs::write(
        repo.join("bitbucket-pipelines.yml"),
        "pipelines:\n  default:\n    - step:\n        name: wrong\n        script: [exit 3]\n  branches:\n    main:\n      - step:\n          name: from the repository\n          script:\n            - mkdir -p out\n            - echo built-by-pipelines > out/result.txt\n          artifacts: [out/result.txt]\n",
    )
    .unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "pipelines"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    let repository = repo.display().to_string();
    let (status, body) = conveyor.call(
        "POST",
        "/api/v1/projects",
        Some(&json!({
            "name": "piped",
            "repository": repository,
            "branch": "main",
            "plan_source": "repository",
        })),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["plan_source"], "repository", "{body}");
    let (status, body) = conveyor.call(
        "POST",
        "/api/v1/pushes",
        Some(&json!({"repository": repository, "ref": "refs/heads/main", "commit": commit})),
    );
    assert_eq!(status, 202, "{body}");
    let id = body["builds"][0]["id"].as_str().unwrap().to_owned();
    let build = conveyor.build_ends(&id);
    assert_eq!(build["status"], "succeeded", "{build}");
    assert_eq!(build["steps"][0]["name"], "from the repository", "{build}");
    let sha = build["artifacts"][0]["sha256"].as_str().expect("a digest");
    let (status, bytes) = curl(
        "GET",
        &format!("{}/api/v1/artifacts/{sha}", conveyor.server.url),
        &conveyor.admin,
        None,
    )
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(bytes, "built-by-pipelines\n");
}

/// A step that times out while a process it started outside its group (`setsid`) still holds
/// its output open fails on time, and the agent's one slot takes the next job.
#[test]
fn a_process_escaping_the_steps_group_does_not_wedge_the_agent() {
    let conveyor = Conveyor::new(ServerProcess::start_with_agent);
    let (repo, commit) = repository(conveyor.dir.path());
    let marker = format!("sleep 300.{}", unique());
    let _escaped = KillOnDrop(marker.clone());
    let wedged = conveyor.push_build(
        "app",
        &repo.display().to_string(),
        &commit,
        json!([{
            "name": "wedge",
            "script": format!("echo started\nsetsid {marker} &\nsleep 600"),
            "timeout_seconds": 1,
        }]),
    );
    // About a second of step, two of grace for its output, and the reports (3.6 s here): a
    // reader of the output left running would hold the job up until the agent gives up on
    // its log shipper, 10 s later.
    let build = eventually(
        "the timed-out build to fail",
        Duration::from_secs(10),
        || {
            let build = conveyor.build(&wedged);
            matches!(
                build["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            )
            .then_some(build)
        },
    );
    assert_eq!(build["status"], "failed", "{build}");
    let reason = build["reason"].as_str().expect("a reason");
    assert!(reason.contains("timed out after 1 s"), "{reason}");
    assert!(reason.contains("started"), "{reason}");

    // The built-in agent runs one job at a time: the next build runs only if the slot is free.
    let (second_repo, second_commit) = repository(&conveyor.dir.path().join("second"));
    let next = conveyor.push_build(
        "next",
        &second_repo.display().to_string(),
        &second_commit,
        json!([{"name": "quick", "script": "echo fine"}]),
    );
    let next = conveyor.build_ends(&next);
    assert_eq!(next["status"], "succeeded", "{next}");
}
