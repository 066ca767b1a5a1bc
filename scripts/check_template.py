#!/usr/bin/env python3
"""Security and contract checks for template.yaml (plain Python + PyYAML).

    python scripts/check_template.py [--template template.yaml]

Each check is an assertion that fails if someone loosens the template: SSM
access beyond the configured prefix, kms:Decrypt outside SSM, a different
runtime or architecture, an authenticated Function URL (Harbor cannot sign),
no WebhookUrl output, unbounded logs, a timeout that does not fit Harbor's
3 s wait. Prints one line per check and `N passed, M failed` last; exits 1
when any check fails.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Callable

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("check_template.py: PyYAML is missing; run it with the venv's python (.venv/bin/python)")

FUNCTION_ID = "HarborFlashdutyFunction"
PREFIX_PARAM = "SsmPrefix"
ARN_BASE = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SsmPrefix}"
ALLOWED_SSM_RESOURCES = {ARN_BASE, ARN_BASE + "/*"}
VIA_SSM = "ssm.${AWS::Region}.amazonaws.com"
# Managed policies the function's role may carry (none grant SSM or KMS).
ALLOWED_MANAGED_POLICIES = {"AWSLambdaBasicExecutionRole"}


# --------------------------------------------------------------------------- loading
class CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation short-form tags (!Ref, !Sub, !GetAtt ...)."""


def _construct_intrinsic(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix  # "!Sub" arrives as "Sub" because the multi constructor prefix is "!"
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict):
        raise SystemExit(f"check_template.py: {path} is not a YAML mapping")
    return data


# --------------------------------------------------------------------------- helpers
def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def sub_string(value: Any) -> str | None:
    """The template string of a !Sub (short or long form), or a plain string as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        inner = value["Fn::Sub"]
        if isinstance(inner, str):
            return inner
        if isinstance(inner, list) and inner and isinstance(inner[0], str) and len(inner) == 2 and not inner[1]:
            return inner[0]
    return None


def is_ref(value: Any, name: str) -> bool:
    return isinstance(value, dict) and value == {"Ref": name}


def getatt(value: Any) -> list[str] | None:
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            target = target.split(".", 1)
        return list(target)
    return None


def resolve_number(template: dict[str, Any], value: Any) -> Any:
    """A literal, or the Default of the parameter it !Refs."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        param = (template.get("Parameters") or {}).get(value["Ref"])
        return None if param is None else param.get("Default")
    return value


class CheckError(AssertionError):
    pass


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckError(message)


# --------------------------------------------------------------------------- IAM gathering
def function_of(t: dict[str, Any]) -> dict[str, Any]:
    res = (t.get("Resources") or {}).get(FUNCTION_ID)
    require(isinstance(res, dict), f"resource {FUNCTION_ID} is missing")
    return res


def props_of(t: dict[str, Any]) -> dict[str, Any]:
    return function_of(t).get("Properties") or {}


def iam_statements(t: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM policy statement the template grants, with where it came from."""
    found: list[tuple[str, dict[str, Any]]] = []

    def add_document(where: str, doc: Any) -> None:
        require(isinstance(doc, dict), f"{where}: policy document is not a literal mapping")
        for i, stmt in enumerate(as_list(doc.get("Statement"))):
            require(isinstance(stmt, dict), f"{where}: statement {i} is not a mapping")
            found.append((f"{where} statement {stmt.get('Sid', i)}", stmt))

    for logical_id, res in (t.get("Resources") or {}).items():
        rtype = res.get("Type")
        props = res.get("Properties") or {}
        if rtype == "AWS::IAM::Role":
            for pol in as_list(props.get("Policies")):
                add_document(f"{logical_id}/{pol.get('PolicyName')}", pol.get("PolicyDocument"))
        elif rtype in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
            add_document(logical_id, props.get("PolicyDocument"))
        elif rtype == "AWS::Serverless::Function":
            for i, pol in enumerate(as_list(props.get("Policies"))):
                if isinstance(pol, dict) and "Statement" in pol:
                    add_document(f"{logical_id}/Policies[{i}]", pol)
    return found


def actions_of(stmt: dict[str, Any]) -> list[str]:
    return [str(a).lower() for a in as_list(stmt.get("Action"))]


def grants(stmt: dict[str, Any], service: str) -> bool:
    """True when an Allow statement can grant some action of `service` (ssm, kms ...)."""
    if stmt.get("Effect") != "Allow":
        return False
    if "NotAction" in stmt:
        return True  # NotAction grants everything else, so it counts for every service
    return any(a == "*" or a.startswith(service + ":") for a in actions_of(stmt))


# --------------------------------------------------------------------------- checks
CHECKS: list[tuple[str, Callable[[dict[str, Any]], None]]] = []


def check(description: str) -> Callable[[Callable[[dict[str, Any]], None]], Callable[[dict[str, Any]], None]]:
    def register(fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        CHECKS.append((description, fn))
        return fn

    return register


@check("template is a SAM template")
def _(t: dict[str, Any]) -> None:
    require("AWS::Serverless-2016-10-31" in as_list(t.get("Transform")), "Transform AWS::Serverless-2016-10-31 is missing")


@check("SsmPrefix parameter defaults to /harbor-flashduty and its AllowedPattern rejects bad paths")
def _(t: dict[str, Any]) -> None:
    param = (t.get("Parameters") or {}).get(PREFIX_PARAM)
    require(isinstance(param, dict), f"parameter {PREFIX_PARAM} is missing")
    require(param.get("Default") == "/harbor-flashduty", f"{PREFIX_PARAM} default is {param.get('Default')!r}")
    pattern = param.get("AllowedPattern")
    require(isinstance(pattern, str), f"{PREFIX_PARAM} has no AllowedPattern")
    rx = re.compile(pattern)
    good = ["/harbor-flashduty", "/team-a/harbor_flashduty.prod"]
    # Anything that would widen the IAM resource or break the ARN must be refused.
    bad = ["", "/", "harbor-flashduty", "/harbor-flashduty/", "/*", "/harbor-*", "/a/*", "/a b", "/a//b", "*"]
    for value in good:
        require(rx.fullmatch(value) is not None, f"AllowedPattern refuses the valid prefix {value!r}")
    for value in bad:
        require(rx.fullmatch(value) is None, f"AllowedPattern accepts {value!r}")


@check("AllowUnauthenticated parameter is true/false and defaults to false")
def _(t: dict[str, Any]) -> None:
    param = (t.get("Parameters") or {}).get("AllowUnauthenticated")
    require(isinstance(param, dict), "parameter AllowUnauthenticated is missing")
    require(str(param.get("Default")) == "false", f"AllowUnauthenticated default is {param.get('Default')!r}")
    require(sorted(map(str, as_list(param.get("AllowedValues")))) == ["false", "true"], "AllowedValues must be exactly true/false")


@check("function is provided.al2023 on arm64, built by cargo-lambda as harbor-flashduty")
def _(t: dict[str, Any]) -> None:
    fn = function_of(t)
    props = props_of(t)
    require(fn.get("Type") == "AWS::Serverless::Function", f"{FUNCTION_ID} is a {fn.get('Type')}")
    require(props.get("Runtime") == "provided.al2023", f"Runtime is {props.get('Runtime')!r}")
    require(props.get("Architectures") == ["arm64"], f"Architectures is {props.get('Architectures')!r}")
    require(props.get("Handler") == "bootstrap", f"Handler is {props.get('Handler')!r}")
    require(props.get("CodeUri") == ".", f"CodeUri is {props.get('CodeUri')!r}")
    meta = fn.get("Metadata") or {}
    require(meta.get("BuildMethod") == "rust-cargolambda", f"BuildMethod is {meta.get('BuildMethod')!r}")
    binary = (meta.get("BuildProperties") or {}).get("Binary")
    require(binary == "harbor-flashduty", f"BuildProperties.Binary is {binary!r} (must build only the Lambda binary)")


@check("Function URL is public (AuthType NONE): the function checks Authorization itself")
def _(t: dict[str, Any]) -> None:
    url = props_of(t).get("FunctionUrlConfig")
    require(isinstance(url, dict), "FunctionUrlConfig is missing")
    require(url.get("AuthType") == "NONE", f"FunctionUrlConfig.AuthType is {url.get('AuthType')!r}; Harbor cannot sign requests")


@check("environment passes SSM_PREFIX, ALLOW_UNAUTHENTICATED, CONFIG_TTL_SECONDS, DRY_RUN, RUST_LOG")
def _(t: dict[str, Any]) -> None:
    env = ((props_of(t).get("Environment") or {}).get("Variables")) or {}
    require(is_ref(env.get("SSM_PREFIX"), PREFIX_PARAM), f"SSM_PREFIX must be !Ref {PREFIX_PARAM}, is {env.get('SSM_PREFIX')!r}")
    require(is_ref(env.get("ALLOW_UNAUTHENTICATED"), "AllowUnauthenticated"), "ALLOW_UNAUTHENTICATED must be !Ref AllowUnauthenticated")
    for name in ("CONFIG_TTL_SECONDS", "DRY_RUN", "RUST_LOG"):
        require(name in env, f"environment variable {name} is missing")


@check("Timeout fits Harbor's 3 s wait (3 <= Timeout <= 10)")
def _(t: dict[str, Any]) -> None:
    timeout = resolve_number(t, props_of(t).get("Timeout"))
    require(isinstance(timeout, int) and not isinstance(timeout, bool), f"Timeout is {timeout!r}, not a number")
    require(3 <= timeout <= 10, f"Timeout is {timeout} s; it must be 3..10 (the function answers within 2.5 s)")


@check("MemorySize is set (>= 128 MB)")
def _(t: dict[str, Any]) -> None:
    memory = resolve_number(t, props_of(t).get("MemorySize"))
    require(isinstance(memory, int) and memory >= 128, f"MemorySize is {memory!r}")


@check("LoggingConfig: LogFormat JSON into the template's own log group")
def _(t: dict[str, Any]) -> None:
    logging = props_of(t).get("LoggingConfig") or {}
    require(logging.get("LogFormat") == "JSON", f"LogFormat is {logging.get('LogFormat')!r}")
    group = logging.get("LogGroup")
    require(isinstance(group, dict) and "Ref" in group, "LoggingConfig.LogGroup must !Ref the AWS::Logs::LogGroup")
    res = (t.get("Resources") or {}).get(group["Ref"]) or {}
    require(res.get("Type") == "AWS::Logs::LogGroup", f"LoggingConfig.LogGroup refers to {group['Ref']!r}, not a log group")


@check("log group is /aws/lambda/<function name> and has a retention")
def _(t: dict[str, Any]) -> None:
    group_id = ((props_of(t).get("LoggingConfig") or {}).get("LogGroup") or {}).get("Ref")
    props = (((t.get("Resources") or {}).get(group_id)) or {}).get("Properties") or {}
    retention = resolve_number(t, props.get("RetentionInDays"))
    require(isinstance(retention, int) and retention > 0, f"RetentionInDays is {retention!r}: logs would be kept forever")
    name = sub_string(props.get("LogGroupName"))
    fn_name = props_of(t).get("FunctionName")
    fn_name_str = sub_string(fn_name) if not (isinstance(fn_name, dict) and "Ref" in fn_name) else "${%s}" % fn_name["Ref"]
    require(name is not None and fn_name_str is not None, "FunctionName and LogGroupName must be literal or !Ref/!Sub")
    require(name == "/aws/lambda/" + fn_name_str, f"log group {name!r} is not /aws/lambda/{fn_name_str}")


@check("the function uses the template's own role (or inline statements only), no broad managed policies")
def _(t: dict[str, Any]) -> None:
    props = props_of(t)
    role = props.get("Role")
    resources = t.get("Resources") or {}
    if role is not None:
        target = getatt(role)
        require(target is not None and target[1] == "Arn", f"Role must be !GetAtt <role>.Arn of a role in this template, is {role!r}")
        role_res = resources.get(target[0]) or {}
        require(role_res.get("Type") == "AWS::IAM::Role", f"Role {target[0]!r} is not an AWS::IAM::Role here")
        for arn in as_list((role_res.get("Properties") or {}).get("ManagedPolicyArns")):
            text = sub_string(arn) or str(arn)
            require(any(text.endswith("/" + p) or text.endswith("/service-role/" + p) for p in ALLOWED_MANAGED_POLICIES),
                    f"role carries managed policy {text!r}")
        require("Policies" not in props, "Policies is ignored when Role is set; put statements on the role")
    for i, pol in enumerate(as_list(props.get("Policies"))):
        if isinstance(pol, str):
            require(pol in ALLOWED_MANAGED_POLICIES, f"Policies[{i}] attaches managed policy {pol!r}")
        else:
            require(isinstance(pol, dict) and "Statement" in pol,
                    f"Policies[{i}] is a SAM policy template {list(pol) if isinstance(pol, dict) else pol!r}; use inline statements")


@check("no IAM statement allows every action or uses NotAction/NotResource")
def _(t: dict[str, Any]) -> None:
    statements = iam_statements(t)
    require(statements, "no IAM statements found")
    for where, stmt in statements:
        require("NotAction" not in stmt and "NotResource" not in stmt, f"{where} uses NotAction/NotResource")
        if stmt.get("Effect") == "Allow":
            for action in actions_of(stmt):
                require(action != "*" and not action.endswith(":*"), f"{where} allows {action!r}")


@check("SSM access only on the SsmPrefix path: prefix ARN and prefix/* ARN, never '*'")
def _(t: dict[str, Any]) -> None:
    ssm = [(w, s) for w, s in iam_statements(t) if grants(s, "ssm")]
    require(ssm, "no statement grants SSM access: the function could not read its configuration")
    for where, stmt in ssm:
        resources = as_list(stmt.get("Resource"))
        require(resources, f"{where} has no Resource")
        for res in resources:
            text = sub_string(res)
            require(text is not None, f"{where}: resource {res!r} is not a literal/!Sub ARN")
            require(text in ALLOWED_SSM_RESOURCES,
                    f"{where}: resource {text!r} is not {ARN_BASE} or {ARN_BASE}/*")
        for action in actions_of(stmt):
            require(action in ("ssm:getparametersbypath", "ssm:getparameter", "ssm:getparameters"),
                    f"{where} grants {action!r}; the function only reads parameters")


@check("ssm:GetParametersByPath is granted on the prefix path itself")
def _(t: dict[str, Any]) -> None:
    ok = any(
        "ssm:getparametersbypath" in actions_of(stmt) and ARN_BASE in [sub_string(r) for r in as_list(stmt.get("Resource"))]
        for _, stmt in iam_statements(t)
        if stmt.get("Effect") == "Allow"
    )
    require(ok, f"no statement allows ssm:GetParametersByPath on {ARN_BASE}")


@check("kms:Decrypt only via SSM (Condition StringEquals kms:ViaService), never on '*'")
def _(t: dict[str, Any]) -> None:
    for where, stmt in iam_statements(t):
        if not grants(stmt, "kms"):
            continue
        actions = actions_of(stmt)
        require(actions == ["kms:decrypt"], f"{where} grants {actions}; only kms:Decrypt is needed")
        via = ((stmt.get("Condition") or {}).get("StringEquals") or {}).get("kms:ViaService")
        require(sub_string(via) == VIA_SSM, f"{where}: kms:Decrypt without Condition StringEquals kms:ViaService: {VIA_SSM}")
        for res in as_list(stmt.get("Resource")):
            text = sub_string(res)
            require(text not in (None, "*"), f"{where}: kms:Decrypt on {res!r}")
            require(text.startswith("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/"),
                    f"{where}: kms:Decrypt resource {text!r} is not a key of this account and region")


@check("logs permissions only on the function's log group")
def _(t: dict[str, Any]) -> None:
    group_id = ((props_of(t).get("LoggingConfig") or {}).get("LogGroup") or {}).get("Ref")
    for where, stmt in iam_statements(t):
        if not grants(stmt, "logs"):
            continue
        for res in as_list(stmt.get("Resource")):
            target = getatt(res)
            require(target == [group_id, "Arn"], f"{where}: logs access on {res!r}, not !GetAtt {group_id}.Arn")


@check("Output WebhookUrl is the function URL")
def _(t: dict[str, Any]) -> None:
    out = (t.get("Outputs") or {}).get("WebhookUrl")
    require(isinstance(out, dict), "output WebhookUrl is missing")
    require(getatt(out.get("Value")) == [f"{FUNCTION_ID}Url", "FunctionUrl"],
            f"WebhookUrl is {out.get('Value')!r}, not !GetAtt {FUNCTION_ID}Url.FunctionUrl")


@check("alarm on AlertsFailed (HarborFlashduty, per function, Sum >= 1 in 5 min, missing data not breaching)")
def _(t: dict[str, Any]) -> None:
    alarms = [
        (lid, r.get("Properties") or {})
        for lid, r in (t.get("Resources") or {}).items()
        if r.get("Type") == "AWS::CloudWatch::Alarm" and (r.get("Properties") or {}).get("MetricName") == "AlertsFailed"
    ]
    require(len(alarms) == 1, f"expected one alarm on AlertsFailed, found {len(alarms)}")
    lid, p = alarms[0]
    require(p.get("Namespace") == "HarborFlashduty", f"{lid}: Namespace {p.get('Namespace')!r}")
    dims = p.get("Dimensions") or []
    require(len(dims) == 1 and dims[0].get("Name") == "FunctionName"
            and is_ref(dims[0].get("Value"), FUNCTION_ID),
            f"{lid}: Dimensions must be exactly FunctionName = !Ref {FUNCTION_ID} (the per-function total the function emits)")
    require(p.get("Statistic") == "Sum", f"{lid}: Statistic {p.get('Statistic')!r}")
    require(p.get("ComparisonOperator") == "GreaterThanOrEqualToThreshold" and p.get("Threshold") == 1,
            f"{lid}: must fire at Sum >= 1")
    require(p.get("Period") == 300 and p.get("EvaluationPeriods") == 1, f"{lid}: must cover 5 minutes")
    require(p.get("TreatMissingData") == "notBreaching", f"{lid}: TreatMissingData {p.get('TreatMissingData')!r}")


@check("alarm actions go to the optional SNS topic only when one is given")
def _(t: dict[str, Any]) -> None:
    params = t.get("Parameters") or {}
    topic = params.get("AlarmTopicArn")
    require(isinstance(topic, dict) and topic.get("Default") == "", "parameter AlarmTopicArn with Default '' is missing")
    conditions = t.get("Conditions") or {}
    for lid, res in (t.get("Resources") or {}).items():
        if res.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        actions = (res.get("Properties") or {}).get("AlarmActions")
        require(isinstance(actions, dict) and "Fn::If" in actions, f"{lid}: AlarmActions must be !If [<condition>, ..., !Ref AWS::NoValue]")
        cond, when_true, when_false = actions["Fn::If"]
        require(cond in conditions, f"{lid}: condition {cond!r} is not defined")
        require(as_list(when_true) == [{"Ref": "AlarmTopicArn"}], f"{lid}: actions must be [!Ref AlarmTopicArn]")
        require(when_false == {"Ref": "AWS::NoValue"}, f"{lid}: without a topic the alarm must have no actions")


# --------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", default=str(Path(__file__).resolve().parent.parent / "template.yaml"))
    args = ap.parse_args()
    path = Path(args.template)
    try:
        template = load_template(path)
    except (OSError, yaml.YAMLError) as err:
        print(f"check_template.py: cannot load {path}: {err}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    passed = failed = 0
    for description, fn in CHECKS:
        try:
            fn(template)
        except CheckError as err:
            failed += 1
            print(f"FAIL  {description}\n      -> {err}")
        except Exception as err:  # a malformed template must fail the check, not crash the run
            failed += 1
            print(f"FAIL  {description}\n      -> unexpected template shape: {type(err).__name__}: {err}")
        else:
            passed += 1
            print(f"ok    {description}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
