#!/usr/bin/env python3
"""Put harbor-flashduty's configuration into SSM Parameter Store (boto3).

    PUSH_URL_FILE=push-url.txt AUTH_HEADER_FILE=auth.txt RULES_FILE=rules.json \\
        python scripts/put_config.py [--prefix /harbor-flashduty] [--region eu-west-1]

Values come from the environment, never from the command line (make and
shells print command lines):

    PUSH_URL    or PUSH_URL_FILE      -> <prefix>/push-url     (Flashduty push URL)
    AUTH_HEADER or AUTH_HEADER_FILE   -> <prefix>/auth-header  (Harbor's "Auth Header")
    URL_TOKEN   or URL_TOKEN_FILE     -> <prefix>/url-token    (MSR 3: ?token=...)
    RULES_FILE                        -> <prefix>/rules        (rules JSON)

Only the values given are written, so `RULES_FILE=rules.json` alone updates
the rules. Every parameter is a SecureString (KMS_KEY_ID selects a customer
managed key; default aws/ssm), written with Overwrite and the
Intelligent-Tiering tier (Standard unless the value is over 4 KB). Secrets
are never printed: only names and versions.

The prefix, stack name and region default to what samconfig.toml holds (what
`sam deploy --guided` saved), so config and deploy agree.

    python scripts/put_config.py --get stack_name|ssm_prefix|region
prints one of those settings (used by mk/deploy.mk) and exits;
    python scripts/put_config.py --stack-status
prints the CloudFormation status of the stack, or nothing when it does not
exist yet (mk/deploy.mk then runs `sam deploy --guided`).

AWS credentials come from the usual chain (AWS_PROFILE, env, SSO ...).
AWS_ENDPOINT_URL_SSM points it at a local SSM (moto) for testing.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = {"stack_name": "harbor-flashduty", "ssm_prefix": "/harbor-flashduty", "region": ""}
PREFIX_RE = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")  # same as the template's AllowedPattern


def fail(message: str) -> NoReturn:
    print(f"put_config.py: {message}", file=sys.stderr)
    sys.exit(1)


# --------------------------------------------------------------------------- samconfig.toml
def samconfig_settings(path: Path, env: str = "default") -> dict[str, str]:
    """stack_name, ssm_prefix and region as the deploy section of samconfig.toml has them."""
    settings = dict(DEFAULTS)
    if tomllib is None or not path.is_file():
        return settings
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        print(f"put_config.py: warning: cannot read {path}: {err}", file=sys.stderr)
        return settings
    section = data.get(env, {})
    merged: dict[str, object] = {}
    for command in ("global", "deploy"):  # deploy wins, like in sam
        merged.update(section.get(command, {}).get("parameters", {}))
    if merged.get("stack_name"):
        settings["stack_name"] = str(merged["stack_name"])
    if merged.get("region"):
        settings["region"] = str(merged["region"])
    overrides = merged.get("parameter_overrides", "")
    items = overrides if isinstance(overrides, list) else shlex.split(str(overrides))
    for item in items:
        key, sep, value = str(item).partition("=")
        if sep and key == "SsmPrefix" and value:
            settings["ssm_prefix"] = value
    return settings


# --------------------------------------------------------------------------- values
def value_from_env(name: str) -> str | None:
    """NAME, or the content of the file NAME_FILE (one trailing newline dropped)."""
    direct = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if direct and file_name:
        fail(f"set {name} or {name}_FILE, not both")
    if file_name:
        try:
            text = Path(file_name).read_text(encoding="utf-8")
        except OSError as err:
            fail(f"{name}_FILE: cannot read {file_name}: {err.strerror}")
        text = text[:-1] if text.endswith("\n") else text
        text = text[:-1] if text.endswith("\r") else text
        if not text:
            fail(f"{name}_FILE {file_name} is empty")
        return text
    return direct or None


def check_push_url(url: str) -> None:
    # Mirrors SPEC §3: https, or http only on a loopback host (local testing).
    # Messages never repeat the URL: it carries the integration key.
    if any(c.isspace() for c in url):
        fail("the push URL contains white space (a stray newline in PUSH_URL_FILE?)")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        pass
    elif parts.scheme == "http" and (host == "localhost" or _is_loopback(host)):
        print("put_config.py: note: plain http push URL on a loopback host: only useful for local tests", file=sys.stderr)
    else:
        fail("the push URL must start with https:// (copy it from the Flashduty Standard Alert integration)")
    if "integration_key=" not in (parts.query or ""):
        print("put_config.py: warning: the push URL has no integration_key= query parameter; "
              "Flashduty will refuse alerts without it", file=sys.stderr)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_header_value(name: str, value: str) -> None:
    if "\n" in value or "\r" in value:
        fail(f"{name} contains a line break")
    if value != value.strip():
        fail(f"{name} starts or ends with white space; Harbor sends the value verbatim, so they would never match")


def read_rules(path_text: str) -> str:
    try:
        text = Path(path_text).read_text(encoding="utf-8")
    except OSError as err:
        fail(f"RULES_FILE: cannot read {path_text}: {err.strerror}")
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        fail(f"RULES_FILE {path_text} is not JSON: {err.msg} at line {err.lineno} column {err.colno}")
    return text


# --------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description="Put harbor-flashduty's configuration into SSM (see the module docstring).")
    ap.add_argument("--prefix", help="SSM path (default: SsmPrefix from samconfig.toml, else /harbor-flashduty)")
    ap.add_argument("--region", help="AWS region (default: samconfig.toml, else your AWS configuration)")
    ap.add_argument("--stack-name", help="stack to compare the prefix with (default: samconfig.toml)")
    ap.add_argument("--samconfig", default=str(ROOT / "samconfig.toml"))
    ap.add_argument("--config-env", default="default", help="samconfig.toml environment (default: default)")
    ap.add_argument("--get", choices=sorted(DEFAULTS), help="print one setting and exit")
    ap.add_argument("--stack-status", action="store_true", help="print the stack's status (empty: not deployed) and exit")
    args = ap.parse_args()

    settings = samconfig_settings(Path(args.samconfig), args.config_env)
    if args.get:
        print(settings[args.get])
        return 0

    prefix = (args.prefix or settings["ssm_prefix"]).rstrip("/") or "/"
    if not PREFIX_RE.fullmatch(prefix):
        fail(f"prefix {prefix!r} is not a Parameter Store path like /harbor-flashduty")
    region = args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or settings["region"] or None
    stack_name = args.stack_name or settings["stack_name"]

    if args.stack_status:
        return print_stack_status(stack_name, region)

    values: dict[str, str] = {}
    push_url = value_from_env("PUSH_URL")
    if push_url is not None:
        check_push_url(push_url)
        values["push-url"] = push_url
    auth_header = value_from_env("AUTH_HEADER")
    if auth_header is not None:
        check_header_value("AUTH_HEADER", auth_header)
        values["auth-header"] = auth_header
    url_token = value_from_env("URL_TOKEN")
    if url_token is not None:
        check_header_value("URL_TOKEN", url_token)
        if not re.fullmatch(r"[A-Za-z0-9._~-]+", url_token):
            fail("URL_TOKEN must use only letters, digits and . _ ~ - (it goes into a URL as ?token=...)")
        values["url-token"] = url_token
    rules_file = os.environ.get("RULES_FILE")
    if rules_file:
        values["rules"] = read_rules(rules_file)
    if not values:
        fail("nothing to put: set PUSH_URL(_FILE), AUTH_HEADER(_FILE), URL_TOKEN(_FILE) and/or RULES_FILE")

    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
    except ImportError:
        fail("boto3 is missing; run this with the venv's python (make venv)")

    try:
        ssm = boto3.client("ssm", region_name=region)
    except NoRegionError:
        fail("no AWS region: set AWS_REGION, pass REGION=..., or deploy once so samconfig.toml records it")

    where = f"{ssm.meta.region_name}"
    extra = {"KeyId": os.environ["KMS_KEY_ID"]} if os.environ.get("KMS_KEY_ID") else {}
    for name, value in values.items():
        full_name = f"{prefix}/{name}"
        try:
            answer = ssm.put_parameter(
                Name=full_name,
                Value=value,
                Type="SecureString",
                Overwrite=True,
                Tier="Intelligent-Tiering",
                Description=f"harbor-flashduty {name}",
                **extra,
            )
        except NoCredentialsError:
            fail("no AWS credentials found (set AWS_PROFILE or log in with `aws sso login`)")
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            msg = err.response.get("Error", {}).get("Message", "")
            fail(f"could not put {full_name} in {where}: {code}: {msg}")
        except BotoCoreError as err:
            fail(f"could not put {full_name} in {where}: {err}")
        print(f"put {full_name} (SecureString, version {answer.get('Version')}, {where})")

    report_state(ssm, prefix)
    compare_with_stack(boto3, region, stack_name, prefix)
    return 0


def print_stack_status(stack_name: str, region: str | None) -> int:
    """Print the stack's status, nothing when it does not exist; exit 1 when AWS cannot be asked."""
    try:
        import boto3
        from botocore.exceptions import ClientError
    except ImportError:
        fail("boto3 is missing; run this with the venv's python (make venv)")
    try:
        stacks = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as err:
        if "does not exist" in err.response.get("Error", {}).get("Message", ""):
            return 0
        fail(f"cannot look up stack {stack_name}: {err}")
    except Exception as err:  # no region, no credentials, no network
        fail(f"cannot look up stack {stack_name}: {err}")
    if stacks:
        print(stacks[0].get("StackStatus", ""))
    return 0


def report_state(ssm, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """Warn about what the function will miss; names only, values are not read."""
    try:
        names: set[str] = set()
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=prefix, WithDecryption=False):
            names.update(p["Name"].rsplit("/", 1)[-1] for p in page.get("Parameters", []))
    except Exception:  # listing is only a courtesy; the caller may lack the permission
        return
    if "push-url" not in names:
        print(f"put_config.py: warning: {prefix}/push-url is not set yet; the function answers 503 until it is",
              file=sys.stderr)
    if not names & {"auth-header", "url-token"}:
        print(f"put_config.py: warning: neither {prefix}/auth-header nor {prefix}/url-token is set; "
              "the function refuses every webhook (401) unless AllowUnauthenticated=true", file=sys.stderr)


def compare_with_stack(boto3, region, stack_name: str, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """If the stack is deployed, make sure it reads the prefix we just wrote."""
    try:
        stacks = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)["Stacks"]
    except Exception:  # not deployed yet, no permission, or offline: nothing to compare
        return
    outputs = {o["OutputKey"]: o.get("OutputValue") for o in stacks[0].get("Outputs", [])} if stacks else {}
    deployed = outputs.get("SsmPrefix")
    if deployed and deployed != prefix:
        print(f"put_config.py: warning: stack {stack_name} reads {deployed}, not {prefix}; "
              f"pass SSM_PREFIX={deployed} or redeploy", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
