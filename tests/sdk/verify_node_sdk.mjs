#!/usr/bin/env node
// Proves that the installed Zoho Node.js SDK is the one npm publishes, unmodified:
//
//     node verify_node_sdk.mjs SDK_DIR
//
// SDK_DIR is what `cargo xtask tools` installs (xtask/src/tools.rs): package-lock.json,
// node_modules/@zohocrm/nodejs-sdk-8.0 and the package's tarball from `npm pack`. Checks that
// the tarball's SHA-512 is the `integrity` the lock records (the registry's), that the installed
// package.json says the pinned version, and that every file of the tarball is installed byte for
// byte, with no file added. Prints `VERIFIED <package>@<version> <files> files <integrity>`.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const PACKAGE = "@zohocrm/nodejs-sdk-8.0";
const VERSION = "2.0.0";

function fail(message) {
  console.error(`NOT VERIFIED: ${message}`);
  process.exit(1);
}

/** The regular files of a (ustar) tar archive: name → contents. */
function untar(buffer) {
  const files = new Map();
  let offset = 0;
  while (offset + 512 <= buffer.length) {
    const header = buffer.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const text = (start, length) => header.subarray(start, start + length).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(text(124, 12).trim() || "0", 8);
    const type = text(156, 1) || "0";
    const prefix = text(345, 155);
    const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
    const body = buffer.subarray(offset + 512, offset + 512 + size);
    if (type === "0") files.set(name, Buffer.from(body));
    else if (type !== "5" && type !== "g" && type !== "x") fail(`unexpected tar entry type ${type} for ${name}`);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function walk(dir, base = dir, out = []) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, base, out);
    else out.push(path.relative(base, full).split(path.sep).join("/"));
  }
  return out;
}

const sdkDir = process.argv[2];
if (!sdkDir) fail("usage: verify_node_sdk.mjs SDK_DIR");
const lock = JSON.parse(fs.readFileSync(path.join(sdkDir, "package-lock.json"), "utf8"));
const locked = lock.packages?.[`node_modules/${PACKAGE}`];
if (!locked || locked.version !== VERSION) fail(`the lock does not pin ${PACKAGE}@${VERSION}: ${JSON.stringify(locked)}`);
const tarball = path.join(sdkDir, `zohocrm-nodejs-sdk-8.0-${VERSION}.tgz`);
const packed = fs.readFileSync(tarball);
const integrity = `sha512-${crypto.createHash("sha512").update(packed).digest("base64")}`;
if (integrity !== locked.integrity) fail(`${tarball} has ${integrity}, the lock records ${locked.integrity}`);

const published = untar(zlib.gunzipSync(packed));
const installedDir = path.join(sdkDir, "node_modules", PACKAGE);
const manifest = JSON.parse(fs.readFileSync(path.join(installedDir, "package.json"), "utf8"));
if (manifest.name !== PACKAGE || manifest.version !== VERSION) fail(`installed ${manifest.name}@${manifest.version}`);
const installed = new Set(walk(installedDir));
let compared = 0;
for (const [name, contents] of published) {
  const relative = name.replace(/^package\//, "");
  if (!installed.has(relative)) fail(`${relative} of the published package is not installed`);
  const actual = fs.readFileSync(path.join(installedDir, relative));
  if (!actual.equals(contents)) fail(`${relative} differs from the published package`);
  installed.delete(relative);
  compared += 1;
}
if (installed.size) fail(`installed files that the package does not publish: ${[...installed].slice(0, 5).join(", ")}`);
console.log(`VERIFIED ${PACKAGE}@${VERSION} ${compared} files ${integrity}`);
