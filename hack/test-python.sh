#!/usr/bin/env bash
# The training code's pytest suite (tasks/tests), in the cached training venv. Fails, never
# skips, when the venv or a tool it needs is missing.
set -euo pipefail
hack=$(cd "$(dirname "$0")" && pwd)
venv=$(bash "$hack/install-tools.sh" training-dir)
if [ ! -e "$venv/.complete" ]; then
  echo "test-python: the training venv is not provisioned: run \`bash hack/install-tools.sh training\`" >&2
  exit 1
fi
PATH="$(bash "$hack/install-node.sh"):$PATH"
export PATH
cd "$hack/../tasks"
exec "$venv/bin/python" -m pytest -q "$@"
