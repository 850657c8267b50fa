"""Acceptance test of ingestion on the Riverton fixture city (data/fixtures/riverton).

Each wave's platform export (Qualtrics 2024, SurveyMonkey 2025, KoboToolbox 2026) must ingest to
the same clean table as the generic CSV of the same answers (one header row of variable names,
canonical codes; the generator writes "don't know"/"refused" as the list's missing codes and
leaves planted unknown labels blank). Legitimate differences, checked or excluded explicitly:

- identifiers: Qualtrics/SurveyMonkey ids match; KoboToolbox's ``response_id`` is ``_id`` (the
  generic CSV carries the ``_uuid``); ``start_time`` of KoboToolbox carries a -05:00 offset the
  generic CSV does not (naive, read as UTC), so times are compared through ``duration_s``;
- planted unknown labels (``unknown_label``): ``invalid`` in the export, blank (``skipped``) in
  the generic CSV;
- break-offs that answered enough to count as AAPOR complete: the SurveyMonkey and KoboToolbox
  exports carry no completion flag, so their trailing blanks are ``skipped``, while the generic
  CSV's ``finished = 0`` types them ``breakoff``;
- identifier-derived flags: the KoboToolbox export has no e-mail column, so the test rows
  sharing ``test@riverton.example.gov`` are ``duplicate_contact`` only in the generic CSV.

Then the quality flags must recover the planted dirt of ground_truth.json (precision/recall per
kind, printed with ``-s``).
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.ingest.pipeline import ingest
from survey_pipeline.project import init_project
from survey_pipeline.store import Store

FX = Path(__file__).resolve().parents[2] / "data" / "fixtures" / "riverton"
GT = json.loads((FX / "ground_truth.json").read_text(encoding="utf-8")) if FX.exists() else {"waves": []}
WAVES = [w["wave"] for w in GT["waves"]]

# planted kind -> how the store shows it
KIND_RULE = {
    "speeder": "flag_speeder", "straightliner": "flag_straightliner", "duplicate_id": "flag_duplicate_id",
    "duplicate_email": "flag_duplicate_contact", "preview": "flag_preview", "test": "flag_test",
    "bot": "flag_bot", "attention_fail": "flag_attention_failed", "breakoff": "breakoff",
}
RECALL_FLOOR = 0.9
FALSE_ALARM_SHARE = 0.10  # honest respondents with strong views straightline too (3 of ~1,650 clean rows in 2026)


def _wave_info(wave: str) -> dict:
    return next(w for w in GT["waves"] if w["wave"] == wave)


@cache
def _clean(wave: str, kind: str, root: str) -> pd.DataFrame:
    info = _wave_info(wave)
    base = Path(root) / f"{wave}_{kind}"
    base.mkdir(parents=True)
    shutil.copy(FX / "areas.geojson", base / "areas.geojson")
    proj = init_project(base / "p", instrument="resident", areas=base / "areas.geojson")
    year = wave[:4]
    with (proj.root / "survey.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'\n[[waves]]\nid = "{wave}"\nlabel = "{wave}"\nstart = {year}-03-15\nend = {year}-05-15\n'
                 'modes = ["web"]\n')
    export = FX / (info["file"] if kind == "platform" else info["generic"])
    summary = ingest(base / "p", export, wave, mode="web")
    assert summary.rows_read == info["rows"] and summary.rows_quarantined == 0
    assert summary.unmapped_columns == []
    with Store(proj.store_path, read_only=True) as st:
        return st.read_clean_wave(wave, include_excluded=True)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    if not FX.exists():
        pytest.skip("fixture city not generated")
    return str(tmp_path_factory.mktemp("riverton"))


def _dirt(wave: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for r in GT["dirt"][wave]["rows"]:
        out.setdefault(int(r["row"]), set()).add(r["kind"])
    return out


@pytest.mark.parametrize("wave", WAVES)
def test_platform_export_and_generic_csv_give_the_same_clean_table(wave, root):
    a, b = _clean(wave, "platform", root), _clean(wave, "generic", root)
    assert len(a) == len(b) == _wave_info(wave)["rows"]
    dirt = _dirt(wave)
    row_kinds = [dirt.get(i, set()) for i in range(len(a))]
    unknown_label = np.array(["unknown_label" in k for k in row_kinds])
    breakoff = np.array(["breakoff" in k for k in row_kinds])
    variables = [c[: -len("__missing")] for c in b.columns if c.endswith("__missing")]
    assert variables and all(v in a.columns for v in variables)
    mismatched: dict[str, int] = {}
    for v in variables:
        ca, cb = a[v].to_numpy(dtype=float), b[v].to_numpy(dtype=float)
        ka = a[f"{v}__missing"].fillna("").to_numpy(dtype=object)
        kb = b[f"{v}__missing"].fillna("").to_numpy(dtype=object)
        same_code = (ca == cb) | (np.isnan(ca) & np.isnan(cb))
        # documented: a break-off counted complete is 'skipped' where the export has no finished flag
        bo_equiv = breakoff & np.isin(ka, ["breakoff", "skipped"]) & np.isin(kb, ["breakoff", "skipped"])
        same_kind = (ka == kb) | bo_equiv
        bad = ~(same_code & same_kind) & ~unknown_label
        if bad.any():
            mismatched[v] = int(bad.sum())
    assert mismatched == {}
    # planted unknown labels: invalid in the export, never a number
    for i in np.flatnonzero(unknown_label):
        kinds = a.loc[i, [f"{v}__missing" for v in variables]]
        assert (kinds == "invalid").sum() >= 1
    # areas: misspelled names in the export find the neighborhood the generic codes give
    assert (a["area_neighborhood"].fillna("-") == b["area_neighborhood"].fillna("-")).all()
    assert a["area_neighborhood"].notna().mean() > 0.5
    np.testing.assert_allclose(a["duration_s"], b["duration_s"])
    assert (a["disposition"] == b["disposition"]).all()
    if wave != "2026-spring":  # KoboToolbox: _id in the export, _uuid in the generic CSV
        assert (a["platform_response_id"].astype(str) == b["platform_response_id"].astype(str)).all()


def _recovery(clean: pd.DataFrame, wave: str) -> dict[str, dict]:
    dirt = _dirt(wave)
    out = {}
    for kind, col in KIND_RULE.items():
        planted = np.array([kind in dirt.get(i, set()) for i in range(len(clean))])
        if not planted.any():
            continue
        flagged = (clean["disposition"] == "breakoff").to_numpy() if col == "breakoff" \
            else clean[col].to_numpy(dtype=bool)
        if kind == "breakoff":  # a break-off late enough is AAPOR partial/complete: judge "not complete"
            flagged = flagged | (clean["disposition"] != "complete").to_numpy()
            flagged = flagged | (clean["finished"] == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712
            if clean["finished"].isna().all():
                # no completion flag in the export (SurveyMonkey, KoboToolbox): a break-off that
                # answered >= complete_min of its questions IS an AAPOR complete; not detectable
                late = (clean["answered_share"] >= 0.8).to_numpy()
                out["breakoff_late_undetectable"] = {"planted": int((planted & late).sum())}
                planted = planted & ~late
        tp = int((planted & flagged).sum())
        clean_rows = np.array([not dirt.get(i) for i in range(len(clean))])
        out[kind] = {"planted": int(planted.sum()), "flagged": int(flagged.sum()), "found": tp,
                     "recall": tp / planted.sum(), "precision": tp / flagged.sum() if flagged.any() else 0.0,
                     # flagged rows with no planted dirt of any kind (randomized speeders and bots
                     # also fail the attention check: a true flag, of another planted kind)
                     "false_alarms": int((flagged & clean_rows).sum())}
    return out


@pytest.mark.parametrize("kind", ["platform", "generic"])
@pytest.mark.parametrize("wave", WAVES)
def test_quality_flags_recover_the_planted_dirt(wave, kind, root):
    rec = _recovery(_clean(wave, kind, root), wave)
    for k, r in rec.items():
        if "recall" not in r:
            print(f"{wave} {kind:8} {k}: {r['planted']}")
            continue
        print(f"{wave} {kind:8} {k:16} planted {r['planted']:3} flagged {r['flagged']:4} "
              f"recall {r['recall']:.2f} precision {r['precision']:.2f} on clean rows {r['false_alarms']}")
    low = {k: round(r["recall"], 2) for k, r in rec.items() if "recall" in r and r["recall"] < RECALL_FLOOR}
    if kind == "platform" and wave == "2026-spring":
        low.pop("duplicate_email", None)  # documented: no e-mail in the KoboToolbox export
    assert low == {}
    # strict precision is low for speeders (see below) and attention checks (randomized speeders
    # and bots fail them too, a true flag of another planted kind): judge the false alarms, the
    # flags raised on rows with no planted dirt at all
    alarms = {k: r["false_alarms"] for k, r in rec.items()
              if "recall" in r and r["false_alarms"] > FALSE_ALARM_SHARE * r["flagged"]}
    assert alarms == {}


@pytest.mark.parametrize("wave", WAVES)
def test_speeders_beyond_the_planted_are_short_breakoffs(wave, root):
    """The 0.3 x median rule flags about twice the planted speeders; the extra ones are break-offs.

    The generator draws honest durations from a lognormal (median 840 s) clipped at 0.45 x median,
    so no honest *complete* interview is that fast; but a break-off's duration is scaled by the
    share of questions it reached, so one that stopped early falls below 0.3 x median. The rule
    is kept as specified (speed is judged on every kept row); this test pins the explanation.
    """
    clean = _clean(wave, "generic", root)
    dirt = _dirt(wave)
    planted = np.array(["speeder" in dirt.get(i, set()) for i in range(len(clean))])
    extra = clean["flag_speeder"].to_numpy(dtype=bool) & ~planted
    assert extra.any()
    extra_kinds = [dirt.get(i, set()) for i in np.flatnonzero(extra)]
    short_breakoffs = sum(1 for k in extra_kinds if "breakoff" in k)
    tests = sum(1 for k in extra_kinds if k & {"test", "preview"})  # trial rows: 60-400 s by design
    assert short_breakoffs + tests == extra.sum()
