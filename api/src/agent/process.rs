//! Running one process of a job: its own process group, stdout and stderr captured line by
//! line, a timeout, and an abort signal; ending it kills the whole group.

use std::{
    ffi::OsString, os::unix::process::ExitStatusExt, path::PathBuf, process::Stdio, time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    sync::watch,
};

use super::{client::LogStream, output::JobOutput};

/// Lines longer than this are split.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// How long the output is still read once the step ended and its group was killed.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// Environment variables of the agent that its jobs must not see.
const WITHHELD_VARIABLES: &[&str] = &[
    "CONVEYOR_AGENT_TOKEN",
    "CONVEYOR_JWT_SECRET",
    "CONVEYOR_SECRETS_KEY",
    "CONVEYOR_TOKEN",
];

/// Why a running job must stop now (lease lost, cancelled, agent stopped); `None` while it
/// may go on.
pub type AbortSignal = watch::Receiver<Option<String>>;

/// What to run.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The working directory.
    pub dir: PathBuf,
    /// Variables added to (or replacing those of) the agent's environment.
    pub env: Vec<(String, String)>,
    /// Killed after this long.
    pub timeout: Duration,
}

impl ProcessSpec {
    /// `bash -e -c <script>` in `dir`.
    pub fn script(
        script: &str,
        dir: PathBuf,
        env: Vec<(String, String)>,
        timeout: Duration,
    ) -> Self {
        ProcessSpec {
            program: "bash".into(),
            args: vec!["-e".into(), "-c".into(), script.into()],
            dir,
            env,
            timeout,
        }
    }
}

/// How a process ended.
#[derive(Debug)]
pub enum ProcessExit {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signalled(i32),
    /// It ran longer than its timeout and was killed.
    TimedOut,
    /// The job was aborted (the reason) and the process killed.
    Aborted(String),
    /// It could not be started.
    NotStarted(std::io::Error),
}

/// Runs `spec`, writing its output as lines of `step` to `output`, until it exits, times out
/// or `abort` fires. Whatever way it ends, every process left in its group is killed, so
/// nothing a step started in the background outlives it; output still unread
/// [`PIPE_GRACE`] later is given up, so that a process which left the group does not hold
/// the step (and the job's output) open.
pub async fn run(
    spec: &ProcessSpec,
    step: &str,
    output: &JobOutput,
    abort: &mut AbortSignal,
) -> ProcessExit {
    let mut command = tokio::process::Command::new(&spec.program);
    command
        .args(&spec.args)
        .current_dir(&spec.dir)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group, so that killing the group kills every process the step started.
        .process_group(0)
        .kill_on_drop(true);
    for name in WITHHELD_VARIABLES {
        if !spec.env.iter().any(|(k, _)| k == name) {
            command.env_remove(name);
        }
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return ProcessExit::NotStarted(error),
    };
    let group = child.id();
    let pumps = [
        child.stdout.take().map(|out| {
            tokio::spawn(pump(
                out,
                output.clone(),
                step.to_owned(),
                LogStream::Stdout,
            ))
        }),
        child.stderr.take().map(|err| {
            tokio::spawn(pump(
                err,
                output.clone(),
                step.to_owned(),
                LogStream::Stderr,
            ))
        }),
    ];
    let aborted = async {
        let reason = abort
            .wait_for(Option::is_some)
            .await
            .map(|reason| reason.clone().unwrap_or_default());
        match reason {
            Ok(reason) => reason,
            // Nobody can abort any more: run to the end.
            Err(_) => std::future::pending().await,
        }
    };
    let exit = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => match (status.code(), status.signal()) {
                (Some(code), _) => ProcessExit::Exited(code),
                (None, Some(signal)) => ProcessExit::Signalled(signal),
                (None, None) => ProcessExit::Exited(-1),
            },
            Err(error) => ProcessExit::NotStarted(error),
        },
        () = tokio::time::sleep(spec.timeout) => ProcessExit::TimedOut,
        reason = aborted => ProcessExit::Aborted(reason),
    };
    if let Some(group) = group {
        kill_group(group).await;
    }
    let _ = child.kill().await;
    // The pipes close once every process of the group is gone; a grandchild that left the
    // group (setsid) may hold them open for ever. Past the grace the readers are aborted,
    // not merely left behind: each holds a clone of the job's output, and the job's log
    // shipper (which the job awaits before it reports) ends only when every clone is gone.
    let grace = tokio::time::Instant::now() + PIPE_GRACE;
    let mut held_open = false;
    for mut pump in pumps.into_iter().flatten() {
        if tokio::time::timeout_at(grace, &mut pump).await.is_err() {
            pump.abort();
            // Returns at once: the reader is cancelled at its next await.
            let _ = pump.await;
            held_open = true;
        }
    }
    if held_open {
        tracing::warn!(
            step,
            "a process outside the step's group still holds its output open; the rest of \
             its output is not captured"
        );
    }
    exit
}

/// Sends SIGKILL to every process of the group (there is no safe std API for `killpg`, so
/// this runs `kill`; a group already gone is fine).
pub async fn kill_group(group: u32) {
    let _ = tokio::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// Reads `reader` line by line (lines over [`MAX_LINE_BYTES`] are split) into `output`.
async fn pump(reader: impl AsyncRead + Unpin, output: JobOutput, step: String, stream: LogStream) {
    let mut reader = BufReader::with_capacity(MAX_LINE_BYTES, reader);
    let mut line: Vec<u8> = Vec::new();
    while let Ok(buffer) = reader.fill_buf().await {
        if buffer.is_empty() {
            break;
        }
        let (available, ends) = match buffer.iter().position(|b| *b == b'\n') {
            Some(at) => (at + 1, true),
            None => (buffer.len(), false),
        };
        let take = available.min(MAX_LINE_BYTES - line.len());
        line.extend_from_slice(&buffer[..take]);
        reader.consume(take);
        if (ends && take == available) || line.len() >= MAX_LINE_BYTES {
            emit(&output, &step, stream, &mut line).await;
        }
    }
    if !line.is_empty() {
        emit(&output, &step, stream, &mut line).await;
    }
}

async fn emit(output: &JobOutput, step: &str, stream: LogStream, line: &mut Vec<u8>) {
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    let text = String::from_utf8_lossy(line).into_owned();
    line.clear();
    output.line(step, stream, &text).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{
        client::{AgentClient, Assignment},
        output::{JobOutput, Masker},
    };

    fn output() -> JobOutput {
        output_and_shipper().0
    }

    fn output_and_shipper() -> (JobOutput, tokio::task::JoinHandle<()>) {
        // Nothing listens there: shipping fails quietly, the tail is what the tests read.
        let client = AgentClient::new("http://127.0.0.1:9", "token", "test").unwrap();
        let job: Assignment = serde_json::from_value(serde_json::json!({
            "job_id": uuid::Uuid::nil(),
            "kind": "build",
            "lease": {"lease_id": uuid::Uuid::nil(), "expires_at": "2030-01-01T00:00:00Z"},
        }))
        .unwrap();
        JobOutput::start(client, job, Masker::new(["s3cret".to_owned()]))
    }

    fn spec(script: &str, timeout: Duration) -> ProcessSpec {
        ProcessSpec::script(script, std::env::temp_dir(), Vec::new(), timeout)
    }

    #[tokio::test]
    async fn captures_lines_masks_secrets_and_splits_long_lines() {
        let output = output();
        let (_abort, mut aborted) = watch::channel(None);
        let script =
            "echo one; echo the s3cret >&2; head -c 70000 /dev/zero | tr '\\0' x; echo; exit 3";
        let exit = run(
            &spec(script, Duration::from_secs(30)),
            "s",
            &output,
            &mut aborted,
        )
        .await;
        assert!(matches!(exit, ProcessExit::Exited(3)), "{exit:?}");
        let tail = output.tail();
        assert!(tail.contains(&"one".to_owned()), "{tail:?}");
        assert!(tail.contains(&"the ********".to_owned()), "{tail:?}");
        let long: Vec<usize> = tail
            .iter()
            .filter(|l| l.starts_with('x'))
            .map(String::len)
            .collect();
        assert_eq!(long, [MAX_LINE_BYTES, 70000 - MAX_LINE_BYTES]);
    }

    #[tokio::test]
    async fn a_timeout_or_an_abort_kills_the_whole_group() {
        let output = output();
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        // A background grandchild, which must die with the step.
        let script = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
        let (_abort, mut aborted) = watch::channel(None);
        let started = std::time::Instant::now();
        let exit = run(
            &spec(&script, Duration::from_millis(500)),
            "s",
            &output,
            &mut aborted,
        )
        .await;
        assert!(matches!(exit, ProcessExit::TimedOut), "{exit:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        // Dead, or a zombie its new parent has not reaped yet.
        let alive = || {
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
                .is_ok_and(|stat| !stat.contains(") Z "))
        };
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while alive() && std::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!alive(), "the background process survived");

        let (abort, mut aborted) = watch::channel(None);
        let running = tokio::spawn(async move {
            run(
                &spec("sleep 300", Duration::from_secs(300)),
                "s",
                &output,
                &mut aborted,
            )
            .await
        });
        abort.send_replace(Some("cancelled".into()));
        let exit = tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("the abort ended the step")
            .unwrap();
        assert!(
            matches!(exit, ProcessExit::Aborted(ref r) if r == "cancelled"),
            "{exit:?}"
        );
    }

    #[tokio::test]
    async fn a_process_that_left_the_group_does_not_hold_the_step_open() {
        let (output, shipper) = output_and_shipper();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        // Digits no other run uses, to find the escaped process afterwards.
        let marker = format!("sleep 300.{}{nanos}", std::process::id());
        // It leaves the group, so killing the group spares it, and it keeps the pipes open.
        let script = format!("echo started; setsid {marker} & sleep 600");
        let (_abort, mut aborted) = watch::channel(None);
        let started = std::time::Instant::now();
        let exit = tokio::time::timeout(
            Duration::from_secs(20),
            run(
                &spec(&script, Duration::from_secs(1)),
                "s",
                &output,
                &mut aborted,
            ),
        )
        .await;
        let elapsed = started.elapsed();
        let tail = output.tail();
        drop(output);
        // The job's shipper ends once the output is dropped: no reader still holds a clone.
        let shipped = tokio::time::timeout(Duration::from_secs(10), shipper).await;
        let _ = std::process::Command::new("pkill")
            .args(["-f", &marker])
            .status();
        let exit = exit.expect("the step ended");
        assert!(matches!(exit, ProcessExit::TimedOut), "{exit:?}");
        assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
        assert!(tail.contains(&"started".to_owned()), "{tail:?}");
        shipped
            .expect("the shipper ended: nothing holds the job's output")
            .unwrap();
    }
}
