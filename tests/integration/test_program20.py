"""`program run` of twenty generated agencies (tests/conftest.py ``program20``): benchmark rows in
every member's results, and in a member's report, in English and Spanish. The dashboard pages are
checked in tests/browser/test_benchmarks.py on the same run.
"""

from __future__ import annotations

import duckdb

from survey_pipeline.cli import main
from survey_pipeline.report import build_report

MEMBERS = [f"agency_{i:03d}" for i in range(1, 21)]
PERIODS = {"2024-spring", "2025-spring"}


def test_every_member_has_its_benchmark_rows(program20):
    assert sorted(p.name for p in (program20 / "members").iterdir()) == MEMBERS
    medians = set()
    for m in MEMBERS:
        con = duckdb.connect(str(program20 / "members" / m / "warehouse.duckdb"), read_only=True)
        try:
            b = con.execute("SELECT * FROM benchmarks").df()
            own = con.execute("SELECT wave, estimate FROM estimates WHERE area_level = 'city' AND group_dim = 'all' "
                              "AND indicator = 'sat_police_overall' AND statistic = 'share' ORDER BY wave").df()
        finally:
            con.close()
        peer = b[(b["source"] == "program") & (b["indicator"] == "sat_police_overall") & (b["statistic"] == "share")]
        assert set(peer["period"]) == PERIODS, m
        assert (peer["n_members"] == 20).all(), m
        # the member's own published number, its place among the 20 and its test against the program mean
        assert peer.sort_values("wave")["value"].tolist() == own["estimate"].tolist(), m
        assert peer["percentile"].between(0, 100).all() and peer["p_adj"].between(0, 1).all(), m
        assert set(peer["verdict"]) <= {"higher", "lower", "not clearly different"}, m
        assert ((peer["q25"] <= peer["median"]) & (peer["median"] <= peer["q75"])).all(), m
        medians |= set(zip(peer["period"], peer["median"].round(12), strict=True))
        gallup = b[b["source"] == "external"]
        assert len(gallup) == 2 and (gallup["verdict"] == "reference only").all(), m
        assert len(b[b["source"] == "program"]["indicator"].unique()) > 20, m  # every shared indicator, not one
    assert len(medians) == 2  # one distribution per period, the same in every member's results
    prog = duckdb.connect(str(program20 / "program.duckdb"), read_only=True)
    try:
        assert prog.execute("SELECT count(DISTINCT member) FROM benchmarks").fetchone()[0] == 20
    finally:
        prog.close()


def test_a_member_report_shows_the_benchmarks_in_english_and_spanish(program20, tmp_path):
    member = program20 / "members" / "agency_009"
    for lang, peer, k in (("en", "Generated program median", "20 agencies"),
                          ("es", "Mediana de Generated program", "20 agencias")):
        rep = build_report(member, wave="2025-spring", language=lang)
        tab = next(t for t in rep.section("summary").tables if t.key == "benchmarks")
        sentences = list(tab.frame["benchmark"])
        assert any(peer in s and k in s for s in sentences), sentences[:3]
        assert any("Gallup confidence in police 2024" in s for s in sentences)
    out = tmp_path / "r.html"
    assert main(["report", "--project", str(member), "--out", str(out), "--language", "es"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Mediana de Generated program" in html and "20 agencias" in html
