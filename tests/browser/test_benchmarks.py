"""A program member's dashboard shows its benchmarks on Overview and Compare, in English and Spanish.

The member comes from a real `program run` of twenty generated agencies (tests/conftest.py
``program20``; every member's benchmark rows are checked in tests/integration/test_program20.py):
the peers' median and quartiles over the 20 agencies, and an outside reference (Gallup, no SE: a
reference only), under the city's number.
"""

from __future__ import annotations

import pytest

from dash_app import create_app

WORDS = {"en": ("Generated program median", "Gallup confidence in police 2024", "a reference value, not tested",
                "20 agencies"),
         "es": ("Mediana de Generated program", "Gallup confidence in police 2024", "valor de referencia, sin prueba",
                "20 agencias")}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_overview_and_compare_show_the_benchmarks(dash_duo, program20, screenshots_dir, lang):
    member = program20 / "members" / "agency_017"
    app = create_app(member)
    dash_duo.start_server(app)
    peer, ext, verdict, k = WORDS[lang]
    dash_duo.driver.get(dash_duo.server_url + f"/?wave=2025-spring&lang={lang}")
    dash_duo.wait_for_element("#overview-cards .card-benchmark", timeout=20)
    texts = [e.text for e in dash_duo.find_elements("#overview-cards .card-benchmark")]
    assert any(peer in x for x in texts), texts[:3]
    assert any(ext in x and verdict in x for x in texts), texts
    assert any("%" in x and k in x for x in texts if peer in x)  # the median, quartiles and the 20 agencies
    dash_duo.driver.save_screenshot(str(screenshots_dir / f"benchmarks_overview_{lang}.png"))

    dash_duo.driver.get(dash_duo.server_url + f"/compare?wave=2025-spring&indicator=sat_police_overall"
                                              f"&level=neighborhood&lang={lang}")
    dash_duo.wait_for_element("#compare-benchmarks .benchmark", timeout=20)
    lines = [e.text for e in dash_duo.find_elements("#compare-benchmarks .benchmark")]
    assert len(lines) == 2  # the program's peers, then Gallup
    assert peer in lines[0] and k in lines[0] and ext in lines[1]
    dash_duo.driver.save_screenshot(str(screenshots_dir / f"benchmarks_compare_{lang}.png"))
