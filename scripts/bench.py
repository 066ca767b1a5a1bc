#!/usr/bin/env python3
"""`make bench`: measure harbor-flashduty on this machine and write BENCHMARKS.md.

    python3 scripts/bench.py              # every figure (criterion, builds, Lambda harness, sizes)
    python3 scripts/bench.py --quick      # shorter criterion runs and fewer requests (a smoke run)
    python3 scripts/bench.py --profiles   # opt-level 3 / "s" / "z" comparison, then the report
    python3 scripts/bench.py --report     # only re-render BENCHMARKS.md from target/bench/*.json

Figures (targets in TARGETS below):
 1. conversion ns/event: criterion (`benches/convert.rs`), read from
    target/criterion/convert*/*/new/estimates.json;
 2. cold start: `benches/lambda.rs` under its own minimal Lambda Runtime API, against the
    hello-world lambda_http binary (`examples/hello_lambda.rs`), local and SSM (moto) mode;
 3. warm latency through the runtime, with the Flashduty stand-in's round trip subtracted;
 4. peak RSS (VmHWM) over 10 000 requests;
 5. size of the stripped arm64 binary from `cargo lambda build --release --arm64`.

Raw results stay in target/bench/ (lambda.json, criterion.json, sizes.json, profiles.json).
Nothing here listens on anything but 127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
CRITERION = ROOT / "target" / "criterion"
VENV_BIN = ROOT / ".venv" / "bin"
REPORT = ROOT / "BENCHMARKS.md"
LAMBDA_BIN = "harbor-flashduty"
ARM64 = "aarch64-unknown-linux-gnu"
RULES = ROOT / "benches" / "data" / "example-rules.json"

TARGETS = {
    "conversion_us": 10.0,       # per typical event
    "cold_ratio": 1.3,           # x hello-world, excluding network
    "handler_p99_ms": 1.0,       # warm, excluding the Flashduty round trip
    "rss_mb": 20.0,              # peak over 10k requests
    "arm64_mb": 6.0,             # stripped arm64 binary
}
MB = 1_000_000  # sizes and memory in decimal MB (1 MB = 10^6 bytes); MiB given beside them

# Cold-start rows and init-breakdown columns, in this order (benches/lambda.rs names them).
COLD_VARIANTS = ("hello", "local", "ssm", "local_cert_file")
INIT_VARIANTS = ("local", "ssm", "local_cert_file")
# Init-breakdown rows in src/main.rs's order (the harness's JSON has them sorted by name).
INIT_STEPS = ("tokio_runtime", "logging", "settings", "https_client", "ssm_client_new",
              "local_source_with_rules", "flashduty_client_new", "handler_new", "prefetch_config",
              "flashduty_warm_up", "ssm_read_repeat")

PROFILE_BEGIN = "<!-- profiles:begin -->"
PROFILE_END = "<!-- profiles:end -->"

STEPS: list[tuple[str, float, str]] = []  # (step, seconds, outcome)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(cmd: list[str], *, step: str, env: dict | None = None, check: bool = True,
        capture: bool = False, timeout: float = 3600) -> subprocess.CompletedProcess:
    """Runs a command, timing it as a step of this run."""
    log(f"{step}: {' '.join(cmd)}")
    started = time.monotonic()
    try:
        result = subprocess.run(cmd, cwd=ROOT, env=env, text=True, timeout=timeout,
                                stdout=subprocess.PIPE if capture else None)
    except subprocess.TimeoutExpired:
        STEPS.append((step, time.monotonic() - started, "timed out"))
        raise
    elapsed = time.monotonic() - started
    STEPS.append((step, elapsed, "ok" if result.returncode == 0 else f"exit {result.returncode}"))
    if check and result.returncode != 0:
        raise SystemExit(f"bench: step '{step}' failed (exit {result.returncode}): {' '.join(cmd)}")
    return result


def tool_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    return env


# ----------------------------------------------------------------------------------------------
# 1. Conversion (criterion)

def criterion(quick: bool) -> dict:
    warm, measure = ("0.3", "0.7") if quick else ("0.5", "1.5")
    started = time.time()
    run(["cargo", "bench", "-p", "harbor-flashduty-core", "--bench", "convert", "--", "--warm-up-time", warm,
         "--measurement-time", measure, "--noplot"], step="criterion (benches/convert.rs)")
    samples, all_samples, stages = {}, None, {}
    for estimates in CRITERION.glob("*/*/new/estimates.json"):
        if estimates.stat().st_mtime < started - 1:
            continue  # left over from an earlier run (a sample since removed)
        meta = json.loads((estimates.parent / "benchmark.json").read_text())
        data = json.loads(estimates.read_text())
        headline = data.get("slope") or data["mean"]
        figure = {
            "ns": headline["point_estimate"],
            "ci_low": headline["confidence_interval"]["lower_bound"],
            "ci_high": headline["confidence_interval"]["upper_bound"],
            "median_ns": data["median"]["point_estimate"],
            "estimator": "slope" if data.get("slope") else "mean",
        }
        if meta["group_id"] == "convert":
            samples[meta["function_id"]] = figure
        elif meta["group_id"] == "convert_all":
            all_samples = figure
        elif meta["group_id"] == "stages" and "/" in meta["function_id"]:
            sample, stage = meta["function_id"].rsplit("/", 1)
            stages.setdefault(sample, {})[stage] = figure["ns"]
    if not samples or all_samples is None:
        raise SystemExit("bench: criterion wrote no estimates this run")
    ordered = sorted(samples.items(), key=lambda kv: kv[1]["ns"])
    typical_name, typical = ordered[(len(ordered) - 1) // 2]
    slowest_name, slowest = ordered[-1]
    result = {
        "samples": samples,
        "count": len(samples),
        "typical": {"name": typical_name, **typical},
        "slowest": {"name": slowest_name, **slowest},
        "fastest": {"name": ordered[0][0], **ordered[0][1]},
        "mean_ns": all_samples["ns"] / len(samples),
        "all_samples_once": all_samples,
        "mean_of_per_sample_ns": sum(s["ns"] for s in samples.values()) / len(samples),
        "stages": stages,
        "warm_up_s": float(warm),
        "measurement_s": float(measure),
    }
    (OUT / "criterion.json").write_text(json.dumps(result, indent=2))
    return result


# ----------------------------------------------------------------------------------------------
# 5. Builds and sizes

def elf_info(path: Path) -> dict:
    """Machine and whether a symbol table is left (a tiny ELF64 little-endian reader)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return {"machine": "unknown", "stripped": None}
    machine = {0x3E: "x86-64", 0xB7: "aarch64"}.get(int.from_bytes(data[18:20], "little"), "other")
    shoff = int.from_bytes(data[0x28:0x30], "little")
    shentsize = int.from_bytes(data[0x3A:0x3C], "little")
    shnum = int.from_bytes(data[0x3C:0x3E], "little")
    shstrndx = int.from_bytes(data[0x3E:0x40], "little")
    sections = []
    for i in range(shnum):
        base = shoff + i * shentsize
        sections.append((int.from_bytes(data[base:base + 4], "little"),
                         int.from_bytes(data[base + 4:base + 8], "little"),
                         int.from_bytes(data[base + 0x18:base + 0x20], "little"),
                         int.from_bytes(data[base + 0x20:base + 0x28], "little")))
    names_off = sections[shstrndx][2] if shstrndx < len(sections) else 0
    names = []
    for name_idx, _, _, _ in sections:
        end = data.index(b"\0", names_off + name_idx)
        names.append(data[names_off + name_idx:end].decode(errors="replace"))
    text = next((s[3] for s, n in zip(sections, names) if n == ".text"), 0)
    return {"machine": machine, "stripped": ".symtab" not in names, "text_bytes": text}


def zipped_size(path: Path) -> int:
    """Size of the deployment zip (bootstrap alone, deflate level 9), as SAM uploads it."""
    scratch = OUT / "bootstrap.zip"
    with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.write(path, "bootstrap")
    size = scratch.stat().st_size
    scratch.unlink()
    return size


def aarch64_available() -> bool:
    if shutil.which("rustup") is None:
        return False
    installed = subprocess.run(["rustup", "target", "list", "--installed"], text=True,
                               capture_output=True).stdout.split()
    if ARM64 in installed:
        return True
    log(f"rustup target add {ARM64}")
    return subprocess.run(["rustup", "target", "add", ARM64]).returncode == 0


def lambda_build(profile: str, config: list[str], step: str) -> tuple[Path, str]:
    """`cargo lambda build` for arm64 (x86-64 when the aarch64 std cannot be installed)."""
    arch, triple = ("--arm64", ARM64) if aarch64_available() else ("--x86-64", "x86_64-unknown-linux-gnu")
    cmd = ["cargo", "lambda", "build", arch, "--bin", LAMBDA_BIN]
    if profile == "release":
        cmd += ["--release"]
    else:
        # cargo-lambda adds its target-cpu flag only with --release; give it the same.
        cpu = "neoverse-n1" if triple == ARM64 else "haswell"
        cmd += ["--profile", profile, "--lambda-dir", str(OUT / f"lambda-{profile}"),
                "--config", f'build.rustflags=["-C", "target-cpu={cpu}"]']
    run(cmd + config, step=step, env=tool_env())
    # cargo-lambda moves the binary out of target/<triple>/<profile>/ into the lambda dir.
    lambda_dir = ROOT / "target" / "lambda" if profile == "release" else OUT / f"lambda-{profile}"
    return lambda_dir / LAMBDA_BIN / "bootstrap", triple


def sizes(arm_binary: Path, triple: str) -> dict:
    host = ROOT / "target" / "release" / LAMBDA_BIN
    hello = ROOT / "target" / "release" / "examples" / "hello_lambda"
    lambda_binary = arm_binary
    result = {
        "lambda": {"path": str(lambda_binary.relative_to(ROOT)), "bytes": lambda_binary.stat().st_size,
                   "zip_bytes": zipped_size(lambda_binary), "triple": triple, **elf_info(lambda_binary)},
        "host": {"path": str(host.relative_to(ROOT)), "bytes": host.stat().st_size, **elf_info(host)},
        "hello": {"path": str(hello.relative_to(ROOT)), "bytes": hello.stat().st_size, **elf_info(hello)},
    }
    (OUT / "sizes.json").write_text(json.dumps(result, indent=2))
    return result


# ----------------------------------------------------------------------------------------------
# 2-4. The Lambda harness

def harness(args: list[str], step: str, out: Path) -> dict:
    moto = VENV_BIN / "moto_server"
    cmd = ["cargo", "bench", "--bench", "lambda", "--", "--out", str(out)]
    if moto.exists():
        cmd += ["--moto", str(moto)]
    run(cmd + args, step=step, env=tool_env())
    return json.loads(out.read_text())


# ----------------------------------------------------------------------------------------------
# Profile comparison

def release_profile() -> dict:
    return tomllib.loads((ROOT / "Cargo.toml").read_text()).get("profile", {}).get("release", {})


def fixture_lines() -> list[bytes]:
    """The criterion samples, compact, one per line (CloudEvents binary mode needs headers)."""
    lines = []
    for directory in ("harbor", "msr3"):
        for path in sorted((ROOT / "tests" / "fixtures" / directory).glob("*.json")):
            if "cloudevents_binary" in path.name:
                continue
            lines.append(json.dumps(json.loads(path.read_text()), separators=(",", ":")).encode())
    return lines


def cli_conversion_ns(clis: dict[str, Path], repeats: int = 7) -> dict[str, float]:
    """ns/event from `harbor-flashduty-cli convert --lines`, per build: (T(200 copies of every
    sample) - T(20 copies)) / events, best of `repeats`, the builds interleaved run by run."""
    lines = fixture_lines()
    inputs = {20: b"\n".join(lines * 20) + b"\n", 200: b"\n".join(lines * 200) + b"\n"}
    best = {label: {20: float("inf"), 200: float("inf")} for label in clis}
    for _ in range(repeats):
        for label, cli in clis.items():
            for copies, data in inputs.items():
                started = time.perf_counter()
                subprocess.run([str(cli), "convert", "--lines", "--rules", str(RULES)], input=data,
                               stdout=subprocess.DEVNULL, check=True)
                best[label][copies] = min(best[label][copies], time.perf_counter() - started)
    return {label: (b[200] - b[20]) / (180 * len(lines)) * 1e9 for label, b in best.items()}


def profiles(quick: bool) -> dict:
    release = release_profile()
    current = str(release.get("opt-level", 3))
    builds = []
    for level in ("3", "s", "z"):
        profile = "release" if level == current else f"opt-{level}"
        config: list[str] = []
        if profile != "release":
            value = level if level in ("s", "z") else int(level)
            config = ["--config", f'profile.{profile}.inherits="release"',
                      "--config", f"profile.{profile}.opt-level={json.dumps(value)}"]
        run(["cargo", "build", "--profile", profile, "--bins"] + config,
            step=f"build host bins, opt-level {level} ({profile})")
        arm_binary, triple = lambda_build(profile, config, step=f"cargo lambda build, opt-level {level}")
        builds.append({"opt_level": level, "profile": profile, "arm_binary": arm_binary, "triple": triple,
                       "host": ROOT / "target" / profile / LAMBDA_BIN,
                       "cli": ROOT / "target" / profile / "harbor-flashduty-cli"})
    if not (ROOT / "target" / "release" / "examples" / "hello_lambda").exists():
        run(["cargo", "build", "--release", "--example", "hello_lambda"], step="build hello example")

    started = time.monotonic()
    conversion = cli_conversion_ns({b["opt_level"]: b["cli"] for b in builds}, repeats=3 if quick else 7)
    STEPS.append(("CLI conversion timing, all opt-levels interleaved", time.monotonic() - started, "ok"))
    compare = [arg for b in builds for arg in ("--compare", f"{b['opt_level']}={b['host']}")]
    # More rounds than `make bench`: opt-levels differ by a few tenths of a millisecond.
    measured = harness(["--phases", "cold", "--cold-runs", "10" if quick else "150",
                        "--function", str(builds[0]["host"]),
                        "--hello", str(ROOT / "target" / "release" / "examples" / "hello_lambda")] + compare,
                       step="cold start, all opt-levels interleaved", out=OUT / "cold-profiles.json")
    cold = measured["cold"]
    results = []
    for b in builds:
        level = b["opt_level"]
        results.append({
            "opt_level": level, "profile": b["profile"],
            "arm64_bytes": b["arm_binary"].stat().st_size, "arm64_triple": b["triple"],
            "arm64_zip_bytes": zipped_size(b["arm_binary"]),
            "host_bytes": b["host"].stat().st_size,
            "cli_ns_per_event": conversion[level],
            "cold": {"hello": cold.get("hello", {}), "local": cold.get(f"local@{level}", {}),
                     "ssm": cold.get(f"ssm@{level}", {})},
        })
    data = {"date": now_iso(), "commit": git_commit(), "release_opt_level": current,
            "release_profile": release, "variants": results,
            "meta": measured.get("meta", {})}
    (OUT / "profiles.json").write_text(json.dumps(data, indent=2))
    return data


# ----------------------------------------------------------------------------------------------
# Report

def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def git_commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                          capture_output=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"],
                           cwd=ROOT, text=True, capture_output=True).stdout.strip()
    return f"{head}{' + uncommitted changes to src/Cargo' if dirty else ''}"


def us(ns: float) -> str:
    return f"{ns / 1000:.2f} µs"


def msf(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f} ms"


def mb(n_bytes: float) -> str:
    return f"{n_bytes / MB:.2f} MB ({n_bytes / 1048576:.2f} MiB)"


def ca_count(path: str) -> str:
    """`N-CA` for a PEM bundle, counted now (the harness does not record it)."""
    try:
        n = Path(path).read_text(errors="replace").count("-----BEGIN CERTIFICATE-----")
    except OSError:
        return "CA"
    return f"{n}-CA" if n else "CA"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**met**" if ok else "**not met**")


def info(ok: bool) -> str:
    """For figures the target does not apply to directly (shown for information)."""
    return "(within)" if ok else "(above)"


def render(started: float | None) -> str:
    crit = json.loads((OUT / "criterion.json").read_text())
    lam = json.loads((OUT / "lambda.json").read_text())
    size = json.loads((OUT / "sizes.json").read_text())
    meta = lam["meta"]
    cold, warm, rss, init = lam.get("cold", {}), lam.get("warm", {}), lam.get("rss", {}), lam.get("init", {})
    cert_file = cold.get("cert_file") or "?"
    rustc = subprocess.run(["rustc", "--version"], text=True, capture_output=True).stdout.strip()
    release = release_profile()
    out: list[str] = []
    w = out.append

    w("# Benchmarks\n")
    w(f"Generated by `make bench` ({'`scripts/bench.py`'}) on {now_iso()}, commit {git_commit()}. "
      "Do not edit by hand: run `make bench` again.\n")
    w(f"Machine: {meta['cpu']}, {meta['cpus']} cores shared with other work (load average "
      f"{meta['loadavg_before'].split()[0]} before the Lambda harness, {meta['loadavg_after'].split()[0]} after); "
      f"{rustc}; `[profile.release]` = `{json.dumps(release)}`.\n")
    run_info = {"minutes": (time.monotonic() - started) / 60, "steps": STEPS} if started is not None else (
        json.loads((OUT / "run.json").read_text()) if (OUT / "run.json").exists() else None)
    if run_info:
        w(f"The `make bench` run that measured these figures took **{run_info['minutes']:.1f} min** "
          "(step times at the end).\n")

    # Summary -------------------------------------------------------------------------------
    typical_ok = crit["typical"]["ns"] / 1000 <= TARGETS["conversion_us"]
    hello = cold.get("hello", {})
    local = cold.get("local", {})
    ssm = cold.get("ssm", {})

    def p(entry: dict, key: str, q: str) -> float:
        return entry.get(key, {}).get(q, float("nan"))

    hello_med = p(hello, "first_response_ms", "p50")
    local_med = p(local, "first_response_excl_network_ms", "p50")
    ssm_med = p(ssm, "first_response_excl_network_ms", "p50")
    local_ratio = local_med / hello_med if hello_med else float("nan")
    ssm_ratio = ssm_med / hello_med if hello_med else float("nan")
    fwd = warm.get("forwarded", {})
    handler_p99 = fwd.get("handler_excl_network_ms", {}).get("p99", float("nan"))
    rss_fn = rss.get("function", {})
    peak_kb = rss_fn.get("memory_end", {}).get("vm_hwm_kb", float("nan"))
    lam_bin = size["lambda"]
    arm_label = "arm64" if lam_bin["machine"] == "aarch64" else f"{lam_bin['machine']} (no aarch64 std)"

    w("## Summary\n")
    w("| # | figure | value | target | met? | how measured |")
    w("|---|---|---|---|---|---|")
    w(f"| 1 | conversion, typical event (median of the {crit['count']} samples: `{crit['typical']['name']}`) "
      f"| {us(crit['typical']['ns'])} | ≤ 10 µs | {verdict(typical_ok)} | criterion, parse + rules + alert + JSON |")
    w(f"| 1 | conversion, slowest sample (`{crit['slowest']['name']}`) | {us(crit['slowest']['ns'])} | "
      f"(≤ 10 µs) | {info(crit['slowest']['ns'] / 1000 <= TARGETS['conversion_us'])} | criterion |")
    w(f"| 1 | conversion, mean over all {crit['count']} samples | {us(crit['mean_ns'])} | (≤ 10 µs) | "
      f"{info(crit['mean_ns'] / 1000 <= TARGETS['conversion_us'])} | criterion, every sample once per iteration ÷ {crit['count']} |")
    w(f"| 2 | cold start, local mode, excl. network: median (p90) | {msf(local_med)} "
      f"({msf(p(local, 'first_response_excl_network_ms', 'p90'))}) = **{local_ratio:.2f}×** hello | ≤ 1.3× | "
      f"{verdict(local_ratio <= TARGETS['cold_ratio'])} | exec → first response under the bench's Runtime API, {local.get('runs', 0)} runs |")
    if ssm:
        w(f"| 2 | cold start, SSM mode (moto), excl. network: median (p90) | {msf(ssm_med)} "
          f"({msf(p(ssm, 'first_response_excl_network_ms', 'p90'))}) = **{ssm_ratio:.2f}×** hello | ≤ 1.3× | "
          f"{verdict(ssm_ratio <= TARGETS['cold_ratio'])} | same, configuration from SSM on moto; SSM time subtracted |")
    w(f"| 2 | cold start, hello-world lambda_http reference: median (p90) | {msf(hello_med)} "
      f"({msf(p(hello, 'first_response_ms', 'p90'))}) | — | — | `examples/hello_lambda.rs`, same profile |")
    if fwd and "duration_ms" in fwd:
        w(f"| 3 | warm request, forwarded alert, incl. Flashduty stand-in round trip: p50 / p99 | "
          f"{msf(fwd['duration_ms']['p50'], 3)} / {msf(fwd['duration_ms']['p99'], 3)} | — | — | "
          f"event delivered → response POSTed, {fwd['requests']} requests |")
        w(f"| 3 | warm handler overhead, excl. Flashduty round trip: p50 / **p99** | "
          f"{msf(fwd['handler_excl_network_ms']['p50'], 3)} / **{msf(handler_p99, 3)}** | p99 < 1 ms | "
          f"{verdict(handler_p99 < TARGETS['handler_p99_ms'])} | the same requests minus the stand-in exchange timed at the proxy |")
    for name, label in (("dropped", "dropped event (no Flashduty call)"), ("dry_run", "`DRY_RUN=true`"),
                        ("hello", "hello-world reference (runtime floor)")):
        series = warm.get(name, {})
        if "duration_ms" in series:
            w(f"| 3 | warm request, {label}: p50 / p99 | {msf(series['duration_ms']['p50'], 3)} / "
              f"{msf(series['duration_ms']['p99'], 3)} | — | — | cross-check, {series['requests']} requests |")
    if rss_fn and "memory_end" in rss_fn:
        w(f"| 4 | peak RSS (VmHWM) over {rss_fn['requests']} requests | {peak_kb / 1000:.1f} MB "
          f"({peak_kb / 1024:.1f} MiB) | < 20 MB | {verdict(peak_kb * 1000 < TARGETS['rss_mb'] * MB)} | "
          f"/proc/&lt;pid&gt;/status after every sample event in turn |")
    w(f"| 5 | stripped {arm_label} binary (`cargo lambda build --release`) | {mb(lam_bin['bytes'])} | < 6 MB | "
      f"{verdict(lam_bin['bytes'] < TARGETS['arm64_mb'] * MB)} | `{lam_bin['path']}`; zip for upload {mb(lam_bin['zip_bytes'])} |")
    w("")
    w("MB = 10^6 bytes. A target in parentheses is the typical-event target, shown for information.\n")
    load = max(float(meta["loadavg_before"].split()[0]), float(meta["loadavg_after"].split()[0]))
    if load > 1.0:
        w(f"**Note:** the 1-minute load average was {load:.2f} on {meta['cpus']} cores while the Lambda "
          "harness ran: other work shared the CPUs, which inflates latencies and p90/p99 more than medians. "
          "Cold-start variants are interleaved, so their ratio is less affected than their absolute values.\n")

    # 1 --------------------------------------------------------------------------------------
    w("## 1. Conversion\n")
    w(f"`cargo bench --bench convert` (criterion, warm-up {crit['warm_up_s']:g} s, measurement "
      f"{crit['measurement_s']:g} s per sample): each iteration parses a sample's compact JSON "
      "(as Harbor sends it), applies the example rules of SPEC §7 (`benches/data/example-rules.json`), "
      "builds the alerts and serialises the dry-run report to JSON. The figure is criterion's "
      f"headline estimate ({crit['typical']['estimator']}); the typical event is the median of the "
      "per-sample figures. Full table at the end.\n")
    w(f"* fastest `{crit['fastest']['name']}` {us(crit['fastest']['ns'])}, typical `{crit['typical']['name']}` "
      f"{us(crit['typical']['ns'])}, slowest `{crit['slowest']['name']}` {us(crit['slowest']['ns'])};")
    w(f"* all {crit['count']} samples once: {us(crit['all_samples_once']['ns'])} per iteration = "
      f"{us(crit['mean_ns'])} per event (the mean of the per-sample figures is {us(crit['mean_of_per_sample_ns'])}).\n")

    if crit.get("stages"):
        w("Where the time goes (criterion, same samples): *parse* is `payload::parse`; *rules + alert* "
          "is `convert` minus parse; *JSON report* is the full figure minus `convert`.\n")
        w("| sample | parse | rules + alert | JSON report | total |")
        w("|---|---|---|---|---|")
        for sample, st in crit["stages"].items():
            if not all(k in st for k in ("parse", "convert", "convert_json")):
                continue
            w(f"| `{sample}` | {us(st['parse'])} | {us(st['convert'] - st['parse'])} | "
              f"{us(st['convert_json'] - st['convert'])} | {us(st['convert_json'])} |")
        w("")

    # 2 --------------------------------------------------------------------------------------
    w("## 2. Cold start\n")
    w("`cargo bench --bench lambda` (`benches/lambda.rs`) serves a minimal Lambda Runtime API on 127.0.0.1 "
      "and, for each run, queues one Function URL event "
      f"(`events/{cold.get('event', '?')}`), execs the binary with a Lambda-like environment "
      f"(`AWS_LAMBDA_FUNCTION_MEMORY_SIZE={meta['memory_size_env']}`, cleared environment) and timestamps, "
      "on one monotonic clock: exec; the first `GET /runtime/invocation/next` (end of init); the "
      "`POST /runtime/invocation/{id}/response`. SSM (moto) and the Flashduty stand-in sit behind a "
      "timestamping TCP proxy; *excluding network* subtracts every exchange it saw (first request byte "
      "in → last answer byte out). Variants are interleaved run by run; "
      f"{cold.get('warmup_rounds', 0)} warm-up rounds are discarded. Certificates: `local` and `ssm` "
      "run without `SSL_CERT_FILE`, as on Lambda (which sets none): the function trusts the Mozilla "
      "roots compiled into it (`webpki-roots`), so no certificate file is read or parsed at start-up."
      + (f" `local_cert_file` sets `SSL_CERT_FILE={cert_file}`, this host's {ca_count(cert_file)} bundle, "
         "which then replaces the compiled-in roots: its difference to `local` is what reading and "
         "parsing such a bundle at every cold start costs." if "local_cert_file" in cold else "")
      + "\n")
    w("| variant | runs | init (exec → first poll) p50 | init excl. network p50 | first response p50 | "
      "**excl. network p50** | p90 | network p50 | ratio to hello (p50) |")
    w("|---|---|---|---|---|---|---|---|---|")
    for name in COLD_VARIANTS:
        entry = cold.get(name)
        if not entry or not entry.get("runs"):
            continue
        excl = p(entry, "first_response_excl_network_ms", "p50")
        net = p(entry, "network_init_ms", "p50") + p(entry, "network_invoke_ms", "p50")
        w(f"| {name} | {entry['runs']} | {msf(p(entry, 'init_ms', 'p50'))} | "
          f"{msf(p(entry, 'init_excl_network_ms', 'p50'))} | {msf(p(entry, 'first_response_ms', 'p50'))} | "
          f"**{msf(excl)}** | {msf(p(entry, 'first_response_excl_network_ms', 'p90'))} | {msf(net)} | "
          f"{excl / hello_med:.2f}× |")
    w("")
    if init:
        w("### Where init goes\n")
        w("The same start-up steps as `src/main.rs`, each timed in a fresh process (the harness "
          f"re-executes itself, {init.get('runs', '?')} runs, medians; the bench binary is larger than the "
          "function, so the absolute numbers are indicative; network time is not subtracted here). "
          "`tokio_runtime`: the current-thread runtime; `logging`: the JSON subscriber; `settings`: "
          "the environment read; `https_client`: the TLS configuration (ring, the root store: the "
          "compiled-in roots, or the `SSL_CERT_FILE` bundle read and parsed in `local_cert_file`) and the "
          "reqwest client built on it, the instance's one HTTPS client, shared by Flashduty and SSM; "
          "`ssm_client_new`: the SSM client over that client, configured from the environment "
          "(SSM mode); `local_source_with_rules`: configuration and rules from the environment and "
          "`RULES_FILE` (local mode); `flashduty_client_new`: the Flashduty client around the shared "
          "client (no work of its own); `handler_new`: the handler and its configuration cache; "
          "`prefetch_config`: configuration loaded before the first request (SSM mode: the first SSM "
          "read, moto's time included); `flashduty_warm_up`: the connection to Flashduty opened "
          "(the stand-in, on loopback); `ssm_read_repeat`: the same SSM read again on the warm "
          "client, so `prefetch_config` minus it is the SDK's first-call cost.\n")
        present = [k for k, v in init.items() if isinstance(v, dict) and v.get("steps_ms")]
        # Old runs may hold other variants: keep them, after the current ones.
        variants = [k for k in INIT_VARIANTS if k in present] + [k for k in present
                                                                 if k not in INIT_VARIANTS]
        step_names = [s for s in INIT_STEPS if any(s in init[k]["steps_ms"] for k in variants)]
        for k in variants:
            for s in init[k]["steps_ms"]:
                if s not in step_names:
                    step_names.append(s)
        w("| step (ms, p50) | " + " | ".join(variants) + " |")
        w("|---|" + "---|" * len(variants))
        for s in step_names:
            cells = []
            for k in variants:
                v = init[k]["steps_ms"].get(s)
                cells.append(f"{v['p50']:.3f}" if v else "")
            w(f"| {s} | " + " | ".join(cells) + " |")
        w("")

    # 3 --------------------------------------------------------------------------------------
    w("## 3. Warm latency\n")
    w("One process per series, 20 unmeasured warm-up requests, then requests one at a time. *Duration* "
      "is event delivered (answer to `/next`) → response POSTed, what Lambda bills; *handler excl. "
      "network* subtracts, per request, the Flashduty stand-in exchange timed at the proxy (the stand-in "
      "answers the standard alert response `{\"request_id\",\"data\":{\"alert_key\"}}`). "
      "*Enqueue → response* adds the runtime's turnaround between invocations.\n")
    w("| series | requests | duration p50 / p99 / max | handler excl. network p50 / p99 | network p50 | "
      "enqueue → response p50 / p99 | statuses | Flashduty connections |")
    w("|---|---|---|---|---|---|---|---|")
    for name, series in warm.items():
        if not isinstance(series, dict) or "duration_ms" not in series:
            continue
        d, h, n, e = (series["duration_ms"], series["handler_excl_network_ms"], series["network_ms"],
                      series["enqueue_to_response_ms"])
        w(f"| {name} | {series['requests']} | {d['p50']:.3f} / {d['p99']:.3f} / {d['max']:.3f} ms | "
          f"{h['p50']:.3f} / {h['p99']:.3f} ms | {n['p50']:.3f} ms | {e['p50']:.3f} / {e['p99']:.3f} ms | "
          f"{json.dumps(series['statuses'])} | {series.get('flashduty_connections', '')} |")
    w(f"\nForwarded, dry run and hello use `events/{warm.get('typical_event', '?')}`; dropped uses "
      f"`events/{warm.get('dropped_event', '?')}`.\n")

    # 4 --------------------------------------------------------------------------------------
    w("## 4. Memory\n")
    w(f"{rss.get('events', '?')} sample events (`events/*.json`) in turn, forwarded to the stand-in when the "
      "rules say so; `/proc/<pid>/status` read after init and after the last request.\n")
    w("| process | requests | after init: VmRSS (anon + file) | end: VmHWM | end: RssAnon | end: RssFile | "
      "duration p50 / p99 |")
    w("|---|---|---|---|---|---|---|")
    for name, series in rss.items():
        if not isinstance(series, dict) or "memory_end" not in series:
            continue
        a, e = series["memory_after_init"], series["memory_end"]
        w(f"| {name} | {series['requests']} | {a['vm_rss_kb'] / 1000:.1f} MB ({a['rss_anon_kb'] / 1000:.1f} + "
          f"{a['rss_file_kb'] / 1000:.1f}) | **{e['vm_hwm_kb'] / 1000:.1f} MB** | {e['rss_anon_kb'] / 1000:.1f} MB | "
          f"{e['rss_file_kb'] / 1000:.1f} MB | {series['duration_ms']['p50']:.3f} / "
          f"{series['duration_ms']['p99']:.3f} ms |")
    w("\nRssFile is the mapped binary and libc pages (shared, from the page cache); RssAnon is the heap "
      "and stacks. Lambda's *Max Memory Used* counts the whole sandbox, a few MB more.\n")

    # 5 --------------------------------------------------------------------------------------
    w("## 5. Binary size\n")
    w("| binary | machine | stripped | bytes | size | .text |")
    w("|---|---|---|---|---|---|")
    for key, label in (("lambda", "`cargo lambda build --release` (deployed)"), ("host", "host `cargo build --release`"),
                       ("hello", "hello-world example (host)")):
        b = size[key]
        w(f"| {label}: `{b['path']}` | {b['machine']} | {b['stripped']} | {b['bytes']:,} | {mb(b['bytes'])} | "
          f"{b.get('text_bytes', 0) / MB:.2f} MB |")
    w(f"\nDeployment zip (bootstrap alone, deflate -9): {mb(lam_bin['zip_bytes'])}.\n")

    # Profiles -------------------------------------------------------------------------------
    w(PROFILE_BEGIN)
    w(render_profiles())
    w(PROFILE_END + "\n")

    # Appendix -------------------------------------------------------------------------------
    w("## Appendix: conversion per sample\n")
    w("| sample | ns/event | 95% CI | median |")
    w("|---|---|---|---|")
    for name, s in sorted(crit["samples"].items(), key=lambda kv: kv[1]["ns"]):
        w(f"| `{name}` | {s['ns']:.0f} | {s['ci_low']:.0f} – {s['ci_high']:.0f} | {s['median_ns']:.0f} |")
    w("")
    if run_info and run_info["steps"]:
        w("## Appendix: the steps of that `make bench` run\n")
        w("| step | time | outcome |")
        w("|---|---|---|")
        for step, seconds, outcome in run_info["steps"]:
            w(f"| {step} | {seconds:.0f} s | {outcome} |")
        w("")
    w("Reproduce: `make bench` (all figures; about 3.5 min on this machine when the builds are "
      "up to date, 12–15 min after a source change, which rebuilds the host, arm64 and bench "
      "binaries), `make bench-quick` (shorter runs), `make bench-profiles` (the opt-level table; "
      "~30 min of builds the first time, cached in `target/opt-*` afterwards). Raw data: "
      "`target/bench/*.json`.\n")
    return "\n".join(out)


def render_profiles() -> str:
    path = OUT / "profiles.json"
    if not path.exists():
        # Keep the table of an earlier `make bench-profiles` run.
        if REPORT.exists():
            text = REPORT.read_text()
            match = re.search(re.escape(PROFILE_BEGIN) + r"\n(.*?)\n" + re.escape(PROFILE_END), text, re.S)
            if match:
                return match.group(1)
        return "## Release profile: opt-level\n\nNot measured yet: run `make bench-profiles`.\n"
    data = json.loads(path.read_text())
    lines = ["## Release profile: opt-level 3 vs \"s\" vs \"z\"\n",
             f"`make bench-profiles`, {data['date']}, commit {data['commit']}. Every variant has the rest "
             f"of `[profile.release]` (`{json.dumps({k: v for k, v in data['release_profile'].items() if k != 'opt-level'})}`); "
             "only opt-level changes. Sizes from `cargo lambda build --arm64` (deployed) and the host build. Conversion: "
             "`harbor-flashduty-cli convert --lines` of that build over every sample (200 vs 20 copies, "
             "best of 7, the builds interleaved): the criterion bench's work plus line I/O, so higher than "
             "section 1 in absolute terms but comparable between builds. Cold start as in section 2, all "
             "builds interleaved in one harness run (150 rounds) against the hello-world example (release "
             "profile).\n",
             (f"Load average during the cold-start run: {data['meta'].get('loadavg_before', '?').split(' ')[0]} → "
              f"{data['meta'].get('loadavg_after', '?').split(' ')[0]} on {data['meta'].get('cpus', '?')} cores.\n"
              if data.get("meta") else ""),
             "| opt-level | arm64 binary | arm64 zip | host binary | conversion ns/event (mean, CLI) | "
             "cold start local excl. network p50 (p90) | ratio | cold start SSM excl. network p50 | ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for v in data["variants"]:
        cold = v["cold"]
        hello = cold.get("hello", {}).get("first_response_ms", {}).get("p50", float("nan"))
        local = cold.get("local", {}).get("first_response_excl_network_ms", {})
        ssm = cold.get("ssm", {}).get("first_response_excl_network_ms", {})
        current = " (current)" if v["opt_level"] == str(release_profile().get("opt-level", 3)) else ""
        lines.append(
            f"| `{v['opt_level']}`{current} | {mb(v['arm64_bytes'])} | {mb(v['arm64_zip_bytes'])} | "
            f"{mb(v['host_bytes'])} | {v['cli_ns_per_event']:.0f} | {local.get('p50', float('nan')):.2f} "
            f"({local.get('p90', float('nan')):.2f}) ms | {local.get('p50', float('nan')) / hello:.2f}× | "
            f"{ssm.get('p50', float('nan')):.2f} ms | {ssm.get('p50', float('nan')) / hello:.2f}× |")
    lines.append(f"\nMeasured with `[profile.release]` opt-level {data['release_opt_level']}; "
                 "\"(current)\" marks the opt-level in Cargo.toml now.\n")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short criterion runs, fewer requests")
    parser.add_argument("--profiles", action="store_true", help="compare opt-level 3/s/z, then report")
    parser.add_argument("--report", action="store_true", help="only re-render BENCHMARKS.md")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    if args.report:
        REPORT.write_text(render(None))
        log(f"wrote {REPORT.relative_to(ROOT)}")
        return
    if args.profiles:
        profiles(args.quick)
        if all((OUT / f).exists() for f in ("criterion.json", "lambda.json", "sizes.json")):
            REPORT.write_text(render(None))
            log(f"wrote {REPORT.relative_to(ROOT)} (profile table updated)")
        else:
            log("profile table in target/bench/profiles.json; run `make bench` for the full report")
        return

    if not (VENV_BIN / "cargo-lambda").exists() or not (VENV_BIN / "moto_server").exists():
        raise SystemExit("bench: .venv lacks cargo-lambda or moto_server: run `make venv`")
    run(["cargo", "build", "--release", "--bins", "--example", "hello_lambda"],
        step="build release bins + hello example")
    arm_binary, triple = lambda_build("release", [], step="cargo lambda build --release --arm64")
    size = sizes(arm_binary, triple)
    log(f"sizes: lambda {size['lambda']['bytes']:,} B ({size['lambda']['machine']}), "
        f"host {size['host']['bytes']:,} B")
    crit = criterion(args.quick)
    log(f"conversion: typical {crit['typical']['ns']:.0f} ns, slowest {crit['slowest']['ns']:.0f} ns")
    counts = (["--cold-runs", "5", "--warm-requests", "1000", "--rss-requests", "10000"] if args.quick
              else ["--cold-runs", "20", "--warm-requests", "5000", "--rss-requests", "10000"])
    harness(["--function", str(ROOT / "target" / "release" / LAMBDA_BIN),
             "--hello", str(ROOT / "target" / "release" / "examples" / "hello_lambda")] + counts,
            step="Lambda harness (benches/lambda.rs)", out=OUT / "lambda.json")
    REPORT.write_text(render(started))
    (OUT / "run.json").write_text(json.dumps({"minutes": (time.monotonic() - started) / 60, "steps": STEPS}))
    log(f"wrote {REPORT.relative_to(ROOT)} in {(time.monotonic() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
