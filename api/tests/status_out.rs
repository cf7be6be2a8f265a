//! Build statuses out, against a real HTTP server on loopback standing in for the git host:
//! the exact requests (path, auth header, body), retries that are recorded, and a restart
//! that resumes where the reporter stopped.

#[expect(dead_code, reason = "each test binary uses part of the shared harness")]
mod support;

use serde_json::{Value, json};
use support::{StandIn, TestApp, eventually, spawn_app};

async fn github_push(app: &TestApp, stand_in: &StandIn) -> String {
    app.post(
        "/api/v1/integrations",
        &app.admin(),
        &json!({"name": "github", "host": "github", "api_url": stand_in.url, "credentials": "ghp-token"}),
    )
    .await
    .expect(201);
    app.create_environment("dev", 0).await;
    let mut definition = support::project_definition("shop", &[("dev", false)]);
    definition["repository"] = json!("https://github.com/woodpecker-ci/woodpecker.git");
    app.post("/api/v1/projects", &app.admin(), &definition)
        .await
        .expect(201);
    let body = support::webhook_fixture("github-push.json");
    let response = app
        .client
        .post(app.url("/api/v1/hooks/github"))
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-github-delivery", "status-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let answer: Value = response.json().await.unwrap();
    answer["pushes"][0]["builds"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn build_states_reach_github_as_commit_statuses() {
    let stand_in = StandIn::start(0).await;
    let app = spawn_app().await;
    let build = github_push(&app, &stand_in).await;
    app.run_build(&[]).await;
    let received = eventually("two statuses at the host", || async {
        let received = stand_in.received();
        (received.len() >= 2).then_some(received)
    })
    .await;
    let sha = "366701fde727cb7a9e7f21eb88264f59f6f9b89c";
    for (request, state) in received.iter().zip(["pending", "success"]) {
        assert_eq!(
            request.path,
            format!("/repos/woodpecker-ci/woodpecker/statuses/{sha}")
        );
        assert_eq!(request.authorization.as_deref(), Some("Bearer ghp-token"));
        assert_eq!(request.body["state"], state, "{:?}", request.body);
        assert_eq!(request.body["context"], "conveyor/shop");
        assert!(
            request.body["target_url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/api/v1/builds/{build}")),
            "{:?}",
            request.body
        );
    }
    let reports = eventually("the attempts to be recorded", || async {
        let build = app
            .get(&format!("/api/v1/builds/{build}"), &app.admin())
            .await
            .json();
        let reports = build["status_reports"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (reports.len() >= 2).then_some(reports)
    })
    .await;
    assert!(
        reports
            .iter()
            .all(|r| r["delivered"] == true && r["http_status"] == 201),
        "{reports:?}"
    );
    stand_in.handle.stop(false).await;
}

#[actix_web::test]
async fn a_failing_host_is_retried_and_every_attempt_is_visible() {
    let stand_in = StandIn::start(2).await;
    let app = spawn_app().await;
    let build = github_push(&app, &stand_in).await;
    let reports = eventually("the pending status to get through", || async {
        let build = app
            .get(&format!("/api/v1/builds/{build}"), &app.admin())
            .await
            .json();
        let reports = build["status_reports"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        reports
            .iter()
            .any(|r| r["delivered"] == true)
            .then_some(reports)
    })
    .await;
    let outcomes: Vec<(u64, bool, u64)> = reports
        .iter()
        .map(|r| {
            (
                r["attempt"].as_u64().unwrap(),
                r["delivered"].as_bool().unwrap(),
                r["http_status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [(1, false, 500), (2, false, 500), (3, true, 201)],
        "{reports:?}"
    );
    assert!(
        reports[0]["error"]
            .as_str()
            .unwrap()
            .contains("host is down")
    );
    // The workflow was never held up: the build was leasable all along.
    assert!(app.lease("agent-1").await.is_some());
    stand_in.handle.stop(false).await;
}

#[actix_web::test]
async fn a_restart_resumes_reporting_where_it_stopped() {
    let stand_in = StandIn::start(0).await;
    let mut app = spawn_app().await;
    github_push(&app, &stand_in).await;
    eventually("the pending status", || async {
        (!stand_in.received().is_empty()).then_some(())
    })
    .await;
    app.restart().await;
    app.run_build(&[]).await;
    let received = eventually("the success status after the restart", || async {
        let received = stand_in.received();
        received
            .iter()
            .any(|r| r.body["state"] == "success")
            .then_some(received)
    })
    .await;
    let states: Vec<&str> = received
        .iter()
        .map(|r| r.body["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["pending", "success"],
        "each state reported once across the restart"
    );
    stand_in.handle.stop(false).await;
}

#[actix_web::test]
async fn bitbucket_cloud_gets_build_statuses_keyed_by_project() {
    let stand_in = StandIn::start(0).await;
    let app = spawn_app().await;
    app.post(
        "/api/v1/integrations",
        &app.admin(),
        &json!({"name": "bitbucket", "host": "bitbucket_cloud", "api_url": stand_in.url,
                "credentials": "user:app-pass"}),
    )
    .await
    .expect(201);
    app.create_environment("dev", 0).await;
    let mut definition = support::project_definition("shop", &[("dev", false)]);
    definition["repository"] = json!("git@bitbucket.org:martinherren1984/publictestrepo.git");
    app.post("/api/v1/projects", &app.admin(), &definition)
        .await
        .expect(201);
    let body = support::webhook_fixture("bitbucket-cloud-repo-push.json");
    let response = app
        .client
        .post(app.url("/api/v1/hooks/bitbucket"))
        .header("content-type", "application/json")
        .header("x-event-key", "repo:push")
        .header("x-request-uuid", "bb-status-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let job = app.lease_eventually("agent-1").await;
    app.report(&job, "start", json!({})).await.expect(200);
    app.report(
        &job,
        "complete",
        json!({"outcome": "failed", "reason": "tests failed"}),
    )
    .await
    .expect(200);
    let received = eventually("two statuses at the host", || async {
        let received = stand_in.received();
        (received.len() >= 2).then_some(received)
    })
    .await;
    let sha = "c14c1bb05dfb1fdcdf06b31485fff61b0ea44277";
    for (request, state) in received.iter().zip(["INPROGRESS", "FAILED"]) {
        assert_eq!(
            request.path,
            format!(
                "/2.0/repositories/martinherren1984/publictestrepo/commit/{sha}/statuses/build"
            )
        );
        assert_eq!(
            request.authorization.as_deref(),
            Some("Basic dXNlcjphcHAtcGFzcw==")
        );
        assert_eq!(request.body["state"], state);
        // One key per project: a rebuild of the commit overwrites the status.
        assert_eq!(request.body["key"], "conveyor-shop");
        assert_eq!(request.body["name"], "shop #1");
    }
    stand_in.handle.stop(false).await;
}
