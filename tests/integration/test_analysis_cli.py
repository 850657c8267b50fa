"""ingest -> weight -> analyze through the CLI on the fixture city; one-transaction results writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from survey_pipeline.analysis.results import RESULT_TABLES, write_results
from survey_pipeline.cli import main
from survey_pipeline.errors import StoreError
from tests.unit.analysis.fixture_city import city_dir

WAVES = ("2024-spring", "2025-spring")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("analysis")
    city = city_dir()
    areas = pd.read_csv(city / "areas.csv", dtype=str)
    pd.DataFrame({"neighborhood": areas["code"], "district": areas["district"]}).to_csv(tmp / "areas.csv", index=False)
    root = tmp / "proj"
    assert main(["init", str(root), "--instrument", "resident", "--areas", str(tmp / "areas.csv")]) == 0
    shutil.copy(city / "census_targets.csv", root / "targets.csv")
    inv = pd.read_csv(city / "invitations.csv", dtype={"neighborhood": str})
    lines = ["", "[targets]", 'file = "targets.csv"', "", "[weighting]", 'recode = {tenure = {no_rent = "rent"}}', "",
             "[analysis]", 'groups = ["tenure"]', ""]
    for w in WAVES:
        src = next((city / "generic").glob(f"{w}.csv*"))
        # ingest reads plain CSV; the committed fixture is gzipped
        pd.read_csv(src, dtype=str, keep_default_na=False).to_csv(root / "exports" / f"{w}.csv", index=False)
        src = root / "exports" / f"{w}.csv"
        lines += ["[[waves]]", f'id = "{w}"', f'label = "{w.split("-")[1]} {w.split("-")[0]}"',
                  f'exports = [{{file = "exports/{src.name}", platform = "generic", mode = "mail"}}]',
                  "[waves.invitations]"]
        lines += [f'"{r.neighborhood}" = {int(r.invited)}' for r in inv[inv["wave"] == w].itertuples()]
        lines.append("")
    with (root / "survey.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    for w in WAVES:
        src = next((root / "exports").glob(f"{w}.csv*"))
        assert main(["ingest", str(src), "--project", str(root), "--wave", w, "--mode", "mail",
                     "--platform", "generic", "--json"]) == 0
    return root


def tables(root: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        return {t: con.execute(f'SELECT * FROM "{t}"').df() for t in RESULT_TABLES if t != "runs"}
    finally:
        con.close()


def test_weight_then_analyze_writes_every_results_table(project, capsys):
    assert main(["weight", "--project", str(project), "--json"]) == 0
    diag = json.loads(capsys.readouterr().out)
    assert {d["metric"] for d in diag} >= {"kish_n_eff", "deff_weighting", "max_margin_error"}
    assert main(["analyze", "--project", str(project), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["waves"] == list(WAVES) and summary["estimates"] > 1000
    t = tables(project)
    est = t["estimates"]
    assert list(est.columns[:7]) == ["wave", "area_level", "area", "group_dim", "group", "indicator", "statistic"]
    assert set(est["reliability"]) <= {"ok", "flag", "suppress"}
    assert set(est["area_level"]) >= {"city", "district", "neighborhood"}
    assert str(est["n"].dtype) == "int64"
    assert set(t["comparisons"]["kind"]) >= {"area_vs_rest", "area_pair", "wave_change"}
    assert t["indicators"]["higher_is_better"].dtype == bool
    rr = t["diagnostics"].query("kind == 'response_rate' and metric == 'RR1' and area == 'city'")
    assert len(rr) == len(WAVES) and rr["value"].between(0.05, 0.3).all()
    w = t["weights"]
    assert w.groupby("wave")["weight"].sum().round(0).tolist() == pytest.approx(
        pd.read_csv(project / "targets.csv").query("variable == 'neighborhood' and area == 'city'")
        .groupby("wave")["population"].sum().loc[list(WAVES)].tolist(), rel=1e-3)


def test_rerun_is_identical(project):
    first = tables(project)  # written by the test above
    assert main(["analyze", "--project", str(project), "--json"]) == 0
    second = tables(project)
    for name, df in first.items():
        pd.testing.assert_frame_equal(df, second[name], check_exact=True, obj=name)


def test_failed_write_leaves_the_store_as_it_was(tmp_path):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    good = pd.DataFrame({"wave": ["w1"], "estimate": [0.5], "n": [10]})
    write_results(con, {"estimates": good, "priorities": good})
    bad = pd.DataFrame({"wave": ["w2"], "estimate": [0.7], "n": ["not a count"]})
    with pytest.raises(StoreError, match="unchanged"):
        write_results(con, {"priorities": good.assign(wave="w9"), "estimates": bad})
    assert con.execute("SELECT wave FROM priorities").fetchall() == [("w1",)]
    assert con.execute("SELECT wave, n FROM estimates").fetchall() == [("w1", 10)]
    with pytest.raises(StoreError, match="unknown table"):
        write_results(con, {"responses": good})
    con.close()


def test_analyze_without_store_is_a_clear_error(tmp_path, capsys):
    root = tmp_path / "empty"
    assert main(["init", str(root)]) == 0
    capsys.readouterr()
    assert main(["analyze", "--project", str(root)]) == 2
    err = capsys.readouterr().err
    assert "no store yet" in err and "survey-pipeline ingest" in err


def test_dashboard_reads_the_results(project):
    """The contract end to end: every dashboard page has data from a real analysis run."""
    from dash_app import create_app
    from dash_app.pages import PAGES

    data = create_app(project).results.get()
    for mod in PAGES:
        assert len(mod.view_data(data, mod.state(data, {}), "en")) > 0, mod.PAGE
