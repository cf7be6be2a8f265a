//! Retention: which releases lose their artifact bytes and logs under their project's policy.
//!
//! A release keeps its content when it is among the last `keep` releases that succeeded in any
//! environment, live anywhere, among the project's newest `keep` releases, or has a deployment
//! still under way. The others' content is deleted — recorded first as `ReleaseContentDeleted`
//! on the release, so the history stays complete and says why the bytes are gone.

use std::collections::{BTreeMap, HashSet};

use uuid::Uuid;

use crate::{
    aggregate::{deployment::DeploymentStatus, project::RetentionPolicy, release::Artifact},
    model::ReadModel,
    names::{EnvironmentName, ProjectName},
};

/// What retention deletes of one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// The release.
    pub release_id: Uuid,
    /// Its version.
    pub version: String,
    /// The rule that applies, in words.
    pub policy: String,
    /// Artifacts whose bytes go (those no kept release or unreleased build shares).
    pub artifacts: Vec<Artifact>,
    /// Jobs whose logs go: the release's build and its deployments.
    pub logs: Vec<Uuid>,
}

/// The policy in words, as recorded on the deletion.
pub fn describe(project: &ProjectName, policy: RetentionPolicy) -> String {
    format!(
        "project {project} keeps the last {} releases per environment, the newest {0}, and \
         every release live or deploying",
        policy.keep_releases_per_environment
    )
}

/// The releases of `project` whose content the policy deletes now.
pub fn plan(model: &ReadModel, project: &ProjectName, policy: RetentionPolicy) -> Vec<Deletion> {
    let keep = policy.keep_releases_per_environment as usize;
    let mut releases: Vec<_> = model
        .releases
        .values()
        .filter(|r| r.snapshot().is_some_and(|s| &s.project == project))
        .collect();
    releases.sort_by_key(|r| std::cmp::Reverse(r.tracked.position));
    let mut kept: HashSet<Uuid> = releases
        .iter()
        .take(keep)
        .filter_map(|r| r.snapshot().map(|s| s.release_id))
        .collect();
    // Per environment, successes newest first; and anything not yet ended.
    let mut successes: BTreeMap<&EnvironmentName, Vec<(chrono::DateTime<chrono::Utc>, Uuid)>> =
        BTreeMap::new();
    for deployment in model.deployments.values() {
        let state = &deployment.tracked.state;
        let (Some(release), Some(environment)) = (state.release_id, &state.environment) else {
            continue;
        };
        if state.project.as_ref() != Some(project) {
            continue;
        }
        if !state.status.is_finished() {
            kept.insert(release);
        } else if state.status == DeploymentStatus::Succeeded
            && let Some(at) = deployment.finished_at
        {
            successes
                .entry(environment)
                .or_default()
                .push((at, release));
        }
    }
    for (environment, mut done) in successes {
        done.sort_by(|a, b| b.cmp(a));
        let mut distinct = Vec::new();
        for (_, release) in done {
            if !distinct.contains(&release) {
                distinct.push(release);
            }
        }
        kept.extend(distinct.iter().take(keep));
        if let Some(live) = model.live_deployment(project, environment) {
            kept.extend(live.tracked.state.release_id);
        }
    }
    let going: Vec<_> = releases
        .into_iter()
        .filter(|r| r.tracked.state.content_deleted.is_none())
        .filter_map(|r| r.snapshot())
        .filter(|s| !kept.contains(&s.release_id))
        .collect();
    let going_ids: HashSet<Uuid> = going.iter().map(|s| s.release_id).collect();
    let shared = shared_digests(model, &going_ids);
    let policy = describe(project, policy);
    going
        .into_iter()
        .map(|snapshot| {
            let release = &model.releases[&snapshot.release_id];
            Deletion {
                release_id: snapshot.release_id,
                version: snapshot.version.clone(),
                policy: policy.clone(),
                artifacts: snapshot
                    .artifacts
                    .iter()
                    .filter(|a| !shared.contains(a.sha256.as_str()))
                    .cloned()
                    .collect(),
                logs: std::iter::once(snapshot.build_id)
                    .chain(release.deployments.iter().copied())
                    .collect(),
            }
        })
        .collect()
}

/// Digests some build still needs: those of every build that is not the build of a release
/// whose content is deleted or `going` now (including builds never released).
fn shared_digests<'m>(model: &'m ReadModel, going: &HashSet<Uuid>) -> HashSet<&'m str> {
    let gone_builds: HashSet<Uuid> = model
        .releases
        .values()
        .filter(|r| {
            r.tracked.state.content_deleted.is_some()
                || r.snapshot().is_some_and(|s| going.contains(&s.release_id))
        })
        .filter_map(|r| r.snapshot().map(|s| s.build_id))
        .collect();
    model
        .builds
        .iter()
        .filter(|(id, _)| !gone_builds.contains(id))
        .flat_map(|(_, build)| build.tracked.state.artifacts.iter())
        .map(|a| a.sha256.as_str())
        .collect()
}

/// Whether some build or release whose content is kept still refers to `sha256` — checked
/// again just before bytes are deleted, in case a new build produced the same content.
pub fn digest_in_use(model: &ReadModel, sha256: &str) -> bool {
    shared_digests(model, &HashSet::new()).contains(sha256)
}
