#!/usr/bin/env bash
# What a running backup costs viewers: counted opens per second (wrk, every open a new
# visitor behind a trusted proxy, group commit, the access log on) on one server, with and
# without `maiimg backup` running over and over (full backups into a fresh directory each
# time: the worst case; a nightly incremental one copies only new files). PAIRS alternating
# runs; the figure is the median of the per-pair ratios, robust to a noisy host.
#
# Knobs (environment): DURATION (5s per run), CONNS (64), THREADS (2), PAIRS (5),
# GALLERIES (100 photos of 1600x1200 noise, ~1 MB each, one per gallery), LOG_SECONDS (15:
# opens first, to grow the access log the backup copies), NO_BUILD=1, BIN=/abs/maiimg,
# KEEP=1 (keep the temp directory).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=bench/lib.sh
source bench/lib.sh

DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PAIRS=${PAIRS:-5}
GALLERIES=${GALLERIES:-100}
LOG_SECONDS=${LOG_SECONDS:-15}

for tool in wrk curl vips awk; do
  command -v "$tool" >/dev/null || {
    echo "missing $tool: apt-get install -y wrk curl libvips-tools" >&2
    exit 1
  }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-backup.XXXXXX")
pids=()
loop_pid=''
cleanup() {
  local pid
  [[ -n $loop_pid ]] && kill "$loop_pid" 2>/dev/null
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "temp files: $work${KEEP:+ (kept)}"

release_binary

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export MAIIMG_ADDRESS=127.0.0.1 MAIIMG_PORT=$port MAIIMG_DATA_DIR=$work/data \
  MAIIMG_LOG_LEVEL=off MAIIMG_TRUSTED_PROXIES=127.0.0.1 \
  MAIIMG_ADMIN_TOKEN=bench-admin-token-0123456789abcdef \
  MAIIMG_RATE_LIMIT_GALLERIES_PER_HOUR=0 MAIIMG_RATE_LIMIT_UPLOADS_PER_HOUR=100000
"$BIN" >"$work/server.log" 2>&1 &
pids+=($!)
base=http://127.0.0.1:$port
for _ in $(seq 200); do
  curl -sf -o /dev/null "$base/healthz" && break
  sleep 0.1
done

echo "== $GALLERIES galleries of one distinct noise photo each"
mkdir -p "$work/photos"
first=''
for i in $(seq "$GALLERIES"); do
  vips gaussnoise "$work/photos/$i.jpg[Q=90]" 1600 1200 --seed "$i" 2>/dev/null ||
    vips gaussnoise "$work/photos/$i.jpg[Q=90]" 1600 1200
  answer=$(curl -sf -F file=@"$work/photos/$i.jpg" "$base/api/galleries")
  [[ -n $first ]] || first=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$answer")
done
rm -rf "$work/photos"

agent='User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1'
url=$base/g/$first

echo "== ${LOG_SECONDS}s of opens first, so the access log has rows to copy"
wrk -t"$THREADS" -c"$CONNS" -d"${LOG_SECONDS}s" -H "$agent" -s "$root/bench/visitors.lua" "$url" \
  >"$work/grow.txt"
sleep 1

rps() { # name → requests/s of one wrk run
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -H "$agent" -s "$root/bench/visitors.lua" "$url" \
    >"$work/$1.wrk.txt"
  awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/$1.wrk.txt"
}

backups() { # full backups one after another until killed; one duration per line
  local n=0 t0 t1
  while :; do
    n=$((n + 1))
    rm -rf "$work/dest"
    t0=$(date +%s.%N)
    "$BIN" backup "$work/dest" >/dev/null 2>>"$work/backup.err"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f\n", b - a}' >>"$work/backup-times.txt"
  done
}

echo "== one backup alone"
t0=$(date +%s.%N)
"$BIN" backup "$work/dest"
t1=$(date +%s.%N)
alone=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
db_bytes=$(stat -c %s "$work/dest/maiimg.redb")
dest_bytes=$(du -sb "$work/dest" | cut -f1)
t0=$(date +%s.%N)
"$BIN" backup "$work/dest" >/dev/null
t1=$(date +%s.%N)
incremental=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')

echo "== $PAIRS pairs: opens alone, then opens during back-to-back full backups ($DURATION each)"
ratios=()
quiet=()
busy=()
for pair in $(seq "$PAIRS"); do
  a=$(rps "alone$pair")
  backups &
  loop_pid=$!
  sleep 0.3
  b=$(rps "during$pair")
  kill "$loop_pid" 2>/dev/null || true
  wait "$loop_pid" 2>/dev/null || true
  loop_pid=''
  sleep 1
  quiet+=("$a")
  busy+=("$b")
  ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", (a > 0) ? b / a : 0}')")
  echo "  pair $pair: alone $a/s, during backups $b/s, ratio ${ratios[-1]}"
done

backup_median=$(median <"$work/backup-times.txt")
health=$(curl -sf -o /dev/null -w '%{http_code}' "$base/healthz")

echo
echo "== results ($(nproc) cores, $(uptime | sed 's/.*load average: //') load)"
printf '%-58s %s\n' "database copied (access log of ${LOG_SECONDS}s of opens)" "$((db_bytes / 1024)) KiB"
printf '%-58s %s\n' "backup directory (database + every file)" "$((dest_bytes / 1048576)) MiB"
printf '%-58s %s s\n' "one full backup, server idle" "$alone"
printf '%-58s %s s\n' "the same again into the same directory (incremental)" "$incremental"
printf '%-58s %s s (%s backups)\n' "full backup while opens run, median" "$backup_median" "$(wc -l <"$work/backup-times.txt")"
printf '%-58s %s/s (spread %s)\n' "counted opens, no backup, median" "$(printf '%s\n' "${quiet[@]}" | median)" "$(printf '%s\n' "${quiet[@]}" | spread)"
printf '%-58s %s/s (spread %s)\n' "counted opens during back-to-back backups, median" "$(printf '%s\n' "${busy[@]}" | median)" "$(printf '%s\n' "${busy[@]}" | spread)"
printf '%-58s %s (spread %s)\n' "ratio during / alone, median of pairs" "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%s\n' "${ratios[@]}" | spread)"
[[ $health == 200 ]] || echo "server unhealthy at the end" >&2
if [[ -s $work/backup.err ]]; then
  echo "backup errors:" >&2
  sort "$work/backup.err" | uniq -c >&2
fi
