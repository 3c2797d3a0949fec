"""Phone numbers: the member's identity. Normalised to E.164; masked whenever logged."""

from __future__ import annotations

from .errors import ValidationFailed


def normalise_phone(raw: str, default_region: str, *, field: str = "phone") -> str:
    """Return `raw` in E.164 (+8613800138000) or raise ValidationFailed naming `field`.

    `default_region` (ISO 3166 alpha-2, e.g. "CN") applies to numbers written without a
    country code; numbers with "+" or "00" keep their own.
    """
    import phonenumbers  # lazy: its metadata import is only paid by code that parses phones

    text = (raw or "").strip()
    if not text:
        raise ValidationFailed("phone number is required", field=field)
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"not a phone number: {exc}", field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed("not a valid phone number for its country", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str | None) -> str:
    """`+8613800138000` -> `+86*******8000`: enough to tell numbers apart in a log, no more."""
    if not e164:
        return ""
    if not e164.startswith("+") or len(e164) < 8:
        return "*" * len(e164)
    # Country codes are 1-3 digits; the leading digits up to the national number are
    # not personal. A fixed 2-digit prefix keeps this pure (no metadata lookup).
    prefix = e164[:3]
    return prefix + "*" * (len(e164) - len(prefix) - 4) + e164[-4:]
