"""Test-wide settings: fake AWS credentials and the local table names, set before any
vipcare module is imported (its pynamodb models read table names at import)."""

from __future__ import annotations

import os

import pytest

from infra.local import resources, template
from tests.support import clock

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "VipCareTest",
    "POWERTOOLS_SERVICE_NAME": "vipcare",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
})
os.environ.pop("AWS_ENDPOINT_URL", None)  # never a real or stray endpoint in tests

# The same environment the template gives the functions, with moto's resource names.
_names = resources.physical_names() | {"StaffUserPool": "local-pool", "StaffUserPoolClient": "local-client"}
for _fn in template.functions():
    for _key, _value in template.function_environment(_fn, _names).items():
        os.environ.setdefault(_key, _value)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """Print the tables the tests built (fault table, access sweep) after the results."""
    from tests.support.report import TABLES

    for title, lines in TABLES.items():
        terminalreporter.write_sep("-", title)
        for line in lines:
            terminalreporter.write_line(line)


def pytest_configure(config):  # type: ignore[no-untyped-def]
    """With VIPCARE_TEST_CLOCK set, the whole session (collection included) runs at that moment."""
    moment = clock.moved_to()
    if moment is not None:
        import time_machine

        config._vipcare_clock = time_machine.travel(moment, tick=True)
        config._vipcare_clock.start()


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    moment = clock.moved_to()
    if moment is not None:
        return f"clock moved to {moment.isoformat()} (DEFAULT_TIMEZONE={os.environ.get('DEFAULT_TIMEZONE')})"
    return None


@pytest.fixture(autouse=True)
def _moved_clock():
    """Every test starts at the moved moment, however long the tests before it took."""
    moment = clock.moved_to()
    if moment is None:
        yield
        return
    import time_machine

    with time_machine.travel(moment, tick=True):
        yield


@pytest.fixture
def now():
    """The test's one `now` (the moved clock on a hard-day run); build history relative to it."""
    return clock.now()
