//! Embeds the web console: lists every file of `clients/web/dist` (committed build output of
//! `clients/web`, see ADR 0009) in `$OUT_DIR/console_assets.rs` as `include_bytes!`, so the
//! binary serves it and running the product needs no Node.js.

use std::{
    collections::hash_map::DefaultHasher,
    fmt::Write as _,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
};

fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, found);
        } else {
            found.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let dist = manifest.join("../clients/web/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut found = Vec::new();
    files(&dist, &mut found);
    let mut table = String::from(
        "/// The console's files: path under `dist/`, entity tag, bytes.\n\
         pub static ASSETS: &[(&str, &str, &[u8])] = &[\n",
    );
    for path in found {
        let bytes = std::fs::read(&path).expect("a console asset");
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        let name = path
            .strip_prefix(&dist)
            .expect("under dist")
            .to_str()
            .expect("a UTF-8 path")
            .replace('\\', "/");
        let absolute = path.canonicalize().expect("an existing file");
        writeln!(
            table,
            "    ({name:?}, \"\\\"{:016x}\\\"\", include_bytes!({:?})),",
            hasher.finish(),
            absolute.display().to_string()
        )
        .expect("writing to a string");
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("console_assets.rs"), table).expect("writing the asset table");
}
