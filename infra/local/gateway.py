"""The local API Gateway: HTTP on 127.0.0.1:3000 -> Cognito check -> proxy event -> handler.

Routes come from template.yaml. `/_local/...` routes exist only here, for trying things out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import template
from .apigw import proxy_event
from .cognito import LocalCognito, TokenRejected
from .lambdas import LambdaContext, handler_for

# API Gateway's own payload limit; the functions enforce the product's (64 KB) themselves.
GATEWAY_MAX_BODY = 10 * 1024 * 1024

# Swagger UI's own files are served by the gateway (local_routes.docs_asset), never from a CDN:
# /docs works on a machine without internet. No validator badge either: it calls swagger.io.
SWAGGER_ASSETS = "/docs/assets"
SWAGGER_PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>VIP Care API</title>
<link rel="icon" type="image/png" href="{SWAGGER_ASSETS}/favicon-32x32.png">
<link rel="stylesheet" href="{SWAGGER_ASSETS}/swagger-ui.css"></head>
<body><div id="ui"></div><script src="{SWAGGER_ASSETS}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "/openapi.json", dom_id: "#ui", persistAuthorization: true, validatorUrl: null}});
</script></body></html>"""


@dataclass(frozen=True)
class Raw:
    """A local route's body sent as it is, with its own type (Swagger UI's scripts and images)."""

    content_type: str
    data: bytes


LocalRoute = Callable[["Gateway", dict[str, Any], dict[str, list[str]]], tuple[int, Any]]


class Gateway:
    def __init__(self, cognito: LocalCognito, *, host: str = "127.0.0.1", port: int = 3000,
                 local_routes: Mapping[tuple[str, str], LocalRoute] | None = None,
                 log: Callable[[str], None] = print, names: dict[str, str] | None = None,
                 aws_client: Callable[[str], Any] | None = None) -> None:
        self.cognito = cognito
        self.names = names or {}
        self.aws_client = aws_client or (lambda service: None)
        self.routes = template.routes()
        self.local_routes = local_routes or {}
        self.log = log
        # One invocation at a time per function, like a single warm Lambda instance
        # (the powertools resolver keeps the current event on the app object).
        self._locks = {r.function: threading.Lock() for r in self.routes}
        handler = type("Handler", (_RequestHandler,), {"gateway": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def invoke_api(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                   body: str | None) -> tuple[int, dict[str, str], str]:
        for route in self.routes:
            params = route.match(method, path)
            if params is None:
                continue
            try:
                claims = self.cognito.verify(_header(headers, "Authorization"))
            except TokenRejected as exc:
                return 401, {"Content-Type": "application/json"}, json.dumps(
                    {"error": "unauthorized", "message": str(exc), "fields": [{"field": "Authorization",
                                                                                 "message": str(exc)}]})
            event = proxy_event(method=method, path=path, resource=route.path, path_params=params,
                                query=query, headers=headers, body=body, claims=claims)
            handler = handler_for(route.code_uri, route.handler)
            with self._locks[route.function]:
                result = handler(event, LambdaContext(function_name=route.function))
            out_headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
            for k, values in (result.get("multiValueHeaders") or {}).items():
                out_headers.setdefault(k, ", ".join(map(str, values)))
            return int(result["statusCode"]), out_headers, result.get("body") or ""
        allowed = sorted({r.method for r in self.routes if r.pattern.fullmatch(path)})
        # API Gateway answers unknown routes with 403 "Missing Authentication Token"; we say it plainly.
        if allowed:
            return 405, {"Content-Type": "application/json", "Allow": ", ".join(allowed)}, json.dumps(
                {"error": "method_not_allowed", "message": f"{method} is not allowed on {path}", "fields": []})
        return 404, {"Content-Type": "application/json"}, json.dumps(
            {"error": "no_route", "message": f"no route {method} {path}", "fields": []})


def _header(headers: dict[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # one access line per request is written by _handle instead

    def _handle(self) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        if length > GATEWAY_MAX_BODY:
            self._send(413, {"Content-Type": "application/json"},
                       json.dumps({"error": "body_too_large", "message": "request too large", "fields": []}))
            return
        raw = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        try:
            status, out_headers, body = self._dispatch(self.command, path, query, headers, raw)
        except Exception as exc:  # the gateway itself must never die on a request
            status, out_headers, body = 502, {"Content-Type": "application/json"}, json.dumps(
                {"error": "bad_gateway", "message": f"the function failed: {type(exc).__name__}", "fields": []})
        self._send(status, out_headers, body)
        elapsed = (time.perf_counter() - started) * 1000
        self.gateway.log(f"{self.command} {path} -> {status} ({elapsed:.0f} ms)")

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                  raw: bytes) -> tuple[int, dict[str, str], str | bytes]:
        local = self.gateway.local_routes.get((method, path)) or self._local_prefix_route(method, path)
        if local is not None:
            try:
                payload = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError:
                return 400, {"Content-Type": "application/json"}, json.dumps(
                    {"error": "invalid_json", "message": "the request body is not valid JSON", "fields": []})
            payload["_path"] = path
            status, body = local(self.gateway, payload, query)
            if isinstance(body, Raw):
                return status, {"Content-Type": body.content_type}, body.data
            if isinstance(body, str):
                return status, {"Content-Type": "text/html; charset=utf-8"}, body
            return status, {"Content-Type": "application/json"}, json.dumps(body, default=str)
        try:
            text = raw.decode("utf-8") if raw else None
        except UnicodeDecodeError:
            return 400, {"Content-Type": "application/json"}, json.dumps(
                {"error": "invalid_body", "message": "the body must be UTF-8 text", "fields": []})
        return self.gateway.invoke_api(method, path, query, headers, text)

    def _local_prefix_route(self, method: str, path: str) -> LocalRoute | None:
        for (m, p), fn in self.gateway.local_routes.items():
            if m == method and p.endswith("/*") and path.startswith(p[:-1]):
                return fn
        return None

    def _send(self, status: int, headers: dict[str, str], body: str | bytes) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def __getattr__(self, name: str) -> Any:
        # Every HTTP method reaches the router (TRACE, OPTIONS, HEAD...): an undeclared method
        # on a known path is a JSON 405, as clients expect, never the stdlib's HTML 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)
