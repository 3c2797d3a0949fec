"""A member's data rights: the export document and the erasure receipt."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .base import _Model


class MemberExport(_Model):
    exported_at: str
    exported_by: str
    profile: dict[str, Any] = Field(description="the whole card, consent included")
    figures: dict[str, Any] = Field(description="spend, purchases and returns by month, point lots, referrals")
    purchases: list[dict[str, Any]] = Field(description="every applied sale and return, newest first, with lines")
    redemptions: list[dict[str, Any]] = Field(description="every points redemption: reward, points, reason, "
                                                          "when, by whom")
    tier_decisions: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    complaints: list[dict[str, Any]]
    benefit_uses: list[dict[str, Any]] = Field(description="allowances and gifts used: when, where, how many")
    audit: list[dict[str, Any]] = Field(description="exports and the erasure: who, when")


class ErasureReceipt(_Model):
    member_id: str
    erased_at: str
    erased_by: str
    contacts_cleaned: int
    messages_cleaned: int
    tasks_closed: int
    complaints_cleaned: int
    benefit_notes_cleaned: int
