"""Importing XLSForms and codebooks: small inline forms, the real San Diego codebook, bad input."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from survey_pipeline import load_instrument, validate_instrument
from survey_pipeline.errors import ImportInstrumentError
from survey_pipeline.instrument.importer import (
    import_instrument,
    parse_value_labels,
    snake,
    write_instrument_yaml,
)
from tests.realdata import realdata

ROOT = Path(__file__).resolve().parents[3]
SAN_DIEGO = realdata("san_diego_resident_survey_2015") / "resident_survey_dictionary_datasd.csv"

EN, ES = "label::English (en)", "label::Español (es)"
SURVEY = [
    ["type", "name", EN, ES, "hint::English (en)", "hint::Español (es)", "relevant", "required"],
    ["begin_group", "safety", "Safety", "Seguridad", "", "", "", ""],
    ["select_one safe4", "safe_day", "How safe do you feel by day?", "¿Qué tan seguro se siente de día?", "", "", "", "yes"],
    ["select_one safe4", "Safe Night", "How safe do you feel at night?", "¿Y de noche?", "", "", "", ""],
    ["end_group", "", "", "", "", "", "", ""],
    ["begin_group", "police", "Police", "Policía", "", "", "", ""],
    ["select_one yes_no", "contact", "Any contact with police this year?", "¿Contacto con la policía?", "", "", "", ""],
    ["select_one agree", "fair", "The officer treated me fairly", "El agente me trató con justicia", "", "", "${contact} = 'yes'", ""],
    ["select_multiple problems", "problems", "Which are problems here?", "¿Cuáles son problemas aquí?", "Pick any", "Elija", "", ""],
    ["rank problems", "top", "Rank the problems", "Ordene los problemas", "", "", "selected(${problems}, 'drugs')", ""],
    ["integer", "age", "Your age", "Su edad", "", "", "", ""],
    ["decimal", "hours", "Hours outside per day", "Horas afuera por día", "", "", "", ""],
    ["text", "comments", "Anything else?", "¿Algo más?", "", "", "", ""],
    ["note", "thanks", "Thank you", "Gracias", "", "", "", ""],
    ["end_group", "", "", "", "", "", "", ""],
    ["calculate", "score", "", "", "", "", "", ""],
]
CHOICES = [
    ["list_name", "name", EN, ES],
    ["safe4", "1", "Very unsafe", "Muy inseguro"],
    ["safe4", "2", "Somewhat unsafe", "Algo inseguro"],
    ["safe4", "3", "Somewhat safe", "Algo seguro"],
    ["safe4", "4", "Very safe", "Muy seguro"],
    ["safe4", "8", "Don't know", "No sé"],
    ["yes_no", "yes", "Yes", "Sí"],
    ["yes_no", "no", "No", "No"],
    ["agree", "sd", "Strongly disagree", "Muy en desacuerdo"],
    ["agree", "d", "Disagree", "En desacuerdo"],
    ["agree", "n", "Neither agree nor disagree", "Ni de acuerdo ni en desacuerdo"],
    ["agree", "a", "Agree", "De acuerdo"],
    ["agree", "sa", "Strongly agree", "Muy de acuerdo"],
    ["agree", "pnts", "Prefer not to say", "Prefiero no decir"],
    ["problems", "drugs", "Drug dealing", "Venta de drogas"],
    ["problems", "litter", "Litter", "Basura"],
    ["problems", "speeding", "Speeding", "Exceso de velocidad"],
]
SETTINGS = [["form_title", "form_id", "version", "default_language"],
            ["Neighborhood survey", "nbhd-2026", "2026.1", "English (en)"]]


def write_xlsx(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


@pytest.fixture
def xlsform(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "form.xlsx", {"survey": SURVEY, "choices": CHOICES, "settings": SETTINGS})


def _round_trip(mapping, tmp_path: Path):
    out = write_instrument_yaml(mapping, tmp_path / "imported.yaml")
    inst, problems = validate_instrument(out)
    errors = [str(p) for p in problems.items if p.severity == "error"]
    assert not errors, errors
    assert inst is not None
    return inst, out


def test_xlsform_round_trip_questions_choices_and_skip_logic(xlsform, tmp_path):
    mapping = import_instrument(xlsform)
    inst, out = _round_trip(mapping, tmp_path)
    assert inst.id == "nbhd_2026" and inst.version == "2026.1"
    assert mapping.summary["variables"] == len(inst.variables()) == 13  # 4 singles, 3 + 3 options, 3 numbers/text
    assert inst.languages == ["en", "es"]
    assert inst.title == {"en": "Neighborhood survey", "es": "TODO(es): Neighborhood survey"}
    assert [m.id for m in inst.modules] == ["safety", "police"]
    assert inst.modules[1].title == {"en": "Police", "es": "Policía"}
    assert [(q.id, q.type) for q in inst.questions()] == [
        ("safe_day", "single"), ("safe_night", "single"), ("contact", "single"), ("fair", "single"),
        ("problems", "multi"), ("top", "rank"), ("age", "integer"), ("hours", "integer"),
        ("comments", "text"), ("thanks", "note"),
    ]
    q = {q.id: q for q in inst.questions()}
    assert q["safe_day"].label == {"en": "How safe do you feel by day?", "es": "¿Qué tan seguro se siente de día?"}
    assert q["safe_day"].required and not q["safe_night"].required
    assert q["problems"].hint == {"en": "Pick any", "es": "Elija"}
    # ordered rating lists are scales, with typed missing codes; others are choice lists
    assert set(inst.scales) == {"safe4", "agree"}
    safe = inst.scales["safe4"]
    assert [(c.code, c.label["en"]) for c in safe.codes] == [
        (1, "Very unsafe"), (2, "Somewhat unsafe"), (3, "Somewhat safe"), (4, "Very safe")]
    assert safe.missing_codes() == {8: "dont_know"} and safe.positive == [3, 4]
    agree = inst.scales["agree"]
    assert [c.code for c in agree.codes] == [1, 2, 3, 4, 5] and agree.positive == [4, 5]
    assert agree.missing_codes() == {9: "refused"}
    assert [(c.code, c.name, c.label["es"]) for c in inst.choice_lists["problems"].choices] == [
        (1, "drugs", "Venta de drogas"), (2, "litter", "Basura"), (3, "speeding", "Exceso de velocidad")]
    assert [c.name for c in inst.choice_lists["yes_no"].choices] == ["yes", "no"]
    assert q["safe_day"].scale == "safe4" and q["problems"].choices == "problems"
    assert q["top"].max_picks == 3
    # skip logic: choice names become codes for '=', and stay names in selected()
    assert q["fair"].relevant == "${contact} = 1"
    assert q["top"].relevant == "selected(${problems}, 'drugs')"
    # roles: guessed where the answers say so, TODO otherwise
    assert q["safe_day"].role == "safety" and q["age"].role == "demographic" and q["comments"].role == "open_text"
    assert q["contact"].role == "contact"
    assert q["problems"].role == "other"
    text = out.read_text(encoding="utf-8")
    assert "role: other  # TODO: set role" in text
    assert "role: safety  # guessed: safety scale" in text
    assert any("score (calculate" in n for n in mapping.notes)
    assert any("'hours'" in n and "decimal" in n for n in mapping.notes)


def test_xlsform_plain_label_column_and_missing_translation(tmp_path):
    survey = [["type", "name", "label", "label::es"],
              ["select_one yn", "q 1", "Question one", ""],
              ["begin_group", "q_2", "", ""],
              ["integer", "Q-2", "Question two", "Pregunta dos"],
              ["end_group", "", "", ""],
              ["integer", "q_1", "Clash after sanitising", "Choque"]]
    choices = [["list_name", "name", "label", "label::es"], ["yn", "1", "Yes", "Sí"], ["yn", "2", "No", "No"]]
    p = write_xlsx(tmp_path / "plain.xlsx", {"survey": survey, "choices": choices})
    mapping = import_instrument(p)
    inst, _ = _round_trip(mapping, tmp_path)
    assert inst.languages == ["en", "es"]
    assert [q.id for q in inst.questions()] == ["q_1", "q_2", "q_1_2"]
    # a group named like a question keeps the question's id (the data column) and renames the module
    assert [m.id for m in inst.modules] == ["main", "q_2_module", "main_2"]
    assert inst.question("q_1").label == {"en": "Question one", "es": "TODO(es): Question one"}
    assert [c.name for c in inst.choice_lists["yn"].choices] == ["yes", "no"]
    assert any(n.startswith("2 label(s) had no translation") for n in mapping.notes)  # q 1 and the title


def test_value_labels_parse_with_commas_inside_labels():
    assert parse_value_labels("5 - Excellent, 4 - Good, 9 - Don't Know") == [(5, "Excellent"), (4, "Good"), (9, "Don't Know")]
    assert parse_value_labels("1 - Less than $25k, 2 - Between $25k and $49,999, 3 - Streets, sidewalks, and more") == [
        (1, "Less than $25k"), (2, "Between $25k and $49,999"), (3, "Streets, sidewalks, and more")]
    assert parse_value_labels("1=Yes; 2=No") == [(1, "Yes"), (2, "No")]
    assert parse_value_labels("Number of years old") is None
    assert parse_value_labels("") is None


def test_snake_ids():
    assert snake("Q1_1") == "q1_1"
    assert snake("Q25_1st") == "q25_1st"
    assert snake("2nd wave!") == "q_2nd_wave"
    assert snake("  ") == "q"


@pytest.mark.skipif(not SAN_DIEGO.exists(), reason="real data folder not present")
def test_san_diego_codebook_imports_with_shared_scales_and_dont_know(tmp_path):
    mapping = import_instrument(SAN_DIEGO)
    inst, out = _round_trip(mapping, tmp_path)
    assert inst.languages == ["en"]
    s = mapping.summary
    assert s["questions"] == 34 and len(inst.questions()) == 34
    assert s["variables"] == 115 == len(inst.variables())
    # four shared rating scales, each with 9 = Don't know as a typed missing code
    assert sorted(inst.scales) == ["better_5", "excellent_5", "important_5", "satisfied_5"]
    for sc in inst.scales.values():
        assert sc.missing_codes() == {9: "dont_know"}
        assert [c.code for c in sc.codes] == [1, 2, 3, 4, 5] and sc.positive == [4, 5]
    # the satisfaction scale is shared by the ten satisfaction batteries (Q2, Q3, Q6..Q9, Q11..Q14)
    sat = [q.id for q in inst.questions() if q.scale == "satisfied_5"]
    assert sat == ["q2", "q3", "q6", "q7", "q8", "q9", "q11", "q12", "q13", "q14"]
    assert all(inst.question(g).role == "satisfaction" for g in sat)
    # stems with items become grids whose variables are the data's column names
    names = {v.name for v in inst.variables()}
    assert {"q1_1", "q3_15", "q6_5", "q14_15", "q25_5th", "q28"} <= names
    # Q4_1..Q4_4: four single picks on the list of the Q3 services
    picks = [inst.question(f"q4_{k}") for k in range(1, 5)]
    assert all(q.type == "single" and q.choices == "q3_items" and q.role == "importance" for q in picks)
    services = [c.label["en"] for c in inst.choice_lists["q3_items"].choices]
    assert services == [it.label["en"] for it in inst.question("q3").items]
    assert [c.code for c in inst.choice_lists["q3_items"].choices] == list(range(1, 16))
    # Yes/No/Don't know keeps its missing code too; roles the importer cannot tell are TODO
    assert inst.choice_lists["yes_no_2"].missing_codes() == {9: "dont_know"}
    assert inst.question("q1").role == "other" and "# TODO: set role" in out.read_text(encoding="utf-8")
    assert inst.question("q20").type == "integer" and inst.question("q20").role == "demographic"
    # the variables are the data's columns: every column the codebook documents is matched
    data = SAN_DIEGO.with_name("resident_survey_weighted_datasd.csv")
    if data.exists():
        columns = data.read_text(encoding="utf-8").splitlines()[0].lower().split(",")
        assert sorted(set(columns) - names) == ["num", "q20_code", "q24_other", "q25_other", "zip"]
        assert sorted(names - set(columns)) == ["q15_1"]  # in the codebook, not in the published data


def test_codebook_xlsx(tmp_path):
    rows = [["Variable", "Label", "Value labels"],
            ["SAFE", "How safe is your block?", "1 - Very unsafe, 2 - Unsafe, 3 - Safe, 4 - Very safe, 8 - Not sure, 9 - Refused"],
            ["TRUST", "Trust in police", "1 - Very unsafe, 2 - Unsafe, 3 - Safe, 4 - Very safe, 8 - Not sure, 9 - Refused"],
            ["ZIP", "ZIP code", ""]]
    p = write_xlsx(tmp_path / "codebook.xlsx", {"Codebook": rows})
    inst, _ = _round_trip(import_instrument(p), tmp_path)
    assert list(inst.scales) == ["safe_4"]
    assert inst.scales["safe_4"].missing_codes() == {8: "dont_know", 9: "refused"}
    assert [q.scale for q in inst.questions()[:2]] == ["safe_4", "safe_4"]
    assert inst.question("zip").role == "geography"


# --- bad input ---------------------------------------------------------------------------------


def _problem(exc: pytest.ExceptionInfo):
    assert exc.value.problems, exc.value.render()
    return exc.value.problems[0]


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ImportInstrumentError) as exc:
        import_instrument(tmp_path / "nope.csv")
    assert _problem(exc).rule == "file-not-found"
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(ImportInstrumentError) as exc:
        import_instrument(bad)
    p = _problem(exc)
    assert p.rule == "unreadable" and p.file == str(bad) and ".xlsx" in p.fix
    odd = tmp_path / "form.pdf"
    odd.write_text("x")
    with pytest.raises(ImportInstrumentError) as exc:
        import_instrument(odd)
    assert _problem(exc).rule == "unknown-format"


def test_unknown_layout_names_columns_found(tmp_path):
    p = tmp_path / "data.csv"
    p.write_text("respondent,answer,when\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ImportInstrumentError) as exc:
        import_instrument(p)
    prob = _problem(exc)
    assert prob.rule == "unknown-layout" and prob.row == 1
    assert "'respondent', 'answer', 'when'" in prob.message
    assert "question_number" in prob.fix


def test_xlsform_without_survey_sheet(tmp_path):
    p = write_xlsx(tmp_path / "nosurvey.xlsx", {"choices": CHOICES, "settings": SETTINGS})
    with pytest.raises(ImportInstrumentError) as exc:
        import_instrument(p)
    prob = _problem(exc)
    assert prob.rule == "missing-survey-sheet" and "'survey'" in prob.fix
    assert "choices, settings" in prob.message


def test_xlsform_row_errors_name_row_and_column_all_at_once(tmp_path):
    survey = [["type", "name", "label"],
              ["select_one nolist", "q1", "One"],
              ["integer", "", "Two"],
              ["begin_repeat", "kids", "Kids"],
              ["integer", "q1", "Again"]]
    p = write_xlsx(tmp_path / "bad.xlsx", {"survey": survey, "choices": [["list_name", "name", "label"], ["yn", "1", "Yes"]]})
    with pytest.raises(ImportInstrumentError) as exc:
        import_instrument(p)
    got = [(q.rule, q.row, q.column) for q in exc.value.problems]
    assert got == [("unknown-choice-list", 2, "type"), ("missing-name", 3, "name"), ("unsupported-repeat", 4, "type"),
                   ("duplicate-name", 5, "name")]
    assert "yn" in exc.value.problems[0].fix


def test_written_yaml_loads_strictly(xlsform, tmp_path):
    out = write_instrument_yaml(import_instrument(xlsform), tmp_path / "x.yaml")
    inst = load_instrument(out)
    assert inst.question("fair").scale == "agree"


def test_codebook_utf16_tab_separated_and_repeated_numbers(tmp_path):
    text = ("question_number\tquestion_text\tquestion_responses\n"
            "Q1\tHow safe?\t1 - Very unsafe, 2 - Unsafe, 3 - Safe, 4 - Very safe, 8 - Don't know\n"
            "Q1\tHow safe at night?\t1 - Very unsafe, 2 - Unsafe, 3 - Safe, 4 - Very safe, 8 - Don't know\n")
    p = tmp_path / "excel_unicode.csv"
    p.write_bytes(text.encode("utf-16"))
    mapping = import_instrument(p)
    inst, _ = _round_trip(mapping, tmp_path)
    assert [q.id for q in inst.questions()] == ["q1", "q1_2"]
    assert inst.scales["safe_4"].missing_codes() == {8: "dont_know"}
    assert any("Q1 appear more than once" in n for n in mapping.notes)


def test_codebook_stem_over_yes_no_items_and_mixed_items(tmp_path):
    p = tmp_path / "cb.csv"
    p.write_text(
        "question_number,question_text,question_responses\n"
        "Q5,In the past year did you:,\"1 - Yes, 2 - No\"\n"
        "Q5_1,Call the police,\"1 - Yes, 2 - No\"\n"
        "Q5_2,Attend a community meeting,\"1 - Yes, 2 - No\"\n"
        "Q6,About your home,\n"
        "Q6_a,Years at this address,Number of years\n"
        "Q6_b,Own or rent,\"1 - Own, 2 - Rent, 9 - Refused\"\n", encoding="utf-8")
    mapping = import_instrument(p)
    inst, _ = _round_trip(mapping, tmp_path)
    # a checklist on an unordered list: one single question per item, the stem in each label
    q51 = inst.question("q5_1")
    assert q51.type == "single" and q51.choices == "yes_no"
    assert q51.label["en"] == "In the past year did you: — Call the police"
    # items with different answers: the stem becomes a note, each item its own question
    assert [(q.id, q.type) for q in inst.questions()][2:] == [("q6", "note"), ("q6_a", "integer"), ("q6_b", "single")]
    assert inst.choice_lists["q6_b_options"].missing_codes() == {9: "refused"}
    assert inst.question("q6_b").role == "demographic"


def test_long_codebook_one_row_per_code(tmp_path):
    # the SPSS/DDI-style layout: the variable on its first row, then one row per answer code
    p = tmp_path / "long.csv"
    p.write_text(
        "variable,label,value,value_label\n"
        "SAT_POLICE,Satisfaction with police,1,Very dissatisfied\n"
        ",,2,Dissatisfied\n,,3,Satisfied\n,,4,Very satisfied\n,,8,Don't know\n,,9,Refused\n"
        "SAT_PARKS,Satisfaction with parks,1,Very dissatisfied\n"
        "SAT_PARKS,,2,Dissatisfied\nSAT_PARKS,,3,Satisfied\nSAT_PARKS,,4,Very satisfied\nSAT_PARKS,,8,Don't know\n"
        "SAT_PARKS,,9,Refused\n"
        "AGE,Age in years,,\n", encoding="utf-8")
    inst, _ = _round_trip(import_instrument(p), tmp_path)
    assert [(q.id, q.type, q.scale) for q in inst.questions()] == [
        ("sat_police", "single", "satisfied_4"), ("sat_parks", "single", "satisfied_4"), ("age", "integer", None)]
    sc = inst.scales["satisfied_4"]
    assert [c.code for c in sc.codes] == [1, 2, 3, 4] and sc.positive == [3, 4]
    assert sc.missing_codes() == {8: "dont_know", 9: "refused"}
    bad = tmp_path / "badlong.csv"
    bad.write_text("variable,label,value,value_label\nQ1,Text,1,Yes\n,,2,No\nQ2,Text,1,A\n,,2,B\n,,3,C\n,,x4,D\n",
                   encoding="utf-8")
    with pytest.raises(ImportInstrumentError) as exc:
        import_instrument(bad)
    prob = _problem(exc)
    assert (prob.rule, prob.row, prob.column) == ("bad-code", 7, "value")
