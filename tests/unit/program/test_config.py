"""program.toml and benchmarks.csv: every problem at once, with where/rule/fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_pipeline.errors import ProgramError
from survey_pipeline.program import load_program, read_external_benchmarks


def _member(root: Path, name: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "survey.toml").write_text('[instrument]\npath = "resident"\n', encoding="utf-8")


def test_a_good_program(tmp_path):
    _member(tmp_path, "members/a")
    _member(tmp_path, "members/b")
    (tmp_path / "program.toml").write_text(
        '[program]\nname = "Tri-County"\nadjust = "holm"\n\n[access]\npeers = "named"\n\n'
        '[[members]]\nid = "a"\npath = "members/a"\nlabel = "A PD"\nwaves = { "2026q1" = "2026" }\n\n'
        '[[members]]\nid = "b"\npath = "members/b"\ncrosswalk = { sat_pd = "sat_police" }\n', encoding="utf-8")
    p = load_program(tmp_path)
    assert p.name == "Tri-County" and p.adjust == "holm" and p.peers == "named"
    assert [m.id for m in p.members] == ["a", "b"]
    assert p.members[0].waves == {"2026q1": "2026"} and p.members[1].label == "b"
    assert p.members[1].crosswalk == {"sat_pd": "sat_police"}
    assert p.scheduler == "" and p.jobs == 2


def test_every_problem_at_once(tmp_path):
    _member(tmp_path, "a")
    (tmp_path / "program.toml").write_text(
        '[program]\nadjust = "magic"\nmin_members = 1\nscheduler = "localhost:8786"\ncolour = "red"\n\n'
        '[[members]]\nid = "a"\npath = "a"\n', encoding="utf-8")
    with pytest.raises(ProgramError) as ei:
        load_program(tmp_path)
    locs = " ".join(p.message for p in ei.value.problems)
    assert len(ei.value.problems) == 4
    for key in ("program.adjust", "program.min_members", "program.scheduler", "program.colour"):
        assert key in locs


def test_members_must_be_projects_and_unique(tmp_path):
    _member(tmp_path, "a")
    (tmp_path / "program.toml").write_text(
        '[[members]]\nid = "a"\npath = "a"\n[[members]]\nid = "a"\npath = "nowhere"\n', encoding="utf-8")
    with pytest.raises(ProgramError) as ei:
        load_program(tmp_path)
    rules = {p.rule for p in ei.value.problems}
    assert rules == {"duplicate-member", "member-not-a-project"}
    assert "nowhere" in ei.value.render()


def test_no_program_toml_and_bad_toml(tmp_path):
    with pytest.raises(ProgramError) as ei:
        load_program(tmp_path)
    assert ei.value.rule == "no-file"
    (tmp_path / "program.toml").write_text("[program\n", encoding="utf-8")
    with pytest.raises(ProgramError) as ei:
        load_program(tmp_path)
    assert ei.value.rule == "bad-toml"


def test_external_benchmarks_csv(tmp_path):
    f = tmp_path / "benchmarks.csv"
    f.write_text("indicator,statistic,value,low,high,se,source,year\n"
                 "sat_police,share,0.61,0.58,0.64,,Gallup,2024\n"
                 "trust,score,3.2,,,0.05,Vendor norms,2025\n", encoding="utf-8")
    b = read_external_benchmarks(f)
    assert list(b["value"]) == [0.61, 3.2] and b["se"].isna().tolist() == [True, False]
    f.write_text("indicator,statistic,value,source,extra\nsat_police,share,61%,Gallup,x\n"
                 "safe_night,share,,BJS,y\nsafe_day,share,58,BJS,z\n", encoding="utf-8")
    with pytest.raises(ProgramError) as ei:
        read_external_benchmarks(f)
    rules = sorted(p.rule for p in ei.value.problems)
    assert rules == ["no-value", "not-a-number", "share-out-of-range", "unknown-column"]
    row = next(p for p in ei.value.problems if p.rule == "not-a-number")
    assert row.row == 2 and row.column == "value"
