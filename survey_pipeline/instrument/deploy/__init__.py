"""Deploy an instrument: XLSForm, paper (HTML), codebook (Excel), Qualtrics TXT, LimeSurvey TSV.

:func:`export_instrument` prepares the instrument (modules, languages, the agency's areas and
name) and writes one format. Each format also has a pure builder that returns data (DataFrames
or text) and a writer, so tests and other tools can inspect an export without a file.
"""

from __future__ import annotations

from pathlib import Path

from survey_pipeline.errors import DeployError
from survey_pipeline.instrument.deploy.codebook import build_codebook, write_codebook
from survey_pipeline.instrument.deploy.common import FORMATS, Format, prepare
from survey_pipeline.instrument.deploy.limesurvey import (
    build_limesurvey_tsv,
    limesurvey_code,
    write_limesurvey_tsv,
)
from survey_pipeline.instrument.deploy.paper import build_paper
from survey_pipeline.instrument.deploy.qualtrics import build_qualtrics_txt
from survey_pipeline.instrument.deploy.xlsform import (
    build_xlsform,
    translate_relevant,
    write_xlsform,
)
from survey_pipeline.instrument.model import Areas, Instrument

__all__ = [
    "FORMATS",
    "Format",
    "build_codebook",
    "build_limesurvey_tsv",
    "build_paper",
    "build_qualtrics_txt",
    "build_xlsform",
    "export_instrument",
    "limesurvey_code",
    "prepare",
    "translate_relevant",
    "write_codebook",
    "write_limesurvey_tsv",
    "write_xlsform",
]

SINGLE_LANGUAGE: tuple[str, ...] = ("paper", "qualtrics-txt")
"""Formats that hold one language: give exactly one ``languages`` entry (or none for the default)."""


def check_format(fmt: str) -> Format:
    """``fmt`` if it is a known format, else a :class:`DeployError` naming the allowed ones."""
    if fmt not in FORMATS:
        raise DeployError(f"unknown export format '{fmt}'.", rule="unknown-format",
                          fix=f"Use one of: {', '.join(FORMATS)}.")
    return fmt  # type: ignore[return-value]


def export_instrument(
    inst: Instrument,
    fmt: Format,
    out: str | Path,
    *,
    agency: str | None = None,
    areas: Areas | None = None,
    languages: list[str] | None = None,
    modules: list[str] | None = None,
) -> Path:
    """Write ``inst`` in format ``fmt`` to ``out``.

    Parameters
    ----------
    inst
        A loaded instrument (:func:`survey_pipeline.load_instrument`).
    fmt
        ``xlsform`` (.xlsx), ``paper`` (.html), ``codebook`` (.xlsx), ``qualtrics-txt`` (.txt)
        or ``limesurvey-tsv`` (.txt/.tsv).
    out
        The file to write (its folder must exist).
    agency
        The agency's name, shown on the paper form, the codebook and the XLSForm title.
    areas
        The agency's neighborhoods (:func:`survey_pipeline.instrument.areas.read_areas`); they
        replace the instrument's placeholder areas.
    languages
        A subset of the instrument's languages (default: all; for ``paper`` and
        ``qualtrics-txt`` exactly one, default the instrument's default language).
    modules
        Optional modules to keep (default: all); required modules are always kept.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DeployError
        Unknown format, several languages for a one-language format, a missing output folder.
    InstrumentError
        Unknown module or language.
    """
    fmt = check_format(fmt)
    if fmt in SINGLE_LANGUAGE and languages and len(languages) != 1:
        raise DeployError(f"the {fmt} format holds one language, but {len(languages)} were given "
                          f"({', '.join(languages)}).", rule="one-language",
                          fix="Give exactly one --language, and export once per language.")
    out = Path(out)
    if not out.parent.exists():
        raise DeployError(f"{out}: the folder {out.parent} does not exist.", file=out, rule="no-folder",
                          fix="Create the folder first, or write somewhere else.")
    prepared = prepare(inst, agency=agency, areas=areas, languages=languages, modules=modules)
    if fmt == "xlsform":
        return write_xlsform(build_xlsform(prepared), out)
    if fmt == "codebook":
        return write_codebook(build_codebook(prepared), out)
    if fmt == "limesurvey-tsv":
        return write_limesurvey_tsv(build_limesurvey_tsv(prepared), out)
    if fmt == "paper":
        out.write_text(build_paper(prepared, prepared.language), encoding="utf-8")
        return out
    out.write_text(build_qualtrics_txt(prepared, prepared.language), encoding="utf-8")
    return out
