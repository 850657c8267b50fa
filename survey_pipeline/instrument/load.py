"""Load an instrument from YAML, resolve includes and modules, and validate it lazily.

Every problem in a file is reported at once, each naming the file, the line, the question id,
the rule and the fix (pyxform's error catalogue is the model).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from survey_pipeline.errors import InstrumentError, Problem, ProblemList
from survey_pipeline.instrument import skiplogic
from survey_pipeline.instrument.model import (
    MISSING_KINDS,
    Areas,
    ChoiceList,
    CrosswalkEntry,
    Index,
    Instrument,
    Item,
    Module,
    Question,
    Role,
    Scale,
)

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
TOP_KEYS = {
    "id", "version", "title", "description", "languages", "default_language", "include",
    "departments", "scales", "choice_lists", "module_library", "modules", "indices", "areas",
    "crosswalk", "agency",
}
INCLUDE_KEYS = {"departments", "scales", "choice_lists", "module_library", "indices", "include"}
ROLE_NAMES = [r.value for r in Role]


# --- YAML with line numbers ----------------------------------------------------------------


@dataclass
class Source:
    """A parsed YAML file with the line of every path in it."""

    file: str
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line(self, *path) -> int | None:
        """Line of the deepest known prefix of ``path``."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


MAX_YAML_BYTES = 5_000_000
"""An instrument YAML file larger than this (5 MB; the bundled resident template is ~100 KB) is refused."""
MAX_YAML_ALIASES = 100
"""YAML aliases (``*name``) allowed in one instrument file (the bundled templates use none)."""
MAX_YAML_NODES = 50_000
"""Values built from one file, aliases expanded (the bundled templates have under 700 each): a
"billion laughs" file stops here, in a fraction of a second."""


class _LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses more than :data:`MAX_YAML_ALIASES` aliases while composing."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                ev = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_YAML_ALIASES} aliases (*name): refused, a document that "
                    "repeats itself through aliases can grow without bound", ev.start_mark)
        return super().compose_node(parent, index)


_PARSED: OrderedDict[tuple, tuple[Any, dict[tuple, int]]] = OrderedDict()
"""YAML files parsed cleanly in this process, by path and content (SHA-256): a process that loads
the same instrument again (``run`` checks the project, then ``analyze`` does; a program worker runs
many members of one instrument) builds it from a copy instead of parsing it again."""
_PARSED_MAX = 32


def _read_yaml(path: Path, problems: ProblemList) -> Source | None:
    """The parsed file with its lines (None, with the problems added, when it cannot be read).

    A file with the same path and content as one parsed before without a problem is not parsed
    again: a deep copy of its values is returned.
    """
    try:
        key = None
        if path.is_file() and path.stat().st_size <= MAX_YAML_BYTES:
            key = (str(path.resolve()), hashlib.sha256(path.read_bytes()).hexdigest())
    except OSError:
        key = None
    if key is not None and key in _PARSED:
        _PARSED.move_to_end(key)
        data, lines = _PARSED[key]
        return Source(file=str(path), data=copy.deepcopy(data), lines=dict(lines))
    before = len(problems.items)
    src = _parse_yaml(path, problems)
    if key is not None and src is not None and len(problems.items) == before:
        _PARSED[key] = (copy.deepcopy(src.data), dict(src.lines))
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return src


def _parse_yaml(path: Path, problems: ProblemList) -> Source | None:
    file = str(path)
    try:
        size = path.stat().st_size if path.is_file() else None
        if path.exists() and not path.is_file():
            problems.add("unreadable", "is not a regular file (a directory, device or pipe).",
                         "Give the path of an instrument YAML file.", file=file)
            return None
        if size is not None and size > MAX_YAML_BYTES:
            problems.add("file-too-large", f"the file has {size / 1e6:.1f} MB, over the limit of "
                         f"{MAX_YAML_BYTES / 1e6:g} MB for an instrument.",
                         "Check that this is the instrument file; split a very large one into modules.", file=file)
            return None
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.add("file-not-found", f"file {file} does not exist.",
                     "Check the path, or use a bundled template name (resident, partner, agency_self_assessment).",
                     file=file)
        return None
    except UnicodeDecodeError as exc:
        problems.add("encoding", f"the file is not UTF-8 ({exc.reason} at byte {exc.start}).",
                     "Save the file as UTF-8.", file=file)
        return None
    except OSError as exc:
        problems.add("unreadable", f"cannot read the file ({exc.strerror}).",
                     "Check the path and permissions.", file=file)
        return None
    loader = _LimitedLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.add("yaml-syntax", f"the YAML cannot be parsed: {getattr(exc, 'problem', exc)}.",
                     "Fix the indentation or quoting at that line (a value holding ': ' or '#' needs quotes).",
                     file=file, line=(mark.line + 1) if mark else None)
        return None
    finally:
        loader.dispose()
    src = Source(file=file, data=None)
    if node is None:
        src.data = {}
        return src

    built = 0

    def build(n, path: tuple):
        nonlocal built
        built += 1
        if built > MAX_YAML_NODES:
            raise _TooLarge
        src.lines[path] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            out: dict = {}
            for k, v in n.value:
                key = loader.construct_object(k, deep=True)
                if key in out:
                    problems.add("duplicate-key", f"key '{key}' appears twice in the same mapping.",
                                 "Remove or rename one of them.", file=file, line=k.start_mark.line + 1)
                out[key] = build(v, (*path, key))
                src.lines[(*path, key)] = k.start_mark.line + 1
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(v, (*path, i)) for i, v in enumerate(n.value)]
        return loader.construct_object(n, deep=True)

    try:
        src.data = build(node, ())
    except (_TooLarge, RecursionError):
        problems.add("yaml-too-large", f"the YAML expands to more than {MAX_YAML_NODES:,} values (or nests too "
                     "deeply) once its aliases are followed.",
                     "An instrument needs far fewer: remove the aliases (*name) and anchors (&name), or split the "
                     "file into modules.", file=file)
        return None
    return src


class _TooLarge(Exception):
    """Raised inside :func:`_read_yaml`'s builder past :data:`MAX_YAML_NODES`."""


# --- finding bundled templates --------------------------------------------------------------


def templates_dir() -> Path:
    """The folder of bundled instrument templates (works after a non-editable install)."""
    packaged = resources.files("survey_pipeline") / "_instruments"
    p = Path(str(packaged))
    if p.is_dir():
        return p
    return Path(__file__).resolve().parents[2] / "instruments"


def list_templates() -> list[str]:
    """Names of the bundled templates (files with a top-level ``modules:``)."""
    names = []
    for f in sorted(templates_dir().glob("*.yaml")):
        try:
            head = f.read_text(encoding="utf-8")
        except OSError:
            continue
        if re.search(r"^modules:", head, re.MULTILINE):
            names.append(f.stem)
    return names


def resolve_path(path_or_name: str | Path) -> Path:
    """A path as given, or a bundled template by name (``resident``, ``partner``, ...)."""
    p = Path(path_or_name)
    if p.exists() or p.suffix in (".yaml", ".yml") or "/" in str(path_or_name):
        return p
    candidate = templates_dir() / f"{path_or_name}.yaml"
    if candidate.exists():
        return candidate
    raise InstrumentError(
        f"no instrument file or bundled template named '{path_or_name}'.",
        rule="unknown-template",
        fix=f"Give a path to a YAML file, or one of: {', '.join(list_templates()) or '(none bundled)'}.",
    )


# --- loading --------------------------------------------------------------------------------


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def _pyd_problems(exc: ValidationError, src: Source, base: tuple, problems: ProblemList,
                  question: str | None = None, what: str = "") -> None:
    for e in exc.errors():
        loc = tuple(e.get("loc", ()))
        path = (*base, *loc)
        line = src.line(*path)
        where = ".".join(str(x) for x in loc) or what
        etype = e.get("type", "")
        if etype == "extra_forbidden":
            key = loc[-1] if loc else "?"
            problems.add("unknown-key", f"{what} has an unknown key '{key}'.",
                         "Remove it or fix its spelling." + _suggest(key, _allowed_keys(what)),
                         file=src.file, line=line, question=question)
        elif etype == "missing":
            problems.add("missing-field", f"{what} lacks required field '{where}'.",
                         f"Add '{loc[-1] if loc else where}:'.", file=src.file, line=line, question=question)
        elif etype == "literal_error" and loc and loc[-1] == "type":
            problems.add("bad-type", f"{what} has type {e.get('input')!r}, which is not a question type.",
                         "Use one of: single, multi, rank, integer, text, note, grid." + _suggest(e.get("input"), ["single", "multi", "rank", "integer", "text", "note", "grid"]),
                         file=src.file, line=line, question=question)
        elif etype == "enum" and loc and loc[-1] == "role":
            problems.add("bad-role", f"{what} has role {e.get('input')!r}, which is not a role.",
                         f"Use one of: {', '.join(ROLE_NAMES)}." + _suggest(e.get("input"), ROLE_NAMES),
                         file=src.file, line=line, question=question)
        elif (loc and loc[-1] == "code") or "int" in etype:
            problems.add("bad-code", f"{what}: '{where}' must be a whole number, found {e.get('input')!r}.",
                         "Use an integer code (e.g. 1, 2, 8).", file=src.file, line=line, question=question)
        elif "missing" in [str(x) for x in loc] and etype == "literal_error":
            problems.add("bad-missing-kind", f"{what}: missing code kind {loc[-1]!r} is not allowed.",
                         "Missing codes are 'dont_know' and 'refused'.", file=src.file, line=line, question=question)
        else:
            problems.add("bad-value", f"{what}: '{where}' {e.get('msg', 'is invalid').lower()} (found {e.get('input')!r}).",
                         "Correct the value to the documented form (docs/instrument-format.md).",
                         file=src.file, line=line, question=question)


def _allowed_keys(what: str) -> list[str]:
    for model in (Question, Module, Scale, ChoiceList, Item):
        if what.lower().startswith(model.__name__.lower()):
            return list(model.model_fields)
    return sorted(TOP_KEYS)


@dataclass
class _Entry:
    value: Any
    src: Source
    path: tuple


def _collect_includes(src: Source, problems: ProblemList, seen: set[Path],
                      pools: dict[str, dict[str, _Entry]]) -> None:
    """Merge the named sections of ``src`` and of the files it includes into ``pools``."""
    data = src.data if isinstance(src.data, dict) else {}
    base = Path(src.file).parent
    for i, inc in enumerate(data.get("include") or []):
        p = (base / str(inc)).resolve()
        if p in seen:
            continue
        seen.add(p)
        if not p.exists():
            problems.add("include-missing", f"included file '{inc}' does not exist (looked in {p.parent}).",
                         "Fix the path; includes are relative to the including file.",
                         file=src.file, line=src.line("include", i))
            continue
        inc_src = _read_yaml(p, problems)
        if inc_src is None:
            continue
        if not isinstance(inc_src.data, dict):
            problems.add("bad-include", "an included file must be a mapping of sections.",
                         f"Use top-level keys among: {', '.join(sorted(INCLUDE_KEYS))}.", file=inc_src.file, line=1)
            continue
        for key in inc_src.data:
            if key not in INCLUDE_KEYS:
                problems.add("unknown-key", f"included files may not define '{key}'.",
                             f"Keep only {', '.join(sorted(INCLUDE_KEYS))} in an included file." + _suggest(key, INCLUDE_KEYS),
                             file=inc_src.file, line=inc_src.line(key))
        _collect_includes(inc_src, problems, seen, pools)
    for section in ("departments", "scales", "choice_lists", "module_library", "indices"):
        sec = data.get(section)
        if sec is None:
            continue
        if not isinstance(sec, dict):
            problems.add("bad-section", f"'{section}' must be a mapping of name: definition.",
                         f"Write '{section}:' followed by indented 'name: ...' entries.",
                         file=src.file, line=src.line(section))
            continue
        for name, value in sec.items():
            if name in pools[section]:
                prev = pools[section][name]
                problems.add("duplicate-definition",
                             f"{section[:-1] if section != 'module_library' else 'module'} '{name}' is defined twice "
                             f"(also in {prev.src.file} line {prev.src.line(*prev.path)}).",
                             "Keep one definition, or rename one.", file=src.file, line=src.line(section, name))
                continue
            pools[section][name] = _Entry(value, src, (section, name))


def load_instrument(path_or_name: str | Path, *, strict: bool = True) -> Instrument:
    """Load, resolve and validate an instrument.

    Parameters
    ----------
    path_or_name
        A YAML file, or the name of a bundled template (``resident``, ``partner``,
        ``agency_self_assessment``).
    strict
        Raise :class:`InstrumentError` listing every problem (default). With ``strict=False`` an
        instrument is returned when it can be built, and its problems are in ``.problems``.

    Raises
    ------
    InstrumentError
        With ``problems``: each names file, line, question, rule and fix.
    """
    instrument, problems = validate_instrument(path_or_name)
    errors = [p for p in problems.items if p.severity == "error"]
    if errors and (strict or instrument is None):
        raise InstrumentError(
            f"{problems.file}: {len(errors)} problem{'s' if len(errors) != 1 else ''} found in the instrument.",
            problems=errors,
            file=problems.file,
            rule="invalid-instrument",
        )
    assert instrument is not None
    return instrument


def validate_instrument(path_or_name: str | Path) -> tuple[Instrument | None, ProblemList]:
    """Load and check an instrument, returning it (or None) and every problem found."""
    path = resolve_path(path_or_name)
    problems = ProblemList(file=str(path))
    src = _read_yaml(path, problems)
    if src is None:
        return None, problems
    if not isinstance(src.data, dict):
        problems.add("bad-top-level", "the file must be a YAML mapping (id:, version:, modules: ...).",
                     "Start from a bundled template (survey-pipeline instrument export resident --format yaml).",
                     line=1)
        return None, problems
    pools: dict[str, dict[str, _Entry]] = {k: {} for k in ("departments", "scales", "choice_lists", "module_library", "indices")}
    _collect_includes(src, problems, {path.resolve()}, pools)
    inst = _build(src, pools, problems)
    return inst, problems


def _build(src: Source, pools: dict[str, dict[str, _Entry]], problems: ProblemList) -> Instrument | None:
    data = src.data
    f = src.file
    for key in data:
        if key not in TOP_KEYS:
            problems.add("unknown-key", f"unknown top-level key '{key}'.",
                         "Remove it or fix its spelling." + _suggest(key, TOP_KEYS), line=src.line(key))
    for req in ("id", "version", "title", "languages", "modules"):
        if req not in data:
            problems.add("missing-field", f"the instrument lacks '{req}:'.", f"Add a top-level '{req}:'.", line=1)

    languages = data.get("languages") or []
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        problems.add("bad-value", "'languages' must be a list of language codes like [en, es].",
                     "Write 'languages: [en, es]'.", line=src.line("languages"))
        languages = []
    languages = list(languages)
    default_language = data.get("default_language")
    if default_language is not None and default_language not in languages:
        problems.add("unknown-language", f"default_language '{default_language}' is not in languages {languages}.",
                     "Add it to 'languages' or choose one of them.", line=src.line("default_language"))
    iid = data.get("id")
    if iid is not None and not (isinstance(iid, str) and SNAKE.match(iid)):
        problems.add("bad-id", f"instrument id {iid!r} is not snake_case.", "Use lower-case letters, digits and underscores.",
                     line=src.line("id"))

    def check_text(value: Any, where_src: Source, path: tuple, what: str, question: str | None = None,
                   required: bool = True) -> dict[str, str] | None:
        if value is None:
            if required:
                problems.add("missing-label", f"{what} has no label.", f"Add 'label: {{{', '.join(f'{lg}: ...' for lg in languages)}}}'.",
                             file=where_src.file, line=where_src.line(*path), question=question)
            return None
        if isinstance(value, str):
            if len(languages) <= 1:
                return {languages[0] if languages else "en": value}
            problems.add("missing-translation", f"{what} has a single untranslated label {value!r}.",
                         f"Give it in every declared language: {{{', '.join(f'{lg}: ...' for lg in languages)}}}.",
                         file=where_src.file, line=where_src.line(*path), question=question)
            return {languages[0]: value}
        if not isinstance(value, dict):
            problems.add("bad-label", f"{what}: a label must be a mapping of language: text.",
                         "Write e.g. '{en: Very safe, es: Muy seguro}'.", file=where_src.file,
                         line=where_src.line(*path), question=question)
            return None
        for lg in languages:
            if lg not in value or value[lg] in (None, ""):
                problems.add("missing-translation", f"{what} has no '{lg}' label.",
                             f"Add '{lg}: ...' (the instrument declares languages {languages}).",
                             file=where_src.file, line=where_src.line(*path), question=question)
        if where_src is not src:
            # a shared file (an include) may carry more languages than this instrument declares
            # (shared_scales.yaml has en, es and vi; the partner survey declares en and es): keep its own
            return {str(k): str(v) for k, v in value.items() if v is not None and k in languages}
        for lg in value:
            if lg not in languages:
                problems.add("undeclared-language", f"{what} has a label in '{lg}', which the instrument does not declare.",
                             f"Add '{lg}' to 'languages' or remove the label.",
                             file=where_src.file, line=where_src.line(*path, lg), question=question)
        return {str(k): str(v) for k, v in value.items() if v is not None}

    title = check_text(data.get("title"), src, ("title",), "the instrument title")
    description = check_text(data.get("description"), src, ("description",), "the description", required=False)

    # departments
    departments: dict[str, dict[str, str]] = {}
    for name, e in pools["departments"].items():
        departments[name] = check_text(e.value, e.src, e.path, f"department '{name}'") or {}

    # scales and choice lists
    def check_choices(choices: list, e: _Entry, list_name: str, path: tuple, kind: str) -> None:
        codes: dict[int, int] = {}
        names: dict[str, int] = {}
        for i, c in enumerate(choices):
            if not isinstance(c, dict):
                continue
            cpath = (*path, i)
            code, nm = c.get("code"), c.get("name")
            if isinstance(code, int):
                if code in codes:
                    problems.add("duplicate-code", f"{kind} '{list_name}': code {code} is used twice.",
                                 "Give each answer its own code.", file=e.src.file, line=e.src.line(*cpath))
                codes[code] = i
            if nm is not None:
                if not (isinstance(nm, str) and XML_NAME.match(nm)):
                    problems.add("bad-choice-name", f"{kind} '{list_name}': choice name {nm!r} is not a valid name.",
                                 "Use letters, digits and underscores, starting with a letter (it becomes a column and an XLSForm name).",
                                 file=e.src.file, line=e.src.line(*cpath, "name"))
                elif nm in names:
                    problems.add("duplicate-choice-name", f"{kind} '{list_name}': choice name '{nm}' is used twice.",
                                 "Give each choice its own name.", file=e.src.file, line=e.src.line(*cpath, "name"))
                names[str(nm)] = i
            check_text(c.get("label"), e.src, (*cpath, "label"), f"{kind} '{list_name}' code {code}")
            dep = c.get("department")
            if dep is not None and dep not in departments:
                problems.add("unknown-department", f"{kind} '{list_name}': department '{dep}' is not defined.",
                             f"Define it under 'departments:' or use one of: {', '.join(sorted(departments)) or '(none)'}."
                             + _suggest(dep, departments), file=e.src.file, line=e.src.line(*cpath, "department"))
        return codes

    def check_missing(missing: Any, e: _Entry, list_name: str, valid_codes: dict, kind: str, path: tuple) -> None:
        if not isinstance(missing, dict):
            return
        for mk, mv in missing.items():
            if mk not in MISSING_KINDS:
                continue  # reported by pydantic
            if isinstance(mv, dict):
                mc = mv.get("code")
                if isinstance(mc, int) and mc in valid_codes:
                    problems.add("missing-code-collision",
                                 f"{kind} '{list_name}': missing code {mc} ({mk}) is also an answer code.",
                                 "Use a code outside the answer codes for missing answers (e.g. 8 or 9, 98 or 99).",
                                 file=e.src.file, line=e.src.line(*path, mk))
                check_text(mv.get("label"), e.src, (*path, mk, "label"), f"{kind} '{list_name}' {mk}")

    scales: dict[str, Scale] = {}
    for name, e in pools["scales"].items():
        v = e.value
        if not isinstance(v, dict):
            problems.add("bad-scale", f"scale '{name}' must be a mapping with 'codes:'.", "See docs/instrument-format.md.",
                         file=e.src.file, line=e.src.line(*e.path))
            continue
        codes = check_choices(v.get("codes") or [], e, name, (*e.path, "codes"), "scale")
        check_missing(v.get("missing"), e, name, codes or {}, "scale", (*e.path, "missing"))
        if "label" in v:
            check_text(v.get("label"), e.src, (*e.path, "label"), f"scale '{name}'", required=False)
        for j, pc in enumerate(v.get("positive") or []):
            if codes is not None and pc not in codes:
                problems.add("bad-code", f"scale '{name}': positive code {pc!r} is not one of its codes {sorted(codes)}.",
                             "List only answer codes of the scale under 'positive'.", file=e.src.file,
                             line=e.src.line(*e.path, "positive", j))
        vv = dict(v)
        for c in vv.get("codes") or []:
            if isinstance(c, dict) and "name" not in c and "code" in c:
                c["name"] = f"c{c['code']}".replace("-", "m")
        try:
            scales[name] = Scale.model_validate({**vv, "id": name})
        except ValidationError as exc:
            _pyd_problems(exc, e.src, e.path, problems, what=f"scale '{name}'")

    choice_lists: dict[str, ChoiceList] = {}
    for name, e in pools["choice_lists"].items():
        v = e.value
        if isinstance(v, list):
            v = {"choices": v}
            cpath = e.path
        elif isinstance(v, dict):
            cpath = (*e.path, "choices")
        else:
            problems.add("bad-choice-list", f"choice list '{name}' must be a list of choices.", "See docs/instrument-format.md.",
                         file=e.src.file, line=e.src.line(*e.path))
            continue
        codes = check_choices(v.get("choices") or [], e, name, cpath, "choice list")
        check_missing(v.get("missing"), e, name, codes or {}, "choice list", (*e.path, "missing"))
        try:
            choice_lists[name] = ChoiceList.model_validate({**v, "id": name})
        except ValidationError as exc:
            _pyd_problems(exc, e.src, e.path, problems,
                          what=f"choice list '{name}'")

    indices: dict[str, Index] = {}
    for name, e in pools["indices"].items():
        v = e.value if isinstance(e.value, dict) else {}
        check_text(v.get("label"), e.src, (*e.path, "label"), f"index '{name}'")
        try:
            indices[name] = Index.model_validate({**v, "id": name})
        except ValidationError as exc:
            _pyd_problems(exc, e.src, e.path, problems, what=f"index '{name}'")

    # areas
    areas = Areas()
    if "areas" in data:
        try:
            areas = Areas.model_validate(data["areas"])
        except ValidationError as exc:
            _pyd_problems(exc, src, ("areas",), problems, what="areas")
        else:
            for i, a in enumerate(areas.items):
                check_text(data["areas"]["items"][i].get("label"), src, ("areas", "items", i, "label"), f"area '{a.name}'")

    # modules (expanding `use:`)
    modules: list[Module] = []
    raw_modules = data.get("modules") or []
    if not isinstance(raw_modules, list):
        problems.add("bad-section", "'modules' must be a list.", "Write '- id: ...' or '- use: ...' entries.", line=src.line("modules"))
        raw_modules = []
    seen_modules: dict[str, int | None] = {}
    # id(question object) -> (src, path), for line numbers
    qsources: dict[int, tuple[Source, tuple]] = {}
    for i, m in enumerate(raw_modules):
        if not isinstance(m, dict):
            problems.add("bad-module", "each module must be a mapping.", "Write '- id: ...' or '- use: ...'.", line=src.line("modules", i))
            continue
        msrc, mpath, mval = src, ("modules", i), dict(m)
        if "use" in m:
            lib = pools["module_library"].get(m["use"])
            if lib is None:
                problems.add("unknown-module", f"module '{m['use']}' is not in the module library.",
                             f"Define it under 'module_library:' (or include the file that does). Known: {', '.join(sorted(pools['module_library'])) or '(none)'}."
                             + _suggest(m["use"], pools["module_library"]), line=src.line("modules", i, "use"))
                continue
            msrc, mpath = lib.src, lib.path
            mval = {"id": m["use"], **(lib.value if isinstance(lib.value, dict) else {})}
            for k, val in m.items():
                if k != "use":
                    mval[k] = val
        mid = mval.get("id")
        if mid in seen_modules:
            problems.add("duplicate-id", f"module '{mid}' appears twice.", "Use each module once.", line=src.line("modules", i))
            continue
        seen_modules[mid] = i
        raw_qs = mval.get("questions") or []
        check_text(mval.get("title"), msrc, (*mpath, "title"), f"module '{mid}'", required=False)
        qs: list[Question] = []
        for j, q in enumerate(raw_qs):
            qpath = (*mpath, "questions", j)
            if not isinstance(q, dict):
                problems.add("bad-question", "a question must be a mapping.", "Write '- id: ...'.", file=msrc.file, line=msrc.line(*qpath))
                continue
            qid = q.get("id")
            qd = dict(q)
            qd["module"] = str(mid)
            if isinstance(qd.get("items"), list):
                items = []
                for it in qd["items"]:
                    items.append(dict(it) if isinstance(it, dict) else it)
                qd["items"] = items
            if qd.get("type") != "note" and "role" not in qd:
                problems.items.append(Problem(file=msrc.file, rule="role-missing",
                                              message="the question has no role; the analysis will not use it.",
                                              fix=f"Add 'role:' (one of {', '.join(ROLE_NAMES)}).",
                                              line=msrc.line(*qpath), question=str(qid), severity="warning"))
            try:
                question = Question.model_validate(qd)
            except ValidationError as exc:
                _pyd_problems(exc, msrc, qpath, problems, question=str(qid) if qid else None,
                              what=f"Question '{qid}'" if qid else "a question")
                continue
            qs.append(question)
            qsources[id(question)] = (msrc, qpath)
        try:
            modules.append(Module.model_validate({k: v for k, v in mval.items() if k != "questions"} | {"questions": []}))
            modules[-1].questions = qs
        except ValidationError as exc:
            _pyd_problems(exc, msrc, mpath, problems, what=f"module '{mid}'")

    # semantic checks on questions
    answer_names = set(scales) | set(choice_lists) | {"areas"}
    seen_q: dict[str, str] = {}
    seen_vars: dict[str, str] = {}
    order: dict[str, int] = {}
    for m in modules:
        for q in m.questions:
            qsrc, qpath = qsources.get(id(q), (src, ("modules",)))

            def add(rule: str, message: str, fix: str, *sub, _q=q, _s=qsrc, _p=qpath) -> None:
                problems.add(rule, message, fix, file=_s.file, line=_s.line(*_p, *sub), question=_q.id)

            if not SNAKE.match(q.id):
                add("bad-id", f"question id '{q.id}' is not snake_case.", "Use lower-case letters, digits and underscores, starting with a letter.", "id")
            if q.id in seen_q:
                add("duplicate-id", f"question id '{q.id}' is used twice (also in module '{seen_q[q.id]}').",
                    "Give each question its own stable id; never reuse an id for a different meaning.", "id")
            seen_q[q.id] = m.id
            order[q.id] = len(order)
            check_text(q.label, qsrc, (*qpath, "label"), f"question '{q.id}'", question=q.id)
            if q.hint is not None:
                check_text(q.hint, qsrc, (*qpath, "hint"), f"the hint of '{q.id}'", question=q.id)
            # answer list
            needs_list = q.type in ("single", "multi", "rank", "grid")
            if q.scale and q.choices:
                add("two-answer-lists", "the question names both a scale and a choice list.", "Keep one of 'scale:' or 'choices:'.", "scale")
            if needs_list and not q.answer_list:
                add("missing-answer-list", f"a {q.type} question needs 'scale:' or 'choices:'.",
                    f"Add 'scale: <name>' (defined: {', '.join(sorted(scales)) or 'none'}) or 'choices: <list>'.")
            if not needs_list and q.answer_list:
                add("unexpected-answer-list", f"a {q.type} question takes no answer list.", "Remove 'scale:'/'choices:' or change the type.", "scale" if q.scale else "choices")
            if q.scale and q.scale not in scales:
                kind = "choice list" if q.scale in choice_lists else "scale"
                add("undefined-scale", f"scale '{q.scale}' is not defined." + (" It is a choice list: use 'choices:'." if kind == "choice list" else ""),
                    f"Fix the name or add the scale under 'scales:'. Defined scales: {', '.join(sorted(scales)) or '(none)'}." + _suggest(q.scale, scales), "scale")
            if q.choices and q.choices not in answer_names:
                add("undefined-choice-list", f"choice list '{q.choices}' is not defined.",
                    f"Fix the name or add it under 'choice_lists:'. Defined: {', '.join(sorted(set(choice_lists) | set(scales)))}." + _suggest(q.choices, answer_names), "choices")
            # grid items
            if q.type == "grid":
                if q.items and q.items_from:
                    add("grid-items", "a grid has both 'items' and 'items_from'.", "Keep one of them.", "items")
                elif q.items_from:
                    if q.items_from not in choice_lists:
                        add("undefined-choice-list", f"items_from names '{q.items_from}', which is not a choice list.",
                            f"Use one of: {', '.join(sorted(choice_lists)) or '(none)'}." + _suggest(q.items_from, choice_lists), "items_from")
                    else:
                        q.items = [Item(id=f"{q.id}_{c.name}", label=c.label, department=c.department, choice_code=c.code)
                                   for c in choice_lists[q.items_from].choices]
                elif not q.items:
                    add("grid-items", "a grid has no items.", "Add 'items:' (id and label each) or 'items_from: <choice list>'.")
                for k, it in enumerate(q.items or []):
                    if not q.items_from:
                        check_text(it.label, qsrc, (*qpath, "items", k, "label"), f"item '{it.id}'", question=q.id)
                    if it.reverse and not (q.role == Role.scale_item and q.index):
                        add("reverse-outside-scale", f"item '{it.id}' is reverse-keyed but the grid is not part of a multi-item scale.",
                            "Set 'role: scale_item' and 'index: <index name>' on the grid, or remove 'reverse: true'.", "items", k)
                    if it.department and it.department not in departments:
                        add("unknown-department", f"item '{it.id}': department '{it.department}' is not defined.",
                            f"Define it under 'departments:'. Known: {', '.join(sorted(departments))}.", "items", k)
            elif q.items or q.items_from:
                add("unexpected-items", f"a {q.type} question takes no items.", "Use 'type: grid' or remove the items.", "items")
            if q.reverse and not (q.role == Role.scale_item and q.index):
                add("reverse-outside-scale", "the question is reverse-keyed but is not part of a multi-item scale.",
                    "Set 'role: scale_item' and 'index: <index name>', or remove 'reverse: true'.", "reverse")
            if q.reverse and q.scale and q.scale in scales and not scales[q.scale].ordered:
                add("reverse-outside-scale", f"reverse keying needs an ordered scale; '{q.scale}' is not ordered.",
                    "Use an ordered scale or remove 'reverse: true'.", "reverse")
            if q.role == Role.scale_item and not q.index:
                add("missing-index", "a scale_item question does not say which multi-item scale it belongs to.",
                    f"Add 'index: <name>' (defined: {', '.join(sorted(indices)) or 'none'}).", "role")
            if q.index and q.index not in indices:
                add("unknown-index", f"index '{q.index}' is not defined under 'indices:'.",
                    f"Add it under 'indices:' or use one of: {', '.join(sorted(indices)) or '(none)'}." + _suggest(q.index, indices), "index")
            if q.department and q.department not in departments:
                add("unknown-department", f"department '{q.department}' is not defined.",
                    f"Define it under 'departments:' or use one of: {', '.join(sorted(departments)) or '(none)'}." + _suggest(q.department, departments), "department")
            if q.max_picks is not None:
                if q.type not in ("multi", "rank"):
                    add("bad-max-picks", f"max_picks applies to multi and rank questions, not {q.type}.", "Remove 'max_picks' or change the type.", "max_picks")
                elif q.max_picks < 1:
                    add("bad-max-picks", f"max_picks must be at least 1, found {q.max_picks}.", "Use a positive number.", "max_picks")
                elif q.answer_list in choice_lists and q.max_picks > len(choice_lists[q.answer_list].choices):
                    add("bad-max-picks", f"max_picks {q.max_picks} exceeds the {len(choice_lists[q.answer_list].choices)} options.", "Lower max_picks.", "max_picks")
            if q.type == "rank" and q.max_picks is None:
                add("bad-max-picks", "a rank question needs 'max_picks' (how many to rank).", "Add e.g. 'max_picks: 3'.")
            if q.role in (Role.priority, Role.problem):
                opts = []
                if q.type == "grid" and q.items_from in choice_lists:
                    opts = choice_lists[q.items_from].choices
                elif q.answer_list in choice_lists:
                    opts = choice_lists[q.answer_list].choices
                lacking = [c.name for c in opts if not c.department]
                if lacking:
                    add("problem-without-department", f"problems without an owning department: {', '.join(lacking[:5])}{'...' if len(lacking) > 5 else ''}.",
                        "Give each problem 'department: <name>' so priorities reach the agency that can act.")
            if q.expected is not None:
                if q.role != Role.attention_check:
                    add("bad-expected", "'expected' is only for attention checks.", "Set 'role: attention_check' or remove 'expected'.", "expected")
                elif q.answer_list:
                    try:
                        opts, _ = Instrument.model_construct(scales=scales, choice_lists=choice_lists, areas=areas).answer_options(q.answer_list)
                    except KeyError:
                        opts = None
                    if opts is not None and q.expected not in [c.code for c in opts]:
                        add("bad-code", f"expected answer {q.expected} is not a code of '{q.answer_list}' ({[c.code for c in opts]}).",
                            "Use one of the scale's codes.", "expected")
            if q.role == Role.attention_check and q.expected is None:
                add("bad-expected", "an attention check needs the 'expected' code an attentive respondent picks.", "Add 'expected: <code>'.")
            if q.type == "integer" and q.min is not None and q.max is not None and q.min > q.max:
                add("bad-range", f"min {q.min} is above max {q.max}.", "Swap them.", "min")
            # variables must be unique too
            for vname in _variable_names(q, scales, choice_lists, areas):
                if vname in seen_vars and vname != q.id:
                    add("duplicate-id", f"variable '{vname}' is produced twice (also by '{seen_vars[vname]}').",
                        "Rename the item or question so each variable is unique.")
                elif vname in seen_q and vname != q.id:
                    add("duplicate-id", f"variable '{vname}' collides with question id '{vname}'.",
                        "Rename the item or question so each variable is unique.")
                seen_vars.setdefault(vname, q.id)

    # module ids become XLSForm group names: they may not clash with questions or variables
    for m in modules:
        if m.id in seen_q or m.id in seen_vars:
            problems.add("name-clash", f"module id '{m.id}' is also a question or variable name.",
                         "Rename the module (module ids, question ids and variables share one namespace).",
                         line=src.line("modules"))

    # skip logic, after all ids are known
    all_q = {q.id: q for m in modules for q in m.questions}
    for m in modules:
        for q in m.questions:
            if not q.relevant:
                continue
            qsrc, qpath = qsources.get(id(q), (src, ("modules",)))
            line = qsrc.line(*qpath, "relevant")
            try:
                node = skiplogic.parse(q.relevant)
            except skiplogic.SkipLogicSyntaxError as exc:
                problems.add("skip-syntax", f"skip logic {q.relevant!r} cannot be parsed: {exc} (at character {exc.position + 1}).",
                             "Use XLSForm syntax, e.g. \"${contact_12m} = 1\" or \"selected(${reasons}, 'traffic')\".",
                             file=qsrc.file, line=line, question=q.id)
                continue
            for ref, choice in skiplogic.references(node):
                if ref not in all_q:
                    problems.add("skip-unknown-question", f"skip logic names '{ref}', which is not a question.",
                                 "Fix the name in 'relevant'." + _suggest(ref, all_q), file=qsrc.file, line=line, question=q.id)
                elif order[ref] >= order[q.id]:
                    problems.add("skip-later-question", f"skip logic names '{ref}', which is asked after this question.",
                                 "Skip logic may only depend on earlier questions: move the question or fix the name.",
                                 file=qsrc.file, line=line, question=q.id)
                elif choice is not None:
                    target = all_q[ref]
                    if target.type not in ("multi", "rank"):
                        problems.add("skip-bad-selected", f"selected() needs a multi question; '{ref}' is {target.type}.",
                                     f"Write \"${{{ref}}} = <code>\" instead.", file=qsrc.file, line=line, question=q.id)
                    elif target.answer_list in choice_lists and choice not in choice_lists[target.answer_list].by_name():
                        problems.add("skip-unknown-choice", f"'{choice}' is not an option of '{ref}'.",
                                     "Use a choice name of its list." + _suggest(choice, choice_lists[target.answer_list].by_name()),
                                     file=qsrc.file, line=line, question=q.id)

    # crosswalk
    crosswalk: list[CrosswalkEntry] = []
    for i, cw in enumerate(data.get("crosswalk") or []):
        try:
            entry = CrosswalkEntry.model_validate(cw)
        except ValidationError as exc:
            _pyd_problems(exc, src, ("crosswalk", i), problems, what="crosswalk entry")
            continue
        for qid in [*entry.same, *entry.renamed.keys(), *entry.not_comparable]:
            if qid not in all_q and qid not in seen_vars:
                problems.add("crosswalk-unknown-id", f"crosswalk from {entry.from_version} names '{qid}', which is not a question or variable.",
                             "Fix the id." + _suggest(qid, list(all_q) + list(seen_vars)), line=src.line("crosswalk", i))
        crosswalk.append(entry)

    # Non-strict callers still get an instrument when it is structurally sound.
    if title is None or not isinstance(iid, str) or "version" not in data or not languages:
        return None
    try:
        inst = Instrument(
            id=iid,
            version=str(data.get("version")),
            title=title or {},
            description=description,
            languages=languages,
            default_language=default_language,
            departments=departments,
            scales=scales,
            choice_lists=choice_lists,
            modules=modules,
            indices=indices,
            areas=areas,
            crosswalk=crosswalk,
            agency=data.get("agency"),
            source_file=f,
        )
    except ValidationError as exc:
        _pyd_problems(exc, src, (), problems, what="the instrument")
        return None
    return inst


def _variable_names(q: Question, scales, choice_lists, areas) -> list[str]:
    if q.type == "note":
        return []
    if q.type == "grid":
        return [it.id for it in q.items or []]
    if q.type in ("multi", "rank"):
        if q.answer_list in choice_lists:
            return [f"{q.id}_{c.name}" for c in choice_lists[q.answer_list].choices]
        if q.answer_list in scales:
            return [f"{q.id}_{c.name}" for c in scales[q.answer_list].codes]
        if q.answer_list == "areas":
            return [f"{q.id}_{a.name}" for a in areas.items]
        return []
    return [q.id]


__all__ = ["list_templates", "load_instrument", "resolve_path", "templates_dir", "validate_instrument"]
