"""Demo data for `make run`: brand `demo` (stores demo-001..003, staff in every role,
a few hundred members) and a small second brand `acme` to try cross-brand isolation."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vipcare.domain.access import Caller
    from vipcare.domain.purchases import Line

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
         "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平"]
HOBBIES = ["tea", "golf", "travel", "wine", "yoga", "calligraphy", "photography", "hiking", "jewellery", "cooking"]

# Each store's staff, with who they report to (the escalation ladder of docs/domain.md §5).
STAFF_LAYOUT = [
    ("vice_president", None, 0),
    ("department_head", "vice_president", 0),
    ("supervisor", "department_head", 0),
    ("manager", "supervisor", 60),
    ("store_staff", "manager", 0),
    ("technical_support", "supervisor", 0),
    ("admin", None, 0),
]

# Brand demo's benefits: a discount per tier, yearly free parking and a monthly coffee, the
# birthday gift for gold and diamond, and diamond's service team.
DEMO_BENEFITS = {"benefits": [
    {"benefit_id": "discount", "name": "会员折扣", "kind": "discount",
     "tiers": {"silver": {"discount_percent": "5"}, "gold": {"discount_percent": "10"},
               "diamond": {"discount_percent": "15"}}},
    {"benefit_id": "parking", "name": "免费停车", "kind": "allowance",
     "tiers": {"silver": {"quota": 6}, "gold": {"quota": 20}, "diamond": {"quota": 50}}},
    {"benefit_id": "coffee", "name": "咖啡", "kind": "allowance", "period": "month",
     "tiers": {"gold": {"quota": 2}, "diamond": {"quota": 4}}},
    {"benefit_id": "birthday-gift", "name": "生日礼", "kind": "birthday_gift", "tiers": {"gold": {}, "diamond": {}}},
    {"benefit_id": "service-team", "name": "专属服务团队", "kind": "service", "tiers": {"diamond": {}}},
]}
# A small rewards catalogue: what brand demo's points buy.
DEMO_REWARDS = {
    "umbrella": {"name": "晴雨伞", "kind": "gift", "points": 800, "stock": 200},
    "coupon-50": {"name": "50元代金券", "kind": "coupon", "points": 2500},
    "alteration": {"name": "免费改衣", "kind": "service", "points": 1500, "min_tier": "silver"},
    "spa-day": {"name": "水疗日", "kind": "service", "points": 12000, "stock": 20, "min_tier": "gold"},
}


def seed_directory(now: datetime, rng: random.Random,
                   brands: tuple[tuple[str, str, int], ...] | None = None) -> dict[str, int]:
    """Brands demo and acme, their stores and staff in every role, brand demo's benefits and
    rewards: what every demo (and the simulator) starts from."""
    from vipcare import wiring
    from vipcare.api.models.benefits import BenefitsIn, RewardIn
    from vipcare.api.models.directory import StaffCreate, StoreCreate
    from vipcare.domain.access import Caller, Role
    from vipcare.domain.directory import BrandSettings
    from vipcare.services import benefits, directory, rewards
    from vipcare.store.directory import DirectoryRepository

    repo = DirectoryRepository()
    stores_and_staff = wiring.directory()
    counts = {"stores": 0, "staff": 0}
    for brand_id, name, n_stores in brands or BRANDS:
        repo.put_brand(BrandSettings(brand_id=brand_id, name=name))
        admin = Caller(staff_id=f"{brand_id}-admin", brand_id=brand_id, store_id=None, role=Role.ADMIN)
        if brand_id == "demo":  # what the till offers each tier (docs/benefits.md), through the real PUT
            benefits.put_benefits(admin, brand_id, BenefitsIn.model_validate(DEMO_BENEFITS), now=now,
                                  store=wiring.purchase_api().benefits)
            for reward_id, body in DEMO_REWARDS.items():
                rewards.put_reward(admin, brand_id, reward_id, RewardIn.model_validate(body), now=now,
                                   rewards=wiring.purchase_api().rewards)
        for store_id in [f"{brand_id}-{i:03d}" for i in range(1, n_stores + 1)]:
            directory.create_store(admin, StoreCreate(store_id=store_id, name=f"{name} {store_id[-3:]}"), now=now,
                                   directory=stores_and_staff.directory)
            counts["stores"] += 1
            for role, reports_to, capacity in STAFF_LAYOUT:
                directory.create_staff(admin, StaffCreate(
                    staff_id=f"{store_id}-{role}".replace("_", "-"),
                    name=f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)} ({role.replace('_', ' ')})",
                    role=Role(role),
                    store_id=store_id,
                    supervisor_id=f"{store_id}-{reports_to}".replace("_", "-") if reports_to else None,
                    capacity=capacity,
                ), now=now, directory=stores_and_staff.directory)
                counts["staff"] += 1
    return counts


# brand id, name, stores
BRANDS = (("demo", "Demo Fashion", 3), ("acme", "Acme Jewellers", 1))


def seed(*, members_per_brand: int = 300, seed_value: int = 7, now: datetime | None = None) -> dict[str, int]:
    from vipcare import wiring
    from vipcare.api.models.members import EnrolRequest
    from vipcare.domain.access import Caller, Role
    from vipcare.domain.errors import Conflict
    from vipcare.services import members

    now = now or datetime.now(UTC)  # the demo's one reading of the clock: its history ends here
    rng = random.Random(seed_value)
    enrolment = wiring.enrollment()
    counts: dict[str, int] = {"stores": 0, "staff": 0, "members": 0}
    for brand in BRANDS:
        brand_id, _name, n_stores = brand
        for key, n in seed_directory(now, rng, (brand,)).items():  # brand by brand: the same draws as ever
            counts[key] += n
        n_members = members_per_brand if brand_id == "demo" else 12
        admin = Caller(staff_id=f"{brand_id}-admin", brand_id=brand_id, store_id=None, role=Role.ADMIN)
        stores = [f"{brand_id}-{i:03d}" for i in range(1, n_stores + 1)]
        today = now.date()
        enrolled: list[str] = []
        for i in range(n_members):
            birthday = date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28))
            request = EnrolRequest.model_validate({  # validated as the API validates a request body
                "name": f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}",
                "phone": f"+86139{rng.randint(0, 99_999_999):08d}",
                "store_id": stores[i % len(stores)],
                "gender": rng.choice(["female", "male", "female", "undisclosed"]),
                "birthday": birthday,
                "birthday_lunar": rng.random() < 0.2,
                "anniversary": (today - timedelta(days=rng.randint(400, 9000))) if rng.random() < 0.3 else None,
                "hobbies": rng.sample(HOBBIES, k=rng.randint(0, 3)),
                "consent": {"sms_marketing": rng.random() < 0.7},
            })
            try:
                member = members.enroll(admin, request, now=now, members=enrolment.members,
                                        directory=enrolment.directory)
                counts["members"] += 1
            except Conflict:
                continue  # a random phone repeated: one member per phone, as in production
            counts["purchases"] = counts.get("purchases", 0) + _purchases(rng, member.member_id, brand_id,
                                                                          member.store_id, i, now)
            enrolled.append(member.member_id)
        if brand_id == "demo":
            counts.update(_care_history(rng, admin, enrolled, now))
    return counts


def _care_history(rng: random.Random, admin: Caller, member_ids: list[str], now: datetime) -> dict[str, int]:
    """Something for the KPI dashboard to show (`make report`): VIPs' cadence reviews (what the
    care consumer does with TierChanged, done here so the snapshots below see the VIPs),
    contacts with NPS answers for most gold+ members, complaints through their lifecycle, and
    the monthly VIP snapshots of the last months, all through the real services."""
    from vipcare import wiring
    from vipcare.api.models.care import ContactCreate
    from vipcare.api.models.complaints import ComplaintCreate
    from vipcare.domain.complaints import Category, Channel, Severity
    from vipcare.domain.errors import DomainError
    from vipcare.services import complaints
    from vipcare.services.contacts import log_contact
    from vipcare.services.kpis import run_snapshot
    from vipcare.services.tasks import TaskRun

    deps = wiring.care()
    reports = wiring.kpi_reports()
    profiles = deps.members.profiles(("demo", m) for m in member_ids)
    tasks = TaskRun(now, deps)
    vips = [p for p in profiles if p.tier in ("silver", "gold", "diamond")]
    for p in vips:
        tasks.tier_changed(p, p.tier.value)
    _deliver("KpiReportsFunction")  # the tier changes reach the KPI stock before the snapshots
    shanghai = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    month_start = now.astimezone(shanghai).replace(day=1, hour=1, minute=0, second=0, microsecond=0)
    starts = [month_start]
    for _ in range(2):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    # last week's salon runs after the snapshot of its own month (which flags the VIPs it
    # invited) and before the next one (which carries the flags on)
    salon_sent = now - timedelta(days=9)
    before = [s for s in starts if s <= salon_sent]
    for start in before:  # the snapshot of each month start: churn and retention of the months before
        run_snapshot(start, care=deps, kpis=reports.kpis, ledger=reports.ledger)
    activity = _past_activity(rng, salon_sent, [p.member_id for p in profiles if p.store_id == "demo-001"])
    for start in starts[len(before):]:
        run_snapshot(start, care=deps, kpis=reports.kpis, ledger=reports.ledger)
    contacts = 0
    for p in vips:
        if p.tier in ("gold", "diamond") and rng.random() < 0.7:
            nps = rng.choice([None, 6, 8, 9, 10, 10])
            log_contact(admin, p.member_id, ContactCreate(contacted_on=now.astimezone(shanghai).date(),
                                                          channel="visit", notes="demo visit", nps=nps),
                        now=now, deps=deps)
            contacts += 1
    filed = 0
    w = wiring.complaint_routing()
    for p in rng.sample(profiles, k=min(10, len(profiles))):
        case = complaints.file_complaint(admin, ComplaintCreate(
            member_id=p.member_id, store_id=p.store_id,
            channel=rng.choice([Channel.STORE, Channel.HOTLINE, Channel.APP]),
            category=rng.choice([Category.SERVICE_ATTITUDE, Category.BILLING, Category.OTHER]),
            severity=rng.choice([Severity.LOW, Severity.MEDIUM]), description="demo complaint"), now=now,
            members=w.members, directory=w.directory, complaints=w.complaints, notifier=w.notifier,
            events=w.events).complaint
        filed += 1
        try:
            if rng.random() < 0.8:
                complaints.acknowledge(admin, case.complaint_id, now=now, complaints=w.complaints,
                                       directory=w.directory)
                complaints.resolve(admin, case.complaint_id, "resolved in the demo", now=now, complaints=w.complaints,
                                   directory=w.directory, events=w.events)
                if rng.random() < 0.8:
                    complaints.record_feedback(admin, case.complaint_id, rng.random() < 0.85,
                                               nps=rng.choice([7, 9, 10, 10, 4]), now=now, complaints=w.complaints,
                                               directory=w.directory, notifier=w.notifier, events=w.events)
        except DomainError:
            continue  # a demo case routed where this caller may not act: left open
    return {"vips": len(vips), "contacts": contacts, "complaints": filed, **activity}


def _past_activity(rng: random.Random, send_day: datetime, store_members: list[str]) -> dict[str, int]:
    """A tea salon of store demo-001 that happened last week, through the real use cases at
    their own moments: planned, invitations fanned out in slices (the care rules decide who is
    sent one), replies, attendance, the end (the organiser's task) and the feedback."""
    import json
    from zoneinfo import ZoneInfo

    import boto3

    from vipcare import wiring
    from vipcare.domain.access import Caller, Role
    from vipcare.domain.activities import ActivityKind, Reply, occasion_key
    from vipcare.domain.reminders import Status
    from vipcare.domain.segments import MemberFilters
    from vipcare.services import activities

    from . import resources

    shanghai = ZoneInfo("Asia/Shanghai")
    local = send_day.astimezone(shanghai).replace(hour=10, minute=0, second=0, microsecond=0)
    planned, send = local - timedelta(days=2), local
    starts = local + timedelta(days=3, hours=4)  # 14:00, three days after the invitations
    ends = starts + timedelta(hours=3)
    organiser = Caller(staff_id="demo-001-supervisor", brand_id="demo", store_id="demo-001", role=Role.SUPERVISOR)
    deps = wiring.activities()
    a = activities.create_activity(organiser, activities.NewActivity(
        name="秋季茶会 Autumn tea salon", kind=ActivityKind.SALON, store_id="demo-001", starts_at=starts, ends_at=ends,
        capacity=60, segment_id=None, filters=MemberFilters(),
        text="{name}，{brand}诚邀您{date}参加秋季茶会，回复请联系您的客户经理。", send_at=send), now=planned, deps=deps)
    activities.run_due(send, deps)
    sqs, url = boto3.client("sqs"), resources.physical_names()["InvitationsQueue"]
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in got:  # what the worker does with each slice
            activities.invite_slice(json.loads(m["Body"]), now=send, deps=deps)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    invited = [m for m in store_members
               if (record := deps.care.messages.get("demo", m, occasion_key(a.activity_id))) is not None
               and record.status is Status.SENT]
    clerk = Caller(staff_id="demo-001-store-staff", brand_id="demo", store_id="demo-001", role=Role.STORE_STAFF)
    yes = [m for m in invited if rng.random() < 0.55][:a.capacity or None]
    for member_id in invited:
        reply = Reply.YES if member_id in yes else Reply.NO if rng.random() < 0.5 else None
        if reply is not None:
            activities.reply(clerk, a.activity_id, member_id, reply, now=send + timedelta(hours=rng.randint(1, 48)),
                             deps=deps)
    came = [m for m in yes if rng.random() < 0.85] + [m for m in invited if m not in yes and rng.random() < 0.1]
    for first in range(0, len(came), activities.MAX_ATTENDANCE):
        activities.attendance(clerk, a.activity_id, came[first:first + activities.MAX_ATTENDANCE],
                              now=starts + timedelta(hours=1), deps=deps)
    activities.run_due(ends + timedelta(hours=1), deps)  # ended: the organiser's feedback task
    filed_at = min(ends + timedelta(days=2), datetime.combine(a.feedback.due_on, datetime.min.time(),
                                                               tzinfo=shanghai) + timedelta(hours=17))
    activities.file_feedback(organiser, a.activity_id, "茶会气氛很好，新品试穿受欢迎。", len(came) * 9 // 10,
                             now=filed_at, deps=deps)
    return {"activity_invited": len(invited), "activity_attended": len(came)}


def _deliver(function: str) -> None:
    """Run one function's queue consumer until its queue is empty (the poller starts later)."""
    import boto3

    from . import resources
    from .poller import QueuePoller, subscriptions

    poller = QueuePoller(boto3.client("sqs"), resources.physical_names(), log=lambda _: None)
    for sub in subscriptions():
        if sub.function == function:
            while poller.poll_once(sub):
                pass


# The demo shop's shelf: sku, name, category, price range (CNY).
DEMO_PRODUCTS = (
    ("SCARF-SILK", "Silk scarf", "accessories", (280, 680)),
    ("BAG-LEATHER", "Leather handbag", "bags", (1800, 6800)),
    ("WALLET", "Wallet", "accessories", (380, 1200)),
    ("COAT-WOOL", "Wool coat", "clothing", (1500, 4200)),
    ("SHIRT", "Cotton shirt", "clothing", (180, 520)),
    ("PERFUME", "Eau de parfum 50 ml", "beauty", (420, 980)),
)


def _basket(rng: random.Random, big: bool) -> tuple[Line, ...]:
    """1-4 lines off the shelf, the odd one discounted; the sale's amount is their total."""
    from decimal import Decimal

    from vipcare.domain.purchases import Line

    lines: list[Line] = []
    for sku, name, category, (low, high) in rng.sample(DEMO_PRODUCTS, rng.randint(1, 4 if big else 2)):
        price = Decimal(rng.randint(low, high))
        quantity = rng.choice([1, 1, 1, 2])
        discount = (price * quantity * Decimal("0.1")).quantize(Decimal("0.01")) if rng.random() < 0.2 else Decimal(0)
        lines.append(Line(sku=sku, name=name, category=category, quantity=quantity, unit_price=price,
                          discount_amount=discount))
    return tuple(lines)


def _purchases(rng: random.Random, member_id: str, brand_id: str, store_id: str, index: int,
               now: datetime) -> int:
    """A few months of purchases, applied through the real ingestion (so tiers follow): most
    members buy a little, some a lot, a few return something."""
    from decimal import Decimal

    from vipcare import wiring
    from vipcare.domain.purchases import Kind, Purchase

    ingestor = wiring.purchase_ingestion().ingestor()
    big = rng.random() < 0.05  # a few big spenders reach silver and gold
    sales = []
    for n in range(rng.choice([0, 0, 1, 1, 2, 3]) + (8 if big else 0)):
        lines = _basket(rng, big)
        sale = Purchase(brand_id=brand_id, store_id=store_id, transaction_id=f"DEMO-{index:05d}-{n:02d}",
                        member_id=member_id, kind=Kind.SALE, amount=sum((x.net for x in lines), Decimal(0)),
                        currency="CNY", items=sum(x.quantity for x in lines), lines=lines,
                        occurred_at=now - timedelta(days=rng.randint(1, 85), hours=3))
        ingestor.ingest(sale, received_at=sale.occurred_at, now=now)
        sales.append(sale)
    if sales and rng.random() < 0.15:
        original = rng.choice(sales)
        back = original.lines[0]  # the first line comes back, whole
        ret = Purchase(brand_id=brand_id, store_id=store_id, transaction_id=f"{original.transaction_id}-R",
                       member_id=member_id, kind=Kind.RETURN, amount=back.net, currency="CNY",
                       items=back.quantity, lines=(back,), occurred_at=original.occurred_at + timedelta(days=2),
                       original_transaction_id=original.transaction_id)
        ingestor.ingest(ret, received_at=ret.occurred_at, now=now)
        return len(sales) + 1
    return len(sales)
