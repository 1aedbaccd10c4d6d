#!/usr/bin/env bash
# Provisions every external component the tests run, from package registries only, and caches
# each by version under $SLSA_ML_CACHE (default ~/.cache/slsa-ml), outside the repository:
#   bin/kube-apiserver-<v>, bin/kube-controller-manager-<v>, bin/kube-scheduler-<v>, bin/kubectl-<v>,
#   bin/etcd-<v>                              built from their Go modules (hack/tools/*)
#   bin/tekton-controller-<v>, bin/tekton-resolvers-<v>
#                                             the Tekton Pipelines controller and remote resolvers,
#                                             built from github.com/tektoncd/pipeline (hack/tools/tekton)
#   bin/kwok-<v>                              go install (fake GKE nodes; Pods through their lifecycle)
#   bin/fake-gcs-server-<v>, bin/cosign-<v>   go install
#   bin/actionlint-<v>                        go install (lints .github/workflows in the tests)
#   tekton-pipeline-<v>/                      the official CRDs from the Tekton Go module
#   tekton-config-<v>/                        its RBAC and ConfigMaps (config/, config/resolvers/)
#   kserve-crds-<v>/                          KServe's CRDs (config/crd/full) from the KServe Go module
#   kserve-config-<v>/                        its ConfigMap, RBAC, webhook configurations and TorchServe runtime
#   bin/kserve-controller-<v>                 KServe's controller manager (cmd/manager, hack/tools/kserve)
#   bin/rekor-server-<v>                      rekor-tiles (Rekor v2), POSIX storage (hack/tools/rekor)
#   bin/sigstore-go-verify-<v>                a sigstore-go verifier for the tests (hack/tools/sigstore-go-verify)
#   venv-verifiers-<hash>/                    securesystemslib + model-signing (Python)
#   venv-training-cpu-<hash>/                 `training`: torch + TensorFlow for CPU (tasks/requirements-cpu.txt),
#                                             what the demo and tasks/ pytest run
#   venv-training-<hash>/                     `training-cuda`: the GPU image's set (tasks/requirements.txt), on request only
# Safe to run concurrently: each item is built under a lock and moved into place atomically.
# hack/provision.sh builds what a command needs (profiles), Go and Python side by side.
# Usage: hack/install-tools.sh [ITEM ...]          (no ITEM: everything but training-cuda)
#        hack/install-tools.sh --missing ITEM ...   (prints the ITEMs not built yet, after checking
#                                                    that Go and Python can build them)
#        hack/install-tools.sh training-dir | training-cuda-dir   (prints that venv's path)
# ITEM: kube-apiserver kube-controller-manager kube-scheduler kubectl etcd fake-gcs-server cosign actionlint
#       tekton tekton-config tekton-controller tekton-resolvers kserve kserve-config kserve-controller kwok
#       rekor sigstore-go-verify verifiers training training-cuda
set -euo pipefail
hack=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$hack/versions.env"
prog=install-tools
cache=${SLSA_ML_CACHE:-$HOME/.cache/slsa-ml}
# shellcheck source=lib/progress.sh
. "$hack/lib/progress.sh"
mkdir -p "$cache/bin"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
GO_MIN=1.24
PYTHON_MIN=3.11

# need_go WHAT: Go >= 1.24 (tool directives); GOTOOLCHAIN=auto fetches newer ones a module asks for.
need_go() {
  command -v go >/dev/null || fail "Go >= $GO_MIN is needed to build $1, and there is no go on PATH (see README, Prerequisites)"
  local v
  v=$(go env GOVERSION 2>/dev/null) || fail "Go >= $GO_MIN is needed to build $1, and \`go env GOVERSION\` failed"
  v=${v#go}
  version_at_least "$v" "$GO_MIN" || fail "Go >= $GO_MIN is needed to build $1; this go is $v (see README, Prerequisites)"
}

# need_python WHAT: Python >= 3.11 with venv ($PYTHON, default python3).
need_python() {
  local py=${PYTHON:-python3} v
  command -v "$py" >/dev/null || fail "Python >= $PYTHON_MIN ($py, or set PYTHON) is needed for $1, and there is no $py on PATH"
  v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || fail "Python >= $PYTHON_MIN is needed for $1, and $py does not run"
  version_at_least "$v" "$PYTHON_MIN" || fail "Python >= $PYTHON_MIN is needed for $1; $py is $v (set PYTHON to another one)"
  "$py" -c 'import venv, ensurepip' 2>/dev/null || fail "$py has no venv module, needed for $1 (Debian: apt-get install python3-venv)"
}

# version_at_least HAVE MIN: compares dotted versions (1.26.8 >= 1.24), ignoring suffixes such as rc1.
version_at_least() {
  local IFS=. i have want
  read -r -a have <<<"${1%%[!0-9.]*}"
  read -r -a want <<<"$2"
  for i in 0 1 2; do
    [ "${have[$i]:-0}" -gt "${want[$i]:-0}" ] && return 0
    [ "${have[$i]:-0}" -lt "${want[$i]:-0}" ] && return 1
  done
  return 0
}

# with_lock NAME TARGET COMMAND...: runs COMMAND unless TARGET exists, holding a per-item lock.
with_lock() {
  local name=$1 target=$2
  shift 2
  [ -e "$target" ] && return 0
  lock_item "$name"
  if [ ! -e "$target" ]; then
    local start=$SECONDS
    echo "$prog: building $name (first time on this machine; cached afterwards)" >&2
    with_progress "still building $name" "$@"
    echo "$prog: $name ready in $((SECONDS - start))s" >&2
  fi
  unlock_item
}

build_kube_apiserver() {
  local out="$cache/bin/kube-apiserver-$KUBE_VERSION" minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  (cd "$hack/tools/kube-apiserver" && go build -trimpath -o "$out.tmp.$$" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$out.tmp.$$" "$out"
}

# build_kube NAME: cmd/NAME of k8s.io/kubernetes (kube-scheduler, kube-controller-manager).
build_kube() {
  local out="$cache/bin/$1-$KUBE_VERSION" minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  (cd "$hack/tools/kube-apiserver" && go build -trimpath -o "$out.tmp.$$" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
    "k8s.io/kubernetes/cmd/$1")
  mv "$out.tmp.$$" "$out"
}

build_kubectl() {
  local out="$cache/bin/kubectl-$KUBE_VERSION" minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  (cd "$hack/tools/kube-apiserver" && go build -trimpath -o "$out.tmp.$$" \
    -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION" \
    k8s.io/kubernetes/cmd/kubectl)
  mv "$out.tmp.$$" "$out"
}

build_etcd() {
  local out="$cache/bin/etcd-$ETCD_VERSION"
  (cd "$hack/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$out.tmp.$$" go.etcd.io/etcd/server/v3)
  mv "$out.tmp.$$" "$out"
}

go_install() { # go_install NAME PACKAGE VERSION
  local tmp
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "$2@$3"
  mv "$tmp/$(basename "$2")" "$cache/bin/$1-$3"
  rm -rf "$tmp"
}

fetch_tekton() {
  local dir
  dir=$(go mod download -json "github.com/tektoncd/pipeline@$TEKTON_PIPELINE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$dir/config/300-crds" ] || fail "no config/300-crds in $dir"
  rm -rf "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION.tmp"
  mkdir -p "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION.tmp"
  cp "$dir"/config/300-crds/*.yaml "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION.tmp/"
  mv "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION.tmp" "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION"
}

# KServe's CRDs (InferenceService, ClusterStorageContainer, ...), for the serving gate's manifests
# (manifests/serving) to be checked against. The full ones, as KServe installs them: no conversion
# webhook, one version each.
fetch_kserve() {
  local dir
  dir=$(go mod download -json "github.com/kserve/kserve@$KSERVE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$dir/config/crd/full" ] || fail "no config/crd/full in $dir"
  rm -rf "$cache/kserve-crds-$KSERVE_VERSION.tmp"
  mkdir -p "$cache/kserve-crds-$KSERVE_VERSION.tmp"
  cp "$dir"/config/crd/full/serving.kserve.io_*.yaml "$cache/kserve-crds-$KSERVE_VERSION.tmp/"
  mv "$cache/kserve-crds-$KSERVE_VERSION.tmp" "$cache/kserve-crds-$KSERVE_VERSION"
}

kserve_module_dir() {
  go mod download -json "github.com/kserve/kserve@$KSERVE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
}

# What a KServe release installs beside its controller: the inferenceservice-config ConfigMap, the
# controller's RBAC, the webhook configurations, and the TorchServe runtime (PyTorch models).
fetch_kserve_config() {
  local dir tmp="$cache/kserve-config-$KSERVE_VERSION.tmp"
  dir=$(kserve_module_dir)
  [ -f "$dir/config/webhook/manifests.yaml" ] || fail "no config/webhook/manifests.yaml in $dir"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$dir/config/configmap/inferenceservice.yaml" "$dir/config/rbac/role.yaml" "$dir/config/rbac/leader_election_role.yaml" \
    "$dir/config/webhook/manifests.yaml" "$dir/config/runtimes/kserve-torchserve.yaml" "$dir/config/runtimes/kustomization.yaml" "$tmp/"
  chmod -R u+w "$tmp"
  mv "$tmp" "$cache/kserve-config-$KSERVE_VERSION"
}

# build_in_module DIR MODULE-PATH PACKAGE OUT: a tool module of hack/tools that must require MODULE-PATH
# at the version versions.env pins (no -ldflags version stamp: these report none we read).
build_in_module() {
  local mod="$hack/tools/$1" out=$4
  grep -q "$2 $(pinned_version "$2")" "$mod/go.mod" \
    || fail "$mod/go.mod does not require $2 $(pinned_version "$2") (versions.env); update it with go get there"
  (cd "$mod" && go build -trimpath -ldflags "-s -w" -o "$out.tmp.$$" "$3")
  mv "$out.tmp.$$" "$out"
}

pinned_version() {
  case "$1" in
    github.com/sigstore/rekor-tiles/v2) echo "$REKOR_TILES_VERSION" ;;
    github.com/sigstore/sigstore-go) echo "$SIGSTORE_GO_VERSION" ;;
    github.com/kserve/kserve) echo "$KSERVE_VERSION" ;;
  esac
}

tekton_module_dir() {
  go mod download -json "github.com/tektoncd/pipeline@$TEKTON_PIPELINE_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
}

# The RBAC and ConfigMaps a Tekton release installs beside its Deployments: the controller and the
# resolvers run as processes here, but with exactly these rights and this configuration.
fetch_tekton_config() {
  local dir tmp="$cache/tekton-config-$TEKTON_PIPELINE_VERSION.tmp"
  dir=$(tekton_module_dir)
  [ -d "$dir/config/resolvers" ] || fail "no config/resolvers in $dir"
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
  local out="$cache/bin/tekton-$1-$TEKTON_PIPELINE_VERSION" commit mod="$hack/tools/tekton"
  grep -q "github.com/tektoncd/pipeline $TEKTON_PIPELINE_VERSION" "$mod/go.mod" \
    || fail "$mod/go.mod does not require github.com/tektoncd/pipeline $TEKTON_PIPELINE_VERSION (versions.env); update it with go get there"
  commit=$(cd "$mod" && go mod download -json "github.com/tektoncd/pipeline@$TEKTON_PIPELINE_VERSION" | sed -n 's/.*"Hash": "\([0-9a-f]*\)".*/\1/p' | head -1)
  [ -n "$commit" ] || fail "the module proxy gave no origin commit for github.com/tektoncd/pipeline@$TEKTON_PIPELINE_VERSION"
  (cd "$mod" && go build -trimpath -o "$out.tmp.$$" -ldflags "-s -w -X knative.dev/pkg/changeset.rev=${commit:0:7}" \
    "github.com/tektoncd/pipeline/cmd/$1")
  mv "$out.tmp.$$" "$out"
}

# venv_install DIR PIP-ARGS...: a new virtualenv at DIR with exactly the hash-pinned files named
# (--no-deps, as the training image installs them); pip's lines go by as it works. No pip cache:
# the venv is built once per requirements hash, and a second copy of its wheels would double the disk.
venv_install() {
  local dir=$1
  shift
  rm -rf "$dir"
  "${PYTHON:-python3}" -m venv "$dir"
  "$dir/bin/pip" install --disable-pip-version-check --no-cache-dir --progress-bar off --require-hashes --no-deps "$@" 2>&1 \
    | sed -u -e '/^Collecting /d' -e 's/^/  pip: /' >&2 || { rm -rf "$dir"; fail "pip could not install $dir (see above)"; }
  touch "$dir/.complete"
}

verifiers_dir() {
  echo "$cache/venv-verifiers-$(sha256sum "$hack/requirements-verifiers.txt" | cut -c1-12)"
}

build_verifiers() {
  venv_install "$(verifiers_dir)" -r "$hack/requirements-verifiers.txt"
}

tasks=$hack/../tasks

# The training code's dependencies for the demo and its pytest suite: CPU-only TensorFlow, and
# torch with only the CUDA libraries it cannot import without (tasks/requirements-cpu.in says why).
training_dir() {
  echo "$cache/venv-training-cpu-$(cat "$tasks/requirements-cpu.txt" "$tasks/requirements-test.txt" | sha256sum | cut -c1-12)"
}

build_training() {
  venv_install "$(training_dir)" -r "$tasks/requirements-cpu.txt" -r "$tasks/requirements-test.txt"
}

# The GPU image's set (tasks/requirements.txt, ~9 GB with the CUDA stack), for a machine with a GPU.
training_cuda_dir() {
  echo "$cache/venv-training-$(cat "$tasks/requirements.txt" "$tasks/requirements-test.txt" | sha256sum | cut -c1-12)"
}

build_training_cuda() {
  venv_install "$(training_cuda_dir)" -r "$tasks/requirements.txt" -r "$tasks/requirements-test.txt"
}

# target ITEM: the path whose existence means ITEM is built.
target() {
  case "$1" in
    kube-apiserver | kube-controller-manager | kube-scheduler | kubectl) echo "$cache/bin/$1-$KUBE_VERSION" ;;
    etcd) echo "$cache/bin/etcd-$ETCD_VERSION" ;;
    fake-gcs-server) echo "$cache/bin/fake-gcs-server-$FAKE_GCS_SERVER_VERSION" ;;
    cosign) echo "$cache/bin/cosign-$COSIGN_VERSION" ;;
    actionlint) echo "$cache/bin/actionlint-$ACTIONLINT_VERSION" ;;
    tekton) echo "$cache/tekton-pipeline-$TEKTON_PIPELINE_VERSION" ;;
    tekton-config) echo "$cache/tekton-config-$TEKTON_PIPELINE_VERSION" ;;
    tekton-controller | tekton-resolvers) echo "$cache/bin/$1-$TEKTON_PIPELINE_VERSION" ;;
    kserve) echo "$cache/kserve-crds-$KSERVE_VERSION" ;;
    kserve-config) echo "$cache/kserve-config-$KSERVE_VERSION" ;;
    kserve-controller) echo "$cache/bin/kserve-controller-$KSERVE_VERSION" ;;
    rekor) echo "$cache/bin/rekor-server-$REKOR_TILES_VERSION" ;;
    sigstore-go-verify) echo "$cache/bin/sigstore-go-verify-$SIGSTORE_GO_VERSION" ;;
    kwok) echo "$cache/bin/kwok-$KWOK_VERSION" ;;
    verifiers) echo "$(verifiers_dir)/.complete" ;;
    training) echo "$(training_dir)/.complete" ;;
    training-cuda) echo "$(training_cuda_dir)/.complete" ;;
    *) echo "$prog: unknown item '$1'" >&2; exit 2 ;;
  esac
}

# need ITEM: fails with one line unless this machine has what building ITEM takes.
need() {
  case "$1" in
    verifiers) need_python "the verifier virtualenv" ;;
    training | training-cuda) need_python "the training virtualenv" ;;
    *) need_go "$1" ;;
  esac
}

build() {
  case "$1" in
    kube-apiserver) build_kube_apiserver ;;
    kube-scheduler | kube-controller-manager) build_kube "$1" ;;
    kubectl) build_kubectl ;;
    etcd) build_etcd ;;
    fake-gcs-server) go_install fake-gcs-server github.com/fsouza/fake-gcs-server "$FAKE_GCS_SERVER_VERSION" ;;
    cosign) go_install cosign github.com/sigstore/cosign/v2/cmd/cosign "$COSIGN_VERSION" ;;
    actionlint) go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" ;;
    tekton) fetch_tekton ;;
    tekton-config) fetch_tekton_config ;;
    tekton-controller) build_tekton controller ;;
    tekton-resolvers) build_tekton resolvers ;;
    kserve) fetch_kserve ;;
    kserve-config) fetch_kserve_config ;;
    # KServe's controller manager: the InferenceService controller and KServe's webhooks (the Pod
    # mutator that injects the storage initializer) in one binary.
    kserve-controller) build_in_module kserve github.com/kserve/kserve github.com/kserve/kserve/cmd/manager "$cache/bin/kserve-controller-$KSERVE_VERSION" ;;
    rekor) build_in_module rekor github.com/sigstore/rekor-tiles/v2 github.com/sigstore/rekor-tiles/v2/cmd/rekor-server/posix "$cache/bin/rekor-server-$REKOR_TILES_VERSION" ;;
    sigstore-go-verify) build_in_module sigstore-go-verify github.com/sigstore/sigstore-go . "$cache/bin/sigstore-go-verify-$SIGSTORE_GO_VERSION" ;;
    kwok) go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" ;;
    verifiers) build_verifiers ;;
    training) build_training ;;
    training-cuda) build_training_cuda ;;
  esac
}

case "${1:-}" in
  training-dir) training_dir; exit 0 ;;
  training-cuda-dir) training_cuda_dir; exit 0 ;;
  --missing)
    shift
    for item in "$@"; do
      t=$(target "$item")
      [ -e "$t" ] && continue
      need "$item"
      echo "$item"
    done
    exit 0
    ;;
esac

items=("$@")
[ ${#items[@]} -gt 0 ] || items=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl fake-gcs-server cosign actionlint tekton \
  tekton-config tekton-controller tekton-resolvers kserve kserve-config kserve-controller kwok rekor sigstore-go-verify verifiers training)
for item in "${items[@]}"; do
  t=$(target "$item")
  [ -e "$t" ] && continue
  need "$item"
  with_lock "$item" "$t" build "$item"
done
