//! The browser run: popup Accept to the first student row, in headless Chromium driven over
//! WebDriver (chromedriver) with the same small HTTP client.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// The browser: WebDriver (chromedriver) over the same small HTTP client

/// Marks the moment the first student row enters the page (a `MutationObserver`: the DOM
/// insertion, one frame before it is painted).
pub(super) const OBSERVE_FIRST_ROW: &str = "window.__zcrmFirstRow = null;
const observer = new MutationObserver(() => {
  if (window.__zcrmFirstRow === null && document.querySelector('[data-testid=student-row]')) {
    window.__zcrmFirstRow = performance.timeOrigin + performance.now();
    observer.disconnect();
  }
});
observer.observe(document.documentElement, { childList: true, subtree: true });";

/// The main window's requests to its own origin's `/api/` and `/auth/`: `[path, start, end]`,
/// absolute times in ms.
pub(super) const API_TIMINGS: &str = "return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('/api/') || e.name.includes('/auth/'))
  .map(e => [new URL(e.name).pathname + new URL(e.name).search,
             performance.timeOrigin + e.startTime, performance.timeOrigin + e.responseEnd]);";

/// In the simulator's authorize page: picks the user, notes the time and presses Accept.
pub(super) const APPROVE: &str = "document.querySelector('#sim_user').value = arguments[0];
document.querySelector('#sim_environment').value = 'production';
const t = performance.timeOrigin + performance.now();
document.querySelector('#approve').click();
return t;";

pub(super) fn wd(method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
    let body = body.map(|b| b.to_string());
    let r = once(
        method,
        CHROMEDRIVER_PORT,
        path,
        &[],
        body.as_ref().map(|b| ("application/json", b.as_bytes())),
    )?;
    let v = r.json()?;
    if r.status != 200 {
        return Err(format!(
            "WebDriver {method} {path}: {} {}",
            v["value"]["error"], v["value"]["message"]
        ));
    }
    Ok(v["value"].clone())
}

/// Calls `f` every 20 ms until it gives a value, or fails after `timeout`.
pub(super) fn poll<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: nothing within {} s", timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One sign-in in a fresh headless Chromium: the app loads, "Sign in with Zoho", the popup's
/// Accept, and the time from that click to the first student row in the main window.
pub(super) fn browser_run(
    chromium: &Path,
    email: &str,
    profile: &Path,
) -> Result<BrowserRun, String> {
    let capabilities = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "binary": chromium,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,800", format!("--user-data-dir={}", profile.display()),
        ],
    }}}});
    let session = wd("POST", "/session", Some(capabilities))?["sessionId"]
        .as_str()
        .ok_or("chromedriver gave no session id")?
        .to_owned();
    let s = format!("/session/{session}");
    let run = || -> Result<BrowserRun, String> {
        let exec = |script: &str, args: Value| {
            wd(
                "POST",
                &format!("{s}/execute/sync"),
                Some(json!({"script": script, "args": args})),
            )
        };
        wd(
            "POST",
            &format!("{s}/url"),
            Some(json!({"url": format!("http://127.0.0.1:{APP_PORT}/")})),
        )?;
        let button = poll("the sign-in button", Duration::from_secs(30), || {
            Ok(wd(
                "POST",
                &format!("{s}/element"),
                Some(json!({"using": "css selector", "value": "[data-testid=sign-in]"})),
            )
            .ok()
            .and_then(|e| {
                e.as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            }))
        })?;
        exec(OBSERVE_FIRST_ROW, json!([]))?;
        let main = wd("GET", &format!("{s}/window"), None)?;
        // A real click (WebDriver input), so the popup is not blocked.
        wd(
            "POST",
            &format!("{s}/element/{button}/click"),
            Some(json!({})),
        )?;
        let popup = poll("the sign-in popup", Duration::from_secs(30), || {
            let handles = wd("GET", &format!("{s}/window/handles"), None)?;
            Ok(handles
                .as_array()
                .and_then(|h| h.iter().find(|h| **h != main).cloned()))
        })?;
        wd(
            "POST",
            &format!("{s}/window"),
            Some(json!({"handle": popup})),
        )?;
        poll(
            "the simulator's authorize page",
            Duration::from_secs(30),
            || {
                Ok(
                    exec("return !!document.querySelector('#approve')", json!([]))
                        .ok()
                        .and_then(|v| v.as_bool())
                        .filter(|&ready| ready),
                )
            },
        )?;
        let approved = exec(APPROVE, json!([email]))?
            .as_f64()
            .ok_or("no time from the popup")?;
        wd(
            "POST",
            &format!("{s}/window"),
            Some(json!({"handle": main})),
        )?;
        let shown = poll("the first student row", Duration::from_secs(30), || {
            Ok(exec("return window.__zcrmFirstRow", json!([]))?.as_f64())
        })?;
        let calls = exec(API_TIMINGS, json!([]))?
            .as_array()
            .map(|calls| {
                calls
                    .iter()
                    .filter_map(|c| {
                        let (start, end) = (c[1].as_f64()?, c[2].as_f64()?);
                        (start >= approved).then(|| {
                            (
                                c[0].as_str().unwrap_or_default().to_owned(),
                                start - approved,
                                end - start,
                            )
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(BrowserRun {
            total_ms: (shown - approved).max(0.0),
            calls,
        })
    };
    let result = run();
    let _ = wd("DELETE", &s, None);
    result
}
