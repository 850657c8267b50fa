"""Each export format, read back and checked: questions, labels per language, codes, skip logic."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import openpyxl
import pytest
from pyxform.xls2xform import convert

from survey_pipeline import load_instrument
from survey_pipeline.errors import DeployError, InstrumentError
from survey_pipeline.instrument.deploy import (
    build_limesurvey_tsv,
    build_paper,
    build_qualtrics_txt,
    export_instrument,
    limesurvey_code,
    prepare,
    translate_relevant,
)

from .deploy_fixtures import RICH

# ------------------------------------------------------------------ helpers


@pytest.fixture
def rich(write_instrument):
    return load_instrument(write_instrument(RICH))


def sheet_rows(path, name) -> list[dict]:
    wb = openpyxl.load_workbook(path)
    ws = wb[name]
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    return [dict(zip(head, r, strict=True)) for r in rows[1:]]


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.classes: dict[str, list[str]] = {}
        self.attrs: list[tuple[str, str]] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        self.attrs.extend((k, v or "") for k, v in attrs)
        self._stack.append(d.get("class", ""))

    def handle_endtag(self, tag):
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        cls = self._stack[-1] if self._stack else ""
        if cls:
            self.classes.setdefault(cls, []).append(data)


def parse_html(s: str) -> _Html:
    p = _Html()
    p.feed(s)
    return p


# ------------------------------------------------------------------ XLSForm


def test_xlsform_sheets_labels_and_choice_names(rich, tmp_path):
    out = export_instrument(rich, "xlsform", tmp_path / "f.xlsx", languages=["en", "es"])
    survey = sheet_rows(out, "survey")
    by = {r["name"]: r for r in survey if r["type"] not in ("end_group",)}
    assert by["contact"]["label::English (en)"] == "Any contact?"
    assert by["contact"]["label::Español (es)"] == "¿Algún contacto?"
    # choice-list question: the code-based skip logic now names the choice
    assert by["contact_fair"]["relevant"] == "${contact} = 'yes'"
    assert by["contact_fair"]["appearance"] == "likert"
    assert by["top"]["type"] == "rank problems"
    assert by["kinds"]["type"] == "select_multiple kinds"
    assert "count-selected(.) > 1" in by["kinds"]["constraint"]
    assert by["years"]["constraint"] == ". >= 0 and . <= 99"
    assert by["legit"]["type"] == "begin_group" and by["legit"]["appearance"] == "table-list"
    assert by["legit_rude"]["type"] == "select_one agree_5"
    assert by["main"]["appearance"] == "field-list"
    # geography: district, then neighborhoods filtered by district, then beats of the neighborhood
    names = [r["name"] for r in survey]
    assert names.index("home_district") < names.index("home") < names.index("home_beat")
    assert by["home"]["choice_filter"] == "district = ${home_district}"
    assert by["home_beat"]["choice_filter"] == "selected(neighborhoods, ${home})"
    choices = sheet_rows(out, "choices")
    agree = [(c["name"], c["label::English (en)"]) for c in choices if c["list_name"] == "agree_5"]
    assert agree[0] == ("1", "Strongly disagree") and agree[-1] == ("9", "Refused")
    assert [c["name"] for c in choices if c["list_name"] == "kinds"] == ["called", "stopped", "refused"]
    assert {c["name"]: c["district"] for c in choices if c["list_name"] == "areas"} == {
        "downtown": "central", "riverside": "north"}
    settings = sheet_rows(out, "settings")[0]
    assert settings["form_id"] == "mini" and settings["version"] == "1"
    assert settings["default_language"] == "English (en)"


@pytest.mark.parametrize("langs", [["en"], ["es"], ["en", "es"]], ids=["en", "es", "en+es"])
def test_xlsform_converts_without_warnings(rich, tmp_path, langs):
    out = export_instrument(rich, "xlsform", tmp_path / "f.xlsx", languages=langs)
    result = convert(xlsform=str(out), validate=False)
    assert result.warnings == []
    assert "<h:title>Mini survey</h:title>" in result.xform if langs[0] == "en" else True
    header = [c.value for c in openpyxl.load_workbook(out)["survey"][1]]
    assert [h for h in header if h and h.startswith("label::")] == [
        {"en": "label::English (en)", "es": "label::Español (es)"}[lang] for lang in langs]


@pytest.mark.parametrize(("expr", "want"), [
    ("${contact} = 1", "${contact} = 'yes'"),
    ("${contact} != 1", "${contact} != 'yes'"),
    ("${contact} >= 1", "${contact} = 'yes' or ${contact} = 'no'"),
    ("${contact} = 3", "false()"),
    ("${contact_fair} >= 4", "${contact_fair} >= 4"),
    ("not(${contact} = 2) and ${contact_fair} = 5", "not(${contact} = 'no') and ${contact_fair} = 5"),
    ("selected(${kinds}, 'called') or ${years} > 10", "selected(${kinds}, 'called') or ${years} > 10"),
])
def test_translate_relevant_uses_choice_names_for_choice_lists(rich, expr, want):
    assert translate_relevant(rich, expr) == want


def test_modules_and_languages_are_chosen_or_refused(rich, tmp_path):
    out = export_instrument(rich, "xlsform", tmp_path / "f.xlsx", modules=[])
    names = {r["name"] for r in sheet_rows(out, "survey")}
    assert "extra" not in names and "contact" in names
    with pytest.raises(InstrumentError, match="unknown module"):
        export_instrument(rich, "xlsform", tmp_path / "f.xlsx", modules=["nope"])
    with pytest.raises(InstrumentError, match="not declared"):
        export_instrument(rich, "xlsform", tmp_path / "f.xlsx", languages=["fr"])
    with pytest.raises(DeployError, match="unknown export format") as exc:
        export_instrument(rich, "pdf", tmp_path / "f.pdf")  # type: ignore[arg-type]
    assert "xlsform, paper, codebook, qualtrics-txt, limesurvey-tsv" in exc.value.fix


def test_leaving_out_a_module_that_skip_logic_needs_is_refused(write_instrument, tmp_path):
    text = RICH.replace("    title: {en: Main, es: Principal}\n",
                        "    title: {en: Main, es: Principal}\n    optional: true\n", 1)
    inst = load_instrument(write_instrument(text))
    with pytest.raises(DeployError) as exc:
        prepare(inst, modules=["extra"])
    assert exc.value.rule == "skip-to-removed-module" and "kinds" in str(exc.value)


# ------------------------------------------------------------------ paper


def test_paper_numbers_boxes_grid_tables_and_skip_directions(rich):
    prepared = prepare(rich, agency="Springfield Police Department")
    html = build_paper(prepared, "en")
    p = parse_html(html)
    nums = [t.strip() for t in p.classes.get("num", [])]
    assert nums == [f"{i}." for i in range(1, 10)]  # 9 questions, the note is not numbered
    assert "Springfield Police Department" in "".join(p.classes["agency"])
    assert html.count("<table") == 2
    assert html.count("☐") == 2 + 7 + 2 * 7 + 3 * 7 + 2 + 3  # contact, contact_fair, legit, serious, home, kinds
    skip = " ".join(p.classes["skip"])
    assert "If you answered 'No' to question 1, skip to question 3." in skip
    only_if = " ".join(p.classes["only-if"])
    assert "Answer only if you answered 'Yes' to question 1." in only_if
    # self-contained: no external resource
    assert not [v for k, v in p.attrs if k in ("src", "href") and v.startswith(("http", "//"))]
    assert "@media print" in html


def test_paper_in_spanish(rich):
    html = build_paper(prepare(rich, languages=["es"]), "es")
    text = " ".join(parse_html(html).text)
    assert "¿Algún contacto?" in text and "Any contact?" not in text
    assert "Si respondió 'No' en la pregunta 1, pase a la pregunta 3." in text
    assert 'lang="es"' in html


def test_paper_takes_one_language(rich, tmp_path):
    with pytest.raises(DeployError, match="one language"):
        export_instrument(rich, "paper", tmp_path / "p.html", languages=["en", "es"])
    out = export_instrument(rich, "paper", tmp_path / "p.html", languages=["es"])
    assert "Casi terminamos" in out.read_text(encoding="utf-8")


# ------------------------------------------------------------------ codebook


def test_codebook_sheets_content_and_formatting(write_instrument, tmp_path):
    inst = load_instrument(write_instrument(RICH.replace("{en: Treated fairly,", "{en: \"=1+1 fairly\",")))
    out = export_instrument(inst, "codebook", tmp_path / "c.xlsx", agency="Springfield PD")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Variables", "Codes", "Instrument"]
    ws = wb["Variables"]
    assert ws.freeze_panes == "B2"
    assert all(c.font.bold for c in ws[1])
    rows = sheet_rows(out, "Variables")
    assert [r["variable"] for r in rows] == [v.name for v in inst.variables()]
    by = {r["variable"]: r for r in rows}
    assert by["contact_fair"]["label (en)"] == "'=1+1 fairly"  # formula neutralised
    assert by["legit_rude"]["reverse"] == "yes" and by["legit_rude"]["index"] == "legitimacy"
    assert by["serious_litter"]["department"] == "public_works"
    assert by["contact_fair"]["relevant"] == "${contact} = 1"
    assert by["legit_trust"]["question text (es)"] == "De acuerdo o no"
    codes = sheet_rows(out, "Codes")
    agree = [(r["code"], r["label (es)"], r["missing kind"]) for r in codes if r["answer list"] == "agree_5"]
    assert agree[-2:] == [(8, "No sé", "dont_know"), (9, "Se niega", "refused")]
    assert {r["code"] for r in codes if r["answer list"] == "areas"} == {1, 2}
    info = {r["field"]: r["value"] for r in sheet_rows(out, "Instrument")}
    assert info["agency"] == "Springfield PD" and info["languages"] == "en, es" and info["version"] == "1"


# ------------------------------------------------------------------ Qualtrics


def _qualtrics_questions(txt: str) -> list[dict]:
    qs: list[dict] = []
    section = None
    for line in txt.splitlines():
        if m := re.fullmatch(r"\[\[Question:(.+)\]\]", line):
            qs.append({"type": m.group(1), "Choices": [], "Answers": [], "text": []})
            section = "text"
        elif m := re.fullmatch(r"\[\[ID:(.+)\]\]", line):
            qs[-1]["id"] = m.group(1)
        elif line in ("[[Choices]]", "[[Answers]]"):
            section = line[2:-2]
        elif line.startswith("[[Block:"):
            section = None
        elif line and qs and section:
            qs[-1][section].append(line)
    return qs


def test_qualtrics_txt_types_ids_and_language(rich):
    txt = build_qualtrics_txt(prepare(rich, languages=["es"]), "es")
    assert txt.startswith("[[AdvancedFormat]]\n")
    assert txt.count("[[Block:") == 3  # a setup block, then one per module
    setup = txt[txt.index("[[Block:SETUP"):txt.index("[[Block:Principal]]")]
    assert "contact_fair: display only if ${contact} = 1" in setup
    assert "Recode values of kinds: 'Los llamé' = 1, 'Me detuvieron' = 2, 'Prefiero no decir' = 99" in setup
    qs = {q["id"]: q for q in _qualtrics_questions(txt)}
    assert [qid for qid in qs if not qid.startswith("mini_")] == [q.id for q in rich.questions()]
    assert qs["contact"]["type"] == "MC:SingleAnswer:Vertical"
    assert qs["contact"]["Choices"] == ["Sí", "No"]
    assert qs["legit"]["type"] == "Matrix"
    assert qs["legit"]["Choices"] == ["Confío en la policía", "La policía es grosera"]
    assert qs["legit"]["Answers"][0] == "Muy en desacuerdo" and len(qs["legit"]["Answers"]) == 7
    assert qs["top"]["type"] == "RankOrder" and qs["top"]["Choices"] == ["Drogas", "Basura", "Exceso de velocidad"]
    assert qs["kinds"]["type"] == "MC:MultipleAnswer:Vertical"
    assert qs["says"]["type"] == "TE:Essay" and qs["years"]["type"] == "TE:SingleLine"
    assert qs["extra_note"]["type"] == "DB"
    assert "Any contact?" not in txt


# ------------------------------------------------------------------ LimeSurvey


def test_limesurvey_tsv_rows_types_and_relevance(rich, tmp_path):
    out = export_instrument(rich, "limesurvey-tsv", tmp_path / "s.txt")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")), delimiter="\t"))
    assert list(rows[0])[:5] == ["class", "type/scale", "name", "relevance", "text"]
    settings = {r["name"]: r["text"] for r in rows if r["class"] == "S"}
    assert settings["language"] == "en" and settings["additional_languages"] == "es"
    assert sum(r["class"] == "G" for r in rows) == 4  # 2 modules x 2 languages
    qs = [r for r in rows if r["class"] == "Q"]
    assert len(qs) == 2 * len(rich.questions())
    by = {(r["name"], r["language"]): r for r in qs}
    assert by[("contactfair", "en")]["relevance"] == 'contact == "1"'
    assert by[("contactfair", "es")]["text"] == "Trato justo"
    assert by[("kinds", "en")]["relevance"] == 'contact == "1"'
    types = {r["name"]: r["type/scale"] for r in qs}
    assert types == {"contact": "L", "contactfair": "L", "legit": "F", "serious": "F", "top": "R",
                     "extranote": "X", "home": "L", "kinds": "M", "years": "N", "says": "T"}
    assert by[("top", "en")]["max_answers"] == "2" and by[("top", "en")]["max_subquestions"] == "2"
    assert [(r["type/scale"], r["language"]) for r in rows if r["class"] == "G"] == [
        ("1", "en"), ("1", "es"), ("2", "en"), ("2", "es")]
    assert by[("years", "en")]["min_num_value_n"] == "0" and by[("years", "en")]["max_num_value_n"] == "99"
    assert by[("home", "en")]["mandatory"] == "Y"
    # answers follow their question, per language; grid items are subquestions
    i = rows.index(by[("legit", "es")])
    assert [r["name"] for r in rows[i + 1:i + 3]] == ["legittrust", "legitrude"]
    assert [r["class"] for r in rows[i + 1:i + 10]] == ["SQ", "SQ"] + ["A"] * 7
    assert rows[i + 3]["text"] == "Muy en desacuerdo" and rows[i + 3]["language"] == "es"


def test_limesurvey_selected_and_codes():
    assert limesurvey_code("contact_12m") == "contact12m"
    assert limesurvey_code("12_x") == "q12x"
    assert len(limesurvey_code("a_very_long_question_identifier_here")) == 20


def test_limesurvey_selected_translation(write_instrument):
    text = RICH + ""
    text = text.replace("      - id: years\n", "      - id: years\n        relevant: \"selected(${kinds}, 'called')\"\n", 1)
    inst = load_instrument(write_instrument(text))
    frame = build_limesurvey_tsv(inst)
    rel = frame[(frame["class"] == "Q") & (frame["name"] == "years")]["relevance"].iloc[0]
    assert rel == 'kinds_called == "Y"'


def test_existing_beat_text_question_becomes_the_filtered_beat_list(write_instrument, tmp_path):
    text = RICH.replace("      - id: kinds\n", (
        "      - id: beat\n        type: text\n        role: geography\n"
        "        label: {en: Beat if known, es: Sector si lo sabe}\n      - id: kinds\n"), 1)
    out = export_instrument(load_instrument(write_instrument(text)), "xlsform", tmp_path / "f.xlsx")
    survey = {r["name"]: r for r in sheet_rows(out, "survey")}
    assert "home_beat" not in survey
    assert survey["beat"]["type"] == "select_one beats"
    assert survey["beat"]["choice_filter"] == "selected(neighborhoods, ${home})"
    assert survey["beat"]["label::English (en)"] == "Beat if known"
    assert convert(xlsform=str(out), validate=False).warnings == []


@pytest.mark.parametrize("name", ["resident", "partner", "agency_self_assessment"])
def test_every_format_exports_each_template(name, tmp_path):
    inst = load_instrument(name)
    n_questions = len(inst.questions())
    html = export_instrument(inst, "paper", tmp_path / "p.html", languages=["es"]).read_text(encoding="utf-8")
    assert len(parse_html(html).classes.get("num", [])) == sum(q.type != "note" for q in inst.questions())
    txt = export_instrument(inst, "qualtrics-txt", tmp_path / "q.txt", languages=["es"]).read_text(encoding="utf-8")
    ids = [q["id"] for q in _qualtrics_questions(txt)]
    assert [i for i in ids if i in {q.id for q in inst.questions()}] == [q.id for q in inst.questions()]
    tsv = export_instrument(inst, "limesurvey-tsv", tmp_path / "l.txt").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(tsv), delimiter="\t"))
    assert sum(r["class"] == "Q" for r in rows) == n_questions * len(inst.languages)
    assert len({r["name"] for r in rows if r["class"] == "Q"}) == n_questions  # codes stay unique
    cb = export_instrument(inst, "codebook", tmp_path / "c.xlsx")
    assert len(sheet_rows(cb, "Variables")) == len(inst.variables())


def test_areas_for_an_instrument_without_a_geography_question_are_refused(write_instrument, tmp_path):
    from survey_pipeline.instrument.model import Area, Areas

    from .conftest import MINIMAL

    inst = load_instrument(write_instrument(MINIMAL))
    areas = Areas(items=[Area(code=1, name="x", label={"_": "X"})])
    with pytest.raises(DeployError) as exc:
        export_instrument(inst, "codebook", tmp_path / "c.xlsx", areas=areas)
    assert exc.value.rule == "areas-unused" and "choices: areas" in str(exc.value)


def test_agency_appears_in_every_format(rich, tmp_path):
    agency = "Springfield PD"
    for fmt, name in [("paper", "p.html"), ("qualtrics-txt", "q.txt"), ("limesurvey-tsv", "l.txt")]:
        out = export_instrument(rich, fmt, tmp_path / name, agency=agency, languages=["en"])
        assert agency in out.read_text(encoding="utf-8"), fmt
    x = export_instrument(rich, "xlsform", tmp_path / "x.xlsx", agency=agency)
    assert sheet_rows(x, "settings")[0]["form_title"] == f"Mini survey — {agency}"


def test_skip_logic_in_words_groups_conditions_on_one_question(rich):
    from survey_pipeline.instrument import skiplogic
    from survey_pipeline.instrument.deploy.common import numbered_questions
    from survey_pipeline.instrument.deploy.paper import describe_relevant

    node = skiplogic.parse("(${contact_fair} >= 4 and ${contact_fair} <= 5) or ${contact} != 1")
    words = describe_relevant(rich, node, "en", numbered_questions(rich))
    assert words == ("you answered 'Agree' or 'Strongly agree' to question 2 or "
                     "you did not answer 'Yes' to question 1")


def test_xlsform_district_question_uses_the_district_names(rich, tmp_path):
    """With the areas' district_label, the district question lists the districts by name, per language
    (the choice name stays the district code's slug, which the neighborhoods filter on)."""
    named = [a.model_copy(update={"district_label": {"en": "Central District", "es": "Distrito Centro"}})
             if a.district == "central" else a for a in rich.areas.items]
    inst = rich.model_copy(update={"areas": rich.areas.model_copy(update={"items": named})})
    out = export_instrument(inst, "xlsform", tmp_path / "f.xlsx", languages=["en", "es"])
    districts = {c["name"]: (c["label::English (en)"], c["label::Español (es)"])
                 for c in sheet_rows(out, "choices") if c["list_name"] == "districts"}
    assert districts == {"central": ("Central District", "Distrito Centro"), "north": ("north", "north")}


def test_xlsform_and_codebook_hold_no_live_formula(write_instrument, tmp_path):
    """Area names and labels starting like a formula (issue 19: 5 live =HYPERLINK cells) are text
    cells in the XLSForm — the same text for pyxform — and neutralised text in the codebook."""
    from openpyxl import load_workbook
    from pyxform.xls2xform import convert

    from survey_pipeline import load_instrument
    from survey_pipeline.instrument.areas import read_areas
    from survey_pipeline.instrument.deploy import export_instrument

    from .deploy_fixtures import RICH

    evil = '=HYPERLINK("http://evil.example/x","Old Town")'
    areas = tmp_path / "areas.csv"
    areas.write_text(f'code,neighborhood,district,beat\n1,"{evil.replace(chr(34), chr(34) * 2)}",Central,111\n'
                     '2,+Hill Side,-North,211\n3,@Lake,Central,311\n', encoding="utf-8")
    inst = load_instrument(write_instrument(RICH))
    out = export_instrument(inst, "xlsform", tmp_path / "f.xlsx", areas=read_areas(areas))
    wb = load_workbook(out)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    assert any(c.value == evil for c in texts) and all(c.quotePrefix for c in texts)
    result = convert(xlsform=str(out), validate=False)
    assert "evil.example" in result.xform and result.warnings == []
    cb = export_instrument(inst, "codebook", tmp_path / "c.xlsx", areas=read_areas(areas))
    cb_cells = [c for ws in load_workbook(cb) for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cb_cells if c.data_type == "f"]
    assert not [c.value for c in cb_cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
