// One isolate's "location" of the shared KV namespace (xtask/src/isolates.rs).
export default {
  async fetch(req, env) {
    const headers = new Headers(req.headers);
    headers.set("x-kv-view", env.VIEW);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
    return env.STORE.fetch(new Request(req.url, { method: req.method, headers, body }));
  },
};
