#!/usr/bin/env bash
# A long fuzzing campaign on a shared machine: every target in turn, PER seconds each
# (default 300), one job at `nice 19` (it takes idle time only), round after round until
# ROUNDS (default 1) are done or fuzz/STOP exists. Prints one RUNS.md row per run, with
# libFuzzer's own seconds and executions; a crash stops the campaign and leaves its input
# under fuzz/artifacts/<target>/. Usage: PER=600 ROUNDS=2 fuzz/campaign.sh
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
# rav1d's borrow checks (on with the debug assertions cargo-fuzz builds with) capture a
# backtrace per borrow when RUST_BACKTRACE is set: minutes per AVIF. Panics still print one.
export RUST_LIB_BACKTRACE=0
# A leak inside re_rav1d (48 bytes per AVIF decode) is suppressed by name; LeakSanitizer
# still reports every other leak.
export LSAN_OPTIONS="suppressions=$PWD/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
PER=${PER:-300}
ROUNDS=${ROUNDS:-1}
nice -n 19 cargo test --manifest-path ../Cargo.toml --test it -- --ignored --exact \
  ingest::seeds::fuzz_seeds --quiet >/dev/null
nice -n 19 cargo fuzz build >/dev/null
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for _ in $(seq "$ROUNDS"); do
  for target in $(cargo fuzz list); do
    [[ -e STOP ]] && exit 0
    mkdir -p "corpus/$target"
    status=0
    nice -n 19 cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$PER" \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    done_line=$(grep -h '^Done' "$log" || true)
    runs=$(awk '{print $2}' <<<"$done_line")
    secs=$(awk '{print $5}' <<<"$done_line")
    if [[ $status -ne 0 ]]; then
      tail -n 40 "$log" >&2
      echo "| $(date -u +%F) | $target | ? | ? | crash: see fuzz/artifacts/$target/ |"
      exit 1
    fi
    echo "| $(date -u +%F) | $target | ${secs:-?} | ${runs:-?} | none |"
  done
done
