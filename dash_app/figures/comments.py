"""The Comments page's figure: theme shares among residents who commented, with 95% intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dash_app.figures.charts import ranked_shares_figure
from dash_app.figures.common import OKABE_ITO, empty_figure

__all__ = ["comment_themes_figure"]

KIND_ORDER = ["problem", "service", "conduct", "praise", "other"]


def comment_themes_figure(df: pd.DataFrame, *, label_col: str = "label_en", kind_labels: dict[str, str] | None = None,
                          title: str | None = None, axis_label: str = "Share of commenters",
                          suppressed_text: str = "suppressed", no_data: str = "No data") -> go.Figure:
    """Themes as dots with 95% intervals, largest share first, coloured by kind of theme.

    ``df``: ``estimates`` rows of the ``comment_theme:<id>`` indicators for one wave and area,
    joined with ``comment_themes`` (``kind`` and the labels). Suppressed rows are listed with their
    reason, never drawn as a value.
    """
    if df.empty:
        return empty_figure(no_data)
    kl = kind_labels or {}
    d = df.copy()
    d["_sup"] = d["reliability"].eq("suppress") | d["estimate"].isna()
    d["_order"] = np.where(d["_sup"], -1.0, d["estimate"].fillna(-1.0))
    d = d.sort_values(["_order", label_col], ascending=[False, True], kind="stable")
    d["_y"] = d[label_col].astype(str).tolist()
    traces = []
    for i, kind in enumerate(KIND_ORDER):
        s = d[(d["kind"] == kind) & ~d["_sup"]]
        if s.empty:
            continue
        color = OKABE_ITO[i]
        traces.append({
            "type": "scatter", "x": (s["estimate"] * 100).to_numpy(), "y": s["_y"].tolist(), "mode": "markers",
            "name": kl.get(kind, kind), "marker": {"color": color, "size": 11, "line": {"color": "white", "width": 1}},
            "error_x": {"type": "data", "symmetric": False, "array": ((s["ci_high"] - s["estimate"]) * 100).to_numpy(),
                        "arrayminus": ((s["estimate"] - s["ci_low"]) * 100).to_numpy(), "color": color,
                        "thickness": 2, "width": 4},
            "customdata": np.stack([s["ci_low"] * 100, s["ci_high"] * 100, s["n"]], axis=-1),
            "hovertemplate": "%{y}<br>%{x:.0f}% (95% CI %{customdata[0]:.0f}–%{customdata[1]:.0f}%)"
                             "; n=%{customdata[2]:.0f}<extra></extra>",
        })
    if d["_sup"].any():  # the suppressed themes' rows exist on the axis (their notes sit on them)
        traces.append({"type": "scatter", "x": [0.0] * int(d["_sup"].sum()), "y": d.loc[d["_sup"], "_y"].tolist(),
                       "mode": "markers", "marker": {"opacity": 0, "size": 1}, "hoverinfo": "skip", "showlegend": False})
    return ranked_shares_figure(traces, d, title=title, axis_label=axis_label, suppressed_text=suppressed_text,
                                row_height=30)
