"""Property: any instrument (few roles, odd names, no scales, only text, only geography ...) goes
through ingest and ``analyze`` with results or one clear SurveyPipelineError, never a traceback."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from survey_pipeline.analysis.results import analyze_project
from survey_pipeline.errors import AnalysisError, SurveyPipelineError
from survey_pipeline.ingest.pipeline import ingest
from survey_pipeline.project import init_project
from survey_pipeline.store import Store

ANALYSIS_ROLES = ["satisfaction", "safety", "trust", "problem", "importance", "contact"]

question = st.fixed_dictionaries({
    "kind": st.sampled_from(["scale", "scale_nopos", "unordered", "choices", "integer", "text", "geo", "multi"]),
    "role": st.sampled_from([None, "other", "demographic", *ANALYSIS_ROLES]),
    "name": st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    "label": st.text(min_size=1, max_size=15).filter(lambda t: t.strip() != ""),
})


def _doc(qs: list[dict]) -> tuple[dict, list[tuple[str, str, list[str]]]]:
    """An instrument doc and, per export column, (header, kind, values to draw from); the kind
    of a demographic question is ``demographic`` (it gives no indicator)."""
    doc = {"id": "thin", "version": "1", "title": {"en": "Thin"}, "languages": ["en"],
           "scales": {"s5": {"positive": [4, 5], "codes": [{"code": c, "label": {"en": f"L{c}"}} for c in range(1, 6)],
                             "missing": {"dont_know": {"code": 9, "label": {"en": "Don't know"}}}},
                      "s4": {"codes": [{"code": c, "label": {"en": f"M{c}"}} for c in range(1, 5)]},
                      "u3": {"ordered": False, "codes": [{"code": c, "label": {"en": f"U{c}"}} for c in range(1, 4)]}},
           "choice_lists": {"abc": [{"code": i, "name": n, "label": {"en": n.upper()}}
                                    for i, n in enumerate(["ay", "bee", "cee"], start=1)]}}
    questions, cols, used = [], [], set()
    for i, q in enumerate(qs):
        qid = f"{q['name']}_{i}"
        if qid in used:
            continue
        used.add(qid)
        entry: dict = {"id": qid, "label": {"en": q["label"]}}
        role = q["role"]
        if q["kind"] in ("scale", "scale_nopos", "unordered"):
            entry.update(type="single", scale={"scale": "s5", "scale_nopos": "s4", "unordered": "u3"}[q["kind"]])
            vals = {"scale": ["1", "2", "3", "4", "5", "9", ""], "scale_nopos": ["1", "2", "3", "4", ""],
                    "unordered": ["1", "2", "3", ""]}[q["kind"]]
        elif q["kind"] == "choices":
            entry.update(type="single", choices="abc")
            vals = ["AY", "BEE", "CEE", ""]
        elif q["kind"] == "multi":
            entry.update(type="multi", choices="abc")
            vals = ["AY", "BEE", "AY,CEE", ""]
            role = role if role in (None, "other", "importance", "contact", "satisfaction") else None
        elif q["kind"] == "integer":
            entry.update(type="integer", min=0, max=100)
            vals = ["0", "17", "42", "100", ""]
        elif q["kind"] == "geo":
            entry.update(type="text")
            role = "geography"
            vals = ["North", "South", ""]
        else:
            entry.update(type="text")
            role = role if role in (None, "other", "open_text") else "open_text"
            vals = ["hello", "¿qué?", ""]
        if role:
            entry["role"] = role
        questions.append(entry)
        cols.append((qid, q["kind"] if role != "demographic" else "demographic", vals))
    doc["modules"] = [{"id": "main", "title": {"en": "Main"}, "questions": questions}]
    return doc, cols


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: each example is an ingest
@given(qs=st.lists(question, min_size=1, max_size=5), n=st.integers(3, 12), seed=st.integers(0, 2**16))
def test_thin_instruments_analyse_or_say_why(qs, n, seed):
    doc, cols = _doc(qs)
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "inst.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        proj = init_project(d / "p", instrument=str(d / "inst.yaml"))
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["ResponseId", *[c for c, _, _ in cols]])
        for r in range(n):
            w.writerow([f"R{r}", *[vals[rng.integers(len(vals))] for _, _, vals in cols]])
        export = d / "x.csv"
        export.write_text(buf.getvalue(), encoding="utf-8")
        try:
            s = ingest(proj, export, "w1", mode="web")
        except SurveyPipelineError as exc:
            assert exc.render()
            return
        assert s.rows_read == n == s.rows_kept + s.rows_quarantined
        try:
            run = analyze_project(proj.root, jobs=1)
        except AnalysisError as exc:
            text = exc.render()
            if exc.rule == "no-responses":  # every response excluded (e.g. break-offs): said clearly
                assert s.analysed == 0
                return
            assert exc.rule == "no-indicators", text
            assert "review.xlsx" in text and "role" in text
            # only refused when nothing in the instrument can give an indicator
            assert not any(k in ("scale", "scale_nopos") for _, k, _ in cols)
            return
        t = run.tables
        ind, est = t["indicators"], t["estimates"]
        assert len(ind) > 0
        # every estimate is of a declared indicator and statistic, with n <= analysed responses
        # (or a comment theme's share, described by `comment_themes`: docs/results.md)
        keys = set(zip(ind["indicator"], ind["statistic"], strict=True))
        if "comment_themes" in t:
            keys |= {(i, "share") for i in t["comment_themes"]["indicator"]}
        assert set(zip(est["indicator"], est["statistic"], strict=True)) <= keys
        assert (est["n"] <= s.analysed).all()
        share = est[est["statistic"] == "share"]
        assert share["estimate"].dropna().between(0, 1).all()
        with Store(proj.store_path, read_only=True) as store:
            assert len(store.query("SELECT * FROM estimates")) == len(est)
        # an ordered scale gives its mean, whatever its role (none, other, an analysis role)
        for qid, kind, _ in cols:
            if kind in ("scale", "scale_nopos"):
                assert (qid, "mean") in keys, qid
            if kind == "scale":
                assert (qid, "share") in keys, qid
        assert isinstance(est, pd.DataFrame)
