// The Worker's main module: worker-build's entry point and classes (`build/index.js`), with the
// grant's Durable Object declared as `extends DurableObject`, which the runtime asks of a class
// before it lets a stub call its methods (RPC). workers-rs 0.8.7's own shim wraps each class in
// a `Proxy` and extends nothing, so its objects can only be `fetch`ed: a `Request` and a
// `Response` built, sent and read on both sides of every call. The Worker calls the grant's
// object on every request (`glue/grant_object.rs`); this class passes its one method, `answer`,
// to the Rust object, which the shim still constructs (with its recovery from a Wasm trap).
import { DurableObject } from "cloudflare:workers";
import { Grant as RustGrant } from "./build/index.js";

export { default, Login } from "./build/index.js";

export class Grant extends DurableObject {
  #rust;

  constructor(ctx, env) {
    super(ctx, env);
    this.#rust = new RustGrant(ctx, env);
  }

  // The answer to a call (JSON text), as JSON text; see `Grant::answer`.
  answer(call, requestId) {
    return this.#rust.answer(call, requestId);
  }
}
