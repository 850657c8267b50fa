"""``read_export`` and ``detect_platform``: a platform export file to a :class:`RawExport`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from survey_pipeline.errors import IngestError
from survey_pipeline.ingest.readers._model import PLATFORMS, RawExport
from survey_pipeline.ingest.readers._platforms import annotate, detect
from survey_pipeline.ingest.readers._source import _read_csv, read_table

_DETECT_BYTES = 1 << 20


def _trailing_empty(frame) -> int:
    """Number of rows at the end of ``frame`` whose cells are all empty (``None``)."""
    n = len(frame)
    end, step = n, 8
    while end > 0:
        start = max(0, end - step)
        filled = np.flatnonzero(frame.iloc[start:end].notna().any(axis=1).to_numpy())
        if len(filled):
            return n - (start + int(filled[-1]) + 1)
        end, step = start, step * 4
    return n


def _check_platform(path: Path, platform: str) -> None:
    if platform != "auto" and platform not in PLATFORMS:
        raise IngestError(
            f"{path}: unknown platform '{platform}'.", file=path, rule="option",
            fix=f"Use one of: auto, {', '.join(PLATFORMS)}.",
        )


RAGGED_REFUSE_SHARE = 0.1
"""Above this share of a file's data rows (and 5 rows) with a wrong cell count, the file is refused."""


def _refuse_if_mostly_ragged(path: Path, reasons: dict[int, str], n_rows: int, rows: np.ndarray,
                             delimiter: str | None) -> None:
    """Refuse a file where many rows have another cell count than the header: the delimiter
    changes inside the file, or the quoting is broken; quarantining would hide a broken file."""
    ragged = sorted(i for i, r in reasons.items() if r.startswith("ragged"))
    if len(ragged) >= 5 and len(ragged) > RAGGED_REFUSE_SHARE * max(n_rows, 1):
        shown = ", ".join(str(int(rows[i])) for i in ragged[:10])
        raise IngestError(
            f"{path}: {len(ragged)} of {n_rows} data rows have another number of cells than the header "
            f"(rows {shown}{' ...' if len(ragged) > 10 else ''}), with delimiter {delimiter!r}: the delimiter "
            "changes inside the file, or quotes are broken.",
            file=path, rule="ragged-file",
            fix=f"Open the file in a text editor at row {int(rows[ragged[0]])}, make every row use the same delimiter "
                "and close every quote, or export the responses again from the survey platform.")


def detect_platform(path: str | Path) -> str:
    """Name the survey platform that wrote ``path``, from its header rows (never its file name).

    Parameters
    ----------
    path
        A CSV or XLSX export.

    Returns
    -------
    str
        One of ``qualtrics``, ``surveymonkey``, ``google_forms``, ``ms_forms``, ``kobo``, ``odk``,
        ``limesurvey`` or ``generic``.

    Raises
    ------
    IngestError
        When the file cannot be read (see :func:`read_export`).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > _DETECT_BYTES:
        with path.open("rb") as fh:
            raw = fh.read(_DETECT_BYTES)
        if not raw.startswith(b"PK"):
            cut = raw.rfind(b"\n")
            table = _read_csv(path, raw[: cut + 1] if cut > 0 else raw)
            return detect(table.head)[0]
    return detect(read_table(path).head)[0]


def read_export(path: str | Path, platform: str = "auto") -> RawExport:
    """Read a survey platform's CSV or XLSX export, every cell as text.

    The platform and its header rows are recognised from the file itself; every data row ends up
    either in ``frame`` or in ``rejected`` (with the reason), never dropped silently.

    Parameters
    ----------
    path
        The export file: CSV (any of ``, ; tab |`` as delimiter; UTF-8 with or without BOM,
        UTF-16 with BOM, Windows-1252 or latin-1) or XLSX.
    platform
        ``"auto"`` to detect, or one of the platform names to impose it.

    Returns
    -------
    RawExport

    Raises
    ------
    IngestError
        Wrong file type (PDF, ZIP, legacy or password-protected workbook), empty file, damaged
        workbook, unknown ``platform``. Duplicate headers and ragged rows are not errors: they are
        renamed, padded or rejected row by row, and noted.
    """
    path = Path(path)
    _check_platform(path, platform)
    table = read_table(path)
    if not table.head:
        raise IngestError(
            f"{path}: the file has no header row (only blank lines).", file=path, rule="file-empty",
            fix="Export the responses again from the survey platform; the download may have failed.",
        )
    detected, k, why = detect(table.head)
    notes: list[str] = []
    if platform == "auto":
        chosen = detected
        notes.append(f"detected {detected} from {why}; {k} header row(s)")
    else:
        chosen = platform
        if detected != platform and k > 1:
            raise IngestError(
                f"{path}: --platform {platform} was given, but the file's headers are {detected}'s ({why}), with {k} "
                f"header rows; read as {platform}, {k - 1} of them would be stored as responses.",
                file=path, rule="platform-mismatch",
                fix=f"Leave --platform out (the platform is detected from the headers), or pass --platform {detected}.")
        if detected != platform:
            k = 1
            notes.append(f"platform given as {platform}; the headers look {detected} ({why}); read 1 header row")
        else:
            notes.append(f"platform {platform} (given; the headers agree: {why}); {k} header row(s)")

    header_recs = table.head[:k]
    last_header = table.head_rows[k - 1] - 1  # 0-based record index
    lens = table.lens
    skipped_above = int((lens[:last_header + 1] > 0).sum()) - k
    if skipped_above:
        notes.append(f"{skipped_above} row(s) with no text above or between the header rows skipped")
    data_idx = np.arange(last_header + 1, len(lens))
    d_lens = lens[data_idx]
    is_csv = table.delimiter is not None
    header_len = max(int(lens[r - 1]) for r in table.head_rows[:k])
    named = max((max((i + 1 for i, c in enumerate(r) if c), default=0) for r in header_recs), default=0)

    reasons: dict[int, str] = {}
    if is_csv:
        # too many cells: fine when the extra ones are empty and most rows have them (a writer that
        # ends every line with a delimiter); else rejected: one stray delimiter inside a row shifts
        # every later cell, and when the row's last cell was empty the extra cell is empty too
        long_idx = data_idx[d_lens > header_len]
        if len(long_idx):
            filled = table.filled(long_idx)
            systematic = len(long_idx) >= 0.5 * max(int((d_lens > 0).sum()), 1)
            for i, f in zip(long_idx, filled, strict=True):
                if f > header_len:
                    reasons[int(i)] = f"ragged: {int(lens[i])} cells, header has {header_len}"
                elif not systematic:
                    reasons[int(i)] = (f"ragged: {int(lens[i])} cells, header has {header_len} (an extra delimiter "
                                       "shifts the cells after it)")
        # too few: a missing delimiter shifts every later cell into the wrong column; never padded
        short_idx = data_idx[(d_lens > 0) & (d_lens < header_len)]
        if len(short_idx):  # (a short row of empty cells shifts nothing: read, then quarantined as empty)
            for i in short_idx[table.filled(short_idx) > 0]:
                reasons[int(i)] = f"ragged: {int(lens[i])} cells, header has {header_len} (a missing delimiter or a cut row)"
        _refuse_if_mostly_ragged(path, reasons, int((d_lens > 0).sum()), table.rows, table.delimiter)
        width = max(header_len, 1)
    else:  # a workbook has no delimiters: a filled cell right of the header is an unnamed column
        width = max(named, int(d_lens.max()) if len(d_lens) else 0, 1)
    for row, why_bad in table.bad_cells.items():
        i = row - 1
        if i > last_header and i not in reasons:
            reasons[i] = why_bad
        elif i <= last_header:
            notes.append(f"header row {row}: {why_bad}; the header is read as empty")
    bad_mask = np.zeros(len(lens), dtype=bool)
    if reasons:
        bad_mask[np.fromiter(reasons, dtype=np.int64)] = True
    blank = d_lens == 0
    if is_csv:
        # a line with no cells at all is not a row a spreadsheet wrote (a line-ending artifact such
        # as \r\r\n): skipped. A row of empty cells (",,,") is a row: read, quarantined by ingest.
        keep = data_idx[~blank & ~bad_mask[data_idx]]
        if blank.any():
            notes.append(f"{int(blank.sum())} blank line(s) between responses skipped")
    else:
        # an empty worksheet row between responses is a row, as the ",,," row Excel writes for it
        # in a CSV: read (all cells empty), so ingest quarantines it as an empty row
        keep = data_idx[~bad_mask[data_idx]]
    if reasons:
        notes.append(f"{len(reasons)} row(s) rejected (see rejected)")

    grid = table.load(width)
    notes[1:1] = table.notes  # after load: the loader notes a fallback parse
    if len(keep) and keep[-1] - keep[0] + 1 == len(keep):  # one block of rows: slice, no copy
        frame = grid.iloc[int(keep[0]): int(keep[-1]) + 1]
    else:
        frame = grid.iloc[keep]
    frame = frame.reset_index(drop=True)
    # rows with no content after the last response (and after the last rejected row) are not
    # responses: a spreadsheet's formatted empty rows, trailing delimiter-only lines
    after_rejected = int((keep > max(reasons)).sum()) if reasons else len(keep)
    trailing = min(_trailing_empty(frame), after_rejected)
    if trailing:
        frame = frame.iloc[: len(frame) - trailing]
        keep = keep[: len(keep) - trailing]
        notes.append(f"{trailing} row(s) with no content after the last response ignored")
    if not is_csv:
        inner = int((lens[keep] == 0).sum())
        if inner:
            notes.append(f"{inner} empty row(s) between responses read as empty rows (ingest quarantines them as 'empty row')")
    for j in range(frame.shape[1], width):  # no record in the file is as wide as the header
        frame[j] = None
    # trailing columns with neither a header nor any data (trailing delimiters) are dropped
    trimmed = width
    while trimmed > max(named, 1) and frame[trimmed - 1].isna().all():
        trimmed -= 1
    if trimmed < width:
        frame = frame.iloc[:, :trimmed]
        notes.append(f"{width - trimmed} trailing column(s) with no header and no data ignored")
        width = trimmed

    columns, meta, col_notes = annotate(chosen, header_recs, width)
    notes.extend(col_notes)
    frame.columns = [c.name for c in columns]
    rejected = sorted((int(table.rows[i]), r) for i, r in reasons.items())
    return RawExport(
        file=path, platform=chosen, frame=frame, columns=columns,
        source_rows=table.rows[keep].astype(np.int64), meta=meta, header_rows=k,
        encoding=table.encoding, delimiter=table.delimiter, rejected=rejected, notes=notes,
        sheet=table.sheet,
    )
