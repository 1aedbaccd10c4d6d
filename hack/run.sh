#!/usr/bin/env bash
# What every npm script runs first, so `npm run demo` and `npm test` work from a fresh clone with
# any Node >= 18 on PATH: Node 24 (hack/install-node.sh, from the npm registry where the machine's
# node is older), the npm packages (`npm ci` when node_modules differs from package-lock.json),
# the components of each PROFILE (hack/provision.sh), then COMMAND with Node 24 first on PATH.
#   bash hack/run.sh [PROFILE ...] [-- COMMAND [ARG ...]]
set -euo pipefail
hack=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$hack")
cd "$repo"
prog=slsa-ml
# shellcheck disable=SC2034 # lib/progress.sh keeps its locks there
cache=${SLSA_ML_CACHE:-$HOME/.cache/slsa-ml}
# shellcheck source=lib/progress.sh
. "$hack/lib/progress.sh"

profiles=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  profiles+=("$1")
  shift
done
[ $# -eq 0 ] || shift

node_bin=$(bash "$hack/install-node.sh")
PATH="$node_bin:$PATH"
export PATH

# One `npm ci` at a time per clone; another waits for it and then finds node_modules current.
if ! reason=$(node "$hack/npm-packages.ts" "$repo"); then
  lock_item "npm-ci-$(printf %s "$repo" | sha256sum | cut -c1-12)" "the npm packages in $repo"
  if ! reason=$(node "$hack/npm-packages.ts" "$repo"); then
    start=$SECONDS
    echo "$prog: installing the npm packages ($reason): npm ci" >&2
    with_progress "npm ci still running" npm ci --no-audit --no-fund >&2
    echo "$prog: npm packages ready in $((SECONDS - start))s" >&2
  fi
  unlock_item
fi

[ ${#profiles[@]} -eq 0 ] || bash "$hack/provision.sh" "${profiles[@]}"
[ $# -eq 0 ] || exec "$@"
