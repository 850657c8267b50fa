"""Timestamps as the survey platforms write them, parsed into timezone-aware datetimes."""

from __future__ import annotations

import pandas as pd

_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_SLASH = r"^\d{1,2}/\d{1,2}/\d{2,4}(?:,? \d{1,2}:\d{2}(?::\d{2})?(?: ?[AaPp]\.?[Mm]\.?)?)?$"
_DOT = r"^\d{1,2}\.\d{1,2}\.\d{2,4}(?:,? \d{1,2}:\d{2}(?::\d{2})?)?$"
_DOT_FORMATS = [f"%d.%m.{y}{t}" for y in ("%Y", "%y") for t in (" %H:%M:%S", " %H:%M", "")]
_SERIAL = r"^\d{4,5}(?:\.\d+)?$"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


_FIRST_YEAR, _LAST_YEAR = 1900, 2199
"""Timestamps outside these years are not survey times (a damaged cell, year 9999): NaT."""


def _clip(vals: pd.Series) -> pd.Series:
    """``vals`` (datetimes of any unit) with years outside 1900-2199 as NaT, in nanoseconds."""
    years = vals.dt.year
    vals = vals.where((years >= _FIRST_YEAR) & (years <= _LAST_YEAR))
    return vals.dt.as_unit("ns")


def _slash_formats(dayfirst: bool) -> list[str]:
    d = "%d/%m" if dayfirst else "%m/%d"
    out = []
    for year in ("%Y", "%y"):
        for time in (" %I:%M:%S %p", " %I:%M %p", " %H:%M:%S", " %H:%M", ""):
            out.append(f"{d}/{year}{time}")
    return out


def parse_timestamps(series: pd.Series, *, tz: str = "UTC", dayfirst: bool | None = None) -> pd.Series:
    """Parse platform timestamps into a timezone-aware datetime Series.

    Understands, value by value:

    - ISO 8601 with ``T`` or a space, with or without seconds and fractions (Qualtrics
      ``2024-03-01 10:15:00``, LimeSurvey), with an offset or ``Z`` (KoboToolbox
      ``2024-03-01T10:15:00.000-05:00``, ODK Central ``2024-03-01T15:15:00.000Z``);
    - US month/day/year with an optional 24-hour or AM/PM time (Google Forms, SurveyMonkey,
      Microsoft Forms: ``3/1/2024 10:15:03``, ``03/01/2024 10:15:00 AM``), or day/month/year
      (``14/8/2024 16:30``, as regional Excel saves them) when ``dayfirst``;
    - day.month.year with an optional 24-hour time, always day first (``01.03.2024 10:15``, as
      German, Russian or Scandinavian settings write them, e.g. a German Microsoft Forms export);
    - Excel serial day numbers (``45352.427``, days since 1899-12-30) between 1910 and 2150,
      to the second.

    Values with an offset are converted to ``tz``; values without one are taken to be in ``tz``
    (times that do not exist or are ambiguous there, at daylight-saving changes, become NaT).
    Anything else, empty cells, and years outside 1900-2199 (a damaged cell, ``9999-12-31``)
    become NaT. Vectorised: one ``to_datetime`` per format, over
    the distinct values (exports repeat timestamps: imports, paper waves keyed in one session).

    Parameters
    ----------
    series
        Text (or ``None``) values.
    tz
        The IANA time zone of naive values and of the result.
    dayfirst
        Read ``a/b/c`` dates as day/month/year (``True``) or month/day/year (``False``). ``None``
        decides once for the whole series: day first when some first number exceeds 12 and no
        second number does, else month first.

    Returns
    -------
    pandas.Series
        ``datetime64[ns, tz]``, index kept.
    """
    s = pd.Series(series, copy=False).astype("object")
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    if len(uniq) < len(s):  # parse each distinct value once, then spread (-1, an empty cell: NaT)
        parsed = _parse(pd.Series(uniq, dtype=object), tz, dayfirst)
        values = parsed.array.take(codes, allow_fill=True)
        return pd.Series(values, index=s.index, dtype=f"datetime64[ns, {tz}]")
    return _parse(s, tz, dayfirst)


def _parse(s: pd.Series, tz: str, dayfirst: bool | None) -> pd.Series:
    text = s.where(s.notna(), "").astype(str).str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype=f"datetime64[ns, {tz}]")
    if not len(text):
        return out

    iso = text.str.match(_ISO)
    has_off = iso & text.str.contains(_OFFSET, regex=True) & text.str.contains(r"\d[T ]\d", regex=True)
    if has_off.any():
        vals = pd.to_datetime(text[has_off].str.replace(",", ".", regex=False), format="ISO8601", utc=True, errors="coerce")
        out[has_off] = _clip(vals).dt.tz_convert(tz)
    naive = iso & ~has_off
    if naive.any():
        vals = _clip(pd.to_datetime(text[naive].str.replace(",", ".", regex=False), format="ISO8601", errors="coerce"))
        if getattr(vals.dt, "tz", None) is not None:
            vals = vals.dt.tz_convert(tz)
        else:
            vals = vals.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        out[naive] = vals

    slash = text.str.match(_SLASH)
    if slash.any():
        sub = text[slash].str.replace(",", "", regex=False).str.replace(r"\s+", " ", regex=True)
        sub = sub.str.replace(r"([AaPp])\.?([Mm])\.?$", lambda m: (m.group(1) + m.group(2)).upper(), regex=True)
        if dayfirst is None:
            parts = sub.str.extract(r"^(\d{1,2})/(\d{1,2})/").astype(float)
            dayfirst = bool((parts[0] > 12).any() and not (parts[1] > 12).any())
        parsed = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns]")
        for fmt in _slash_formats(dayfirst):
            todo = parsed.isna()
            if not todo.any():
                break
            parsed[todo] = _clip(pd.to_datetime(sub[todo], format=fmt, errors="coerce"))
        out[slash] = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")

    dot = text.str.match(_DOT)
    if dot.any():
        sub = text[dot].str.replace(",", "", regex=False).str.replace(r"\s+", " ", regex=True)
        parsed = pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns]")
        for fmt in _DOT_FORMATS:
            todo = parsed.isna()
            if not todo.any():
                break
            parsed[todo] = _clip(pd.to_datetime(sub[todo], format=fmt, errors="coerce"))
        out[dot] = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")

    serial = text.str.match(_SERIAL) & ~iso & ~slash & ~dot
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce")
        days = days.where((days >= 3654) & (days <= 91311))  # 1910-01-01 .. 2149-12-31
        # rounded to the second: serials carry float noise (10:15:00 is stored as 10:14:59.997)
        vals = _EXCEL_EPOCH + pd.to_timedelta((days * 86400.0).round(), unit="s")
        out[serial] = vals.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    return out
