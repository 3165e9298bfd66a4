"""Every API list's cost against its floor in CPU instructions: the same figure on a busy machine.

    .venv/bin/python benchmarks/api_instructions.py [--size 10000] [--requests 30] [--warm 40]

`benchmarks/api.py` reads the cost of a list as its workers' CPU time over its floor's, and on a
shared or slow machine one run's floor can land in a quiet moment: the same loop's CPU time has
varied by half from one run to the next. This script counts instructions instead, with
valgrind's callgrind (Debian's `valgrind`), which counts the same for the same code and input
whatever else the machine does. Two processes run under callgrind side by side, one asking
the API lists, one their floors (benchmarks/floor_urls.py), each through Django's WSGI handler
and every middleware (Django's test client, signed in with the API token, the throttle on, the
cache on Redis: the databases, seed and settings of api.py). For each list, `--warm` requests
first (connections, caches, psycopg's prepared statements, lazy imports), then callgrind's
counters are dumped and zeroed (`callgrind_control -d`), `--requests` requests are run and
dumped again: that dump over `--requests` is the list's instructions per request.

Under valgrind a request is about fifty times slower, so a run takes minutes, not seconds: a
measurement to quote, not a CI check.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOAL = 1.5


def child() -> None:
    """Under callgrind: answer each `<count> <path>` line with `<count>` requests of it."""
    import django

    django.setup()
    from django.test import Client

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {os.environ['BENCH_API_KEY']}"}
    for line in sys.stdin:
        count, path = line.split(" ", 1)
        for _ in range(int(count)):
            answer = client.get(path.strip(), **headers)
            if answer.status_code != 200:
                print(f"failed {answer.status_code} {path.strip()}", flush=True)
                return
        print("done", flush=True)


class Counted:
    """One process under callgrind, asked to run requests and dumped between them."""

    def __init__(self, out: Path, env: dict[str, str]) -> None:
        self.out = out
        self.process = subprocess.Popen(  # noqa: S603 - valgrind from the system, our script
            [
                shutil.which("valgrind") or "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            text=True,
        )
        self.dumps = 0

    def ask(self, count: int, path: str) -> None:
        stdin, stdout = self._pipes()
        stdin.write(f"{count} {path}\n")
        stdin.flush()
        answer = stdout.readline().strip()
        if answer != "done":
            raise SystemExit(f"{path}: {answer or 'the process under callgrind stopped'}")

    def dump(self) -> int:
        """The instructions counted since the last dump (callgrind zeroes them on each)."""
        subprocess.run(  # noqa: S603 - callgrind_control from the system, our own pid
            [shutil.which("callgrind_control") or "callgrind_control", "-d", str(self.process.pid)],
            check=True,
            capture_output=True,
        )
        self.dumps += 1
        text = Path(f"{self.out}.{self.dumps}").read_text(errors="replace")
        found = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if not found:
            raise SystemExit(f"callgrind wrote no total in {self.out}.{self.dumps}")
        return int(found[1])

    def close(self) -> None:
        stdin, _ = self._pipes()
        stdin.close()
        self.process.wait(timeout=600)

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        return self.process.stdin, self.process.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000, help="appointments and audit rows")
    parser.add_argument("--requests", type=int, default=30, help="requests counted per list")
    parser.add_argument("--warm", type=int, default=40, help="requests before counting")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child()
        return
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        raise SystemExit("This benchmark counts with valgrind: sudo apt-get install -y valgrind")

    sys.path[:0] = [str(HERE), str(ROOT)]
    import api

    api.ensure_database(api.CORE_URL)
    api.ensure_database(api.WEB_URL)
    api.setup_django()
    from api_seed import api_key, bench_user

    user = bench_user(options.size)
    env = {**api.environment(), "BENCH_API_KEY": api_key(user)}
    lists = api.endpoints(options.size)
    print(
        f"{options.size:,} appointments and audit rows; instructions per request (callgrind, "
        f"{options.requests} requests after {options.warm}), in process, PostgreSQL, cache "
        f"{api.CACHE_URL.split('://')[0]}"
    )
    with tempfile.TemporaryDirectory() as folder:
        own = Counted(Path(folder) / "api.out", env)
        floor = Counted(Path(folder) / "floor.out", env)
        try:
            for name, path, floor_path in lists:
                # Both processes count at once, one core each: the counts do not depend on it.
                own.ask(options.warm, path)
                floor.ask(options.warm, floor_path)
                own.dump()
                floor.dump()
                own.ask(options.requests, path)
                floor.ask(options.requests, floor_path)
                mine = own.dump() / options.requests
                bare = floor.dump() / options.requests
                print(
                    f"  {name:32} {mine / 1e6:6.2f} M | floor {bare / 1e6:6.2f} M | "
                    f"{mine / bare:.2f} x (goal <= {GOAL:.1f} x)",
                    flush=True,
                )
        finally:
            own.close()
            floor.close()


if __name__ == "__main__":
    main()
