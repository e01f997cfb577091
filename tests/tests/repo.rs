//! Checks of the repository itself: the README's two commands and CI agree.

use std::path::Path;

fn read(relative: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    std::fs::read_to_string(root.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The commands of the README's first code block: what a newcomer runs.
fn readme_commands() -> Vec<String> {
    let readme = read("README.md");
    let block = readme
        .split("```")
        .nth(1)
        .expect("README.md has a code block");
    block
        .lines()
        .skip(1) // the fence's language tag
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_opens_with_exactly_the_two_commands() {
    assert_eq!(readme_commands(), ["cargo xtask dev", "cargo xtask test"]);
    let readme = read("README.md");
    let first_block = readme.find("```").unwrap();
    let first_heading_after_title = readme[1..].find("\n#").map_or(usize::MAX, |i| i + 1);
    assert!(
        first_block < first_heading_after_title,
        "the commands come before any section of the README"
    );
}

#[test]
fn ci_runs_the_readme_test_command_and_nothing_else() {
    let ci = read(".ci/run");
    let steps: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.starts_with("set ") && !l.starts_with("cd "))
        .collect();
    let test_command = readme_commands()
        .into_iter()
        .find(|c| c.ends_with(" test"))
        .expect("the README has a test command");
    assert_eq!(steps, [test_command.as_str()]);
}
