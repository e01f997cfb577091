#!/usr/bin/env python3
"""Zoho's official Python SDK (zohocrmsdk8-0, pinned in requirements.txt) against zoho-sim.

    official_sdk.py SIM_URL                  every case below, each in a process of its own
    official_sdk.py SIM_URL --case NAME      one case
    official_sdk.py --verify REQUIREMENTS    the installed SDK and its dependencies are the
                                             pinned versions, every file as the wheel has it

A case signs one seeded user in the way the SDK's documentation shows (a Self Client grant code,
minted by the simulator's `POST /__sim/grant`), with the SDK's environment pointed at the
simulator's accounts server and API domain, a FileStore token store and a resource path in a
temporary directory. Then it uses the SDK as an application would: users, org, list, create, read,
update, search, delete, a duplicate, a picklist check, and the token refresh after an hour.
Every answer is checked; the first mismatch exits with status 1. Success prints one
`ok CASE CHECK` line per check and `SDK COMPAT OK CASE` per case.

The SDK must never reach Zoho: every request is refused unless it goes to SIM_URL.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time as real_time
import types
import urllib.request
import uuid

CLIENT_ID = "1000.ZCRMEDGEDEV"
CLIENT_SECRET = "zcrm-edge-dev-secret"
SCOPES = "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ"
LEAD_FIELDS = "First_Name,Last_Name,Email,Phone,Company,Course"

# name: (user, environment, the SDK's auto_refresh_fields)
CASES = {
    "us": ("admin@zylker-academy.example", "production", True),
    "eu": ("admin@eurotech-institute.example", "production", False),
    "us-sandbox": ("admin@zylker-academy.example", "sandbox", False),
    "in": ("admin@bharat-learning.example", "production", True),
}


class Failure(Exception):
    pass


def check(case, name, condition, detail=""):
    if not condition:
        raise Failure(f"{case}: {name} failed {detail}")
    print(f"ok {case} {name}", flush=True)


def sim_call(sim, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(sim + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def guard_network(sim):
    """Refuses any connection the SDK tries to open anywhere but the simulator."""
    import socket

    from urllib.parse import urlparse

    escapes = []
    allowed = urlparse(sim)
    allowed = (allowed.hostname, allowed.port)
    original = socket.create_connection
    original_getaddrinfo = socket.getaddrinfo

    def create_connection(address, *args, **kwargs):
        if (address[0], address[1]) != allowed:
            escapes.append(address)
            raise Failure(f"the SDK tried to connect to {address}, not to the simulator")
        return original(address, *args, **kwargs)

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", "::1", allowed[0]):
            escapes.append(host)
            raise Failure(f"the SDK tried to resolve {host}")
        return original_getaddrinfo(host, port, *args, **kwargs)

    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo
    return escapes


class Clock:
    """The SDK's own clock, which only the script moves (the simulator's moves with /__sim/clock)."""

    def __init__(self):
        self.offset = 0.0

    def time(self):
        return real_time.time() + self.offset

    def install(self):
        from zohocrmsdk.src.com.zoho.api.authenticator import oauth_token
        from zohocrmsdk.src.com.zoho.crm.api.util import utility

        for module in (oauth_token, utility):
            shim = types.SimpleNamespace(**{k: getattr(real_time, k) for k in dir(real_time) if not k.startswith("_")})
            shim.time = self.time
            module.time = shim


def user_stats(sim, email):
    return sim_call(sim, "GET", "/__sim/stats")["users"][email]


def run_case(sim, case, work):
    email, environment, auto_refresh = CASES[case]
    escapes = guard_network(sim)
    clock = Clock()

    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
    from zohocrmsdk.src.com.zoho.api.logger import Logger
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
    from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.modules import ModulesOperations
    from zohocrmsdk.src.com.zoho.crm.api.org import OrgOperations
    from zohocrmsdk.src.com.zoho.crm.api.org import ResponseWrapper as OrgWrapper
    from zohocrmsdk.src.com.zoho.crm.api.record import (
        ActionWrapper,
        APIException,
        BodyWrapper,
        DeleteRecordParam,
        GetRecordParam,
        GetRecordsParam,
        Record,
        RecordOperations,
        ResponseWrapper,
        SearchRecordsParam,
        SuccessResponse,
    )
    from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig
    from zohocrmsdk.src.com.zoho.crm.api.users import GetUsersParam, UsersOperations
    from zohocrmsdk.src.com.zoho.crm.api.users import ResponseWrapper as UsersWrapper
    from zohocrmsdk.src.com.zoho.crm.api.util import Choice

    clock.install()

    me = next(u for u in sim_call(sim, "GET", "/__sim/users")["users"] if u["email"] == email)
    api_domain = me["api_domains"][environment]
    zgid = me["orgs"][environment]["zgid"]
    grant = sim_call(
        sim,
        "POST",
        "/__sim/grant",
        {"client_id": CLIENT_ID, "email": email, "scope": SCOPES, "environment": environment, "access_type": "offline"},
    )
    check(case, "grant", grant["location"] == me["location"] and grant["code"].startswith("1000."), grant)
    before = user_stats(sim, email)

    tokens_csv = os.path.join(work, "tokens.csv")
    # What the SDK's DataCenter classes hold for Zoho: the API domain, the token URL, the upload URL.
    env = DataCenter.Environment(api_domain, grant["accounts_server"] + "/oauth/v2/token", api_domain)
    token = OAuthToken(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, grant_token=grant["code"])
    Initializer.initialize(
        environment=env,
        token=token,
        store=FileStore(file_path=tokens_csv),
        sdk_config=SDKConfig(auto_refresh_fields=auto_refresh, pick_list_validation=True),
        resource_path=work,
        logger=Logger.get_instance(level=Logger.Levels.INFO, file_path=os.path.join(work, "sdk.log")),
    )

    # The SDK exchanged the code and keyed the token by `users[0].email:org[0].zgid`.
    with open(tokens_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    check(case, "token-store", len(rows) == 1, rows)
    row = rows[0]
    check(case, "token-user", row["user_name"] == f"{email}:{zgid}", row["user_name"])
    check(case, "token-refresh-token", row["refresh_token"].startswith("1000."), row)
    check(case, "token-api-domain", row["api_domain"] == api_domain, row["api_domain"])
    after = user_stats(sim, email)
    check(case, "code-exchange", after["code_grants"] == before["code_grants"] + 1, after)

    # users?type=CurrentUser
    params = ParameterMap()
    params.add(GetUsersParam.type, "CurrentUser")
    answer = UsersOperations().get_users(params)
    check(case, "users-status", answer.get_status_code() == 200, answer.get_status_code())
    users = answer.get_object()
    check(case, "users-type", isinstance(users, UsersWrapper), users)
    check(case, "current-user", users.get_users()[0].get_email() == email)

    # org
    answer = OrgOperations().get_organization()
    org = answer.get_object()
    check(case, "org-type", isinstance(org, OrgWrapper), org)
    org = org.get_org()[0]
    check(case, "org-zgid", org.get_zgid() == zgid, org.get_zgid())
    check(case, "org-name", org.get_company_name() == me["org"]["company_name"], org.get_company_name())

    # settings/modules, as the SDK reads it
    answer = ModulesOperations().get_modules(ParameterMap(), HeaderMap())
    check(case, "modules-status", answer.get_status_code() == 200, answer.get_status_code())
    modules = {m.get_api_name(): m for m in answer.get_object().get_modules()}
    check(case, "modules-leads", "Leads" in modules and modules["Leads"].get_api_supported() is True, list(modules))
    check(case, "modules-generated-type", modules["Leads"].get_generated_type().get_value() == "default")
    check(case, "modules-status-visible", modules["Leads"].get_status() == "visible")

    leads = RecordOperations("Leads")

    # list, with booleans as the SDK sends them (`False`)
    params = ParameterMap()
    params.add(GetRecordsParam.fields, LEAD_FIELDS)
    params.add(GetRecordsParam.page, 1)
    params.add(GetRecordsParam.per_page, 3)
    params.add(GetRecordsParam.sort_by, "id")
    params.add(GetRecordsParam.sort_order, "asc")
    params.add(GetRecordsParam.converted, "false")
    params.add(GetRecordsParam.approved, "true")
    answer = leads.get_records(params, HeaderMap())
    check(case, "list-status", answer.get_status_code() == 200, answer.get_status_code())
    page = answer.get_object()
    check(case, "list-type", isinstance(page, ResponseWrapper), vars(page))
    records = page.get_data()
    check(case, "list-count", len(records) == 3, len(records))
    ids = [r.get_id() for r in records]
    check(case, "list-sorted", ids == sorted(ids), ids)
    check(case, "list-fields", all(r.get_key_value("Last_Name") for r in records))
    info = page.get_info()
    check(case, "list-info", info.get_more_records() is True and info.get_per_page() == 3, vars(info))

    # create
    tag = uuid.uuid4().hex[:10]
    address = f"sdk.{tag}@students.example"
    lead = Record()
    lead.add_key_value("First_Name", "Sdk")
    lead.add_key_value("Last_Name", f"Compat{tag}")
    lead.add_key_value("Email", address)
    lead.add_key_value("Phone", "+1 555 0100")
    lead.add_key_value("Company", "Official SDK College")
    lead.add_key_value("Course", Choice("Data Science"))
    body = BodyWrapper()
    body.set_data([lead])
    body.set_trigger([])
    answer = leads.create_records(body)
    check(case, "create-status", answer.get_status_code() == 201, answer.get_status_code())
    result = answer.get_object()
    check(case, "create-type", isinstance(result, ActionWrapper), vars(result))
    created = result.get_data()[0]
    check(case, "create-success", isinstance(created, SuccessResponse), vars(created))
    check(case, "create-code", created.get_code().get_value() == "SUCCESS", created.get_code().get_value())
    new_id = created.get_details()["id"]
    check(case, "create-id", isinstance(new_id, str) and new_id.isdigit(), new_id)
    new_id = int(new_id)

    # read it back
    params = ParameterMap()
    params.add(GetRecordParam.fields, LEAD_FIELDS)
    answer = leads.get_record(new_id, params, HeaderMap())
    check(case, "get-status", answer.get_status_code() == 200, answer.get_status_code())
    got = answer.get_object().get_data()[0]
    check(case, "get-id", got.get_id() == new_id, got.get_id())
    check(case, "get-email", got.get_key_value("Email") == address, got.get_key_value("Email"))
    course = got.get_key_value("Course")
    check(case, "get-picklist", isinstance(course, Choice) and course.get_value() == "Data Science", course)

    # a list of just these ids
    params = ParameterMap()
    params.add(GetRecordsParam.fields, LEAD_FIELDS)
    params.add(GetRecordsParam.ids, f"{new_id},{ids[0]}")
    answer = leads.get_records(params, HeaderMap())
    check(case, "list-ids-status", answer.get_status_code() == 200, answer.get_status_code())
    got_ids = sorted(r.get_id() for r in answer.get_object().get_data())
    check(case, "list-ids", got_ids == sorted([new_id, ids[0]]), got_ids)

    # update it
    change = Record()
    change.add_key_value("Course", Choice("Cloud Computing"))
    change.add_key_value("Phone", "+1 555 0199")
    body = BodyWrapper()
    body.set_data([change])
    answer = leads.update_record(new_id, body, HeaderMap())
    check(case, "update-status", answer.get_status_code() == 200, answer.get_status_code())
    updated = answer.get_object().get_data()[0]
    check(case, "update-success", isinstance(updated, SuccessResponse), vars(updated))
    check(case, "update-message", updated.get_message().get_value() == "record updated")
    answer = leads.get_record(new_id, params, HeaderMap())
    got = answer.get_object().get_data()[0]
    check(case, "update-read", got.get_key_value("Course").get_value() == "Cloud Computing")
    check(case, "update-phone", got.get_key_value("Phone") == "+1 555 0199", got.get_key_value("Phone"))

    # search by criteria and by email
    params = ParameterMap()
    params.add(SearchRecordsParam.criteria, f"((Last_Name:equals:Compat{tag})and(Email:starts_with:sdk.))")
    params.add(SearchRecordsParam.fields, LEAD_FIELDS)
    params.add(SearchRecordsParam.converted, "both")
    answer = leads.search_records(params, HeaderMap())
    check(case, "search-status", answer.get_status_code() == 200, answer.get_status_code())
    found = answer.get_object().get_data()
    check(case, "search-criteria", [r.get_id() for r in found] == [new_id], [r.get_id() for r in found])
    params = ParameterMap()
    params.add(SearchRecordsParam.email, address.upper())
    answer = leads.search_records(params, HeaderMap())
    check(case, "search-email", [r.get_id() for r in answer.get_object().get_data()] == [new_id])

    # a second lead with the same e-mail: DUPLICATE_DATA, per record, with HTTP 400
    twin = Record()
    twin.add_key_value("Last_Name", "Twin")
    twin.add_key_value("Email", address)
    body = BodyWrapper()
    body.set_data([twin])
    answer = leads.create_records(body)
    check(case, "duplicate-status", answer.get_status_code() == 400, answer.get_status_code())
    dup = answer.get_object().get_data()[0]
    check(case, "duplicate-type", isinstance(dup, APIException), vars(dup))
    check(case, "duplicate-code", dup.get_code().get_value() == "DUPLICATE_DATA", dup.get_code().get_value())
    check(case, "duplicate-record", int(dup.get_details()["duplicate_record"].get_id()) == new_id, dup.get_details())

    # the SDK validates picklists with the field metadata it read from settings/fields
    bad = Record()
    bad.add_key_value("Last_Name", "Picky")
    bad.add_key_value("Course", Choice("Underwater Basket Weaving"))
    body = BodyWrapper()
    body.set_data([bad])
    calls_before = user_stats(sim, email)["crm_requests"]
    try:
        leads.create_records(body)
        rejected = None
    except SDKException as e:
        rejected = e
    check(case, "picklist-validation", rejected is not None and "Course" in str(rejected), rejected)
    check(case, "picklist-no-call", user_stats(sim, email)["crm_requests"] == calls_before)

    # delete
    params = ParameterMap()
    params.add(DeleteRecordParam.wf_trigger, False)
    answer = leads.delete_record(new_id, params, HeaderMap())
    check(case, "delete-status", answer.get_status_code() == 200, answer.get_status_code())
    deleted = answer.get_object().get_data()[0]
    check(case, "delete-success", isinstance(deleted, SuccessResponse), vars(deleted))
    check(case, "delete-message", deleted.get_message().get_value() == "record deleted")
    answer = leads.get_record(new_id, ParameterMap(), HeaderMap())
    check(case, "deleted-gone", answer.get_status_code() == 204 and answer.get_object() is None)

    # The metadata the SDK fetched on its own.
    log = sim_call(sim, "GET", "/__sim/requests")["requests"]
    mine = [r for r in log if r["path"].startswith("/" + me["location"] + "/" + environment + "/")]
    fields_calls = [r for r in mine if r["path"].endswith("/crm/v8/settings/fields")]
    check(case, "fields-metadata", any("module=Leads" in (r["query"] or "") and r["status"] == 200 for r in fields_calls), fields_calls)
    if auto_refresh:
        modules_calls = [r for r in mine if r["path"].endswith("/crm/v8/settings/modules")]
        check(case, "modules-metadata", any(r["status"] == 200 for r in modules_calls), modules_calls)
    check(case, "no-failed-call", all(r["status"] < 500 for r in mine), [r for r in mine if r["status"] >= 500])

    # An hour later (simulator time) the access token is dead; the SDK, whose own clock has not
    # moved, still sends it and does not refresh on the 401 (a habit of the SDK).
    refreshes = user_stats(sim, email)["refreshes"]
    sim_call(sim, "POST", "/__sim/clock", {"advance_secs": 3601})
    answer = OrgOperations().get_organization()
    check(case, "expired-status", answer.get_status_code() == 401, answer.get_status_code())
    check(case, "expired-code", answer.get_object().get_code().get_value() == "INVALID_TOKEN")
    check(case, "no-refresh-on-401", user_stats(sim, email)["refreshes"] == refreshes)

    # Once its own clock says the token expired, it refreshes before the call.
    clock.offset += 3601
    answer = OrgOperations().get_organization()
    check(case, "refreshed-call", answer.get_status_code() == 200, answer.get_status_code())
    check(case, "refreshed-org", answer.get_object().get_org()[0].get_zgid() == zgid)
    check(case, "refresh-counted", user_stats(sim, email)["refreshes"] == refreshes + 1)
    with open(tokens_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    check(case, "refresh-stored", len(rows) == 1 and rows[0]["access_token"] != row["access_token"], rows)
    check(case, "refresh-kept", rows[0]["refresh_token"] == row["refresh_token"])

    # A record call after the refresh (with auto_refresh_fields, also the hourly metadata refresh).
    params = ParameterMap()
    params.add(GetRecordsParam.fields, LEAD_FIELDS)
    params.add(GetRecordsParam.per_page, 2)
    answer = leads.get_records(params, HeaderMap())
    check(case, "list-after-refresh", answer.get_status_code() == 200 and len(answer.get_object().get_data()) == 2)
    check(case, "one-refresh", user_stats(sim, email)["refreshes"] == refreshes + 1)
    if auto_refresh:
        # The SDK's hourly metadata refresh asks with If-Modified-Since; nothing changed: 304.
        log = sim_call(sim, "GET", "/__sim/requests")["requests"]
        modules_calls = [r for r in log if r["path"] == f"/{me['location']}/{environment}/crm/v8/settings/modules"]
        check(case, "modules-not-modified", any(r["status"] == 304 for r in modules_calls), modules_calls)
    check(case, "never-left-the-simulator", not escapes, escapes)
    print(f"SDK COMPAT OK {case}", flush=True)


def verify(requirements):
    """Each pin of `requirements` is installed at its version, and every file of each
    distribution has the SHA-256 its RECORD (written from the wheel pip checked against the pinned
    hash) lists. Prints `VERIFIED <name>==<version> <files> files` per distribution."""
    import base64
    import hashlib
    from importlib import metadata

    pins = {}
    with open(requirements) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                name, _, rest = line.partition("==")
                pins[name.strip()] = rest.split()[0]
    for name, version in pins.items():
        dist = metadata.distribution(name)
        if dist.version != version:
            raise SystemExit(f"NOT VERIFIED: {name} is {dist.version}, pinned {version}")
        checked = 0
        for entry in dist.files or []:
            if not entry.hash or entry.hash.mode != "sha256":
                continue  # RECORD itself, and files pip wrote (INSTALLER, __pycache__)
            with open(entry.locate(), "rb") as f:
                digest = base64.urlsafe_b64encode(hashlib.sha256(f.read()).digest()).rstrip(b"=").decode()
            if digest != entry.hash.value:
                raise SystemExit(f"NOT VERIFIED: {name}: {entry} differs from the published wheel")
            checked += 1
        if checked == 0:
            raise SystemExit(f"NOT VERIFIED: {name} lists no hashed files")
        print(f"VERIFIED {name}=={version} {checked} files")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        verify(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sim", help="the simulator's base URL, e.g. http://127.0.0.1:8790")
    parser.add_argument("--case", choices=sorted(CASES), help="run one case (default: all, one process each)")
    args = parser.parse_args()
    sim = args.sim.rstrip("/")
    if args.case:
        with tempfile.TemporaryDirectory(prefix=f"zcrm-sdk-{args.case}-") as work:
            try:
                run_case(sim, args.case, work)
            except BaseException as e:
                log = os.path.join(work, "sdk.log")
                if os.path.exists(log):
                    with open(log) as f:
                        sys.stderr.write("".join(f.readlines()[-30:]))
                if not isinstance(e, Failure):
                    raise
                print(f"FAILED {e}", file=sys.stderr, flush=True)
                sys.exit(1)
        return
    failed = []
    for case in CASES:
        if subprocess.run([sys.executable, __file__, sim, "--case", case]).returncode != 0:
            failed.append(case)
    if failed:
        print(f"FAILED cases: {' '.join(failed)}", file=sys.stderr)
        sys.exit(1)
    print(f"SDK COMPAT OK all {len(CASES)} cases")


if __name__ == "__main__":
    main()
