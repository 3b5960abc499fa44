#!/usr/bin/env bash
# Planted bugs: applies each mutation (a deliberate local bug, one *.patch file each) to a COPY of
# the repository and reports after how many seeds the simulator finds a violation. The repository
# itself is never changed.
#
#   simulation/mutations/run.sh [name.patch ...]          (default: every patch here)
#   MAX_SEEDS=5000 STARTS="1 10001 20001" simulation/mutations/run.sh
#
# MAX_SEEDS bounds each search; STARTS lists the first seeds of independent searches (default 1).
# Each patch starts with a one-line comment saying what it breaks. A patch that no longer applies
# (the engine moved) is reported and skipped: regenerate it against today's code.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
max="${MAX_SEEDS:-3000}"
starts="${STARTS:-1}"
modules="$(readlink -f "$root/node_modules")"
if [ "$#" -gt 0 ]; then patches=("$@"); else patches=("$here"/*.patch); fi
copy=""
trap 'if [ -n "$copy" ]; then rm -rf "$copy"; fi' EXIT
for patch in "${patches[@]}"; do
  [ -f "$patch" ] || patch="$here/$patch"
  patch="$(readlink -f "$patch")"
  name="$(basename "$patch" .patch)"
  copy="$(mktemp -d "${TMPDIR:-/tmp}/durable-tasks-mutant.XXXXXX")"
  tar -C "$root" --exclude=./node_modules --exclude=./.git --exclude=./.tmp --exclude=./dist -cf - . | tar -C "$copy" -xf -
  ln -s "$modules" "$copy/node_modules"
  if ! (cd "$copy" && git apply "$patch"); then
    echo "$name: DOES NOT APPLY to today's code (regenerate it)"
    rm -rf "$copy"
    continue
  fi
  for from in $starts; do
    started=$(date +%s)
    result="$(cd "$copy" && node_modules/.bin/tsx simulation/cli.ts --until-violation --from "$from" --seeds "$max" --no-shrink)"
    echo "$name (from seed $from): $(echo "$result" | head -1) in $(( $(date +%s) - started ))s"
    echo "$result" | sed -n 2p
  done
  rm -rf "$copy"
done
