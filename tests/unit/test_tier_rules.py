"""Tier policy validation and the decision rules (docs/domain.md §2): upgrade, keep, warn,
downgrade one step, manual floors, windows and review dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from vipcare.domain.errors import ValidationFailed
from vipcare.domain.members import Tier
from vipcare.domain.stats import MemberStats
from vipcare.domain.tiers import (
    DEFAULT_POLICY,
    Combinator,
    Figures,
    Outcome,
    TierState,
    add_months,
    downgrade_date,
    evaluate,
    figures_of,
    next_review,
    policy_from_document,
    progress,
    purchase_upgrade,
    return_rate,
    validate_policy,
)

D = Decimal
GOLD_SINCE = date(2026, 11, 23)
GOLD = TierState(tier=Tier.GOLD, since=GOLD_SINCE, valid_until=date(2027, 11, 23))
ONE_BIG_SALE = Figures(spend={"2026-11": D("20000")}, purchases={"2026-11": 1})


def rule_changed(index: int, **changes):
    rules = list(DEFAULT_POLICY.rules)
    rules[index] = replace(rules[index], **changes)
    return replace(DEFAULT_POLICY, rules=tuple(rules))


def test_default_policy_is_valid_and_keeps_80_percent():
    validate_policy(DEFAULT_POLICY)
    gold = DEFAULT_POLICY.rule(Tier.GOLD)
    assert (gold.keep_spend, gold.keep_purchases) == (D("16000.0"), 10)
    assert policy_from_document(DEFAULT_POLICY.as_document()).as_document() == DEFAULT_POLICY.as_document()


@pytest.mark.parametrize("policy,field", [
    (rule_changed(2, spend_12m=D("4000")), "tiers.2.upgrade_spend_12m"),  # gold below silver
    (rule_changed(3, purchases_6m=12), "tiers.3.upgrade_purchases_6m"),  # diamond equal to gold
    (rule_changed(1, keep_spend_12m=D("6000")), "tiers.1.keep_spend_12m"),  # keep above upgrade
    (rule_changed(1, keep_purchases_6m=7), "tiers.1.keep_purchases_6m"),
    (rule_changed(1, spend_12m=D("-1")), "tiers.1.upgrade_spend_12m"),
    (rule_changed(2, points_multiplier=D("-1.5")), "tiers.2.points_multiplier"),
    (replace(DEFAULT_POLICY, rules=DEFAULT_POLICY.rules[:3]), "tiers"),
    (replace(DEFAULT_POLICY, rules=tuple(reversed(DEFAULT_POLICY.rules))), "tiers"),
    (replace(DEFAULT_POLICY, warning_days=-1), "warning_days"),
    (replace(DEFAULT_POLICY, max_return_rate=D("1.5")), "max_return_rate"),
    (replace(DEFAULT_POLICY, referral_credit=D("-5")), "referral_credit"),
])
def test_invalid_policies_are_refused_naming_the_field(policy, field):
    with pytest.raises(ValidationFailed) as exc:
        validate_policy(policy)
    assert exc.value.field == field


def test_purchase_upgrade_restarts_validity_for_twelve_months():
    d = purchase_upgrade(DEFAULT_POLICY, TierState(Tier.REGULAR), ONE_BIG_SALE, GOLD_SINCE)
    assert d is not None and d.outcome == Outcome.UPGRADE and d.after.tier == Tier.GOLD
    assert d.after.valid_until == date(2027, 11, 23)
    assert d.explanation["policy_version"] == 1 and d.explanation["actor"] == "purchase"
    # the next review is the warning date, 30 days before the validity ends
    assert d.review_on == date(2027, 10, 24)


def test_no_purchase_upgrade_below_the_threshold_or_with_too_many_returns():
    small = Figures(spend={"2026-11": D("4999.99")}, purchases={"2026-11": 5})
    assert purchase_upgrade(DEFAULT_POLICY, TierState(Tier.REGULAR), small, GOLD_SINCE) is None
    blocked = replace(DEFAULT_POLICY, max_return_rate=D("0.3"))
    returns = replace(ONE_BIG_SALE, returned={"2026-11": D("10000")})  # 10,000 of 30,000 sold came back
    assert purchase_upgrade(blocked, TierState(Tier.REGULAR), returns, GOLD_SINCE) is None


def test_returns_outside_the_twelve_month_window_do_not_block_an_upgrade():
    blocked = replace(DEFAULT_POLICY, max_return_rate=D("0.3"))
    old_returns = replace(ONE_BIG_SALE, returned={"2025-10": D("50000")})  # 13 months before 2026-11
    assert return_rate(old_returns, "2026-11") == 0
    decision = purchase_upgrade(blocked, TierState(Tier.REGULAR), old_returns, GOLD_SINCE)
    assert decision is not None and decision.after.tier == Tier.GOLD


def test_a_blocked_upgrade_is_a_keep_that_says_why():
    blocked = replace(DEFAULT_POLICY, max_return_rate=D("0.3"))
    returns = replace(ONE_BIG_SALE, returned={"2026-11": D("10000")})
    decision = evaluate(blocked, TierState(Tier.REGULAR), returns, date(2026, 11, 30))
    assert decision.outcome == Outcome.KEEP and decision.after.tier == Tier.REGULAR
    assert decision.explanation["inputs"]["returned_12m"] == "10000"
    assert "return rate 0.3333 is above the limit 0.3" in decision.explanation["text"]


def test_referrals_in_the_window_are_credited_as_qualifying_spend():
    credit = replace(DEFAULT_POLICY, referral_credit=D("500"))
    figures = Figures(spend={"2026-11": D("4000")}, referrals={"2026-10": 1, "2026-11": 1, "2025-06": 3})
    assert figures.referrals_12m("2026-11") == 2  # the three from 2025-06 fell out of the window
    assert figures.spend_12m("2026-11", credit.referral_credit) == D("5000")
    decision = purchase_upgrade(credit, TierState(Tier.REGULAR), figures, GOLD_SINCE)
    assert decision is not None and decision.after.tier == Tier.SILVER
    assert decision.explanation["inputs"]["referrals_12m"] == 2
    assert purchase_upgrade(DEFAULT_POLICY, TierState(Tier.REGULAR), figures, GOLD_SINCE) is None  # no credit


def test_figures_of_stats_carry_returns_and_referrals_by_month():
    stats = MemberStats(spend={"2026-11": D("900")}, returned={"2026-11": D("100")},
                        referrals={"2026-11#m_a", "2026-11#m_b", "2026-09#m_c"})
    figures = figures_of(stats)
    assert figures.referrals == {"2026-11": 2, "2026-09": 1}
    assert return_rate(figures, "2026-11") == D("0.1")


def test_keep_while_valid_and_above_keep_threshold():
    d = evaluate(DEFAULT_POLICY, GOLD, ONE_BIG_SALE, date(2027, 3, 1))
    assert d.outcome == Outcome.KEEP and d.after == GOLD


def test_warned_thirty_days_before_the_validity_ends_with_what_is_needed():
    d = evaluate(DEFAULT_POLICY, GOLD, ONE_BIG_SALE, date(2027, 10, 24))
    assert d.outcome == Outcome.WARN and d.after.warned_for == date(2027, 11, 23)
    assert d.explanation["spend_needed"] == "16000.00"  # 2026-11 has left the window by then
    assert "will drop to silver on 2027-11-23 unless you spend 16000.00 more" in d.explanation["text"]
    assert d.review_on == date(2027, 11, 23)


def test_downgrade_one_step_after_validity_and_warning():
    warned = replace(GOLD, warned_for=date(2027, 11, 23))
    d = evaluate(DEFAULT_POLICY, warned, ONE_BIG_SALE, date(2027, 11, 23))
    assert d.outcome == Outcome.DOWNGRADE and d.after.tier == Tier.SILVER  # one step, not to regular
    assert d.after.valid_until == date(2028, 11, 23) and d.after.warned_for is None
    assert d.explanation["thresholds"]["keep_spend_12m"] == "16000.0"


def test_a_run_long_after_validity_warns_first_and_downgrades_thirty_days_later():
    late = date(2027, 12, 23)  # 13 months after the last purchase, never warned
    warn = evaluate(DEFAULT_POLICY, GOLD, ONE_BIG_SALE, late)
    assert warn.outcome == Outcome.WARN and warn.after.warned_for == date(2028, 1, 22)
    assert evaluate(DEFAULT_POLICY, warn.after, ONE_BIG_SALE, late).outcome == Outcome.KEEP
    down = evaluate(DEFAULT_POLICY, warn.after, ONE_BIG_SALE, date(2028, 1, 22))
    assert down.outcome == Outcome.DOWNGRADE and down.after.tier == Tier.SILVER


def test_never_downgraded_while_figures_still_keep_the_tier():
    steady = Figures(spend={f"2027-{m:02d}": D("1500") for m in range(1, 13)})
    d = evaluate(DEFAULT_POLICY, replace(GOLD, warned_for=None), steady, date(2027, 12, 1))
    assert d.outcome == Outcome.KEEP  # 18,000 >= 16,000 keep


def test_a_month_leaving_the_window_sets_the_downgrade_date():
    # spend spread over months: the member falls below keep when 2027-01 drops out (2028-01)
    spend = {"2027-01": D("10000"), "2027-06": D("7000")}
    state = replace(GOLD, valid_until=date(2027, 6, 1))
    assert downgrade_date(DEFAULT_POLICY, state, Figures(spend=spend), date(2027, 7, 1)) == date(2028, 1, 1)
    assert next_review(DEFAULT_POLICY, state, Figures(spend=spend), date(2027, 7, 1)) == date(2027, 12, 2)


def test_purchases_window_is_six_months_with_rule_all():
    policy = replace(DEFAULT_POLICY, combinator=Combinator.ALL)
    figures = Figures(spend={"2027-01": D("25000")}, purchases={"2027-01": 12})
    assert purchase_upgrade(policy, TierState(Tier.REGULAR), figures, date(2027, 1, 20)).after.tier == Tier.GOLD
    # in July the January purchases have left the 6-month window: below keep under ALL
    state = TierState(Tier.GOLD, valid_until=date(2027, 2, 1))
    assert downgrade_date(policy, state, figures, date(2027, 2, 1)) == date(2027, 7, 1)


def test_manual_floor_holds_until_expiry_and_merit_still_upgrades():
    floor = TierState(Tier.GOLD, valid_until=date(2027, 1, 1), floor=Tier.GOLD, floor_until=date(2027, 6, 1),
                      warned_for=None)
    nothing = Figures()
    assert evaluate(DEFAULT_POLICY, floor, nothing, date(2027, 3, 1)).outcome == Outcome.KEEP
    assert next_review(DEFAULT_POLICY, floor, nothing, date(2027, 3, 1)) == date(2027, 5, 2)
    warn = evaluate(DEFAULT_POLICY, floor, nothing, date(2027, 5, 2))
    assert warn.outcome == Outcome.WARN and warn.after.warned_for == date(2027, 6, 1)
    assert evaluate(DEFAULT_POLICY, warn.after, nothing, date(2027, 6, 1)).after.tier == Tier.SILVER
    rich = Figures(spend={"2027-02": D("60000")})
    assert evaluate(DEFAULT_POLICY, floor, rich, date(2027, 3, 1)).after.tier == Tier.DIAMOND


def test_an_approved_floor_above_the_tier_raises_it():
    state = TierState(Tier.REGULAR, floor=Tier.SILVER, floor_until=date(2027, 6, 1))
    d = evaluate(DEFAULT_POLICY, state, Figures(), date(2027, 3, 1))
    assert d.outcome == Outcome.FLOOR and d.after.tier == Tier.SILVER


def test_regular_members_leave_the_review_index():
    assert next_review(DEFAULT_POLICY, TierState(Tier.REGULAR), Figures(), date(2027, 1, 1)) is None


def test_progress_shows_next_tier_and_what_keeps_this_one():
    p = progress(DEFAULT_POLICY, GOLD, ONE_BIG_SALE, date(2027, 3, 1))
    assert p["next_tier"] == {"tier": "diamond", "spend_needed": "30000", "purchases_needed": 23,
                              "combinator": "any"}
    assert p["keep"]["keep_until_at_least"] == "2027-11-23" and p["keep"]["days_left"] == 267
    assert p["keep"]["spend_needed"] == "16000.00"


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
