#!/usr/bin/env bash
# The kill -9 soak: uploads, edits, deletes and counted opens against the real binary,
# SIGKILL at random moments, every invariant checked after each restart (tests/soak.rs).
#
#   SOAK_SECS (default 1200: 20 minutes) bounds it; it stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_SECS=${SOAK_SECS:-1200}
start=$(date +%s)
cargo test --test soak -- --ignored --nocapture
echo "soak finished in $(( $(date +%s) - start )) s"
