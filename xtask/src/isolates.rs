//! Cloudflare's network on one machine: the release Worker as several services of one workerd,
//! each its own isolate with its own memory and its own socket, all bound to the same Durable
//! Object namespace (the grants) and to the same KV namespace, seen through one "location" per
//! isolate: a write is visible at once to the isolate that made it and to the others only
//! `stale_kv_secs` later (Workers KV is eventually consistent across locations, up to about 60 s).
//!
//! Used by `cargo xtask test` (the black-box suite `tests/tests/isolates.rs`) and by
//! `cargo xtask bench` (`multi_isolate`). The Durable Objects live in the first isolate's service,
//! as a class of the same Worker; in production Cloudflare places each object in one location.

use std::path::Path;

use crate::stack::{DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_TOKEN_KEY};

/// The Worker module's Wasm, as worker-build's `index.js` imports it.
const WASM_MODULE: &str = "index_bg.wasm";

/// The Worker's files, each named by its path under `edge/` (as [`copy_worker`] lays them out
/// in a workerd folder) with its kind of module: the main module (`edge/worker.js`, as in
/// `wrangler.toml`) first, then worker-build's `build/index.js` and the Wasm it imports.
const WORKER_FILES: [(&str, &str); 3] = [
    ("worker.js", "esModule"),
    ("build/index.js", "esModule"),
    ("build/index_bg.wasm", "wasm"),
];

/// The `modules` of the Worker in a workerd config, from [`WORKER_FILES`].
pub fn worker_modules() -> String {
    WORKER_FILES
        .iter()
        .map(|(name, kind)| format!("    (name = \"{name}\", {kind} = embed \"{name}\"),\n"))
        .collect()
}

/// Several isolates of the Worker and what they share.
pub struct Isolates {
    pub isolates: usize,
    pub stale_kv_secs: u64,
    /// Isolate `i` listens on `first_port + i`.
    pub first_port: u16,
    pub sim_url: String,
    pub redirect_uri: String,
    /// Variables beyond the simulator's client and the development key.
    pub vars: Vec<(&'static str, String)>,
}

impl Isolates {
    pub fn ports(&self) -> Vec<u16> {
        (0..self.isolates)
            .map(|i| self.first_port + i as u16)
            .collect()
    }

    pub fn urls(&self) -> Vec<String> {
        self.ports()
            .into_iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect()
    }

    /// Writes the workerd folder: the config, the Worker's two files, the KV store and its views.
    pub fn prepare(&self, dir: &Path) -> Result<(), String> {
        copy_worker(dir)?;
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes).map_err(|e| format!("{name}: {e}"))
        };
        write("kv-store.js", KV_STORE.as_bytes())?;
        write("kv-view.js", KV_VIEW.as_bytes())?;
        let objects = dir.join("durable-objects");
        std::fs::create_dir_all(&objects).map_err(|e| format!("{}: {e}", objects.display()))?;
        write(
            "config.capnp",
            self.config(&compatibility_date()?, &objects).as_bytes(),
        )?;
        Ok(())
    }

    /// The workerd configuration (module files named relative to its folder; the Durable
    /// Objects' SQLite files in `objects`).
    pub fn config(&self, compatibility_date: &str, objects: &Path) -> String {
        let mut vars: Vec<(&str, String)> = vec![
            ("ZOHO_ENVIRONMENT", "production".into()),
            ("LOG_LEVEL", "info".into()),
            ("ZOHO_SIM_BASE", self.sim_url.clone()),
            ("ZOHO_CLIENT_ID", DEV_CLIENT_ID.into()),
            ("ZOHO_REDIRECT_URI", self.redirect_uri.clone()),
            ("ZOHO_CLIENT_SECRET", DEV_CLIENT_SECRET.into()),
            ("TOKEN_KEYS", DEV_TOKEN_KEY.into()),
        ];
        for (name, value) in &self.vars {
            vars.retain(|(n, _)| n != name);
            vars.push((name, value.clone()));
        }
        let bindings: String = vars
            .iter()
            .map(|(k, v)| format!("    (name = \"{k}\", text = \"{v}\"),\n"))
            .collect();
        let mut services = String::new();
        let mut sockets = String::new();
        let mut workers = String::new();
        let modules = worker_modules();
        for (i, port) in self.ports().into_iter().enumerate() {
            services.push_str(&format!(
                "    (name = \"w{i}\", worker = .w{i}),\n    (name = \"kv{i}\", worker = .kv{i}),\n"
            ));
            sockets.push_str(&format!(
                "    (name = \"s{i}\", address = \"127.0.0.1:{port}\", http = (), service = \"w{i}\"),\n"
            ));
            // The grants are a class of the first isolate's Worker; every isolate binds to them.
            let objects = if i == 0 {
                "  durableObjectNamespaces = [\n    (className = \"Grant\", uniqueKey = \"zcrm-edge-grant\", enableSql = true),\n    (className = \"Login\", uniqueKey = \"zcrm-edge-login\", enableSql = true),\n  ],\n  durableObjectStorage = (localDisk = \"objects\"),\n"
            } else {
                ""
            };
            workers.push_str(&format!(
                r#"
const w{i} :Workerd.Worker = (
  modules = [
{modules}  ],
  compatibilityDate = "{compatibility_date}",
{objects}  bindings = [
    (name = "KV", kvNamespace = "kv{i}"),
    (name = "GRANTS", durableObjectNamespace = (className = "Grant", serviceName = "w0")),
    (name = "LOGINS", durableObjectNamespace = (className = "Login", serviceName = "w0")),
{bindings}  ],
);

const kv{i} :Workerd.Worker = (
  modules = [(name = "kv-view.js", esModule = embed "kv-view.js")],
  compatibilityDate = "{compatibility_date}",
  bindings = [(name = "STORE", service = "kvstore"), (name = "VIEW", text = "{i}")],
);
"#
            ));
        }
        format!(
            r#"# Generated by cargo xtask: {n} isolates of the Worker in one workerd (xtask/src/isolates.rs).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
{services}    (name = "kvstore", worker = .kvstore),
    (name = "objects", disk = (path = "{objects}", writable = true)),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
{sockets}  ],
);
{workers}
const kvstore :Workerd.Worker = (
  modules = [(name = "kv-store.js", esModule = embed "kv-store.js")],
  compatibilityDate = "{compatibility_date}",
  bindings = [(name = "STALE_SECS", text = "{stale}")],
);
"#,
            n = self.isolates,
            stale = self.stale_kv_secs,
            objects = objects.display(),
        )
    }
}

/// Copies the Worker (`edge/worker.js`, worker-build's `edge/build/index.js` and the Wasm it
/// imports) into `dir`, laid out as [`WORKER_FILES`] names them, for a workerd config to embed.
pub fn copy_worker(dir: &Path) -> Result<(), String> {
    let edge = crate::root().join("edge");
    let index = std::fs::read_to_string(edge.join("build/index.js"))
        .map_err(|e| format!("edge/build/index.js: {e}"))?;
    if !index.contains(&format!("\"./{WASM_MODULE}\"")) {
        return Err(format!(
            "edge/build/index.js no longer imports ./{WASM_MODULE}: update xtask/src/isolates.rs"
        ));
    }
    let build = dir.join("build");
    std::fs::create_dir_all(&build).map_err(|e| format!("{}: {e}", build.display()))?;
    for (name, _) in WORKER_FILES {
        std::fs::copy(edge.join(name), dir.join(name)).map_err(|e| format!("edge/{name}: {e}"))?;
    }
    Ok(())
}

/// `compatibility_date` of `edge/wrangler.toml`.
pub fn compatibility_date() -> Result<String, String> {
    let toml = std::fs::read_to_string(crate::root().join("edge/wrangler.toml"))
        .map_err(|e| format!("edge/wrangler.toml: {e}"))?;
    toml.lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "compatibility_date").then(|| v.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| "edge/wrangler.toml has no compatibility_date".into())
}

/// Each isolate's view of KV: its requests, marked with the view's name, to the one store.
const KV_VIEW: &str = include_str!("../tools/workerd/kv-view.js");

/// One KV namespace in memory, speaking the HTTP protocol workerd uses for a `kvNamespace`
/// binding (`GET /<key>`, `PUT /<key>?expiration_ttl=S`, `DELETE /<key>`, keys URL-encoded),
/// seen from several locations: each key keeps its recent versions, and a view reads the newest
/// one it wrote itself or that is older than `STALE_SECS`.
const KV_STORE: &str = include_str!("../tools/workerd/kv-store.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_binds_every_isolate_to_the_grants_and_its_own_view_of_kv() {
        let isolates = Isolates {
            isolates: 4,
            stale_kv_secs: 60,
            first_port: 8791,
            sim_url: "http://127.0.0.1:8796".into(),
            redirect_uri: "http://127.0.0.1:8791/redirect.html".into(),
            vars: vec![("LOG_LEVEL", "warn".into())],
        };
        let c = isolates.config("2026-11-01", Path::new("/tmp/objects"));
        assert!(
            c.contains(r#"(name = "objects", disk = (path = "/tmp/objects", writable = true))"#)
        );
        for i in 0..4 {
            assert!(
                c.contains(&format!("(name = \"KV\", kvNamespace = \"kv{i}\")")),
                "{c}"
            );
            assert!(c.contains(&format!("address = \"127.0.0.1:{}\"", 8791 + i)));
            assert!(c.contains(&format!("(name = \"VIEW\", text = \"{i}\")")));
        }
        assert_eq!(c.matches("durableObjectNamespaces").count(), 1);
        assert_eq!(
            c.matches("durableObjectNamespace = (className = \"Grant\", serviceName = \"w0\")")
                .count(),
            4
        );
        assert_eq!(
            c.matches("durableObjectNamespace = (className = \"Login\", serviceName = \"w0\")")
                .count(),
            4
        );
        assert!(c.contains("(name = \"STALE_SECS\", text = \"60\")"));
        assert!(c.contains("(name = \"LOG_LEVEL\", text = \"warn\")"));
        assert!(!c.contains("(name = \"LOG_LEVEL\", text = \"info\")"));
        assert_eq!(isolates.urls()[3], "http://127.0.0.1:8794");
    }
}
