//! GitLab deliveries: `Push Hook` and `Tag Push Hook` (one ref per delivery), named by
//! `X-Gitlab-Event`.
//!
//! - Delivery id, the first present of:
//!   1. `Idempotency-Key`: one per event and webhook, kept by GitLab's "Resend request"
//!      (`WebHooks::Events::ResendService` passes the logged key back), so it is the only header
//!      that deduplicates a redelivery;
//!   2. `X-Gitlab-Webhook-UUID`: new for every request;
//!   3. `X-Gitlab-Event-UUID`: the recursion-detection id. It is new per webhook job *unless*
//!      the push was made by a request that itself carried the header (a webhook receiver
//!      calling GitLab's API), in which case every event of that chain shares it; so two
//!      distinct pushes can share it, and it comes last;
//!   4. failing all three (GitLab before these headers existed), `sha256:<hex>` of the raw
//!      body, which is the same for a redelivery of the same push.
//! - Clone URL: `repository.git_http_url`, else `project.git_http_url`, else the deprecated
//!   `project.http_url`.
//! - `created`/`deleted` from the forty-zero `before`/`after`; GitLab does not report forced
//!   pushes, so `forced` is `false`.
//! - `truncated` when `total_commits_count` exceeds the commits listed (GitLab lists at most 20).
//! - `pusher` is `user_username`, else `user_name`; `message` is the listed commit whose id is
//!   `checkout_sha` (else `after`), `None` when it is not listed (tag pushes list none).

use conveyor_engine::aggregate::push::PushedCommit;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    Delivery, Headers, HookError, Json, RefChange, delivery_id, full_ref, header_value,
    is_zero_object_id, normalise_message, parse_json,
};

/// `source` of reports from GitLab.
pub const SOURCE: &str = "gitlab";

/// Parses a GitLab delivery.
pub fn parse<H: Headers + ?Sized>(headers: &H, body: &[u8]) -> Result<Delivery, HookError> {
    let event_type = header_value(headers, "x-gitlab-event")
        .ok_or(HookError::MissingEventType("X-Gitlab-Event"))?;
    let delivery_id = match delivery_id(
        headers,
        &[
            "idempotency-key",
            "x-gitlab-webhook-uuid",
            "x-gitlab-event-uuid",
        ],
        "Idempotency-Key",
    ) {
        Ok(id) => id,
        Err(HookError::MissingDeliveryId(_)) => {
            format!("sha256:{}", hex::encode(Sha256::digest(body)))
        }
        Err(other) => return Err(other),
    };
    match event_type {
        "Push Hook" | "Tag Push Hook" => {
            let change = parse_push(&parse_json(body)?, &delivery_id)?;
            Ok(Delivery::Push {
                delivery_id,
                changes: vec![change],
            })
        }
        other => Ok(Delivery::Ignored {
            delivery_id,
            event_type: other.to_owned(),
        }),
    }
}

fn parse_push(body: &Value, delivery_id: &str) -> Result<conveyor_engine::PushReport, HookError> {
    let root = Json::root(body);
    let git_ref = full_ref("ref", root.req_str("ref")?)?;
    let before = root.req_object_id("before")?;
    let after = root.req_object_id("after")?;
    let created = is_zero_object_id(&before);
    let deleted = is_zero_object_id(&after);
    let repository = clone_url(&root)?;
    let pusher = root
        .first_str(&["user_username", "user_name"])
        .map(str::to_owned);
    let commits = root
        .opt_elements("commits")?
        .iter()
        .map(|commit| {
            Ok(PushedCommit {
                id: commit.req_object_id("id")?,
                message: normalise_message(commit.opt_str("message")?.unwrap_or("")),
                author: commit
                    .opt("author")
                    .and_then(|author| author.first_str(&["name"]))
                    .map(str::to_owned),
            })
        })
        .collect::<Result<Vec<_>, HookError>>()?;
    let total = root.opt_u64("total_commits_count")?;
    let truncated = total.is_some_and(|total| total > commits.len() as u64);
    let head = match root.opt_str("checkout_sha")? {
        Some(checkout) => checkout.to_ascii_lowercase(),
        None => after.clone(),
    };
    let message = if deleted {
        None
    } else {
        commits
            .iter()
            .find(|commit| commit.id == head)
            .map(|commit| commit.message.clone())
    };
    Ok(RefChange {
        repository,
        git_ref,
        commit: if deleted { before.clone() } else { after },
        before: (!created).then_some(before),
        pusher,
        message,
        source: SOURCE,
        created,
        deleted,
        forced: false,
        commits,
        truncated,
        delivery_id: delivery_id.to_owned(),
    }
    .into_report())
}

fn clone_url(root: &Json<'_>) -> Result<String, HookError> {
    root.opt("repository")
        .and_then(|repository| repository.first_str(&["git_http_url"]))
        .or_else(|| {
            root.opt("project")
                .and_then(|project| project.first_str(&["git_http_url", "http_url"]))
        })
        .map(str::to_owned)
        .ok_or_else(|| {
            HookError::Malformed(
                "missing required field `project.git_http_url` (or `repository.git_http_url`)"
                    .to_owned(),
            )
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

    const DELETE: &str = r#"{"object_kind": "push", "ref": "refs/heads/gone",
        "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
        "after": "0000000000000000000000000000000000000000", "checkout_sha": null,
        "user_username": "jsmith", "commits": [], "total_commits_count": 0,
        "project": {"git_http_url": "https://gitlab.example.com/g/p.git"}}"#;

    fn delivery_id_of(pairs: &[(&str, &str)]) -> String {
        let mut all = vec![("x-gitlab-event", "Push Hook")];
        all.extend_from_slice(pairs);
        parse(&headers(&all), DELETE.as_bytes())
            .unwrap()
            .delivery_id()
            .to_owned()
    }

    #[test]
    fn delivery_id_prefers_the_idempotency_key() {
        assert_eq!(
            delivery_id_of(&[
                ("x-gitlab-event-uuid", "event"),
                ("x-gitlab-webhook-uuid", "webhook"),
                ("idempotency-key", "key"),
            ]),
            "key"
        );
        assert_eq!(
            delivery_id_of(&[
                ("x-gitlab-event-uuid", "event"),
                ("x-gitlab-webhook-uuid", "webhook")
            ]),
            "webhook"
        );
        assert_eq!(delivery_id_of(&[("x-gitlab-event-uuid", "event")]), "event");
        let hashed = delivery_id_of(&[]);
        assert_eq!(
            hashed,
            format!("sha256:{}", hex::encode(Sha256::digest(DELETE.as_bytes())))
        );
    }

    #[test]
    fn branch_deletion_records_the_old_commit() {
        let Delivery::Push { changes, .. } = parse(
            &headers(&[("x-gitlab-event", "Push Hook"), ("idempotency-key", "k")]),
            DELETE.as_bytes(),
        )
        .unwrap() else {
            panic!("not a push")
        };
        let change = &changes[0];
        assert!(change.deleted && !change.created && !change.truncated);
        assert_eq!(change.commit, "95790bf891e76fee5e1747ab589903a6a1f80f22");
        assert_eq!(change.before.as_deref(), Some(change.commit.as_str()));
        assert_eq!(change.message, None);
        assert_eq!(change.repository, "https://gitlab.example.com/g/p.git");
        assert_eq!(change.host.as_deref(), Some("gitlab.example.com"));
    }

    #[test]
    fn other_events_are_ignored_and_the_event_header_is_required() {
        assert_eq!(
            parse(
                &headers(&[("x-gitlab-event", "Issue Hook"), ("idempotency-key", "k")]),
                b"{}"
            ),
            Ok(Delivery::Ignored {
                delivery_id: "k".into(),
                event_type: "Issue Hook".into()
            })
        );
        assert_eq!(
            parse(&headers(&[]), b"{}"),
            Err(HookError::MissingEventType("X-Gitlab-Event"))
        );
    }
}
