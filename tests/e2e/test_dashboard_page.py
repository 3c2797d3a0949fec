"""The KPI dashboard (`infra.report`): the page renders its charts in a real browser (headless
Chromium through Playwright), the screenshot shows them, `python -m infra.report` talks to the API
as documented, and the renderer copes with zero denominators and hostile strings."""

from __future__ import annotations

import copy
import json
import struct
import threading
import urllib.parse
import zlib
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from infra.report import render
from infra.report.__main__ import main as report_main
from infra.report.__main__ import months_before, screenshot

CHARTS = ("tier-mix", "churn-retention", "complaint-timeliness", "contact-coverage", "sms")
TILES = ("members", "churn", "gold-plus-churn", "retention", "complaint-timeliness", "nps", "contact-coverage",
         "activities")
PERIODS = ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")


# --- data ------------------------------------------------------------------------------------------

def kpi_doc(period: str = "2026-11", **changes: object) -> dict:
    """The KPI document of GET /reports/kpis for one month of brand demo."""
    doc = {
        "brand_id": "demo", "level": "brand", "scope_id": "demo", "period": period,
        "members_by_tier": {"regular": 120, "silver": 40, "gold": 15, "diamond": 5},
        "vips": 60, "new_vips": 4, "upgrades": 6, "downgrades": 1,
        "churn": {"snapshot": 58, "left": 1, "rate": "0.0172", "annualised_rate": "0.1880",
                  "gold_plus_snapshot": 20, "gold_plus_left": 0, "gold_plus_rate": "0.0000",
                  "gold_plus_annualised_rate": "0.0000", "target": "0.035", "gold_plus_target": "0.02"},
        "retention": retention(1, 58),
        "complaints": {"opened": 7, "resolved": 5, "resolved_on_time": 4, "timeliness": "0.8000",
                       "first_responses": 6, "mean_first_response_minutes": "42.5",
                       "rated": 4, "satisfied": 3, "satisfaction": "0.7500"},
        "nps": {"responses": 10, "promoters": 6, "passives": 2, "detractors": 2, "score": 40},
        "contacts": {"gold_plus": 20, "contacted": 13, "coverage": "0.6500"},
        "sms": {"sent": 30, "capped": 2, "deferred": 5, "suppressed": 3, "failed": 0},
        "activities": {"vips": 60, "vips_invited": 45, "coverage": "0.7500", "coverage_target": "1",
                       "invited": 40, "attended": 30, "participation": "0.7500", "participation_target": "0.85",
                       "ended": 2, "feedback_filed": 2, "feedback_on_time": 1, "feedback_on_time_rate": "0.5000"},
    }
    doc.update(copy.deepcopy(changes))
    return doc


def retention(lost: int, snapshot: int, window_start: str = "2026-01") -> dict:
    """The retention block for `lost` of the window's `snapshot`."""
    return {"window_start": window_start, "window_months": 12, "rule": "closed, or 3+ months in total below 50",
            "snapshot": snapshot, "lost": lost, "rate": f"{1 - Decimal(lost) / Decimal(snapshot):.4f}",
            "gold_plus_snapshot": 20, "gold_plus_lost": 0, "gold_plus_rate": "1.0000",
            "target_basic": "0.77", "target_challenge": "0.83"}


def monthly(left: int, snapshot: int) -> dict:
    """The churn block for `left` of `snapshot`, with the annualised rate the API would send."""
    rate = Decimal(left) / Decimal(snapshot)
    annual = 1 - (1 - rate) ** 12
    return {"snapshot": snapshot, "left": left, "rate": f"{rate:.4f}", "annualised_rate": f"{annual:.4f}",
            "gold_plus_snapshot": 20, "gold_plus_left": 0, "gold_plus_rate": "0.0000",
            "gold_plus_annualised_rate": "0.0000", "target": "0.035", "gold_plus_target": "0.02"}


def complaints(resolved: int, on_time: int) -> dict:
    return {"opened": resolved + 2, "resolved": resolved, "resolved_on_time": on_time,
            "timeliness": f"{Decimal(on_time) / Decimal(resolved):.4f}", "first_responses": resolved,
            "mean_first_response_minutes": "38.0", "rated": 3, "satisfied": 2, "satisfaction": "0.6667"}


@pytest.fixture
def history() -> list[dict]:
    """Six months, oldest first, the last one being the current month of kpi_doc()."""
    months = [(2, 50, 6, 5), (0, 52, 4, 4), (3, 55, 8, 5), (1, 56, 3, 3), (2, 57, 9, 8)]
    docs = []
    for period, (left, snapshot, resolved, on_time) in zip(PERIODS[:-1], months, strict=True):
        churn = monthly(left, snapshot)
        docs.append(kpi_doc(period, churn=churn, complaints=complaints(resolved, on_time),
                            retention=retention(left, snapshot)))
    return [*docs, kpi_doc(PERIODS[-1])]


def zero_doc() -> dict:
    """A brand with nothing to measure yet: every denominator 0, so every rate is null."""
    return kpi_doc(
        members_by_tier={"regular": 0, "silver": 0, "gold": 0, "diamond": 0}, vips=0, new_vips=0, upgrades=0,
        downgrades=0,
        churn={"snapshot": 0, "left": 0, "rate": None, "annualised_rate": None, "gold_plus_snapshot": 0,
               "gold_plus_left": 0, "gold_plus_rate": None, "gold_plus_annualised_rate": None,
               "target": "0.035", "gold_plus_target": "0.02"},
        retention={**retention(0, 1), "snapshot": 0, "rate": None, "gold_plus_snapshot": 0, "gold_plus_rate": None},
        complaints={"opened": 0, "resolved": 0, "resolved_on_time": 0, "timeliness": None, "first_responses": 0,
                    "mean_first_response_minutes": None, "rated": 0, "satisfied": 0, "satisfaction": None},
        nps={"responses": 0, "promoters": 0, "passives": 0, "detractors": 0, "score": None},
        contacts={"gold_plus": 0, "contacted": 0, "coverage": None},
        sms={"sent": 0, "capped": 0, "deferred": 0, "suppressed": 0, "failed": 0},
    )


def percent(value: str, places: int = 1) -> str:
    return f"{Decimal(value) * 100:.{places}f}%"


# --- browser ---------------------------------------------------------------------------------------

class Opened:
    """A page opened from a file, with what went wrong or left the machine while it loaded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


@pytest.fixture
def open_page(browser: Browser, tmp_path: Path) -> Iterator:
    pages = []

    def opener(html: str, name: str = "dashboard.html") -> Opened:
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        pages.append(page)
        opened = Opened(page)
        page.goto(path.as_uri(), wait_until="load")
        return opened

    yield opener
    for page in pages:
        page.close()


DRAWN_SHAPES_JS = """svg => [...svg.querySelectorAll('rect, path, circle, polyline, line')]
    .filter(el => { const b = el.getBBox(); return b.width > 0 || b.height > 0; }).length"""


def test_every_chart_renders_with_drawn_shapes_and_no_console_error(open_page, history: list[dict]) -> None:
    current = history[-1]
    opened = open_page(render.dashboard_html(current, history))
    page = opened.page

    for chart in CHARTS:
        svg = page.locator(f'svg.chart[data-chart="{chart}"]')
        assert svg.count() == 1, chart
        assert svg.is_visible(), chart
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 40, (chart, box)
        assert svg.locator("rect, path, circle, polyline").count() > 0, chart
        assert svg.evaluate(DRAWN_SHAPES_JS) > 0, chart
        assert svg.locator(":scope > title").text_content().strip(), chart

    # the trend charts show every month of the history
    trend = page.locator('svg.chart[data-chart="churn-retention"]')
    assert trend.locator("circle").count() == 2 * len(history)
    assert trend.locator("polyline").count() == 2
    for period in PERIODS:
        assert period in trend.text_content()
    complaints_chart = page.locator('svg.chart[data-chart="complaint-timeliness"]')
    assert complaints_chart.locator("rect").count() >= 2 * len(history)

    assert opened.errors == []
    assert opened.dialogs == []
    assert all(url.startswith("file://") for url in opened.requests), opened.requests  # self-contained


def test_headline_figures_match_the_input(open_page, history: list[dict]) -> None:
    current = history[-1]
    page = open_page(render.dashboard_html(current, history)).page

    def tile(kpi: str) -> tuple[str, str]:
        element = page.locator(f'[data-kpi="{kpi}"]')
        assert element.is_visible(), kpi
        return element.locator(".value").inner_text(), element.locator(".detail").inner_text()

    assert page.locator("[data-kpi]").count() == len(TILES)
    churn_value, churn_detail = tile("churn")
    assert churn_value == f"{percent(current['churn']['annualised_rate'])} a year" == "18.8% a year"
    assert percent(current["churn"]["rate"], 2) in churn_detail  # 1.72% this month
    assert "1 of 58 left" in churn_detail and "3.5%" in churn_detail
    # 18.8% a year is above the yearly 3.5% target, gold+ at 0% is within its 2%
    assert "bad" in page.locator('[data-kpi="churn"]').get_attribute("class")
    assert "good" in page.locator('[data-kpi="gold-plus-churn"]').get_attribute("class")
    assert tile("gold-plus-churn")[0] == "0.0% a year"
    assert tile("members")[0] == "180"
    retention_value, retention_detail = tile("retention")
    assert retention_value == "98.3%" and "57 of 58" in retention_detail and "77.0% / 83.0%" in retention_detail
    assert "good" in page.locator('[data-kpi="retention"]').get_attribute("class")  # above the challenge
    assert tile("complaint-timeliness")[0] == "80.0%"
    assert tile("nps")[0] == "+40"
    assert tile("contact-coverage")[0] == "65.0%"
    value, detail = tile("activities")
    assert value == "75.0%" and "30 of 40 invited came" in detail and "45 of 60 VIPs" in detail
    assert "bad" in page.locator('[data-kpi="activities"]').get_attribute("class")  # below 85%


# --- screenshot ------------------------------------------------------------------------------------

def png_rows(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Decodes an 8-bit, non-interlaced RGB(A) PNG (what Chromium writes) into rows of pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, bytearray(), None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:  # Up
            row = bytearray((a + b) & 0xFF for a, b in zip(row, prev, strict=True))
        elif kind == 3:  # Average
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(row))
        prev = row
    return width, height, bpp, rows


def colour_counts(png: bytes) -> tuple[int, int, Counter]:
    width, height, bpp, rows = png_rows(png)
    counts: Counter = Counter()
    for row in rows:
        for i in range(0, len(row), bpp):
            counts[row[i:i + 3]] += 1
    return width, height, counts


def rgb(hex_colour: str) -> bytes:
    return bytes.fromhex(hex_colour.lstrip("#"))


def test_screenshot_is_written_and_shows_the_charts(tmp_path: Path, history: list[dict]) -> None:
    page = tmp_path / "dashboard.html"
    page.write_text(render.dashboard_html(history[-1], history), encoding="utf-8")
    png = screenshot(page, tmp_path / "dashboard.png").read_bytes()
    assert len(png) > 10_000

    width, height, counts = colour_counts(png)
    assert (width, height) == (1280, 1600)
    background = counts[rgb("#f4f6f8")] + counts[rgb("#ffffff")]
    assert background < 0.95 * width * height  # not a blank page
    assert len(counts) > 50  # text and anti-aliased lines, not a flat fill
    # each chart's own colour is on the picture in a good quantity
    for colour in (render.GOOD, render.TIER_COLOURS["gold"], render.SMS_COLOURS["sent"], render.LATE):
        assert counts[rgb(colour)] > 300, colour

    # different figures, different picture
    other = kpi_doc(members_by_tier={"regular": 10, "silver": 80, "gold": 60, "diamond": 30},
                    sms={"sent": 3, "capped": 20, "deferred": 0, "suppressed": 9, "failed": 4})
    other_page = tmp_path / "other.html"
    other_page.write_text(render.dashboard_html(other, history[:3]), encoding="utf-8")
    assert screenshot(other_page, tmp_path / "other.png").read_bytes() != png


# --- the command against a stand-in API ------------------------------------------------------------

class StandInApi(BaseHTTPRequestHandler):
    """Answers the three calls `python -m infra.report` makes, as the local stack would."""

    token = "local-token-123"
    seen: list[tuple[str, str, dict, str | None]] = []
    docs: list[dict] = []

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(("POST", self.path, body, self.headers.get("Authorization")))
        if self.path == "/_local/token" and body == {"brand_id": "demo", "role": "admin", "store_id": None}:
            self.reply(200, {"token": self.token})
        else:
            self.reply(400, {"message": "bad token request"})

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.seen.append(("GET", url.path, query, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != self.token:
            self.reply(401, {"message": "Unauthorized"})
        elif url.path == "/reports/kpis":
            self.reply(200, self.docs[-1])
        elif url.path == "/reports/kpis/history":
            self.reply(200, {"periods": self.docs})
        else:
            self.reply(404, {"message": "not found"})


@pytest.fixture
def stand_in_api(history: list[dict]) -> Iterator[str]:
    StandInApi.seen, StandInApi.docs = [], history
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_command_fetches_the_kpis_and_writes_page_and_screenshot(stand_in_api: str, tmp_path: Path,
                                                                 capsys) -> None:
    out = tmp_path / "build" / "report"
    assert report_main(["--url", stand_in_api, "--out", str(out), "--period", "2026-11"]) == 0

    assert StandInApi.seen == [
        ("POST", "/_local/token", {"brand_id": "demo", "role": "admin", "store_id": None}, None),
        ("GET", "/reports/kpis", {"period": "2026-11"}, StandInApi.token),
        ("GET", "/reports/kpis/history", {"from": "2025-11", "to": "2026-11"}, StandInApi.token),
    ]
    html, png = out / "dashboard.html", out / "dashboard.png"
    assert capsys.readouterr().out.split() == [str(html), str(png)]
    text = html.read_text(encoding="utf-8")
    assert all(f'data-chart="{chart}"' in text for chart in CHARTS)
    assert "18.8% a year" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_command_reports_an_api_error_instead_of_a_traceback(stand_in_api: str, tmp_path: Path, capsys) -> None:
    # a wrong base URL: the token call gets a 400 and the command says so, naming the call
    assert report_main(["--url", stand_in_api + "/nowhere", "--out", str(tmp_path), "--period", "2026-11"]) == 1
    assert "report: POST " + stand_in_api + "/nowhere/_local/token -> 400" in capsys.readouterr().err
    assert not (tmp_path / "dashboard.html").exists()


@pytest.mark.parametrize(("period", "months", "expected"),
                         [("2026-11", 12, "2025-11"), ("2026-01", 1, "2025-12"), ("2026-03", 14, "2025-01")])
def test_months_before(period: str, months: int, expected: str) -> None:
    assert months_before(period, months) == expected


# --- renderer, without a browser -------------------------------------------------------------------

def test_zero_denominators_show_na_and_draw_empty_charts(open_page) -> None:
    doc = zero_doc()
    html = render.dashboard_html(doc, [zero_doc(), doc])
    opened = open_page(html)
    page = opened.page

    for kpi in ("churn", "gold-plus-churn", "retention", "complaint-timeliness", "nps", "contact-coverage"):
        assert page.locator(f'[data-kpi="{kpi}"] .value').inner_text() == "n/a", kpi
        assert "neutral" in page.locator(f'[data-kpi="{kpi}"]').get_attribute("class"), kpi
    assert page.locator('[data-kpi="members"] .value').inner_text() == "0"
    for chart in CHARTS:
        svg = page.locator(f'svg.chart[data-chart="{chart}"]')
        assert svg.is_visible() and svg.bounding_box()["height"] > 0, chart
    assert "no members yet" in page.locator('svg[data-chart="tier-mix"]').text_content()
    assert "no gold+ members" in page.locator('svg[data-chart="contact-coverage"]').text_content()
    assert opened.errors == []


def test_missing_sections_and_malformed_figures_do_not_break_the_page() -> None:
    bare = {"brand_id": "demo", "period": "2026-11"}
    odd = kpi_doc(retention={"rate": "not a number"}, vips="many", nps={"responses": 3, "score": "NaN"},
                  contacts={"gold_plus": 4, "contacted": 9, "coverage": "2.25"})
    for current, history in ((bare, []), (bare, [bare]), (odd, [odd]), (kpi_doc(), [])):
        html = render.dashboard_html(current, history)
        assert all(f'data-chart="{chart}"' in html for chart in CHARTS)
    assert "n/a" in render.dashboard_html(odd, [odd])


def test_hostile_strings_are_escaped(open_page) -> None:
    attack = '<script>alert("x")</script>'
    doc = kpi_doc(level="store", scope_id=f"Store {attack}", brand_id='demo"><img src=x onerror=alert(1)>',
                  members_by_tier={"regular": 5, f"{attack}": 3, "gold": 2})
    history = [kpi_doc("2026-10' onmouseover='alert(2)"), doc]
    html = render.dashboard_html(doc, history)

    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "onmouseover='" not in html

    opened = open_page(html)
    page = opened.page
    assert page.locator("script, img").count() == 0
    assert attack in page.locator(".scope").inner_text()  # shown as text, not run
    assert opened.dialogs == [] and opened.errors == []
