"""Starts the local stack (`python -m infra.local`) on free ports, once per test session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

from infra.local.template import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PERSONAL_FIELDS = ("name", "phone", "email", "address")


class Stack:
    def __init__(self, url: str, output: list[str]) -> None:
        self.url = url
        self.output = output
        self.personal: set[str] = set()  # every personal value the tests sent

    def _remember_personal(self, body: object) -> None:
        if isinstance(body, dict):
            for key, value in body.items():
                if key in PERSONAL_FIELDS and isinstance(value, str):
                    digits = "".join(ch for ch in value if ch.isdigit())
                    if key == "phone" and len(digits) >= 8:
                        # searched by the last 8 digits, whatever format was logged
                        self.personal.add(digits[-8:])
                    elif key != "phone" and len(value.strip()) >= 4:  # shorter strings match anything
                        self.personal.add(value.strip())
                else:
                    self._remember_personal(value)
        elif isinstance(body, list):
            for item in body:
                self._remember_personal(item)

    def leaked(self) -> list[str]:
        text = "".join(self.output)
        return sorted(v for v in self.personal if v in text)

    def token(self, brand_id: str = "demo", role: str = "admin", store_id: str | None = "demo-001",
              **extra: str) -> str:
        r = requests.post(f"{self.url}/_local/token", json={"brand_id": brand_id, "role": role,
                                                             "store_id": store_id, **extra}, timeout=10)
        r.raise_for_status()
        return r.json()["token"]

    def request(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        self._remember_personal(kwargs.get("json"))
        if token:
            headers["Authorization"] = token
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    api_port, moto_port = _free_port(), _free_port()
    env = {**os.environ, "VIPCARE_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--api-port", str(api_port), "--moto-port", str(moto_port),
         "--members", "30"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if line.startswith("READY "):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 90
    while not ready.wait(0.2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("local stack did not start:\n" + "".join(output[-40:]))
    stack = Stack(f"http://127.0.0.1:{api_port}", output)
    try:
        yield stack
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    # Every log line of the whole e2e run (functions at INFO) is checked for personal data.
    leaked = stack.leaked()
    assert not leaked, f"personal data in the local stack's log: {leaked}"


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # The distribution's Chromium: no browser download (.ci/bootstrap-chromium installs it).
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()
