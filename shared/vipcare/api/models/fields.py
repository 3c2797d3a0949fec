"""pydantic's validation errors named the way the API reports them: `[{field, message}]`,
each field by its dotted path. No HTTP here: the API's error mapping (api/errors.py) and the
batch intake (services/purchases.py, which validates each row itself) both use it."""

from __future__ import annotations

from typing import Any

# Fields VIP Care owns: a request that tries to set one is told so in words.
OWNED_FIELDS = frozenset(
    {"member_id", "member_no", "brand_id", "tier", "points_balance", "points", "spend_12m",
     "purchases_6m", "manager_id", "enrolled_at", "updated_at", "created_at"}
)

_SOURCES = {"body", "query", "path", "header", "cookie"}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(parts) or "body"


def field_errors(errors: Any) -> list[dict[str, str]]:
    """pydantic errors -> [{field, message}], naming fields by their dotted path."""
    fields = []
    for err in errors:
        name = _field_name(err.get("loc", ()))
        kind = str(err.get("type", ""))
        if kind.startswith("field:"):  # a model-level rule that names its field (see api.models.base)
            name = ".".join(filter(None, [name if name != "body" else "", kind[6:]]))
        if kind == "extra_forbidden":
            leaf = name.rsplit(".", 1)[-1]
            message = (f"{leaf} is managed by VIP Care and cannot be set" if leaf in OWNED_FIELDS
                       else f"unknown field {leaf}")
        elif err.get("type") == "missing":
            message = "is required"
        else:
            message = str(err.get("msg", "is invalid")).removeprefix("Value error, ")
        fields.append({"field": name, "message": message})
    return fields
