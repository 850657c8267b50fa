"""survey.toml: creating, loading, and clear errors for each kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_pipeline.errors import ProjectError
from survey_pipeline.project import Project, init_project, normalize_name


def test_init_writes_a_commented_toml_that_loads(tmp_path: Path):
    proj = init_project(tmp_path / "p", instrument="mini.yaml")
    text = proj.toml_path.read_text()
    assert "# survey.toml" in text and "speeder_fraction = 0.3" in text
    assert proj.quality.speeder_fraction == 0.3
    assert proj.quality.complete_min == 0.8 and proj.quality.partial_min == 0.5
    assert "preview" in proj.quality.exclude and "straightliner" not in proj.quality.exclude
    assert (tmp_path / "p" / "mappings").is_dir()
    assert proj.waves == {}


def test_init_refuses_an_existing_project(tmp_path: Path):
    init_project(tmp_path / "p")
    with pytest.raises(ProjectError, match="already exists"):
        init_project(tmp_path / "p")


def test_waves_exports_and_invitations_are_read(tmp_path: Path):
    init_project(tmp_path / "p")
    toml = tmp_path / "p" / "survey.toml"
    toml.write_text(toml.read_text() + '''
[[waves]]
id = "2026q1"
label = "Spring"
start = 2026-03-01
modes = ["web", "mail"]
exports = [{file = "exports/web.csv", platform = "qualtrics", mode = "web"}]
[waves.invitations]
"Downtown" = 1200
''')
    p = Project.load(tmp_path / "p")
    w = p.wave("2026q1")
    assert w.label == "Spring" and w.start.isoformat() == "2026-03-01"
    assert w.modes == ("web", "mail") and w.exports[0].mode == "web"
    assert w.invitations == {"Downtown": 1200}
    assert w.listed("web.csv") and not w.listed("mail.csv")


def test_every_problem_is_reported_with_key_and_fix(tmp_path: Path):
    init_project(tmp_path / "p")
    toml = tmp_path / "p" / "survey.toml"
    toml.write_text(toml.read_text().replace('exclude = ["speeder"', 'exclude = ["speedy", "speeder"') + '''
[[waves]]
id = "w 1"
[[waves]]
id = "w2"
modes = ["carrier-pigeon"]
''')
    with pytest.raises(ProjectError) as exc:
        Project.load(tmp_path / "p")
    rules = {p.rule for p in exc.value.problems}
    assert rules == {"unknown-flag", "bad-wave-id", "unknown-mode"}
    assert all(p.fix and p.file.endswith("survey.toml") for p in exc.value.problems)
    assert any(p.column == "quality.exclude" for p in exc.value.problems)


def test_missing_project_says_how_to_create_it(tmp_path: Path):
    with pytest.raises(ProjectError) as exc:
        Project.load(tmp_path)
    assert "survey-pipeline init" in exc.value.render()


def test_unknown_wave_lists_the_defined_ones(tmp_path: Path):
    p = init_project(tmp_path / "p")
    with pytest.raises(ProjectError, match="not defined"):
        p.wave("nope")


def test_areas_file_is_read_with_districts(project):
    a = project.areas
    assert a.neighborhoods() == ["Downtown", "Las Palmas", "Oak Hill", "Riverside"]
    assert set(a.table["district"]) == {"Central", "North"}


def test_normalize_name_folds_case_accents_and_punctuation():
    assert normalize_name("  Don’t   KNOW! ") == normalize_name("don t know")
    assert normalize_name("No sé") == "no se"
    assert normalize_name(None) == ""


def test_deploy_areas_format_with_codes_and_zips_feeds_ingest(tmp_path: Path):
    (tmp_path / "areas.csv").write_text("code,neighborhood,district,beats,zips\n1,Downtown,Central,C1;C2,33601\n"
                                        "2,Oak Hill,North,N1,33602 33603\n")
    p = init_project(tmp_path / "p", areas=tmp_path / "areas.csv")
    a = p.areas
    assert sorted(a.table["beat"]) == ["C1", "C2", "N1"]
    assert dict(zip(a.crosswalk["key"], a.crosswalk["neighborhood"], strict=True)) == {
        "33601": "Downtown", "33602": "Oak Hill", "33603": "Oak Hill"}
    import pandas as pd

    from survey_pipeline.ingest.recode import normalize_areas

    out = normalize_areas(pd.Series(["33603", "c2", "downtown"]), a)
    assert out["neighborhood"].tolist() == ["Oak Hill", "Downtown", "Downtown"]
    assert out["beat"].tolist() == [None, "C2", None]


def test_areas_without_codes_share_the_instrument_reader(tmp_path: Path):
    import pandas as pd

    from survey_pipeline.errors import InstrumentError
    from survey_pipeline.ingest.recode import normalize_areas

    gj = tmp_path / "hoods.geojson"
    gj.write_text('{"type": "FeatureCollection", "features": ['
                  '{"type": "Feature", "properties": {"neighborhood": "Downtown", "district": "Central", '
                  '"beats": ["C1", "C2"], "label_es": "Centro"}, "geometry": null},'
                  '{"type": "Feature", "properties": {"neighborhood": "Oak Hill", "district": "North"}, "geometry": null}]}',
                  encoding="utf-8")
    p = init_project(tmp_path / "p", areas=gj)
    a = p.areas
    assert a.table.to_dict("list") == {"neighborhood": ["Downtown", "Downtown", "Oak Hill"],
                                       "district": ["Central", "Central", "North"], "beat": ["C1", "C2", None]}
    # the Spanish label is a crosswalk key: "centro" answers find Downtown
    out = normalize_areas(pd.Series(["Centro", "c2", "oak hill"]), a)
    assert out["neighborhood"].tolist() == ["Downtown", "Downtown", "Oak Hill"]
    from survey_pipeline import load_instrument

    assert p.instrument_model.areas == load_instrument("resident").areas  # no codes: the template's stay
    bad = tmp_path / "bad.csv"
    bad.write_text("neighborhood,district\nDowntown,Central\nDowntown,North\n", encoding="utf-8")
    with pytest.raises(InstrumentError) as exc:
        init_project(tmp_path / "q", areas=bad)
    assert exc.value.problems[0].rule == "areas-conflict" and exc.value.problems[0].row == 3
    assert not (tmp_path / "q").exists()  # checked before anything is created
