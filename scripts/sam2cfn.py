#!/usr/bin/env python3
"""Expand a SAM template into plain CloudFormation, offline, and print it as JSON.

    python scripts/sam2cfn.py [template.yaml] > /tmp/harbor-flashduty.cfn.json
    cfn-lint /tmp/harbor-flashduty.cfn.json

cfn-lint no longer runs the SAM transform itself, so it misses mistakes that
only show up in the expanded template (a bad Runtime, a !GetAtt to a resource
SAM generates such as HarborFlashdutyFunctionUrl). This runs samtranslator
(installed with aws-sam-cli) locally: no AWS account, credentials or network.

Local paths in CodeUri/ContentUri (what `sam build` would upload) are swapped
for placeholder s3:// URIs first, because the translator only accepts S3
locations. The region only selects the ARN partition; it defaults to
us-east-1 when AWS_DEFAULT_REGION is not set.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

try:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("sam2cfn.py: samtranslator is missing; run it with the venv's python (.venv/bin/python, `make venv`)")

PLACEHOLDER_BUCKET = "sam2cfn-placeholder-bucket"

# resource type -> property that holds a local path before `sam build`/`sam package`
LOCAL_URI_PROPERTIES = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


class OfflinePolicyLoader:
    """Stands in for samtranslator's ManagedPolicyLoader, which asks IAM.

    samtranslator already ships a map of the AWS managed policies; this is only
    consulted for names outside it, and offline we know none.
    """

    def load(self) -> dict[str, str]:
        return {}


def is_local(uri: Any) -> bool:
    return isinstance(uri, str) and not uri.startswith("s3://")


def swap_local_uris(template: dict[str, Any]) -> None:
    for logical_id, resource in (template.get("Resources") or {}).items():
        prop = LOCAL_URI_PROPERTIES.get(resource.get("Type"))
        props = resource.get("Properties")
        if prop and isinstance(props, dict) and is_local(props.get(prop, ".")):
            # A missing CodeUri means "." (the template's directory) to sam build.
            props[prop] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.zip"
    function_globals = (template.get("Globals") or {}).get("Function") or {}
    if is_local(function_globals.get("CodeUri", "s3://")):
        function_globals["CodeUri"] = f"s3://{PLACEHOLDER_BUCKET}/globals.zip"


def main(argv: list[str]) -> int:
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = Path(argv[1] if len(argv) == 2 else "template.yaml")
    try:
        template = yaml_parse(path.read_text(encoding="utf-8"))
    except OSError as err:
        print(f"sam2cfn.py: cannot read {path}: {err}", file=sys.stderr)
        return 1
    swap_local_uris(template)
    try:
        expanded = transform(template, {}, OfflinePolicyLoader())
    except Exception as err:  # samtranslator raises InvalidDocumentException & co.
        causes = getattr(err, "causes", None) or []
        print(f"sam2cfn.py: {path} does not transform: {err}", file=sys.stderr)
        for cause in causes:
            print(f"  - {getattr(cause, 'message', cause)}", file=sys.stderr)
        return 1
    json.dump(expanded, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
