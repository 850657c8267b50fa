"""The settings model of survey.toml, wave ids, bounded project files, formula-safe text, YAML
limits and the CLI's last line of defence."""

from __future__ import annotations

import os
import time
from dataclasses import fields
from pathlib import Path

import pytest

from survey_pipeline.analysis.settings import AnalysisSettings, WeightingSettings, from_settings
from survey_pipeline.errors import ProjectError
from survey_pipeline.files import confined_path, file_problem, read_text_bounded, text_problem
from survey_pipeline.names import WAVE_ID_MAX, check_wave_id, file_stem, wave_id_problem
from survey_pipeline.project import QualityRules, ReportingRules
from survey_pipeline.safe import safe_text, text_cells, unsafe_text
from survey_pipeline.settings import (
    DOCS_BEGIN,
    DOCS_END,
    DOCS_PAGE,
    MAX_TOML_DEPTH,
    SurveySettings,
    parse_settings,
    settings_markdown,
)


def problems(text: str) -> list:
    with pytest.raises(ProjectError) as exc:
        parse_settings(text)
    return exc.value.problems


# --- the model ---------------------------------------------------------------------------------

def test_the_docs_table_is_the_models():
    page = DOCS_PAGE.read_text(encoding="utf-8")
    table = page.split(DOCS_BEGIN, 1)[1].split(DOCS_END, 1)[0].strip("\n") + "\n"
    assert table == settings_markdown(), (
        "docs/survey-toml.md is out of date: run .venv/bin/python -c "
        '"from survey_pipeline.settings import write_settings_docs; write_settings_docs()"')


def test_every_key_of_the_model_is_documented():
    page = DOCS_PAGE.read_text(encoding="utf-8")

    def keys(cls, prefix=""):
        from survey_pipeline.settings import _inner_model

        for name, f in cls.model_fields.items():
            yield prefix + name
            inner = _inner_model(f.annotation)
            if inner is not None:
                yield from keys(inner, prefix + name + ".")
    found = list(keys(SurveySettings))
    assert len(found) > 50
    for k in found:
        assert f"`{k}`" in page or f"`[{k}]`" in page or f"`[[{k}]]`" in page, k


def test_defaults_are_the_dataclasses_defaults():
    """The model and the dataclasses the core takes agree on every default."""
    s = parse_settings("")
    q = s.quality.model_dump()
    for f in fields(QualityRules):
        assert tuple(q[f.name]) == f.default if f.name == "exclude" else q[f.name] == f.default, f.name
    assert (s.reporting.min_n, s.reporting.nchs) == (ReportingRules().min_n, ReportingRules().nchs)
    ws, st = from_settings(s)
    assert ws == WeightingSettings() and st == AnalysisSettings()


def test_a_valid_file_is_read_into_typed_values():
    s = parse_settings('''
[project]
name = "Riverton"
[instrument]
path = "resident"
[[waves]]
id = "2026-spring"
start = 2026-03-01
end = "2026-04-15"
modes = ["web", "mail"]
exports = [{file = "exports/web.csv", platform = "qualtrics", mode = "web"}]
[waves.invitations]
"Old Town" = 1200
[weighting]
trim = false
bounds = [0.2, 5]
[[analysis.evaluations]]
areas = ["Old Town"]
start_wave = "2026-spring"
''')
    w = s.waves[0]
    assert w.start.isoformat() == "2026-03-01" and w.end.isoformat() == "2026-04-15"
    assert w.invitations == {"Old Town": 1200} and w.exports[0].platform == "qualtrics"
    ws, st = from_settings(s)
    assert ws.trim is None and ws.bounds == (0.2, 5.0)
    assert st.evaluations[0].name == "evaluation 1" and st.evaluations[0].areas == ("Old Town",)


@pytest.mark.parametrize(("text", "key", "rule"), [
    ("[instrument]\npath = 5", "instrument.path", "bad-setting"),
    ('[instrument]\npath = ["resident"]', "instrument.path", "bad-setting"),
    ("[targets]\nfile = 5", "targets.file", "bad-setting"),
    ('[[waves]]\nid = "w1"\nmodes = 5', "waves[0].modes", "bad-setting"),
    ("waves = [1, 2]", "waves[0]", "bad-setting"),
    ('waves = "w1"', "waves", "bad-setting"),
    ("[reporting]\nmin_n = true", "reporting.min_n", "bad-setting"),
    ("[reporting]\nmin_n = 0", "reporting.min_n", "bad-setting"),
    ('[reporting]\nnchs = "yes"', "reporting.nchs", "bad-setting"),
    ('[quality]\nspeeder_fraction = "0.3"', "quality.speeder_fraction", "bad-setting"),
    ("[quality]\ncomplete_min = 0.4", "quality", "bad-threshold"),
    ('[quality]\nexclude = ["speedy"]', "quality.exclude", "unknown-flag"),
    ('[[waves]]\nid = "w1"\nexports = [{file = "a.csv", platform = "excel"}]', "waves[0].exports[0].platform",
     "unknown-platform"),
    ('[[waves]]\nid = "w1"\nexports = [{platform = "kobo"}]', "waves[0].exports[0].file", "missing-key"),
    ('[[waves]]\nid = "w1"\nstart = "March"', "waves[0].start", "bad-date"),
    ('[[waves]]\nid = "w1"\neligibility_rate = 1.5', "waves[0].eligibility_rate", "bad-setting"),
    ('[[waves]]\nid = "w1"\n[waves.invitations]\nDowntown = -3', "waves[0].invitations.Downtown", "bad-setting"),
    ('[[waves]]\nlabel = "no id"', "waves[0].id", "missing-key"),
    ("[weighting]\ntrim = 0.5", "weighting.trim", "bad-setting"),
    ('[analysis]\nci_method = "exact"', "analysis.ci_method", "bad-setting"),
    ('[[analysis.evaluations]]\nareas = []\nstart_wave = "w1"', "analysis.evaluations[0].areas", "bad-setting"),
    ("[project]\nmax_file_mb = 0", "project.max_file_mb", "bad-setting"),
])
def test_a_wrong_value_names_its_key_and_rule(text, key, rule):
    probs = problems(text)
    assert (probs[0].column, probs[0].rule) == (key, rule), [str(p) for p in probs]
    assert len(probs) == (2 if text == "waves = [1, 2]" else 1), [str(p) for p in probs]
    assert probs[0].fix


def test_unknown_keys_name_the_allowed_ones_and_a_close_match():
    probs = problems('[quality]\nspeeder_fracton = 0.2\n[areas]\nfile = "a.csv"\ncolour = "red"\n[extra]\n')
    by_key = {p.column: p for p in probs}
    assert set(by_key) == {"quality.speeder_fracton", "areas.colour", "extra"}
    assert all(p.rule == "unknown-key" for p in probs)
    assert "Did you mean 'speeder_fraction'?" in by_key["quality.speeder_fracton"].message
    assert "crosswalk, file, geojson, shapes" in by_key["areas.colour"].fix
    assert "analysis, areas, instrument" in by_key["extra"].fix


def test_every_problem_is_reported_at_once():
    probs = problems('[instrument]\npath = 5\n[[waves]]\nid = "a b"\nmodes = ["fax"]\n[reporting]\nmin_n = -1\n'
                     '[weighting]\nbounds = [2, 3]\nmystery = 1\n')
    assert len(probs) == 6


def test_a_syntax_error_gives_line_and_column():
    with pytest.raises(ProjectError) as exc:
        parse_settings('[project]\nname = "x"\n[instrument\npath = "resident"\n')
    p = exc.value.problems[0]
    assert p.rule == "bad-toml" and p.line == 3 and "line 3, column" in p.message


@pytest.mark.parametrize("text", [
    "x = " + "[" * 10_000 + "]" * 10_000,
    "x = " + "{a = " * 3_000 + "1" + "}" * 3_000,
    "[" + ".".join(["a"] * (MAX_TOML_DEPTH + 2)) + "]\nb = 1",
])
def test_absurd_nesting_is_refused(text):
    with pytest.raises(ProjectError) as exc:
        parse_settings(text)
    assert exc.value.problems[0].rule == "toml-too-deep"


# --- wave ids and file names -----------------------------------------------------------------

@pytest.mark.parametrize("wave", ["2026q1", "2026-spring", "w_1", "A", "9" * WAVE_ID_MAX])
def test_valid_wave_ids(wave):
    assert check_wave_id(wave) == wave


@pytest.mark.parametrize(("wave", "says"), [
    ("", "empty"), ("   ", "empty"), ("/", "'/'"), ("../../x", "'.' '/'"), ("<script>", "'<' '>'"),
    ("a b", "' '"), ("-w", "first character"), ("_w", "first character"), ("w" * (WAVE_ID_MAX + 1), "characters (at most"),
    ("été", "'é'"), ("w\x00", "'\\x00'"), (5, "must be text"), (None, "must be text"),
])
def test_invalid_wave_ids_say_the_rule_and_an_example(wave, says):
    p = wave_id_problem(wave)
    assert p is not None and p.rule == "bad-wave-id" and says in p.message, p
    assert "2026-spring" in p.fix and str(WAVE_ID_MAX) in p.fix
    with pytest.raises(ProjectError):
        check_wave_id(wave)


def test_mapping_file_names_stay_short_and_inside_mappings(tmp_path):
    from survey_pipeline.ingest.mapping import mapping_path

    long = "x" * 300 + "/../../etc"
    p = mapping_path(tmp_path, "w" * WAVE_ID_MAX, Path(long + ".csv"))
    assert p.parent == tmp_path / "mappings" and len(p.name.encode()) < 255
    assert file_stem("a" * 300) != file_stem("a" * 299 + "b")
    with pytest.raises(ProjectError):
        mapping_path(tmp_path, "../../x", Path("web.csv"))


# --- project files -------------------------------------------------------------------------

def test_paths_are_confined_to_the_project(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (tmp_path / "outside.csv").write_text("a\n")
    (root / "link.csv").symlink_to(tmp_path / "outside.csv")
    assert confined_path(root, "sub/../t.csv")[1] is None
    assert "leads out" in confined_path(root, "../outside.csv")[1]
    assert "absolute path outside" in confined_path(root, "/etc/passwd")[1]
    assert "link leading out" in confined_path(root, "link.csv")[1]
    assert confined_path(root, str(root / "t.csv"))[1] is None


def test_devices_fifos_directories_and_large_files_are_refused(tmp_path):
    assert "device" in file_problem(Path("/dev/zero"), max_mb=1, what="f").message
    assert "directory" in file_problem(tmp_path, max_mb=1, what="f").message
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(ProjectError) as exc:
        read_text_bounded(fifo, max_mb=1)
    assert "FIFO" in exc.value.render()
    assert time.monotonic() - start < 5  # refused, not read (a FIFO without a writer would block)
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,b\n" * 300_000)
    with pytest.raises(ProjectError) as exc:
        read_text_bounded(big, max_mb=1)
    assert exc.value.rule == "file-too-large" and "1 MB" in exc.value.problems[0].message
    assert "max_file_mb" in exc.value.problems[0].fix


@pytest.mark.parametrize(("data", "says"), [
    (b"", "is empty"), (b"  \n", "white space"), ("a,b\n".encode("utf-16"), "UTF-16"),
    ("a,b\n".encode("utf-16-le"), "NUL"), (b"\x00" * 100, "only NUL"),
    ("a,b\nPeñasco,1\n".encode("cp1252"), "line 2, column 3 (it looks like Windows-1252"),
])
def test_text_files_that_are_not_utf8_say_why(data, says):
    p = text_problem(data, what="the targets file", path=Path("t.csv"))
    assert p is not None and says in p.message, p
    assert p.rule in ("empty-file", "bad-encoding")


def test_utf8_with_a_bom_is_read(tmp_path):
    f = tmp_path / "t.csv"
    f.write_bytes("\ufeffa,b\nPeñasco,1\n".encode())
    assert read_text_bounded(f) == "a,b\nPeñasco,1\n"


# --- formula-safe text ---------------------------------------------------------------------

@pytest.mark.parametrize("v", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-x", "@SUM(A1)", "\tx", "'=a", "''=a",
                               "'a", "plain", "", "'"])
def test_safe_text_round_trips(v):
    s = safe_text(v)
    assert unsafe_text(s) == v
    assert not str(s).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_mapping_files_are_formula_safe_and_read_back_exactly(tmp_path):
    from survey_pipeline.ingest.mapping import ColumnMap, Target, read_mapping, write_mapping

    evil = '=HYPERLINK("http://evil.example","click")'
    targets = {"age": Target("age", "variable", "age", "integer", 0, ("age",))}
    cmap = ColumnMap(targets=targets, columns={"-Age": "age"}, method={"-Age": "exact"}, score={"-Age": 100.0},
                     unmapped=[evil], rejected=[])
    path = tmp_path / "m.csv"
    write_mapping(path, cmap, ["-Age", evil])
    text = path.read_text()
    assert "\n'-Age," in text and "\n'=HYPERLINK" in text.replace('"\'=', "'=").replace("\"'", "'")
    assert not any(line.startswith(("=", "-", "+", "@", '"=')) for line in text.splitlines())
    assert read_mapping(path, targets) == {"-Age": ("age", True), evil: (None, False)}


def test_xlsform_text_cells_are_never_formulas(tmp_path):
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws["A1"] = '=HYPERLINK("http://x","y")'
    ws["A2"] = "plain"
    assert ws["A1"].data_type == "f"  # what openpyxl does with such text on its own
    assert text_cells(ws) == 1
    wb.save(tmp_path / "x.xlsx")
    cell = load_workbook(tmp_path / "x.xlsx")["Sheet"]["A1"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","y")' and cell.quotePrefix


# --- YAML limits -----------------------------------------------------------------------------

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def test_a_billion_laughs_instrument_is_refused(tmp_path):
    from survey_pipeline.errors import InstrumentError
    from survey_pipeline.instrument import load_instrument

    f = tmp_path / "lol.yaml"
    f.write_text(LAUGHS)
    with pytest.raises(InstrumentError) as exc:
        load_instrument(f)
    assert [p.rule for p in exc.value.problems] == ["yaml-too-large"]


def test_many_aliases_are_refused(tmp_path):
    from survey_pipeline.errors import InstrumentError
    from survey_pipeline.instrument import load_instrument

    f = tmp_path / "aliases.yaml"
    f.write_text("a: &a x\nb: [" + ", ".join(["*a"] * 150) + "]\n")
    with pytest.raises(InstrumentError) as exc:
        load_instrument(f)
    assert "more than 100 aliases" in exc.value.render()


# --- the CLI's last line of defence -----------------------------------------------------------

def test_an_unexpected_exception_is_one_message_naming_command_and_step(monkeypatch, capsys, tmp_path):
    import survey_pipeline.run as run_mod
    from survey_pipeline.cli import INTERNAL_ERROR, main

    def boom(*a, **k):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'")
    monkeypatch.setattr(run_mod, "run_project", boom)
    assert main(["run", "--project", str(tmp_path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: [{INTERNAL_ERROR}] survey-pipeline run: an unexpected TypeError")
    assert str(tmp_path) in err and "bug in survey-pipeline" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(["--debug", "run", "--project", str(tmp_path), "--json"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and INTERNAL_ERROR in err
