// `cargo xtask bench`'s Lighthouse run (xtask/src/bench/lighthouse.rs): Lighthouse 12 as a
// library on a Chromium of its own, the cookies of a signed-in browser put in that browser's own
// jar first (the session, HttpOnly, and its hint, which the app's script reads), as a signed-in
// coordinator's browser has them. A `Cookie` header would reach the Worker but not the page.
//
// Environment (set by xtask): MODULES (the audit tools' node_modules), URL, OUT (the JSON
// report), CATEGORIES (comma-separated), FORM (phone or desktop), CHROME_PATH, USER_DATA_DIR,
// SESSION (the session cookie's value; absent: signed out).

import { createRequire } from "node:module";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const env = (k) => process.env[k];
const modules = env("MODULES");
const load = async (path) => (await import(pathToFileURL(join(modules, path)).href)).default;
const lighthouse = await load("lighthouse/core/index.js");
const desktop = await load("lighthouse/core/config/desktop-config.js");
const { launch } = await import(pathToFileURL(join(modules, "chrome-launcher/dist/index.js")).href);
const puppeteer = createRequire(join(modules, "lighthouse", "package.json"))("puppeteer-core");

const url = env("URL");
// chrome-launcher writes its logs into the profile folder: it must exist.
mkdirSync(env("USER_DATA_DIR"), { recursive: true });
const session = env("SESSION");
const chrome = await launch({
  chromePath: env("CHROME_PATH"),
  userDataDir: env("USER_DATA_DIR"),
  chromeFlags: [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  if (session) {
    const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}` });
    const page = await browser.newPage();
    await page.setCookie(
      { name: "__Host-zcrm-session", value: session, url, httpOnly: true, secure: true, sameSite: "Lax" },
      { name: "__Host-zcrm-hint", value: "1", url, secure: true, sameSite: "Lax" },
    );
    await page.close();
    await browser.disconnect();
  }
  const flags = {
    port: chrome.port,
    output: "json",
    logLevel: "error",
    onlyCategories: env("CATEGORIES").split(","),
    // Lighthouse clears the origin's cookies before loading unless told not to.
    disableStorageReset: Boolean(session),
  };
  const result = await lighthouse(url, flags, env("FORM") === "desktop" ? desktop : undefined);
  if (!result) throw new Error("Lighthouse gave no result");
  writeFileSync(env("OUT"), result.report);
} finally {
  await chrome.kill();
}
