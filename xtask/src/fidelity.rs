//! The simulator's fidelity suites, which need the tools `cargo xtask tools` installs: Zoho's
//! official Python and Node.js SDKs driven against the simulator (`sim/tests/official_sdk.rs`)
//! and the conformance of its answers to Zoho's OpenAPI description (`sim/tests/conformance.rs`).
//! Both are `#[ignore]`d in a plain `cargo test`; this runs them with the tools' paths.

use std::process::Command;

use crate::cmd;
use crate::tools::Tools;

/// Where the suites find the tools (read by `sim/tests/support/tools.rs`).
pub const ENV_PY_SDK: &str = "ZCRM_PY_SDK_PYTHON";
pub const ENV_OAS_PYTHON: &str = "ZCRM_OAS_PYTHON";
pub const ENV_NODE: &str = "ZCRM_NODE";
pub const ENV_NODE_SDK: &str = "ZCRM_NODE_SDK";

/// `cargo test -p zoho-sim --test official_sdk --test conformance -- --ignored`, with the tools.
pub fn run(tools: &Tools) -> Result<(), String> {
    let mut command = crate::cmd::cargo();
    command
        .args(["test", "--quiet", "-p", "zoho-sim"])
        .args(["--test", "official_sdk", "--test", "conformance"])
        .args(["--", "--ignored"])
        .current_dir(crate::root());
    env(tools, &mut command);
    cmd::run(&mut command)
}

/// Points `command` at the SDKs, the validator and the pinned Node.
pub fn env<'a>(tools: &Tools, command: &'a mut Command) -> &'a mut Command {
    command
        .env(ENV_PY_SDK, &tools.sdks.py_sdk_python)
        .env(ENV_OAS_PYTHON, &tools.sdks.oas_python)
        .env(ENV_NODE, tools.node())
        .env(ENV_NODE_SDK, &tools.sdks.node_sdk)
}
