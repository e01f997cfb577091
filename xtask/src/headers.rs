//! The security headers of the app's static files in production: `dist/_headers`, which
//! Cloudflare's static-assets layer applies to every file it serves.
//!
//! The Content-Security-Policy allows no inline script except the one Trunk writes into
//! index.html to start the Wasm: that script is allowed by its SHA-256 hash, computed here from
//! the built page, so the policy holds without `'unsafe-inline'`.

use std::path::Path;

use sha2::{Digest, Sha256};
use zoho::base64::encode_standard;

/// The `sha256-...` source of every inline `<script>` of `html`.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_and_more = &after[tag_end + 1..];
        let Some(close) = body_and_more.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            let digest = Sha256::digest(&body_and_more.as_bytes()[..close]);
            hashes.push(format!("'sha256-{}'", encode_standard(&digest)));
        }
        rest = &body_and_more[close + "</script>".len()..];
    }
    hashes
}

/// HTTPS only, for a year, on every subdomain (the API's answers say the same: `reply.rs`).
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The `_headers` file for an app whose index.html is `html`. The opener policy cuts the app off
/// from windows of other sites (a page that opened the portal cannot reach it), except the
/// popups the app opens itself: the sign-in's.
pub fn headers_file(html: &str) -> String {
    let scripts = inline_script_hashes(html).join(" ");
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    format!(
        "/*\n  Content-Security-Policy: {csp}\n  X-Content-Type-Options: nosniff\n  \
         Referrer-Policy: no-referrer\n  X-Frame-Options: DENY\n  \
         Permissions-Policy: camera=(), microphone=(), geolocation=()\n  \
         Cross-Origin-Opener-Policy: same-origin-allow-popups\n  \
         Strict-Transport-Security: {HSTS}\n"
    )
}

/// Writes `dist/_headers` for the built app in `dist`.
pub fn write(dist: &Path) -> Result<(), String> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .map_err(|e| format!("cannot read {}: {e}", index.display()))?;
    let path = dist.join("_headers");
    std::fs::write(&path, headers_file(&html))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = "<script type=\"module\">alert(1)</script><script src=\"/a.js\"></script><script>x</script>";
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 2);
        // sha256("alert(1)") in base64, as browsers compute it for CSP.
        assert_eq!(
            hashes[0],
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }

    #[test]
    fn the_policy_has_no_unsafe_inline() {
        let headers = headers_file("<script type=\"module\">init()</script>");
        assert!(headers.starts_with("/*\n  Content-Security-Policy: default-src 'self'"));
        assert!(!headers.contains("unsafe-inline"));
        assert!(headers.contains("frame-ancestors 'none'"));
        assert!(headers.contains("'sha256-"));
        assert!(headers.contains("Referrer-Policy: no-referrer"));
        assert!(headers.contains("\n  Cross-Origin-Opener-Policy: same-origin-allow-popups\n"));
        assert!(
            headers
                .contains("\n  Strict-Transport-Security: max-age=31536000; includeSubDomains\n")
        );
    }
}
