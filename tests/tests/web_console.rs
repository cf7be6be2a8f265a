//! The web console (`clients/web`, ADR 0009). Its committed build output (`dist/`, which
//! `conveyor serve` embeds) is what building the committed sources gives; and in a real
//! browser — Debian's Chromium driven by playwright-core — against a live `conveyor serve` with
//! its built-in agent, a team signs in, follows a running build's log, sees the dashboard
//! update live, promotes, approves from the inbox, rolls back, reads the point-in-time view
//! and verifies the audit log (`clients/web/test/console.test.mjs`).
//!
//! Packages come from the npm registry as `package-lock.json` pins them (`npm ci`); the
//! browser is `/usr/bin/chromium` (`.ci/run` installs it), or `CHROMIUM` when set.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use conveyor_system_tests::{
    ServerProcess, create_environments, curl, eventually, git_repository, mint_token, run_tool,
    workspace,
};

/// Every file under `dir`, by its path relative to `dir`.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    files
}

#[test]
fn the_console_is_built_from_its_sources_and_works_in_a_real_browser() {
    let web = workspace().join("clients/web");
    run_tool(
        Command::new("npm")
            .args(["ci", "--silent", "--no-audit", "--no-fund"])
            .current_dir(&web),
        "npm ci",
    );

    // The embedded build output is what the committed sources build to.
    let scratch = tempfile::tempdir().unwrap();
    let fresh = scratch.path().join("dist");
    run_tool(
        Command::new("node")
            .arg("build.mjs")
            .arg(&fresh)
            .current_dir(&web),
        "node build.mjs",
    );
    let (committed, built) = (tree(&web.join("dist")), tree(&fresh));
    let names = |files: &BTreeMap<PathBuf, Vec<u8>>| files.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&committed),
        names(&built),
        "clients/web/dist holds other files than a fresh build: run `npm run build` in clients/web and commit"
    );
    for (name, bytes) in &built {
        assert!(
            committed[name] == *bytes,
            "clients/web/dist/{} differs from a fresh build: run `npm run build` in clients/web \
             and commit",
            name.display()
        );
    }

    // A live server with its agent; a project whose build waits for the test to open a gate.
    let data = tempfile::tempdir().unwrap();
    let ops = mint_token(data.path(), "ops", "admin read audit push release deploy:*").unwrap();
    let alice = mint_token(data.path(), "alice", "read approve:production").unwrap();
    let server = ServerProcess::start_with_agent(data.path()).unwrap();
    let url = server.url.as_str();
    create_environments(url, &ops, &[("dev", 0), ("production", 1)]);
    let (repo, commit) = git_repository(data.path());
    let repository = format!("file://{}", repo.display());
    let gate = data.path().join("gate");
    let script = format!(
        "echo building shop; while [ ! -e '{}' ]; do sleep 0.1; done; echo gate open; \
         echo shop artifact > out.txt",
        gate.display()
    );
    let project = serde_json::json!({"name": "shop", "repository": repository,
        "build_steps": [{"name": "compile", "script": script, "artifacts": ["out.txt"]}],
        "deployment_steps": [{"name": "roll-out", "script": "echo rolling out"}],
        "lifecycle": [{"environment": "dev", "automatic": true}, {"environment": "production"}]})
    .to_string();
    let (status, answer) = curl(
        "POST",
        &format!("{url}/api/v1/projects"),
        &ops,
        Some(&project),
    )
    .unwrap();
    assert_eq!(status, 201, "{answer}");

    let screenshots = workspace().join("target/console-screenshots");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    run_tool(
        Command::new("npm")
            .args(["test", "--silent"])
            .current_dir(&web)
            .env("CONVEYOR_URL", url)
            .env("CONVEYOR_OPS_TOKEN", &ops)
            .env("CONVEYOR_ALICE_TOKEN", &alice)
            .env("CONVEYOR_GATE", &gate)
            .env("CONVEYOR_REPOSITORY", &repository)
            .env("CONVEYOR_COMMIT", &commit)
            .env("CONVEYOR_SCREENSHOTS", &screenshots)
            .env("CHROMIUM", &chromium),
        "the browser test (npm test in clients/web)",
    );

    // What the browser did is in the log: a rollback in production, approved by Alice.
    let history = eventually(
        "the rollback in the history",
        Duration::from_secs(30),
        || {
            let (status, body) = curl(
                "GET",
                &format!("{url}/api/v1/environments/production/history"),
                &ops,
                None,
            )
            .unwrap();
            assert_eq!(status, 200, "{body}");
            let page: serde_json::Value = serde_json::from_str(&body).unwrap();
            let newest = page["items"][0].clone();
            (newest["kind"] == "rollback" && newest["status"] == "succeeded").then_some(newest)
        },
    );
    assert_eq!(history["release_version"], "1.0.1");
    assert_eq!(history["requested_by"], "ops");
    assert_eq!(history["approvals"][0]["subject"], "alice");
    for shot in [
        "dashboard.png",
        "build-log.png",
        "approvals.png",
        "audit.png",
    ] {
        assert!(
            screenshots
                .join(shot)
                .metadata()
                .is_ok_and(|m| m.len() > 1000),
            "the browser test saved {shot}"
        );
    }
}
