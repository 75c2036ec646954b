"""Hermes Agent's side of gateboard's interop tests: each step calls Hermes's own kanban code.

Run by tests/hermes_interop.rs with PYTHONPATH pointing at a folder where pip installed the
real `hermes-agent` package, and HERMES_HOME / HOME pointing at a scratch folder. Every step
prints one JSON object on stdout; a failure is a Python traceback and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from hermes_cli import kanban_db as kb


def tasks(conn) -> list[dict]:
    """Every task as Hermes reads it, archived ones too."""
    return [
        {"id": t.id, "title": t.title, "status": t.status, "result": t.result}
        for t in kb.list_tasks(conn, include_archived=True)
    ]


def connect(db: str | None, board: str | None):
    """A Hermes connection: the file named, else the board found by Hermes's own rules."""
    if db:
        return kb.connect(db_path=Path(db))
    return kb.connect(board=board)


def make_dag(args) -> dict:
    """A board made by Hermes: a small DAG, one task blocked by a person, one child of it."""
    if args.board:
        kb.create_board(args.board)
    conn = connect(args.db, args.board)
    try:
        fetch = kb.create_task(conn, title="fetch data", priority=2)
        clean = kb.create_task(conn, title="clean data", parents=[fetch])
        train = kb.create_task(conn, title="train model", parents=[clean])
        report = kb.create_task(conn, title="write report", parents=[train, fetch])
        review = kb.create_task(conn, title="legal review")
        kb.block_task(conn, review, reason="waiting for legal")
        publish = kb.create_task(conn, title="publish", parents=[review])
        path = str(kb.kanban_db_path(board=args.board)) if not args.db else args.db
        return {
            "path": path,
            "claimable": [fetch, clean, train, report],
            "blocked": review,
            "behind_blocked": publish,
            "tasks": tasks(conn),
        }
    finally:
        conn.close()


def read(args) -> dict:
    """What Hermes sees on the board, and whether SQLite finds the file intact."""
    conn = connect(args.db, args.board)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        events = [
            {"task_id": r["task_id"], "kind": r["kind"]}
            for r in conn.execute("SELECT task_id, kind FROM task_events ORDER BY id")
        ]
        return {"integrity": integrity, "tasks": tasks(conn), "events": events}
    finally:
        conn.close()


def claim_and_complete(args) -> dict:
    """Hermes opens a board (its migrations run), claims one ready task and completes it."""
    conn = connect(args.db, args.board)
    try:
        before = tasks(conn)
        ready = [t for t in kb.list_tasks(conn, status="ready")]
        if not ready:
            raise SystemExit("no ready task for Hermes to claim")
        task = ready[0]
        claimed = kb.claim_task(conn, task.id, claimer="hermes-interop")
        if claimed is None:
            raise SystemExit(f"Hermes could not claim {task.id}")
        if not kb.complete_task(conn, task.id, result="done by hermes"):
            raise SystemExit(f"Hermes could not complete {task.id}")
        return {"before": before, "completed": task.id, "after": tasks(conn)}
    finally:
        conn.close()


def unblock(args) -> dict:
    """Hermes unblocks a task a person blocked."""
    conn = connect(args.db, args.board)
    try:
        return {"unblocked": kb.unblock_task(conn, args.task), "tasks": tasks(conn)}
    finally:
        conn.close()


def race(args) -> dict:
    """Hermes's create-then-link writer, as in the seed stress test: a child is created with no
    parents (so it is ready at once) and linked to two parents a moment later. On a board whose
    guards refuse a link onto a started child, the late link fails and is counted."""
    parents = args.parents.split(",")
    conn = connect(args.db, None)
    children, linked, refused = [], 0, []
    try:
        for _ in range(args.rounds):
            child = kb.create_task(conn, title="child", assignee="a", parents=[])
            children.append(child)
            time.sleep(random.uniform(0.0001, 0.002))
            for parent in random.sample(parents, k=2):
                try:
                    kb.link_tasks(conn, parent_id=parent, child_id=child)
                    linked += 1
                except Exception as e:  # the seed's writer swallows a refused link too
                    refused.append(str(e))
    finally:
        conn.close()
    return {
        "children": children,
        "linked": linked,
        "refused": len(refused),
        "refusals": sorted(set(refused)),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["make-dag", "read", "claim-and-complete", "unblock", "race"])
    parser.add_argument("--db", help="the board file; else Hermes finds the board itself")
    parser.add_argument("--board", help="a named Hermes board")
    parser.add_argument("--task")
    parser.add_argument("--parents", default="")
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    step = {
        "make-dag": make_dag,
        "read": read,
        "claim-and-complete": claim_and_complete,
        "unblock": unblock,
        "race": race,
    }[args.step]
    json.dump(step(args), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
