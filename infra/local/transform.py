"""template.yaml through the SAM transform: the plain CloudFormation `sam deploy` would create.

`transformed()` runs aws-sam-translator (the library the `sam` CLI and CloudFormation's
`AWS::Serverless-2016-10-31` transform use) on template.yaml, offline, for a fake account and
region; the output is cached per template and translator version (memory and a file in the
temp folder), since a translation takes a few seconds.

Everything local reads this output: the functions with their roles (policy templates expanded),
environment, handlers and code; the API's routes from the RestApi body; queue subscriptions
from the event source mappings; schedules from the rules; tables, queues, topics and buses.

`Resolver` resolves the intrinsic functions the output uses (Ref, Fn::GetAtt, Fn::Sub,
Fn::Join) against the physical names of what was created locally.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
# Local CodeUri / ContentUri become s3://CODE_BUCKET/<folder>, as `sam validate` does with them;
# the folder comes back from the function's Code.S3Key.
CODE_BUCKET = "vipcare-local-code"
PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION,
          "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "vipcare", "AWS::NoValue": None,
          "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/vipcare/local"}


class _NoManagedPolicyLookups:
    """The translator asks for a name -> ARN map only for managed policies named without an
    ARN; ours are ARNs or policy templates, so the map is empty (and nothing calls IAM)."""

    def load(self) -> dict[str, str]:
        return {}


def _local_code_to_s3(template: dict[str, Any]) -> None:
    for res in template.get("Resources", {}).values():
        props = res.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            value = props.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                props[key] = f"s3://{CODE_BUCKET}/{value}"
    function_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str) and not function_globals["CodeUri"].startswith("s3://"):
        function_globals["CodeUri"] = f"s3://{CODE_BUCKET}/{function_globals['CodeUri']}"


def translate(sam_template: dict[str, Any]) -> dict[str, Any]:
    """Run the SAM transform on a SAM template (a dict, as yaml.load gives it)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform

    source = copy.deepcopy(sam_template)
    _local_code_to_s3(source)
    parameters = {k: v for k, v in PSEUDO.items() if k in ("AWS::Region", "AWS::AccountId", "AWS::Partition")}
    return transform(source, parameters, _NoManagedPolicyLookups())  # type: ignore[arg-type]


def _cache_file(text: str) -> Path:
    import samtranslator

    digest = hashlib.sha256(f"{samtranslator.__version__}\n{text}".encode()).hexdigest()[:24]
    folder = Path(os.environ.get("VIPCARE_TRANSFORM_CACHE") or tempfile.gettempdir())
    return folder / f"vipcare-sam-transform-{digest}.json"


@cache
def _transformed(path: Path, text: str) -> dict[str, Any]:
    from . import template

    cached = _cache_file(text)
    if cached.exists():
        try:
            return json.loads(cached.read_text())
        except ValueError:
            pass  # a torn write from a parallel run: translate again
    out = translate(template.load(path))
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(out))
    tmp.replace(cached)
    return out


def transformed(path: Path | None = None) -> dict[str, Any]:
    """The CloudFormation template.yaml becomes (do not modify it: copy.deepcopy first)."""
    from . import template

    path = path or template.TEMPLATE
    return _transformed(path, path.read_text())


def code_uri(function_props: dict[str, Any]) -> str:
    """`functions/<name>/` of a transformed AWS::Lambda::Function."""
    code = function_props["Code"]
    if code.get("S3Bucket") != CODE_BUCKET:
        raise ValueError(f"function code is not a local folder: {code}")
    return str(code["S3Key"])


class Resolver:
    """Resolves intrinsic functions against `names` (`X` -> what `!Ref X` gives, `X.Attr` ->
    what `!GetAtt X.Attr` gives) and the template's parameters."""

    def __init__(self, names: dict[str, str], parameters: dict[str, str] | None = None) -> None:
        self.names = names
        self.parameters = {**{k: v for k, v in PSEUDO.items() if v is not None}, **(parameters or {})}

    def ref(self, name: str) -> str:
        if name in self.names:
            return self.names[name]
        if name in self.parameters:
            return str(self.parameters[name])
        raise KeyError(f"cannot resolve !Ref {name} locally")

    def get_att(self, logical_id: str, attribute: str) -> str:
        key = f"{logical_id}.{attribute}"
        if key in self.names:
            return self.names[key]
        raise KeyError(f"cannot resolve !GetAtt {key} locally")

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and name not in self.parameters:
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return self._sub(text, variables)
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(p) for p in self.resolve(parts))
        return {k: self.resolve(v) for k, v in value.items()}
