"""CareTable's common ground: the base model of its items and the shards of its `due` index.

The table holds, under each member (pk BRAND#<brand>#MEMBER#<member>): message records, the
contact log, tasks and the cadence review; under each brand (pk BRAND#<brand>): the daily SMS
budget, holiday runs, templates and care settings. One repository per aggregate reads and
writes them: store/messages.py, tasks.py, contacts.py, cadence.py, care_settings.py. Layout and
access patterns in docs/data-model.md.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from pynamodb.attributes import UnicodeAttribute

from ..config import settings
from .clients import REGION as _REGION
from .models import _SharedClientModel

# Each job reads its part of the sparse `due` index as SHARDS partitions (<PREFIX>#<n>), so no
# single partition takes every member's writes.
SHARDS = 4


def shard(member_id: str) -> int:
    return zlib.crc32(member_id.encode()) % SHARDS


def due_pk(prefix: str, member_id: str) -> str:
    return f"{prefix}#{shard(member_id)}"


def due_partitions(prefix: str) -> list[str]:
    return [f"{prefix}#{s}" for s in range(SHARDS)]


def utc_text(moment: datetime) -> str:
    """A moment as the index sorts it: UTC ISO text, so due_sk <= now compares correctly."""
    return moment.astimezone(UTC).isoformat()


class CareTableModel(_SharedClientModel):
    class Meta:
        table_name = settings().care_table
        region = _REGION

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
