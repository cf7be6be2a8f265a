//! Helpers for system tests: find the built `conveyor` binary and run it as a real process.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use anyhow::{Context, bail};

pub mod crash;
pub mod scale;

/// The `conveyor` binary built next to this test binary (`cargo test --workspace` builds it).
pub fn conveyor_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> → target/<profile>/conveyor
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("unexpected test binary location")?;
    let binary = profile_dir.join("conveyor");
    if !binary.exists() {
        bail!(
            "{} does not exist; build it with `cargo build --bin conveyor`",
            binary.display()
        );
    }
    Ok(binary)
}

/// A `conveyor serve` process on a fresh port.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// Everything the server wrote to stderr so far is collected by a reader thread.
    pub log: mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Starts `conveyor serve` on `127.0.0.1:0` with `data_dir` and without its built-in
    /// agent (these tests play the agent by hand), and waits (up to 30 s) until it says where
    /// it listens.
    pub fn start(data_dir: &Path) -> anyhow::Result<ServerProcess> {
        Self::start_with(data_dir, &[("CONVEYOR_NO_AGENT", "1")])
    }

    /// Starts `conveyor serve` as [`ServerProcess::start`] does, but with its built-in agent.
    pub fn start_with_agent(data_dir: &Path) -> anyhow::Result<ServerProcess> {
        Self::start_with(data_dir, &[])
    }

    /// Starts `conveyor serve` as [`ServerProcess::start`] does, with extra environment
    /// variables (`CONVEYOR_NO_AGENT`, `CONVEYOR_LEASE_SECONDS`, …).
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<ServerProcess> {
        let mut child = Command::new(conveyor_binary()?)
            .arg("serve")
            .env("CONVEYOR_DATA_DIR", data_dir)
            .env("CONVEYOR_LISTEN", "127.0.0.1:0")
            .env("CONVEYOR_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting conveyor serve")?;
        let stderr = child.stderr.take().context("no stderr")?;
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            match receiver.recv_timeout(remaining) {
                Ok(line) => {
                    if let Some(url) = line.split("listens on ").nth(1) {
                        return Ok(ServerProcess {
                            child,
                            url: url.trim().to_owned(),
                            log: receiver,
                        });
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    bail!("conveyor serve did not report its address within 30 s");
                }
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no chance to flush or shut down) and reaps it.
    pub fn kill_hard(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        Ok(self.child.wait()?)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `conveyor agent` process.
#[derive(Debug)]
pub struct AgentProcess {
    child: Child,
}

impl AgentProcess {
    /// Starts `conveyor agent` against `server_url` as `name`, working in `workdir`.
    pub fn start(
        server_url: &str,
        token: &str,
        name: &str,
        workdir: &Path,
    ) -> anyhow::Result<AgentProcess> {
        let child = Command::new(conveyor_binary()?)
            .arg("agent")
            .args(["--server", server_url, "--name", name])
            .arg("--workdir")
            .arg(workdir)
            .env("CONVEYOR_AGENT_TOKEN", token)
            .env("CONVEYOR_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting conveyor agent")?;
        Ok(AgentProcess { child })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the agent with SIGKILL (its steps, in their own process groups, live on) and
    /// reaps it.
    pub fn kill_hard(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Mints a token with `conveyor token` against the data directory's secret.
pub fn mint_token(data_dir: &Path, subject: &str, scopes: &str) -> anyhow::Result<String> {
    let output = Command::new(conveyor_binary()?)
        .args(["token", "--sub", subject, "--scope", scopes])
        .env("CONVEYOR_DATA_DIR", data_dir)
        .output()?;
    if !output.status.success() {
        bail!(
            "conveyor token failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// One HTTP call with curl: returns the status code and the body.
pub fn curl(
    method: &str,
    url: &str,
    token: &str,
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    curl_with_headers(method, url, token, body, &[])
}

/// [`curl`] with extra request headers (`Idempotency-Key`, say).
pub fn curl_with_headers(
    method: &str,
    url: &str,
    token: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> anyhow::Result<(u16, String)> {
    let mut command = Command::new("curl");
    command
        .args([
            "-sS",
            "-X",
            method,
            url,
            "-H",
            &format!("Authorization: Bearer {token}"),
        ])
        .args([
            "-H",
            "Content-Type: application/json",
            "-w",
            "\n%{http_code}",
        ]);
    for (name, value) in headers {
        command.args(["-H", &format!("{name}: {value}")]);
    }
    if let Some(body) = body {
        command.args(["-d", body]);
    }
    let output = command.output()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').context("curl printed no status")?;
    Ok((status.trim().parse().unwrap_or(0), body.to_owned()))
}

/// Polls `probe` every 100 ms until it answers `Some`, failing after `deadline`.
pub fn eventually<T>(what: &str, deadline: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let until = std::time::Instant::now() + deadline;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            std::time::Instant::now() < until,
            "gave up after {deadline:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Creates environments through the API as `token`: each a name and how many approvals a
/// deployment there needs.
pub fn create_environments(url: &str, token: &str, environments: &[(&str, u32)]) {
    for (name, approvals) in environments {
        let body = format!(
            r#"{{"name":"{name}","approval_policy":{{"required_approvals":{approvals}}}}}"#
        );
        let (status, answer) = curl(
            "POST",
            &format!("{url}/api/v1/environments"),
            token,
            Some(&body),
        )
        .unwrap();
        assert_eq!(status, 201, "{answer}");
    }
}

/// Runs `command` (a tool the tests need, such as `npm`), failing with its output unless it
/// succeeds.
pub fn run_tool(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{what} did not run (is it installed?): {error}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs git in `dir` (with a fixed identity and no global config); answers its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A git repository under `root` with one commit on `main`; answers its path and the commit.
pub fn git_repository(root: &Path) -> (PathBuf, String) {
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README"), "a small app\n").unwrap();
    std::fs::write(repo.join("app.sh"), "echo the app\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    (repo, commit)
}

/// A fresh schema in the PostgreSQL test database (`CONVEYOR_TEST_DATABASE_URL`, which
/// `.ci/run` sets), as a URL selecting it; fails saying how to provide a database.
pub fn fresh_postgres_schema() -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime
        .block_on(conveyor_store::contract::fresh_postgres_schema(
            "conveyor_system",
        ))
        .1)
}

/// The workspace's root directory (where `Cargo.toml`, `openapi/` and `target/` are).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

/// A Python virtual environment at `target/<name>` holding the packages pinned in
/// `requirements` (a path in the workspace), installed from PyPI the first time and again
/// whenever that file changes; later runs reuse it.
pub fn python_venv(name: &str, requirements: &str) -> PathBuf {
    let root = workspace();
    let venv = root.join("target").join(name);
    let requirements = root.join(requirements);
    let stamp = venv.join(requirements.file_name().expect("a requirements file"));
    let wanted = std::fs::read_to_string(&requirements)
        .unwrap_or_else(|error| panic!("reading {}: {error}", requirements.display()));
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return venv;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 runs (the machine's CPython 3.11; .ci/run installs it when missing)");
    assert!(made.success(), "python3 -m venv failed");
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements)
        .status()
        .expect("pip runs");
    assert!(
        installed.success(),
        "installing {} from PyPI failed",
        requirements.display()
    );
    std::fs::write(&stamp, wanted).expect("writing the venv's stamp");
    venv
}
