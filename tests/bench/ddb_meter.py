"""A DynamoDB meter: moto's ConsumedCapacity is fixed and cannot be trusted, so this counts it
from what goes over the wire, by DynamoDB's rules:

- item size: attribute names + values (strings and binary by length, numbers ~1 byte per 2
  digits + 1, booleans and nulls 1 byte, maps and lists 3 bytes + their elements + 1 per element);
- writes: 1 unit per started KB of the item written (the larger of before and after for an
  update, which we approximate by the item written or read back); transactions cost double;
- reads: 1 unit per started 4 KB, half for eventually consistent reads; transactions double;
- every write also writes each GSI the item projects into: a put whose item carries the
  index's key attributes costs one index write, two when it moves the item to another index
  key (delete + put), one to take it out of the index; none when a keys-only index keeps the
  same key (nothing it holds changed). An index write is sized by the index entry: the table's
  and the index's keys for a keys-only index, the whole item otherwise. The item before a put
  is read beforehand, unmetered.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from infra.local import template

_ids = itertools.count()


def value_size(v: dict[str, Any]) -> int:
    (kind, inner), = v.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = len(str(inner).lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(x) + 1 for k, x in inner.items())
    if kind == "L":
        return 3 + sum(value_size(x) + 1 for x in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: x}) for x in inner)
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(k.encode()) + value_size(v) for k, v in item.items())


def _index_keys() -> dict[str, list[tuple[set[str], bool]]]:
    """Per table: each GSI's key attributes and whether it projects keys only."""
    out: dict[str, list[tuple[set[str], bool]]] = {}
    for spec in template.table_definitions().values():
        table_keys = {k["AttributeName"] for k in spec["KeySchema"]}
        out[spec["TableName"]] = [({k["AttributeName"] for k in g["KeySchema"]} | table_keys,
                                   g.get("Projection", {}).get("ProjectionType") == "KEYS_ONLY")
                                  for g in spec.get("GlobalSecondaryIndexes", [])]
    return out


def _table_keys() -> dict[str, list[str]]:
    return {spec["TableName"]: [k["AttributeName"] for k in spec["KeySchema"]]
            for spec in template.table_definitions().values()}


def _index_writes(keys: set[str], keys_only: bool, item: dict[str, Any], before: dict[str, Any] | None) -> int:
    now_in, was_in = keys <= set(item), before is not None and keys <= set(before)
    if not now_in:
        return 1 if was_in else 0
    if not was_in:
        return 1
    assert before is not None
    same_key = all(item[k] == before[k] for k in keys)
    if same_key:
        return 0 if keys_only else 1
    return 2


@dataclass
class Meter:
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    read_units: float = 0.0
    write_units: float = 0.0
    items_read: int = 0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def _write(self, table: str, item: dict[str, Any] | None, *, transactional: bool, size: int | None = None,
               before: dict[str, Any] | None = None) -> None:
        size = size if size is not None else item_size(item or {})
        units = max(1, math.ceil(size / 1024)) * (2 if transactional else 1)
        for keys, keys_only in _index_keys().get(table, []):
            if item is not None:
                entry = item_size({k: item[k] for k in keys if k in item}) if keys_only else size
                units += _index_writes(keys, keys_only, item, before) * max(1, math.ceil(entry / 1024))
        self.write_units += units

    def _read(self, items: list[dict[str, Any]], *, consistent: bool, transactional: bool = False) -> None:
        self.items_read += len(items)
        for item in items:
            units = max(1, math.ceil(item_size(item) / 4096))
            self.read_units += units * (2 if transactional else (1 if consistent else 0.5))

    def record(self, operation: str, params: dict[str, Any], response: dict[str, Any],
               before: list[dict[str, Any] | None] | None = None) -> None:
        """`before`: the items the request's puts replace (None where new), in request order."""
        self.requests[operation] += 1
        olds = iter(before or [])
        if operation == "PutItem":
            self._write(params["TableName"], params["Item"], transactional=False, before=next(olds, None))
        elif operation in ("UpdateItem", "DeleteItem"):
            after = response.get("Attributes") or {}
            self._write(params["TableName"], after or params["Key"], transactional=False)
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (kind, body), = entry.items()
                if kind == "Put":
                    self._write(body["TableName"], body["Item"], transactional=True, before=next(olds, None))
                elif kind in ("Update", "Delete"):
                    self._write(body["TableName"], None, transactional=True, size=1024)
                else:  # ConditionCheck is billed as a read... of a write unit
                    self.write_units += 2
        elif operation == "GetItem":
            self._read([response["Item"]] if "Item" in response else [], consistent=bool(params.get("ConsistentRead")))
            if "Item" not in response:
                self.read_units += 1 if params.get("ConsistentRead") else 0.5
        elif operation == "BatchGetItem":
            for table, items in response.get("Responses", {}).items():
                consistent = bool(params["RequestItems"].get(table, {}).get("ConsistentRead"))
                self._read(items, consistent=consistent)
        elif operation in ("Query", "Scan"):
            items = response.get("Items", [])
            size = sum(item_size(i) for i in items)
            self.items_read += len(items)
            self.read_units += max(1, math.ceil(size / 4096)) * (1 if params.get("ConsistentRead") else 0.5)
        elif operation == "TransactGetItems":
            self._read([r["Item"] for r in response.get("Responses", []) if "Item" in r], consistent=True,
                       transactional=True)


@contextmanager
def metered(client: Any) -> Iterator[Meter]:
    """Meter every DynamoDB request made through `client` while the context is open."""
    import json

    import boto3

    meter = Meter()
    last: dict[str, Any] = {}
    unique = f"meter-{next(_ids)}"
    # A second client, not hooked, reads what a put is about to replace (the index cost depends on it).
    peek = boto3.client("dynamodb", region_name=client.meta.region_name, endpoint_url=client.meta.endpoint_url)
    table_keys = _table_keys()

    def before_put(table: str, item: dict[str, Any]) -> dict[str, Any] | None:
        if not any(True for _ in _index_keys().get(table, [])):
            return None
        key = {k: item[k] for k in table_keys.get(table, []) if k in item}
        return peek.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def stash(request, operation_name=None, **_):  # type: ignore[no-untyped-def]
        params = json.loads(request.body) if request.body else {}
        last["params"] = params
        puts = [params] if "Item" in params else [e["Put"] for e in params.get("TransactItems", []) if "Put" in e]
        last["before"] = [before_put(p["TableName"], p["Item"]) for p in puts]

    def record(parsed, model, **_):  # type: ignore[no-untyped-def]
        meter.record(model.name, last.pop("params", {}), parsed or {}, last.pop("before", None))

    client.meta.events.register("request-created.dynamodb.*", stash, unique_id=unique + "c")
    client.meta.events.register("after-call.dynamodb.*", record, unique_id=unique + "a")
    try:
        yield meter
    finally:
        client.meta.events.unregister("request-created.dynamodb.*", unique_id=unique + "c")
        client.meta.events.unregister("after-call.dynamodb.*", unique_id=unique + "a")
