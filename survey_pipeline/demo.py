"""The demo: the bundled fixture city (Riverton) as a survey project, run end to end.

:func:`build_demo_project` copies the fixture city into a project folder with a ``survey.toml``
listing its three waves (Qualtrics, SurveyMonkey and KoboToolbox exports), its invitations per
neighborhood and its census targets. :func:`run_demo` ingests every wave, deploys the resident
template for the city (XLSForm, paper, codebook) and runs every later stage that is installed.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from survey_pipeline.errors import SurveyPipelineError

#: Where the fixture city lives in a source checkout.
FIXTURE_CITY = Path(__file__).resolve().parents[1] / "data" / "fixtures" / "riverton"
DEMO_MARKER = ".survey-pipeline-demo"


class DemoError(SurveyPipelineError):
    """The demo project cannot be built."""


@dataclass
class DemoResult:
    """What the demo did: the project folder, the ingests, the deploy files, and the stages run."""

    project_dir: Path
    ingests: list = field(default_factory=list)
    deployed: list[Path] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    analysis: object | None = None
    reports: list[Path] = field(default_factory=list)


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _season_label(wave: str) -> str:
    """'2025-spring' -> 'Spring 2025' (as a reader says it); other ids title-cased."""
    year, _, season = wave.partition("-")
    if year.isdigit() and season.isalpha():
        return f"{season.title()} {year}"
    return wave.replace("-", " ").title()


def build_demo_project(directory: str | Path, *, fixture: Path = FIXTURE_CITY) -> Path:
    """Copy the fixture city into ``directory`` as a survey project and return its path.

    A folder the demo made before is refreshed (its store is rebuilt); any other non-empty folder
    is refused, so the demo never writes into a user's project.
    """
    root = Path(directory)
    if not (fixture / "ground_truth.json").exists():
        raise DemoError(
            f"the fixture city is not at {fixture}.",
            rule="demo-fixture-missing",
            fix="Run the demo from a source checkout of survey-pipeline (make demo), or regenerate it with "
                "`python data/fixtures/generate.py`.",
        )
    if root.exists() and any(root.iterdir()) and not (root / DEMO_MARKER).exists():
        raise DemoError(
            f"{root} exists and is not a demo folder; the demo will not write into it.",
            file=root, rule="demo-dir-not-empty", fix="Give an empty or new folder with --dir.",
        )
    if root.exists():
        shutil.rmtree(root)
    (root / "exports").mkdir(parents=True)
    (root / "mappings").mkdir()
    (root / DEMO_MARKER).write_text("made by survey-pipeline demo; safe to delete\n", encoding="utf-8")
    for name in ("areas.geojson", "areas.csv", "zip_beat_crosswalk.csv", "census_targets.csv", "invitations.csv"):
        shutil.copyfile(fixture / name, root / name)
    truth = json.loads((fixture / "ground_truth.json").read_text(encoding="utf-8"))

    names = {}
    with (fixture / "areas.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            names[row["code"]] = row["name"]
    invitations: dict[str, dict[str, int]] = {}
    with (fixture / "invitations.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            invitations.setdefault(row["wave"], {})[names.get(row["neighborhood"], row["name"])] = int(row["invited"])

    lines = [
        "# The Riverton demo project (a fictional city; see data/fixtures/README.md).",
        "",
        "[project]",
        'name = "Riverton community survey (demo)"',
        "",
        "[instrument]",
        'path = "resident"',
        "",
        "[areas]",
        'file = "areas.geojson"',
        "",
        "[targets]",
        'file = "census_targets.csv"',
        "",
    ]
    for w in truth["waves"]:
        export = Path(w["file"]).name
        shutil.copyfile(fixture / w["file"], root / "exports" / export)
        lines += [
            "[[waves]]",
            f"id = {_toml_str(w['wave'])}",
            f"label = {_toml_str(_season_label(w['wave']))}",
            'modes = ["web"]',
            f'exports = [{{file = {_toml_str("exports/" + export)}, platform = {_toml_str(w["platform"])}, mode = "web"}}]',
            "[waves.invitations]",
            *[f"{_toml_str(area)} = {n}" for area, n in sorted(invitations.get(w["wave"], {}).items())],
            "",
        ]
    planted = truth.get("planted", {}).get("problem_solving", {})
    lines += [
        "[weighting]",
        'recode = {tenure = {no_rent = "rent"}}   # the census files "no rent paid" with renters',
        "",
        "[analysis]",
        'adjust = "fdr_bh"',
        "",
    ]
    if planted:
        lines += [
            "[[analysis.evaluations]]",
            'name = "Problem-solving effort: litter and street lighting"',
            f"areas = [{', '.join(_toml_str(n) for n in planted['names'])}]",
            f"start_wave = {_toml_str(planted['from_wave'])}",
            "",
        ]
    lines += [
        "[quality]",
        "speeder_fraction = 0.3",
        "",
        "[reporting]",
        "min_n = 30",
        "nchs = true",
        "",
    ]
    (root / "survey.toml").write_text("\n".join(lines), encoding="utf-8")
    return root


def run_demo(directory: str | Path, *, progress=None) -> DemoResult:
    """Build the demo project, run the pipeline on it (ingest, weight, analyze), deploy the
    resident template for the city and write the council report (``report/``: xlsx, html, es html)."""
    from survey_pipeline.ingest.pipeline import ingest
    from survey_pipeline.instrument.areas import read_areas
    from survey_pipeline.instrument.deploy import export_instrument
    from survey_pipeline.project import Project

    root = build_demo_project(directory)
    project = Project.load(root)
    result = DemoResult(project_dir=root)
    for wave in project.waves.values():
        for spec in wave.exports:
            result.ingests.append(ingest(project, root / spec.file, wave.id, mode=spec.mode,
                                         platform=spec.platform, progress=progress))
    result.stages.append("ingest")

    from survey_pipeline.analysis.results import analyze_project

    result.analysis = analyze_project(root)
    result.stages.append("weight and analyze")

    deploy_dir = root / "deploy"
    deploy_dir.mkdir()
    inst = project.instrument_model
    areas = read_areas(root / "areas.geojson")
    for fmt, name, languages in (
        ("xlsform", "resident_xlsform.xlsx", None),
        ("paper", "resident_paper_en.html", ["en"]),
        ("paper", "resident_paper_es.html", ["es"]),
        ("paper", "resident_paper_vi.html", ["vi"]),
        ("codebook", "resident_codebook.xlsx", None),
    ):
        out = deploy_dir / name
        export_instrument(inst, fmt, out, agency="City of Riverton", areas=areas, languages=languages)
        result.deployed.append(out)
    result.stages.append("deploy")

    from survey_pipeline.report import write_report

    report_dir = root / "report"
    report_dir.mkdir()
    for name, language in (("riverton_report.xlsx", "en"), ("riverton_report.html", "en"),
                           ("riverton_informe_es.html", "es"), ("riverton_bao_cao_vi.html", "vi")):
        write_report(root, report_dir / name, language=language)
        result.reports.append(report_dir / name)
    result.stages.append("report")
    return result
