#!/usr/bin/env bash
# Statistics benchmark: one gallery with RECORDS (1,000,000) access-log records, loaded
# through the real write path (the recorder's group commits, bench/stats.rs), then the
# real server answers the owner's requests over HTTP. One run; see bench/README.md.
#
#   stats JSON           GET /api/galleries/<id>/stats                  goal <= 20 ms
#   first log page       GET /api/galleries/<id>/log?limit=100          goal <= 10 ms
#   page's panel         GET /api/galleries/<id>/stats/panel (HTML)     no goal
#   page's log rows      GET /api/galleries/<id>/log/rows (HTML, 25)    no goal
#   a deep log page      GET /api/galleries/<id>/log?limit=100&before=<middle cursor>
#   reference            GET /healthz on the same server (an HTTP round trip and a redb read)
#
# Knobs: RECORDS (1000000), REPS (requests per case, 50), NO_BUILD=1, KEEP=1 (keep the data).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
RECORDS=${RECORDS:-1000000}
REPS=${REPS:-50}

for tool in curl awk; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-stats.XXXXXX")
server_pid=''
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -z ${KEEP:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
echo "temp files: $work${KEEP:+ (kept)}"

if [[ -z ${NO_BUILD:-} ]]; then
  echo "== build (release)"
  cargo build --release --quiet
  cargo bench --quiet --bench stats --no-run
fi
bench_exe=$(find target/release/deps -maxdepth 1 -type f -executable -name 'stats-*' -printf '%T@ %p\n' |
  sort -n | tail -n1 | cut -d' ' -f2)
[[ -x $bench_exe && -x target/release/maiimg ]] || { echo "build first" >&2; exit 1; }

echo "== loading $RECORDS records"
read -r id key < <("$bench_exe" load "$work/data" "$RECORDS" | tail -n1)
echo "gallery $id; database $(du -h "$work/data/maiimg.redb" | cut -f1)"

port=$((20000 + RANDOM % 20000))
MAIIMG_ADDRESS=127.0.0.1 MAIIMG_PORT=$port MAIIMG_DATA_DIR="$work/data" MAIIMG_LOG_LEVEL=off \
  "$root/target/release/maiimg" >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 200); do
  curl -sf -o /dev/null "$base/healthz" && break
  sleep 0.1
done

auth=(-H "Authorization: Bearer $key")
middle=$(curl -sf "${auth[@]}" "$base/api/galleries/$id/log?limit=1" | sed -n 's/.*"cursor":"\([0-9]*\)".*/\1/p')
middle=$((middle / 2))

# time_total of REPS requests (one warm-up first) → "median p95 max" in ms, and the size.
measure() { # url [curl args…]
  local url=$1
  shift
  curl -sf -o /dev/null "$@" "$url"
  for _ in $(seq "$REPS"); do
    curl -sf -o /dev/null -w '%{time_total} %{size_download}\n' "$@" "$url"
  done | sort -g | awk '{t[NR] = $1 * 1000; size = $2}
    END {printf "%.2f %.2f %.2f %d\n", t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.5)], t[NR], size}'
}

declare -A R
R[stats]=$(measure "$base/api/galleries/$id/stats" "${auth[@]}")
R[log]=$(measure "$base/api/galleries/$id/log?limit=100" "${auth[@]}")
R[panel]=$(measure "$base/api/galleries/$id/stats/panel?tz=Europe/Berlin" "${auth[@]}")
R[rows]=$(measure "$base/api/galleries/$id/log/rows?tz=Europe/Berlin" "${auth[@]}")
R[deep]=$(measure "$base/api/galleries/$id/log?limit=100&before=$middle" "${auth[@]}")
R[ref]=$(measure "$base/healthz")
opens=$(curl -sf "${auth[@]}" "$base/api/galleries/$id/stats" | sed -n 's/^{[^}]*"opens":\([0-9]*\).*/\1/p')

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), maiimg $(git rev-parse --short HEAD), $(nproc) cores;"
echo "$RECORDS records in one gallery ($opens opens); $REPS requests per case with curl, one at a time."
printf '%-44s %9s %9s %9s %9s\n' case 'median ms' 'p95 ms' 'max ms' bytes
row() { # label "median p95 max bytes"
  local fields
  read -r -a fields <<<"$2"
  printf '%-44s %9s %9s %9s %9s\n' "$1" "${fields[@]}"
}
row 'stats JSON' "${R[stats]}"
row 'first log page (100, JSON)' "${R[log]}"
row 'statistics panel (HTML)' "${R[panel]}"
row 'log rows (25, HTML)' "${R[rows]}"
row 'a log page in the middle (100, JSON)' "${R[deep]}"
row '/healthz (reference)' "${R[ref]}"
echo
verdict() { awk -v v="$1" -v goal="$2" 'BEGIN {print (v <= goal) ? "PASS" : "MISS"}'; }
stats_ms=$(cut -d' ' -f1 <<<"${R[stats]}")
log_ms=$(cut -d' ' -f1 <<<"${R[log]}")
printf '%-44s %9s %s\n' 'stats JSON <= 20 ms (median)' "$stats_ms" "$(verdict "$stats_ms" 20)"
printf '%-44s %9s %s\n' 'first log page <= 10 ms (median)' "$log_ms" "$(verdict "$log_ms" 10)"
