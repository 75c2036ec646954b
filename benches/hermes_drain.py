"""Hermes Agent's own kanban code draining a board: the other side of benches/vs_hermes.sh.

Makes a board with Hermes's `create_task` in the shape `gateboard bench` uses (flat: independent
tasks; dag: layers of 100, each task with 2 parents from the layer before), then times WORKERS
processes, each with its own Hermes connection, that pick a ready task, `claim_task` it and
`complete_task` it until every task is done. Prints one JSON object: tasks, seconds, tasks/s.

Processes, not threads: Hermes re-opens the board file after each commit to check its length,
and closing that descriptor drops every lock its process holds, so connections sharing a
process corrupt each other. That same check races other processes' checkpoints and raises
"torn-extend" after a commit that did land; the worker then reads the task to learn its fate.
Usage: python3 hermes_drain.py DB flat|dag TASKS WORKERS (PYTHONPATH holding hermes-agent).
"""

from __future__ import annotations

import json
import random
import sys
import multiprocessing
import time
from pathlib import Path

from hermes_cli import kanban_db as kb

LAYER = 100


def seed(db: Path, shape: str, count: int) -> None:
    conn = kb.connect(db_path=db)
    try:
        ids: list[str] = []
        for i in range(count):
            parents = []
            if shape == "dag" and i >= LAYER:
                base = (i // LAYER - 1) * LAYER
                parents = [ids[base + i % LAYER], ids[base + (i + 1) % LAYER]]
            ids.append(kb.create_task(conn, title=f"{shape} task {i}", parents=parents))
    finally:
        conn.close()


def settled(conn, call, task: str, claimer: str) -> bool:
    """Runs one Hermes call; after a post-commit "torn-extend" error, reads what landed."""
    try:
        return call() not in (None, False)
    except kb.sqlite3.DatabaseError as e:
        if "torn-extend" not in str(e):
            raise
    row = conn.execute("SELECT status, claim_lock FROM tasks WHERE id = ?", (task,)).fetchone()
    return row is not None and (row[0] == "done" or row[1] == claimer)


def work(db: Path, n: int, count: int) -> None:
    conn = kb.connect(db_path=db)
    claimer = f"hermes-bench:w{n}"
    try:
        while True:
            ready = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM tasks WHERE status = 'ready' AND claim_lock IS NULL "
                    "ORDER BY priority DESC, created_at LIMIT 16"
                )
            ]
            if not ready:
                left = conn.execute("SELECT count(*) FROM tasks WHERE status != 'done'").fetchone()
                if left[0] == 0:
                    return
                time.sleep(0.001)
                continue
            task = random.choice(ready)
            if settled(conn, lambda: kb.claim_task(conn, task, claimer=claimer), task, claimer):
                settled(conn, lambda: kb.complete_task(conn, task, result="ok"), task, claimer)
    finally:
        conn.close()


def drain(db: Path, count: int, workers: int) -> float:
    procs = [multiprocessing.Process(target=work, args=(db, n, count)) for n in range(workers)]
    start = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a Hermes worker failed (exit {p.exitcode})")
    return time.monotonic() - start


def main() -> None:
    db, shape, count, workers = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    seed(db, shape, count)
    seconds = drain(db, count, workers)
    print(json.dumps({"shape": shape, "tasks": count, "seconds": seconds, "rate": count / seconds}))


if __name__ == "__main__":
    main()
