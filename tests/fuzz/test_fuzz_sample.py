"""A sample of the fuzz corpus (issue 19) in the normal test run; ``make fuzz`` runs all of it.

Every case is ingested into a copy of a project that already holds a good wave; the property is
checked by :func:`tests.fuzz.harness.run_case` (exit 0 with every row kept or quarantined and the
file's true row count, or one ``SurveyPipelineError`` with file, rule and fix and the store
unchanged; never another exception; no e-mail or phone number in the store).
"""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.fuzz import corpus, harness

SAMPLE = int(os.environ.get("SURVEY_PIPELINE_FUZZ_SAMPLE", "100"))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return harness.build_template(tmp_path_factory.mktemp("fuzz-template"))


def test_corpus_is_large_deterministic_and_covers_every_family(tmp_path):
    assert sum(corpus.FAMILIES.values()) >= 2000
    plan = {f: [0, 1] for f in corpus.FAMILIES}

    def digest(out):
        return [(c.name, hashlib.sha256(c.path.read_bytes()).hexdigest()) for c in corpus.generate(out, only=plan)]

    first, second = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert first == second
    assert {n.split("-")[0] for n, _ in first} == set(corpus.FAMILIES)
    assert len({h for _, h in first}) == len(first)  # every case is a different file


def test_fuzz_sample(template, tmp_path):
    cases = corpus.generate(tmp_path / "corpus", only=corpus.sample_plan(SAMPLE))
    work = tmp_path / "work"
    work.mkdir()
    results = [harness.run_case(template, c, work) for c in cases]
    failures = [f"{r.name}: {r.detail}" for r in results if r.outcome == "failure"]
    assert not failures, f"{len(failures)} of {len(results)} cases broke the property:\n" + "\n".join(failures)
    outcomes = {r.outcome for r in results}
    assert outcomes == {"ok", "refused"}  # the sample exercises both sides of the property
