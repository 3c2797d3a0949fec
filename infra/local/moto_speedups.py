"""moto's TransactWriteItems backs up every table it touches with a deep copy before applying
the transaction, so each transaction costs time proportional to the whole table: the local
stack and large tests slow down as data grows (and use gigabytes of memory).

`install()` makes the backup proportional to the transaction instead: the table's item maps are
copied one level deep (cheap), and only the partitions the transaction touches are deep-copied,
which is all a rollback needs. Behaviour is unchanged: a failed transaction restores exactly the
state before it (tests/unit/test_moto_speedups.py checks that).
"""

from __future__ import annotations

import copy as _copy
import threading
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

_lock = threading.RLock()
_installed = False


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

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            touched = _touched_partitions(transact_items)

            def backup(obj: Any, memo: Any = None) -> Any:
                if not isinstance(obj, Table):
                    return _copy.deepcopy(obj, memo)
                clone = _copy.copy(obj)
                clone.items = defaultdict(dict, {h: (dict(v) if isinstance(v, dict) else v)
                                                 for h, v in obj.items.items()})
                for attrs in touched.get(obj.name, []):
                    if obj.hash_key_attr in attrs:
                        h = DynamoType(attrs[obj.hash_key_attr])
                        if h in obj.items:
                            clone.items[h] = _copy.deepcopy(obj.items[h])
                return clone

            with _lock:  # the module-level shim below is shared: one transaction at a time
                saved = backend_module.copy
                backend_module.copy = SimpleNamespace(deepcopy=backup, copy=_copy.copy)  # type: ignore[assignment]
                try:
                    return original(self, transact_items)
                finally:
                    backend_module.copy = saved

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
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
