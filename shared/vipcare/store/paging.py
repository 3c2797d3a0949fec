"""Paged lists: one page of a partition in key order and an opaque cursor (`next`) to go on.

A cursor carries only what places the page's last item inside its partition (the sort key,
and for an index the table keys too) plus the name of the list it belongs to. The partition
key is rebuilt from the caller's brand (and the path) on every call, so a cursor cannot
point into another brand's data, and a cursor of another list is refused with a 422 naming
`after`. A page may come back full with a `next` that leads to an empty page: the partition
ended exactly there (DynamoDB cannot tell without reading on).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from pynamodb.pagination import ResultIterator

from ..domain.errors import ValidationFailed

T = TypeVar("T")
M = TypeVar("M")

BAD_CURSOR = "not a cursor of this list (pass `next` of the previous page, with the same filters)"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items and the cursor of the rest (None: the list is done)."""

    items: list[T]
    next: str | None


def encode(tag: str, position: Mapping[str, str]) -> str:
    text = json.dumps({"l": tag, "k": dict(position)}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(token: str, tag: str, names: Sequence[str]) -> dict[str, str]:
    """The position a cursor of list `tag` holds: exactly `names`, each a string."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position = doc["k"]
        ok = (doc["l"] == tag and isinstance(position, dict) and set(position) == set(names)
              and all(isinstance(v, str) for v in position.values()))
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise ValidationFailed(BAD_CURSOR, field="after")
    return {n: position[n] for n in names}


@dataclass(frozen=True)
class KeyedQuery:
    """A Query paged by DynamoDB's own position: `fixed` are the partition key attributes
    (rebuilt per call), `carried` the key attributes a cursor holds."""

    tag: str
    fixed: Mapping[str, str]
    carried: tuple[str, ...]

    def start(self, after: str | None) -> dict[str, dict[str, str]] | None:
        """ExclusiveStartKey for `after` (None: from the start)."""
        if after is None:
            return None
        position = {**decode(after, self.tag, self.carried), **self.fixed}
        return {name: {"S": value} for name, value in position.items()}

    def take(self, results: ResultIterator[M], limit: int,
             keep: Callable[[M], bool] | None = None) -> tuple[list[M], str | None]:
        """Up to `limit` items of `results` (a pynamodb ResultIterator, page_size=limit) that
        `keep` accepts, and the cursor after the last one read."""
        items: list[M] = []
        for item in results:
            if keep is None or keep(item):
                items.append(item)
                if len(items) >= limit:
                    break
        last = results.last_evaluated_key  # mid-page, pynamodb rebuilds it from the last item read
        if last is None or len(items) < limit:
            return items, None
        return items, encode(self.tag, {n: last[n]["S"] for n in self.carried})


def sorted_page(items: Iterable[T], *, tag: str, limit: int, after: str | None, key: Callable[[T], tuple[str, ...]],
                names: tuple[str, ...], reverse: bool = False) -> Page[T]:
    """A page of a list read whole and sorted in memory (one that no index orders the way the
    reader wants, and that stays small: a member's messages). The cursor is the sort key of
    the last item returned; items are read again on every page."""
    ordered = sorted(items, key=key, reverse=reverse)
    if after is not None:
        mark = tuple(decode(after, tag, names)[n] for n in names)
        ordered = [i for i in ordered if (key(i) < mark if reverse else key(i) > mark)]
    page = ordered[:limit]
    more = len(ordered) > limit
    return Page(page, encode(tag, dict(zip(names, key(page[-1]), strict=True))) if more else None)


def every(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a paged list, page after page (for jobs and exports that need them all)."""
    after: str | None = None
    while True:
        page = fetch(after)
        yield from page.items
        if page.next is None:
            return
        after = page.next
