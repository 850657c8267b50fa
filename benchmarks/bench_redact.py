"""Benchmark: redaction of free text at ingest (:func:`survey_pipeline.ingest.redact.redact_series`).

Builds ``--n`` distinct comments from the redaction corpus (``tests/unit/ingest/redaction_corpus.yaml``,
322 English and Spanish comments, half with planted identifiers), each made distinct by two
appended ordinary words (so the per-distinct-value cache does not help), in two mixes:

- ``corpus``: the corpus as it is (49% of comments carry an identifier);
- ``clean``: only the corpus' comments with nothing planted (what most comments look like).

    PYTHONPATH=. python benchmarks/bench_redact.py [--n 200000] [--repeat 3]

Prints, per mix, the median wall time over ``--repeat`` runs, comments per second, and the
counts per rule. Single process, no model: everything is compiled regular expressions and
``phonenumbers`` on texts with seven digits or more.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd
import yaml

from survey_pipeline.ingest.redact import redact_series

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "unit" / "ingest" / "redaction_corpus.yaml"
WORDS = ("please", "thanks", "again", "today", "really", "ahora", "gracias", "también", "otra", "vez",
         "soon", "now", "tonight", "pronto", "siempre", "still", "later", "ya", "hoy", "mañana")


def comments(n: int, clean: bool) -> pd.Series:
    items = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    texts = [it["text"] for it in items if not clean or not (it.get("gone") or it.get("uncued"))]
    w = len(WORDS)
    out = [f"{texts[i % len(texts)]} {WORDS[(i // len(texts)) % w]} {WORDS[(i // (len(texts) * w)) % w]}"
           f"{'' if i < len(texts) * w * w else ' ' + WORDS[i % w] * (1 + i // (len(texts) * w * w))}"
           for i in range(n)]
    return pd.Series(out, dtype=object)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'mix':<8} {'comments':>9} {'distinct':>9} {'median s':>9} {'comments/s':>11}  counts")
    for mix in ("corpus", "clean"):
        s = comments(args.n, clean=mix == "clean")
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            _out, counts = redact_series(s)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(f"{mix:<8} {len(s):>9,} {s.nunique():>9,} {med:>9.2f} {len(s) / med:>11,.0f}  "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
