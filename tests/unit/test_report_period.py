"""`make report` picks the month a reader expects: this one, except on its 1st (docs/kpis.md)."""

from __future__ import annotations

from datetime import timedelta

from infra.report.__main__ import default_period, months_before
from infra.report.render import dashboard_html
from tests.support import clock


def test_on_the_first_the_dashboard_opens_on_the_last_complete_month_and_says_so():
    first = clock.local_day(clock.now()).replace(day=1)
    current = f"{first:%Y-%m}"
    previous = months_before(current, 1)
    assert default_period(first + timedelta(days=1)) == (current, None)
    period, note = default_period(first)
    assert period == previous and note is not None and previous in note and f"--period {current}" in note
    january = first.replace(month=1)  # the 1st of January opens on December of the year before
    assert default_period(january)[0] == f"{january.year - 1}-12"
    doc = {"brand_id": "demo", "level": "brand", "period": period}
    assert note in dashboard_html(doc, [doc], note)
    assert 'class="note"' not in dashboard_html(doc, [doc])
