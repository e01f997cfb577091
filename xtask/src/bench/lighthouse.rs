//! Lighthouse 12 (pinned in `xtask/tools/audit/`, run by Node with Debian's Chromium) on the
//! release app as the bench's workerd serves it: signed out and signed in (a headless sign-in's
//! session and its hint cookie put in the browser's own jar by `xtask/tools/lighthouse.mjs`),
//! on a phone (Lighthouse's default, mobile emulation and throttling) and on a desktop
//! (`--preset=desktop`). The four category scores and the cumulative layout shift of each, and
//! the console errors Lighthouse saw.

#[allow(unused_imports)]
use super::*;

/// Lighthouse's categories, in the order printed.
pub(super) const CATEGORIES: [&str; 4] = ["performance", "accessibility", "best-practices", "seo"];

/// One Lighthouse run.
pub(super) struct Audit {
    pub(super) signed_in: bool,
    /// `phone` or `desktop`.
    pub(super) form_factor: &'static str,
    /// Each of [`CATEGORIES`], 0 to 100 (`None`: Lighthouse could not score it).
    pub(super) scores: Vec<Option<f64>>,
    pub(super) cls: Option<f64>,
    /// The audits that did not pass, by id (what to fix).
    pub(super) failed: Vec<String>,
}

/// Every audit of the run: signed out and in, phone and desktop.
pub(super) fn measure(bench: &Bench, email: &str) -> Result<Vec<Audit>, String> {
    let session = sign_in(email)?;
    let mut audits = Vec::new();
    for signed_in in [false, true] {
        for form_factor in ["phone", "desktop"] {
            audits.push(run(
                bench,
                signed_in.then_some(session.as_str()),
                form_factor,
            )?);
            bench.check_stop()?;
        }
    }
    Ok(audits)
}

fn run(bench: &Bench, session: Option<&str>, form_factor: &'static str) -> Result<Audit, String> {
    let signed = if session.is_some() { "in" } else { "out" };
    let out = bench
        .dir
        .join(format!("lighthouse-signed-{signed}-{form_factor}.json"));
    let profile = bench.dir.join("lighthouse-profile");
    let _ = std::fs::remove_dir_all(&profile);
    let mut node = Command::new(bench.tools.node());
    node.arg(crate::root().join("xtask/tools/lighthouse.mjs"))
        .env("MODULES", bench.tools.audit_modules())
        .env("URL", format!("http://127.0.0.1:{APP_PORT}/"))
        .env("OUT", &out)
        .env("CATEGORIES", CATEGORIES.join(","))
        .env("FORM", form_factor)
        .env("CHROME_PATH", &bench.tools.chromium)
        .env("USER_DATA_DIR", &profile);
    if let Some(session) = session {
        node.env("SESSION", session);
    }
    // Its own log: Lighthouse is chatty on stderr even with --quiet.
    let log = bench.stack.log_dir.join("lighthouse.log");
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let status = node
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run Lighthouse: {e}"))?;
    let _ = std::fs::remove_dir_all(&profile);
    if !status.success() {
        return Err(format!(
            "Lighthouse (signed {signed}, {form_factor}) failed: {status}; see {}",
            log.display()
        ));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let lhr: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", out.display()))?;
    // A page that never painted (the app failed to start) has no scores: that is a failure of
    // the run, not a row of dashes.
    if let Some(code) = lhr["runtimeError"]["code"].as_str() {
        return Err(format!(
            "Lighthouse (signed {signed}, {form_factor}): {code}: {}",
            lhr["runtimeError"]["message"].as_str().unwrap_or_default()
        ));
    }
    Ok(audit_of(&lhr, session.is_some(), form_factor))
}

/// The figures of one Lighthouse result (its JSON report).
fn audit_of(lhr: &Value, signed_in: bool, form_factor: &'static str) -> Audit {
    let scores = CATEGORIES
        .iter()
        .map(|c| {
            lhr["categories"][c]["score"]
                .as_f64()
                .map(|s| (s * 100.0).round())
        })
        .collect();
    let mut failed: Vec<String> = lhr["audits"]
        .as_object()
        .map(|audits| {
            audits
                .iter()
                .filter(|(_, a)| {
                    a["score"].as_f64().is_some_and(|s| s < 0.9)
                        && a["scoreDisplayMode"] != "informative"
                        && a["scoreDisplayMode"] != "notApplicable"
                        && a["scoreDisplayMode"] != "manual"
                })
                .map(|(id, _)| id.clone())
                .collect()
        })
        .unwrap_or_default();
    failed.sort();
    Audit {
        signed_in,
        form_factor,
        scores,
        cls: lhr["audits"]["cumulative-layout-shift"]["numericValue"].as_f64(),
        failed,
    }
}

impl Audit {
    pub(super) fn line(&self) -> String {
        let scores: Vec<String> = CATEGORIES
            .iter()
            .zip(&self.scores)
            .map(|(c, s)| match s {
                Some(s) => format!("{c} {s:.0}"),
                None => format!("{c} -"),
            })
            .collect();
        format!(
            "signed {:3} {:7}  {}  CLS {}{}",
            if self.signed_in { "in" } else { "out" },
            self.form_factor,
            scores.join(", "),
            self.cls.map_or("-".to_owned(), |c| format!("{c:.3}")),
            if self.failed.is_empty() {
                String::new()
            } else {
                format!("  (below 90: {})", self.failed.join(", "))
            }
        )
    }

    pub(super) fn json(&self) -> Value {
        let mut scores = serde_json::Map::new();
        for (c, s) in CATEGORIES.iter().zip(&self.scores) {
            scores.insert((*c).to_owned(), json!(s));
        }
        json!({
            "signed_in": self.signed_in,
            "form_factor": self.form_factor,
            "scores": scores,
            "cumulative_layout_shift": self.cls,
            "failed_audits": self.failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lighthouse_report_gives_its_scores_layout_shift_and_failures() {
        let lhr = json!({
            "categories": {"performance": {"score": 0.76}, "accessibility": {"score": 1},
                           "best-practices": {"score": 0.96}, "seo": {"score": null}},
            "audits": {
                "cumulative-layout-shift": {"numericValue": 0.8412, "score": 0.1, "scoreDisplayMode": "numeric"},
                "errors-in-console": {"score": 0, "scoreDisplayMode": "binary"},
                "diagnostics": {"score": null, "scoreDisplayMode": "informative"},
                "meta-description": {"score": 1, "scoreDisplayMode": "binary"}
            }
        });
        let audit = audit_of(&lhr, true, "desktop");
        assert_eq!(audit.scores, [Some(76.0), Some(100.0), Some(96.0), None]);
        assert_eq!(audit.cls, Some(0.8412));
        assert_eq!(
            audit.failed,
            ["cumulative-layout-shift", "errors-in-console"]
        );
        let line = audit.line();
        assert!(line.contains("performance 76, accessibility 100, best-practices 96, seo -"));
        assert!(line.contains("CLS 0.841"));
        assert_eq!(audit.json()["scores"]["performance"], json!(76.0));
    }
}
