"""Reading the store for analysis: read_clean_wave(s) against the long answers, and the analysis
frame of a project against the waves read one by one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey_pipeline.errors import StoreError
from survey_pipeline.store import FLAG_COLUMNS, IngestBatch, Store
from tests.integration.test_analysis_cli import project  # noqa: F401 (the fixture city, two waves)

# wave -> variables in questionnaire order; w2 drops 'rude' and adds 'fair' (an instrument change)
VARIABLES = {"w1": ["trust", "rude", "top_drugs"], "w2": ["trust", "top_drugs", "fair"]}

# (source_row, variable, code, missing kind) per wave; rows 3 of w1 and 2 of w2 are excluded
ANSWERS = {
    "w1": [(1, "trust", 4, None), (1, "rude", None, "dont_know"), (1, "top_drugs", 1, None),
           (2, "trust", None, "refused"), (2, "rude", 2, None),
           (3, "trust", 5, None), (3, "rude", None, "skipped"), (3, "top_drugs", 0, None),
           (4, "trust", -1.5, None)],
    "w2": [(1, "trust", 3, None), (1, "fair", None, "not_asked"),
           (2, "trust", 1, None), (2, "fair", 5, None),
           (3, "top_drugs", 1, None), (3, "fair", None, "invalid")],
}
EXCLUDED = {"w1": {3}, "w2": {2}}
ROWS = {"w1": [1, 2, 3, 4], "w2": [1, 2, 3]}


def _batch(wave: str) -> IngestBatch:
    rows = ROWS[wave]
    resp = pd.DataFrame({
        "response_id": [f"{wave}-R{r}" for r in rows], "platform_response_id": [f"R{r}" for r in rows],
        "wave": wave, "mode": "web", "source_row": rows,
        "area_district": ["Central", None, "Central", "North"][: len(rows)],
        "area_neighborhood": ["Downtown", None, "Downtown", "Oak Hill"][: len(rows)],
        "area_beat": None, "area_raw": "x", "start_time": pd.Timestamp("2025-03-01", tz="UTC"),
        "end_time": pd.Timestamp("2025-03-01 00:05", tz="UTC"), "duration_s": 300.0, "survey_language": "en",
        "status_raw": "done", "finished": True, "answered_share": 1.0, "disposition": "complete",
        "contact_hash": None, **{f"flag_{f}": False for f in FLAG_COLUMNS},
        "excluded": [r in EXCLUDED[wave] for r in rows],
        "exclusion_reasons": ["speeder" if r in EXCLUDED[wave] else None for r in rows],
    })
    answers = pd.DataFrame(ANSWERS[wave], columns=["source_row", "variable", "code", "missing_kind"])
    variables = pd.DataFrame({"wave": wave, "variable": VARIABLES[wave], "question": VARIABLES[wave],
                              "position": range(len(VARIABLES[wave])), "type": "single", "role": "trust",
                              "answer_list": None})
    empty = pd.DataFrame()
    return IngestBatch(file_name=f"{wave}.csv", sha256=f"sha-{wave}", platform="generic", wave=wave, wave_label=wave,
                       wave_start=None, wave_end=None, mode="web", rows_in=len(rows), responses=resp,
                       answers=answers, open_text=empty, quarantine=empty, flags=empty, variables=variables)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with Store(path) as st:
        for wave in VARIABLES:
            st.write_ingest(_batch(wave))
    return path


def _from_long_answers(st: Store, wave: str, include_excluded: bool) -> pd.DataFrame:
    """The wide wave built another way: a pivot of the documented ``answers`` view."""
    resp = st.read_responses(wave, include_excluded=include_excluded)
    long = st.query("SELECT response_id, variable, code, missing_kind FROM answers WHERE wave = ?", [wave])
    ids, variables = resp["response_id"], VARIABLES[wave]
    codes = long.pivot(index="response_id", columns="variable", values="code").reindex(index=ids, columns=variables)
    kinds = long.pivot(index="response_id", columns="variable", values="missing_kind").reindex(index=ids,
                                                                                           columns=variables)
    kinds = kinds.astype(object).where(kinds.notna(), None)
    kinds.columns = [f"{v}__missing" for v in variables]
    return pd.concat([resp, codes.reset_index(drop=True).astype(float), kinds.reset_index(drop=True)], axis=1)


@pytest.mark.parametrize("include_excluded", [False, True])
@pytest.mark.parametrize("wave", ["w1", "w2"])
def test_clean_wave_is_the_long_answers_made_wide(store_path, wave, include_excluded):
    with Store(store_path, read_only=True) as st:
        got = st.read_clean_wave(wave, include_excluded=include_excluded)
        want = _from_long_answers(st, wave, include_excluded)
    assert list(got.columns) == list(want.columns)
    assert got["source_row"].tolist() == [r for r in ROWS[wave] if include_excluded or r not in EXCLUDED[wave]]
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_column_type=False)
    miss = [c for c in got.columns if c.endswith("__missing")]
    assert got[miss].dtypes.eq(object).all() and got[VARIABLES[wave]].dtypes.eq(float).all()
    # a cell without a kind is None (not NaN) in <var>__missing
    assert all(v is None or isinstance(v, str) for v in got[miss].to_numpy().ravel())


def test_clean_wave_values(store_path):
    with Store(store_path, read_only=True) as st:
        w1 = st.read_clean_wave("w1").set_index("source_row")
    assert w1.loc[1, "trust"] == 4 and w1.loc[4, "trust"] == -1.5 and np.isnan(w1.loc[1, "rude"])
    assert w1.loc[1, "rude__missing"] == "dont_know" and w1.loc[2, "trust__missing"] == "refused"
    assert w1.loc[4, "rude__missing"] is None and np.isnan(w1.loc[4, "rude"])  # no cell: NaN, no kind
    assert 3 not in w1.index  # excluded


@pytest.mark.parametrize("include_excluded", [False, True])
@pytest.mark.parametrize("waves", [["w1", "w2"], ["w2", "w1"], ["w1"], ["w2", "w2"]])
def test_clean_waves_are_the_waves_one_below_the_other(store_path, waves, include_excluded):
    with Store(store_path, read_only=True) as st:
        got = st.read_clean_waves(waves, include_excluded=include_excluded)
        want = pd.concat([st.read_clean_wave(w, include_excluded=include_excluded) for w in waves], ignore_index=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.columns.dtype == want.columns.dtype
    for c in got.columns[got.dtypes.eq(object)]:  # None and NaN told apart
        assert [v is None for v in got[c]] == [v is None for v in want[c]], c


@pytest.mark.parametrize("include_excluded", [False, True])
@pytest.mark.parametrize("waves", [["w1", "w2"], ["w2", "w1"], ["w2"]])
def test_missing_kinds_as_categories_are_the_same_kinds(store_path, waves, include_excluded):
    """missing_as="category": the same frame but for the __missing columns, categoricals of the
    store's kinds holding the same kinds (NaN where the text frame has None or NaN)."""
    with Store(store_path, read_only=True) as st:
        text = st.read_clean_waves(waves, include_excluded=include_excluded)
        got = st.read_clean_waves(waves, include_excluded=include_excluded, missing_as="category")
        kinds = sorted(st.query("SELECT missing_kind FROM missing_kinds")["missing_kind"])
    miss = [c for c in text.columns if c.endswith("__missing")]
    assert list(got.columns) == list(text.columns) and got.columns.dtype == text.columns.dtype
    pd.testing.assert_frame_equal(got.drop(columns=miss), text.drop(columns=miss), check_exact=True)
    for c in miss:
        assert isinstance(got[c].dtype, pd.CategoricalDtype) and sorted(got[c].cat.categories) == kinds
        assert got[c].astype(object).where(got[c].notna(), None).tolist() == \
            text[c].astype(object).where(text[c].notna(), None).tolist(), c
    for kind in kinds:
        assert sum(got[c].eq(kind).sum() for c in miss) == sum(text[c].eq(kind).sum() for c in miss)
    assert got[miss].notna().to_numpy().sum() >= 2


def test_a_variable_a_wave_lacks_is_nan_in_its_rows(store_path):
    with Store(store_path, read_only=True) as st:
        f = st.read_clean_waves(["w1", "w2"])
    assert list(f.columns[-8:]) == ["trust", "rude", "top_drugs", "trust__missing", "rude__missing",
                                    "top_drugs__missing", "fair", "fair__missing"]
    w1, w2 = f[f["wave"] == "w1"], f[f["wave"] == "w2"]
    assert w1["fair"].isna().all() and all(isinstance(v, float) and np.isnan(v) for v in w1["fair__missing"])
    assert all(isinstance(v, float) and np.isnan(v) for v in w2["rude__missing"])
    # w2 has 'fair': None where no kind, the kind where there is one
    assert w2.set_index("source_row")["fair__missing"].to_dict() == {1: "not_asked", 3: "invalid"}
    assert np.isnan(w2["fair"]).tolist() == [True, True]


def test_cells_no_reader_asked_for_are_left_out(store_path):
    with Store(store_path, read_only=True) as st:
        before = st.read_clean_waves(["w1", "w2"], include_excluded=True)
    with Store(store_path) as st:
        key = st.con.execute("SELECT variable_key FROM variable_keys WHERE variable = 'fair'").fetchall()[0][0]
        sid = st.con.execute("SELECT source_id FROM sources WHERE wave = 'w1'").fetchall()[0][0]
        # a row with no response (before and after the last one) and a variable w1 does not hold
        st.con.execute("INSERT INTO answer_cells VALUES (?, 99, 0, 7, NULL), (?, 0, 0, 7, NULL), (?, 1, ?, 7, NULL)",
                       [sid, sid, sid, key])
    with Store(store_path, read_only=True) as st:
        after = st.read_clean_waves(["w1", "w2"], include_excluded=True)
    pd.testing.assert_frame_equal(after, before, check_exact=True)


def test_an_empty_wave_and_no_wave(store_path):
    with Store(store_path) as st:
        st.con.execute("UPDATE responses SET excluded = true WHERE wave = 'w2'")
    with Store(store_path, read_only=True) as st:
        got = st.read_clean_waves(["w2", "w1"])
        want = pd.concat([st.read_clean_wave("w2"), st.read_clean_wave("w1")], ignore_index=True)
        assert len(st.read_clean_wave("w2")) == 0
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        with pytest.raises(StoreError) as err:
            st.read_clean_waves([])
    assert err.value.rule == "no-waves"


def test_a_variable_named_like_another_ones_missing_column_is_refused(tmp_path):
    batch = _batch("w1")
    batch.variables = pd.concat([batch.variables, batch.variables.iloc[:1].assign(variable="trust__missing")])
    with Store(tmp_path / "s.duckdb") as st:
        st.write_ingest(batch)
        with pytest.raises(StoreError, match="trust__missing") as err:
            st.read_clean_wave("w1")
    assert err.value.rule == "variable-name-clash"


def test_analysis_frame_is_the_waves_read_one_by_one(project):  # noqa: F811 (the fixture city project)
    from survey_pipeline.analysis.results import _project_inputs
    from survey_pipeline.project import Project

    p = Project.load(project)
    waves, frame = _project_inputs(p)[3:6:2]
    parts = []
    with Store(p.store_path, read_only=True) as st:
        for w in waves:
            f = st.read_clean_wave(w)
            assert "neighborhood" in f.columns  # a geography question named like the area level
            levels = [c for c in ("district", "neighborhood", "beat") if f"area_{c}" in f.columns]
            f = f.drop(columns=[c for c in levels if c in f.columns] + [f"{c}__missing" for c in levels
                                                                        if f"{c}__missing" in f.columns])
            parts.append(f.rename(columns={f"area_{c}": c for c in levels}))
    want = pd.concat(parts, ignore_index=True)
    assert len(waves) == 2
    # the analysis reads the missing kinds as categoricals (1 byte a cell): the same kinds
    miss = [c for c in want.columns if c.endswith("__missing")]
    assert miss and all(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in miss)
    pd.testing.assert_frame_equal(frame.drop(columns=miss), want.drop(columns=miss), check_exact=True)
    for c in miss:
        assert frame[c].astype(object).where(frame[c].notna(), None).tolist() == \
            want[c].astype(object).where(want[c].notna(), None).tolist(), c
    assert list(frame.columns) == list(want.columns)
    assert frame["neighborhood"].notna().all() and "area_neighborhood" not in frame.columns


def test_funnel_and_rates_from_counted_groups_equal_a_count_per_response(project):  # noqa: F811
    from survey_pipeline.analysis.results import _NOT_CASES, response_rates, sample_funnel
    from survey_pipeline.ingest.quality import AAPOR_COLUMNS, aapor_rates
    from survey_pipeline.project import Project

    p = Project.load(project)
    waves = list(p.waves)
    with Store(p.store_path, read_only=True) as st:
        funnel, rates = sample_funnel(p, st, waves), response_rates(p, st, waves)
        per_row = {w: st.query("SELECT * FROM responses WHERE wave = ? ORDER BY rowid", [w]) for w in waves}
    for w, resp in per_row.items():
        got = funnel[funnel["wave"] == w].set_index("metric")["value"]
        invited = {a.casefold() for a in p.waves[w].invitations}
        start = ((resp["disposition"] == "complete") & ~resp[_NOT_CASES].any(axis=1)
                 & resp["area_neighborhood"].str.casefold().isin(invited))
        first = resp["exclusion_reasons"].fillna("").str.split(",").str[0].str.strip().replace("", "unspecified")
        gone = first[start & resp["excluded"]].value_counts()
        assert got["start_aapor_completes"] == start.sum() and got["analysed"] == (~resp["excluded"]).sum()
        # the excluded steps in the order a per-response value_counts gives (largest first, ties as first seen)
        assert [m for m in got.index if m.startswith("excluded_")] == [f"excluded_{r}" for r in gone.index]
        assert got[[f"excluded_{r}" for r in gone.index]].tolist() == gone.tolist()
        want = aapor_rates(resp[list(AAPOR_COLUMNS)], p.waves[w].invitations, e=p.waves[w].eligibility_rate)
        r = rates[(rates["wave"] == w) & (rates["metric"] == "RR1")].set_index("area")["value"]
        assert r["city"] == want.set_index("area").loc["all", "RR1"] and len(r) == len(want)
