//! HTTP/1.1 on loopback, just enough for xtask: the bench's load generator (kept-alive
//! connections) and the readiness checks of the local stack. No dependency, no TLS.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the cookie `name` set by this answer.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| {
                let (k, value) = v.split(';').next()?.split_once('=')?;
                (k.trim() == name).then(|| value.to_owned())
            })
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| {
            format!(
                "answer {} is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// The bytes of one request.
pub fn request_bytes(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some((content_type, body)) = body {
        out.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if let Some((_, body)) = body {
        bytes.extend_from_slice(body);
    }
    bytes
}

/// A kept-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn open(port: u16) -> std::io::Result<Conn> {
        Conn::open_with(port, Duration::from_secs(60))
    }

    /// A connection whose reads give up after `read_timeout`.
    pub fn open_with(port: u16, read_timeout: Duration) -> std::io::Result<Conn> {
        let stream =
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(read_timeout))?;
        Ok(Conn {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    pub fn send(&mut self, request: &[u8]) -> std::io::Result<Reply> {
        self.stream.write_all(request)?;
        let head_request = request.starts_with(b"HEAD ");
        read_reply(&mut self.stream, &mut self.buf, head_request)
    }
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads one answer from `stream`; bytes read past it stay in `buf`.
fn read_reply(stream: &mut impl Read, buf: &mut Vec<u8>, head: bool) -> std::io::Result<Reply> {
    let mut chunk = [0u8; 16 * 1024];
    let mut fill = |buf: &mut Vec<u8>| -> std::io::Result<()> {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        Ok(())
    };
    let head_end = loop {
        if let Some(at) = find(buf, b"\r\n\r\n") {
            break at;
        }
        fill(buf)?;
    };
    let head_text = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head_text.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    buf.drain(..head_end + 4);
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let body = if head || status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(at) = find(buf, b"\r\n") {
                    break at;
                }
                fill(buf)?;
            };
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| invalid("bad chunk size"))?;
            buf.drain(..line_end + 2);
            if size == 0 {
                // Trailers (none expected), then the final empty line.
                loop {
                    if let Some(at) = find(buf, b"\r\n") {
                        buf.drain(..at + 2);
                        if at == 0 {
                            break;
                        }
                    } else {
                        fill(buf)?;
                    }
                }
                break;
            }
            while buf.len() < size + 2 {
                fill(buf)?;
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
        }
        body
    } else if let Some(length) = get("content-length") {
        let length: usize = length.parse().map_err(|_| invalid("bad content-length"))?;
        while buf.len() < length {
            fill(buf)?;
        }
        buf.drain(..length).collect()
    } else {
        // Until the server closes the connection.
        loop {
            match fill(buf) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(e),
            }
        }
        std::mem::take(buf)
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One request on a fresh connection.
pub fn once(
    method: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &[u8])>,
) -> Result<Reply, String> {
    let request = request_bytes(method, port, path, headers, body);
    Conn::open(port)
        .and_then(|mut c| c.send(&request))
        .map_err(|e| format!("{method} 127.0.0.1:{port}{path}: {e}"))
}

/// `GET path` on a fresh connection that waits at most `read_timeout` for the answer (readiness
/// checks of the local stack).
pub fn get(port: u16, path: &str, read_timeout: Duration) -> Option<Reply> {
    let request = request_bytes("GET", port, path, &[("Connection", "close")], None);
    Conn::open_with(port, read_timeout)
        .and_then(|mut c| c.send(&request))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_with_length_chunks_and_no_body() {
        let mut buf = Vec::new();
        let mut wire: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1; Path=/\r\nset-cookie: __Host-s=xyz; HttpOnly\r\n\r\nhelloHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let r = read_reply(&mut wire, &mut buf, false).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
        assert_eq!(r.set_cookie("__Host-s").as_deref(), Some("xyz"));
        assert_eq!(r.header("content-length"), Some("5"));
        let r = read_reply(&mut wire, &mut buf, false).unwrap();
        assert_eq!((r.status, r.body.len()), (204, 0));
        let r = read_reply(&mut wire, &mut buf, false).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abcde"[..]));
        assert!(buf.is_empty());
        assert!(
            read_reply(&mut wire, &mut buf, false).is_err(),
            "end of stream"
        );
    }
}
