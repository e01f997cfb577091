//! Request bodies: read as a stream, counted, and refused at their cap (413) before they are
//! buffered; JSON problems described without echoing the input.

use futures_util::StreamExt;
use worker::Request;
use zcrm_api::codes;

use crate::glue::reply::Failure;

/// The body, refusing more than `limit` bytes (by header first, then by what arrives).
pub async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::new(
            413,
            codes::PAYLOAD_TOO_LARGE,
            format!("The body can be at most {limit} bytes."),
        )
    };
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    // Read as it comes, counting: a body without a length (chunked) is refused at the cap, not
    // after it was all buffered.
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new()); // no body at all
    };
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Failure::bad_request("The body could not be read."))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// What serde says, without echoing the input back.
pub(crate) fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.split(" at line")
        .next()
        .unwrap_or("invalid JSON")
        .chars()
        .take(120)
        .collect()
}
