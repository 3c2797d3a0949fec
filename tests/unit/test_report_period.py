"""`make report` picks the month a reader expects: this one, except on its 1st (docs/kpis.md)."""

from __future__ import annotations

from datetime import date

from infra.report.__main__ import default_period
from infra.report.render import dashboard_html


def test_on_the_first_the_dashboard_opens_on_the_last_complete_month_and_says_so():
    assert default_period(date(2026, 12, 2)) == ("2026-12", None)
    period, note = default_period(date(2026, 12, 1))
    assert period == "2026-11" and note is not None and "2026-11" in note and "--period 2026-12" in note
    assert default_period(date(2027, 1, 1))[0] == "2026-12"
    doc = {"brand_id": "demo", "level": "brand", "period": period}
    assert note in dashboard_html(doc, [doc], note)
    assert 'class="note"' not in dashboard_html(doc, [doc])
