//! Builds: the Worker (worker-build), the release app (trunk build) and the deployable bundle
//! (`wrangler deploy --dry-run`).

use std::path::Path;
use std::process::Command;

use crate::cmd;
use crate::tools::{Tools, WASM_TARGET};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Profile {
    /// What ships: optimised, without the Wasm names section.
    Release,
    /// The same code with its function names kept, for `cargo xtask bench --profile`.
    Profiling,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Profiling => "profiling",
        }
    }

    /// wasm-opt's arguments. `-O` rather than `-Oz`: on this code `-Oz` saves 1.6 KB gzip
    /// (0.5%) and optimises for size over the request path's speed. The features are the ones
    /// worker-build enables (rustc's wasm32 defaults and the exception handling of
    /// wasm-bindgen's catch wrappers), so that nothing newer than workerd reads is emitted.
    fn wasm_opt_args(self) -> Vec<&'static str> {
        let mut args = vec!["-O"];
        args.extend(match self {
            // The names section is a fifth of the Wasm (about 50 KB gzip); stack traces then
            // name functions by index.
            Profile::Release => ["--strip-debug", "--strip-producers"].as_slice(),
            Profile::Profiling => ["--debuginfo"].as_slice(),
        });
        args.extend(WASM_FEATURES);
        args.push("--enable-exception-handling");
        args
    }
}

/// The Wasm features wasm-opt may use: rustc's wasm32 defaults, nothing newer (`--all-features`
/// would let it write encodings browsers and workerd do not read, such as compact imports).
pub(crate) const WASM_FEATURES: [&str; 6] = [
    "--enable-mutable-globals",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-bulk-memory",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// Builds `edge/build` (the Worker's JS shim and Wasm) unless it is newer than the compiled crate
/// and was built for the same profile.
///
/// `cargo build` decides whether the Rust code changed; worker-build (wasm-bindgen, esbuild) and
/// wasm-opt (the slow part) then run only when cargo produced a new `.wasm`. worker-build's own
/// wasm-opt step is off (`edge/Cargo.toml`): it always keeps the names section.
pub fn worker(tools: &Tools, profile: Profile) -> Result<(), String> {
    let root = crate::root();
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
    let marker = root.join("edge/build/.xtask-profile");
    let built_for = std::fs::read_to_string(&marker).unwrap_or_default();
    if newer(&built, &compiled) && built_for == profile.name() {
        eprintln!("xtask: edge/build is up to date ({})", profile.name());
        return Ok(());
    }
    let mut command = Command::new(&tools.worker_build);
    command.arg("--release").current_dir(root.join("edge"));
    tools.env(&mut command);
    cmd::run(&mut command)?;
    let wasm = root.join("edge/build/index_bg.wasm");
    cmd::run(
        Command::new(tools.wasm_opt())
            .args(profile.wasm_opt_args())
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm),
    )?;
    std::fs::write(&marker, profile.name()).map_err(|e| format!("{}: {e}", marker.display()))
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
