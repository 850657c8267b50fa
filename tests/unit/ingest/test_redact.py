"""Redaction of identifiers typed into free text: e-mails and phones (issue 19), addresses, URLs,
handles, case numbers and names after a cue word or title (issue 15)."""

from __future__ import annotations

import pandas as pd
import pytest

from survey_pipeline.ingest.redact import RULES, redact_series, redact_text

NONE = dict.fromkeys(RULES, 0)


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
    ("I live at 12 Elm St", "I live at [address]"),
    ("1234 N. Main Street Apt 5 floods", "[address] floods"),
    ("write to PO Box 4471", "write to [address]"),
    ("vivo en Calle 5 de Mayo 123, Col. Centro, hay baches", "vivo en [address], hay baches"),
    ("frente a Av. Juárez #45 int. 2", "frente a [address]"),
    ("I live at 45 Oakwood and", "I live at [address] and"),
    ("see www.riverton.gov/meetings.", "see [url]."),
    ("photos: https://imgur.com/a/Xy7Qp2", "photos: [url]"),
    ("follow @RivertonPD and @maria_g_88", "follow [handle] and [handle]"),
    ("case #22-12345 and report 2024-001234", "case #[case] and report [case]"),
    ("folio 2024-778812, complaint 2020/15", "folio [case], complaint [case]"),
    ("My name is Jane Doe, thanks", "My name is [name], thanks"),
    ("me llamo María Pérez y", "me llamo [name] y"),
    ("mi nombre es ana lopez y vivo aqui", "mi nombre es [name] y vivo aqui"),
    ("soy Carlos Ruiz, vecino", "soy [name], vecino"),
    ("Officer Smith and Sgt. J. Ruiz came", "Officer [name] and Sgt. [name] came"),
    ("Officers Lee and Park helped", "Officers [name] helped"),
    ("la oficial Pérez y el agente Díaz", "la oficial [name] y el agente [name]"),
    ("Sra. Morales y Sr. Vega", "Sra. [name] y Sr. [name]"),
])
def test_identifiers_are_replaced(text, want):
    assert redact_text(text)[0] == want


@pytest.mark.parametrize("text", [
    "In 2024 I paid 1,234,567 dollars on 03/01/2024", "ZIP 54104, beat 302, 20 years", "R_rxZcDrVpDmGuJ7P",
    "300000022", "2024-03-12 02:15:17", "I called 911 and 311 twice", "a@b", "Más policía, por favor",
    "Main Street needs lights", "I called 3 times, paid $50, at 10 pm", "The 400 block of Elm St is dark",
    "Officer friendly visits", "the officer was rude", "I'm Hispanic and I'm Very upset", "etc. St. 3.5 times",
    "la calle Juárez está llena de baches 3 veces", "Soy de Guadalajara", "El 16 de septiembre hubo balazos",
    "meet @ the park at 5", "the report 2023 said", "ticket 2024 was paid",
])
def test_ordinary_text_is_left_alone(text):
    assert redact_text(text) == (text, NONE)


def test_series_counts_per_cell_and_keeps_none_and_index():
    s = pd.Series(["call 555-014-2368", None, "ok", "call 555-014-2368", "a@example.org and b@example.org"],
                  index=[10, 11, 12, 13, 14])
    out, counts = redact_series(s)
    assert out.tolist() == ["call [phone]", None, "ok", "call [phone]", "[email] and [email]"]
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert counts == {**NONE, "email": 2, "phone": 2}


def test_series_without_candidates_is_returned_as_is():
    s = pd.Series(["Agree", None, "12345"])
    out, counts = redact_series(s)
    assert out.equals(s) and counts == NONE


def test_counts_per_rule():
    text = ("Officer Smith: call 555-867-5309, jane@example.org, www.example.org, @jane, "
            "12 Elm St, case #22-12345, my name is Jane Roe")
    out, counts = redact_text(text)
    assert counts == {"email": 1, "url": 1, "handle": 1, "case": 1, "phone": 1, "address": 1, "name": 2}, out
