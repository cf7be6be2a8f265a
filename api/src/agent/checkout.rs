//! Checking out one commit with the `git` CLI, so that any URL git understands works
//! (`https://`, `ssh://`, `file://`, local paths) with the machine's own git configuration.

use std::{path::Path, time::Duration};

use super::{
    output::JobOutput,
    process::{self, AbortSignal, ProcessExit, ProcessSpec},
};

/// How long one git command may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The name checkout lines are logged under.
pub const CHECKOUT_STEP: &str = "checkout";

/// Why a checkout failed.
#[derive(Debug)]
pub enum CheckoutError {
    /// The job was aborted meanwhile.
    Aborted(String),
    /// Git failed; the reason names the command.
    Failed(String),
}

/// Fetches `commit` of `repository` into the empty directory `dir` and checks it out
/// detached. Fetches only that commit when the server allows fetching by id, else everything.
pub async fn checkout(
    repository: &str,
    commit: &str,
    dir: &Path,
    output: &JobOutput,
    abort: &mut AbortSignal,
) -> Result<(), CheckoutError> {
    output
        .system(
            CHECKOUT_STEP,
            &format!("checking out {commit} of {repository}"),
        )
        .await;
    git(&["init", "-q"], dir, output, abort).await?;
    let shallow = git(
        &[
            "fetch",
            "-q",
            "--no-tags",
            "--depth",
            "1",
            "--",
            repository,
            commit,
        ],
        dir,
        output,
        abort,
    )
    .await;
    match shallow {
        Ok(()) => {}
        Err(CheckoutError::Aborted(reason)) => return Err(CheckoutError::Aborted(reason)),
        Err(CheckoutError::Failed(_)) => {
            output
                .system(
                    CHECKOUT_STEP,
                    "the repository refused a fetch by commit id; fetching all branches and tags",
                )
                .await;
            git(
                &[
                    "fetch",
                    "-q",
                    "--",
                    repository,
                    "+refs/heads/*:refs/remotes/origin/*",
                    "+refs/tags/*:refs/tags/*",
                ],
                dir,
                output,
                abort,
            )
            .await?;
        }
    }
    git(&["checkout", "-q", "--detach", commit], dir, output, abort).await
}

async fn git(
    args: &[&str],
    dir: &Path,
    output: &JobOutput,
    abort: &mut AbortSignal,
) -> Result<(), CheckoutError> {
    let spec = ProcessSpec {
        program: "git".into(),
        args: args.iter().map(Into::into).collect(),
        dir: dir.to_owned(),
        // Never wait for a password on a terminal nobody watches.
        env: vec![("GIT_TERMINAL_PROMPT".into(), "0".into())],
        timeout: GIT_TIMEOUT,
    };
    let what = format!("git {}", args.join(" "));
    match process::run(&spec, CHECKOUT_STEP, output, abort).await {
        ProcessExit::Exited(0) => Ok(()),
        ProcessExit::Exited(code) => Err(CheckoutError::Failed(format!(
            "`{what}` exited with code {code}"
        ))),
        ProcessExit::Signalled(signal) => Err(CheckoutError::Failed(format!(
            "`{what}` was killed by signal {signal}"
        ))),
        ProcessExit::TimedOut => Err(CheckoutError::Failed(format!(
            "`{what}` timed out after {} s",
            GIT_TIMEOUT.as_secs()
        ))),
        ProcessExit::NotStarted(error) => {
            Err(CheckoutError::Failed(format!("could not run git: {error}")))
        }
        ProcessExit::Aborted(reason) => Err(CheckoutError::Aborted(reason)),
    }
}
