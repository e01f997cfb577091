//! Request bodies: read as a stream, counted, and refused at their cap (413) before they are
//! buffered, then checked to be UTF-8 text (as JSON is, RFC 8259 §8.1); JSON problems described
//! without echoing the input.
//!
//! Every JSON the Worker decodes is decoded from text (`serde_json::from_str`), never from bytes:
//! serde_json's parser is generic over its reader, and a second reader would put a second copy
//! of the parser and of every type's decoder in the Wasm.

use worker::js_sys::{Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Request, web_sys};
use zcrm_api::codes;

use crate::glue::reply::Failure;

/// The body as text, refusing more than `limit` bytes (by header first, then by what arrives)
/// and bytes that are not UTF-8.
pub async fn read_body(req: &mut Request, limit: usize) -> Result<String, Failure> {
    let bytes = read_bytes(req, limit).await?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::bad_request("The body must be UTF-8 text (JSON)."))
}

async fn read_bytes(req: &mut Request, limit: usize) -> Result<Vec<u8>, Failure> {
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
    // after it was all buffered. The stream is read through its own reader so that a refusal can
    // await the stream's cancellation before the answer goes out; dropping a Rust stream wrapper
    // would only start it, and a proxy in front (wrangler dev's) could then see the connection
    // reset before the 413.
    let Some(raw) = req.inner().body() else {
        return Ok(Vec::new()); // no body at all
    };
    let unreadable = || Failure::bad_request("The body could not be read.");
    let reader: web_sys::ReadableStreamDefaultReader = raw.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|_| unreadable())?;
        let done = Reflect::get(&step, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(bytes);
        }
        let chunk: Uint8Array = Reflect::get(&step, &JsValue::from_str("value"))
            .ok()
            .and_then(|v| v.dyn_into().ok())
            .ok_or_else(unreadable)?;
        let len = chunk.length() as usize;
        if bytes.len() + len > limit {
            let _ = JsFuture::from(reader.cancel()).await;
            return Err(too_large());
        }
        let start = bytes.len();
        bytes.resize(start + len, 0);
        chunk.copy_to(&mut bytes[start..]);
    }
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
