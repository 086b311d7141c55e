#!/usr/bin/env bash
# Instructions per host of `sitegate audit ... -f json`, counted by valgrind's
# callgrind: the same number on every run, unlike wall time on a shared VM, so
# a change of 1% shows. Start-up cancels out: the count for the first 10,000
# records minus the count for the first 5,000, divided by 5,000.
#
#   benchmarks/count_instructions.sh FLEET.jsonl [PYTHON]
#
# FLEET: e.g. a fleet from benchmarks/generate_fleet.py (needs 10,000+ lines).
# Takes about a minute (callgrind runs the interpreter ~50x slower).
set -euo pipefail
fleet=${1:?usage: $0 FLEET.jsonl [PYTHON]}
python=${2:-python3}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -n 5000 "$fleet" > "$work/a.jsonl"
head -n 10000 "$fleet" > "$work/b.jsonl"
count() {  # sitegate exits 1 on this fleet (findings): not an error here
  { PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$python" -m sitegate.cli.main audit "$1" --target 8.7.3 -f json -o "$work/out.json" --no-progress \
    2>&1 >/dev/null || true; } | sed -n 's/.*Collected : *\([0-9,]*\).*/\1/p' | tr -d ,
}
a=$(count "$work/a.jsonl")
b=$(count "$work/b.jsonl")
echo "instructions per host: $(( (b - a) / 5000 ))"
