//! Artifact and log storage over HTTP: content-addressed uploads and downloads, the check that
//! a reported artifact was uploaded, log appends under a lease, following a log live, and the
//! masking of secrets in stored logs.

#[expect(dead_code, reason = "each test binary uses part of the shared harness")]
mod support;

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use support::{DEADLINE, SECRET_VALUE, TestApp, commit, sha256_hex, spawn_app, spawn_app_with};

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The stored blobs of the app's data directory.
fn stored_blobs(app: &TestApp) -> Vec<std::path::PathBuf> {
    files_under(&app.dir.path().join("blobs/sha256"))
}

/// Temporary upload files left in the blob store.
fn leftover_uploads(app: &TestApp) -> usize {
    files_under(&app.dir.path().join("blobs/tmp")).len()
}

/// Seeds the project, pushes and leases its build, and starts it; returns the lease answer.
async fn started_build(app: &TestApp, seed: &str) -> Value {
    app.seed().await;
    app.push(&commit(seed)).await;
    let job = app.lease_eventually("agent-1").await;
    assert_eq!(job["kind"], "build", "{job}");
    app.report(&job, "start", json!({})).await.expect(200);
    job
}

/// A log line as an agent sends it.
fn log_line(step: &str, stream: &str, text: &str) -> Value {
    json!({"at": chrono::Utc::now(), "step": step, "stream": stream, "text": text})
}

/// Reads a streaming answer until its text contains `needle`; returns all text so far.
async fn read_until<B: AsRef<[u8]>>(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    text: &mut String,
    needle: &str,
) {
    tokio::time::timeout(DEADLINE, async {
        while !text.contains(needle) {
            let chunk = body
                .next()
                .await
                .expect("the stream stays open")
                .expect("a chunk");
            text.push_str(&String::from_utf8_lossy(chunk.as_ref()));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {needle:?}; got {text:?}"));
}

#[actix_web::test]
async fn an_uploaded_artifact_downloads_byte_for_byte_and_is_stored_once() {
    let app = spawn_app().await;
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let sha = sha256_hex(&content);

    let created = app.put_artifact(&sha, content.clone()).await;
    let body = created.expect(201);
    assert_eq!(body, json!({"sha256": sha, "size": content.len()}));
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/artifacts/{sha}"))
    );

    let again = app.put_artifact(&sha, content.clone()).await;
    assert_eq!(again.expect(200), body, "the same digest is stored once");
    assert_eq!(stored_blobs(&app).len(), 1);
    assert_eq!(leftover_uploads(&app), 0);

    let path = format!("/api/v1/artifacts/{sha}");
    for token in [app.token("reader", "read"), app.agent_token(), app.admin()] {
        let download = app.get(&path, &token).await;
        assert_eq!(download.status.as_u16(), 200, "{}", download.text());
        assert!(download.body == content, "the bytes match");
        assert_eq!(download.content_type(), "application/octet-stream");
        assert_eq!(
            download.header("content-length"),
            Some(content.len().to_string())
        );
        assert_eq!(download.header("etag"), Some(format!("\"{sha}\"")));
        assert_eq!(
            download.header("cache-control").as_deref(),
            Some("private, max-age=31536000, immutable"),
            "an answer that needs a token must not be kept by shared caches"
        );
    }
    let cached = app
        .send(
            Method::GET,
            &path,
            Some(&app.token("reader", "read")),
            None,
            &[("if-none-match", &format!("\"{sha}\""))],
        )
        .await;
    assert_eq!(cached.status.as_u16(), 304);

    let problem = app
        .get(&path, &app.token("pusher", "push"))
        .await
        .expect_problem_type(403, "forbidden");
    assert_eq!(problem["missing_scope"], "read");
    let upload_as_reader = app
        .send(
            Method::PUT,
            &path,
            Some(&app.token("reader", "read")),
            None,
            &[],
        )
        .await;
    upload_as_reader.expect_problem_type(403, "forbidden");
    app.send(Method::GET, &path, None, None, &[])
        .await
        .expect_problem_type(401, "unauthorized");

    let absent = sha256_hex(b"never uploaded");
    app.get(
        &format!("/api/v1/artifacts/{absent}"),
        &app.token("reader", "read"),
    )
    .await
    .expect_problem_type(404, "not-found");
}

#[actix_web::test]
async fn concurrent_uploads_of_one_digest_both_succeed() {
    let app = spawn_app().await;
    let content = vec![7u8; 200_000];
    let sha = sha256_hex(&content);
    let (a, b) = tokio::join!(
        app.put_artifact(&sha, content.clone()),
        app.put_artifact(&sha, content.clone()),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{} / {}", a.text(), b.text());
    assert_eq!(stored_blobs(&app).len(), 1);
    assert_eq!(leftover_uploads(&app), 0);
}

#[actix_web::test]
async fn a_wrong_digest_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let claimed = sha256_hex(b"what the agent meant to send");
    let problem = app
        .put_artifact(&claimed, b"what arrived".to_vec())
        .await
        .expect_problem_type(422, "validation");
    assert_eq!(problem["field"], "sha256");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&sha256_hex(b"what arrived")),
        "{problem}"
    );
    assert!(stored_blobs(&app).is_empty());
    assert_eq!(leftover_uploads(&app), 0);
    app.get(
        &format!("/api/v1/artifacts/{claimed}"),
        &app.token("reader", "read"),
    )
    .await
    .expect_problem_type(404, "not-found");
}

#[actix_web::test]
async fn an_artifact_over_the_size_limit_is_refused() {
    let app = spawn_app_with(|settings| settings.max_artifact_bytes = 1024).await;
    let content = vec![1u8; 4096];
    let sha = sha256_hex(&content);

    // Declared too large by Content-Length: refused before the body is read.
    let declared = app.put_artifact(&sha, content.clone()).await;
    declared.expect_problem_type(413, "payload-too-large");

    // Chunked, with no length: cut off while it streams.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        content.chunks(512).map(|c| Ok(c.to_vec())).collect();
    let streamed = app
        .client
        .put(app.url(&format!("/api/v1/artifacts/{sha}")))
        .bearer_auth(app.agent_token())
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(streamed.status().as_u16(), 413);
    assert!(stored_blobs(&app).is_empty());
    assert_eq!(leftover_uploads(&app), 0);

    // At the limit is fine.
    let fits = vec![2u8; 1024];
    app.put_artifact(&sha256_hex(&fits), fits).await.expect(201);
}

#[actix_web::test]
async fn malformed_digests_are_refused_as_problems() {
    let app = spawn_app().await;
    let upper = sha256_hex(b"x").to_uppercase();
    for digest in [
        upper.as_str(),
        "..%2F..%2Fevents.sqlite3",
        "%2E%2E",
        "abc",
        "not-a-digest",
    ] {
        let put = app.put_artifact(digest, b"x".to_vec()).await;
        let problem = put.expect_problem(put.status.as_u16());
        assert!(put.status.is_client_error(), "{digest}: {problem}");
        let get = app
            .get(
                &format!("/api/v1/artifacts/{digest}"),
                &app.token("reader", "read"),
            )
            .await;
        let problem = get.expect_problem(get.status.as_u16());
        assert!(get.status.is_client_error(), "{digest}: {problem}");
    }
    let problem = app
        .put_artifact(&upper, b"x".to_vec())
        .await
        .expect_problem_type(422, "validation");
    assert_eq!(problem["field"], "sha256");
    // A path that is not one segment does not reach the handler at all.
    app.put_artifact("../x", b"x".to_vec())
        .await
        .expect_problem(404);
    assert!(stored_blobs(&app).is_empty());
}

#[actix_web::test]
async fn an_artifact_must_be_uploaded_before_it_is_reported() {
    let app = spawn_app().await;
    let job = started_build(&app, "report before upload").await;
    let content = b"the build's output".to_vec();
    let sha = sha256_hex(&content);
    let report = json!({"name": "dist/out.bin", "sha256": sha, "size": content.len()});

    let problem = app
        .report(&job, "artifacts", report.clone())
        .await
        .expect_problem_type(422, "validation");
    assert_eq!(problem["field"], "sha256");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("PUT /api/v1/artifacts/{sha}")),
        "{problem}"
    );

    app.upload_artifact(&content).await;
    let wrong_size = json!({"name": "dist/out.bin", "sha256": sha, "size": content.len() + 1});
    app.report(&job, "artifacts", wrong_size)
        .await
        .expect_problem_type(422, "validation");
    app.report(&job, "artifacts", report).await.expect(200);
    let build_id = job["job_id"].as_str().unwrap();
    let build = app
        .get(&format!("/api/v1/builds/{build_id}"), &app.admin())
        .await
        .expect(200);
    assert_eq!(build["artifacts"][0]["sha256"], sha);
}

#[actix_web::test]
async fn an_artifact_name_that_leaves_the_deployments_directory_is_refused() {
    let app = spawn_app().await;
    let job = started_build(&app, "artifact names").await;
    let content = b"the build's output".to_vec();
    let sha = sha256_hex(&content);
    app.upload_artifact(&content).await;
    for name in [
        "../../x",
        "/etc/cron.d/evil",
        "dist/../../x",
        "..",
        "dist\\..\\x",
        "dist/a\u{0}b",
        "  ",
        "",
    ] {
        let report = json!({"name": name, "sha256": sha, "size": content.len()});
        let problem = app
            .report(&job, "artifacts", report)
            .await
            .expect_problem_type(422, "validation");
        assert_eq!(problem["field"], "name", "{name:?}: {problem}");
    }
    let build_id = job["job_id"].as_str().unwrap();
    let build = app
        .get(&format!("/api/v1/builds/{build_id}"), &app.admin())
        .await
        .expect(200);
    assert_eq!(build["artifacts"], json!([]), "{build}");
    for name in ["dist/out.bin", "./out.bin", "dist/..hidden", "v1..2.tar"] {
        let report = json!({"name": name, "sha256": sha, "size": content.len()});
        app.report(&job, "artifacts", report).await.expect(200);
    }
}

#[actix_web::test]
async fn log_lines_are_appended_under_the_lease_and_read_as_text() {
    let app = spawn_app().await;
    let job = started_build(&app, "logs").await;
    let build_id = job["job_id"].as_str().unwrap().to_owned();
    let log_path = format!("/api/v1/builds/{build_id}/log");
    let reader = app.token("reader", "read");

    let empty = app.get(&log_path, &reader).await;
    assert_eq!(empty.status.as_u16(), 200);
    assert!(empty.body.is_empty(), "no log yet: {}", empty.text());
    assert!(empty.content_type().starts_with("text/plain"));

    app.report(
        &job,
        "log",
        json!({"lines": [
            log_line("compile", "stdout", "Compiling shop v0.1.0"),
            log_line("compile", "stderr", "warning: unused variable"),
        ]}),
    )
    .await
    .expect(204);
    app.report(
        &job,
        "log",
        json!({"lines": [log_line("compile", "system", "exit code 0")]}),
    )
    .await
    .expect(204);

    let text = app.get(&log_path, &reader).await;
    assert_eq!(text.status.as_u16(), 200);
    assert_eq!(text.content_type(), "text/plain; charset=utf-8");
    let lines: Vec<String> = text.text().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].ends_with(" compile stdout | Compiling shop v0.1.0"),
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with(" compile stderr | warning: unused variable"),
        "{lines:?}"
    );
    assert!(
        lines[2].ends_with(" compile system | exit code 0"),
        "{lines:?}"
    );
    let at = lines[0].split(' ').next().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(at).is_ok() && at.len() == 27,
        "RFC 3339 with microseconds: {at}"
    );

    // The stored file is JSON lines under the data directory.
    let stored =
        std::fs::read_to_string(app.dir.path().join(format!("logs/{build_id}.jsonl"))).unwrap();
    assert_eq!(stored.lines().count(), 3);
    let first: Value = serde_json::from_str(stored.lines().next().unwrap()).unwrap();
    assert_eq!(first["stream"], "stdout");
    assert_eq!(first["step"], "compile");

    // Wrong lease, unknown job, wrong kind, missing scopes, too many lines.
    let mut stale = job.clone();
    stale["lease"]["lease_id"] = json!(uuid::Uuid::new_v4());
    app.report(&stale, "log", json!({"lines": []}))
        .await
        .expect_problem_type(409, "lease-superseded");
    let mut unknown = job.clone();
    unknown["job_id"] = json!(uuid::Uuid::new_v4());
    app.report(&unknown, "log", json!({"lines": []}))
        .await
        .expect_problem_type(404, "not-found");
    app.get(&format!("/api/v1/deployments/{build_id}/log"), &reader)
        .await
        .expect_problem_type(404, "not-found");
    app.get(
        &format!("/api/v1/builds/{}/log", uuid::Uuid::new_v4()),
        &reader,
    )
    .await
    .expect_problem_type(404, "not-found");
    app.get(&log_path, &app.token("pusher", "push"))
        .await
        .expect_problem_type(403, "forbidden");
    app.post(
        &format!("/api/v1/jobs/{build_id}/log"),
        &reader,
        &json!({"lease_id": job["lease"]["lease_id"], "lines": []}),
    )
    .await
    .expect_problem_type(403, "forbidden");
    let many: Vec<Value> = (0..5001)
        .map(|i| log_line("compile", "stdout", &i.to_string()))
        .collect();
    let problem = app
        .report(&job, "log", json!({ "lines": many }))
        .await
        .expect_problem_type(422, "validation");
    assert_eq!(problem["field"], "lines");
    assert_eq!(app.get(&log_path, &reader).await.text().lines().count(), 3);
}

#[actix_web::test]
async fn following_a_log_streams_new_lines_until_the_job_ends() {
    let app = spawn_app().await;
    let job = started_build(&app, "follow").await;
    let build_id = job["job_id"].as_str().unwrap().to_owned();
    app.report(
        &job,
        "log",
        json!({"lines": [log_line("compile", "stdout", "before following")]}),
    )
    .await
    .expect(204);

    let response = app
        .client
        .get(app.url(&format!("/api/v1/builds/{build_id}/log")))
        .bearer_auth(app.token("reader", "read"))
        .query(&[("follow", "true")])
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    read_until(&mut body, &mut text, "before following").await;

    app.report(
        &job,
        "log",
        json!({"lines": [log_line("compile", "stdout", "while following")]}),
    )
    .await
    .expect(204);
    read_until(&mut body, &mut text, "while following").await;

    for step in job["steps"].as_array().expect("steps") {
        app.report(
            &job,
            "steps",
            json!({"name": step["name"], "outcome": "succeeded", "exit_code": 0}),
        )
        .await
        .expect(200);
    }
    app.report(&job, "complete", json!({"outcome": "succeeded"}))
        .await
        .expect(200);
    let rest = tokio::time::timeout(DEADLINE, async {
        let mut rest = String::new();
        while let Some(chunk) = body.next().await {
            rest.push_str(&String::from_utf8_lossy(&chunk.expect("a chunk")));
        }
        rest
    })
    .await
    .expect("the stream ends when the build ends");
    text.push_str(&rest);
    assert_eq!(text.lines().count(), 2, "{text}");

    // Following a finished job answers what there is and ends.
    let finished = tokio::time::timeout(
        Duration::from_secs(10),
        app.get_query(
            &format!("/api/v1/builds/{build_id}/log"),
            &app.token("reader", "read"),
            &[("follow", "true")],
        ),
    )
    .await
    .expect("a finished job's log ends at once");
    assert_eq!(finished.text(), text);
}

#[actix_web::test]
async fn a_following_reader_does_not_hold_up_shutdown() {
    let mut app = spawn_app().await;
    let job = started_build(&app, "shutdown").await;
    let build_id = job["job_id"].as_str().unwrap().to_owned();
    let response = app
        .client
        .get(app.url(&format!("/api/v1/builds/{build_id}/log?follow=true")))
        .bearer_auth(app.token("reader", "read"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 200);
    let reading = tokio::spawn(async move { response.bytes().await.map(|b| b.len()) });
    tokio::time::timeout(Duration::from_secs(15), app.restart())
        .await
        .expect("the server stops promptly while a log is followed");
    let read = tokio::time::timeout(Duration::from_secs(5), reading)
        .await
        .expect("the follower's answer ended");
    assert_eq!(read.expect("the task ran").expect("a clean end"), 0);
}

#[actix_web::test]
async fn secrets_never_reach_the_stored_log() {
    let app = spawn_app().await;
    app.seed().await;
    let (release, _) = app.build_release(&commit("masking"), "1.0.1").await;

    // The automatic dev deployment: its agent received the secret and a step echoed it.
    let job = app.lease_eventually("agent-1").await;
    assert_eq!(job["kind"], "deployment", "{job}");
    assert_eq!(job["release_id"], release["id"]);
    app.report(&job, "start", json!({})).await.expect(200);
    let leaked = format!("connecting with password={SECRET_VALUE} (again: {SECRET_VALUE})");
    app.report(
        &job,
        "log",
        json!({"lines": [
            log_line("roll-out", "stdout", &leaked),
            log_line("roll-out", "stderr", SECRET_VALUE),
            log_line("roll-out", "stdout", "nothing secret here"),
        ]}),
    )
    .await
    .expect(204);

    let deployment_id = job["job_id"].as_str().unwrap().to_owned();
    let stored =
        std::fs::read_to_string(app.dir.path().join(format!("logs/{deployment_id}.jsonl")))
            .unwrap();
    assert!(!stored.contains(SECRET_VALUE), "{stored}");
    assert!(
        stored.contains("connecting with password=******** (again: ********)"),
        "{stored}"
    );
    let answer = app
        .get(
            &format!("/api/v1/deployments/{deployment_id}/log"),
            &app.token("reader", "read"),
        )
        .await;
    let text = answer.text();
    assert_eq!(answer.status.as_u16(), 200, "{text}");
    assert!(!text.contains(SECRET_VALUE), "{text}");
    assert!(text.contains("roll-out stderr | ********"), "{text}");
    assert!(text.contains("nothing secret here"), "{text}");
    for file in files_under(app.dir.path()) {
        if file.starts_with(app.dir.path().join("logs")) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET_VALUE),
                "{} holds the secret",
                file.display()
            );
        }
    }
}

#[actix_web::test]
async fn a_build_log_masks_the_projects_secrets_too() {
    let app = spawn_app().await;
    let job = started_build(&app, "build masking").await;
    app.report(
        &job,
        "log",
        json!({"lines": [log_line("compile", "stdout", &format!("echo {SECRET_VALUE}"))]}),
    )
    .await
    .expect(204);
    let build_id = job["job_id"].as_str().unwrap();
    let text = app
        .get(
            &format!("/api/v1/builds/{build_id}/log"),
            &app.token("reader", "read"),
        )
        .await
        .text();
    assert!(text.ends_with("compile stdout | echo ********\n"), "{text}");
}

#[actix_web::test]
async fn per_environment_secrets_are_masked_too() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let dev_secret = "dev-only-Pa55word-9";
    let mut definition = support::project_definition("shop", &[("dev", true)]);
    definition["variables"] = json!([{
        "name": "DB_PASSWORD",
        "value": SECRET_VALUE,
        "sensitive": true,
        "environments": {"dev": dev_secret},
    }]);
    app.post("/api/v1/projects", &app.admin(), &definition)
        .await
        .expect(201);
    app.build_release(&commit("per-environment"), "1.0.1").await;
    let job = app.lease_eventually("agent-1").await;
    assert_eq!(job["kind"], "deployment", "{job}");
    app.report(&job, "start", json!({})).await.expect(200);
    app.report(
        &job,
        "log",
        json!({"lines": [log_line("roll-out", "stdout", &format!("{dev_secret} / {SECRET_VALUE}"))]}),
    )
    .await
    .expect(204);
    let deployment_id = job["job_id"].as_str().unwrap();
    let stored =
        std::fs::read_to_string(app.dir.path().join(format!("logs/{deployment_id}.jsonl")))
            .unwrap();
    assert!(
        stored.contains(r#""text":"******** / ********""#),
        "{stored}"
    );
}

/// A multi-line secret (a PEM key) is masked line by line as well as whole, in the log and in
/// the failure reason an agent reports, which goes into the event log for good.
#[actix_web::test]
async fn no_line_of_a_multi_line_secret_reaches_the_log_or_the_events() {
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\n\
                       MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n\
                       VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDu\n\
                       ictBXxKGUf1q\n\
                       -----END PRIVATE KEY-----\n";
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let mut definition = support::project_definition("shop", &[("dev", true)]);
    definition["variables"] = json!([{"name": "TLS_KEY", "value": KEY, "sensitive": true}]);
    app.post("/api/v1/projects", &app.admin(), &definition)
        .await
        .expect(201);
    app.build_release(&commit("multi-line secret"), "1.0.1")
        .await;
    let job = app.lease_eventually("agent-1").await;
    assert_eq!(job["kind"], "deployment", "{job}");
    assert_eq!(
        job["variables"][0]["value"], KEY,
        "the agent gets the key in clear"
    );
    app.report(&job, "start", json!({})).await.expect(200);

    // What an agent that masks nothing sends: the key printed line by line, then whole.
    let mut lines: Vec<Value> = KEY
        .lines()
        .map(|line| log_line("roll-out", "stdout", &format!("+ {line}")))
        .collect();
    lines.push(log_line("roll-out", "stderr", KEY));
    app.report(&job, "log", json!({ "lines": lines }))
        .await
        .expect(204);
    let step = json!({"name": "roll-out", "outcome": "failed", "exit_code": 1});
    app.report(&job, "steps", step).await.expect(200);
    let reason = format!("step \"roll-out\" exited with code 1; last lines:\n{KEY}");
    let done = app
        .report(
            &job,
            "complete",
            json!({"outcome": "failed", "reason": reason}),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "failed", "{done}");

    let secret_lines: Vec<&str> = KEY.lines().map(str::trim).collect();
    let leaked = |what: &str, text: &str| {
        for line in &secret_lines {
            assert!(!text.contains(line), "{what} holds {line:?}");
        }
    };
    let deployment_id = job["job_id"].as_str().unwrap();
    let log = app
        .get(
            &format!("/api/v1/deployments/{deployment_id}/log"),
            &app.token("reader", "read"),
        )
        .await;
    assert_eq!(log.status.as_u16(), 200);
    leaked("the log", &log.text());
    assert!(
        log.text().contains("roll-out stdout | + ********"),
        "{}",
        log.text()
    );
    let events = serde_json::to_string(&app.all_events().await).unwrap();
    leaked("the events", &events);
    let failed = app.events_of_type("DeploymentFailed").await;
    assert_eq!(failed.len(), 1, "{events}");
    assert!(
        failed[0].to_string().contains("last lines:\\n********"),
        "the reason is kept, masked: {}",
        failed[0]
    );
    let deployment = app.deployment(deployment_id).await;
    leaked("the deployment", &deployment.to_string());
    for file in files_under(app.dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        leaked(
            &file.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
}
