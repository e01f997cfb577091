//! Running commands the same way everywhere: echoed before they run, failures as readable errors.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

/// `cargo`: the one that runs this task (`$CARGO`, as Cargo sets it), else the one on `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Prints `$ program args...` so every step of a run is visible, then runs it to completion.
pub fn run(command: &mut Command) -> Result<(), String> {
    echo(command);
    let status = command
        .status()
        .map_err(|e| format!("could not start {}: {e}", program(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", program(command)))
    }
}

/// Runs a command quietly and returns its standard output, or `None` when it cannot run or fails.
pub fn output(command: &mut Command) -> Option<String> {
    let out = command.stderr(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn echo(command: &Command) {
    let args: Vec<_> = command.get_args().map(OsStr::to_string_lossy).collect();
    eprintln!("$ {} {}", program(command), args.join(" "));
}

fn program(command: &Command) -> String {
    std::path::Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned()
}
