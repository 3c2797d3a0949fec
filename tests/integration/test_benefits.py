"""Tier benefits at the till, through the purchase API's handler against moto: the brand's
document (versions, validation, who may change it), what a member has now, and uses counted
once per use id, never past the quota, also when they race."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.support import clock
from tests.support.api import ADMIN, CLERK_001, CLERK_002, OTHER_BRAND_ADMIN, call, enrol
from vipcare import wiring
from vipcare.domain.purchases import Kind, Purchase
from vipcare.services.benefits import forget_cached_benefits
from vipcare.store.models import MemberItem, member_pk

pytestmark = pytest.mark.usefixtures("directory")

NOW = clock.now()
TODAY = clock.local_day(NOW)

DOCUMENT = {"benefits": [
    {"benefit_id": "discount", "name": "Member discount", "kind": "discount",
     "tiers": {"silver": {"discount_percent": "5"}, "gold": {"discount_percent": "10"},
               "diamond": {"discount_percent": "15"}}},
    {"benefit_id": "parking", "name": "Free parking", "kind": "allowance",
     "tiers": {"silver": {"quota": 5}, "gold": {"quota": 20}, "diamond": {"quota": 50}}},
    {"benefit_id": "coffee", "name": "Coffee", "kind": "allowance", "period": "month",
     "tiers": {"gold": {"quota": 3}, "diamond": {"quota": 3}}},
    {"benefit_id": "gift", "name": "Birthday gift", "kind": "birthday_gift", "tiers": {"gold": {}, "diamond": {}}},
    {"benefit_id": "service-team", "name": "Service team", "kind": "service", "tiers": {"diamond": {}}},
]}


@pytest.fixture(autouse=True)
def _document(directory):
    forget_cached_benefits()
    r = call("PUT", "/brands/demo/benefits", DOCUMENT, claims=ADMIN, at=NOW)
    assert r.status == 200, r.body
    yield
    forget_cached_benefits()


def member(phone: str, tier: str = "regular", *, birthday: date | None = None,
           since: date | None = None) -> str:
    extra = {"birthday": birthday.isoformat()} if birthday else {}
    r = enrol(phone=phone, at=NOW, **extra)
    assert r.status == 201, r.body
    mid = r.body["member_id"]
    if tier != "regular":  # as the tier job leaves it (the purchase path is the gold test below)
        MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[
            MemberItem.tier.set(tier), MemberItem.tier_since.set(since or TODAY - timedelta(days=30))])
    return mid


def view(mid: str, *, at: datetime = NOW, claims=ADMIN) -> dict:
    r = call("GET", f"/members/{mid}/benefits", claims=claims, at=at)
    assert r.status == 200, r.body
    return r.body


def use(mid: str, benefit_id: str, quantity: int = 1, *, use_id: str | None = None, at: datetime = NOW,
        store_id: str = "demo-001", claims=CLERK_001):
    body = {"use_id": use_id or uuid.uuid4().hex, "benefit_id": benefit_id, "store_id": store_id,
            "quantity": quantity}
    return call("POST", f"/members/{mid}/benefit-uses", body, claims=claims, at=at)


def allowance(body: dict, benefit_id: str) -> dict:
    return next(a for a in body["allowances"] if a["benefit_id"] == benefit_id)


# ---- the document -------------------------------------------------------------------------------


def test_the_document_is_versioned_and_only_the_brands_admin_changes_it():
    first = call("GET", "/brands/demo/benefits", claims=CLERK_001).body
    assert first["version"] == 1 and [b["benefit_id"] for b in first["benefits"]] == [
        "discount", "parking", "coffee", "gift", "service-team"]
    assert first["benefits"][0]["tiers"]["gold"] == {"discount_percent": "10"}
    assert first["benefits"][1]["period"] == "calendar_year"
    second = call("PUT", "/brands/demo/benefits", {"benefits": DOCUMENT["benefits"][:2]}, claims=ADMIN, at=NOW)
    assert (second.status, second.body["version"], len(second.body["benefits"])) == (200, 2, 2)
    assert call("PUT", "/brands/demo/benefits", DOCUMENT, claims=CLERK_001).status == 403
    assert call("PUT", "/brands/demo/benefits", DOCUMENT, claims=OTHER_BRAND_ADMIN).status == 404
    assert call("GET", "/brands/demo/benefits", claims=OTHER_BRAND_ADMIN).status == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"tiers": {"gold": {}}}, "benefits.1.tiers.gold.quota"),
    ({"tiers": {"gold": {"quota": 0}}}, "benefits.1.tiers.gold.quota"),
    ({"tiers": {"gold": {"quota": 5, "discount_percent": "5"}}}, "benefits.1.tiers.gold.discount_percent"),
    ({"kind": "discount", "tiers": {"gold": {"discount_percent": "150"}}}, "benefits.1.tiers.gold.discount_percent"),
    ({"benefit_id": "discount"}, "benefits.1.benefit_id"),
    ({"kind": "birthday_gift", "tiers": {"gold": {}}, "period": "month"}, "benefits.1.period"),
    ({"kind": "voucher"}, "benefits.1.kind"),
    ({"tiers": {"platinum": {"quota": 1}}}, "benefits.1.tiers.platinum"),
])
def test_a_bad_document_is_refused_naming_the_field_and_nothing_is_stored(change, field):
    bad = {"benefits": [DOCUMENT["benefits"][0], {**DOCUMENT["benefits"][1], **change}]}
    r = call("PUT", "/brands/demo/benefits", bad, claims=ADMIN, at=NOW)
    assert r.status == 422, r.body
    assert [f["field"] for f in r.body["fields"] if f["field"].startswith(field)], r.body
    assert call("GET", "/brands/demo/benefits", claims=ADMIN).body["version"] == 1


# ---- what the till shows ----------------------------------------------------------------------------


def test_a_gold_member_made_by_a_purchase_sees_the_gold_benefits():
    mid = member("13800139001", birthday=TODAY.replace(year=1990) if (TODAY.month, TODAY.day) != (2, 29)
                 else date(1992, 2, 29))
    sale = Purchase(brand_id="demo", store_id="demo-001", transaction_id="B-1", member_id=mid, kind=Kind.SALE,
                    amount=Decimal("20000"), currency="CNY", items=1, occurred_at=NOW - timedelta(minutes=5))
    wiring.purchase_ingestion().ingestor().ingest(sale, received_at=NOW, now=NOW)
    body = view(mid)
    assert (body["tier"], body["discount_percent"]) == ("gold", "10")
    assert body["points_balance"] > 0
    parking = allowance(body, "parking")
    assert (parking["quota"], parking["used"], parking["remaining"]) == (20, 0, 20)
    assert parking["period_ends"] == f"{TODAY.year}-12-31"
    assert allowance(body, "coffee")["quota"] == 3
    assert body["birthday_gift"]["available"] is True and body["services"] == []


def test_a_regular_member_has_nothing_and_a_diamond_the_service_team():
    regular = view(member("13800139004"))
    assert (regular["discount_percent"], regular["allowances"], regular["services"]) == ("0", [], [])
    assert regular["birthday_gift"] == {"available": False, "until": None}
    diamond = view(member("13800139005", "diamond"))
    assert (diamond["discount_percent"], diamond["services"]) == ("15", ["service-team"])


def test_store_staff_see_their_own_stores_members_only():
    mid = member("13800139006", "gold")
    assert call("GET", f"/members/{mid}/benefits", claims=CLERK_002).status == 404
    assert use(mid, "parking", claims=CLERK_002, store_id="demo-002").status == 404
    assert call("GET", f"/members/{mid}/benefits", claims=OTHER_BRAND_ADMIN).status == 404


# ---- uses -----------------------------------------------------------------------------------------------


def test_a_use_counts_once_per_use_id_and_another_body_is_a_conflict():
    mid = member("13800139010", "gold")
    first = use(mid, "parking", 2, use_id="till-7-0001")
    assert (first.status, first.body["remaining"]) == (201, 18), first.body
    again = use(mid, "parking", 2, use_id="till-7-0001", at=NOW + timedelta(minutes=3))
    assert (again.status, again.body) == (201, first.body)
    other = use(mid, "parking", 3, use_id="till-7-0001")
    assert (other.status, other.body["error"]) == (409, "use_id_reused")
    assert allowance(view(mid), "parking")["used"] == 2


def test_past_the_quota_and_without_the_benefit_is_a_conflict_and_counts_nothing():
    gold, regular = member("13800139011", "gold"), member("13800139012")
    assert use(gold, "coffee", 3).status == 201
    over = use(gold, "coffee")
    assert (over.status, over.body["error"]) == (409, "quota_exhausted")
    assert allowance(view(gold), "coffee")["remaining"] == 0
    none = use(regular, "parking")
    assert (none.status, none.body["error"]) == (409, "not_entitled")
    assert use(gold, "no-such-benefit").status == 422
    assert use(gold, "discount").status == 422  # a discount is not used by count
    assert use(gold, "parking", 21).body["error"] == "quota_exhausted"
    assert allowance(view(gold), "parking")["used"] == 0


def test_concurrent_uses_never_pass_the_quota():
    """Racing tills all read "nothing used yet" before any of them writes: the stale reads are
    played here (every read of the uses answers empty), so only the write's own condition can
    stop the fourth coffee of the month."""
    from vipcare.api.models.benefits import BenefitUseIn
    from vipcare.domain.access import Caller, Role
    from vipcare.domain.errors import Conflict
    from vipcare.services.benefits import use_benefit

    class StaleReads:
        def __init__(self, real):
            self.real = real

        def used(self, brand_id, member_id):
            return {}

        def __getattr__(self, name):
            return getattr(self.real, name)

    mid = member("13800139013", "gold")
    wired = wiring.purchase_api()
    till = Caller(staff_id="clerk-1", brand_id="demo", store_id="demo-001", role=Role.STORE_STAFF)
    outcomes = []
    for n in range(5):
        request = BenefitUseIn(use_id=f"race-{n}", benefit_id="coffee", store_id="demo-001")
        try:
            use_benefit(till, mid, request, now=NOW, store=StaleReads(wired.benefits), directory=wired.directory)
            outcomes.append("used")
        except Conflict as exc:
            outcomes.append(exc.code)
    assert outcomes == ["used"] * 3 + ["quota_exhausted"] * 2
    assert allowance(view(mid), "coffee")["used"] == 3
    with ThreadPoolExecutor(max_workers=4) as pool:  # and through the API, at once
        assert set(pool.map(lambda _: use(mid, "coffee").status, range(4))) == {409}


def test_an_upgrade_mid_period_keeps_what_was_used_and_a_downgrade_never_goes_negative():
    mid = member("13800139014", "silver")
    assert use(mid, "parking", 4).body["remaining"] == 1
    MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[MemberItem.tier.set("gold")])
    assert allowance(view(mid), "parking")["remaining"] == 16
    assert use(mid, "parking", 10).body["remaining"] == 6
    MemberItem(member_pk("demo", mid), "PROFILE").update(actions=[MemberItem.tier.set("silver")])
    parking = allowance(view(mid), "parking")
    assert (parking["quota"], parking["used"], parking["remaining"]) == (5, 14, 0)


def test_a_monthly_allowance_starts_again_next_month_and_a_yearly_one_next_year():
    mid = member("13800139015", "gold")
    assert use(mid, "coffee", 3).status == 201 and use(mid, "parking", 20).status == 201
    first_of_next_month = date(TODAY.year + TODAY.month // 12, TODAY.month % 12 + 1, 1)
    later = clock.at_local(first_of_next_month, 10)
    assert allowance(view(mid, at=later), "coffee")["remaining"] == 3
    next_year = clock.at_local(date(TODAY.year + 1, 1, 1), 10)
    assert allowance(view(mid, at=next_year), "parking")["remaining"] == 20
    assert use(mid, "parking", at=next_year).body["period_ends"] == f"{TODAY.year + 1}-12-31"


def test_the_birthday_gift_once_a_year_in_the_birthday_month():
    outside = TODAY.month % 12 + 1  # a month that is not this one
    away = member("13800139016", "gold", birthday=date(1990, outside, 1))
    body = view(away)
    assert body["birthday_gift"]["available"] is False and body["birthday_gift"]["until"].startswith(
        f"{TODAY.year}-{outside:02d}")
    assert use(away, "gift").body["error"] == "not_available"
    here = member("13800139017", "gold", birthday=date(1990, TODAY.month, 1))
    assert view(here)["birthday_gift"]["available"] is True
    assert use(here, "gift").status == 201
    assert view(here)["birthday_gift"]["available"] is False
    assert use(here, "gift").body["error"] == "quota_exhausted"


def test_uses_are_in_the_export_and_their_notes_go_with_the_erasure():
    mid = member("13800139018", "gold")
    body = {"use_id": "till-9-1", "benefit_id": "parking", "store_id": "demo-001", "note": "car of Mr Li, Audi A6"}
    assert call("POST", f"/members/{mid}/benefit-uses", body, claims=CLERK_001, at=NOW).status == 201
    [used] = call("GET", f"/members/{mid}/export", claims=ADMIN, at=NOW).body["benefit_uses"]
    assert (used["use_id"], used["quantity"], used["note"], used["store_id"]) == ("till-9-1", 1, body["note"],
                                                                                 "demo-001")
    receipt = call("DELETE", f"/members/{mid}", claims=ADMIN, at=NOW).body
    assert receipt["benefit_notes_cleaned"] == 1
    from vipcare.store.benefits import BenefitRepository

    [kept] = BenefitRepository().uses_of_member("demo", mid)
    assert (kept.note, kept.quantity, kept.benefit_id) == (None, 1, "parking")  # the count stays, the text goes


# ---- the rewards catalogue ---------------------------------------------------------------------------


def reward(reward_id: str, points: int, **fields) -> dict:
    body = {"name": fields.pop("name", reward_id.title()), "kind": fields.pop("kind", "gift"), "points": points,
            **fields}
    r = call("PUT", f"/brands/demo/rewards/{reward_id}", body, claims=ADMIN, at=NOW)
    assert r.status == 200, r.body
    return r.body


def buyer(phone: str, amount: str = "20000") -> str:
    """A member with points from a real sale (gold at 20000)."""
    mid = member(phone)
    sale = Purchase(brand_id="demo", store_id="demo-001", transaction_id=f"R-{phone}", member_id=mid,
                    kind=Kind.SALE, amount=Decimal(amount), currency="CNY", items=1,
                    occurred_at=NOW - timedelta(minutes=5))
    wiring.purchase_ingestion().ingestor().ingest(sale, received_at=NOW, now=NOW)
    return mid


def redeem(mid: str, redemption_id: str, **body):
    return call("POST", f"/members/{mid}/redemptions", {"redemption_id": redemption_id, **body}, claims=CLERK_001,
                at=NOW)


def balance(mid: str) -> int:
    return call("GET", f"/members/{mid}/points", claims=ADMIN, at=NOW).body["balance"]


def test_the_admin_keeps_the_catalogue_and_a_member_sees_what_their_tier_may_take():
    reward("umbrella", 500, stock=10)
    reward("spa", 3000, kind="service", min_tier="gold")
    reward("old-mug", 100, active=False)
    assert call("PUT", "/brands/demo/rewards/x", {"name": "X", "kind": "gift", "points": 1}, claims=CLERK_001).status \
        == 403
    assert call("PUT", "/brands/demo/rewards/x", {"name": "X", "kind": "gift", "points": 1},
                claims=OTHER_BRAND_ADMIN).status == 404
    bad = call("PUT", "/brands/demo/rewards/x", {"name": "X", "kind": "gift", "points": 0}, claims=ADMIN)
    assert bad.status == 422 and "points" in [f["field"] for f in bad.body["fields"]]
    on_offer = call("GET", "/rewards", claims=CLERK_001).body["rewards"]
    assert [r["reward_id"] for r in on_offer] == ["spa", "umbrella"]
    regular = member("13800139030")
    assert [(r["reward_id"], r["affordable"]) for r in call("GET", f"/rewards?member_id={regular}",
                                                            claims=CLERK_001).body["rewards"]] == [("umbrella", False)]
    gold = buyer("13800139031")
    assert [(r["reward_id"], r["affordable"]) for r in call("GET", f"/rewards?member_id={gold}",
                                                            claims=CLERK_001).body["rewards"]] == [("spa", True),
                                                                                        ("umbrella", True)]
    assert call("GET", f"/rewards?member_id={gold}", claims=CLERK_002).status == 404


def test_redeeming_a_reward_spends_its_points_and_takes_one_from_stock_once():
    reward("umbrella", 500, stock=2)
    mid = buyer("13800139032")
    before = balance(mid)
    first = redeem(mid, "pos-1", reward_id="umbrella")
    assert (first.status, first.body["points"], first.body["reward_id"]) == (201, 500, "umbrella"), first.body
    again = redeem(mid, "pos-1", reward_id="umbrella")
    assert (again.status, again.body["points"]) == (201, 500)
    assert balance(mid) == before - 500
    assert call("GET", "/rewards", claims=ADMIN).body["rewards"][0]["stock"] == 1
    assert redeem(mid, "pos-1", points=500, reason="gift").body["error"] == "redemption_id_reused"
    assert redeem(mid, "pos-2", reward_id="umbrella").status == 201
    gone = redeem(mid, "pos-3", reward_id="umbrella")
    assert (gone.status, gone.body["error"]) == (409, "out_of_stock")
    assert balance(mid) == before - 1000
    assert call("GET", "/rewards", claims=ADMIN).body["rewards"] == []  # nothing left on offer


def test_a_reward_above_the_tier_or_off_the_shelf_is_refused_and_the_plain_form_still_works():
    reward("spa", 3000, min_tier="diamond")
    reward("old-mug", 100, active=False)
    mid = buyer("13800139033")
    before = balance(mid)
    assert redeem(mid, "d-1", reward_id="spa").body["error"] == "not_entitled"
    assert redeem(mid, "d-2", reward_id="old-mug").body["error"] == "not_available"
    assert redeem(mid, "d-3", reward_id="nothing").status == 422
    both = redeem(mid, "d-4", reward_id="spa", points=10)
    assert both.status == 422 and "points" in [f["field"] for f in both.body["fields"]]
    assert redeem(mid, "d-5", points=10).status == 422  # points without a reason
    assert redeem(mid, "d-6", points=10, reason="goodwill").status == 201
    assert balance(mid) == before - 10


def test_the_last_one_in_stock_goes_once_even_when_every_reader_thinks_there_are_more():
    """Racing tills read the stock before either writes: played here by a catalogue that always
    answers the stock as first read. Only the transaction's condition on the stock can refuse."""
    from dataclasses import replace

    from vipcare.api.models.purchases import RedemptionIn
    from vipcare.domain.access import Caller, Role
    from vipcare.domain.errors import Conflict
    from vipcare.services.points import redeem as redeem_points

    reward("last-bag", 800, stock=1)
    mid = buyer("13800139034")
    wired = wiring.purchase_api()
    stale = wired.rewards.get("demo", "last-bag")

    class StaleCatalogue:
        def get(self, brand_id, reward_id):
            return stale

        def __getattr__(self, name):
            return getattr(wired.rewards, name)

    till = Caller(staff_id="clerk-1", brand_id="demo", store_id="demo-001", role=Role.STORE_STAFF)
    kw = {"now": NOW, "members": wired.members, "ledger": wired.ledger, "directory": wired.directory,
          "rewards": StaleCatalogue()}
    before = balance(mid)
    redeem_points(till, mid, RedemptionIn(redemption_id="bag-1", reward_id="last-bag"), **kw)
    with pytest.raises(Conflict):
        redeem_points(till, mid, RedemptionIn(redemption_id="bag-2", reward_id="last-bag"), **kw)
    assert wired.rewards.get("demo", "last-bag") == replace(stale, stock=0)
    assert balance(mid) == before - 800  # the refused one spent nothing
