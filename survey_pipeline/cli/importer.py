"""`survey-pipeline instrument import`: an XLSForm or a codebook -> instrument YAML."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from survey_pipeline.cli._app import err, instrument_app, out
from survey_pipeline.errors import ImportInstrumentError
from survey_pipeline.instrument import validate_instrument
from survey_pipeline.instrument.importer import import_instrument, write_instrument_yaml


@instrument_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="An XLSForm (.xlsx with a 'survey' sheet) or a codebook (.csv/.xlsx: question number, text, value labels)."),
    out_path: Path = typer.Option(..., "--out", help="The instrument YAML to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out when it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Import an XLSForm or a codebook as an instrument YAML, then validate it.

    Ordered rating lists become shared scales, "Don't know"/"Refused" become typed missing codes,
    ids become snake_case. Each role is either guessed (marked '# guessed: why') or left as
    'role: other  # TODO: set role' for you to fill in.

    Example: survey-pipeline instrument import resident_survey_dictionary.csv --out instruments/sd.yaml
    """
    if out_path.exists() and not force:
        raise ImportInstrumentError(f"{out_path}: the file exists; not overwriting it.", file=str(out_path),
                                    rule="output-exists", fix="Pass --force to overwrite, or choose another --out.")
    mapping = import_instrument(file)
    write_instrument_yaml(mapping, out_path)
    inst, problems = validate_instrument(out_path)
    errors = [p for p in problems.items if p.severity == "error"]
    s = mapping.summary
    if as_json:
        out.print(json.dumps({"file": str(file), "out": str(out_path), "valid": not errors, **s,
                              "notes_for_analyst": mapping.notes,
                              "problems": [p.__dict__ for p in problems.items]}, indent=2, ensure_ascii=False),
                  markup=False)
    else:
        table = Table(title=f"{file.name} → {out_path}", show_header=True)
        table.add_column("answer list")
        table.add_column("kind")
        table.add_column("codes", justify="right")
        table.add_column("missing")
        table.add_column("questions", justify="right")
        if inst is not None:
            used: dict[str, int] = {}
            for q in inst.questions():
                if q.answer_list:
                    used[q.answer_list] = used.get(q.answer_list, 0) + 1
            for name, sc in inst.scales.items():
                table.add_row(name, "scale", str(len(sc.codes)),
                              ", ".join(f"{m.code}={k}" for k, m in sc.missing.items()) or "-", str(used.get(name, 0)))
            for name, cl in inst.choice_lists.items():
                table.add_row(name, "choices", str(len(cl.choices)),
                              ", ".join(f"{m.code}={k}" for k, m in cl.missing.items()) or "-", str(used.get(name, 0)))
        out.print(table)
        out.print(f"{s['source']}: {s['questions']} questions, {s['variables']} variables, {len(s['scales'])} scales, "
                  f"{len(s['choice_lists'])} choice lists; roles guessed {s['roles_guessed']}, to set {s['roles_todo']} "
                  "(see '# guessed' and '# TODO: set role' in the YAML).", markup=False)
        for n in mapping.notes:
            out.print(f"note: {n}", markup=False)
        for p in errors:
            err.print(f"error: {p}", markup=False)
    if errors:
        raise typer.Exit(2)
