"""A plausible results store following docs/results.md, for the dashboard's tests.

Not part of the package: the real results come from the analysis stage. This writes a project
folder with ``warehouse.duckdb`` (the results tables only), ``areas.geojson`` (12 neighborhoods in
3 districts) and a ``survey.toml`` naming the areas file. Three waves; a few suppressed and flagged
cells (thin neighborhoods, a thin demographic group); comparisons with adjusted p-values and
findings; priorities; importance-satisfaction rows; diagnostics.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from tests.fixtures_comments import add_comment_tables

WAVES = ["2024-spring", "2025-spring", "2026-spring"]
DISTRICTS = {"central": ["1", "2", "3", "4"], "north": ["5", "6", "7", "8"], "east": ["9", "10", "11", "12"]}
NAMES = {"1": "Downtown", "2": "Old Town", "3": "River Bend", "4": "Mill Yard", "5": "North Hills",
         "6": "Cedar Park", "7": "Oak Grove", "8": "Fairmont", "9": "Eastgate", "10": "Harbor View",
         "11": "Lakeview", "12": "Brookside"}
GROUPS = {"age_group": ["18-34", "35-54", "55+"], "sex": ["female", "male"],
          "race_ethnicity": ["black", "hispanic", "white", "other"]}

# indicator, topic, statistic, department, label_en, label_es, wording_en, wording_es, higher_is_better, base
INDICATORS = [
    ("sat_police_overall", "satisfaction", "share", None, "Satisfied with police", "Satisfecho con la policía",
     "Overall, how satisfied are you with the police in your neighborhood?",
     "En general, ¿qué tan satisfecho está con la policía de su vecindario?", True, 0.62),
    ("safe_night", "safety", "share", None, "Feels safe at night", "Se siente seguro de noche",
     "How safe do you feel walking alone in your neighborhood at night?",
     "¿Qué tan seguro se siente caminando solo en su vecindario de noche?", True, 0.48),
    ("safe_day", "safety", "share", None, "Feels safe by day", "Se siente seguro de día",
     "How safe do you feel walking alone in your neighborhood during the day?",
     "¿Qué tan seguro se siente caminando solo en su vecindario durante el día?", True, 0.81),
    ("index_trust", "trust", "score", None, "Trust in police (index)", "Confianza en la policía (índice)",
     "Trust index: mean of 4 items (police are honest; treat people fairly; can be trusted; respect residents), 1-5.",
     "Índice de confianza: media de 4 ítems (1-5).", True, 3.4),
    ("problem_drugs", "problem", "share", "police", "Drug dealing is a problem", "El narcotráfico es un problema",
     "How much of a problem is drug dealing in your neighborhood?",
     "¿Qué tan problemático es el narcotráfico en su vecindario?", False, 0.35),
    ("problem_speeding", "problem", "share", "transportation", "Speeding is a problem", "El exceso de velocidad es un problema",
     "How much of a problem is speeding traffic in your neighborhood?",
     "¿Qué tan problemático es el exceso de velocidad en su vecindario?", False, 0.55),
]
PROBLEMS = [  # problem, department, label_en, label_es, base share
    ("drugs", "police", "Drug dealing", "Narcotráfico", 0.34),
    ("speeding", "transportation", "Speeding traffic", "Exceso de velocidad", 0.41),
    ("potholes", "public_works", "Potholes and streets", "Baches y calles", 0.29),
    ("litter", "public_works", "Litter and dumping", "Basura y vertidos", 0.22),
    ("vacant", "code_enforcement", "Vacant buildings", "Edificios vacíos", 0.15),
    ("parks", "parks", "Park upkeep", "Mantenimiento de parques", 0.10),
    ("burglary", "police", "Burglary", "Robo en viviendas", 0.26),
    ("lighting", "public_works", "Street lighting", "Alumbrado público", 0.18),
]
SERVICES = [  # service, department, label_en, label_es, importance, satisfaction
    ("police_response", "police", "Police response time", "Tiempo de respuesta policial", 0.55, 0.58),
    ("street_repair", "public_works", "Street repair", "Reparación de calles", 0.48, 0.31),
    ("traffic_enforcement", "police", "Traffic enforcement", "Control del tráfico", 0.33, 0.45),
    ("parks_maintenance", "parks", "Parks maintenance", "Mantenimiento de parques", 0.18, 0.71),
    ("code_enforcement", "code_enforcement", "Code enforcement", "Inspección de edificios", 0.22, 0.40),
    ("trash_collection", "public_works", "Trash collection", "Recolección de basura", 0.27, 0.82),
    ("street_lighting", "public_works", "Street lighting", "Alumbrado público", 0.30, 0.52),
]
MIN_N = 30
FLAG_N = 60


def areas_geojson() -> dict:
    """12 rectangular neighborhoods (4 x 3 grid) with code, name and district properties."""
    feats = []
    lon0, lat0, dx, dy = -89.70, 40.70, 0.03, 0.025
    for d_i, (district, codes) in enumerate(DISTRICTS.items()):
        for c_i, code in enumerate(codes):
            x0, y0 = lon0 + c_i * dx, lat0 + (2 - d_i) * dy
            ring = [[x0, y0], [x0 + dx, y0], [x0 + dx, y0 + dy], [x0, y0 + dy], [x0, y0]]
            feats.append({"type": "Feature", "id": int(code),
                          "properties": {"code": int(code), "name": NAMES[code], "district": district},
                          "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "name": "fixture_neighborhoods", "features": feats}


def _reliability(n: int, est: float, se: float, statistic: str) -> tuple[str, str | None]:
    if n < MIN_N:
        return "suppress", f"fewer than {MIN_N} valid answers (n={n})"
    if n < FLAG_N:
        return "flag", f"fewer than {FLAG_N} valid answers (n={n}); interpret with care"
    return "ok", None


def _ci(est: np.ndarray | float, se, statistic: str):
    lo, hi = est - 1.96 * se, est + 1.96 * se
    if statistic == "share":
        return np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
    return lo, hi


def _areas() -> list[tuple[str, str, str | None]]:
    """(level, code, district) for city, districts and neighborhoods."""
    out = [("city", "city", None)]
    out += [("district", d, d) for d in DISTRICTS]
    out += [("neighborhood", c, d) for d, cs in DISTRICTS.items() for c in cs]
    return out


def _n_for(level: str, code: str, wave_i: int, rng) -> int:
    if level == "city":
        return 1200 + 150 * wave_i
    if level == "district":
        return 400 + 50 * wave_i + int(rng.integers(-40, 40))
    if code == "12" and wave_i in (0, 2):
        return 18 + wave_i  # thin: suppressed
    if code == "4":
        return 45  # flagged
    return int(rng.integers(70, 150))


def build_tables(seed: int = 7) -> dict[str, pd.DataFrame]:
    """Every results table of docs/results.md as a DataFrame."""
    rng = np.random.default_rng(seed)
    ind = pd.DataFrame([
        {"indicator": i[0], "topic": i[1], "statistic": i[2], "variable": i[0].replace("index_", ""),
         "department": i[3], "label_en": i[4], "label_es": i[5], "wording_en": i[6], "wording_es": i[7],
         "definition": ("share answering 4 or 5 among valid answers; don't know excluded" if i[2] == "share"
                        else "mean of the items on a 1-5 scale, reverse-keyed items reversed"),
         "higher_is_better": i[8]} for i in INDICATORS])
    area_eff = {c: rng.normal(0, 0.06) for _, c, _ in _areas()}
    area_eff["city"] = 0.0
    for d, cs in DISTRICTS.items():
        area_eff[d] = float(np.mean([area_eff[c] for c in cs]))
    area_eff["9"] = 0.16  # a planted high neighborhood
    area_eff["3"] = -0.14  # a planted low one
    group_eff = {"18-34": -0.08, "35-54": 0.0, "55+": 0.07, "female": -0.02, "male": 0.02,
                 "black": -0.12, "hispanic": -0.04, "white": 0.05, "other": 0.0}
    rows = []
    for w_i, wave in enumerate(WAVES):
        for level, code, _district in _areas():
            n_all = _n_for(level, code, w_i, rng)
            cells = [("all", "all", n_all)]
            if level in ("city", "district"):
                share = {"18-34": .3, "35-54": .35, "55+": .35, "female": .52, "male": .48,
                         "black": .25, "hispanic": .2, "white": .5, "other": .05}
                for dim, gs in GROUPS.items():
                    for g in gs:
                        n_g = int(n_all * share[g])
                        if g == "other" and level == "district":
                            n_g = min(n_g, 22)
                        cells.append((dim, g, n_g))
            for dim, g, n in cells:
                for i in INDICATORS:
                    name, stat, base = i[0], i[2], i[9]
                    trend = 0.04 * w_i if name in ("sat_police_overall", "safe_night") else 0.0
                    eff = area_eff[code] + (group_eff[g] if g != "all" else 0.0)
                    if stat == "share":
                        sign = -1 if not i[8] else 1
                        p = float(np.clip(base + sign * eff + trend + rng.normal(0, 0.01), 0.03, 0.97))
                        deff = 1.4
                        se = float(np.sqrt(p * (1 - p) / n * deff))
                    else:
                        p = float(base + 2.5 * eff + 2.5 * trend + rng.normal(0, 0.03))
                        deff = 1.3
                        se = float(0.9 / np.sqrt(n) * np.sqrt(deff))
                    lo, hi = _ci(p, se, stat)
                    rel, reason = _reliability(n, p, se, stat)
                    rows.append({"wave": wave, "area_level": level, "area": code, "group_dim": dim, "group": g,
                                 "indicator": name, "statistic": stat, "estimate": p, "se": se,
                                 "ci_low": float(lo), "ci_high": float(hi), "df": float(max(n - 30, 10)),
                                 "n": n, "n_eff": n / deff, "deff": deff, "n_dont_know": int(n * 0.04),
                                 "reliability": rel, "reliability_reason": reason,
                                 "method": "taylor; raked weights; logit CI" if stat == "share" else "taylor; raked weights"})
    est = pd.DataFrame(rows)
    return {"indicators": ind, "estimates": est, "comparisons": _comparisons(est, ind),
            "priorities": _priorities(rng), "importance_satisfaction": _is_rows(rng),
            "diagnostics": _diagnostics(est), "runs": _runs(), "drivers": _drivers_rows(rng)}


DRIVERS = [  # driver, label_en, label_es, satisfaction
    ("sat_police_response", "Police response", "Respuesta policial", 0.55),
    ("sat_police_visibility", "Police visibility", "Presencia policial", 0.51),
    ("sat_police_prevention", "Crime prevention", "Prevención del delito", 0.49),
    ("sat_police_communication", "Communication", "Comunicación", 0.63),
]


def _drivers_rows(rng) -> pd.DataFrame:
    """Key drivers: trust's planted driver is police response (0.45), overall satisfaction's crime
    prevention (0.30); the east district is too thin for a model (suppressed)."""
    rows = []
    for wave in WAVES:
        for level, code, _ in _areas():
            if level == "neighborhood":
                continue
            n = 900 if level == "city" else (60 if code == "east" else 260)
            for outcome, planted, big in (("sat_police_overall", "sat_police_prevention", 0.30),
                                          ("trust_overall", "sat_police_response", 0.45)):
                coefs = {d: (big if d == planted else 0.05) + rng.normal(0, 0.01) for d, *_ in DRIVERS}
                order = sorted(coefs, key=coefs.get, reverse=True)
                for d, le, les, sat in DRIVERS:
                    se = 0.5 / np.sqrt(n)
                    ok = n >= 100
                    b = coefs[d] if ok else np.nan
                    rows.append({"wave": wave, "area_level": level, "area": code, "outcome": outcome, "driver": d,
                                 "department": "police", "label_en": le, "label_es": les, "coefficient": b,
                                 "se": se if ok else np.nan, "ci_low": b - 1.96 * se, "ci_high": b + 1.96 * se,
                                 "df": float(n - 5) if ok else np.nan,
                                 "p": 0.0001 if ok and d == planted else (0.2 if ok else np.nan),
                                 "p_adj": 0.0004 if ok and d == planted else (0.3 if ok else np.nan),
                                 "rank": order.index(d) + 1 if ok else None, "satisfaction": sat, "n": n,
                                 "r2": 0.12 if ok else np.nan,
                                 "method": "svyglm linear probability (share positive on drivers satisfied 0/1), complete cases",
                                 "reliability": "ok" if ok else "suppress",
                                 "reliability_reason": None if ok else f"{n} complete cases, fewer than the 100 a driver "
                                                                       "model needs (10 per driver, at least 100)"})
    out = pd.DataFrame(rows)
    out["rank"] = out["rank"].astype("Int64")
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p)
    adj = np.empty(m)
    running = 0.0
    for k, idx in enumerate(order):
        running = max(running, (m - k) * p[idx])
        adj[idx] = min(1.0, running)
    return adj


def _worst(a: str, b: str) -> str:
    rank = {"ok": 0, "flag": 1, "suppress": 2}
    return a if rank[a] >= rank[b] else b


def _comparisons(est: pd.DataFrame, ind: pd.DataFrame) -> pd.DataFrame:
    labels = ind.set_index("indicator")["label_en"].to_dict()
    allg = est[est.group_dim == "all"]
    city = allg[allg.area_level == "city"].set_index(["wave", "indicator"])
    rows = []
    for (wave, level, indicator), fam in allg[allg.area_level != "city"].groupby(["wave", "area_level", "indicator"]):
        c = city.loc[(wave, indicator)]
        diff = fam.estimate.to_numpy() - c.estimate
        se = np.sqrt(fam.se.to_numpy() ** 2 + c.se ** 2 * 0.8)
        t = diff / se
        p = 2 * stats.norm.sf(np.abs(t))
        padj = _holm(p)
        for k, (_, r) in enumerate(fam.iterrows()):
            rel = _worst(r.reliability, "ok")
            rows.append({"kind": "area_vs_rest", "wave": wave, "wave_ref": None, "area_level": level,
                         "area": r.area, "area_ref": "rest", "group_dim": "all", "group": "all",
                         "indicator": indicator, "statistic": r.statistic, "estimate": diff[k], "se": se[k],
                         "ci_low": diff[k] - 1.96 * se[k], "ci_high": diff[k] + 1.96 * se[k], "df": r.df,
                         "t": t[k], "p": p[k], "p_adj": padj[k], "adjust": "holm",
                         "significant": bool(padj[k] < 0.05), "reliability": rel,
                         "reliability_reason": r.reliability_reason, "finding": None})
    # wave changes: each area, latest vs previous and previous vs first
    keyed = allg.set_index(["wave", "area_level", "area", "indicator"])
    for w_i in (1, 2):
        wave, ref = WAVES[w_i], WAVES[w_i - 1]
        fam_rows = []
        for (lvl, area, indicator), r in keyed.loc[wave].iterrows():
            r0 = keyed.loc[(ref, lvl, area, indicator)]
            diff = r.estimate - r0.estimate
            se = float(np.sqrt(r.se ** 2 + r0.se ** 2))
            t = diff / se
            fam_rows.append({"kind": "wave_change", "wave": wave, "wave_ref": ref, "area_level": lvl, "area": area,
                             "area_ref": area, "group_dim": "all", "group": "all", "indicator": indicator,
                             "statistic": r.statistic, "estimate": diff, "se": se, "ci_low": diff - 1.96 * se,
                             "ci_high": diff + 1.96 * se, "df": r.df, "t": t, "p": float(2 * stats.norm.sf(abs(t))),
                             "adjust": "fdr_bh", "reliability": _worst(r.reliability, r0.reliability),
                             "reliability_reason": r.reliability_reason or r0.reliability_reason})
        fam = pd.DataFrame(fam_rows)
        p = fam.p.to_numpy()
        order = np.argsort(p)
        m = len(p)
        bh = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
        padj = np.empty(m)
        padj[order] = np.minimum(bh, 1.0)
        fam["p_adj"] = padj
        fam["significant"] = fam.p_adj < 0.05
        fam["finding"] = None
        rows += fam.to_dict("records")
    out = pd.DataFrame(rows)
    # plain-language findings for the largest reliable significant differences
    ok = out[(out.reliability != "suppress") & out.significant & (out.statistic == "share")]
    top = ok.reindex(ok.estimate.abs().sort_values(ascending=False).index).head(6)
    for idx, r in top.iterrows():
        what = labels[r.indicator].lower()
        where = "the city" if r.area == "city" else (NAMES.get(r.area, r.area.title()))
        if r.kind == "wave_change":
            direction = "rose" if r.estimate > 0 else "fell"
            text = (f"In {where}, the share who say '{what}' {direction} by {abs(r.estimate) * 100:.0f} points "
                    f"since {r.wave_ref} (95% CI {r.ci_low * 100:+.0f} to {r.ci_high * 100:+.0f}).")
        else:
            direction = "higher" if r.estimate > 0 else "lower"
            text = (f"{where}: '{what}' is {abs(r.estimate) * 100:.0f} points {direction} than in the rest of the city "
                    f"in {r.wave} (95% CI {r.ci_low * 100:+.0f} to {r.ci_high * 100:+.0f}).")
        out.loc[idx, "finding"] = text
    return out


def _priorities(rng) -> pd.DataFrame:
    rows = []
    for w_i, wave in enumerate(WAVES):
        for level, code, _ in _areas():
            n = _n_for(level, code, w_i, np.random.default_rng(w_i * 100 + len(code)))
            n = {"city": 1200, "district": 420}.get(level, n)
            shares = []
            for prob, dept, le, les, base in PROBLEMS:
                s = float(np.clip(base + rng.normal(0, 0.04) + (0.03 * w_i if prob == "speeding" else 0), 0.02, 0.9))
                shares.append((prob, dept, le, les, s))
            shares.sort(key=lambda x: -x[4])
            for rank, (prob, dept, le, les, s) in enumerate(shares, start=1):
                se = float(np.sqrt(s * (1 - s) / n * 1.4))
                rel, reason = _reliability(n, s, se, "share")
                lo, hi = s - 1.96 * se, s + 1.96 * se
                rank_low = 1 + sum(1 for x in shares if x[4] - 1.96 * se > hi)
                rank_high = sum(1 for x in shares if x[4] + 1.96 * se >= lo)
                rows.append({"wave": wave, "area_level": level, "area": code, "problem": prob, "department": dept,
                             "label_en": le, "label_es": les, "estimate": s, "se": se, "ci_low": max(lo, 0.0),
                             "ci_high": min(hi, 1.0), "n": n, "n_eff": n / 1.4, "reliability": rel,
                             "reliability_reason": reason, "rank": rank, "rank_low": min(rank_low, rank),
                             "rank_high": max(rank_high, rank)})
    return pd.DataFrame(rows)


def _band(score: float) -> str:
    return "highest" if score >= 0.20 else "high" if score >= 0.10 else "medium" if score >= 0.05 else "low"


def _is_rows(rng) -> pd.DataFrame:
    rows = []
    for wave in WAVES:
        for level, code, _ in _areas():
            if level == "neighborhood":
                continue
            n = 1200 if level == "city" else 420
            for svc, dept, le, les, imp, sat in SERVICES:
                i = float(np.clip(imp + rng.normal(0, 0.03), 0.01, 0.99))
                s = float(np.clip(sat + rng.normal(0, 0.03), 0.01, 0.99))
                score = i * (1 - s)
                rows.append({"wave": wave, "area_level": level, "area": code, "service": svc, "department": dept,
                             "label_en": le, "label_es": les, "importance": i,
                             "importance_se": float(np.sqrt(i * (1 - i) / n)), "satisfaction": s,
                             "satisfaction_se": float(np.sqrt(s * (1 - s) / n)), "is_score": score,
                             "band": _band(score)})
    return pd.DataFrame(rows)


def _diagnostics(est: pd.DataFrame) -> pd.DataFrame:
    rows = []
    base = est[(est.group_dim == "all") & (est.indicator == "sat_police_overall")]
    for _, r in base.iterrows():
        rows.append({"wave": r.wave, "area_level": r.area_level, "area": r.area, "kind": "sample",
                     "metric": "completes", "value": float(r.n), "detail": None})
        rows.append({"wave": r.wave, "area_level": r.area_level, "area": r.area, "kind": "weighting",
                     "metric": "max_margin_error", "value": float(1.96 * np.sqrt(0.25 / r.n * 1.4)), "detail": None})
    for w_i, wave in enumerate(WAVES):
        city = {"wave": wave, "area_level": "city", "area": "city"}
        rows += [
            {**city, "kind": "response_rate", "metric": "RR3", "value": 0.18 + 0.01 * w_i, "detail": "AAPOR RR3"},
            {**city, "kind": "weighting", "metric": "kish_n_eff", "value": 880.0 + 90 * w_i, "detail": None},
            {**city, "kind": "weighting", "metric": "deff_weighting", "value": 1.38 - 0.02 * w_i, "detail": None},
            {**city, "kind": "weighting", "metric": "weight_min", "value": 0.31, "detail": None},
            {**city, "kind": "weighting", "metric": "weight_max", "value": 4.2 - 0.3 * w_i,
             "detail": "collapsed: race_ethnicity other+hispanic in district east"},
            {**city, "kind": "reliability_rule", "metric": "suppress_min_n", "value": float(MIN_N),
             "detail": f"suppress an estimate with fewer than {MIN_N} valid answers"},
            {**city, "kind": "reliability_rule", "metric": "flag_min_n", "value": float(FLAG_N),
             "detail": f"flag an estimate with fewer than {FLAG_N} valid answers"},
            {**city, "kind": "scale_alpha", "metric": "alpha", "value": 0.86 + 0.005 * w_i, "detail": "index_trust"},
        ]
    return pd.DataFrame(rows)


def _runs() -> pd.DataFrame:
    return pd.DataFrame([{"run_id": "fixture-1", "started_at": pd.Timestamp("2026-06-01 10:00", tz="UTC"),
                          "finished_at": pd.Timestamp("2026-06-01 10:02", tz="UTC"), "instrument": "resident",
                          "instrument_version": "1.0", "waves": ";".join(WAVES),
                          "settings": json.dumps({"ci": "logit", "adjust": "holm"})}])


MODELED_METHOD = "modeled (Fay–Herriot)"
#: The modeled number of neighborhood 12 (suppressed directly in 2024 and 2026): far from any direct one.
MODELED_VALUE = 0.4321


def with_modeled(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``tables`` with a modeled (small-area) row next to each neighborhood row for all residents,
    as the analysis writes them: reliable (``ok``) everywhere, estimate :data:`MODELED_VALUE` in
    neighborhood 12, except ``safe_day`` of 2026-spring, whose modeled row is suppressed too. And a
    significant "different from the rest of the city" comparison for neighborhood 12 in
    2026-spring (as if one leaked), which no page may attach to a modeled number."""
    est = tables["estimates"]
    m = est[(est["area_level"] == "neighborhood") & (est["group_dim"] == "all")].copy()
    twelve = m["area"].eq("12")
    m.loc[twelve, "estimate"] = MODELED_VALUE
    m.loc[m["statistic"] != "share", "estimate"] = 3.21
    m["ci_low"], m["ci_high"] = m["estimate"] - 0.08, m["estimate"] + 0.08
    m["reliability"], m["reliability_reason"], m["method"] = "ok", None, MODELED_METHOD
    bad = twelve & m["wave"].eq("2026-spring") & m["indicator"].eq("safe_day")
    m.loc[bad, "reliability"] = "suppress"
    m.loc[bad, "reliability_reason"] = "modeled; relative RMSE 66% over 50%"
    for c in ("df", "n_eff", "deff"):
        m[c] = np.nan
    comp = tables["comparisons"].copy()
    leak = (comp["kind"].eq("area_vs_rest") & comp["area"].eq("12") & comp["wave"].eq("2026-spring")
            & comp["group_dim"].eq("all"))
    comp.loc[leak, ["estimate", "ci_low", "ci_high", "p_adj", "significant", "reliability"]] = [
        0.2, 0.1, 0.3, 0.001, True, "ok"]
    return dict(tables, estimates=pd.concat([est, m], ignore_index=True), comparisons=comp)


def write_store(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write the tables into a DuckDB file (replacing the tables), in one transaction."""
    con = duckdb.connect(str(path))
    try:
        con.execute("BEGIN")
        for name, df in tables.items():
            con.register("_df", df)
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _df')
            con.unregister("_df")
        con.execute("COMMIT")
    finally:
        con.close()


def make_results_project(root: str | Path, seed: int = 7) -> Path:
    """Create a project folder with a results store, areas.geojson and survey.toml; return its path."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "areas.geojson").write_text(json.dumps(areas_geojson()), encoding="utf-8")
    (root / "survey.toml").write_text('[project]\nname = "Fixture City"\n\n[areas]\nfile = "areas.geojson"\n',
                                      encoding="utf-8")
    write_store(root / "warehouse.duckdb", add_comment_tables(build_tables(seed), seed))
    return root


if __name__ == "__main__":  # pragma: no cover - manual use: python -m tests.fixtures_results DIR
    import sys

    print(make_results_project(sys.argv[1] if len(sys.argv) > 1 else "fixture-results"))
