//! Release orchestration over HTTP: shared lifecycles and channels, soak time, the deployment
//! queue, rollbacks during a freeze, and retention — each rule's refusal with its status,
//! problem type and reason.

#[expect(dead_code, reason = "each test binary uses part of the shared harness")]
mod support;

use serde_json::{Value, json};
use support::{TestApp, commit, project_definition, spawn_app};

/// Creates dev, qa, perf and production, the `standard` lifecycle — Dev (dev, automatic) →
/// Test (qa and perf, manual, at least 1) → Production (production, manual) — and `shop`,
/// whose `main` channel follows it.
async fn standard(app: &TestApp) -> Value {
    for name in ["dev", "qa", "perf", "production"] {
        app.create_environment(name, 0).await;
    }
    let lifecycle = app
        .post(
            "/api/v1/lifecycles",
            &app.admin(),
            &json!({
                "name": "standard",
                "description": "the main line",
                "phases": [
                    {"name": "Dev", "environments": [{"environment": "dev", "automatic": true}]},
                    {"name": "Test",
                     "environments": [{"environment": "qa"}, {"environment": "perf"}],
                     "progression": {"kind": "at_least", "count": 1}},
                    {"name": "Production", "environments": [{"environment": "production"}]},
                ],
            }),
        )
        .await
        .expect(201);
    let mut project = project_definition("shop", &[]);
    project["channels"] = json!([{"name": "mainline", "branch": "main", "lifecycle": "standard"}]);
    app.post("/api/v1/projects", &app.admin(), &project)
        .await
        .expect(201);
    lifecycle
}

#[actix_web::test]
async fn lifecycles_are_a_shared_resource_with_phases() {
    let app = spawn_app().await;
    let created = standard(&app).await;
    assert_eq!(created["phases"][0]["progression"], json!({"kind": "all"}));
    assert_eq!(
        created["phases"][1]["progression"],
        json!({"kind": "at_least", "count": 1})
    );
    let listed = app
        .get("/api/v1/lifecycles", &app.admin())
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["name"], "standard");
    let shown = app.get("/api/v1/lifecycles/standard", &app.admin()).await;
    assert_eq!(shown.header("etag").as_deref(), Some("\"1\""));

    // Replacing needs the current version; a stale one is 412.
    let mut edited = json!({
        "name": "standard",
        "phases": [{"name": "Dev", "environments": [{"environment": "dev", "automatic": true}]}],
    });
    app.put(
        "/api/v1/lifecycles/standard",
        &app.admin(),
        &edited,
        &[("if-match", "\"7\"")],
    )
    .await
    .expect_problem(412);
    let replaced = app
        .put(
            "/api/v1/lifecycles/standard",
            &app.admin(),
            &edited,
            &[("if-match", "\"1\"")],
        )
        .await
        .expect(200);
    assert_eq!(replaced["version"], 2);

    // Invalid definitions are 422 naming what is wrong; nothing is appended.
    let head = app.head().await;
    for (change, mention) in [
        (
            json!([{"name": "A", "environments": [{"environment": "moon"}]}]),
            "moon",
        ),
        (
            json!([{"name": "A", "environments": [{"environment": "dev"}]},
                   {"name": "B", "environments": [{"environment": "dev"}]}]),
            "twice",
        ),
        (
            json!([{"name": "A", "environments": [{"environment": "dev"}],
                    "progression": {"kind": "at_least", "count": 2}}]),
            "at least 2",
        ),
        (json!([]), "at least one phase"),
    ] {
        edited["phases"] = change;
        let problem = app
            .put("/api/v1/lifecycles/standard", &app.admin(), &edited, &[])
            .await
            .expect_problem(422);
        assert!(
            problem["detail"].as_str().unwrap().contains(mention),
            "{problem}"
        );
    }
    edited["phases"] = json!([{"name": "A", "environments": [{"environment": "dev"}],
                               "progression": {"kind": "sometimes"}}]);
    app.put("/api/v1/lifecycles/standard", &app.admin(), &edited, &[])
        .await
        .expect_problem(400);
    assert_eq!(app.head().await, head);

    // A channel naming a lifecycle that does not exist is 422; a second `standard` is 409.
    let mut project = project_definition("web", &[]);
    project["channels"] = json!([{"name": "all", "branch": "*", "lifecycle": "nowhere"}]);
    let problem = app
        .post("/api/v1/projects", &app.admin(), &project)
        .await
        .expect_problem(422);
    assert!(problem["detail"].as_str().unwrap().contains("nowhere"));
    edited["phases"] = json!([{"name": "A", "environments": [{"environment": "dev"}]}]);
    app.post("/api/v1/lifecycles", &app.admin(), &edited)
        .await
        .expect_problem_type(409, "lifecycle-exists");
    app.get("/api/v1/lifecycles/nowhere", &app.admin())
        .await
        .expect_problem(404);
    app.post(
        "/api/v1/lifecycles",
        &app.token("bob", "read"),
        &json!({"name": "x", "phases": []}),
    )
    .await
    .expect_problem(403);
}

#[actix_web::test]
async fn promotion_before_a_phase_is_met_is_a_409_naming_the_requirement() {
    let app = spawn_app().await;
    standard(&app).await;
    let (release, _) = app.build_release(&commit("phases"), "1.0.1").await;
    assert_eq!(release["lifecycle"]["name"], "standard");
    assert_eq!(release["lifecycle"]["channel"], "mainline");
    assert_eq!(
        release["lifecycle"]["phases"].as_array().map(Vec::len),
        Some(3)
    );

    let problem = app
        .promote(&release, "qa")
        .await
        .expect_problem_type(409, "lifecycle-requirement-unmet");
    assert!(
        problem["detail"].as_str().unwrap().contains("phase Dev"),
        "{problem}"
    );
    app.run_deployment("dev").await;
    let problem = app
        .promote(&release, "production")
        .await
        .expect_problem_type(409, "lifecycle-requirement-unmet");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("phase Test") && detail.contains("at least 1"),
        "{detail}"
    );
    // perf alone meets "at least 1 of qa, perf".
    app.promote(&release, "perf").await.expect(201);
    app.run_deployment("perf").await;
    let production = app.promote(&release, "production").await.expect(201);
    assert_eq!(production["status"], "queued");
    let problem = app.promote(&release, "staging").await.expect_problem(404);
    assert!(problem["detail"].as_str().unwrap().contains("staging"));
}

#[actix_web::test]
async fn soak_time_refuses_an_early_promotion_with_when_it_may_happen() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let staging = app
        .post(
            "/api/v1/environments",
            &app.admin(),
            &json!({"name": "staging", "soak_seconds": 3600}),
        )
        .await
        .expect(201);
    assert_eq!(staging["soak_seconds"], 3600);
    app.create_project("shop", &[("dev", true), ("staging", false)])
        .await;
    let (release, _) = app.build_release(&commit("soak"), "1.0.1").await;
    app.run_deployment("dev").await;
    let head = app.head().await;
    let problem = app
        .promote(&release, "staging")
        .await
        .expect_problem_type(409, "soak-time-not-elapsed");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("3600 s") && detail.contains("may be promoted from"),
        "{detail}"
    );
    assert_eq!(app.head().await, head, "a refusal appends nothing");
}

#[actix_web::test]
async fn the_queue_shows_one_deployment_at_a_time_per_project_in_request_order() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_project("shop", &[("dev", false)]).await;
    let (first, _) = app.build_release(&commit("one"), "1.0.1").await;
    let (second, _) = app.build_release(&commit("two"), "1.0.2").await;
    let (third, _) = app.build_release(&commit("three"), "1.0.3").await;
    let a = app.promote(&first, "dev").await.expect(201);
    let b = app.promote(&second, "dev").await.expect(201);

    let queue = app
        .get("/api/v1/environments/dev/queue", &app.admin())
        .await
        .expect(200);
    let entries = |queue: &Value| -> Vec<(u64, String, String)> {
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["place"].as_u64().unwrap(),
                    e["deployment"]["release_version"].as_str().unwrap().into(),
                    e["deployment"]["status"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert_eq!(
        entries(&queue),
        vec![
            (1, "1.0.1".into(), "queued".into()),
            (2, "1.0.2".into(), "queued".into())
        ]
    );

    // The first is leased: the second waits for it, and an agent gets nothing else.
    let job = app.lease_eventually("agent-1").await;
    assert_eq!(job["job_id"], a["id"], "{job}");
    assert!(app.lease("agent-2").await.is_none(), "one at a time");

    // A newer release may supersede what still waits; that is recorded, not deleted.
    let c = app
        .post(
            &format!(
                "/api/v1/releases/{}/deployments",
                third["id"].as_str().unwrap()
            ),
            &app.admin(),
            &json!({"environment": "dev", "supersede_waiting": true}),
        )
        .await
        .expect(201);
    let queue = app
        .get("/api/v1/environments/dev/queue", &app.admin())
        .await
        .expect(200);
    assert_eq!(
        entries(&queue),
        vec![
            (1, "1.0.1".into(), "queued".into()),
            (2, "1.0.3".into(), "queued".into())
        ],
        "the leased one was not superseded; the waiting one was"
    );
    let superseded = app.deployment(b["id"].as_str().unwrap()).await;
    assert_eq!(superseded["status"], "superseded");
    assert!(
        superseded["reason"].as_str().unwrap().contains("1.0.3"),
        "{superseded}"
    );
    assert_eq!(c["status"], "queued");
    app.get("/api/v1/environments/nowhere/queue", &app.admin())
        .await
        .expect_problem(404);
}

#[actix_web::test]
async fn a_freeze_on_rollbacks_needs_an_override_with_a_reason() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_project("shop", &[("dev", true)]).await;
    app.build_release(&commit("r1"), "1.0.1").await;
    app.run_deployment("dev").await;
    app.build_release(&commit("r2"), "1.0.2").await;
    app.run_deployment("dev").await;
    let now = chrono::Utc::now();
    app.post(
        "/api/v1/environments/dev/freezes",
        &app.admin(),
        &json!({
            "start": (now - chrono::Duration::hours(1)).to_rfc3339(),
            "end": (now + chrono::Duration::hours(1)).to_rfc3339(),
            "reason": "audit",
            "applies_to_rollback": true,
        }),
    )
    .await
    .expect(201);
    let rollback = |body: Value, token: String| {
        let app = &app;
        async move {
            app.post("/api/v1/environments/dev/rollback", &token, &body)
                .await
        }
    };
    let problem = rollback(json!({"project": "shop"}), app.admin())
        .await
        .expect_problem_type(409, "environment-frozen");
    assert!(problem["detail"].as_str().unwrap().contains("audit"));
    rollback(
        json!({"project": "shop", "override_freeze": "bad release"}),
        app.token("ops", "deploy:dev"),
    )
    .await
    .expect_problem(403);
    rollback(
        json!({"project": "shop", "override_freeze": " "}),
        app.token("ops", "deploy:dev freeze:override"),
    )
    .await
    .expect_problem(422);
    let done = rollback(
        json!({"project": "shop", "override_freeze": "1.0.2 corrupts carts"}),
        app.token("ops", "deploy:dev freeze:override"),
    )
    .await
    .expect(201);
    assert_eq!(done["kind"], "rollback");
    assert_eq!(done["release_version"], "1.0.1");
    let requested = app.events_of_type("DeploymentRequested").await;
    assert_eq!(
        requested.last().unwrap()["payload"]["freeze_override"],
        json!({"by": "ops", "reason": "1.0.2 corrupts carts"})
    );
}

#[actix_web::test]
async fn retention_deletes_old_releases_content_as_an_event_and_keeps_their_history() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let mut project = project_definition("shop", &[("dev", true)]);
    project["retention"] = json!({"keep_releases_per_environment": 1});
    let created = app
        .post("/api/v1/projects", &app.admin(), &project)
        .await
        .expect(201);
    assert_eq!(created["retention"]["keep_releases_per_environment"], 1);
    let mut releases = Vec::new();
    for (seed, version) in [("a", "1.0.1"), ("b", "1.0.2"), ("c", "1.0.3")] {
        let (release, artifacts) = app.build_release(&commit(seed), version).await;
        app.run_deployment("dev").await;
        releases.push((release, artifacts[0]["sha256"].as_str().unwrap().to_owned()));
    }

    app.post(
        "/api/v1/retention/run",
        &app.token("bob", "read"),
        &json!({}),
    )
    .await
    .expect_problem(403);
    let run = app
        .post("/api/v1/retention/run", &app.admin(), &json!({}))
        .await
        .expect(200);
    let mut deleted: Vec<&str> = run["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    deleted.sort();
    assert_eq!(deleted, vec!["1.0.1", "1.0.2"], "{run}");

    let (old, old_sha) = &releases[0];
    let (_, live_sha) = &releases[2];
    let gone = app
        .get(&format!("/api/v1/artifacts/{old_sha}"), &app.admin())
        .await
        .expect_problem_type(410, "content-deleted");
    assert!(
        gone["detail"].as_str().unwrap().contains("release 1.0.1"),
        "{gone}"
    );
    let blob = app
        .data_dir()
        .join("blobs/sha256")
        .join(&old_sha[..2])
        .join(&old_sha[2..]);
    assert!(!blob.exists(), "the bytes are gone from disk");
    let kept = app
        .get(&format!("/api/v1/artifacts/{live_sha}"), &app.admin())
        .await;
    assert_eq!(kept.status.as_u16(), 200);
    assert!(
        kept.text().contains("shop 1.0.3"),
        "the live release keeps its bytes"
    );
    let build_log = format!("/api/v1/builds/{}/log", old["build_id"].as_str().unwrap());
    app.get(&build_log, &app.admin())
        .await
        .expect_problem_type(410, "content-deleted");

    // The release and its history stay; it can no longer be deployed.
    let shown = app
        .get(
            &format!("/api/v1/releases/{}", old["id"].as_str().unwrap()),
            &app.admin(),
        )
        .await
        .expect(200);
    assert!(
        shown["content_deleted"]
            .as_str()
            .unwrap()
            .contains("keeps the last 1"),
        "{shown}"
    );
    let history = app
        .get("/api/v1/environments/dev/history", &app.admin())
        .await
        .expect(200);
    assert_eq!(history["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(app.events_of_type("ReleaseContentDeleted").await.len(), 2);
    app.promote(old, "dev")
        .await
        .expect_problem_type(409, "release-content-deleted");

    // A second run has nothing left to do.
    let again = app
        .post("/api/v1/retention/run", &app.admin(), &json!({}))
        .await
        .expect(200);
    assert_eq!(again["releases"], json!([]));

    // Bytes a crash left behind after the deletion was recorded go on the next run.
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, b"left behind").unwrap();
    app.post("/api/v1/retention/run", &app.admin(), &json!({}))
        .await
        .expect(200);
    assert!(
        !blob.exists(),
        "a recorded deletion is finished by the next run"
    );
}

#[actix_web::test]
async fn a_freeze_that_begins_later_holds_queued_deployments_which_survive_a_restart() {
    let mut app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_project("shop", &[("dev", false)]).await;
    let (first, _) = app.build_release(&commit("q1"), "1.0.1").await;
    let (second, _) = app.build_release(&commit("q2"), "1.0.2").await;
    let a = app.promote(&first, "dev").await.expect(201);
    let b = app.promote(&second, "dev").await.expect(201);
    let now = chrono::Utc::now();
    let freeze = app
        .post(
            "/api/v1/environments/dev/freezes",
            &app.admin(),
            &json!({
                "start": (now - chrono::Duration::minutes(1)).to_rfc3339(),
                "end": (now + chrono::Duration::hours(1)).to_rfc3339(),
                "reason": "incident",
            }),
        )
        .await
        .expect(201);
    assert!(
        app.lease("agent-1").await.is_none(),
        "nothing starts while the environment is frozen"
    );

    app.restart().await;
    let queue = app
        .get("/api/v1/environments/dev/queue", &app.admin())
        .await
        .expect(200);
    let ids: Vec<&Value> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["deployment"]["id"])
        .collect();
    assert_eq!(
        ids,
        vec![&a["id"], &b["id"]],
        "the queue is the log's: it survives"
    );
    assert!(app.lease("agent-1").await.is_none());

    let id = freeze["freezes"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/environments/dev/freezes/{id}/remove"),
        &app.admin(),
        &json!({}),
    )
    .await
    .expect(200);
    let job = app.lease_eventually("agent-1").await;
    assert_eq!(job["job_id"], a["id"], "first in, first out");
}
