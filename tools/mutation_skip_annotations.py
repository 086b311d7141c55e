"""Helpers of tools/mutation.sh (not part of sitegate).

``mutation_skip_annotations.py DB MODULE`` marks as skipped the pending mutants
that lie inside a type annotation of a module with ``from __future__ import
annotations`` (annotations are then strings never evaluated: such a mutant is
the same program).

``mutation_skip_annotations.py --report DB MODULE NAME`` prints the score
(killed / (killed + survived); skipped mutants are not counted) and every
surviving mutant with its line, operator and diff.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions, (line, column), of every annotation in the source."""
    tree = ast.parse(source)
    if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names) for n in tree.body):
        return []
    spans = []
    for node in ast.walk(tree):
        anns: list[ast.expr | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            anns.append(node.returns)
        elif isinstance(node, ast.arg):
            anns.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            anns.append(node.annotation)
        for a in anns:
            if a is not None:
                spans.append(((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0)))
    return spans


def _inside(pos: tuple[int, int], end: tuple[int, int], spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    return any(s <= pos and end <= e for s, e in spans)


def skip_annotations(db: str, module: str) -> int:
    spans = annotation_spans(Path(module).read_text("utf-8"))
    n = 0
    with use_db(db, WorkDB.Mode.open) as work_db:
        for item in list(work_db.pending_work_items):
            m = item.mutations[0]
            if _inside(tuple(m.start_pos), tuple(m.end_pos), spans):
                work_db.set_result(item.job_id, WorkResult(output="annotation", worker_outcome=WorkerOutcome.SKIPPED))
                n += 1
    return n


def report(db: str, module: str, name: str) -> None:
    killed, survived, skipped, incomplete = 0, [], 0, 0
    with use_db(db, WorkDB.Mode.open) as work_db:
        for item, result in work_db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                skipped += 1
            elif result.worker_outcome != WorkerOutcome.NORMAL:
                killed += 1  # the mutant broke the import or the test run: killed
            elif result.test_outcome == TestOutcome.SURVIVED:
                survived.append((item, result))
            else:
                killed += 1
        incomplete = sum(1 for _ in work_db.pending_work_items)
    total = killed + len(survived)
    score = 100.0 * killed / total if total else 100.0
    print(f"{name}: {killed}/{total} killed, score {score:.1f}% ({skipped} skipped, {incomplete} not run)")
    for item, result in sorted(survived, key=lambda p: tuple(p[0].mutations[0].start_pos)):
        m = item.mutations[0]
        print(f"SURVIVED {name}:{m.start_pos[0]}:{m.start_pos[1]} {m.operator_name} #{m.occurrence}")
        for line in (result.diff or "").splitlines():
            if line.startswith(("+", "-")) and not line.startswith(("+++", "---")):
                print(f"    {line}")


if __name__ == "__main__":
    if sys.argv[1] == "--report":
        report(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(f"skipped {skip_annotations(sys.argv[1], sys.argv[2])} annotation mutants", file=sys.stderr)
