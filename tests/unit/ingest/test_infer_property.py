"""Property: whatever the headers (truncated, duplicated, accented, digits first, brackets) and
the values, the inferred draft validates — ids and variable names stay unique and valid."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey_pipeline.ingest.infer import draft_yaml, infer_draft
from survey_pipeline.instrument import validate_instrument

header = st.one_of(
    st.sampled_from(["Q1", "Q1_1", "Q1_2", "Q1[01]", "Q1.1", "Q1A", "Q1B", "Q3 - Parks", "Q3 - Police", "ZIP",
                     "PDIST", "WEIGHT", "wt", "PRIORITY_A", "PRIORITY_B", "AGE", "Comments", "1st", "_", "ÉDAD",
                     "fish_reason_fishing_for_fun_or_sport_fishing_for_relaxation_a",
                     "fish_reason_fishing_for_fun_or_sport_fishing_for_relaxation_b"]),
    st.text(min_size=1, max_size=70),
)
cell = st.one_of(
    st.sampled_from(["", "1", "2", "3", "4", "5", "9", "99", "-1", "0", "Very satisfied", "Satisfied", "Muy satisfecho",
                     "Don't know", "No sé", "Top priority", "Low priority", "Not a priority", "92101", "99999",
                     "Phone,Email", "Phone", "Email", "0.87", "Very effective", "Very ineffective", "18 - 24"]),
    st.text(max_size=15),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(header, min_size=1, max_size=10), data=st.data())
def test_any_export_gives_a_valid_draft(headers, data, tmp_path_factory):
    names = []
    for h in headers:  # the reader makes frame column names unique (Q1, Q1.1, ...)
        n, k = h, 1
        while n in names:
            n, k = f"{h}.{k}", k + 1
        names.append(n)
    rows = data.draw(st.lists(st.lists(cell, min_size=len(names), max_size=len(names)), min_size=1, max_size=8))
    frame = pd.DataFrame(rows, columns=names).replace("", None)
    cols = [SimpleNamespace(name=n, header=h, text=None, key=None, sub=None, role="answer")
            for n, h in zip(names, headers, strict=True)]
    d = infer_draft(frame, cols)
    out = tmp_path_factory.mktemp("p") / "d.yaml"
    out.write_text(draft_yaml(d))
    inst, problems = validate_instrument(out)
    assert inst is not None and not problems.errors, [p.message for p in problems.errors]
    assert yaml.safe_load(out.read_text())["id"]
    assert set(d.evidence) == {q.id for q in inst.questions()}
