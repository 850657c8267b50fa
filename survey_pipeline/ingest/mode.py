"""The mode of an export when ``--mode`` and ``survey.toml`` do not say it.

In this order: the platform's own record of how each response came in (Qualtrics
``DistributionChannel``: ``anonymous``, ``email``, ``gl``, ``social``, ``qr``, ``sms`` are web
links, ``offline`` is the Qualtrics Offline App used face to face), when it is unanimous among
the rows that are not previews or tests and previews are rare (paper questionnaires keyed in by
staff come through the preview link, so a file of mostly previews says nothing certain); then a
mode word in the file name (``mail``, ``paper``, ``phone``, ``web``, ``online``,
``in_person``...); else the default, ``web``. Each answer comes with the sentence the ingest
summary prints.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

__all__ = ["DEFAULT_MODE", "detect_mode", "mode_from_channel", "mode_from_name"]

DEFAULT_MODE = "web"
"""The mode of an export nothing else says the mode of (stated in the ingest summary)."""

CHANNEL_MODES = {"anonymous": "web", "email": "web", "gl": "web", "social": "web", "qr": "web", "sms": "web",
                 "personal": "web", "personallink": "web", "web": "web", "offline": "in_person"}
_NOT_CASES = {"preview", "test", "simulation"}
_PREVIEW_MAX_SHARE = 0.1
_NAME_WORDS = [("mail", r"mail|paper|postal|correo"), ("phone", r"phone|cati|telephone|ivr"),
               ("in_person", r"in[ _-]?person|intercept|capi|face[ _-]?to[ _-]?face|door"),
               ("web", r"web|online|internet|cawi")]


def mode_from_channel(values: pd.Series, column: str = "DistributionChannel") -> tuple[str, str] | None:
    """``(mode, why)`` from a distribution-channel column, or None when it is not certain."""
    v = values.dropna().astype(str).str.strip().str.casefold()
    v = v[v.isin(list(CHANNEL_MODES) + list(_NOT_CASES))]  # drops Qualtrics' 2nd/3rd header rows
    if v.empty:
        return None
    previews = v.isin(list(_NOT_CASES))
    cases = v[~previews].map(CHANNEL_MODES)
    if cases.empty or previews.mean() > _PREVIEW_MAX_SHARE or cases.nunique() != 1:
        return None
    mode = str(cases.iloc[0])
    seen = ", ".join(f"{k} {n}" for k, n in v.value_counts().items())
    return mode, f"mode {mode}: from the platform's {column} column ({seen})"


def mode_from_name(path: str | Path) -> tuple[str, str] | None:
    """``(mode, why)`` from a mode word in the file name, or None (no word, or words of two modes)."""
    stem = Path(path).name.casefold()
    hits = [m for m, pat in _NAME_WORDS if re.search(rf"(^|[^a-z])({pat})", stem)]
    hits = [m for m in hits if not (m == "web" and "mail" in hits and "email" in stem)]
    if len(set(hits)) != 1:
        return None
    return hits[0], f"mode {hits[0]}: from the file name '{Path(path).name}'"


def _channel_column(path: Path) -> tuple[str, pd.Series] | None:
    want = {"distributionchannel", "distribution channel", "distribution_channel"}
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            df = pd.read_excel(path, dtype=str, usecols=lambda c: str(c).strip().casefold() in want)
        else:
            sep = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
            df = None
            for enc in ("utf-8-sig", "cp1252"):
                try:
                    df = pd.read_csv(path, dtype=str, sep=sep, encoding=enc, keep_default_na=False,
                                     usecols=lambda c: str(c).strip().casefold() in want)
                    break
                except UnicodeDecodeError:
                    continue
    except (OSError, ValueError, ImportError, pd.errors.ParserError):
        return None
    if df is None or df.shape[1] == 0:
        return None
    return str(df.columns[0]), df.iloc[:, 0]


def detect_mode(path: str | Path) -> tuple[str, str]:
    """``(mode, why)`` of an export whose mode nobody gave: channel, file name, else the default."""
    path = Path(path)
    got = _channel_column(path)
    if got is not None:
        found = mode_from_channel(got[1], got[0])
        if found is not None:
            return found
    found = mode_from_name(path)
    if found is not None:
        return found
    return DEFAULT_MODE, (f"mode {DEFAULT_MODE}: the default, because neither --mode, survey.toml, the platform's "
                          f"distribution channel nor the file name says the mode of {path.name} "
                          "(give it with --mode or under the wave's exports in survey.toml)")
