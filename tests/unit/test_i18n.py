"""The language layer: the catalogs hold every message and translate it, numbers follow the locale.

The extraction runs through Babel's Python API with the repository's mapping (babel.cfg) and
keywords, as `make messages` does; no network, no compile step.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from survey_pipeline.errors import ProjectError
from survey_pipeline.i18n import (
    DOMAIN,
    KEYWORDS,
    LOCALE_DIR,
    UnknownLanguageError,
    check_language,
    fmt_date,
    fmt_int,
    fmt_number,
    fmt_percent,
    languages,
    locale_of,
    nt,
    number_separators,
    t,
    translations,
    use_locales,
)
from survey_pipeline.settings import parse_settings

ROOT = Path(__file__).resolve().parents[2]
FIELD = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)[^{}]*\}")


def _source_messages() -> dict[object, str]:
    """Every message the sources pass to t/nt/N_ (as babel.cfg maps them), with where it is."""
    text = (ROOT / "babel.cfg").read_text(encoding="utf-8")
    method_map, options_map = parse_mapping_cfg(__import__("io").StringIO(text))
    # babel.cfg names the method by its entry point; the API takes the function's dotted path too
    method_map = [(pattern, "survey_pipeline.i18n.extract:extract_python" if m == "survey_pipeline" else m)
                  for pattern, m in method_map]
    out: dict[object, str] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(str(ROOT), method_map, options_map,
                                                                      keywords=KEYWORDS, comment_tags=()):
        out.setdefault(message, f"{filename}:{lineno}")
    return out


def _catalog(lang: str):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        return read_po(f, locale=lang)


def test_every_source_message_is_in_every_catalog_translated_and_not_fuzzy():
    source = _source_messages()
    assert len(source) > 400  # the dashboard, the report and the findings all extract
    assert "Largest reliable findings" in source and ("{amount} point", "{amount} points") in source
    assert "Made by survey-pipeline from the results tables only." in source  # a t() inside an f-string
    shipped = [lang for lang in languages() if lang != "en"]
    assert "es" in shipped
    for lang in shipped:
        cat = _catalog(lang)
        ids = {m.id for m in cat if m.id}
        missing = sorted(f"{where}: {msg!r}" for msg, where in source.items() if msg not in ids)
        assert not missing, f"{lang}: messages missing from the catalog (run `make messages`): {missing[:10]}"
        nplurals = cat.num_plurals
        problems = []
        for m in cat:
            if not m.id:
                continue
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            if m.fuzzy:
                problems.append(f"fuzzy: {m.id!r}")
            elif not all(strings) or (isinstance(m.id, tuple) and len(strings) != nplurals):
                problems.append(f"untranslated: {m.id!r}")
            else:  # the translation keeps the message's {fields}: str.format would fail otherwise
                want = set(FIELD.findall(m.id if isinstance(m.id, str) else m.id[1]))
                for s in strings:
                    if set(FIELD.findall(s)) - want - {"n"}:
                        problems.append(f"unknown field in {s!r} of {m.id!r}")
        assert not problems, f"{lang}: {problems[:10]}"


def test_the_template_is_in_step_with_the_sources():
    with (ROOT / "survey_pipeline" / "i18n" / "messages.pot").open("rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert pot == set(_source_messages()), "run `make messages`"


def test_no_module_keeps_a_table_of_translations():
    """The words live in the catalogs: no dict literal keyed by a language code in the read side,
    the report or the dashboard (the instrument's labels stay in the instrument YAML)."""
    found = []
    for d in ("survey_pipeline/results", "survey_pipeline/report", "survey_pipeline/i18n", "dash_app",
              "survey_pipeline/instrument/deploy"):
        for path in (ROOT / d).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {id(a.value) for a in ast.walk(tree)
                     if (isinstance(a, ast.AnnAssign) and getattr(a.target, "id", "") == "LANGUAGE_NAMES")
                     or (isinstance(a, ast.Assign) and any(getattr(x, "id", "") == "LANGUAGE_NAMES" for x in a.targets))}
            for node in ast.walk(tree):
                if id(node) in names:  # each language's name in itself (an XLSForm column), not a translation
                    continue
                if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in ("es", "vi")
                                                       for k in node.keys):
                    locales = all(isinstance(v, ast.Constant) and re.fullmatch(r"[a-z]{2,3}_[A-Z]{2}", str(v.value))
                                  for v in node.values)  # DEFAULT_LOCALES: a locale per language, no words
                    if not locales:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def test_languages_are_the_catalogs_and_english_is_the_source():
    assert languages()[0] == "en" and "es" in languages()
    assert t("Wave", "es") == "Ola" and t("Wave", "en") == "Wave"
    assert t("Change since {wave}", "es", wave="Primavera 2026") == "Cambio desde Primavera 2026"
    with pytest.raises(UnknownLanguageError, match="unknown language 'xx': use one of en, es"):
        check_language("xx")
    with pytest.raises(UnknownLanguageError):
        t("Wave", "xx")
    # compiled from the .po in memory: no .mo file is needed (nor shipped)
    assert not list(LOCALE_DIR.rglob("*.mo"))
    assert translations("es").gettext("Wave") == "Ola"


def test_plural_forms_follow_each_languages_rule():
    assert nt("{amount} point", "{amount} points", 1, "en", amount="1") == "1 point"
    assert nt("{amount} point", "{amount} points", 2, "en", amount="2") == "2 points"
    assert nt("{amount} point", "{amount} points", 1, "es", amount="1") == "1 punto"
    assert nt("{amount} point", "{amount} points", 12, "es", amount="12") == "12 puntos"


@pytest.mark.parametrize(("lang", "locales", "pct", "count", "big", "dec", "sep"), [
    ("en", None, "58.3%", "1,234", "12,345", "0.40", ".,"),
    ("es", None, "58.3%", "1,234", "12,345", "0.40", ".,"),  # es_US: as US and Mexican Spanish write
    ("es", {"es": "es_ES"}, "58,3\u00a0%", "1.234", "12.345", "0,40", ",."),  # Spain: CLDR es_ES
])
def test_numbers_by_locale(lang, locales, pct, count, big, dec, sep):
    with use_locales(locales):
        assert fmt_percent(0.583, lang, 1) == pct
        assert fmt_int(1234, lang) == count and fmt_int(12345.4, lang) == big
        assert fmt_number(0.4, lang, 2) == dec and number_separators(lang) == sep
        assert fmt_number(float("nan"), lang) == "–" and fmt_percent(None, lang) == "–"
    assert locale_of("es") == "es_US"  # the block's choice does not leak out of it


def test_signed_numbers_and_dates():
    assert fmt_number(3.2, "en", 1, sign=True) == "+3.2" and fmt_number(-3.2, "en", 1, sign=True) == "-3.2"
    with use_locales({"es": "es_ES"}):
        assert fmt_number(3.25, "es", 2, sign=True) == "+3,25"
        assert fmt_date("2026-06-01", "es") == "1 de junio de 2026"
    assert fmt_date("2026-06-01", "en") == "June 1, 2026" and fmt_date("", "en") == ""


def test_locales_setting_is_validated():
    s = parse_settings('[reporting]\nlocales = {es = "es_ES"}\n')
    assert s.reporting.locales == {"es": "es_ES"}
    assert parse_settings("").reporting.locales == {}
    with pytest.raises(ProjectError) as exc:
        parse_settings('[reporting]\nlocales = {es = "en_US"}\n')
    assert "'en_US' is not a locale of 'es'" in str(exc.value.problems[0])
    with pytest.raises(ProjectError) as exc:
        parse_settings('[reporting]\nlocales = {xx = "xx_XX"}\n')
    assert "unknown language 'xx'; the languages are en, es, vi" in str(exc.value.problems[0])


def test_a_project_in_spain_gets_its_report_numbers_with_a_decimal_comma(tmp_path):
    from survey_pipeline.report import build_report
    from survey_pipeline.report.html import format_value, render_html
    from tests.fixtures_results import make_results_project

    root = make_results_project(tmp_path / "p")
    toml = root / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[reporting]\nlocales = {es = "es_ES"}\n', encoding="utf-8")
    rep = build_report(root, language="es")
    assert rep.locales == {"es": "es_ES"}
    html = render_html(rep)
    with use_locales(rep.locales):
        assert "," in format_value(0.583, "pct", lang="es") and format_value(0.583, "pct", lang="es") in html
    assert "p ajustado &lt; 0,05" in html  # the legend's threshold too
    assert format_value(0.583, "pct", lang="es") == "58.3%"  # outside the report's block: es_US


def test_dashboard_requests_write_numbers_in_the_projects_locales(tmp_path):
    from dash_app import create_app
    from dash_app.figures.common import fmt_value
    from tests.fixtures_results import make_results_project

    root = make_results_project(tmp_path / "p")
    toml = root / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[reporting]\nlocales = {es = "es_ES"}\n', encoding="utf-8")
    app = create_app(root)
    with app.server.test_request_context("/?lang=es"):
        app.server.preprocess_request()
        assert locale_of("es") == "es_ES" and fmt_value(0.583, "share", "es") == "58\u00a0%"
    assert locale_of("es") == "es_US"  # the request's block ended with it
    plain = create_app(make_results_project(tmp_path / "q"))
    with plain.server.test_request_context("/?lang=es"):
        plain.server.preprocess_request()
        assert fmt_value(0.583, "share", "es") == "58%"


def test_comment_theme_wording_in_each_language():
    """The analysis' own words for a comment theme follow the catalogs (a Vietnamese instrument no
    longer gets the Spanish wording, as it did when the code knew two languages)."""
    from survey_pipeline.analysis.wording import THEME_WORDING, in_language

    assert in_language(THEME_WORDING, "en", label="Noise") == \
        "Share of respondents who commented whose comments mention: Noise"
    assert in_language(THEME_WORDING, "es", label="Ruido") == \
        "Proporción de quienes dejaron un comentario que mencionan: Ruido"
    assert in_language(THEME_WORDING, "vi", label="Tiếng ồn") == "Tỷ lệ người đã góp ý có ý kiến nhắc đến: Tiếng ồn"
    assert in_language(THEME_WORDING, "fr", label="Bruit").startswith("Share of respondents")  # no catalog
