"""Benchmark: read a large Qualtrics-style CSV export with ``read_export``.

Generates an N-row export (3 header rows: export tags, question text, ImportId JSON; 45 columns:
17 Qualtrics metadata columns, 20 Likert items, a 5-option split multi-select, an open-text
column, an area code) into a temporary folder, then reads it in a fresh Python process and
reports wall time, CPU time and the reader process's peak resident memory (``VmHWM``);
the timings include importing the package.

Usage::

    python benchmarks/bench_ingest_read.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

META = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"America/Denver"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"America/Denver"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"America/Denver"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """Write an N-row Qualtrics-style export with 3 header rows to ``path``."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 90 * 86400, rows), unit="s")
    dur = rng.integers(60, 3600, rows)
    end = start + pd.to_timedelta(dur, unit="s")
    fmt = "%Y-%m-%d %H:%M:%S"
    cols: dict[str, object] = {
        "StartDate": start.strftime(fmt), "EndDate": end.strftime(fmt),
        "Status": rng.choice(["0", "1"], rows, p=[0.97, 0.03]),
        "IPAddress": [f"10.{a}.{b}.{c}" for a, b, c in rng.integers(0, 256, (rows, 3))] if rows < 2000 else
        pd.Series(rng.integers(0, 2**24, rows)).map(lambda v: f"10.{v >> 16}.{(v >> 8) & 255}.{v & 255}"),
        "Progress": rng.choice(["100", "100", "100", "57", "12"], rows),
        "Duration (in seconds)": dur.astype(str),
        "Finished": rng.choice(["1", "1", "1", "0"], rows),
        "RecordedDate": end.strftime(fmt),
        "ResponseId": pd.Series(np.arange(rows)).map(lambda i: f"R_{i:015x}"),
        "RecipientLastName": "", "RecipientFirstName": "", "RecipientEmail": "", "ExternalReference": "",
        "LocationLatitude": np.round(rng.uniform(27.5, 28.2, rows), 4).astype(str),
        "LocationLongitude": np.round(rng.uniform(-82.9, -82.2, rows), 4).astype(str),
        "DistributionChannel": "anonymous",
        "UserLanguage": rng.choice(["EN", "ES"], rows, p=[0.85, 0.15]),
    }
    tags, texts, ids = [m[0] for m in META], [m[1] for m in META], [m[2] for m in META]
    for q in range(1, 21):
        tag = f"Q{q}"
        cols[tag] = rng.choice(["1", "2", "3", "4", "5", "", "6"], rows)
        tags.append(tag)
        texts.append(f"How satisfied are you with service {q}?")
        ids.append(f'{{"ImportId":"QID{q}"}}')
    for opt in range(1, 6):
        tag = f"Q21_{opt}"
        cols[tag] = rng.choice(["1", ""], rows, p=[0.3, 0.7])
        tags.append(tag)
        texts.append(f"Which problems are most serious? - Selected Choice - Problem {opt}, with a comma")
        ids.append(f'{{"ImportId":"QID21","choiceId":"{opt}"}}')
    comments = np.array(["", "", "", "Too much speeding on \"Main St\", at night", "Thanks\nfor asking", "Más patrullas"])
    cols["Q22_TEXT"] = rng.choice(comments, rows)
    tags.append("Q22_TEXT")
    texts.append("Anything else? - Text")
    ids.append('{"ImportId":"QID22_TEXT"}')
    cols["district"] = rng.choice([f"D{i}" for i in range(1, 10)], rows)
    tags.append("district")
    texts.append("district")
    ids.append('{"ImportId":"district"}')
    frame = pd.DataFrame(cols)
    head = pd.DataFrame([texts, ids], columns=tags)
    with path.open("w", encoding="utf-8", newline="") as fh:
        head.to_csv(fh, index=False)
        frame.to_csv(fh, index=False, header=False)


_CHILD = """
import json, resource, sys, time


def peak_rss_mb():
    # VmHWM is this process's own high-water mark; ru_maxrss would include the parent's RSS at
    # fork time (Linux keeps it across exec), and the parent has just generated the file.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

t0, c0 = time.perf_counter(), time.process_time()
from survey_pipeline.ingest.readers import read_export
raw = read_export(sys.argv[1])
t1, c1 = time.perf_counter(), time.process_time()
print(json.dumps({"seconds": round(t1 - t0, 2), "cpu_seconds": round(c1 - c0, 2), "rows": len(raw.frame), "rejected": len(raw.rejected),
                  "columns": raw.frame.shape[1], "header_rows": raw.header_rows, "platform": raw.platform,
                  "peak_rss_mb": round(peak_rss_mb(), 1)}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "qualtrics_big.csv"
        t0 = time.perf_counter()
        generate(path, args.rows)
        gen = time.perf_counter() - t0
        size = path.stat().st_size / 1e6
        out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        result = json.loads(out.stdout)
    result.update({"file_mb": round(size, 1), "generate_seconds": round(gen, 1)})
    if result["rows"] + result["rejected"] != args.rows:
        print(f"rows lost: {result['rows']} read + {result['rejected']} rejected != {args.rows}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
