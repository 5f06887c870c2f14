#!/usr/bin/env bash
# Parallel large uploads against the release server: its peak RSS (VmHWM) and every answer.
# See bench/README.md ("Parallel uploads"). Knobs: CLIENTS (40), MIB (file size, 45),
# SAME=1 (every upload from one client instead of one address each), RETRIES (0: report the
# first answers only; N: a refused upload waits its Retry-After and tries again, N times at
# most, as the upload page does), NO_BUILD=1 (use target/release/maiimg as it is).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-40}
MIB=${MIB:-45}
RETRIES=${RETRIES:-0}

for tool in curl awk python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (curl, gawk, python3)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/maiimg-uploads.XXXXXX")
server_pid=''
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work/data" "$work/big.png"
}
trap cleanup EXIT
echo "temp files: $work"

if [[ -z ${NO_BUILD:-} ]]; then
  echo "== build (release)"
  cargo build --release --quiet
fi
[[ -x target/release/maiimg ]] || { echo "build first (cargo build --release)" >&2; exit 1; }

# Random RGB noise does not compress, so a PNG of about MIB MiB has MIB MiB / 3 pixels
# (16 MP for 45 MiB: well inside max_pixels, a real image the server accepts).
side=$(awk -v m="$MIB" 'BEGIN {printf "%d", sqrt(m * 1048576 / 3)}')
echo "== making a ${side}x${side} noise PNG"
python3 - "$side" "$work/big.png" <<'PY'
import os, struct, sys, zlib
side, path = int(sys.argv[1]), sys.argv[2]
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
rows = b"".join(b"\0" + os.urandom(side * 3) for _ in range(side))  # filter 0, RGB noise
with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)))
    f.write(chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))
PY
bytes=$(stat -c %s "$work/big.png")
echo "   $bytes bytes ($(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}') MiB)"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/data" "$work/answers"
env -u MAIIMG_CONFIG MAIIMG_ADDRESS=127.0.0.1 MAIIMG_PORT="$port" MAIIMG_DATA_DIR="$work/data" \
  MAIIMG_LOG_LEVEL=critical MAIIMG_TRUSTED_PROXIES=127.0.0.1 MAIIMG_RATE_LIMIT_UPLOADS_PER_HOUR=0 \
  target/release/maiimg serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "server did not start" >&2; cat "$work/server.log"; exit 1; }

# One upload as client $1: each attempt's status and Retry-After on one line of answers/$1.
upload() {
  local i=$1 attempt=0 xff
  xff="10.0.$((i / 250)).$((i % 250 + 1))"
  [[ -n ${SAME:-} ]] && xff=10.9.9.9
  while :; do
    local t0 t1 code retry
    t0=$(date +%s.%N)
    code=$(curl -s -o "$work/answers/$i.body" -D "$work/answers/$i.headers" -w '%{http_code}' \
      --max-time 600 -H "X-Forwarded-For: $xff" -F "file=@$work/big.png;type=image/png" \
      "http://127.0.0.1:$port/api/uploads" || echo 000)
    t1=$(date +%s.%N)
    retry=$(awk -F': *' 'tolower($1) == "retry-after" {gsub("\r", "", $2); print $2}' "$work/answers/$i.headers")
    printf '%s %s %s\n' "$code" "${retry:--}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')" >>"$work/answers/$i"
    if [[ $code == 201 || $attempt -ge $RETRIES || -z $retry ]]; then return; fi
    attempt=$((attempt + 1))
    sleep "$retry"
  done
}

echo "== $CLIENTS parallel uploads"
t0=$(date +%s.%N)
for i in $(seq 1 "$CLIENTS"); do upload "$i" & done
wait_pids=$(jobs -p | grep -vx "$server_pid" || true)
# shellcheck disable=SC2086
wait $wait_pids 2>/dev/null || true
elapsed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')

if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "the server died during the run:" >&2; tail -n 20 "$work/server.log" >&2; exit 1
fi
hwm_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")

echo
echo "answers (first attempt: status, Retry-After):"
for i in $(seq 1 "$CLIENTS"); do head -n1 "$work/answers/$i"; done | cut -d' ' -f1,2 | sort | uniq -c |
  awk '{printf "  %3d × %s  Retry-After %s\n", $1, $2, $3}'
slowest=$(for i in $(seq 1 "$CLIENTS"); do head -n1 "$work/answers/$i"; done | cut -d' ' -f3 | sort -g | tail -n1)
echo "  slowest first answer: $slowest s"
if ((RETRIES > 0)); then
  echo "final answers after up to $RETRIES retries:"
  for i in $(seq 1 "$CLIENTS"); do tail -n1 "$work/answers/$i" | cut -d' ' -f1; done | sort | uniq -c |
    awk '{printf "  %3d × %s\n", $1, $2}'
fi
echo "error codes:"
cat "$work"/answers/*.body 2>/dev/null | grep -o '"code":"[a-z_]*"' | sort | uniq -c | sed 's/^/  /' || true
missing=0
for i in $(seq 1 "$CLIENTS"); do
  while read -r code retry _; do
    case $code in
      201) ;;
      429 | 503) [[ $retry != - ]] || missing=$((missing + 1)) ;;
      *) missing=$((missing + 1)) ;;
    esac
  done <"$work/answers/$i"
done
echo
printf 'clients %s, file %s bytes, wall %s s\n' "$CLIENTS" "$bytes" "$elapsed"
printf 'server peak RSS (VmHWM): %d MiB  (goal <= 512 MiB)\n' $((hwm_kib / 1024))
printf 'answers that are neither 201 nor 429/503 with Retry-After: %d  (goal 0)\n' "$missing"
