//! The attack suite, against the real server: forged, stale and misdirected tokens, algorithm
//! confusion, key-id and embedded-key tricks, oversized tokens and headers, scope escalation,
//! oversized bodies and deeply nested JSON. Every attack is refused with its status — 401 for a
//! bad token, 403 naming the missing scope, 413 or 400 for bad input — as problem+json wherever
//! the application answers, appends nothing to the log, and leaves the server serving.

#[expect(dead_code, reason = "each test binary uses part of the shared harness")]
mod support;

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use support::{
    Answer, TestApp, base64url, commit, project_definition, sha256_hex, spawn_app, spawn_app_with,
};

const RSA_PUBLIC: &[u8] = include_bytes!("keys/rsa-public.pem");
const RSA_PRIVATE: &[u8] = include_bytes!("keys/rsa-private.pem");
const ATTACKER_RSA_PRIVATE: &[u8] = include_bytes!("keys/attacker-rsa-private.pem");
const ED_PUBLIC: &[u8] = include_bytes!("keys/ed25519-public.pem");
const ED_PRIVATE: &[u8] = include_bytes!("keys/ed25519-private.pem");

/// How deep the deeply nested documents go: far past serde_json's recursion limit (128), and
/// deep enough to overflow the stack of a parser that recursed without one.
const DEPTH: usize = 100_000;

/// The webhook secret of the integrations that sign.
const HOOK_SECRET: &str = "webhook-secret-for-the-attack-suite";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims the servers accept, as JSON so that a case can change, add or drop any member.
fn claims(sub: &str, scope: &str) -> Value {
    json!({
        "sub": sub,
        "scope": scope,
        "iat": now(),
        "exp": now() + 3600,
        "iss": "conveyor",
        "aud": "conveyor",
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

/// An admin's claims with `changes` merged in; a `null` change removes the member.
fn claims_with(changes: Value) -> Value {
    let mut claims = claims("mallory", "admin");
    let members = claims.as_object_mut().expect("an object");
    for (name, value) in changes.as_object().expect("an object of changes") {
        match value {
            Value::Null => members.remove(name),
            value => members.insert(name.clone(), value.clone()),
        };
    }
    claims
}

/// The header and claims, base64url-encoded and joined as a JWT's signing input.
fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    )
}

/// A token made by hand, so that its header may say anything, signed as `alg` with `key`.
fn forge(header: Value, claims: &Value, alg: Algorithm, key: &EncodingKey) -> String {
    let input = signing_input(&header, claims);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("a signature");
    format!("{input}.{signature}")
}

/// An HS256 key from a secret's bytes.
fn hmac_key(secret: &[u8]) -> EncodingKey {
    EncodingKey::from_secret(secret)
}

fn rsa_key(pem: &[u8]) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem).expect("an RSA private key")
}

/// One forged or broken `Authorization` header and the words its refusal must name (any one).
struct Attack {
    what: &'static str,
    authorization: Option<String>,
    words: &'static [&'static str],
}

fn attack(what: &'static str, token: &str, words: &'static [&'static str]) -> Attack {
    Attack {
        what,
        authorization: Some(format!("Bearer {token}")),
        words,
    }
}

/// Sends each attack to a write and to a read: both must be 401 problem+json with a Bearer
/// challenge and a detail naming what is wrong.
async fn assert_unauthorized(app: &TestApp, attacks: &[Attack]) {
    for attack in attacks {
        let headers: Vec<(&str, &str)> = attack
            .authorization
            .as_deref()
            .map(|value| vec![("authorization", value)])
            .unwrap_or_default();
        let write = json!({"name": "qa"});
        for (method, body) in [(Method::POST, Some(&write)), (Method::GET, None)] {
            let answer = app
                .send(method.clone(), "/api/v1/environments", None, body, &headers)
                .await;
            assert_eq!(
                answer.status.as_u16(),
                401,
                "{} ({method}): {}",
                attack.what,
                answer.text()
            );
            let problem = answer.expect_problem_type(401, "unauthorized");
            assert!(
                answer
                    .header("www-authenticate")
                    .is_some_and(|challenge| challenge.starts_with("Bearer")),
                "{}: no Bearer challenge",
                attack.what
            );
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(
                attack.words.iter().any(|word| detail.contains(word)),
                "{} ({method}): {problem}",
                attack.what
            );
        }
    }
}

/// A read with `token` succeeds.
async fn assert_accepted(app: &TestApp, what: &str, token: &str) {
    let answer = app.get("/api/v1/environments", token).await;
    assert_eq!(answer.status.as_u16(), 200, "{what}: {}", answer.text());
}

/// The server answers its health check.
async fn assert_serving(app: &TestApp) {
    let health = app.send(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(health.status.as_u16(), 200, "{}", health.text());
}

/// How many events the log holds, read by `auditor` (servers with a public key cannot use the
/// harness's HS256 auditor), after checking the chain.
async fn log_length(app: &TestApp, auditor: &str) -> u64 {
    let report = app.get("/api/v1/events/verify", auditor).await.expect(200);
    assert_eq!(report["intact"], true, "{report}");
    report["checked"].as_u64().expect("a count")
}

/// Every way an HS256 server can be handed a token it must not trust: none of them is
/// accepted, each is 401 saying why, and nothing is appended. The controls at the end show the
/// same server accepting the honest versions of the tricks (a `kid` it does not know is
/// ignored, not trusted: the signature is still checked with its one key).
#[actix_web::test]
async fn forged_stale_and_misdirected_tokens_are_refused_and_append_nothing() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let head = app.head().await;
    let secret = app.secret.clone();
    let key = hmac_key(secret.as_bytes());
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let sign = |claims: &Value| forge(hs256.clone(), claims, Algorithm::HS256, &key);
    let admin = claims("mallory", "admin");

    // A real reader's token whose payload is swapped for an admin's: the signature is the
    // reader's, over the reader's payload.
    let reader = sign(&claims("reader", "read"));
    let (reader_header, rest) = reader.split_once('.').expect("a JWT");
    let (_, reader_signature) = rest.split_once('.').expect("a JWT");
    let swapped_payload = format!(
        "{reader_header}.{}.{reader_signature}",
        base64url(admin.to_string().as_bytes())
    );
    // The same token with its header changed (a `kid` added): the signature covers it too.
    let swapped_header = format!(
        "{}.{rest}",
        base64url(
            json!({"alg": "HS256", "typ": "JWT", "kid": "other"})
                .to_string()
                .as_bytes()
        )
    );
    let (signed_input, _) = reader.rsplit_once('.').expect("a JWT");
    let signature_stripped = format!("{signed_input}.");

    let none = |alg: &str, signature: &str| {
        format!(
            "{}.{signature}",
            signing_input(&json!({"alg": alg, "typ": "JWT"}), &admin)
        )
    };
    let hmac_of_none_input = {
        let input = signing_input(&json!({"alg": "none", "typ": "JWT"}), &admin);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        base64url(&mac.finalize().into_bytes())
    };
    // Deep, yet short enough to be decoded rather than refused for its length.
    let nested_claims = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    // Signed with the server's key, so that the claims reach the parser.
    let nested = {
        let input = format!(
            "{}.{}",
            base64url(hs256.to_string().as_bytes()),
            base64url(format!(r#"{{"sub": {nested_claims}}}"#).as_bytes())
        );
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256)
            .expect("a signature");
        format!("{input}.{signature}")
    };
    let long_scope = vec!["read"; 13_500].join(" ");

    let attacks = vec![
        Attack {
            what: "no token",
            authorization: None,
            words: &["missing"],
        },
        Attack {
            what: "basic scheme",
            authorization: Some("Basic YWRtaW46YWRtaW4=".into()),
            words: &["Bearer"],
        },
        Attack {
            what: "bearer without a token",
            authorization: Some("Bearer".into()),
            words: &["Bearer"],
        },
        attack("garbage", "not.a.jwt", &["malformed"]),
        attack("only dots", "..", &["malformed"]),
        attack("alg none", &none("none", ""), &["algorithm", "malformed"]),
        attack("alg None", &none("None", ""), &["algorithm", "malformed"]),
        attack("alg NONE", &none("NONE", ""), &["algorithm", "malformed"]),
        attack(
            "alg none carrying the right HMAC",
            &none("none", &hmac_of_none_input),
            &["algorithm", "malformed"],
        ),
        attack(
            "no alg at all",
            &format!(
                "{}.{}",
                signing_input(&json!({"typ": "JWT"}), &admin),
                hmac_of_none_input
            ),
            &["algorithm", "malformed"],
        ),
        attack(
            "HS512 with the right secret",
            &forge(json!({"alg": "HS512"}), &admin, Algorithm::HS512, &key),
            &["algorithm"],
        ),
        attack(
            "RS256 against an HS256 server",
            &forge(
                json!({"alg": "RS256"}),
                &admin,
                Algorithm::RS256,
                &rsa_key(RSA_PRIVATE),
            ),
            &["algorithm"],
        ),
        attack(
            "another secret",
            &forge(
                hs256.clone(),
                &admin,
                Algorithm::HS256,
                &hmac_key(b"another-secret-another-secret-another"),
            ),
            &["signature"],
        ),
        attack("tampered payload", &swapped_payload, &["signature"]),
        attack("tampered header", &swapped_header, &["signature"]),
        attack("signature stripped", &signature_stripped, &["signature"]),
        attack(
            "unknown kid, signed with the attacker's secret",
            &forge(
                json!({"alg": "HS256", "kid": "attacker-key"}),
                &admin,
                Algorithm::HS256,
                &hmac_key(b"the attacker's own secret"),
            ),
            &["signature"],
        ),
        attack(
            "kid naming an empty file, signed with an empty secret",
            &forge(
                json!({"alg": "HS256", "kid": "../../../../../../dev/null"}),
                &admin,
                Algorithm::HS256,
                &hmac_key(b""),
            ),
            &["signature"],
        ),
        attack(
            "a jku pointing at the attacker's keys",
            &forge(
                json!({"alg": "HS256", "jku": "http://127.0.0.1:9/keys.json", "kid": "k"}),
                &admin,
                Algorithm::HS256,
                &hmac_key(b"the attacker's own secret"),
            ),
            &["signature"],
        ),
        attack(
            "an unsupported critical extension",
            &forge(
                json!({"alg": "HS256", "crit": ["exp-strict"], "exp-strict": "yes"}),
                &admin,
                Algorithm::HS256,
                &key,
            ),
            &["critical"],
        ),
        attack(
            "expired an hour ago",
            &sign(&claims_with(json!({"exp": now() - 3600}))),
            &["expired"],
        ),
        attack(
            "expired beyond the leeway",
            &sign(&claims_with(json!({"exp": now() - 60}))),
            &["expired"],
        ),
        attack(
            "no exp",
            &sign(&claims_with(json!({"exp": null}))),
            &["lacks a required claim", "malformed"],
        ),
        attack(
            "exp of the wrong type",
            &sign(&claims_with(json!({"exp": "never"}))),
            &["wrong type", "malformed"],
        ),
        attack(
            "not valid for another hour",
            &sign(&claims_with(json!({"nbf": now() + 3600}))),
            &["not valid yet"],
        ),
        attack(
            "not valid yet beyond the leeway",
            &sign(&claims_with(json!({"nbf": now() + 60}))),
            &["not valid yet"],
        ),
        attack(
            "nbf of the wrong type",
            &sign(&claims_with(json!({"nbf": "soon"}))),
            &["wrong type"],
        ),
        attack(
            "another issuer",
            &sign(&claims_with(json!({"iss": "evil"}))),
            &["issuer"],
        ),
        attack(
            "no issuer",
            &sign(&claims_with(json!({"iss": null}))),
            &["lacks a required claim", "malformed"],
        ),
        attack(
            "another audience",
            &sign(&claims_with(json!({"aud": "someone-else"}))),
            &["audience"],
        ),
        attack(
            "audiences without ours",
            &sign(&claims_with(
                json!({"aud": ["someone-else", "conveyor-staging"]}),
            )),
            &["audience"],
        ),
        attack(
            "no audience",
            &sign(&claims_with(json!({"aud": null}))),
            &["lacks a required claim", "malformed"],
        ),
        attack(
            "no subject",
            &sign(&claims_with(json!({"sub": null}))),
            &["lacks a required claim", "malformed"],
        ),
        attack(
            "an empty subject",
            &sign(&claims_with(json!({"sub": "  "}))),
            &["empty subject"],
        ),
        attack(
            "the workflow's own subject",
            &sign(&claims_with(json!({"sub": "system"}))),
            &["reserved"],
        ),
        attack(
            "scopes as an array",
            &sign(&claims_with(json!({"scope": ["admin"]}))),
            &["malformed", "wrong type"],
        ),
        attack("claims nested 5,000 deep", &nested, &["malformed"]),
        attack(
            "64 KiB of garbage",
            &"a".repeat(64 * 1024),
            &["longer than"],
        ),
        attack(
            "64 KiB, correctly signed",
            &sign(&claims_with(json!({"scope": long_scope}))),
            &["longer than"],
        ),
    ];
    assert_unauthorized(&app, &attacks).await;
    assert_eq!(app.head().await, head, "refused tokens appended events");

    // The controls: the same server takes a token signed with its key whatever `kid` it names,
    // one whose `nbf` has passed, and one whose audiences include its own.
    for (what, claims, header) in [
        (
            "an unknown kid",
            claims("carol", "read"),
            json!({"alg": "HS256", "kid": "a-key-this-server-never-had"}),
        ),
        (
            "nbf in the past",
            claims_with(json!({"nbf": now() - 60})),
            hs256.clone(),
        ),
        (
            "several audiences",
            claims_with(json!({"aud": ["someone-else", "conveyor"]})),
            hs256.clone(),
        ),
    ] {
        assert_accepted(&app, what, &forge(header, &claims, Algorithm::HS256, &key)).await;
    }
}

/// A server holding an RSA public key takes RS256 only: the public key's PEM used as an HMAC
/// secret (the HS/RS confusion), other algorithms, and keys the token brings along are refused;
/// an Ed25519 server likewise refuses HS256 keyed with its PEM.
#[actix_web::test]
async fn public_key_servers_refuse_algorithm_confusion_and_embedded_keys() {
    let keys = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
    let app = spawn_app_with(|settings| {
        settings.jwt_secret = None;
        settings.jwt_public_key = Some(keys.join("rsa-public.pem"));
    })
    .await;
    let key = rsa_key(RSA_PRIVATE);
    let rs256 = json!({"alg": "RS256", "typ": "JWT"});
    let auditor = forge(
        rs256.clone(),
        &claims("auditor", "audit read"),
        Algorithm::RS256,
        &key,
    );
    let admin = claims("mallory", "admin");
    let length = log_length(&app, &auditor).await;

    let pem = String::from_utf8(RSA_PUBLIC.to_vec()).expect("PEM text");
    let pem_trimmed = pem.trim_end().to_owned();
    let attacker = rsa_key(ATTACKER_RSA_PRIVATE);
    let attacks = vec![
        attack(
            "HS256 keyed with the public key's PEM",
            &forge(
                json!({"alg": "HS256", "typ": "JWT"}),
                &admin,
                Algorithm::HS256,
                &hmac_key(pem.as_bytes()),
            ),
            &["algorithm"],
        ),
        attack(
            "HS256 keyed with the PEM without its final newline",
            &forge(
                json!({"alg": "HS256"}),
                &admin,
                Algorithm::HS256,
                &hmac_key(pem_trimmed.as_bytes()),
            ),
            &["algorithm"],
        ),
        attack(
            "HS512 keyed with the PEM",
            &forge(
                json!({"alg": "HS512"}),
                &admin,
                Algorithm::HS512,
                &hmac_key(pem.as_bytes()),
            ),
            &["algorithm"],
        ),
        attack(
            "alg none",
            &format!("{}.", signing_input(&json!({"alg": "none"}), &admin)),
            &["algorithm", "malformed"],
        ),
        attack(
            "PS256 with the right private key",
            &forge(json!({"alg": "PS256"}), &admin, Algorithm::PS256, &key),
            &["algorithm"],
        ),
        attack(
            "EdDSA",
            &forge(
                json!({"alg": "EdDSA"}),
                &admin,
                Algorithm::EdDSA,
                &EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
            ),
            &["algorithm"],
        ),
        attack(
            "RS256 signed by the attacker",
            &forge(rs256.clone(), &admin, Algorithm::RS256, &attacker),
            &["signature"],
        ),
        attack(
            "the attacker's key embedded as a jwk",
            &forge(
                json!({
                    "alg": "RS256",
                    "kid": "attacker",
                    "jwk": {"kty": "RSA", "kid": "attacker", "e": "AQAB", "n": base64url(&[0xC3; 256])},
                }),
                &admin,
                Algorithm::RS256,
                &attacker,
            ),
            &["signature"],
        ),
        attack(
            "the attacker's key named by x5u and jku",
            &forge(
                json!({
                    "alg": "RS256",
                    "x5u": "http://127.0.0.1:9/cert.pem",
                    "jku": "http://127.0.0.1:9/keys.json",
                }),
                &admin,
                Algorithm::RS256,
                &attacker,
            ),
            &["signature"],
        ),
    ];
    assert_unauthorized(&app, &attacks).await;
    assert_eq!(
        log_length(&app, &auditor).await,
        length,
        "refused tokens appended events"
    );
    assert_accepted(
        &app,
        "RS256 with an unknown kid",
        &forge(
            json!({"alg": "RS256", "kid": "not-a-key-id-of-ours"}),
            &claims("carol", "read"),
            Algorithm::RS256,
            &key,
        ),
    )
    .await;

    let app = spawn_app_with(|settings| {
        settings.jwt_secret = None;
        settings.jwt_public_key = Some(keys.join("ed25519-public.pem"));
    })
    .await;
    assert_unauthorized(
        &app,
        &[attack(
            "HS256 keyed with the Ed25519 public key's PEM",
            &forge(
                json!({"alg": "HS256"}),
                &admin,
                Algorithm::HS256,
                &hmac_key(ED_PUBLIC),
            ),
            &["algorithm"],
        )],
    )
    .await;
    let ed_auditor = forge(
        json!({"alg": "EdDSA"}),
        &claims("auditor", "audit read"),
        Algorithm::EdDSA,
        &EncodingKey::from_ed_pem(ED_PRIVATE).unwrap(),
    );
    assert_eq!(log_length(&app, &ed_auditor).await, 0);
}

/// One call a token's scopes must not allow, and the scope the 403 must name.
struct Escalation<'a> {
    what: &'a str,
    scopes: &'a str,
    method: Method,
    path: String,
    body: Value,
    missing_scope: &'a str,
}

/// Scopes grant exactly what PRODUCT.md and `auth.rs` say: `deploy:dev` is not production,
/// patterns other than `*` grant nothing, `read` writes nothing, `admin` implies only `read`
/// (not deploy, approve, audit, push, agent or release), `approve:*` does not deploy, and
/// deploying during a freeze needs `freeze:override`. Each refusal is 403 naming the scope and
/// appends nothing; the controls show the same calls succeed with the right scope.
#[actix_web::test]
async fn scopes_grant_exactly_what_they_say() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    app.create_environment("production", 1).await;
    app.create_project("shop", &[("production", false)]).await;
    let (release, _) = app.build_release(&commit("scopes"), "1.0.1").await;
    let release_id = release["id"].as_str().expect("a release id").to_owned();
    let build_id = release["build_id"].as_str().expect("a build id").to_owned();
    let deployment = app.promote(&release, "production").await.expect(201);
    assert_eq!(deployment["status"], "awaiting_approval", "{deployment}");
    let deployment_id = deployment["id"]
        .as_str()
        .expect("a deployment id")
        .to_owned();
    let head = app.head().await;

    let promote = |scopes, what| Escalation {
        what,
        scopes,
        method: Method::POST,
        path: format!("/api/v1/releases/{release_id}/deployments"),
        body: json!({"environment": "production"}),
        missing_scope: "deploy:production",
    };
    let approve = |scopes, what| Escalation {
        what,
        scopes,
        method: Method::POST,
        path: format!("/api/v1/deployments/{deployment_id}/approvals"),
        body: json!({"decision": "approve", "comment": "ship it"}),
        missing_scope: "approve:production",
    };
    let rollback = |scopes, what| Escalation {
        what,
        scopes,
        method: Method::POST,
        path: "/api/v1/environments/production/rollback".into(),
        body: json!({"project": "shop"}),
        missing_scope: "deploy:production",
    };
    let cancel_deployment = |scopes, what| Escalation {
        what,
        scopes,
        method: Method::POST,
        path: format!("/api/v1/deployments/{deployment_id}/cancel"),
        body: json!({}),
        missing_scope: "deploy:production",
    };
    let call = |what, scopes, method, path: &str, body, missing_scope| Escalation {
        what,
        scopes,
        method,
        path: path.to_owned(),
        body,
        missing_scope,
    };
    let hour = chrono::Duration::hours(1);
    let cases = vec![
        // An environment-bound scope is bound to its environment.
        promote("deploy:dev", "deploy:dev promoting to production"),
        rollback("deploy:dev", "deploy:dev rolling production back"),
        cancel_deployment(
            "deploy:dev",
            "deploy:dev cancelling a production deployment",
        ),
        approve("deploy:dev", "deploy:dev approving"),
        approve("deploy:*", "deploy:* approving"),
        approve("approve:dev", "approve:dev approving production"),
        // No patterns but `*`, no other spelling, no lists inside one scope.
        promote("deploy:prod*", "deploy:prod* promoting"),
        approve("approve:prod*", "approve:prod* approving production"),
        approve("approve:*production", "approve:*production approving"),
        approve("approve:producti", "a prefix of the environment"),
        promote("deploy:Production", "deploy:Production promoting"),
        approve("APPROVE:production", "APPROVE:production approving"),
        approve(
            "approve:dev,approve:production",
            "a comma-separated list in one scope",
        ),
        approve("approve:", "approve: with no environment"),
        approve("approve", "approve with no environment"),
        promote("approve:*", "approve:* promoting"),
        promote("freeze:override", "freeze:override promoting"),
        // `deploy:*` deploys, but not into a freeze without `freeze:override`.
        Escalation {
            body: json!({"environment": "production", "override_freeze": "hotfix"}),
            missing_scope: "freeze:override",
            ..promote("deploy:*", "deploy:* overriding a freeze")
        },
        // `admin` implies `read` and nothing else.
        promote("admin", "admin promoting"),
        approve("admin", "admin approving"),
        rollback("admin", "admin rolling back"),
        cancel_deployment("admin", "admin cancelling a deployment"),
        call(
            "admin reading the audit log",
            "admin",
            Method::GET,
            "/api/v1/events",
            Value::Null,
            "audit",
        ),
        call(
            "admin pushing",
            "admin",
            Method::POST,
            "/api/v1/pushes",
            json!({"repository": support::REPOSITORY, "ref": "refs/heads/main", "commit": commit("admin")}),
            "push",
        ),
        call(
            "admin creating a release",
            "admin",
            Method::POST,
            "/api/v1/releases",
            json!({"build_id": build_id}),
            "release",
        ),
        call(
            "admin leasing a job",
            "admin",
            Method::POST,
            "/api/v1/agents/lease",
            json!({"agent": "sneaky"}),
            "agent",
        ),
        // `read` writes nothing.
        call(
            "read creating an environment",
            "read",
            Method::POST,
            "/api/v1/environments",
            json!({"name": "qa"}),
            "admin",
        ),
        call(
            "read creating a project",
            "read",
            Method::POST,
            "/api/v1/projects",
            project_definition("other", &[("dev", true)]),
            "admin",
        ),
        call(
            "read replacing a project",
            "read",
            Method::PUT,
            "/api/v1/projects/shop",
            project_definition("shop", &[("dev", true)]),
            "admin",
        ),
        call(
            "read creating a lifecycle",
            "read",
            Method::POST,
            "/api/v1/lifecycles",
            json!({"name": "standard", "phases": []}),
            "admin",
        ),
        call(
            "read freezing production",
            "read",
            Method::POST,
            "/api/v1/environments/production/freezes",
            json!({
                "start": chrono::Utc::now().to_rfc3339(),
                "end": (chrono::Utc::now() + hour).to_rfc3339(),
                "reason": "mine now",
            }),
            "admin",
        ),
        call(
            "read pushing",
            "read",
            Method::POST,
            "/api/v1/pushes",
            json!({"repository": support::REPOSITORY, "ref": "refs/heads/main", "commit": commit("read")}),
            "push",
        ),
        call(
            "read cancelling a build",
            "read",
            Method::POST,
            &format!("/api/v1/builds/{build_id}/cancel"),
            json!({}),
            "admin",
        ),
        call(
            "read creating a release",
            "read",
            Method::POST,
            "/api/v1/releases",
            json!({"build_id": build_id}),
            "release",
        ),
        call(
            "read blocking a release",
            "read",
            Method::POST,
            &format!("/api/v1/releases/{release_id}/block"),
            json!({"reason": "mine now"}),
            "release",
        ),
        promote("read", "read promoting"),
        approve("read", "read approving"),
        rollback("read", "read rolling back"),
        cancel_deployment("read", "read cancelling a deployment"),
        call(
            "read leasing a job",
            "read",
            Method::POST,
            "/api/v1/agents/lease",
            json!({"agent": "sneaky"}),
            "agent",
        ),
        call(
            "read running retention",
            "read",
            Method::POST,
            "/api/v1/retention/run",
            json!({}),
            "admin",
        ),
        call(
            "read adding an integration",
            "read",
            Method::POST,
            "/api/v1/integrations",
            json!({"name": "gh", "host": "github"}),
            "admin",
        ),
        call(
            "read adding a subscription",
            "read",
            Method::POST,
            "/api/v1/subscriptions",
            json!({"url": "http://127.0.0.1:9/events", "secret": "s3cret-s3cret"}),
            "admin",
        ),
        call(
            "read reading the audit log",
            "read",
            Method::GET,
            "/api/v1/events",
            Value::Null,
            "audit",
        ),
    ];
    for case in cases {
        // By hand: the harness's minter refuses scopes it does not know, as a server would
        // ignore them.
        let token = forge(
            json!({"alg": "HS256"}),
            &claims("mallory", case.scopes),
            Algorithm::HS256,
            &hmac_key(app.secret.as_bytes()),
        );
        let body = (!case.body.is_null()).then_some(&case.body);
        let answer = app
            .send(case.method.clone(), &case.path, Some(&token), body, &[])
            .await;
        assert_eq!(
            answer.status.as_u16(),
            403,
            "{} ({}): {}",
            case.what,
            case.scopes,
            answer.text()
        );
        let problem = answer.expect_problem_type(403, "forbidden");
        assert_eq!(
            problem["missing_scope"], case.missing_scope,
            "{}",
            case.what
        );
        assert_eq!(app.head().await, head, "{} appended events", case.what);
    }

    // A scope spelled only in a claim the server does not read grants nothing either.
    let scp = forge(
        json!({"alg": "HS256"}),
        &claims_with(json!({"scope": null, "scp": ["admin", "deploy:*"]})),
        Algorithm::HS256,
        &hmac_key(app.secret.as_bytes()),
    );
    let problem = app
        .post("/api/v1/environments", &scp, &json!({"name": "qa"}))
        .await
        .expect_problem_type(403, "forbidden");
    assert_eq!(problem["missing_scope"], "admin");
    // An artifact upload is the agent's.
    let content = b"not from an agent".to_vec();
    let upload = app
        .client
        .put(app.url(&format!("/api/v1/artifacts/{}", sha256_hex(&content))))
        .bearer_auth(app.token("mallory", "read admin"))
        .header("content-type", "application/octet-stream")
        .body(content)
        .send()
        .await
        .expect("the server answers");
    let problem = Answer::read(upload)
        .await
        .expect_problem_type(403, "forbidden");
    assert_eq!(problem["missing_scope"], "agent");
    assert_eq!(app.head().await, head, "refused calls appended events");

    // The controls: `approve:*` approves what the patterns could not, `deploy:production`
    // cancels what `deploy:dev` could not, and each appends.
    let approved = app
        .post(
            &format!("/api/v1/deployments/{deployment_id}/approvals"),
            &app.token("approver", "approve:*"),
            &json!({"decision": "approve", "comment": "ship it"}),
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "queued", "{approved}");
    let after_approval = app.head().await;
    assert!(after_approval > head);
    let cancelled = app
        .post(
            &format!("/api/v1/deployments/{deployment_id}/cancel"),
            &app.token("operator", "deploy:production"),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(app.head().await > after_approval);
}

/// A token or header too large for the server is refused with a 4xx, never a 5xx or a dropped
/// connection: tokens past `MAX_TOKEN_LEN` by the application (401), heads past actix's
/// 128 KiB buffer or 96 headers by the HTTP layer (431, which has no body).
#[actix_web::test]
async fn oversized_tokens_and_heads_are_refused_with_4xx() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    let head = app.head().await;

    // At the limit a token is decoded (and refused for its signature); one byte over, not.
    let limit = conveyor_api::auth::MAX_TOKEN_LEN;
    assert_unauthorized(
        &app,
        &[
            attack(
                "a token of exactly the limit",
                &"a".repeat(limit),
                &["malformed"],
            ),
            attack(
                "a token one byte over the limit",
                &"a".repeat(limit + 1),
                &["longer than"],
            ),
        ],
    )
    .await;

    // 120 headers: a small head, read whole and refused. actix closes the connection after a
    // 431, so this client keeps none for the next request.
    let unpooled = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("an HTTP client");
    let mut request = unpooled
        .post(app.url("/api/v1/environments"))
        .bearer_auth(app.admin())
        .json(&json!({"name": "qa"}));
    for i in 0..120 {
        request = request.header(format!("x-filler-{i}"), "x");
    }
    let answer = Answer::read(request.send().await.expect("the server answers")).await;
    assert_eq!(
        answer.status.as_u16(),
        431,
        "120 headers: {}",
        answer.text()
    );

    // A 200 KiB Authorization header: actix reads 128 KiB of the head, answers 431 and stops
    // reading, so the kernel may reset the connection (over the unread rest) before the answer
    // arrives. Either is a refusal; an answer from the application, or a hang, is not.
    let head_line = format!(
        "GET /api/v1/environments HTTP/1.1\r\nHost: conveyor\r\nConnection: close\r\n\
         Authorization: Bearer {}\r\n\r\n",
        "a".repeat(200 * 1024)
    );
    let status = status_of_raw_request(app.addr, head_line.into_bytes()).await;
    assert!(
        matches!(status, None | Some(431)),
        "a 200 KiB Authorization header: {status:?}"
    );

    assert_serving(&app).await;
    assert_eq!(app.head().await, head, "oversized heads appended events");
}

/// Writes `request` on a fresh connection and reads the status line of the answer: `None` when
/// the server closed or reset the connection without one. Fails after 10 s without either.
async fn status_of_raw_request(addr: std::net::SocketAddr, request: Vec<u8>) -> Option<u16> {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).expect("a connection");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("a read timeout");
        // The server may stop reading and close before all of it is written.
        let _ = stream.write_all(&request);
        let mut answer = Vec::new();
        if let Err(error) = stream.read_to_end(&mut answer) {
            assert!(
                !matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "the server neither answered nor closed: {error}"
            );
        }
        let status_line = String::from_utf8_lossy(&answer);
        let status = status_line.strip_prefix("HTTP/1.1 ")?.get(..3)?;
        Some(status.parse().expect("a status code"))
    })
    .await
    .expect("the raw request ran")
}

/// Sends `body` in 64 KiB chunks without a `Content-Length`, so that the server cannot refuse it
/// before reading.
async fn send_chunked(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let mut request = app
        .client
        .post(app.url(path))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Answer::read(request.send().await.expect("the server answers")).await
}

/// Sends `body` with its `Content-Length`.
async fn send_sized(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut request = app.client.request(method, app.url(path)).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Answer::read(request.send().await.expect("the server answers")).await
}

/// Bodies over each limit are 413 problem+json, whether their length is declared or they
/// stream: JSON commands (1 MiB, with or without an `Idempotency-Key`), the optional bodies read
/// as bytes (actix's 256 KiB default), webhooks (5 MiB) and artifacts (the configured limit).
#[actix_web::test]
async fn oversized_bodies_are_refused_as_problem_json() {
    let app = spawn_app_with(|settings| settings.max_artifact_bytes = 1024).await;
    app.create_environment("dev", 0).await;
    let head = app.head().await;
    let admin = format!("Bearer {}", app.admin());
    let agent = format!("Bearer {}", app.agent_token());
    let json_body = |size: usize| {
        format!(r#"{{"name": "qa", "description": "{}"}}"#, "x".repeat(size)).into_bytes()
    };
    let json_limit = conveyor_api::error::JSON_BODY_LIMIT;
    let hook_limit = conveyor_api::routes::hooks::MAX_HOOK_BODY;
    let build = uuid::Uuid::new_v4();
    let cancel = format!("/api/v1/builds/{build}/cancel");
    let artifact = vec![7u8; 4096];
    let artifact_path = format!("/api/v1/artifacts/{}", sha256_hex(&artifact));

    let json = [
        ("authorization", admin.as_str()),
        ("content-type", "application/json"),
    ];
    let keyed = [
        ("authorization", admin.as_str()),
        ("content-type", "application/json"),
        ("idempotency-key", "oversized-1"),
    ];
    let hook = [
        ("content-type", "application/json"),
        ("x-github-event", "push"),
        ("x-github-delivery", "oversized"),
    ];
    let octets = [
        ("authorization", agent.as_str()),
        ("content-type", "application/octet-stream"),
    ];
    // (what, method, path, headers, body)
    type Case<'a> = (&'a str, Method, &'a str, &'a [(&'a str, &'a str)], Vec<u8>);
    let cases: Vec<Case> = vec![
        (
            "a JSON command",
            Method::POST,
            "/api/v1/environments",
            &json,
            json_body(json_limit),
        ),
        (
            "a JSON command with an Idempotency-Key",
            Method::POST,
            "/api/v1/environments",
            &keyed,
            json_body(json_limit),
        ),
        (
            "an optional body read as bytes",
            Method::POST,
            &cancel,
            &json,
            json_body(300 * 1024),
        ),
        (
            "a webhook",
            Method::POST,
            "/api/v1/hooks/github",
            &hook,
            json_body(hook_limit),
        ),
        (
            "an artifact",
            Method::PUT,
            &artifact_path,
            &octets,
            artifact.clone(),
        ),
    ];
    for (what, method, path, headers, body) in cases {
        let declared = send_sized(&app, method.clone(), path, headers, body.clone()).await;
        declared.expect_problem_type(413, "payload-too-large");
        if method == Method::POST {
            let streamed = send_chunked(&app, path, headers, body).await;
            assert_eq!(streamed.status.as_u16(), 413, "{what}: {}", streamed.text());
            streamed.expect_problem_type(413, "payload-too-large");
        }
    }
    let streamed_artifact = app
        .client
        .put(app.url(&artifact_path))
        .bearer_auth(app.agent_token())
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            artifact
                .chunks(512)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        )))
        .send()
        .await
        .expect("the server answers");
    Answer::read(streamed_artifact)
        .await
        .expect_problem_type(413, "payload-too-large");
    assert_eq!(app.head().await, head, "oversized bodies appended events");

    // Just under the JSON limit is read (and then judged on its content).
    let fits = json_body(json_limit - 64);
    assert!(fits.len() <= json_limit);
    let answer = send_sized(&app, Method::POST, "/api/v1/environments", &json, fits).await;
    assert_eq!(answer.status.as_u16(), 201, "{}", answer.text());
}

/// `depth` openings closed again: a document nested far deeper than any parser should follow.
fn nested(open: &str, close: &str, depth: usize) -> Vec<u8> {
    format!("{}{}", open.repeat(depth), close.repeat(depth)).into_bytes()
}

fn hub_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Percent-encodes every byte, as a form field.
fn form_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// Documents nested 100,000 deep, sent to JSON commands and to each webhook parser (signed where
/// the integration has a secret, so that the body reaches the parser), are refused with 400
/// problem+json: every parser of client JSON stops at serde_json's recursion limit instead of
/// overflowing its stack. Nothing is appended and the server goes on serving.
#[actix_web::test]
async fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let app = spawn_app().await;
    app.create_environment("dev", 0).await;
    for (name, host, secret) in [
        ("github", "github", None),
        ("bitbucket", "bitbucket_cloud", Some(HOOK_SECRET)),
        ("gitlab", "gitlab", Some(HOOK_SECRET)),
    ] {
        app.post(
            "/api/v1/integrations",
            &app.admin(),
            &json!({"name": name, "host": host, "webhook_secret": secret}),
        )
        .await
        .expect(201);
    }
    let head = app.head().await;
    let admin = format!("Bearer {}", app.admin());
    let pusher = format!("Bearer {}", app.token("pusher", "push"));
    let cancel = format!("/api/v1/builds/{}/cancel", uuid::Uuid::new_v4());
    let before = "0".repeat(40);
    let after = commit("nested");

    // A parser into `serde_json::Value` (the webhooks') descends until serde_json's recursion
    // limit stops it; a typed one refuses at the first token of the wrong shape, or at the
    // limit when the shape lets it descend (untagged enums buffer what they read).
    const VALUE: &[&str] = &["recursion limit"];
    const TYPED: &[&str] = &["recursion limit", "invalid type", "unknown field"];
    for (shape, body) in [
        ("arrays", nested("[", "]", DEPTH)),
        // A quarter as deep, so that the body stays under the 256 KiB an optional body may have.
        ("objects", nested(r#"{"a":"#, "}", DEPTH / 4)),
        ("a field", {
            let mut body = format!(
                r#"{{"ref": "refs/heads/main", "before": "{before}", "after": "{after}", "repository": "#
            )
            .into_bytes();
            body.extend(nested("[", "]", DEPTH));
            body.push(b'}');
            body
        }),
    ] {
        let signature = hub_signature(&body);
        let form = format!("payload={}", form_encode(&body));
        let key = format!("nested-{shape}");
        // (what, path, headers, body, the words one of which the refusal names)
        type Case<'a> = (
            &'a str,
            &'a str,
            Vec<(&'a str, &'a str)>,
            Vec<u8>,
            &'a [&'a str],
        );
        let cases: Vec<Case> = vec![
            (
                "a JSON command",
                "/api/v1/environments",
                vec![
                    ("authorization", &admin),
                    ("content-type", "application/json"),
                ],
                body.clone(),
                TYPED,
            ),
            (
                "a JSON command with an Idempotency-Key",
                "/api/v1/pushes",
                vec![
                    ("authorization", &pusher),
                    ("content-type", "application/json"),
                    ("idempotency-key", &key),
                ],
                body.clone(),
                TYPED,
            ),
            (
                "an optional JSON body",
                &cancel,
                vec![
                    ("authorization", &admin),
                    ("content-type", "application/json"),
                ],
                body.clone(),
                TYPED,
            ),
            (
                "a GitHub push",
                "/api/v1/hooks/github",
                vec![
                    ("content-type", "application/json"),
                    ("x-github-event", "push"),
                    ("x-github-delivery", "nested-1"),
                ],
                body.clone(),
                VALUE,
            ),
            (
                "a form-encoded GitHub push",
                "/api/v1/hooks/github",
                vec![
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("x-github-event", "push"),
                    ("x-github-delivery", "nested-2"),
                ],
                form.into_bytes(),
                VALUE,
            ),
            (
                "a signed Bitbucket Cloud push",
                "/api/v1/hooks/bitbucket",
                vec![
                    ("content-type", "application/json"),
                    ("x-event-key", "repo:push"),
                    ("x-request-uuid", "nested-1"),
                    ("x-hub-signature", &signature),
                ],
                body.clone(),
                VALUE,
            ),
            (
                "a signed Bitbucket Data Center push",
                "/api/v1/hooks/bitbucket",
                vec![
                    ("content-type", "application/json"),
                    ("x-event-key", "repo:refs_changed"),
                    ("x-request-id", "nested-2"),
                    ("x-hub-signature", &signature),
                ],
                body.clone(),
                VALUE,
            ),
            (
                "a GitLab push with its token",
                "/api/v1/hooks/gitlab",
                vec![
                    ("content-type", "application/json"),
                    ("x-gitlab-event", "Push Hook"),
                    ("x-gitlab-token", HOOK_SECRET),
                ],
                body.clone(),
                VALUE,
            ),
        ];
        for (what, path, headers, body, words) in cases {
            let answer = send_sized(&app, Method::POST, path, &headers, body).await;
            assert_eq!(
                answer.status.as_u16(),
                400,
                "{what}, nested {shape}: {}",
                answer.text()
            );
            let problem = answer.expect_problem(400);
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(
                words.iter().any(|word| detail.contains(word)),
                "{what}, nested {shape}: {problem}"
            );
        }
    }
    assert_eq!(app.head().await, head, "nested documents appended events");

    // The server still serves, and takes a well-formed command.
    assert_serving(&app).await;
    app.post("/api/v1/environments", &app.admin(), &json!({"name": "qa"}))
        .await
        .expect(201);
}
