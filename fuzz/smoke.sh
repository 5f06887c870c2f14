#!/usr/bin/env bash
# A short run of every fuzz target, for CI: installs cargo-fuzz if missing, writes the seed
# corpora from the test fixtures, builds the targets once, runs each for SECONDS seconds
# (default 15), and fails on the first crash. Usage: fuzz/smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"

# cargo-fuzz needs nightly flags (-Zsanitizer); RUSTC_BOOTSTRAP lets the stable toolchain
# take them, so CI needs no second toolchain.
export RUSTC_BOOTSTRAP=1
# rav1d's borrow checks (on with the debug assertions cargo-fuzz builds with) capture a
# backtrace per borrow when RUST_BACKTRACE is set: minutes per AVIF. Panics still print one.
export RUST_LIB_BACKTRACE=0
# A leak inside re_rav1d (48 bytes per AVIF decode) is suppressed by name; LeakSanitizer
# still reports every other leak.
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  start=$SECONDS
  cargo install cargo-fuzz --locked
  echo "smoke: installing cargo-fuzz took $((SECONDS - start)) s"
fi

start=$SECONDS
# Seeds come from the fixtures in tests/it/common (this also builds the integration tests,
# which `cargo test` has usually built already).
cargo test --test it -- --ignored --exact ingest::seeds::fuzz_seeds --quiet
cd fuzz
cargo fuzz build
echo "smoke: seeds and build took $((SECONDS - start)) s"

for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target"
  echo "smoke: $target for ${seconds} s"
  # -rss_limit_mb: a decode of the largest image the targets allow fits well within it.
  cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    2>"artifacts-$target.log" || {
    tail -n 60 "artifacts-$target.log"
    echo "smoke: $target failed; the input is under fuzz/artifacts/$target/" >&2
    exit 1
  }
  grep -h "stat::number_of_executed_units" "artifacts-$target.log" || true
  rm -f "artifacts-$target.log"
done
echo "smoke: all targets ran ${seconds} s each without a crash"
