// KV across locations, for tests and the bench (xtask/src/isolates.rs).
const store = new Map(); // key -> versions, oldest first: { value, exp, meta, view, at } (value null: deleted)
function visible(versions, view, now, staleMs) {
  for (let i = versions.length - 1; i >= 0; i--) {
    const v = versions[i];
    if (v.view === view || now - v.at >= staleMs) return v;
  }
  return undefined;
}
function record(key, version, staleMs) {
  const versions = store.get(key) || [];
  versions.push(version);
  // Keep the newest version every view can see, and everything newer.
  let firstSeenByAll = 0;
  for (let i = versions.length - 1; i >= 0; i--) {
    if (version.at - versions[i].at >= staleMs) { firstSeenByAll = i; break; }
  }
  store.set(key, versions.slice(firstSeenByAll).slice(-64));
}
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const key = decodeURIComponent(url.pathname.slice(1));
    const view = req.headers.get("x-kv-view") || "";
    const staleMs = Number(env.STALE_SECS) * 1000;
    const nowMs = Date.now();
    const now = nowMs / 1000;
    if (key === "") return new Response("not supported by this KV", { status: 501 });
    if (req.method === "GET") {
      const v = visible(store.get(key) || [], view, nowMs, staleMs);
      if (!v || v.value === null || (v.exp !== undefined && v.exp <= now)) {
        return new Response("Not Found", { status: 404 });
      }
      const headers = new Headers();
      if (v.exp !== undefined) headers.set("CF-Expiration", String(Math.floor(v.exp)));
      if (v.meta !== null) headers.set("CF-KV-Metadata", v.meta);
      return new Response(v.value, { headers });
    }
    if (req.method === "PUT") {
      const value = await req.arrayBuffer();
      const ttl = url.searchParams.get("expiration_ttl");
      const at = url.searchParams.get("expiration");
      const exp = ttl !== null ? now + Number(ttl) : at !== null ? Number(at) : undefined;
      record(key, { value, exp, meta: req.headers.get("CF-KV-Metadata"), view, at: nowMs }, staleMs);
      return new Response();
    }
    if (req.method === "DELETE") {
      record(key, { value: null, exp: undefined, meta: null, view, at: nowMs }, staleMs);
      return new Response();
    }
    return new Response("not supported by this KV", { status: 501 });
  },
};
