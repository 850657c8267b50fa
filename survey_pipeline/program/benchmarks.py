"""Peer and outside benchmarks from the published estimates of many agencies (pure functions).

Each agency is its own survey: its estimates come from its own sample and design, so estimates of
different agencies are independent. For one indicator and period with ``K`` agencies reporting a
headline estimate ``y_k`` with standard error ``s_k``:

- **Distribution**: the median and quartiles of ``y_1..y_K`` (agencies count equally; quantiles
  as R's default ``quantile(type = 7)``, numpy's ``linear``), the minimum and maximum.
- **Percentile** of agency ``a``: 100 x (peers below + half the peers tied) / (K - 1): the share of
  the *other* agencies it is above.
- **Against the program mean** ``m = (1/K) sum_k y_k`` (the agency itself included, each agency one
  vote): ``d_a = y_a - m = (1 - 1/K) y_a - (1/K) sum_{k != a} y_k``, so by independence

      Var(d_a) = (1 - 1/K)^2 s_a^2 + (1/K^2) sum_{k != a} s_k^2

  with Welch–Satterthwaite degrees of freedom from the agencies' design df (Satterthwaite 1946);
  a two-sided t test, and the p-values of one indicator and period (one test per agency) adjusted
  together (Holm or Benjamini–Hochberg, :func:`survey_pipeline.stats.adjust_pvalues`).

An agency whose own estimate is suppressed (too unreliable) is still counted in the distribution
only if ``include_suppressed`` is set (default: not), gets no percentile and no test, and its
row carries no number of its own. Outside benchmarks (published national figures, a vendor's
norms) are reference values: they are compared as a sample only when their standard error is
given (``d = y_a - value``, ``Var = s_a^2 + se^2``), otherwise shown as a reference line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.stats as sps

from survey_pipeline.stats import adjust_pvalues

__all__ = ["BENCHMARK_COLUMNS", "external_benchmarks", "peer_benchmarks"]

BENCHMARK_COLUMNS = [
    "member", "wave", "period", "indicator", "statistic", "source", "source_label", "year",
    "value", "se", "reliability", "n_members", "median", "q25", "q75", "min", "max", "mean", "percentile",
    "reference", "reference_low", "reference_high", "diff", "diff_se", "df", "t", "p", "p_adj", "adjust",
    "significant", "verdict",
]
"""Columns of the ``benchmarks`` table written into each member's store (docs/program.md)."""

_EST_COLS = ("member", "wave", "period", "indicator", "statistic", "estimate", "se", "df", "reliability")


def _check(est: pd.DataFrame) -> None:
    missing = [c for c in _EST_COLS if c not in est.columns]
    if missing:
        raise ValueError(f"peer_benchmarks: the estimates lack columns {missing}")


def _verdict(diff: np.ndarray, sig: np.ndarray, tested: np.ndarray) -> np.ndarray:
    out = np.where(tested, "not clearly different", "reference only").astype(object)
    out[tested & sig & (diff > 0)] = "higher"
    out[tested & sig & (diff < 0)] = "lower"
    return out


def peer_benchmarks(est: pd.DataFrame, *, adjust: str = "fdr_bh", min_members: int = 3,
                    include_suppressed: bool = False, label: str = "program") -> pd.DataFrame:
    """Peer benchmarks of every member for each indicator, statistic and period.

    Parameters
    ----------
    est
        One row per member, wave, indicator and statistic: ``member``, ``wave`` (the member's own
        wave id), ``period`` (the program's period it belongs to), ``indicator``, ``statistic``,
        ``estimate``, ``se``, ``df`` and ``reliability`` (``ok``, ``flag``, ``suppress``): the
        members' published city-level estimates for all respondents.
    adjust
        Multiplicity control over the members' tests of one indicator, statistic and period:
        ``holm``, ``fdr_bh`` or ``bonferroni``.
    min_members
        Fewer members with a usable estimate than this: no benchmark for that cell (a
        distribution of two is not a benchmark).
    include_suppressed
        Count suppressed estimates in the distribution (they never get a test).
    label
        The program's name, written to ``source_label``.

    Returns
    -------
    DataFrame
        :data:`BENCHMARK_COLUMNS`, ``source = 'program'``; one row per member and cell.
    """
    _check(est)
    if est.empty:
        return pd.DataFrame(columns=BENCHMARK_COLUMNS)
    e = est.loc[:, list(_EST_COLS)].copy()
    e = e[np.isfinite(e["estimate"].to_numpy(float))]
    e["usable"] = e["reliability"].ne("suppress") | include_suppressed
    parts = []
    for (period, ind, stat), g in e.groupby(["period", "indicator", "statistic"], sort=True):
        u = g[g["usable"]]
        k = len(u)
        if k < min_members:
            continue
        y = u["estimate"].to_numpy(float)
        v = u["se"].to_numpy(float) ** 2
        dfs = u["df"].to_numpy(float)
        q25, med, q75 = np.percentile(y, [25, 50, 75])
        mean = y.mean()
        inv_df = np.where(dfs > 0, 1 / np.where(dfs > 0, dfs, 1), 0.0)  # df <= 0 or inf: no term
        s1, s2 = v.sum(), (v ** 2 * inv_df).sum()
        # the agency's own row: its estimate, and its test against the mean when it is usable and
        # not suppressed (a row that is not usable is not in y, so it gets no test)
        own_in = g["usable"].to_numpy()
        tested = g["reliability"].ne("suppress").to_numpy() & own_in
        ya = g["estimate"].to_numpy(float)
        va = g["se"].to_numpy(float) ** 2
        dfa = g["df"].to_numpy(float)
        inv_dfa = np.where(dfa > 0, 1 / np.where(dfa > 0, dfa, 1), 0.0)
        diff = ya - mean
        c_own = (1 - 1 / k) ** 2 * va
        c_oth = (s1 - va) / k ** 2  # the other agencies' variances, each weighted 1/K^2
        diff_var = c_own + c_oth
        # Welch-Satterthwaite: (sum c_i)^2 / sum c_i^2 / df_i over every agency in the difference
        denom = c_own ** 2 * inv_dfa + (s2 - va ** 2 * inv_dfa) / k ** 4
        with np.errstate(divide="ignore", invalid="ignore"):
            ws_df = np.where(denom > 0, diff_var ** 2 / denom, np.inf)
            se = np.sqrt(diff_var)
            t = diff / se
        p = np.where(tested & np.isfinite(t), 2 * sps.t.sf(np.abs(t), np.where(np.isfinite(ws_df), ws_df, 1e12)),
                     np.nan)
        padj = np.full(len(g), np.nan)
        if np.isfinite(p).any():
            ok = np.isfinite(p)
            padj[ok] = adjust_pvalues(p[ok], adjust)
        sig = np.nan_to_num(padj, nan=1.0) < 0.05
        below = (y[None, :] < ya[:, None]).sum(1)
        ties = (y[None, :] == ya[:, None]).sum(1) - 1  # the agency ties with itself
        pct = 100.0 * (below + 0.5 * ties) / (k - 1)
        parts.append(pd.DataFrame({
            "member": g["member"].to_numpy(), "wave": g["wave"].to_numpy(), "period": period, "indicator": ind,
            "statistic": stat, "source": "program", "source_label": label, "year": None,
            "value": np.where(tested, ya, np.nan), "se": np.where(tested, np.sqrt(va), np.nan),
            "reliability": g["reliability"].to_numpy(), "n_members": k,
            "median": med, "q25": q25, "q75": q75, "min": y.min(), "max": y.max(), "mean": mean,
            "percentile": np.where(tested, pct, np.nan),
            "reference": np.nan, "reference_low": np.nan, "reference_high": np.nan,
            "diff": np.where(tested, diff, np.nan), "diff_se": np.where(tested, se, np.nan),
            "df": np.where(tested, ws_df, np.nan), "t": np.where(tested, t, np.nan), "p": p, "p_adj": padj,
            "adjust": adjust, "significant": sig,
            "verdict": np.where(tested, _verdict(diff, sig, tested), "suppressed").astype(object),
        }))
    if not parts:
        return pd.DataFrame(columns=BENCHMARK_COLUMNS)
    return pd.concat(parts, ignore_index=True)[BENCHMARK_COLUMNS]


def external_benchmarks(est: pd.DataFrame, ext: pd.DataFrame, *, adjust: str = "fdr_bh") -> pd.DataFrame:
    """Each member's estimates against outside reference values (``benchmarks.csv``).

    Parameters
    ----------
    est
        As for :func:`peer_benchmarks`.
    ext
        ``indicator``, ``statistic``, ``value``, optional ``low``/``high`` (a published interval),
        optional ``se`` (only then is the difference tested), ``source`` and ``year``.

    Returns
    -------
    DataFrame
        :data:`BENCHMARK_COLUMNS` with ``source = 'external'``; a test (and a verdict) only where
        the reference has a standard error; the p-values of one member, period and source are
        adjusted together.
    """
    _check(est)
    if est.empty or ext.empty:
        return pd.DataFrame(columns=BENCHMARK_COLUMNS)
    x = ext.copy()
    for c in ("low", "high", "se"):
        if c not in x.columns:
            x[c] = np.nan
    m = est.merge(x, on=["indicator", "statistic"], how="inner")
    if m.empty:
        return pd.DataFrame(columns=BENCHMARK_COLUMNS)
    own_ok = m["reliability"].ne("suppress").to_numpy()
    ref_se = pd.to_numeric(m["se_y"], errors="coerce").to_numpy(float)
    tested = own_ok & np.isfinite(ref_se)
    ya = m["estimate"].to_numpy(float)
    sa = m["se_x"].to_numpy(float)
    ref = m["value"].to_numpy(float)
    diff = ya - ref
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(sa ** 2 + ref_se ** 2)
        t = diff / se
    dfv = m["df"].to_numpy(float)
    p = np.where(tested & np.isfinite(t), 2 * sps.t.sf(np.abs(t), np.where(dfv > 0, dfv, 1e12)), np.nan)
    padj = np.full(len(m), np.nan)
    fam = m.groupby(["member", "period", "source"], sort=False).ngroup().to_numpy()
    for f in np.unique(fam[np.isfinite(p)]):
        idx = np.flatnonzero((fam == f) & np.isfinite(p))
        padj[idx] = adjust_pvalues(p[idx], adjust)
    sig = np.nan_to_num(padj, nan=1.0) < 0.05
    verdict = np.where(own_ok, _verdict(diff, sig, tested), "suppressed").astype(object)
    out = pd.DataFrame({
        "member": m["member"], "wave": m["wave"], "period": m["period"], "indicator": m["indicator"],
        "statistic": m["statistic"], "source": "external", "source_label": m["source"].astype(str),
        "year": m["year"].astype(str) if "year" in m.columns else None,
        "value": np.where(own_ok, ya, np.nan), "se": np.where(own_ok, sa, np.nan), "reliability": m["reliability"],
        "n_members": np.nan, "median": np.nan, "q25": np.nan, "q75": np.nan, "min": np.nan, "max": np.nan,
        "mean": np.nan, "percentile": np.nan,
        "reference": ref, "reference_low": pd.to_numeric(m["low"], errors="coerce"),
        "reference_high": pd.to_numeric(m["high"], errors="coerce"),
        "diff": np.where(tested, diff, np.nan), "diff_se": np.where(tested, se, np.nan),
        "df": np.where(tested, dfv, np.nan), "t": np.where(tested, t, np.nan), "p": p, "p_adj": padj,
        "adjust": adjust, "significant": sig, "verdict": verdict,
    })
    return out[BENCHMARK_COLUMNS].reset_index(drop=True)
