"""Import an instrument from an XLSForm or a codebook, producing the instrument YAML.

Two inputs are understood:

- an **XLSForm** (``.xlsx`` with ``survey``, ``choices`` and ``settings`` sheets, as KoboToolbox
  and ODK use): ``select_one`` / ``select_multiple`` / ``rank`` / ``integer`` / ``decimal`` /
  ``text`` / ``note`` rows, ``begin_group`` groups (they become modules), ``relevant`` (kept,
  with the names rewritten), labels in ``label`` or ``label::English (en)`` columns;
- a **codebook** (``.csv`` or ``.xlsx``): one row per variable with a question number, the
  question text and value labels such as ``5 - Excellent, 4 - Good, ... 9 - Don't Know``.
  A stem row (``Q1``) followed by its items (``Q1_1``, ``Q1_2``...) becomes a grid. The long
  layout (``variable, label, value, value_label``: one row per answer code) is read too.

What the importer decides, so the analyst can check it:

- Answer lists that look like ordered rating scales (consecutive codes, rating words such as
  *excellent*, *satisfied*, *agree*, *important*, *safe*, *better*) become **scales**; other lists
  become **choice lists**. Identical value-label sets shared by several questions become one
  shared scale or list.
- "Don't know", "Not sure" become the typed missing code ``dont_know``; "Refused", "No answer",
  "Prefer not to say", "Decline" become ``refused``.
- Ids are sanitised to ``snake_case`` and made unique.
- **Roles.** Each question gets a role. When the answers or the wording make it clear
  (a satisfaction scale, an importance scale, a safety scale, age/gender/race/income, ZIP or
  district, an open text) the role is *guessed* and the YAML line carries ``# guessed: <why>``;
  otherwise the question gets ``role: other`` and ``# TODO: set role``. The YAML is valid either
  way; the comments are the analyst's to-do list.
- Pick slots (a stem whose items are *First*, *Second*... on one unordered list, as in "Which
  FOUR services are most important") become one single question per slot on a shared choice
  list, so the variables keep the data's column names; when the list repeats the items of an
  earlier grid (the services rated in a satisfaction battery) the report says so.

:func:`import_instrument` returns the mapping (an :class:`ImportedInstrument`, a ``dict``
carrying the role comments and a summary); :func:`write_instrument_yaml` writes it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from survey_pipeline.errors import ImportInstrumentError, Problem
from survey_pipeline.instrument import skiplogic

__all__ = ["ImportedInstrument", "import_instrument", "write_instrument_yaml"]

# --- words the heuristics key on --------------------------------------------------------------

DONT_KNOW = re.compile(r"\b(don'?t know|do not know|dk|not sure|unsure|no opinion|can'?t say|cannot say)\b", re.I)
REFUSED = re.compile(r"\b(refused?|no answer|prefer not to (say|answer)|decline[ds]?( to answer)?|rather not say)\b", re.I)
RATING_WORDS = re.compile(
    r"\b(excellent|good|fair|poor|satisfied|dissatisfied|neutral|important|unimportant|agree|disagree|"
    r"likely|unlikely|safe|unsafe|better|worse|same|often|always|never|sometimes|rarely|serious|"
    r"confident|trust|somewhat|strongly|very|extremely|slightly|moderately|problem|minor|major|none|little|some|"
    r"a lot|great deal|not at all|partly|partially|fully|completely)\b", re.I)
POSITIVE_WORDS = re.compile(r"\b(excellent|good|satisfied|important|agree|better|best|safe|safer|safest|likely|always|"
                            r"confident|serious|great deal|a lot|fully|completely|improved?)\b", re.I)
# "less", "fewer" and "least" negate what follows: "Less safe" reads negative (with "safe", mixed
# labels read negative), so a change scale "Less safe / About the same / Safer" keeps "Safer" positive
NEGATIVE_WORDS = re.compile(r"\b(poor|dissatisfied|unimportant|not|disagree|worse|worst|unsafe|unlikely|never|none|"
                            r"less|fewer|least)\b", re.I)
INTENSIFIERS = re.compile(r"\b(very|strongly|much|extremely|completely|totally|a lot|somewhat|a little)\b", re.I)
ORDINAL_SLOT = re.compile(r"^\s*(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                          r"\d+(st|nd|rd|th)|#?\d+)\b", re.I)

# (role, pattern on the scale's labels, why)
SCALE_ROLES = [
    ("satisfaction", re.compile(r"\bsatisf", re.I), "satisfaction scale"),
    ("importance", re.compile(r"\bimportan", re.I), "importance scale"),
    ("safety", re.compile(r"\b(un)?safe\b", re.I), "safety scale"),
    ("trust", re.compile(r"\b(trust|confiden)", re.I), "trust/confidence scale"),
    ("problem", re.compile(r"\b(serious|big|minor) problem\b", re.I), "problem-seriousness scale"),
]
AREA_WORDS = re.compile(r"\b(zip|zip code|postal code|council district|district|neighbou?rhood|beat|ward|precinct|"
                        r"census tract|tract)\b", re.I)
ASKS_WHERE = re.compile(r"\b(what|which|where|in which)\b", re.I)


def _asks_for_area(text: str) -> bool:
    """"ZIP code", "Council District", "Which neighborhood do you live in?" — not "safe in your neighborhood"."""
    t = text.strip()
    return bool(AREA_WORDS.search(t)) and (len(t) <= 25 or bool(ASKS_WHERE.search(t) and re.search(
        r"\b(live|located|reside|home|address)\b", t, re.I)))


# (role, pattern on the question wording, why)
TEXT_ROLES = [
    ("contact", re.compile(r"\b(had contact|contacted|your (most )?recent contact|contact with)\b", re.I),
     "asks about a contact"),
    ("demographic", re.compile(r"\b(your age|how old|age\b|gender|sex\b|race|ethnic|hispanic|latin[oa]|income|"
                               r"own or rent|rent or own|education|household|how long have you lived|years lived|"
                               r"employment|employed|children)", re.I), "asks about the respondent"),
]

LANGUAGE_NAMES = {
    "english": "en", "spanish": "es", "español": "es", "espanol": "es", "french": "fr", "français": "fr",
    "portuguese": "pt", "chinese": "zh", "vietnamese": "vi", "korean": "ko", "arabic": "ar", "tagalog": "tl",
    "russian": "ru", "somali": "so", "haitian creole": "ht", "german": "de",
}
METADATA_TYPES = {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username",
                  "email", "audit", "start-geopoint", "calculate", "hidden"}


# --- the result ---------------------------------------------------------------------------------


class ImportedInstrument(dict):
    """The instrument mapping (ready for YAML), plus what the importer decided.

    Attributes
    ----------
    role_notes
        Question id -> the comment written after its ``role:`` line (``guessed: ...`` or
        ``TODO: set role ...``).
    summary
        Figures: ``source`` (``xlsform``/``codebook``), ``questions``, ``variables``, ``scales``,
        ``choice_lists``, ``missing`` (list name -> {kind: code}), ``roles_guessed``,
        ``roles_todo``.
    notes
        Decisions and oddities the analyst should read (also written at the top of the YAML).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role_notes: dict[str, str] = {}
        self.summary: dict[str, Any] = {}
        self.notes: list[str] = []


@dataclass
class _AnswerList:
    """An answer list found in the input, before it is named a scale or a choice list."""

    codes: list[tuple[int, str, str]]  # (code, name, label text in the default language)
    labels: list[dict[str, str]]  # all languages, parallel to codes
    missing: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    ordered: bool = False
    name: str = ""
    users: list[str] = field(default_factory=list)

    def signature(self) -> tuple:
        return (tuple((c, lab.lower().strip()) for c, _, lab in self.codes),
                tuple(sorted((k, v[0], v[1].get("en", next(iter(v[1].values()), "")).lower()) for k, v in self.missing.items())))


def _fail(file: Path | str, rule: str, message: str, fix: str, what: str = "the file", **where) -> ImportInstrumentError:
    problem = Problem(file=str(file), rule=rule, message=message, fix=fix, **where)
    return ImportInstrumentError(f"{file}: cannot import {what}.", problems=[problem], file=str(file), rule=rule, fix=fix)


# --- names --------------------------------------------------------------------------------------


def snake(text: str, *, max_words: int | None = None, default: str = "q") -> str:
    """A ``snake_case`` identifier from any text (``Q1_1`` -> ``q1_1``, ``2nd`` -> ``q_2nd``)."""
    s = re.sub(r"[^0-9a-zA-Z]+", "_", str(text).strip()).strip("_").lower()
    if max_words is not None:
        s = "_".join(w for w in s.split("_")[:max_words] if w)
    if not s:
        s = default
    if not s[0].isalpha():
        s = f"{default}_{s}"
    return s


class _Names:
    """Hands out unique snake_case ids within one namespace."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str) -> str:
        name, k = wanted, 2
        while name in self.used:
            name = f"{wanted}_{k}"
            k += 1
        self.used.add(name)
        return name


STOPWORDS = {"a", "an", "and", "the", "of", "or", "to", "for", "from", "by", "with", "in", "on", "at", "e", "g",
             "i", "ie", "eg", "etc"}


def choice_name(label: str) -> str:
    """A short choice name from a label: ``Maintenance of City streets, sidewalks`` -> ``maintenance_city_streets``."""
    text = re.sub(r"\([^)]*\)", " ", label)
    words = [w for w in snake(text, default="c").split("_") if w and w not in STOPWORDS]
    return snake("_".join(words[:3]) or label, default="c")


def _unique_choice_names(labels: list[str]) -> list[str]:
    names = _Names()
    return [names.take(choice_name(lab)) for lab in labels]


# --- answer-list heuristics ---------------------------------------------------------------------


def _missing_kind(label: str) -> str | None:
    if DONT_KNOW.search(label):
        return "dont_know"
    if REFUSED.search(label):
        return "refused"
    return None


def _looks_ordered(codes: list[int], labels: list[str]) -> bool:
    """An ordered rating scale: 3 to 11 consecutive codes, most labels rating words."""
    if not 3 <= len(codes) <= 11:
        return False
    s = sorted(codes)
    if s != list(range(s[0], s[0] + len(s))):
        return False
    hits = sum(bool(RATING_WORDS.search(lab)) for lab in labels)
    return hits * 2 >= len(labels)


def _polarity(label: str) -> int:
    pos = len(POSITIVE_WORDS.findall(label))
    neg = len(NEGATIVE_WORDS.findall(label))
    return (pos > 0) - (neg > 0) if not (pos and neg) else -1


def _positive_codes(al: _AnswerList) -> list[int]:
    """Top-two box (top one on a 3-point scale) at the end whose labels read positive."""
    ordered = sorted(al.codes)
    low, high = ordered[0], ordered[-1]
    lo_p, hi_p = _polarity(low[2]), _polarity(high[2])
    k = 1 if len(ordered) <= 3 else 2
    if hi_p > lo_p:
        return [c for c, _, _ in ordered[-k:]]
    if lo_p > hi_p:
        return [c for c, _, _ in ordered[:k]]
    return []


def _scale_stem(al: _AnswerList) -> str:
    """A name from the positive extreme's label: ``Very Satisfied`` -> ``satisfied``."""
    pos = _positive_codes(al)
    by_code = {c: lab for c, _, lab in al.codes}
    if pos:
        top = max(c for c, _, _ in al.codes)
        label = by_code[max(pos) if top in pos else min(pos)]
    else:
        label = al.codes[-1][2]
    return snake(INTENSIFIERS.sub(" ", label), max_words=2, default="scale")


# --- the common builder -------------------------------------------------------------------------


@dataclass
class _Q:
    """A question under construction."""

    id: str
    type: str
    label: dict[str, str]
    list_key: tuple | None = None  # signature of its answer list
    items: list[dict] | None = None
    hint: dict[str, str] | None = None
    relevant: str | None = None
    required: bool = False
    max_picks: int | None = None
    module: str = "main"
    role: str = "other"
    role_note: str = ""
    raw_text: str = ""


class _Builder:
    def __init__(self, languages: list[str], default_language: str):
        self.languages = languages
        self.lang = default_language
        self.lists: OrderedDict[tuple, _AnswerList] = OrderedDict()
        self.questions: list[_Q] = []
        self.modules: OrderedDict[str, dict[str, str]] = OrderedDict()
        self.notes: list[str] = []
        self.ids = _Names()  # questions and grid items: the variable names, kept as close to the source as can be
        self.module_ids = _Names()  # renamed at the end if a question holds the same id (XLSForm needs them distinct)

    def add_list(self, al: _AnswerList, user: str) -> tuple:
        key = al.signature()
        if key in self.lists:
            self.lists[key].users.append(user)
        else:
            al.users.append(user)
            self.lists[key] = al
        return key

    # roles --------------------------------------------------------------------------------------

    def guess_role(self, q: _Q) -> None:
        """Set ``q.role`` and ``q.role_note``: a guess with its reason, or ``other`` + TODO.

        A question on an ordered scale is judged by its scale only (satisfaction, importance,
        safety, trust, problem); other questions by their wording (area, contact, about the
        respondent); a text answer is open text unless it asks for an area.
        """
        text = q.raw_text
        if q.type == "note" or q.role_note:
            return
        al = self.lists[q.list_key] if q.list_key is not None else None
        if al is not None and al.ordered:
            joined = " ".join(lab for _, _, lab in al.codes)
            for role, pat, why in SCALE_ROLES:
                if pat.search(joined):
                    q.role, q.role_note = role, f"guessed: {why} '{al.name}'"
                    return
            q.role, q.role_note = "other", "TODO: set role"
            return
        if _asks_for_area(text):
            q.role, q.role_note = "geography", "guessed: asks for an area"
            return
        if q.type == "text":
            q.role, q.role_note = "open_text", "guessed: a text answer"
            return
        for role, pat, why in TEXT_ROLES:
            if pat.search(text):
                q.role, q.role_note = role, f"guessed: {why}"
                return
        q.role, q.role_note = "other", "TODO: set role"

    # naming lists ------------------------------------------------------------------------------

    def name_lists(self) -> None:
        names = _Names()
        for al in self.lists.values():
            substantive = [lab for _, _, lab in al.codes]
            al.ordered = al.ordered or _looks_ordered([c for c, _, _ in al.codes], substantive)
        for al in self.lists.values():
            if al.name:
                al.name = names.take(snake(al.name, default="list"))
            elif al.ordered:
                al.name = names.take(f"{_scale_stem(al)}_{len(al.codes)}")
            elif [lab.lower() for _, _, lab in al.codes] == ["yes", "no"]:
                al.name = names.take("yes_no")
            else:
                al.name = names.take(f"{al.users[0]}_options")

    # output ------------------------------------------------------------------------------------

    def mapping(self, *, iid: str, version: str, title: dict[str, str], source: str) -> ImportedInstrument:
        self.name_lists()
        for q in self.questions:
            self.guess_role(q)
        scales: dict[str, Any] = {}
        choice_lists: dict[str, Any] = {}
        for al in self.lists.values():
            codes = [{"code": c, "name": n, "label": lab} for (c, n, _), lab in zip(al.codes, al.labels, strict=True)]
            missing = {k: {"code": code, "label": lab} for k, (code, lab) in al.missing.items()}
            if al.ordered:
                entry: dict[str, Any] = {"ordered": True}
                pos = _positive_codes(al)
                if pos:
                    entry["positive"] = sorted(pos)
                entry["codes"] = [{"code": c["code"], "label": c["label"]} for c in sorted(codes, key=lambda c: c["code"])]
                if missing:
                    entry["missing"] = missing
                scales[al.name] = entry
            elif missing:
                choice_lists[al.name] = {"choices": codes, "missing": missing}
            else:
                choice_lists[al.name] = codes
        modules: list[dict] = []
        by_module: OrderedDict[str, list[dict]] = OrderedDict((m, []) for m in self.modules)
        out = ImportedInstrument()
        for q in self.questions:
            qd: dict[str, Any] = {"id": q.id, "type": q.type}
            if q.type != "note":
                qd["role"] = q.role
                out.role_notes[q.id] = q.role_note
            if q.list_key is not None:
                al = self.lists[q.list_key]
                qd["scale" if al.ordered else "choices"] = al.name
            qd["label"] = q.label
            if q.hint:
                qd["hint"] = q.hint
            if q.max_picks is not None:
                qd["max_picks"] = q.max_picks
            if q.required:
                qd["required"] = True
            if q.relevant:
                qd["relevant"] = q.relevant
            if q.items is not None:
                qd["items"] = q.items
            by_module.setdefault(q.module, []).append(qd)
        taken = set(self.ids.used)
        for mid, qs in by_module.items():
            if not qs:
                continue
            new_id = mid
            while new_id in taken:
                new_id = f"{new_id}_module"
            taken.add(new_id)
            if new_id != mid:
                self.notes.append(f"module '{mid}' is named '{new_id}': a question holds the id '{mid}'.")
            m: dict[str, Any] = {"id": new_id}
            if self.modules.get(mid):
                m["title"] = self.modules[mid]
            m["questions"] = qs
            modules.append(m)
        out.update({
            "id": iid,
            "version": version,
            "title": title,
            "languages": list(self.languages),
            "default_language": self.lang,
        })
        if scales:
            out["scales"] = scales
        if choice_lists:
            out["choice_lists"] = choice_lists
        out["modules"] = modules
        def n_variables(q: _Q) -> int:
            if q.items is not None:
                return len(q.items)
            if q.type in ("multi", "rank") and q.list_key is not None:
                return len(self.lists[q.list_key].codes)
            return 0 if q.type == "note" else 1

        n_vars = sum(n_variables(q) for q in self.questions)
        out.summary = {
            "source": source,
            "questions": sum(q.type != "note" for q in self.questions),
            "notes": sum(q.type == "note" for q in self.questions),
            "variables": n_vars,
            "modules": len(modules),
            "scales": sorted(scales),
            "choice_lists": sorted(choice_lists),
            "missing": {al.name: {k: v[0] for k, v in al.missing.items()} for al in self.lists.values() if al.missing},
            "roles_guessed": sum(n.startswith("guessed") for n in out.role_notes.values()),
            "roles_todo": sum(n.startswith("TODO") for n in out.role_notes.values()),
        }
        out.notes = list(self.notes)
        return out


# --- reading files ------------------------------------------------------------------------------


def _read_csv_rows(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    encodings = ("utf-16", "utf-8-sig", "cp1252") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "cp1252")
    for enc in encodings:
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything
        raise _fail(path, "encoding", "the file is neither UTF-8 nor Windows-1252 text.", "Save it as UTF-8 CSV.")
    if "\x00" in text[:2000]:
        raise _fail(path, "unreadable", "the file holds binary data, not CSV text.",
                    "Export the codebook as CSV (UTF-8) or XLSX.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _read_workbook(path: Path) -> dict[str, list[list[str]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _fail(path, "unreadable", f"the file cannot be opened as an Excel workbook ({type(exc).__name__}: {exc}).",
                    "Save it from Excel or LibreOffice as .xlsx (an .xls or a renamed CSV will not open).") from None
    try:
        sheets = {}
        for ws in wb.worksheets:
            rows = [[_cell(c) for c in row] for row in ws.iter_rows(values_only=True)]
            sheets[ws.title] = rows
        return sheets
    finally:
        wb.close()


# --- codebook -----------------------------------------------------------------------------------

ID_COLUMNS = ("question_number", "question_id", "variable_name", "variable", "var", "varname", "name", "question",
              "item", "field", "column", "qid", "id", "number")
TEXT_COLUMNS = ("question_text", "question_label", "variable_label", "label", "text", "wording", "description",
                "question_wording", "prompt")
VALUE_COLUMNS = ("question_responses", "value_labels", "values", "responses", "response_options", "answers",
                 "answer_options", "codes", "categories", "value_label", "response_categories", "options")
# a long codebook has one row per answer code: a code column and a label column beside the variable
LONG_CODE_COLUMNS = ("value", "code", "value_code", "answer_code", "category_code")
LONG_LABEL_COLUMNS = ("value_label", "label_value", "category_label", "answer_label", "code_label")
VALUE_SPLIT = re.compile(r"(?:^|[,;|\n]\s*)(-?\d+)\s*(?:-|–|=|:|\))\s*")


def _find_column(header: list[str], names: tuple[str, ...]) -> int | None:
    norm = [snake(h, default="x") for h in header]
    for n in names:
        if n in norm:
            return norm.index(n)
    return None


def parse_value_labels(text: str) -> list[tuple[int, str]] | None:
    """``"5 - Excellent, 4 - Good, 9 - Don't Know"`` -> ``[(5, 'Excellent'), (4, 'Good'), (9, "Don't Know")]``.

    Returns None when the text holds no ``code - label`` pairs (e.g. ``Number of years old``).
    """
    text = (text or "").strip()
    matches = list(VALUE_SPLIT.finditer(text))
    if not matches or matches[0].start() != 0:
        return None
    out = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        label = text[m.end():end].strip().rstrip(",;|").strip()
        out.append((int(m.group(1)), label))
    return out


def _codebook(path: Path, rows: list[list[str]], sheet: str | None) -> ImportedInstrument:
    if not rows:
        raise _fail(path, "empty", "the file has no rows." if sheet is None else f"sheet '{sheet}' has no rows.",
                    "Export the codebook with a header row and one row per question.", what="the codebook")
    header = rows[0]
    id_col = _find_column(header, ID_COLUMNS)
    text_col = _find_column(header, TEXT_COLUMNS)
    val_col = _find_column(header, VALUE_COLUMNS)
    if id_col is None or text_col is None:
        named = [repr(h) for h in header if h]
        found = ", ".join(named[:12]) + (f" ... ({len(named) - 12} more)" if len(named) > 12 else "") or "(none)"
        lacking = [k for k, c in (("a question id column", id_col), ("a question text column", text_col)) if c is None]
        raise _fail(
            path, "unknown-layout",
            f"no recognizable codebook or XLSForm layout{f' in sheet {sheet!r}' if sheet else ''}: "
            f"lacking {' and '.join(lacking)}. Columns found: {found}.",
            "Name the columns 'question_number', 'question_text' and 'question_responses' (value labels like "
            "'1 - Yes, 2 - No'), or give an XLSForm with a 'survey' sheet.",
            what="the codebook", row=1)
    b = _Builder(["en"], "en")
    b.modules[b.module_ids.take("main")] = {}
    # first pass: rows
    code_col = _find_column(header, LONG_CODE_COLUMNS)
    vlab_col = _find_column(header, LONG_LABEL_COLUMNS)
    long_format = code_col is not None and vlab_col is not None and code_col != id_col

    def cell(row: list[str], c: int | None) -> str:
        return row[c].strip() if c is not None and c < len(row) else ""

    if long_format:  # ... and its code column holds codes, not question numbers
        codes_seen = [cell(row, code_col) for row in rows[1:] if cell(row, code_col)]
        numeric = sum(bool(re.fullmatch(r"-?\d+(\.0+)?", c)) for c in codes_seen)
        long_format = bool(codes_seen) and numeric >= 0.8 * len(codes_seen)

    # entries: (row, question number, text, [(code, label)] or None, value column name)
    entries: list[tuple[int, str, str, list[tuple[int, str]] | None, str]] = []
    for r, row in enumerate(rows[1:], start=2):
        qnum = cell(row, id_col)
        if not long_format:
            if qnum:
                entries.append((r, qnum, cell(row, text_col), parse_value_labels(cell(row, val_col)),
                                header[val_col] if val_col is not None else ""))
            continue
        if qnum and (not entries or qnum != entries[-1][1] or not cell(row, code_col)):
            entries.append((r, qnum, cell(row, text_col), None, header[code_col]))
        code = cell(row, code_col)
        if not code:
            continue
        if not entries:
            raise _fail(path, "code-before-variable", f"answer code {code!r} comes before any variable.",
                        "Put the variable's row (id and text) above its answer codes.", what="the codebook",
                        row=r, column=header[code_col])
        if not re.fullmatch(r"-?\d+(\.0+)?", code):
            raise _fail(path, "bad-code", f"answer code {code!r} of {entries[-1][1]} is not a whole number.",
                        "Use numeric codes (1, 2, ... 9).", what="the codebook", row=r, column=header[code_col])
        e = entries[-1]
        if not e[2] and cell(row, text_col):
            e = (e[0], e[1], cell(row, text_col), e[3], e[4])
        entries[-1] = (e[0], e[1], e[2], [*(e[3] or []), (int(float(code)), cell(row, vlab_col))], e[4])
    if not entries:
        raise _fail(path, "empty", "the codebook has a header but no question rows.",
                    "Add one row per question under the header.", what="the codebook", row=2)
    ids = [e[1] for e in entries]
    repeated = sorted({q for q in ids if ids.count(q) > 1})
    if repeated:
        b.notes.append(f"question number(s) {', '.join(repeated)} appear more than once; the later rows got ids ending in _2, _3.")
    children: dict[str, list[int]] = {}
    for i, qnum in enumerate(ids):
        for j, other in enumerate(ids):
            if j != i and re.fullmatch(re.escape(other) + r"[_.\-][A-Za-z0-9]+", qnum):
                children.setdefault(other, []).append(i)
                break

    def parse(i: int):
        r, qnum, _, pairs, value_column = entries[i]
        if not pairs:
            return None
        codes, missing, labels = [], {}, []
        for code, label in pairs:
            kind = _missing_kind(label)
            if kind and kind not in missing:
                missing[kind] = (code, {"en": label})
                continue
            codes.append(code)
            labels.append(label)
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise _fail(path, "duplicate-code", f"question {qnum}: code {min(dup)} appears twice in its value labels.",
                        "Give each answer its own code in the value labels.", what="the codebook", row=r,
                        column=value_column)
        names = _unique_choice_names(labels)
        return _AnswerList(codes=list(zip(codes, names, labels, strict=True)), labels=[{"en": lab} for lab in labels],
                           missing=missing)

    child_set = {c for cs in children.values() for c in cs}
    grid_labels: dict[str, list[str]] = {}  # grid id -> item labels (to spot pick lists of its items)
    i = 0
    while i < len(entries):
        r, qnum, text, _, _ = entries[i]
        if i in child_set:
            i += 1
            continue
        kids = children.get(qnum, [])
        qid = b.ids.take(snake(qnum))
        if kids:
            lists = [parse(k) for k in kids]
            sigs = {al.signature() if al else None for al in lists}
            kid_labels = [entries[k][2] for k in kids]
            slots = all(ORDINAL_SLOT.match(lab) for lab in kid_labels)
            if len(sigs) == 1 and lists[0] is not None and not slots:
                al = lists[0]
                key = b.add_list(al, qid)
                ordered = _looks_ordered([c for c, _, _ in al.codes], [lab for _, _, lab in al.codes])
                items = [{"id": b.ids.take(snake(entries[k][1])), "label": {"en": entries[k][2] or entries[k][1]}}
                         for k in kids]
                if ordered:
                    b.questions.append(_Q(id=qid, type="grid", label={"en": text or qnum}, list_key=key, items=items,
                                          raw_text=text))
                    grid_labels[qid] = [it["label"]["en"] for it in items]
                else:
                    # an unordered list over several items (a checklist of yes/no, say): separate questions
                    for it in items:
                        b.questions.append(_Q(id=it["id"], type="single", label={"en": f"{text} — {it['label']['en']}"},
                                              list_key=b.add_list(lists[0], it["id"]), raw_text=f"{text} {it['label']['en']}"))
                    b.lists[key].users.remove(qid)
            else:
                if slots and lists[0] is not None and len(sigs) == 1:
                    al = lists[0]
                    al.name = f"{qid}_options"
                    labels = [lab.lower() for _, _, lab in al.codes]
                    base = next((g for g, labs in grid_labels.items() if [x.lower() for x in labs] == labels), None)
                    if base is not None:
                        al.name = f"{base}_items"
                        b.notes.append(
                            f"{qnum}: {len(kids)} pick slots ({', '.join(entries[k][1] for k in kids)}) answered with the codes of "
                            f"the items of grid '{base}'; imported as {len(kids)} single questions on choice list "
                            f"'{base}_items' (code k = item k of '{base}'), so importance picks line up with the "
                            f"'{base}' ratings for an importance-satisfaction analysis.")
                    else:
                        b.notes.append(f"{qnum}: {len(kids)} pick slots imported as single questions on one choice list.")
                else:
                    b.notes.append(f"{qnum}: its items have different answer lists; imported as separate questions.")
                if not slots:
                    b.questions.append(_Q(id=qid, type="note", label={"en": text or qnum}))
                for k, al in zip(kids, lists, strict=True):
                    _, kq, ktext, _, _ = entries[k]
                    kid = b.ids.take(snake(kq))
                    label = f"{text} — {ktext}" if slots else (ktext or kq)
                    q = _Q(id=kid, type="single" if al else "integer", label={"en": label}, raw_text=f"{text} {ktext}")
                    if slots and re.search(r"\bmost important\b", text, re.I):
                        q.role, q.role_note = "importance", (
                            f"guessed: one of {len(kids)} picks of the most important items; "
                            "with the satisfaction ratings of the same items it feeds an importance-satisfaction analysis")
                    if al is not None:
                        q.list_key = b.add_list(al, kid)
                    b.questions.append(q)
            i += 1
            continue
        al = parse(i)
        q = _Q(id=qid, type="single" if al else "integer", label={"en": text or qnum}, raw_text=text)
        if al is not None:
            q.list_key = b.add_list(al, qid)
            if re.search(r"check all|select all|mark all", text, re.I):
                q.type = "multi"
        b.questions.append(q)
        i += 1
    stem = snake(path.stem, default="imported")
    return b.mapping(iid=stem, version="1", title={"en": f"Imported from {path.name}"}, source="codebook")


# --- XLSForm ------------------------------------------------------------------------------------


def _label_columns(header: list[str], base: str) -> dict[str, int]:
    """Columns ``label`` / ``label::English (en)`` / ``label::en`` -> {language: column index}."""
    out: dict[str, int] = {}
    for i, h in enumerate(header):
        hl = h.strip()
        if hl.lower() == base:
            out.setdefault("", i)
            continue
        m = re.match(rf"^{base}\s*::\s*(.+)$", hl, re.I)
        if not m:
            continue
        lang = m.group(1).strip()
        code = re.search(r"\(([A-Za-z]{2,3}(?:-[A-Za-z]+)?)\)\s*$", lang)
        if code:
            key = code.group(1).lower()
        else:
            key = LANGUAGE_NAMES.get(lang.lower(), snake(lang, default="lang"))
        out[key] = i
    return out


def _xlsform(path: Path, sheets: dict[str, list[list[str]]]) -> ImportedInstrument:
    lower = {k.lower().strip(): k for k in sheets}
    survey_name = lower["survey"]
    survey = sheets[survey_name]
    choices_sheet = sheets.get(lower.get("choices", ""), [])
    settings_sheet = sheets.get(lower.get("settings", ""), [])
    while survey and not any(survey[0]):
        survey = survey[1:]
    if not survey:
        raise _fail(path, "empty-sheet", f"sheet '{survey_name}' is empty.",
                    "Add a header row (type, name, label) and the questions.", what="the XLSForm")
    header = [h.strip() for h in survey[0]]
    hl = [h.lower() for h in header]
    problems: list[Problem] = []
    for col in ("type", "name"):
        if col not in hl:
            problems.append(Problem(file=str(path), rule="missing-column",
                                    message=f"sheet '{survey_name}' has no '{col}' column (columns: {', '.join(h for h in header if h) or 'none'}).",
                                    fix=f"Add a '{col}' column to the header row of sheet '{survey_name}'.",
                                    row=1, column=col))
    label_cols = _label_columns(header, "label")
    if not label_cols:
        problems.append(Problem(file=str(path), rule="missing-column",
                                message=f"sheet '{survey_name}' has no 'label' or 'label::<language>' column.",
                                fix="Add 'label' or e.g. 'label::English (en)'.", row=1, column="label"))
    if problems:
        raise ImportInstrumentError(f"{path}: cannot import the XLSForm.", problems=problems, file=str(path),
                                    rule=problems[0].rule)
    settings: dict[str, str] = {}
    if len(settings_sheet) >= 2:
        for k, v in zip(settings_sheet[0], settings_sheet[1], strict=False):
            if k:
                settings[k.strip().lower()] = v
    hint_cols = _label_columns(header, "hint")
    default = settings.get("default_language", "")
    if default:
        code = re.search(r"\(([A-Za-z]{2,3})\)", default)
        default = code.group(1).lower() if code else LANGUAGE_NAMES.get(default.lower(), snake(default))
    if "" in label_cols:
        # pyxform calls a plain 'label' the "default" language: take default_language, else English
        plain = default = default or "en"
        if plain not in label_cols:
            label_cols[plain] = label_cols[""]
        del label_cols[""]
        if "" in hint_cols:
            hint_cols.setdefault(plain, hint_cols.pop(""))
    languages = list(label_cols)
    default = default if default in languages else languages[0]
    languages = [default] + [lg for lg in languages if lg != default]
    col = {h: i for i, h in reversed(list(enumerate(hl)))}

    def text_of(row: list[str], cols: dict[str, int]) -> dict[str, str]:
        return {lg: row[i].strip() for lg, i in cols.items() if i < len(row) and row[i].strip()}

    missing_translations = [0]

    def complete(lbl: dict[str, str], fallback: str) -> dict[str, str]:
        base = lbl.get(default) or next(iter(lbl.values()), fallback)
        out = {}
        for lg in languages:
            if lbl.get(lg):
                out[lg] = lbl[lg]
            else:
                out[lg] = base if lg == default else f"TODO({lg}): {base}"
                if lg != default:
                    missing_translations[0] += 1
        return out

    # choices
    raw_lists: OrderedDict[str, list[tuple[int, str, dict[str, str]]]] = OrderedDict()
    if choices_sheet:
        ch = [h.strip() for h in choices_sheet[0]]
        chl = [h.lower() for h in ch]
        ln_col = chl.index("list_name") if "list_name" in chl else (chl.index("list name") if "list name" in chl else None)
        nm_col = chl.index("name") if "name" in chl else None
        c_labels = _label_columns(ch, "label")
        if "" in c_labels:
            c_labels.setdefault(default, c_labels[""])
            del c_labels[""]
        for colname, idx in (("list_name", ln_col), ("name", nm_col)):
            if idx is None:
                problems.append(Problem(file=str(path), rule="missing-column",
                                        message=f"sheet '{lower.get('choices')}' has no '{colname}' column.",
                                        fix=f"Add a '{colname}' column to the choices sheet.", row=1, column=colname))
        if not problems:
            for r, row in enumerate(choices_sheet[1:], start=2):
                ln = row[ln_col].strip() if ln_col < len(row) else ""
                nm = row[nm_col].strip() if nm_col < len(row) else ""
                if not ln and not nm:
                    continue
                if not ln or not nm:
                    problems.append(Problem(file=str(path), rule="incomplete-choice",
                                            message=f"choice row has {'no list_name' if not ln else 'no name'}.",
                                            fix="Fill in both 'list_name' and 'name' (or delete the row).",
                                            row=r, column="list_name" if not ln else "name"))
                    continue
                raw_lists.setdefault(ln, []).append((r, nm, text_of(row, c_labels)))

    # survey rows
    b = _Builder(languages, default)
    name_map: dict[str, str] = {}
    list_cache: dict[str, tuple] = {}
    list_defs: dict[str, _AnswerList] = {}
    group_stack: list[tuple[str, str | None]] = []  # (module id, relevant)
    current_module: str | None = None  # created when its first question arrives
    skipped: list[str] = []
    pending_relevant: list[tuple[_Q, str, int]] = []

    def answer_list(ln: str, r: int) -> tuple | None:
        if ln in list_cache:
            return list_cache[ln]
        if ln not in raw_lists:
            problems.append(Problem(file=str(path), rule="unknown-choice-list",
                                    message=f"list '{ln}' is not defined on sheet '{lower.get('choices', 'choices')}'.",
                                    fix=f"Add rows with list_name '{ln}' to the choices sheet, or fix the name."
                                    + (f" Lists defined: {', '.join(raw_lists)}." if raw_lists else ""),
                                    row=r, column="type"))
            return None
        entries = raw_lists[ln]
        numeric = all(re.fullmatch(r"-?\d+", nm) for _, nm, _ in entries)
        codes, labels, missing, names = [], [], {}, []
        n_sub = sum(1 for _, nm, lbl in entries if not _missing_kind(lbl.get(default) or next(iter(lbl.values()), nm)))
        next_code = 1
        uniq = _Names()
        lookup: dict[str, tuple[int, str]] = {}  # choice name in the form -> (code, our name)
        for _, nm, lbl in entries:
            full = complete(lbl, nm)
            kind = _missing_kind(full[default])
            is_missing = kind is not None and kind not in missing
            if numeric:
                code = int(nm)
            elif is_missing:
                code = (8 if kind == "dont_know" else 9) if n_sub < 8 else (98 if kind == "dont_know" else 99)
            else:
                code = next_code
                next_code += 1
            if is_missing:
                missing[kind] = (code, full)
                lookup[nm] = (code, nm)
                continue
            valid = not numeric and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", nm)
            ours = uniq.take(nm if valid else choice_name(full[default]))
            codes.append(code)
            labels.append(full)
            names.append(ours)
            lookup[nm] = (code, ours)
        al = _AnswerList(codes=[(c, n, lab[default]) for c, n, lab in zip(codes, names, labels, strict=True)],
                         labels=labels, missing=missing, name=snake(ln, default="list"))
        list_defs[ln] = al
        al_lookup[ln] = lookup
        key = al.signature()
        list_cache[ln] = key
        return key

    al_lookup: dict[str, dict[str, tuple[int, str]]] = {}
    first_row: dict[str, int] = {}
    q_lists: dict[str, str] = {}  # our question id -> form list name

    for r, row in enumerate(survey[1:], start=2):
        typ = row[col["type"]].strip() if col["type"] < len(row) else ""
        name = row[col["name"]].strip() if col["name"] < len(row) else ""
        if not typ:
            if name:
                problems.append(Problem(file=str(path), rule="missing-type", message=f"row named '{name}' has no type.",
                                        fix="Fill in the 'type' column (e.g. select_one yes_no, integer, text).",
                                        row=r, column="type"))
            continue
        t = re.sub(r"\s+", " ", typ.lower())
        rel = row[col["relevant"]].strip() if "relevant" in col and col["relevant"] < len(row) else ""
        if t in ("begin_group", "begin group"):
            title = complete(text_of(row, label_cols), name or "group") if text_of(row, label_cols) else {}
            if not group_stack:
                current_module = b.module_ids.take(snake(name or "group", default="module"))
                b.modules[current_module] = title
            group_stack.append((current_module, rel or None))
            continue
        if t in ("end_group", "end group"):
            if group_stack:
                group_stack.pop()
            if not group_stack:
                current_module = None
            continue
        if t in ("begin_repeat", "begin repeat", "end_repeat", "end repeat"):
            problems.append(Problem(file=str(path), rule="unsupported-repeat",
                                    message="repeat groups cannot be imported (an instrument has one answer per question).",
                                    fix="Replace the repeat by a fixed number of questions, or remove it.", row=r, column="type"))
            continue
        base_type = t.split(" ")[0]
        if base_type in METADATA_TYPES or base_type.endswith("_from_file"):
            skipped.append(f"{name or '?'} ({base_type}, row {r})")
            continue
        if not name:
            problems.append(Problem(file=str(path), rule="missing-name", message=f"a '{typ}' row has no name.",
                                    fix="Fill in the 'name' column with a unique question name.", row=r, column="name"))
            continue
        if name in name_map:
            problems.append(Problem(file=str(path), rule="duplicate-name",
                                    message=f"question name '{name}' is used again (first at row {first_row[name]}).",
                                    fix="Give each question its own name.", row=r, column="name"))
            continue
        first_row[name] = r
        if current_module is None:
            current_module = b.module_ids.take("main")
            b.modules[current_module] = {}
        qid = b.ids.take(snake(name))
        name_map[name] = qid
        label = text_of(row, label_cols)
        q = _Q(id=qid, type="text", label=complete(label, name), module=current_module, raw_text=label.get(default, name))
        hint = text_of(row, hint_cols)
        if hint:
            q.hint = complete(hint, "")
        req = row[col["required"]].strip().lower() if "required" in col and col["required"] < len(row) else ""
        q.required = req in ("yes", "true", "true()", "1")
        if base_type in ("select_one", "select_multiple", "rank"):
            parts = t.split(" ")
            if len(parts) < 2:
                problems.append(Problem(file=str(path), rule="missing-list-name",
                                        message=f"'{typ}' does not name a choice list.",
                                        fix=f"Write '{base_type} <list_name>' with a list from the choices sheet.",
                                        row=r, column="type"))
                continue
            ln = typ.split()[1]
            key = answer_list(ln, r)
            if key is None:
                continue
            q.type = {"select_one": "single", "select_multiple": "multi", "rank": "rank"}[base_type]
            q.list_key = b.add_list(list_defs[ln], qid)
            q_lists[qid] = ln
            if q.type == "rank":
                q.max_picks = len(list_defs[ln].codes)
        elif base_type == "integer":
            q.type = "integer"
        elif base_type == "decimal":
            q.type = "integer"
            b.notes.append(f"'{name}' (row {r}) is a decimal question; the instrument format has only 'integer' numbers.")
        elif base_type == "text":
            q.type = "text"
        elif base_type == "note":
            q.type = "note"
        else:
            skipped.append(f"{name} ({base_type}, row {r})")
            b.ids.used.discard(qid)
            del name_map[name]
            continue
        conditions = [g for _, g in group_stack if g] + ([rel] if rel else [])
        if conditions:
            pending_relevant.append((q, " and ".join(f"({c})" if len(conditions) > 1 else c for c in conditions), r))
        b.questions.append(q)

    if problems:
        raise ImportInstrumentError(f"{path}: cannot import the XLSForm ({len(problems)} problem"
                                    f"{'s' if len(problems) != 1 else ''}).", problems=problems, file=str(path),
                                    rule=problems[0].rule)
    if not b.questions:
        raise _fail(path, "no-questions", f"sheet '{survey_name}' has no question rows.",
                    "Add rows with a type (select_one, integer, text...) and a name.", what="the XLSForm", row=2)

    # skip logic: rename ${...}, choice names -> codes for =, names for selected()
    for q, expr, r in pending_relevant:
        new = _rewrite_relevant(expr, name_map, q_lists, al_lookup)
        try:
            skiplogic.parse(new) if new else None
            refs = skiplogic.references(skiplogic.parse(new)) if new else []
            if any(ref not in {x.id for x in b.questions} for ref, _ in refs):
                raise skiplogic.SkipLogicSyntaxError("unknown name", 0)
        except skiplogic.SkipLogicSyntaxError:
            b.notes.append(f"'{q.id}' (row {r}): relevant {expr!r} uses XLSForm features the instrument format "
                           "does not support; it was left out — add it back by hand.")
            continue
        q.relevant = new
    if skipped:
        b.notes.append("left out (not questions the instrument format holds): " + ", ".join(skipped) + ".")
    title = complete({default: settings.get("form_title") or path.stem}, path.stem)
    if missing_translations[0]:
        b.notes.append(f"{missing_translations[0]} label(s) had no translation; they read 'TODO(<lang>): ...'.")
    iid = snake(settings.get("form_id") or path.stem, default="imported")
    version = settings.get("version") or "1"
    return b.mapping(iid=iid, version=str(version), title=title, source="xlsform")


def _rewrite_relevant(expr: str, name_map: dict[str, str], q_lists: dict[str, str],
                      lookup: dict[str, dict[str, tuple[int, str]]]) -> str:
    def sel(m: re.Match) -> str:
        name, choice = m.group(1), m.group(3)
        qid = name_map.get(name, name)
        ln = q_lists.get(qid)
        if ln and choice in lookup.get(ln, {}):
            choice = lookup[ln][choice][1]
        return f"selected(${{{qid}}}, '{choice}')"

    expr = re.sub(r"selected\(\s*\$\{([^}]+)\}\s*,\s*(['\"])(.*?)\2\s*\)", sel, expr)

    def cmp(m: re.Match) -> str:
        name, op, value = m.group(1), m.group(2), m.group(4)
        qid = name_map.get(name, name)
        ln = q_lists.get(qid)
        if ln and value in lookup.get(ln, {}):
            return f"${{{qid}}} {op} {lookup[ln][value][0]}"
        return f"${{{qid}}} {op} '{value}'"

    expr = re.sub(r"\$\{([^}]+)\}\s*(!=|=)\s*(['\"])(.*?)\3", cmp, expr)
    return re.sub(r"\$\{([^}]+)\}", lambda m: f"${{{name_map.get(m.group(1), m.group(1))}}}", expr)


# --- entry points -------------------------------------------------------------------------------


def import_instrument(path: str | Path) -> ImportedInstrument:
    """Read an XLSForm or a codebook and return the instrument mapping (ready for YAML).

    Parameters
    ----------
    path
        An XLSForm (``.xlsx`` with a ``survey`` sheet) or a codebook (``.csv``, or ``.xlsx``
        whose first sheet has question id, question text and value-label columns).

    Returns
    -------
    ImportedInstrument
        A ``dict`` in the instrument format (docs/instrument-format.md), with ``role_notes``,
        ``summary`` and ``notes`` attributes describing what was guessed.

    Raises
    ------
    ImportInstrumentError
        The file is missing or unreadable, has no recognizable layout, is an XLSForm without a
        ``survey`` sheet, or has rows that cannot be read; each problem names the file, sheet,
        row and column, and the fix.
    """
    p = Path(path)
    if not p.exists():
        raise _fail(p, "file-not-found", f"file {p} does not exist.", "Check the path.")
    if p.is_dir():
        raise _fail(p, "unreadable", f"{p} is a folder, not a file.", "Give the XLSForm or codebook file itself.")
    suffix = p.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            sheets = _read_workbook(p)
            lower = {k.lower().strip(): k for k in sheets}
            if "survey" in lower:
                return _xlsform(p, sheets)
            if "choices" in lower or "settings" in lower:
                raise _fail(p, "missing-survey-sheet",
                            f"the workbook looks like an XLSForm (sheets: {', '.join(sheets)}) but has no 'survey' sheet.",
                            "Add (or rename) the sheet holding the questions to 'survey'.", what="the XLSForm")
            first = next(iter(sheets))
            return _codebook(p, [r for r in sheets[first] if any(c for c in r)], first)
        if suffix in (".csv", ".tsv", ".txt"):
            return _codebook(p, _read_csv_rows(p), None)
    except PermissionError as exc:
        raise _fail(p, "unreadable", f"cannot read the file ({exc.strerror}).", "Check the file's permissions.") from None
    raise _fail(p, "unknown-format", f"files ending in '{p.suffix or '(nothing)'}' are not understood.",
                "Give an XLSForm (.xlsx) or a codebook (.csv or .xlsx).")


class _Flow(dict):
    pass


class _FlowList(list):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True))
_Dumper.add_representer(ImportedInstrument, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items()))


def _flowify(obj: Any, languages: set[str]) -> Any:
    if isinstance(obj, dict):
        if obj and all(k in languages for k in obj) and all(isinstance(v, str) for v in obj.values()):
            return _Flow(obj)
        inner = {k: _flowify(v, languages) for k, v in obj.items()}
        if "code" in obj and set(obj) <= {"code", "name", "label", "department"}:
            return _Flow(inner)
        if set(obj) == {"id", "label"}:
            return _Flow(inner)
        if obj and all(isinstance(v, _Flow) and "code" in v for v in inner.values()):  # missing: {dont_know: {...}}
            return inner
        return inner
    if isinstance(obj, list):
        if obj and all(isinstance(v, (str, int, float)) for v in obj):
            return _FlowList(obj)
        return [_flowify(v, languages) for v in obj]
    return obj


def write_instrument_yaml(mapping: dict, out: str | Path) -> Path:
    """Write an imported instrument as YAML, marking each role ``# guessed: ...`` or ``# TODO: set role``.

    Parameters
    ----------
    mapping
        The result of :func:`import_instrument` (or any instrument mapping; a plain ``dict``
        gets ``# TODO: set role`` after every ``role: other``).
    out
        The YAML file to write (its folder must exist).
    """
    out = Path(out)
    notes: dict[str, str] = getattr(mapping, "role_notes", {})
    languages = set(mapping.get("languages") or ["en"])
    body = yaml.dump(_flowify(dict(mapping), languages), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=4096, default_flow_style=False)
    lines = []
    current = None
    q_indent = None
    for line in body.splitlines():
        m = re.match(r"^(\s*)- id: (\S+)\s*$", line)
        if m:
            current, q_indent = m.group(2), len(m.group(1)) + 2
        rm = re.match(r"^(\s*)role: (\S+)\s*$", line)
        if rm and current is not None and len(rm.group(1)) == q_indent:
            note = notes.get(current) or ("TODO: set role" if rm.group(2) == "other" else "")
            if note:
                line = f"{line}  # {note}"
        lines.append(line)
    summary = getattr(mapping, "summary", {})
    head = ["# Imported instrument: check every '# TODO: set role' and '# guessed' comment below,",
            "# then validate: survey-pipeline instrument validate " + out.name]
    if summary:
        head.append(f"# Source: {summary.get('source')}; {summary.get('questions')} questions, {summary.get('variables')} variables, "
                    f"{len(summary.get('scales', []))} scales, {len(summary.get('choice_lists', []))} choice lists; "
                    f"roles guessed {summary.get('roles_guessed')}, to set {summary.get('roles_todo')}.")
    for n in getattr(mapping, "notes", []):
        head.append(f"# Note: {n}")
    try:
        out.write_text("\n".join(head) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ImportInstrumentError(f"{out}: cannot write the instrument ({exc.strerror}).", file=str(out),
                                    rule="unwritable", fix="Check that the folder exists and is writable.") from None
    return out
