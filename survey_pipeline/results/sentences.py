"""Finding sentences in plain language, in each language: the one writer of them.

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

Shares are differences in percentage points (whole points, singular and plural by the language's
plural rule), scores and means two decimals, written by the reader's locale
(:func:`survey_pipeline.i18n.fmt_number`: "0.40" in en_US and es_US, "0,40" in es_ES). The words
and sentence patterns are messages in the catalogs (:mod:`survey_pipeline.i18n`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from survey_pipeline.i18n import N_, check_language, fmt_number, fmt_percent, languages, nt, t

__all__ = ["Words", "benchmark_sentence", "district_phrase", "finding_sentence", "group_phrase",
           "indicator_phrase", "indicator_phrases", "languages", "wave_label"]

# How an indicator reads as the subject of a sentence, by topic ({label} is the indicator's label).
_PHRASE: dict[str, str] = {
    "safety": N_("Feeling safe ({label})"), "satisfaction": N_("Satisfaction with {label}"),
    "importance": N_("{label} named most important"), "problem": N_("{label} as a serious problem"),
    "priority": N_("{label} as a top priority"), "trust": N_("Trust ({label})"), "contact": N_("Contact: {label}"),
    "scale": N_("{label} score"),
}
_DEPT = N_("Naming a problem of {label} as a top priority")

_GROUPS: dict[str, str] = {
    "female": N_("women"), "male": N_("men"), "another_gender": N_("residents of another gender"),
    "own": N_("homeowners"), "rent": N_("renters"), "no_rent": N_("residents who pay no rent"),
    "hispanic": N_("Hispanic residents"), "white": N_("White residents"), "black": N_("Black residents"),
    "asian": N_("Asian residents"), "aian": N_("American Indian and Alaska Native residents"),
    "nhpi": N_("Native Hawaiian and Pacific Islander residents"), "multiracial": N_("multiracial residents"),
    "other": N_("residents of another race"), "other_race": N_("residents of another race"),
}

# The sentence of each kind; {label} {group} {place} {verb} {amount} {ci} {ref} {wave} {other} {cmp}.
_TEMPLATES: dict[str, str] = {
    "wave_change": N_("{label} in {place} {verb} {amount} ({ci}) since {ref}"),
    "wave_change_group": N_("{label} among {group} in {place} {verb} {amount} ({ci}) since {ref}"),
    "group_vs_rest": N_("{label} among {group} in {place} is {amount} {cmp} than among other residents ({ci}) "
                        "in {wave}"),
    "area_vs_rest": N_("{label} in {place} is {amount} {cmp} than in the rest of the city ({ci}) in {wave}"),
    "area_vs_rest_group": N_("{label} among {group} in {place} is {amount} {cmp} than among {group} in the rest "
                             "of the city ({ci}) in {wave}"),
    "area_pair": N_("{label} in {place} is {amount} {cmp} than in {other} ({ci}) in {wave}"),
    "trend": N_("{label} in {place} {verb} {amount} a wave ({ci}) from {ref} to {wave}"),
    "trend_group": N_("{label} among {group} in {place} {verb} {amount} a wave ({ci}) from {ref} to {wave}"),
    "did": N_("{label} in {place} {verb} {amount} more than in the rest of the city ({ci}) from {ref} to {wave}"),
}
_SEASONS: dict[str, str] = {"spring": N_("Spring"), "summer": N_("Summer"), "fall": N_("Fall"),
                            "autumn": N_("Autumn"), "winter": N_("Winter")}


def _check(lang: str) -> None:
    check_language(lang)


def indicator_phrase(label: str, topic: str | None, lang: str = "en", *, department: bool = False) -> str:
    """An indicator's label as the subject of a sentence, by topic.

    ``("Street lighting", "satisfaction")`` -> "Satisfaction with Street lighting" /
    "La satisfacción con «Alumbrado público»" (with the Spanish label); a department roll-up of
    the priorities (``department=True``) -> "Naming a problem of Public Works as a top priority".
    """
    _check(lang)
    if department:
        return t(_DEPT, lang, label=label)
    return t(_PHRASE[str(topic)], lang, label=label) if str(topic) in _PHRASE else str(label)


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
        return t(_GROUPS[g], lang)
    m = re.fullmatch(r"age_(\d+)_(\d+)", g)
    if m:
        return t("residents aged {lo}–{hi}", lang, lo=m.group(1), hi=m.group(2))
    m = re.fullmatch(r"age_(\d+)_plus", g)
    if m:
        return t("residents aged {lo}+", lang, lo=m.group(1))
    return t("residents with {dim} '{group}'", lang, dim=str(group_dim).replace("_", " "), group=g)


def district_phrase(code: str, name: str | None = None, lang: str = "en") -> str:
    """A district as named in a sentence.

    With a ``name`` (the areas file's ``district_label``): "Eastside" -> "the Eastside district"
    / "el distrito Eastside"; a name that already says district reads as written: "District 3"
    -> "District 3" / "el Distrito 3", "Eastside District" -> "the Eastside District". Without
    one, from the code: ``east`` -> "the East district" / "el distrito East" (a code that says
    district is kept: "District 9"). The word for district, the article and the two patterns
    are messages, so each language says it its own way.
    """
    _check(lang)
    # TRANSLATORS: the word a district name may already contain ("District 3", "Distrito 3"), lower case.
    word = t("district", lang).casefold()
    # TRANSLATORS: the articles a district name may start with, separated by |; "-" for none.
    articles = tuple(a.strip() + " " for a in t("the", lang).casefold().split("|") if a.strip() not in ("", "-"))
    if name:
        n = str(name).strip()
        low = n.casefold()
        if low.startswith(articles) or (lang == "en" and low.startswith(word)):
            return n
        if word in low or "district" in low:
            return t("the {name}", lang, name=n)
        return t("the {name} district", lang, name=n)
    c = str(code)
    if "district" in c.casefold() or word in c.casefold():
        return c
    return t("the {name} district", lang, name=c.title())


def wave_label(wave: str, lang: str = "en", label: str | None = None) -> str:
    """A wave as read: ``2026-spring`` -> "Spring 2026" / "Primavera 2026", ``2026q1`` -> "2026 Q1"
    / "2026 T1". ``label`` (the wave's label in survey.toml) wins in English; in another language
    a label "Spring 2026" is translated the same way, and any other label is kept."""
    _check(lang)
    if lang == "en" and label:
        return str(label)
    for text in ([str(label)] if label else []) + [str(wave)]:
        m = re.fullmatch(r"(\d{4})[-_ ]?([A-Za-z]+)", text) or re.fullmatch(r"([A-Za-z]+)[-_ ]?(\d{4})", text)
        if m:
            year, season = (m.group(1), m.group(2)) if m.group(1).isdigit() else (m.group(2), m.group(1))
            if season.lower() in _SEASONS:
                return t("{season} {year}", lang, season=t(_SEASONS[season.lower()], lang), year=year)
        m = re.fullmatch(r"(\d{4})[-_ ]?[qQ]([1-4])", text)
        if m:
            # TRANSLATORS: a quarter of a year, "2026 Q1".
            return t("{year} Q{quarter}", lang, year=m.group(1), quarter=m.group(2))
    return str(label) if label else str(wave)


def _amount(stat: str, x: float, lang: str = "en") -> str:
    """The size of a difference: "11 points" for a share (percentage points), "0.40" otherwise."""
    if stat == "share":
        v = round(abs(x) * 100)
        return nt("{amount} point", "{amount} points", v, lang, amount=fmt_number(v, lang))
    return fmt_number(abs(x), lang, 2)


def _ci(stat: str, lo: float, hi: float, sign: float, lang: str = "en") -> str:
    """The 95% CI of a difference, turned with its sign so it reads as the stated direction."""
    a, b = sorted((lo * sign, hi * sign))
    if stat == "share":
        return t("95% CI {low} to {high}", lang, low=fmt_number(a * 100, lang), high=fmt_number(b * 100, lang))
    return t("95% CI {low} to {high}", lang, low=fmt_number(a, lang, 2), high=fmt_number(b, lang, 2))


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
        A language with a catalog (:func:`survey_pipeline.i18n.languages`): the words, the
        grammar and the way numbers are written.
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
            return t("the city", self.lang)
        if level == "district":
            return district_phrase(c, self.district_names.get(c), self.lang)
        return self.area_names.get(c, c)

    def wave(self, wave: object) -> str:
        return self.wave_labels.get(wave, wave)  # type: ignore[arg-type]


def _join(names: list[str], lang: str) -> str:
    """Areas named in a list: "A, B, C" in English; "A, B y C" where the language joins the last one
    with a word (the message ", " is that language's last separator)."""
    if len(names) < 2:
        return "".join(names)
    # TRANSLATORS: what joins the last two names of a list ("A, B y C"); English keeps ", ".
    last = t(", ", lang)
    return ", ".join(names[:-1]) + last + names[-1]


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
    gd = row.get("group_dim")
    grouped = not _missing(gd) and str(gd) != "all"
    key = f"{kind}_group" if grouped and f"{kind}_group" in _TEMPLATES else kind
    if key not in _TEMPLATES:
        raise ValueError(f"no finding sentence for comparisons of kind {kind!r}")
    if kind == "did":
        names = [words.area_names.get(a, a) for a in str(row["area"]).split(";")]
        place = _join(names, lang)
    else:
        place = words.place(str(row["area_level"]), row["area"])
    other = "" if kind != "area_pair" else words.place(str(row["area_level"]), row["area_ref"])
    up = sign > 0
    return t(_TEMPLATES[key], lang,
        label=words.labels.get(row["indicator"], row["indicator"]),
        group=group_phrase(str(gd), str(row.get("group")), lang) if grouped else "",
        place=place, other=other, verb=t("rose", lang) if up else t("fell", lang),
        cmp=t("higher", lang) if up else t("lower", lang),
        amount=_amount(stat, est, lang), ci=_ci(stat, float(row["ci_low"]), float(row["ci_high"]), sign, lang),
        ref=words.wave(row.get("wave_ref")), wave=words.wave(row.get("wave")))


# Benchmarks (a program's peers, outside references): one sentence per benchmark row, shown
# under the agency's own number on the Overview and Compare pages and in the report.
_BENCH = {
    "program": N_("{program} median {median} (25th–75th percentile {q25}–{q75}; {k} agencies): {verdict}"),
    "higher": N_("higher than the program mean by {diff}"),
    "lower": N_("lower than the program mean by {diff}"),
    "not clearly different": N_("not clearly different from the program mean"),
    "suppressed": N_("too few answers here to compare"),
    "above": N_("above {pct} of peer agencies"),
    "external": N_("{source}{year}: {value}{interval}"),
    "ext_higher": N_("{diff} higher than this reference"),
    "ext_lower": N_("{diff} lower than this reference"),
    "ext_same": N_("not clearly different from this reference"),
    "reference only": N_("a reference value, not tested"),
    "interval": N_(" (published range {low}–{high})"),
}


def _value(stat: str, x: float, lang: str) -> str:
    return fmt_percent(x, lang) if stat == "share" else fmt_number(x, lang, 2)


def benchmark_sentence(row: Mapping, lang: str = "en") -> str:
    """A benchmark row (the ``benchmarks`` table written by ``program run``) as a sentence:
    "Tri-County median 61% (25th–75th percentile 54%–67%; 20 agencies): not clearly different from
    the program mean · above 45% of peer agencies", or "Gallup 2024: 61% (published range 58%–64%):
    a reference value, not tested"."""
    _check(lang)

    def w(key: str, **fmt: object) -> str:
        return t(_BENCH[key], lang, **fmt)

    stat = row["statistic"]
    verdict = row.get("verdict")
    if row["source"] == "program":
        if verdict in ("higher", "lower"):
            v = w(verdict, diff=_amount(stat, float(row["diff"]), lang))
        else:
            v = w(verdict if verdict in _BENCH else "not clearly different")
        text = w("program", program=row.get("source_label") or "program",
                 median=_value(stat, float(row["median"]), lang),
                 q25=_value(stat, float(row["q25"]), lang), q75=_value(stat, float(row["q75"]), lang),
                 k=int(row["n_members"]), verdict=v)
        if not _missing(row.get("percentile")):
            text += " · " + w("above", pct=fmt_percent(float(row["percentile"]) / 100, lang))
        return text
    interval = ""
    if not _missing(row.get("reference_low")) and not _missing(row.get("reference_high")):
        interval = w("interval", low=_value(stat, float(row["reference_low"]), lang),
                     high=_value(stat, float(row["reference_high"]), lang))
    year = row.get("year")
    text = w("external", source=row.get("source_label") or "", year="" if _missing(year) or not year else f" {year}",
             value=_value(stat, float(row["reference"]), lang), interval=interval)
    if verdict == "higher":
        tail = w("ext_higher", diff=_amount(stat, float(row["diff"]), lang))
    elif verdict == "lower":
        tail = w("ext_lower", diff=_amount(stat, float(row["diff"]), lang))
    elif verdict == "not clearly different":
        tail = w("ext_same")
    elif verdict == "suppressed":
        tail = w("suppressed")
    else:
        tail = w("reference only")
    return f"{text}: {tail}"
