#!/usr/bin/env bash
# Access-log flood benchmark: EVENTS (1,000,000) refusals from one address, each with a
# User-Agent of its own, through the real write path (bench/flood.rs drives the domain
# API and the recorder directly, not HTTP, so a million run in seconds), then the same
# number of fresh opens. Goal: the refusals grow maiimg.redb by at most 1 MB.
#
# Knobs: EVENTS (1000000), MODES ("refusals opens"), PROFILE (dev: dependencies are
# optimised in dev builds too, and a release build takes long on a small machine),
# KEEP=1 (keep the data directories).
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-1000000}
MODES=${MODES:-refusals opens}
PROFILE=${PROFILE:-dev}

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-flood.XXXXXX")
cleanup() { if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT
echo "temp files: $work${KEEP:+ (kept)}"

cargo bench --quiet --profile "$PROFILE" --bench flood --no-run
for mode in $MODES; do
  cargo bench --quiet --profile "$PROFILE" --bench flood -- "$mode" "$work/$mode" "$EVENTS"
done
