"""`survey-pipeline ingest` and `survey-pipeline instrument infer`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from survey_pipeline.cli._app import app, instrument_app, out
from survey_pipeline.errors import IngestError
from survey_pipeline.names import check_wave_id
from survey_pipeline.project import MODES, PLATFORMS, check_project


def _summary_table(s) -> Table:
    t = Table(title=f"{Path(s.file).name} -> wave {s.wave} ({s.mode}, {s.platform}): {s.status}", show_header=True)
    t.add_column("what")
    t.add_column("value", overflow="fold")
    t.add_row("rows read", str(s.rows_read))
    t.add_row("rows kept", str(s.rows_kept))
    t.add_row("rows quarantined", str(s.rows_quarantined))
    for reason, n in s.quarantined_by_reason.items():
        t.add_row(f"  quarantined: {reason}", str(n))
    for rule, n in s.flagged_by_rule.items():
        t.add_row(f"  flagged: {rule}", str(n))
    for d, n in s.dispositions.items():
        t.add_row(f"  disposition: {d}", str(n))
    if s.status == "loaded":
        t.add_row("excluded from analysis", str(s.excluded))
        t.add_row("analysed", str(s.analysed))
        t.add_row("columns mapped", f"{s.columns_mapped} ({', '.join(f'{k} {v}' for k, v in s.mapped_by_method.items())})")
        t.add_row("unmapped columns", ", ".join(s.unmapped_columns) or "none")
        for q, d in s.unknown_values.items():
            t.add_row(f"  unknown values: {q}", f"{d['count']} (e.g. {', '.join(map(str, d['examples']))})")
        t.add_row("identifiers dropped", ", ".join(s.identifiers_dropped) or "none")
        if s.redacted:
            t.add_row("identifiers redacted in free text",
                      ", ".join(f"{n} {rule} -> [{rule}]" for rule, n in s.redacted.items()))
        for a, n in s.unknown_areas.items():
            t.add_row(f"  unknown area: {a}", str(n))
        t.add_row("mapping (edit to fix)", s.mapping_file or "")
    for step in s.funnel:
        if step["rows"] or not step["step"].startswith("excluded"):
            t.add_row(f"wave funnel: {step['step']}", str(step["rows"]))
    for r in s.response_rates:
        t.add_row(f"AAPOR {r['area']}", f"RR1 {r['RR1']:.1%}, RR2 {r['RR2']:.1%}, COOP1 {r['COOP1']:.1%}, "
                  f"REF1 {r['REF1']:.1%}, CON1 {r['CON1']:.1%} (I {r['I']}, P {r['P']}, R {r['R']}, invited {r['invited']})")
    for n in s.notes:
        t.add_row("note", n)
    return t


@app.command("ingest")
def ingest_cmd(
    export: Path = typer.Argument(..., help="The platform export (CSV or XLSX)."),
    project: Path = typer.Option(..., "--project", help="The survey project folder (with survey.toml)."),
    wave: str = typer.Option(..., "--wave", help="The wave id."),
    mode: str | None = typer.Option(None, "--mode", help=f"How the answers were collected: {'|'.join(MODES)}. Default: survey.toml, else the platform's "
                                 "distribution channel, else a mode word in the file name, else web (the summary says which)."),
    platform: str = typer.Option("auto", "--platform", help=f"The platform: {'|'.join(PLATFORMS)}."),
    append: bool = typer.Option(False, "--append", help="Add a second file to a wave and mode that already hold one."),
    replace: bool = typer.Option(False, "--replace", help="Load an already loaded file again (after editing its mapping); its earlier rows are replaced."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Read an export, map and recode it to the instrument, flag quality problems and load it into the store.

    Example: survey-pipeline ingest exports/web.csv --project my-survey --wave 2026q1 --mode web
    """
    from survey_pipeline.ingest.pipeline import ingest

    if mode is not None and mode not in MODES:
        raise IngestError(f"--mode '{mode}' is not known.", rule="unknown-mode", fix=f"Use one of: {', '.join(MODES)}.")
    check_wave_id(wave, column="--wave")
    # survey.toml, its files, the instrument and the store's instrument, before anything is read
    project = check_project(project, contents=False)
    if as_json:
        summary = ingest(project, export, wave, mode=mode, platform=platform, append=append, replace=replace)
        out.print(summary.to_json(), markup=False)
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("ingest", total=6)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=step)

        summary = ingest(project, export, wave, mode=mode, platform=platform, append=append, replace=replace,
                         progress=progress)
    out.print(_summary_table(summary))


@instrument_app.command("infer")
def infer_cmd(
    export: Path = typer.Argument(..., help="An export whose instrument was not made with survey-pipeline."),
    out_path: Path = typer.Option(..., "--out", help="Where to write the draft instrument YAML."),
    platform: str = typer.Option("auto", "--platform", help=f"The platform: {'|'.join(PLATFORMS)}."),
    instrument_id: str | None = typer.Option(None, "--id", help="The instrument id (default: from the file name)."),
    codebook: Path | None = typer.Option(None, "--codebook", help="A codebook CSV (variable, question text, value labels like '5 - Excellent, 9 - Don't know')."),
    as_json: bool = typer.Option(False, "--json", help="Print what was inferred as JSON."),
) -> None:
    """Draft an instrument YAML from an export (scales and their positive end, missing codes, grids,
    multi-selects, roles, departments, area columns, a weight column, the mode).

    What the tool is not sure of is applied and marked '# guessed:' in the YAML; roles it cannot
    tell are 'other' with a TODO. The draft validates with 'instrument validate'.

    Example: survey-pipeline instrument infer exports/web.csv --out instruments/draft.yaml
    """
    from survey_pipeline.ingest.infer import infer_instrument

    report = infer_instrument(export, out_path, platform=platform, instrument_id=instrument_id, codebook=codebook)
    if as_json:
        out.print(json.dumps(report, indent=2, ensure_ascii=False), markup=False)
    else:
        areas = ", ".join(f"{a['column']} ({a['level']})" for a in report["area_columns"]) or "none"
        weight = report["weight_column"]["column"] if report["weight_column"] else "none"
        mode = report["mode"]["mode"] if report["mode"] else "not said by the export"
        roles = ", ".join(f"{k} {v}" for k, v in report["roles"].items())
        out.print(f"wrote {out_path}: {report['questions']} questions ({report['grids']} grids, {report['scales']} "
                  f"scales, {report['multi']} multi-select, {report['text']} text, {report['integer']} numeric), "
                  f"{report['skipped_meta']} metadata columns skipped.\nroles: {roles}\nareas: {areas}; weight: {weight}; "
                  f"mode: {mode}\n{report['guessed']} guessed fields are marked '# guessed:'; review them and the "
                  "TODO roles.", markup=False)
