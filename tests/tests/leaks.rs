//! Runs after every other stack test (`cargo xtask test` runs this binary last): nothing the
//! Worker wrote, neither its log lines nor its KV (keys and values, as stored on disk), holds a
//! Zoho token or code, the client secret or the token-sealing key.

use std::path::{Path, PathBuf};

/// What a leak looks like: the simulator's tokens and codes are `1000.` + 32 hex digits + `.`.
fn leaks_in(text: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let secrets: [&[u8]; 2] = [
        b"zcrm-edge-dev-secret",
        b"emNybS1lZGdlLWxvY2FsLWRldi1rZXktMzItYnl0ZXM",
    ];
    for secret in secrets {
        if text.windows(secret.len()).any(|w| w == secret) {
            found.push(String::from_utf8_lossy(secret).into_owned());
        }
    }
    for (i, w) in text.windows(5).enumerate() {
        if w == b"1000." {
            let rest = &text[i + 5..];
            let hex = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
            if hex >= 16 {
                found.push(
                    String::from_utf8_lossy(&text[i..(i + 5 + hex).min(text.len())]).into_owned(),
                );
            }
        }
    }
    found
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn the_leak_detector_detects() {
    assert_eq!(
        leaks_in(b"token 1000.0123456789abcdef0123456789abcdef.00 here").len(),
        1
    );
    assert_eq!(leaks_in(b"secret=zcrm-edge-dev-secret").len(), 1);
    assert!(leaks_in(b"took 1000.5 ms; id 5725767000000412001").is_empty());
}

#[test]
#[ignore = "needs the running stack: cargo xtask test"]
fn after_all_no_token_or_secret_in_worker_logs_or_kv() {
    let state = zcrm_tests::kv::state_dir();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&state).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("worker") && name.ends_with("-test") {
            files_under(&entry.path(), &mut files);
        }
    }
    let kv_files = files.len();
    for entry in std::fs::read_dir(state.join("logs")).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with("worker") {
            files.push(entry.path());
        }
    }
    assert!(
        kv_files > 0,
        "the Workers' local KV is under {}",
        state.display()
    );
    let mut scanned = 0;
    for file in &files {
        // SQLite's journal files come and go while the Workers run: one gone since the listing
        // holds nothing any more (what it held is in its database, which is scanned).
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", file.display()),
        };
        scanned += bytes.len();
        let leaks = leaks_in(&bytes);
        assert!(leaks.is_empty(), "{} holds {leaks:?}", file.display());
    }
    // The suites before this one signed users in: there was something to leak.
    let log = std::fs::read_to_string(state.join("logs/worker.log")).unwrap();
    assert!(
        log.contains("\"event\":\"signed_in\""),
        "the Worker logged sign-ins"
    );
    eprintln!(
        "scanned {} files, {scanned} bytes: no token, code or secret",
        files.len()
    );
}
