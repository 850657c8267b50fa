"""Inference recovers the facts planted in exports built in three vendor layouts (ETC-style
numeric codes with a data dictionary, Qualtrics with three header rows and Spanish answers,
SurveyMonkey with a "pick up to 3" question), with no wrong positive end."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from survey_pipeline.ingest.infer import infer_instrument
from tests.unit.ingest._vendor_layouts import LAYOUTS, judge

SCORES: dict[str, list] = {}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_inference_recovers_the_planted_facts(name, tmp_path):
    lay = LAYOUTS[name]()
    export, codebook = lay.write(tmp_path)
    out = tmp_path / f"{name}.yaml"
    rep = infer_instrument(export, out, codebook=codebook)  # validates the draft or raises
    doc = yaml.safe_load(out.read_text())
    verdicts = judge(rep, doc, lay.facts)
    wrong_positive = [v for v in verdicts if v[0] == "positive_wrong" and v[2]]
    facts = [v for v in verdicts if v[0] != "positive_wrong"]
    SCORES[name] = facts
    share = sum(v[2] for v in facts) / len(facts)
    by_kind = Counter(v[0] for v in facts)
    ok_kind = Counter(v[0] for v in facts if v[2])
    print(f"\n{name}: {sum(v[2] for v in facts)}/{len(facts)} planted facts recovered ({share:.0%}); "
          + ", ".join(f"{k} {ok_kind[k]}/{n}" for k, n in sorted(by_kind.items())))
    for v in facts:
        if not v[2]:
            print(f"  missed {v[0]} {v[1]!r}: {v[3]}")
    assert not wrong_positive, f"wrong positive ends: {wrong_positive}"
    assert share >= 0.9, [v for v in facts if not v[2]]


def test_guessed_fields_are_marked_in_the_yaml(tmp_path):
    lay = LAYOUTS["qualtrics"]()
    export, _ = lay.write(tmp_path)
    out = tmp_path / "q.yaml"
    rep = infer_instrument(export, out)
    text = out.read_text()
    q6 = next(q for q, e in rep["evidence"].items() if e["columns"] == ["Q6"])
    assert {"scale", "order", "positive"} <= set(rep["evidence"][q6]["guessed"])
    assert "# guessed: ordered by polarity words" in text  # the polarity fallback is never silent
    assert rep["guessed"] == sum(len(e["guessed"]) for e in rep["evidence"].values()) > 0
    assert yaml.safe_load(text)["languages"] == ["en", "es"]  # Spanish answers seen
