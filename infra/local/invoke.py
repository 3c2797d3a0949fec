"""Run handlers with sample events, as `sam local invoke` would (Docker is not needed).

    python -m infra.local.invoke events/enrollment/enrol.json [more events ...]

Events run in order against an in-process moto holding the template's tables and the demo
directory (brand demo, stores, staff). The placeholder member id `m_0123456789abcdef` in a
later event is replaced by the member an earlier event enrolled, so
`enrol.json get-member.json` shows the card just created. A scheduled event (EventBridge
`Scheduled Event`) runs the scheduled function of its folder, e.g.
`events/complaint_routing/escalation-run.json`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

PLACEHOLDER_MEMBER = "m_0123456789abcdef"


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    from .stack import FAKE_AWS_ENV

    os.environ.update(FAKE_AWS_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    import boto3
    from moto import mock_aws

    from . import iam, resources, template
    from .lambdas import ensure_layer_on_path

    names = resources.physical_names() | {"StaffUserPool": "local", "StaffUserPoolClient": "local"}
    for fn in template.functions():  # what the template gives the functions, unless already set
        for key, value in template.function_environment(fn, names).items():
            os.environ.setdefault(key, value)
    ensure_layer_on_path()
    def client(service: str) -> object:
        return boto3.client(service)  # type: ignore[call-overload]

    with mock_aws():
        iam.enforce(client, resources.create_all(client))
        try:
            return _run(paths)
        finally:
            iam.relax()


def _run(paths: list[str]) -> int:
    from . import template
    from .demo import seed
    from .lambdas import LambdaContext, handler_for

    seed(members_per_brand=0)
    member_id = None
    for path in paths:
        text = Path(path).read_text()
        if member_id:
            text = text.replace(PLACEHOLDER_MEMBER, member_id)
        event = json.loads(text)
        if event.get("source") == "aws.events":  # a scheduled event: the folder names the function
            props = scheduled_function(Path(path).parent.name)
            if props is None:
                print(f"{path}: no scheduled function {Path(path).parent.name!r} in template.yaml")
                return 1
            result = handler_for(props["CodeUri"], props["Handler"])(event, LambdaContext())
            print(f"== {path} -> scheduled run at {event['time']}")
            print(json.dumps(result, indent=2, ensure_ascii=False))
            continue
        route = next((r for r in template.routes()
                      if r.method == event["httpMethod"] and r.path == event["resource"]), None)
        if route is None:
            print(f"{path}: no route {event['httpMethod']} {event['resource']} in template.yaml")
            return 1
        result = handler_for(route.code_uri, route.handler)(event, LambdaContext(function_name=route.function))
        body = json.loads(result["body"]) if result.get("body") else None
        member_id = (body or {}).get("member_id") or member_id
        print(f"== {path} -> {route.function} {route.method} {route.path}: {result['statusCode']}")
        print(json.dumps(body, indent=2, ensure_ascii=False))
    return 0


def scheduled_function(folder: str) -> dict | None:
    from . import template

    for props in template.functions().values():
        events = (props.get("Events") or {}).values()
        if props["CodeUri"].rstrip("/").endswith(f"/{folder}") and any(
                e["Type"] in ("Schedule", "ScheduleV2") for e in events):
            return props
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
