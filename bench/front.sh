#!/usr/bin/env bash
# What the front door (src/front/) costs: the same server, the same run, wrk against the
# public port (through the front) and against Rocket's internal port (no front), in
# alternating pairs (the order flips every pair). Cases: (o) GET /g/<id> by new viewers,
# each open counted (bench/viewers.sh's (b)); (i) an admitted viewer's display image
# (ticket cookie); (h) GET /healthz. Reports each pair's ratio and their median: the goal
# is front/direct >= 0.90 for opens.
#
# With BEFORE=/abs/path/maiimg (an older build), also (ob): the same opens against that
# build's public port and this one's, alternating, so "opens/s before and after" is judged
# on one noisy machine within one run rather than across runs.
#
# Knobs: PAIRS (5), DURATION (5s), CONNS (64), THREADS (2), NO_BUILD=1, BEFORE.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
BEFORE=${BEFORE:-}
for tool in wrk curl awk python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[[ -n ${NO_BUILD:-} ]] || cargo build --release --quiet
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
start() { # name binary -> port; Rocket's internal port in $tmp/<name>/internal
  local port
  port=$(free_port)
  mkdir -p "$tmp/$1"
  MAIIMG_DATA_DIR=$tmp/$1/data MAIIMG_PORT=$port MAIIMG_LOG_LEVEL=off \
    MAIIMG_RATE_LIMIT_GALLERIES_PER_HOUR=0 "$2" >"$tmp/$1/log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  # "maiimg listens on … (Rocket on http://127.0.0.1:N)", printed at every log level.
  sed -n 's/.*(Rocket on http:\/\/127.0.0.1:\([0-9]*\)).*/\1/p' "$tmp/$1/log" | head -1 \
    >"$tmp/$1/internal"
  echo "$port"
}
python3 - "$tmp/photo.png" <<'PY'
import struct, sys, zlib, random
w, h = 1200, 800
random.seed(1)
raw = b''.join(b'\0' + bytes(random.getrandbits(8) for _ in range(w * 3)) for _ in range(h))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
    + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY
upload() { # port -> gallery id
  curl -sf -F file=@"$tmp/photo.png" "http://127.0.0.1:$1/api/galleries" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
port=$(start now target/release/maiimg)
internal=$(cat "$tmp/now/internal")
id=$(upload "$port")
curl -sf -c "$tmp/jar" -o /dev/null "http://127.0.0.1:$port/g/$id"
ticket=$(awk '$6 ~ /^t_/ {print $6"="$7}' "$tmp/jar")
if [[ -n $BEFORE ]]; then
  before_port=$(start before "$BEFORE")
  before_id=$(upload "$before_port")
fi
rate() { # port path [cookie]
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" ${3:+-H "Cookie: $3"} "http://127.0.0.1:$1$2" \
    | awk '/Requests\/sec/ {print $2}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# pairs label what "a" "b": PAIRS alternating runs of a (then b), the ratio a/b per pair.
pairs() {
  local label=$1 what=$2 a=$3 b=$4 p ra rb r ratios=()
  for p in $(seq "$PAIRS"); do
    if (( p % 2 )); then rb=$(eval "$b"); ra=$(eval "$a"); else ra=$(eval "$a"); rb=$(eval "$b"); fi
    r=$(awk -v a="$ra" -v b="$rb" 'BEGIN {printf "%.3f", a / b}')
    ratios+=("$r")
    echo "($label) pair $p: $what $ra/s vs $rb/s, ratio $r"
  done
  echo "($label) median $what: $(median "${ratios[@]}")"
}
echo "$(date -u '+%F %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "front port $port, internal port $internal, $PAIRS pairs of $DURATION, -c$CONNS"
pairs o "front/direct, new viewers' counted opens" \
  "rate $port /g/$id" "rate $internal /g/$id"
pairs i "front/direct, display image" \
  "rate $port /g/$id/i/0/display $ticket" "rate $internal /g/$id/i/0/display $ticket"
pairs h "front/direct, /healthz" "rate $port /healthz" "rate $internal /healthz"
if [[ -n $BEFORE ]]; then
  pairs ob "after/before, new viewers' counted opens (public ports)" \
    "rate $port /g/$id" "rate $before_port /g/$before_id"
fi
echo "goal: (o) front/direct >= 0.90; (ob) after/before >= 0.90"
