"""Saved member lists (segments) and the audit of their exports, in CareTable under the brand's
segment partition:

  BRAND#<b>#SEGMENTS / SEGMENT#<segment_id>          name, filters (JSON), who made it and when
  BRAND#<b>#SEGMENTS / EXPORT#<UTC instant>#<segment>  who exported it, how many rows

A segment is its filters, not a frozen member list: reading it lists who matches now."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from ..domain.segments import MemberFilters
from .care_table import CareTableModel
from .models import condition_failed

SEGMENT_PREFIX = "SEGMENT#"
EXPORT_PREFIX = "EXPORT#"


def segments_pk(brand_id: str) -> str:
    return f"BRAND#{brand_id}#SEGMENTS"


class SegmentItem(CareTableModel):
    class Meta(CareTableModel.Meta):
        pass

    segment_id = UnicodeAttribute()
    name = UnicodeAttribute()
    filters = UnicodeAttribute()  # MemberFilters.as_document(), JSON
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class SegmentExportItem(CareTableModel):
    class Meta(CareTableModel.Meta):
        pass

    segment_id = UnicodeAttribute()
    by = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    rows = NumberAttribute()
    after = UnicodeAttribute(null=True)  # the cursor the export continued from


@dataclass(frozen=True)
class Segment:
    segment_id: str
    name: str
    filters: MemberFilters
    created_by: str
    created_at: datetime


class SegmentTaken(Exception):
    """A segment with this id exists already."""


def _segment(item: SegmentItem) -> Segment:
    return Segment(segment_id=item.segment_id, name=item.name,
                   filters=MemberFilters.from_document(json.loads(item.filters)),
                   created_by=item.created_by, created_at=item.created_at)


class SegmentRepository:
    def add(self, brand_id: str, segment: Segment) -> None:
        item = SegmentItem(segments_pk(brand_id), f"{SEGMENT_PREFIX}{segment.segment_id}",
                           segment_id=segment.segment_id, name=segment.name,
                           filters=json.dumps(segment.filters.as_document(), sort_keys=True),
                           created_by=segment.created_by, created_at=segment.created_at)
        try:
            item.save(condition=SegmentItem.pk.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                raise SegmentTaken() from None
            raise

    def get(self, brand_id: str, segment_id: str) -> Segment | None:
        try:
            return _segment(SegmentItem.get(segments_pk(brand_id), f"{SEGMENT_PREFIX}{segment_id}"))
        except SegmentItem.DoesNotExist:
            return None

    def all(self, brand_id: str) -> list[Segment]:
        """Every segment of the brand (one Query; a brand keeps tens, not thousands)."""
        return [_segment(i) for i in SegmentItem.query(segments_pk(brand_id),
                                                       SegmentItem.sk.startswith(SEGMENT_PREFIX))]

    def record_export(self, brand_id: str, segment_id: str, *, by: str, at: datetime, rows: int,
                      after: str | None) -> None:
        SegmentExportItem(segments_pk(brand_id), f"{EXPORT_PREFIX}{at.astimezone(UTC).isoformat()}#{segment_id}",
                          segment_id=segment_id, by=by, at=at, rows=rows, after=after).save()

    def exports(self, brand_id: str) -> list[SegmentExportItem]:
        return list(SegmentExportItem.query(segments_pk(brand_id), SegmentExportItem.sk.startswith(EXPORT_PREFIX)))
