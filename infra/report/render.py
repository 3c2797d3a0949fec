"""The KPI dashboard as one self-contained HTML page: headline tiles and inline SVG charts.

Input is the JSON of GET /reports/kpis (one period) and the `periods` list of
GET /reports/kpis/history (oldest first). Rates arrive as decimal strings and are null when
their denominator was 0; such a figure shows as "n/a". No script, no external asset: the
page opens from a file, an e-mail attachment or a headless browser alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

NA = "n/a"

# Colours that stay apart for the common colour-vision deficiencies.
GOOD, BAD, NEUTRAL = "#1b7f5a", "#c0392b", "#5b6770"
TIER_COLOURS = {"regular": "#b8c2cc", "silver": "#8e9aa6", "gold": "#d4a017", "diamond": "#2e86c1"}
SPARE_COLOURS = ("#7d3c98", "#16a085", "#ca6f1e", "#34495e")  # tiers a brand may add
ON_TIME, LATE = "#1b7f5a", "#e67e22"
SMS_COLOURS = {"sent": "#2e86c1", "capped": "#8e44ad", "deferred": "#e67e22", "suppressed": "#7f8c8d",
               "failed": "#c0392b"}


# --- numbers ---------------------------------------------------------------------------------------

def rate(value: Any) -> Decimal | None:
    """A rate as sent by the API (decimal string, or null when there was nothing to measure)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        return None
    return parsed if parsed.is_finite() else None


def count(value: Any) -> int:
    """A count; anything missing or malformed counts as 0 so one bad field cannot sink the page."""
    if isinstance(value, bool):
        return 0
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def percent(value: Any, places: int = 1) -> str:
    parsed = rate(value)
    if parsed is None:
        return NA
    return f"{parsed * 100:.{places}f}%"


def share(part: int, whole: int) -> float:
    """part/whole for drawing; 0 when whole is 0 (the figure beside it then says n/a)."""
    return part / whole if whole else 0.0


def section(doc: dict, key: str) -> dict:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def num(x: float) -> str:
    """An SVG coordinate, short and stable."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


# --- tiles -----------------------------------------------------------------------------------------

def status_against(value: Any, target: Any) -> str:
    """'good' when at or below the target, 'bad' above it, 'neutral' when either is unknown."""
    measured, limit = rate(value), rate(target)
    if measured is None or limit is None:
        return "neutral"
    return "good" if measured <= limit else "bad"


def tile(kpi: str, label: str, value: str, detail: str, status: str = "neutral") -> str:
    return (f'<div class="tile {escape(status)}" data-kpi="{escape(kpi)}">'
            f'<p class="label">{escape(label)}</p>'
            f'<p class="value">{escape(value)}</p>'
            f'<p class="detail">{escape(detail)}</p></div>')


def members_tile(doc: dict) -> str:
    tiers = section(doc, "members_by_tier")
    total = sum(count(n) for n in tiers.values())
    detail = (f"{count(doc.get('vips'))} VIPs · {count(doc.get('new_vips'))} new · "
              f"{count(doc.get('upgrades'))} up / {count(doc.get('downgrades'))} down")
    return tile("members", "Members", f"{total:,}", detail)


def churn_tile(kpi: str, label: str, churn: dict, prefix: str, target_key: str) -> str:
    # The targets are yearly (docs/domain.md §6), so the annualised rate is what is judged against them.
    annual, target = churn.get(f"{prefix}annualised_rate"), churn.get(target_key)
    monthly = churn.get(f"{prefix}rate")
    left, base = count(churn.get(f"{prefix}left")), count(churn.get(f"{prefix}snapshot"))
    detail = (f"{percent(monthly, 2)} this month ({left} of {base} left) · "
              f"target below {percent(target)} a year")
    value = NA if rate(annual) is None else f"{percent(annual)} a year"
    return tile(kpi, label, value, detail, status_against(annual, target))


def retention_tile(doc: dict) -> str:
    """Retention of the window's snapshot (docs/kpis.md): good at or above the challenge target,
    bad below the basic one."""
    r = section(doc, "retention")
    base = count(r.get("snapshot"))
    kept = base - count(r.get("lost"))
    measured, basic, challenge = rate(r.get("rate")), rate(r.get("target_basic")), rate(r.get("target_challenge"))
    status = "neutral"
    if measured is not None and basic is not None and challenge is not None:
        status = "good" if measured >= challenge else "bad" if measured < basic else "neutral"
    detail = (f"{kept} of {base} VIPs of {r.get('window_start', '?')} kept · "
              f"target {percent(r.get('target_basic'))} / {percent(r.get('target_challenge'))}")
    return tile("retention", "VIP retention", percent(r.get("rate")), detail, status)


def timeliness_tile(doc: dict) -> str:
    c = section(doc, "complaints")
    minutes = rate(c.get("mean_first_response_minutes"))
    first = NA if minutes is None else f"{minutes:.0f} min"
    detail = (f"{count(c.get('resolved_on_time'))} of {count(c.get('resolved'))} resolved on time · "
              f"{count(c.get('opened'))} opened · first response {first} · "
              f"satisfied {percent(c.get('satisfaction'), 0)}")
    return tile("complaint-timeliness", "Complaints on time", percent(c.get("timeliness")), detail)


def nps_tile(doc: dict) -> str:
    n = section(doc, "nps")
    responses = count(n.get("responses"))
    score = n.get("score")
    value = NA if responses == 0 or rate(score) is None else f"{rate(score):+.0f}"
    detail = (f"{responses} responses · {count(n.get('promoters'))} promoters, "
              f"{count(n.get('passives'))} passives, {count(n.get('detractors'))} detractors")
    return tile("nps", "NPS", value, detail)


def coverage_tile(doc: dict) -> str:
    c = section(doc, "contacts")
    detail = f"{count(c.get('contacted'))} of {count(c.get('gold_plus'))} gold+ members contacted this month"
    return tile("contact-coverage", "Contact coverage", percent(c.get("coverage")), detail)


def activities_tile(doc: dict) -> str:
    """Participation (attended / invited) against its target, with coverage and feedback."""
    a = section(doc, "activities")
    participation, target = rate(a.get("participation")), rate(a.get("participation_target"))
    status = "neutral" if participation is None or target is None else (
        "good" if participation >= target else "bad")
    detail = (f"{count(a.get('attended'))} of {count(a.get('invited'))} invited came · "
              f"{count(a.get('vips_invited'))} of {count(a.get('vips'))} VIPs invited this year "
              f"({percent(a.get('coverage'), 0)}) · feedback on time "
              f"{count(a.get('feedback_on_time'))} of {count(a.get('ended'))}")
    return tile("activities", "Activity participation", percent(a.get("participation")), detail, status)


def tiles(doc: dict) -> str:
    churn = section(doc, "churn")
    return "".join([
        members_tile(doc),
        churn_tile("churn", "VIP churn", churn, "", "target"),
        churn_tile("gold-plus-churn", "Diamond + gold churn", churn, "gold_plus_", "gold_plus_target"),
        retention_tile(doc),
        timeliness_tile(doc),
        nps_tile(doc),
        coverage_tile(doc),
        activities_tile(doc),
    ])


# --- SVG building blocks ---------------------------------------------------------------------------

def svg(chart: str, title: str, width: int, height: int, body: Iterable[str]) -> str:
    title_id = f"chart-{chart}-title"
    return (f'<svg class="chart" data-chart="{escape(chart)}" role="img" aria-labelledby="{title_id}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{title_id}">{escape(title)}</title>{"".join(body)}</svg>')


def rect(x: float, y: float, w: float, h: float, fill: str, label: str | None = None) -> str:
    hover = f"<title>{escape(label)}</title>" if label else ""
    return (f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(w, 0))}" height="{num(max(h, 0))}" '
            f'fill="{fill}">{hover}</rect>')


def text(x: float, y: float, content: str, anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}"{klass}>{escape(content)}</text>'


def line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" class="{cls}"/>'


def legend(items: Sequence[tuple[str, str]], x: float, y: float, step: float = 150) -> list[str]:
    parts = []
    for i, (label, colour) in enumerate(items):
        left = x + i * step
        parts += [rect(left, y - 10, 12, 12, colour), text(left + 18, y, label, cls="small")]
    return parts


def period_positions(n: int, left: float, right: float) -> list[float]:
    if n == 1:
        return [(left + right) / 2]
    step = (right - left) / (n - 1)
    return [left + i * step for i in range(n)]


TREND_LEFT, TREND_RIGHT = 60.0, 1180.0
CHURN_SCALES = [Decimal(s) for s in ("0.01", "0.02", "0.05", "0.1", "0.2", "0.25", "0.5", "1")]


def nice_ceiling(highest: Decimal) -> Decimal:
    """The top of the churn axis: a round figure with a little room above the highest point."""
    wanted = highest * Decimal("1.1")
    return next((top for top in CHURN_SCALES if top >= wanted), max(wanted, Decimal(1)))


def label_every(n: int, room: int = 12) -> int:
    """Show every k-th period label so they never overlap."""
    return max(1, -(-n // room))


# --- charts ----------------------------------------------------------------------------------------

def tier_colour(tier: str, index: int) -> str:
    return TIER_COLOURS.get(tier, SPARE_COLOURS[index % len(SPARE_COLOURS)])


def tier_mix_chart(doc: dict) -> str:
    tiers = [(str(name), count(n)) for name, n in section(doc, "members_by_tier").items()]
    total = sum(n for _, n in tiers)
    left, width, top, height = 20.0, 560.0, 20.0, 40.0
    body = [rect(left, top, width, height, "#eef1f4")]
    if total == 0:
        body.append(text(300, top + 26, "no members yet", "middle", "small"))
    x = left
    for i, (name, n) in enumerate(tiers):
        w = width * share(n, total)
        if w > 0:
            body.append(rect(x, top, w, height, tier_colour(name, i), f"{name}: {n}"))
            if w > 34:
                body.append(text(x + w / 2, top + 25, str(n), "middle", "on-bar"))
        x += w
    for i, (name, n) in enumerate(tiers):
        row, col = divmod(i, 4)
        left_x, y = left + col * 140, 90 + row * 22
        pct = f"{share(n, total) * 100:.0f}%" if total else NA
        body += [rect(left_x, y - 10, 12, 12, tier_colour(name, i)),
                 text(left_x + 18, y, f"{name.capitalize()} {n} ({pct})", cls="small")]
    height_all = 100 + 22 * ((len(tiers) - 1) // 4 + 1) if tiers else 110
    return svg("tier-mix", f"Members by tier: {total} in all", 600, height_all, body)


def rate_panel(periods: list[str], values: list[Decimal | None], top: float, bottom: float, lo: Decimal,
               hi: Decimal, colour: str, name: str, target: Decimal | None = None) -> list[str]:
    """One line series in its own band of the chart: grid, optional target line, line and points."""
    left, right = TREND_LEFT, TREND_RIGHT
    xs = period_positions(len(periods), left + 20, right - 20)
    span = hi - lo or Decimal(1)

    def y_of(v: Decimal) -> float:
        clamped = min(max(v, lo), hi)
        return bottom - float((clamped - lo) / span) * (bottom - top)

    body = [rect(left, top, right - left, bottom - top, "#f7f9fa"),
            text(left, top - 6, name, cls="small strong")]
    for tick in (lo, (lo + hi) / 2, hi):
        y = y_of(tick)
        body += [line(left, y, right, y, "grid"), text(left - 6, y + 4, f"{tick * 100:.1f}%", "end", "small")]
    if target is not None:
        y = y_of(target)
        body += [line(left, y, right, y, "target"),
                 text(right, y - 5, f"target {target * 100:.1f}%", "end", "small target-label")]
    # A null rate breaks the line rather than being drawn as 0.
    segment: list[str] = []
    for x, v in zip(xs, values, strict=True):
        if v is None:
            if len(segment) > 1:
                body.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" '
                            f'stroke-width="2.5"/>')
            segment = []
            body.append(text(x, (top + bottom) / 2, NA, "middle", "small"))
            continue
        segment.append(f"{num(x)},{num(y_of(v))}")
    if len(segment) > 1:
        body.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    for x, v, period in zip(xs, values, periods, strict=True):
        if v is not None:
            body.append(f'<circle cx="{num(x)}" cy="{num(y_of(v))}" r="4" fill="{colour}">'
                        f'<title>{escape(period)}: {v * 100:.2f}%</title></circle>')
    return body


def period_axis(periods: list[str], y: float) -> list[str]:
    every = label_every(len(periods))
    xs = period_positions(len(periods), TREND_LEFT + 20, TREND_RIGHT - 20)
    return [text(x, y, p, "middle", "small") for i, (x, p) in enumerate(zip(xs, periods, strict=True))
            if i % every == 0 or i == len(periods) - 1]


def churn_retention_chart(history: list[dict]) -> str:
    periods = [str(d.get("period", "")) for d in history]
    churn = [rate(section(d, "churn").get("annualised_rate")) for d in history]
    retention = [rate(section(d, "retention").get("rate")) for d in history]
    target = next((rate(section(d, "churn").get("target")) for d in reversed(history)
                   if rate(section(d, "churn").get("target")) is not None), None)

    known_retention = [v for v in retention if v is not None]
    retention_lo = min([Decimal("0.9"), *known_retention])
    retention_lo = Decimal(int(retention_lo * 20)) / 20  # down to a 5% step
    churn_hi = nice_ceiling(max([*(v for v in churn if v is not None), *([target] if target else [])],
                                default=Decimal(0)))

    body = rate_panel(periods, retention, 30, 140, retention_lo, Decimal(1), GOOD, "Retention (window snapshot)")
    body += rate_panel(periods, churn, 185, 295, Decimal(0), churn_hi, BAD, "VIP churn (annualised)", target)
    body += period_axis(periods, 315)
    span = f"{periods[0]} to {periods[-1]}" if periods else "no periods"
    # Drawn at the width it is shown (the full row), so its text keeps the size of the others'.
    return svg("churn-retention", f"Churn and retention, {span}", 1200, 325, body)


def complaint_timeliness_chart(history: list[dict]) -> str:
    rows = [(str(d.get("period", "")), section(d, "complaints")) for d in history]
    resolved = [count(c.get("resolved")) for _, c in rows]
    on_time = [min(count(c.get("resolved_on_time")), r) for (_, c), r in zip(rows, resolved, strict=True)]
    top, bottom, left, right = 40.0, 200.0, 40.0, 580.0
    highest = max([1, *resolved])
    slot = (right - left) / max(len(rows), 1)
    bar = min(slot * 0.6, 60)
    body = [line(left, bottom, right, bottom, "axis")]
    body += legend([("resolved on time", ON_TIME), ("late", LATE)], left, 16, 170)
    every = label_every(len(rows))
    for i, ((period, c), r, ok) in enumerate(zip(rows, resolved, on_time, strict=True)):
        x = left + slot * i + (slot - bar) / 2
        h_ok = (bottom - top) * ok / highest
        h_late = (bottom - top) * (r - ok) / highest
        body.append(rect(x, bottom - h_ok, bar, h_ok, ON_TIME, f"{period}: {ok} on time"))
        body.append(rect(x, bottom - h_ok - h_late, bar, h_late, LATE, f"{period}: {r - ok} late"))
        body.append(text(x + bar / 2, bottom - h_ok - h_late - 5, percent(c.get("timeliness"), 0), "middle",
                         "small"))
        if i % every == 0 or i == len(rows) - 1:
            body.append(text(x + bar / 2, bottom + 16, period, "middle", "small"))
    if not rows:
        body.append(text(300, 120, "no periods", "middle", "small"))
    return svg("complaint-timeliness", "Complaints resolved on time and late, per month", 600, 225, body)


def contact_coverage_chart(doc: dict) -> str:
    c = section(doc, "contacts")
    contacted, gold_plus = count(c.get("contacted")), count(c.get("gold_plus"))
    coverage = rate(c.get("coverage"))
    fraction = min(max(float(coverage), 0.0), 1.0) if coverage is not None else 0.0
    left, width = 20.0, 560.0
    body = [rect(left, 20, width, 36, "#eef1f4"),
            rect(left, 20, width * fraction, 36, GOOD, f"{contacted} of {gold_plus} contacted")]
    for quarter in (0.25, 0.5, 0.75):
        body.append(line(left + width * quarter, 20, left + width * quarter, 56, "tick"))
    caption = (f"{contacted} of {gold_plus} gold+ members contacted ({percent(coverage)})" if coverage is not None
               else f"{NA}: no gold+ members to contact")
    body.append(text(left, 80, caption, cls="small"))
    return svg("contact-coverage", f"Contact coverage of gold+ members this month: {percent(coverage)}", 600, 90,
               body)


def sms_chart(doc: dict) -> str:
    sms = section(doc, "sms")
    kinds = ["sent", "capped", "deferred", "suppressed", "failed"]
    counts = [count(sms.get(k)) for k in kinds]
    highest = max([1, *counts])
    left, right = 100.0, 540.0
    body = []
    for i, (kind, n) in enumerate(zip(kinds, counts, strict=True)):
        y = 12 + i * 30
        body += [text(left - 8, y + 15, kind, "end", "small"),
                 rect(left, y, right - left, 20, "#f3f5f7"),
                 rect(left, y, (right - left) * n / highest, 20, SMS_COLOURS[kind], f"{kind}: {n}"),
                 text(right + 8, y + 15, str(n), cls="small")]
    return svg("sms", f"SMS this month: {counts[0]} sent, {sum(counts[1:])} held back or failed", 600, 165, body)


# --- page ------------------------------------------------------------------------------------------

STYLE = """
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;background:#f4f6f8;color:#1f2a33;
 font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{display:flex;justify-content:space-between;align-items:baseline;margin-bottom:16px}
h1{font-size:24px;margin:0}
.scope{color:#5b6770;margin:0}
.note{margin:.3rem 0 0;color:#7a4b00}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-bottom:16px}
.tile{background:#fff;border-radius:8px;padding:12px 14px;border-top:4px solid #5b6770}
.tile.good{border-top-color:#1b7f5a}.tile.bad{border-top-color:#c0392b}
.tile .label{margin:0;color:#5b6770;font-size:13px;text-transform:uppercase;letter-spacing:.04em}
.tile .value{margin:4px 0;font-size:28px;font-weight:700}
.tile.good .value{color:#1b7f5a}.tile.bad .value{color:#c0392b}
.tile .detail{margin:0;color:#5b6770;font-size:12.5px}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:12px}
figure{margin:0;background:#fff;border-radius:8px;padding:12px 14px}
figure.wide{grid-column:span 2}
figcaption{font-weight:600;margin-bottom:6px}
svg.chart{display:block;width:100%;height:auto}
svg text{font-size:12px;fill:#1f2a33}
svg text.small{font-size:11px;fill:#5b6770}
svg text.strong{font-weight:600;fill:#1f2a33}
svg text.on-bar{font-size:12px;font-weight:600;fill:#fff}
svg text.target-label{fill:#c0392b}
svg .grid{stroke:#dde3e8;stroke-width:1}
svg .axis{stroke:#8e9aa6;stroke-width:1}
svg .tick{stroke:#fff;stroke-width:2}
svg .target{stroke:#c0392b;stroke-width:1.5;stroke-dasharray:6 4}
footer{margin-top:16px;color:#5b6770;font-size:12px}
"""

# No script runs and nothing loads from elsewhere, whatever ends up in the data.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def figure(caption: str, chart: str, wide: bool = False) -> str:
    klass = ' class="wide"' if wide else ""
    return f"<figure{klass}><figcaption>{escape(caption)}</figcaption>{chart}</figure>"


def scope_line(doc: dict) -> str:
    level = str(doc.get("level") or "brand")
    scope = str(doc.get("scope_id") or doc.get("brand_id") or "")
    brand = str(doc.get("brand_id") or "")
    where = f"Brand {brand}" if level == "brand" else f"{level.capitalize()} {scope} · brand {brand}"
    return f"{where} · {doc.get('period', '')}"


def dashboard_html(current: dict, history: list[dict], note: str | None = None) -> str:
    """The whole page for one period; `history` (oldest first) feeds the trend charts; `note`
    says why this period was chosen when the reader did not choose it."""
    trend = list(history) or [current]
    where = scope_line(current)
    charts = "".join([
        figure("Churn and retention", churn_retention_chart(trend), wide=True),
        figure("Members by tier", tier_mix_chart(current)),
        figure("Gold+ contact coverage this month", contact_coverage_chart(current)),
        figure("Complaints resolved on time", complaint_timeliness_chart(trend)),
        figure("SMS this month", sms_chart(current)),
    ])
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>VIP Care KPIs · {escape(where)}</title><style>{STYLE}</style></head>"
        f'<body><header><h1>VIP Care KPIs</h1><p class="scope">{escape(where)}</p>'
        + (f'<p class="note" role="note">{escape(note)}</p>' if note else "") + "</header>"
        f'<section class="tiles">{tiles(current)}</section>'
        f'<section class="charts">{charts}</section>'
        "<footer>Churn targets are yearly and judged on the annualised rate. "
        f"{NA}: nothing to measure that month (a zero denominator).</footer>"
        "</body></html>\n"
    )
