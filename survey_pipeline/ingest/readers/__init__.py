"""Platform readers: a survey export file (CSV or XLSX) to a :class:`RawExport` of text cells.

Public API: :func:`read_export`, :func:`detect_platform`, :class:`RawExport`, :class:`RawColumn`,
:func:`parse_timestamps`, :func:`split_multi`.
"""

from __future__ import annotations

from survey_pipeline.ingest.readers._model import (
    META_FIELDS,
    PLATFORMS,
    Platform,
    RawColumn,
    RawExport,
)
from survey_pipeline.ingest.readers._read import detect_platform, read_export
from survey_pipeline.ingest.readers.multi import split_multi
from survey_pipeline.ingest.readers.timestamps import parse_timestamps

__all__ = [
    "META_FIELDS",
    "PLATFORMS",
    "Platform",
    "RawColumn",
    "RawExport",
    "detect_platform",
    "parse_timestamps",
    "read_export",
    "split_multi",
]
