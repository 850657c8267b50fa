"""Each kind of broken instrument produces its promised message: file, line, question, rule, fix."""

from __future__ import annotations

import pytest

from survey_pipeline import load_instrument, validate_instrument
from survey_pipeline.errors import InstrumentError

from .conftest import MINIMAL


def test_minimal_instrument_loads_and_lists_variables(write_instrument):
    inst = load_instrument(write_instrument(MINIMAL))
    names = [v.name for v in inst.variables()]
    assert names == [
        "contact", "contact_fair", "legit_trust", "legit_rude",
        "serious_drugs", "serious_litter", "serious_speeding",
        "top_drugs", "top_litter", "top_speeding",
    ]
    by = {v.name: v for v in inst.variables()}
    assert by["legit_rude"].reverse and not by["legit_trust"].reverse
    assert by["serious_litter"].department == "public_works"
    assert by["top_speeding"].choice_code == 3
    assert inst.scales["agree_5"].missing_codes() == {8: "dont_know", 9: "refused"}


# (name, replace-from, replace-to, rule, line, question, words in the fix)
BROKEN = [
    ("missing translation", "{en: Drugs, es: Drogas}", "{en: Drugs}", "missing-translation", 22, None, "es:"),
    ("undefined scale", "scale: agree_5\n        relevant", "scale: agre_5\n        relevant", "undefined-scale", 42, "contact_fair", "agree_5"),
    ("duplicate id", "- id: top\n", "- id: contact\n", "duplicate-id", 60, "contact", "own stable id"),
    ("bad code", "- {code: 2, label: {en: Disagree", "- {code: two, label: {en: Disagree", "bad-code", 13, None, "integer"),
    ("duplicate code", "- {code: 3, label: {en: Neither", "- {code: 2, label: {en: Neither", "duplicate-code", 14, None, "own code"),
    ("missing code collides", "dont_know: {code: 8", "dont_know: {code: 5", "missing-code-collision", 18, None, "outside"),
    ("reverse outside scale", "role: problem\n        scale: agree_5", "role: problem\n        reverse: true\n        scale: agree_5", "reverse-outside-scale", 57, "serious", "scale_item"),
    ("skip logic unknown question", "${contact} = 1", "${contactt} = 1", "skip-unknown-question", 43, "contact_fair", "contact"),
    ("skip logic syntax", "${contact} = 1", "${contact} = = 1", "skip-syntax", 43, "contact_fair", "XLSForm"),
    ("unknown department", "department: public_works}", "department: publicworks}", "unknown-department", 23, None, "public_works"),
    ("unknown index", "index: legitimacy", "index: legitimcy", "unknown-index", 48, "legit", "legitimacy"),
    ("bad type", "type: rank", "type: ranking", "bad-type", 61, "top", "rank"),
    ("bad role", "role: contact\n        scale", "role: contacts\n        scale", "bad-role", 41, "contact_fair", "contact"),
    ("unknown key", "max_picks: 2", "max_pick: 2", "unknown-key", 64, "top", "max_picks"),
    ("undeclared language", "{en: Mini survey, es: Encuesta mini}", "{en: Mini survey, es: Encuesta mini, fr: Mini}", "undeclared-language", 3, None, "languages"),
    ("yaml syntax", "title: {en: Mini survey", "title: {en: Mini survey:: [", "yaml-syntax", 3, None, "quotes"),
    ("rank without max picks", "        max_picks: 2\n", "", "bad-max-picks", 60, "top", "max_picks"),
    ("positive not a code", "positive: [4, 5]", "positive: [4, 6]", "bad-code", 10, None, "answer codes"),
]


@pytest.mark.parametrize(("name", "old", "new", "rule", "line", "question", "fix_words"), BROKEN,
                         ids=[b[0] for b in BROKEN])
def test_broken_instrument_reports_rule_line_question_fix(write_instrument, name, old, new, rule, line,
                                                          question, fix_words):
    assert old in MINIMAL, f"test setup: {old!r} not in the minimal instrument"
    path = write_instrument(MINIMAL.replace(old, new, 1))
    _, problems = validate_instrument(path)
    matching = [p for p in problems.items if p.rule == rule]
    assert matching, f"expected rule {rule}, got {[p.rule for p in problems.items]}"
    p = matching[0]
    assert p.file == str(path)
    assert p.line == line, (p.line, str(p))
    if question is not None:
        assert p.question == question
    assert fix_words in p.fix
    with pytest.raises(InstrumentError) as exc:
        load_instrument(path)
    assert rule in exc.value.render()


def test_all_problems_reported_at_once(write_instrument):
    text = (MINIMAL.replace("{en: Drugs, es: Drogas}", "{en: Drugs}")
            .replace("scale: agree_5\n        relevant", "scale: agre_5\n        relevant")
            .replace("index: legitimacy", "index: nope"))
    _, problems = validate_instrument(write_instrument(text))
    assert {"missing-translation", "undefined-scale", "unknown-index"} <= {p.rule for p in problems.items}


def test_role_missing_is_a_warning_not_an_error(write_instrument):
    text = MINIMAL.replace("        role: contact\n        choices: yes_no", "        choices: yes_no")
    inst, problems = validate_instrument(write_instrument(text))
    assert inst is not None
    assert [p.rule for p in problems.items] == ["role-missing"]
    assert problems.items[0].severity == "warning"


def test_include_missing_and_unknown_module(write_instrument):
    text = MINIMAL.replace("indices:", "include: [nothere.yaml]\nindices:").replace(
        "modules:\n", "modules:\n  - use: demographics\n", 1)
    _, problems = validate_instrument(write_instrument(text))
    rules = {p.rule for p in problems.items}
    assert {"include-missing", "unknown-module"} <= rules


def test_includes_contribute_scales_and_modules(write_instrument):
    write_instrument(
        """\
        departments:
          parks: {en: Parks, es: Parques}
        module_library:
          demo:
            title: {en: About you, es: Sobre usted}
            optional: true
            questions:
              - id: age
                type: integer
                role: demographic
                min: 18
                label: {en: Age, es: Edad}
        """,
        name="lib.yaml",
    )
    text = MINIMAL.replace("indices:", "include: [lib.yaml]\nindices:") + "  - use: demo\n"
    inst = load_instrument(write_instrument(text))
    assert "parks" in inst.departments
    assert inst.question("age").module == "demo"
    assert [m.id for m in inst.with_modules([]).modules] == ["main"]
    assert [m.id for m in inst.with_modules(["demo"]).modules] == ["main", "demo"]
    with pytest.raises(InstrumentError, match="unknown module"):
        inst.with_modules(["nope"])


def test_module_named_like_a_question_is_a_clash(write_instrument):
    _, problems = validate_instrument(write_instrument(MINIMAL.replace("  - id: main\n", "  - id: contact\n")))
    assert "name-clash" in {p.rule for p in problems.items}
