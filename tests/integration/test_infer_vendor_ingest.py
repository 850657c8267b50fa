"""A draft inferred from each vendor layout takes its own export in: every row kept, no unknown
value, Spanish answers on the same codes as English ones, typed missing codes, the pick-up-to-3
options as 0/1 columns."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from survey_pipeline.cli import main
from survey_pipeline.store import Store
from tests.unit.ingest._vendor_layouts import LAYOUTS, SAFE_EN, SAFE_ES, N


def _run(capsys, args: list[str]) -> dict:
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_draft_ingests_its_export(name, tmp_path, capsys):
    lay = LAYOUTS[name]()
    export, codebook = lay.write(tmp_path)
    draft = tmp_path / "draft.yaml"
    _run(capsys, ["instrument", "infer", str(export), "--out", str(draft), "--json",
                  *(["--codebook", str(codebook)] if codebook else [])])
    proj = tmp_path / "proj"
    assert main(["init", str(proj), "--instrument", str(draft)]) == 0
    capsys.readouterr()
    s = _run(capsys, ["ingest", str(export), "--project", str(proj), "--wave", "w1", "--mode", "web", "--json"])
    assert s["rows_read"] == s["rows_kept"] == N
    with Store(proj / "warehouse.duckdb", read_only=True) as st:
        w = st.read_clean_wave("w1", include_excluded=True)
    raw = pd.read_csv(export, dtype=str, keep_default_na=False, skiprows={"qualtrics": [1, 2], "surveymonkey": [1]}.get(name))
    if name.startswith("etc"):
        assert s["unmapped_columns"] == ["WEIGHT"] and s["unknown_values"] == {}
        assert int((w["q5__missing"] == "refused").sum()) == int((raw["Q5"] == "-1").sum()) > 0  # -1 is not 1
        assert int((w["q5"] == 1).sum()) == int((raw["Q5"] == "1").sum())
        assert int((w["q1a__missing"] == "dont_know").sum()) == int((raw["Q1A"] == "9").sum()) > 0
        assert int((w["q1a__missing"] == "refused").sum()) == int((raw["Q1A"] == "99").sum()) > 0
        assert int((w["q2a__missing"] == "dont_know").sum()) == int((raw["Q2A"] == "8").sum()) > 0
        assert w["q1a"].max() == 5 and w["q2a"].max() == 4 and w["q3"].max() == 10
        assert (w["q5"].dropna() >= 1).all()
    elif name == "qualtrics":
        assert s["unknown_values"] == {} and s["unmapped_columns"] == []
        code = {lab: 4 - k for k, lab in enumerate(SAFE_EN)} | {lab: 4 - k for k, lab in enumerate(SAFE_ES)}
        expected = raw["Q1"].map(code).astype(float).tolist()
        assert w.sort_values("source_row")["q1"].tolist() == expected  # "Muy seguro" = "Very safe" = 4
        dk = raw["Q3_1"].isin(["Don't know", "No sé"]).sum()
        assert int((w["q3_1__missing"] == "dont_know").sum()) == dk > 0
    else:
        assert s["unknown_values"] == {} and s["unmapped_columns"] == []
        picks = w.filter(regex=r"^city_top_priorities_").filter(regex=r"^(?!.*__missing)")
        assert picks.shape[1] == 6
        q = "Which of the following should be the city's top priorities? (Pick up to 3)"
        assert int(picks.sum().sum()) == int((raw.loc[:, q:].iloc[:, :6] != "").to_numpy().sum())
