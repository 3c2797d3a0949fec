"""Purchase lines, the sale's discount, returns naming lines and the member's purchase history,
end to end in-process: API intake -> SQS -> ingestion -> ledger -> GET /members/{id}/purchases."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest

from tests.support import clock
from tests.support.api import ADMIN, CLERK_002, OTHER_BRAND_ADMIN, call, enrol
from tests.support.queues import drain

pytestmark = pytest.mark.usefixtures("directory")

NOW = clock.now()
BASKET = [
    {"sku": "SCARF-RED", "name": "Silk scarf", "category": "accessories", "quantity": 2, "unit_price": "300.00",
     "discount_amount": "60.00"},
    {"sku": "BAG-01", "name": "Leather bag", "category": "bags", "quantity": 1, "unit_price": "1000.00"},
]  # 2 x 300 - 60 + 1000 = 1540.00


def sale(txn: str, amount: str, member_id: str, minutes_ago: int = 30, **extra) -> dict:
    row = {"transaction_id": txn, "store_id": "demo-001", "member_id": member_id, "kind": "sale",
           "amount": amount, "currency": "CNY", "occurred_at": (NOW - timedelta(minutes=minutes_ago)).isoformat()}
    return {**row, **extra} if "lines" in extra else {**row, "items": 1, **extra}


def ret(txn: str, amount: str, member_id: str, original: str, minutes_ago: int = 10, **extra) -> dict:
    return {**sale(txn, amount, member_id, minutes_ago, **extra), "kind": "return",
            "original_transaction_id": original}


def post(row: dict, claims=ADMIN):
    return call("POST", "/purchases", row, claims=claims)


def history(member_id: str, claims=ADMIN, **query) -> tuple[int, dict]:
    suffix = f"?{urlencode(query)}" if query else ""
    response = call("GET", f"/members/{member_id}/purchases{suffix}", claims=claims)
    return response.status, response.body


@pytest.fixture
def member_id() -> str:
    return enrol().body["member_id"]


def test_a_sale_with_lines_and_a_discount_is_kept_whole(member_id):
    assert post(sale("L1", "1500.00", member_id, lines=BASKET, discount_amount="40.00")).status == 202
    drain()
    status, page = history(member_id)
    assert status == 200 and page["next"] is None
    (record,) = page["purchases"]
    assert record["kind"] == "sale" and record["amount"] == "1500.00" and record["items"] == 3
    assert record["discount_amount"] == "100.00"  # 60 on the scarves + 40 on the sale
    assert record["points"] == 1500 and record["returned"] == "0.00" and record["returns"] == []
    assert [(x["sku"], x["quantity"], x["unit_price"], x["discount_amount"]) for x in record["lines"]] == [
        ("SCARF-RED", 2, "300.00", "60.00"), ("BAG-01", 1, "1000.00", "0.00")]
    assert record["lines"][0]["name"] == "Silk scarf" and record["lines"][1]["category"] == "bags"
    assert record["recorded_by"] == "demo-001-admin"  # the staff id of the intake's caller


def test_a_pos_event_is_recorded_by_its_source(member_id):
    """Purchases from the bus carry no staff: the entry says which system sent them."""
    import json

    from vipcare.domain.purchases import parse_message

    event = {"detail-type": "Purchase", "source": "pos.store-7", "time": NOW.isoformat(),
             "detail": {**sale("EV-1", "10.00", member_id), "brand_id": "demo"}}
    purchase, _ = parse_message(json.dumps(event), now=NOW)
    assert purchase.submitted_by == "event:pos.store-7"
    assert purchase.fingerprint() == parse_message(json.dumps({**event, "source": "other"}), now=NOW)[0].fingerprint()


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": "1539.99"}, "lines"),  # lines come to 1540.00
    ({"discount_amount": "0.01"}, "lines"),  # 1540.00 - 0.01 is not the amount
    ({"items": 4}, "items"),  # the lines hold 3
    ({"lines": [{**BASKET[0], "discount_amount": "600.01"}, BASKET[1]]}, "lines"),
    ({"lines": [{"sku": "X", "quantity": 0, "unit_price": "1.00"}]}, "lines.0.quantity"),
    ({"lines": [{"sku": "X", "quantity": 1, "unit_price": "-1.00"}]}, "lines.0.unit_price"),
    ({"lines": [{**BASKET[1], "sku": f"S{n}", "unit_price": "1.00"} for n in range(101)]}, "lines"),
    ({"lines": []}, "lines"),
])
def test_lines_that_do_not_add_up_are_refused_naming_the_field(member_id, change, field):
    row = {**sale("L2", "1540.00", member_id, lines=BASKET), **change}
    response = post(row)
    assert response.status == 422, response.body
    assert field in {f["field"] for f in response.body["fields"]}, response.body
    assert drain() == 0  # nothing queued


def test_a_sale_without_lines_or_items_names_items(member_id):
    row = sale("L3", "10.00", member_id)
    del row["items"]
    response = post(row)
    assert response.status == 422 and response.body["fields"][0]["field"] == "items"


def test_a_return_takes_back_named_lines_and_shows_under_its_sale(member_id):
    post(sale("L1", "1540.00", member_id, lines=BASKET))
    drain()
    one_scarf = [{"sku": "SCARF-RED", "quantity": 1, "unit_price": "300.00", "discount_amount": "30.00"}]
    assert post(ret("R1", "270.00", member_id, "L1", lines=one_scarf)).status == 202
    drain()
    _, page = history(member_id)
    newest, oldest = page["purchases"]
    assert (newest["transaction_id"], newest["kind"], newest["points"]) == ("R1", "return", -270)
    assert newest["original_transaction_id"] == "L1" and newest["lines"][0]["sku"] == "SCARF-RED"
    assert oldest["transaction_id"] == "L1" and oldest["returned"] == "270.00"
    assert [(r["transaction_id"], r["amount"], r["points"]) for r in oldest["returns"]] == [("R1", "270.00", 270)]

    # a second scarf may come back, a third may not; a sku the sale never had may not
    post(ret("R2", "270.00", member_id, "L1", minutes_ago=8, lines=one_scarf))
    post(ret("R3", "270.00", member_id, "L1", minutes_ago=6, lines=one_scarf))
    post(ret("R4", "5.00", member_id, "L1", minutes_ago=4,
             lines=[{"sku": "HAT", "quantity": 1, "unit_price": "5.00"}]))
    drain()
    assert call("GET", "/purchases/demo-001/R2", claims=ADMIN).body["status"] == "applied"
    r3 = call("GET", "/purchases/demo-001/R3", claims=ADMIN).body
    assert r3["status"] == "rejected" and "SCARF-RED: 0 left to return" in r3["reason"]
    r4 = call("GET", "/purchases/demo-001/R4", claims=ADMIN).body
    assert r4["status"] == "rejected" and "not on the original sale" in r4["reason"]
    _, page = history(member_id)
    assert [p["transaction_id"] for p in page["purchases"]] == ["R2", "R1", "L1"]  # rejected ones are not history
    assert page["purchases"][-1]["returned"] == "540.00"


def test_history_pages_newest_first_with_a_cursor(member_id):
    for n in range(7):
        post(sale(f"H{n}", f"{10 + n}.00", member_id, minutes_ago=60 - n))
    drain()
    seen, after = [], None
    while True:
        query = {"limit": 3, **({"after": after} if after else {})}
        status, page = history(member_id, **query)
        assert status == 200 and len(page["purchases"]) <= 3
        seen += [p["transaction_id"] for p in page["purchases"]]
        after = page["next"]
        if after is None:
            break
    assert seen == [f"H{n}" for n in reversed(range(7))]


@pytest.mark.parametrize(("query", "field"), [({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
                                              ({"after": "bm90LWEtY3Vyc29y"}, "after")])
def test_bad_paging_is_a_422_naming_the_field(member_id, query, field):
    status, body = history(member_id, **query)
    assert status == 422 and body["fields"][0]["field"] == field


def test_history_keeps_to_the_callers_scope(member_id):
    post(sale("S1", "10.00", member_id))
    drain()
    assert history(member_id, claims=CLERK_002)[0] == 404  # another store's clerk
    assert history(member_id, claims=OTHER_BRAND_ADMIN)[0] == 404  # another brand
    assert history("no-such-member")[0] == 404


def test_a_return_held_for_its_sale_joins_the_history_when_the_sale_arrives(member_id):
    post(ret("R1", "100.00", member_id, "L9", minutes_ago=20))
    drain()
    assert history(member_id)[1]["purchases"] == []  # held: not history yet
    post(sale("L9", "1540.00", member_id, minutes_ago=30, lines=BASKET))
    drain()
    _, page = history(member_id)
    assert [p["transaction_id"] for p in page["purchases"]] == ["R1", "L9"]
    assert page["purchases"][1]["returns"][0]["transaction_id"] == "R1"


def test_the_backfill_lists_transactions_applied_before_the_history_existed(member_id):
    """A deployment upgraded from before the `listing` index: `vipcare backfill-care` puts the
    old applied entries into their members' history, once."""
    from vipcare.cli import main
    from vipcare.store.ledger import TXN_SK, TxnItem, txn_pk

    post(sale("OLD-1", "10.00", member_id))
    post(sale("OLD-2", "20.00", member_id, minutes_ago=20))
    drain()
    for txn in ("OLD-1", "OLD-2"):  # as the previous release wrote them
        TxnItem(txn_pk("demo", "demo-001", txn), TXN_SK).update(actions=[TxnItem.listing_pk.remove(),
                                                                           TxnItem.listing_sk.remove()])
    assert history(member_id)[1]["purchases"] == []
    as_of = ["--now", NOW.isoformat()]
    assert main(["backfill-care", "--segments", "2", *as_of]) == 0
    assert [p["transaction_id"] for p in history(member_id)[1]["purchases"]] == ["OLD-2", "OLD-1"]
    assert main(["backfill-care", "--segments", "1", *as_of]) == 0  # again: the same history
    assert [p["transaction_id"] for p in history(member_id)[1]["purchases"]] == ["OLD-2", "OLD-1"]
