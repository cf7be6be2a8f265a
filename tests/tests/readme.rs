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
    let server = ServerProcess::start(dir.path()).unwrap();
    let script = dir.path().join("walkthrough.sh");
    std::fs::write(&script, walkthrough()).unwrap();
    let output = Command::new("bash")
        .arg(&script)
        .current_dir(dir.path())
        .env("CONVEYOR_URL", &server.url)
        .env("CONVEYOR_BIN", conveyor_binary().unwrap())
        .env("CONVEYOR_DATA_DIR", dir.path())
        .output()
        .expect("running bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walk-through failed:\n{stdout}\n{stderr}"
    );
    // The refused promotion names the unmet requirement.
    assert!(
        stdout.contains("previous-environment-not-succeeded"),
        "{stdout}"
    );
    // The rollback deployed 1.0.1 again, reverting 1.0.2's production deployment.
    assert!(stdout.contains("\"kind\": \"rollback\""), "{stdout}");
    assert!(stdout.contains("rollback 1.0.1 succeeded"), "{stdout}");
    assert!(stdout.contains("deploy 1.0.2 succeeded"), "{stdout}");
    assert!(stdout.contains("alice approved at"), "{stdout}");
    assert!(stdout.contains("\"intact\": true"), "{stdout}");
    // The sensitive variable never reached the output in clear text.
    assert!(!stdout.contains("s3cret"), "{stdout}");
    let status = server.terminate().unwrap();
    assert!(
        status.success(),
        "conveyor serve did not exit cleanly on SIGTERM: {status}"
    );
}
