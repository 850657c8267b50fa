"""Property: mangled exports never raise a traceback and never lose a row."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey_pipeline.errors import SurveyPipelineError
from survey_pipeline.ingest.pipeline import ingest
from survey_pipeline.project import init_project
from survey_pipeline.store import Store
from tests.unit.ingest.conftest import AREAS, INSTRUMENT

HEADER = ["ResponseId", "Status", "Duration (in seconds)", "Neighborhood", "Any contact?", "Treated fairly",
          "I trust the police", "Police are rude", "top", "Your age", "Comments"]
cell = st.one_of(
    st.sampled_from(["", "Yes", "No", "Agree", "No sé", "Drugs, Litter", "8", "abc", "Downtown", "Survey Preview",
                     "-1", "1e9", "Muy de acuerdo", "=SUM(A1)", " ", "R1"]),
    st.text(max_size=12),
)
row = st.lists(cell, min_size=len(HEADER), max_size=len(HEADER))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=12), mode=st.sampled_from(["web", "mail"]))
def test_mangled_exports_conserve_rows(rows, mode):
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        (d / "areas.csv").write_text(AREAS)
        (d / "inst.yaml").write_text(INSTRUMENT)
        proj = init_project(d / "p", instrument=str(d / "inst.yaml"), areas=d / "areas.csv")
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(HEADER)
        w.writerows(rows)
        export = d / "x.csv"
        export.write_text(buf.getvalue(), encoding="utf-8")
        try:
            s = ingest(proj, export, "w1", mode=mode)
        except SurveyPipelineError as exc:  # a clear refusal is fine; the store must be untouched
            assert exc.render()
            if proj.store_path.exists():
                with Store(proj.store_path) as store:
                    assert store.counts()["sources"] == 0
            return
        assert s.rows_read == s.rows_kept + s.rows_quarantined
        with Store(proj.store_path) as store:
            c = store.counts()
            assert c["responses"] + c["quarantine"] == s.rows_read
            src = store.sources().iloc[0]
            assert src.rows_in == s.rows_read
