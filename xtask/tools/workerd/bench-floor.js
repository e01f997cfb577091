// The bench's floor (xtask/src/bench/floor.rs): one KV read, one fetch, the body passed on.
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    if (req.method === "PUT" && url.pathname === "/seed") {
      await env.KV.put("floor-session:" + url.searchParams.get("s"), await req.text());
      return new Response("ok");
    }
    const m = /(?:^|; )floor=([A-Za-z0-9_-]+)/.exec(req.headers.get("cookie") || "");
    const session = m && (await env.KV.get("floor-session:" + m[1], "json"));
    if (!session) return new Response("no session", { status: 401 });
    const r = await fetch(session.url, {
      headers: { authorization: "Zoho-oauthtoken " + session.token },
    });
    return new Response(r.body, { status: r.status, headers: { "content-type": "application/json" } });
  },
};
