"""Every bundled template, in every language set, converts with pyxform without warnings and
passes ODK Validate (JavaRosa, needs Java): one validation per template x language set."""

from __future__ import annotations

import shutil

import pytest
from pyxform.xls2xform import convert

from survey_pipeline import list_templates, load_instrument
from survey_pipeline.instrument.deploy import export_instrument

from .deploy_fixtures import RICH

LANGUAGE_SETS = [["en"], ["es"], ["en", "es"]]
# the resident survey also in Vietnamese, alone and with the others (docs/i18n.md)
RESIDENT_VI = [["vi"], ["en", "es", "vi"]]
TEMPLATES = [t for t in ("resident", "partner", "agency_self_assessment") if t in list_templates()]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs Java (apt-get install default-jre-headless)"),
]


def test_the_three_templates_are_bundled():
    assert TEMPLATES == ["resident", "partner", "agency_self_assessment"]


@pytest.mark.parametrize("langs", LANGUAGE_SETS, ids=["en", "es", "en+es"])
@pytest.mark.parametrize("name", TEMPLATES)
def test_template_xlsform_passes_odk_validate(name, langs, tmp_path):
    inst = load_instrument(name)
    out = export_instrument(inst, "xlsform", tmp_path / f"{name}.xlsx", languages=langs, agency="Springfield PD")
    result = convert(xlsform=str(out), validate=True)
    assert result.warnings == []
    n_selects = sum(1 for q in inst.questions() if q.type in ("single", "multi", "rank"))
    assert result.xform.count("<select1 ") + result.xform.count("<select ") + result.xform.count("odk:rank") >= n_selects


def test_inline_instrument_with_agency_areas_passes_odk_validate(write_instrument, tmp_path):
    areas = tmp_path / "areas.csv"
    areas.write_text("code,neighborhood,district,beat\n1,Old Town,Central,111\n1,Old Town,Central,112\n"
                     "2,Hill Side,North,211\n", encoding="utf-8")
    from survey_pipeline.instrument.areas import read_areas

    out = export_instrument(load_instrument(write_instrument(RICH)), "xlsform", tmp_path / "f.xlsx",
                            areas=read_areas(areas))
    result = convert(xlsform=str(out), validate=True)
    assert result.warnings == []
    assert "selected( neighborhoods ," in result.xform or "selected(neighborhoods" in result.xform


@pytest.mark.parametrize("langs", RESIDENT_VI, ids=["vi", "en+es+vi"])
def test_resident_xlsform_in_vietnamese_passes_odk_validate(langs, tmp_path):
    inst = load_instrument("resident")
    out = export_instrument(inst, "xlsform", tmp_path / "resident.xlsx", languages=langs, agency="Springfield PD")
    result = convert(xlsform=str(out), validate=True)
    assert result.warnings == []
    assert 'lang="Tiếng Việt (vi)"' in result.xform
    assert "Quý vị cảm thấy an toàn đến mức nào khi đi bộ một mình ở mỗi nơi sau?" in result.xform
