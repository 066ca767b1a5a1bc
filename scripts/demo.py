#!/usr/bin/env python3
"""Run the function locally under `cargo lambda watch` (local mode, dry run, built-in rules),
POST every sample payload to its Function URL the way Harbor (or MSR 3) would, print what the
function answers, then stop everything it started.

Used by `make demo`; needs cargo-lambda on PATH (the Makefile puts the venv first).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
AUTH_HEADER = "Bearer harbor-flashduty-demo"
URL_TOKEN = "msr3-demo-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url, body, headers):
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_until_up(url, watch, deadline_s=600):
    """The first request makes cargo lambda build and start the function; wait for our 405."""
    started = time.time()
    while time.time() - started < deadline_s:
        if watch.poll() is not None:
            sys.exit(f"cargo lambda watch exited early with code {watch.returncode}")
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=600)
        except urllib.error.HTTPError as error:
            if error.code == 405:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    sys.exit("the function did not come up in time")


def requests():
    """(name, body, headers, query) for every sample, as its sender would send it."""
    harbor_headers = {"Authorization": AUTH_HEADER, "User-Agent": "Go-http-client/1.1"}
    for path in sorted((FIXTURES / "harbor").glob("*.json")):
        name = path.name
        if name.endswith(".headers.json"):
            continue
        headers = dict(harbor_headers)
        if name.endswith(".body.json"):
            extra = json.loads(path.with_name(name.replace(".body.json", ".headers.json")).read_text())
            headers.update(extra)
        elif name.startswith("cloudevents_"):
            headers["Content-Type"] = "application/cloudevents+json"
        else:
            headers["Content-Type"] = "application/json"
        compact = json.dumps(json.loads(path.read_text()), separators=(",", ":")).encode()
        yield name, compact, headers, ""
    for path in sorted((FIXTURES / "msr3").glob("*.json")):
        compact = json.dumps(json.loads(path.read_text()), separators=(",", ":")).encode()
        yield path.name, compact, {"Content-Type": "application/json"}, f"?token={URL_TOKEN}"


def main():
    port = free_port()
    url = f"http://127.0.0.1:{port}/lambda-url/harbor-flashduty/"
    env_vars = {
        "HARBOR_AUTH_HEADER": AUTH_HEADER,
        "URL_TOKEN": URL_TOKEN,
        "DRY_RUN": "true",
        "RUST_LOG": "warn",
    }
    command = ["cargo", "lambda", "watch", "-A", "127.0.0.1", "-P", str(port)]
    for key, value in env_vars.items():
        command += ["--env-var", f"{key}={value}"]
    log_path = ROOT / "target" / "demo-watch.log"
    log_path.parent.mkdir(exist_ok=True)
    print(f"starting the function: cargo lambda watch on 127.0.0.1:{port} (local mode, dry run, built-in rules)")
    with open(log_path, "w") as log:
        watch = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    failures = 0
    try:
        wait_until_up(url, watch)
        print(f"function URL: {url}\n")
        print(f"{'sample':<56} {'status':<6} {'event':<26} {'outcome':<10} title / alert key")
        print("-" * 150)
        for name, body, headers, query in requests():
            status, answer = post(url + query, body, headers)
            if status != 200:
                failures += 1
                print(f"{name:<56} {status:<6} {'':<26} {'error':<10} {answer.get('error')}")
                continue
            for alert in answer["alerts"]:
                labels = alert["labels"]
                print(f"{name:<56} {status:<6} {labels['event_type']:<26} {alert['event_status']:<10} {alert['title_rule']}")
                print(f"{'':<100} key: {alert['alert_key']}")
            for dropped in answer["dropped"]:
                print(f"{name:<56} {status:<6} {dropped['event_type']:<26} {'dropped':<10} by rule {dropped['rule']}")
        # The Harbor Test Endpoint button and a request without credentials.
        status, answer = post(url, b"", {"Content-Type": "application/json"})
        print(f"{'(empty body: Harbor Test Endpoint)':<56} {status:<6} {'':<26} {'':<10} {json.dumps(answer)}")
        status, answer = post(url, b"{}", {"Content-Type": "application/json"})
        print(f"{'(no Authorization header)':<56} {status:<6} {'':<26} {'':<10} {answer.get('error')}")
    finally:
        os.killpg(watch.pid, signal.SIGTERM)
        try:
            watch.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(watch.pid, signal.SIGKILL)
        print("\nstopped cargo lambda watch; its log is in target/demo-watch.log")
    if failures:
        sys.exit(f"{failures} sample(s) were not answered 200")


if __name__ == "__main__":
    main()
