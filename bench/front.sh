#!/usr/bin/env bash
# What the front door (src/front.rs) costs: the same server, the same run, wrk against the
# public port (through the front) and against Rocket's internal port (no front), in
# alternating pairs. Cases: (i) an admitted viewer's display image (ticket cookie), (h)
# GET /healthz. Reports each pair's ratio and their median: the goal is front/direct ≥ 0.90.
#
# Knobs: PAIRS (5), DURATION (5s), CONNS (64), THREADS (2), NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${PAIRS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
for tool in wrk curl awk python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
[[ -n ${NO_BUILD:-} ]] || cargo build --release --quiet
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MAIIMG_DATA_DIR=$tmp/data MAIIMG_PORT=$port MAIIMG_LOG_LEVEL=normal \
  MAIIMG_RATE_LIMIT_GALLERIES_PER_HOUR=0 target/release/maiimg >"$tmp/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
internal=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/log" | grep -v ":$port\$" | head -1 | sed 's/.*://')
python3 - "$tmp/photo.png" <<'PY'
import struct, sys, zlib, random
w, h = 1200, 800
random.seed(1)
raw = b''.join(b'\0' + bytes(random.getrandbits(8) for _ in range(w * 3)) for _ in range(h))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
    + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
PY
id=$(curl -sf -F file=@"$tmp/photo.png" "http://127.0.0.1:$port/api/galleries" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -c "$tmp/jar" -o /dev/null "http://127.0.0.1:$port/g/$id"
ticket=$(awk '$6 ~ /^t_/ {print $6"="$7}' "$tmp/jar")
rate() { # port path
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -H "Cookie: $ticket" "http://127.0.0.1:$1$2" \
    | awk '/Requests\/sec/ {print $2}'
}
echo "front port $port, internal port $internal, $PAIRS pairs of $DURATION, -c$CONNS"
for case in "i /g/$id/i/0/display" "h /healthz"; do
  set -- $case
  ratios=()
  for p in $(seq "$PAIRS"); do
    direct=$(rate "$internal" "$2")
    front=$(rate "$port" "$2")
    r=$(awk -v a="$front" -v b="$direct" 'BEGIN {printf "%.3f", a / b}')
    ratios+=("$r")
    echo "($1) pair $p: direct $direct/s, front $front/s, ratio $r"
  done
  median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "($1) median front/direct: $median (goal >= 0.90)"
done
