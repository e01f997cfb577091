//! Request bodies: read as a counted stream and refused at their cap, never buffered whole.

use super::US_ADMIN;
use crate::support::{self, Env, SERIAL, SESSION_COOKIE};
use zcrm_api::{ApiError, codes};

/// The workerd process that listens on the Worker's port (`wrangler dev` starts it with
/// `--socket-addr=entry=127.0.0.1:<port>`), found in `/proc`.
fn workerd_of(worker_url: &str) -> u32 {
    let port = worker_url.rsplit(':').next().unwrap().trim_end_matches('/');
    let needle = format!("entry=127.0.0.1:{port}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            args.first().is_some_and(|a| a.ends_with(b"/workerd"))
                && args.iter().any(|a| a.ends_with(needle.as_bytes()))
        })
        .unwrap_or_else(|| panic!("no workerd process listens on {needle}"))
}

/// `VmRSS` of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// What a chunked upload came to: bytes sent before the answer's first bytes arrived, the
/// answer, and the bytes sent in all (the sender goes on after the answer, up to the whole
/// body or until the connection is closed).
struct Upload {
    sent_before_answer: usize,
    sent: usize,
    status: u16,
    body: String,
}

/// `POST path` with a chunked body of `total` bytes (no `Content-Length`), `chunk` bytes at a
/// time, waiting after each chunk for an answer: over a raw socket, so that nothing buffers
/// the body on the client side.
fn chunked_post(worker_url: &str, path: &str, cookie: Option<&str>, total: usize) -> Upload {
    use std::io::{Read, Write};
    const CHUNK: usize = 64 * 1024;
    let addr = worker_url
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    socket.set_nodelay(true).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\n\
         content-type: application/json\r\n{}: {}\r\ncf-connecting-ip: {}\r\n",
        zcrm_api::CSRF_HEADER,
        zcrm_api::CSRF_VALUE,
        support::new_client_address()
    );
    if let Some(cookie) = cookie {
        head.push_str(&format!("cookie: {SESSION_COOKIE}={cookie}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).unwrap();
    // JSON's start, then spaces: a body that is only refused for its size.
    let mut data = vec![b' '; CHUNK];
    data[0] = b'{';
    let mut answer = Vec::new();
    let mut sent = 0;
    let mut sent_before_answer = None;
    let mut buf = [0u8; 16 * 1024];
    socket
        .set_read_timeout(Some(std::time::Duration::from_millis(150)))
        .unwrap();
    while sent < total {
        let frame = [format!("{CHUNK:x}\r\n").as_bytes(), &data, b"\r\n"].concat();
        if socket.write_all(&frame).is_err() {
            break; // the Worker closed the connection
        }
        data[0] = b' ';
        sent += CHUNK;
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                sent_before_answer.get_or_insert(sent);
                answer.extend_from_slice(&buf[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    if sent >= total {
        let _ = socket.write_all(b"0\r\n\r\n");
    }
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    loop {
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n")
            && (body.ends_with('}') || body.ends_with("0\r\n\r\n"))
            && head.starts_with("HTTP/1.1")
        {
            break;
        }
        match socket.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                sent_before_answer.get_or_insert(sent);
                answer.extend_from_slice(&buf[..n]);
            }
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("an answer to {path}: {text:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    // A chunked answer: its JSON is the part between the first line and the next `\r\n`.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.split("\r\n").nth(1).unwrap_or_default().to_owned()
    } else {
        body.to_owned()
    };
    Upload {
        sent_before_answer: sent_before_answer.unwrap_or(sent),
        sent,
        status,
        body,
    }
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn a_huge_chunked_body_is_refused_at_its_cap_without_being_buffered() {
    let _turn = SERIAL.lock().await;
    let env = Env::new().await;
    let (session, _) = env.sign_in(US_ADMIN).await;
    let workerd = workerd_of(&env.worker_url);
    const MB: usize = 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    // (route, session, the answer, the cap: what the Worker may read before answering)
    let cases = [
        (
            "/auth/callback",
            None,
            (413, codes::PAYLOAD_TOO_LARGE),
            4 * 1024,
        ),
        (
            "/api/students/bulk",
            Some(session.as_str()),
            (413, codes::PAYLOAD_TOO_LARGE),
            256 * 1024,
        ),
        (
            "/api/crm/Leads",
            Some(session.as_str()),
            (413, codes::PAYLOAD_TOO_LARGE),
            64 * 1024,
        ),
        // No session: refused before a byte of the body is read.
        ("/api/students", None, (401, codes::UNAUTHENTICATED), 0),
    ];
    for (path, cookie, (status, code), cap) in cases {
        let baseline = rss_kib(workerd);
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(baseline));
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let (peak, done) = (peak.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    peak.fetch_max(rss_kib(workerd), std::sync::atomic::Ordering::Relaxed);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            })
        };
        let url = env.worker_url.clone();
        let cookie = cookie.map(str::to_owned);
        let upload = tokio::task::spawn_blocking(move || {
            chunked_post(&url, path, cookie.as_deref(), 20 * MB)
        })
        .await
        .unwrap();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        sampler.join().unwrap();
        let grew_kib = peak
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(baseline);
        eprintln!(
            "20 MB chunked to {path}: {status} after {} KiB sent ({} KiB in all), workerd RSS +{grew_kib} KiB",
            upload.sent_before_answer / 1024,
            upload.sent / 1024
        );
        assert_eq!(upload.status, status, "{path}: {}", upload.body);
        support::assert_no_secrets(&upload.body);
        let e: ApiError = serde_json::from_str(&upload.body)
            .unwrap_or_else(|_| panic!("{path}: a JSON error, got {:?}", upload.body));
        assert_eq!(e.error.code, code, "{path}");
        // The answer came once the cap and the chunk crossing it were sent (one more chunk may
        // have been on its way while the answer travelled back).
        assert!(
            upload.sent_before_answer <= cap + 2 * CHUNK,
            "{path}: answered only after {} KiB",
            upload.sent_before_answer / 1024
        );
        // Whatever was sent after the answer, workerd did not keep it.
        assert!(
            grew_kib < 8 * 1024,
            "{path}: workerd grew by {grew_kib} KiB for a 20 MB body"
        );
    }
    // The session is untouched, and the Worker answers as before.
    let r = env.get_with_session("/api/session", &session).await;
    assert_eq!(r.status(), 200);
}
