from __future__ import annotations

from datetime import date

import pytest

from vipcare.domain.errors import ValidationFailed
from vipcare.domain.members import check_date_not_future, format_member_no, new_member_id, store_code_for


def test_member_number_encodes_brand_store_and_sequence():
    assert format_member_no("demo", "001", 42) == "DEMO-001-000042"


@pytest.mark.parametrize("store_id,code", [("demo-001", "001"), ("flagship", "flagship"), ("demo-x-1", "x1")])
def test_store_code_drops_the_brand_prefix(store_id, code):
    assert store_code_for(store_id, "demo") == code


def test_member_ids_are_unguessable():
    ids = {new_member_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 18 for i in ids)


def test_dates_in_the_future_or_before_1900_are_refused():
    today = date(2026, 11, 23)
    check_date_not_future(today, today, field="birthday")
    for bad in (date(2026, 11, 24), date(1899, 12, 31)):
        with pytest.raises(ValidationFailed) as err:
            check_date_not_future(bad, today, field="birthday")
        assert err.value.field == "birthday"
