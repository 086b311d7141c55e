#!/usr/bin/env python3
"""Check a generated fleet against schemas/facts.v1.schema.json.

Each line is parsed strictly (stdlib json; duplicate keys and NaN/Infinity are
rejected) and validated with ``jsonschema.Draft202012Validator``. With
``--manifest`` (written by ``generate_fleet.py --manifest``) the check is exact:
every line not listed as broken must be valid and every broken line must be
rejected; the exit code is 1 otherwise.

    python benchmarks/check_fleet.py fleet.jsonl --limit 2000 --manifest fleet.manifest.json
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "facts.v1.schema.json"


class Reject(ValueError):
    pass


def _no_dups(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise Reject(f"duplicate key {k!r}")
        seen[k] = v
    return seen


def _no_constants(name):
    raise Reject(f"non-JSON constant {name}")


def check_line(validator: Draft202012Validator, line: bytes) -> str | None:
    """None when the line is one valid host object, else the reason."""
    try:
        doc = json.loads(line, object_pairs_hook=_no_dups, parse_constant=_no_constants)
    except Reject as exc:
        return str(exc)
    except ValueError as exc:
        return f"invalid JSON: {exc.__class__.__name__}"
    if not isinstance(doc, dict):
        return "not an object"
    err = next(iter(validator.iter_errors(doc)), None)
    if err is not None:
        # oneOf reports the best branch poorly; validate the host branch for a readable reason
        host = validator.evolve(schema={"$ref": "#/$defs/HostFacts", "$defs": validator.schema["$defs"]})
        sub = best_match(host.iter_errors(doc)) or err
        where = "/".join(str(p) for p in sub.absolute_path) or "(root)"
        return f"schema: {where}: {sub.message[:80]}"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="validate a JSONL fleet against the facts schema")
    ap.add_argument("fleet")
    ap.add_argument("--limit", type=int, default=0, help="check only the first N lines (0 = all)")
    ap.add_argument("--manifest", help="generator manifest: lines listed as broken must fail, others pass")
    ap.add_argument("--schema", default=str(SCHEMA))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every rejected line")
    args = ap.parse_args(argv)

    schema = json.loads(Path(args.schema).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    flaws: dict[int, str] = {}
    if args.manifest:
        flaws = {int(k): v for k, v in json.loads(Path(args.manifest).read_text()).items()}

    checked = valid = 0
    reasons: Counter[str] = Counter()
    mismatches: list[str] = []
    with open(args.fleet, "rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if args.limit and lineno > args.limit:
                break
            checked += 1
            why = check_line(validator, line)
            broken = flaws.get(lineno, "").startswith("broken")
            if why is None:
                valid += 1
                if broken:
                    mismatches.append(f"line {lineno}: {flaws[lineno]} but accepted")
            else:
                reasons[why.split(":")[0]] += 1
                if args.verbose:
                    print(f"line {lineno}: {why}")
                if args.manifest and not broken:
                    mismatches.append(f"line {lineno}: expected valid, got {why}")

    print(f"{args.fleet}: {checked} lines checked, {valid} valid, {checked - valid} rejected")
    for why, n in reasons.most_common():
        print(f"  {n:6d}  {why}")
    if args.manifest:
        n_broken = sum(1 for k, v in flaws.items() if v.startswith("broken") and k <= checked)
        n_incomplete = sum(1 for k, v in flaws.items() if v == "incomplete" and k <= checked)
        print(f"manifest: {n_broken} broken, {n_incomplete} incomplete in the checked range")
        for m in mismatches[:20]:
            print("  MISMATCH", m)
        if mismatches:
            print(f"FAIL: {len(mismatches)} mismatches")
            return 1
        print("OK: every non-broken line is valid and every broken line is rejected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
