"""A program of many agencies: the folder, its ``program.toml`` and its optional ``benchmarks.csv``.

::

    my-program/
      program.toml        members, shared indicators, who sees what, where tasks run
      benchmarks.csv      optional: outside reference values (national figures, vendor norms)
      program.duckdb      written by `program run`: every member's published headline estimates
                          and the benchmarks (never responses)
      program-state.json  written by `program run`: what each member's last successful run saw

``program.toml``::

    [program]
    name = "Tri-County Community Survey Program"
    adjust = "fdr_bh"            # holm | fdr_bh | bonferroni: over the members' tests of one indicator
    min_members = 3              # fewer members with a usable estimate: no benchmark
    indicators = []              # [] = every indicator at least min_members members publish
    scheduler = ""               # "tcp://host:8786": run members on that Dask cluster; "" = local processes
    jobs = 2                     # local processes (ignored with a scheduler: the cluster decides)
    retries = 1                  # a member whose task crashed (not a user error) is tried again this often

    [access]
    peers = "aggregate"          # aggregate: members see the distribution only; named: also each peer's number

    [[members]]
    id = "riverton"
    path = "members/riverton"    # a survey project folder, relative to the program folder or absolute
    label = "Riverton Police Department"
    waves = { "2026-spring" = "2026" }      # member wave id -> program period (default: the same id)
    crosswalk = { sat_pd = "sat_police" }   # member indicator id -> program indicator id
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from survey_pipeline.errors import Problem, ProgramError

__all__ = ["PROGRAM_TOML", "Member", "Program", "load_program", "read_external_benchmarks"]

PROGRAM_TOML = "program.toml"
BENCHMARKS_CSV = "benchmarks.csv"
_MAX_FILE = 5_000_000  # bytes: program.toml and benchmarks.csv are small hand-written files


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberSpec(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    path: str
    label: str | None = None
    waves: dict[str, str] = Field(default_factory=dict)
    crosswalk: dict[str, str] = Field(default_factory=dict)


class ProgramSpec(_Model):
    name: str = "program"
    adjust: Literal["holm", "fdr_bh", "bonferroni"] = "fdr_bh"
    min_members: int = Field(3, ge=2)
    indicators: list[str] = Field(default_factory=list)
    scheduler: str = ""
    jobs: int = Field(2, ge=1)
    retries: int = Field(1, ge=0, le=10)

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, v: str) -> str:
        if v and not v.startswith(("tcp://", "tls://", "inproc://", "ws://", "wss://", "ucx://")):
            raise ValueError("a Dask scheduler address such as tcp://host:8786 (or \"\" for local processes)")
        return v


class AccessSpec(_Model):
    peers: Literal["aggregate", "named"] = "aggregate"


class ProgramFile(_Model):
    program: ProgramSpec = Field(default_factory=ProgramSpec)
    access: AccessSpec = Field(default_factory=AccessSpec)
    members: list[MemberSpec]


@dataclass(frozen=True)
class Member:
    """One member agency: its id, label and survey project folder (resolved)."""

    id: str
    label: str
    path: Path
    waves: dict[str, str]
    crosswalk: dict[str, str]


@dataclass(frozen=True)
class Program:
    """A loaded program folder."""

    root: Path
    name: str
    adjust: str
    min_members: int
    indicators: tuple[str, ...]
    scheduler: str
    jobs: int
    retries: int
    peers: str
    members: tuple[Member, ...]

    @property
    def toml_path(self) -> Path:
        return self.root / PROGRAM_TOML

    @property
    def store_path(self) -> Path:
        return self.root / "program.duckdb"

    @property
    def state_path(self) -> Path:
        return self.root / "program-state.json"

    @property
    def benchmarks_csv(self) -> Path:
        return self.root / BENCHMARKS_CSV


def _read_small(path: Path, what: str, fix: str) -> str:
    if not path.is_file():
        raise ProgramError(f"{path}: {what} not found (or not a regular file).", file=path, rule="no-file", fix=fix)
    if path.stat().st_size > _MAX_FILE:
        raise ProgramError(f"{path}: {what} is larger than {_MAX_FILE:,} bytes.", file=path, rule="file-too-large",
                           fix=f"{what} is a small hand-written file; check that this is the right file.")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProgramError(f"{path}: {what} is not UTF-8 text (byte {exc.start}).", file=path, rule="not-utf8",
                           fix="Save the file as UTF-8.") from exc


def load_program(root: str | Path) -> Program:
    """Read and check ``program.toml``: every problem at once, as a :class:`ProgramError`."""
    root = Path(root)
    toml = root / PROGRAM_TOML
    text = _read_small(toml, "program.toml", "Create it (docs/program.md shows one), or pass the program folder.")
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ProgramError(f"{toml}: not valid TOML ({exc}).", file=toml, rule="bad-toml",
                           fix="Fix the syntax at the position shown (strings need quotes; members are [[members]]).") from exc
    try:
        spec = ProgramFile.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(file=str(toml), rule="bad-setting",
                            message=f"{'.'.join(str(x) for x in e['loc']) or '(top)'}: {e['msg']} (found {e.get('input')!r}).",
                            fix="Correct the value; docs/program.md lists every key.") for e in exc.errors()]
        raise ProgramError(f"{toml}: {len(problems)} problem(s) in program.toml.", problems, file=toml,
                           rule="bad-setting", fix="See each problem below.") from None
    problems: list[Problem] = []
    members: list[Member] = []
    seen: set[str] = set()
    for i, m in enumerate(spec.members):
        if m.id in seen:
            problems.append(Problem(str(toml), "duplicate-member", f"members[{i}]: id '{m.id}' is used twice.",
                                    "Give every member its own id."))
        seen.add(m.id)
        path = Path(m.path)
        path = path if path.is_absolute() else (root / path)
        if not (path / "survey.toml").is_file():
            problems.append(Problem(str(toml), "member-not-a-project",
                                    f"members[{i}] ('{m.id}'): {path} holds no survey.toml.",
                                    "Point path at the member's survey project folder (survey-pipeline init makes one)."))
        members.append(Member(id=m.id, label=m.label or m.id, path=path.resolve(), waves=dict(m.waves),
                              crosswalk=dict(m.crosswalk)))
    if not members:
        problems.append(Problem(str(toml), "no-members", "the program lists no members.",
                                'Add one [[members]] table per agency: id = "...", path = "...".'))
    if problems:
        raise ProgramError(f"{toml}: {len(problems)} problem(s) in program.toml.", problems, file=toml,
                           rule=problems[0].rule, fix="See each problem below.")
    p = spec.program
    return Program(root=root.resolve(), name=p.name, adjust=p.adjust, min_members=p.min_members,
                   indicators=tuple(p.indicators), scheduler=p.scheduler, jobs=p.jobs, retries=p.retries,
                   peers=spec.access.peers, members=tuple(members))


_EXT_REQUIRED = ("indicator", "statistic", "value", "source")


def read_external_benchmarks(path: str | Path) -> pd.DataFrame:
    """Read ``benchmarks.csv``: indicator, statistic, value, low, high, se, source, year.

    ``low``/``high`` (a published interval), ``se`` and ``year`` may be empty. Values are on the
    scale of the indicator's statistic (shares as proportions 0..1). Every problem at once.
    """
    import io

    path = Path(path)
    text = _read_small(path, "benchmarks.csv", "Remove it or make it a CSV file.")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ProgramError(f"{path}: not a readable CSV ({exc}).", file=path, rule="bad-csv",
                           fix="Save it as CSV with a header: indicator,statistic,value,low,high,se,source,year.") from exc
    df.columns = [c.strip().lower() for c in df.columns]
    missing = [c for c in _EXT_REQUIRED if c not in df.columns]
    if missing:
        raise ProgramError(f"{path}: columns {missing} are missing.", file=path, rule="missing-columns",
                           fix="The header must name indicator,statistic,value,source (low,high,se,year optional).")
    unknown = [c for c in df.columns if c not in (*_EXT_REQUIRED, "low", "high", "se", "year")]
    problems: list[Problem] = []
    if unknown:
        problems.append(Problem(str(path), "unknown-column", f"unknown columns {unknown}.",
                                "Use only indicator,statistic,value,low,high,se,source,year."))
    for c in ("low", "high", "se", "year"):
        if c not in df.columns:
            df[c] = ""
    out = df[["indicator", "statistic", "source", "year"]].copy()
    for c in ("value", "low", "high", "se"):
        raw = df[c].str.strip()
        num = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        bad = (raw != "") & num.isna()
        for r in bad[bad].index[:20]:
            problems.append(Problem(str(path), "not-a-number", f"'{df.at[r, c]}' is not a number.",
                                    "Write numbers with a decimal point (shares as 0.58, not 58%).",
                                    row=int(r) + 2, column=c))
        out[c] = num
    no_val = df["value"].str.strip() == ""
    for r in no_val[no_val].index[:20]:
        problems.append(Problem(str(path), "no-value", "the value is empty.", "Give the reference value.",
                                row=int(r) + 2, column="value"))
    share = out["statistic"].eq("share")
    out_of = share & ((out["value"] < 0) | (out["value"] > 1))
    for r in out_of[out_of].index[:20]:
        problems.append(Problem(str(path), "share-out-of-range", f"a share of {out.at[r, 'value']} is outside 0..1.",
                                "Write shares as proportions (58% is 0.58).", row=int(r) + 2, column="value"))
    if problems:
        raise ProgramError(f"{path}: {len(problems)} problem(s) in benchmarks.csv.", problems, file=path,
                           rule=problems[0].rule, fix="See each problem below.")
    return out.reset_index(drop=True)
