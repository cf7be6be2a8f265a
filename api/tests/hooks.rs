//! Git host webhooks through the real server: integrations, signatures, deliveries that
//! queue builds, redeliveries, pings, ignored events and malformed bodies.

#[expect(dead_code, reason = "each test binary uses part of the shared harness")]
mod support;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use support::{TestApp, spawn_app};

const SECRET: &str = "webhook-secret-for-tests";

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn deliver(
    app: &TestApp,
    provider: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/hooks/{provider}")))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn integration(app: &TestApp, name: &str, host: &str, secret: Option<&str>) {
    let body = json!({"name": name, "host": host, "webhook_secret": secret});
    let answer = app.post("/api/v1/integrations", &app.admin(), &body).await;
    let created = answer.expect(201);
    assert!(!answer.text().contains(SECRET), "the secret is never shown");
    assert_eq!(created["has_webhook_secret"], secret.is_some());
}

async fn project(app: &TestApp, repository: &str) {
    app.create_environment("dev", 0).await;
    let mut definition = support::project_definition("hooked", &[("dev", false)]);
    definition["repository"] = json!(repository);
    app.post("/api/v1/projects", &app.admin(), &definition)
        .await
        .expect(201);
}

#[actix_web::test]
async fn a_signed_github_push_queues_a_build_once() {
    let app = spawn_app().await;
    integration(&app, "github", "github", Some(SECRET)).await;
    // The project names the repository by its ssh URL: it is the same repository.
    project(&app, "git@github.com:woodpecker-ci/woodpecker.git").await;
    let body = support::webhook_fixture("github-push.json");
    let signature = sign(&body);
    let headers = [
        ("x-github-event", "push"),
        ("x-github-delivery", "delivery-1"),
        ("x-hub-signature-256", signature.as_str()),
    ];
    let (status, first) = deliver(&app, "github", &headers, &body).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["outcome"], "push");
    assert_eq!(first["duplicate"], false);
    let builds = first["pushes"][0]["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 1, "{first}");
    assert_eq!(
        builds[0]["commit"],
        "366701fde727cb7a9e7f21eb88264f59f6f9b89c"
    );
    let pushes = app.events_of_type("PushReceived").await;
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0]["payload"]["source"], "github");
    assert_eq!(pushes[0]["payload"]["delivery_id"], "delivery-1");
    assert_eq!(pushes[0]["actor"], "webhook:github");

    // The host redelivers: the same answer, nothing recorded again.
    let head = app.head().await;
    let (status, again) = deliver(&app, "github", &headers, &body).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["pushes"][0]["push_id"], first["pushes"][0]["push_id"]);
    assert_eq!(app.head().await, head);
}

#[actix_web::test]
async fn wrong_or_missing_signatures_are_refused_and_record_nothing() {
    let app = spawn_app().await;
    integration(&app, "github", "github", Some(SECRET)).await;
    let body = support::webhook_fixture("github-push.json");
    let head = app.head().await;
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let good = sign(&body);
    for (what, headers) in [
        (
            "no signature",
            vec![("x-github-event", "push"), ("x-github-delivery", "d")],
        ),
        (
            "wrong signature",
            vec![
                ("x-github-event", "push"),
                ("x-github-delivery", "d"),
                ("x-hub-signature-256", "sha256=00"),
            ],
        ),
    ] {
        let (status, problem) = deliver(&app, "github", &headers, &body).await;
        assert_eq!(status, 401, "{what}: {problem}");
        assert!(!problem.to_string().contains(SECRET), "{what}: {problem}");
    }
    let headers = [
        ("x-github-event", "push"),
        ("x-github-delivery", "d"),
        ("x-hub-signature-256", good.as_str()),
    ];
    let (status, _) = deliver(&app, "github", &headers, &tampered).await;
    assert_eq!(status, 401, "a changed body does not match its signature");
    assert_eq!(app.head().await, head);
}

#[actix_web::test]
async fn pings_unknown_events_and_malformed_bodies() {
    let app = spawn_app().await;
    integration(&app, "github", "github", None).await;
    let (status, ping) = deliver(
        &app,
        "github",
        &[("x-github-event", "ping"), ("x-github-delivery", "p1")],
        br#"{"zen": "Keep it logically awesome."}"#,
    )
    .await;
    assert_eq!(status, 200, "{ping}");
    assert_eq!(ping["outcome"], "ping");

    let (status, ignored) = deliver(
        &app,
        "github",
        &[("x-github-event", "issues"), ("x-github-delivery", "i1")],
        br#"{"action": "opened"}"#,
    )
    .await;
    assert_eq!(status, 202, "{ignored}");
    assert_eq!(ignored["outcome"], "ignored");
    let recorded = app.events_of_type("DeliveryIgnored").await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["payload"]["event_type"], "issues");

    let head = app.head().await;
    let (status, problem) = deliver(
        &app,
        "github",
        &[("x-github-event", "push"), ("x-github-delivery", "m1")],
        b"{not json",
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["status"], 400);
    let (status, _) = deliver(
        &app,
        "github",
        &[("x-github-event", "push"), ("x-github-delivery", "m2")],
        br#"{"ref": "refs/heads/main"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(app.head().await, head, "nothing half-recorded");
}

#[actix_web::test]
async fn a_host_without_integration_is_refused_and_several_need_a_name() {
    let app = spawn_app().await;
    let body = support::webhook_fixture("gitlab-push.json");
    let headers = [("x-gitlab-event", "Push Hook"), ("x-gitlab-token", SECRET)];
    let (status, _) = deliver(&app, "gitlab", &headers, &body).await;
    assert_eq!(status, 401, "no gitlab integration: nothing is accepted");
    integration(&app, "gitlab-a", "gitlab", Some(SECRET)).await;
    integration(&app, "gitlab-b", "gitlab", Some("another-secret")).await;
    let (status, problem) = deliver(&app, "gitlab", &headers, &body).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["field"], "integration");
    let mut request = app
        .client
        .request(
            Method::POST,
            app.url("/api/v1/hooks/gitlab?integration=gitlab-a"),
        )
        .header("content-type", "application/json")
        .body(body.clone());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status().as_u16(), 202);
    let (status, _) = deliver(&app, "gitea", &headers, &body).await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn a_bitbucket_delivery_with_several_changes_records_each() {
    let app = spawn_app().await;
    integration(&app, "bitbucket", "bitbucket_cloud", None).await;
    let body = support::webhook_fixture("bitbucket-cloud-repo-push-multiple-changes.json");
    let headers = [("x-event-key", "repo:push"), ("x-request-uuid", "bb-1")];
    let (status, answer) = deliver(&app, "bitbucket", &headers, &body).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["pushes"].as_array().unwrap().len(), 3, "{answer}");
    let pushes = app.events_of_type("PushReceived").await;
    let refs: Vec<&str> = pushes
        .iter()
        .map(|e| e["payload"]["git_ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        ["refs/heads/main", "refs/heads/manchu", "refs/tags/v0.1"]
    );
    // All changes of the delivery were appended together, in one stream.
    let streams: std::collections::BTreeSet<&str> = pushes
        .iter()
        .map(|e| e["stream"].as_str().unwrap())
        .collect();
    assert_eq!(streams.len(), 1);
}
