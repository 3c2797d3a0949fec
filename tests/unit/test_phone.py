from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vipcare.domain.errors import ValidationFailed
from vipcare.domain.phone import mask_phone, normalise_phone
from vipcare.domain.privacy import redact


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                                 "008613800138000", "+8613800138000", " (+86) 13800138000 "])
def test_common_formats_normalise_to_one_e164(raw):
    assert normalise_phone(raw, "CN") == "+8613800138000"


def test_region_applies_only_without_country_code():
    assert normalise_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalise_phone("+8613800138000", "GB") == "+8613800138000"


@pytest.mark.parametrize("raw", ["", "   ", "12345", "abc", "+86 123", "1380013800000000"])
def test_invalid_phone_names_the_field(raw):
    with pytest.raises(ValidationFailed) as err:
        normalise_phone(raw, "CN", field="other_phones.2")
    assert err.value.field == "other_phones.2"


def test_mask_keeps_prefix_and_last_four():
    assert mask_phone("+8613800138000") == "+86*******8000"


@given(st.from_regex(r"\+[1-9]\d{7,14}", fullmatch=True))
def test_mask_never_shows_more_than_prefix_and_last_four(e164):
    masked = mask_phone(e164)
    assert len(masked) == len(e164)
    assert masked[3:-4] == "*" * (len(e164) - 7)


def test_redact_masks_phones_and_emails_in_text():
    text = "Conditional check failed for BRAND#demo#PHONE#+8613800138000 (li@example.com)"
    out = redact(text)
    assert "13800138000" not in out and "li@example.com" not in out
    assert "+86*******8000" in out
