"""The rewards catalogue in MembersTable: `BRAND#<b>` / `REWARD#<reward_id>`, one item per
reward (put whole by the admin). A redemption takes one from `stock` inside the redemption's
own transaction (ledger.commit's `extra_updates`), conditioned on some being left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from ..domain.members import Tier
from ..domain.rewards import Reward, RewardKind
from .models import MembersTableModel, brand_pk
from .paging import KeyedQuery, Page

PREFIX = "REWARD#"


class RewardItem(MembersTableModel):
    reward_id = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    points = NumberAttribute()
    stock = NumberAttribute(null=True)
    min_tier = UnicodeAttribute(null=True)
    active = BooleanAttribute()
    updated_at = UTCDateTimeAttribute()
    updated_by = UnicodeAttribute()


def _from_item(brand_id: str, i: RewardItem) -> Reward:
    return Reward(brand_id, i.reward_id, i.name, RewardKind(i.kind), int(i.points), bool(i.active), i.updated_at,
                  i.updated_by, stock=int(i.stock) if i.stock is not None else None,
                  min_tier=Tier(i.min_tier) if i.min_tier else None)


class RewardRepository:
    def get(self, brand_id: str, reward_id: str) -> Reward | None:
        try:
            return _from_item(brand_id, RewardItem.get(brand_pk(brand_id), PREFIX + reward_id, consistent_read=True))
        except DoesNotExist:
            return None

    def page(self, brand_id: str, *, limit: int, after: str | None = None,
             keep: Callable[[Reward], bool] | None = None) -> Page[Reward]:
        """A page of the catalogue by reward id, of the rewards `keep` accepts (all: None)."""
        q = KeyedQuery("rewards", {"pk": brand_pk(brand_id)}, ("sk",))
        items, more = q.take(RewardItem.query(brand_pk(brand_id), RewardItem.sk.startswith(PREFIX), page_size=limit,
                                              last_evaluated_key=q.start(after)), limit,
                             keep=None if keep is None else lambda i: keep(_from_item(brand_id, i)))
        return Page([_from_item(brand_id, i) for i in items], more)

    def put(self, r: Reward) -> None:
        RewardItem(brand_pk(r.brand_id), PREFIX + r.reward_id, reward_id=r.reward_id, name=r.name, kind=r.kind.value,
                   points=r.points, stock=r.stock, min_tier=r.min_tier.value if r.min_tier else None, active=r.active,
                   updated_at=r.updated_at, updated_by=r.updated_by).save()

    def take_one(self, r: Reward) -> tuple[Any, list[Any], Any] | None:
        """The stock update a redemption of `r` carries in its transaction (None: unlimited):
        one less, only while some are left and the reward is still active."""
        if r.stock is None:
            return None
        return (RewardItem(brand_pk(r.brand_id), PREFIX + r.reward_id), [RewardItem.stock.add(-1)],
                (RewardItem.stock > 0) & (RewardItem.active == True))  # noqa: E712 - a pynamodb condition
