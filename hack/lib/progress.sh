# shellcheck shell=bash disable=SC2154
# Sourced by hack/install-node.sh, hack/install-tools.sh and hack/run.sh: per-item locks under
# $cache/locks and progress lines, so a first run never sits silent for minutes. Needs $cache and
# $prog (the name each line starts with). Sets the EXIT trap; add cleanups with at_exit.
progress_every=${SLSA_ML_PROGRESS_SECONDS:-60}
ticker_pid=
exit_cleanups=()

fail() {
  echo "$prog: $*" >&2
  exit 1
}

at_exit() {
  exit_cleanups+=("$1")
}

run_exit_cleanups() {
  [ -z "$ticker_pid" ] || kill "$ticker_pid" 2>/dev/null || true
  local c
  for c in "${exit_cleanups[@]}"; do eval "$c"; done
}
trap run_exit_cleanups EXIT

# with_progress MESSAGE COMMAND...: runs COMMAND (under set -e, as any other line), saying
# "MESSAGE (Ns)" every $progress_every seconds while it runs.
with_progress() {
  local message=$1 start=$SECONDS parent=$$
  shift
  # The ticker holds neither the item's lock nor, while it sleeps, the output: stopping it
  # releases both at once.
  (
    [ -z "${lock_fd:-}" ] || exec {lock_fd}>&-
    trap '[ -z "${nap:-}" ] || kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "$progress_every" >/dev/null 2>&1 &
      nap=$!
      wait "$nap"
      kill -0 "$parent" 2>/dev/null || exit 0
      echo "$prog: $message ($((SECONDS - start))s)" >&2
    done
  ) &
  ticker_pid=$!
  "$@"
  kill "$ticker_pid" 2>/dev/null || true
  wait "$ticker_pid" 2>/dev/null || true
  ticker_pid=
}

# lock_item NAME [WHAT]: takes $cache/locks/NAME until unlock_item or the end of the script,
# saying so when another build (of WHAT, default NAME) holds it.
lock_item() {
  local what=${2:-$1} start=$SECONDS
  mkdir -p "$cache/locks"
  exec {lock_fd}>"$cache/locks/$1"
  flock -n "$lock_fd" && return 0
  echo "$prog: waiting for another build of $what (it holds $cache/locks/$1)" >&2
  with_progress "still waiting for another build of $what" flock "$lock_fd"
  echo "$prog: the other build of $what is over after $((SECONDS - start))s" >&2
}

unlock_item() {
  exec {lock_fd}>&-
}
