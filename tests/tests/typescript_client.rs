//! The TypeScript client (`clients/typescript`): its types regenerated from
//! `openapi/openapi.json` equal the committed ones, and its test (push → release → promote →
//! approve → rollback, watched on the event stream) passes against a live `conveyor serve`.
//!
//! The packages come from the npm registry as `package-lock.json` pins them (`npm ci`).

use std::process::Command;

use conveyor_system_tests::{ServerProcess, mint_token, run_tool as run, workspace};

#[test]
fn the_typescript_client_is_generated_from_the_spec_and_passes_against_a_live_server() {
    let client = workspace().join("clients/typescript");
    run(
        Command::new("npm")
            .args(["ci", "--silent", "--no-audit", "--no-fund"])
            .current_dir(&client),
        "npm ci",
    );

    // The committed types are what the generator makes of the committed spec.
    let scratch = tempfile::tempdir().unwrap();
    let fresh = scratch.path().join("schema.d.ts");
    run(
        Command::new("npx")
            .args([
                "--no-install",
                "openapi-typescript",
                "../../openapi/openapi.json",
                "-o",
            ])
            .arg(&fresh)
            .current_dir(&client),
        "openapi-typescript",
    );
    let committed = std::fs::read_to_string(client.join("src/schema.d.ts")).unwrap();
    assert!(
        committed == std::fs::read_to_string(&fresh).unwrap(),
        "clients/typescript/src/schema.d.ts differs from a fresh generation: run `npm run \
         generate` in clients/typescript and commit"
    );

    let data = tempfile::tempdir().unwrap();
    let token = |subject: &str, scopes: &str| mint_token(data.path(), subject, scopes).unwrap();
    let admin = token("ops", "admin read push release deploy:*");
    let agent = token("ts-agent", "agent");
    let alice = token("alice", "read approve:production");
    let auditor = token("auditor", "read audit");
    let server = ServerProcess::start(data.path()).unwrap();
    run(
        Command::new("npm")
            .args(["test", "--silent"])
            .current_dir(&client)
            .env("CONVEYOR_URL", &server.url)
            .env("CONVEYOR_ADMIN_TOKEN", &admin)
            .env("CONVEYOR_AGENT_TOKEN", &agent)
            .env("CONVEYOR_ALICE_TOKEN", &alice)
            .env("CONVEYOR_AUDITOR_TOKEN", &auditor),
        "npm test",
    );
}
