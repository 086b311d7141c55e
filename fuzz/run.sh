#!/bin/sh
# Fuzz the facts and policy loaders with atheris for a bounded time.
#   fuzz/run.sh [SECONDS] [extra libFuzzer flags...]     (default 60 s)
# Needs: pip install atheris (in the project venv). Crashing inputs are written to
# fuzz/artifacts/; the corpus grows in fuzz/work/ (both ignored by git).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
python=${PYTHON:-$here/../.venv/bin/python}
mkdir -p "$here/work" "$here/artifacts"
# Seed with the bad-input corpus: the fuzzer starts from the cases we know.
cp -f "$here"/../tests/corpus/facts/* "$here"/../tests/corpus/policies/* "$here/work/" 2>/dev/null || true
exec "$python" "$here/fuzz_loaders.py" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -max_len=65536 -artifact_prefix="$here/artifacts/" "$@" "$here/work"
