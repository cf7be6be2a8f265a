//! Bitbucket deliveries: Cloud `repo:push` and Server / Data Center `repo:refs_changed`, on one
//! endpoint, told apart by the `X-Event-Key` header.
//!
//! | | Cloud | Server / Data Center |
//! |---|---|---|
//! | event | `repo:push` | `repo:refs_changed`; `diagnostics:ping` is a [`Delivery::Ping`] |
//! | delivery id | `X-Request-UUID` | `X-Request-Id` |
//! | source | `bitbucket_cloud` | `bitbucket_server` |
//! | changes | `push.changes[]` | `changes[]` |
//! | clone URL | `repository.links.html.href` + `.git` (the payload has no clone link) | `repository.links.clone[]` named `http` (else `ssh`) |
//! | pusher | `actor.username`, else `nickname`, else `display_name` | `actor.name`, else `displayName` |
//! | forced | the change's `forced` | never reported: `false` |
//! | commits | the change's `commits` (at most 5, with `truncated`) | the top-level `commits`, see below |
//!
//! Data Center sends one top-level `commits` list (and `toCommit`) per delivery, newest first,
//! by default capped at 5, with no truncation flag; older Server versions and deletions send
//! neither. The list is given to the change whose `toHash` is `toCommit.id` (or, without
//! `toCommit`, the first listed commit); `truncated` is set when that list is at the default cap
//! of 5 and on every non-deleting change that came without a list, since its commits are
//! unknown.
//!
//! Timestamps are deliberately not read: Data Center 10 changed `authorTimestamp` and
//! `committerTimestamp` from epoch milliseconds to ISO-8601 strings (JENKINS-76457), and a report
//! needs neither, so both forms parse.

use conveyor_engine::aggregate::push::PushedCommit;
use serde_json::Value;

use super::{
    Delivery, Headers, HookError, Json, RefChange, delivery_id, full_ref, header_value,
    identity_name, is_zero_object_id, normalise_message, parse_json,
};

/// `source` of reports from Bitbucket Cloud.
pub const SOURCE_CLOUD: &str = "bitbucket_cloud";
/// `source` of reports from Bitbucket Server / Data Center.
pub const SOURCE_SERVER: &str = "bitbucket_server";

/// Data Center's default cap on the commits listed in `repo:refs_changed`.
const SERVER_COMMITS_LIMIT: usize = 5;

/// Parses a Bitbucket Cloud or Server / Data Center delivery.
pub fn parse<H: Headers + ?Sized>(headers: &H, body: &[u8]) -> Result<Delivery, HookError> {
    let event_type =
        header_value(headers, "x-event-key").ok_or(HookError::MissingEventType("X-Event-Key"))?;
    match event_type {
        "repo:push" => {
            let delivery_id = delivery_id(headers, &["x-request-uuid"], "X-Request-UUID")?;
            let changes = parse_cloud_push(&parse_json(body)?, &delivery_id)?;
            Ok(Delivery::Push {
                delivery_id,
                changes,
            })
        }
        "repo:refs_changed" => {
            let delivery_id = delivery_id(headers, &["x-request-id"], "X-Request-Id")?;
            let changes = parse_server_refs_changed(&parse_json(body)?, &delivery_id)?;
            Ok(Delivery::Push {
                delivery_id,
                changes,
            })
        }
        "diagnostics:ping" => Ok(Delivery::Ping {
            delivery_id: delivery_id(headers, &["x-request-id"], "X-Request-Id")?,
        }),
        other => Ok(Delivery::Ignored {
            delivery_id: delivery_id(
                headers,
                &["x-request-uuid", "x-request-id"],
                "X-Request-UUID (Cloud) or X-Request-Id (Data Center)",
            )?,
            event_type: other.to_owned(),
        }),
    }
}

fn parse_cloud_push(
    body: &Value,
    delivery_id: &str,
) -> Result<Vec<conveyor_engine::PushReport>, HookError> {
    let root = Json::root(body);
    let changes = root.req("push")?.req("changes")?.elements()?;
    let repository = cloud_clone_url(&root.req("repository")?)?;
    let pusher = root
        .opt("actor")
        .and_then(|actor| actor.first_str(&["username", "nickname", "display_name"]))
        .map(str::to_owned);

    changes
        .iter()
        .map(|change| {
            let old = change.opt("old");
            let new = change.opt("new");
            let Some(side) = new.as_ref().or(old.as_ref()) else {
                return Err(HookError::Malformed(format!(
                    "`{}` has neither `old` nor `new`",
                    change.path
                )));
            };
            let git_ref = cloud_ref_name(side)?;
            let old_hash = old
                .as_ref()
                .map(|old| old.req("target")?.req_object_id("hash"))
                .transpose()?;
            let new_target = new.as_ref().map(|new| new.req("target")).transpose()?;
            let commit = match &new_target {
                Some(target) => target.req_object_id("hash")?,
                None => old_hash.clone().unwrap_or_default(),
            };
            let message = match &new_target {
                Some(target) => target.opt_str("message")?.map(normalise_message),
                None => None,
            };
            let commits = change
                .opt_elements("commits")?
                .iter()
                .map(|commit| {
                    Ok(PushedCommit {
                        id: commit.req_object_id("hash")?,
                        message: normalise_message(commit.opt_str("message")?.unwrap_or("")),
                        author: commit.opt("author").and_then(|author| {
                            author
                                .first_str(&["raw"])
                                .and_then(identity_name)
                                .or_else(|| {
                                    author.opt("user").and_then(|user| {
                                        user.first_str(&["display_name", "nickname", "username"])
                                            .map(str::to_owned)
                                    })
                                })
                        }),
                    })
                })
                .collect::<Result<Vec<_>, HookError>>()?;
            Ok(RefChange {
                repository: repository.clone(),
                git_ref,
                commit,
                before: old_hash,
                pusher: pusher.clone(),
                message,
                source: SOURCE_CLOUD,
                created: change.opt_bool("created")?.unwrap_or(old.is_none()),
                deleted: change.opt_bool("closed")?.unwrap_or(new.is_none()),
                forced: change.opt_bool("forced")?.unwrap_or(false),
                commits,
                truncated: change.opt_bool("truncated")?.unwrap_or(false),
                delivery_id: delivery_id.to_owned(),
            }
            .into_report())
        })
        .collect()
}

/// `refs/heads/<name>` or `refs/tags/<name>` from a Cloud `old`/`new` ref object.
fn cloud_ref_name(side: &Json<'_>) -> Result<String, HookError> {
    let name = side.req_str("name")?;
    let git_ref = match side.req_str("type")? {
        "branch" => format!("refs/heads/{name}"),
        "tag" => format!("refs/tags/{name}"),
        other => {
            return Err(HookError::Malformed(format!(
                "`{}.type` is `{other}`, expected `branch` or `tag`",
                side.path
            )));
        }
    };
    full_ref(&format!("{}.name", side.path), &git_ref)
}

/// The https clone URL of a Cloud repository: its web page plus `.git` (Cloud's push payload
/// carries no clone link; `https://bitbucket.org/<workspace>/<slug>.git` is the clone URL).
fn cloud_clone_url(repository: &Json<'_>) -> Result<String, HookError> {
    let html = repository
        .opt("links")
        .and_then(|links| links.opt("html"))
        .and_then(|html| html.first_str(&["href"]));
    if let Some(href) = html {
        return Ok(format!("{}.git", href.trim_end_matches('/')));
    }
    match repository.first_str(&["full_name"]) {
        Some(full_name) => Ok(format!("https://bitbucket.org/{full_name}.git")),
        None => Err(HookError::Malformed(format!(
            "missing required field `{}.links.html.href`",
            repository.path
        ))),
    }
}

fn parse_server_refs_changed(
    body: &Value,
    delivery_id: &str,
) -> Result<Vec<conveyor_engine::PushReport>, HookError> {
    let root = Json::root(body);
    let changes = root.req("changes")?.elements()?;
    let repository = server_clone_url(&root.req("repository")?)?;
    let pusher = root
        .opt("actor")
        .and_then(|actor| actor.first_str(&["name", "displayName"]))
        .map(str::to_owned);

    let listed = root
        .opt_elements("commits")?
        .iter()
        .map(|commit| {
            Ok(PushedCommit {
                id: commit.req_object_id("id")?,
                message: normalise_message(commit.opt_str("message")?.unwrap_or("")),
                author: commit.opt("author").and_then(|author| {
                    author
                        .first_str(&["displayName", "name"])
                        .map(str::to_owned)
                }),
            })
        })
        .collect::<Result<Vec<_>, HookError>>()?;
    let to_commit = root.opt("toCommit");
    let to_commit_id = to_commit
        .as_ref()
        .map(|to| to.req_object_id("id"))
        .transpose()?;
    // The change the top-level commit list describes.
    let described = to_commit_id
        .clone()
        .or_else(|| listed.first().map(|commit| commit.id.clone()));

    changes
        .iter()
        .map(|change| {
            let git_ref = server_ref_name(change)?;
            let from = change.req_object_id("fromHash")?;
            let to = change.req_object_id("toHash")?;
            let kind = change.opt_str("type")?;
            let created = kind == Some("ADD") || is_zero_object_id(&from);
            let deleted = kind == Some("DELETE") || is_zero_object_id(&to);
            let commit = if deleted { from.clone() } else { to.clone() };
            let is_described = !deleted && described.as_deref() == Some(to.as_str());
            let commits = if is_described {
                listed.clone()
            } else {
                Vec::new()
            };
            let truncated = if deleted {
                false
            } else if is_described {
                commits.len() >= SERVER_COMMITS_LIMIT
            } else {
                true
            };
            let message = if deleted {
                None
            } else {
                match (&to_commit, &to_commit_id) {
                    (Some(to_commit), Some(id)) if *id == to => {
                        to_commit.opt_str("message")?.map(normalise_message)
                    }
                    _ => listed
                        .iter()
                        .find(|listed| listed.id == to)
                        .map(|listed| listed.message.clone()),
                }
            };
            Ok(RefChange {
                repository: repository.clone(),
                git_ref,
                commit,
                before: (!created).then_some(from),
                pusher: pusher.clone(),
                message,
                source: SOURCE_SERVER,
                created,
                deleted,
                forced: false,
                commits,
                truncated,
                delivery_id: delivery_id.to_owned(),
            }
            .into_report())
        })
        .collect()
}

/// The full ref of a Data Center change: `ref.id` (already `refs/…`), else `refId`, else built
/// from `ref.type` and `ref.displayId`.
fn server_ref_name(change: &Json<'_>) -> Result<String, HookError> {
    let reference = change.opt("ref");
    let full = reference
        .as_ref()
        .and_then(|r| r.first_str(&["id"]))
        .or_else(|| change.first_str(&["refId"]));
    if let Some(full) = full.filter(|full| full.starts_with("refs/")) {
        return full_ref(&format!("{}.ref", change.path), full);
    }
    let reference = change.req("ref")?;
    let name = reference.req_str("displayId")?;
    let git_ref = match reference.req_str("type")? {
        "BRANCH" => format!("refs/heads/{name}"),
        "TAG" => format!("refs/tags/{name}"),
        other => {
            return Err(HookError::Malformed(format!(
                "`{}.type` is `{other}`, expected `BRANCH` or `TAG`",
                reference.path
            )));
        }
    };
    full_ref(&format!("{}.displayId", reference.path), &git_ref)
}

/// The http(s) clone URL of a Data Center repository, else its ssh one.
fn server_clone_url(repository: &Json<'_>) -> Result<String, HookError> {
    let clones = repository
        .opt("links")
        .map(|links| links.opt_elements("clone"))
        .transpose()?
        .unwrap_or_default();
    let named = |wanted: &str| {
        clones.iter().find_map(|clone| {
            (clone.first_str(&["name"]) == Some(wanted))
                .then(|| clone.first_str(&["href"]))
                .flatten()
        })
    };
    named("http")
        .or_else(|| named("https"))
        .or_else(|| named("ssh"))
        .map(str::to_owned)
        .ok_or_else(|| {
            HookError::Malformed(format!(
                "missing required field `{}.links.clone` (an `http` or `ssh` clone link)",
                repository.path
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const SERVER_REPOSITORY: &str = r#""repository": {"links": {"clone": [
        {"name": "ssh", "href": "ssh://git@bb.example:7999/p/r.git"},
        {"name": "http", "href": "https://bb.example/scm/p/r.git"}]}}"#;

    #[test]
    fn server_timestamps_parse_as_epoch_millis_and_as_iso_8601() {
        for timestamp in [
            "1537538991000",
            r#""2018-09-21T14:09:51.000Z""#,
            r#""garbage""#,
        ] {
            let body = format!(
                r#"{{"changes": [{{"ref": {{"id": "refs/heads/main", "displayId": "main", "type": "BRANCH"}},
                    "fromHash": "a8c13e8850dc60300be720019d1ffc1aa2fded87",
                    "toHash": "9fdd7b96d3f5c276d0b9e0bf38c879eb112d889a", "type": "UPDATE"}}],
                  "commits": [{{"id": "9fdd7b96d3f5c276d0b9e0bf38c879eb112d889a", "message": "m",
                    "authorTimestamp": {timestamp}, "committerTimestamp": {timestamp},
                    "author": {{"name": "A"}}}}],
                  {SERVER_REPOSITORY}}}"#
            );
            let delivery = parse(
                &headers(&[("x-event-key", "repo:refs_changed"), ("x-request-id", "r1")]),
                body.as_bytes(),
            )
            .unwrap_or_else(|e| panic!("timestamp {timestamp}: {e}"));
            let Delivery::Push { changes, .. } = delivery else {
                panic!("not a push")
            };
            assert_eq!(changes[0].commits.len(), 1);
            assert_eq!(changes[0].message.as_deref(), Some("m"));
            assert_eq!(changes[0].repository, "https://bb.example/scm/p/r.git");
        }
    }

    #[test]
    fn server_changes_without_commit_list_are_truncated() {
        // An old Server delivery: two changes and no `commits`/`toCommit`.
        let body = format!(
            r#"{{"changes": [
                {{"ref": {{"id": "refs/heads/a"}}, "fromHash": "0000000000000000000000000000000000000000",
                  "toHash": "1111111111111111111111111111111111111111", "type": "ADD"}},
                {{"refId": "refs/tags/t", "fromHash": "2222222222222222222222222222222222222222",
                  "toHash": "0000000000000000000000000000000000000000", "type": "DELETE"}}],
              {SERVER_REPOSITORY}}}"#
        );
        let Delivery::Push { changes, .. } = parse(
            &headers(&[("x-event-key", "repo:refs_changed"), ("x-request-id", "r2")]),
            body.as_bytes(),
        )
        .unwrap() else {
            panic!("not a push")
        };
        assert_eq!(changes.len(), 2);
        assert!(changes[0].created && changes[0].truncated && changes[0].before.is_none());
        assert_eq!(changes[1].git_ref, "refs/tags/t");
        assert!(changes[1].deleted && !changes[1].truncated);
        assert_eq!(
            changes[1].commit,
            "2222222222222222222222222222222222222222"
        );
    }

    #[test]
    fn ping_and_unknown_events() {
        assert_eq!(
            parse(
                &headers(&[("X-Event-Key", "diagnostics:ping"), ("X-Request-Id", "p1")]),
                br#"{"test": true}"#
            ),
            Ok(Delivery::Ping {
                delivery_id: "p1".into()
            })
        );
        assert_eq!(
            parse(
                &headers(&[
                    ("x-event-key", "pullrequest:created"),
                    ("x-request-uuid", "u1")
                ]),
                b"not even json"
            ),
            Ok(Delivery::Ignored {
                delivery_id: "u1".into(),
                event_type: "pullrequest:created".into()
            })
        );
    }

    #[test]
    fn missing_headers_are_named() {
        assert_eq!(
            parse(&headers(&[("x-request-uuid", "u1")]), b"{}"),
            Err(HookError::MissingEventType("X-Event-Key"))
        );
        assert_eq!(
            parse(&headers(&[("x-event-key", "repo:push")]), b"{}"),
            Err(HookError::MissingDeliveryId("X-Request-UUID"))
        );
        assert_eq!(
            parse(
                &headers(&[
                    ("x-event-key", "repo:refs_changed"),
                    ("x-request-uuid", "u1")
                ]),
                b"{}"
            ),
            Err(HookError::MissingDeliveryId("X-Request-Id"))
        );
    }

    #[test]
    fn cloud_change_without_old_or_new_is_malformed() {
        let body = br#"{"push": {"changes": [{"old": null, "new": null}]},
                        "repository": {"full_name": "w/r"}}"#;
        assert_eq!(
            parse(
                &headers(&[("x-event-key", "repo:push"), ("x-request-uuid", "u1")]),
                body
            ),
            Err(HookError::Malformed(
                "`push.changes[0]` has neither `old` nor `new`".into()
            ))
        );
    }
}
