//! The README's walk-through, run as written against a real `conveyor serve`.

use std::process::Command;

use conveyor_system_tests::{ServerProcess, conveyor_binary};

fn walkthrough() -> String {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("<!-- walkthrough:start -->")
        .expect("walkthrough start marker");
    let end = readme
        .find("<!-- walkthrough:end -->")
        .expect("walkthrough end marker");
    let block = &readme[start..end];
    let code_start = block.find("```sh\n").expect("a sh code block") + "```sh\n".len();
    let code_end = block[code_start..]
        .find("```")
        .expect("end of the code block")
        + code_start;
    block[code_start..code_end].to_owned()
}

#[test]
fn readme_walkthrough_runs_against_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("conveyor-data");
    let server = ServerProcess::start_with_agent(&data_dir).unwrap();
    let script = dir.path().join("walkthrough.sh");
    std::fs::write(&script, walkthrough()).unwrap();
    let output = Command::new("bash")
        .arg(&script)
        .current_dir(dir.path())
        .env("CONVEYOR_URL", &server.url)
        .env("CONVEYOR_BIN", conveyor_binary().unwrap())
        .env("CONVEYOR_DATA_DIR", &data_dir)
        .output()
        .expect("running bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walk-through failed:\n{stdout}\n{stderr}"
    );
    // The built-in agent built the real repository and the deployments put the artifact in
    // place: v1 in dev, then v1 and v2 in production, then v1 again after the rollback.
    let installed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("shop v")).collect();
    assert_eq!(
        installed,
        ["shop v1", "shop v1", "shop v2", "shop v1"],
        "{stdout}"
    );
    let production = dir.path().join("walkthrough/targets/production/app.txt");
    assert_eq!(std::fs::read_to_string(production).unwrap(), "shop v1\n");
    // The build's log holds its steps; the refused promotion names the unmet requirement.
    assert!(
        stdout.contains("cp VERSION dist/app.txt") || stdout.contains("build"),
        "{stdout}"
    );
    assert!(stdout.contains("lifecycle-requirement-unmet"), "{stdout}");
    // Production's own value of the secret was resolved from its scope, and shown masked.
    assert!(
        stdout.contains(r#""scope":"environment:production""#),
        "{stdout}"
    );
    // The rollback deployed 1.0.1 again, reverting 1.0.2's production deployment.
    assert!(
        stdout.contains(
            r#""kind":"rollback","release_version":"1.0.1","previous_release_version":"1.0.2""#
        ),
        "{stdout}"
    );
    assert!(stdout.contains("rollback 1.0.1 succeeded"), "{stdout}");
    assert!(stdout.contains("deploy 1.0.2 succeeded"), "{stdout}");
    assert!(stdout.contains("alice approved at"), "{stdout}");
    assert!(stdout.contains(r#""intact":true"#), "{stdout}");
    // The deployment step echoed the secret: the captured log shows it masked.
    assert!(stdout.contains("with password ********"), "{stdout}");
    // No secret in clear text: not in the output (API answers, logs), not in any file of the
    // data directory (event log, stored logs, idempotency answers).
    for secret in ["dev-s3cret", "prod-s3cret"] {
        assert!(
            !stdout.contains(secret),
            "{secret} leaked into the output:\n{stdout}"
        );
        let mut files = vec![dir.path().join("conveyor-data")];
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if !path.starts_with(dir.path().join("conveyor-data/work")) {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} is in clear text in {}",
                    path.display()
                );
            }
        }
    }
    let status = server.terminate().unwrap();
    assert!(
        status.success(),
        "conveyor serve did not exit cleanly on SIGTERM: {status}"
    );
}
