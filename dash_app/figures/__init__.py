"""Pure figure builders (DataFrames in, plotly Figures out), tested without a browser."""

from dash_app.figures.charts import (
    BAND_COLORS,
    drivers_figure,
    equity_figure,
    importance_satisfaction_figure,
    map_figure,
    priorities_figure,
    trends_figure,
)
from dash_app.figures.common import OKABE_ITO, SUPPRESSED_COLOR, fmt_estimate

__all__ = ["BAND_COLORS", "OKABE_ITO", "SUPPRESSED_COLOR", "drivers_figure", "equity_figure", "fmt_estimate",
           "importance_satisfaction_figure", "map_figure", "priorities_figure", "trends_figure"]
