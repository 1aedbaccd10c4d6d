#!/usr/bin/env bash
# Builds the Tekton Chains controller from its Go module, for bench/side-by-side.ts only (npm test
# never needs it), and caches it by version like hack/install-tools.sh caches the other tools:
#   bin/tekton-chains-controller-<v>   cmd/controller of github.com/tektoncd/chains
#   tekton-chains-config-<v>/          its release RBAC and ConfigMaps (config/*.yaml)
# Prints the binary's path on stdout. Usage: hack/build-chains.sh   (CHAINS_VERSION=v… to override)
#
# The version: the newest whose source the module proxy serves. v0.29.x (the line the issue's
# figures came from) and v0.27/v0.28 have .info and .mod on the proxy but their .zip answers
# "403 This module version is not available", so they cannot be built here; v0.26.3 can.
# Chains' go.mod has replace directives, which `go install` refuses and which do not apply to a
# dependency, so it is built as the tool of a throwaway module that repeats them (read from the
# downloaded go.mod, never typed here).
set -euo pipefail
CHAINS_VERSION=${CHAINS_VERSION:-v0.26.3}
cache=${SLSA_ML_CACHE:-$HOME/.cache/slsa-ml}
out="$cache/bin/tekton-chains-controller-$CHAINS_VERSION"
config="$cache/tekton-chains-config-$CHAINS_VERSION"
mkdir -p "$cache/bin" "$cache/locks"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

if [ -x "$out" ] && [ -d "$config" ]; then echo "$out"; exit 0; fi
command -v go >/dev/null || { echo "build-chains: Go >= 1.24 is required" >&2; exit 1; }
exec {lock}>"$cache/locks/tekton-chains-$CHAINS_VERSION"
flock "$lock"
if [ -x "$out" ] && [ -d "$config" ]; then echo "$out"; exit 0; fi

start=$SECONDS
echo "build-chains: building Tekton Chains $CHAINS_VERSION (first time on this machine; cached afterwards)" >&2
info=$(go mod download -json "github.com/tektoncd/chains@$CHAINS_VERSION")
dir=$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$info")
gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")
if [ -z "$dir" ] || [ ! -d "$dir/cmd/controller" ]; then
  echo "build-chains: the module proxy gave no source for github.com/tektoncd/chains@$CHAINS_VERSION:" >&2
  sed -n 's/.*"Error": "\(.*\)".*/  \1/p' <<<"$info" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go_version=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
{
  echo "module slsa-ml.dev/bench/tekton-chains"
  echo
  echo "go $go_version"
  echo
  echo "require github.com/tektoncd/chains $CHAINS_VERSION"
  echo
  echo "tool github.com/tektoncd/chains/cmd/controller"
  echo
  # Chains' own replace block (and single-line replaces), verbatim.
  sed -n '/^replace (/,/^)/p; /^replace [^(]/p' "$gomod"
} >"$work/go.mod"
(cd "$work" && go mod tidy >&2 && go build -trimpath -ldflags "-s -w" -o "$out.tmp.$$" github.com/tektoncd/chains/cmd/controller)
rm -rf "$config.tmp"
mkdir -p "$config.tmp"
cp "$dir"/config/*.yaml "$config.tmp/"
chmod -R u+w "$config.tmp"
rm -rf "$config"
mv "$config.tmp" "$config"
mv "$out.tmp.$$" "$out"
echo "build-chains: Tekton Chains $CHAINS_VERSION ready in $((SECONDS - start))s" >&2
echo "$out"
