"""The local stack: a moto server holding every resource of template.yaml (created by moto's
CloudFormation from the SAM transform's output), the API served over HTTP as API Gateway
would, the job runner and queue poller; each function runs with its own role's credentials,
with moto's IAM access control on (infra/local/iam.py).

Used by `make run` (python -m infra.local) and by the e2e tests (on free ports).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from . import iam, resources, template
from .cognito import LocalCognito

REGION = "us-east-1"
# Fake credentials: nothing here may ever reach real AWS.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class LocalStack:
    moto_port: int = 5000
    host: str = "127.0.0.1"
    names: dict[str, str] = field(default_factory=dict)
    cognito: LocalCognito | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.moto_port}"

    def start(self) -> None:
        """Start the moto server, point every AWS client of this process at it, create
        the template's resources and set the functions' environment."""
        from moto.server import ThreadedMotoServer

        from .moto_speedups import install

        install()  # transactions cost what they touch, not the whole table

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        os.environ.update(FAKE_AWS_ENV)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self._server.start()
        self.create_resources()
        self.apply_function_environment()
        # From here on each function runs under its own role and moto checks every call.
        iam.enforce(self.client, self.names)

    def stop(self) -> None:
        iam.relax()
        self._server.stop()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)  # type: ignore[call-overload]

    def create_resources(self) -> None:
        self.names.update(resources.create_all(self.client, sqs_endpoint=self.endpoint))
        self.cognito = LocalCognito(self.client("cognito-idp"), self.endpoint, REGION)
        self.cognito.create_from_template()
        pool_id = next(iter(template.resources("AWS::Cognito::UserPool")))
        client_id = next(iter(template.resources("AWS::Cognito::UserPoolClient")))
        self.names[pool_id] = self.cognito.pool_id
        self.names[client_id] = self.cognito.client_id

    def apply_function_environment(self) -> None:
        """All functions share this process, so their environments are merged; the template
        gives every function the same names for the same resources."""
        merged: dict[str, str] = {}
        for logical_id in template.functions():
            for key, value in template.function_environment(logical_id, self.names).items():
                if merged.get(key, value) != value:
                    raise RuntimeError(f"functions disagree on {key}; give them distinct names")
                merged[key] = value
        os.environ.update(merged)
        # No X-Ray daemon and no CloudWatch here: tracing off, metrics off, quieter logs.
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("VIPCARE_LOG_LEVEL", "WARNING")
