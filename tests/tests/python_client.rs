//! The Python client (`clients/python`): regenerating it from `openapi/openapi.json` gives
//! exactly the committed files, and its pytest suite passes against a live `conveyor serve`.
//!
//! The generator, ruff and pytest are installed from PyPI (pinned in
//! `clients/python/requirements-dev.txt`) into a virtual environment under `target/` the first
//! time; later runs reuse it.

use std::path::{Path, PathBuf};
use std::process::Command;

use conveyor_system_tests::{ServerProcess, mint_token, python_venv, workspace};

/// Every file under `dir`, relative, with its content.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("readable directory") {
            let path = entry.expect("an entry").path();
            if path.file_name().is_some_and(|n| n == "__pycache__") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                let content = std::fs::read(&path).expect("readable file");
                files.push((path.strip_prefix(dir).unwrap().to_path_buf(), content));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_python_client_is_generated_from_the_spec_and_passes_against_a_live_server() {
    let venv = python_venv("python-client-venv", "clients/python/requirements-dev.txt");
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let client = workspace().join("clients/python");

    // Regenerating gives exactly what is committed.
    let scratch = tempfile::tempdir().unwrap();
    let regenerated = scratch.path().join("conveyor_client");
    let generated = Command::new(client.join("generate.sh"))
        .arg(&regenerated)
        .env("PATH", &path)
        .output()
        .expect("generate.sh runs");
    assert!(
        generated.status.success(),
        "generate.sh failed: {}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let committed = tree(&client.join("conveyor_client"));
    let fresh = tree(&regenerated);
    let names = |files: &[(PathBuf, Vec<u8>)]| {
        files
            .iter()
            .map(|f| f.0.clone())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let (ours, theirs) = (names(&committed), names(&fresh));
    assert!(
        ours == theirs,
        "the committed Python client's files differ from a fresh generation (only committed: \
         {:?}; only generated: {:?}): run clients/python/generate.sh (with \
         requirements-dev.txt installed) and commit",
        ours.difference(&theirs).collect::<Vec<_>>(),
        theirs.difference(&ours).collect::<Vec<_>>()
    );
    for ((name, ours), (_, theirs)) in committed.iter().zip(&fresh) {
        assert!(
            ours == theirs,
            "clients/python/conveyor_client/{} differs from a fresh generation: run \
             clients/python/generate.sh and commit",
            name.display()
        );
    }

    // The auditor's path against a live server.
    let data = tempfile::tempdir().unwrap();
    let admin = mint_token(data.path(), "ops", "admin read").unwrap();
    let auditor = mint_token(data.path(), "auditor", "read audit").unwrap();
    let server = ServerProcess::start(data.path()).unwrap();
    let pytest = Command::new(venv.join("bin/python"))
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
        .current_dir(&client)
        .env("PATH", &path)
        .env("PYTHONPATH", &client)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("CONVEYOR_URL", &server.url)
        .env("CONVEYOR_ADMIN_TOKEN", &admin)
        .env("CONVEYOR_AUDITOR_TOKEN", &auditor)
        .output()
        .expect("pytest runs");
    assert!(
        pytest.status.success(),
        "pytest failed:\n{}\n{}",
        String::from_utf8_lossy(&pytest.stdout),
        String::from_utf8_lossy(&pytest.stderr)
    );
}
