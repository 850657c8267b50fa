"""`survey-pipeline instrument import`: writes a valid YAML, or one clear message and exit 2."""

from __future__ import annotations

import json

import openpyxl
import pytest

from survey_pipeline.cli import main
from tests.realdata import realdata

SAN_DIEGO = realdata("san_diego_resident_survey_2015") / "resident_survey_dictionary_datasd.csv"
CODEBOOK = """\
question_number,question_text,question_responses
Q1,Overall satisfaction with police,"5 - Very Satisfied, 4 - Satisfied, 3 - Neutral, 2 - Dissatisfied, 1 - Very Dissatisfied, 9 - Don't Know"
Q2,Satisfaction with parks,"5 - Very Satisfied, 4 - Satisfied, 3 - Neutral, 2 - Dissatisfied, 1 - Very Dissatisfied, 9 - Don't Know"
Q3,Your age,Number of years old
"""


def test_import_codebook_writes_valid_yaml(tmp_path, capsys):
    src = tmp_path / "codebook.csv"
    src.write_text(CODEBOOK, encoding="utf-8")
    out = tmp_path / "inst.yaml"
    assert main(["instrument", "import", str(src), "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] is True and data["questions"] == 3 and data["scales"] == ["satisfied_5"]
    assert data["missing"] == {"satisfied_5": {"dont_know": 9}}
    assert main(["instrument", "validate", str(out)]) == 0
    # refuses to overwrite without --force
    assert main(["instrument", "import", str(src), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["instrument", "import", str(src), "--out", str(out), "--force"]) == 0
    assert "1 scales" in capsys.readouterr().out


@pytest.mark.skipif(not SAN_DIEGO.exists(), reason="real data folder not present")
def test_import_san_diego_prints_scales(tmp_path, capsys):
    assert main(["instrument", "import", str(SAN_DIEGO), "--out", str(tmp_path / "sd.yaml")]) == 0
    text = capsys.readouterr().out
    assert "34 questions" in text and "4 scales" in text and "9=dont_know" in text


@pytest.mark.parametrize(("name", "content", "words"), [
    ("missing.csv", None, "does not exist"),
    ("layout.csv", "a,b\n1,2\n", "no recognizable codebook"),
    ("broken.xlsx", "not a workbook", "cannot be opened as an Excel workbook"),
])
def test_bad_input_exits_2_with_one_message(tmp_path, capsys, name, content, words):
    src = tmp_path / name
    if content is not None:
        src.write_text(content, encoding="utf-8")
    assert main(["instrument", "import", str(src), "--out", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err
    assert words in err and str(src) in err and "Fix:" in err and "Traceback" not in err
    assert not (tmp_path / "o.yaml").exists()


def test_xlsform_without_survey_sheet_exits_2(tmp_path, capsys):
    wb = openpyxl.Workbook()
    wb.active.title = "choices"
    wb.active.append(["list_name", "name", "label"])
    wb.create_sheet("settings").append(["form_id"])
    src = tmp_path / "form.xlsx"
    wb.save(src)
    assert main(["instrument", "import", str(src), "--out", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err
    assert "no 'survey' sheet" in err and "sheets: choices, settings" in err and "Fix:" in err
