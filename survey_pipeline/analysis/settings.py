"""Settings of weighting and analysis, read from ``survey.toml`` (``[weighting]``, ``[analysis]``).

Every key is checked; an unknown key or a bad value is reported with the file, the key, the rule
and the fix (nothing is accepted and ignored).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from survey_pipeline.errors import ProblemList, ProjectError

__all__ = ["ADJUST_METHODS", "AnalysisSettings", "Evaluation", "WeightingSettings", "load_settings"]

AdjustMethod = Literal["holm", "fdr_bh"]
ADJUST_METHODS: tuple[str, ...] = get_args(AdjustMethod)
CIMethod = Literal["logit", "beta", "wilson", "asin", "mean", "xlogit", "likelihood"]


@dataclass(frozen=True)
class WeightingSettings:
    """How weights are made per wave (see :mod:`survey_pipeline.analysis.weighting`).

    Attributes
    ----------
    margins : tuple of str
        Target variables raked to (city-level margins of the targets file). Default: every
        variable the targets file has at ``area = city`` for the wave.
    bounds : (lo, hi)
        Bounds on the raking adjustment ``g = weight / base weight``.
    trim : float or None
        Cap final weights at ``trim`` x the wave's mean weight (redistributing the excess);
        None for no trimming.
    max_iter : int
        Raking sweeps before giving up.
    min_cell : int
        Margin cells with fewer respondents in a wave are collapsed into the next category
        (recorded in the diagnostics).
    recode : dict
        ``{variable: {answer category: target category}}`` for answers the census table files
        elsewhere (e.g. ``tenure = {no_rent = "rent"}``). Other categories without a target go
        to a target category named ``other`` when there is one, else are imputed (recorded).
    base_weight : str or None
        The instrument variable holding the vendor's weights (``weight``, ``final_wt``...): its
        values are each response's base weight, before any raking (without a targets file they
        are the weights). Responses without a positive value get their wave's mean vendor weight
        (recorded in the diagnostics). None: base weights 1 (or from invitations).
    """

    margins: tuple[str, ...] | None = None
    recode: dict[str, dict[str, str]] = field(default_factory=dict)
    min_cell: int = 20
    bounds: tuple[float, float] = (0.1, 12.0)
    trim: float | None = 6.0
    max_iter: int = 500
    base_weight: str | None = None


@dataclass(frozen=True)
class Evaluation:
    """A problem-solving effort to evaluate by difference-in-differences."""

    name: str
    areas: tuple[str, ...]
    start_wave: str
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalysisSettings:
    """What ``analyze`` estimates and how it presents it.

    Attributes
    ----------
    groups : tuple of str
        Demographic dimensions estimates are broken down by (derived columns, see
        :func:`survey_pipeline.analysis.prepare.derive_groups`).
    top_n : int or None
        Priorities: share ranking a problem in the top ``top_n`` (default: the question's
        ``max_picks``).
    min_n : int
        Suppress estimates with fewer valid answers (``[reporting] min_n``).
    nchs : bool
        Apply the NCHS presentation standards to proportions (``[reporting] nchs``).
    ci_method : str
        Confidence interval of proportions (see :func:`survey_pipeline.stats.proportion_ci`).
    adjust : {"holm", "fdr_bh"}
        Multiple-comparison adjustment of area pairs and other families.
    findings : int
        Number of plain-language findings written (largest reliable significant changes).
    evaluations : tuple of Evaluation
        Difference-in-differences evaluations.
    small_area : bool
        Add modeled (Fay–Herriot) estimates of neighborhoods and beats
        (:mod:`~survey_pipeline.analysis.smallarea`; ``[analysis] small_area``, default true).
    """

    groups: tuple[str, ...] = ("age_group", "sex", "race_ethnicity", "tenure")
    top_n: int | None = None
    min_n: int = 30
    nchs: bool = True
    ci_method: CIMethod = "logit"
    adjust: AdjustMethod = "fdr_bh"
    findings: int = 12
    evaluations: tuple[Evaluation, ...] = field(default_factory=tuple)
    small_area: bool = True


def _check(cls, raw: dict[str, Any], section: str, probs: ProblemList, conv: dict) -> dict:
    names = {f.name for f in fields(cls)}
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if k not in names:
            probs.add("unknown-key", f"unknown {section} setting '{k}'.",
                      f"Use one of: {', '.join(sorted(names))}.", column=f"{section}.{k}")
            continue
        try:
            out[k] = conv[k](v)
        except (TypeError, ValueError) as exc:
            probs.add("bad-setting", f"{section}.{k} = {v!r} is not valid ({exc}).",
                      f"See the comment on '{k}' in the documentation of [{section}].",
                      column=f"{section}.{k}")
    return out


def _strs(v) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str | int) for x in v):
        raise ValueError("expected a list of names")
    return tuple(str(x) for x in v)


def _recode(v) -> dict[str, dict[str, str]]:
    if not isinstance(v, dict) or not all(isinstance(m, dict) for m in v.values()):
        raise ValueError("expected a table of variable = {category = \"target category\"}")
    return {str(k): {str(a): str(b) for a, b in m.items()} for k, m in v.items()}


def _name(v) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError("expected the name of a variable of the instrument, in quotes")
    return v.strip()


def _pos_int(v) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise ValueError("expected a whole number >= 1")
    return v


def _bounds(v) -> tuple[float, float]:
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int | float) for x in v)
            and 0 < v[0] < 1 < v[1]):
        raise ValueError("expected [lo, hi] with 0 < lo < 1 < hi")
    return (float(v[0]), float(v[1]))


def _trim(v) -> float | None:
    if v is False:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool) or v <= 1:
        raise ValueError("expected a number > 1 (times the mean weight) or false")
    return float(v)


def _choice(allowed):
    def f(v):
        if v not in allowed:
            raise ValueError(f"use one of {', '.join(allowed)}")
        return v
    return f


def _bool(v):
    if not isinstance(v, bool):
        raise ValueError("expected true or false")
    return v


def _evaluations(v) -> tuple[Evaluation, ...]:
    if not isinstance(v, list):
        raise ValueError("write each evaluation as [[analysis.evaluations]]")
    out = []
    for i, e in enumerate(v):
        if not isinstance(e, dict) or not e.get("areas") or not e.get("start_wave"):
            raise ValueError(f"evaluation {i + 1} needs areas = [...] and start_wave = \"...\"")
        extra = set(e) - {"name", "areas", "start_wave", "indicators"}
        if extra:
            raise ValueError(f"evaluation {i + 1}: unknown key(s) {', '.join(sorted(extra))}")
        out.append(Evaluation(name=str(e.get("name", f"evaluation {i + 1}")), areas=_strs(e["areas"]),
                              start_wave=str(e["start_wave"]),
                              indicators=_strs(e.get("indicators", []))))
    return tuple(out)


def load_settings(toml_path: str | Path | None) -> tuple[WeightingSettings, AnalysisSettings]:
    """Read ``[weighting]``, ``[analysis]`` and ``[reporting]`` from a ``survey.toml``.

    Missing file or sections give the defaults. Raises :class:`ProjectError` listing every
    problem.
    """
    if toml_path is None or not Path(toml_path).exists():
        return WeightingSettings(), AnalysisSettings()
    path = Path(toml_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: not valid TOML ({exc}).", file=path, rule="bad-toml",
                           fix="Fix the syntax at the position shown.") from exc
    probs = ProblemList(file=str(path))
    w = _check(WeightingSettings, data.get("weighting", {}), "weighting", probs,
               {"margins": _strs, "recode": _recode, "bounds": _bounds, "trim": _trim, "max_iter": _pos_int,
                "min_cell": _pos_int, "base_weight": _name})
    a = _check(AnalysisSettings, data.get("analysis", {}), "analysis", probs,
               {"groups": _strs, "top_n": _pos_int, "min_n": _pos_int, "nchs": _bool,
                "ci_method": _choice(get_args(CIMethod)), "adjust": _choice(ADJUST_METHODS),
                "findings": _pos_int, "evaluations": _evaluations, "small_area": _bool})
    rep = data.get("reporting", {})
    if isinstance(rep, dict):
        if isinstance(rep.get("min_n"), int) and "min_n" not in a:
            a["min_n"] = rep["min_n"]
        if isinstance(rep.get("nchs"), bool) and "nchs" not in a:
            a["nchs"] = rep["nchs"]
    if probs.errors:
        raise ProjectError(f"{path}: {len(probs.errors)} problem(s) in the weighting/analysis settings.",
                           problems=probs.errors, file=path, rule="invalid-settings")
    return WeightingSettings(**w), AnalysisSettings(**a)
