//! The read model's fingerprint: a digest of the engine's sources. A projection checkpoint
//! written by one build is only read by a build with the same fingerprint, so a change to
//! how events fold (or to the model's shape) can never load a checkpoint it would misread.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("engine/src is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut found = Vec::new();
    sources(Path::new("src"), &mut found);
    found.sort();
    let mut digest = Sha256::new();
    for path in found {
        digest.update(path.to_string_lossy().as_bytes());
        digest.update(std::fs::read(&path).expect("a source file is readable"));
    }
    let fingerprint: String = digest
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    println!("cargo:rustc-env=CONVEYOR_MODEL_FINGERPRINT={fingerprint}");
}
