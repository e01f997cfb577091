// The Worker's transport: one promise per call, for `glue/upstream.rs` and
// `glue/login_object.rs`, and the answer's last step for `glue/reply.rs`. Written here, not in
// Rust, because each `await` in Rust on a promise costs two closures crossing between Wasm and
// JS, and each timer a third: a call to Zoho was four such awaits (the answer, its text and two
// timers), now it is one.

// `fetch(url, init)` without following redirects (`init.redirect` is "manual"), with a connect
// timeout (until the answer's headers) and a read timeout (until the end of its body). Resolves
// to `[0, status, text]` for an answer, `[1]` for a timeout, `[2, status]` for a redirect (its
// body not read); rejects with the runtime's error when the connection fails.
export async function fetchText(url, init, connectMs, readMs) {
  const controller = new AbortController();
  init.signal = controller.signal;
  const started = Date.now();
  let answered = 0; // when the headers came, 0 until then
  let timedOut = false;
  // One timer for both deadlines, armed for the first: most calls end before it fires, and a
  // timer costs more than the clock. When it fires with the headers in, it waits for the rest
  // of the read deadline; a read deadline before the connect one is armed when the headers come.
  const expire = () => {
    const left = answered === 0 ? 0 : answered + readMs - Date.now();
    if (left > 0) {
      timer = setTimeout(expire, left);
    } else {
      timedOut = true;
      controller.abort();
    }
  };
  let timer = setTimeout(expire, connectMs);
  try {
    const response = await fetch(url, init);
    answered = Date.now();
    const status = response.status;
    if (status >= 300 && status < 400) {
      controller.abort();
      return [2, status];
    }
    if (answered + readMs < started + connectMs) {
      clearTimeout(timer);
      timer = setTimeout(expire, readMs);
    }
    const text = await response.text();
    return [0, status, text];
  } catch (error) {
    if (timedOut) {
      return [1];
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

// The text of a Durable Object's answer to `fetch(url, init)` on its stub.
export async function stubText(stub, url, init) {
  const response = await stub.fetch(url, init);
  return response.text();
}

// Every answer of `/api/*` and `/auth/*` leaves through here (`reply::finish`): the headers it
// carries (`common`, pairs built once per isolate by Rust) and its request id are set and the
// `Response` made in one call, not one crossing between Wasm and JS per header.
export function finish(status, headers, body, common, idName, id) {
  for (const [name, value] of common) {
    headers.set(name, value);
  }
  headers.set(idName, id);
  return new Response(body, { status, headers });
}
