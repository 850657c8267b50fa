"""A richer inline instrument for the deploy tests: MINIMAL plus areas, multi, integer, text, note."""

from __future__ import annotations

from .conftest import MINIMAL

KINDS = """\
  kinds:
    choices:
      - {code: 1, name: called, label: {en: I called them, es: Los llamé}}
      - {code: 2, name: stopped, label: {en: I was stopped, es: Me detuvieron}}
    missing:
      refused: {code: 99, label: {en: Prefer not to say, es: Prefiero no decir}}
"""

EXTRA = """\
  - id: extra
    title: {en: More about you, es: Más sobre usted}
    optional: true
    questions:
      - id: extra_note
        type: note
        role: other
        label: {en: Almost done, es: Casi terminamos}
      - id: home
        type: single
        role: geography
        choices: areas
        required: true
        label: {en: "Where do you live?", es: "¿Dónde vive?"}
      - id: kinds
        type: multi
        role: contact
        choices: kinds
        relevant: "${contact} = 1"
        label: {en: "What kind of contact?", es: "¿Qué tipo de contacto?"}
      - id: years
        type: integer
        role: demographic
        min: 0
        max: 99
        label: {en: Years lived here, es: Años viviendo aquí}
      - id: says
        type: text
        role: open_text
        label: {en: "Anything else?", es: "¿Algo más?"}
areas:
  levels: [district, neighborhood, beat]
  items:
    - {code: 1, name: downtown, label: {en: Downtown, es: Centro}, district: central, beats: [b1, b2]}
    - {code: 2, name: riverside, label: {en: Riverside, es: Ribera}, district: north, beats: [b3]}
"""

RICH = MINIMAL.replace("  yes_no:\n", KINDS + "  yes_no:\n", 1) + EXTRA
"""MINIMAL with an optional module 'extra' (areas, multi with a missing code, integer, text, note)."""
