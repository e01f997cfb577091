#!/usr/bin/env node
// Zoho's official Node.js SDK (@zohocrm/nodejs-sdk-8.0, pinned in xtask/tools/node-sdk) against
// zoho-sim, the way the SDK's README shows it used.
//
//     node official_sdk.mjs SIM_URL SDK_DIR              every case below, one process each
//     node official_sdk.mjs SIM_URL SDK_DIR --case NAME  one case
//
// SDK_DIR holds node_modules/@zohocrm/nodejs-sdk-8.0 (installed by `cargo xtask tools`). A case
// signs one seeded user in with a Self Client grant code (the simulator's `POST /__sim/grant`),
// with `new Environment(apiDomain, "{accounts}/oauth/v2/token", apiDomain)` pointing the SDK at
// the simulator, a FileStore token store and a resource path in a temporary folder. Then it uses
// the SDK as an application would: users, org, modules, field metadata, list, create, read,
// update, search, a duplicate, delete, and the SDK's own refresh once its clock passes the token's
// expiry. One process per user: in 2.0.0 a second user's grant token in the same process fails
// inside the SDK (`Cannot read properties of undefined (reading 'length')`).
//
// Each check prints `ok CASE NAME`; the first mismatch exits with status 1 (`FAILED CASE: ...` on
// stderr). Every connection or name lookup other than the simulator's is refused.

import { spawnSync } from "node:child_process";
import dns from "node:dns";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { randomUUID } from "node:crypto";

const CLIENT_ID = "1000.ZCRMEDGEDEV";
const CLIENT_SECRET = "zcrm-edge-dev-secret";
const SCOPES = "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ";
const LEAD_FIELDS = "First_Name,Last_Name,Email,Phone,Company,Course";

// name: [user, environment, the SDK's autoRefreshFields]
const CASES = {
  us: ["admin@zylker-academy.example", "production", false],
  eu: ["admin@eurotech-institute.example", "production", true],
};

class Failure extends Error {}

let checks = 0;
function check(kase, name, condition, detail = "") {
  if (!condition) {
    const shown = typeof detail === "string" ? detail : safeJson(detail);
    throw new Failure(`${kase}: ${name} failed ${shown}`);
  }
  checks += 1;
  console.log(`ok ${kase} ${name}`);
}

function safeJson(value) {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));
  } catch {
    return String(value);
  }
}

async function simCall(sim, method, p, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const answer = await realFetch(sim + p, init);
  const text = await answer.text();
  return text ? JSON.parse(text) : null;
}

// The control calls use fetch (undici), the SDK uses got over node:http; the guard below is on
// node:net, which both go through, and it is installed before the SDK is loaded.
const realFetch = globalThis.fetch;

/** Refuses every connection and name lookup but the simulator's. */
function guardNetwork(sim) {
  const allowed = new URL(sim);
  const host = allowed.hostname;
  const port = Number(allowed.port);
  const escapes = [];
  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    const options = typeof args[0] === "object" && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { port: args[0], host: args[1] };
    if (options && options.path === undefined) {
      const to = `${options.host ?? "localhost"}:${options.port}`;
      const loopbackHost = [host, "127.0.0.1", "localhost", "::1"].includes(options.host ?? "localhost");
      if (!loopbackHost || Number(options.port) !== port) {
        escapes.push(to);
        throw new Failure(`the SDK tried to connect to ${to}, not to the simulator`);
      }
    }
    return originalConnect.apply(this, args);
  };
  const originalLookup = dns.lookup;
  dns.lookup = function (name, ...rest) {
    if (![host, "127.0.0.1", "localhost", "::1"].includes(name)) {
      escapes.push(name);
      throw new Failure(`the SDK tried to resolve ${name}`);
    }
    return originalLookup.call(this, name, ...rest);
  };
  return escapes;
}

/**
 * The SDK's own clock: it judges expiry by `new Date().getTime()` against the stored expiry
 * (oauth_token.js), so the whole process's Date is shifted by `offset` ms when the script says.
 */
const clock = { offset: 0 };
{
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + clock.offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + clock.offset;
    }
  }
  globalThis.Date = ShiftedDate;
}

async function userStats(sim, email) {
  return (await simCall(sim, "GET", "/__sim/stats")).users[email];
}

async function runCase(sim, sdkDir, kase, work) {
  const [email, environment, autoRefresh] = CASES[kase];
  const escapes = guardNetwork(sim);
  const sdkEntry = path.join(sdkDir, "node_modules/@zohocrm/nodejs-sdk-8.0/lib/index.js");
  const Z = await import(pathToFileURL(sdkEntry).href);

  const me = (await simCall(sim, "GET", "/__sim/users")).users.find((u) => u.email === email);
  const apiDomain = me.api_domains[environment];
  const zgid = me.orgs[environment].zgid;
  const grant = await simCall(sim, "POST", "/__sim/grant", {
    client_id: CLIENT_ID,
    email,
    scope: SCOPES,
    environment,
    access_type: "offline",
  });
  check(kase, "grant", grant.location === me.location && grant.code.startsWith("1000."), grant);
  const before = await userStats(sim, email);

  // Sign-in: the SDK exchanges the grant code (a multipart body) at the simulator's accounts server.
  const tokensFile = path.join(work, "tokens.txt");
  const environmentObject = new Z.Environment(apiDomain, `${grant.accounts_server}/oauth/v2/token`, apiDomain);
  const token = new Z.OAuthBuilder().clientId(CLIENT_ID).clientSecret(CLIENT_SECRET).grantToken(grant.code).build();
  const logger = new Z.LogBuilder().level(Z.Levels.INFO).filePath(path.join(work, "sdk.log")).build();
  const sdkConfig = new Z.SDKConfigBuilder().autoRefreshFields(autoRefresh).pickListValidation(true).build();
  await (await new Z.InitializeBuilder())
    .environment(environmentObject)
    .token(token)
    .store(new Z.FileStore(tokensFile))
    .SDKConfig(sdkConfig)
    .resourcePath(work)
    .logger(logger)
    .initialize();

  // users?type=CurrentUser: the SDK's first call, which makes it exchange the code.
  let params = new Z.ParameterMap();
  await params.add(Z.Users.GetUsersParam.TYPE, "CurrentUser");
  let answer = await new Z.Users.UsersOperations().getUsers(params);
  check(kase, "users-status", answer.getStatusCode() === 200, answer.getStatusCode());
  const users = answer.getObject();
  check(kase, "users-type", users instanceof Z.Users.ResponseWrapper, users);
  check(kase, "current-user", users.getUsers()[0].getEmail() === email, users.getUsers()[0].getEmail());
  let after = await userStats(sim, email);
  check(kase, "code-exchange", after.code_grants === before.code_grants + 1, after);

  // The token the SDK stored: keyed by users[0].email and org[0].zgid, with the simulator's api_domain.
  const stored = () => fs.readFileSync(tokensFile, "utf8").split("\n").filter((l) => l.trim()).slice(1);
  let rows = stored();
  check(kase, "token-store", rows.length === 1, rows);
  const row = rows[0];
  check(kase, "token-user", row.includes(`${email}:${zgid}`), row);
  check(kase, "token-api-domain", row.includes(apiDomain), row);
  check(kase, "token-tokens", (row.match(/1000\./g) || []).length >= 2, row);

  // org
  answer = await new Z.Org.OrgOperations().getOrganization();
  check(kase, "org-status", answer.getStatusCode() === 200, answer.getStatusCode());
  const org = answer.getObject();
  check(kase, "org-type", org instanceof Z.Org.ResponseWrapper, org);
  check(kase, "org-zgid", String(org.getOrg()[0].getZgid()) === zgid, org.getOrg()[0].getZgid());
  check(kase, "org-name", org.getOrg()[0].getCompanyName() === me.org.company_name, org.getOrg()[0].getCompanyName());

  // settings/modules
  answer = await new Z.Modules.ModulesOperations().getModules(new Z.ParameterMap(), new Z.HeaderMap());
  check(kase, "modules-status", answer.getStatusCode() === 200, answer.getStatusCode());
  const modules = new Map(answer.getObject().getModules().map((m) => [m.getAPIName(), m]));
  check(kase, "modules-leads", modules.has("Leads") && modules.get("Leads").getAPISupported() === true, [...modules.keys()]);
  check(kase, "modules-standard", ["Contacts", "Accounts", "Deals", "Tasks"].every((m) => modules.has(m)), [...modules.keys()]);
  check(kase, "modules-generated-type", modules.get("Leads").getGeneratedType().getValue() === "default");

  // settings/fields?module=Leads, read by the application itself
  params = new Z.ParameterMap();
  await params.add(Z.Fields.GetFieldsParam.MODULE, "Leads");
  answer = await new Z.Fields.FieldsOperations().getFields(params);
  check(kase, "fields-status", answer.getStatusCode() === 200, answer.getStatusCode());
  const fields = new Map(answer.getObject().getFields().map((f) => [f.getAPIName(), f]));
  check(kase, "fields-last-name", fields.get("Last_Name")?.getSystemMandatory() === true, [...fields.keys()]);
  const course = fields.get("Course");
  const courses = course.getPickListValues().map((p) => p.getDisplayValue());
  check(kase, "fields-picklist", courses.includes("Data Science"), courses);
  const coloured = course.getPickListValues().filter((p) => p.getDisplayValue() !== "-None-");
  check(kase, "fields-colour-code", coloured.every((p) => /^#[0-9A-F]{6}$/.test(p.getColourCode())), coloured[0]);

  const leads = new Z.Record.RecordOperations("Leads");

  // list
  params = new Z.ParameterMap();
  await params.add(Z.Record.GetRecordsParam.FIELDS, LEAD_FIELDS);
  await params.add(Z.Record.GetRecordsParam.PAGE, 1);
  await params.add(Z.Record.GetRecordsParam.PER_PAGE, 3);
  await params.add(Z.Record.GetRecordsParam.SORT_BY, "id");
  await params.add(Z.Record.GetRecordsParam.SORT_ORDER, "asc");
  await params.add(Z.Record.GetRecordsParam.CONVERTED, "false");
  answer = await leads.getRecords(params, new Z.HeaderMap());
  check(kase, "list-status", answer.getStatusCode() === 200, answer.getStatusCode());
  const page = answer.getObject();
  check(kase, "list-type", page instanceof Z.Record.ResponseWrapper, page);
  const records = page.getData();
  check(kase, "list-count", records.length === 3, records.length);
  const ids = records.map((r) => BigInt(r.getId()));
  check(kase, "list-sorted", ids.every((id, i) => i === 0 || ids[i - 1] < id), ids);
  check(kase, "list-fields", records.every((r) => r.getKeyValue("Last_Name")), records.map((r) => r.getKeyValues()));
  check(kase, "list-info", page.getInfo().getMoreRecords() === true && page.getInfo().getPerPage() === 3, page.getInfo());

  // create
  const tag = randomUUID().replaceAll("-", "").slice(0, 10);
  const address = `node.${tag}@students.example`;
  const lead = new Z.Record.Record();
  lead.addKeyValue("First_Name", "Node");
  lead.addKeyValue("Last_Name", `Compat${tag}`);
  lead.addKeyValue("Email", address);
  lead.addKeyValue("Phone", "+1 555 0100");
  lead.addKeyValue("Company", "Official SDK College");
  lead.addKeyValue("Course", new Z.Choice("Data Science"));
  let body = new Z.Record.BodyWrapper();
  body.setData([lead]);
  body.setTrigger([]);
  answer = await leads.createRecords(body, new Z.HeaderMap());
  check(kase, "create-status", answer.getStatusCode() === 201, answer.getStatusCode());
  const created = answer.getObject().getData()[0];
  check(kase, "create-success", created instanceof Z.Record.SuccessResponse, created);
  check(kase, "create-code", created.getCode().getValue() === "SUCCESS", created.getCode());
  const newId = created.getDetails().get("id");
  check(kase, "create-id", /^[0-9]+$/.test(String(newId)), newId);
  const id = BigInt(newId);

  // read it back
  params = new Z.ParameterMap();
  await params.add(Z.Record.GetRecordParam.FIELDS, LEAD_FIELDS);
  answer = await leads.getRecord(id, params, new Z.HeaderMap());
  check(kase, "get-status", answer.getStatusCode() === 200, answer.getStatusCode());
  let got = answer.getObject().getData()[0];
  check(kase, "get-id", BigInt(got.getId()) === id, got.getId());
  check(kase, "get-email", got.getKeyValue("Email") === address, got.getKeyValue("Email"));
  const choice = got.getKeyValue("Course");
  check(kase, "get-picklist", choice instanceof Z.Choice && choice.getValue() === "Data Science", choice);

  // update it
  const change = new Z.Record.Record();
  change.addKeyValue("Course", new Z.Choice("Cloud Computing"));
  change.addKeyValue("Phone", "+1 555 0199");
  body = new Z.Record.BodyWrapper();
  body.setData([change]);
  answer = await leads.updateRecord(id, body, new Z.HeaderMap());
  check(kase, "update-status", answer.getStatusCode() === 200, answer.getStatusCode());
  const updated = answer.getObject().getData()[0];
  check(kase, "update-success", updated instanceof Z.Record.SuccessResponse, updated);
  check(kase, "update-message", updated.getMessage().getValue() === "record updated", updated.getMessage());
  answer = await leads.getRecord(id, params, new Z.HeaderMap());
  got = answer.getObject().getData()[0];
  check(kase, "update-read", got.getKeyValue("Course").getValue() === "Cloud Computing", got.getKeyValue("Course"));
  check(kase, "update-phone", got.getKeyValue("Phone") === "+1 555 0199", got.getKeyValue("Phone"));

  // search by criteria, by email, and one that finds nothing (204)
  params = new Z.ParameterMap();
  await params.add(Z.Record.SearchRecordsParam.CRITERIA, `((Last_Name:equals:Compat${tag})and(Email:starts_with:node.))`);
  answer = await leads.searchRecords(params, new Z.HeaderMap());
  check(kase, "search-status", answer.getStatusCode() === 200, answer.getStatusCode());
  let found = answer.getObject().getData().map((r) => BigInt(r.getId()));
  check(kase, "search-criteria", found.length === 1 && found[0] === id, found);
  params = new Z.ParameterMap();
  await params.add(Z.Record.SearchRecordsParam.EMAIL, address.toUpperCase());
  answer = await leads.searchRecords(params, new Z.HeaderMap());
  found = answer.getObject().getData().map((r) => BigInt(r.getId()));
  check(kase, "search-email", found.length === 1 && found[0] === id, found);
  params = new Z.ParameterMap();
  await params.add(Z.Record.SearchRecordsParam.WORD, `nobody${tag}`);
  answer = await leads.searchRecords(params, new Z.HeaderMap());
  check(kase, "search-none", answer.getStatusCode() === 204 && answer.getObject() == null, answer.getStatusCode());

  // a second lead with the same e-mail: DUPLICATE_DATA for the record, HTTP 400
  const twin = new Z.Record.Record();
  twin.addKeyValue("Last_Name", "Twin");
  twin.addKeyValue("Email", address);
  body = new Z.Record.BodyWrapper();
  body.setData([twin]);
  answer = await leads.createRecords(body, new Z.HeaderMap());
  check(kase, "duplicate-status", answer.getStatusCode() === 400, answer.getStatusCode());
  const dup = answer.getObject().getData()[0];
  check(kase, "duplicate-type", dup instanceof Z.Record.APIException, dup);
  check(kase, "duplicate-code", dup.getCode().getValue() === "DUPLICATE_DATA", dup.getCode());
  const dupRecord = dup.getDetails().get("duplicate_record");
  check(kase, "duplicate-record", String(dupRecord?.getId?.() ?? dupRecord?.id) === String(id), safeJson(dup.getDetails()));

  // a missing mandatory field: MANDATORY_NOT_FOUND naming Last_Name
  const nameless = new Z.Record.Record();
  nameless.addKeyValue("First_Name", "Nameless");
  body = new Z.Record.BodyWrapper();
  body.setData([nameless]);
  answer = await leads.createRecords(body, new Z.HeaderMap());
  const mandatory = answer.getObject().getData()[0];
  check(kase, "mandatory-code", answer.getStatusCode() === 400 && mandatory.getCode().getValue() === "MANDATORY_NOT_FOUND", mandatory.getCode());
  check(kase, "mandatory-field", mandatory.getDetails().get("api_name") === "Last_Name", safeJson(mandatory.getDetails()));

  // The SDK validates picklists with the field metadata it read (pickListValidation): no call.
  const picky = new Z.Record.Record();
  picky.addKeyValue("Last_Name", "Picky");
  picky.addKeyValue("Course", new Z.Choice("Underwater Basket Weaving"));
  body = new Z.Record.BodyWrapper();
  body.setData([picky]);
  const callsBefore = (await userStats(sim, email)).crm_requests;
  let rejected = null;
  try {
    await leads.createRecords(body, new Z.HeaderMap());
  } catch (e) {
    rejected = e;
  }
  const refusal = rejected ? JSON.parse(safeJson(rejected)) : {};
  check(
    kase,
    "picklist-validation",
    rejected instanceof Z.SDKException && refusal.code === "UNACCEPTED VALUES ERROR" && refusal.details?.["accepted-values"]?.includes("Data Science"),
    refusal,
  );
  check(kase, "picklist-no-call", (await userStats(sim, email)).crm_requests === callsBefore);

  // delete, then the record is gone (204)
  params = new Z.ParameterMap();
  await params.add(Z.Record.DeleteRecordParam.WF_TRIGGER, false);
  answer = await leads.deleteRecord(id, params, new Z.HeaderMap());
  check(kase, "delete-status", answer.getStatusCode() === 200, answer.getStatusCode());
  const deleted = answer.getObject().getData()[0];
  check(kase, "delete-success", deleted instanceof Z.Record.SuccessResponse, deleted);
  check(kase, "delete-message", deleted.getMessage().getValue() === "record deleted", deleted.getMessage());
  answer = await leads.getRecord(id, new Z.ParameterMap(), new Z.HeaderMap());
  check(kase, "deleted-gone", answer.getStatusCode() === 204 && answer.getObject() == null, answer.getStatusCode());

  // The metadata the SDK fetched on its own (before the record calls) answered 200.
  const log = (await simCall(sim, "GET", "/__sim/requests")).requests;
  const mine = log.filter((r) => r.path.startsWith(`/${me.location}/${environment}/`));
  const fieldsCalls = mine.filter((r) => r.path.endsWith("/crm/v8/settings/fields"));
  check(kase, "fields-metadata", fieldsCalls.some((r) => (r.query || "").includes("module=Leads") && r.status === 200), fieldsCalls);
  if (autoRefresh) {
    // With autoRefreshFields the SDK reads the modules itself, then the fields of each one.
    const fieldsOf = new Set(fieldsCalls.filter((r) => r.status === 200).map((r) => new URLSearchParams(r.query).get("module")));
    check(kase, "modules-metadata", mine.some((r) => r.path.endsWith("/crm/v8/settings/modules") && r.status === 200), mine.map((r) => r.path));
    check(kase, "fields-of-every-module", ["Leads", "Contacts", "Accounts", "Deals"].every((m) => fieldsOf.has(m)), [...fieldsOf]);
  }
  check(kase, "no-failed-call", mine.every((r) => r.status < 500), mine.filter((r) => r.status >= 500));

  // An hour later (simulator time) the access token is dead: the SDK, whose clock has not moved,
  // still sends it and gets 401 INVALID_TOKEN without refreshing.
  const refreshes = (await userStats(sim, email)).refreshes;
  await simCall(sim, "POST", "/__sim/clock", { advance_secs: 3601 });
  answer = await new Z.Org.OrgOperations().getOrganization();
  check(kase, "expired-status", answer.getStatusCode() === 401, answer.getStatusCode());
  check(kase, "expired-code", answer.getObject().getCode().getValue() === "INVALID_TOKEN", answer.getObject().getCode());
  check(kase, "no-refresh-on-401", (await userStats(sim, email)).refreshes === refreshes);

  // Once its own clock passes the expiry, it refreshes (a multipart body) before the call.
  clock.offset += 3601 * 1000;
  answer = await new Z.Org.OrgOperations().getOrganization();
  check(kase, "refreshed-call", answer.getStatusCode() === 200, answer.getStatusCode());
  check(kase, "refreshed-org", String(answer.getObject().getOrg()[0].getZgid()) === zgid);
  check(kase, "refresh-counted", (await userStats(sim, email)).refreshes === refreshes + 1);
  rows = stored();
  check(kase, "refresh-stored", rows.length === 1 && rows[0] !== row, rows);
  const refreshToken = row.split(",").find((cell) => cell.startsWith("1000.") && rows[0].split(",").includes(cell));
  check(kase, "refresh-kept", refreshToken !== undefined, rows);

  // A record call after the refresh, and still one refresh.
  params = new Z.ParameterMap();
  await params.add(Z.Record.GetRecordsParam.FIELDS, LEAD_FIELDS);
  await params.add(Z.Record.GetRecordsParam.PER_PAGE, 2);
  answer = await leads.getRecords(params, new Z.HeaderMap());
  check(kase, "list-after-refresh", answer.getStatusCode() === 200 && answer.getObject().getData().length === 2);
  check(kase, "one-refresh", (await userStats(sim, email)).refreshes === refreshes + 1);
  check(kase, "never-left-the-simulator", escapes.length === 0, escapes);
  console.log(`SDK COMPAT OK ${kase} (${checks} checks)`);
}

async function main() {
  const args = process.argv.slice(2);
  const [sim, sdkDir] = [args[0]?.replace(/\/+$/, ""), args[1]];
  if (!sim || !sdkDir) {
    console.error("usage: official_sdk.mjs SIM_URL SDK_DIR [--case NAME]");
    process.exit(2);
  }
  const caseAt = args.indexOf("--case");
  if (caseAt >= 0) {
    const kase = args[caseAt + 1];
    if (!(kase in CASES)) {
      console.error(`unknown case ${kase}; cases: ${Object.keys(CASES).join(" ")}`);
      process.exit(2);
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `zcrm-node-sdk-${kase}-`));
    try {
      await runCase(sim, sdkDir, kase, work);
    } catch (e) {
      const log = path.join(work, "sdk.log");
      if (fs.existsSync(log)) process.stderr.write(fs.readFileSync(log, "utf8").split("\n").slice(-30).join("\n") + "\n");
      console.error(e instanceof Failure ? `FAILED ${e.message}` : `FAILED ${kase}: ${e?.stack ?? safeJson(e)}`);
      process.exitCode = 1;
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    return;
  }
  const failed = [];
  for (const kase of Object.keys(CASES)) {
    const run = spawnSync(process.execPath, [process.argv[1], sim, sdkDir, "--case", kase], { stdio: "inherit" });
    if (run.status !== 0) failed.push(kase);
  }
  if (failed.length) {
    console.error(`FAILED cases: ${failed.join(" ")}`);
    process.exit(1);
  }
  console.log(`SDK COMPAT OK all ${Object.keys(CASES).length} cases`);
}

await main();
