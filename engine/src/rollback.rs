//! Rollback by replay: find, from an environment's deployment events, the release that was
//! live before the current one (or check that a named release was), so that exactly its
//! snapshot can be deployed again.

use std::collections::HashMap;

use conveyor_store::Record;
use uuid::Uuid;

use crate::{
    aggregate::{decode, deployment::DeploymentEvent, refuse},
    error::DomainError,
    names::{EnvironmentName, ProjectName},
};

/// One deployment that ended — succeeded (its release went live) or failed — in an
/// environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEntry {
    /// The deployment.
    pub deployment_id: Uuid,
    /// The release.
    pub release_id: Uuid,
    /// Its version.
    pub release_version: String,
    /// Whether it succeeded (the release went live) or failed.
    pub succeeded: bool,
    /// The id of its `DeploymentSucceeded` or `DeploymentFailed` event.
    pub outcome_event: Uuid,
    /// That event's position.
    pub position: u64,
}

/// Replays deployment records (in position order) into the succession of deployments of
/// `project` that ended in `environment`, oldest first.
pub fn live_history(
    records: &[Record],
    project: &ProjectName,
    environment: &EnvironmentName,
) -> Vec<LiveEntry> {
    let mut requested: HashMap<&str, (Uuid, Uuid, String)> = HashMap::new();
    let mut history = Vec::new();
    for record in records {
        let succeeded = match decode::<DeploymentEvent>(&record.event_type, &record.payload) {
            Some(DeploymentEvent::DeploymentRequested {
                deployment_id,
                release_id,
                release_version,
                project: p,
                environment: e,
                ..
            }) => {
                if &p == project && &e == environment {
                    requested.insert(&record.stream, (deployment_id, release_id, release_version));
                }
                continue;
            }
            Some(DeploymentEvent::DeploymentSucceeded { .. }) => true,
            Some(DeploymentEvent::DeploymentFailed { .. }) => false,
            _ => continue,
        };
        if let Some((deployment_id, release_id, release_version)) =
            requested.get(record.stream.as_str())
        {
            history.push(LiveEntry {
                deployment_id: *deployment_id,
                release_id: *release_id,
                release_version: release_version.clone(),
                succeeded,
                outcome_event: record.id,
                position: record.position,
            });
        }
    }
    history
}

/// The current entry (the last deployment that ended, even a failed one) and the earlier
/// successful one to roll back to: by default the latest whose release differs from the
/// current one; with `to_release`, the latest success of that release.
pub fn rollback_target(
    history: &[LiveEntry],
    to_release: Option<Uuid>,
) -> Result<(&LiveEntry, &LiveEntry), DomainError> {
    let Some((current, earlier)) = history.split_last() else {
        return refuse(
            "nothing-live",
            "no release has been live in this environment, so there is nothing to roll back",
        );
    };
    let mut successes = earlier.iter().rev().filter(|entry| entry.succeeded);
    let target = match to_release {
        Some(release) if release == current.release_id => {
            return refuse(
                "release-is-live",
                format!(
                    "release {} is the current one; roll back to an earlier one",
                    current.release_version
                ),
            );
        }
        Some(release) => successes
            .find(|entry| entry.release_id == release)
            .ok_or_else(|| {
                DomainError::new(
                    "release-never-live",
                    format!(
                        "release {release} was not live in this environment before the current one"
                    ),
                )
            })?,
        None => successes
            .find(|entry| entry.release_id != current.release_id)
            .ok_or_else(|| {
                DomainError::new(
                    "nothing-earlier",
                    format!(
                        "no other release was live in this environment before {}",
                        current.release_version
                    ),
                )
            })?,
    };
    Ok((current, target))
}
