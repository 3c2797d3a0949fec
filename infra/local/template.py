"""Reads template.yaml: the one source for tables, routes, queues, schedules and env vars.

The local stack and the tests build everything from what this module extracts, so a
resource added to the template shows up locally without a second definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

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
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def resources(kind: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    template = template or load()
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


def _function_props(res: dict[str, Any], template: dict[str, Any]) -> dict[str, Any]:
    merged = dict(template.get("Globals", {}).get("Function", {}))
    merged.update(res["Properties"])
    return merged


def routes(template: dict[str, Any] | None = None) -> list[Route]:
    template = template or load()
    out = []
    for name, res in resources("AWS::Serverless::Function", template).items():
        props = _function_props(res, template)
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            p = event["Properties"]
            out.append(Route(p["Method"].upper(), p["Path"], name, props["CodeUri"], props["Handler"],
                             _path_regex(p["Path"])))
    # Literal segments win over parameters, as in API Gateway: most specific first.
    out.sort(key=lambda r: (r.path.count("{"), -len(r.path)))
    return out


def functions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Logical id -> merged properties (Globals applied) of every function."""
    template = template or load()
    return {name: _function_props(res, template)
            for name, res in resources("AWS::Serverless::Function", template).items()}


def resolve_value(value: Any, names: dict[str, str], parameters: dict[str, str]) -> str:
    """Resolve the intrinsic functions the template uses in environment variables."""
    if isinstance(value, dict) and "Ref" in value:
        ref = value["Ref"]
        if ref in names:
            return names[ref]
        if ref in parameters:
            return parameters[ref]
        raise KeyError(f"cannot resolve !Ref {ref} locally")
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical, attr = value["Fn::GetAtt"]
        return names.get(f"{logical}.{attr}") or names[logical]
    return str(value)


def parameter_defaults(template: dict[str, Any] | None = None) -> dict[str, str]:
    template = template or load()
    return {k: str(v.get("Default", "")) for k, v in (template.get("Parameters") or {}).items()}


def function_environment(logical_id: str, names: dict[str, str],
                         template: dict[str, Any] | None = None) -> dict[str, str]:
    props = functions(template)[logical_id]
    variables = (props.get("Environment") or {}).get("Variables") or {}
    params = parameter_defaults(template)
    return {k: resolve_value(v, names, params) for k, v in variables.items()}
