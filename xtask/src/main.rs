//! `cargo xtask`: everything the project automates, in Rust instead of shell scripts.
//!
//! - `dev`: install what is missing, build, and run the whole portal locally.
//! - `test`: every test tier, from unit tests to the browser end-to-end tests.
//! - `screenshots`: a PNG of each main screen in `docs/screenshots/`.
//! - `build`: the release app in `dist/` and the deployable Worker bundle.
//! - `tools`: only install the pinned tools (what `dev` and `test` do first).
//! - `worker-build`: build the Worker for wrangler (its `[build] command`); skips when up to date.

mod bench;
mod build;
mod cmd;
mod fidelity;
mod headers;
mod http;
mod isolates;
mod split;
mod stack;
mod testrun;
mod tidy;
mod tools;

use std::process::ExitCode;

use stack::Ports;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  dev            run the portal locally: simulator, Worker (wrangler dev) and app (trunk serve)
  test           run every test tier: unit, simulator, Worker black-box, browser end-to-end
  screenshots    a PNG of each main screen of the app in docs/screenshots/
  build          release build: the app in dist/ and the Worker bundle (wrangler deploy --dry-run)
  isolates       only the 4 isolates of the Worker that test runs start (one workerd, one
                 Durable Object namespace, KV views 60 s stale; ports 8791-8794) and their
                 simulator (8796), until Ctrl-C
  tidy           formatting, clippy (warnings denied; native and Wasm crates) and the
                 ARCHITECTURE.md code map naming every module (the first step of `test`)
  tools          install the pinned tools that are missing, then print where they are
  worker-build   build the Worker into edge/build (used by wrangler.toml's [build] command)
  split-app      split the app's Wasm into its main module and lazy chunks (Trunk.toml's
                 post-build hook)
  bench          release build, then sizes against xtask/budgets.toml, and the Worker's latency,
                 throughput, token economy, cold start, scale, sign-in time in Chromium and
                 Lighthouse
                 (workerd direct; ports 19785-19787 and 19790); prints a table and writes
                 target/bench/bench.json; fails only over a budget. --no-build: use the
                 existing builds. --profile: instead, a CPU profile of the Worker on its hot
                 routes (self time per function; workerd's inspector on port 19784).
                 --floor: only the sizes and the students list beside the floor;
                 with --runs N (1-9), N runs and their medians and range, also written to
                 target/bench/floor.json
                 --lighthouse: only the sizes and Lighthouse (the four scores and the layout
                 shift, signed out and in, phone and desktop; also the bench's last part)

  test --only SUITE [-- FILTER...]
                 one stack suite (tests/tests/SUITE.rs) against a stack already running
                 (`cargo xtask dev`; `cargo xtask isolates` for the isolates suite)

options for dev, test and screenshots:
  --sim-port N     the Zoho simulator's port     (default 8790)
  --worker-port N  the Worker's port             (default 8787)
  --app-port N     the app's port (trunk serve)  (default 8080)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "dev" => Ports::parse(rest).and_then(stack::dev),
        "test" => match rest.iter().position(|a| a == "--only") {
            Some(at) => {
                let (ports, only) = rest.split_at(at);
                match only.get(1) {
                    Some(suite) => {
                        let filters = only.get(2..).unwrap_or_default();
                        let filters = filters
                            .strip_prefix(&["--".to_owned()][..])
                            .unwrap_or(filters);
                        Ports::parse(ports).and_then(|p| testrun::only(p, suite, filters))
                    }
                    None => Err(format!("--only needs a suite name\n\n{USAGE}")),
                }
            }
            None => Ports::parse(rest).and_then(testrun::test),
        },
        "isolates" => Ports::parse(rest).and_then(stack::isolates),
        "screenshots" => Ports::parse(rest).and_then(testrun::screenshots),
        "build" => no_options(rest).and_then(|()| build::release()),
        "bench" => bench::Options::parse(rest).and_then(bench::run),
        "tools" => no_options(rest).and_then(|()| tools::Tools::ensure().map(|t| t.print())),
        "tidy" => no_options(rest).and_then(|()| tidy::run()),
        // Hidden: the simulator's fidelity suites alone (`cargo xtask test` runs them too).
        "fidelity" => no_options(rest).and_then(|()| fidelity::run(&tools::Tools::ensure()?)),
        "split-app" => no_options(rest).and_then(|()| split::run()),
        "worker-build" => no_options(rest).and_then(|()| {
            let tools = tools::Tools::ensure()?;
            build::worker(&tools, build::Profile::Release)
        }),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn no_options(rest: &[String]) -> Result<(), String> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(format!("unexpected argument `{arg}`\n\n{USAGE}")),
    }
}

/// The workspace root: the nearest folder at or above the current one that holds this
/// workspace (`Cargo.toml` beside `xtask/Cargo.toml`), found at run time, so a checkout that was
/// copied or moved with its `target/` runs its tasks on itself, not on the folder it was built in.
pub fn root() -> std::path::PathBuf {
    static ROOT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let cwd = std::env::current_dir().unwrap_or_else(|e| {
            eprintln!("xtask: no current folder: {e}");
            std::process::exit(2)
        });
        find_root(&cwd).unwrap_or_else(|| {
            eprintln!(
                "xtask: {} is not inside the zcrm-edge workspace: run `cargo xtask` there",
                cwd.display()
            );
            std::process::exit(2)
        })
    })
    .clone()
}

fn find_root(from: &std::path::Path) -> Option<std::path::PathBuf> {
    from.ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("xtask/Cargo.toml").is_file())
        .map(std::path::Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_root_is_found_from_any_folder_inside() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = here.parent().unwrap();
        assert_eq!(super::find_root(here).as_deref(), Some(root));
        assert_eq!(
            super::find_root(&root.join("edge/src")).as_deref(),
            Some(root)
        );
        assert_eq!(super::find_root(std::path::Path::new("/")), None);
    }
}
