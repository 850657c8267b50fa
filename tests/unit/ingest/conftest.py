"""Shared fixtures for the ingest tests: the MINIMAL instrument and a project around it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from survey_pipeline.project import init_project
from tests.unit.instrument.conftest import MINIMAL

AREAS = """\
neighborhood,district,beat
Downtown,Central,C1
Riverside,Central,C2
Oak Hill,North,N1
Las Palmas,North,N2
"""

INSTRUMENT = MINIMAL.replace(
    "modules:\n  - id: main",
    "modules:\n  - id: where\n    questions:\n"
    "      - {id: area, type: text, role: geography, label: {en: Neighborhood, es: Barrio}}\n"
    "  - id: main",
) + """\
      - id: attn
        type: single
        role: attention_check
        scale: agree_5
        expected: 2
        label: {en: Please pick Disagree, es: Elija En desacuerdo}
      - id: age
        type: integer
        role: demographic
        min: 18
        max: 110
        label: {en: Your age, es: Su edad}
      - id: concerns
        type: multi
        role: other
        choices: problems
        label: {en: "Which concern you?", es: "¿Qué le preocupa?"}
      - id: comments
        type: text
        role: open_text
        label: {en: Comments, es: Comentarios}
"""


@pytest.fixture
def project(tmp_path: Path):
    (tmp_path / "areas.csv").write_text(AREAS, encoding="utf-8")
    (tmp_path / "inst.yaml").write_text(INSTRUMENT, encoding="utf-8")
    root = tmp_path / "proj"
    init_project(root, instrument=str(tmp_path / "inst.yaml"), areas=tmp_path / "areas.csv")
    from survey_pipeline.project import Project

    return Project.load(root)


@pytest.fixture
def write_csv(tmp_path: Path):
    def _w(text: str, name: str = "export.csv") -> Path:
        p = tmp_path / name
        p.write_text(textwrap.dedent(text), encoding="utf-8")
        return p

    return _w
