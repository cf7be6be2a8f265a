//! What each client command does.

use std::io::Write;

use conveyor_client::{ByteStream, Client, EventFollower, types};
use futures_util::StreamExt;
use serde::Serialize;
use uuid::Uuid;

use super::{
    AuditCommand, BuildsCommand, ClientArgs, ClientCommand, DeploymentsCommand, EventsCommand,
    Failure, LogArgs, Output, ReleasesCommand, audit, call, failure, render,
};

/// Runs a client command.
pub async fn run(command: ClientCommand, args: &ClientArgs) -> Result<(), Failure> {
    // Offline verification needs no server and no token.
    if let ClientCommand::Audit(AuditCommand::Verify { file: Some(path) }) = &command {
        let file = std::fs::File::open(path)
            .map_err(|err| Failure::Unavailable(format!("{}: {err}", path.display())))?;
        let checked = audit::verify_export(std::io::BufReader::new(file))?;
        return print_verified(args.output, checked, &path.display().to_string());
    }
    let connection = args.connection()?;
    let client = connection.client()?;
    let client = &client;
    let out = Printer(args.output);
    match command {
        ClientCommand::Push(push) => {
            let body = types::PushRequest {
                before: push.before,
                commit: push.commit,
                message: push.message,
                pusher: push.pusher,
                ref_: match (push.git_ref, push.branch) {
                    (Some(git_ref), _) => git_ref,
                    (None, Some(branch)) => format!("refs/heads/{branch}"),
                    (None, None) => return Err(Failure::Usage("give --branch or --ref".into())),
                },
                repository: push.repository,
            };
            let body = &body;
            let accepted =
                call(|key| async move { client.create_push(Some(&key), body).await }).await?;
            out.line(&accepted, render::push)
        }
        ClientCommand::Builds(BuildsCommand::List { project, page }) => {
            let project = project.as_deref();
            let builds =
                call(|_| client.list_builds(page.after, Some(page.limit), project)).await?;
            out.page(&builds.items, builds.next_cursor.as_deref(), render::build)
        }
        ClientCommand::Builds(BuildsCommand::Show { id }) => {
            let build = call(|_| client.get_build(&id)).await?;
            out.line(&build, render::build_details)
        }
        ClientCommand::Builds(BuildsCommand::Log(LogArgs { id, follow })) => {
            copy_log(call(|_| client.get_build_log(&id, Some(follow))).await?).await
        }
        ClientCommand::Builds(BuildsCommand::Cancel { id, reason }) => {
            let body = &types::CancelRequest { reason };
            let build =
                call(|key| async move { client.cancel_build(&id, Some(&key), body).await }).await?;
            out.line(&build, render::build)
        }
        ClientCommand::Releases(ReleasesCommand::List { project, page }) => {
            let project = project.as_deref();
            let releases =
                call(|_| client.list_releases(page.after, Some(page.limit), project)).await?;
            out.page(
                &releases.items,
                releases.next_cursor.as_deref(),
                render::release,
            )
        }
        ClientCommand::Releases(ReleasesCommand::Show { release }) => {
            let id = resolve_release(client, &release, None).await?;
            let release = call(|_| client.get_release(&id)).await?;
            out.line(&release, render::release_details)
        }
        ClientCommand::Releases(ReleasesCommand::Create { build, version }) => {
            let body = &types::CreateReleaseRequest {
                build_id: build,
                version,
            };
            let release =
                call(|key| async move { client.create_release(Some(&key), body).await }).await?;
            out.line(&release, render::release)
        }
        ClientCommand::Deployments(DeploymentsCommand::List { project, env, page }) => {
            let (project, env) = (project.as_deref(), env.as_deref());
            let deployments =
                call(|_| client.list_deployments(page.after, env, Some(page.limit), project, None))
                    .await?;
            out.page(
                &deployments.items,
                deployments.next_cursor.as_deref(),
                render::deployment,
            )
        }
        ClientCommand::Deployments(DeploymentsCommand::Show { id }) => {
            let deployment = call(|_| client.get_deployment(&id)).await?;
            out.line(&deployment, render::deployment_details)
        }
        ClientCommand::Deployments(DeploymentsCommand::Log(LogArgs { id, follow })) => {
            copy_log(call(|_| client.get_deployment_log(&id, Some(follow))).await?).await
        }
        ClientCommand::Promote {
            release,
            to,
            override_freeze,
            supersede_waiting,
        } => {
            let id = resolve_release(client, &release, None).await?;
            let body = &types::DeployRequest {
                environment: to,
                override_freeze,
                supersede_waiting: Some(supersede_waiting),
            };
            let deployment =
                call(|key| async move { client.deploy_release(&id, Some(&key), body).await })
                    .await?;
            out.line(&deployment, render::deployment)
        }
        ClientCommand::Approve {
            deployment,
            comment,
        } => {
            decide(
                out,
                client,
                deployment,
                types::ApprovalDecision::Approve,
                comment,
            )
            .await
        }
        ClientCommand::Reject {
            deployment,
            comment,
        } => {
            let decision = types::ApprovalDecision::Reject;
            decide(out, client, deployment, decision, Some(comment)).await
        }
        ClientCommand::Rollback {
            project,
            env,
            to,
            override_freeze,
        } => {
            let to_release = match to {
                Some(to) => Some(resolve_release(client, &to, Some(&project)).await?),
                None => None,
            };
            let body = &types::RollbackRequest {
                override_freeze,
                project,
                to_release,
            };
            let env = env.as_str();
            let deployment =
                call(|key| async move { client.rollback_environment(env, Some(&key), body).await })
                    .await?;
            out.line(&deployment, render::deployment)
        }
        ClientCommand::Events(EventsCommand::List {
            after,
            limit,
            stream,
            stream_prefix,
            event_type,
            actor,
            from,
            to,
        }) => {
            let filter = EventFilter {
                actor: actor.as_deref(),
                stream: stream.as_deref(),
                stream_prefix: stream_prefix.as_deref(),
                event_type: event_type.as_deref(),
                from: from.as_ref(),
                to: to.as_ref(),
            };
            each_event(client, after, Some(limit), &filter, |event| {
                out.line(event, render::event)
            })
            .await
            .map(drop)
        }
        ClientCommand::Events(EventsCommand::Tail { after, count }) => {
            let mut follower = EventFollower::new(client, after);
            let mut printed = 0;
            while count.is_none_or(|count| printed < count) {
                let event = match follower.next().await {
                    Ok(event) => event,
                    Err(err) => return Err(failure(err).await),
                };
                out.line(&event, render::event)?;
                printed += 1;
            }
            Ok(())
        }
        ClientCommand::Events(EventsCommand::Export { after }) => {
            // An export is JSON lines whatever --output says: it is what `audit verify
            // --file` reads.
            let exported = each_event(client, after, None, &EventFilter::default(), |event| {
                Printer(Output::Json).line(event, render::event)
            })
            .await?;
            eprintln!("exported {exported} events");
            Ok(())
        }
        ClientCommand::Audit(AuditCommand::Verify { file: _ }) => {
            let report = call(|_| client.verify_events(None, None)).await?;
            if !report.intact {
                return Err(Failure::Broken(format!(
                    "the chain is broken at position {}: {}",
                    report.first_bad_position.unwrap_or_default(),
                    report.reason.unwrap_or_default()
                )));
            }
            let checked = u64::try_from(report.checked).unwrap_or_default();
            print_verified(args.output, checked, &connection.server)
        }
        ClientCommand::Dashboard => {
            let dashboard = call(|_| client.get_dashboard()).await?;
            out.line(&dashboard, render::dashboard)
        }
    }
}

async fn decide(
    out: Printer,
    client: &Client,
    deployment: Uuid,
    decision: types::ApprovalDecision,
    comment: Option<String>,
) -> Result<(), Failure> {
    let body = &types::ApprovalRequest { comment, decision };
    let deployment = call(|key| async move {
        client
            .approve_deployment(&deployment, Some(&key), body)
            .await
    })
    .await?;
    out.line(&deployment, render::deployment)
}

/// Which events `events list` and `events export` read.
#[derive(Debug, Default)]
struct EventFilter<'a> {
    actor: Option<&'a str>,
    stream: Option<&'a str>,
    stream_prefix: Option<&'a str>,
    event_type: Option<&'a str>,
    from: Option<&'a chrono::DateTime<chrono::Utc>>,
    to: Option<&'a chrono::DateTime<chrono::Utc>>,
}

/// Hands every event after `after` that passes the filter to `each`, page by page, up to
/// `limit` of them; answers how many.
async fn each_event(
    client: &Client,
    mut after: i64,
    limit: Option<u64>,
    filter: &EventFilter<'_>,
    mut each: impl FnMut(&types::Event) -> Result<(), Failure>,
) -> Result<u64, Failure> {
    let mut seen = 0;
    loop {
        let want = limit.map_or(1000, |limit| (limit - seen).min(1000));
        if want == 0 {
            return Ok(seen);
        }
        let page = call(|_| {
            client.list_events(
                filter.actor,
                Some(after),
                filter.from,
                Some(want),
                filter.stream,
                filter.stream_prefix,
                filter.to,
                filter.event_type,
            )
        })
        .await?;
        for event in &page.items {
            each(event)?;
            seen += 1;
        }
        match page.next_cursor.as_deref().map(str::parse::<i64>) {
            Some(Ok(next)) if !page.items.is_empty() => after = next,
            _ => return Ok(seen),
        }
    }
}

/// Turns `PROJECT@VERSION` (or a bare version, given the project) into a release id; an id
/// stands for itself.
async fn resolve_release(
    client: &Client,
    reference: &str,
    project: Option<&str>,
) -> Result<Uuid, Failure> {
    if let Ok(id) = reference.parse::<Uuid>() {
        return Ok(id);
    }
    let (project, version) = match (reference.split_once('@'), project) {
        (Some((project, version)), _) => (project, version),
        (None, Some(project)) => (project, reference),
        (None, None) => {
            return Err(Failure::Usage(format!(
                "{reference:?} is neither a release id nor PROJECT@VERSION"
            )));
        }
    };
    let mut after = None;
    loop {
        let page = call(|_| client.list_releases(after, Some(1000), Some(project))).await?;
        if let Some(release) = page.items.iter().find(|r| r.version == version) {
            return Ok(release.id);
        }
        match page.next_cursor.as_deref().map(str::parse::<i64>) {
            Some(Ok(next)) if !page.items.is_empty() => after = Some(next),
            _ => {
                return Err(Failure::Refused(format!(
                    "project {project} has no release {version}"
                )));
            }
        }
    }
}

/// Copies a log (text/plain, streamed while the job runs with `follow`) to stdout.
async fn copy_log(mut log: ByteStream) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    while let Some(chunk) = log.next().await {
        let chunk =
            chunk.map_err(|err| Failure::Unavailable(format!("the log broke off: {err}")))?;
        stdout
            .write_all(&chunk)
            .and_then(|()| stdout.flush())
            .map_err(|err| Failure::Unavailable(format!("stdout: {err}")))?;
    }
    Ok(())
}

fn print_verified(output: Output, checked: u64, source: &str) -> Result<(), Failure> {
    let report = serde_json::json!({"intact": true, "checked": checked, "source": source});
    Printer(output).line(&report, |_| {
        format!("intact: {checked} records of {source} verify")
    })
}

/// Prints answers as text for people or JSON for programs.
#[derive(Debug, Clone, Copy)]
struct Printer(Output);

impl Printer {
    /// One answer, or one item of a list or stream: as JSON on one line, or as text.
    fn line<T: Serialize>(&self, value: &T, text: impl Fn(&T) -> String) -> Result<(), Failure> {
        let line = match self.0 {
            Output::Json => serde_json::to_string(value)
                .map_err(|err| Failure::Unavailable(format!("printing the answer: {err}")))?,
            Output::Text => text(value),
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .map_err(|err| Failure::Unavailable(format!("stdout: {err}")))
    }

    /// A page of a list: JSON lines, or text lines and where the next page starts.
    fn page<T: Serialize>(
        &self,
        items: &[T],
        next_cursor: Option<&str>,
        text: impl Fn(&T) -> String,
    ) -> Result<(), Failure> {
        for item in items {
            self.line(item, &text)?;
        }
        if let (Output::Text, Some(cursor)) = (self.0, next_cursor) {
            eprintln!("more: --after {cursor}");
        }
        Ok(())
    }
}
