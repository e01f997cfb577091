//! The accounts server's parameters, taken as Zoho takes them: from the query string and from an
//! `application/x-www-form-urlencoded` or `multipart/form-data` body, merged (query first).
//!
//! Zoho's OAuth documentation puts the token request's parameters in the query string
//! (<https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html>); its Python SDK
//! (zohocrmsdk8-0, `oauth_token.py`) sends a form body, and its Node.js SDK
//! (`@zohocrm/nodejs-sdk-8.0`, `lib/models/authenticator/oauth_token.js`, through the
//! `form-data` package) a multipart body, for the exchange, the refresh and the revoke alike.

use crate::Req;
use zoho::form;

/// Query and body parameters, merged; the query comes first. A body is read as multipart when
/// its Content-Type says so (with a boundary), else as a form (whatever the Content-Type).
pub(crate) fn merged(req: &Req) -> Vec<(String, String)> {
    let mut p = req.query_pairs();
    if req.body.is_empty() {
        return p;
    }
    match req.header("content-type").and_then(multipart_boundary) {
        Some(boundary) => p.extend(multipart(&req.body, &boundary)),
        None => p.extend(form::parse(&String::from_utf8_lossy(&req.body))),
    }
    p
}

/// The `boundary` of a `multipart/form-data` Content-Type (RFC 7578), unquoted.
fn multipart_boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let mime = parts.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_owned())
        })
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// The text fields of a multipart body: each part's `name` from its Content-Disposition and its
/// content (CRLF before the next delimiter removed). Parts without a name are skipped; a body
/// that does not parse gives the fields read so far.
fn multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let delimiter = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    // Before the first delimiter is a preamble; after `--{boundary}--` an epilogue.
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        let name = head.split("\r\n").find_map(|line| {
            let (k, v) = line.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').find_map(|attr| {
                let (k, v) = attr.split_once('=')?;
                (k.trim() == "name").then(|| v.trim().trim_matches('"').to_owned())
            })
        });
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            out.push((name, content.to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body the Node SDK's `form-data` 3.0.1 writes (its boundary: 26 dashes and 24 digits).
    #[test]
    fn reads_form_data_packages_body() {
        let b = "--------------------------515890814546601021194782";
        let body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n1000.X\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\ns3cr=t&x\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nauthorization_code\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"code\"\r\n\r\n1000.abc\r\n--{b}--\r\n"
        );
        let ct = format!("multipart/form-data; boundary={b}");
        let boundary = multipart_boundary(&ct).unwrap();
        assert_eq!(
            multipart(body.as_bytes(), &boundary),
            [
                ("client_id", "1000.X"),
                ("client_secret", "s3cr=t&x"),
                ("grant_type", "authorization_code"),
                ("code", "1000.abc"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn boundaries() {
        assert_eq!(
            multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(multipart_boundary("multipart/form-data"), None);
        assert_eq!(
            multipart_boundary("application/x-www-form-urlencoded"),
            None
        );
        assert_eq!(multipart_boundary("multipart/form-data; boundary="), None);
    }

    #[test]
    fn broken_multipart_gives_what_parsed() {
        let body =
            "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x\r\nno header end";
        assert_eq!(multipart(body.as_bytes(), "x"), [("a".into(), "1".into())]);
        assert!(multipart(b"no delimiter at all", "x").is_empty());
        let unnamed = "--x\r\nContent-Disposition: form-data\r\n\r\n1\r\n--x--";
        assert!(multipart(unnamed.as_bytes(), "x").is_empty());
    }
}
