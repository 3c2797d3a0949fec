"""`make run`: the local stack with demo data, serving the API until Ctrl-C.

    python -m infra.local [--api-port 3000] [--moto-port 5000] [--members 300] [--no-demo]

Ports also come from VIPCARE_API_PORT and VIPCARE_MOTO_PORT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("VIPCARE_API_PORT", "3000")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("VIPCARE_MOTO_PORT", "5000")))
    parser.add_argument("--members", type=int, default=300, help="demo members in brand demo")
    parser.add_argument("--no-demo", action="store_true", help="start empty")
    parser.add_argument("--quiet", action="store_true", help="no access log")
    args = parser.parse_args(argv)

    started = time.monotonic()
    from .stack import LocalStack

    stack = LocalStack(moto_port=args.moto_port)
    stack.start()  # sets the environment before any vipcare module is imported

    from . import iam
    from .gateway import Gateway
    from .lambdas import ensure_layer_on_path
    from .local_routes import ROUTES
    from .poller import QueuePoller

    ensure_layer_on_path()
    counts = {} if args.no_demo else __import__("infra.local.demo", fromlist=["seed"]).seed(
        members_per_brand=args.members)
    assert stack.cognito is not None
    log = (lambda _: None) if args.quiet else (lambda line: print(line, flush=True))
    gateway = Gateway(stack.cognito, port=args.api_port, local_routes=ROUTES, log=log, names=stack.names,
                      aws_client=stack.client)
    gateway.serve_in_thread()
    poller = QueuePoller(stack.client("sqs"), stack.names, log=log)
    poller.start()
    token = stack.cognito.token_for(brand_id="demo", role="admin", store_id="demo-001",
                                    staff_id="demo-001-admin")
    url = gateway.url
    operator = iam.operator()
    key = f"{operator.access_key} {operator.secret_key}" if operator else "any (access control off)"
    print(f"""
VIP Care local stack is up ({time.monotonic() - started:.1f}s)
  API          {url}
  OpenAPI      {url}/openapi.json
  Swagger UI   {url}/docs
  AWS (moto)   {stack.endpoint}
  AWS key      {key}  (id, secret: the local administrator; each function has its own role)
  demo data    {json.dumps(counts)}
  token        POST {url}/_local/token {{"brand_id": "demo", "store_id": "demo-001", "role": "manager"}}

An admin token for brand demo, store demo-001 (valid 1 hour):
{token}

Try:  curl -s -H "Authorization: $TOKEN" "{url}/members?phone=13900000000"
Ctrl-C stops.
READY {url}""", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    poller.stop()
    gateway.shutdown()
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
