from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcare.domain.errors import ValidationFailed
from vipcare.domain.purchases import (
    Kind,
    Purchase,
    PurchaseLimits,
    SaleRecord,
    apply_return,
    apply_sale,
    check_rules,
    parse_message,
)
from vipcare.domain.stats import MemberStats
from vipcare.services.purchases import rows_of

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def purchase(**changes) -> Purchase:
    values = dict(brand_id="demo", store_id="demo-001", transaction_id="T1", member_id="m_1", kind=Kind.SALE,
                  amount=Decimal("100.00"), currency="CNY", items=1, occurred_at=NOW - timedelta(hours=1))
    values.update(changes)
    return Purchase(**values)


@pytest.mark.parametrize("changes,field", [
    ({"amount": Decimal("0")}, "amount"),
    ({"amount": Decimal("1000000.01")}, "amount"),
    ({"currency": "USD"}, "currency"),
    ({"occurred_at": NOW + timedelta(hours=1)}, "occurred_at"),
    ({"occurred_at": NOW - timedelta(days=91)}, "occurred_at"),
    ({"kind": Kind.RETURN}, "original_transaction_id"),
    ({"original_transaction_id": "T0"}, "original_transaction_id"),
    ({"kind": Kind.RETURN, "original_transaction_id": "T1"}, "original_transaction_id"),
])
def test_business_rules_name_the_field(changes, field):
    with pytest.raises(ValidationFailed) as err:
        check_rules(purchase(**changes), NOW, PurchaseLimits())
    assert err.value.field == field


def test_sale_adds_spend_count_and_points_in_its_month():
    stats = MemberStats()
    effect = apply_sale(stats, purchase(amount=Decimal("1000")), Decimal("1.2"), "Asia/Shanghai")
    assert effect.points == 1200 and effect.month == "2026-11"
    assert stats.spend_12m("2026-11") == Decimal("1000") and stats.purchases_6m("2026-11") == 1


def test_return_reduces_spend_of_the_sale_month_and_never_beyond_the_sale():
    stats = MemberStats()
    apply_sale(stats, purchase(), Decimal("1.0"), "UTC")
    sale = SaleRecord(member_id="m_1", amount=Decimal("100"), points=100, earn_month="2026-11",
                      returned=Decimal("0"), points_clawed=0)
    ret = purchase(kind=Kind.RETURN, transaction_id="R1", original_transaction_id="T1", amount=Decimal("40"))
    assert apply_return(stats, ret, sale).points_clawed == 40
    assert stats.spend["2026-11"] == Decimal("60")
    with pytest.raises(ValidationFailed) as err:
        apply_return(stats, purchase(kind=Kind.RETURN, amount=Decimal("101"), original_transaction_id="T1"), sale)
    assert err.value.field == "amount"
    with pytest.raises(ValidationFailed):
        apply_return(stats, purchase(kind=Kind.RETURN, member_id="m_2", original_transaction_id="T1"), sale)


def test_batches_are_capped_at_100_rows():
    assert rows_of({"purchases": [{}] * 100})[1] is True
    with pytest.raises(ValidationFailed) as err:
        rows_of({"purchases": [{}] * 101})
    assert err.value.field == "purchases"
    assert rows_of({"transaction_id": "x"}) == ([{"transaction_id": "x"}], False)


def test_eventbridge_purchase_events_parse_like_queue_messages():
    detail = purchase().to_message()
    envelope = {"version": "0", "detail-type": "Purchase", "source": "pos.acme", "time": "2026-11-23T11:00:00Z",
                "detail": detail}
    parsed, received = parse_message(json.dumps(envelope), now=NOW)
    assert parsed == purchase() and received == datetime(2026, 11, 23, 11, tzinfo=UTC)


JSON_VALUES = st.one_of(st.none(), st.integers(), st.text(), st.floats())


@given(st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1")),
                 st.dictionaries(st.text(), JSON_VALUES).map(json.dumps),
                 st.builds(lambda d: json.dumps({"detail-type": "Purchase", "detail": d}),
                           st.one_of(st.none(), st.integers(), st.dictionaries(st.text(), st.text())))))
def test_malformed_messages_are_refused_cleanly_never_crash(body):
    with contextlib.suppress(ValidationFailed):
        parse_message(body, now=NOW)
