//! The pinned tools, installed only when missing into a cache that survives between runs.
//!
//! Everything comes from a registry this machine can reach (crates.io, npm, PyPI, Debian): nothing
//! downloads a prebuilt binary from anywhere else. The pins fit together (wasm-bindgen's CLI and
//! library, worker-build and the worker crate, Trunk and this rustc): move them together.
//!
//! Cache layout, under `$ZCRM_CACHE` (default `$XDG_CACHE_HOME/zcrm-edge`, else `~/.cache/zcrm-edge`):
//! - `tools/<crate>-<version>/bin/...`: `cargo install --root` of each Rust tool;
//! - `npm/`: `npm install` of `xtask/tools/package-lock.json` (Node 22, wrangler, esbuild, binaryen);
//! - `node-sdk-<version>/`: `npm ci` of `xtask/tools/node-sdk/package-lock.json` (Zoho's Node.js
//!   SDK) and the package's tarball as npm publishes it (`npm pack`), for the check that the
//!   installed files are the published ones;
//! - `py-sdk-<version>/`, `oas-validator-<version>/`: virtualenvs of `tests/sdk/requirements.txt`
//!   (Zoho's Python SDK) and `xtask/tools/oas-validator/requirements.txt` (the OpenAPI validator),
//!   `pip install --require-hashes --no-deps` from PyPI.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// A tool built from crates.io with `cargo install`.
struct CargoTool {
    krate: &'static str,
    version: &'static str,
    bin: &'static str,
    /// `--locked`: use the tool's own Cargo.lock (trunk needs it to build with this rustc).
    locked: bool,
    /// Cargo features of the tool's crate to install with.
    features: &'static str,
    /// What a cold install costs here, for the progress line.
    cold_minutes: u32,
}

/// Must equal the `wasm-bindgen` version in Cargo.lock: the CLI refuses any other.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

const WASM_BINDGEN: CargoTool = CargoTool {
    krate: "wasm-bindgen-cli",
    version: WASM_BINDGEN_VERSION,
    bin: "wasm-bindgen",
    locked: false,
    features: "",
    cold_minutes: 6,
};
const WORKER_BUILD: CargoTool = CargoTool {
    krate: "worker-build",
    version: "0.8.7",
    bin: "worker-build",
    locked: false,
    features: "",
    cold_minutes: 6,
};
const TRUNK: CargoTool = CargoTool {
    krate: "trunk",
    version: "0.21.14",
    bin: "trunk",
    locked: true,
    features: "",
    cold_minutes: 13,
};
/// Splits the app's Wasm at its `wasm_split` points (`cargo xtask split-app`, Trunk's hook).
/// It must read what this `wasm_split_helpers` (Cargo.lock) writes: move them together.
const WASM_SPLIT: CargoTool = CargoTool {
    krate: "wasm_split_cli_support",
    version: "0.2.4",
    bin: "wasm-split-cli",
    locked: true,
    features: "build-binary",
    cold_minutes: 3,
};

/// Where every pinned tool is, once [`Tools::ensure`] has made sure it is there.
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub worker_build: PathBuf,
    pub trunk: PathBuf,
    pub wasm_split: PathBuf,
    /// `node_modules` of the npm tools.
    npm_modules: PathBuf,
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
    /// The browser audits: `node_modules` with `axe-core` (injected by the browser tests) and
    /// `lighthouse` (run by the bench), as pinned in `xtask/tools/audit/package-lock.json`.
    pub audit: PathBuf,
    /// Zoho's official SDKs and the OpenAPI validator, for `crate::fidelity`.
    pub sdks: Sdks,
}

/// What the simulator's fidelity suites run (`sim/tests/official_sdk.rs`, `sim/tests/conformance.rs`).
pub struct Sdks {
    /// The Python of the virtualenv with Zoho's Python SDK.
    pub py_sdk_python: PathBuf,
    /// The Python of the virtualenv with `openapi-schema-validator`.
    pub oas_python: PathBuf,
    /// The folder with `node_modules/@zohocrm/nodejs-sdk-8.0` and the published tarball.
    pub node_sdk: PathBuf,
}

/// Zoho's Python SDK, as pinned in `tests/sdk/requirements.txt`.
pub const PY_SDK_VERSION: &str = "7.0.0";
/// Zoho's Node.js SDK, as pinned in `xtask/tools/node-sdk/package-lock.json`.
pub const NODE_SDK_PACKAGE: &str = "@zohocrm/nodejs-sdk-8.0";
pub const NODE_SDK_VERSION: &str = "2.0.0";
/// `openapi-schema-validator`, as pinned in `xtask/tools/oas-validator/requirements.txt`.
pub const OAS_VALIDATOR_VERSION: &str = "0.6.3";
const PYPI: &str = "https://pypi.org/simple/";

impl Tools {
    /// Installs whatever is missing (printing what and why), then returns the tools' paths.
    /// A second call installs nothing.
    pub fn ensure() -> Result<Tools, String> {
        let cache = cache_dir()?;
        ensure_wasm_target()?;
        let wasm_bindgen = ensure_cargo_tool(&cache, &WASM_BINDGEN)?;
        let worker_build = ensure_cargo_tool(&cache, &WORKER_BUILD)?;
        let trunk = ensure_cargo_tool(&cache, &TRUNK)?;
        let wasm_split = ensure_cargo_tool(&cache, &WASM_SPLIT)?;
        let npm_modules = ensure_npm_tools(&cache)?;
        let (chromium, chromedriver) = ensure_chromium()?;
        let audit = ensure_audit(&cache)?;
        let sdks = Sdks {
            py_sdk_python: ensure_venv(
                &cache,
                &format!("py-sdk-{PY_SDK_VERSION}"),
                &crate::root().join("tests/sdk/requirements.txt"),
                "Zoho's Python SDK zohocrmsdk8-0",
            )?,
            oas_python: ensure_venv(
                &cache,
                &format!("oas-validator-{OAS_VALIDATOR_VERSION}"),
                &crate::root().join("xtask/tools/oas-validator/requirements.txt"),
                "openapi-schema-validator",
            )?,
            node_sdk: ensure_node_sdk(&cache)?,
        };
        Ok(Tools {
            wasm_bindgen,
            worker_build,
            trunk,
            wasm_split,
            npm_modules,
            chromium,
            chromedriver,
            audit,
            sdks,
        })
    }

    pub fn print(&self) {
        for (name, path) in [
            ("wasm-bindgen", &self.wasm_bindgen),
            ("worker-build", &self.worker_build),
            ("trunk", &self.trunk),
            ("wasm-split", &self.wasm_split),
            ("node", &self.node()),
            ("wrangler", &self.wrangler_js()),
            ("wasm-opt", &self.wasm_opt()),
            ("esbuild", &self.esbuild()),
            ("chromium", &self.chromium),
            ("chromedriver", &self.chromedriver),
            ("axe-core", &self.axe_js()),
            ("lighthouse", &self.lighthouse_js()),
            ("python SDK", &self.sdks.py_sdk_python),
            ("node SDK", &self.sdks.node_sdk),
            ("oas validator", &self.sdks.oas_python),
        ] {
            println!("{name:13} {}", path.display());
        }
    }

    pub fn node(&self) -> PathBuf {
        self.npm_modules.join("node/bin/node")
    }
    pub fn wrangler_js(&self) -> PathBuf {
        self.npm_modules.join("wrangler/bin/wrangler.js")
    }
    pub fn wasm_opt(&self) -> PathBuf {
        self.npm_modules.join("binaryen/bin/wasm-opt")
    }
    pub fn esbuild(&self) -> PathBuf {
        self.npm_modules.join("esbuild/bin/esbuild")
    }
    /// axe-core's browser script, for the browser tests to inject.
    pub fn axe_js(&self) -> PathBuf {
        self.audit.join("axe-core/axe.min.js")
    }
    /// Lighthouse's command line (a Node script): what `tools` checks is installed.
    pub fn lighthouse_js(&self) -> PathBuf {
        self.audit.join("lighthouse/cli/index.js")
    }
    /// The audit tools' `node_modules` (Lighthouse, chrome-launcher, puppeteer-core), for the
    /// bench's `xtask/tools/lighthouse.mjs`.
    pub fn audit_modules(&self) -> &Path {
        &self.audit
    }
    /// workerd itself (wrangler's dependency), for running the Worker without wrangler's proxy.
    pub fn workerd(&self) -> PathBuf {
        self.npm_modules
            .join("@cloudflare/workerd-linux-64/bin/workerd")
    }

    /// A `PATH` that finds the pinned tools before anything else on the machine: Node 22 (for
    /// wrangler and the binaryen `wasm-opt` script), wasm-bindgen and wasm-opt (for Trunk).
    pub fn path(&self) -> OsString {
        let mut dirs: Vec<PathBuf> = [
            &self.node(),
            &self.wasm_bindgen,
            &self.wasm_opt(),
            &self.trunk,
            &self.worker_build,
        ]
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).expect("tool paths contain no separator")
    }

    /// Sets up `command` to use the pinned tools and to stay offline.
    pub fn env<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("PATH", self.path())
            .env("WASM_BINDGEN_BIN", &self.wasm_bindgen)
            .env("WASM_OPT_BIN", self.wasm_opt())
            .env("WASM_SPLIT_BIN", &self.wasm_split)
            .env("ESBUILD_BIN", self.esbuild())
            .env("CHROMEDRIVER", &self.chromedriver)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("WRANGLER_HIDE_BANNER", "true")
    }

    /// `wrangler <args>` under Node 22, from the `edge/` folder (where `wrangler.toml` is).
    pub fn wrangler(&self) -> Command {
        let mut command = Command::new(self.node());
        command
            .arg(self.wrangler_js())
            .current_dir(crate::root().join("edge"));
        self.env(&mut command);
        command
    }

    pub fn trunk(&self) -> Command {
        let mut command = Command::new(&self.trunk);
        command.current_dir(crate::root());
        self.env(&mut command);
        command
    }
}

fn cache_dir() -> Result<PathBuf, String> {
    let dir = if let Some(dir) = std::env::var_os("ZCRM_CACHE") {
        PathBuf::from(dir)
    } else if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME") {
        PathBuf::from(xdg).join("zcrm-edge")
    } else if let Some(home) = std::env::var_os("HOME") {
        PathBuf::from(home).join(".cache/zcrm-edge")
    } else {
        return Err("set ZCRM_CACHE or HOME: the tool cache needs a home".into());
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = cmd::output(Command::new("rustup").args(["target", "list", "--installed"]));
    if installed.is_some_and(|list| list.lines().any(|l| l.trim() == WASM_TARGET)) {
        return Ok(());
    }
    eprintln!("xtask: installing the Rust target {WASM_TARGET}");
    cmd::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

fn ensure_cargo_tool(cache: &Path, tool: &CargoTool) -> Result<PathBuf, String> {
    let root = cache
        .join("tools")
        .join(format!("{}-{}", tool.krate, tool.version));
    let bin = root.join("bin").join(tool.bin);
    if bin.is_file() {
        return Ok(bin);
    }
    eprintln!(
        "xtask: installing {} {} from crates.io into {} (about {} minutes cold on 2 cores, once)",
        tool.krate,
        tool.version,
        root.display(),
        tool.cold_minutes
    );
    let mut command = crate::cmd::cargo();
    command
        .args(["install", tool.krate, "--version", tool.version, "--root"])
        .arg(&root)
        // A tool's build must not land in, or be disturbed by, the workspace's target dir.
        .env_remove("CARGO_TARGET_DIR")
        // A tool is built once per machine and run on small inputs: its own release profile's
        // fat LTO in one codegen unit (trunk's) costs more minutes of a cold machine than it
        // could ever save in a run.
        .env("CARGO_PROFILE_RELEASE_LTO", "off")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    if tool.locked {
        command.arg("--locked");
    }
    if !tool.features.is_empty() {
        command.args(["--features", tool.features]);
    }
    cmd::run(&mut command)?;
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} installed but {} is missing",
            tool.krate,
            bin.display()
        ))
    }
}

/// An npm project's `package.json`, `package-lock.json` and the stamp of that pair (a cached
/// install is current when its stamp is this).
fn npm_project(source: &Path) -> Result<(String, String, String), String> {
    let manifest = read(&source.join("package.json"))?;
    let lock = read(&source.join("package-lock.json"))?;
    let stamp = format!(
        "{:016x}",
        fnv1a(manifest.as_bytes()) ^ fnv1a(lock.as_bytes()).rotate_left(1)
    );
    Ok((manifest, lock, stamp))
}

/// Installs `xtask/tools/package-lock.json` (`npm install` of its exact versions; `npm ci` rejects a
/// lock made on one platform because of workerd's per-platform optional packages) when the cached
/// copy differs.
fn ensure_npm_tools(cache: &Path) -> Result<PathBuf, String> {
    let (manifest, lock, stamp_value) = npm_project(&crate::root().join("xtask/tools"))?;
    let dir = cache.join("npm");
    let stamp = dir.join(".zcrm-installed");
    let modules = dir.join("node_modules");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == stamp_value) {
        return Ok(modules);
    }
    eprintln!(
        "xtask: installing Node 22, wrangler, esbuild and binaryen from npm into {} (about a minute, once)",
        dir.display()
    );
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write(&dir.join("package.json"), &manifest)?;
    write(&dir.join("package-lock.json"), &lock)?;
    let _ = std::fs::remove_file(&stamp);
    cmd::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir),
    )?;
    for needed in [
        "node/bin/node",
        "wrangler/bin/wrangler.js",
        "esbuild/bin/esbuild",
        "binaryen/bin/wasm-opt",
    ] {
        if !modules.join(needed).is_file() {
            return Err(format!(
                "npm install finished but node_modules/{needed} is missing"
            ));
        }
    }
    write(&stamp, &stamp_value)?;
    Ok(modules)
}

/// `cache/name`, installed by `install` when it is missing or its stamp is not `stamp_value`.
/// `install` fills a staging folder of its own, which replaces the old copy only once complete,
/// so an interrupted install never looks finished and a concurrent run never sees half of one.
fn ensure_staged(
    cache: &Path,
    name: &str,
    stamp_value: &str,
    what: &str,
    install: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let dir = cache.join(name);
    let current = |dir: &Path| {
        std::fs::read_to_string(dir.join(".zcrm-installed")).is_ok_and(|s| s.trim() == stamp_value)
    };
    if current(&dir) {
        return Ok(dir);
    }
    eprintln!(
        "xtask: installing {what} into {} (about 10 s, once)",
        dir.display()
    );
    let staging = cache.join(format!("{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
    if let Err(e) =
        install(&staging).and_then(|()| write(&staging.join(".zcrm-installed"), stamp_value))
    {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if !current(&dir) {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if std::fs::rename(&staging, &dir).is_err() {
        // Another run finished first.
        let _ = std::fs::remove_dir_all(&staging);
        if !current(&dir) {
            return Err(format!("cannot move the new install to {}", dir.display()));
        }
    }
    Ok(dir)
}

/// A virtualenv of `requirements` (exact pins with hashes, `pip install --require-hashes
/// --no-deps` from PyPI only) in `cache/name`, made when missing or when the requirements
/// changed. Returns its `bin/python`.
fn ensure_venv(
    cache: &Path,
    name: &str,
    requirements: &Path,
    what: &str,
) -> Result<PathBuf, String> {
    let pins = read(requirements)?;
    let stamp_value = format!("{:016x}", fnv1a(pins.as_bytes()));
    let what = format!("{what} from PyPI");
    let venv = ensure_staged(cache, name, &stamp_value, &what, |staging| {
        cmd::run(Command::new("python3").args(["-m", "venv"]).arg(staging))
            .map_err(|e| format!("{e} (python3 3.9+ with its venv module is needed)"))?;
        let mut pip = Command::new(staging.join("bin/python"));
        pip.args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--require-hashes",
            "--no-input",
        ])
        .args(["--disable-pip-version-check", "--progress-bar", "off"])
        .args(["--timeout", "30", "--retries", "2", "--index-url", PYPI])
        .arg("-r")
        .arg(requirements)
        // Only PyPI: no local wheel folders or extra indexes from the environment.
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_NO_INDEX");
        cmd::run(&mut pip).map_err(|e| {
            format!(
                "{e}: could not install the pins of {} from PyPI ({PYPI})",
                requirements.display()
            )
        })?;
        cmd::run(Command::new(staging.join("bin/python")).args(["-m", "pip", "check"]))
            .map_err(|e| format!("{e}: {} misses a dependency", requirements.display()))
    })?;
    Ok(venv.join("bin/python"))
}

/// Zoho's Node.js SDK: `npm ci` of `xtask/tools/node-sdk/package-lock.json` (exact versions,
/// npm checks each package's integrity against the lock) and the SDK's own tarball as published
/// (`npm pack`), which the SDK test compares with the installed files. Only when missing or when
/// the lock changed.
fn ensure_node_sdk(cache: &Path) -> Result<PathBuf, String> {
    let (manifest, lock, stamp_value) = npm_project(&crate::root().join("xtask/tools/node-sdk"))?;
    let what = format!("Zoho's Node.js SDK {NODE_SDK_PACKAGE} {NODE_SDK_VERSION} from npm");
    ensure_staged(
        cache,
        &format!("node-sdk-{NODE_SDK_VERSION}"),
        &stamp_value,
        &what,
        |dir| {
            write(&dir.join("package.json"), &manifest)?;
            write(&dir.join("package-lock.json"), &lock)?;
            let npm = |args: &[&str]| {
                cmd::run(
                    Command::new("npm")
                        .args(args)
                        .args(["--no-audit", "--no-fund", "--loglevel=error"])
                        .current_dir(dir),
                )
            };
            npm(&["ci", "--ignore-scripts"])?;
            npm(&["pack", &format!("{NODE_SDK_PACKAGE}@{NODE_SDK_VERSION}")])?;
            let sdk = dir
                .join("node_modules")
                .join(NODE_SDK_PACKAGE)
                .join("package.json");
            if sdk.is_file() {
                Ok(())
            } else {
                Err(format!("npm ci finished but {} is missing", sdk.display()))
            }
        },
    )
}

/// axe-core and Lighthouse: `npm ci` of `xtask/tools/audit/package-lock.json` (exact versions,
/// integrity-checked, no install scripts: Lighthouse never downloads a browser, it is pointed at
/// Debian's Chromium), in a folder of its own so the shared npm tools are never reinstalled for
/// it. Returns its `node_modules`.
fn ensure_audit(cache: &Path) -> Result<PathBuf, String> {
    let (manifest, lock, stamp_value) = npm_project(&crate::root().join("xtask/tools/audit"))?;
    let dir = ensure_staged(
        cache,
        "audit",
        &stamp_value,
        "axe-core and Lighthouse from npm",
        |dir| {
            write(&dir.join("package.json"), &manifest)?;
            write(&dir.join("package-lock.json"), &lock)?;
            cmd::run(
                Command::new("npm")
                    .args([
                        "ci",
                        "--ignore-scripts",
                        "--no-audit",
                        "--no-fund",
                        "--loglevel=error",
                    ])
                    .current_dir(dir),
            )?;
            for needed in ["axe-core/axe.min.js", "lighthouse/cli/index.js"] {
                if !dir.join("node_modules").join(needed).is_file() {
                    return Err(format!(
                        "npm ci finished but node_modules/{needed} is missing"
                    ));
                }
            }
            Ok(())
        },
    )?;
    Ok(dir.join("node_modules"))
}

/// Debian's Chromium and ChromeDriver (never a browser downloaded by a test tool).
fn ensure_chromium() -> Result<(PathBuf, PathBuf), String> {
    let chromium = PathBuf::from(std::env::var_os("CHROME").unwrap_or("/usr/bin/chromium".into()));
    let driver =
        PathBuf::from(std::env::var_os("CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into()));
    if chromium.is_file() && driver.is_file() {
        return Ok((chromium, driver));
    }
    eprintln!("xtask: installing Debian's chromium and chromium-driver (a few minutes, once)");
    let as_root = cmd::output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    let apt = |args: &[&str]| {
        let mut command = if as_root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd::run(&mut command)
    };
    apt(&["update", "-q"])?;
    apt(&["install", "-y", "-q", "chromium", "chromium-driver"])?;
    if chromium.is_file() && driver.is_file() {
        Ok((chromium, driver))
    } else {
        Err(format!(
            "apt-get installed chromium but {} or {} is missing",
            chromium.display(),
            driver.display()
        ))
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A stable 64-bit FNV-1a hash (std's hasher may change between Rust releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI refuses to run against another library version, so the pin must match the lock.
    #[test]
    fn wasm_bindgen_cli_matches_the_lockfile() {
        let lock = std::fs::read_to_string(crate::root().join("Cargo.lock")).unwrap();
        let versions: Vec<&str> = lock
            .split("[[package]]")
            .filter(|p| p.contains("\nname = \"wasm-bindgen\"\n"))
            .filter_map(|p| p.split("\nversion = \"").nth(1)?.split('"').next())
            .collect();
        assert_eq!(versions, [WASM_BINDGEN_VERSION]);
    }

    #[test]
    fn worker_build_pin_matches_the_worker_crate() {
        let lock = std::fs::read_to_string(crate::root().join("Cargo.lock")).unwrap();
        let worker = lock
            .split("[[package]]")
            .find(|p| p.contains("\nname = \"worker\"\n"))
            .expect("worker is in Cargo.lock");
        assert!(
            worker.contains(&format!("\nversion = \"{}\"\n", WORKER_BUILD.version)),
            "worker-build {} must build the worker crate of the same version",
            WORKER_BUILD.version
        );
    }

    #[test]
    fn fnv1a_is_the_published_function() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
