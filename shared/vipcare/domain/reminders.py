"""Care reminders: what to send, when, and what never to send (docs/domain.md §4). Pure rules.

- SMS segments: GSM-7 text 160 characters in one segment (153 each when split), UCS-2 text
  (any Chinese character) 70 (67 when split). A template over 2 segments is refused.
- Quiet hours 21:00-09:00 local: a message is deferred to the next 09:00, never dropped.
- Frequency cap: at most N marketing messages per member per rolling 7 days; candidates are
  considered in priority order service > birthday > anniversary > holiday > promotion and
  activity invitations.
- Lunar birthdays: the member's birthday field holds the solar date of birth; the lunar
  month/day of that date is celebrated, mapped onto this year's solar calendar.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ValidationFailed


class Kind(StrEnum):
    TIER_UPGRADE = "tier_upgrade"
    DOWNGRADE_WARNING = "downgrade_warning"
    COMPLAINT_RECEIVED = "complaint_received"
    COMPLAINT_RESOLVED = "complaint_resolved"
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    HOLIDAY = "holiday"
    POINTS_EXPIRING = "points_expiring"
    PROMOTION = "promotion"
    ACTIVITY = "activity"  # an invitation to a member activity (domain/activities.py)


SERVICE_KINDS = frozenset({Kind.TIER_UPGRADE, Kind.DOWNGRADE_WARNING, Kind.COMPLAINT_RECEIVED,
                           Kind.COMPLAINT_RESOLVED})

# Lower number = higher priority when the cap leaves room for fewer messages than are due.
PRIORITY: dict[Kind, int] = {
    Kind.TIER_UPGRADE: 0, Kind.DOWNGRADE_WARNING: 0, Kind.COMPLAINT_RECEIVED: 0, Kind.COMPLAINT_RESOLVED: 0,
    Kind.BIRTHDAY: 1, Kind.ANNIVERSARY: 2, Kind.HOLIDAY: 3, Kind.POINTS_EXPIRING: 4, Kind.PROMOTION: 4,
    Kind.ACTIVITY: 4,
}


def is_service(kind: Kind) -> bool:
    return kind in SERVICE_KINDS


class Status(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    CAPPED = "capped"
    SUPPRESSED = "suppressed"
    FAILED = "failed"


# ---- SMS segments ----------------------------------------------------------------------

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXT = set("^{}\\[~]|€")  # two septets each


def is_gsm7(text: str) -> bool:
    return all(c in _GSM7 or c in _GSM7_EXT for c in text)


def segments(text: str) -> int:
    """How many SMS segments the text takes (0 for empty text)."""
    if not text:
        return 0
    if is_gsm7(text):
        units = sum(2 if c in _GSM7_EXT else 1 for c in text)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)  # UTF-16 code units
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)


MAX_SEGMENTS = 2

# ---- templates -------------------------------------------------------------------------

PLACEHOLDERS = frozenset({"name", "tier", "brand", "holiday", "amount", "date", "points", "case"})
# Longest values a placeholder is checked with: a template must fit with realistic values.
_WORST_CASE = {"name": "欧阳娜娜娜", "tier": "diamond", "brand": "VIP Care", "holiday": "中秋节",
               "amount": "50000.00", "date": "2026-12-31", "points": "100000",
               "case": "c_0123456789abcdef"}
_WORST_CASE_EN = {**_WORST_CASE, "name": "Alexandra Smith", "holiday": "Mid-Autumn Festival"}

LANGUAGES = ("zh", "en")

DEFAULT_TEMPLATES: dict[Kind, dict[str, str]] = {
    Kind.BIRTHDAY: {"zh": "{name}，生日快乐！{brand}为您准备了{tier}会员专属生日礼，欢迎到店领取。",
                    "en": "Happy birthday, {name}! {brand} has a {tier} member gift for you in store."},
    Kind.ANNIVERSARY: {"zh": "{name}，祝您结婚纪念日快乐！{brand}恭候您的光临。",
                       "en": "Happy anniversary, {name}! Best wishes from {brand}."},
    Kind.HOLIDAY: {"zh": "{name}，{brand}祝您{holiday}快乐！", "en": "{name}, {brand} wishes you a happy {holiday}!"},
    Kind.TIER_UPGRADE: {"zh": "恭喜{name}升级为{tier}会员！感谢您对{brand}的支持。",
                        "en": "Congratulations {name}, you are now a {tier} member of {brand}!"},
    Kind.DOWNGRADE_WARNING: {"zh": "{name}，您的{tier}会员资格将于{date}到期，再消费{amount}即可保级。",
                             "en": "{name}, your {tier} status ends on {date}; spend {amount} more to keep it."},
    Kind.POINTS_EXPIRING: {"zh": "{name}，您有{points}积分将于{date}过期，欢迎到店使用。",
                           "en": "{name}, {points} points expire on {date}. Use them in store."},
    Kind.COMPLAINT_RECEIVED: {"zh": "{name}，{brand}已收到您的投诉{case}，我们将于{date}前回复您。",
                              "en": "{name}, {brand} has your complaint {case}. We will respond by {date}."},
    Kind.COMPLAINT_RESOLVED: {"zh": "{name}，您的投诉{case}已处理，感谢您对{brand}的信任。",
                              "en": "{name}, your complaint {case} has been resolved. Thank you for trusting {brand}."},
    Kind.PROMOTION: {"zh": "{name}，{brand}会员活动进行中，欢迎光临。",
                     "en": "{name}, a {brand} member event is on. See you in store."},
    # an activity's invitation carries its own text; this one stands in only if it had none
    Kind.ACTIVITY: {"zh": "{name}，{brand}诚邀您参加{date}的会员活动。",
                    "en": "{name}, {brand} invites you to a member event on {date}."},
}


def placeholders(template: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError:
        raise ValidationFailed("the template has an unbalanced brace", field="text") from None


def validate_template(text: str, language: str, *, field: str = "text") -> None:
    """Unknown placeholders or a text over 2 segments (with long values) are refused."""
    if language not in LANGUAGES:
        raise ValidationFailed(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    if not text.strip():
        raise ValidationFailed("the template is empty", field=field)
    names = placeholders(text)
    unknown = sorted(n for n in names if n not in PLACEHOLDERS)
    if unknown or any(not re.fullmatch(r"[a-z_]+", n) for n in names):
        raise ValidationFailed(f"unknown placeholder(s): {', '.join(unknown) or 'positional'}; "
                               f"allowed: {', '.join(sorted(PLACEHOLDERS))}", field=field)
    worst = render(text, _WORST_CASE_EN if language == "en" else _WORST_CASE)
    if segments(worst) > MAX_SEGMENTS:
        raise ValidationFailed(f"the message takes {segments(worst)} SMS segments with long values; "
                               f"at most {MAX_SEGMENTS} (70 UCS-2 / 160 GSM-7 characters each)", field=field)


def render(template: str, values: dict[str, str]) -> str:
    return template.format_map({k: values.get(k, "") for k in PLACEHOLDERS})


# ---- time zones and quiet hours --------------------------------------------------------

QUIET_START = time(21, 0)
QUIET_END = time(9, 0)


def zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown time zone {name!r} (IANA name expected)", field=field) from None


def in_quiet_hours(moment: datetime, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz).time()
    return local >= QUIET_START or local < QUIET_END


def next_allowed(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` itself outside quiet hours, else the next 09:00 local (as an aware datetime)."""
    local = moment.astimezone(tz)
    if not in_quiet_hours(moment, tz):
        return moment
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=tz)


# ---- frequency cap ---------------------------------------------------------------------

CAP_WINDOW = timedelta(days=7)
DEFAULT_CAP = 2


def within_cap(sent_marketing_at: list[datetime], now: datetime, cap: int = DEFAULT_CAP) -> bool:
    recent = [t for t in sent_marketing_at if now - CAP_WINDOW < t <= now]
    return len(recent) < cap


@dataclass(frozen=True)
class Candidate:
    kind: Kind
    occasion_key: str  # unique per member: the dedup key ("birthday#2026")
    values: dict[str, str]
    template: str | None = None  # its own text (an activity's invitation), else the brand's for the kind


def by_priority(candidates: list[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: PRIORITY[c.kind])


# ---- what is kept of each occasion -----------------------------------------------------


@dataclass(slots=True)
class Message:
    """The one record of an occasion for a member: what was decided (sent, deferred, ...) and
    why. `due_at` is when a later run looks at it again (a deferred or failed message, or one
    being sent, watched until its result is recorded); None when settled."""

    brand_id: str
    member_id: str
    kind: Kind
    occasion_key: str
    status: Status
    created_at: datetime
    updated_at: datetime
    values: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    text: str | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    attempts: int = 0
    sns_message_id: str | None = None
    due_at: datetime | None = None
    template: str | None = None  # the occasion's own text (Candidate.template)

    @property
    def category(self) -> str:
        return "service" if is_service(self.kind) else "marketing"

    @property
    def marketing(self) -> bool:
        return not is_service(self.kind)


@dataclass(frozen=True)
class DailyBudget:
    """A brand's SMS budget for one local day: at most `limit` sends on `day`."""

    day: date
    limit: int


@dataclass(slots=True)
class HolidayRun:
    """How far a brand's greeting run of one holiday got: the consent shard, the position
    within it (opaque, from the store) and how many members were offered the greeting."""

    brand_id: str
    day: date
    shard: int = 0
    cursor: str | None = None
    offered: int = 0
    done: bool = False


# ---- occasions -------------------------------------------------------------------------


def mmdd(d: date) -> str:
    return f"{d.month:02d}{d.day:02d}"


def lunar_mmdd(d: date) -> str:
    """The lunar month/day of a solar date as 'MMDD' (leap months count as their month)."""
    from lunardate import LunarDate

    lunar = LunarDate.from_solar_date(d.year, d.month, d.day)
    return f"{lunar.month:02d}{lunar.day:02d}"


def lunar_keys_for(today: date) -> list[str]:
    """The lunar 'MMDD' keys celebrated on the solar date `today`: its own lunar date, plus
    day 30 when today is the last day of a 29-day lunar month (so a birthday on the 30th is
    celebrated every year). A leap month repeats its month: only the first occurrence counts."""
    from lunardate import LunarDate

    lunar = LunarDate.from_solar_date(today.year, today.month, today.day)
    if lunar.is_leap_month:
        return []
    keys = [f"{lunar.month:02d}{lunar.day:02d}"]
    if lunar.day == 29:
        tomorrow = LunarDate.from_solar_date(*(today + timedelta(days=1)).timetuple()[:3])
        if tomorrow.day == 1:
            keys.append(f"{lunar.month:02d}30")
    return keys


def solar_keys_for(today: date) -> list[str]:
    """Solar 'MMDD' keys celebrated today: Feb 29 birthdays on Feb 28 in common years."""
    keys = [mmdd(today)]
    if today.month == 2 and today.day == 28 and (today + timedelta(days=1)).month == 3:
        keys.append("0229")
    return keys


def lunar_birthday_this_year(birthday: date, year: int) -> date | None:
    """The solar date of this year's lunar birthday (None if the lunar day does not exist)."""
    from lunardate import LunarDate

    lunar = LunarDate.from_solar_date(birthday.year, birthday.month, birthday.day)
    for day in (lunar.day, 29):
        try:
            return LunarDate(year, lunar.month, day).to_solar_date()
        except ValueError:
            continue
    return None


HOLIDAY_LOCALES = {"zh": "zh_CN", "en": "en_US"}


def public_holidays(country: str, year: int, language: str = "en_US") -> dict[date, str]:
    import holidays

    try:
        found = holidays.country_holidays(country, years=year, language=language)
    except NotImplementedError:
        raise ValidationFailed(f"no public holiday calendar for {country!r}", field="country") from None
    except Exception:  # noqa: BLE001 - an unknown language falls back to the default names
        found = holidays.country_holidays(country, years=year)
    out: dict[date, str] = {}
    for d, name in sorted(found.items()):
        first = str(name).split(";")[0].strip()
        if first.lower().startswith("day off") or "substitut" in first.lower():
            continue  # working-day swaps are not occasions
        out.setdefault(d, first)
    return out


def holiday_today(today: date, country: str, brand_dates: dict[str, str] | None = None,
                  language: str = "en") -> str | None:
    """The holiday's name when `today` is a public holiday of the country or a brand date
    ('MM-DD' -> name). Only the first day of a multi-day holiday counts."""
    if brand_dates and f"{today.month:02d}-{today.day:02d}" in brand_dates:
        return brand_dates[f"{today.month:02d}-{today.day:02d}"]
    found = public_holidays(country, today.year, HOLIDAY_LOCALES.get(language, "en_US"))
    name = found.get(today)
    if name is None:
        return None
    yesterday = found.get(today - timedelta(days=1))
    return None if yesterday == name else name
