"""Bad project files: each gives one clear message and exit 2 for run, weight, analyze and report.

One real project (the Riverton demo, ingested and analysed once per session) is copied once; each
case rewrites its survey.toml (and the file the case breaks), runs the four commands through the
CLI, and restores it. A traceback, an internal error (the CLI's last line of defence) or an exit
code other than 2 fails the case; so does a store that changed.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from survey_pipeline.cli import INTERNAL_ERROR, main

COMMANDS = ("run", "weight", "analyze", "report")
ZEROS = b"\x00" * 4096
TARGETS_HEADER = "wave,area,variable,category,population\n"
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def _sub(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


def _waves_replaced(new: str):
    def edit(text: str) -> str:  # a top-level key: before the first table
        head = text.split("[[waves]]", 1)[0]
        return new + "\n" + head
    return edit


def _targets(name: str):
    return _sub('file = "census_targets.csv"', f'file = "{name}"')


def _areas(name: str):
    return _sub('file = "areas.geojson"', f'file = "{name}"')


# name, edit of survey.toml, {file: bytes} written in the project, expected rule in the message
CASES = [
    ("toml syntax error", _sub("[instrument]", "[instrument"), {}, "bad-toml"),
    ("toml unclosed string", _sub('path = "resident"', 'path = "resident'), {}, "line"),
    ("instrument path = 5", _sub('path = "resident"', "path = 5"), {}, "instrument.path"),
    ("instrument path = list", _sub('path = "resident"', 'path = ["resident"]'), {}, "instrument.path"),
    ("targets file = 5", _sub('file = "census_targets.csv"', "file = 5"), {}, "targets.file"),
    ("modes = 5", _sub('modes = ["web"]', "modes = 5"), {}, "modes"),
    ("waves = [1, 2]", _waves_replaced("waves = [1, 2]"), {}, "column 'waves[0]'"),
    ("unknown key", _sub("[quality]", '[quality]\ncolour = "red"'), {}, "unknown-key"),
    ("unknown section", lambda t: t + '\n[extras]\nx = 1\n', {}, "unknown-key"),
    ("nested 10,000 deep", lambda t: t + "\n[extras]\nx = " + "[" * 10_000 + "]" * 10_000 + "\n", {},
     "toml-too-deep"),
    ("wave id <script>", _sub('id = "2024-spring"', 'id = "<script>"'), {}, "bad-wave-id"),
    ("wave id empty", _sub('id = "2024-spring"', 'id = ""'), {}, "bad-wave-id"),
    ("wave id ../../x", _sub('id = "2024-spring"', 'id = "../../x"'), {}, "bad-wave-id"),
    ("wave defined twice", _sub('id = "2025-spring"', 'id = "2024-spring"'), {}, "duplicate-wave"),
    ("unknown mode", _sub('modes = ["web"]', 'modes = ["carrier-pigeon"]'), {}, "unknown-mode"),
    ("targets empty", _targets("t.csv"), {"t.csv": b""}, "empty-file"),
    ("targets UTF-16", _targets("t.csv"), {"t.csv": (TARGETS_HEADER + "all,city,sex,female,1\n").encode("utf-16")},
     "UTF-16"),
    ("targets UTF-16 without BOM", _targets("t.csv"),
     {"t.csv": (TARGETS_HEADER + "all,city,sex,female,1\n").encode("utf-16-le")}, "NUL"),
    ("targets cp1252", _targets("t.csv"),
     {"t.csv": (TARGETS_HEADER + "all,Peñasco,sex,female,1\n").encode("cp1252")}, "Windows-1252"),
    ("targets all zeros", _targets("t.csv"), {"t.csv": ZEROS}, "NUL"),
    ("targets a directory", _targets("exports"), {}, "directory"),
    ("targets /etc/passwd", _targets("/etc/passwd"), {}, "path-outside-project"),
    ("targets /dev/zero", _targets("/dev/zero"), {}, "path-outside-project"),
    ("targets ../ escape", _targets("../outside.csv"), {}, "path-outside-project"),
    ("targets wrong columns", _targets("t.csv"), {"t.csv": b"a,b\n1,2\n"}, "missing column"),
    ("targets missing", _targets("nope.csv"), {}, "missing-file"),
    ("areas /dev/zero", _areas("/dev/zero"), {}, "path-outside-project"),
    ("areas empty", _areas("a.csv"), {"a.csv": b""}, "empty-file"),
    ("areas UTF-16", _areas("a.csv"), {"a.csv": "neighborhood,district\nA,1\n".encode("utf-16")}, "UTF-16"),
    ("areas without names", _areas("a.csv"), {"a.csv": b"x,y\n1,2\n"}, "neighborhood"),
    ("instrument YAML syntax", _sub('path = "resident"', 'path = "inst.yaml"'),
     {"inst.yaml": b"id: x\nmodules: [\n  - a: b\n c\n"}, "yaml-syntax"),
    ("instrument billion laughs", _sub('path = "resident"', 'path = "inst.yaml"'),
     {"inst.yaml": LAUGHS.encode()}, "yaml-too-large"),
    ("instrument a directory", _sub('path = "resident"', 'path = "exports/"'), {}, "directory"),
    ("instrument unknown template", _sub('path = "resident"', 'path = "residentt"'), {}, "unknown-template"),
    ("swapped instrument", _sub('path = "resident"', 'path = "partner"'), {}, "holds responses of instrument"),
    ("survey.toml UTF-16", lambda t: t, {"survey.toml": "[project]\nname = 'x'\n".encode("utf-16")}, "UTF-16"),
]


@pytest.fixture(scope="module")
def project(demo_project, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-project") / "riverton"
    shutil.copytree(demo_project, root)
    return root


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("name", "edit", "files", "expect"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_project_file_gives_one_message_and_exit_2(project, capsys, name, edit, files, expect):
    toml = project / "survey.toml"
    good = toml.read_text(encoding="utf-8")
    store = project / "warehouse.duckdb"
    before = _digest(store)
    try:
        toml.write_text(edit(good), encoding="utf-8")
        for fname, data in files.items():
            (project / fname).write_bytes(data)
        for cmd in COMMANDS:
            args = [cmd, "--project", str(project)] + (["--out", str(project / "r.xlsx")] if cmd == "report" else [])
            if cmd in ("run", "analyze"):
                args += ["--json"]
            rc = main(args)
            out, err = capsys.readouterr()
            assert rc == 2, f"{name}: {cmd} exited {rc}\n{out}\n{err}"
            assert err.startswith("error: "), f"{name}: {cmd}: {err!r}"
            assert "Traceback" not in err and INTERNAL_ERROR not in err, f"{name}: {cmd}: {err}"
            assert expect in err, f"{name}: {cmd}: expected {expect!r} in:\n{err}"
            assert err.count("\nerror: ") == 0, f"{name}: {cmd}: more than one message:\n{err}"
    finally:
        toml.write_text(good, encoding="utf-8")
        for fname in files:
            if fname != "survey.toml":
                (project / fname).unlink(missing_ok=True)
    assert _digest(store) == before, f"{name}: the store changed"
    assert not (project / "r.xlsx").exists()


def test_the_good_project_still_reports(project, capsys):
    """The copy the cases break is a working project (so each case fails because of its file)."""
    assert main(["report", "--project", str(project), "--out", str(project / "ok.xlsx")]) == 0
    assert (project / "ok.xlsx").stat().st_size > 0


@pytest.mark.parametrize("wave", ["../../x", "/", "", "<script>", "w" * 41, "a b"])
def test_ingest_refuses_a_wave_id_that_would_become_a_bad_path(project, capsys, wave):
    export = next((project / "exports").iterdir())
    before = sorted(p.name for p in (project / "mappings").iterdir())
    rc = main(["ingest", str(export), "--project", str(project), "--wave", wave, "--mode", "web"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and "bad-wave-id" in err and "2026-spring" in err, err
    assert sorted(p.name for p in (project / "mappings").iterdir()) == before
    assert not (project.parent.parent / "x.csv").exists() and not list(project.parent.glob("*__*.csv"))


def test_ingest_refuses_a_swapped_instrument(project, capsys):
    toml = project / "survey.toml"
    good = toml.read_text(encoding="utf-8")
    try:
        toml.write_text(good.replace('path = "resident"', 'path = "partner"'), encoding="utf-8")
        export = next((project / "exports").iterdir())
        rc = main(["ingest", str(export), "--project", str(project), "--wave", "2027-spring", "--mode", "web"])
        err = capsys.readouterr().err
        assert rc == 2 and "holds responses of instrument 'resident'" in err, err
    finally:
        toml.write_text(good, encoding="utf-8")
