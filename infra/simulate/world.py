"""Who and what the simulation is made of: members (birthdays solar and lunar, anniversaries,
consent, spending habits) and each day's sales, returns, complaints and contacts. Everything
comes from one seeded random generator, so a run with the same seed is the same run."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

BRAND = "demo"
STORES = ("demo-001", "demo-002", "demo-003")
ZONE = ZoneInfo("Asia/Shanghai")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明"]
HOBBIES = ["tea", "golf", "travel", "wine", "yoga", "calligraphy", "photography", "hiking"]


@dataclass(frozen=True)
class Person:
    """A future member: `joins` is the brand-local day they enrol (the period's first day for
    the members already there when it starts)."""

    key: int
    name: str
    phone: str
    store_id: str
    birthday: date
    lunar: bool
    anniversary: date | None
    consent: bool
    joins: date
    visits_per_month: float  # how often they buy
    basket: tuple[int, int]  # what a sale costs them (CNY)


@dataclass(frozen=True)
class Sale:
    person: int
    transaction_id: str
    store_id: str
    amount: Decimal
    at: datetime


@dataclass(frozen=True)
class Return:
    person: int
    transaction_id: str
    original: Sale
    amount: Decimal
    at: datetime


@dataclass(frozen=True)
class Complaint:
    person: int
    at: datetime
    ack_after: timedelta | None  # None: never acknowledged by the staff (the escalation's job)
    resolve_after: timedelta | None


@dataclass(frozen=True)
class Contact:
    person: int
    at: datetime
    nps: int | None


@dataclass
class Day:
    day: date
    joins: list[Person] = field(default_factory=list)
    sales: list[Sale] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@dataclass
class World:
    members: int
    first_day: date
    days: int
    seed: int = 19
    complaint_rate: float = 0.0015  # complaints per member per day
    people: list[Person] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._pending_returns: dict[date, list[Return]] = {}
        for key in range(self.members):
            self.people.append(self._person(key, f"139{key:08d}"))  # distinct phones: one member each

    def _person(self, key: int, phone: str) -> Person:
        rng = self.rng
        # two in three are members when the period starts, the rest join during it
        joins = self.first_day if rng.random() < 0.67 else self.first_day + timedelta(days=rng.randrange(self.days))
        big = rng.random() < 0.06  # the few who reach silver, gold and diamond
        return Person(
            key=key, name=f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}", phone=phone,
            store_id=STORES[key % len(STORES)],
            birthday=date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            lunar=rng.random() < 0.2,
            anniversary=date(rng.randint(1990, 2020), rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.3 else None,
            consent=rng.random() < 0.7,
            joins=joins,
            visits_per_month=rng.choice([0.1, 0.3, 0.5, 1.0]) * (4 if big else 1),
            basket=(1500, 9000) if big else (150, 1200),
        )

    def day(self, n: int) -> Day:
        """The n-th day's plan (call once per day, in order: the generator moves on)."""
        rng, today = self.rng, self.first_day + timedelta(days=n)
        plan = Day(today, joins=[p for p in self.people if p.joins == today])
        present = [p for p in self.people if p.joins <= today]
        for p in present:
            if rng.random() < p.visits_per_month / 30:
                at = local(today, rng.randint(10, 20), rng.randint(0, 59))
                if p.joins == today:
                    at = max(at, local(today, 9, 30)) + timedelta(minutes=1)
                sale = Sale(p.key, f"S{today:%Y%m%d}-{p.key:05d}-{rng.randrange(1000):03d}", p.store_id,
                            Decimal(rng.randint(*p.basket)), at)
                plan.sales.append(sale)
                if rng.random() < 0.06:  # a few come back within a fortnight, half the basket
                    back = today + timedelta(days=rng.randint(1, 14))
                    self._pending_returns.setdefault(back, []).append(Return(
                        p.key, f"{sale.transaction_id}-R", sale, (sale.amount / 2).quantize(Decimal("1")),
                        local(back, rng.randint(10, 20), rng.randint(0, 59))))
            if rng.random() < self.complaint_rate:
                ack = None if rng.random() < 0.25 else timedelta(minutes=rng.randint(5, 72 * 60))
                plan.complaints.append(Complaint(
                    p.key, local(today, rng.randint(9, 20), rng.randint(0, 59)), ack,
                    None if ack is None or rng.random() < 0.2 else ack + timedelta(hours=rng.randint(1, 48))))
        plan.returns = self._pending_returns.pop(today, [])
        return plan

    def contacts(self, today: date, gold_plus: list[int]) -> list[Contact]:
        """The managers' visits and calls: each gold+ member about once a month."""
        rng = self.rng
        return [Contact(k, local(today, rng.randint(10, 19), rng.randint(0, 59)),
                        rng.choice([None, 5, 7, 8, 9, 10, 10]))
                for k in gold_plus if rng.random() < 1 / 30]
