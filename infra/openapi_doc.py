"""The API's OpenAPI document, generated from the handlers' code (powertools + pydantic).

Each function has its own resolver; this merges their documents into one. `make openapi`
writes docs/openapi.json; a test fails when the committed file drifts from the code.

    python -m infra.openapi_doc [--check]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from infra.local import template
from infra.local.lambdas import load_module

OUTPUT = template.ROOT / "docs" / "openapi.json"

# What changed on the wire, newest first: store apps read this before they upgrade.
CHANGES = (
    "2026-12 (breaking): `GET /reports/kpis` churn counts members who left (closed): `churn.lost`, "
    "`churn.gold_plus_lost` and `churn.by_tier.*.lost` are renamed `left`, `gold_plus_left`, `left` (they "
    "also counted 3 months in a row below a floor, which is retention's rule). `retention_rate` is replaced "
    "by the `retention` block: the snapshot of the brand's retention window (`window_start`, "
    "`window_months`), lost by the brand's rule (`rule`: months below a floor in total, or no purchase for "
    "N days), `rate`, gold+, `target_basic` / `target_challenge`. Months judged before this change keep "
    "no churn or retention figures. New: `GET`/`PUT /brands/{brand_id}/kpi-policy`; the deployment's "
    "`LOST_SPEND_FLOOR` is gone (the floor is the brand's, 50 by default).",
    "2026-12: an NPS answer of 0-6 raises a `detractor` task (a task's `kind` may be `detractor`, with "
    "`due_on`); `GET /staff/{staff_id}/tasks` also lists a store's service queue (`queue:<store>:service`).",
    "2026-12 (breaking): `POST /members/{member_id}/tasks/{task_id}/complete` takes a body `{outcome, reason}`: "
    "a retention task needs `outcome` retained or lost and, when lost, a `reason` (moved, competitor, price, "
    "service, product, other), else 422; other tasks take an optional `outcome` (no body still works). New: "
    "`GET /reports/churn-reasons?period=YYYY-MM[&store_id=]`; a task shows `lost_reason`.",
    "2026-12: new tasks given by hand: `POST /tasks`, `POST /tasks/{task_id}/assign` (down the supervisor "
    "chain; `history` on the task), `POST /tasks/{task_id}/complete` (`outcome`). A task's `kind` may be "
    "`assigned`, and a task carries `title`, `note`, `due_on`, `outcome` and `history` when it has them.",
    "2026-12 (breaking): the tier policy's `contact_every_days` (stored, never read) is gone: a PUT carrying it "
    "is a 422. Each tier takes a `cadence` [{`channel` (a contact-log channel or `any`), `count`, `per` "
    "month|quarter}] instead (default: gold and diamond 1 contact a month, silver 1 a quarter); a period's "
    "cadence task is done only when every requirement is met, and a task shows its `requirements` and what "
    "is still `missing`. `POST /members/{member_id}/contacts` answers `completed_task_id` only when the "
    "contact completed the period.",
    "2026-12: `GET /reports/kpis` `contacts.gold_plus` is the gold+ part of the month's opening snapshot "
    "and `contacts.contacted` the members of that set contacted in the month (it was the gold+ count at "
    "the moment of reading against members who were gold+ when contacted, which could exceed 1). "
    "`GET /reports/kpis/history` without `from`/`to` answers the last 12 months (it was a 422). "
    "New: `churn.by_tier` (silver, gold, diamond: snapshot, lost, rate, annualised rate).",
    "2026-12 (breaking): every list pages the same way: `limit` and an opaque `after` cursor in, `next` "
    "out (null on the last page). Lists that answered a bare array answer a named page object now: "
    "`GET /members/{member_id}/messages` -> `MessageListOut` `{member_id, messages, next}`, "
    "`GET /members/{member_id}/contacts` -> `ContactListOut` `{member_id, contacts, next}`, "
    "`GET /staff/{staff_id}/tasks` -> `TaskListOut` `{staff_id, tasks, next}`, `GET /segments` -> "
    "`SegmentListOut`, `GET /activities` -> `ActivityListOut`, `GET /complaints` -> `ComplaintListOut`, "
    "`GET /rewards` -> `RewardListOut`, `GET /stores` -> `StoreListOut`. A cursor from one list (or one "
    "queue view) is refused by another with 422 naming `after`.",
    "2026-12: `POST /purchases` is documented as `oneOf` `PurchaseIn` and `PurchaseBatchIn` (it always took "
    "both); its 422 is `oneOf` `ErrorBody` (a lone purchase) and `PurchaseIntakeResult` (a batch whose "
    "every row is invalid), as it always answered.",
    "2026-12: every operation has an explicit `operationId` named as an SDK method (`enrolMember`, "
    "`getMember`, `findMemberByPhone`, `submitPurchases`, ...); the generated ids "
    "(`enrol_members_post`, ...) are gone. Clients generated from this document get those names.",
    "2026-12: `POST /segments` and `POST /activities` document the 409 they answer when an "
    "`Idempotency-Key` is reused with another body or while its first request is still running.",
    "2026-12: new member activities: `POST /activities`, `GET /activities`, `GET /activities/{activity_id}`, "
    "`POST /activities/{activity_id}/rsvps`, `.../attendance`, `.../feedback`. `GET /reports/kpis` gains "
    "`activities` (coverage, participation, feedback on time). A task's `member_id` may be null: an "
    "`activity_feedback` task names its `activity_id` instead.",
    "2026-12: every rate in every report is a decimal string with 4 places, a share in [0, 1] "
    "(`\"0.3333\"`), or null when there is nothing to divide by. `GET /reports/complaints` "
    "answered `responded_within_deadline_rate`, `resolved_within_deadline_rate` and "
    "`satisfaction_rate` as JSON numbers before; the KPI report already used strings.",
    "2026-12: a purchase may carry `lines` (at most 100) and a whole-sale `discount_amount`; with lines, "
    "`items` may be left out (it is the lines' quantities) and the lines must account for `amount` "
    "(422 naming `lines`). New: `GET /members/{member_id}/purchases`, the member's history, paged.",
    "2026-12: `GET /reports/threshold-advice` is computed from every member and every sale of the brand "
    "(a daily aggregate) instead of a sample: `sample` became `source` (`as_of`, `window`, `members`, "
    "`transactions`), and each tier's `members_sampled` became `members`.",
    "2026-12: new member lists: `GET /members/search` (filters, `limit` + `after`, `next`), segments "
    "(`POST /segments`, `GET /segments`, `GET /segments/{segment_id}`, `.../members`) and the CSV call list "
    "`GET /segments/{segment_id}/export` (supervisor and above; `X-Next-Cursor` when there are more rows).",
)


def build() -> dict[str, Any]:
    for key, value in {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}.items():
        os.environ.setdefault(key, value)
    merged: dict[str, Any] = {}
    for code_uri in sorted({r.code_uri for r in template.routes()}):
        doc = json.loads(load_module(code_uri).app.get_openapi_json_schema())
        if not merged:
            merged = {**doc, "paths": {}, "components": {**doc.get("components", {}), "schemas": {}}}
        for path, operations in doc.get("paths", {}).items():
            for method, operation in operations.items():
                if method in merged["paths"].get(path, {}):
                    raise ValueError(f"{method.upper()} {path} is defined by two functions")
                merged["paths"].setdefault(path, {})[method] = operation
        merged["components"]["schemas"].update(doc.get("components", {}).get("schemas", {}))
    merged["paths"] = dict(sorted(merged["paths"].items()))
    merged["components"]["schemas"] = dict(sorted(merged["components"]["schemas"].items()))
    merged["info"]["description"] = (
        "VIP Care: enrol members, record purchases, file complaints, read a member's card, "
        "tier and points. Every route needs a staff ID token from the Cognito user pool in "
        "the Authorization header.\n\n## Changes\n" + "".join(f"- {c}\n" for c in CHANGES)
    )
    return merged


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(template.ROOT)} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    Path(OUTPUT).write_text(text)
    print(f"wrote {OUTPUT.relative_to(template.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
