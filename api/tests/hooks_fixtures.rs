//! Every webhook fixture in `../shared/fixtures/webhooks/` parses into the ref changes its
//! SOURCES.md describes, and the signature schemes accept and refuse what they should.

use std::collections::BTreeSet;
use std::path::PathBuf;

use conveyor_api::hooks::{self, Delivery, HookError, Provider};
use conveyor_engine::PushReport;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The shared fixtures, beside the clone (`/work/shared` beside `/work/main`, in CI as here).
fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/webhooks");
    assert!(
        dir.is_dir(),
        "the webhook fixtures directory {} is missing: the `shared/` checkout must sit beside \
         this repository's clone",
        dir.display()
    );
    dir
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path)
        .unwrap_or_else(|error| panic!("cannot read the fixture {}: {error}", path.display()))
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The headers each kind of fixture is delivered with (SOURCES.md, "delivery headers").
fn delivery_headers(name: &str) -> (Provider, Vec<(String, String)>) {
    if name.starts_with("bitbucket-cloud-") {
        (
            Provider::Bitbucket,
            headers(&[
                ("content-type", "application/json"),
                ("user-agent", "Bitbucket-Webhooks/2.0"),
                ("x-event-key", "repo:push"),
                ("x-hook-uuid", "4c2a4d4e-0000-4000-8000-000000000001"),
                ("x-request-uuid", "delivery-of-this-request"),
                ("x-attempt-number", "1"),
            ]),
        )
    } else if name.starts_with("bitbucket-server-") {
        (
            Provider::Bitbucket,
            headers(&[
                ("content-type", "application/json; charset=UTF-8"),
                ("x-request-id", "delivery-of-this-request"),
                ("x-event-key", "repo:refs_changed"),
            ]),
        )
    } else if name.starts_with("github-") {
        (
            Provider::GitHub,
            headers(&[
                ("content-type", "application/json"),
                ("user-agent", "GitHub-Hookshot/044aadd"),
                ("x-github-event", "push"),
                ("x-github-delivery", "delivery-of-this-request"),
                ("x-github-hook-id", "292430182"),
            ]),
        )
    } else if name.starts_with("gitlab-") {
        let event = if name.contains("tag") {
            "Tag Push Hook"
        } else {
            "Push Hook"
        };
        (
            Provider::GitLab,
            headers(&[
                ("content-type", "application/json"),
                ("x-gitlab-event", event),
                ("idempotency-key", "delivery-of-this-request"),
                ("x-gitlab-webhook-uuid", "a-new-uuid-per-request"),
                ("x-gitlab-event-uuid", "recursion-detection-uuid"),
            ]),
        )
    } else {
        panic!("no delivery headers known for the fixture {name}")
    }
}

/// One expected ref change.
#[derive(Debug, Clone)]
struct Expected {
    source: &'static str,
    git_ref: &'static str,
    branch: Option<&'static str>,
    tag: Option<&'static str>,
    before: Option<&'static str>,
    commit: &'static str,
    created: bool,
    deleted: bool,
    forced: bool,
    commits: usize,
    truncated: bool,
    pusher: Option<&'static str>,
    repository: &'static str,
    host: &'static str,
    message: Option<&'static str>,
}

const ZERO: Expected = Expected {
    source: "",
    git_ref: "",
    branch: None,
    tag: None,
    before: None,
    commit: "",
    created: false,
    deleted: false,
    forced: false,
    commits: 0,
    truncated: false,
    pusher: None,
    repository: "",
    host: "",
    message: None,
};

const BB_CLOUD_AMUNIZ: Expected = Expected {
    source: "bitbucket_cloud",
    pusher: Some("Nikolas Falco"),
    repository: "https://bitbucket.org/amuniz/test-repos.git",
    host: "bitbucket.org",
    ..ZERO
};

const BB_SERVER_ADMIN: Expected = Expected {
    source: "bitbucket_server",
    pusher: Some("admin"),
    repository: "http://localhost:7990/bitbucket/scm/amuniz/test-repos.git",
    host: "localhost",
    ..ZERO
};

/// What each fixture file must parse into, as SOURCES.md describes it.
fn expectations() -> Vec<(&'static str, Vec<Expected>)> {
    vec![
        // §1 Bitbucket Cloud.
        (
            "bitbucket-cloud-repo-push.json",
            vec![Expected {
                source: "bitbucket_cloud",
                git_ref: "refs/heads/main",
                branch: Some("main"),
                before: Some("a51241ae1f00cbe728930db48e890b18fd527f99"),
                commit: "c14c1bb05dfb1fdcdf06b31485fff61b0ea44277",
                commits: 1,
                pusher: Some("Martin Herren"),
                repository: "https://bitbucket.org/martinherren1984/publictestrepo.git",
                host: "bitbucket.org",
                message: Some("a"),
                ..ZERO
            }],
        ),
        (
            "bitbucket-cloud-repo-push-forced.json",
            vec![Expected {
                git_ref: "refs/heads/feature/issue-819",
                branch: Some("feature/issue-819"),
                before: Some("a10199272451f4c7c5edced2d40b5d6f2f6f5fa3"),
                commit: "5ecffa3874e96920f24a2b3c0d0038e47d5cd1a4",
                forced: true,
                commits: 5,
                truncated: true,
                message: Some("Test pipeline for issue JENKINS-75182"),
                ..BB_CLOUD_AMUNIZ
            }],
        ),
        (
            "bitbucket-cloud-repo-push-branch-created.json",
            vec![Expected {
                git_ref: "refs/heads/feature/test",
                branch: Some("feature/test"),
                commit: "174561d625c9623b60d8aba09b7f08ddc9df45cd",
                created: true,
                commits: 4,
                message: Some("Add simple pipeline"),
                ..BB_CLOUD_AMUNIZ
            }],
        ),
        (
            "bitbucket-cloud-repo-push-branch-deleted.json",
            vec![Expected {
                git_ref: "refs/heads/feature/test",
                branch: Some("feature/test"),
                before: Some("174561d625c9623b60d8aba09b7f08ddc9df45cd"),
                commit: "174561d625c9623b60d8aba09b7f08ddc9df45cd",
                deleted: true,
                ..BB_CLOUD_AMUNIZ
            }],
        ),
        (
            "bitbucket-cloud-repo-push-tag.json",
            vec![Expected {
                git_ref: "refs/tags/simple-tag",
                tag: Some("simple-tag"),
                commit: "7ef5981d59145c3ed300b1ab77b93907d33abe59",
                created: true,
                message: Some("Test pipeline for issue JENKINS-75182"),
                ..BB_CLOUD_AMUNIZ
            }],
        ),
        (
            "bitbucket-cloud-repo-push-tag-deleted.json",
            vec![Expected {
                git_ref: "refs/tags/test",
                tag: Some("test"),
                before: Some("174561d625c9623b60d8aba09b7f08ddc9df45cd"),
                commit: "174561d625c9623b60d8aba09b7f08ddc9df45cd",
                deleted: true,
                ..BB_CLOUD_AMUNIZ
            }],
        ),
        (
            "bitbucket-cloud-repo-push-signed.json",
            vec![Expected {
                git_ref: "refs/heads/feature/webhook",
                branch: Some("feature/webhook"),
                commit: "d7f300a32270053bdfd97a6d64113f58202c33e7",
                created: true,
                commits: 5,
                repository: "https://bitbucket.org/nfalco79/test-repos.git",
                message: Some("Test for webhook signature"),
                ..BB_CLOUD_AMUNIZ
            }],
        ),
        ("bitbucket-cloud-repo-push-multiple-changes.json", {
            // Old (pre-GDPR) format: the actor has a `username`.
            let base = Expected {
                source: "bitbucket_cloud",
                pusher: Some("stephenc"),
                repository: "https://bitbucket.org/cloudbeers/temp.git",
                host: "bitbucket.org",
                ..ZERO
            };
            vec![
                Expected {
                    git_ref: "refs/heads/main",
                    branch: Some("main"),
                    before: Some("fc4d1ce2853b6f1ac0d0dbad643d17ef4a6e0be7"),
                    commit: "325d37697849f4b1fe42cb19c20134af08e03a82",
                    commits: 1,
                    message: Some("typo"),
                    ..base.clone()
                },
                Expected {
                    git_ref: "refs/heads/manchu",
                    branch: Some("manchu"),
                    commit: "e22fcb49645b4586a845938afac5eb3ac1950586",
                    created: true,
                    commits: 5,
                    truncated: true,
                    message: Some("Alt universe change"),
                    ..base.clone()
                },
                Expected {
                    git_ref: "refs/tags/v0.1",
                    tag: Some("v0.1"),
                    commit: "1986c228494671574242f99b62d1a00a4bfb69a5",
                    created: true,
                    message: Some(
                        "Merged in foo (pull request #2)\n\nREADME.md edited online with Bitbucket",
                    ),
                    ..base
                },
            ]
        }),
        // §2 Bitbucket Server / Data Center.
        (
            "bitbucket-server-refs-changed.json",
            vec![Expected {
                git_ref: "refs/heads/main",
                branch: Some("main"),
                before: Some("a8c13e8850dc60300be720019d1ffc1aa2fded87"),
                commit: "9fdd7b96d3f5c276d0b9e0bf38c879eb112d889a",
                commits: 1,
                pusher: Some("amuniz"),
                repository: "http://localhost:7990/scm/amuniz/test-repos.git",
                message: Some("source-2: Wed 13 Nov 2024 21:54:36 AEST"),
                ..BB_SERVER_ADMIN
            }],
        ),
        (
            "bitbucket-server-refs-changed-v10-branch-created.json",
            vec![Expected {
                git_ref: "refs/heads/feature/BB-1",
                branch: Some("feature/BB-1"),
                commit: "fb522a6f08c7c7df337312e4e65ec1b57710672e",
                created: true,
                commits: 4,
                message: Some("Suppress echo command part"),
                ..BB_SERVER_ADMIN
            }],
        ),
        (
            "bitbucket-server-refs-changed-branch-deleted.json",
            vec![Expected {
                git_ref: "refs/heads/feature/BB-1",
                branch: Some("feature/BB-1"),
                before: Some("fb522a6f08c7c7df337312e4e65ec1b57710672e"),
                commit: "fb522a6f08c7c7df337312e4e65ec1b57710672e",
                deleted: true,
                ..BB_SERVER_ADMIN
            }],
        ),
        (
            "bitbucket-server-refs-changed-tag.json",
            vec![Expected {
                git_ref: "refs/tags/simple-tag",
                tag: Some("simple-tag"),
                commit: "fb522a6f08c7c7df337312e4e65ec1b57710672e",
                created: true,
                commits: 4,
                message: Some("Suppress echo command part"),
                ..BB_SERVER_ADMIN
            }],
        ),
        // §3 GitHub.
        (
            "github-push.json",
            vec![Expected {
                source: "github",
                git_ref: "refs/heads/main",
                branch: Some("main"),
                before: Some("2f780193b136b72bfea4eeb640786a8c4450c7a2"),
                commit: "366701fde727cb7a9e7f21eb88264f59f6f9b89c",
                commits: 1,
                pusher: Some("6543"),
                repository: "https://github.com/woodpecker-ci/woodpecker.git",
                host: "github.com",
                message: Some(
                    "Fix multiline secrets replacer (#700)\n\n* Fix multiline secrets replacer\r\n\r\n* Add tests",
                ),
                ..ZERO
            }],
        ),
        (
            "github-push-forced.json",
            vec![Expected {
                source: "github",
                git_ref: "refs/heads/master",
                branch: Some("master"),
                before: Some("d5c1ffa8e294bc18c639bfb4e0df499251034414"),
                commit: "63738bb582c8b540af7bcfc18f87c575c3ed66e0",
                forced: true,
                commits: 1,
                pusher: Some("jessesuen"),
                repository: "https://github.com/jessesuen/test-repo.git",
                host: "github.com",
                message: Some("Add staging-argocd-demo environment"),
                ..ZERO
            }],
        ),
        (
            // The April-2025 format: `repository.url` is the API URL.
            "github-push-tag.json",
            vec![Expected {
                source: "github",
                git_ref: "refs/tags/the-tag-v1",
                tag: Some("the-tag-v1"),
                commit: "67012991d6c69b1c58378346fca366b864d8d1a1",
                created: true,
                pusher: Some("6543"),
                repository: "https://github.com/6543/test_ci_tmp.git",
                host: "github.com",
                message: Some("Update .woodpecker.yml"),
                ..ZERO
            }],
        ),
        (
            "github-push-branch-deleted.json",
            vec![Expected {
                source: "github",
                git_ref: "refs/heads/feature-branch",
                branch: Some("feature-branch"),
                before: Some("d2b75aa7797ec26b088fa2dd527e9d2c052fcedd"),
                commit: "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd",
                deleted: true,
                pusher: Some("bradrydzewski"),
                repository: "https://github.com/bradrydzewski/drone-test-go.git",
                host: "github.com",
                ..ZERO
            }],
        ),
        (
            "github-push-tag-deleted.json",
            vec![Expected {
                source: "github",
                git_ref: "refs/tags/simple-tag",
                tag: Some("simple-tag"),
                before: Some("6113728f27ae82c7b1a177c8d03f9e96e0adf246"),
                commit: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
                deleted: true,
                pusher: Some("Codertocat"),
                repository: "https://github.com/Codertocat/Hello-World.git",
                host: "github.com",
                ..ZERO
            }],
        ),
        // §4 GitLab.
        (
            // The doc lists 2 commits of `total_commits_count: 4`: truncated.
            "gitlab-push.json",
            vec![Expected {
                source: "gitlab",
                git_ref: "refs/heads/master",
                branch: Some("master"),
                before: Some("95790bf891e76fee5e1747ab589903a6a1f80f22"),
                commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
                commits: 2,
                truncated: true,
                pusher: Some("jsmith"),
                repository: "http://example.com/mike/diaspora.git",
                host: "example.com",
                message: Some("fixed readme"),
                ..ZERO
            }],
        ),
        (
            // No `user_username` in the documented tag event: the display name.
            "gitlab-tag-push.json",
            vec![Expected {
                source: "gitlab",
                git_ref: "refs/tags/v1.0.0",
                tag: Some("v1.0.0"),
                commit: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
                created: true,
                pusher: Some("John Smith"),
                repository: "http://example.com/jsmith/example.git",
                host: "example.com",
                ..ZERO
            }],
        ),
        (
            "gitlab-push-selfhosted.json",
            vec![Expected {
                source: "gitlab",
                git_ref: "refs/heads/main",
                branch: Some("main"),
                before: Some("ffe8eb4f91d1fe6bc49f1e610e50e4b5767f0104"),
                commit: "16862e368d8ab812e48833b741dad720d6e2cb7f",
                commits: 1,
                pusher: Some("test"),
                repository: "http://10.40.8.5:3200/test/woodpecker.git",
                host: "10.40.8.5",
                message: Some("Update main.go"),
                ..ZERO
            }],
        ),
    ]
}

fn parse_fixture(name: &str) -> (String, Vec<PushReport>) {
    let (provider, headers) = delivery_headers(name);
    match hooks::parse(provider, &headers, &fixture(name)) {
        Ok(Delivery::Push {
            delivery_id,
            changes,
        }) => (delivery_id, changes),
        other => panic!("{name}: expected a push, got {other:?}"),
    }
}

fn assert_change(name: &str, index: usize, actual: &PushReport, expected: &Expected) {
    let at = format!("{name} change {index}");
    assert_eq!(actual.source, expected.source, "{at}: source");
    assert_eq!(actual.git_ref, expected.git_ref, "{at}: ref");
    assert_eq!(actual.branch(), expected.branch, "{at}: branch");
    assert_eq!(actual.tag(), expected.tag, "{at}: tag");
    assert_eq!(actual.before.as_deref(), expected.before, "{at}: before");
    assert_eq!(actual.commit, expected.commit, "{at}: commit (after)");
    assert_eq!(actual.created, expected.created, "{at}: created");
    assert_eq!(actual.deleted, expected.deleted, "{at}: deleted");
    assert_eq!(actual.forced, expected.forced, "{at}: forced");
    assert_eq!(
        actual.commits.len(),
        expected.commits,
        "{at}: commits listed"
    );
    assert_eq!(actual.truncated, expected.truncated, "{at}: truncated");
    assert_eq!(actual.pusher.as_deref(), expected.pusher, "{at}: pusher");
    assert_eq!(actual.repository, expected.repository, "{at}: clone URL");
    assert_eq!(actual.host.as_deref(), Some(expected.host), "{at}: host");
    assert_eq!(actual.message.as_deref(), expected.message, "{at}: message");
    assert_eq!(
        actual.delivery_id.as_deref(),
        Some("delivery-of-this-request"),
        "{at}: delivery id"
    );
    for commit in &actual.commits {
        assert_eq!(commit.id.len(), 40, "{at}: commit id {}", commit.id);
        assert!(!commit.message.is_empty(), "{at}: message of {}", commit.id);
        assert!(commit.author.is_some(), "{at}: author of {}", commit.id);
    }
}

#[test]
fn every_fixture_parses_into_the_changes_sources_md_describes() {
    let expectations = expectations();
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixtures_dir())
        .expect("the fixtures directory is readable")
        .map(|entry| entry.expect("a directory entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    let covered: BTreeSet<String> = expectations
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    assert_eq!(
        on_disk, covered,
        "every fixture on disk needs expectations here, and every expectation a fixture"
    );

    for (name, expected) in &expectations {
        let (delivery_id, changes) = parse_fixture(name);
        assert_eq!(delivery_id, "delivery-of-this-request", "{name}");
        assert_eq!(changes.len(), expected.len(), "{name}: number of changes");
        for (index, (actual, expected)) in changes.iter().zip(expected).enumerate() {
            assert_change(name, index, actual, expected);
        }
    }
}

#[test]
fn listed_commits_keep_the_hosts_order_and_name_their_authors() {
    let (_, changes) = parse_fixture("bitbucket-cloud-repo-push-branch-created.json");
    let commits = &changes[0].commits;
    // Bitbucket lists newest first; the author is the git identity's name, without e-mail.
    assert_eq!(commits[0].id, "174561d625c9623b60d8aba09b7f08ddc9df45cd");
    assert_eq!(commits[0].author.as_deref(), Some("Nikolas Falco"));
    assert_eq!(commits[3].id, "8d0fa145bde5151f1d103ab1c3dc1033e6ec4ac1");
    assert_eq!(commits[3].message, "Initial commit");
    assert_eq!(commits[3].author.as_deref(), Some("Antonio Muniz"));

    // Data Center 10, ISO-8601 timestamps: newest first too.
    let (_, changes) = parse_fixture("bitbucket-server-refs-changed-v10-branch-created.json");
    let ids: Vec<&str> = changes[0].commits.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fb522a6f08c7c7df337312e4e65ec1b57710672e",
            "ae995d7a37069d0988462a9c92828971e8a42b5d",
            "bf4f4ce8a3a8d5c7dbfe7d609973a81a6c6664cf",
            "8d0fa145bde5151f1d103ab1c3dc1033e6ec4ac1",
        ]
    );
    // An author given as a user account is named by its display name.
    let (_, changes) = parse_fixture("bitbucket-server-refs-changed.json");
    assert_eq!(
        changes[0].commits[0].author.as_deref(),
        Some("Antonio Muniz")
    );

    // GitLab lists oldest first.
    let (_, changes) = parse_fixture("gitlab-push.json");
    let commits = &changes[0].commits;
    assert_eq!(commits[0].id, "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327");
    assert_eq!(commits[0].author.as_deref(), Some("Jordi Mallach"));
    assert_eq!(commits[1].id, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");

    let (_, changes) = parse_fixture("github-push-forced.json");
    assert_eq!(changes[0].commits[0].author.as_deref(), Some("Jesse Suen"));
}

// --- Malformed bodies ---------------------------------------------------------------------

fn malformed_reason(provider: Provider, pairs: &[(&str, &str)], body: &[u8]) -> String {
    match hooks::parse(provider, &headers(pairs), body) {
        Err(HookError::Malformed(reason)) => reason,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// Delivery headers as name/value pairs.
type Pairs = &'static [(&'static str, &'static str)];

const BB_CLOUD: &[(&str, &str)] = &[("x-event-key", "repo:push"), ("x-request-uuid", "u")];
const BB_SERVER: &[(&str, &str)] = &[("x-event-key", "repo:refs_changed"), ("x-request-id", "r")];
const GITHUB: &[(&str, &str)] = &[("x-github-event", "push"), ("x-github-delivery", "d")];
const GITLAB: &[(&str, &str)] = &[("x-gitlab-event", "Push Hook"), ("idempotency-key", "k")];
const GITLAB_TAG: &[(&str, &str)] = &[
    ("x-gitlab-event", "Tag Push Hook"),
    ("idempotency-key", "k"),
];

#[test]
fn bodies_that_are_not_json_are_malformed() {
    for (provider, pairs) in [
        (Provider::Bitbucket, BB_CLOUD),
        (Provider::Bitbucket, BB_SERVER),
        (Provider::GitHub, GITHUB),
        (Provider::GitLab, GITLAB),
        (Provider::GitLab, GITLAB_TAG),
    ] {
        for body in [&b""[..], b"<html>", b"{\"push\":", b"\xff\xfe"] {
            let reason = malformed_reason(provider, pairs, body);
            assert!(reason.contains("not valid JSON"), "{provider}: {reason}");
        }
    }
}

#[test]
fn json_without_the_required_fields_is_malformed_naming_them() {
    let cases: &[(Provider, Pairs, &str, &str)] = &[
        (Provider::Bitbucket, BB_CLOUD, "{}", "`push`"),
        (
            Provider::Bitbucket,
            BB_CLOUD,
            r#"{"push": {}}"#,
            "`push.changes`",
        ),
        (
            Provider::Bitbucket,
            BB_CLOUD,
            r#"{"push": {"changes": {}}, "repository": {}}"#,
            "`push.changes` must be an array",
        ),
        (Provider::Bitbucket, BB_SERVER, "{}", "`changes`"),
        (Provider::Bitbucket, BB_SERVER, "[]", "`changes`"),
        (Provider::GitHub, GITHUB, "{}", "`ref`"),
        (
            Provider::GitHub,
            GITHUB,
            r#"{"ref": 7}"#,
            "`ref` must be a string",
        ),
        (Provider::GitLab, GITLAB, "{}", "`ref`"),
        (
            Provider::GitLab,
            GITLAB_TAG,
            r#"{"ref": "refs/tags/v1"}"#,
            "`before`",
        ),
    ];
    for (provider, pairs, body, field) in cases {
        let reason = malformed_reason(*provider, pairs, body.as_bytes());
        assert!(
            reason.contains(field),
            "{provider} {body}: {reason:?} should name {field}"
        );
    }
}

/// A fixture with one field taken out (or replaced) must be refused naming that field.
fn fixture_without(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut json: serde_json::Value =
        serde_json::from_slice(&fixture(name)).expect("fixtures are JSON");
    edit(&mut json);
    serde_json::to_vec(&json).expect("serialisable")
}

#[test]
fn fixtures_missing_a_required_field_are_malformed_naming_it() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bitbucket-cloud-repo-push-multiple-changes.json",
            fixture_without("bitbucket-cloud-repo-push-multiple-changes.json", |json| {
                json["push"]["changes"][1]["new"]["target"]
                    .as_object_mut()
                    .unwrap()
                    .remove("hash");
            }),
            "`push.changes[1].new.target.hash`",
        ),
        (
            "bitbucket-cloud-repo-push.json",
            fixture_without("bitbucket-cloud-repo-push.json", |json| {
                json.as_object_mut().unwrap().remove("repository");
            }),
            "`repository`",
        ),
        (
            "bitbucket-server-refs-changed.json",
            fixture_without("bitbucket-server-refs-changed.json", |json| {
                json["changes"][0]["toHash"] = "not-a-sha".into();
            }),
            "`changes[0].toHash` must be a full hexadecimal git object id",
        ),
        (
            "bitbucket-server-refs-changed.json",
            fixture_without("bitbucket-server-refs-changed.json", |json| {
                json["repository"]["links"]
                    .as_object_mut()
                    .unwrap()
                    .remove("clone");
            }),
            "`repository.links.clone`",
        ),
        (
            "github-push.json",
            fixture_without("github-push.json", |json| {
                json.as_object_mut().unwrap().remove("after");
            }),
            "`after`",
        ),
        (
            "gitlab-push.json",
            fixture_without("gitlab-push.json", |json| {
                let object = json.as_object_mut().unwrap();
                object.remove("project");
                object.remove("repository");
            }),
            "`project.git_http_url`",
        ),
    ];
    for (name, body, field) in cases {
        let (provider, headers) = delivery_headers(name);
        match hooks::parse(provider, &headers, &body) {
            Err(HookError::Malformed(reason)) => assert!(
                reason.contains(field),
                "{name}: {reason:?} should name {field}"
            ),
            other => panic!("{name}: expected Malformed naming {field}, got {other:?}"),
        }
    }
}

// --- Events other than pushes ---------------------------------------------------------------

#[test]
fn pings_and_other_events_are_not_pushes() {
    let ping = hooks::parse(
        Provider::Bitbucket,
        &headers(&[("x-event-key", "diagnostics:ping"), ("x-request-id", "p")]),
        br#"{"test": true}"#,
    );
    assert_eq!(
        ping,
        Ok(Delivery::Ping {
            delivery_id: "p".into()
        })
    );
    let ping = hooks::parse(
        Provider::GitHub,
        &headers(&[("x-github-event", "ping"), ("x-github-delivery", "g")]),
        br#"{"zen": "Keep it logically awesome."}"#,
    );
    assert_eq!(
        ping,
        Ok(Delivery::Ping {
            delivery_id: "g".into()
        })
    );
    for (provider, pairs, event) in [
        (
            Provider::Bitbucket,
            [
                ("x-event-key", "pullrequest:created"),
                ("x-request-uuid", "i"),
            ],
            "pullrequest:created",
        ),
        (
            Provider::Bitbucket,
            [("x-event-key", "pr:opened"), ("x-request-id", "i")],
            "pr:opened",
        ),
        (
            Provider::GitHub,
            [("x-github-event", "issues"), ("x-github-delivery", "i")],
            "issues",
        ),
        (
            Provider::GitLab,
            [
                ("x-gitlab-event", "Merge Request Hook"),
                ("idempotency-key", "i"),
            ],
            "Merge Request Hook",
        ),
    ] {
        assert_eq!(
            hooks::parse(provider, &headers(&pairs), b"{}"),
            Ok(Delivery::Ignored {
                delivery_id: "i".into(),
                event_type: event.into()
            })
        );
    }
}

#[test]
fn gitlab_without_any_delivery_header_is_deduplicated_on_the_body_digest() {
    let body = fixture("gitlab-push.json");
    let headers = headers(&[("x-gitlab-event", "Push Hook")]);
    let first = hooks::parse(Provider::GitLab, &headers, &body).unwrap();
    let again = hooks::parse(Provider::GitLab, &headers, &body).unwrap();
    assert!(first.delivery_id().starts_with("sha256:"));
    assert_eq!(first.delivery_id(), again.delivery_id());
}

// --- Signatures -------------------------------------------------------------------------------

/// SOURCES.md §5, test vector 2 (jenkinsci/bitbucket-branch-source-plugin).
const BB_SECRET: &str = "Gkvl$k$wyNpQAF42";
const BB_SIGNATURE: &str =
    "sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a035";
const BB_BAD_SIGNATURE: &str =
    "sha256=f205c729821c6954aff2afe72b965c34015b4baf96ea8ddc2cc44999c014a036";

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn assert_unauthorized(result: Result<(), HookError>, what: &str) {
    assert!(
        matches!(result, Err(HookError::Unauthorized(_))),
        "{what}: expected Unauthorized, got {result:?}"
    );
}

#[test]
fn signed_bitbucket_cloud_fixture_verifies_with_the_published_test_vector() {
    let body = fixture("bitbucket-cloud-repo-push-signed.json");
    assert_eq!(
        body.len(),
        14515,
        "the signed fixture must be byte-exact (no trailing newline)"
    );
    let signed = |signature: &str| {
        let (_, mut headers) = delivery_headers("bitbucket-cloud-repo-push-signed.json");
        headers.push(("x-hub-signature".into(), signature.into()));
        headers
    };

    assert_eq!(
        hooks::verify(
            Provider::Bitbucket,
            &signed(BB_SIGNATURE),
            &body,
            Some(BB_SECRET)
        ),
        Ok(())
    );
    assert_eq!(sign(BB_SECRET, &body), BB_SIGNATURE);

    assert_unauthorized(
        hooks::verify(
            Provider::Bitbucket,
            &signed(BB_BAD_SIGNATURE),
            &body,
            Some(BB_SECRET),
        ),
        "the upstream test's bad signature",
    );
    assert_unauthorized(
        hooks::verify(
            Provider::Bitbucket,
            &signed(BB_SIGNATURE),
            &body,
            Some("Gkvl$k$wyNpQAF43"),
        ),
        "the wrong secret",
    );
    for index in [0, body.len() / 2, body.len() - 1] {
        let mut tampered = body.clone();
        tampered[index] ^= 0x01;
        assert_unauthorized(
            hooks::verify(
                Provider::Bitbucket,
                &signed(BB_SIGNATURE),
                &tampered,
                Some(BB_SECRET),
            ),
            &format!("byte {index} changed"),
        );
    }
    let mut with_newline = body.clone();
    with_newline.push(b'\n');
    assert_unauthorized(
        hooks::verify(
            Provider::Bitbucket,
            &signed(BB_SIGNATURE),
            &with_newline,
            Some(BB_SECRET),
        ),
        "a trailing newline added",
    );
    let (_, unsigned) = delivery_headers("bitbucket-cloud-repo-push-signed.json");
    assert_unauthorized(
        hooks::verify(Provider::Bitbucket, &unsigned, &body, Some(BB_SECRET)),
        "no signature although the integration has a secret",
    );
    // Without a secret nothing is required.
    assert_eq!(
        hooks::verify(Provider::Bitbucket, &unsigned, &body, None),
        Ok(())
    );
}

#[test]
fn bitbucket_data_center_signature_uses_the_same_scheme() {
    let body = fixture("bitbucket-server-refs-changed.json");
    let (_, mut headers) = delivery_headers("bitbucket-server-refs-changed.json");
    headers.push(("X-Hub-Signature".into(), sign("dc-secret", &body)));
    assert_eq!(
        hooks::verify(Provider::Bitbucket, &headers, &body, Some("dc-secret")),
        Ok(())
    );
    assert_unauthorized(
        hooks::verify(Provider::Bitbucket, &headers, &body, Some("other")),
        "wrong secret",
    );
}

#[test]
fn github_signature_is_required_and_checked_over_the_raw_body() {
    // GitHub's documented vector first.
    assert_eq!(
        sign("It's a Secret to Everybody", b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );

    let secret = "a GitHub webhook secret";
    let body = fixture("github-push.json");
    let (_, mut headers) = delivery_headers("github-push.json");
    headers.push(("x-hub-signature-256".into(), sign(secret, &body)));
    assert_eq!(
        hooks::verify(Provider::GitHub, &headers, &body, Some(secret)),
        Ok(())
    );
    assert_unauthorized(
        hooks::verify(Provider::GitHub, &headers, &body, Some("not the secret")),
        "wrong secret",
    );
    let mut tampered = body.clone();
    tampered[10] ^= 0x20;
    assert_unauthorized(
        hooks::verify(Provider::GitHub, &headers, &tampered, Some(secret)),
        "tampered body",
    );

    // The legacy SHA-1 header alone is not enough.
    let (_, mut legacy) = delivery_headers("github-push.json");
    legacy.push(("x-hub-signature".into(), "sha1=0123456789abcdef".into()));
    assert_unauthorized(
        hooks::verify(Provider::GitHub, &legacy, &body, Some(secret)),
        "only the SHA-1 header",
    );
    assert_eq!(
        hooks::verify(Provider::GitHub, &legacy, &body, None),
        Ok(())
    );
}

#[test]
fn gitlab_token_is_compared_with_the_secret() {
    let body = fixture("gitlab-push.json");
    let with_token = |token: &str| {
        let (_, mut headers) = delivery_headers("gitlab-push.json");
        headers.push(("x-gitlab-token".into(), token.into()));
        headers
    };
    let secret = "gitlab-secret-token";
    assert_eq!(
        hooks::verify(Provider::GitLab, &with_token(secret), &body, Some(secret)),
        Ok(())
    );
    for wrong in [
        "gitlab-secret-tokeN",
        "gitlab-secret-token-and-more",
        "g",
        "",
    ] {
        assert_unauthorized(
            hooks::verify(Provider::GitLab, &with_token(wrong), &body, Some(secret)),
            wrong,
        );
    }
    let (_, without) = delivery_headers("gitlab-push.json");
    let result = hooks::verify(Provider::GitLab, &without, &body, Some(secret));
    assert_unauthorized(result.clone(), "no token");
    let Err(HookError::Unauthorized(reason)) = result else {
        unreachable!()
    };
    assert!(reason.contains("X-Gitlab-Token") && !reason.contains(secret));
}
