#!/usr/bin/env bash
# The kill -9 soak: uploads, edits, deletes and counted opens against the real binary,
# SIGKILL at random moments, every invariant checked after each restart (tests/it/soak.rs).
#
#   SOAK_SECS (default 1200: 20 minutes) bounds it; it stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_SECS=${SOAK_SECS:-1200}
start=$(date +%s)
cargo test --test it --no-run
# Run copies, so a build while the soak runs cannot replace the files under it.
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp target/debug/maiimg "$copy/maiimg"
test_bin=$(ls -t target/debug/deps/it-* | grep -v '\.d$' | head -1)
cp "$test_bin" "$copy/it"
MAIIMG_TEST_BIN="$copy/maiimg" "$copy/it" --ignored --nocapture --exact soak::kill_9_soak_keeps_every_promise
echo "soak finished in $(( $(date +%s) - start )) s"
