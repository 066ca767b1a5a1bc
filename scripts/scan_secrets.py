#!/usr/bin/env python3
"""Scan everything the end-to-end suite captured for leaked secrets.

Every end-to-end test records, under target/e2e-capture/<test binary>.<test name>/
(tests/support/capture.rs):

  secrets.txt    one JSON object per line, {"kind": ..., "value": ...}: every secret the test
                 generated or configured (auth header, integration key, push URL, URL token,
                 SSM SecureStrings)
  logs.txt       everything every function instance of the test printed
  responses.txt  every answer the function gave (status, headers, body)

This script checks every secret of every test against every capture (logs.txt and
responses.txt) of every test: as is, percent-encoded, JSON-escaped and base64-encoded (any
alignment, standard and URL-safe alphabets). It never prints a secret: a leak is reported as
the capture file, the kind of secret, the test it belongs to and the encoding found.

Exit status: 0 when nothing leaked ("N passed, 0 failed", N = capture files checked), 1 when a
secret leaked or there is nothing to check (no captures, no secrets), 2 on bad usage.

  python3 scripts/scan_secrets.py [--root target/e2e-capture] [--figures target/reliability/secrets.json]
  python3 scripts/scan_secrets.py --self-test     # proves the scanner finds planted leaks
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

CAPTURE_FILES = ("logs.txt", "responses.txt")
# Shorter secrets cannot be searched for without false alarms (tests/support/capture.rs).
MIN_SECRET_LEN = 8
# Encoded forms shorter than this are not searched (a base64 fragment of a short secret).
MIN_NEEDLE_LEN = 8


@dataclass(frozen=True)
class Secret:
    kind: str
    value: str
    test: str


@dataclass(frozen=True)
class Needle:
    data: bytes
    encoding: str
    secret: Secret


def load_secrets(root: Path) -> tuple[list[Secret], list[Secret]]:
    """Every secret recorded under root, and those too short to search for."""
    found: dict[tuple[str, str], Secret] = {}
    short: list[Secret] = []
    for path in sorted(root.glob("*/secrets.txt")):
        test = path.parent.name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                secret = Secret(str(record["kind"]), str(record["value"]), test)
            except (ValueError, KeyError, TypeError):
                raise SystemExit(f"scan_secrets.py: {path}:{number} is not a secret record")
            if len(secret.value) < MIN_SECRET_LEN:
                short.append(secret)
            else:
                found.setdefault((secret.kind, secret.value), secret)
    return list(found.values()), short


def base64_forms(data: bytes) -> list[tuple[str, bytes]]:
    """The base64 text that `data` produces wherever it sits in a longer byte string: for each
    of the 3 alignments, the characters that depend on `data` alone."""
    forms = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data)
        start = 4 if offset else 0  # the first group mixes in the bytes before
        tail = (offset + len(data)) % 3
        end = len(encoded) - (4 if tail else 0)  # the last group mixes in the bytes after
        core = encoded[start:end]
        forms.append((f"base64 (offset {offset})", core))
        urlsafe = core.replace(b"+", b"-").replace(b"/", b"_")
        if urlsafe != core:
            forms.append((f"base64url (offset {offset})", urlsafe))
    return forms


def needles(secret: Secret) -> list[Needle]:
    raw = secret.value.encode("utf-8")
    forms: list[tuple[str, bytes]] = [("as is", raw)]
    forms.append(("percent-encoded", urllib.parse.quote(secret.value, safe="").encode()))
    forms.append(("form-encoded", urllib.parse.quote_plus(secret.value, safe="").encode()))
    forms.append(("JSON-escaped", json.dumps(secret.value)[1:-1].encode()))
    forms.append(("JSON-escaped, ASCII", json.dumps(secret.value, ensure_ascii=True)[1:-1].encode()))
    forms.extend(base64_forms(raw))
    out, seen = [], set()
    for encoding, data in forms:
        if len(data) >= MIN_NEEDLE_LEN and data not in seen:
            seen.add(data)
            out.append(Needle(data, encoding, secret))
    return out


def captures(root: Path) -> list[Path]:
    return sorted(p for name in CAPTURE_FILES for p in root.glob(f"*/{name}") if p.is_file())


def grep_any(patterns: list[bytes], files: list[Path]) -> set[Path] | None:
    """The files in which `grep -F` finds any pattern, or None when grep cannot be used."""
    grep = shutil.which("grep")
    if grep is None or any(b"\n" in p or b"\r" in p for p in patterns):
        return None
    with tempfile.NamedTemporaryFile(prefix="scan-secrets-", delete=False) as listing:
        listing.write(b"\n".join(patterns) + b"\n")
        pattern_file = listing.name
    try:
        hits: set[Path] = set()
        # Batches keep the command line short.
        for i in range(0, len(files), 200):
            batch = files[i:i + 200]
            done = subprocess.run(
                [grep, "-F", "-a", "-l", "-f", pattern_file, "--", *map(str, batch)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
            )
            if done.returncode not in (0, 1):
                return None
            hits.update(Path(line) for line in done.stdout.decode().splitlines() if line)
        return hits
    finally:
        Path(pattern_file).unlink(missing_ok=True)


def scan(root: Path) -> tuple[int, list[str], dict]:
    """Returns (captures checked, leaks found, figures); raises SystemExit when there is
    nothing to check."""
    if not root.is_dir():
        raise SystemExit(f"scan_secrets.py: {root} does not exist: run the end-to-end tests first (make e2e)")
    files = captures(root)
    if not files:
        raise SystemExit(f"scan_secrets.py: no captures under {root}: run the end-to-end tests first (make e2e)")
    secrets, short = load_secrets(root)
    if not secrets:
        raise SystemExit(f"scan_secrets.py: no secrets recorded under {root}: the capture is broken")
    all_needles = [n for s in secrets for n in needles(s)]
    candidates = grep_any([n.data for n in all_needles], files)
    if candidates is None:
        candidates = set(files)  # no grep: check every file in Python
    leaks = []
    for path in files:
        if path not in candidates:
            continue
        data = path.read_bytes()
        for needle in all_needles:
            if needle.data in data:
                line = data[: data.find(needle.data)].count(b"\n") + 1
                leaks.append(
                    f"{path}:{line}: {needle.secret.kind} of test {needle.secret.test} ({needle.encoding})"
                )
    figures = {
        "captures": len(files),
        "tests": len({p.parent.name for p in files}),
        "secrets": len(secrets),
        "needles": len(all_needles),
        "too_short_to_scan": len(short),
        "bytes_scanned": sum(p.stat().st_size for p in files),
        "leaks": len(leaks),
        "leaked_files": len({leak.split(":", 1)[0] for leak in leaks}),
    }
    return len(files), leaks, figures


def report(root: Path, figures_path: Path | None) -> int:
    try:
        checked, leaks, figures = scan(root)
    except SystemExit as stop:
        print(stop, file=sys.stderr)
        return 1
    failed_files = figures["leaked_files"]
    for leak in leaks:
        print(f"LEAK {leak}")
    print(
        f"scanned {figures['bytes_scanned']} bytes in {checked} captures of {figures['tests']} tests "
        f"for {figures['secrets']} secrets ({figures['needles']} encoded forms)"
        + (f"; {figures['too_short_to_scan']} secrets under {MIN_SECRET_LEN} characters not searched"
           if figures["too_short_to_scan"] else "")
    )
    print(f"{checked - failed_files} passed, {failed_files} failed")
    if figures_path is not None:
        figures_path.parent.mkdir(parents=True, exist_ok=True)
        figures_path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 1 if leaks else 0


def self_test() -> int:
    """Plants leaks in a scratch capture and checks that each is found and named, without the
    secret being printed, and that a clean capture passes."""
    import contextlib
    import io

    secret = "Bearer e2e-auth-" + "5f" * 16
    key = "0123456789abcdef0123456789abcdef"
    with tempfile.TemporaryDirectory(prefix="scan-secrets-self-test-") as tmp:
        root = Path(tmp)
        clean, leaky = root / "t.clean", root / "t.leaky"
        for test in (clean, leaky):
            test.mkdir()
            (test / "secrets.txt").write_text(
                json.dumps({"kind": "auth header", "value": secret}) + "\n"
                + json.dumps({"kind": "integration key", "value": key}) + "\n", encoding="utf-8")
            (test / "logs.txt").write_text('{"level":"INFO","message":"nothing to see"}\n', encoding="utf-8")
            (test / "responses.txt").write_text('{"status":200,"body":"{}"}\n', encoding="utf-8")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = report(root, None)
        if status != 0 or "4 passed, 0 failed" not in out.getvalue():
            print(f"self-test: a clean capture did not pass:\n{out.getvalue()}", file=sys.stderr)
            return 1
        planted = {
            "as is": f"x{key}y",
            "percent-encoded": "Authorization=" + urllib.parse.quote(secret, safe=""),
            "base64 (offset 1)": base64.b64encode(b"a" + key.encode() + b"cd").decode(),
        }
        for encoding, text in planted.items():
            (leaky / "logs.txt").write_text(f"line one\n{text}\n", encoding="utf-8")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                status = report(root, None)
            printed = out.getvalue()
            named = str(leaky / "logs.txt") + ":2:" in printed
            if status != 1 or not named or encoding not in printed or "1 failed" not in printed:
                print(f"self-test: a planted leak ({encoding}) was not reported:\n{printed}", file=sys.stderr)
                return 1
            if secret in printed or key in printed:
                print("self-test: the report printed the secret itself", file=sys.stderr)
                return 1
        empty = root / "empty"
        empty.mkdir()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if report(empty, None) != 1:
                print("self-test: an empty capture directory did not fail", file=sys.stderr)
                return 1
    print("scan_secrets.py self-test: planted leaks found (as is, percent-encoded, base64), clean capture passed, empty capture refused")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("target/e2e-capture"))
    parser.add_argument("--figures", type=Path, default=Path("target/reliability/secrets.json"),
                        help="where to write the figures for scripts/reliability_report.py")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    return report(args.root, args.figures)


if __name__ == "__main__":
    sys.exit(main())
