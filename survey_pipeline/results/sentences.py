"""Finding sentences in plain language, in English and Spanish: the one writer of them.

:func:`~survey_pipeline.analysis.comparisons.findings` writes the ``finding`` column of the
``comparisons`` results table with :func:`finding_sentence` (English grammar, the instrument's
labels); the report (``survey_pipeline.report``) and the dashboard write the same sentences in
the reader's language from the comparison rows, so a Spanish report or page never shows an
English sentence. Everything here is a pure function of a comparison row and the words it
needs (:class:`Words`): indicator phrases, area names, district names, wave labels.

Each kind of comparison has its sentence:

=================  ===========================================================================
kind               English (Spanish alike)
=================  ===========================================================================
``wave_change``    "<indicator> [among <group>] in <place> rose 11 points (95% CI 3 to 19)
                   since <wave>"
``group_vs_rest``  "<indicator> among <group> in <place> is 12 points lower than among other
                   residents (95% CI 4 to 20) in <wave>"
``area_vs_rest``   "<indicator> [among <group>] in <place> is 8 points higher than in the rest of
                   the city (95% CI 2 to 14) in <wave>"
``area_pair``      "<indicator> in <place> is 8 points higher than in <other place> ..."
``trend``          "<indicator> in <place> rose 4 points a wave (95% CI 1 to 7) from <first> to
                   <last>"
``did``            "<indicator> in <areas> fell 12 points more than in the rest of the city
                   (95% CI 5 to 19) from <before> to <after>"
=================  ===========================================================================

Shares are differences in percentage points (whole points), scores and means two decimals;
Spanish writes the decimal comma ("0,40") and "IC 95% 3 a 19".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

__all__ = ["LANGUAGES", "Language", "Words", "district_phrase", "finding_sentence", "group_phrase",
           "indicator_phrase", "indicator_phrases", "localize_numbers", "wave_label"]

Language = Literal["en", "es"]
LANGUAGES: tuple[str, ...] = get_args(Language)

# How an indicator reads as the subject of a sentence, by topic ({} is the indicator's label).
_PHRASE: dict[str, dict[str, str]] = {
    "en": {"safety": "Feeling safe ({})", "satisfaction": "Satisfaction with {}",
           "importance": "{} named most important", "problem": "{} as a serious problem",
           "priority": "{} as a top priority", "trust": "Trust ({})", "contact": "Contact: {}",
           "scale": "{} score"},
    "es": {"safety": "La sensación de seguridad ({})", "satisfaction": "La satisfacción con «{}»",
           "importance": "La proporción que señala «{}» como servicio más importante",
           "problem": "La proporción que considera «{}» un problema grave",
           "priority": "La proporción que señala «{}» como prioridad principal", "trust": "La confianza ({})",
           "contact": "El contacto con la policía ({})", "scale": "La puntuación de «{}»"},
}
_DEPT = {"en": "Naming a problem of {} as a top priority",
         "es": "La proporción que señala un problema de «{}» como prioridad principal"}

_GROUPS: dict[str, dict[str, str]] = {
    "female": {"en": "women", "es": "las mujeres"}, "male": {"en": "men", "es": "los hombres"},
    "another_gender": {"en": "residents of another gender", "es": "los residentes de otro género"},
    "own": {"en": "homeowners", "es": "los propietarios de su vivienda"},
    "rent": {"en": "renters", "es": "los inquilinos"},
    "no_rent": {"en": "residents who pay no rent", "es": "los residentes que no pagan alquiler"},
    "hispanic": {"en": "Hispanic residents", "es": "los residentes hispanos"},
    "white": {"en": "White residents", "es": "los residentes blancos"},
    "black": {"en": "Black residents", "es": "los residentes negros"},
    "asian": {"en": "Asian residents", "es": "los residentes asiáticos"},
    "aian": {"en": "American Indian and Alaska Native residents",
             "es": "los residentes indígenas americanos y nativos de Alaska"},
    "nhpi": {"en": "Native Hawaiian and Pacific Islander residents",
             "es": "los residentes nativos de Hawái y de las islas del Pacífico"},
    "multiracial": {"en": "multiracial residents", "es": "los residentes multirraciales"},
    "other": {"en": "residents of another race", "es": "los residentes de otra raza"},
    "other_race": {"en": "residents of another race", "es": "los residentes de otra raza"},
}

# The sentence of each kind; {label} {group} {place} {verb} {amount} {ci} {ref} {wave} {other} {cmp}.
_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "wave_change": "{label} in {place} {verb} {amount} ({ci}) since {ref}",
        "wave_change_group": "{label} among {group} in {place} {verb} {amount} ({ci}) since {ref}",
        "group_vs_rest": "{label} among {group} in {place} is {amount} {cmp} than among other residents ({ci}) "
                         "in {wave}",
        "area_vs_rest": "{label} in {place} is {amount} {cmp} than in the rest of the city ({ci}) in {wave}",
        "area_vs_rest_group": "{label} among {group} in {place} is {amount} {cmp} than among {group} in the rest "
                              "of the city ({ci}) in {wave}",
        "area_pair": "{label} in {place} is {amount} {cmp} than in {other} ({ci}) in {wave}",
        "trend": "{label} in {place} {verb} {amount} a wave ({ci}) from {ref} to {wave}",
        "trend_group": "{label} among {group} in {place} {verb} {amount} a wave ({ci}) from {ref} to {wave}",
        "did": "{label} in {place} {verb} {amount} more than in the rest of the city ({ci}) from {ref} to {wave}",
    },
    "es": {
        "wave_change": "{label} en {place} {verb} {amount} ({ci}) desde {ref}",
        "wave_change_group": "{label} entre {group} en {place} {verb} {amount} ({ci}) desde {ref}",
        "group_vs_rest": "{label} entre {group} en {place} es {amount} {cmp} que entre los demás residentes ({ci}) "
                         "en {wave}",
        "area_vs_rest": "{label} en {place} es {amount} {cmp} que en el resto de la ciudad ({ci}) en {wave}",
        "area_vs_rest_group": "{label} entre {group} en {place} es {amount} {cmp} que entre {group} en el resto "
                              "de la ciudad ({ci}) en {wave}",
        "area_pair": "{label} en {place} es {amount} {cmp} que en {other} ({ci}) en {wave}",
        "trend": "{label} en {place} {verb} {amount} por ola ({ci}) entre {ref} y {wave}",
        "trend_group": "{label} entre {group} en {place} {verb} {amount} por ola ({ci}) entre {ref} y {wave}",
        "did": "{label} en {place} {verb} {amount} más que en el resto de la ciudad ({ci}) entre {ref} y {wave}",
    },
}
_WORDS: dict[str, dict[str, str]] = {
    "en": {"rose": "rose", "fell": "fell", "higher": "higher", "lower": "lower", "city": "the city",
           "ci": "95% CI", "to": "to", "and": ", "},
    "es": {"rose": "subió", "fell": "bajó", "higher": "mayor", "lower": "menor", "city": "la ciudad",
           "ci": "IC 95%", "to": "a", "and": " y "},
}

_SEASONS: dict[str, dict[str, str]] = {
    "spring": {"en": "Spring", "es": "Primavera"}, "summer": {"en": "Summer", "es": "Verano"},
    "fall": {"en": "Fall", "es": "Otoño"}, "autumn": {"en": "Autumn", "es": "Otoño"},
    "winter": {"en": "Winter", "es": "Invierno"},
}


def _check(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")


def indicator_phrase(label: str, topic: str | None, lang: str = "en", *, department: bool = False) -> str:
    """An indicator's label as the subject of a sentence, by topic.

    ``("Street lighting", "satisfaction")`` -> "Satisfaction with Street lighting" /
    "La satisfacción con «Alumbrado público»" (with the Spanish label); a department roll-up of
    the priorities (``department=True``) -> "Naming a problem of Public Works as a top priority".
    """
    _check(lang)
    if department:
        return _DEPT[lang].format(label)
    return _PHRASE[lang].get(str(topic), "{}").format(label)


def indicator_phrases(indicators, lang: str = "en") -> dict[str, str]:
    """``{indicator: phrase}`` in ``lang`` from the ``indicators`` results table (rows with
    ``indicator``, ``topic`` and ``label_<lang>``, else ``label_en``): what the report and the
    dashboard give :class:`Words`. A department roll-up (``priority_dept_<department>``) reads
    as "Naming a problem of <department> as a top priority", as the analysis writes it."""
    _check(lang)
    out: dict[str, str] = {}
    for r in indicators.to_dict("records"):
        ind = str(r["indicator"])
        if ind in out:
            continue
        label = next((v for v in (r.get(f"label_{lang}"), r.get("label_en")) if isinstance(v, str) and v), ind)
        out[ind] = indicator_phrase(label, r.get("topic"), lang, department=ind.startswith("priority_dept_"))
    return out


def group_phrase(group_dim: str, group: str, lang: str = "en") -> str:
    """Residents of a demographic group in words: ``age_65_plus`` -> "residents aged 65+" /
    "los residentes de 65 años o más"."""
    _check(lang)
    g = str(group)
    if g in _GROUPS:
        return _GROUPS[g][lang]
    m = re.fullmatch(r"age_(\d+)_(\d+)", g)
    if m:
        return (f"residents aged {m.group(1)}–{m.group(2)}" if lang == "en"
                else f"los residentes de {m.group(1)}–{m.group(2)} años")
    m = re.fullmatch(r"age_(\d+)_plus", g)
    if m:
        return f"residents aged {m.group(1)}+" if lang == "en" else f"los residentes de {m.group(1)} años o más"
    dim = str(group_dim).replace("_", " ")
    return f"residents with {dim} '{g}'" if lang == "en" else f"los residentes con {dim} «{g}»"


def district_phrase(code: str, name: str | None = None, lang: str = "en") -> str:
    """A district as named in a sentence.

    With a ``name`` (the areas file's ``district_label``): "Eastside" -> "the Eastside district"
    / "el distrito Eastside"; a name that already says district reads as written: "District 3"
    -> "District 3" / "el Distrito 3", "Eastside District" -> "the Eastside District". Without
    one, from the code: ``east`` -> "the East district" / "el distrito East" (a code that says
    district is kept: "District 9").
    """
    _check(lang)
    word = "district" if lang == "en" else "distrito"
    if name:
        n = str(name).strip()
        low = n.casefold()
        if lang == "en":
            if low.startswith(("district", "the ")):
                return n
            return f"the {n}" if low.endswith(" district") else f"the {n} district"
        if low.startswith(("el ", "la ")):
            return n
        return f"el {n}" if "distrito" in low else f"el distrito {n}"
    c = str(code)
    if "district" in c.casefold() or "distrito" in c.casefold():
        return c
    return f"the {c.title()} {word}" if lang == "en" else f"el {word} {c.title()}"


def wave_label(wave: str, lang: str = "en", label: str | None = None) -> str:
    """A wave as read: ``2026-spring`` -> "Spring 2026" / "Primavera 2026", ``2026q1`` -> "2026 Q1"
    / "2026 T1". ``label`` (the wave's label in survey.toml) wins in English; in Spanish a label
    "Spring 2026" is translated the same way, and any other label is kept."""
    _check(lang)
    if lang == "en" and label:
        return str(label)
    for text in ([str(label)] if label else []) + [str(wave)]:
        m = re.fullmatch(r"(\d{4})[-_ ]?([A-Za-z]+)", text) or re.fullmatch(r"([A-Za-z]+)[-_ ]?(\d{4})", text)
        if m:
            year, season = (m.group(1), m.group(2)) if m.group(1).isdigit() else (m.group(2), m.group(1))
            if season.lower() in _SEASONS:
                return f"{_SEASONS[season.lower()][lang]} {year}"
        m = re.fullmatch(r"(\d{4})[-_ ]?[qQ]([1-4])", text)
        if m:
            return f"{m.group(1)} {'T' if lang == 'es' else 'Q'}{m.group(2)}"
    return str(label) if label else str(wave)


_NUMBER = re.compile(r"\d[\d.,]*\d")
_SWAP = str.maketrans({".": ",", ",": "."})


def localize_numbers(text: str, lang: str) -> str:
    """Numbers written the reader's way: Spanish swaps the decimal point and the thousands comma
    ("1,168" -> "1.168", "0.985" -> "0,985"); English text is returned as is."""
    if lang != "es" or not isinstance(text, str):
        return text
    return _NUMBER.sub(lambda m: m.group(0).translate(_SWAP), text)


def _num(x: float, decimals: int, lang: str) -> str:
    s = f"{x:.{decimals}f}"
    return s.replace(".", ",") if lang == "es" else s


def _amount(stat: str, x: float, lang: str = "en") -> str:
    """The size of a difference: "11 points" for a share (percentage points), "0.40" otherwise."""
    if stat == "share":
        v = abs(x) * 100
        if lang == "es":
            return f"{v:.0f} {'punto' if f'{v:.0f}' == '1' else 'puntos'}"
        return f"{v:.0f} points"
    return _num(abs(x), 2, lang)


def _ci(stat: str, lo: float, hi: float, sign: float, lang: str = "en") -> str:
    """The 95% CI of a difference, turned with its sign so it reads as the stated direction."""
    a, b = sorted((lo * sign, hi * sign))
    w = _WORDS[lang]
    if stat == "share":
        return f"{w['ci']} {_num(a * 100, 0, lang)} {w['to']} {_num(b * 100, 0, lang)}"
    return f"{w['ci']} {_num(a, 2, lang)} {w['to']} {_num(b, 2, lang)}"


@dataclass(frozen=True)
class Words:
    """The words a finding sentence needs, in one language.

    Attributes
    ----------
    labels
        ``{indicator: phrase}``, the subject of the sentence (:func:`indicator_phrase`).
    area_names
        ``{code: name}`` of neighborhoods (and beats); a code without a name is written as is.
    district_names
        ``{code: name}`` of districts (:func:`district_phrase` adds "the ... district").
    wave_labels
        ``{wave: label}`` as the reader reads them (:func:`wave_label`); a wave without one is
        written as its id.
    lang
        ``en`` or ``es``: the grammar and the way numbers are written.
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    area_names: Mapping[str, str] = field(default_factory=dict)
    district_names: Mapping[str, str] = field(default_factory=dict)
    wave_labels: Mapping[str, str] = field(default_factory=dict)
    lang: str = "en"

    def __post_init__(self) -> None:
        _check(self.lang)

    def place(self, level: str, code: object) -> str:
        """An area as named in a sentence: the city, a district (:func:`district_phrase`), a
        neighborhood by its name (else its code)."""
        c = str(code)
        if level == "city":
            return _WORDS[self.lang]["city"]
        if level == "district":
            return district_phrase(c, self.district_names.get(c), self.lang)
        return self.area_names.get(c, c)

    def wave(self, wave: object) -> str:
        return self.wave_labels.get(wave, wave)  # type: ignore[arg-type]


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def finding_sentence(row: Mapping, words: Words) -> str:
    """The sentence of one comparison row (a ``comparisons`` results-table row, or a dict with
    its ``kind, wave, wave_ref, area_level, area, area_ref, group_dim, group, indicator,
    statistic, estimate, ci_low, ci_high``) in ``words.lang``.

    The direction follows the sign of the estimate and the interval is turned with it ("fell 11
    points (95% CI 3 to 19)"). An evaluation (``did``) names its areas (``area`` joined with
    ``;``); a row of a demographic group names the group.

    Raises
    ------
    ValueError
        An unknown ``kind`` (the comparison kinds are in ``docs/results.md``).
    """
    lang = words.lang
    kind = str(row["kind"])
    stat = str(row["statistic"])
    est = float(row["estimate"])
    sign = 1.0 if est >= 0 else -1.0
    w = _WORDS[lang]
    gd = row.get("group_dim")
    grouped = not _missing(gd) and str(gd) != "all"
    key = f"{kind}_group" if grouped and f"{kind}_group" in _TEMPLATES[lang] else kind
    if key not in _TEMPLATES[lang]:
        raise ValueError(f"no finding sentence for comparisons of kind {kind!r}")
    if kind == "did":
        names = [words.area_names.get(a, a) for a in str(row["area"]).split(";")]
        place = (w["and"].join(names) if lang == "en" or len(names) < 2
                 else ", ".join(names[:-1]) + w["and"] + names[-1])
    else:
        place = words.place(str(row["area_level"]), row["area"])
    other = "" if kind != "area_pair" else words.place(str(row["area_level"]), row["area_ref"])
    return _TEMPLATES[lang][key].format(
        label=words.labels.get(row["indicator"], row["indicator"]),
        group=group_phrase(str(gd), str(row.get("group")), lang) if grouped else "",
        place=place, other=other, verb=w["rose" if sign > 0 else "fell"], cmp=w["higher" if sign > 0 else "lower"],
        amount=_amount(stat, est, lang), ci=_ci(stat, float(row["ci_low"]), float(row["ci_high"]), sign, lang),
        ref=words.wave(row.get("wave_ref")), wave=words.wave(row.get("wave")))


# Benchmarks (a program's peers, outside references): one sentence per benchmark row, shown
# under the agency's own number on the Overview and Compare pages and in the report.
_BENCH = {
    "en": {
        "program": "{program} median {median} (25th–75th percentile {q25}–{q75}; {k} agencies): {verdict}",
        "higher": "higher than the program mean by {diff}",
        "lower": "lower than the program mean by {diff}",
        "not clearly different": "not clearly different from the program mean",
        "suppressed": "too few answers here to compare",
        "above": "above {pct}% of peer agencies",
        "external": "{source}{year}: {value}{interval}",
        "ext_higher": "{diff} higher than this reference",
        "ext_lower": "{diff} lower than this reference",
        "ext_same": "not clearly different from this reference",
        "reference only": "a reference value, not tested",
        "interval": " (published range {low}–{high})",
    },
    "es": {
        "program": "Mediana de {program}: {median} (percentiles 25–75: {q25}–{q75}; {k} agencias): {verdict}",
        "higher": "por encima de la media del programa en {diff}",
        "lower": "por debajo de la media del programa en {diff}",
        "not clearly different": "sin diferencia clara con la media del programa",
        "suppressed": "muy pocas respuestas aquí para comparar",
        "above": "por encima del {pct}% de las agencias pares",
        "external": "{source}{year}: {value}{interval}",
        "ext_higher": "{diff} por encima de esta referencia",
        "ext_lower": "{diff} por debajo de esta referencia",
        "ext_same": "sin diferencia clara con esta referencia",
        "reference only": "valor de referencia, sin prueba",
        "interval": " (rango publicado {low}–{high})",
    },
}


def _value(stat: str, x: float, lang: str) -> str:
    return f"{_num(x * 100, 0, lang)}%" if stat == "share" else _num(x, 2, lang)


def benchmark_sentence(row: Mapping, lang: str = "en") -> str:
    """A benchmark row (the ``benchmarks`` table written by ``program run``) as a sentence:
    "Tri-County median 61% (25th–75th percentile 54–67%; 20 agencies): not clearly different from
    the program mean · above 45% of peer agencies", or "Gallup 2024: 61% (published range 58–64%):
    a reference value, not tested"."""
    _check(lang)
    w = _BENCH[lang]
    stat = row["statistic"]
    verdict = row.get("verdict")
    if row["source"] == "program":
        if verdict in ("higher", "lower"):
            v = w[verdict].format(diff=_amount(stat, float(row["diff"]), lang))
        else:
            v = w.get(verdict, w["not clearly different"])
        text = w["program"].format(program=row.get("source_label") or "program",
                                   median=_value(stat, float(row["median"]), lang),
                                   q25=_value(stat, float(row["q25"]), lang), q75=_value(stat, float(row["q75"]), lang),
                                   k=int(row["n_members"]), verdict=v)
        if not _missing(row.get("percentile")):
            text += " · " + w["above"].format(pct=f"{float(row['percentile']):.0f}")
        return text
    interval = ""
    if not _missing(row.get("reference_low")) and not _missing(row.get("reference_high")):
        interval = w["interval"].format(low=_value(stat, float(row["reference_low"]), lang),
                                        high=_value(stat, float(row["reference_high"]), lang))
    year = row.get("year")
    text = w["external"].format(source=row.get("source_label") or "", year="" if _missing(year) or not year else f" {year}",
                                value=_value(stat, float(row["reference"]), lang), interval=interval)
    if verdict == "higher":
        tail = w["ext_higher"].format(diff=_amount(stat, float(row["diff"]), lang))
    elif verdict == "lower":
        tail = w["ext_lower"].format(diff=_amount(stat, float(row["diff"]), lang))
    elif verdict == "not clearly different":
        tail = w["ext_same"]
    elif verdict == "suppressed":
        tail = w["suppressed"]
    else:
        tail = w["reference only"]
    return f"{text}: {tail}"
