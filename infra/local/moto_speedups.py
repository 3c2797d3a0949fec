"""moto's DynamoDB does work proportional to the whole table where DynamoDB does not, so the
local stack, large tests and the benches slow down as data grows:

- TransactWriteItems backs up every table it touches with a deep copy before applying the
  transaction (once per action of the transaction);
- every Query sorts every item of the table (`Table.all_items`, comparing DynamoType values
  through Decimal casts) and then filters them: a Query of one member's partition costs as much
  as a Scan.

`install()` makes both proportional to what the request names instead:

- the transaction backup keeps the table object and deep-copies only the partitions the
  transaction names; when the transaction fails, those partitions are put back in place (they
  are all a transaction can change);
- a Query of the table (no index) starts from its own partition; a Query of an index starts
  from the table's items unsorted (moto sorts the matches by the index's full key afterwards,
  which orders them totally), keeping only those whose string hash key value equals the one
  asked for, with moto's own key checks, sort and filters then applied as before; the sort
  casts each key value once (moto casts both values at every comparison).

Behaviour is unchanged: a failed transaction restores exactly the state before it, and a Query
answers the same items in the same order, pages included (tests/unit/test_moto_speedups.py).
"""

from __future__ import annotations

import copy as _copy
import inspect
import threading
from collections import defaultdict
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any

_lock = threading.RLock()
_installed = False
# (table, the items its next all_items() answers): set by the Query wrapper around moto's Query
_query_scope: ContextVar[tuple[Any, list[Any]] | None] = ContextVar("moto_query_scope", default=None)


def _touched_partitions(transact_items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Table name -> the key or item attribute maps the transaction names."""
    touched: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in transact_items:
        (_, op), = entry.items()
        if "TableName" in op:
            touched[op["TableName"]].append(op.get("Key") or op.get("Item") or {})
    return touched


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        import moto.dynamodb.models as backend_module
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.table import Table

        original = DynamoDBBackend.transact_write_items
        missing = object()

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            touched = _touched_partitions(transact_items)
            saved_partitions: list[tuple[Any, Any, Any]] = []  # (table, hash key, partition before)
            for name, keys in touched.items():
                table = self.tables.get(name)
                if table is None:
                    continue
                for h in {DynamoType(attrs[table.hash_key_attr]) for attrs in keys if table.hash_key_attr in attrs}:
                    saved_partitions.append((table, h, _copy.deepcopy(table.items[h]) if h in table.items
                                             else missing))

            def backup(obj: Any, memo: Any = None) -> Any:
                # moto restores a failed transaction's tables from this: the table itself, whose
                # touched partitions are put back below
                return obj if isinstance(obj, Table) else _copy.deepcopy(obj, memo)

            with _lock:  # the module-level shim below is shared: one transaction at a time
                saved = backend_module.copy
                backend_module.copy = SimpleNamespace(deepcopy=backup, copy=_copy.copy)  # type: ignore[assignment]
                try:
                    return original(self, transact_items)
                except BaseException:
                    for table, h, partition in saved_partitions:
                        if partition is missing:
                            table.items.pop(h, None)
                        else:
                            table.items[h] = partition
                    raise
                finally:
                    backend_module.copy = saved

        original_query = Table.query
        query_signature = inspect.signature(original_query)
        original_all_items = Table.all_items

        def all_items(self: Any) -> list[Any]:
            scope = _query_scope.get()
            if scope is not None and scope[0] is self:
                return scope[1]
            return original_all_items(self)

        def query(self: Any, *args: Any, **kwargs: Any) -> Any:
            bound = query_signature.bind(self, *args, **kwargs)
            hash_key, index_name = bound.arguments.get("hash_key"), bound.arguments.get("index_name")
            if index_name:
                wanted = [(name, value) for name, value in bound.arguments.get("hash_key_conditions") or []
                          if isinstance(value, DynamoType) and value.type == "S"]
                candidates = [item for partition in self.items.values()
                              for item in (partition.values() if self.range_key_attr else [partition])]
                for name, value in wanted:
                    candidates = [item for item in candidates if (v := item.attrs.get(name)) is not None
                                  and v.type == "S" and v.value == value.value]
            elif isinstance(hash_key, DynamoType):
                partition = self.items.get(hash_key)
                candidates = ([] if partition is None else
                              list(partition.values()) if self.range_key_attr else [partition])
            else:
                return original_query(self, *args, **kwargs)
            token = _query_scope.set((self, candidates))
            try:
                return original_query(self, *args, **kwargs)
            finally:
                _query_scope.reset(token)

        original_sorted_items = Table.sorted_items

        def sorted_items(self: Any, hash_key_attrs: list[str], range_key_attrs: list[str | None],
                         items: list[Any]) -> list[Any]:
            attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
            try:  # the same order, each value cast once rather than at every comparison
                items.sort(key=lambda x: tuple(x.attrs[key].cast_value for key in attrs))
            except TypeError:  # values of different types under one key attribute: moto's own way
                return original_sorted_items(self, hash_key_attrs, range_key_attrs, items)
            return items

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        Table.sorted_items = sorted_items  # type: ignore[method-assign]
        Table.query = query  # type: ignore[method-assign]
        Table.all_items = all_items  # type: ignore[method-assign]
        _parse_json_templates_as_json()
        _one_rsa_key_for_symmetric_kms_keys()
        _installed = True


def _one_rsa_key_for_symmetric_kms_keys() -> None:
    """moto gives every KMS key an RSA-2048 private key, a symmetric one too (0.2 s of CPU per
    stack); only asymmetric keys ever use it (Sign, Verify, GetPublicKey). Symmetric keys share
    one, generated once."""
    import moto.kms.models as kms_models

    generate = kms_models.generate_private_key
    shared: dict[str, Any] = {}

    def generate_private_key(key_spec: str) -> Any:
        if key_spec != "SYMMETRIC_DEFAULT":
            return generate(key_spec)
        if "key" not in shared:
            shared["key"] = generate(key_spec)
        return shared["key"]

    kms_models.generate_private_key = generate_private_key  # type: ignore[assignment]


def _parse_json_templates_as_json() -> None:
    """moto's CloudFormation parses every template body with PyYAML's pure-Python loader, JSON
    included: over a second for our stack, on every test. A JSON body is read as JSON (the same
    dict: JSON is YAML); anything else goes to moto's own parser."""
    import json

    from moto.cloudformation.models import Stack

    yaml_parse = Stack.parse_template

    def parse_template(template: str) -> dict[str, Any]:
        if template.lstrip().startswith("{"):
            try:
                return json.loads(template)
            except ValueError:
                pass
        return yaml_parse(template)

    Stack.parse_template = staticmethod(parse_template)  # type: ignore[method-assign]
