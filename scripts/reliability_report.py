#!/usr/bin/env python3
"""Write the reliability section (docs/RELIABILITY.md) from the figures of the last run.

The figures come from target/reliability/*.json, written by
  tests/e2e/faults           faults.json        the fault matrix
  tests/e2e/burst            burst.json         1000-event bursts, healthy and failing
  tests/handler/hostile      hostile_*.json     hostile input in-process,
  tests/e2e/hostile                             and over HTTP
  scripts/scan_secrets.py    secrets.json       the secrets scan of every e2e capture
and, when `make fuzz` ran, fuzz.log (libFuzzer's output).

  python3 scripts/reliability_report.py [--figures target/reliability] [--output docs/RELIABILITY.md]

Without --output the section is printed. Exits 1 when a figure file is missing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REQUIRED = ["faults", "burst", "secrets", "hostile_mutated_samples", "hostile_odd_headers",
            "hostile_function_url_events", "hostile_http", "hostile_tables",
            "hostile_constant_time", "hostile_envelope", "hostile_envelope_http", "hostile_forwarding",
            "hostile_lambda_http"]
IN_PROCESS = ["hostile_mutated_samples", "hostile_odd_headers", "hostile_function_url_events"]


def load(figures: Path) -> dict:
    data, missing = {}, []
    for name in REQUIRED:
        path = figures / f"{name}.json"
        if not path.is_file():
            missing.append(str(path))
            continue
        data[name] = json.loads(path.read_text(encoding="utf-8"))
    if missing:
        raise SystemExit("reliability_report.py: missing figures (run `make reliability`): " + ", ".join(missing))
    fuzz = figures / "fuzz.log"
    data["fuzz"] = fuzz.read_text(encoding="utf-8", errors="replace") if fuzz.is_file() else None
    return data


def n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def ms(value) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def statuses(counts: dict) -> str:
    return ", ".join(f"{n(c)}× {s}" for s, c in sorted(counts.items()))


def fuzz_summary(log: str | None) -> str:
    if not log:
        return ("not run in this refresh; `make fuzz FUZZ_SECONDS=60` runs it (see below)")
    runs = re.findall(r"Done (\d+) runs in (\d+) second", log)
    crashed = "deadly signal" in log or "panicked" in log or "SUMMARY: " in log
    if runs:
        count, seconds = runs[-1]
        return f"{int(count):,} inputs in {seconds} s, {'a crash (see fuzz/artifacts)' if crashed else 'no crash'}"
    return "ran, but its log has no summary line"


def render(d: dict) -> str:
    faults, burst, secrets = d["faults"], d["burst"], d["secrets"]
    hostile_http = d["hostile_http"]
    in_process = [d[k] for k in IN_PROCESS]
    inproc_cases = sum(h["cases"] for h in in_process)
    malformed = inproc_cases + hostile_http["cases"] + len(d["hostile_tables"]["cases"])
    forged = sum(h["forged_credentials"] for h in in_process) + hostile_http["forged_credentials"]
    forged_accepted = sum(h["forged_accepted"] for h in in_process) + hostile_http["forged_accepted"]
    panics = sum(h["panics"] or 0 for h in in_process)
    healthy, failing = burst["healthy"], burst["failing"]
    requests = (faults["requests"] + healthy["events"] + failing["events"]
                + failing["harbor_retries_sent"] + hostile_http["cases"])
    lost = faults["lost"] + failing["lost"]
    ct = d["hostile_constant_time"]
    env = d["hostile_envelope"]
    env_http = d["hostile_envelope_http"]
    fwd = d["hostile_forwarding"]["cases"]
    slowest = max(faults["cases"], key=lambda c: c["time_ms"])

    out = []
    w = out.append
    w("## Reliability")
    w("")
    w("Figures from a real run (`make reliability`, which writes them to `target/reliability/` "
      "and regenerates this section with `scripts/reliability_report.py`). The function under test "
      "is the debug build of the test run, served by `cargo lambda watch --only-lambda-apis`, with the "
      "Flashduty stand-in and moto (SSM) on loopback, on a shared 2-core machine.")
    w("")
    w("| | |")
    w("| --- | --- |")
    w(f"| faults tried | {faults['faults']} (Flashduty and SSM); slowest answer {faults['max_time_ms'] / 1000:.2f} s (Harbor waits 3 s) |")
    w(f"| requests sent to the built function | {n(requests)} |")
    w(f"| lost (2xx without the alert accepted by Flashduty) | {n(lost)} |")
    w(f"| forged credentials tried / accepted | {n(forged)} / {n(forged_accepted)} |")
    w(f"| malformed or hostile inputs tried | {n(malformed)} ({n(inproc_cases)} in-process, {n(hostile_http['cases'])} over HTTP, {len(d['hostile_tables']['cases'])} size and nesting cases) |")
    w(f"| panics in the handler | {n(panics)} |")
    w(f"| secrets leaked into logs or answers | {n(secrets['leaks'])} ({n(secrets['secrets'])} secrets × {n(secrets['captures'])} captures of the {n(secrets['tests'])} tests that ran the function, {secrets['bytes_scanned'] / 1e6:.1f} MB) |")
    w(f"| burst throughput | {healthy['throughput_rps']:,.0f} requests/s healthy, {failing['throughput_rps']:,.0f} requests/s with {failing['fail_percent']} % of Flashduty calls failing ({healthy['concurrency']} at a time, {healthy['instances']} instances) |")
    w(f"| fuzzing (`cargo fuzz`, handler) | {fuzz_summary(d['fuzz'])} |")
    w("")

    w("### Faults")
    w("")
    w("`tests/e2e/faults`: each fault against its own function and stand-in. *Attempts* are the "
      "requests Flashduty received while the request was open. For every request the test checks "
      "*2xx if and only if Flashduty accepted every alert or a rule dropped the event*.")
    w("")
    w("| fault | status | time | attempts |")
    w("| --- | --- | --- | --- |")
    for case in faults["cases"]:
        extra = ""
        if case.get("warning_logged"):
            extra = "; warning logged"
        w(f"| {case['fault']} | {case['status']}{extra} | {ms(case['time_ms'])} | {case['attempts']} |")
    w("")
    w(f"Requests: {n(faults['requests'])}, invariant broken: {n(faults['invariant_broken'])}, lost: "
      f"{n(faults['lost'])}. The slowest answer took {ms(slowest['time_ms'])} ({slowest['fault']}): "
      "the 2.5 s budget plus the way through the emulator. After an SSM outage at cold "
      "start the next request is served as soon as SSM is back; a failed refresh (SSM down, hanging "
      "or throttling, or rules made invalid) keeps the last good configuration, logs a warning naming "
      "the parameter; the request that triggers the refresh waits at most 700 ms for SSM.")
    w("")

    w("### Bursts")
    w("")
    w(f"`tests/e2e/burst`: {n(healthy['events'])} distinct events (pushes, CloudEvents pushes, "
      "deletes, scans, quota, replication, chart uploads, MSR 3 tag pushes, each in a project of its "
      f"own), {healthy['concurrency']} at a time, {healthy['instances']} function instances.")
    w("")
    w("| run | answers | Flashduty attempts | delivered | throughput | latency p50 / p99 / max |")
    w("| --- | --- | --- | --- | --- | --- |")
    hl, fl = healthy["latency_ms"], failing["latency_ms"]
    w(f"| healthy | {statuses(healthy['statuses'])} | {n(healthy['flashduty_attempts'])} | "
      f"{n(healthy['delivered_exactly_once'])} exactly once | {healthy['throughput_rps']:,.0f}/s | "
      f"{ms(hl['p50'])} / {ms(hl['p99'])} / {ms(hl['max'])} |")
    w(f"| {failing['fail_percent']} % of calls fail (seed {failing['seed']}) | {statuses(failing['statuses'])} | "
      f"{n(failing['flashduty_attempts'])} ({n(failing['failures_injected'])} failed) | "
      f"every 2xx; {n(failing['delivered_at_least_once'])} of {n(failing['events'])} after Harbor's retries | "
      f"{failing['throughput_rps']:,.0f}/s | {ms(fl['p50'])} / {ms(fl['p99'])} / {ms(fl['max'])} |")
    w("")
    w(f"With failures injected, every request whose alert was not accepted was answered 502 or 503 "
      f"({n(failing['answered_non_2xx'])}), so Harbor retries it; retrying those twice as Harbor does "
      f"left {n(failing['undelivered_after_harbor_retries'])} undelivered and "
      f"{n(failing['delivered_more_than_once'])} delivered twice. Lost: {n(failing['lost'])}.")
    w("")

    w("### Hostile input")
    w("")
    w("`tests/handler/hostile` drives the handler in-process (a local configuration and a sink "
      "that accepts everything) and `tests/e2e/hostile` the built function over HTTP. Properties: no panic; a non-`POST` "
      "is 405; an empty `POST` is 200 and sends nothing; anything but the exact credential is 401 before "
      "the body is read; over 1 MiB is 413; otherwise 200 or 400, never 5xx; a 200 only with alerts within "
      "Flashduty's limits, exactly those handed to Flashduty; no secret in any answer.")
    w("")
    w("| suite | cases | statuses | forged credentials (accepted) |")
    w("| --- | --- | --- | --- |")
    names = {"hostile_mutated_samples": "mutated samples (truncated, invalid UTF-8, wrong types, out-of-range numbers, huge strings, deep nesting, odd headers and methods)",
             "hostile_odd_headers": "odd header bytes (non-UTF-8 and obs-text in Authorization, ce-*, Content-Type; repeated and misplaced credentials)",
             "hostile_function_url_events": "the same as Function URL events (text and base64 bodies)"}
    for key in IN_PROCESS:
        h = d[key]
        w(f"| {names[key]} | {n(h['cases'])} in {h['seconds']} s | {statuses(h['statuses'])} | {n(h['forged_credentials'])} ({n(h['forged_accepted'])}) |")
    w(f"| over HTTP, the built function and the stand-in | {n(hostile_http['cases'])} in {hostile_http['seconds']} s | {statuses(hostile_http['statuses'])} | {n(hostile_http['forged_credentials'])} ({n(hostile_http['forged_accepted'])}) |")
    w("")
    w("Sizes and nesting (in-process):")
    w("")
    w("| body | status |")
    w("| --- | --- |")
    for case in d["hostile_tables"]["cases"]:
        unit = "byte" if case["bytes"] == 1 else "bytes"
        w(f"| {case['case']} ({n(case['bytes'])} {unit}) | {case['status']} |")
    w("")

    w("### Security checks")
    w("")
    w(f"- **Constant-time credentials.** `handler.rs` compares `Authorization` and `?token=` with "
      f"`subtle::ConstantTimeEq`. Measured: refusing a 1 MiB credential wrong in its first byte takes "
      f"{ct['median_first_byte_wrong_us'] / 1000:.1f} ms, wrong in its last byte "
      f"{ct['median_last_byte_wrong_us'] / 1000:.1f} ms (ratio {ct['ratio']}; an early-exit comparison "
      "would differ several times over). A different length is refused at once: the length is not secret.")
    w("- **No request without credentials.** Every non-empty `POST` without the exact auth header or "
      "URL token is 401 (above, `tests/handler/contract` and `tests/e2e/http`); with neither configured the function answers 503 "
      "unless `ALLOW_UNAUTHENTICATED=true` (`tests/handler/contract`, `tests/e2e/http`, `tests/e2e/ssm.rs`). Only Harbor's empty *Test "
      "Endpoint* `POST` is answered without credentials, and it sends nothing.")
    w("- **Push URL scheme.** `https` only; plain `http` only to `127.0.0.1`, `::1` or `localhost` "
      "(`127.0.0.2`, `::ffff:127.0.0.1`, `localhost.example.com`, `ftp:`, `file:`, `ws:` are refused "
      "with a 503 that names the variable and never shows the integration key).")
    w(f"- **Secrets scan.** Every e2e test records the secrets it used and everything the function "
      f"printed and answered (`target/e2e-capture/`); `make secrets-scan` searches all "
      f"{n(secrets['captures'])} captures for every secret, as is, percent-encoded, JSON-escaped "
      f"and base64-encoded: {n(secrets['leaks'])} found.")
    w("- **Dependency advisories.** `make audit` (cargo audit on the RustSec snapshot): 0 vulnerabilities.")
    w("")

    w("### Found")
    w("")
    w("- **lambda_http panics on a Host or X-Forwarded-Proto it cannot parse**, before the handler and "
      "before authentication (`Url::parse(..).unwrap()`, lambda_http 1.3.2 `src/request.rs:553`; "
      "also a raw query string that is not a valid URI, and a bad base64 body, which only AWS could "
      "send). With the release profile's `panic = \"abort\"` such a request kills the instance; with "
      "unwinding, lambda_runtime turns it into an invocation error and the instance lives on. "
      "Reproduce: `cargo build --release`, run it under `cargo lambda watch --only-lambda-apis`, then "
      "`curl -X POST -H 'X-Forwarded-Proto: a b' --data x <url>`: the process aborts and the next "
      "request waits for a new instance. Whether AWS passes such headers on to a Function URL is "
      "not known here. `tests/e2e/hostile` sends the "
      f"{len(fwd)} kinds to the test build: each is answered "
      f"{'/'.join(sorted({str(c['status']) for c in fwd}))} (lambda_runtime's invocation error) and "
      f"the next request {'/'.join(sorted({str(c['next_status']) for c in fwd}))}.")
    tries = env_http["attempts"]
    w(f"- **A 1 MiB documentation envelope of {n(env['events_in_body'])} events can never be "
      "delivered, and its answer can come after Harbor's 3 s.** The function converts the events and "
      "sends their alerts one by one until its 2.5 s deadline, then still handles every remaining "
      "event (one `not_sent` log line each) before answering. Over HTTP to the stand-in (debug build, "
      "default log level `info`): "
      + "; ".join(f"attempt {t['attempt']}: {t['status']} after {t['time_ms'] / 1000:.2f} s, "
                  f"{n(t['alerts_accepted'])} alerts accepted" for t in tries)
      + f" ({n(env_http['distinct_alerts_accepted'])} distinct). Each retry resends the same first "
      "alerts and never gets further; against the real Flashduty (tens of ms per call) only a few "
      "dozen fit. In a dry run or with a sink that accepts at once the 200 answer is "
      f"{env['answer_bytes'] / 1e6:.1f} MB, over Lambda's 6 MB response limit. Harbor never sends "
      "this format (it is the example in Harbor 1.9's documentation) and only an authenticated "
      "caller can. Reproduce: `cargo nextest run --test handler --test e2e -E "
      "'test(documentation_envelope)' --no-capture`.")
    w("- **The emulator, not the function**: `cargo lambda watch` answers 500 itself to a header value "
      "or a text body that is not UTF-8, and answers `OPTIONS` itself (CORS); the HTTP part of the "
      "hostile suite sends what the emulator can carry, the in-process part covers the raw bytes.")
    w("")

    w("### Reproduce")
    w("")
    w("```sh")
    w("make reliability      # faults, bursts, hostile input (both binaries), the secrets scan, this section")
    w("PATH=\"$PWD/.venv/bin:$PATH\" cargo nextest run --test e2e --test handler -E 'test(/^(faults|burst|hostile)::/)'")
    w("python3 scripts/scan_secrets.py            # after any e2e run; --self-test plants leaks first")
    w("HOSTILE_CASES=500000 cargo nextest run --test handler -E 'test(/^hostile::/)'    # more cases")
    w("make fuzz FUZZ_SECONDS=300                 # cargo fuzz on the handler (fuzz/), nightly: ASan")
    w("```")
    w("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--figures", type=Path, default=Path("target/reliability"))
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    try:
        text = render(load(args.figures))
    except SystemExit as stop:
        print(stop, file=sys.stderr)
        return 1
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
