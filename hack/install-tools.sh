#!/usr/bin/env bash
# Provisions every external component the tests run, from package registries only, and caches
# each by version under $SLSA_ML_CACHE (default ~/.cache/slsa-ml), outside the repository:
#   bin/kube-apiserver-<v>, bin/kube-scheduler-<v>, bin/kubectl-<v>, bin/etcd-<v>
#                                             built from their Go modules (hack/tools/*)
#   bin/tekton-controller-<v>, bin/tekton-resolvers-<v>
#                                             the Tekton Pipelines controller and remote resolvers,
#                                             built from github.com/tektoncd/pipeline (hack/tools/tekton)
#   bin/kwok-<v>                              go install (fake GKE nodes; Pods through their lifecycle)
#   bin/fake-gcs-server-<v>, bin/cosign-<v>   go install
#   bin/actionlint-<v>                        go install (lints .github/workflows in the tests)
#   tekton-pipeline-<v>/                      the official CRDs from the Tekton Go module
#   tekton-config-<v>/                        its RBAC and ConfigMaps (config/, config/resolvers/)
#   venv-verifiers-<hash>/                    securesystemslib + model-signing (Python)
#   venv-training-<hash>/                     torch + TensorFlow for tasks/ pytest
# Safe to run concurrently: each item is built under a lock and moved into place atomically.
# Usage: hack/install-tools.sh [kube-apiserver|kube-scheduler|kubectl|etcd|fake-gcs-server|cosign|actionlint|tekton|
#                               tekton-config|tekton-controller|tekton-resolvers|kwok|verifiers|training ...]
#        hack/install-tools.sh training-dir   (prints the training venv's path)
set -euo pipefail
hack=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$hack/versions.env"
cache=${SLSA_ML_CACHE:-$HOME/.cache/slsa-ml}
mkdir -p "$cache/bin" "$cache/locks"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

need_go() {
  command -v go >/dev/null || { echo "install-tools: Go >= 1.24 is required (see README, Prerequisites)" >&2; exit 1; }
}

# with_lock NAME TARGET COMMAND...: runs COMMAND unless TARGET exists, holding a per-item lock.
with_lock() {
  local name=$1 target=$2; shift 2
  [ -e "$target" ] && return 0
  exec {fd}>"$cache/locks/$name"
  flock "$fd"
  if [ ! -e "$target" ]; then
    local start=$SECONDS
    echo "install-tools: building $name (first time on this machine; cached afterwards)" >&2
    "$@"
    echo "install-tools: $name ready in $((SECONDS - start))s" >&2
  fi
  exec {fd}>&-
}

build_kube_apiserver() {
  need_go
  local out="$cache/bin/kube-apiserver-$KUBE_VERSION" minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  (cd "$hack/tools/kube-apiserver" && go build -trimpath -o "$out.tmp.$$" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$out.tmp.$$" "$out"
}

build_kube_scheduler() {
  need_go
  local out="$cache/bin/kube-scheduler-$KUBE_VERSION" minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  (cd "$hack/tools/kube-apiserver" && go build -trimpath -o "$out.tmp.$$" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    k8s.io/kubernetes/cmd/kube-scheduler)
  mv "$out.tmp.$$" "$out"
}

build_kubectl() {
  need_go
  local out="$cache/bin/kubectl-$KUBE_VERSION" minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  (cd "$hack/tools/kube-apiserver" && go build -trimpath -o "$out.tmp.$$" \
    -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION" \
    k8s.io/kubernetes/cmd/kubectl)
  mv "$out.tmp.$$" "$out"
}

build_etcd() {
  need_go
  local out="$cache/bin/etcd-$ETCD_VERSION"
  (cd "$hack/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$out.tmp.$$" go.etcd.io/etcd/server/v3)
  mv "$out.tmp.$$" "$out"
}

go_install() { # go_install NAME PACKAGE VERSION
  need_go
  local tmp
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "$2@$3"
  mv "$tmp/$(basename "$2")" "$cache/bin/$1-$3"
  rm -rf "$tmp"
}

fetch_tekton() {
  need_go
  local dir
  dir=$(go mod download -json "github.com/tektoncd/pipeline@$TEKTON_PIPELINE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$dir/config/300-crds" ] || { echo "install-tools: no config/300-crds in $dir" >&2; exit 1; }
  rm -rf "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION.tmp"
  mkdir -p "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION.tmp"
  cp "$dir"/config/300-crds/*.yaml "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION.tmp/"
  mv "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION.tmp" "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION"
}

tekton_module_dir() {
  go mod download -json "github.com/tektoncd/pipeline@$TEKTON_PIPELINE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
}

# The RBAC and ConfigMaps a Tekton release installs beside its Deployments: the controller and the
# resolvers run as processes here, but with exactly these rights and this configuration.
fetch_tekton_config() {
  need_go
  local dir tmp="$cache/tekton-config-$TEKTON_PIPELINE_VERSION.tmp"
  dir=$(tekton_module_dir)
  [ -d "$dir/config/resolvers" ] || { echo "install-tools: no config/resolvers in $dir" >&2; exit 1; }
  rm -rf "$tmp"
  mkdir -p "$tmp/pipelines" "$tmp/resolvers"
  cp "$dir"/config/100-namespace/*.yaml "$dir"/config/*.yaml "$tmp/pipelines/"
  cp "$dir"/config/resolvers/*.yaml "$tmp/resolvers/"
  chmod -R u+w "$tmp"
  mv "$tmp" "$cache/tekton-config-$TEKTON_PIPELINE_VERSION"
}

# build_tekton NAME: cmd/NAME of the Tekton module, at the version the CRDs come from. The Pod
# annotation pipeline.tekton.dev/release carries the short commit, as in Tekton's own release
# images (ko builds them from the tagged checkout; a module build has no VCS stamp to read).
build_tekton() {
  need_go
  local out="$cache/bin/tekton-$1-$TEKTON_PIPELINE_VERSION" commit mod="$hack/tools/tekton"
  grep -q "github.com/tektoncd/pipeline $TEKTON_PIPELINE_VERSION" "$mod/go.mod" || {
    echo "install-tools: $mod/go.mod does not require github.com/tektoncd/pipeline $TEKTON_PIPELINE_VERSION (versions.env); update it with go get there" >&2
    exit 1
  }
  commit=$(cd "$mod" && go mod download -json "github.com/tektoncd/pipeline@$TEKTON_PIPELINE_VERSION" | sed -n 's/.*"Hash": "\([0-9a-f]*\)".*/\1/p' | head -1)
  [ -n "$commit" ] || { echo "install-tools: the module proxy gave no origin commit for github.com/tektoncd/pipeline@$TEKTON_PIPELINE_VERSION" >&2; exit 1; }
  (cd "$mod" && go build -trimpath -o "$out.tmp.$$" -ldflags "-s -w -X knative.dev/pkg/changeset.rev=${commit:0:7}" \
    "github.com/tektoncd/pipeline/cmd/$1")
  mv "$out.tmp.$$" "$out"
}

verifiers_dir() {
  echo "$cache/venv-verifiers-$(sha256sum "$hack/requirements-verifiers.txt" | cut -c1-12)"
}

build_verifiers() {
  local dir py=${PYTHON:-python3}
  dir=$(verifiers_dir)
  "$py" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
    || { echo "install-tools: Python >= 3.11 is required for the verifier venv" >&2; exit 1; }
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps \
    -r "$hack/requirements-verifiers.txt" || { rm -rf "$dir"; exit 1; }
  touch "$dir/.complete"
}

training_dir() {
  echo "$cache/venv-training-$(cat "$hack/../tasks/requirements.txt" "$hack/../tasks/requirements-test.txt" | sha256sum | cut -c1-12)"
}

# The training code's own dependencies (torch, TensorFlow; several GB) for its pytest suite.
build_training() {
  local dir py=${PYTHON:-python3}
  dir=$(training_dir)
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --require-hashes \
    -r "$hack/../tasks/requirements.txt" -r "$hack/../tasks/requirements-test.txt" || { rm -rf "$dir"; exit 1; }
  touch "$dir/.complete"
}

items=("$@")
[ ${#items[@]} -gt 0 ] || items=(etcd kube-apiserver kube-scheduler kubectl fake-gcs-server cosign actionlint tekton tekton-config \
  tekton-controller tekton-resolvers kwok verifiers training)
for item in "${items[@]}"; do
  case "$item" in
    kube-apiserver) with_lock kube-apiserver "$cache/bin/kube-apiserver-$KUBE_VERSION" build_kube_apiserver ;;
    kube-scheduler) with_lock kube-scheduler "$cache/bin/kube-scheduler-$KUBE_VERSION" build_kube_scheduler ;;
    kubectl) with_lock kubectl "$cache/bin/kubectl-$KUBE_VERSION" build_kubectl ;;
    etcd) with_lock etcd "$cache/bin/etcd-$ETCD_VERSION" build_etcd ;;
    fake-gcs-server) with_lock fake-gcs-server "$cache/bin/fake-gcs-server-$FAKE_GCS_SERVER_VERSION" \
      go_install fake-gcs-server github.com/fsouza/fake-gcs-server "$FAKE_GCS_SERVER_VERSION" ;;
    cosign) with_lock cosign "$cache/bin/cosign-$COSIGN_VERSION" \
      go_install cosign github.com/sigstore/cosign/v2/cmd/cosign "$COSIGN_VERSION" ;;
    actionlint) with_lock actionlint "$cache/bin/actionlint-$ACTIONLINT_VERSION" \
      go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" ;;
    tekton) with_lock tekton "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION" fetch_tekton ;;
    tekton-config) with_lock tekton-config "$cache/tekton-config-$TEKTON_PIPELINE_VERSION" fetch_tekton_config ;;
    tekton-controller) with_lock tekton-controller "$cache/bin/tekton-controller-$TEKTON_PIPELINE_VERSION" build_tekton controller ;;
    tekton-resolvers) with_lock tekton-resolvers "$cache/bin/tekton-resolvers-$TEKTON_PIPELINE_VERSION" build_tekton resolvers ;;
    kwok) with_lock kwok "$cache/bin/kwok-$KWOK_VERSION" go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" ;;
    verifiers) with_lock verifiers "$(verifiers_dir)/.complete" build_verifiers ;;
    training) with_lock training "$(training_dir)/.complete" build_training ;;
    training-dir) training_dir ;;
    *) echo "install-tools: unknown item '$item'" >&2; exit 2 ;;
  esac
done
