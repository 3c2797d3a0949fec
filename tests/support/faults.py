"""Fault injection on the shared DynamoDB client: crash before or after the Nth request."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

_ids = itertools.count()


class Crash(Exception):
    """The process died here (Lambda timeout, out of memory, a deploy...)."""


@contextmanager
def crash_at(call_number: int, *, after: bool) -> Iterator[list[str]]:
    """Raise Crash at the `call_number`-th DynamoDB request (1-based): before it is sent, or
    after DynamoDB applied it and before the caller saw the answer. Yields the operations seen."""
    from vipcare.store.clients import dynamodb_client

    client = dynamodb_client()
    seen: list[str] = []
    event = f"{'after' if after else 'before'}-call.dynamodb.*"
    unique = f"crash-{next(_ids)}"

    def hook(model, **_: object) -> None:
        seen.append(model.name)
        if len(seen) == call_number:
            raise Crash(f"{'after' if after else 'before'} {model.name} #{call_number}")

    client.meta.events.register(event, hook, unique_id=unique)
    try:
        yield seen
    finally:
        client.meta.events.unregister(event, unique_id=unique)


@contextmanager
def count_calls() -> Iterator[list[str]]:
    with crash_at(10**9, after=False) as seen:
        yield seen
