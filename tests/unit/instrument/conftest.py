"""Small inline instruments: each test writes the YAML it checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

MINIMAL = """\
id: mini
version: "1"
title: {en: Mini survey, es: Encuesta mini}
languages: [en, es]
departments:
  police: {en: Police, es: Policía}
  public_works: {en: Public Works, es: Obras Públicas}
scales:
  agree_5:
    positive: [4, 5]
    codes:
      - {code: 1, label: {en: Strongly disagree, es: Muy en desacuerdo}}
      - {code: 2, label: {en: Disagree, es: En desacuerdo}}
      - {code: 3, label: {en: Neither, es: Ni uno ni otro}}
      - {code: 4, label: {en: Agree, es: De acuerdo}}
      - {code: 5, label: {en: Strongly agree, es: Muy de acuerdo}}
    missing:
      dont_know: {code: 8, label: {en: Don't know, es: No sé}}
      refused: {code: 9, label: {en: Refused, es: Se niega}}
choice_lists:
  problems:
    - {code: 1, name: drugs, label: {en: Drugs, es: Drogas}, department: police}
    - {code: 2, name: litter, label: {en: Litter, es: Basura}, department: public_works}
    - {code: 3, name: speeding, label: {en: Speeding, es: Exceso de velocidad}, department: police}
  yes_no:
    - {code: 1, name: "yes", label: {en: "Yes", es: "Sí"}}
    - {code: 2, name: "no", label: {en: "No", es: "No"}}
indices:
  legitimacy: {label: {en: Legitimacy, es: Legitimidad}}
modules:
  - id: main
    title: {en: Main, es: Principal}
    questions:
      - id: contact
        type: single
        role: contact
        choices: yes_no
        label: {en: "Any contact?", es: "¿Algún contacto?"}
      - id: contact_fair
        type: single
        role: contact
        scale: agree_5
        relevant: "${contact} = 1"
        label: {en: Treated fairly, es: Trato justo}
      - id: legit
        type: grid
        role: scale_item
        index: legitimacy
        scale: agree_5
        label: {en: Agree or disagree, es: De acuerdo o no}
        items:
          - {id: legit_trust, label: {en: I trust the police, es: Confío en la policía}}
          - {id: legit_rude, label: {en: Police are rude, es: La policía es grosera}, reverse: true}
      - id: serious
        type: grid
        role: problem
        scale: agree_5
        items_from: problems
        label: {en: "Serious?", es: "¿Grave?"}
      - id: top
        type: rank
        role: priority
        choices: problems
        max_picks: 2
        label: {en: Top two, es: Dos principales}
"""


@pytest.fixture
def write_instrument(tmp_path: Path):
    """Write YAML text (dedented) to a file and return its path."""

    def _write(text: str, name: str = "inst.yaml") -> Path:
        p = tmp_path / name
        p.write_text(textwrap.dedent(text), encoding="utf-8")
        return p

    return _write
