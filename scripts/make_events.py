#!/usr/bin/env python3
"""Generate events/*.json: Lambda Function URL request events for `cargo lambda invoke`.

    python3 scripts/make_events.py            # (re)write events/
    python3 scripts/make_events.py --check    # exit 1 when events/ is stale

One event (payload format 2.0, as a Function URL hands it to the function)
per fixture:

* tests/fixtures/harbor/*.json -> events/<name>.json, sent the way Harbor
  sends it: `authorization: Bearer harbor-flashduty-demo`, content type
  application/json (application/cloudevents+json for cloudevents_* files),
  the fixture as compact JSON in the body.
* tests/fixtures/msr3/*.json -> events/<name>.json (prefixed msr3_ when the
  file name is not), sent the way MSR 3 sends it: no authorization header,
  the secret in the query string, `?token=msr3-demo-token`.
* a pair <name>.body.json + <name>.headers.json (CloudEvents binary mode:
  attributes in ce-* headers) -> one event with those headers and that body.

plus two hand-made ones:

* events/empty-body.json: Harbor's "Test Endpoint" button (1.9 to 2.2): POST,
  no body, no authorization.
* events/base64-body.json: default_PUSH_ARTIFACT.json with the body
  base64-encoded (isBase64Encoded: true), as Function URLs may deliver it.

events/ is owned by this script: every events/*.json it does not produce is
deleted on regeneration and reported by --check. Add fixtures, not events.
The output is deterministic (fixed timestamps, ids derived from the file
name), so regenerating without fixture changes gives no diff.

Pick credentials that match: run the function with
HARBOR_AUTH_HEADER='Bearer harbor-flashduty-demo' and URL_TOKEN=msr3-demo-token
(or put those values into a test SSM prefix).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EVENTS = ROOT / "events"

HARBOR_AUTH = "Bearer harbor-flashduty-demo"
MSR3_TOKEN = "msr3-demo-token"

# A made-up but well-formed Function URL: <url-id>.lambda-url.<region>.on.aws
URL_ID = hashlib.sha256(b"harbor-flashduty").hexdigest()[:32]
DOMAIN = f"{URL_ID}.lambda-url.eu-west-1.on.aws"
SOURCE_IP = "203.0.113.10"  # TEST-NET-3, documentation range
USER_AGENT = "Go-http-client/1.1"  # Harbor's jobservice and MSR 3 are Go programs
TIME = "14/Mar/2025:10:35:24 +0000"  # fixed, so that regeneration gives no diff
TIME_EPOCH_MS = 1741948524000
PUSH_FIXTURE = "default_PUSH_ARTIFACT.json"


def stable_uuid(name: str) -> str:
    digest = hashlib.sha256(("harbor-flashduty-event:" + name).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def trace_id(name: str) -> str:
    digest = hashlib.sha256(("harbor-flashduty-trace:" + name).encode()).hexdigest()
    return f"Root=1-{TIME_EPOCH_MS // 1000:08x}-{digest[:24]}"


def compact_body(path: Path) -> str:
    """The fixture as compact JSON; a file that is not JSON is sent verbatim."""
    text = path.read_text(encoding="utf-8")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        print(f"make_events.py: note: {path.relative_to(ROOT)} is not JSON; its body is sent verbatim", file=sys.stderr)
        return text
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def read_headers(path: Path) -> dict[str, str]:
    """A headers fixture: {"name": "value", ...} or [["name", "value"], ...]; names are lower-cased."""
    value = json.loads(path.read_text(encoding="utf-8"))
    pairs = value.items() if isinstance(value, dict) else value
    headers: dict[str, str] = {}
    try:
        for name, val in pairs:
            headers[str(name).lower()] = val if isinstance(val, str) else json.dumps(val)
    except (TypeError, ValueError):
        raise SystemExit(f"make_events.py: {path.relative_to(ROOT)} must be a JSON object of header names to values")
    return headers


def function_url_event(
    name: str,
    body: str | None,
    *,
    content_type: str = "application/json",
    authorization: str | None = None,
    query: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    """A Lambda Function URL request (payload format 2.0, like API Gateway HTTP API v2)."""
    raw = (body or "").encode("utf-8")
    headers: dict[str, str] = {
        "accept-encoding": "gzip",
        "content-length": str(len(raw)),
        "content-type": content_type,
        "host": DOMAIN,
        "user-agent": USER_AGENT,
        "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
        "x-amzn-tls-version": "TLSv1.3",
        "x-amzn-trace-id": trace_id(name),
        "x-forwarded-for": SOURCE_IP,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if authorization is not None:
        headers["authorization"] = authorization
    headers.update(extra_headers or {})
    headers = dict(sorted(headers.items()))

    query = query or {}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "headers": headers,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    event["requestContext"] = {
        "accountId": "anonymous",  # what a Function URL with AuthType NONE reports
        "apiId": URL_ID,
        "domainName": DOMAIN,
        "domainPrefix": URL_ID,
        "http": {
            "method": "POST",
            "path": "/",
            "protocol": "HTTP/1.1",
            "sourceIp": SOURCE_IP,
            "userAgent": USER_AGENT,
        },
        "requestId": stable_uuid(name),
        "routeKey": "$default",
        "stage": "$default",
        "time": TIME,
        "timeEpoch": TIME_EPOCH_MS,
    }
    if body is not None:  # Function URLs leave "body" out when the request has none
        event["body"] = base64.b64encode(raw).decode("ascii") if base64_body else body
    event["isBase64Encoded"] = base64_body
    return event


def fixture_groups(directory: Path) -> list[tuple[str, Path | None, Path | None]]:
    """(name, single_file, headers_file) per event; for pairs single_file is the body file."""
    if not directory.is_dir():
        raise SystemExit(f"make_events.py: {directory.relative_to(ROOT)} does not exist (the fixtures come from tests/fixtures)")
    groups: list[tuple[str, Path | None, Path | None]] = []
    files = sorted(p for p in directory.glob("*.json") if p.is_file())
    names = {p.name for p in files}
    for path in files:
        if path.name.endswith(".headers.json"):
            stem = path.name[: -len(".headers.json")]
            if stem + ".body.json" not in names:
                raise SystemExit(f"make_events.py: {path.relative_to(ROOT)} has no {stem}.body.json beside it")
            continue
        if path.name.endswith(".body.json"):
            stem = path.name[: -len(".body.json")]
            headers = directory / (stem + ".headers.json")
            if stem + ".headers.json" not in names:
                raise SystemExit(f"make_events.py: {path.relative_to(ROOT)} has no {stem}.headers.json beside it")
            groups.append((stem, path, headers))
        else:
            groups.append((path.name[: -len(".json")], path, None))
    return groups


def build_events() -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = {}
    origin: dict[str, Path] = {}

    def put(name: str, event: dict[str, Any], source: Path) -> None:
        if name in events:
            raise SystemExit(f"make_events.py: {source.relative_to(ROOT)} and {origin[name].relative_to(ROOT)} both make events/{name}.json")
        events[name] = event
        origin[name] = source

    for stem, path, headers_file in fixture_groups(FIXTURES / "harbor"):
        assert path is not None
        extra = read_headers(headers_file) if headers_file else {}
        # Structured CloudEvents carry their own media type; in binary mode the
        # body is the bare data, so its type comes from the headers fixture.
        structured = stem.startswith("cloudevents_") and headers_file is None
        content_type = "application/cloudevents+json" if structured else "application/json"
        put(stem, function_url_event(stem, compact_body(path), content_type=extra.pop("content-type", content_type),
                                     authorization=HARBOR_AUTH, extra_headers=extra), path)

    for stem, path, headers_file in fixture_groups(FIXTURES / "msr3"):
        assert path is not None
        name = stem if stem.startswith("msr3") else "msr3_" + stem
        extra = read_headers(headers_file) if headers_file else {}
        put(name, function_url_event(name, compact_body(path), content_type=extra.pop("content-type", "application/json"),
                                     query={"token": MSR3_TOKEN}, extra_headers=extra), path)

    # Harbor 1.9 .. 2.2 "Test Endpoint": POST, Content-Length 0, no Authorization.
    put("empty-body", function_url_event("empty-body", None), FIXTURES / "harbor")

    push = FIXTURES / "harbor" / PUSH_FIXTURE
    if not push.is_file():
        raise SystemExit(f"make_events.py: {push.relative_to(ROOT)} is missing; base64-body.json is built from it")
    put("base64-body", function_url_event("base64-body", compact_body(push), authorization=HARBOR_AUTH, base64_body=True), push)
    return dict(sorted(events.items()))


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description="Generate events/*.json from tests/fixtures (see the module docstring).")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if events/ differs from what would be generated")
    args = ap.parse_args()

    wanted = {f"{name}.json": render(event) for name, event in build_events().items()}
    present = {p.name: p for p in EVENTS.glob("*.json")} if EVENTS.is_dir() else {}

    missing = sorted(n for n in wanted if n not in present)
    changed = sorted(n for n in wanted if n in present and present[n].read_text(encoding="utf-8") != wanted[n])
    extra = sorted(n for n in present if n not in wanted)

    if args.check:
        for label, names in (("missing", missing), ("out of date", changed), ("not generated (stale)", extra)):
            for n in names:
                print(f"events/{n}: {label}")
        if missing or changed or extra:
            print("events/ is stale: run `python3 scripts/make_events.py`", file=sys.stderr)
            return 1
        print(f"events/ is up to date ({len(wanted)} events)")
        return 0

    EVENTS.mkdir(exist_ok=True)
    for n in missing + changed:
        (EVENTS / n).write_text(wanted[n], encoding="utf-8")
    for n in extra:
        present[n].unlink()
    print(f"events/: {len(wanted)} events ({len(missing)} new, {len(changed)} updated, {len(extra)} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
