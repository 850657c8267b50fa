"""Redaction of e-mail addresses and phone numbers typed into free text (issue 19)."""

from __future__ import annotations

import pandas as pd
import pytest

from survey_pipeline.ingest.redact import redact_series, redact_text


@pytest.mark.parametrize(("text", "want"), [
    ("Call me at (555) 014-2368", "Call me at [phone]"),
    ("555-014-7789", "[phone]"),
    ("217.555.0199 after 5pm", "[phone] after 5pm"),
    ("+1 217 555 0143", "[phone]"),
    ("+44 20 7946 0958", "[phone]"),  # UK, international form
    ("tel. +34 612 34 56 78", "tel. [phone]"),  # Spain
    ("+52 55 1234 5678", "[phone]"),  # Mexico
    ("write to jane.roe@example.org", "write to [email]"),
    ("contact: <J.Smith+police@mail.example.com>", "contact: <[email]>"),
    ("Mi correo es carlos_ruiz @ correo.example.net", "Mi correo es [email]"),
])
def test_identifiers_are_replaced(text, want):
    assert redact_text(text)[0] == want


@pytest.mark.parametrize("text", [
    "In 2024 I paid 1,234,567 dollars on 03/01/2024", "ZIP 54104, beat 302, 20 years", "R_rxZcDrVpDmGuJ7P",
    "300000022", "2024-03-12 02:15:17", "I called 911 and 311 twice", "a@b", "Más policía, por favor",
])
def test_ordinary_text_is_left_alone(text):
    assert redact_text(text) == (text, {"email": 0, "phone": 0})


def test_series_counts_per_cell_and_keeps_none_and_index():
    s = pd.Series(["call 555-014-2368", None, "ok", "call 555-014-2368", "a@example.org and b@example.org"],
                  index=[10, 11, 12, 13, 14])
    out, counts = redact_series(s)
    assert out.tolist() == ["call [phone]", None, "ok", "call [phone]", "[email] and [email]"]
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert counts == {"email": 2, "phone": 2}


def test_series_without_candidates_is_returned_as_is():
    s = pd.Series(["Agree", None, "12345"])
    out, counts = redact_series(s)
    assert out.equals(s) and counts == {"email": 0, "phone": 0}
