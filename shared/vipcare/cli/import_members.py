"""`vipcare import members.csv`: load an existing member base through the HTTP API.

Each row is enrolled with `POST /members`, so the API's own validation decides (a rejected row
is reported with the field the API named). A phone already enrolled is a 409 with the existing
member: counted as "already there", so running the same file twice creates each member once.
Every request carries an Idempotency-Key derived from the run and the row's store and phone, so
a request retried after a timeout within a run returns its first answer (a rerun of the file
uses new keys, so its rows read "already there" rather than a replayed "created").

Columns (header row required; only name, phone, store_id are needed; unknown columns refused):
    name, phone, store_id, sms_marketing (yes/no), gender, birthday (YYYY-MM-DD), birthday_lunar
    (yes/no), anniversary, email, address, occupation, company, other_phones and hobbies
    (separated by ";"), preferences, notes, referrer_member_id
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

REQUIRED = ("name", "phone", "store_id")
TEXT = ("gender", "birthday", "anniversary", "email", "address", "occupation", "company", "preferences", "notes",
        "referrer_member_id")
BOOLEANS = ("sms_marketing", "birthday_lunar")
LISTS = ("other_phones", "hobbies")
COLUMNS = (*REQUIRED, *TEXT, *BOOLEANS, *LISTS)
_YES, _NO = {"yes", "y", "true", "1", "是"}, {"no", "n", "false", "0", "否", ""}
RETRIES = 3


class RowError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def body_of(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the enrolment request; empty cells are left out (the API's defaults apply)."""
    cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
    for name in REQUIRED:
        if not cells.get(name):
            raise RowError(name, "is required")
    body: dict[str, Any] = {name: cells[name] for name in (*REQUIRED, *TEXT) if cells.get(name)}
    for name in BOOLEANS:
        value = cells.get(name, "").lower()
        if value not in _YES | _NO:
            raise RowError(name, "must be yes or no")
        if name == "sms_marketing":
            body["consent"] = {"sms_marketing": value in _YES}
        elif value in _YES:
            body[name] = True
    for name in LISTS:
        items = [x.strip() for x in cells.get(name, "").split(";") if x.strip()]
        if items:
            body[name] = items
    return body


def idempotency_key(body: dict[str, Any], run_id: str) -> str:
    digits = "".join(ch for ch in body["phone"] if ch.isdigit())
    return "import-" + hashlib.sha256(f"{run_id}|{body['store_id']}|{digits}".encode()).hexdigest()[:32]


@dataclass
class Result:
    created: int = 0
    existing: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.existing + len(self.rejected)


Send = Callable[[dict[str, Any], str], tuple[int, dict[str, Any]]]


def http_sender(api: str, token: str, *, timeout: float = 30) -> Send:
    """POST /members with retries on throttling, 5xx and network errors."""

    def send(body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(  # noqa: S310 - the CLI accepts http(s) URLs only
            f"{api.rstrip('/')}/members", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": token, "Idempotency-Key": key})
        for attempt in range(RETRIES + 1):
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the API URL
                    return response.status, json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                if (exc.code < 500 and exc.code != 429) or attempt == RETRIES:
                    return exc.code, json.loads(exc.read() or b"{}")
            except (urllib.error.URLError, TimeoutError):
                if attempt == RETRIES:
                    raise
            time.sleep(0.5 * 2 ** attempt)
        raise AssertionError("unreachable")

    return send


def _progress(out: TextIO, done: int, total: int, r: Result) -> None:
    width = 30
    filled = width * done // total if total else width
    out.write(f"\r[{'#' * filled}{' ' * (width - filled)}] {done}/{total}  created {r.created}  "
              f"already there {r.existing}  rejected {len(r.rejected)}")
    out.flush()


def run(rows: Iterable[tuple[int, dict[str, str]]], total: int, send: Send, progress: TextIO | None = None,
        run_id: str | None = None) -> Result:
    result = Result()
    run_id = run_id or uuid.uuid4().hex
    for done, (line, row) in enumerate(rows, start=1):
        try:
            body = body_of(row)
        except RowError as exc:
            result.rejected.append({"row": str(line), "field": exc.field, "message": exc.message, **row})
        else:
            status, answer = send(body, idempotency_key(body, run_id))
            if status == 201:
                result.created += 1
            elif status == 409 and answer.get("member_id"):
                result.existing += 1
            else:
                first = (answer.get("fields") or [{}])[0]
                result.rejected.append({"row": str(line), "field": first.get("field", ""),
                                        "message": first.get("message") or answer.get("message", f"HTTP {status}"),
                                        **row})
        if progress is not None:
            _progress(progress, done, total, result)
    if progress is not None:
        progress.write("\n")
    return result


def read_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """(line number, row) pairs; refuses a file without the required columns or with unknown ones."""
    with path.open(newline="", encoding="utf-8-sig") as f:  # spreadsheet exports often carry a BOM
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c not in COLUMNS]
        if missing or unknown:
            raise RowError("header", f"missing columns {missing}, unknown columns {unknown}; known: {list(COLUMNS)}")
        return [(reader.line_num, row) for row in reader], header


def write_rejects(path: Path, header: list[str], rejected: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["row", "field", "message", *header], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rejected)
