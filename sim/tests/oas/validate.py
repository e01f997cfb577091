#!/usr/bin/env python3
"""Validates recorded answers of zoho-sim against Zoho's OpenAPI description of CRM v8.

    validate.py ANSWERS.json

ANSWERS.json: {"answers": [{"name", "file", "method", "path", "status", "content_type", "body"}]}
where `file`/`method`/`path` name the operation in the vendored description (`v8.0/<file>`,
e.g. "record.json", "get", "/crm/v8/{module_api_name}") and `body` is the answer's text.

The description is the one vendored beside this script (`v8.0/`, from GitHub zoho/crm-oas at the
commit in MANIFEST.json, each file's SHA-256 checked first). Its files refer to each other by
their raw.githubusercontent.com URLs; those URLs are served from the vendored copies, nothing is
fetched. Each answer is checked strictly:
- its status is one the operation documents (or the operation's `default`);
- a documented response without `content` means an empty body without a Content-Type;
- otherwise its media type is one of the response's `content` keys, the body is JSON and valid
  against that schema (openapi-schema-validator's OAS 3.0 read validator, with format checks).
The only departures are the entries of exceptions.json, each with its reason and source:
- `patch`: a correction of the description (JSON pointer, then `merge` an object into the schema
  there, `set` it, `add_enum` values, `remove_required` keys, or `one_of_to_any_of`);
- `undocumented_status`: answers of `statuses` the operation does not document are checked
  against the response of status `validate_as` (or `"empty"`: no body, no Content-Type).
Each exception must be needed: with it left out, some answer must fail (checked every run), so
the list cannot go stale.

Prints one line per answer and a JSON summary last; exits 1 if anything failed.
"""

import copy
import hashlib
import json
import os
import sys

from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_DIR = os.path.join(HERE, "v8.0")
# How the description's files name each other.
REF_BASE = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"


def load_manifest():
    with open(os.path.join(HERE, "MANIFEST.json")) as f:
        manifest = json.load(f)
    for name, digest in manifest["files"].items():
        with open(os.path.join(SPEC_DIR, name), "rb") as f:
            actual = hashlib.sha256(f.read()).hexdigest()
        if actual != digest:
            raise SystemExit(f"v8.0/{name}: SHA-256 {actual}, MANIFEST.json records {digest}")
    on_disk = sorted(n for n in os.listdir(SPEC_DIR) if n.endswith(".json"))
    if on_disk != sorted(manifest["files"]):
        raise SystemExit(f"v8.0/ holds {on_disk}, MANIFEST.json lists {sorted(manifest['files'])}")
    return manifest


def load_docs(manifest):
    docs = {}
    for name in manifest["files"]:
        with open(os.path.join(SPEC_DIR, name)) as f:
            docs[name] = json.load(f)
    return docs


def walk(doc, ptr):
    node = doc
    for part in ptr.strip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def apply_patches(docs, exceptions):
    """A copy of the description with the `patch` exceptions applied."""
    docs = copy.deepcopy(docs)
    for e in exceptions:
        if e["kind"] != "patch":
            continue
        for p in e["patches"]:
            node = walk(docs[p.get("file", e["file"])], p["pointer"])
            op, value = p["op"], p.get("value")
            if op == "merge":
                node.update(value)
            elif op == "set":
                parent, _, key = p["pointer"].rpartition("/")
                walk(docs[p.get("file", e["file"])], parent)[key.replace("~1", "/").replace("~0", "~")] = value
            elif op == "add_enum":
                node["enum"] = node["enum"] + [v for v in value if v not in node["enum"]]
            elif op == "remove_required":
                missing = [k for k in value if k not in node["required"]]
                if missing:
                    raise SystemExit(f"exception {e['id']}: {missing} are not required at {p['pointer']}")
                node["required"] = [k for k in node["required"] if k not in value]
            elif op == "one_of_to_any_of":
                node["anyOf"] = node.pop("oneOf")
            else:
                raise SystemExit(f"exception {e['id']}: unknown op {op}")
    return docs


def registry_of(docs):
    return Registry().with_resources(
        (REF_BASE + name, Resource(contents=doc, specification=DRAFT4)) for name, doc in docs.items()
    )


def pointer(*parts):
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(registry, base, ref):
    """A `$ref` inside the description (relative to `base`, the file's URL) → (url, object)."""
    url, _, fragment = ref.partition("#")
    url = url or base
    resolved = registry.resolver(base_uri=url).lookup("#" + fragment)
    return url, resolved.contents


def find_exception(exceptions, answer, kind):
    for e in exceptions:
        if e["kind"] != kind or answer["file"] not in e.get("files", [e.get("file")]):
            continue
        if e.get("method", answer["method"]) != answer["method"]:
            continue
        if e.get("path", answer["path"]) != answer["path"]:
            continue
        if answer["status"] not in e.get("statuses", [answer["status"]]):
            continue
        return e
    return None


def check(answer, docs, registry, exceptions, used):
    """The list of problems with one answer (empty: it conforms)."""
    file, method, path, status = answer["file"], answer["method"], answer["path"], answer["status"]
    doc = docs.get(file)
    if doc is None:
        return [f"no vendored file {file}"]
    operation = doc.get("paths", {}).get(path, {}).get(method)
    if operation is None:
        return [f"{file} has no operation {method.upper()} {path}"]
    base = REF_BASE + file
    responses = operation.get("responses", {})
    key = str(status) if str(status) in responses else ("default" if "default" in responses else None)
    body = answer.get("body") or ""
    content_type = answer.get("content_type")
    media = (content_type or "").split(";")[0].strip().lower()
    if key is None:
        e = find_exception(exceptions, answer, "undocumented_status")
        if e is None:
            return [f"status {status} is not documented (documented: {sorted(responses)})"]
        used.add(e["id"])
        if e["validate_as"] == "empty":
            return expect_empty(body, content_type)
        if e["validate_as"] == "schema":
            # A schema of the description itself (`file#pointer`), for a JSON answer.
            if media != "application/json":
                return [f"Content-Type {content_type!r} is not application/json"]
            ref_file, _, ref_ptr = e["schema"].partition("#")
            return validate(registry, REF_BASE + ref_file + "#" + ref_ptr, body)
        key = str(e["validate_as"])
    response = responses[key]
    # Validate through a $ref into the file, so that the schema's own relative refs resolve there.
    if "$ref" in response:
        ref = response["$ref"]
        response_url, response = resolve(registry, base, ref)
        prefix = response_url + "#" + ref.partition("#")[2]
    else:
        prefix = f"{base}#/" + pointer("paths", path, method, "responses", key)
    content = response.get("content")
    if not content:
        return expect_empty(body, content_type)
    if media not in content:
        return [f"Content-Type {content_type!r} is not one of {sorted(content)}"]
    if content[media].get("schema") is None:
        return []
    return validate(registry, prefix + "/" + pointer("content", media, "schema"), body)


def expect_empty(body, content_type):
    problems = []
    if body.strip():
        problems.append(f"documented without a body, got {body[:120]!r}")
    if content_type:
        problems.append(f"documented without a body, got Content-Type {content_type}")
    return problems


def validate(registry, target, body):
    try:
        instance = json.loads(body)
    except ValueError as err:
        return [f"body is not JSON ({err}): {body[:120]!r}"]
    validator = OAS30ReadValidator({"$ref": target}, registry=registry, format_checker=oas30_format_checker)
    problems = []
    for err in validator.iter_errors(instance):
        problems.extend(describe(err))
    return problems


def describe(err, branch=""):
    """An error as lines; a failed oneOf/anyOf lists the best error of each branch."""
    where = "$" + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in err.absolute_path)
    if not err.context:
        return [f"{branch}{where}: {err.message[:300]}"]
    branches = {}
    for sub in err.context:
        branches.setdefault(sub.schema_path[0] if sub.schema_path else 0, []).append(sub)
    if len(branches) == 1:
        return describe(best_match(next(iter(branches.values()))), branch)
    lines = [f"{branch}{where}: no branch of {err.validator} matched ({err.message[:120]})"]
    for index, subs in sorted(branches.items(), key=lambda kv: str(kv[0])):
        lines.extend(describe(best_match(subs), f"{branch}  [branch {index}] "))
    return lines


def check_all(answers, docs, exceptions):
    """{answer index: problems} for the answers that fail, and the exceptions that were used."""
    patched = apply_patches(docs, exceptions)
    registry = registry_of(patched)
    used = set()
    failures = {}
    for i, answer in enumerate(answers):
        problems = check(answer, patched, registry, exceptions, used)
        if problems:
            failures[i] = problems
    return failures, used


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    manifest = load_manifest()
    docs = load_docs(manifest)
    with open(os.path.join(HERE, "exceptions.json")) as f:
        exceptions = json.load(f)["exceptions"]
    ids = [e["id"] for e in exceptions]
    if len(ids) != len(set(ids)) or not all(e.get("reason") and e.get("source") for e in exceptions):
        raise SystemExit("exceptions.json: every exception needs a unique id, a reason and a source")
    with open(sys.argv[1]) as f:
        answers = json.load(f)["answers"]
    failures, _ = check_all(answers, docs, exceptions)
    operations = set()
    for i, answer in enumerate(answers):
        operations.add((answer["file"], answer["method"], answer["path"]))
        label = f"{answer['name']}: {answer['method'].upper()} {answer['path']} ({answer['file']}) {answer['status']}"
        if i in failures:
            print(f"FAIL {label}")
            for p in failures[i][:15]:
                print(f"    {p}")
            if len(failures[i]) > 15:
                print(f"    ... and {len(failures[i]) - 15} more")
        else:
            print(f"ok {label}")
    # Every exception must be needed: without it, some answer that passes now must fail.
    stale = []
    needed_by = {}
    for e in exceptions:
        others = [x for x in exceptions if x is not e]
        without, _ = check_all(answers, docs, others)
        newly = sorted(set(without) - set(failures))
        needed_by[e["id"]] = len(newly)
        if not newly:
            stale.append(e["id"])
            print(f"FAIL exception {e['id']} is not needed by any answer: remove it")
    summary = {
        "commit": manifest["commit"],
        "operations": len(operations),
        "answers": len(answers),
        "failed": len(failures) + len(stale),
        "exceptions": len(exceptions),
        "answers_needing_each_exception": needed_by,
    }
    print(json.dumps(summary))
    sys.exit(1 if summary["failed"] else 0)


if __name__ == "__main__":
    main()
