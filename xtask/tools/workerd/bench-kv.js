// The bench's KV namespace: in memory, for as long as this workerd runs.
const store = new Map();
export default {
  async fetch(req) {
    const url = new URL(req.url);
    const key = decodeURIComponent(url.pathname.slice(1));
    const now = Date.now() / 1000;
    if (req.method === "GET" && key !== "") {
      const e = store.get(key);
      if (!e || (e.exp !== undefined && e.exp <= now)) {
        store.delete(key);
        return new Response("Not Found", { status: 404 });
      }
      const headers = new Headers();
      if (e.exp !== undefined) headers.set("CF-Expiration", String(Math.floor(e.exp)));
      if (e.meta !== null) headers.set("CF-KV-Metadata", e.meta);
      return new Response(e.value, { headers });
    }
    if (req.method === "PUT" && key !== "") {
      const value = await req.arrayBuffer();
      const ttl = url.searchParams.get("expiration_ttl");
      const at = url.searchParams.get("expiration");
      const exp = ttl !== null ? now + Number(ttl) : at !== null ? Number(at) : undefined;
      store.set(key, { value, exp, meta: req.headers.get("CF-KV-Metadata") });
      return new Response();
    }
    if (req.method === "DELETE" && key !== "") {
      store.delete(key);
      return new Response();
    }
    return new Response("not supported by the bench's KV", { status: 501 });
  },
};
