"""What a question is for, read from its wording: roles, departments, area columns and their level,
a vendor weight column, and the mode when the export says it."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["DEPARTMENTS", "area_level", "department_of", "mode_of", "nest_areas", "role_from_wording",
           "weight_why"]

#: Department ids and names as in the project's shared scales (survey_pipeline/_instruments/shared_scales.yaml).
DEPARTMENTS: dict[str, dict[str, str]] = {
    "police": {"en": "Police Department", "es": "Departamento de Policía"},
    "public_works": {"en": "Public Works", "es": "Obras Públicas"},
    "transportation": {"en": "Transportation", "es": "Transporte"},
    "parks": {"en": "Parks and Recreation", "es": "Parques y Recreación"},
    "code_enforcement": {"en": "Code Enforcement", "es": "Cumplimiento de Códigos"},
    "solid_waste": {"en": "Solid Waste and Sanitation", "es": "Residuos Sólidos y Saneamiento"},
    "housing": {"en": "Housing and Homeless Services", "es": "Vivienda y Servicios para Personas sin Hogar"},
    "utilities": {"en": "Utilities and Street Lighting", "es": "Servicios Públicos y Alumbrado"},
    "fire": {"en": "Fire and Emergency Medical Services", "es": "Bomberos y Servicios Médicos de Emergencia"},
    "libraries": {"en": "Libraries", "es": "Bibliotecas"},
    "city_hall": {"en": "City Administration", "es": "Administración Municipal"},
}

_DEPT_WORDS: list[tuple[str, re.Pattern]] = [
    ("code_enforcement", re.compile(r"\b(code enforcement|code compliance|nuisance|cumplimiento de c[oó]digos)\b", re.I)),
    ("police", re.compile(r"\b(police|policing|officers?|law enforcement|crime prevention|patrol|sheriff|polic[ií]a)\b", re.I)),
    ("fire", re.compile(r"\b(fire|ems|emergency medical|paramedic|lifeguard|bomberos)\b", re.I)),
    ("libraries", re.compile(r"\b(librar(y|ies)|biblioteca)", re.I)),
    ("parks", re.compile(r"\b(parks?|recreation|playgrounds?|parques?)\b", re.I)),
    ("solid_waste", re.compile(r"\b(trash|garbage|recycl\w*|solid waste|litter|sanitation|basura)\b", re.I)),
    ("utilities", re.compile(r"\b(street ?light\w*|lighting|wastewater|water and|utilit\w*|storm ?water|alumbrado)\b", re.I)),
    ("transportation", re.compile(r"\b(traffic|transit|transportation|bus(es)?|parking|tr[aá]fico|transporte)\b", re.I)),
    ("public_works", re.compile(r"\b(streets?|sidewalks?|potholes?|public works|infrastructure|roads?|calles?|aceras)\b", re.I)),
    ("housing", re.compile(r"\b(homeless\w*|housing|vivienda)\b", re.I)),
    ("city_hall", re.compile(r"\b(city employees|customer service|communication with the public|city hall|city government)\b", re.I)),
]


def department_of(text: str) -> tuple[str, str] | None:
    """(department id, the word that named it) when the wording names a department's service."""
    for dep, pat in _DEPT_WORDS:
        m = pat.search(text or "")
        if m:
            return dep, m.group(0)
    return None


# --- roles -----------------------------------------------------------------------------------------

_ROLE_WORDS: list[tuple[str, re.Pattern]] = [
    ("attention_check", re.compile(r"\b(attn\w*|attention|instructed|please (select|choose|mark) ['\"“]?\w+|"
                                   r"select ['\"“]?\w+['\"”]? for this)", re.I)),
    ("satisfaction", re.compile(r"\b(satisf\w*|dissatisf\w*|satisfech[oa]|satisfacci[oó]n)", re.I)),
    ("safety", re.compile(r"\b(safe|safety|unsafe|safer|seguridad|segur[oa]|insegur[oa])\b", re.I)),
    ("trust", re.compile(r"\b(trust\w*|confiden\w*|legitima\w*|respect\w*|fair(ly|ness)?|procedural|justice|"
                         r"honest\w*|treat(s|ed)? people|confianza|conf[ií]a\w*|respeto)\b", re.I)),
    ("problem", re.compile(r"\b(problems?|issues?|problemas?)\b", re.I)),
    ("priority", re.compile(r"\b(priorit\w*|emphasis|prioridad\w*)\b", re.I)),
    ("importance", re.compile(r"\b(important|importance|importan\w*)\b", re.I)),
    ("contact", re.compile(r"\b(had contact|contacted|contact with|your (most )?recent contact|interaction with|"
                           r"stopped by|called (the )?(police|911))\b", re.I)),
    ("demographic", re.compile(r"\b(age|how old|gender|sex|race|racial|ethnic\w*|hispanic|latin[oa]|income|"
                               r"educat\w*|employ\w*|own or rent|rent or own|tenure|household|children|"
                               r"how long have you lived|years (lived|resident)|language|politic\w*|marital|"
                               r"edad|g[eé]nero|sexo|raza|ingresos?|educaci[oó]n)\b", re.I)),
]
_ROLE_FROM_HEADER = re.compile(r"^(attn|attention)|(^|_)(age|gender|sex|race|ethnicity|income|hhincome|education|"
                               r"employment|politics|tenure|hispanic)(_|$)", re.I)

#: ACS-style answer categories: values like these say "about the respondent".
_ACS_VALUES = re.compile(r"^(\$?\d[\d,]*\s*(-|to|–)\s*\$?\d[\d,]*|less than \$|\$[\d,]+ or more|\d+ or older|"
                         r"under \d+|\d+\s*-\s*\d+|male|female|non-?binary|white\b|black or african american|"
                         r"asian\b|hispanic|american indian|native hawaiian|two or more races|"
                         r"high school|bachelor|associate|master|doctor|some college|graduate|"
                         r"full-?time|part-?time|retired|unemployed|student|own|rent|hombre|mujer)", re.I)


def acs_like(values: list[str]) -> float:
    """Share of the distinct values shaped like ACS demographic categories."""
    if not values:
        return 0.0
    return sum(bool(_ACS_VALUES.search(v.strip())) for v in values) / len(values)


def role_from_wording(text: str, header: str = "") -> tuple[str, str] | None:
    """(role, the words that decided) from a question's wording and header, or None."""
    hm = _ROLE_FROM_HEADER.search(header or "")
    if hm:
        word = hm.group(0).strip("_").lower()
        return ("attention_check" if word.startswith(("attn", "attention")) else "demographic"), f"header '{header}'"
    for role, pat in _ROLE_WORDS:
        m = pat.search(text or "")
        if m:
            if role == "problem" and re.search(r"\breport(ing)? problems?\b", text, re.I):
                continue
            return role, f"wording contains '{m.group(0)}'"
    return None


# --- geography -------------------------------------------------------------------------------------

_LEVEL_WORDS: list[tuple[str, re.Pattern]] = [
    ("police_district", re.compile(r"(police[\s_]*(district|dist|precinct|area|division)|precinct|pd[\s_]*dist|^p_?dist|^pol_?dist|"
                                   r"area[\s_]*command|patrol[\s_]*(district|area)|\bpolice_?d\b)", re.I)),
    ("council_district", re.compile(r"(council[\s_]*(district|dist|ward)?|\bcd\b|ccd|\bcd_?\d*$)", re.I)),
    ("pac", re.compile(r"(\bpac\b|^pac_|_pac$|police area command|public advisory)", re.I)),
    ("ward", re.compile(r"\bward\b|^ward|_ward", re.I)),
    ("beat", re.compile(r"\bbeat\b|^beat|_beat", re.I)),
    ("neighborhood", re.compile(r"(neighbou?rhood|nbhd|nhood|\bhood\b|community[\s_]*area|barrio|colonia|vecindario)", re.I)),
    ("zip", re.compile(r"(\bzip|zipcode|zip_?code|postal|postcode|c[oó]digo postal)", re.I)),
    ("district", re.compile(r"(district|\bdist\b|_dist$|^dist_|distrito|sector)", re.I)),
]
_LEVEL_RANK = {"district": 0, "council_district": 0, "police_district": 0, "ward": 1, "pac": 1, "neighborhood": 2,
               "beat": 3, "zip": 4}
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_PLACEHOLDERS = {"99999", "00000", "0", "9999", "999", "99", "n/a", "na", "none", "unknown", "-", "?", "x",
                 "xxxxx", "not sure", "refused", "don't know"}
_ASKS_PLACE = re.compile(r"\b(live|located|reside|home|address|vive|reside)\b", re.I)
_NOT_AREA = re.compile(r"\b(safe|satisf|rate|how (much|well|often|long)|years|problem|agree|not sure|trust)\b", re.I)


def area_level(header: str, text: str, values: list[str]) -> tuple[str, str, list[str]] | None:
    """(level, why, placeholders) when a column holds the respondent's area, else None.

    The header (or a short wording asking where the respondent lives) names the level; a column of
    5-digit codes is a ZIP column. Placeholders: values such as ``99999`` or ``00000`` that name
    no area.
    """
    vals = [v.strip() for v in values if v is not None and str(v).strip()]
    if not vals:
        return None
    h = header or ""
    t = text or ""
    short_text = len(t) <= 40 or bool(_ASKS_PLACE.search(t))
    found = None
    code_like = len(h) <= 30 and " " not in h.strip()  # a header that is a name, not the wording
    if not code_like:
        t, h = (t or h), ""
        short_text = len(t) <= 40 or bool(_ASKS_PLACE.search(t))
    for level, pat in _LEVEL_WORDS:
        m = pat.search(h) if h else None
        if m:
            found = (level, f"header '{h}' names a {level.replace('_', ' ')}")
            break
        m = pat.search(t) if t and short_text and not _NOT_AREA.search(t) else None
        if m:
            found = (level, f"wording '{t[:60]}' asks for a {level.replace('_', ' ')}")
            break
    zip_share = sum(bool(_ZIP.match(v)) for v in vals) / len(vals)
    if found is None and zip_share >= 0.9 and len(set(vals)) >= 3 and not _NOT_AREA.search(t):
        found = ("zip", f"{zip_share:.0%} of the values are 5-digit ZIP codes")
    if found is None:
        return None
    level, why = found
    if level == "zip" and zip_share < 0.5:
        return None
    distinct = set(vals)
    if level != "zip" and len(distinct) > 400:
        return None
    ph = sorted(v for v in distinct if v.casefold() in _PLACEHOLDERS or (level == "zip" and not _ZIP.match(v)))
    if level == "zip":
        why += f"; {zip_share:.0%} of the values are 5-digit ZIP codes"
    return level, why, ph


def nest_areas(frame: pd.DataFrame, cols: list[dict]) -> list[dict]:
    """Order area columns coarse → fine: by how the values nest (each value of a finer column falls
    in one value of a coarser one), then by the level's usual rank, then by distinct count."""
    if len(cols) <= 1:
        return cols
    n_distinct = {c["column"]: frame[c["column"]].dropna().nunique() for c in cols}
    n_answers = {c["column"]: int(frame[c["column"]].notna().sum()) for c in cols}
    # the usual rank of the level first (district before neighborhood before ZIP), then the fuller
    # column (a follow-up "ZIP if unsure" comes after the main ZIP question), then fewer values
    ordered = sorted(cols, key=lambda c: (_LEVEL_RANK.get(c["level"], 5), -n_answers[c["column"]],
                                          n_distinct[c["column"]]))
    # then the data: a column whose every value falls in one value of another is finer than it
    for i in range(len(ordered)):
        for j in range(i + 1, len(ordered)):
            a, b = ordered[i], ordered[j]
            if n_distinct[a["column"]] > n_distinct[b["column"]] and _nests(frame, a["column"], b["column"]):
                ordered[i], ordered[j] = b, a
    for i, fine in enumerate(ordered):
        for coarse in ordered[:i]:
            pair = frame[[coarse["column"], fine["column"]]].dropna()
            if pair.empty:
                continue
            per = pair.groupby(fine["column"])[coarse["column"]].nunique()
            share = float((per == 1).mean())
            if share >= 0.95 and n_distinct[coarse["column"]] < n_distinct[fine["column"]]:
                fine["why"] += f"; nests in '{coarse['column']}' ({share:.0%} of its values fall in one)"
                break
    return ordered


def _nests(frame: pd.DataFrame, fine: str, coarse: str) -> bool:
    pair = frame[[coarse, fine]].dropna()
    if pair.empty:
        return False
    return float((pair.groupby(fine)[coarse].nunique() == 1).mean()) >= 0.95


# --- weight and mode ------------------------------------------------------------------------------------

_WEIGHT_HEADER = re.compile(r"^(weights?|wt|wgt|wts|final_?wt|finalwt|final_?weight|fweight|pweight|"
                            r"base_?weight|wt_?\w*|weight_?\w*|\w*_weight|\w*_wt|\w*_wgt)$", re.I)


def weight_why(header: str, values: pd.Series) -> str | None:
    """Why a column is a vendor weight (header word and positive numbers), or None."""
    h = (header or "").strip()
    if not _WEIGHT_HEADER.match(h.replace(" ", "_")):
        return None
    num = pd.to_numeric(values.dropna().astype(str).str.strip().replace("", None), errors="coerce")
    if num.empty or num.isna().mean() > 0.01:
        return None
    num = num.dropna()
    if (num <= 0).any():
        return None
    frac = float((num != num.round()).mean())
    return (f"header '{h}' and positive numbers (mean {num.mean():.3g}, range {num.min():.3g}–{num.max():.3g}"
            + (f", {frac:.0%} non-integer" if frac else "") + ")")


_CHANNEL_MODE = {"anonymous": "web", "email": "web", "gl": "web", "social": "web", "sms": "web", "personal": "web",
                 "qr": "web", "web": "web", "link": "web", "mobile": "web", "offline": "in_person", "kiosk": "in_person",
                 "phone": "phone", "cati": "phone", "mail": "mail", "paper": "mail"}


def mode_of(frame: pd.DataFrame, meta: dict[str, str]) -> dict | None:
    """{"mode", "why"} when the export's distribution channel says the mode for (nearly) every row."""
    col = meta.get("distribution_channel")
    if not col or col not in frame.columns:
        return None
    vals = frame[col].dropna().astype(str).str.strip().str.casefold()
    vals = vals[vals != ""]
    if vals.empty:
        return None
    counts = vals.value_counts()
    modes = vals.map(_CHANNEL_MODE)
    known = modes.dropna()
    if known.empty:
        return None
    top = known.value_counts()
    mode, n = str(top.index[0]), int(top.iloc[0])
    share = n / len(vals)
    if share < 0.9 or len(top) > 1:
        return None
    chans = ", ".join(f"{k} ({v})" for k, v in counts.items())
    return {"mode": mode, "why": f"{col}: {chans} — {share:.0%} of rows came through a {mode} channel"}
