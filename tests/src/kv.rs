//! A Worker's local KV as `wrangler dev --persist-to` keeps it on disk: entries in SQLite
//! (`v3/kv/**/<hash>.sqlite`, table `_mf_entries`: key, blob id, expiration) and each value in
//! a blob file (`v3/kv/<namespace>/blobs/<blob id>`). Read with Python's sqlite3, so that the
//! tests need no SQLite of their own; read-only, while the Worker runs.

use std::path::{Path, PathBuf};

/// One row of `_mf_entries` per line: `key \t blob id \t expiration (ms, or empty)`, for the
/// keys starting with `prefix`.
fn rows(worker_dir: &Path, prefix: &str) -> Vec<(String, String, Option<u64>)> {
    let script = r#"
import glob, sqlite3, sys
for f in glob.glob(sys.argv[1] + '/v3/kv/**/*.sqlite', recursive=True):
    if f.endswith('metadata.sqlite'):
        continue
    rows = sqlite3.connect(f).execute(
        'select key, blob_id, expiration from _mf_entries where substr(key, 1, length(?)) = ?',
        (sys.argv[2], sys.argv[2]))
    for (k, b, e) in rows:
        print(k, b, '' if e is None else e, sep='\t')
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(worker_dir)
        .arg(prefix)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut cells = line.split('\t');
            let mut next = || cells.next().unwrap_or_default().to_owned();
            (next(), next(), next().parse().ok())
        })
        .collect()
}

/// The keys in KV that start with `prefix`.
pub fn keys(worker_dir: &Path, prefix: &str) -> Vec<String> {
    rows(worker_dir, prefix).into_iter().map(|r| r.0).collect()
}

/// The expiration (ms since the epoch) of `key`; `None` for a key without one. Panics if the key
/// is not in KV.
pub fn expiration(worker_dir: &Path, key: &str) -> Option<u64> {
    rows(worker_dir, key)
        .into_iter()
        .find(|r| r.0 == key)
        .unwrap_or_else(|| panic!("{key} is in KV"))
        .2
}

/// The value of `key`, if it is in KV.
pub fn value(worker_dir: &Path, key: &str) -> Option<Vec<u8>> {
    let (_, blob, _) = rows(worker_dir, key).into_iter().find(|r| r.0 == key)?;
    let namespaces = std::fs::read_dir(worker_dir.join("v3/kv")).ok()?;
    namespaces
        .flatten()
        .map(|ns| ns.path().join("blobs").join(&blob))
        .find_map(|path| std::fs::read(path).ok())
}

/// The folder the stack's Workers keep their local KV and objects in, each in a folder of its
/// own (`$ZCRM_STATE_DIR`).
pub fn state_dir() -> PathBuf {
    std::env::var_os("ZCRM_STATE_DIR")
        .map(PathBuf::from)
        .expect("run with `cargo xtask test`")
}

/// The folder a Worker of the test run keeps its local KV and objects in
/// (`$ZCRM_STATE_DIR/<name>`, such as `worker-test`).
pub fn worker_dir(name: &str) -> PathBuf {
    state_dir().join(name)
}

/// The KV key of the user record of the simulator's US admin (`admin@zylker-academy.example`)
/// in the org `org_id`, as the Worker names it.
pub fn us_admin_record(org_id: &str) -> String {
    zcrm_edge::records::user_key(
        "us".parse().expect("a data centre"),
        "production".parse().expect("an environment"),
        org_id,
        "5725767000000300001",
    )
    .expect("ids of digits")
}
