//! Builds: the Worker (worker-build), the release app (trunk build) and the deployable bundle
//! (`wrangler deploy --dry-run`).

use std::path::Path;
use std::process::Command;

use crate::cmd;
use crate::tools::{Tools, WASM_TARGET};

#[derive(Clone, Copy)]
pub enum Profile {
    Release,
}

/// Builds `edge/build` (the Worker's JS shim and Wasm) unless it is newer than the compiled crate.
///
/// `cargo build` decides whether the Rust code changed; worker-build (wasm-bindgen, wasm-opt,
/// esbuild: the slow part) then runs only when cargo produced a new `.wasm`.
pub fn worker(tools: &Tools, profile: Profile) -> Result<(), String> {
    let root = crate::root();
    let Profile::Release = profile;
    cmd::run(
        crate::cmd::cargo()
            .args([
                "build",
                "--quiet",
                "--release",
                "--lib",
                "-p",
                "zcrm-edge",
                "--target",
                WASM_TARGET,
            ])
            .current_dir(&root),
    )?;
    let compiled = target_dir()
        .join(WASM_TARGET)
        .join("release/zcrm_edge.wasm");
    let built = root.join("edge/build/index.js");
    if newer(&built, &compiled) {
        eprintln!("xtask: edge/build is up to date");
        return Ok(());
    }
    let mut command = Command::new(&tools.worker_build);
    command.arg("--release").current_dir(root.join("edge"));
    tools.env(&mut command);
    cmd::run(&mut command)
}

/// `cargo xtask build`: the release app in `dist/` and the Worker bundle in `target/edge-bundle/`.
pub fn release() -> Result<(), String> {
    let tools = Tools::ensure()?;
    worker(&tools, Profile::Release)?;
    app(&tools)?;
    let bundle = bundle(&tools)?;
    println!("app:    {}", crate::root().join("dist").display());
    println!("worker: {}", bundle.display());
    Ok(())
}

/// The release app in `dist/` (trunk build).
pub(crate) fn app(tools: &Tools) -> Result<(), String> {
    cmd::run(
        tools
            .trunk()
            .args(["build", "--release", "--offline", "--dist", "dist"]),
    )?;
    crate::headers::write(&crate::root().join("dist"))
}

/// The deployable Worker bundle (`wrangler deploy --dry-run`) in `target/edge-bundle/`.
pub(crate) fn bundle(tools: &Tools) -> Result<std::path::PathBuf, String> {
    let bundle = target_dir().join("edge-bundle");
    // wrangler adds to the folder: without this, an older build's Wasm would count in the size.
    let _ = std::fs::remove_dir_all(&bundle);
    cmd::run(
        tools
            .wrangler()
            .args(["deploy", "--dry-run", "--outdir"])
            .arg(&bundle),
    )?;
    Ok(bundle)
}

pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(Into::into)
        .unwrap_or_else(|| crate::root().join("target"))
}

/// `a` exists and was modified after `b`, which exists too.
fn newer(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    matches!((modified(a), modified(b)), (Some(a), Some(b)) if a > b)
}
