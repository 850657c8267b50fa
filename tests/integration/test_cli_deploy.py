"""`survey-pipeline instrument export` end to end, and the messages users get when input is wrong."""

from __future__ import annotations

import textwrap

import openpyxl
import pytest

from survey_pipeline.cli import main

from ..unit.instrument.deploy_fixtures import RICH


@pytest.fixture
def inst_file(tmp_path):
    p = tmp_path / "inst.yaml"
    p.write_text(textwrap.dedent(RICH), encoding="utf-8")
    return p


@pytest.fixture
def areas_csv(tmp_path):
    p = tmp_path / "areas.csv"
    p.write_text("code,neighborhood,district,beat,label_es\n1,Old Town,Central,111,Casco Antiguo\n"
                 "2,Hill Side,North,211,\n", encoding="utf-8")
    return p


def test_export_xlsform_with_areas_agency_language(inst_file, areas_csv, tmp_path, capsys):
    out = tmp_path / "form.xlsx"
    rc = main(["instrument", "export", str(inst_file), "--format", "xlsform", "--areas", str(areas_csv),
               "--agency", "Springfield PD", "--language", "es", "--out", str(out)])
    assert rc == 0
    assert "xlsform export of mini" in capsys.readouterr().out
    wb = openpyxl.load_workbook(out)
    header = [c.value for c in wb["choices"][1]]
    labels = {r[1]: r[header.index("label::Español (es)")] for r in wb["choices"].iter_rows(min_row=2, values_only=True)
              if r[0] == "areas"}
    assert labels == {"old_town": "Casco Antiguo", "hill_side": "Hill Side"}
    settings = dict(zip([c.value for c in wb["settings"][1]], [c.value for c in wb["settings"][2]], strict=True))
    assert settings["form_title"] == "Encuesta mini — Springfield PD"
    assert settings["default_language"] == "Español (es)"


@pytest.mark.parametrize(("fmt", "name", "needle"), [
    ("paper", "p.html", "Springfield PD"),
    ("codebook", "c.xlsx", None),
    ("qualtrics-txt", "q.txt", "[[AdvancedFormat]]"),
    ("limesurvey-tsv", "l.txt", "class\ttype/scale"),
])
def test_export_every_format(inst_file, tmp_path, fmt, name, needle):
    out = tmp_path / name
    rc = main(["instrument", "export", str(inst_file), "--format", fmt, "--agency", "Springfield PD",
               "--language", "en", "--module", "extra", "--out", str(out)])
    assert rc == 0 and out.exists() and out.stat().st_size > 500
    if needle:
        assert needle in out.read_text(encoding="utf-8")


def test_bundled_template_by_name(tmp_path):
    out = tmp_path / "r.html"
    assert main(["instrument", "export", "resident", "--format", "paper", "--out", str(out)]) == 0
    assert "Community Survey" in out.read_text(encoding="utf-8")


def test_unknown_format_names_the_allowed_ones(inst_file, tmp_path, capsys):
    rc = main(["instrument", "export", str(inst_file), "--format", "pdf", "--out", str(tmp_path / "x.pdf")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "unknown export format 'pdf'" in err
    assert "xlsform, paper, codebook, qualtrics-txt, limesurvey-tsv" in err
    assert "Traceback" not in err


def test_areas_file_missing_columns(inst_file, tmp_path, capsys):
    bad = tmp_path / "hoods.csv"
    bad.write_text("hood,precinct\nDowntown,1\n", encoding="utf-8")
    rc = main(["instrument", "export", str(inst_file), "--format", "xlsform", "--areas", str(bad),
               "--out", str(tmp_path / "f.xlsx")])
    assert rc == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "'hood', 'precinct'" in err and "Fix: Add a header row with 'code'" in err


def test_unknown_module_and_language(inst_file, tmp_path, capsys):
    rc = main(["instrument", "export", str(inst_file), "--format", "xlsform", "--module", "demographix",
               "--out", str(tmp_path / "f.xlsx")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "unknown module(s) demographix" in err and "Optional modules: extra" in err
    rc = main(["instrument", "export", str(inst_file), "--format", "paper", "--language", "fr",
               "--out", str(tmp_path / "p.html")])
    assert rc == 2
    assert "language(s) fr are not declared" in capsys.readouterr().err
    assert not (tmp_path / "p.html").exists()


def test_paper_with_two_languages_is_refused(inst_file, tmp_path, capsys):
    rc = main(["instrument", "export", str(inst_file), "--format", "paper", "--language", "en",
               "--language", "es", "--out", str(tmp_path / "p.html")])
    assert rc == 2
    assert "holds one language" in capsys.readouterr().err


def test_help_ends_with_example(capsys):
    assert main(["instrument", "export", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Example: survey-pipeline instrument export resident --format xlsform" in out


def test_missing_output_folder(inst_file, tmp_path, capsys):
    rc = main(["instrument", "export", str(inst_file), "--format", "codebook",
               "--out", str(tmp_path / "nope" / "c.xlsx")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Create the folder" in err
