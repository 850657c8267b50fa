"""The contract the readers hand to the rest of ingestion: :class:`RawColumn` and :class:`RawExport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

Platform = Literal[
    "qualtrics", "surveymonkey", "google_forms", "ms_forms", "kobo", "odk", "limesurvey", "generic"
]
PLATFORMS: tuple[str, ...] = get_args(Platform)

Role = Literal["meta", "answer", "split"]

#: The standard metadata fields a reader can fill in ``RawExport.meta``.
META_FIELDS: tuple[str, ...] = (
    "response_id", "start", "end", "submitted", "duration_s", "status", "finished", "progress",
    "language", "ip", "email", "name", "phone", "latitude", "longitude", "recipient_first",
    "recipient_last", "recipient_email", "external_ref", "recaptcha_score", "duplicate_score",
    "fraud_score", "distribution_channel", "collector", "uuid", "index", "lastpage",
)


@dataclass
class RawColumn:
    """One column of a platform export, as the platform wrote it.

    Attributes
    ----------
    name
        Unique column name in :attr:`RawExport.frame`. Duplicate headers are renamed the way
        pandas does (``Q1``, ``Q1.1``...) and the original recorded in ``duplicate_of``.
    header
        The original text of the (first) header row; ``''`` when that cell was empty.
    text
        The question text when the export carries it (Qualtrics 2nd row, SurveyMonkey 1st row,
        Google Forms and Microsoft Forms headers, LimeSurvey full headings).
    key
        The platform's key: Qualtrics ImportId (``QID12_3``), Kobo/ODK XML name path
        (``group_x/question``), LimeSurvey question code.
    sub
        The sub-part: SurveyMonkey 2nd-row option or sub-field, a grid row (``Question [Row]``),
        a LimeSurvey subquestion (``SQ001``), the option of a Kobo/ODK split column, ``TEXT`` for
        a Qualtrics ``_TEXT`` column.
    role
        ``meta`` (platform metadata), ``answer``, or ``split`` (a 0/1 column of one option of a
        select-multiple question).
    position
        0-based position in the file.
    duplicate_of
        For a renamed duplicate header, the header it duplicates; else ``None``.
    timezone
        The time zone the platform says a timestamp column is in (Qualtrics ImportId
        ``"timeZone"``); else ``None``.
    """

    name: str
    header: str
    text: str | None
    key: str | None
    sub: str | None
    role: Role
    position: int
    duplicate_of: str | None = None
    timezone: str | None = None


@dataclass
class RawExport:
    """A platform export read as text, with what the reader learned about it.

    Every cell of ``frame`` is a ``str`` or ``None`` (an empty cell): nothing is typed at read
    time, so nothing is lost; the recode step interprets values.

    Attributes
    ----------
    file
        The file read.
    platform
        The platform detected (or given).
    frame
        One row per response, columns named by :attr:`RawColumn.name`.
    columns
        One :class:`RawColumn` per column of ``frame``, in order.
    source_rows
        For each row of ``frame``, its 1-based row number in the source file, header rows included:
        the CSV record number (the row a spreadsheet shows; a quoted cell spanning several lines
        stays one row) or the Excel row.
    meta
        Standard field (see :data:`META_FIELDS`) -> column name, for those the export has.
    header_rows
        Number of header rows before the first response.
    encoding
        Text encoding used (``utf-8``, ``utf-8-sig``, ``cp1252``, ``latin-1``, ``utf-16``);
        ``None`` for XLSX.
    delimiter
        CSV delimiter; ``None`` for XLSX.
    rejected
        Source rows that could not be read (1-based row, reason), for the quarantine.
    notes
        What the reader decided, in plain words.
    sheet
        For XLSX, the worksheet read; else ``None``.
    """

    file: Path
    platform: Platform
    frame: pd.DataFrame
    columns: list[RawColumn]
    source_rows: np.ndarray
    meta: dict[str, str]
    header_rows: int
    encoding: str | None
    delimiter: str | None
    rejected: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sheet: str | None = None

    def column(self, name: str) -> RawColumn:
        """The :class:`RawColumn` called ``name``; ``KeyError`` when there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def rows_in(self) -> int:
        """Data rows the file holds: rows read plus rows rejected."""
        return len(self.frame) + len(self.rejected)
