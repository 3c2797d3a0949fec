"""Bad input, generated: schemathesis against the local stack's /openapi.json with a valid
token, every route. No 5xx; every status, content type and body as documented.

`make test` runs a bounded number of examples per route; `make soak` many more
(VIPCARE_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.report import table

pytestmark = pytest.mark.e2e

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


def test_every_route_survives_generated_input(stack, tmp_path):
    examples = os.environ.get("VIPCARE_FUZZ_EXAMPLES", "15")
    # make test: generated fuzzing only; make soak adds the exhaustive coverage and stateful phases
    phases = "examples,fuzzing" if examples == "15" else "examples,coverage,fuzzing,stateful"
    cli = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [str(cli), "run", f"{stack.url}/openapi.json", "-H", f"Authorization: {stack.token()}",
         "--max-examples", examples, "--phases", phases, "--checks", CHECKS, "--seed", "7", "--no-color"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    summary = [line.strip() for line in result.stdout.splitlines()
               if re.search(r"\d+ (generated|passed|failed|errored|skipped)", line)]
    table(f"API fuzzing (schemathesis, {examples} examples per route, seed 7)", summary[-4:])
    assert result.returncode == 0, result.stdout[-4000:]
