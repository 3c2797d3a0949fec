"""The tracer every function uses: X-Ray SDK subsegments only when asked for.

Lambda's active tracing (template.yaml `Tracing: Active`) already records each invocation's
segment (init, invocation, overhead) without any code in the function. The X-Ray SDK adds
a subsegment per AWS call and per decorated method, but importing it costs about 200 ms of
every cold start (measured by tests/bench/cold_start.py), which is more than most requests
take. So the SDK is loaded only when `TRACE_AWS_CALLS=true` (and tracing is not disabled);
otherwise the decorators are pass-throughs and nothing of the SDK is imported.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_TRUE = {"1", "true", "yes", "on"}


def sdk_tracing_enabled() -> bool:
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in _TRUE:
        return False
    return os.environ.get("TRACE_AWS_CALLS", "").lower() in _TRUE


class FunctionLevelTracer:
    """Same decorators as powertools' Tracer, doing nothing: the Lambda segment still exists."""

    def capture_method(self, method: F | None = None, **_: Any) -> Any:
        return method if method is not None else (lambda m: m)

    def capture_lambda_handler(self, handler: F | None = None, **_: Any) -> Any:
        return handler if handler is not None else (lambda h: h)


def make_tracer() -> Any:
    """A powertools Tracer with SDK subsegments when enabled, else the pass-through."""
    if sdk_tracing_enabled():
        from aws_lambda_powertools import Tracer

        return Tracer()
    return FunctionLevelTracer()
