"""Suite-wide test settings, and the demo project built once per session (``demo_project``).

Property tests explore new random examples on every local run (that is how they find bugs); on CI
(``CI`` set) they run a fixed, derandomized sequence so a landing never depends on luck. A
failure found locally becomes an explicit regression test.

``make test`` runs the suite on two processes (pytest-xdist, ``--dist loadgroup``): the browser
tests and every test that uses one of the session-built projects below share one process (group
``shared-projects``), so those projects are built once and only one Dash test server (port 8050)
runs at a time; every other file's tests run together, in order, in one process, the files spread
over both.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_PROJECTS = {"demo_project", "program_template", "program_project", "results_project", "program20"}


def pytest_collection_modifyitems(config, items):
    browser = Path(__file__).parent / "browser"
    loadgroup = bool(getattr(config.option, "loadgroup", False))
    for item in items:
        if Path(str(item.fspath)).is_relative_to(browser) or SHARED_PROJECTS & set(getattr(item, "fixturenames", ())):
            group = "shared-projects"
        else:  # a file's tests stay together and in order (some build on the test before them)
            group = Path(str(item.fspath)).relative_to(Path(__file__).parent).as_posix()
        item.add_marker(pytest.mark.xdist_group(group))
        if loadgroup and "@" not in item.nodeid and hasattr(item, "_nodeid"):
            # what pytest-xdist does with the marker, done here too: its own hook may run before this
            # one. (pytest 9.2 keeps node ids elsewhere and xdist 3.8's groups do nothing: pyproject.toml
            # keeps pytest below 9.2)
            item._nodeid = f"{item.nodeid}@{group}"


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory):
    """The Riverton demo project, built and run once per session (ingest, weight, analyze; no
    deploy files, no dashboard served): a real project folder with a store full of results."""
    from survey_pipeline.demo import build_demo_project
    from survey_pipeline.run import run_project

    root = build_demo_project(tmp_path_factory.mktemp("demo") / "riverton")
    run_project(root)
    return root


@pytest.fixture(scope="session")
def program_template(tmp_path_factory):
    """A generated program of three small agencies (two waves of ~220 responses each) with an
    outside reference in benchmarks.csv; not run (copy it before running)."""
    from data.fixtures.program_gen import make_program

    root = tmp_path_factory.mktemp("program") / "template"
    make_program(root, 3, waves=2, responses=220, seed=11)
    (root / "benchmarks.csv").write_text(
        "indicator,statistic,value,low,high,se,source,year\n"
        "sat_police_overall,share,0.61,0.58,0.64,,Gallup confidence in police,2024\n"
        "safe_nbhd_night,share,0.70,,,0.01,Vendor norms,2025\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def program_project(program_template, tmp_path_factory):
    """:func:`program_template` copied and run once per session on local processes: every
    member's store holds its results and its benchmarks."""
    import shutil

    from survey_pipeline.program import run_program

    root = tmp_path_factory.mktemp("program-run") / "p"
    shutil.copytree(program_template, root)
    res = run_program(root, jobs=2)
    assert [m["status"] for m in res.members] == ["ran"] * 3, res.members
    return root


@pytest.fixture(scope="session")
def program20(tmp_path_factory):
    """A generated program of twenty agencies, run once per session by the CLI (``program run
    --jobs 2``), with the Gallup reference in benchmarks.csv. Light members (two waves of ~150
    responses, no demographic breakdowns or small-area models: ``program_gen --light``) keep it
    to about half a minute on two cores; the benchmarks read only the city-wide headline
    estimates, which do not depend on those."""
    from data.fixtures.program_gen import make_program
    from survey_pipeline.cli import main

    root = tmp_path_factory.mktemp("program20") / "p"
    make_program(root, 20, waves=2, responses=150, seed=5, light=True)
    (root / "benchmarks.csv").write_text(
        "indicator,statistic,value,low,high,se,source,year\n"
        "sat_police_overall,share,0.61,0.58,0.64,,Gallup confidence in police,2024\n", encoding="utf-8")
    assert main(["program", "run", str(root), "--jobs", "2"]) == 0
    return root
