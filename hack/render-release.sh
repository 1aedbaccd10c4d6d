#!/usr/bin/env bash
# Renders a release's install files from manifests/ into OUT_DIR — what the release workflow
# (.github/workflows/release.yml) attaches to a GitHub release, and what
# test/integration/manifests.test.ts applies (server-side dry run) with each example values file:
#   release.yaml                     manifests/base, the operator image pinned by digest
#   values-<signer>.yaml             the example values files, manifests/values/<signer>.yaml
#   pod-monitoring.yaml, service-monitor.yaml   the optional monitoring components' objects
#   serving.yaml                     the optional serving gate for KServe (manifests/serving), the same
#                                    image pinned by digest
# Usage: hack/render-release.sh IMAGE@sha256:<64 hex> OUT_DIR
#   $KUBECTL renders (kubectl kustomize); default: kubectl on PATH. CI and the tests use v1.34.4.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 2 ] || { echo "usage: hack/render-release.sh IMAGE@sha256:<64 hex> OUT_DIR" >&2; exit 2; }
image=$1 out=$2
# A digest, never a tag: clusters run exactly the image the release signed and attested.
component='[a-z0-9]([a-z0-9._-]*[a-z0-9])?'
[[ $image =~ ^($component(:[0-9]+)?(/$component)+)@(sha256:[0-9a-f]{64})$ ]] \
  || { echo "render-release: IMAGE must be NAME@sha256:<64 hex digits>, got '$image'" >&2; exit 2; }
name=${BASH_REMATCH[1]} digest=${BASH_REMATCH[6]}
kubectl=${KUBECTL:-kubectl}
version=$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$repo/package.json")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# pinned DIR: manifests/DIR rendered with the image pinned by digest. kustomize refuses an absolute
# path to a base, so DIR is copied beside the kustomization.
pinned() {
  mkdir "$tmp/$1"
  cp -R "$repo/manifests/$1" "$tmp/$1/$1"
  cat >"$tmp/$1/kustomization.yaml" <<KUSTOMIZATION
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $1
images:
  - name: ghcr.io/slsa-ml/slsa-ml
    newName: $name
    digest: $digest
KUSTOMIZATION
  "$kubectl" kustomize "$tmp/$1"
}

# only_pinned FILE: exactly one image, the pinned one; anything else means the images rule missed a container.
only_pinned() {
  local images
  images=$(sed -n -E 's/^[[:space:]]*(- )?image: *//p' "$tmp/$1" | sort -u)
  [ "$images" = "$name@$digest" ] \
    || { echo "render-release: $1 names images other than $name@$digest: $images" >&2; exit 1; }
}

{
  echo "# slsa-ml $version: the operator, its RBAC and admission policies; image $name@$digest"
  echo "# Install with a values file for this cluster (a release's values-*.yaml; docs/gke.md):"
  echo "#   kubectl apply -f release.yaml -f values.yaml"
  # shellcheck disable=SC2016 # printed for the reader to run, not expanded here
  echo '#   kubectl -n slsa-ml-system create secret generic slsa-ml-seal --from-literal=key="$(openssl rand -base64 48)"'
  echo "# Rendered from manifests/base by hack/render-release.sh: keep per-cluster settings in values.yaml."
  pinned base
} >"$tmp/release.yaml"
only_pinned release.yaml
{
  echo "# slsa-ml $version: the serving gate for KServe (optional, needs KServe v0.15); image $name@$digest"
  echo "# A ClusterStorageContainer: \`slsa-ml pull\` is the storage initializer of every InferenceService"
  echo "# whose storageUri starts with gs://, and the model server starts only on a model that verified."
  echo "# Set the policy first, the container's SLSA_ML_PULL_* values (as released it refuses every model),"
  echo "# as literal values, never valueFrom: those would be read in the deployer's namespace. Then:"
  echo "#   kubectl apply -f serving.yaml"
  echo "# Rendered from manifests/serving by hack/render-release.sh; at this release's tag,"
  echo "# manifests/serving/cluster-storage-container.yaml explains each value, and docs/serving.md the rest."
  pinned serving
} >"$tmp/serving.yaml"
only_pinned serving.yaml

mkdir -p "$out"
mv "$tmp/release.yaml" "$out/release.yaml"
mv "$tmp/serving.yaml" "$out/serving.yaml"
for values in "$repo"/manifests/values/*.yaml; do cp "$values" "$out/values-$(basename "$values")"; done
for component in "$repo"/manifests/components/*/; do
  find "$component" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml -exec cp {} "$out/" \;
done
