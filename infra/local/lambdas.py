"""Loads a function's handler from `functions/<name>/app.py` as Lambda would.

Every function's module is called `app`, so each is loaded under its own unique name; the
`vipcare` layer is `shared/` on sys.path, as the layer's `python/` folder is in Lambda.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from .template import ROOT

SHARED = ROOT / "shared"


def ensure_layer_on_path() -> None:
    if str(SHARED) not in sys.path:
        sys.path.insert(0, str(SHARED))


@cache
def load_module(code_uri: str) -> ModuleType:
    ensure_layer_on_path()
    folder = (ROOT / code_uri).resolve()
    path = folder / "app.py"
    name = f"vipcare_fn_{folder.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def handler_for(code_uri: str, handler: str = "app.handler") -> Callable[[dict[str, Any], Any], Any]:
    """The function's handler, run with the credentials of the function's own execution role
    once infra.local.iam enforces them (every AWS call it makes is checked against its role)."""
    return _as_deployed(code_uri, handler)


@cache
def _as_deployed(code_uri: str, handler: str) -> Callable[[dict[str, Any], Any], Any]:
    from . import iam, template

    fn = getattr(load_module(code_uri), handler.split(".", 1)[1])
    function = template.function_for_code(code_uri)

    def invoke(event: dict[str, Any], context: Any) -> Any:
        with iam.running_as(function):
            return fn(event, context)

    invoke.__wrapped__ = fn  # type: ignore[attr-defined]
    invoke.function = function  # type: ignore[attr-defined]
    return invoke


def function_folders() -> list[Path]:
    return sorted(p.parent for p in (ROOT / "functions").glob("*/app.py"))


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that powertools reads."""

    function_name: str = "local"
    memory_limit_in_mb: int = 256
    timeout_seconds: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))
