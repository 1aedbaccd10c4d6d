#!/usr/bin/env bash
# Builds, on first use, the components a command uses (hack/install-tools.sh items), Go builds and
# Python virtualenvs side by side, and says what it is doing; prints nothing when all are cached.
# Checks first that Go and Python can build what is missing, so a missing prerequisite fails at
# once with one line instead of after minutes of other builds.
#   hack/provision.sh PROFILE|ITEM ...
# PROFILE:
#   env    the local environment: etcd kube-apiserver kube-scheduler kubectl fake-gcs-server
#          tekton tekton-config tekton-controller tekton-resolvers kserve kwok
#   demo   env, cosign (its cross-check) and training (the CPU training venv)
#   test   what `npm test` runs: demo, actionlint, verifiers (the Python verifiers), and for the
#          serving tests kube-controller-manager, kserve-config and kserve-controller; for the
#          transparency tests rekor (the local Rekor v2 log) and sigstore-go-verify
#   python what tasks/ pytest runs: fake-gcs-server and training
set -euo pipefail
hack=$(cd "$(dirname "$0")" && pwd)
prog=provision
cache=${SLSA_ML_CACHE:-$HOME/.cache/slsa-ml}
# shellcheck source=lib/progress.sh
. "$hack/lib/progress.sh"

env_items=(etcd kube-apiserver kube-scheduler kubectl fake-gcs-server tekton tekton-config tekton-controller tekton-resolvers kserve kwok)
items=()
for arg in "$@"; do
  case "$arg" in
    env) items+=("${env_items[@]}") ;;
    demo) items+=("${env_items[@]}" cosign training) ;;
    test) items+=("${env_items[@]}" cosign actionlint verifiers training kube-controller-manager kserve-config kserve-controller rekor sigstore-go-verify) ;;
    python) items+=(fake-gcs-server training) ;;
    *) items+=("$arg") ;;
  esac
done
[ ${#items[@]} -gt 0 ] || exit 0

# Fails here, with install-tools' one line, when Go or Python cannot build what is missing.
listed=$(bash "$hack/install-tools.sh" --missing "${items[@]}")
missing=()
for item in $listed; do
  [[ " ${missing[*]} " == *" $item "* ]] || missing+=("$item")
done
[ ${#missing[@]} -gt 0 ] || exit 0

go_items=()
python_items=()
for item in "${missing[@]}"; do
  case "$item" in
    verifiers | training | training-cuda) python_items+=("$item") ;;
    *) go_items+=("$item") ;;
  esac
done
start=$SECONDS
echo "$prog: first use on this machine: building ${missing[*]} into $cache (see README for times; cached afterwards)" >&2

# The virtualenvs are mostly downloads and the Go builds mostly CPU: run them side by side.
python_pid=
if [ ${#python_items[@]} -gt 0 ]; then
  bash "$hack/install-tools.sh" "${python_items[@]}" &
  python_pid=$!
  # shellcheck disable=SC2016 # read at exit, when the build may be over
  at_exit '[ -z "$python_pid" ] || kill "$python_pid" 2>/dev/null || true'
fi
go_status=0
if [ ${#go_items[@]} -gt 0 ]; then
  bash "$hack/install-tools.sh" "${go_items[@]}" || go_status=$?
fi
python_status=0
[ -z "$python_pid" ] || wait "$python_pid" || python_status=$?
python_pid=
[ "$go_status" -eq 0 ] || fail "could not build ${go_items[*]}; the lines above say why"
[ "$python_status" -eq 0 ] || fail "could not build ${python_items[*]}; the lines above say why"
echo "$prog: ${missing[*]} ready in $((SECONDS - start))s" >&2
