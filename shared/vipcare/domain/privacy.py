"""Personal data never reaches a log line: masking for anything that might."""

from __future__ import annotations

import re

from .phone import mask_phone

_PHONE = re.compile(r"\+\d{7,15}")
_EMAIL = re.compile(r"[^@\s\"']+@[^@\s\"']+\.[A-Za-z]{2,}")


def redact(text: str) -> str:
    """Mask E.164 phone numbers and email addresses inside free text (e.g. an error)."""
    text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    return _EMAIL.sub("***@***", text)
