//! Property-based fuzzing of the API with Schemathesis against a live `conveyor serve` and the
//! committed `openapi/openapi.json`, with a token holding every scope: no answer is a 5xx, and
//! every answer conforms to the document (its status is documented, its content type and its
//! body are the documented ones).
//!
//! Schemathesis is installed from PyPI (pinned in `tests/schemathesis/requirements.txt`) into
//! a virtual environment under `target/` the first time; later runs reuse it. The number of
//! examples per operation is bounded so that the run takes well under a minute; the seed is
//! random, so each run tries new inputs, and a failure's report says how to replay it.

use std::process::Command;
use std::time::Duration;

use conveyor_system_tests::{ServerProcess, curl, eventually, mint_token, python_venv, workspace};
use serde_json::Value;

/// Every scope there is (`api/src/auth.rs`), so that no answer is a 403 for want of one.
const ALL_SCOPES: &str = "admin read audit push release agent deploy:* approve:* freeze:override";

/// The bound on the test cases Schemathesis generates per operation (`--max-examples`).
const MAX_EXAMPLES: &str = "20";

/// Sends `body` with `method` to `path` under `/api/v1`, expecting `status`; answers the body.
fn call(
    server: &ServerProcess,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    status: u16,
) -> Value {
    let url = format!("{}/api/v1{path}", server.url);
    let (answered, text) = curl(method, &url, token, body).expect("curl runs");
    assert_eq!(
        answered, status,
        "{method} {path} answered {answered}: {text}"
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Plays the agent for the one job waiting: lease, start, complete with success.
fn run_waiting_job(server: &ServerProcess, token: &str) -> String {
    let url = format!("{}/api/v1/agents/lease", server.url);
    let lease: Value = eventually("a job to lease", Duration::from_secs(10), || {
        match curl("POST", &url, token, Some(r#"{"agent":"seed"}"#)).expect("curl runs") {
            (200, text) => Some(serde_json::from_str(&text).expect("a job assignment")),
            _ => None,
        }
    });
    let job = lease["job_id"].as_str().expect("a job id").to_owned();
    let lease_id = lease["lease"]["lease_id"].as_str().expect("a lease id");
    let started = format!(r#"{{"lease_id":"{lease_id}"}}"#);
    call(
        server,
        token,
        "POST",
        &format!("/jobs/{job}/start"),
        Some(&started),
        200,
    );
    let completed = format!(r#"{{"lease_id":"{lease_id}","outcome":"succeeded"}}"#);
    let status = call(
        server,
        token,
        "POST",
        &format!("/jobs/{job}/complete"),
        Some(&completed),
        200,
    );
    assert_eq!(status["status"], "succeeded", "{status}");
    job
}

/// Something behind the paths with ids: an environment, a project, a push whose build
/// succeeded, the release it made and that release's deployment to the environment. The
/// names `staging` and `shop` are also in `tests/schemathesis/schemathesis.toml`.
fn seed(server: &ServerProcess, token: &str) {
    call(
        server,
        token,
        "POST",
        "/environments",
        Some(r#"{"name":"staging"}"#),
        201,
    );
    let project = r#"{"name":"shop","repository":"/srv/git/shop","branch":"main",
        "build_steps":[{"name":"build","script":"true"}],
        "deployment_steps":[{"name":"install","script":"true"}],
        "lifecycle":[{"environment":"staging","automatic":true}]}"#;
    call(server, token, "POST", "/projects", Some(project), 201);
    let push = r#"{"repository":"/srv/git/shop","ref":"refs/heads/main",
        "commit":"0123456789abcdef0123456789abcdef01234567"}"#;
    call(server, token, "POST", "/pushes", Some(push), 202);
    let build = run_waiting_job(server, token);
    // The release is made and deployed to staging automatically.
    let releases = call(server, token, "GET", "/releases?project=shop", None, 200);
    assert_eq!(
        releases["items"][0]["build_id"],
        build.as_str(),
        "{releases}"
    );
    run_waiting_job(server, token);
    let history = call(
        server,
        token,
        "GET",
        "/environments/staging/history",
        None,
        200,
    );
    assert_eq!(history["items"][0]["status"], "succeeded", "{history}");
}

#[test]
fn fuzzed_requests_get_documented_answers_and_never_a_server_error() {
    let venv = python_venv("schemathesis-venv", "tests/schemathesis/requirements.txt");
    let data = tempfile::tempdir().unwrap();
    let token = mint_token(data.path(), "fuzzer", ALL_SCOPES).unwrap();
    let server = ServerProcess::start(data.path()).unwrap();
    seed(&server, &token);

    let root = workspace();
    let scratch = tempfile::tempdir().unwrap();
    let report = scratch.path().join("report.json");
    let started = std::time::Instant::now();
    let run = Command::new(venv.join("bin/schemathesis"))
        // What the command line cannot say: the log operations' `follow`, and the seeded
        // names to draw from (see the file).
        .arg("--config-file")
        .arg(root.join("tests/schemathesis/schemathesis.toml"))
        .arg("run")
        .arg(root.join("openapi/openapi.json"))
        .args(["--url", &server.url])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance",
        ])
        .args(["--max-examples", MAX_EXAMPLES])
        // One at a time: the machine may have two cores, and the server needs one.
        .args(["--workers", "1"])
        // The event and dashboard streams answer 200 and then never end: there is no response
        // to check, and every request would wait for the timeout. The event stream's 400 for a
        // malformed `Last-Event-ID` is covered by api/tests/api.rs.
        .args(["--exclude-path", "/api/v1/events/stream"])
        .args(["--exclude-path", "/api/v1/dashboard/stream"])
        .args(["--request-timeout", "10"])
        // Hypothesis' example database would be written to the working directory.
        .args(["--generation-database", "none"])
        .args(["--no-color", "--output-truncate", "false"])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .current_dir(scratch.path())
        // Makes each generated Idempotency-Key unique (see the file).
        .env(
            "SCHEMATHESIS_HOOKS",
            root.join("tests/schemathesis/hooks.py"),
        )
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("schemathesis runs");
    let server_log: Vec<String> = server.log.try_iter().collect();
    assert!(
        run.status.success(),
        "schemathesis found problems (replay one with the curl command it printed):\n{}\n{}\n\
         the server's log:\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
        server_log.join("\n")
    );

    // Every operation but the two excluded streams was tested.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the JSON report"))
            .expect("the report is JSON");
    let operations = &report["operations"];
    let total = operations["total"].as_u64().expect("a total");
    assert_eq!(
        operations["selected"].as_u64(),
        Some(total - 2),
        "{operations}"
    );
    assert_eq!(operations["tested"], operations["selected"], "{operations}");
    let generated = report["test_cases"]["generated"].as_u64().expect("a count");
    assert!(generated > total * 10, "only {generated} test cases");
    println!(
        "schemathesis: {generated} test cases against {} operations in {:?}",
        operations["tested"],
        started.elapsed()
    );
}
