//! `application/x-www-form-urlencoded`: query strings and form bodies.

/// Percent-encodes `s` for a query component (space as `%20`; unreserved characters kept).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[(b >> 4) as usize]));
            out.push(char::from(b"0123456789ABCDEF"[(b & 15) as usize]));
        }
    }
    out
}

/// Decodes a form component: `+` is a space, `%XX` a byte; bad escapes are kept literally and
/// invalid UTF-8 is replaced.
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses `a=1&b=2` (a leading `?` is skipped; empty pairs ignored; a key without `=` has an empty
/// value). Order and repeats are kept.
pub fn parse(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode_component(k), decode_component(v)),
            None => (decode_component(pair), String::new()),
        })
        .collect()
}

/// The decoded query of a URL's text: what follows the first `?`, up to a `#`.
pub fn query_of_url(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    parse(query.split_once('#').map_or(query, |(q, _)| q))
}

/// Builds `a=1&b=2` from pairs, encoding each component.
pub fn build<'a, I, K, V>(pairs: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str> + 'a,
    V: AsRef<str> + 'a,
{
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_component(k.as_ref()));
        out.push('=');
        out.push_str(&encode_component(v.as_ref()));
    }
    out
}

/// Parses a boolean as Zoho's clients send it in query strings: `true`, `True`, `false`, `False`
/// (and `TRUE`/`FALSE`).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_of_a_url() {
        assert_eq!(query_of_url("https://x.example/api/students"), vec![]);
        assert_eq!(query_of_url("https://x.example/a?"), vec![]);
        assert_eq!(
            query_of_url("https://x.example/a?q=Ana+Mar%C3%ADa&page=2&flag#frag"),
            vec![
                ("q".to_owned(), "Ana María".to_owned()),
                ("page".to_owned(), "2".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        // Only the first `?` starts the query; a second one is part of a value.
        assert_eq!(
            query_of_url("https://x.example/a?next=/b?c"),
            vec![("next".to_owned(), "/b?c".to_owned())]
        );
        // Malformed escapes are kept, invalid UTF-8 replaced: nothing is refused or panics.
        assert_eq!(
            query_of_url("https://x.example/a?k=%zz%&v=%FF"),
            vec![
                ("k".to_owned(), "%zz%".to_owned()),
                ("v".to_owned(), "\u{FFFD}".to_owned()),
            ]
        );
    }

    #[test]
    fn round_trip() {
        let pairs = [
            (
                "redirect_uri",
                "http://127.0.0.1:8080/redirect.html?x=1&y=2",
            ),
            ("scope", "A.b,C.d e"),
            ("ü", "%"),
        ];
        let q = build(pairs);
        assert_eq!(
            q,
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fredirect.html%3Fx%3D1%26y%3D2&scope=A.b%2CC.d%20e&%C3%BC=%25"
        );
        let back = parse(&q);
        assert_eq!(back.len(), 3);
        for ((k, v), (bk, bv)) in pairs.iter().zip(&back) {
            assert_eq!((*k, *v), (bk.as_str(), bv.as_str()));
        }
    }

    #[test]
    fn decode_edge_cases() {
        assert_eq!(decode_component("a+b%20c"), "a b c");
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%4"), "%4");
        assert_eq!(decode_component("%zz"), "%zz");
        assert_eq!(decode_component("%41"), "A");
        assert_eq!(
            parse("?a&b=&=c"),
            vec![
                ("a".into(), "".into()),
                ("b".into(), "".into()),
                ("".into(), "c".into())
            ]
        );
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
