//! The whole server on the PostgreSQL event log: the workflow, a restart, and the auditor's
//! chain — the same behaviour as on SQLite. Needs `CONVEYOR_TEST_DATABASE_URL` (`.ci/run`
//! sets it); each test runs in a schema of its own.

#[expect(dead_code, reason = "each test binary uses part of the shared harness")]
mod support;

use support::{commit, spawn_app_with};

/// A fresh schema in the test database, as a URL that selects it.
async fn fresh_schema() -> String {
    conveyor_store::contract::fresh_postgres_schema("conveyor_api")
        .await
        .1
}

#[actix_web::test]
async fn the_workflow_runs_on_postgres_and_survives_a_restart() {
    let url = fresh_schema().await;
    let mut app = spawn_app_with(|settings| settings.database = Some(url)).await;
    app.seed().await;
    let (release, _) = app.build_release(&commit("on-postgres"), "1.0.1").await;
    app.run_deployment("dev").await;
    let staging = app.promote(&release, "staging").await.expect(201);
    assert_eq!(staging["status"], "queued");
    let events_before = app.all_events().await;
    assert!(
        !app.data_dir()
            .join(conveyor_api::server::EVENT_LOG_FILE_NAME)
            .exists(),
        "the log is in PostgreSQL, not in the data directory"
    );

    app.restart().await;
    assert_eq!(app.all_events().await, events_before);
    app.run_deployment("staging").await;
    let verify = app
        .get("/api/v1/events/verify", &app.auditor())
        .await
        .expect(200);
    assert_eq!(
        verify["first_bad_position"],
        serde_json::Value::Null,
        "{verify}"
    );
    assert_eq!(verify["checked"], app.head().await);
    let positions: Vec<u64> = app
        .all_events()
        .await
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, (1..=positions.len() as u64).collect::<Vec<_>>());
    let ready = app
        .send(reqwest::Method::GET, "/readyz", None, None, &[])
        .await;
    assert_eq!(ready.status.as_u16(), 200);
}

/// When the database goes away under a running server, `/readyz` says so and the process
/// keeps answering (health, problems) instead of crashing.
#[actix_web::test]
async fn a_lost_database_fails_readiness_not_the_process() {
    let (schema, url) = conveyor_store::contract::fresh_postgres_schema("conveyor_api").await;
    let app = spawn_app_with(|settings| settings.database = Some(url)).await;
    app.create_environment("dev", 0).await;
    let ready = app
        .send(reqwest::Method::GET, "/readyz", None, None, &[])
        .await;
    assert_eq!(ready.status.as_u16(), 200);

    conveyor_store::contract::drop_postgres_schema(&schema).await;
    let ready = app
        .send(reqwest::Method::GET, "/readyz", None, None, &[])
        .await;
    assert_eq!(ready.status.as_u16(), 503, "{}", ready.text());
    let health = app
        .send(reqwest::Method::GET, "/healthz", None, None, &[])
        .await;
    assert_eq!(health.status.as_u16(), 200);
    let listed = app.get("/api/v1/environments", &app.admin()).await;
    assert_eq!(
        listed.status.as_u16(),
        200,
        "reads come from the read model"
    );
    let write = app
        .post(
            "/api/v1/environments",
            &app.admin(),
            &serde_json::json!({"name": "staging"}),
        )
        .await;
    assert!(write.status.is_server_error(), "{}", write.text());
    assert_eq!(
        write.content_type(),
        "application/problem+json",
        "{}",
        write.text()
    );
}
