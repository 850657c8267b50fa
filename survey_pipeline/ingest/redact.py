"""Identifiers typed into free text, replaced before anything reaches the store.

Residents type their e-mail address or phone number into comment boxes ("call me at
555-014-2368"). The export's identifier *columns* are dropped by ingest; this module closes the
other leak: :func:`redact_series` replaces every e-mail address with ``[email]`` and every phone
number with ``[phone]`` in open-ended answers and other free-text fields, and counts what it
replaced per rule.

Phone numbers are found with ``phonenumbers`` (Google's libphonenumber): numbers written with a
leading ``+`` in any country's format, and national numbers of the regions given (US by default:
``(555) 014-2368``, ``555.014.2368``, ``1-555-014-2368``). Its *possible* leniency is used, not
*valid*: a number is redacted when it has the length and shape of a phone number, whether or not
the number is assigned (fictional 555 numbers included). Text without seven digits is never
examined, so survey answers, years and ZIP codes are left alone.

Pure and vectorised over distinct values: each distinct text is examined once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["EMAIL_TOKEN", "PHONE_TOKEN", "redact_series", "redact_text"]

EMAIL_TOKEN = "[email]"
PHONE_TOKEN = "[phone]"
DEFAULT_REGIONS: tuple[str, ...] = ("US",)

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*\s*@\s*[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}(?![\w\-])")
"""An address as typed: ``name@domain.tld``, also with spaces around the ``@``."""
_DIGITS = re.compile(r"\d")
_MIN_PHONE_DIGITS = 7


def _phones(text: str, regions: Iterable[str]) -> list[tuple[int, int]]:
    """(start, end) of every phone number in ``text``, merged across ``regions``."""
    import phonenumbers

    spans: list[tuple[int, int]] = []
    for region in regions:
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE,
                                                 max_tries=1000):
            spans.append((m.start, m.end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def redact_text(text: str, regions: Iterable[str] = DEFAULT_REGIONS) -> tuple[str, dict[str, int]]:
    """``text`` with e-mail addresses and phone numbers replaced, and how many of each.

    >>> redact_text("write to ana.ruiz@example.org or call (555) 014-2368")
    ('write to [email] or call [phone]', {'email': 1, 'phone': 1})
    """
    counts = {"email": 0, "phone": 0}
    if "@" in text:
        text, n = _EMAIL.subn(EMAIL_TOKEN, text)
        counts["email"] = n
    if len(_DIGITS.findall(text)) >= _MIN_PHONE_DIGITS:
        spans = _phones(text, regions)
        for a, b in reversed(spans):
            text = text[:a] + PHONE_TOKEN + text[b:]
        counts["phone"] = len(spans)
    return text, counts


def redact_series(values: pd.Series, regions: Iterable[str] = DEFAULT_REGIONS) -> tuple[pd.Series, dict[str, int]]:
    """:func:`redact_text` on every text of ``values`` (None stays None), index kept.

    Only the distinct values that could hold an identifier (an ``@``, or seven digits) are
    examined, each once; the counts are per cell (a value repeated in three cells counts three
    times).
    """
    regions = tuple(regions)
    s = pd.Series(values, copy=False)
    counts = {"email": 0, "phone": 0}
    if not len(s):
        return s, counts
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    if not len(uniq):
        return s, counts
    text = pd.Series(uniq, dtype=object).astype(str)
    cand = (text.str.contains("@", regex=False) | (text.str.count(r"\d") >= _MIN_PHONE_DIGITS)).to_numpy()
    if not cand.any():
        return s, counts
    new = np.asarray(uniq, dtype=object).copy()
    per_value = np.bincount(codes[codes >= 0], minlength=len(uniq))
    changed = False
    for j in np.flatnonzero(cand):
        out, got = redact_text(str(uniq[j]), regions)
        if out != uniq[j]:
            new[j] = out
            changed = True
            for k, v in got.items():
                counts[k] += v * int(per_value[j])
    if not changed:
        return s, counts
    result = new.take(np.where(codes >= 0, codes, 0))
    result[codes < 0] = None
    return pd.Series(result, index=s.index, dtype=object), counts
