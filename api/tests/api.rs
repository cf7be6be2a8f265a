//! The API's integration tests: each starts the real server on port 0 over a fresh temporary
//! data directory and drives it over HTTP, as external UIs, bots, agents and auditors do.

#[expect(dead_code, reason = "each test binary uses part of the shared harness")]
mod support;

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use support::{
    Answer, PROBLEM_JSON, REPOSITORY, SECRET_VALUE, TestApp, commit, eventually,
    project_definition, spawn_app, spawn_app_with,
};

/// The artifacts (name, sha256, size) of a release, build or lease answer.
fn artifacts(value: &Value) -> Vec<Value> {
    value["artifacts"].as_array().expect("artifacts").clone()
}

/// The items of a page.
fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().expect("items").clone()
}

/// Asserts the sensitive value is absent and the variable is masked.
#[track_caller]
fn assert_masked(what: &str, answer: &Answer) {
    assert!(
        !answer.text().contains(SECRET_VALUE),
        "{what} shows the secret in clear: {}",
        answer.text()
    );
    let body = answer.json();
    let variables = body["variables"].as_array().expect("variables");
    let secret = variables
        .iter()
        .find(|v| v["name"] == "DB_PASSWORD")
        .expect("DB_PASSWORD");
    assert_eq!(secret["value"], "********", "{what}: {secret}");
    assert_eq!(secret["sensitive"], true);
    let plain = variables
        .iter()
        .find(|v| v["name"] == "LOG_LEVEL")
        .expect("LOG_LEVEL");
    assert_eq!(plain["value"], "info", "{what}: plain variables are shown");
}

/// The seed walk-through: push → build → release → dev (automatic) → staging → production
/// (approved by a second subject), a second release through to production, then a rollback
/// that deploys the first release's exact artifacts.
#[actix_web::test]
async fn walk_through_from_push_to_rollback() {
    let app = spawn_app().await;
    let project = app.seed().await;
    assert_eq!(project["name"], "shop");
    assert_eq!(project["lifecycle"].as_array().map(Vec::len), Some(3));

    // A push queues one build.
    let push = app.push(&commit("first")).await;
    let builds = push["builds"].as_array().expect("builds");
    assert_eq!(builds.len(), 1, "{push}");
    assert_eq!(builds[0]["status"], "queued");
    assert_eq!(builds[0]["project"], "shop");
    let build_id = builds[0]["id"].as_str().unwrap().to_owned();

    // The agent builds it.
    let (job, built) = app
        .run_build(&[("dist/shop.tar.gz", b"the shop, first edition")])
        .await;
    assert_eq!(job["job_id"], build_id.as_str());
    assert_eq!(job["repository"], REPOSITORY);
    assert_eq!(job["commit"], commit("first"));
    let build = app
        .get(&format!("/api/v1/builds/{build_id}"), &app.admin())
        .await
        .expect(200);
    assert_eq!(build["status"], "succeeded");
    assert_eq!(artifacts(&build), built);

    // The release 1.0.1 holds the artifact, and dev was deployed automatically.
    let first = app.release("1.0.1").await;
    assert_eq!(artifacts(&first), built);
    assert_eq!(first["build_id"], build_id.as_str());
    let first_id = first["id"].as_str().unwrap().to_owned();
    let dev = eventually("the automatic dev deployment", || async {
        app.deployments(&format!("release={first_id}&environment=dev"))
            .await
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(dev["kind"], "deploy");
    assert_eq!(dev["requested_by"], "system");

    // The agent deploys to dev and receives the variables, the secret in clear.
    let lease = app.run_deployment("dev").await;
    assert_eq!(lease["job_id"], dev["id"]);
    assert_eq!(lease["release_version"], "1.0.1");
    assert_eq!(artifacts(&lease), built);
    let variables = lease["variables"].as_array().expect("variables");
    let secret = variables
        .iter()
        .find(|v| v["name"] == "DB_PASSWORD")
        .expect("the secret variable");
    assert_eq!(secret["value"], SECRET_VALUE);
    assert_eq!(secret["sensitive"], true);
    assert!(
        variables
            .iter()
            .any(|v| v["name"] == "LOG_LEVEL" && v["value"] == "info")
    );
    app.deployment_reaches(dev["id"].as_str().unwrap(), "succeeded")
        .await;

    // Production before staging is refused, naming the rule.
    let skipped = app.promote(&first, "production").await;
    skipped.expect_problem_type(409, "lifecycle-requirement-unmet");

    // Staging needs no approval.
    let staging = app.promote(&first, "staging").await.expect(201);
    assert_eq!(staging["status"], "queued");
    assert_eq!(staging["kind"], "deploy");
    app.run_deployment("staging").await;
    app.deployment_reaches(staging["id"].as_str().unwrap(), "succeeded")
        .await;

    // Production needs one approval, not from the requester.
    let production = app.promote(&first, "production").await.expect(201);
    assert_eq!(production["status"], "awaiting_approval");
    assert_eq!(production["required_approvals"], 1);
    assert_eq!(production["requested_by"], "admin");
    let production_id = production["id"].as_str().unwrap().to_owned();
    let approvals = format!("/api/v1/deployments/{production_id}/approvals");
    let by_admin = app
        .post(
            &approvals,
            &app.admin(),
            &json!({"decision": "approve", "comment": "mine"}),
        )
        .await;
    let problem = by_admin.expect_problem_type(403, "forbidden");
    assert_eq!(problem["missing_scope"], "approve:production");
    let self_approval = app.approve(&production, "admin").await;
    self_approval.expect_problem_type(409, "self-approval");
    assert_eq!(
        app.lease("agent-1").await,
        None,
        "nothing is leasable before the approval"
    );
    let approved = app.approve(&production, "approver").await.expect(200);
    assert_eq!(approved["status"], "queued");
    assert_eq!(approved["approvals"][0]["subject"], "approver");
    assert_eq!(approved["approvals"][0]["decision"], "approve");
    assert_eq!(approved["approvals"][0]["comment"], "looks good");
    assert!(approved["approvals"][0]["token_id"].is_string());
    assert!(
        approved["approvals"][0]["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("approve:production"))
    );
    app.run_deployment("production").await;
    app.deployment_reaches(&production_id, "succeeded").await;

    // A second release goes through to production.
    let (second, second_artifacts) = app.build_release(&commit("second"), "1.0.2").await;
    assert_ne!(second_artifacts, built);
    let second_id = second["id"].as_str().unwrap().to_owned();
    app.run_deployment("dev").await;
    let staging = app.promote(&second, "staging").await.expect(201);
    app.run_deployment("staging").await;
    app.deployment_reaches(staging["id"].as_str().unwrap(), "succeeded")
        .await;
    let production2 = app.promote(&second, "production").await.expect(201);
    app.approve(&production2, "approver").await.expect(200);
    let lease = app.run_deployment("production").await;
    assert_eq!(lease["release_id"], second_id.as_str());
    app.deployment_reaches(production2["id"].as_str().unwrap(), "succeeded")
        .await;

    // Rolling production back deploys 1.0.1 again, reverting 1.0.2's deployment.
    let rollback = app
        .post(
            "/api/v1/environments/production/rollback",
            &app.admin(),
            &json!({"project": "shop"}),
        )
        .await
        .expect(201);
    assert_eq!(rollback["kind"], "rollback", "{rollback}");
    assert_eq!(rollback["release_id"], first_id.as_str());
    assert_eq!(rollback["release_version"], "1.0.1");
    assert_eq!(rollback["reverts"], production2["id"]);
    assert_eq!(rollback["environment"], "production");
    assert_eq!(rollback["status"], "awaiting_approval");
    app.approve(&rollback, "approver").await.expect(200);
    let lease = app.run_deployment("production").await;
    assert_eq!(lease["job_id"], rollback["id"]);
    assert_eq!(lease["release_id"], first_id.as_str());
    let rollback = app
        .deployment_reaches(rollback["id"].as_str().unwrap(), "succeeded")
        .await;
    assert_eq!(rollback["kind"], "rollback");

    // The rollback deployed exactly what 1.0.1 was built with.
    let first_again = app
        .get(&format!("/api/v1/releases/{first_id}"), &app.admin())
        .await
        .expect(200);
    assert_eq!(artifacts(&first_again), built);
    assert_eq!(artifacts(&lease), built);
    assert_eq!(
        first_again["artifacts"][0]["sha256"],
        support::sha256_hex(b"the shop, first edition")
    );

    // The rollback's causation points at the success of what it reverts.
    let events = app.all_events().await;
    let requested = events
        .iter()
        .find(|e| {
            e["type"] == "DeploymentRequested"
                && e["stream"] == format!("deployment-{}", rollback["id"].as_str().unwrap())
        })
        .expect("the rollback's DeploymentRequested");
    let reverted_success = events
        .iter()
        .find(|e| {
            e["type"] == "DeploymentSucceeded"
                && e["stream"] == format!("deployment-{}", production2["id"].as_str().unwrap())
        })
        .expect("1.0.2's DeploymentSucceeded in production");
    assert_eq!(requested["causation_id"], reverted_success["id"]);

    // The secret never shows in clear outside the agent's lease.
    let admin = app.admin();
    let auditor = app.auditor();
    let mut after = 0;
    loop {
        let page = app
            .get(&format!("/api/v1/events?after={after}&limit=7"), &auditor)
            .await;
        page.expect(200);
        assert!(
            !page.text().contains(SECRET_VALUE),
            "the event log shows the secret"
        );
        match page.json()["next_cursor"].as_str() {
            Some(cursor) => after = cursor.parse().unwrap(),
            None => break,
        }
    }
    assert_masked(
        "the project",
        &app.get("/api/v1/projects/shop", &admin).await,
    );
    assert_masked(
        "the release",
        &app.get(&format!("/api/v1/releases/{first_id}"), &admin)
            .await,
    );
    for path in [
        "/api/v1/projects",
        "/api/v1/releases",
        "/api/v1/deployments",
        "/api/v1/builds",
    ] {
        let answer = app.get(path, &admin).await;
        answer.expect(200);
        assert!(
            !answer.text().contains(SECRET_VALUE),
            "{path} shows the secret"
        );
    }
    let verify = app.get("/api/v1/events/verify", &auditor).await.expect(200);
    assert_eq!(verify["intact"], true, "{verify}");
}

/// Builds the first release of a project whose only stage is production (one approval) and
/// promotes it; returns the deployment awaiting approval.
async fn production_awaiting_approval(app: &TestApp) -> Value {
    app.create_environment("production", 1).await;
    app.create_project("shop", &[("production", false)]).await;
    let (release, _) = app.build_release(&commit("reject"), "1.0.1").await;
    let deployment = app.promote(&release, "production").await.expect(201);
    assert_eq!(deployment["status"], "awaiting_approval");
    deployment
}

/// A rejection needs a comment, ends the deployment, and nothing can revive it.
#[actix_web::test]
async fn rejection_ends_a_deployment() {
    let app = spawn_app().await;
    let deployment = production_awaiting_approval(&app).await;
    let id = deployment["id"].as_str().unwrap();
    let path = format!("/api/v1/deployments/{id}/approvals");
    let approver = app.token("approver", "approve:production");
    let head = app.head().await;

    app.post(&path, &approver, &json!({"decision": "reject"}))
        .await
        .expect_problem(422);
    app.post(
        &path,
        &approver,
        &json!({"decision": "reject", "comment": "  "}),
    )
    .await
    .expect_problem(422);
    assert_eq!(
        app.head().await,
        head,
        "a refused rejection appended events"
    );

    let rejected = app
        .post(
            &path,
            &approver,
            &json!({"decision": "reject", "comment": "not during the sale"}),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    let decision = rejected["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["decision"] == "reject")
        .expect("the rejection")
        .clone();
    assert_eq!(decision["subject"], "approver");
    assert_eq!(decision["comment"], "not during the sale");

    let late = app
        .post(
            &path,
            &app.token("second-approver", "approve:production"),
            &json!({"decision": "approve", "comment": "too late"}),
        )
        .await;
    late.expect_problem(409);
    assert_eq!(
        app.lease("agent-1").await,
        None,
        "a rejected deployment is leasable"
    );
    assert_eq!(app.deployment(id).await["status"], "rejected");
    let rejected_events = app.events_of_type("DeploymentRejected").await;
    assert_eq!(rejected_events.len(), 1);
    assert_eq!(rejected_events[0]["actor"], "approver");
}

/// A retried mutation with the same `Idempotency-Key` answers the first answer and acts once.
#[actix_web::test]
async fn idempotency_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let admin = app.admin();
    let body = json!({"name": "dev", "approval_policy": {"required_approvals": 0}});
    let headers = [("idempotency-key", "k1")];
    let first = app
        .send(
            Method::POST,
            "/api/v1/environments",
            Some(&admin),
            Some(&body),
            &headers,
        )
        .await;
    first.expect(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = app
        .send(
            Method::POST,
            "/api/v1/environments",
            Some(&admin),
            Some(&body),
            &headers,
        )
        .await;
    assert_eq!(retry.status, first.status);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(app.events_of_type("EnvironmentCreated").await.len(), 1);

    // Without the key the same request is a real second attempt: a conflict.
    app.post("/api/v1/environments", &admin, &body)
        .await
        .expect_problem(409);

    let other = json!({"name": "staging"});
    app.send(
        Method::POST,
        "/api/v1/environments",
        Some(&admin),
        Some(&other),
        &headers,
    )
    .await
    .expect_problem_type(422, "idempotency-key-reused");
    assert_eq!(app.events_of_type("EnvironmentCreated").await.len(), 1);

    // A push retried with the same key queues one build.
    app.post(
        "/api/v1/projects",
        &admin,
        &project_definition("shop", &[("dev", true)]),
    )
    .await
    .expect(201);
    let pusher = app.token("pusher", "push");
    let push =
        json!({"repository": REPOSITORY, "ref": "refs/heads/main", "commit": commit("once")});
    let push_headers = [("idempotency-key", "push-once")];
    let first = app
        .send(
            Method::POST,
            "/api/v1/pushes",
            Some(&pusher),
            Some(&push),
            &push_headers,
        )
        .await;
    let retry = app
        .send(
            Method::POST,
            "/api/v1/pushes",
            Some(&pusher),
            Some(&push),
            &push_headers,
        )
        .await;
    assert_eq!(first.expect(202)["push_id"], retry.expect(202)["push_id"]);
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    let builds = app.get("/api/v1/builds", &admin).await.expect(200);
    assert_eq!(items(&builds).len(), 1, "{builds}");
    assert_eq!(app.events_of_type("PushReceived").await.len(), 1);
    assert_eq!(app.events_of_type("BuildQueued").await.len(), 1);
}

/// `If-Match` guards project updates: a stale version is 412, the current one succeeds and the
/// `ETag` moves on.
#[actix_web::test]
async fn if_match_guards_project_updates() {
    let app = spawn_app().await;
    let admin = app.admin();
    app.create_environment("dev", 0).await;
    let created = app
        .post(
            "/api/v1/projects",
            &admin,
            &project_definition("shop", &[("dev", true)]),
        )
        .await;
    created.expect(201);
    let etag = |answer: &Answer| -> u64 {
        answer
            .header("etag")
            .expect("an ETag")
            .trim_matches('"')
            .parse()
            .expect("a version")
    };
    let v1 = etag(&created);
    assert_eq!(created.json()["version"], v1);

    let mut definition = project_definition("shop", &[("dev", false)]);
    definition["description"] = json!("changed once");
    let first = app
        .put(
            "/api/v1/projects/shop",
            &admin,
            &definition,
            &[("if-match", &format!("\"{v1}\""))],
        )
        .await;
    assert_eq!(first.expect(200)["description"], "changed once");
    let v2 = etag(&first);
    assert_eq!(v2, v1 + 1);

    let head = app.head().await;
    definition["description"] = json!("lost update");
    app.put(
        "/api/v1/projects/shop",
        &admin,
        &definition,
        &[("if-match", &format!("\"{v1}\""))],
    )
    .await
    .expect_problem_type(412, "precondition-failed");
    assert_eq!(app.head().await, head, "a 412 appended events");
    app.put(
        "/api/v1/projects/shop",
        &admin,
        &definition,
        &[("if-match", "not-a-version")],
    )
    .await
    .expect_problem(400);

    definition["description"] = json!("changed twice");
    let second = app
        .put(
            "/api/v1/projects/shop",
            &admin,
            &definition,
            &[("if-match", &format!("\"{v2}\""))],
        )
        .await;
    assert_eq!(second.expect(200)["description"], "changed twice");
    let v3 = etag(&second);
    assert_eq!(v3, v2 + 1);
    let shown = app.get("/api/v1/projects/shop", &admin).await;
    assert_eq!(etag(&shown), v3);
    assert_eq!(shown.json()["version"], v3);
    assert_eq!(shown.json()["description"], "changed twice");
}

/// Bad input answers 4xx problem+json (never 5xx) and appends nothing.
#[actix_web::test]
async fn bad_input_appends_nothing_and_never_fails_the_server() {
    let app = spawn_app().await;
    app.seed().await;
    let (release, _) = app.build_release(&commit("bad-input"), "1.0.1").await;
    let release_id = release["id"].as_str().unwrap();
    let admin = app.admin();
    let auditor = app.auditor();
    let approver = app.token("approver", "approve:*");
    let agent = app.agent_token();
    let pusher = app.token("pusher", "push");
    let releaser = app.token("releaser", "release");
    let head = app.head().await;
    let unknown = uuid::Uuid::new_v4();

    let valid_project = project_definition("other", &[("dev", true)]);
    let mut unknown_env = valid_project.clone();
    unknown_env["lifecycle"] = json!([{"environment": "nowhere", "automatic": true}]);
    let mut bad_name_project = valid_project.clone();
    bad_name_project["name"] = json!("Not A Name");

    // (what, method, path, token, raw body, accepted statuses, field the problem must name)
    type Case<'a> = (
        &'a str,
        Method,
        String,
        &'a str,
        Option<String>,
        &'a [u16],
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            Method::POST,
            "/api/v1/environments".into(),
            &admin,
            Some(r#"{"name": "qa""#.into()),
            &[400],
            None,
        ),
        (
            "not an object",
            Method::POST,
            "/api/v1/environments".into(),
            &admin,
            Some("[1, 2]".into()),
            &[400],
            None,
        ),
        (
            "wrong type",
            Method::POST,
            "/api/v1/environments".into(),
            &admin,
            Some(r#"{"name": "qa", "approval_policy": {"required_approvals": "two"}}"#.into()),
            &[400],
            None,
        ),
        (
            "missing field",
            Method::POST,
            "/api/v1/projects".into(),
            &admin,
            Some(r#"{"name": "other"}"#.into()),
            &[400],
            Some("repository"),
        ),
        (
            "unknown field",
            Method::POST,
            "/api/v1/environments".into(),
            &admin,
            Some(r#"{"name": "qa", "colour": "blue"}"#.into()),
            &[400],
            Some("colour"),
        ),
        (
            "unknown lifecycle environment",
            Method::POST,
            "/api/v1/projects".into(),
            &admin,
            Some(unknown_env.to_string()),
            &[422],
            None,
        ),
        (
            "invalid environment name",
            Method::POST,
            "/api/v1/environments".into(),
            &admin,
            Some(r#"{"name": "Prod!"}"#.into()),
            &[422],
            Some("name"),
        ),
        (
            "empty environment name",
            Method::POST,
            "/api/v1/environments".into(),
            &admin,
            Some(r#"{"name": ""}"#.into()),
            &[422],
            Some("name"),
        ),
        (
            "invalid project name",
            Method::POST,
            "/api/v1/projects".into(),
            &admin,
            Some(bad_name_project.to_string()),
            &[422],
            Some("name"),
        ),
        (
            "too many approvals",
            Method::POST,
            "/api/v1/environments".into(),
            &admin,
            Some(r#"{"name": "qa", "approval_policy": {"required_approvals": 1000}}"#.into()),
            &[422],
            None,
        ),
        (
            "invalid commit",
            Method::POST,
            "/api/v1/pushes".into(),
            &pusher,
            Some(
                json!({"repository": REPOSITORY, "ref": "main", "commit": "not hex!"}).to_string(),
            ),
            &[422],
            None,
        ),
        (
            "unknown release",
            Method::GET,
            format!("/api/v1/releases/{unknown}"),
            &admin,
            None,
            &[404],
            None,
        ),
        (
            "unknown deployment",
            Method::GET,
            format!("/api/v1/deployments/{unknown}"),
            &admin,
            None,
            &[404],
            None,
        ),
        (
            "unknown build",
            Method::GET,
            format!("/api/v1/builds/{unknown}"),
            &admin,
            None,
            &[404],
            None,
        ),
        (
            "unknown project",
            Method::GET,
            "/api/v1/projects/nope".into(),
            &admin,
            None,
            &[404],
            None,
        ),
        (
            "unknown environment",
            Method::GET,
            "/api/v1/environments/nope".into(),
            &admin,
            None,
            &[404],
            None,
        ),
        (
            "promote unknown release",
            Method::POST,
            format!("/api/v1/releases/{unknown}/deployments"),
            &admin,
            Some(r#"{"environment": "dev"}"#.into()),
            &[404],
            None,
        ),
        (
            "promote into unknown environment",
            Method::POST,
            format!("/api/v1/releases/{release_id}/deployments"),
            &admin,
            Some(r#"{"environment": "nowhere"}"#.into()),
            &[404, 409],
            None,
        ),
        (
            "release from unknown build",
            Method::POST,
            "/api/v1/releases".into(),
            &releaser,
            Some(json!({"build_id": unknown}).to_string()),
            &[404],
            None,
        ),
        (
            "approve unknown deployment",
            Method::POST,
            format!("/api/v1/deployments/{unknown}/approvals"),
            &approver,
            Some(r#"{"decision": "approve"}"#.into()),
            &[404],
            None,
        ),
        (
            "bad decision",
            Method::POST,
            format!("/api/v1/deployments/{unknown}/approvals"),
            &approver,
            Some(r#"{"decision": "maybe"}"#.into()),
            &[400, 404],
            None,
        ),
        (
            "start unknown job",
            Method::POST,
            format!("/api/v1/jobs/{unknown}/start"),
            &agent,
            Some(json!({"lease_id": unknown}).to_string()),
            &[404],
            None,
        ),
        (
            "rollback unknown project",
            Method::POST,
            "/api/v1/environments/production/rollback".into(),
            &admin,
            Some(r#"{"project": "nope"}"#.into()),
            &[404],
            None,
        ),
        (
            "rollback with nothing to roll back to",
            Method::POST,
            "/api/v1/environments/production/rollback".into(),
            &admin,
            Some(r#"{"project": "shop"}"#.into()),
            &[409],
            None,
        ),
        (
            "non-UUID build id",
            Method::GET,
            "/api/v1/builds/not-a-uuid".into(),
            &admin,
            None,
            &[400, 404],
            None,
        ),
        (
            "non-UUID release id",
            Method::POST,
            "/api/v1/releases/not-a-uuid/deployments".into(),
            &admin,
            Some(r#"{"environment": "dev"}"#.into()),
            &[400, 404],
            None,
        ),
        (
            "non-UUID job id",
            Method::POST,
            "/api/v1/jobs/42/complete".into(),
            &agent,
            Some(json!({"lease_id": unknown, "outcome": "succeeded"}).to_string()),
            &[400, 404],
            None,
        ),
        (
            "events with a bad from",
            Method::GET,
            "/api/v1/events?from=yesterday".into(),
            &auditor,
            None,
            &[400],
            None,
        ),
        (
            "events with a bad after",
            Method::GET,
            "/api/v1/events?after=-1".into(),
            &auditor,
            None,
            &[400],
            None,
        ),
        (
            "events with limit 0",
            Method::GET,
            "/api/v1/events?limit=0".into(),
            &auditor,
            None,
            &[400, 422],
            None,
        ),
        (
            "builds of an invalid project",
            Method::GET,
            "/api/v1/builds?project=Not%20Valid".into(),
            &admin,
            None,
            &[422],
            Some("project"),
        ),
        (
            "unknown route",
            Method::GET,
            "/api/v1/nothing-here".into(),
            &admin,
            None,
            &[404],
            None,
        ),
        (
            "lease with an empty agent",
            Method::POST,
            "/api/v1/agents/lease".into(),
            &agent,
            Some(r#"{"agent": ""}"#.into()),
            &[422],
            None,
        ),
    ];
    for (what, method, path, token, body, statuses, field) in cases {
        let answer = match &body {
            Some(body) => app.send_raw(method, &path, token, body).await,
            None => app.send(method, &path, Some(token), None, &[]).await,
        };
        let status = answer.status.as_u16();
        assert!(
            statuses.contains(&status),
            "{what}: expected {statuses:?}, got {status}: {}",
            answer.text()
        );
        let problem = answer.expect_problem(status);
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "{what}: {problem}");
        }
        assert_eq!(app.head().await, head, "{what} appended events");
    }

    // The server is still healthy and accepts good input.
    app.post("/api/v1/environments", &admin, &json!({"name": "qa"}))
        .await
        .expect(201);
    assert!(app.head().await > head);
}

/// A restart over the same data directory keeps every list, the chain and accepts new work.
#[actix_web::test]
async fn restart_keeps_everything() {
    let mut app = spawn_app().await;
    app.seed().await;
    let (release, _) = app.build_release(&commit("before-restart"), "1.0.1").await;
    app.run_deployment("dev").await;
    let staging = app.promote(&release, "staging").await.expect(201);
    assert_eq!(staging["status"], "queued");
    // A second push stays queued across the restart.
    app.push(&commit("queued-across-restart")).await;

    let admin = app.admin();
    let lists = [
        "/api/v1/environments",
        "/api/v1/projects",
        "/api/v1/builds",
        "/api/v1/releases",
        "/api/v1/deployments",
        "/api/v1/environments/dev/history",
    ];
    let mut before = Vec::new();
    for path in lists {
        before.push(app.get(path, &admin).await.expect(200));
    }
    let events_before = app.all_events().await;

    app.restart().await;
    assert!(
        app.dir
            .path()
            .join(conveyor_api::server::EVENT_LOG_FILE_NAME)
            .exists(),
        "the log lives in the data directory"
    );
    assert!(app.server().engine().is_running());

    for (path, before) in lists.iter().zip(&before) {
        let after = app.get(path, &admin).await.expect(200);
        assert_eq!(&after, before, "{path} changed across the restart");
    }
    assert_eq!(app.all_events().await, events_before);
    let verify = app
        .get("/api/v1/events/verify", &app.auditor())
        .await
        .expect(200);
    assert_eq!(verify["intact"], true, "{verify}");
    assert_eq!(verify["checked"], events_before.len());

    // The queued jobs are still there and new work is accepted, without re-reacting to old
    // events (no duplicate build, release or deployment).
    let job = app.lease_eventually("agent-1").await;
    assert!(
        job["kind"] == "build" || job["kind"] == "deployment",
        "{job}"
    );
    app.create_environment("qa", 0).await;
    let push = app.push(&commit("after-restart")).await;
    assert_eq!(push["builds"].as_array().map(Vec::len), Some(1));
    let builds = app.get("/api/v1/builds", &admin).await.expect(200);
    assert_eq!(items(&builds).len(), 3);
    let releases = app.get("/api/v1/releases", &admin).await.expect(200);
    assert_eq!(items(&releases).len(), 1);
}

/// Agent protocol: with nothing queued a lease is 204 and appends nothing; it needs `agent`.
#[actix_web::test]
async fn lease_with_nothing_queued_is_no_content() {
    let app = spawn_app().await;
    let answer = app
        .post(
            "/api/v1/agents/lease",
            &app.agent_token(),
            &json!({"agent": "agent-1"}),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 204);
    assert!(answer.body.is_empty());
    app.post(
        "/api/v1/agents/lease",
        &app.token("not-an-agent", "read"),
        &json!({"agent": "agent-1"}),
    )
    .await
    .expect_problem_type(403, "forbidden");
    assert_eq!(app.head().await, 0);
}

/// Agent protocol: once a lease lapses another agent gets the job, and the first agent's late
/// reports are 409 (`lease-superseded` or `lease-expired`) and append nothing.
#[actix_web::test]
async fn late_report_from_an_expired_lease_is_refused() {
    let app = spawn_app_with(|settings| settings.lease_seconds = 1).await;
    app.create_environment("dev", 0).await;
    app.create_project("shop", &[("dev", true)]).await;
    app.push(&commit("slow")).await;
    let first = app.lease("agent-a").await.expect("a build to lease");
    assert_eq!(first["lease"]["attempt"], 1);
    assert_eq!(first["lease"]["agent"], "agent-a");

    // Once the lease lapses a second agent gets the job.
    let second = eventually("the lease to lapse", || app.lease("agent-b")).await;
    assert_eq!(second["job_id"], first["job_id"]);
    assert_eq!(second["lease"]["agent"], "agent-b");
    assert_eq!(second["lease"]["attempt"], 2);
    assert_ne!(second["lease"]["lease_id"], first["lease"]["lease_id"]);

    let head = app.head().await;
    let late = app
        .report(&first, "complete", json!({"outcome": "succeeded"}))
        .await;
    let problem = late.expect_problem(409);
    let kind = problem["type"].as_str().unwrap();
    assert!(
        kind.ends_with("/lease-superseded") || kind.ends_with("/lease-expired"),
        "{problem}"
    );
    app.report(&first, "start", json!({}))
        .await
        .expect_problem(409);
    assert_eq!(app.head().await, head, "late reports appended events");
    let build = app
        .get(
            &format!("/api/v1/builds/{}", first["job_id"].as_str().unwrap()),
            &app.admin(),
        )
        .await
        .expect(200);
    assert_ne!(build["status"], "succeeded");
    assert_eq!(build["lease"]["agent"], "agent-b");
}

/// Agent protocol: four agents racing for one queued job: exactly one gets it.
#[actix_web::test]
async fn concurrent_leases_hand_out_one_job_once() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_project("shop", &[("dev", true)]).await;
    app.push(&commit("contended")).await;
    let agents = ["agent-1", "agent-2", "agent-3", "agent-4"];
    let token = app.agent_token();
    let bodies: Vec<Value> = agents.iter().map(|agent| json!({"agent": agent})).collect();
    let answers = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| app.post("/api/v1/agents/lease", &token, body)),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        app.events_of_type("JobLeased").await.len(),
        1,
        "one lease was granted"
    );
    let winner = answers
        .iter()
        .find(|a| a.status.as_u16() == 200)
        .unwrap()
        .json();
    let build = app
        .get(
            &format!("/api/v1/builds/{}", winner["job_id"].as_str().unwrap()),
            &app.admin(),
        )
        .await
        .expect(200);
    assert_eq!(build["lease"]["lease_id"], winner["lease"]["lease_id"]);
    assert_eq!(build["lease"]["attempt"], 1);
}

/// Auditors filter the log, page through it, verify it and follow it live.
#[actix_web::test]
async fn auditors_filter_page_verify_and_follow_the_log() {
    let app = spawn_app().await;
    let auditor = app.auditor();
    app.seed().await;
    app.push(&commit("audited")).await;
    let all = app.all_events().await;
    let head = all.len() as u64;
    assert!(head >= 6, "{all:?}");
    let positions: Vec<u64> = all
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(
        positions,
        (1..=head).collect::<Vec<_>>(),
        "positions are gapless"
    );

    let query = |pairs: &'static [(&'static str, &'static str)]| {
        let app = &app;
        let auditor = auditor.clone();
        async move {
            items(
                &app.get_query("/api/v1/events", &auditor, pairs)
                    .await
                    .expect(200),
            )
        }
    };

    let dev = query(&[("stream", "environment-dev")]).await;
    assert_eq!(dev.len(), 1, "{dev:?}");
    assert_eq!(dev[0]["type"], "EnvironmentCreated");
    let environments = query(&[("stream_prefix", "environment-")]).await;
    assert_eq!(environments.len(), 3);
    assert!(
        environments
            .iter()
            .all(|e| e["stream"].as_str().unwrap().starts_with("environment-"))
    );
    let created = query(&[("type", "EnvironmentCreated")]).await;
    assert_eq!(created.len(), 3);
    let two_types = query(&[("type", "EnvironmentCreated,ProjectCreated")]).await;
    assert_eq!(two_types.len(), 4, "{two_types:?}");
    let by_pusher = query(&[("actor", "pusher")]).await;
    assert!(!by_pusher.is_empty());
    assert!(by_pusher.iter().all(|e| e["actor"] == "pusher"));
    assert!(by_pusher.iter().any(|e| e["type"] == "PushReceived"));
    let by_system = query(&[("actor", "system")]).await;
    assert!(
        by_system.iter().any(|e| e["type"] == "BuildQueued"),
        "{by_system:?}"
    );
    let nobody = query(&[("actor", "nobody")]).await;
    assert!(nobody.is_empty());

    // Time filters: from is inclusive, to exclusive.
    let pivot = all[all.len() / 2]["recorded_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let pivot_time: chrono::DateTime<chrono::Utc> = pivot.parse().unwrap();
    let from = items(
        &app.get_query("/api/v1/events", &auditor, &[("from", &pivot)])
            .await
            .expect(200),
    );
    let to = items(
        &app.get_query("/api/v1/events", &auditor, &[("to", &pivot)])
            .await
            .expect(200),
    );
    assert!(!from.is_empty());
    let time = |e: &Value| -> chrono::DateTime<chrono::Utc> {
        e["recorded_at"].as_str().unwrap().parse().unwrap()
    };
    assert!(from.iter().all(|e| time(e) >= pivot_time));
    assert!(to.iter().all(|e| time(e) < pivot_time));
    assert_eq!(from.len() + to.len(), all.len());
    let early = "2000-01-01T00:00:00Z";
    app.get_query(
        "/api/v1/events",
        &auditor,
        &[("from", &pivot), ("to", early)],
    )
    .await
    .expect_problem(422);

    // Pagination: after + limit with next_cursor, no gaps and no repeats.
    let mut paged = Vec::new();
    let mut after = "0".to_owned();
    let mut pages = 0;
    loop {
        let page = app
            .get_query(
                "/api/v1/events",
                &auditor,
                &[("after", &after), ("limit", "2")],
            )
            .await
            .expect(200);
        let batch = items(&page);
        assert!(batch.len() <= 2);
        pages += 1;
        paged.extend(batch.clone());
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(cursor, batch.last().unwrap()["position"].to_string());
                after = cursor.to_owned();
            }
            None => break,
        }
        assert!(pages <= head, "pagination does not end");
    }
    assert_eq!(paged, all);

    let verify = app.get("/api/v1/events/verify", &auditor).await.expect(200);
    assert_eq!(verify["intact"], true);
    assert_eq!(verify["checked"], head);
    assert_eq!(verify["to"], head);
    app.get("/api/v1/events/verify", &app.token("reader", "read"))
        .await
        .expect_problem(403);

    // The live stream resumes after Last-Event-ID, then delivers new events.
    let bad = app
        .send(
            Method::GET,
            "/api/v1/events/stream",
            Some(&auditor),
            None,
            &[("last-event-id", "yesterday")],
        )
        .await;
    bad.expect_problem(400);
    let last_seen = head - 3;
    let mut stream = SseReader::open(
        &app,
        "/api/v1/events/stream",
        &auditor,
        &[("last-event-id", &last_seen.to_string())],
    )
    .await;
    for position in last_seen + 1..=head {
        let frame = stream.next_event().await;
        assert_eq!(frame.id, position.to_string());
        let expected = &all[(position - 1) as usize];
        assert_eq!(frame.event, expected["type"].as_str().unwrap());
        assert_eq!(&frame.data, expected);
    }
    app.create_environment("qa", 0).await;
    let live = stream.next_event().await;
    assert_eq!(live.id, (head + 1).to_string());
    assert_eq!(live.event, "EnvironmentCreated");
    assert_eq!(live.data["stream"], "environment-qa");
    assert_eq!(live.data["actor"], "admin");
}

/// The dashboard stream, for any `read` token: the grid at once, then the grid again when an
/// event changes it, each message's id the position it reflects.
#[actix_web::test]
async fn the_dashboard_stream_sends_the_grid_then_each_change() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.get("/api/v1/dashboard/stream", &app.token("bot", "push"))
        .await
        .expect_problem(403);
    let viewer = app.token("viewer", "read");
    let mut stream = SseReader::open(&app, "/api/v1/dashboard/stream", &viewer, &[]).await;
    let first = stream.next_event().await;
    assert_eq!(first.event, "dashboard");
    assert_eq!(first.data["environments"], json!(["dev"]));
    assert_eq!(first.data["projects"], json!([]));
    assert_eq!(first.id, first.data["position"].to_string());
    app.create_environment("production", 1).await;
    let next = stream.next_event().await;
    assert_eq!(next.event, "dashboard");
    assert_eq!(next.data["environments"], json!(["dev", "production"]));
    assert!(next.id.parse::<u64>().unwrap() > first.id.parse::<u64>().unwrap());
}

/// One Server-Sent Event.
#[derive(Debug)]
struct SseEvent {
    id: String,
    event: String,
    data: Value,
}

/// Reads Server-Sent Events from a streaming response, skipping comments.
struct SseReader {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buffer: String,
}

impl SseReader {
    /// Opens the event stream at `path` as `token` with extra `headers`, checking that it
    /// answers 200 with `text/event-stream`.
    async fn open(app: &TestApp, path: &str, token: &str, headers: &[(&str, &str)]) -> Self {
        let mut request = app.client.get(app.url(path)).bearer_auth(token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"))
        );
        Self::new(response)
    }

    fn new(response: reqwest::Response) -> Self {
        Self {
            stream: response
                .bytes_stream()
                .map(|chunk| chunk.map(|bytes| bytes.to_vec()))
                .boxed(),
            buffer: String::new(),
        }
    }

    /// Reads until the server ends the body; an error means the connection was cut.
    async fn drain_to_end(&mut self) -> reqwest::Result<()> {
        while let Some(chunk) = self.stream.next().await {
            chunk?;
        }
        Ok(())
    }

    async fn next_event(&mut self) -> SseEvent {
        let deadline = tokio::time::Instant::now() + support::DEADLINE;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut event = None;
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("event:") {
                        event = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if let Some(id) = id {
                    return SseEvent {
                        id,
                        event: event.unwrap_or_default(),
                        data: serde_json::from_str(&data).expect("JSON data"),
                    };
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .expect("an event before the deadline")
                .expect("the stream is open")
                .expect("a chunk");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }
}

/// Health, readiness, metrics, the OpenAPI document and Swagger UI need no token.
#[actix_web::test]
async fn operations_endpoints_answer_without_a_token() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;

    let health = app.send(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(health.status.as_u16(), 200);
    let ready = app.send(Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(ready.status.as_u16(), 200, "{}", ready.text());

    let metrics = app.send(Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(metrics.status.as_u16(), 200);
    assert!(
        metrics.content_type().starts_with("text/plain"),
        "{}",
        metrics.content_type()
    );
    let text = metrics.text();
    let appended = text
        .lines()
        .find(|line| line.starts_with("conveyor_events_appended_total"))
        .unwrap_or_else(|| panic!("no conveyor_events_appended_total in {text}"));
    let value: f64 = appended.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value >= 1.0, "{appended}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("conveyor_http_requests_total{")
                && line.contains("method=\"POST\"")
                && line.contains("status=\"201\"")),
        "no request counter for the POST: {text}"
    );
    assert!(text.contains("conveyor_http_request_duration_seconds_bucket"));

    let openapi = app
        .send(Method::GET, "/openapi.json", None, None, &[])
        .await;
    assert_eq!(openapi.status.as_u16(), 200);
    let document = openapi.json();
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        document["openapi"]
    );
    assert!(document["paths"]["/api/v1/pushes"]["post"].is_object());
    assert!(document["paths"]["/api/v1/environments/{env}/rollback"]["post"].is_object());

    let docs = app.send(Method::GET, "/docs/", None, None, &[]).await;
    assert_eq!(docs.status.as_u16(), 200);
    assert!(
        docs.content_type().starts_with("text/html"),
        "{}",
        docs.content_type()
    );
    assert!(docs.text().to_lowercase().contains("swagger"));

    // The web console: its page and scripts, embedded, under a CSP allowing only this server.
    let page = app.send(Method::GET, "/", None, None, &[]).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.text().contains("/assets/app.js"), "{}", page.text());
    let policy = page.header("content-security-policy").unwrap_or_default();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let script = app
        .send(Method::GET, "/assets/app.js", None, None, &[])
        .await;
    assert_eq!(script.status.as_u16(), 200);
    assert!(script.content_type().starts_with("text/javascript"));
    let etag = script.header("etag").expect("an entity tag");
    let again = app
        .send(
            Method::GET,
            "/assets/app.js",
            None,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    app.send(Method::GET, "/assets/nothing.js", None, None, &[])
        .await
        .expect_problem(404);

    let missing = app
        .send(Method::GET, "/nothing-here", None, None, &[])
        .await;
    missing.expect_problem(404);
    assert_eq!(missing.content_type(), PROBLEM_JSON);
}

/// The workflow's rules answer 409 naming the rule: unknown lifecycle stage, taken version,
/// the release's creator approving, one subject counting once, deciding on a finished
/// deployment; redeploys are marked, cancellations end a deployment, failures are recorded.
#[actix_web::test]
async fn workflow_rules_refuse_illegal_transitions() {
    let app = spawn_app().await;
    let admin = app.admin();
    app.create_environment("dev", 0).await;
    app.create_environment("staging", 0).await;
    app.create_environment("production", 2).await;
    app.post(
        "/api/v1/projects",
        &admin,
        &project_definition("shop", &[("dev", true), ("production", false)]),
    )
    .await
    .expect(201);
    let (automatic, _) = app.build_release(&commit("rules"), "1.0.1").await;
    app.run_deployment("dev").await;

    // A release by a person: its version must be free, and its creator may not approve it.
    let releaser = app.token("releaser", "release");
    let build_id = automatic["build_id"].as_str().unwrap();
    app.post(
        "/api/v1/releases",
        &releaser,
        &json!({"build_id": build_id, "version": "1.0.1"}),
    )
    .await
    .expect_problem_type(409, "version-taken");
    let manual = app
        .post(
            "/api/v1/releases",
            &releaser,
            &json!({"build_id": build_id, "version": "1.0.1-hotfix"}),
        )
        .await
        .expect(201);
    assert_eq!(manual["created_by"], "releaser");
    assert_eq!(manual["artifacts"], automatic["artifacts"]);
    app.run_deployment("dev").await;
    eventually("the manual release to succeed in dev", || async {
        let release = app
            .get(
                &format!("/api/v1/releases/{}", manual["id"].as_str().unwrap()),
                &admin,
            )
            .await
            .expect(200);
        (release["succeeded_in"] == json!(["dev"])).then_some(())
    })
    .await;

    app.promote(&manual, "staging")
        .await
        .expect_problem_type(409, "not-in-lifecycle");
    let production = app.promote(&manual, "production").await.expect(201);
    assert_eq!(production["required_approvals"], 2);
    app.approve(&production, "releaser")
        .await
        .expect_problem_type(409, "self-approval");
    let once = app.approve(&production, "approver-1").await.expect(200);
    assert_eq!(once["status"], "awaiting_approval");
    app.approve(&production, "approver-1")
        .await
        .expect_problem_type(409, "already-approved");
    let twice = app.approve(&production, "approver-2").await.expect(200);
    assert_eq!(twice["status"], "queued");
    assert_eq!(twice["approvals"].as_array().map(Vec::len), Some(2));
    app.run_deployment("production").await;
    app.deployment_reaches(production["id"].as_str().unwrap(), "succeeded")
        .await;
    app.approve(&production, "approver-3")
        .await
        .expect_problem_type(409, "deployment-finished");

    // The same release again is a redeploy; cancelling it ends it.
    let redeploy = app.promote(&manual, "production").await.expect(201);
    assert_eq!(redeploy["kind"], "redeploy");
    let cancel = format!(
        "/api/v1/deployments/{}/cancel",
        redeploy["id"].as_str().unwrap()
    );
    let cancelled = app
        .post(&cancel, &admin, &json!({"reason": "not needed"}))
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["reason"], "not needed");
    app.post(&cancel, &admin, &json!({}))
        .await
        .expect_problem_type(409, "deployment-finished");

    // A failing agent fails the deployment with its reason.
    let failing = app.promote(&automatic, "production").await.expect(201);
    app.approve(&failing, "approver-1").await.expect(200);
    app.approve(&failing, "approver-2").await.expect(200);
    let job = app.lease_eventually("agent-1").await;
    assert_eq!(job["job_id"], failing["id"]);
    app.report(&job, "start", json!({})).await.expect(200);
    app.report(
        &job,
        "steps",
        json!({"name": "roll-out", "outcome": "failed", "exit_code": 3}),
    )
    .await
    .expect(200);
    let done = app
        .report(
            &job,
            "complete",
            json!({"outcome": "failed", "reason": "health check failed"}),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "failed");
    let failed = app
        .deployment_reaches(failing["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(failed["reason"], "health check failed");
    assert_eq!(failed["steps"][0]["outcome"], "failed");
    assert_eq!(failed["steps"][0]["exit_code"], 3);
    app.report(&job, "complete", json!({"outcome": "succeeded"}))
        .await
        .expect_problem(409);
}

/// Protocol details clients rely on: request ids, sizes and media types, CORS, heartbeats,
/// list pagination, and the rollback target named explicitly.
#[actix_web::test]
async fn http_conventions_hold() {
    let app = spawn_app().await;
    let admin = app.admin();

    // X-Request-Id is echoed and recorded on the events the request appends.
    let created = app
        .send(
            Method::POST,
            "/api/v1/environments",
            Some(&admin),
            Some(&json!({"name": "dev"})),
            &[("x-request-id", "req-42")],
        )
        .await;
    created.expect(201);
    assert_eq!(created.header("x-request-id").as_deref(), Some("req-42"));
    assert_eq!(
        created.header("location").as_deref(),
        Some("/api/v1/environments/dev")
    );
    let events = app.all_events().await;
    assert_eq!(events[0]["request_id"], "req-42");
    assert_eq!(events[0]["actor"], "admin");
    let generated = app.get("/api/v1/environments", &admin).await;
    assert!(
        generated
            .header("x-request-id")
            .is_some_and(|id| !id.is_empty())
    );

    // Other media types are refused as problems (oversized bodies: `security.rs`).
    let head = app.head().await;
    let form = app
        .client
        .post(app.url("/api/v1/environments"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body(r#"{"name": "qa"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 415);
    assert_eq!(
        form.headers()["content-type"].to_str().unwrap(),
        PROBLEM_JSON
    );
    assert_eq!(app.head().await, head);

    // CORS: a browser UI on another origin may call the API and read the ETag.
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/projects/shop"))
        .header("origin", "https://ui.example.com")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization, if-match")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert!(
        preflight
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let cross = app
        .send(
            Method::GET,
            "/api/v1/environments/dev",
            Some(&admin),
            None,
            &[("origin", "https://ui.example.com")],
        )
        .await;
    cross.expect(200);
    assert!(
        cross
            .header("access-control-expose-headers")
            .is_some_and(|h| h.to_lowercase().contains("etag")),
        "{:?}",
        cross.headers
    );

    // Heartbeats extend a lease; list pages follow next_cursor without repeats.
    app.post(
        "/api/v1/projects",
        &admin,
        &project_definition("shop", &[("dev", true)]),
    )
    .await
    .expect(201);
    for seed in ["a", "b", "c"] {
        app.push(&commit(seed)).await;
    }
    let job = app.lease_eventually("agent-1").await;
    let beat = app.report(&job, "heartbeat", json!({})).await.expect(200);
    assert!(
        beat["lease"]["expires_at"].as_str().unwrap()
            >= job["lease"]["expires_at"].as_str().unwrap()
    );
    app.report(
        &json!({"job_id": job["job_id"], "lease": {"lease_id": uuid::Uuid::new_v4()}}),
        "heartbeat",
        json!({}),
    )
    .await
    .expect_problem_type(409, "lease-superseded");
    let all = items(&app.get("/api/v1/builds", &admin).await.expect(200));
    assert_eq!(all.len(), 3);
    let numbers: Vec<u64> = all.iter().map(|b| b["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, vec![3, 2, 1], "newest first");
    let mut paged = Vec::new();
    let mut path = "/api/v1/builds?limit=2".to_owned();
    loop {
        let page = app.get(&path, &admin).await.expect(200);
        paged.extend(items(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/builds?limit=2&after={cursor}"),
            None => break,
        }
        assert!(paged.len() <= all.len(), "pagination repeats");
    }
    let ids = |list: &[Value]| list.iter().map(|b| b["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&all));
}

/// A rollback to a named earlier release works, and one to a release never live there is 409.
#[actix_web::test]
async fn rollback_to_a_named_release() {
    let app = spawn_app().await;
    let admin = app.admin();
    app.create_environment("dev", 0).await;
    app.post(
        "/api/v1/projects",
        &admin,
        &project_definition("shop", &[("dev", true)]),
    )
    .await
    .expect(201);
    let mut releases = Vec::new();
    for (seed, version) in [("r1", "1.0.1"), ("r2", "1.0.2"), ("r3", "1.0.3")] {
        let (release, _) = app.build_release(&commit(seed), version).await;
        app.run_deployment("dev").await;
        releases.push(release);
    }
    let never_live = app
        .post(
            "/api/v1/releases",
            &app.token("releaser", "release"),
            &json!({"build_id": releases[0]["build_id"], "version": "9.9.9"}),
        )
        .await
        .expect(201);
    // 9.9.9 is deployed to dev automatically; cancel that so it is never live there.
    let pending = eventually("9.9.9's dev deployment", || async {
        app.deployments(&format!("release={}", never_live["id"].as_str().unwrap()))
            .await
            .into_iter()
            .next()
    })
    .await;
    app.post(
        &format!(
            "/api/v1/deployments/{}/cancel",
            pending["id"].as_str().unwrap()
        ),
        &admin,
        &json!({}),
    )
    .await
    .expect(200);

    let head = app.head().await;
    app.post(
        "/api/v1/environments/dev/rollback",
        &admin,
        &json!({"project": "shop", "to_release": never_live["id"]}),
    )
    .await
    .expect_problem(409);
    assert_eq!(app.head().await, head);

    let rollback = app
        .post(
            "/api/v1/environments/dev/rollback",
            &admin,
            &json!({"project": "shop", "to_release": releases[0]["id"]}),
        )
        .await
        .expect(201);
    assert_eq!(rollback["kind"], "rollback");
    assert_eq!(rollback["release_version"], "1.0.1");
    let current = app
        .deployments(&format!(
            "release={}&environment=dev",
            releases[2]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rollback["reverts"], current[0]["id"]);
    let lease = app.run_deployment("dev").await;
    assert_eq!(lease["artifacts"], releases[0]["artifacts"]);
    let history = app
        .get("/api/v1/environments/dev/history", &admin)
        .await
        .expect(200);
    assert_eq!(items(&history)[0]["id"], rollback["id"]);
    assert_eq!(items(&history)[0]["status"], "succeeded");
}

/// A UI that reads a project and writes it back unchanged (the masked value included) must not
/// replace the secret with the mask: sensitive values are write-only, and `********` means
/// "keep the current value".
#[actix_web::test]
async fn project_round_trip_keeps_sensitive_values() {
    let app = spawn_app().await;
    let admin = app.admin();
    app.create_environment("dev", 0).await;
    app.post(
        "/api/v1/projects",
        &admin,
        &project_definition("shop", &[("dev", true)]),
    )
    .await
    .expect(201);
    let read = app.get("/api/v1/projects/shop", &admin).await;
    let mut definition = read.json();
    let object = definition.as_object_mut().unwrap();
    for server_owned in ["version", "created_at", "updated_at"] {
        object.remove(server_owned);
    }
    object.insert("description".into(), json!("edited in the UI"));
    let etag = read.header("etag").unwrap();
    app.put(
        "/api/v1/projects/shop",
        &admin,
        &definition,
        &[("if-match", &etag)],
    )
    .await
    .expect(200);

    app.build_release(&commit("round-trip"), "1.0.1").await;
    let lease = app.run_deployment("dev").await;
    let secret = lease["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "DB_PASSWORD")
        .unwrap()
        .clone();
    assert_eq!(
        secret["value"], SECRET_VALUE,
        "writing back the masked value replaced the secret"
    );
}

/// Stopping the server while a client follows the event stream is prompt: the stream ends
/// instead of holding graceful shutdown for its whole timeout.
#[actix_web::test]
async fn restart_with_an_open_event_stream_is_prompt() {
    let mut app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let auditor = app.auditor();
    let mut stream = SseReader::open(&app, "/api/v1/events/stream?after=0", &auditor, &[]).await;
    assert_eq!(stream.next_event().await.id, "1");

    // Stopping ends the stream cleanly (a terminated chunked body), instead of leaving it
    // open until the shutdown timeout cuts the connection (which reqwest reports as an error).
    let (restarted, ()) = tokio::join!(app.restart(), async {
        let rest = stream.drain_to_end().await;
        assert!(
            rest.is_ok(),
            "the event stream was cut instead of ended: {rest:?}"
        );
    });
    let () = restarted;
    app.create_environment("staging", 0).await;
}

/// No file in the data directory holds a secret in clear text — not the log, not the stored
/// idempotent answer of an agent's lease (which carries the unsealed variables).
#[actix_web::test]
async fn secrets_rest_on_disk_only_sealed() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_project("shop", &[("dev", true)]).await;
    app.build_release(&commit("sealed"), "1.0.1").await;
    let lease = app
        .send(
            Method::POST,
            "/api/v1/agents/lease",
            Some(&app.agent_token()),
            Some(&json!({"agent": "agent-1"})),
            &[("idempotency-key", "lease-1")],
        )
        .await
        .expect(200);
    assert_eq!(lease["kind"], "deployment");
    assert!(
        lease.to_string().contains(SECRET_VALUE),
        "the agent gets the secret"
    );
    // A retry replays the same lease, secret included, from the sealed stored answer.
    let replay = app
        .send(
            Method::POST,
            "/api/v1/agents/lease",
            Some(&app.agent_token()),
            Some(&json!({"agent": "agent-1"})),
            &[("idempotency-key", "lease-1")],
        )
        .await;
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.expect(200), lease);

    let mut files = vec![app.dir.path().to_path_buf()];
    let mut scanned = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        scanned += 1;
        assert!(
            !bytes
                .windows(SECRET_VALUE.len())
                .any(|w| w == SECRET_VALUE.as_bytes()),
            "{} holds the secret in clear text",
            path.display()
        );
    }
    assert!(
        scanned >= 2,
        "expected the log and the key files, scanned {scanned}"
    );
}

/// Time bounds at the end of the representable range behave as bounds, not as text: a `from`
/// in the last microsecond of year 9999 (which rounds past it) finds nothing, a `to` there
/// finds everything.
#[actix_web::test]
async fn event_time_bounds_at_the_end_of_time() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let late = "9999-12-31T23:59:59.9999999Z";
    let from = app
        .get_query("/api/v1/events", &app.auditor(), &[("from", late)])
        .await
        .expect(200);
    assert_eq!(items(&from).len(), 0, "{from}");
    let to = app
        .get_query("/api/v1/events", &app.auditor(), &[("to", late)])
        .await
        .expect(200);
    assert_eq!(items(&to).len() as u64, app.head().await, "{to}");
}

/// A job whose every lease lapses (its agents keep dying) fails after `max_attempts` with the
/// reason, instead of being handed out forever.
#[actix_web::test]
async fn a_job_whose_agents_keep_vanishing_fails_after_max_attempts() {
    let app = spawn_app_with(|settings| {
        settings.lease_seconds = 1;
        settings.max_attempts = 2;
    })
    .await;
    app.create_environment("dev", 0).await;
    app.create_project("shop", &[("dev", true)]).await;
    let build_id = app.push(&commit("doomed")).await["builds"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = app.lease("agent-a").await.expect("attempt 1");
    assert_eq!(first["lease"]["attempt"], 1);
    let second = eventually("the first lease to lapse", || app.lease("agent-b")).await;
    assert_eq!(second["lease"]["attempt"], 2);
    // The second lease lapses too: the next agent asking gets nothing, and the build fails.
    let build = eventually("the build to be abandoned", || async {
        assert!(
            app.lease("agent-c").await.is_none(),
            "a third lease was granted"
        );
        let build = app
            .get(&format!("/api/v1/builds/{build_id}"), &app.admin())
            .await
            .json();
        (build["status"] == "failed").then_some(build)
    })
    .await;
    let reason = build["reason"].as_str().unwrap();
    assert!(reason.contains("leased 2 times"), "{reason}");
    assert!(reason.contains("agent-b"), "{reason}");
    let failed = app.events_of_type("BuildFailed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["actor"], "system");
}

/// A build plan written as a Bitbucket Pipelines document is checked at project creation: a
/// bad one is a 422 naming the field and the line, and appends nothing.
#[actix_web::test]
async fn pipelines_documents_are_checked_with_their_line() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let mut definition = project_definition("shop", &[("dev", true)]);
    definition["build_steps"] = json!([]);
    definition["pipelines"] =
        json!("pipelines:\n  default:\n    - step:\n        name: build\n        script: [make\n");
    let head = app.head().await;
    let problem = app
        .post("/api/v1/projects", &app.admin(), &definition)
        .await
        .expect_problem(422);
    assert_eq!(problem["field"], "pipelines", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("line "),
        "{problem}"
    );
    assert_eq!(app.head().await, head);

    definition["pipelines"] = json!(
        "pipelines:\n  default:\n    - step: {name: build, script: [make]}\n  branches:\n    'release/*':\n      - step: {name: release, script: [make release], max-time: 5}\n"
    );
    app.post("/api/v1/projects", &app.admin(), &definition)
        .await
        .expect(201);
    let build = app.push(&commit("plan")).await["builds"][0].clone();
    assert_eq!(build["plan"][0]["name"], "build", "{build}");
}

/// The point-in-time view replays the log: what was live in production at a position, who
/// requested and approved it, and its artifacts — before and after a later deployment.
#[actix_web::test]
async fn environment_state_at_a_moment_replays_the_log() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_environment("production", 1).await;
    app.create_project("shop", &[("dev", true), ("production", false)])
        .await;
    let mut releases = Vec::new();
    for (commit, version) in [("first", "1.0.1"), ("second", "1.0.2")] {
        let (release, artifacts) = app.build_release(&support::commit(commit), version).await;
        app.run_deployment("dev").await;
        let deployment = app.promote(&release, "production").await.expect(201);
        app.approve(&deployment, "alice").await.expect(200);
        app.run_deployment("production").await;
        releases.push((release, artifacts, app.head().await));
    }
    let state_at = |at: String| {
        let app = &app;
        async move {
            app.get_query(
                "/api/v1/environments/production/state",
                &app.admin(),
                &[("at", &at)],
            )
            .await
            .expect(200)
        }
    };
    let (first, first_artifacts, after_first) = &releases[0];
    let then = state_at(after_first.to_string()).await;
    assert_eq!(then["position"], *after_first);
    let live = &then["projects"][0];
    assert_eq!(live["project"], "shop");
    assert_eq!(live["deployment"]["release_id"], first["id"]);
    assert_eq!(live["deployment"]["approvals"][0]["subject"], "alice");
    assert_eq!(live["deployment"]["requested_by"], "admin");
    assert_eq!(live["artifacts"][0]["sha256"], first_artifacts[0]["sha256"]);
    assert_eq!(
        live["deployment"]["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "DB_PASSWORD")
            .unwrap()["value"],
        "********"
    );
    // Now: the second release; and by time, the same answer as by position.
    let now = state_at(app.head().await.to_string()).await;
    assert_eq!(
        now["projects"][0]["deployment"]["release_id"],
        releases[1].0["id"]
    );
    let by_time = state_at(chrono::Utc::now().to_rfc3339()).await;
    assert_eq!(
        by_time["projects"][0]["deployment"]["release_id"],
        releases[1].0["id"]
    );
    // Before anything was deployed there: nothing live; before the environment: 404.
    let early = state_at("4".into()).await;
    assert_eq!(early["projects"].as_array().unwrap().len(), 0, "{early}");
    app.get_query(
        "/api/v1/environments/production/state",
        &app.admin(),
        &[("at", "1")],
    )
    .await
    .expect_problem(404);
    app.get_query(
        "/api/v1/environments/production/state",
        &app.admin(),
        &[("at", "yesterday")],
    )
    .await
    .expect_problem(400);
}

/// The dashboard grid follows the workflow: what is live where, the latest deployment, and
/// pending approvals.
#[actix_web::test]
async fn the_dashboard_grid_follows_the_workflow() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_environment("production", 1).await;
    app.create_project("shop", &[("dev", true), ("production", false)])
        .await;
    let empty = app.get("/api/v1/dashboard", &app.admin()).await.expect(200);
    assert_eq!(empty["environments"], json!(["dev", "production"]));
    assert_eq!(empty["projects"][0]["project"], "shop");
    assert_eq!(empty["projects"][0]["cells"], json!({}));

    let (release, _) = app.build_release(&support::commit("grid"), "1.0.1").await;
    app.run_deployment("dev").await;
    let deployment = app.promote(&release, "production").await.expect(201);
    let waiting = app.get("/api/v1/dashboard", &app.admin()).await.expect(200);
    let cells = &waiting["projects"][0]["cells"];
    assert_eq!(cells["dev"]["live"]["release_version"], "1.0.1");
    assert_eq!(cells["dev"]["live"]["status"], "succeeded");
    assert_eq!(cells["production"]["live"], Value::Null);
    assert_eq!(cells["production"]["latest"]["status"], "awaiting_approval");
    assert_eq!(cells["production"]["pending_approvals"], 1);

    app.approve(&deployment, "alice").await.expect(200);
    app.run_deployment("production").await;
    let live = app.get("/api/v1/dashboard", &app.admin()).await.expect(200);
    let cell = &live["projects"][0]["cells"]["production"];
    assert_eq!(cell["live"]["release_version"], "1.0.1");
    assert_eq!(cell["latest"]["status"], "succeeded");
    assert_eq!(cell["pending_approvals"], 0);
    assert_eq!(live["position"], app.head().await);
}

/// A blocked release is deployed nowhere until unblocked; both are events with who and why.
#[actix_web::test]
async fn a_blocked_release_cannot_be_promoted_until_unblocked() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_environment("staging", 0).await;
    app.create_project("shop", &[("dev", true), ("staging", false)])
        .await;
    let (release, _) = app.build_release(&support::commit("defect"), "1.0.1").await;
    app.run_deployment("dev").await;
    let id = release["id"].as_str().unwrap();
    let qa = app.token("qa", "release read");
    app.post(
        &format!("/api/v1/releases/{id}/block"),
        &qa,
        &json!({"reason": ""}),
    )
    .await
    .expect_problem(422);
    let blocked = app
        .post(
            &format!("/api/v1/releases/{id}/block"),
            &qa,
            &json!({"reason": "corrupts carts"}),
        )
        .await
        .expect(200);
    assert_eq!(blocked["blocked"], "corrupts carts");
    let head = app.head().await;
    let problem = app
        .promote(&release, "staging")
        .await
        .expect_problem_type(409, "release-blocked");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("corrupts carts"),
        "{problem}"
    );
    assert_eq!(
        app.head().await,
        head,
        "a refused promotion appends nothing"
    );
    app.post(&format!("/api/v1/releases/{id}/unblock"), &qa, &json!({}))
        .await
        .expect(200);
    app.promote(&release, "staging").await.expect(201);
    let events = app.events_of_type("ReleaseBlocked").await;
    assert_eq!(events[0]["actor"], "qa");
    assert_eq!(events[0]["payload"]["reason"], "corrupts carts");
}

/// In an environment that rolls back automatically, a failed deployment is reverted to the
/// last good release and automatic promotion of the project stops there until a person
/// promotes.
#[actix_web::test]
async fn a_failed_deployment_rolls_back_and_holds_automatic_promotion() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.post(
        "/api/v1/environments",
        &app.admin(),
        &json!({"name": "production", "auto_rollback": true}),
    )
    .await
    .expect(201);
    app.create_project("shop", &[("dev", true), ("production", true)])
        .await;
    let (first, _) = app.build_release(&support::commit("good"), "1.0.1").await;
    app.run_deployment("dev").await;
    app.run_deployment("production").await;

    app.build_release(&support::commit("bad"), "1.0.2").await;
    app.run_deployment("dev").await;
    let job = app.lease_eventually("agent-1").await;
    assert_eq!(job["environment"], "production");
    assert_eq!(job["release_version"], "1.0.2");
    app.report(&job, "start", json!({})).await.expect(200);
    app.report(
        &job,
        "complete",
        json!({"outcome": "failed", "reason": "health check failed"}),
    )
    .await
    .expect(200);

    // The workflow rolled production back to 1.0.1 by itself, reverting the failed deployment.
    let rollback = app.run_deployment("production").await;
    assert_eq!(rollback["deployment_kind"], "rollback", "{rollback}");
    assert_eq!(rollback["release_id"], first["id"]);
    let deployment = app.deployment(rollback["job_id"].as_str().unwrap()).await;
    assert_eq!(deployment["reverts"], job["job_id"]);
    assert_eq!(deployment["requested_by"], "system");
    let environment = app
        .get("/api/v1/environments/production", &app.admin())
        .await
        .expect(200);
    assert!(
        environment["holds"]["shop"]
            .as_str()
            .unwrap()
            .contains("1.0.2"),
        "{environment}"
    );
    let grid = app.get("/api/v1/dashboard", &app.admin()).await.expect(200);
    assert_eq!(grid["projects"][0]["cells"]["production"]["held"], true);
    assert_eq!(
        grid["projects"][0]["cells"]["production"]["live"]["release_version"],
        "1.0.1"
    );

    // The next release reaches dev but is not promoted to production automatically…
    let (third, _) = app.build_release(&support::commit("next"), "1.0.3").await;
    app.run_deployment("dev").await;
    let in_production = app
        .deployments(&format!(
            "environment=production&release={}",
            third["id"].as_str().unwrap()
        ))
        .await;
    assert!(in_production.is_empty(), "held: {in_production:?}");
    // …until a person promotes it, which lifts the hold.
    app.promote(&third, "production").await.expect(201);
    let environment = app
        .get("/api/v1/environments/production", &app.admin())
        .await
        .expect(200);
    assert_eq!(environment["holds"], json!({}), "{environment}");
    let released = app.events_of_type("PromotionHoldReleased").await;
    assert_eq!(released[0]["payload"]["by"], "admin");
}

/// The approvals inbox lists what waits for the caller's scopes, never their own requests,
/// and empties once they decide.
#[actix_web::test]
async fn the_approvals_inbox_lists_what_waits_for_the_caller() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_environment("production", 2).await;
    app.create_project("shop", &[("dev", true), ("production", false)])
        .await;
    let (release, _) = app.build_release(&support::commit("inbox"), "1.0.1").await;
    app.run_deployment("dev").await;
    let deployment = app.promote(&release, "production").await.expect(201);
    let inbox = |subject: &'static str, scopes: &'static str| {
        let app = &app;
        async move {
            let token = app.token(subject, scopes);
            let page = app
                .get("/api/v1/approvals?pending=true", &token)
                .await
                .expect(200);
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        inbox("alice", "approve:production").await,
        [deployment["id"].clone()]
    );
    assert_eq!(
        inbox("carol", "approve:*").await,
        [deployment["id"].clone()]
    );
    assert!(
        inbox("dave", "approve:staging read").await.is_empty(),
        "not his environment"
    );
    assert!(
        inbox("admin", "approve:*").await.is_empty(),
        "the requester may not approve"
    );
    app.approve(&deployment, "alice").await.expect(200);
    assert!(
        inbox("alice", "approve:production").await.is_empty(),
        "alice decided"
    );
    assert_eq!(
        inbox("carol", "approve:production").await,
        [deployment["id"].clone()]
    );
    app.get(
        "/api/v1/approvals?pending=false",
        &app.token("alice", "approve:production"),
    )
    .await
    .expect_problem(422);
}

/// A freeze refuses deployments on every path — automatic ones included — unless a holder of
/// `freeze:override` gives a reason, which is recorded.
#[actix_web::test]
async fn a_frozen_environment_refuses_deployments_unless_overridden() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_environment("production", 0).await;
    app.create_project("shop", &[("dev", true), ("production", false)])
        .await;
    let now = chrono::Utc::now();
    let window = json!({
        "start": (now - chrono::Duration::hours(1)).to_rfc3339(),
        "end": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "reason": "year-end freeze",
    });
    let dev = app
        .post("/api/v1/environments/dev/freezes", &app.admin(), &window)
        .await
        .expect(201);
    assert_eq!(dev["freezes"][0]["active_now"], true);
    let freeze_id = dev["freezes"][0]["id"].as_str().unwrap().to_owned();
    app.post(
        "/api/v1/environments/dev/freezes",
        &app.admin(),
        &json!({"cron": "0 22 * * Sat", "duration_minutes": 60, "timezone": "Mars/Olympus", "reason": "x"}),
    )
    .await
    .expect_problem(422);

    // The automatic deployment to dev is held back by the freeze…
    let (release, _) = app.build_release(&support::commit("frozen"), "1.0.1").await;
    let id = release["id"].as_str().unwrap();
    assert!(
        app.deployments(&format!("release={id}")).await.is_empty(),
        "frozen: no automatic deployment"
    );
    // …and so is a person's, unless they may override and say why.
    let deploy = |body: Value, token: String| {
        let app = &app;
        async move {
            app.post(&format!("/api/v1/releases/{id}/deployments"), &token, &body)
                .await
        }
    };
    let problem = deploy(json!({"environment": "dev"}), app.admin())
        .await
        .expect_problem_type(409, "environment-frozen");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("year-end freeze"),
        "{problem}"
    );
    deploy(
        json!({"environment": "dev", "override_freeze": "hotfix"}),
        app.admin(),
    )
    .await
    .expect_problem(403);
    let overrider = app.token("cto", "deploy:* freeze:override read");
    let deployment = deploy(
        json!({"environment": "dev", "override_freeze": "security fix"}),
        overrider,
    )
    .await
    .expect(201);
    assert_eq!(deployment["status"], "queued");
    let requested = app.events_of_type("DeploymentRequested").await;
    let overridden = requested.last().unwrap();
    assert_eq!(
        overridden["payload"]["freeze_override"],
        json!({"by": "cto", "reason": "security fix"})
    );
    let grid = app.get("/api/v1/dashboard", &app.admin()).await.expect(200);
    assert_eq!(
        grid["projects"][0]["cells"]["dev"]["frozen"], true,
        "{grid}"
    );

    // Removing the freeze lets deployments through again.
    app.post(
        &format!("/api/v1/environments/dev/freezes/{freeze_id}/remove"),
        &app.admin(),
        &json!({}),
    )
    .await
    .expect(200);
    app.run_deployment("dev").await;
    deploy(json!({"environment": "production"}), app.admin())
        .await
        .expect(201);
}

/// An approval policy with several rules needs each of them, and a subject counts once.
#[actix_web::test]
async fn several_approval_rules_must_all_hold() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.post(
        "/api/v1/environments",
        &app.admin(),
        &json!({"name": "bad", "approval_policy": {"rules": [{"scope": "security", "count": 1}]}}),
    )
    .await
    .expect_problem(422);
    app.post(
        "/api/v1/environments",
        &app.admin(),
        &json!({"name": "production", "approval_policy": {
            "required_approvals": 1, "rules": [{"scope": "approve:security", "count": 1}]}}),
    )
    .await
    .expect(201);
    app.create_project("shop", &[("dev", true), ("production", false)])
        .await;
    let (release, _) = app.build_release(&support::commit("rules"), "1.0.1").await;
    app.run_deployment("dev").await;
    let deployment = app.promote(&release, "production").await.expect(201);
    assert_eq!(deployment["required_approvals"], 2);
    let id = deployment["id"].as_str().unwrap();
    let decide = |subject: &'static str, scopes: &'static str| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/deployments/{id}/approvals"),
                &app.token(subject, scopes),
                &json!({"decision": "approve"}),
            )
            .await
        }
    };
    decide("mallory", "read").await.expect_problem(403);
    let inbox = app
        .get("/api/v1/approvals", &app.token("sec", "approve:security"))
        .await
        .expect(200);
    assert_eq!(
        inbox["items"][0]["id"], deployment["id"],
        "security approvers see it too"
    );
    assert_eq!(
        decide("alice", "approve:production").await.expect(200)["status"],
        "awaiting_approval"
    );
    decide("bob", "approve:production")
        .await
        .expect_problem_type(409, "approval-not-counted");
    assert_eq!(
        decide("sec", "approve:security").await.expect(200)["status"],
        "queued"
    );
}

/// A newer release may supersede the deployments still waiting in an environment: they are
/// recorded as superseded, not deleted, and never run.
#[actix_web::test]
async fn a_newer_release_supersedes_waiting_deployments() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_environment("production", 1).await;
    app.create_project("shop", &[("dev", true), ("production", false)])
        .await;
    let (first, _) = app.build_release(&support::commit("older"), "1.0.1").await;
    app.run_deployment("dev").await;
    let older = app.promote(&first, "production").await.expect(201);
    assert_eq!(older["status"], "awaiting_approval");
    let (second, _) = app.build_release(&support::commit("newer"), "1.0.2").await;
    app.run_deployment("dev").await;
    let id = second["id"].as_str().unwrap();
    let newer = app
        .post(
            &format!("/api/v1/releases/{id}/deployments"),
            &app.admin(),
            &json!({"environment": "production", "supersede_waiting": true}),
        )
        .await
        .expect(201);
    let older = app.deployment(older["id"].as_str().unwrap()).await;
    assert_eq!(older["status"], "superseded", "{older}");
    assert_eq!(older["reason"], "superseded by release 1.0.2");
    let events = app.events_of_type("DeploymentSuperseded").await;
    assert_eq!(events[0]["payload"]["by_deployment"], newer["id"]);
    // The superseded one can no longer be approved; the newer one goes ahead.
    app.approve(&older, "alice").await.expect_problem(409);
    app.approve(&newer, "alice").await.expect(200);
}

/// A deployment nobody approves within the environment's approval timeout expires: the
/// workflow records it, and it can no longer be approved.
#[actix_web::test]
async fn an_unapproved_deployment_expires() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.post(
        "/api/v1/environments",
        &app.admin(),
        &json!({"name": "production", "approval_policy": {"required_approvals": 1, "approval_timeout_seconds": 1}}),
    )
    .await
    .expect(201);
    app.create_project("shop", &[("dev", true), ("production", false)])
        .await;
    let (release, _) = app
        .build_release(&support::commit("expiring"), "1.0.1")
        .await;
    app.run_deployment("dev").await;
    let deployment = app.promote(&release, "production").await.expect(201);
    let id = deployment["id"].as_str().unwrap();
    let expired = app.deployment_reaches(id, "expired").await;
    assert!(
        expired["reason"]
            .as_str()
            .unwrap()
            .starts_with("no approval within"),
        "{expired}"
    );
    let events = app.events_of_type("DeploymentApprovalExpired").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"], "system");
    app.approve(&deployment, "alice").await.expect_problem(409);
    let grid = app.get("/api/v1/dashboard", &app.admin()).await.expect(200);
    assert_eq!(
        grid["projects"][0]["cells"]["production"]["pending_approvals"],
        0
    );
}
