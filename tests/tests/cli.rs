//! The auditor's commands of the `conveyor` binary against a live server: `events export`
//! writes the log as JSON lines, `audit verify --file` checks it offline (and finds a changed
//! payload or a missing record), `audit verify` asks the server; the exit code tells a broken
//! chain (1), a usage error (2), a refusal (3) and an unreachable server (4) apart.

use std::process::{Command, Output};

use conveyor_system_tests::{ServerProcess, conveyor_binary, curl, mint_token};

fn conveyor(args: &[&str], token: &str) -> Output {
    Command::new(conveyor_binary().unwrap())
        .args(args)
        .env("CONVEYOR_TOKEN", token)
        .env("CONVEYOR_LOG", "warn")
        .output()
        .expect("conveyor runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn events_export_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let admin = mint_token(dir.path(), "ops", "admin read").unwrap();
    let auditor = mint_token(dir.path(), "auditor", "read audit").unwrap();
    let server = ServerProcess::start(dir.path()).unwrap();
    for name in ["dev", "staging", "production"] {
        let body = format!(r#"{{"name":"{name}"}}"#);
        let (status, answer) = curl(
            "POST",
            &format!("{}/api/v1/environments", server.url),
            &admin,
            Some(&body),
        )
        .unwrap();
        assert_eq!(status, 201, "{answer}");
    }

    let exported = conveyor(&["events", "export", "--server", &server.url], &auditor);
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let export = text(&exported.stdout);
    assert_eq!(export.lines().count(), 3);
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let path = file.to_str().unwrap();

    let verified = conveyor(&["audit", "verify", "--file", path], "");
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        text(&verified.stderr)
    );
    assert!(text(&verified.stdout).contains("intact: 3 records"));
    let json = conveyor(&["audit", "verify", "--file", path, "--output", "json"], "");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (report["intact"].clone(), report["checked"].clone()),
        (true.into(), 3.into())
    );

    // A changed payload and a missing record are found, naming the position.
    let changed = export.replacen("\"name\":\"staging\"", "\"name\":\"stagingX\"", 1);
    assert_ne!(changed, export, "the export holds the payload");
    std::fs::write(&file, &changed).unwrap();
    let broken = conveyor(&["audit", "verify", "--file", path], "");
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        text(&broken.stderr).contains("position 2"),
        "{}",
        text(&broken.stderr)
    );
    let missing: Vec<&str> = export
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&file, missing.join("\n")).unwrap();
    let gap = conveyor(&["audit", "verify", "--file", path], "");
    assert_eq!(gap.status.code(), Some(1));
    assert!(
        text(&gap.stderr).contains("position 2 is missing"),
        "{}",
        text(&gap.stderr)
    );

    // On the server; refused without the audit scope; unreachable; a usage error.
    let online = conveyor(&["audit", "verify", "--server", &server.url], &auditor);
    assert_eq!(online.status.code(), Some(0), "{}", text(&online.stderr));
    assert!(text(&online.stdout).contains("intact: 3 records"));
    let refused = conveyor(&["audit", "verify", "--server", &server.url], &admin);
    assert_eq!(refused.status.code(), Some(3), "{}", text(&refused.stderr));
    let unreachable = conveyor(
        &["audit", "verify", "--server", "http://127.0.0.1:1"],
        &auditor,
    );
    assert_eq!(
        unreachable.status.code(),
        Some(4),
        "{}",
        text(&unreachable.stderr)
    );
    let usage = conveyor(&["audit", "verify", "--output", "yaml"], &auditor);
    assert_eq!(usage.status.code(), Some(2));
}
