//! `cargo xtask split-app`: Trunk's post-build hook (Trunk.toml), in `trunk serve` and
//! `trunk build` alike. It splits the app's Wasm into the main module and the chunks that
//! `app/src/chunks.rs` marks (`wasm_split`), so the first load carries only what the first
//! screen needs.
//!
//! Trunk cannot split (trunk-rs/trunk#1022): it has already run wasm-bindgen on the whole module
//! by now. So from cargo's own output (linked with `--emit-relocs`: `app/build.rs`),
//! `wasm-split-cli` (crates.io `wasm_split_cli_support`, pinned in `tools.rs`) cuts it,
//! wasm-bindgen makes the main module's JS, and in release builds wasm-opt and esbuild shrink
//! each part (and the stylesheet, which Trunk's minifier would only do with the JS it gives up
//! on). The results replace Trunk's files under the same names, with their integrity hashes in
//! `index.html` redone. Beside them: the chunks, and `__wasm_split.js`, their loader, which the
//! main JS imports. In the work folder, `loads.txt`: the files each split point loads (the
//! bench counts a signed-in visit's first screen with it).

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha384};
use zoho::base64::encode_standard;

use crate::cmd;

pub fn run() -> Result<(), String> {
    let staging = env_path(
        "TRUNK_STAGING_DIR",
        "split-app runs as Trunk's post-build hook",
    )?;
    let release = std::env::var("TRUNK_PROFILE").is_ok_and(|p| p == "release");
    let profile = if release { "release" } else { "debug" };
    let input = crate::build::target_dir()
        .join(crate::tools::WASM_TARGET)
        .join(profile)
        .join("zcrm-app.wasm");
    let stem = trunk_stem(&staging)?;

    let work = work_dir(profile);
    let _ = std::fs::remove_dir_all(&work);
    let (split, bindgen) = (work.join("split"), work.join("bindgen"));
    for dir in [&split, &bindgen] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let tool = |var: &str| env_path(var, "run Trunk through `cargo xtask`");
    cmd::run(
        Command::new(tool("WASM_SPLIT_BIN")?)
            .arg(&input)
            .arg(&split)
            .args(["--target", "web", "--out-name", &stem]),
    )?;
    cmd::run(
        Command::new(tool("WASM_BINDGEN_BIN")?)
            // The chunks import the table and the memory under the linker's names.
            .args(["--target", "web", "--no-typescript", "--keep-lld-exports"])
            .args(["--out-name", &stem, "--out-dir"])
            .arg(&bindgen)
            .arg(split.join(format!("{stem}.wasm"))),
    )?;
    if bindgen.join("snippets").is_dir() {
        return Err("wasm-bindgen wrote snippets: split-app does not copy them yet".into());
    }

    let loader = split.join("__wasm_split.js");
    let loader =
        std::fs::read_to_string(&loader).map_err(|e| format!("{}: {e}", loader.display()))?;
    let loads_txt = loads(&loader)
        .into_iter()
        .map(|(split, files)| format!("{split} {}\n", files.join(" ")))
        .collect::<String>();
    std::fs::write(work.join(LOADS), loads_txt).map_err(|e| format!("{LOADS}: {e}"))?;

    // What goes to the staging folder: the main module's JS and Wasm (Trunk's names), the loader,
    // the chunks.
    let main_wasm = format!("{stem}_bg.wasm");
    let mut outputs = vec![
        (bindgen.join(format!("{stem}.js")), format!("{stem}.js")),
        (bindgen.join(&main_wasm), main_wasm.clone()),
    ];
    for suffix in [".wasm", ".js"] {
        for name in files_named(&split, "", suffix)? {
            if name != format!("{stem}.wasm") {
                outputs.push((split.join(&name), name));
            }
        }
    }
    // In release builds each part is shrunk, and the stylesheet Trunk staged is minified too;
    // the files `index.html` links get their integrity hashes again.
    let mut changed = vec![format!("{stem}.js"), main_wasm];
    if release {
        let (wasm_opt, esbuild) = (tool("WASM_OPT_BIN")?, tool("ESBUILD_BIN")?);
        for (path, name) in &outputs {
            if name.ends_with(".js") {
                // wasm-bindgen's glue and the loader. The glue names the loader's module twice
                // in its imports object (one import per split point, the same module): harmless,
                // and not ours to warn about.
                minify(
                    &esbuild,
                    path,
                    &["--format=esm", "--log-override:duplicate-object-key=silent"],
                )?;
            } else {
                cmd::run(
                    Command::new(&wasm_opt)
                        .args(["-Oz", "--strip-debug", "--strip-producers"])
                        .args(crate::build::WASM_FEATURES)
                        .arg(path)
                        .arg("-o")
                        .arg(path),
                )?;
            }
        }
        for css in files_named(&staging, "style-", ".css")? {
            minify(&esbuild, &staging.join(&css), &[])?;
            changed.push(css);
        }
    }
    for (path, name) in &outputs {
        copy(path, &staging.join(name))?;
    }
    let index = staging.join("index.html");
    let mut html =
        std::fs::read_to_string(&index).map_err(|e| format!("{}: {e}", index.display()))?;
    for name in changed {
        let bytes = std::fs::read(staging.join(&name)).map_err(|e| format!("{name}: {e}"))?;
        html = with_integrity(&html, &format!("/{name}"), &sri(&bytes))?;
    }
    std::fs::write(&index, html).map_err(|e| format!("{}: {e}", index.display()))?;
    let chunks = outputs
        .iter()
        .filter(|(_, n)| n.starts_with("split_"))
        .count();
    eprintln!("xtask split-app: {stem}: main module and {chunks} chunks ({profile})");
    Ok(())
}

/// Where split-app works for `profile` (`release` or `debug`): `target/wasm-split/<profile>/`.
pub fn work_dir(profile: &str) -> PathBuf {
    crate::build::target_dir().join("wasm-split").join(profile)
}

/// The file, in [`work_dir`], of what each split point loads: one line per
/// split point, its name and then its files (`students_screen split_students_screen.wasm
/// chunk_5.wasm …`).
pub const LOADS: &str = "loads.txt";

/// The files each split point loads, read from wasm-split-cli's loader before it is minified:
/// its own `split_<name>.wasm` and every shared `chunk_<n>.wasm`, which the loader writes under
/// a comment naming the split points it serves (`/* import_dialog, students_screen */`).
/// Sorted by split point.
fn loads(loader: &str) -> Vec<(String, Vec<String>)> {
    let mut loads: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut served: Vec<String> = Vec::new();
    for line in loader.lines().map(str::trim) {
        if let Some(list) = line.strip_prefix("/* ").and_then(|l| l.strip_suffix(" */")) {
            served = list.split(", ").map(str::to_owned).collect();
        }
        let Some(file) = line
            .split_once("new URL(\"./")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(file, _)| file.to_owned())
        else {
            continue;
        };
        if let Some(split) = file
            .strip_prefix("split_")
            .and_then(|f| f.strip_suffix(".wasm"))
        {
            loads.entry(split.to_owned()).or_default().insert(0, file);
        } else {
            for split in served.drain(..) {
                loads.entry(split).or_default().push(file.clone());
            }
        }
    }
    loads.into_iter().collect()
}

/// The path in the environment variable `name`, or why it should have been there.
fn env_path(name: &str, why: &str) -> Result<PathBuf, String> {
    std::env::var_os(name)
        .map(PathBuf::from)
        .ok_or_else(|| format!("{name} is not set: {why}"))
}

/// `path` minified in place by esbuild (JS or CSS, by its extension), with `extra` arguments.
fn minify(esbuild: &Path, path: &Path, extra: &[&str]) -> Result<(), String> {
    cmd::run(
        Command::new(esbuild)
            .arg(path)
            .args(["--minify", "--log-level=warning", "--allow-overwrite"])
            .args(extra)
            .arg(format!("--outfile={}", path.display())),
    )
}

/// The name Trunk gave the app's files: `zcrm-app-<hash>` of `zcrm-app-<hash>_bg.wasm`.
fn trunk_stem(staging: &Path) -> Result<String, String> {
    match files_named(staging, "zcrm-app", "_bg.wasm")?.as_slice() {
        [one] => Ok(one.trim_end_matches("_bg.wasm").to_owned()),
        found => Err(format!(
            "expected one zcrm-app*_bg.wasm in {}, found {found:?}",
            staging.display()
        )),
    }
}

/// The names of the files in `dir` that start with `prefix` and end with `suffix`.
fn files_named(dir: &Path, prefix: &str, suffix: &str) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
        .collect())
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("{} → {}: {e}", from.display(), to.display()))
}

/// Subresource integrity of a file, as `integrity` attributes carry it.
fn sri(bytes: &[u8]) -> String {
    let digest = Sha384::digest(bytes);
    format!("sha384-{}", encode_standard(&digest))
}

/// `html` with the `integrity` of the tag that links `href` set to `integrity` (Trunk writes
/// one per preloaded file; a tag without one is left so).
fn with_integrity(html: &str, href: &str, integrity: &str) -> Result<String, String> {
    let at = html
        .find(&format!("href=\"{href}\""))
        .ok_or_else(|| format!("index.html links no {href}"))?;
    let start = html[..at].rfind('<').ok_or("a tag without its start")?;
    let end = at + html[at..].find('>').ok_or("a tag without its end")?;
    let tag = &html[start..end];
    let Some(attr) = tag.find("integrity=\"") else {
        return Ok(html.to_owned());
    };
    let value_start = start + attr + "integrity=\"".len();
    let value_end = value_start
        + html[value_start..]
            .find('"')
            .ok_or("an integrity without its end")?;
    Ok(format!(
        "{}{integrity}{}",
        &html[..value_start],
        &html[value_end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integrity_of_the_linked_file_is_replaced_and_nothing_else() {
        let html = r#"<link rel="stylesheet" href="/style-1.css" integrity="sha384-css"/><link rel="modulepreload" href="/zcrm-app-9.js" crossorigin="anonymous" integrity="sha384-old"><link rel="preload" href="/zcrm-app-9_bg.wasm" as="fetch" integrity="sha384-w">"#;
        let out = with_integrity(html, "/zcrm-app-9.js", "sha384-new").unwrap();
        assert_eq!(out, html.replace("sha384-old", "sha384-new"));
        assert!(with_integrity(html, "/missing.js", "x").is_err());
        let bare = r#"<link rel="modulepreload" href="/a.js">"#;
        assert_eq!(with_integrity(bare, "/a.js", "x").unwrap(), bare);
    }

    #[test]
    fn each_split_point_loads_its_file_and_the_chunks_that_serve_it() {
        // As wasm-split-cli 0.2.4 writes it (abridged).
        let loader = r#"function makeLoad(fetcher, deps) {}
/* import_dialog, student_form */
const __chunk_4 = makeLoad(() => {
    const src = fetch(new URL("./chunk_4.wasm", import.meta.url));
}
, []);
/* import_dialog, students_screen */
const __chunk_6 = makeLoad(() => {
    const src = fetch(new URL("./chunk_6.wasm", import.meta.url));
}
, []);
export const __wasm_split_load_students_screen = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_students_screen.wasm", import.meta.url));
}
, [__chunk_6]));
export const __wasm_split_load_student_form = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_student_form.wasm", import.meta.url));
}
, [__chunk_4]));
export const __wasm_split_load_import_dialog = wrapAsyncCb(makeLoad(() => {
    const src = fetch(new URL("./split_import_dialog.wasm", import.meta.url));
}
, [__chunk_4, __chunk_6]));"#;
        let files = |v: &[&str]| v.iter().map(|f| f.to_string()).collect::<Vec<_>>();
        assert_eq!(
            loads(loader),
            vec![
                (
                    "import_dialog".to_owned(),
                    files(&["split_import_dialog.wasm", "chunk_4.wasm", "chunk_6.wasm"])
                ),
                (
                    "student_form".to_owned(),
                    files(&["split_student_form.wasm", "chunk_4.wasm"])
                ),
                (
                    "students_screen".to_owned(),
                    files(&["split_students_screen.wasm", "chunk_6.wasm"])
                ),
            ]
        );
        assert_eq!(loads("no loader here"), vec![]);
    }

    #[test]
    fn integrity_is_sha384_in_base64() {
        // sha384("abc"), as in FIPS 180-2's example.
        assert_eq!(
            sri(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }
}
