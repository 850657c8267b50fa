"""The bundled resident template, answered through a Google-Forms-style export, ingests cleanly."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from survey_pipeline import Store, ingest, init_project
from survey_pipeline.instrument import list_templates

pytestmark = pytest.mark.skipif("resident" not in list_templates(), reason="resident template not bundled")


def test_resident_google_forms_export(tmp_path: Path):
    (tmp_path / "areas.csv").write_text("code,neighborhood,district,beats,zips\n1,Downtown,Central,C1,33601\n"
                                        "2,Oak Hill,North,N1,33602\n")
    proj = init_project(tmp_path / "p", instrument="resident", areas=tmp_path / "areas.csv")
    inst = proj.instrument_model
    rng = random.Random(7)
    header, gens = ["Timestamp"], []
    for q in inst.questions():
        if q.type == "note":
            continue
        label = (q.label or {}).get("en", q.id)
        if q.role is not None and q.role.value == "geography" and q.type == "text":
            header.append(label)
            gens.append(lambda: rng.choice(["33601", "33602", ""]))
        elif q.type in ("single", "grid"):
            choices, missing = inst.answer_options(q.answer_list)
            opts = [c.label["en"] for c in choices] + [m.label["en"] for m in missing.values()] + [""]
            rows = [f"{label} [{it.label['en']}]" for it in q.items] if q.type == "grid" else [label]
            for h in rows:
                header.append(h)
                gens.append(lambda opts=opts: rng.choice(opts))
        elif q.type in ("multi", "rank"):
            opts = [c.label["en"] for c in inst.answer_options(q.answer_list)[0]]
            header.append(label)
            gens.append(lambda opts=opts, k=q.max_picks or 3: ", ".join(rng.sample(opts, rng.randint(0, min(k, len(opts))))))
        elif q.type == "integer":
            header.append(label)
            gens.append(lambda: str(rng.randint(18, 90)))
        else:
            header.append(label)
            gens.append(lambda: rng.choice(["", "more patrols please"]))
    export = tmp_path / "google.csv"
    with export.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(60):
            w.writerow([f"2026-03-{1 + i % 28:02d} 10:{i:02d}:00"] + [g() for g in gens])
    s = ingest(proj, export, "w1", mode="web")
    assert s.platform == "google_forms"
    assert s.rows_read == s.rows_kept == 60
    assert s.unmapped_columns == [] and s.columns_mapped == len(header) - 1
    assert s.unknown_values == {}
    with Store(proj.store_path) as st:
        wide = st.read_clean_wave("w1", include_excluded=True)
        kinds = st.query("SELECT DISTINCT missing_kind FROM answers WHERE missing_kind IS NOT NULL")["missing_kind"]
    assert set(kinds) <= {"dont_know", "refused", "not_asked", "breakoff", "skipped"}
    assert set(wide["area_neighborhood"].dropna()) == {"Downtown", "Oak Hill"}
