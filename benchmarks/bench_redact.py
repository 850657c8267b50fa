"""Benchmark: redaction of free text at ingest (:func:`survey_pipeline.ingest.redact.redact_series`).

Builds ``--n`` distinct comments from the redaction corpus (``tests/unit/ingest/redaction_corpus.yaml``,
362 English and Spanish comments, half with planted identifiers), each made distinct by three
appended ordinary words (so the per-distinct-value cache does not help), in two mixes:

- ``corpus``: the corpus as it is (49% of comments carry an identifier);
- ``clean``: only the corpus' comments with nothing planted (what most comments look like).

    PYTHONPATH=. python benchmarks/bench_redact.py [--n 200000] [--repeat 3]

Prints, per mix, the median wall and CPU time of this process over ``--repeat`` runs, comments
per CPU second (the figure to quote on a shared machine, where wall time depends on the other
load), and the counts per rule. Single process, no model: everything is compiled regular expressions and
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
    w, k = len(WORDS), len(texts)
    out = [f"{texts[i % k]} {WORDS[(i // k) % w]} {WORDS[(i // (k * w)) % w]} {WORDS[(i // (k * w * w)) % w]}"
           for i in range(n)]
    return pd.Series(out, dtype=object)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'mix':<8} {'comments':>9} {'distinct':>9} {'wall s':>7} {'cpu s':>7} {'comments/cpu-s':>15}  counts")
    for mix in ("corpus", "clean"):
        s = comments(args.n, clean=mix == "clean")
        wall, cpu = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            _out, counts = redact_series(s)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        med_wall, med_cpu = statistics.median(wall), statistics.median(cpu)
        print(f"{mix:<8} {len(s):>9,} {s.nunique():>9,} {med_wall:>7.2f} {med_cpu:>7.2f} {len(s) / med_cpu:>15,.0f}  "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
