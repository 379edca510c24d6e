"""Creates per second of two versions of the service, measured in turns on one machine: the
working tree against an earlier commit (checked out into a temporary git worktree). On the
shared development machines a whole perf run varies by a fifth from one run to the next;
runs taken in turns, minutes apart, tell a change's cost from that noise.

Each turn starts `insightboards serve` on a new SQLite file (or a new PostgreSQL database),
creates 500 boards to warm it, then times `--creates` more, 16 in flight on keep-alive
connections, with bodies shaped like the performance harness's (bench/write_amplification.py).

    .venv/bin/python bench/create_ab.py --against 39becd4            # 4 turns each
    .venv/bin/python bench/create_ab.py --against HEAD~1 --turns 6 --postgresql
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from write_amplification import board  # the harness's board shape

ROOT = Path(__file__).resolve().parents[1]
IN_FLIGHT = 16
WARM_UP = 500


def _post_all(port: int, headers: dict[str, str], bodies: list[bytes]) -> int:
    """POST the bodies over IN_FLIGHT connections; how many failed."""
    failed = [0]

    def post(chunk: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in chunk:
            connection.request("POST", "/results/api/v2/dashboards", body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 201:
                failed[0] += 1
        connection.close()

    threads = [
        threading.Thread(target=post, args=(bodies[i::IN_FLIGHT],)) for i in range(IN_FLIGHT)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failed[0]


def _database(postgresql: bool, directory: str) -> tuple[str, str | None]:
    if not postgresql:
        return f"sqlite:///{directory}/bench.db", None
    name = f"ab_{uuid.uuid4().hex[:12]}"
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"],
        check=True,
    )
    return f"postgresql://postgres@127.0.0.1:5432/{name}", name


def turn(source: Path, creates: int, postgresql: bool) -> float:
    """Creates per second of the service whose code is in `source`."""
    directory = tempfile.mkdtemp(prefix="ib-ab-")
    url, database = _database(postgresql, directory)
    port = 18000 + random.randrange(1000)
    log_path = Path(directory) / "server.log"
    environment = {
        **os.environ,
        "PYTHONPATH": str(source / "src"),
        "INSIGHTBOARDS_RATE_LIMIT_PER_MINUTE": "0",
    }
    command = [sys.executable, "-m", "insightboards", "serve", "--port", str(port)]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*command, "--database-url", url],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    try:
        deadline = time.monotonic() + 60
        while "Uvicorn running" not in (text := log_path.read_text()):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(text)
            time.sleep(0.2)
        token = re.search(r"token:\s+(\S+)", text)
        assert token is not None, text
        headers = {"Authorization": f"Bearer {token.group(1)}", "Content-Type": "application/json"}
        rng = random.Random(7)
        bodies = [
            json.dumps(board(rng, n).model_dump(exclude_unset=True)).encode()
            for n in range(WARM_UP + creates)
        ]
        _post_all(port, headers, bodies[:WARM_UP])
        began = time.monotonic()
        failed = _post_all(port, headers, bodies[WARM_UP:])
        rate = creates / (time.monotonic() - began)
        if failed:
            raise RuntimeError(f"{failed} creates failed: {log_path}")
        return rate
    finally:
        server.terminate()
        server.wait()
        if database is not None:
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE {database}"],
                check=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the earlier commit")
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--creates", type=int, default=3500)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    worktree = Path(tempfile.mkdtemp(prefix="ib-ab-tree-")) / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(worktree), args.against],
        check=True,
    )
    rates: dict[str, list[float]] = {args.against: [], "working tree": []}
    try:
        for number in range(args.turns):
            for name, source in ((args.against, worktree), ("working tree", ROOT)):
                rate = turn(source, args.creates, args.postgresql)
                rates[name].append(rate)
                print(f"turn {number + 1}: {name:>14} {rate:6.0f} creates/s", flush=True)
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)], check=True
        )
    before, after = (statistics.mean(rates[name]) for name in rates)
    print(
        f"mean: {args.against} {before:.0f}/s, working tree {after:.0f}/s "
        f"({(after / before - 1) * 100:+.1f} %)"
    )


if __name__ == "__main__":
    main()
