"""An agency's areas (neighborhoods, districts, beats) read from a CSV or GeoJSON file.

This is the one reader of areas files. The instrument uses it at export (the areas replace the
placeholder ``areas:``, so ``choices: areas`` questions list the agency's own neighborhoods) and
a project uses it to match area answers (:mod:`survey_pipeline.project`). One row (or GeoJSON
feature) per neighborhood, or one row per neighborhood and beat: rows of one neighborhood (same
code, or same name when the file has no codes) are merged.

Accepted column (or GeoJSON property) names, case-insensitive, spaces and dashes read as ``_``:

======================  ==============================================================
what                    names
======================  ==============================================================
code                    ``code``, ``id``, ``area_code``, ``neighborhood_code`` (required
                        for an instrument; a project's file may omit it: codes are then
                        1, 2, 3... in file order)
label (required)        ``neighborhood``, ``name``, ``area``, ``label``, ``neighborhood_name``
district (optional)     ``district``, ``district_name``, ``police_district``, ``precinct``,
                        ``division``: the district's code, as the data and targets name it
district name           ``district_label`` (or ``district_name`` beside another district
(optional)              column), and ``district_label_<lang>`` per language: how findings,
                        the report and the dashboard name the district ("Eastside" -> "the
                        Eastside district"); every row of one district gives the same name
beats (optional)        ``beat``, ``beats`` (several separated by ``;`` ``,`` ``|``, or by
                        spaces when every piece holds a digit: ``101 102``, but ``Beat 12``
                        is one beat)
ZIP codes (optional)    ``zip``, ``zips``, ``zip_code``, ``zipcode``, ``postal_code``
labels per language     ``label_<lang>`` or ``name_<lang>``, e.g. ``label_es``
======================  ==============================================================
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Literal, get_args

import pandas as pd

from survey_pipeline.errors import InstrumentError, Problem
from survey_pipeline.files import DEFAULT_MAX_FILE_MB, read_text_bounded
from survey_pipeline.instrument.model import Area, Areas, Instrument

__all__ = ["AREA_CODES", "AREA_COLUMNS", "apply_areas", "district_labels", "has_code_column", "read_areas", "slug"]

AreaCodes = Literal["required", "optional"]
AREA_CODES: tuple[str, ...] = get_args(AreaCodes)

AREA_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "id", "area_code", "neighborhood_code", "neighbourhood_code"),
    "label": ("neighborhood", "neighbourhood", "name", "area", "label", "neighborhood_name", "area_name"),
    "district": ("district", "district_name", "police_district", "precinct", "division"),
    "beats": ("beats", "beat"),
    "zips": ("zips", "zip", "zip_code", "zipcode", "postal_code"),
}
"""Accepted column names for each field, in order of preference."""

_SPLIT = re.compile(r"[;,|]")
_LANG_COL = re.compile(r"^(?:label|name)_([a-z]{2,3}(?:-[a-z0-9]+)?)$")
_DISTRICT_LANG_COL = re.compile(r"^district_(?:label|name)_([a-z]{2,3}(?:-[a-z0-9]+)?)$")


def slug(text: str) -> str:
    """A lowercase ``snake_case`` name for a label: ``"Old Town"`` -> ``old_town``."""
    ascii_ = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    s = re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_")
    if not s:
        s = "area"
    if s[0].isdigit():
        s = f"a{s}"
    return s


def _read_table(path: Path, max_mb: float = DEFAULT_MAX_FILE_MB) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        try:
            data = json.loads(read_text_bounded(path, max_mb=max_mb, what="the areas file", error=InstrumentError))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise InstrumentError(f"{path}: cannot read the GeoJSON file ({exc}).", file=path,
                                  rule="areas-unreadable",
                                  fix="Save it as UTF-8 GeoJSON (a FeatureCollection).") from None
        feats = data.get("features") if isinstance(data, dict) else None
        if not isinstance(feats, list):
            raise InstrumentError(f"{path}: not a GeoJSON FeatureCollection (no 'features' list).", file=path,
                                  rule="areas-unreadable",
                                  fix="Export the neighborhoods layer as a GeoJSON FeatureCollection.")
        rows = []
        for f in feats:
            props = dict((f or {}).get("properties") or {})
            # a list property (beats: ["101", "102"]) is one cell of ;-separated values
            props = {k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in props.items()}
            if "id" in (f or {}) and not any(k.lower() in AREA_COLUMNS["code"] for k in props):
                props["id"] = f["id"]
            rows.append(props)
        return pd.DataFrame(rows)
    if suffix in (".csv", ".txt", ".tsv"):
        text = read_text_bounded(path, max_mb=max_mb, what="the areas file", error=InstrumentError)
        try:
            first = text.split("\n", 1)[0]
            # the delimiter that splits the header most; a one-column file (just 'neighborhood')
            # has none, and is not split on a letter as a generic sniffer would
            sep = max((",", ";", "\t", "|"), key=first.count) if any(d in first for d in ",;\t|") else ","
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
        except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InstrumentError(f"{path}: cannot read the CSV file ({exc}).", file=path,
                                  rule="areas-unreadable",
                                  fix="Save the areas as a UTF-8 CSV with a header row.") from None
    raise InstrumentError(f"{path}: unsupported areas file type '{path.suffix or '(none)'}'.", file=path,
                          rule="areas-unreadable",
                          fix="Give a .csv or a .geojson file.")


def _split_listed(text: str) -> list[str]:
    """``"101; 102"``, ``"101 102"`` -> two values; ``"Beat 12"`` stays one (a word without a digit)."""
    out: list[str] = []
    for part in (p.strip() for p in _SPLIT.split(text)):
        words = part.split()
        if len(words) > 1 and all(any(ch.isdigit() for ch in w) for w in words):
            out += words
        elif part:
            out.append(part)
    return out


def _listed(rec: dict, col: str | None, cell) -> list[str]:
    """A cell holding several values: a GeoJSON list property, or joined text (:func:`_split_listed`)."""
    v = rec.get(col) if col is not None else None
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v if x is not None and str(x).strip()]
    return _split_listed(cell(col))


def _column_key(name: object) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def has_code_column(path: str | Path, *, max_mb: float = DEFAULT_MAX_FILE_MB) -> bool:
    """Whether the areas file at ``path`` has an area code column (False when it cannot be read)."""
    try:
        cols = {_column_key(c) for c in _read_table(Path(path), max_mb).columns}
    except (InstrumentError, OSError):
        return False
    return any(c in cols for c in AREA_COLUMNS["code"])


def _find(columns: dict[str, str], field: str) -> str | None:
    for name in AREA_COLUMNS[field]:
        if name in columns:
            return columns[name]
    return None


def read_areas(path: str | Path, *, codes: AreaCodes = "required", max_mb: float = DEFAULT_MAX_FILE_MB) -> Areas:
    """Read an agency's neighborhoods (with district, beats and ZIP codes) from CSV or GeoJSON.

    Parameters
    ----------
    path
        A ``.csv`` (comma, semicolon or tab separated) or ``.geojson`` file; see the module
        docstring for the accepted column names.
    codes
        ``"required"`` (an instrument's areas: each neighborhood needs a stable code) or
        ``"optional"`` (a project's areas file may list just ``neighborhood,district,beat``:
        rows are then merged by name and coded 1, 2, 3... in file order).

    Returns
    -------
    Areas
        One :class:`Area` per neighborhood, in file order; ``levels`` lists ``district``
        (when given), ``neighborhood`` and ``beat`` (when given). Labels are keyed ``"_"`` for
        the plain label column and by language for ``label_<lang>`` columns;
        :func:`apply_areas` fills the instrument's languages.

    Raises
    ------
    InstrumentError
        ``codes`` is not one of :data:`AREA_CODES`; the file is missing or unreadable; a
        required column is missing (the message lists the columns found); or a row has a
        non-integer code, no name, or contradicts another row of the same neighborhood. Every
        problem in the file is reported at once, each with its row and column.
    """
    path = Path(path)
    if codes not in AREA_CODES:
        raise InstrumentError(f"read_areas: unknown codes option {codes!r}.", rule="option",
                              fix=f"Use one of: {', '.join(AREA_CODES)}.")
    if not path.exists():
        raise InstrumentError(f"{path}: areas file not found.", file=path, rule="areas-missing",
                              fix="Check the path of the areas file (--areas, or [areas] file in survey.toml).")
    table = _read_table(path, max_mb)
    columns = {_column_key(c): c for c in table.columns}
    code_col, label_col = _find(columns, "code"), _find(columns, "label")
    needed = (("code", code_col), ("neighborhood name", label_col)) if codes == "required" else \
        (("neighborhood name", label_col),)
    missing = [f for f, col in needed if col is None]
    if missing:
        found = ", ".join(repr(str(c)) for c in table.columns) or "(none)"
        start = ("Add a header row with 'code' (a stable integer per neighborhood) and 'neighborhood' "
                 "(its name); optional: " if codes == "required" else
                 "Add a header row with 'neighborhood' (its name); optional: 'code' (a stable integer), ")
        raise InstrumentError(
            f"{path}: the areas file has no {' and no '.join(missing)} column. Columns found: {found}.",
            file=path, rule="areas-columns",
            fix=(start + "'district', 'beat' (or 'beats'), 'zip', 'label_es'. Accepted names: "
                 + "; ".join(f"{k}: {'/'.join(v)}" for k, v in AREA_COLUMNS.items()) + "."),
        )
    district_col, beats_col, zips_col = (_find(columns, f) for f in ("district", "beats", "zips"))
    # the district's name: district_label, or district_name when another column holds the code
    dlabel_col = columns.get("district_label") or (columns.get("district_name")
                                                   if district_col is not None
                                                   and district_col != columns.get("district_name") else None)
    dlang_cols = {m.group(1): col for low, col in columns.items() if (m := _DISTRICT_LANG_COL.match(low))}
    lang_cols = {m.group(1): col for low, col in columns.items() if (m := _LANG_COL.match(low))}
    geojson = path.suffix.lower() in (".geojson", ".json")
    where = "feature" if geojson else "row"

    problems: list[Problem] = []
    merged: dict[int, dict] = {}
    district_names: dict[str, dict] = {}  # district code -> {"row", "label": {"_"/lang: name}}
    code_of_name: dict[str, int] = {}  # files without codes: neighborhoods by name
    for i, rec in enumerate(table.to_dict("records")):
        row = i + 1 if geojson else i + 2

        def cell(col, rec=rec) -> str:
            v = rec.get(col) if col is not None else None
            return "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip()

        raw_code, label = cell(code_col), cell(label_col)
        if not raw_code and not label:
            if any(cell(c) for c in table.columns):
                problems.append(Problem(file=str(path), row=row, column=str(label_col), rule="areas-no-name",
                                        message=f"{where} {row} has values but no neighborhood name.",
                                        fix="Fill in the neighborhood name, or delete the row."))
            continue  # a blank row
        if code_col is None:
            key = " ".join(label.casefold().split())
            code = code_of_name.setdefault(key, len(code_of_name) + 1)
        else:
            try:
                code = int(float(raw_code))
                if float(raw_code) != code:
                    raise ValueError
            except ValueError:
                problems.append(Problem(file=str(path), row=row, column=str(code_col), rule="areas-bad-code",
                                        message=f"code {raw_code!r} is not an integer.",
                                        fix="Give each neighborhood a stable whole-number code (1, 2, 3...)."))
                continue
        if not label:
            problems.append(Problem(file=str(path), row=row, column=str(label_col), rule="areas-no-name",
                                    message=f"neighborhood {code} has no name.",
                                    fix="Fill in the neighborhood name."))
            continue
        district = cell(district_col) or None
        dnames = {k: v for k, v in (("_", cell(dlabel_col)), *((lg, cell(c)) for lg, c in dlang_cols.items())) if v}
        if dnames and district is None:
            problems.append(Problem(file=str(path), row=row, column=str(dlabel_col or next(iter(dlang_cols.values()))),
                                    rule="areas-district-name-without-district",
                                    message=f"{where} {row} names a district ({next(iter(dnames.values()))!r}) "
                                            "but gives no district code.",
                                    fix=("Fill in the district column of this row." if district_col is not None else
                                         "Add a 'district' column with each neighborhood's district code.")))
        elif dnames:
            known = district_names.setdefault(district, {"row": row, "label": {}})
            for k, v in dnames.items():
                old = known["label"].get(k)
                if old is not None and old != v:
                    col = dlabel_col if k == "_" else dlang_cols[k]
                    problems.append(Problem(
                        file=str(path), row=row, column=str(col), rule="areas-district-name-conflict",
                        message=(f"district {district!r} is named {v!r} here but {old!r} on {where} "
                                 f"{known['rows'][k]}."),
                        fix=f"Give district {district!r} one name in column '{col}' on every row (or leave the "
                            "cell empty on all rows but one)."))
                else:
                    known["label"].setdefault(k, v)
                    known.setdefault("rows", {}).setdefault(k, row)
        beats, zips = _listed(rec, beats_col, cell), _listed(rec, zips_col, cell)
        labels = {"_": label, **{lang: cell(col) for lang, col in lang_cols.items() if cell(col)}}
        if code in merged:
            prev = merged[code]
            if (code_col is not None and prev["label"]["_"] != label) or prev["district"] != district:
                what = f"code {code}" if code_col is not None else f"neighborhood {label!r}"
                problems.append(Problem(
                    file=str(path), row=row, column=None, rule="areas-conflict",
                    message=(f"{what} appears again with a different name or district "
                             f"({label!r}/{district!r} vs {prev['label']['_']!r}/{prev['district']!r} on {where} {prev['row']})."),
                    fix="Give each neighborhood one code, name and district; repeat rows only to list more beats."))
                continue
            prev["beats"] += [b for b in beats if b not in prev["beats"]]
            prev["zips"] += [z for z in zips if z not in prev["zips"]]
        else:
            merged[code] = {"row": row, "label": labels, "district": district, "beats": beats, "zips": zips}
    names: dict[str, int] = {}
    items: list[Area] = []
    for code, rec in merged.items():
        name = slug(rec["label"]["_"])
        if name in names:
            name = f"{name}_{code}"
        names[name] = code
        dl = district_names.get(rec["district"], {}).get("label") or None
        items.append(Area(code=code, name=name, label=rec["label"], district=rec["district"],
                          district_label=dl, beats=rec["beats"], zips=rec["zips"]))
    if not items and not problems:
        problems.append(Problem(file=str(path), rule="areas-empty", message="the file lists no neighborhoods.",
                                fix="Add one row per neighborhood under the header."))
    if problems:
        raise InstrumentError(f"{path}: {len(problems)} problem(s) in the areas file.", problems, file=path,
                              rule="areas-invalid")
    levels = (["district"] if any(a.district for a in items) else []) + ["neighborhood"] + \
        (["beat"] if any(a.beats for a in items) else [])
    return Areas(levels=levels, items=items)


def apply_areas(inst: Instrument, areas: Areas) -> Instrument:
    """A copy of ``inst`` whose ``areas`` are ``areas``, labelled in every instrument language.

    Labels read with :func:`read_areas` are keyed ``"_"`` (the plain name column) and by
    language; a language without its own label column uses the plain name (place names are
    usually not translated).
    """
    items = []
    for a in areas.items:
        plain = a.label.get("_") or a.label.get(inst.language) or next(iter(a.label.values()))
        label = {lang: a.label.get(lang) or plain for lang in inst.languages}
        dl = a.district_label
        if dl:
            dplain = dl.get("_") or dl.get(inst.language) or next(iter(dl.values()))
            dl = {lang: dl.get(lang) or dplain for lang in inst.languages}
        items.append(a.model_copy(update={"label": label, "district_label": dl}))
    return inst.model_copy(update={"areas": Areas(levels=list(areas.levels), items=items)}, deep=True)


def district_labels(areas: Areas, lang: str | None = None) -> dict[str, str]:
    """``{district code: name}`` from the areas' ``district_label`` (empty without one): the name in
    ``lang`` when the file gives it, else the plain name (or the first one given)."""
    out: dict[str, str] = {}
    for a in areas.items:
        dl = a.district_label
        if a.district and dl and a.district not in out:
            out[a.district] = (dl.get(lang) if lang else None) or dl.get("_") or next(iter(dl.values()))
    return out
