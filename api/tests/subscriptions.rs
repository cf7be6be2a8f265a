//! Event webhooks out, against a real HTTP server on loopback standing in for the consumer:
//! signed deliveries in log order, retries, failing status, replay and restart.

#[expect(dead_code, reason = "each test binary uses part of the shared harness")]
mod support;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use support::{StandIn, TestApp, eventually, spawn_app};

const SECRET: &str = "subscriber-secret-0123";

async fn subscribe(app: &TestApp, url: &str, types: &[&str]) -> String {
    let answer = app
        .post(
            "/api/v1/subscriptions",
            &app.admin(),
            &json!({"url": url, "event_types": types, "secret": SECRET}),
        )
        .await;
    assert!(!answer.text().contains(SECRET), "the secret is never shown");
    answer.expect(201)["id"].as_str().unwrap().to_owned()
}

fn check_signature(request: &support::Received) {
    let header = request
        .headers
        .iter()
        .find(|(k, _)| k == "x-conveyor-signature")
        .map(|(_, v)| v.clone())
        .expect("a signature header");
    let (t, v1) = header.split_once(',').unwrap();
    let timestamp = t.strip_prefix("t=").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&request.raw);
    assert_eq!(
        v1.strip_prefix("v1=").unwrap(),
        hex::encode(mac.finalize().into_bytes())
    );
}

fn positions(received: &[support::Received]) -> Vec<u64> {
    received
        .iter()
        .map(|r| r.body["position"].as_u64().unwrap())
        .collect()
}

#[actix_web::test]
async fn matching_events_arrive_signed_in_log_order() {
    let consumer = StandIn::start(0).await;
    let app = spawn_app().await;
    subscribe(&app, &consumer.url, &["EnvironmentCreated"]).await;
    for name in ["dev", "staging", "production"] {
        app.create_environment(name, 0).await;
    }
    let received = eventually("three deliveries", || async {
        let received = consumer.received();
        (received.len() >= 3).then_some(received)
    })
    .await;
    let names: Vec<&str> = received
        .iter()
        .map(|r| r.body["payload"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["dev", "staging", "production"],
        "in log order, only the chosen type"
    );
    let positions = positions(&received);
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    for request in &received {
        check_signature(request);
        assert_eq!(request.body["type"], "EnvironmentCreated");
        let id = request
            .headers
            .iter()
            .find(|(k, _)| k == "x-conveyor-event-id")
            .unwrap();
        assert_eq!(id.1, request.body["id"].as_str().unwrap());
    }
    consumer.handle.stop(false).await;
}

#[actix_web::test]
async fn a_failing_consumer_is_retried_marked_failing_and_keeps_its_position() {
    let consumer = StandIn::start(5).await;
    let app = spawn_app().await;
    let id = subscribe(&app, &consumer.url, &[]).await;
    app.create_environment("dev", 0).await;
    app.create_environment("staging", 0).await;
    let subscription = eventually("the subscription to be marked failing", || async {
        let s = app
            .get(&format!("/api/v1/subscriptions/{id}"), &app.admin())
            .await
            .json();
        (s["delivery"]["failing"] == true).then_some(s)
    })
    .await;
    assert_eq!(
        subscription["delivery"]["recent"][0]["http_status"], 500,
        "{subscription}"
    );
    // The consumer recovers: nothing was skipped, the first event comes first.
    let received = eventually("both events after the failures", || async {
        let received: Vec<_> = consumer
            .received()
            .into_iter()
            .filter(|r| r.body != Value::Null)
            .collect();
        let delivered = received.len() >= 7;
        delivered.then_some(received)
    })
    .await;
    let names: Vec<&str> = received
        .iter()
        .map(|r| r.body["payload"]["name"].as_str().unwrap_or(""))
        .collect();
    assert!(
        names[..5].iter().all(|n| *n == "dev"),
        "the same event is retried: {names:?}"
    );
    assert_eq!(&names[5..7], ["dev", "staging"], "{names:?}");
    let subscription = eventually("the failing mark to clear", || async {
        let s = app
            .get(&format!("/api/v1/subscriptions/{id}"), &app.admin())
            .await
            .json();
        (s["delivery"]["failing"] == false && s["delivery"]["delivered"] == 2).then_some(s)
    })
    .await;
    assert_eq!(subscription["delivery"]["consecutive_failures"], 0);
    consumer.handle.stop(false).await;
}

#[actix_web::test]
async fn replay_redelivers_history_and_restart_resumes() {
    let consumer = StandIn::start(0).await;
    let mut app = spawn_app().await;
    let id = subscribe(&app, &consumer.url, &["EnvironmentCreated"]).await;
    app.create_environment("dev", 0).await;
    app.create_environment("staging", 0).await;
    eventually("two deliveries", || async {
        (consumer.received().len() >= 2).then_some(())
    })
    .await;
    let first = positions(&consumer.received())[0];

    // A restart resumes where delivery stopped: at least once, so an event whose answer the
    // restart cut off may come again; consumers dedupe on the position.
    app.restart().await;
    app.create_environment("production", 0).await;
    let deduped = |received: &[support::Received]| {
        let mut seen = Vec::new();
        for r in received {
            let entry = (
                r.body["position"].as_u64().unwrap(),
                r.body["payload"]["name"].as_str().unwrap().to_owned(),
            );
            if seen.last() != Some(&entry) {
                seen.push(entry);
            }
        }
        seen
    };
    let received = eventually("the third event", || async {
        let received = consumer.received();
        let names: Vec<String> = deduped(&received).into_iter().map(|(_, n)| n).collect();
        (names.len() >= 3).then_some(received)
    })
    .await;
    let names: Vec<String> = deduped(&received).into_iter().map(|(_, n)| n).collect();
    assert_eq!(
        names,
        ["dev", "staging", "production"],
        "nothing lost, nothing reordered"
    );
    let before_replay = received.len();

    // Replay from the first event: all three again, in order.
    app.post(
        &format!("/api/v1/subscriptions/{id}/replay?from={first}"),
        &app.admin(),
        &json!({}),
    )
    .await
    .expect(202);
    let received = eventually("the replay", || async {
        let received = consumer.received();
        (received.len() >= before_replay + 3).then_some(received)
    })
    .await;
    let replayed: Vec<&str> = received[before_replay..before_replay + 3]
        .iter()
        .map(|r| r.body["payload"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(replayed, ["dev", "staging", "production"]);
    let replays = app.events_of_type("SubscriptionReplayRequested").await;
    assert_eq!(replays.len(), 1, "the replay request is recorded");
    consumer.handle.stop(false).await;
}
