"""`survey-pipeline plan`: a table and totals line, --json, and exit 2 on bad input."""

from __future__ import annotations

import json

from survey_pipeline.cli import main

AREAS = "area,households\nDowntown,1000\nNorth Park,3000\n"


def test_plan_table_and_json(tmp_path, capsys):
    f = tmp_path / "areas.csv"
    f.write_text(AREAS, encoding="utf-8")
    assert main(["plan", "--areas", str(f), "--moe", "0.05", "--response-rate", "0.2"]) == 0
    text = capsys.readouterr().out
    assert "Downtown" in text and "278" in text and "1,390" in text
    assert "Total: 619 completes, 3,095 invitations" in text and "citywide MOE ±" in text
    assert main(["plan", "--areas", str(f), "--moe", "0.05", "--allocation", "proportional", "--total", "400",
                 "--deff", "1.5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["completes"] for a in data["areas"]] == [100, 300]
    assert data["totals"]["completes"] == 400 and data["areas"][0]["invitations"] is None
    assert 0 < data["totals"]["citywide_moe"] < data["areas"][1]["moe_achieved"]
    assert data["settings"]["deff"] == 1.5


def test_plan_bad_input_exits_2(tmp_path, capsys):
    f = tmp_path / "areas.csv"
    f.write_text(AREAS, encoding="utf-8")
    assert main(["plan", "--areas", str(f), "--moe", "0.05", "--allocation", "equal"]) == 2
    assert "--total" in capsys.readouterr().err
    assert main(["plan", "--areas", str(f), "--moe", "0.05", "--allocation", "prop", "--total", "5"]) == 2
    assert "proportional" in capsys.readouterr().err
    g = tmp_path / "nopop.csv"
    g.write_text("area,size\nA,1\n", encoding="utf-8")
    assert main(["plan", "--areas", str(g), "--moe", "0.05"]) == 2
    err = capsys.readouterr().err
    assert str(g) in err and "Columns found: area, size" in err and "Traceback" not in err
