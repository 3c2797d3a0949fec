"""Reads template.yaml as CloudFormation will: through the SAM transform (`transform.py`).

The local stack and the tests build everything from what this module extracts - tables,
routes, queue subscriptions, schedules, environment and each function's role - so a resource
added to the template shows up locally without a second definition, expanded exactly as
`sam deploy` expands it (policy templates, events, globals).

`load()` is the SAM source as written (for checks on how the template is written);
everything else comes from the transformed output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from . import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

# Properties of AWS::DynamoDB::Table that CreateTable accepts as they are.
_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
               "BillingMode")


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short tags (!Ref, !Sub...) as their long form."""


def _tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


@cache
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The SAM template as written (short tags in their long form)."""
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def cloudformation() -> dict[str, Any]:
    """The transformed template: plain CloudFormation (shared: copy before changing it)."""
    return transform.transformed(TEMPLATE)


def resources(kind: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Resources of a type: SAM types (AWS::Serverless::*) from the source, every other type
    from the transformed template, unless a template is given."""
    if template is None:
        template = load() if kind.startswith("AWS::Serverless::") else cloudformation()
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def physical_name(logical_id: str, prefix: str = "vipcare") -> str:
    """Local stand-in for the name CloudFormation would generate."""
    return f"{prefix}-{logical_id}"


def table_definitions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """CreateTable arguments per logical id (encryption and PITR are AWS-side concerns)."""
    out = {}
    for name, res in resources("AWS::DynamoDB::Table", template).items():
        props = res["Properties"]
        spec = {k: props[k] for k in _TABLE_KEYS if k in props}
        spec["TableName"] = physical_name(name)
        out[name] = spec
    return out


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, e.g. /members/{member_id}
    function: str  # logical id
    code_uri: str
    handler: str
    pattern: re.Pattern[str] = field(compare=False, hash=False, repr=False)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method:
            return None
        m = self.pattern.fullmatch(path)
        return m.groupdict() if m else None


def _path_regex(resource_path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", resource_path)
    regex = "".join(
        f"(?P<{p[1:-1].rstrip('+')}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts
    )
    return re.compile(regex)


_INTEGRATION_FUNCTION = re.compile(r"/functions/\$\{(?P<function>[A-Za-z0-9]+)\.Arn\}/invocations")
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def api_operations(template: dict[str, Any] | None = None) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(METHOD, path, function logical id, the OpenAPI operation) of every API Gateway REST API
    body the transform generated: the routes API Gateway will serve."""
    template = template or cloudformation()
    out = []
    for res in resources("AWS::ApiGateway::RestApi", template).values():
        for path, item in (res["Properties"].get("Body") or {}).get("paths", {}).items():
            for method, operation in item.items():
                if method not in _HTTP_METHODS:
                    continue
                uri = operation["x-amazon-apigateway-integration"]["uri"]
                text = uri["Fn::Sub"] if isinstance(uri, dict) else uri
                text = text[0] if isinstance(text, list) else text
                m = _INTEGRATION_FUNCTION.search(text)
                if m is None:
                    raise ValueError(f"{method.upper()} {path}: not a Lambda proxy integration: {text}")
                out.append((method.upper(), path, m.group("function"), operation))
    return out


def routes(template: dict[str, Any] | None = None) -> list[Route]:
    if template is None:
        return list(_default_routes())
    return _routes(template)


@cache
def _default_routes() -> tuple[Route, ...]:
    return tuple(_routes(cloudformation()))


def _routes(template: dict[str, Any]) -> list[Route]:
    fns = functions(template)
    out = [Route(method, path, fn, fns[fn]["CodeUri"], fns[fn]["Handler"], _path_regex(path))
           for method, path, fn, _ in api_operations(template)]
    # Literal segments win over parameters, as in API Gateway: most specific first.
    out.sort(key=lambda r: (r.path.count("{"), -len(r.path)))
    return out


def _target_function(arn: Any) -> str | None:
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        logical_id, attribute = arn["Fn::GetAtt"]
        return logical_id if attribute == "Arn" else None
    return None


def _events(template: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Function logical id -> its triggers in the shape of SAM events (Api, SQS, Schedule),
    rebuilt from what the transform generated: the REST API body, the event source mappings
    and the scheduled rules."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for method, path, fn, _ in api_operations(template):
        out.setdefault(fn, {})[f"{method} {path}"] = {"Type": "Api", "Properties": {"Path": path, "Method": method}}
    for logical_id, res in resources("AWS::Lambda::EventSourceMapping", template).items():
        props = res["Properties"]
        fn = props["FunctionName"]["Ref"]
        out.setdefault(fn, {})[logical_id.removeprefix(fn)] = {"Type": "SQS", "Properties": {
            "Queue": props["EventSourceArn"], "BatchSize": props.get("BatchSize", 10),
            **{k: props[k] for k in ("FunctionResponseTypes", "ScalingConfig", "MaximumBatchingWindowInSeconds")
               if k in props}}}
    for logical_id, res in resources("AWS::Events::Rule", template).items():
        props = res["Properties"]
        if "ScheduleExpression" not in props:
            continue
        for target in props.get("Targets", []):
            scheduled = _target_function(target["Arn"])
            if scheduled is not None:
                out.setdefault(scheduled, {})[logical_id.removeprefix(scheduled)] = {"Type": "Schedule", "Properties": {
                    "Schedule": props["ScheduleExpression"], "Rule": logical_id}}
    return out


def _source_props(logical_id: str) -> dict[str, Any]:
    source = load()
    merged = dict(source.get("Globals", {}).get("Function", {}))
    merged.update(source["Resources"].get(logical_id, {}).get("Properties", {}))
    return merged


def functions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Logical id -> the function as deployed: the transformed AWS::Lambda::Function's
    properties (Handler, Environment, Role, Timeout, KmsKeyArn...), plus `CodeUri` (its
    folder), `Events` (its triggers, rebuilt from the transform's output), `RoleId` (the
    logical id of its execution role) and `Policies` (the SAM policies as written)."""
    if template is None:
        return {name: dict(props) for name, props in _default_functions().items()}
    return _functions(template)


@cache
def _default_functions() -> dict[str, dict[str, Any]]:
    return _functions(cloudformation())


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events = _events(template)
    out = {}
    for name, res in resources("AWS::Lambda::Function", template).items():
        props = dict(res["Properties"])
        props["CodeUri"] = transform.code_uri(props)
        props["Events"] = events.get(name, {})
        props["RoleId"] = props["Role"]["Fn::GetAtt"][0]
        props["Policies"] = _source_props(name).get("Policies", [])
        out[name] = props
    return out


def function_for_code(code_uri: str) -> str | None:
    """The logical id of the function whose code is this folder."""
    wanted = code_uri.rstrip("/")
    return next((name for name, props in functions().items() if props["CodeUri"].rstrip("/") == wanted), None)


def resolve_value(value: Any, names: dict[str, str], parameters: dict[str, str]) -> str:
    """Resolve the intrinsic functions the template uses in environment variables."""
    return str(transform.Resolver(names, parameters).resolve(value))


def parameter_defaults(template: dict[str, Any] | None = None) -> dict[str, str]:
    template = template or load()
    return {k: str(v.get("Default", "")) for k, v in (template.get("Parameters") or {}).items()}


def function_environment(logical_id: str, names: dict[str, str],
                         template: dict[str, Any] | None = None) -> dict[str, str]:
    props = (functions(template) if template is not None else _default_functions())[logical_id]
    variables = (props.get("Environment") or {}).get("Variables") or {}
    resolver = transform.Resolver(names, parameter_defaults())
    return {k: str(resolver.resolve(v)) for k, v in variables.items()}
