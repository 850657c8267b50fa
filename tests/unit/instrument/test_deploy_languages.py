"""The resident survey in the third language (Vietnamese): every question and choice has its label,
the XLSForm carries label::Tiếng Việt (vi) columns that pyxform converts, and the paper
questionnaire is written in it, with the words the export adds (instructions, skip directions)
from the Vietnamese catalog."""

from __future__ import annotations

import openpyxl
import pytest
from pyxform.xls2xform import convert

from survey_pipeline import load_instrument
from survey_pipeline.errors import DeployError
from survey_pipeline.instrument.deploy import export_instrument
from survey_pipeline.instrument.deploy.common import phrases

VI = "label::Tiếng Việt (vi)"


@pytest.fixture(scope="module")
def resident():
    return load_instrument("resident")


def test_every_question_and_choice_of_the_resident_survey_has_a_vietnamese_label(resident):
    assert resident.languages == ["en", "es", "vi"]
    for q in resident.questions():
        assert q.label.get("vi"), q.id
    for v in resident.variables():
        assert v.label.get("vi"), v.name
    choices, missing = resident.answer_options("satisfied_5")
    assert [c.label["vi"] for c in choices][:2] == ["Rất không hài lòng", "Không hài lòng"]
    assert all(m.label.get("vi") for m in missing.values())


def test_xlsform_has_vietnamese_columns_and_converts_with_pyxform(resident, tmp_path):
    out = export_instrument(resident, "xlsform", tmp_path / "resident.xlsx", languages=["en", "es", "vi"])
    wb = openpyxl.load_workbook(out)
    for sheet in ("survey", "choices", "settings"):
        head = [c.value for c in next(wb[sheet].iter_rows(max_row=1))]
        assert sheet == "settings" or VI in head, (sheet, head)
    survey = wb["survey"]
    head = [c.value for c in survey[1]]
    rows = [dict(zip(head, (c.value for c in r), strict=False)) for r in survey.iter_rows(min_row=2)]
    labelled = [r for r in rows if r.get("type") and not str(r["type"]).startswith(("begin", "end", "calculate"))
                and r.get("label::English (en)")]
    assert labelled and all(r.get(VI) for r in labelled), [r.get("name") for r in labelled if not r.get(VI)]
    district = next(r for r in rows if r.get("name") == "district") if any(r.get("name") == "district" for r in rows) else None
    if district is not None:  # the question the export adds, from the catalog
        assert district[VI] == "Quý vị sống ở quận nào?"
    result = convert(xlsform=str(out), validate=False)
    assert result.warnings == []
    assert 'lang="Tiếng Việt (vi)"' in result.xform and 'lang="Español (es)"' in result.xform
    assert "Quý vị cảm thấy an toàn đến mức nào khi đi bộ một mình ở mỗi nơi sau?" in result.xform


def test_paper_questionnaire_in_vietnamese(resident, tmp_path):
    out = export_instrument(resident, "paper", tmp_path / "resident_vi.html", languages=["vi"], agency="Springfield PD")
    html = out.read_text(encoding="utf-8")
    assert 'lang="vi"' in html and "Khảo sát cộng đồng" in html
    assert "Vui lòng trả lời mỗi câu hỏi bằng cách đánh dấu vào ô" in html  # the added instructions
    assert "Đánh dấu một ô." in html and "Do Springfield PD thực hiện" in html
    assert "Hoàn toàn không đồng ý" in html  # a scale's choices
    assert "Mark one box." not in html and "How safe do you feel" not in html  # no English left
    assert "Marque una casilla." not in html


def test_added_wording_follows_the_catalogs_and_names_them_when_missing():
    assert phrases("vi", "paper")["mark_all"] == "Đánh dấu tất cả các ô phù hợp."
    assert phrases("es", "paper")["mark_all"] == "Marque todas las que correspondan."
    with pytest.raises(DeployError, match="no wording for language 'fr'") as exc:
        phrases("fr", "paper")
    assert "en, es, vi" in str(exc.value.fix) and "messages.po" in str(exc.value.fix)
