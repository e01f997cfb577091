//! Sizes: the app's first load and the Worker's bundle, gzip -9, against `xtask/budgets.toml`;
//! beside the first load, what a signed-in visit's first screen loads after it.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Budgets

/// `xtask/budgets.toml`: gzip budgets in KB (1 KB = 1000 bytes).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Budgets {
    pub(super) app_first_load_gzip_kb: u64,
    pub(super) worker_bundle_gzip_kb: u64,
}

impl Budgets {
    /// Reads `key = whole number` lines (comments with `#`); both keys are required, nothing else
    /// is allowed.
    pub fn parse(text: &str) -> Result<Budgets, String> {
        let (mut app, mut worker) = (None, None);
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| format!("line {}: expected `key = number`", n + 1))?;
            let value: u64 =
                value.trim().replace('_', "").parse().map_err(|_| {
                    format!("line {}: `{}` is not a whole number", n + 1, value.trim())
                })?;
            let slot = match key.trim() {
                "app_first_load_gzip_kb" => &mut app,
                "worker_bundle_gzip_kb" => &mut worker,
                other => return Err(format!("line {}: unknown budget `{other}`", n + 1)),
            };
            if slot.replace(value).is_some() {
                return Err(format!("line {}: `{}` is set twice", n + 1, key.trim()));
            }
        }
        Ok(Budgets {
            app_first_load_gzip_kb: app.ok_or("app_first_load_gzip_kb is missing")?,
            worker_bundle_gzip_kb: worker.ok_or("worker_bundle_gzip_kb is missing")?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Sizes

/// The files of `dist/` that `index.html` loads (scripts, Wasm, styles), sorted by name.
pub(super) fn first_load_files(index_html: &str) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for quote in ['"', '\''] {
        for (i, part) in index_html.split(quote).enumerate() {
            let loaded = i % 2 == 1
                && part.starts_with('/')
                && !part.starts_with("//")
                && [".js", ".wasm", ".css"]
                    .iter()
                    .any(|ext| part.ends_with(ext))
                && !part.contains(char::is_whitespace);
            let name = part.trim_start_matches('/').to_owned();
            if loaded && !files.contains(&name) {
                files.push(name);
            }
        }
    }
    files.sort();
    files
}

/// The files a module imports statically from its own folder (`from "./x.js"`, minified or not).
pub(super) fn static_imports(js: &str) -> Vec<String> {
    let mut files = Vec::new();
    for (i, _) in js.match_indices("from") {
        let rest = js[i + "from".len()..].trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let Some(path) = rest[1..].split(quote).next() else {
            continue;
        };
        if let Some(name) = path.strip_prefix("./")
            && name.ends_with(".js")
            && !name.contains('/')
            && !files.iter().any(|f| f == name)
        {
            files.push(name.to_owned());
        }
    }
    files
}

pub(super) struct FileSize {
    pub(super) name: String,
    pub(super) raw: u64,
    pub(super) gzip: u64,
}

pub(super) fn file_size(path: &Path, name: String) -> Result<FileSize, String> {
    let raw = path
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let out = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {} failed", path.display()));
    }
    Ok(FileSize {
        name,
        raw,
        gzip: out.stdout.len() as u64,
    })
}

impl FileSize {
    fn json(&self) -> Value {
        json!({"name": self.name, "raw": self.raw, "gzip": self.gzip})
    }
}

pub(super) struct SizeReport {
    pub(super) what: &'static str,
    pub(super) files: Vec<FileSize>,
    pub(super) budget_kb: u64,
    /// The app only: the files a signed-in visit's first screen loads besides the first load
    /// (the students screen's split point and its chunks), in no budget of their own.
    pub(super) signed_in: Vec<FileSize>,
}

impl SizeReport {
    pub(super) fn raw(&self) -> u64 {
        self.files.iter().map(|f| f.raw).sum()
    }
    pub(super) fn gzip(&self) -> u64 {
        self.files.iter().map(|f| f.gzip).sum()
    }
    /// The first load and the signed-in screen's own files.
    pub(super) fn signed_in_gzip(&self) -> u64 {
        self.gzip() + self.signed_in.iter().map(|f| f.gzip).sum::<u64>()
    }
    pub(super) fn within_budget(&self) -> bool {
        self.gzip() <= self.budget_kb * 1000
    }
    pub(super) fn json(&self) -> Value {
        json!({
            "files": self.files.iter().map(FileSize::json).collect::<Vec<_>>(),
            "raw": self.raw(),
            "gzip": self.gzip(),
            "budget_gzip": self.budget_kb * 1000,
            "within_budget": self.within_budget(),
            "signed_in_screen": (!self.signed_in.is_empty()).then(|| json!({
                "files": self.signed_in.iter().map(FileSize::json).collect::<Vec<_>>(),
                "gzip_with_first_load": self.signed_in_gzip(),
            })),
        })
    }
}

pub(super) fn app_sizes(budgets: &Budgets) -> Result<SizeReport, String> {
    let dist = crate::root().join("dist");
    let index = std::fs::read_to_string(dist.join("index.html"))
        .map_err(|e| format!("dist/index.html: {e}"))?;
    let mut files = vec![file_size(&dist.join("index.html"), "index.html".into())?];
    let mut names = first_load_files(&index);
    // And what those scripts import before they run (the chunks' loader, `__wasm_split.js`).
    let mut i = 0;
    while i < names.len() {
        if names[i].ends_with(".js") {
            let js = std::fs::read_to_string(dist.join(&names[i]))
                .map_err(|e| format!("dist/{}: {e}", names[i]))?;
            for import in static_imports(&js) {
                if !names.contains(&import) {
                    names.push(import);
                }
            }
        }
        i += 1;
    }
    for name in names {
        files.push(file_size(&dist.join(&name), name)?);
    }
    let mut signed_in = Vec::new();
    for name in split_loads(STUDENTS_SCREEN)? {
        signed_in.push(file_size(&dist.join(&name), name)?);
    }
    Ok(SizeReport {
        what: "app first load (dist/)",
        files,
        budget_kb: budgets.app_first_load_gzip_kb,
        signed_in,
    })
}

/// The split point of the students screen (`app/src/chunks.rs`), which a signed-in visit loads
/// beside its session check.
const STUDENTS_SCREEN: &str = "students_screen";

/// The files the release build's split point `split` loads (`xtask/src/split.rs`, `LOADS`).
fn split_loads(split: &str) -> Result<Vec<String>, String> {
    let path = crate::split::work_dir("release").join(crate::split::LOADS);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(split)).then(|| words.map(str::to_owned).collect())
        })
        .ok_or_else(|| format!("{}: no split point {split}", path.display()))
}

pub(super) fn worker_sizes(bundle: &Path, budgets: &Budgets) -> Result<SizeReport, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(bundle).map_err(|e| format!("{}: {e}", bundle.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".js") || name.ends_with(".wasm") {
            files.push(file_size(&entry.path(), name)?);
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    if files.is_empty() {
        return Err(format!("no .js or .wasm in {}", bundle.display()));
    }
    Ok(SizeReport {
        what: "Worker bundle (wrangler deploy --dry-run)",
        files,
        budget_kb: budgets.worker_bundle_gzip_kb,
        signed_in: Vec::new(),
    })
}
