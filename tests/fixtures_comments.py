"""Comment tables for the synthetic results store of ``tests/fixtures_results.py``: theme shares
(``comment_theme:<id>`` estimate rows), ``comment_themes``, ``comment_cells`` and ``comment_feed``
with a thin neighborhood ('12') whose comments are never published."""

from __future__ import annotations

import numpy as np
import pandas as pd

THEMES = [  # theme, kind, label_en, label_es, base share
    ("police_services", "service", "Police services", "Servicios de policía", 0.25),
    ("street_lighting", "problem", "Poor street lighting", "Alumbrado público deficiente", 0.15),
    ("praise", "praise", "Praise", "Elogios", 0.12),
    ("police_conduct", "conduct", "Complaint about police conduct", "Queja sobre la conducta policial", 0.04),
    ("other", "other", "Other", "Otro", 0.05),
]
TEXTS = {"police_services": ("More patrols at night please", "Más patrullas de noche por favor"),
         "street_lighting": ("Fix the street lights on our block", "Arreglen las luces de la calle"),
         "praise": ("Keep up the good work", "Sigan con el buen trabajo"),
         "police_conduct": ("An officer was rude to my son", "Un oficial fue grosero con mi hijo"),
         "other": ("Nothing else to add", "Nada más que agregar")}


def comment_tables(est: pd.DataFrame, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The comment tables, consistent with the areas and waves of ``est`` (the other estimates)."""
    rng = np.random.default_rng(seed + 101)
    cells = est[est["group_dim"] == "all"][["wave", "area_level", "area", "n"]].drop_duplicates(
        ["wave", "area_level", "area"])
    rows, counts, feed = [], [], []
    districts = est[est["area_level"] == "district"]["area"].unique().tolist()
    for r in cells.itertuples(index=False):
        commenters = max(1, int(r.n * 0.3)) if r.area != "12" else 3
        counts.append({"wave": r.wave, "area_level": r.area_level, "area": r.area, "theme": "all",
                       "respondents": commenters})
        for theme, _kind, _en, _es, base in THEMES:
            p = float(np.clip(base + rng.normal(0, 0.02), 0.01, 0.9))
            k = round(p * commenters)
            se = float(np.sqrt(p * (1 - p) / commenters * 1.4))
            ok = commenters >= 30 and k >= 1
            rows.append({"wave": r.wave, "area_level": r.area_level, "area": r.area, "group_dim": "all", "group": "all",
                         "indicator": f"comment_theme:{theme}", "statistic": "share", "estimate": p, "se": se,
                         "ci_low": max(0.0, p - 1.96 * se), "ci_high": min(1.0, p + 1.96 * se),
                         "df": float(max(commenters - 30, 10)), "n": commenters, "n_eff": commenters / 1.4, "deff": 1.4,
                         "n_dont_know": 0, "reliability": "ok" if ok else "suppress",
                         "reliability_reason": None if ok else "fewer than 30 valid answers",
                         "method": "taylor; raked weights; logit CI"})
            counts.append({"wave": r.wave, "area_level": r.area_level, "area": r.area, "theme": theme, "respondents": k})
            if r.area_level == "neighborhood" and r.area != "12":
                district = next((d for d in districts if str(r.area) in _members(est, d)), None)
                for j in range(min(k, 4)):
                    es = j % 3 == 2
                    feed.append({"wave": r.wave, "district": district, "neighborhood": r.area,
                                 "variable": "comment_improve", "language": "es" if es else "en",
                                 "text": TEXTS[theme][1 if es else 0], "themes": theme})
    themes = pd.DataFrame([{"theme": t, "indicator": f"comment_theme:{t}", "kind": k, "department": "",
                            "label_en": en, "label_es": es, "position": i} for i, (t, k, en, es, _b) in enumerate(THEMES)])
    return {"comment_estimates": pd.DataFrame(rows), "comment_themes": themes,
            "comment_cells": pd.DataFrame(counts), "comment_feed": pd.DataFrame(feed)}


def _members(est: pd.DataFrame, district: str) -> set[str]:
    from tests.fixtures_results import DISTRICTS

    return set(DISTRICTS.get(district, []))


def add_comment_tables(tables: dict[str, pd.DataFrame], seed: int = 7) -> dict[str, pd.DataFrame]:
    """``tables`` with the comment tables added and the theme shares appended to ``estimates``."""
    got = comment_tables(tables["estimates"], seed)
    est = pd.concat([tables["estimates"], got.pop("comment_estimates")], ignore_index=True)
    return {**tables, "estimates": est, **got}
