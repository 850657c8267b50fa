"""Answer scales an export's values can be recognised as: a library of wordings (English and
Spanish), a polarity fallback for unseen wordings, numeric codes with trailing non-substantive
codes (``1-5`` + ``9``), and codebook value labels.

Every recogniser returns a :class:`ScaleGuess`: codes in order from the negative to the positive
end as the export codes them, the ``positive`` ("top box") codes, typed missing codes, how each
export value maps to a code, and why — with the fields the tool is not sure of listed in
``guessed``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from survey_pipeline.project import normalize_name

__all__ = ["KNOWN_SCALES", "LIBRARY", "ScaleGuess", "codebook_scale", "library_scale", "missing_kind",
           "numeric_scale", "polarity", "polarity_scale"]


def _s(role: str | None, top: int, *positions: tuple[str, ...]) -> dict:
    """A library scale: positions from the negative to the positive end, each (en, es, synonyms...)."""
    return {"role": role, "top": top, "positions": [tuple(p) for p in positions]}


#: Library of scale wordings, negative end first. ``top``: how many codes at the positive end
#: are "positive" (top box); ``role``: what the scale measures, when it says (``"~"``: a scale of
#: amount or frequency with no good or bad direction: its top box is marked as a guess).
LIBRARY: dict[str, dict] = {
    "satisfied_5": _s("satisfaction", 2,
                      ("Very dissatisfied", "Muy insatisfecho", "muy insatisfecha"),
                      ("Dissatisfied", "Insatisfecho", "somewhat dissatisfied", "algo insatisfecho", "insatisfecha"),
                      ("Neither satisfied nor dissatisfied", "Ni satisfecho ni insatisfecho", "neutral", "neutro"),
                      ("Satisfied", "Satisfecho", "somewhat satisfied", "algo satisfecho", "satisfecha"),
                      ("Very satisfied", "Muy satisfecho", "muy satisfecha")),
    "satisfied_4": _s("satisfaction", 2,
                      ("Very dissatisfied", "Muy insatisfecho"), ("Somewhat dissatisfied", "Algo insatisfecho"),
                      ("Somewhat satisfied", "Algo satisfecho"), ("Very satisfied", "Muy satisfecho")),
    "agree_5": _s(None, 2,
                  ("Strongly disagree", "Totalmente en desacuerdo", "muy en desacuerdo"),
                  ("Disagree", "En desacuerdo", "somewhat disagree", "algo en desacuerdo"),
                  ("Neither agree nor disagree", "Ni de acuerdo ni en desacuerdo", "neutral", "neutro"),
                  ("Agree", "De acuerdo", "somewhat agree", "algo de acuerdo"),
                  ("Strongly agree", "Totalmente de acuerdo", "muy de acuerdo")),
    "agree_4": _s(None, 2, ("Strongly disagree", "Totalmente en desacuerdo", "muy en desacuerdo"),
                  ("Somewhat disagree", "Algo en desacuerdo"), ("Somewhat agree", "Algo de acuerdo"),
                  ("Strongly agree", "Totalmente de acuerdo", "muy de acuerdo")),
    "safe_5": _s("safety", 2, ("Very unsafe", "Muy inseguro", "muy insegura"),
                 ("Somewhat unsafe", "Algo inseguro", "unsafe", "inseguro", "algo insegura"),
                 ("Neither safe nor unsafe", "Ni seguro ni inseguro", "neutral"),
                 ("Somewhat safe", "Algo seguro", "safe", "seguro", "algo segura"),
                 ("Very safe", "Muy seguro", "muy segura")),
    "safe_4": _s("safety", 2, ("Very unsafe", "Muy inseguro", "muy insegura"),
                 ("Somewhat unsafe", "Algo inseguro", "algo insegura"),
                 ("Somewhat safe", "Algo seguro", "algo segura"), ("Very safe", "Muy seguro", "muy segura")),
    "quality_5": _s(None, 2, ("Poor", "Malo", "mala"), ("Fair", "Regular"), ("Good", "Bueno", "buena"),
                    ("Very good", "Muy bueno", "muy buena"), ("Excellent", "Excelente")),
    "quality_5b": _s(None, 2, ("Very poor", "Muy malo", "muy mala"), ("Poor", "Malo", "mala"), ("Fair", "Regular"),
                     ("Good", "Bueno", "buena"), ("Excellent", "Excelente")),
    "quality_4": _s(None, 2, ("Poor", "Malo", "mala"), ("Fair", "Regular"), ("Good", "Bueno", "buena"),
                    ("Excellent", "Excelente")),
    "priority_5": _s("priority", 2,
                     ("Not a priority", "No es prioridad", "not a priority at all", "no es una prioridad"),
                     ("Low priority", "Prioridad baja", "low", "baja"),
                     ("Moderate priority", "Prioridad moderada", "moderate", "medium priority", "moderada", "media"),
                     ("High priority", "Prioridad alta", "high", "alta"),
                     ("Top priority", "Máxima prioridad", "top", "highest priority", "prioridad máxima", "maxima")),
    "problem_4": _s("problem", 2, ("Not a problem", "No es un problema", "no problem", "not a problem at all"),
                    ("Minor problem", "Problema menor", "small problem", "problema pequeño"),
                    ("Moderate problem", "Problema moderado"),
                    ("Major problem", "Problema grave", "serious problem", "big problem", "problema mayor",
                     "problema serio")),
    "problem_3": _s("problem", 1, ("Not a problem", "No es un problema", "no problem"),
                    ("Minor problem", "Problema menor", "somewhat of a problem", "small problem", "problema pequeño"),
                    ("Major problem", "Problema grave", "a serious problem", "serious problem", "big problem",
                     "problema mayor", "problema serio")),
    "importance_4": _s("importance", 2, ("Not at all important", "Nada importante"),
                       ("Somewhat important", "Algo importante"), ("Important", "Importante"),
                       ("Very important", "Muy importante")),
    "importance_5": _s("importance", 2, ("Not at all important", "Nada importante"),
                       ("Slightly important", "Poco importante", "not very important", "not important"),
                       ("Moderately important", "Moderadamente importante", "somewhat important", "algo importante"),
                       ("Very important", "Muy importante"),
                       ("Extremely important", "Sumamente importante", "extremadamente importante")),
    "likely_5": _s(None, 2, ("Very unlikely", "Muy improbable", "muy poco probable"),
                   ("Somewhat unlikely", "Algo improbable", "unlikely", "poco probable"),
                   ("Neither likely nor unlikely", "Ni probable ni improbable"),
                   ("Somewhat likely", "Algo probable", "likely", "probable"),
                   ("Very likely", "Muy probable")),
    "confidence_4": _s("trust", 2, ("No confidence at all", "Ninguna confianza", "none at all"),
                       ("Not very much confidence", "Poca confianza", "very little", "not much"),
                       ("Some confidence", "Algo de confianza", "some"),
                       ("A great deal of confidence", "Mucha confianza", "a great deal", "a lot")),
    "trust_5": _s("trust", 2, ("Not at all", "Nada"), ("A little", "Un poco", "poco"), ("Some", "Algo"),
                  ("A lot", "Mucho", "quite a lot"), ("Completely", "Completamente", "a great deal")),
    "true_5": _s("~", 2, ("Not true at all", "Nada cierto"), ("A little true", "Un poco cierto"),
                 ("Moderately true", "Moderadamente cierto"), ("Very true", "Muy cierto"),
                 ("Completely true", "Completamente cierto")),
    "frequency_5": _s("~", 2, ("Never", "Nunca"), ("Rarely", "Rara vez"), ("Sometimes", "A veces"),
                      ("Often", "Con frecuencia", "frecuentemente"), ("Always", "Siempre", "very often")),
    "frequency_visit_5": _s("~", 2, ("Never", "Nunca"), ("A few times", "Algunas veces"),
                            ("About once a month", "Una vez al mes"), ("About once a week", "Una vez a la semana"),
                            ("Multiple times per week", "Varias veces por semana")),
    "time_6": _s("~", 2, ("None of the time", "Nunca"), ("A little of the time", "Un poco del tiempo"),
                 ("Some of the time", "Parte del tiempo"), ("A good bit of the time", "Buena parte del tiempo"),
                 ("Most of the time", "La mayor parte del tiempo"), ("All of the time", "Todo el tiempo")),
    "days_4": _s("~", 2, ("Not at all", "Nunca"), ("Several days", "Varios días"),
                 ("More than half the days", "Más de la mitad de los días"), ("Nearly every day", "Casi todos los días")),
    "compare_5": _s("~", 2, ("Much less than I do", "Mucho menos que yo"), ("A little less than I do", "Un poco menos que yo"),
                    ("About the same as I do", "Más o menos igual que yo"), ("A little more than I do", "Un poco más que yo"),
                    ("Much more than I do", "Mucho más que yo")),
    "involved_3": _s("~", 1, ("No, not involved", "No participo"), ("Yes, a little involved", "Sí, participo un poco"),
                     ("Yes, very involved", "Sí, participo mucho")),
    "better_3": _s(None, 1, ("Worse", "Peor"), ("About the same", "Igual", "más o menos igual"), ("Better", "Mejor")),
    "better_5": _s(None, 2, ("Much worse", "Mucho peor"), ("A little worse", "Un poco peor", "somewhat worse"),
                   ("About the same", "Igual", "más o menos igual"), ("A little better", "Un poco mejor", "somewhat better"),
                   ("Much better", "Mucho mejor")),
    "safer_3": _s("safety", 1, ("Less safe", "Menos seguro"), ("About the same", "Más o menos igual", "igual"),
                  ("Safer", "Más seguro", "more safe")),
    "political_7": _s(None, 0, ("Strongly liberal", "Muy liberal"), ("Moderately liberal", "Moderadamente liberal"),
                      ("Slightly liberal", "Ligeramente liberal"), ("Neutral", "Neutral"),
                      ("Slightly conservative", "Ligeramente conservador"),
                      ("Moderately conservative", "Moderadamente conservador"),
                      ("Strongly conservative", "Muy conservador")),
}
#: English wordings only (kept for callers of the old module).
KNOWN_SCALES: dict[str, list[str]] = {k: [p[0] for p in v["positions"]] for k, v in LIBRARY.items()}

_LIB_INDEX: dict[str, dict[str, tuple[int, bool]]] = {}
for _name, _spec in LIBRARY.items():
    idx: dict[str, tuple[int, bool]] = {}
    for _pos, _words in enumerate(_spec["positions"], start=1):
        for _k, _w in enumerate(_words):
            idx.setdefault(normalize_name(_w), (_pos, _k == 1))
    _LIB_INDEX[_name] = idx

_ES_WORDS = re.compile(r"\b(muy|algo|nada|poco|mucho|ni|acuerdo|desacuerdo|segur[oa]|insegur[oa]|satisfech[oa]|"
                       r"insatisfech[oa]|problema|prioridad|importante|probable|improbable|cierto|nunca|siempre|veces|"
                       r"buen[oa]|mal[oa]|regular|excelente|peor|mejor|igual|baja|alta|moderad[oa]|media|m[aá]xima|"
                       r"confianza|participo|semana|mes|d[ií]as)\b", re.I)

# --- missing codes -------------------------------------------------------------------------------

_DK = re.compile(r"\b(don'?t know|dont know|do not know|not sure|unsure|no opinion|dk|no s[eé]|no lo s[eé]|"
                 r"never go there|no aplica|not applicable|n/?a|does not apply|no answer given|can'?t say)\b", re.I)
_REF = re.compile(r"\b(refused|refuse|prefer not|decline|no answer|no response|rather not|prefiero no|se niega|"
                  r"sin respuesta|not answered|skipped)\b", re.I)


_MISSING_PAIRS = {"dont_know": ("Don't know", "No sé"), "refused": ("Prefer not to say", "Prefiero no contestar")}
_SPANISH_MISSING = re.compile(r"\b(no s[eé]|no lo s[eé]|prefiero no|se niega|sin respuesta|no aplica)\b", re.I)


def missing_labels(label: str, kind: str) -> tuple[str, str]:
    """(English, Spanish) labels of a missing answer: the export's wording in its language, the
    conventional wording in the other."""
    en, es = _MISSING_PAIRS.get(kind, (label, label))
    return (en, label) if _SPANISH_MISSING.search(label) else (label, es)


def missing_kind(label: str) -> str | None:
    """``dont_know`` / ``refused`` for a non-substantive answer label, else ``None``."""
    t = str(label).strip()
    if _REF.search(t) and not re.search(r"don'?t know", t, re.I):
        return "refused"
    if _DK.search(t):
        return "dont_know"
    return None


# --- the result ------------------------------------------------------------------------------------


@dataclass
class ScaleGuess:
    """An answer scale recognised from values, labels or codes.

    ``codes``: (code, en label, es label or None), in export code order; ``value_codes``: export
    value (normalized) -> code; ``missing``: kind -> (code, label); ``missing_values``: export
    value (normalized) -> kind; ``why``/``guessed``: evidence by field (scale, order, positive,
    missing, type, role).
    """

    kind: str  # "scale" (ordered) or "choices"
    codes: list[tuple[int, str, str | None]]
    positive: list[int] = field(default_factory=list)
    missing: dict[str, tuple[int, str]] = field(default_factory=dict)
    value_codes: dict[str, int] = field(default_factory=dict)
    missing_values: dict[str, str] = field(default_factory=dict)
    library: str | None = None
    role: str | None = None
    spanish: bool = False
    why: dict[str, str] = field(default_factory=dict)
    guessed: set[str] = field(default_factory=set)
    name_hint: str = "scale"

    def signature(self) -> tuple:
        """One answer list per signature: a library scale is one list whatever missing codes each
        column shows (they are merged); other lists must agree on codes, labels and missing codes."""
        if self.library and self.kind == "scale":
            return ("library", self.library, tuple(self.positive), tuple((c, normalize_name(lab)) for c, lab, _ in self.codes))
        return (self.kind, tuple((c, normalize_name(lab)) for c, lab, _ in self.codes), tuple(sorted(self.positive)),
                tuple(sorted((k, v[0]) for k, v in self.missing.items())))

    @property
    def negative_first(self) -> bool:
        return not self.positive or max(self.positive) == max(c for c, _, _ in self.codes)


def _missing_block(missing_labels: dict[str, str], n_codes: int, taken: set[int]) -> dict[str, tuple[int, str]]:
    """Codes for text missing answers: 8/9 on short scales, 98/99 on long ones (never an answer code)."""
    base = {"dont_know": 8, "refused": 9} if n_codes < 8 else {"dont_know": 98, "refused": 99}
    out: dict[str, tuple[int, str]] = {}
    for lab, kind in missing_labels.items():
        if kind in out:
            continue
        code = base[kind]
        while code in taken:
            code += 100
        out[kind] = (code, lab)
    return out


def split_missing(values: list[str]) -> tuple[list[str], dict[str, str]]:
    """Substantive answers and {missing label: kind} from text values."""
    answers, missing = [], {}
    for v in values:
        kind = missing_kind(v)
        if kind:
            missing.setdefault(v, kind)
        else:
            answers.append(v)
    return answers, missing


# --- library -----------------------------------------------------------------------------------------


def library_scale(values: list[str], *, pooled: bool = False) -> ScaleGuess | None:
    """The smallest library scale whose wordings (English or Spanish) cover every value.

    At least 3 distinct positions must be seen (or all of them), unless ``pooled`` says the values
    come from one column whose stem-mates already decided (then 1 is enough).
    """
    answers, missing = split_missing(values)
    if not answers:
        return None
    norm = [normalize_name(v) for v in answers]
    best = None
    for name, idx in _LIB_INDEX.items():
        if not all(n in idx for n in norm):
            continue
        positions = {idx[n][0] for n in norm}
        size = len(LIBRARY[name]["positions"])
        if not (len(positions) >= 3 or len(positions) == size or pooled):
            continue
        if best is None or size < len(LIBRARY[best]["positions"]):
            best = name
    if best is None:
        return None
    spec, idx = LIBRARY[best], _LIB_INDEX[best]
    size = len(spec["positions"])
    # each position is labelled with the wording the export used (so its answers recode), in English
    # and in Spanish when seen; the library's wording otherwise
    seen_en: dict[int, str] = {}
    seen_es: dict[int, str] = {}
    for a, n in zip(answers, norm, strict=True):
        (seen_es if _ES_WORDS.search(a) else seen_en).setdefault(idx[n][0], a)
    codes = [(i, seen_en.get(i, p[0]), seen_es.get(i, p[1])) for i, p in enumerate(spec["positions"], start=1)]
    spanish = bool(seen_es)
    role = spec["role"] if spec["role"] != "~" else None
    g = ScaleGuess(kind="scale", codes=codes, library=best, role=role, spanish=spanish, name_hint=best)
    g.positive = list(range(size - spec["top"] + 1, size + 1)) if spec["top"] else []
    g.value_codes = {n: idx[n][0] for n in norm}
    g.missing = _missing_block(missing, size, {c for c, _, _ in codes})
    g.missing_values = {normalize_name(v): k for v, k in missing.items()}
    seen = ", ".join(sorted(set(answers), key=lambda a: g.value_codes[normalize_name(a)])[:6])
    g.why["scale"] = f"answers ({seen}) are the wordings of the {size}-point scale '{best}'" + (
        " (English and Spanish answers mixed)" if spanish else "")
    g.why["order"] = f"'{codes[0][1]}' … '{codes[-1][1]}' is the known order of '{best}'"
    if g.positive and spec["role"] == "~":
        g.why["positive"] = (f"top box at the '{codes[-1][1]}' end (the 'more' end: this scale has no good or bad "
                             "direction of its own)")
        g.guessed.add("positive")
    elif g.positive:
        g.why["positive"] = f"top box at the '{codes[-1][1]}' end"
    else:
        g.why["positive"] = "the scale has no positive end (neither end is better)"
    if g.missing:
        g.why["missing"] = ", ".join(f"'{lab}' = {kind} ({code})" for kind, (code, lab) in g.missing.items())
    return g


# --- polarity fallback -------------------------------------------------------------------------------

_POS = re.compile(r"\b(satisf\w*|good|great|excellent|agree\w*|safe|safer|likely|important|better|high|higher|confident|"
                  r"trust\w*|support\w*|approve\w*|effective|helpful|easy|comfortable|favou?rable|positive|fair|"
                  r"respectful|responsive|satisfecho|satisfecha|bueno|buena|excelente|acuerdo|segur[oa]|probable|"
                  r"importante|mejor|alt[oa]|confianza|f[aá]cil|eficaz|efectiv[oa])\b", re.I)
_NEG = re.compile(r"\b(dissatisf\w*|unsatisf\w*|poor|bad|terrible|awful|disagree\w*|unsafe|unlikely|unimportant|worse|"
                  r"low|lower|distrust\w*|oppose\w*|disapprove\w*|ineffective|unhelpful|difficult|uncomfortable|"
                  r"unfavou?rable|negative|unfair|disrespectful|insatisfech[oa]|mal[oa]?|desacuerdo|insegur[oa]|"
                  r"improbable|peor|baj[oa]|dif[ií]cil|ineficaz)\b", re.I)
_NEGATION = re.compile(r"\b(not|no|never|nada|nunca)\b", re.I)
_STRONG = re.compile(r"\b(very|strongly|extremely|completely|totally|much|highly|muy|totalmente|completamente|"
                     r"mucho|sumamente)\b", re.I)
_WEAK = re.compile(r"\b(somewhat|slightly|a little|fairly|rather|mostly|algo|un poco|ligeramente)\b", re.I)
_NEUTRAL = re.compile(r"\b(neither|neutral|neutro|indiferente|about the same|mixed|ni\b.*\bni|undecided|"
                      r"more or less|m[aá]s o menos)\b", re.I)


def polarity(label: str) -> float | None:
    """A signed intensity for a rating label (+2 very positive … -2 very negative, 0 neutral), or
    ``None`` when the label carries no polarity word."""
    t = str(label)
    if _NEUTRAL.search(t):
        return 0.0
    pos, neg = bool(_POS.search(t)), bool(_NEG.search(t))
    if pos == neg:
        return None
    sign = 1.0 if pos else -1.0
    if _NEGATION.search(t):
        if re.search(r"\b(not at all|nada|no\b.*\ben absoluto)\b", t, re.I):
            return -2.0 * sign if sign > 0 else 2.0
        if re.search(r"\bnot (very|too|so)\b", t, re.I):
            return -0.5 * sign
        sign = -sign
    mag = 2.0 if _STRONG.search(t) else 0.5 if _WEAK.search(t) else 1.0
    return sign * mag


def polarity_scale(values: list[str]) -> ScaleGuess | None:
    """Order unseen wordings by polarity words (very/somewhat/not, good/poor...): a guess."""
    answers, missing = split_missing(values)
    if not 3 <= len(answers) <= 11:
        return None
    scores = {a: polarity(a) for a in answers}
    if any(s is None for s in scores.values()):
        return None
    vals = list(scores.values())
    if len(set(vals)) != len(vals) or not (min(vals) < 0 < max(vals)):
        return None
    ordered = sorted(answers, key=lambda a: scores[a])
    codes = [(i, a, None) for i, a in enumerate(ordered, start=1)]
    k = 1 if len(codes) <= 3 else 2
    g = ScaleGuess(kind="scale", codes=codes, positive=[c for c, _, _ in codes[-k:]], name_hint="rating")
    g.value_codes = {normalize_name(a): i for i, a, _ in codes}
    g.missing = _missing_block(missing, len(codes), set(range(1, len(codes) + 1)))
    g.missing_values = {normalize_name(v): kk for v, kk in missing.items()}
    g.why["scale"] = f"{len(codes)} answers carry rating words (very/somewhat/not, good/poor...)"
    g.why["order"] = "ordered by polarity words: " + " < ".join(a for _, a, _ in codes)
    g.why["positive"] = f"top box at '{codes[-1][1]}' (its words read positive)"
    g.guessed |= {"scale", "order", "positive"}
    if g.missing:
        g.why["missing"] = ", ".join(f"'{lab}' = {kind} ({code})" for kind, (code, lab) in g.missing.items())
    return g


# --- numeric codes with trailing non-substantive codes ---------------------------------------------------

_SPECIAL_CANDIDATES = (-9, -8, -7, -3, -2, -1, 0, 7, 8, 9, 77, 88, 97, 98, 99, 999)
_ENDPOINT = re.compile(r"(-?\d+)\s*(?:means|means that|=|is|being|for)\s*[\"'“]?([A-Za-z][A-Za-z' ]{1,30}?)[\"'”]?"
                       r"(?=\s*(?:,|\.|;|\)|and\b|&|$|where|please|to\b))", re.I)


def endpoint_labels(text: str) -> dict[int, str]:
    """``"where 5 means Excellent and 1 means Poor"`` -> {5: 'Excellent', 1: 'Poor'}."""
    out: dict[int, str] = {}
    for m in _ENDPOINT.finditer(text or ""):
        out.setdefault(int(m.group(1)), m.group(2).strip())
    return out


def numeric_scale(counts: Counter, *, wording: str = "", n_columns: int = 1, stem: str = "") -> ScaleGuess | None:
    """An ordered scale from integer codes: a consecutive core (3 to 11 codes from 0 or 1) plus
    trailing non-substantive codes after a gap (``1-5`` + ``9``, ``1-4`` + ``8``/``9``, ``1-10`` + ``99``,
    ``-1``/``0`` specials). Without specials, only when the wording rates something or several
    columns share the codes. ``None`` when the codes are not a scale.
    """
    ints = sorted(counts)
    if len(ints) < 2 or len(ints) > 14:
        return None
    specials: list[int] = []
    core = list(ints)
    # trailing codes after a gap (1-5 + 9 + 99, 1-4 + 8 + 9, 1-10 + 99): the first split that leaves
    # only special-looking codes after a gap of at least 2
    for j in range(3, len(ints)):
        if ints[j] - ints[j - 1] >= 2 and all(v in _SPECIAL_CANDIDATES for v in ints[j:]):
            core, specials = ints[:j], ints[j:]
            break
    while len(core) > 3 and core[0] < 0 and core[0] in _SPECIAL_CANDIDATES:
        specials.append(core.pop(0))
    lo = 1 if core[0] in (1, 2) else 0 if core[0] == 0 else None
    if lo is None:
        return None
    hi = core[-1]
    span = list(range(lo, hi + 1))
    if not 3 <= len(span) <= 11 or set(core) - set(span) or len(set(core)) < 0.8 * len(span):
        return None
    if any(b - a > 2 for a, b in pairwise(core)):  # codes missing inside: not one scale
        return None
    rating_words = re.search(r"\b(rate|rating|satisf|agree|safe|excellent|poor|important|likely|scale of|"
                             r"how (well|much|safe|satisfied|likely|often|important)|priority|problem|trust|confiden)",
                             wording or "", re.I)
    counting = re.search(r"\b(how many|number of|age|years|how old|times|count|zip|year)\b", wording or "", re.I)
    if counting and not rating_words:
        return None
    if not specials and not rating_words and not (n_columns >= 2 and len(span) <= 7):
        return None
    ends = endpoint_labels(wording)
    codes = [(c, str(c), None) for c in span]
    if ends:
        codes = [(c, f"{c} ({ends[c]})" if c in ends else str(c), None) for c in span]
    g = ScaleGuess(kind="scale", codes=codes, name_hint=f"codes_{lo}_{hi}")
    total = sum(counts.values())
    spec_share = sum(counts[s] for s in specials) / total if total else 0.0
    where = f"in {n_columns} columns sharing stem {stem}" if n_columns > 1 else "in the column"
    g.why["scale"] = (f"values {lo}–{hi}" + (f" plus {', '.join(map(str, specials))} ({spec_share:.0%} of answers)"
                                             if specials else "") + f" {where}")
    g.why["order"] = f"numeric codes {lo}–{hi} taken in their order"
    k = 1 if len(span) <= 3 else 2
    lo_lab, hi_lab = ends.get(lo) or ends.get(lo + (1 if lo == 0 else 0)), ends.get(hi)
    lp, hp = (polarity(lo_lab) if lo_lab else None), (polarity(hi_lab) if hi_lab else None)
    if lp is not None and hp is not None and lp != hp:
        top_high = hp > lp
        g.why["positive"] = f"the wording says {hi} means '{hi_lab}' and {lo} means '{lo_lab}'"
    elif hp is not None and hp != 0:
        top_high = hp > 0
        g.why["positive"] = f"the wording says {hi} means '{hi_lab}'"
    elif lp is not None and lp != 0:
        top_high = lp < 0
        g.why["positive"] = f"the wording says {lo} means '{lo_lab}'"
    else:
        top_high = True
        g.why["positive"] = f"no labels: the higher codes ({hi - 1}, {hi}) are taken as the positive end"
        g.guessed.add("positive")
    g.positive = span[-k:] if top_high else span[:k]
    if not ends:
        g.guessed.add("order")
    if not specials and not rating_words:
        g.guessed.add("scale")
    # kinds of the special codes: the lower special is "don't know", the higher "refused / no answer"
    kinds: dict[int, str] = {}
    pos_specials = sorted(s for s in specials if s >= 0)
    neg_specials = sorted(s for s in specials if s < 0)
    if len(pos_specials) == 1:  # 9, 8, 98: don't know (ETC, most vendors); 99, 999: no answer
        kinds[pos_specials[0]] = "refused" if pos_specials[0] in (99, 999) else "dont_know"
    elif pos_specials:
        kinds[pos_specials[0]] = "dont_know"
        kinds[pos_specials[-1]] = "refused"
    if neg_specials:  # -1 / -9: "no answer" in most vendors' conventions
        kinds.setdefault(neg_specials[-1], "refused" if "refused" not in kinds.values() else "dont_know")
    named = {}
    for m in re.finditer(r"(-?\d+)\s*[=:-]\s*(don'?t know|not sure|refused|no answer|prefer not[\w ]*|n/?a)", wording or "", re.I):
        named[int(m.group(1))] = m.group(2)
    for code, lab in named.items():
        if code in specials:
            kinds[code] = missing_kind(lab) or kinds.get(code, "dont_know")
    for kind in ("dont_know", "refused"):
        codes_of = [c for c, k2 in kinds.items() if k2 == kind]
        if codes_of:
            c = codes_of[0]
            g.missing[kind] = (c, named.get(c) or ("Don't know" if kind == "dont_know" else "No answer / refused"))
    unkinded = [s for s in specials if s not in {v[0] for v in g.missing.values()}]
    if g.missing:
        g.why["missing"] = ", ".join(f"{code} = {kind}" for kind, (code, _) in g.missing.items()) + (
            " (as the wording says)" if named else " (trailing codes after a gap; kinds by convention: 8/9/98 don't "
                                                   "know, 99/-1 no answer; of two, the lower is don't know)")
        if not named:
            g.guessed.add("missing")
    if unkinded:
        g.why["missing"] = g.why.get("missing", "") + f"; codes {unkinded} also look non-substantive but only two kinds exist"

    g.value_codes = {str(c): c for c in span}
    g.missing_values = {str(code): kind for kind, (code, _) in g.missing.items()}
    g.extra_specials = unkinded  # type: ignore[attr-defined]
    return g


# --- codebook value labels ------------------------------------------------------------------------------


def codebook_scale(pairs: list[tuple[int, str]]) -> ScaleGuess:
    """A scale or choice list from codebook value labels (``5 - Excellent, ..., 9 - Don't Know``):
    the labels decide whether it is ordered, its order and its positive end."""
    answers = sorted((c, lab) for c, lab in pairs if not missing_kind(lab))
    missing: dict[str, tuple[int, str]] = {}
    for c, lab in pairs:
        k = missing_kind(lab)
        if k and k not in missing:
            missing[k] = (c, lab)
    labels = [lab for _, lab in answers]
    lib = library_scale(labels)
    pols = [polarity(lab) for lab in labels]
    codes_only = [c for c, _ in answers]
    consecutive = codes_only == list(range(codes_only[0], codes_only[0] + len(codes_only))) if codes_only else False
    g = ScaleGuess(kind="choices", codes=[(c, lab, None) for c, lab in answers], missing=missing)
    g.value_codes = {str(c): c for c in codes_only}
    g.missing_values = {str(c): k for k, (c, _) in missing.items()}
    if missing:
        g.why["missing"] = ", ".join(f"{c} '{lab}' = {k}" for k, (c, lab) in missing.items()) + " (codebook labels)"

    if lib is not None and consecutive:
        g.kind, g.library, g.role, g.name_hint = "scale", lib.library, lib.role, lib.library
        pos_of = {normalize_name(lab): lib.value_codes[normalize_name(lab)] for lab in labels}
        lib_pos = [pos_of[normalize_name(lab)] for lab in labels]  # library position of each code, in code order
        high_positive = lib_pos[-1] > lib_pos[0]
        top = LIBRARY[lib.library]["top"]
        g.positive = (codes_only[-top:] if high_positive else codes_only[:top]) if top else []
        g.why["scale"] = f"codebook labels are the wordings of the scale '{lib.library}'"
        g.why["order"] = (f"codebook: {answers[-1][0]} = '{answers[-1][1]}' … {answers[0][0]} = '{answers[0][1]}'")
        g.why["positive"] = (f"the labels put the positive end at {answers[-1][0] if high_positive else answers[0][0]} "
                             f"('{answers[-1][1] if high_positive else answers[0][1]}')") if top else "no positive end"
        if LIBRARY[lib.library]["role"] == "~" and g.positive:
            g.why["positive"] += " (the 'more' end: this scale has no good or bad direction of its own)"
            g.guessed.add("positive")
        return g
    scored = [p for p in pols if p is not None]
    if consecutive and 3 <= len(answers) <= 11 and len(scored) >= max(2, (len(answers) + 1) // 2):
        g.kind, g.name_hint = "scale", "rating"
        lo = next(p for p in pols if p is not None)
        hi = next(p for p in reversed(pols) if p is not None)
        k = 1 if len(answers) <= 3 else 2
        if hi != lo:
            high_positive = hi > lo
            g.positive = codes_only[-k:] if high_positive else codes_only[:k]
            end = answers[-1] if high_positive else answers[0]
            g.why["positive"] = f"the label of code {end[0]} ('{end[1]}') reads positive"
        else:
            g.why["positive"] = "neither end reads more positive than the other: no positive end set"
            g.guessed.add("positive")
        g.why["scale"] = "codebook labels carry rating words"
        g.why["order"] = "codebook codes in their order: " + " < ".join(f"{c} {lab}" for c, lab in answers)
        return g
    g.why["scale"] = f"codebook: {len(answers)} labelled codes, not a rating scale"
    return g
