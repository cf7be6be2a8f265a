//! The text the client commands print for people (`--output json` prints the answers as
//! they are).

use std::fmt::Write;

use conveyor_client::types;

/// The first 8 characters of a commit or digest.
fn short(text: &str) -> &str {
    text.get(..8).unwrap_or(text)
}

fn time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn build(build: &types::Build) -> String {
    format!(
        "{}  {} #{}  {:<9}  {}@{}  queued {}",
        build.id,
        build.project,
        build.number,
        build.status.to_string(),
        build.branch,
        short(&build.commit),
        time(&build.queued_at)
    )
}

pub fn build_details(value: &types::Build) -> String {
    let mut text = build(value);
    reason_and_steps(&mut text, value.reason.as_deref(), &value.steps);
    for artifact in &value.artifacts {
        let _ = write!(
            text,
            "\n  artifact {} sha256:{} ({} bytes)",
            artifact.name,
            short(&artifact.sha256),
            artifact.size
        );
    }
    text
}

pub fn push(accepted: &types::PushAccepted) -> String {
    let mut text = format!(
        "push {}: {} build(s)",
        accepted.push_id,
        accepted.builds.len()
    );
    for queued in &accepted.builds {
        let _ = write!(text, "\n{}", build(queued));
    }
    text
}

pub fn release(release: &types::Release) -> String {
    let mut text = format!(
        "{}  {} {}  build {}  {}@{}  created {} by {}",
        release.id,
        release.project,
        release.version,
        release.build_id,
        release.branch,
        short(&release.commit),
        time(&release.created_at),
        release.created_by
    );
    if let Some(blocked) = &release.blocked {
        let _ = write!(text, "  BLOCKED: {blocked}");
    }
    text
}

pub fn release_details(value: &types::Release) -> String {
    let mut text = release(value);
    if !value.succeeded_in.is_empty() {
        let _ = write!(text, "\n  succeeded in: {}", value.succeeded_in.join(", "));
    }
    for artifact in &value.artifacts {
        let _ = write!(
            text,
            "\n  artifact {} sha256:{}",
            artifact.name,
            short(&artifact.sha256)
        );
    }
    for deployment in &value.deployments {
        let _ = write!(text, "\n  deployment {deployment}");
    }
    text
}

pub fn deployment(deployment: &types::Deployment) -> String {
    format!(
        "{}  {} {} -> {}  {} {}  requested {} by {}",
        deployment.id,
        deployment.project,
        deployment.release_version,
        deployment.environment,
        deployment.kind,
        deployment.status,
        time(&deployment.requested_at),
        deployment.requested_by
    )
}

pub fn deployment_details(value: &types::Deployment) -> String {
    let mut text = deployment(value);
    reason_and_steps(&mut text, value.reason.as_deref(), &value.steps);
    if value.required_approvals > 0 {
        let _ = write!(
            text,
            "\n  approvals: {} of {}",
            value
                .approvals
                .iter()
                .filter(|a| a.decision == types::ApprovalDecision::Approve)
                .count(),
            value.required_approvals
        );
    }
    for approval in &value.approvals {
        let _ = write!(
            text,
            "\n  {} by {}: {}",
            approval.decision, approval.subject, approval.comment
        );
    }
    text
}

/// Why a job ended as it did, and how each of its steps went.
fn reason_and_steps(text: &mut String, reason: Option<&str>, steps: &[types::StepResult]) {
    if let Some(reason) = reason {
        let _ = write!(text, "\n  reason: {reason}");
    }
    for step in steps {
        let _ = write!(
            text,
            "\n  step {:<20} {:<9} {} ms",
            step.name,
            step.outcome.to_string(),
            step.duration_ms
        );
    }
}

pub fn event(event: &types::Event) -> String {
    format!(
        "{:>8}  {}  {:<40} {:<28} {}",
        event.position,
        time(&event.recorded_at),
        event.stream,
        event.type_,
        event.actor
    )
}

pub fn dashboard(dashboard: &types::DashboardDto) -> String {
    let width = 18;
    let mut text = format!("{:<width$}", "PROJECT");
    for environment in &dashboard.environments {
        let _ = write!(text, " {environment:<width$}");
    }
    for row in &dashboard.projects {
        let _ = write!(text, "\n{:<width$}", row.project);
        for environment in &dashboard.environments {
            let cell = row.cells.get(environment).map(cell).unwrap_or_default();
            let _ = write!(text, " {cell:<width$}");
        }
    }
    text
}

/// What is live in one cell, what the latest deployment is doing if it is not that, and
/// what holds the environment.
fn cell(cell: &types::DashboardCellDto) -> String {
    let mut text = cell
        .live
        .as_ref()
        .map_or_else(|| "-".to_owned(), |live| live.release_version.clone());
    if let Some(latest) = &cell.latest
        && cell.live.as_ref().map(|live| live.deployment_id) != Some(latest.deployment_id)
    {
        let _ = write!(text, " ({} {})", latest.release_version, latest.status);
    }
    if cell.pending_approvals > 0 {
        let _ = write!(text, " !{}", cell.pending_approvals);
    }
    if cell.frozen {
        text.push_str(" frozen");
    }
    if cell.held {
        text.push_str(" held");
    }
    text
}
