"""Every bundled template, exported as an XLSForm by `deploy`, imports back to the same variables and answers."""

from __future__ import annotations

import pytest

from survey_pipeline import list_templates, load_instrument, validate_instrument
from survey_pipeline.instrument.deploy import export_instrument
from survey_pipeline.instrument.importer import import_instrument, write_instrument_yaml


@pytest.mark.parametrize("template", list_templates())
def test_template_xlsform_round_trip(tmp_path, template):
    inst = load_instrument(template)
    xlsx = export_instrument(inst, "xlsform", tmp_path / f"{template}.xlsx")
    mapping = import_instrument(xlsx)
    imported, problems = validate_instrument(write_instrument_yaml(mapping, tmp_path / f"{template}.yaml"))
    assert imported is not None and not [str(p) for p in problems.items if p.severity == "error"]
    assert imported.languages == inst.languages
    ours = {v.name: v for v in imported.variables()}
    # every variable of the template comes back under its own name (the XLSForm may add helper questions)
    assert set(inst.variables_frame()["variable"]) <= set(ours)
    for v in inst.variables():
        if not v.answer_list or v.type not in ("single", "grid"):
            continue
        theirs_codes, theirs_missing = inst.answer_options(v.answer_list)
        got_codes, got_missing = imported.answer_options(ours[v.name].answer_list)
        # the answers and their order survive; missing answers keep their kind (an XLSForm with word
        # choice names does not carry numeric codes, so those are re-assigned)
        assert [c.label[inst.language] for c in got_codes] == [c.label[inst.language] for c in theirs_codes], v.name
        assert set(got_missing) == set(theirs_missing), v.name
        # ordered rating scales of 3+ points are recognised as scales, and nothing else is
        is_scale = v.answer_list in inst.scales and inst.scales[v.answer_list].ordered and len(theirs_codes) >= 3
        assert (ours[v.name].answer_list in imported.scales) == is_scale, v.name
        # the positive end survives (issue 12: change_3 came back with positive [1], inverting the
        # share of safety_change): the template's positive extreme is positive, the other is not
        if is_scale and inst.scales[v.answer_list].positive:
            sc, isc = inst.scales[v.answer_list], imported.scales[ours[v.name].answer_list]
            lab = {c.code: c.label[inst.language] for c in sc.codes}
            ilab = {c.code: c.label[inst.language] for c in isc.codes}
            pos = {ilab[c] for c in isc.positive}
            ends = [lab[min(sc.code_values())], lab[max(sc.code_values())]]
            good = [e for e in ends if e in {lab[c] for c in sc.positive}]
            assert good and set(good) <= pos, (v.name, sorted(pos))
            assert not (set(ends) - set(good)) & pos, (v.name, sorted(pos))
