#!/usr/bin/env bash
# Mutation testing of one module against its targeted tests (docs/mutation.md).
#
#   tools/mutation.sh MODULE [TEST_PATH...]
#   tools/mutation.sh engine/operators.py
#   tools/mutation.sh engine/compiler.py tests/test_logic.py
#
# Not part of the test suite or .ci/run: it runs the targeted tests once per mutant.
# It works on a scratch copy of the checkout (tracked and untracked, not ignored,
# files), so the checkout is never modified and work can go on while it runs. The
# copy is imported through a PYTHONPATH shim (sitegate/<part> -> copy/<part>),
# which comes before the editable install of the checkout.
#
# Needs cosmic-ray: pip install -e '.[dev]'. Environment:
#   PYTHON       interpreter with sitegate's dependencies (default .venv/bin/python)
#   MUT_TIMEOUT  seconds per mutant before it counts as killed by timeout (default 120)
#   MUT_KEEP     directory to keep the session and report in (default: a temp dir)
# Prints the score and every surviving mutant (line, operator, diff); exit 0.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
module=${1:?usage: tools/mutation.sh MODULE [TEST_PATH...]}
shift
py=${PYTHON:-$root/.venv/bin/python}
bin=$(dirname "$py")
[ -x "$bin/cosmic-ray" ] || { echo "cosmic-ray not found next to $py: pip install -e '.[dev]'" >&2; exit 2; }
[ -f "$root/$module" ] || { echo "no module $module" >&2; exit 2; }

# The tests that target each module: small and fast, run once per mutant.
if [ $# -gt 0 ]; then
    tests=("$@")
else
    case "$module" in
        engine/operators.py|engine/compiler.py)
            tests=(tests/test_operators.py tests/test_logic.py tests/test_compiler_explain.py tests/test_compiler_fast_paths.py) ;;
        engine/waivers.py) tests=(tests/test_waivers.py) ;;
        engine/render/junit.py) tests=(tests/test_junit.py tests/test_junit_semantics.py) ;;
        facts/normalize.py) tests=(tests/test_derive.py tests/test_derive_round2.py tests/importers/test_normalize_inputs.py) ;;
        *) echo "no default tests for $module: name them after the module" >&2; exit 2 ;;
    esac
fi

work=${MUT_KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/sitegate-mutation.XXXXXX")}
mkdir -p "$work"
rm -rf "$work/src" "$work/site"
mkdir -p "$work/src" "$work/site/sitegate"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work/src")
for part in base engine facts cli policies schemas; do
    ln -s "$work/src/$part" "$work/site/sitegate/$part"
done
# The shim must win over the editable install, or the mutants would never be imported.
got=$(cd "$work/src" && PYTHONPATH="$work/site" "$py" -c "import sitegate.engine, os; print(os.path.realpath(sitegate.engine.__path__[0]))")
[ "$got" = "$(realpath "$work/src/engine")" ] || { echo "the copy is not imported ($got)" >&2; exit 2; }

cat >"$work/run-tests.sh" <<EOF
#!/usr/bin/env bash
cd "$work/src" && rm -rf .hypothesis
export PYTHONPATH="$work/site" PYTHONDONTWRITEBYTECODE=1
exec "$py" -m pytest -x -q -p no:cacheprovider --hypothesis-seed=0 ${tests[*]} >/dev/null 2>&1
EOF
chmod +x "$work/run-tests.sh"

"$work/run-tests.sh" || { echo "the targeted tests fail without any mutant: ${tests[*]}" >&2; exit 2; }

# A pruned operator set: comparison boundary and negation pairs, one replacement per
# arithmetic operator, and/or, not, constants, True/False, exceptions, loops. The
# other comparison and arithmetic swaps mostly repeat these; variable insertion and
# decorator removal produce noise (an lru_cache removed is the same function).
keep_cmp='Eq_NotEq|NotEq_Eq|Lt_LtE|Lt_GtE|LtE_Lt|LtE_Gt|Gt_GtE|Gt_LtE|GtE_Gt|GtE_Lt|Is_IsNot|IsNot_Is|In_NotIn|NotIn_In'
keep_bin='Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Mul|Mod_FloorDiv|Pow_Mul|LShift_RShift|RShift_LShift|BitOr_BitAnd|BitAnd_BitOr|BitXor_BitOr'
cat >"$work/cr.toml" <<EOF
[cosmic-ray]
module-path = "$work/src/$module"
timeout = ${MUT_TIMEOUT:-120}
excluded-modules = []
test-command = "$work/run-tests.sh"

[cosmic-ray.distributor]
name = "local"

[cosmic-ray.filters.operators-filter]
exclude-operators = [
    "core/ReplaceComparisonOperator_(?!($keep_cmp)\$)",
    "core/ReplaceBinaryOperator_(?!($keep_bin)\$)",
    "core/ReplaceUnaryOperator_(?!(Delete_Not|USub_UAdd)\$)",
    "core/VariableInserter",
    "core/VariableReplacer",
    "core/RemoveDecorator",
]
EOF

db="$work/session.sqlite"
rm -f "$db"
"$bin/cosmic-ray" init "$work/cr.toml" "$db" >/dev/null
"$bin/cr-filter-operators" "$db" "$work/cr.toml" 2>/dev/null
# Annotations are never evaluated under `from __future__ import annotations`:
# a mutant inside one is the same program, so it is skipped, not counted.
"$py" "$root/tools/mutation_skip_annotations.py" "$db" "$work/src/$module"
echo "mutation: $module against ${tests[*]} ($work)" >&2
"$bin/cosmic-ray" exec "$work/cr.toml" "$db"
"$py" "$root/tools/mutation_skip_annotations.py" --report "$db" "$work/src/$module" "$module"
