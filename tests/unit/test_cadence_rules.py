"""Contact cadence per channel (domain/cadence.py): defaults, what a period misses, validation."""

from __future__ import annotations

import pytest

from vipcare.domain import cadence as c
from vipcare.domain.errors import ValidationFailed
from vipcare.domain.tiers import DEFAULT_POLICY, policy_from_document, validate_policy

VISIT_AND_TWO_CALLS = (c.Requirement("visit", 1, "month"), c.Requirement("phone", 2, "month"))


def test_defaults_are_todays_cadence():
    assert DEFAULT_POLICY.cadence("gold") == (c.Requirement("any", 1, "month"),)
    assert DEFAULT_POLICY.cadence("diamond") == (c.Requirement("any", 1, "month"),)
    assert DEFAULT_POLICY.cadence("silver") == (c.Requirement("any", 1, "quarter"),)
    assert DEFAULT_POLICY.cadence("regular") == ()
    assert c.period_months(DEFAULT_POLICY.cadence("silver")) == 3
    assert c.period_months(()) is None


def test_a_phone_call_is_not_a_visit():
    assert c.missing(VISIT_AND_TWO_CALLS, ["phone", "phone"]) == [{"channel": "visit", "count": 1, "have": 0}]
    assert c.missing(VISIT_AND_TWO_CALLS, ["phone", "visit"]) == [{"channel": "phone", "count": 2, "have": 1}]
    assert c.missing(VISIT_AND_TWO_CALLS, ["phone", "visit", "phone"]) == []


def test_any_counts_every_contact():
    cadence = (c.Requirement("visit", 1, "month"), c.Requirement("any", 2, "month"))
    assert c.missing(cadence, ["visit"]) == [{"channel": "any", "count": 2, "have": 1}]
    assert c.missing(cadence, ["visit", "sms"]) == []
    assert c.describe(cadence) == "at least 1 visit contact and 2 contacts per month"


def test_policies_stored_before_cadences_read_the_defaults():
    doc = DEFAULT_POLICY.as_document()
    for tier in doc["tiers"]:
        del tier["cadence"]
        tier["contact_every_days"] = 30  # what such versions held (never read)
    assert policy_from_document(doc).cadence("silver") == DEFAULT_POLICY.cadence("silver")
    assert [r.cadence for r in policy_from_document(DEFAULT_POLICY.as_document()).rules] == \
        [r.cadence for r in DEFAULT_POLICY.rules]


@pytest.mark.parametrize(("tier", "cadence", "field"), [
    ("gold", (c.Requirement("fax", 1, "month"),), "tiers.2.cadence.0.channel"),
    ("gold", (c.Requirement("visit", 0, "month"),), "tiers.2.cadence.0.count"),
    ("gold", (c.Requirement("visit", 1, "week"),), "tiers.2.cadence.0.per"),
    ("gold", (c.Requirement("visit", 1, "month"), c.Requirement("phone", 1, "quarter")), "tiers.2.cadence.1.per"),
    ("gold", (c.Requirement("visit", 1, "month"), c.Requirement("visit", 2, "month")), "tiers.2.cadence.1.channel"),
    ("gold", (), "tiers.2.cadence"),
])
def test_validation_names_the_field(tier, cadence, field):
    rules = tuple(r if r.tier.value != tier else type(r)(**{**_fields(r), "cadence": cadence})
                  for r in DEFAULT_POLICY.rules)
    policy = type(DEFAULT_POLICY)(**{**_fields(DEFAULT_POLICY), "rules": rules})
    with pytest.raises(ValidationFailed) as err:
        validate_policy(policy)
    assert err.value.field == field


def test_regular_has_no_cadence():
    with pytest.raises(ValidationFailed) as err:
        c.validate("regular", (c.Requirement("any", 1, "month"),), "tiers.0")
    assert err.value.field == "tiers.0.cadence"


def _fields(obj):
    from dataclasses import fields
    return {f.name: getattr(obj, f.name) for f in fields(obj)}
