"""`make report`: the KPI dashboard of a running API as HTML and a PNG screenshot.

    python -m infra.report --url http://127.0.0.1:3000 --out build/report [--period YYYY-MM]

Takes a local admin token from {url}/_local/token, reads /reports/kpis and the last 12 months of
/reports/kpis/history, writes dashboard.html and dashboard.png (headless Chromium) under --out.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from infra.report.render import dashboard_html

CHROMIUM = "/usr/bin/chromium"
BRAND_TZ = ZoneInfo("Asia/Shanghai")  # the demo brand's (infra/local/demo.py): whose "today" picks the month
WINDOW = "1280,1600"
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def period_arg(value: str) -> str:
    if not PERIOD.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a YYYY-MM period")
    return value


def months_before(period: str, months: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + (month - 1) - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def default_period(today: date) -> tuple[str, str | None]:
    """This month, except on its 1st: a month one day old has nothing to show yet, so the
    last complete month, and a note saying so."""
    current = f"{today:%Y-%m}"
    if today.day != 1:
        return current, None
    previous = months_before(current, 1)
    return previous, (f"Today is the 1st: showing {previous}, the last complete month "
                      f"(--period {current} shows this month so far).")


def call(method: str, url: str, *, token: str | None = None, body: dict | None = None) -> dict:
    """One JSON request; an HTTP error becomes a RuntimeError naming the URL and the API's answer."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = token
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:500]
        raise RuntimeError(f"{method} {url} -> {exc.code}: {detail}") from exc
    except urllib.error.URLError as exc:
        raise RuntimeError(f"{method} {url}: {exc.reason} (is the API running? `make run`)") from exc


def admin_token(url: str) -> str:
    answer = call("POST", f"{url}/_local/token", body={"brand_id": "demo", "role": "admin", "store_id": None})
    return answer["token"]


def fetch_kpis(url: str, period: str) -> tuple[dict, list[dict]]:
    token = admin_token(url)
    current = call("GET", f"{url}/reports/kpis?{urllib.parse.urlencode({'period': period})}", token=token)
    query = urllib.parse.urlencode({"from": months_before(period, 12), "to": period})
    history = call("GET", f"{url}/reports/kpis/history?{query}", token=token).get("periods") or []
    return current, history


def screenshot(html_path: Path, png_path: Path, chromium: str = CHROMIUM) -> Path:
    """A PNG of the page as a 1280-wide browser shows it."""
    png_path.unlink(missing_ok=True)  # so a stale picture is never taken for a new one
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--window-size={WINDOW}", f"--screenshot={png_path.resolve()}", html_path.resolve().as_uri()]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0 or not png_path.exists():
        raise RuntimeError(f"chromium made no screenshot (exit {result.returncode}): {result.stderr[-1000:]}")
    return png_path


def write_report(current: dict, history: list[dict], out: Path, note: str | None = None) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / "dashboard.html"
    html_path.write_text(dashboard_html(current, history, note), encoding="utf-8")
    return html_path, screenshot(html_path, out / "dashboard.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the API (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("build/report"), help="folder (default: %(default)s)")
    parser.add_argument("--period", type=period_arg, default=None,
                        help="YYYY-MM (default: this month in the brand's time; on the 1st, the last month)")
    args = parser.parse_args(argv)

    period, note = (args.period, None) if args.period else default_period(datetime.now(BRAND_TZ).date())
    try:
        current, history = fetch_kpis(args.url.rstrip("/"), period)
        paths = write_report(current, history, args.out, note)
    except RuntimeError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
