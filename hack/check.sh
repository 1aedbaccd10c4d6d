#!/usr/bin/env bash
# npm test's static checks: tsc and ESLint at the same time (each keeps one core busy for about a
# minute), each one's output shown whole after both end. Fails when either fails.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash hack/run.sh -- tsc --noEmit >"$out/tsc" 2>&1 &
tsc=$!
bash hack/run.sh -- eslint . >"$out/eslint" 2>&1 &
eslint=$!
wait "$tsc"; tsc_rc=$?
wait "$eslint"; eslint_rc=$?
echo "> tsc --noEmit (exit $tsc_rc)"; cat "$out/tsc"
echo "> eslint . (exit $eslint_rc)"; cat "$out/eslint"
[ "$tsc_rc" -eq 0 ] && [ "$eslint_rc" -eq 0 ]
