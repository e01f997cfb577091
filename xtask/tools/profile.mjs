// `cargo xtask bench --profile`: a CPU profile of the Worker under load, through workerd's
// inspector (the Chrome DevTools protocol), summarised as self time per function.
//
// Environment (set by xtask): WORKER (its URL), INSPECTOR (the inspector's host:port), COOKIE
// (a signed-in session's Cookie header), PATHS (request paths, one a line, one profile
// each), N (requests per profile), C (concurrent clients), TOP (functions listed).

const env = (k, d) => process.env[k] ?? d;
const worker = env("WORKER");
const n = Number(env("N", "3000"));
const c = Number(env("C", "4"));
const top = Number(env("TOP", "25"));
const cookie = env("COOKIE");

const targets = await (await fetch(`http://${env("INSPECTOR")}/json`)).json();
const edge = targets.find((t) => t.id === "edge");
if (!edge) throw new Error("workerd's inspector lists no `edge` worker");
const ws = new WebSocket(edge.webSocketDebuggerUrl.replace("localhost", "127.0.0.1"));
await new Promise((ok, fail) => {
  ws.addEventListener("open", ok);
  ws.addEventListener("error", fail);
});
let lastId = 0;
const waiting = new Map();
ws.addEventListener("message", (e) => {
  const m = JSON.parse(e.data);
  if (m.id && waiting.has(m.id)) {
    waiting.get(m.id)(m);
    waiting.delete(m.id);
  }
});
const cdp = (method, params = {}) =>
  new Promise((ok) => {
    const id = ++lastId;
    waiting.set(id, ok);
    ws.send(JSON.stringify({ id, method, params }));
  });

async function drive(path, count) {
  await Promise.all(
    Array.from({ length: c }, async () => {
      for (let i = 0; i < count / c; i++) {
        const r = await fetch(worker + path, { headers: { cookie } });
        await r.text();
        if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status}`);
      }
    }),
  );
}

await cdp("Profiler.enable");
await cdp("Profiler.setSamplingInterval", { interval: 100 });
for (const path of env("PATHS").split("\n")) {
  await drive(path, 300); // warm-up: compiled code, caches filled
  await cdp("Profiler.start");
  const started = performance.now();
  await drive(path, n);
  const took = performance.now() - started;
  const { result } = await cdp("Profiler.stop");
  const profile = result.profile;
  const usPerSample = (profile.endTime - profile.startTime) / profile.samples.length;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let busy = 0;
  for (const id of profile.samples) {
    const f = nodes.get(id).callFrame;
    const name = f.functionName || "(anonymous)";
    if (name === "(idle)") continue;
    busy++;
    const file = (f.url || "").split("/").pop().replace(/-[0-9a-f]{8,}$/, "");
    const key = file ? `${name}  [${file}]` : name;
    self.set(key, (self.get(key) || 0) + 1);
  }
  console.log(
    `\n-- GET ${path}: ${n} requests, ${c} at a time, ${(took / 1000).toFixed(1)} s; ` +
      `the Worker's thread busy ${((busy * usPerSample) / n).toFixed(0)} µs a request`,
  );
  console.log("   self time   share  function  [module]");
  for (const [key, samples] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const us = ((samples * usPerSample) / n).toFixed(1).padStart(7);
    const share = ((100 * samples) / busy).toFixed(1).padStart(5);
    console.log(`   ${us} µs  ${share}%  ${key.slice(0, 130)}`);
  }
}
ws.close();
