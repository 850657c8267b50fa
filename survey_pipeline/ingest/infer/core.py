"""The pure core of ``instrument infer``: an export's columns (and a codebook) in, a draft
instrument document and the evidence behind every decision out."""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import pandas as pd

from survey_pipeline.ingest.infer import roles as R
from survey_pipeline.ingest.infer import scales as S
from survey_pipeline.ingest.recode import _split_joined
from survey_pipeline.project import normalize_name

__all__ = ["Draft", "infer_draft"]

_MAX_CHOICES = 25
_ID_MAX = 40
_CHOICE_MAX = 30
_STOP = {"a", "an", "and", "the", "of", "or", "to", "for", "from", "by", "with", "in", "on", "at", "is", "are", "you",
         "your", "do", "does", "how", "what", "which", "please", "following", "would", "this", "that", "these", "it",
         "be", "de", "la", "el", "y", "en", "que", "los", "las", "del", "should", "s", "each", "about", "there",
         "any", "have", "like", "much", "many", "feel", "think", "rate", "overall"}
_WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "ten": 10, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5}
_PICKS = re.compile(r"\b(?:up to|at most|no more than|pick|choose|select|check|mark|which|hasta)\s+(?:the\s+)?"
                    r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|dos|tres|cuatro|cinco)\b", re.I)
_SLOT = re.compile(r"^\s*(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                   r"\d+(st|nd|rd|th)|(choice|pick|selection|rank) ?#? ?\d+)\b", re.I)
_OPEN = re.compile(r"\b(comments?|anything else|other (thoughts|suggestions)|please (explain|specify|describe)|"
                   r"suggestions?|comentarios?)\b", re.I)
_SLOT_SUFFIX = re.compile(r"_(\d+(st|nd|rd|th)|first|second|third|fourth|fifth)$", re.I)


# --- names ---------------------------------------------------------------------------------------


def _snake(text: str, *, max_len: int = _ID_MAX, default: str = "q") -> str:
    s = normalize_name(text).replace(" ", "_")
    s = re.sub(r"[^a-z0-9_]", "", s).strip("_")
    s = re.sub(r"_+", "_", s)
    if not s:
        s = default
    if not s[0].isalpha():
        s = f"{default}_{s}"
    if len(s) > max_len:
        cut = s[:max_len]
        s = cut.rsplit("_", 1)[0] if "_" in cut[max_len // 2:] else cut
    return s.strip("_")


def _short_name(text: str, *, words: int = 4, max_len: int = _ID_MAX, default: str = "q") -> str:
    """A readable id from a long wording: its first significant words."""
    text = re.sub(r"['’]s\b", "", re.sub(r"\([^)]*\)", " ", text))
    ws = [w for w in normalize_name(text).split() if w not in _STOP]
    return _snake("_".join(ws[:words]) or text, max_len=max_len, default=default)


class _Names:
    """One namespace of question ids, grid items and multi-select variables."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str, *, max_len: int = _ID_MAX) -> str:
        base = wanted[:max_len].rstrip("_") or "q"
        name, k = base, 2
        while name in self.used:
            suffix = f"_{k}"
            name = base[: max_len - len(suffix)].rstrip("_") + suffix
            k += 1
        self.used.add(name)
        return name


def _unique_choice_names(labels: list[str]) -> list[str]:
    names = _Names()
    return [names.take(_short_name(lab, words=3, max_len=_CHOICE_MAX, default="c"), max_len=_CHOICE_MAX)
            for lab in labels]


# --- columns --------------------------------------------------------------------------------------


@dataclass
class _Col:
    raw: object
    name: str
    header: str
    text: str
    item: str | None
    stem: str
    values: list[str]
    counts: Counter
    n: int
    ints: Counter | None
    cb: tuple | None = None
    # decided later
    kind: str = ""  # scale, choices, multi_joined, multi_option, integer, text, geography, slot
    guess: S.ScaleGuess | None = None
    multi_options: list[str] | None = None
    area: tuple | None = None
    why: dict[str, str] = field(default_factory=dict)
    guessed: set[str] = field(default_factory=set)


def _stem_of(raw, header: str) -> tuple[str, str | None, str | None]:
    """(stem, item label, stem wording) of a column: ``Q1[01]``, ``Q1_1``, ``Q1.1``, ``Q1A``,
    ``Q3 - Parks - …``, Qualtrics ``Question - Item`` text, SurveyMonkey question + option."""
    text, sub = getattr(raw, "text", None), getattr(raw, "sub", None)
    if sub and sub != "TEXT" and text:
        stem_text = text.rsplit(" - ", 1)[0].strip() if text.endswith(f" - {sub}") else text
        m = re.match(r"^([A-Za-z][A-Za-z0-9]*?)[_.\[]", header)
        return (f"H:{m.group(1)}" if m else f"T:{normalize_name(stem_text)}"), sub, stem_text
    m = re.match(r"^(.+?)\s+[-–]\s+(.+)$", header)
    if m and len(m.group(1)) <= 12:
        return f"H:{m.group(1).strip()}", m.group(2).strip(), None
    m = re.match(r"^(.+?)\[(.+?)\]$", header)
    if m:
        return f"H:{m.group(1)}", m.group(2), None
    m = re.match(r"^([A-Za-z]+\d+)([A-Za-z])$", header)
    if m:
        return f"H:{m.group(1)}", m.group(2), None
    m = re.match(r"^([A-Za-z][A-Za-z0-9]*?)[_.](.+)$", header)
    if m:
        return f"H:{m.group(1)}", m.group(2), None
    return f"C:{header}", None, None


def _profile(frame: pd.DataFrame, raw, codebook: dict) -> _Col:
    s = frame[raw.name].dropna().astype(str).str.strip()
    s = s[s != ""]
    counts = Counter(s.tolist())
    values = list(dict.fromkeys(s.tolist()))
    ints = None
    if values:
        num = pd.to_numeric(pd.Series(values), errors="coerce")
        # whole numbers only: "INFINITY", "nan" and 1e300 parse as floats but are no answer codes
        if num.notna().all() and (num.abs() < 1e15).all() and (num == num.round()).all():
            ints = Counter()
            for v, n in counts.items():
                ints[int(float(v))] += n
    header = raw.header or raw.name
    stem, item, stem_text = _stem_of(raw, header if raw.header else raw.name)
    text = raw.text or header
    cb = codebook.get(normalize_name(raw.name)) or codebook.get(normalize_name(header))
    if cb and cb[0]:
        parent = codebook.get(normalize_name(stem[2:])) if stem.startswith("H:") else None
        item = cb[0] if parent else item
        text = f"{parent[0]} — {cb[0]}" if parent and parent[0] else cb[0]
        stem_text = parent[0] if parent and parent[0] else stem_text
    elif stem.startswith("H:"):  # no entry of its own: its stem's entry gives the wording
        parent = codebook.get(normalize_name(stem[2:]))
        if parent and parent[0]:
            text = f"{parent[0]} — {header}"
            stem_text = stem_text or parent[0]
    if stem_text is None and raw.text and " - " in raw.text:
        stem_text = raw.text.rsplit(" - ", 1)[0]
    c = _Col(raw=raw, name=raw.name, header=header, text=text, item=item, stem=stem, values=values, counts=counts,
             n=len(s), ints=ints, cb=cb)
    c.stem_text = stem_text  # type: ignore[attr-defined]
    return c


def _joined_options(values: list[str]) -> list[str] | None:
    """The options of a comma-joined multi-select, or None when the column is not one."""
    if not any("," in v for v in values):
        return None
    cand = {normalize_name(v): i for i, v in enumerate(values)}
    joined = set()
    for v in values:
        if "," not in v:
            continue
        others = {k: float(i) for k, i in cand.items() if k != normalize_name(v)}
        found, bad = _split_joined(v, others)
        if len(found) >= 2 and not bad:
            joined.add(v)
    if not joined:
        return None
    opts = [v for v in values if v not in joined]
    # options only ever seen joined (never alone): split the joined cells on the known ones
    return opts or None


def _option_column(c: _Col) -> str | None:
    """The option a per-option multi-select column stands for (label/blank or 0/1), else None."""
    vals = [v for v in c.values if v not in ("0", "0.0")]
    if len(vals) != 1:
        return None
    v = vals[0]
    if v in ("1", "1.0", "X", "x", "Yes", "yes", "TRUE", "True", "true", "Selected", "Checked"):
        return c.item or c.header
    if c.ints is not None:
        return None
    return v


# --- the draft --------------------------------------------------------------------------------------


@dataclass
class Draft:
    """What :func:`infer_draft` returns."""

    doc: dict
    evidence: dict[str, dict]
    area_columns: list[dict]
    weight_column: dict | None
    mode: dict | None
    counts: dict[str, int]
    notes: list[str]
    comments: dict[tuple[str, str], str]  # (question id or "scale:<name>", field) -> guessed why


def infer_draft(frame: pd.DataFrame, columns, codebook: dict | None = None, *, meta: dict | None = None,
                instrument_id: str = "draft", title: str = "Draft instrument") -> Draft:
    """Infer a draft instrument from the answer columns of a read export (pure: no files).

    Parameters
    ----------
    frame, columns
        :attr:`RawExport.frame` and :attr:`RawExport.columns` (or any frame of strings and objects
        with ``name``, ``header``, ``text``, ``key``, ``sub``, ``role``).
    codebook
        :func:`read_codebook` output: its question texts and value labels win over the data.
    meta
        :attr:`RawExport.meta` (standard field -> column), for the mode.
    """
    codebook = codebook or {}
    counts: Counter = Counter()
    notes: list[str] = []
    cols: list[_Col] = []
    weight = None
    for raw in columns:
        if raw.role == "meta":
            counts["skipped_meta"] += 1
            continue
        why = R.weight_why(raw.header or raw.name, frame[raw.name])
        if why and weight is None:
            weight = {"column": raw.name, "question": None, "why": why}
            counts["weight"] += 1
            continue
        cols.append(_profile(frame, raw, codebook))

    # 1. each column on its own
    for c in cols:
        _classify(c, frame)
    # 2. stem groups: pooled numeric codes, per-option multi-selects, pick slots, library scales
    groups = _stem_runs(cols)
    for run in groups:
        _classify_run(run)
    for c in cols:
        if c.kind == "numeric":
            wording = " ".join(x for x in (getattr(c, "stem_text", None) or "", c.text) if x)
            g = S.numeric_scale(c.ints, wording=wording)
            if g is not None:
                c.kind, c.guess = "scale", g
            else:
                c.kind = "integer"
                c.why["type"] = "whole numbers that are not a rating scale"

    builder = _Builder(frame)
    builder.build(cols, groups)
    area_columns = R.nest_areas(frame, builder.area_columns)
    # the coarse-to-fine order of areas: questions keep the export order, the list says the nesting
    mode = R.mode_of(frame, meta or {})
    doc = builder.document(instrument_id, title)
    counts.update(builder.counts)
    counts["questions"] = len(builder.questions)
    notes += builder.notes
    return Draft(doc=doc, evidence=builder.evidence, area_columns=area_columns, weight_column=weight, mode=mode,
                 counts=dict(counts), notes=notes, comments=builder.comments)


def _classify(c: _Col, frame: pd.DataFrame) -> None:
    """Decide what one column holds, from its own values (stem-mates may revise it)."""
    if c.cb and c.cb[1] and len({code for code, _ in c.cb[1]}) == len(c.cb[1]):
        c.kind, c.guess = "scale", S.codebook_scale(c.cb[1])
        if c.guess.kind == "choices":
            c.kind = "choices"
        c.why.update(c.guess.why)
        return
    area = R.area_level(c.header, c.text if c.text != c.header else "", c.values)
    if area is not None:
        c.kind, c.area = "geography", area
        return
    open_ended = getattr(c.raw, "sub", None) in ("TEXT", "Open-Ended Response") or bool(
        _OPEN.search(c.text or "") and S.library_scale(c.values) is None and len(c.values) <= max(1, c.n // 2)
        and c.ints is None and not _joined_options(c.values))
    if not c.values or c.header.upper().endswith("_TEXT") or open_ended:
        c.kind = "text"
        c.why["type"] = "no answers" if not c.values else "a free-text companion column (_TEXT)"
        return
    if c.ints is not None:
        c.kind = "numeric"
        return
    if _option_column(c) is not None:
        c.kind = "maybe_option"
    answers, missing = S.split_missing(c.values)
    opts = _joined_options(answers)
    if opts is not None and len(opts) <= _MAX_CHOICES:
        c.kind, c.multi_options = "multi_joined", opts
        c.missing_labels = missing  # type: ignore[attr-defined]
        c.why["type"] = f"cells join several answers with commas ({sum(',' in v for v in c.values)} combinations seen)"
        return
    lib = S.library_scale(c.values)
    if lib is not None:
        c.kind, c.guess = "scale", lib
        return
    if c.kind == "maybe_option":
        return
    pol = S.polarity_scale(c.values)
    if pol is not None:
        c.kind, c.guess = "scale", pol
        return
    if len(answers) > _MAX_CHOICES or (len(c.values) > 10 and len(c.values) > 0.5 * c.n):
        c.kind = "text"
        c.why["type"] = f"{len(c.values)} different answers in {c.n} rows: free text"
        return
    c.kind = "choices"
    c.missing_labels = missing  # type: ignore[attr-defined]


def _codebook_extras(run: list[_Col]) -> None:
    """Codes in the data that the codebook does not list: trailing non-substantive codes (``9``,
    ``99`` above the labelled codes, after a gap) become missing codes — a guess; the columns of
    one stem that share the codebook's labels are pooled so they keep one list."""
    groups: dict[tuple, list[_Col]] = {}
    for c in run:
        if c.guess is not None and c.cb and c.ints is not None:
            groups.setdefault(tuple(c.cb[1]), []).append(c)
    for members in groups.values():
        g0 = members[0].guess
        known = {code for code, _, _ in g0.codes} | {m[0] for m in g0.missing.values()}
        top = max(code for code, _, _ in g0.codes) if g0.codes else 0
        pooled: Counter = Counter()
        for c in members:
            pooled.update(c.ints)
        extras = sorted(v for v in pooled if v not in known and v >= top + 2 and v in S._SPECIAL_CANDIDATES)
        if not extras:
            continue
        added = {}
        for v in extras:
            free = [k for k in ("dont_know", "refused") if k not in g0.missing and k not in added]
            if not free:
                break
            kind = "refused" if (v in (99, 999) and "refused" in free) else free[0]
            added[kind] = (v, "Don't know" if kind == "dont_know" else "No answer / refused")
        n = sum(pooled[v] for v, _ in added.values())
        for c in members:
            c.guess.missing.update(added)
            c.guess.value_codes.update({str(v): v for v, _ in added.values()})
            why = (f"{', '.join(f'{v} = {k}' for k, (v, _) in added.items())}: in the data ({n} answers) but not in the "
                   "codebook, after its last code")
            c.guess.why["missing"] = (c.guess.why.get("missing", "") + "; " + why).lstrip("; ")
            c.guess.guessed.add("missing")


def _stem_runs(cols: list[_Col]) -> list[list[_Col]]:
    runs: list[list[_Col]] = []
    for c in cols:
        if runs and runs[-1][-1].stem == c.stem and not c.stem.startswith("C:"):
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def _classify_run(run: list[_Col]) -> None:
    """Revise a run of columns sharing a stem: per-option multi-select, pooled numeric scale,
    pick slots, library scale decided by stem-mates."""
    stem = run[0].stem[2:]
    _codebook_extras(run)
    if len(run) >= 2 and all(c.kind in ("maybe_option", "numeric", "text") for c in run):
        opts = [_option_column(c) for c in run]
        if sum(o is not None for o in opts) >= 2 and all(o is not None or not c.values for o, c in zip(opts, run, strict=True)):
            for o, c in zip(opts, run, strict=True):
                c.kind = "multi_option"
                c.option = o or c.item or c.header  # type: ignore[attr-defined]
            return
    for c in run:
        if c.kind == "maybe_option":
            pol = S.polarity_scale(c.values)
            c.kind, c.guess = ("scale", pol) if pol else ("choices", None)
            if c.guess is None:
                c.missing_labels = S.split_missing(c.values)[1]  # type: ignore[attr-defined]
    # pick slots: "First", "Second"... or Q25_1st: one list of codes, a different pick per slot
    slot_run: list[_Col] = []
    for c in [*run, None]:
        is_slot = c is not None and (c.kind in ("numeric", "choices") or (c.kind == "scale" and c.cb)) and (
            _SLOT.match(c.item or "") or _SLOT_SUFFIX.search(c.header))
        if is_slot:
            slot_run.append(c)
            continue
        if len(slot_run) >= 2:
            for k, sc in enumerate(slot_run, start=1):
                sc.slot = (k, len(slot_run), stem)  # type: ignore[attr-defined]
                if sc.kind == "scale" and sc.guess is not None and sc.cb:
                    sc.guess.kind = "choices"
                    sc.kind = "choices"
        slot_run = []
    slot_like = any(getattr(c, "slot", None) for c in run)
    numeric = [c for c in run if c.kind == "numeric"]
    if len(numeric) >= 2 and not slot_like:
        pooled: Counter = Counter()
        for c in numeric:
            pooled.update(c.ints)
        wording = " ".join(x for x in (getattr(run[0], "stem_text", None) or "", run[0].text) if x)
        g = S.numeric_scale(pooled, wording=wording, n_columns=len(numeric), stem=stem)
        if g is not None:
            allowed = set(g.value_codes.values()) | {m[0] for m in g.missing.values()} | set(getattr(g, "extra_specials", []))
            for c in numeric:
                if set(c.ints) <= allowed:
                    c.kind, c.guess = "scale", g
    # text columns on one library scale: the stem-mates' answers pooled decide the wording of each
    # code (so every item of a grid shares one scale), and columns whose own answers were too few
    # for a scale join it
    libs = {c.guess.library for c in run if c.kind == "scale" and c.guess is not None and c.guess.library and not c.cb}
    if len(libs) == 1:
        lib = libs.pop()
        members = [c for c in run if not c.cb and c.values and (
            (c.kind == "scale" and c.guess is not None and c.guess.library == lib) or (
                c.kind == "choices" and (g1 := S.library_scale(c.values, pooled=True)) is not None and g1.library == lib))]
        pooled = list(dict.fromkeys(v for c in members for v in c.values))
        g = S.library_scale(pooled, pooled=True)
        if g is not None and g.library == lib:
            if len(members) > 1:
                g.why["scale"] += f" (answers of {len(members)} columns sharing stem {stem})"
            for c in members:
                c.kind, c.guess = "scale", g
    for c in run:
        if c.kind == "numeric" and getattr(c, "slot", None):
            c.kind = "integer"


# --- building the document ------------------------------------------------------------------------------


class _Builder:
    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.names = _Names()
        self.list_names = _Names()
        self.scales: OrderedDict[str, dict] = OrderedDict()
        self.choice_lists: OrderedDict[str, dict] = OrderedDict()
        self.by_sig: dict[tuple, str] = {}
        self.list_guess: dict[str, S.ScaleGuess] = {}
        self.questions: list[dict] = []
        self.evidence: dict[str, dict] = {}
        self.comments: dict[tuple[str, str], str] = {}
        self.area_columns: list[dict] = []
        self.counts: Counter = Counter()
        self.notes: list[str] = []
        self.departments: set[str] = set()
        self.spanish = False

    # lists ----------------------------------------------------------------------------------------

    def add_list(self, g: S.ScaleGuess, hint: str | None = None) -> tuple[str, str]:
        """The name of the scale/choice list for a guess ("scale"|"choices", name)."""
        sig = g.signature()
        if sig in self.by_sig:
            name = self.by_sig[sig]
            entry = self.scales.get(name) or self.choice_lists.get(name)
            if g.missing:  # merge the missing codes other columns on this list showed
                have = entry.setdefault("missing", {})
                for k, (code, lab) in g.missing.items():
                    if k not in have and code not in {m["code"] for m in have.values()}:
                        have[k] = {"code": code, "label": self._missing_label(lab, k)}
            if g.spanish:
                self.spanish = True
            return ("scale" if name in self.scales else "choices"), name
        if g.spanish:
            self.spanish = True
        if g.kind == "scale":
            wanted = g.name_hint if g.library or not hint else f"{hint}_scale"
            name = self.list_names.take(_snake(wanted, default="scale"))
            entry: dict = {"ordered": True}
            if g.positive:
                entry["positive"] = list(g.positive)
            entry["codes"] = [{"code": c, "label": self._label(en, es)} for c, en, es in g.codes]
            if g.missing:
                entry["missing"] = {k: {"code": code, "label": self._missing_label(lab, k)}
                                    for k, (code, lab) in g.missing.items()}
            self.scales[name] = entry
            for fld in ("scale", "order", "positive", "missing"):
                if fld in g.guessed:
                    self.comments[(f"scale:{name}", fld)] = g.why.get(fld, "")
            self.counts["scales"] += 1
        else:
            wanted = hint + "_options" if hint and g.name_hint in ("scale", "rating", "list") else g.name_hint
            name = self.list_names.take(_snake(wanted, default="list"))
            labels = [en for _, en, _ in g.codes]
            entry = {"choices": [{"code": c, "name": nm, "label": self._label(en, es)}
                                 for (c, en, es), nm in zip(g.codes, _unique_choice_names(labels), strict=True)]}
            if g.missing:
                entry["missing"] = {k: {"code": code, "label": self._missing_label(lab, k)}
                                    for k, (code, lab) in g.missing.items()}
            self.choice_lists[name] = entry
            self.counts["choice_lists"] += 1
        self.by_sig[sig] = name
        self.list_guess[name] = g
        return ("scale" if g.kind == "scale" else "choices"), name

    @staticmethod
    def _missing_label(label: str, kind: str) -> dict:
        en, es = S.missing_labels(label, kind)
        return {"en": en, "es": es}

    @staticmethod
    def _label(en: str, es: str | None) -> dict:
        return {"en": en, "es": es} if es else {"en": en}

    def choices_guess(self, answers: list[str], missing: dict[str, str], hint: str) -> S.ScaleGuess:
        ordered = sorted(answers, key=normalize_name)
        g = S.ScaleGuess(kind="choices", codes=[(i, a, None) for i, a in enumerate(ordered, start=1)], name_hint=hint)
        g.missing = S._missing_block(missing, len(ordered), set(range(1, len(ordered) + 1)))
        g.value_codes = {normalize_name(a): i for i, a, _ in g.codes}
        g.why["scale"] = f"{len(ordered)} answers with no order in their wording: an unordered list (codes alphabetical)"
        if g.missing:
            g.why["missing"] = ", ".join(f"'{lab}' = {k} ({code})" for k, (code, lab) in g.missing.items())
        return g

    # questions ------------------------------------------------------------------------------------

    def build(self, cols: list[_Col], runs: list[list[_Col]]) -> None:
        for run in runs:
            i = 0
            while i < len(run):
                c = run[i]
                if c.kind == "multi_option":
                    j = i
                    while j < len(run) and run[j].kind == "multi_option":
                        j += 1
                    self.multi_from_options(run[i:j])
                    i = j
                    continue
                if c.kind in ("scale", "choices") and not getattr(c, "slot", None) and c.guess is not None:
                    j = i + 1
                    while (j < len(run) and run[j].kind == c.kind and run[j].guess is not None
                           and run[j].guess.signature() == c.guess.signature() and not getattr(run[j], "slot", None)):
                        j += 1
                    if j - i >= 2:
                        self.grid(run[i:j])
                        i = j
                        continue
                self.single(c)
                i += 1

    def _qid(self, c: _Col) -> str:
        h = c.header if c.header else c.name
        if len(h) <= 24 and " " not in h.strip():
            return self.names.take(_snake(h))
        return self.names.take(_short_name(c.text or h))

    def _ev(self, qid: str, cols: list[_Col]) -> dict:
        ev = {"columns": [c.name for c in cols], "why": {}, "guessed": []}
        self.evidence[qid] = ev
        return ev

    def _guess_fields(self, ev: dict, g: S.ScaleGuess | None) -> None:
        if g is None:
            return
        for fld in ("scale", "order", "positive", "missing"):
            if fld in g.why:
                ev["why"][fld] = g.why[fld]
            if fld in g.guessed and fld not in ev["guessed"]:
                ev["guessed"].append(fld)

    def single(self, c: _Col) -> None:
        qid = self._qid(c)
        q: dict = {"id": qid, "label": {"en": c.text}}
        ev = self._ev(qid, [c])
        ev["why"].update({k: v for k, v in c.why.items() if k not in ("scale", "order", "positive", "missing")})
        g = c.guess
        if c.kind == "geography":
            level, why, ph = c.area
            q.update(type="text", role="geography")
            ev["why"].update(type="area names or codes, kept as text", role=why, area_level=why)
            self.area_columns.append({"column": c.name, "question": qid, "level": level, "why": why, "placeholders": ph})
            self.counts["text"] += 1
        elif c.kind == "text":
            q.update(type="text", role="open_text")
            ev["why"].setdefault("type", "free text")
            ev["why"]["role"] = "a text answer"
            self.counts["text"] += 1
        elif c.kind == "integer" or (c.kind == "numeric"):
            q.update(type="integer")
            ev["why"].setdefault("type", "whole numbers")
            self.counts["integer"] += 1
        elif c.kind == "multi_joined":
            g = self.choices_guess(c.multi_options, getattr(c, "missing_labels", {}), _snake(c.header, default="list") + "_options")
            _, lst = self.add_list(g)
            q.update(type="multi", choices=lst)
            picks = self.max_picks(c.text, [c])
            if picks:
                q["max_picks"] = min(picks[0], len(g.codes))
                ev["why"]["type"] += f"; at most {q['max_picks']} picks: {picks[1]}"
            self.counts["multi"] += 1
        else:
            if g is None:
                answers, missing = S.split_missing(c.values)
                g = self.choices_guess(answers, missing, "list")
            kind, lst = self.add_list(g, hint=_snake(c.stem[2:]) if c.stem.startswith("H:") else qid)
            q.update(type="single", **{kind: lst})
            ev["why"]["type"] = "one answer from a list"
            self._guess_fields(ev, g)
            self.counts["single"] += 1
            slot = getattr(c, "slot", None)
            if slot:
                k, n, stem = slot
                ev["why"]["grid"] = f"pick slot {k} of {n} of {stem} (max_picks {n}): each slot holds one pick's code"
        self.finish(q, ev, [c], g)
        self.questions.append(q)

    def grid(self, run: list[_Col]) -> None:
        c0 = run[0]
        stem = c0.stem[2:] if c0.stem[:2] in ("H:", "T:") else c0.header
        gid = self.names.take(_snake(f"{stem}_grid") if c0.stem.startswith("H:") else _short_name(stem) + "_grid")
        kind, lst = self.add_list(c0.guess, hint=gid.removesuffix("_grid"))
        for c in run[1:]:
            self.add_list(c.guess)  # merges the missing codes each item showed
        stem_text = getattr(c0, "stem_text", None) or f"{stem} items"
        items = []
        for c in run:
            iid = self._qid(c)
            items.append({"id": iid, "label": {"en": c.item or c.text or c.header}})
        q = {"id": gid, "type": "grid", "label": {"en": stem_text}, kind: lst, "items": items}
        ev = self._ev(gid, run)
        ev["why"]["type"] = "several columns on one answer list"
        ev["why"]["grid"] = f"{len(run)} columns sharing stem {stem} and one answer list"
        self._guess_fields(ev, c0.guess)
        self.finish(q, ev, run, c0.guess)
        self.questions.append(q)
        self.counts["grids"] += 1

    def multi_from_options(self, run: list[_Col]) -> None:
        c0 = run[0]
        stem_text = getattr(c0, "stem_text", None) or c0.text or c0.stem[2:]
        labels = [c.option for c in run]
        g = S.ScaleGuess(kind="choices", codes=[(i, lab, None) for i, lab in enumerate(labels, start=1)],
                         name_hint=_snake(c0.stem[2:], default="list") + "_options")
        _, lst = self.add_list(g)
        wanted = _snake(c0.stem[2:]) if c0.stem.startswith("H:") else _short_name(stem_text)
        qid = self.names.take(wanted)
        q: dict = {"id": qid, "type": "multi", "label": {"en": stem_text}, "choices": lst}
        ev = self._ev(qid, run)
        ev["why"]["type"] = f"{len(run)} columns, one per option, each holding its option or blank (or 0/1)"
        picks = self.max_picks(stem_text, run)
        if picks:
            q["max_picks"] = min(picks[0], len(labels))
            ev["why"]["type"] += f"; at most {q['max_picks']} picks: {picks[1]}"
        self.counts["multi"] += 1
        self.finish(q, ev, run, None)
        self.questions.append(q)

    def max_picks(self, text: str, run: list[_Col]) -> tuple[int, str] | None:
        m = _PICKS.search(text or "")
        if m:
            tok = m.group(1).lower()
            n = int(tok) if tok.isdigit() else _WORD_NUM.get(tok)
            if n and n > 1:
                return n, f"wording says '{m.group(0)}'"
        return None

    # roles, departments -------------------------------------------------------------------------

    def finish(self, q: dict, ev: dict, run: list[_Col], g: S.ScaleGuess | None) -> None:
        c0 = run[0]
        qid = q["id"]
        if q.get("role") is None:
            wording = " ".join(x for x in (getattr(c0, "stem_text", None), c0.text if len(run) == 1 else None) if x)
            wording = wording or c0.text or c0.header
            self.role(q, ev, wording, c0, g, run)
        role = q["role"]
        # departments for services
        if role in ("satisfaction", "priority", "importance", "problem"):
            if q["type"] == "grid":
                for it, _c in zip(q["items"], run, strict=True):
                    d = R.department_of(it["label"]["en"])
                    if d:
                        it["department"] = d[0]
                        self.departments.add(d[0])
                        ev["why"].setdefault("department", "")
                        ev["why"]["department"] = (ev["why"]["department"] + f"; {it['id']}: '{d[1]}'").lstrip("; ")
                if "department" in ev["why"] and "department" not in ev["guessed"]:
                    ev["guessed"].append("department")
            elif q["type"] == "single" and q.get("choices") in self.choice_lists and getattr(c0, "slot", None):
                self.choice_departments(q, ev)
            elif q["type"] == "single":
                d = R.department_of(q["label"]["en"])
                if d:
                    q["department"] = d[0]
                    self.departments.add(d[0])
                    ev["why"]["department"] = f"wording names '{d[1]}'"
                    ev["guessed"].append("department")
            elif q["type"] == "multi" and q.get("choices") in self.choice_lists:
                self.choice_departments(q, ev)
        if role in ("priority", "problem") and q.get("choices") in self.choice_lists:
            lacking = [ch["name"] for ch in self.choice_lists[q["choices"]]["choices"] if not ch.get("department")]
            if lacking:
                new = "importance" if role == "priority" else "other"
                ev["why"]["role"] += (f"; as {role} every option needs a department and {', '.join(lacking[:3])} name none: "
                                      f"set to {new}")
                q["role"] = new
                if "role" not in ev["guessed"]:
                    ev["guessed"].append("role")
        if "department" in q and "department" in ev["guessed"]:
            self.comments[(qid, "department")] = ev["why"]["department"]
        for fld in ("role", "type", "grid"):
            if fld in ev["guessed"]:
                self.comments[(qid, fld)] = ev["why"].get(fld, "")
        if q["role"] == "geography":
            ev["why"].setdefault("area_level", ev["why"].get("role", ""))
        ev["why"].setdefault("include", "an answer column")
        # keys in a stable order for the YAML
        order = ["id", "type", "role", "department", "label", "scale", "choices", "max_picks", "expected", "items"]
        rebuilt = {k: q[k] for k in order if k in q}
        rebuilt.update({k: v for k, v in q.items() if k not in rebuilt})
        q.clear()
        q.update(rebuilt)

    def choice_departments(self, q: dict, ev: dict) -> None:
        """Departments of the options of a pick list (services named in their labels)."""
        named = []
        for ch in self.choice_lists[q["choices"]]["choices"]:
            d = R.department_of(ch["label"]["en"])
            if d:
                ch["department"] = d[0]
                self.departments.add(d[0])
                named.append(f"{ch['name']}: '{d[1]}'")
        if named:
            ev["why"]["department"] = "options name services: " + "; ".join(named)
            ev["guessed"].append("department")

    def role(self, q: dict, ev: dict, wording: str, c0: _Col, g: S.ScaleGuess | None, run: list[_Col]) -> None:
        by_words = R.role_from_wording(wording, c0.header)
        if by_words is None and q["type"] == "grid":  # the stem says nothing: the items' wording may
            item_roles = [R.role_from_wording(it["label"]["en"]) for it in q["items"]]
            found = Counter(r[0] for r in item_roles if r)
            if found:
                role, n = found.most_common(1)[0]
                if n * 2 > len(item_roles) or (n >= 2 and len(found) == 1):
                    by_words = (role, f"{n} of {len(item_roles)} items' wording names {role} ("
                                + ", ".join(dict.fromkeys(r[1].removeprefix("wording contains ")
                                                          for r in item_roles if r and r[0] == role)) + ")")
        lib_role = g.role if g is not None and g.kind == "scale" else None
        analysable = ("satisfaction", "safety", "trust", "problem", "priority", "importance")
        if by_words and by_words[0] == "attention_check" and q["type"] == "single" and len(c0.counts):
            lst = q.get("scale") or q.get("choices")
            said = re.search(r"\b(?:select|choose|mark|pick|answer|seleccione|marque)\s+['\"“‘]([^'\"”’]+)['\"”’]",
                             wording, re.I)
            mode_value = c0.counts.most_common(1)[0][0]
            code = None
            if g is not None and said:
                code = g.value_codes.get(normalize_name(said.group(1)))
            if code is not None and lst:
                q["role"], q["expected"] = "attention_check", code
                ev["why"]["role"] = f"{by_words[1]}; the wording asks for '{said.group(1)}' (code {code})"
                return
            if g is not None:
                code = g.value_codes.get(normalize_name(mode_value), g.value_codes.get(mode_value))
            if code is not None and lst:
                q["role"], q["expected"] = "attention_check", code
                ev["why"]["role"] = f"{by_words[1]}; expected answer: the most common one ('{mode_value}')"
                ev["guessed"].append("role")
                self.comments[(q["id"], "expected")] = "the most common answer was taken as expected"
                return
        if lib_role and (by_words is None or by_words[0] == lib_role or by_words[0] not in analysable):
            q["role"] = lib_role
            ev["why"]["role"] = f"the answers are a {lib_role} scale ('{g.library}')" + (
                f" and the {by_words[1]}" if by_words and by_words[0] == lib_role else "")
            return
        is_pick = q["type"] == "multi" or getattr(c0, "slot", None) is not None
        if is_pick and by_words and by_words[0] != "attention_check":  # "most important", "top priorities" win
            m = re.search(r"\b(most important|important|priorit\w*|emphasis|importan\w*|prioridad\w*)\b", wording, re.I)
            if m:
                by_words = ("importance", f"wording contains '{m.group(0)}'")
        on_scale = q.get("scale") is not None
        if by_words and by_words[0] in analysable and not on_scale and not is_pick:
            ev["why"]["role"] = (f"{by_words[1]}, but the answers are not an ordered scale: no role set "
                                 "(set one if the analysis should use it)")
            q["role"] = "other"
            return
        if by_words and by_words[0] in analysable and (q["type"] in ("grid", "single", "multi")):
            role = by_words[0]
            if is_pick:
                role = "importance" if role in ("priority", "importance") else "problem" if role == "problem" else "other"
            if role != "other":
                q["role"] = role
                ev["why"]["role"] = by_words[1] + (f" (the scale reads {lib_role})" if lib_role else "")
                if g is None or g.kind != "scale" or lib_role is None or lib_role != role:
                    ev["guessed"].append("role")
                return
        if by_words and by_words[0] == "contact" and not on_scale:
            q["role"] = "contact"
            ev["why"]["role"] = by_words[1]
            ev["guessed"].append("role")
            return
        values = [v for c in run for v in c.values]
        acs = R.acs_like(list(dict.fromkeys(values)))
        if (by_words and by_words[0] == "demographic") or acs >= 0.6:
            q["role"] = "demographic"
            ev["why"]["role"] = by_words[1] if by_words and by_words[0] == "demographic" else (
                f"{acs:.0%} of the answers are ACS-style categories (age bands, income ranges, race...)")
            if not (by_words and by_words[0] == "demographic" and acs >= 0.5):
                ev["guessed"].append("role")
            return
        q["role"] = "other"
        ev["why"]["role"] = "no role word in the wording: set it if the analysis should use it"

    # the document ---------------------------------------------------------------------------------

    def document(self, iid: str, title: str) -> dict:
        languages = ["en", "es"] if self.spanish else ["en"]
        doc: dict = {"id": iid, "version": "draft-1", "title": {"en": title}, "languages": languages,
                     "default_language": "en"}
        if self.departments:
            doc["departments"] = {d: dict(R.DEPARTMENTS[d]) for d in sorted(self.departments)}
        if self.scales:
            doc["scales"] = dict(self.scales)
        if self.choice_lists:
            doc["choice_lists"] = dict(self.choice_lists)
        doc["modules"] = [{"id": "main", "title": {"en": "Questions"}, "questions": self.questions}]
        self.counts["variables_hint"] = 0
        self._unique_variables(doc)
        if not self.spanish:
            _drop_language(doc, "es")
        else:
            _fill_language(doc, "es")
            self.notes.append("Spanish answers were seen: the draft declares languages en and es; scale wordings carry "
                              "their Spanish labels, every other text is copied from English until translated.")
        return doc

    def _unique_variables(self, doc: dict) -> None:
        """Multi-select variables (``<question>_<choice>``) must not collide with any other id."""
        taken = set(self.names.used)
        for q in self.questions:
            if q["type"] != "multi" or q.get("choices") not in self.choice_lists:
                continue
            lst = self.choice_lists[q["choices"]]
            names_in_list = {ch["name"] for ch in lst["choices"]}
            for ch in lst["choices"]:
                var = f"{q['id']}_{ch['name']}"
                k = 2
                while var in taken:
                    new = f"{ch['name'][: _CHOICE_MAX - 3]}_{k}"
                    if new not in names_in_list:
                        names_in_list.discard(ch["name"])
                        ch["name"] = new
                        names_in_list.add(new)
                    var = f"{q['id']}_{ch['name']}"
                    k += 1
                taken.add(var)


def _drop_language(obj, lang: str) -> None:
    """Remove ``lang`` from every label mapping (the library's Spanish wordings, when no answer was Spanish)."""
    if isinstance(obj, dict):
        if "en" in obj and lang in obj and all(isinstance(v, str) for v in obj.values()):
            del obj[lang]
            return
        for v in obj.values():
            _drop_language(v, lang)
    elif isinstance(obj, list):
        for v in obj:
            _drop_language(v, lang)


def _fill_language(obj, lang: str) -> None:
    """Give every label mapping a ``lang`` entry (copied from English when it has none)."""
    if isinstance(obj, dict):
        if "en" in obj and all(isinstance(v, str) for v in obj.values()) and set(obj) <= {"en", "es"}:
            obj.setdefault(lang, obj["en"])
            return
        for k, v in obj.items():
            if k in ("departments",):
                continue
            _fill_language(v, lang)
    elif isinstance(obj, list):
        for v in obj:
            _fill_language(v, lang)
