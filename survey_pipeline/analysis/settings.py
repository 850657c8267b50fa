"""Settings of weighting and analysis, read from ``survey.toml`` (``[weighting]``, ``[analysis]``).

The keys are declared and checked in :mod:`survey_pipeline.settings` (the one model of
survey.toml); these dataclasses are what the analysis core takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from survey_pipeline.settings import DEFAULT_GROUPS, SurveySettings, read_settings

__all__ = ["ADJUST_METHODS", "AnalysisSettings", "Evaluation", "WeightingSettings", "from_settings", "load_settings"]

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

    groups: tuple[str, ...] = DEFAULT_GROUPS
    top_n: int | None = None
    min_n: int = 30
    nchs: bool = True
    ci_method: CIMethod = "logit"
    adjust: AdjustMethod = "fdr_bh"
    findings: int = 12
    evaluations: tuple[Evaluation, ...] = field(default_factory=tuple)
    small_area: bool = True


def from_settings(s: SurveySettings) -> tuple[WeightingSettings, AnalysisSettings]:
    """The weighting and analysis settings of checked project settings (``[analysis] min_n`` and
    ``nchs`` default to ``[reporting]``'s)."""
    w, a = s.weighting, s.analysis
    ws = WeightingSettings(margins=tuple(w.margins) if w.margins is not None else None,
                           recode={k: dict(v) for k, v in w.recode.items()}, min_cell=w.min_cell,
                           bounds=tuple(w.bounds), trim=w.trim, max_iter=w.max_iter,
                           base_weight=w.base_weight)
    evals = tuple(Evaluation(name=e.name if e.name is not None else f"evaluation {i + 1}", areas=tuple(e.areas),
                             start_wave=e.start_wave, indicators=tuple(e.indicators))
                  for i, e in enumerate(a.evaluations))
    st = AnalysisSettings(groups=tuple(a.groups), top_n=a.top_n,
                          min_n=a.min_n if a.min_n is not None else s.reporting.min_n,
                          nchs=a.nchs if a.nchs is not None else s.reporting.nchs,
                          ci_method=a.ci_method, adjust=a.adjust, findings=a.findings, evaluations=evals,
                          small_area=a.small_area)
    return ws, st


def load_settings(toml_path: str | Path | None) -> tuple[WeightingSettings, AnalysisSettings]:
    """Read ``[weighting]``, ``[analysis]`` and ``[reporting]`` from a ``survey.toml``.

    Missing file or sections give the defaults. The whole file is checked
    (:func:`survey_pipeline.settings.read_settings`); raises :class:`ProjectError` listing every
    problem.
    """
    if toml_path is None or not Path(toml_path).exists():
        return WeightingSettings(), AnalysisSettings()
    return from_settings(read_settings(toml_path))
