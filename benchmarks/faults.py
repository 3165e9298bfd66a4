"""The fault table: a qcluster SIGKILLed (sentinel and workers, by PID) at four points of an
archive run and restarted, with the ORM broker and with Redis, on PostgreSQL.

    .venv/bin/python benchmarks/faults.py [pytest options, e.g. -k redis]

Runs the `cluster`-marked tests of tests/test_killed_workers.py against PostgreSQL (BENCH_PG,
default postgres://postgres@127.0.0.1:5432; databases named after BENCH_TAG, default `faults`)
and Redis on 127.0.0.1:6379, each writing its row, and prints, for each fault and broker: runs
started, finished and abandoned (the killed ones, each taken over once), doubled (a
configuration archived twice), lost (a configuration or a day not archived, or a run row left
open), copies duplicated or missing in the archive calendar, and 500s answered by the run
status API afterwards. Goal: 0 doubled, 0 lost, 0 duplicated, 0 missing, 0 500s on every row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
TAG = os.environ.get("BENCH_TAG", "faults")
COLUMNS = [
    "runs started",
    "runs finished",
    "runs abandoned",
    "doubled",
    "lost",
    "copies duplicated",
    "copies missing",
    "500s",
]
GOAL = {"doubled", "lost", "copies duplicated", "copies missing", "500s"}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "faults.jsonl"
        env = {
            **os.environ,
            "DATABASE_URL": f"{PG}/aa_{TAG}",
            "WEB_DATABASE_URL": f"{PG}/aaweb_{TAG}",
            "TEST_DEFAULT_DATABASE_NAME": f"test_aa_{TAG}",
            "TEST_WEB_DATABASE_NAME": f"test_aaweb_{TAG}",
            "FAULTS_REPORT": str(report),
        }
        tests = subprocess.run(  # noqa: S603 - our own interpreter and tests
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                "-m",
                "cluster",
                "tests/test_killed_workers.py",
                *sys.argv[1:],
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
        rows = (
            [json.loads(line) for line in report.read_text().splitlines()]
            if report.exists()
            else []
        )
    print()
    header = ["fault", "broker", *COLUMNS]
    widths = [max(len(header[0]), *(len(r["fault"]) for r in rows)) if rows else 5, 6]
    widths += [len(name) for name in COLUMNS]
    print(" | ".join(name.ljust(width) for name, width in zip(header, widths, strict=True)))
    print("-|-".join("-" * width for width in widths))
    for row in sorted(rows, key=lambda r: (r["broker"], r["fault"])):
        cells = [row["fault"], row["broker"], *(str(row[name]) for name in COLUMNS)]
        print(" | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)))
    failing = [r for r in rows if any(r[name] for name in GOAL)]
    print(f"\ngoal: 0 in {', '.join(sorted(GOAL))}; rows off goal: {len(failing)} of {len(rows)}")
    return tests.returncode or (1 if failing or not rows else 0)


if __name__ == "__main__":
    sys.exit(main())
