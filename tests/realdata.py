"""Where the tests find the real survey files: ``../shared/realdata`` beside the repository
(CI has it), else the copies the repository carries (``tests/data/realdata``, public-domain files
only; its README gives their provenance and says what is not carried and why)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "realdata"
CARRIED = REPO / "tests" / "data" / "realdata"


def realdata(name: str) -> Path:
    """The folder ``name`` of real files: in ``../shared/realdata``, else carried here; the shared
    path (absent) when neither has it, so ``.exists()`` says whether a test can run."""
    for base in (SHARED, CARRIED):
        if (base / name).exists():
            return base / name
    return SHARED / name


TAMPA = realdata("tampa_bay_community_survey_2024")
SAN_DIEGO = realdata("san_diego_resident_survey_2015")
NO_TAMPA = ("the Tampa Bay Estuary Program exports are not in the repository (they state no licence, so "
            "they are not copied; tests/data/realdata/README.md) and ../shared/realdata is absent")
