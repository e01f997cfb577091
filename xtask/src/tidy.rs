//! `cargo xtask tidy` (and the first step of `cargo xtask test`): the checks a reviewer should
//! not have to make by eye. The code is formatted (`cargo fmt --check`), clippy finds nothing
//! (native crates with their tests, and the two Wasm crates for their target), and
//! ARCHITECTURE.md's code map names every module that exists.

use std::path::Path;

use crate::cmd;

/// The crates whose modules the code map must name.
const MAPPED: [&str; 7] = ["api", "app", "cli", "edge", "sim", "xtask", "zoho"];

pub fn run() -> Result<(), String> {
    let root = crate::root();
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md"))
        .map_err(|e| format!("ARCHITECTURE.md: {e}"))?;
    let missing = unmapped(&root, &architecture)?;
    if !missing.is_empty() {
        return Err(format!(
            "ARCHITECTURE.md's code map does not name: {} (name each module file, or its \
             folder with a slash for a mod.rs)",
            missing.join(", ")
        ));
    }
    cmd::run(
        cmd::cargo()
            .args(["fmt", "--all", "--", "--check"])
            .current_dir(&root),
    )
    .map_err(|e| format!("{e}: run `cargo fmt --all`"))?;
    // The native crates (the workspace's default members) with their tests.
    cmd::run(
        cmd::cargo()
            .args(["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"])
            .current_dir(&root),
    )?;
    // The app and the Worker, for the target they ship on.
    cmd::run(
        cmd::cargo()
            .args(["clippy", "--quiet", "-p", "zcrm-edge", "-p", "zcrm-app"])
            .args([
                "--target",
                crate::tools::WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(&root),
    )
}

/// The module files under each mapped crate's `src/` that ARCHITECTURE.md does not name: a file
/// `x.rs` must appear as `x.rs`, a folder module (`x/mod.rs`) as `x/`; `main.rs` and `lib.rs`
/// are the crate itself.
pub fn unmapped(root: &Path, architecture: &str) -> Result<Vec<String>, String> {
    let mut missing = Vec::new();
    for krate in MAPPED {
        let mut stack = vec![root.join(krate).join("src")];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for entry in entries {
                let path = entry.map_err(|e| e.to_string())?.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                let named = match name {
                    "main.rs" | "lib.rs" => continue,
                    "mod.rs" => {
                        let folder = path
                            .parent()
                            .and_then(|p| p.file_name())
                            .and_then(|n| n.to_str())
                            .unwrap_or_default();
                        format!("{folder}/")
                    }
                    _ if name.ends_with(".rs") => name.to_owned(),
                    _ => continue,
                };
                if !architecture.contains(&named) {
                    let shown = path.strip_prefix(root).unwrap_or(&path);
                    missing.push(shown.display().to_string());
                }
            }
        }
    }
    missing.sort();
    Ok(missing)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_code_map_is_checked_against_the_files() {
        let root = crate::root();
        let none = super::unmapped(&root, "").unwrap();
        assert!(none.iter().any(|m| m == "edge/src/grant.rs"), "{none:?}");
        assert!(none.iter().any(|m| m == "xtask/src/bench/mod.rs"));
        assert!(
            !none
                .iter()
                .any(|m| m.ends_with("/lib.rs") || m.ends_with("/main.rs"))
        );
        let some = super::unmapped(&root, "`grant.rs` and `bench/`").unwrap();
        assert!(
            !some
                .iter()
                .any(|m| m == "edge/src/grant.rs" || m == "xtask/src/bench/mod.rs")
        );
        assert_eq!(some.len() + 2, none.len());
    }
}
